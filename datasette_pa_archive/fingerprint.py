"""An immutable archive's hash without reading the whole file.

``pa-archive serve`` opens an archive it cannot write as an immutable database (``datasette -i``;
``serving.ServedArchive``). Datasette then names such a database by a sha256 of its whole file,
computed the first time a page asks for it (the index page does): about 3 s for a 1.4 GB archive
of a million observations, on the request of whoever opens the first page. The hash only labels
the file (the index page shows six characters of it; the database's ETag would use it, and the
archive's downloads are off), and an immutable file does not change while it is served, so a
fingerprint of what identifies the file on disk and of its first and last pages says the same at
no cost. A Datasette given ``--inspect-file`` keeps the hashes written there.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

EDGE_BYTES = 64 * 1024  # read from each end of the file: the SQLite header, the schema's first pages, the tail


def quick_hash(path: Path) -> str:
    """sha256 of the file's size, modification time, device and inode, and its first and last ``EDGE_BYTES``."""
    stat = path.stat()
    digest = hashlib.sha256(f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_dev}:{stat.st_ino}".encode())
    with path.open("rb") as fp:
        digest.update(fp.read(EDGE_BYTES))
        if stat.st_size > EDGE_BYTES:
            fp.seek(max(EDGE_BYTES, stat.st_size - EDGE_BYTES))
            digest.update(fp.read(EDGE_BYTES))
    return digest.hexdigest()


def install(datasette: Any) -> None:
    """Give each immutable file database of ``datasette`` its ``quick_hash`` before any page asks for the hash.

    Datasette 0.65 keeps a computed hash in ``Database.cached_hash`` (read only if present: a later Datasette
    without it computes its own, as before)."""
    inspected = datasette.inspect_data or {}
    for db in datasette.databases.values():
        if db.is_mutable or db.is_memory or not db.path or db.name in inspected:
            continue
        if not hasattr(db, "cached_hash") or db.cached_hash is not None:
            continue
        try:
            db.cached_hash = quick_hash(Path(db.path))
        except OSError:  # unreadable here: Datasette's own hash gives the error where a page asks for it
            continue
