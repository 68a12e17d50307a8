"""Opening an archive read-only: the one place that builds SQLite's ``file:`` URI for a path.

A path pasted into ``f"file:{path}?mode=ro"`` is read as a URI: ``a#b.db`` opens ``a`` (the rest is a
fragment, so ``mode=ro`` is lost and an empty ``a`` is created), ``a?x.db`` opens ``a``, and ``%`` escapes
decode. ``Path.as_uri()`` percent-encodes every such character (and bytes that are not UTF-8).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

# Characters that a program building ``file:{path}`` without escaping (Datasette 0.65 does) would misread.
URI_SPECIAL = re.compile(r"[#?%]")


def read_only_uri(path: str | Path, query: str = "mode=ro") -> str:
    """``file:///abs/path?mode=ro`` with the path percent-encoded: never creates or writes the file. ``query``
    may add to ``mode=ro`` (``mode=ro&immutable=1`` for an archive whose folder cannot hold a -shm:
    ``dedupe.archive.base.read_only_mode``)."""
    return Path(path).resolve().as_uri() + "?" + query


def connect_read_only(path: str | Path, timeout: float = 5.0, query: str = "mode=ro") -> sqlite3.Connection:
    """A read-only connection to an existing database file (sqlite3.OperationalError if there is none), opened
    with ``query`` (see ``read_only_uri``)."""
    return sqlite3.connect(read_only_uri(path, query), uri=True, timeout=timeout)


def uri_safe_path(path: str | Path, folder: str | Path) -> Path:
    """``path`` itself when its name is safe to paste into a ``file:`` URI, else a symbolic link to it in
    ``folder`` with the special characters replaced (SQLite follows the link, so its WAL stays beside the
    real file). For programs that do not escape paths themselves."""
    path = Path(path).resolve()
    if not URI_SPECIAL.search(str(path)):
        return path
    link = Path(folder) / URI_SPECIAL.sub("_", path.name)
    link.symlink_to(path)
    return link
