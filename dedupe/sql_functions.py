"""The Python functions the archive's SQL calls, registered together on every connection that writes it.

- ``pa_stem``, ``pa_stem_query``, ``pa_snippet`` (``dedupe.stemming``): the stemmed full-text index's triggers
  and the search query.
- ``pa_text_key(text)`` and ``pa_text_signature(text)``: an article text's 16-byte key and its MinHash signature
  as ``derive_texts`` stores them. Since m040 the engine keeps no signature for a text that an article version
  holds (``derive_texts.signature`` NULL: it is computed again from ``article_versions.text``); the triggers of
  ``schema.TEXT_SIGNATURE_TRIGGERS_DDL`` call these two to put a text's signature back when its version goes.

numpy and the MinHash code are imported on a trigger's first call, not when a connection opens: a command that
only reads never needs them.
"""

from __future__ import annotations

import sqlite3

from .stemming import register_functions as register_stemming


def text_key(text: str) -> bytes:
    """``derive_texts.hash`` of an article text (``stages.model.text_key``)."""
    from .archive.stages.model import text_key as key

    return key(text)


def text_signature(text: str) -> bytes:
    """``derive_texts.signature`` of an article text: its MinHash as the engine stores it."""
    from .archive.stages.texts import signature_blob

    return signature_blob(text)


def register_functions(conn: sqlite3.Connection) -> None:
    """Add every function the archive's triggers and named queries call to ``conn``."""
    register_stemming(conn)
    conn.create_function("pa_text_key", 1, text_key, deterministic=True)
    conn.create_function("pa_text_signature", 1, text_signature, deterministic=True)
