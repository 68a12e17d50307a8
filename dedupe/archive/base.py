"""What every part of the archive shares: its error, the statuses that remove an article, the
sort key that orders versions and ranks ids, the write transaction, the one question every
part asks of a URL (its newest snapshot), and the opening of a file as an archive, written or only read."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from .. import schema
from ..document import REMOVED_STATUSES  # noqa: F401 - re-exported: dedupe.archive.REMOVED_STATUSES
from ..readonly import connect_read_only
from ..transactions import write_transaction  # noqa: F401 - re-exported: every part of the archive writes with it

# A URL's newest snapshot (any, or the newest with content): one ordering for storing a page (new or seen
# again, what a 304 confirms), for conditional requests, for a crawl's last body and for resolving a URL.
NEWEST_SNAPSHOT_SQL = """
SELECT id, content_sha256, etag, last_modified FROM snapshots WHERE url = :url
ORDER BY observed_at DESC, id DESC LIMIT 1
"""
NEWEST_CONTENT_SNAPSHOT_SQL = """
SELECT id, content_sha256, etag, last_modified FROM snapshots WHERE url = :url AND content_sha256 IS NOT NULL
ORDER BY observed_at DESC, id DESC LIMIT 1
"""


class ArchiveError(Exception):
    """The database cannot be used as an archive (one clear sentence)."""


def not_an_archive(path: str | Path) -> ArchiveError:
    """Someone else's SQLite database (empty, or with tables of its own): one sentence, the same whether the
    archive was to be written (``Archive``) or only read (``ReadingArchive``), so a user hears one answer."""
    return ArchiveError(
        f"{path} is a SQLite database but not a pa-archive archive "
        "(an existing database is never adopted: choose another --db)"
    )


_Closable = TypeVar("_Closable", bound="Closable")


class Closable:
    """An archive over one connection (``db``), written (``Archive``) or only read (``ReadingArchive``): closed by
    ``close`` or at the end of a ``with`` block, the same way for both."""

    db: Database

    def close(self) -> None:
        self.db.close()

    def __enter__(self: _Closable) -> _Closable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_archive_file(path: str | Path, mode: str | None = None) -> Database:
    """The SQLite database at ``path``, opened as usual (``mode`` None: a new or 0-byte file is accepted, for the
    caller to make an archive) or read-only with ``mode`` (``read_only_mode``'s URI query: it must be an archive
    already). Whatever else it holds is refused (ArchiveError) here, once for both, before anything writes or
    reads it: someone else's database in the one ``not_an_archive`` sentence, where a writer would have put it in
    WAL mode and a reader failed on the first table it lacks. sqlite3.Error when SQLite cannot read the file: the
    caller says so with what it knows."""
    read_only = mode is not None
    db = Database(connect_read_only(path, 30, mode), recursive_triggers=False) if read_only else Database(path)
    try:
        if read_only and db.execute("PRAGMA page_count").fetchone()[0] == 0:  # a writer would make it an archive
            raise ArchiveError(
                f"{path} is an empty file, not a pa-archive archive, and cannot be made one: {unwritable(path)}"
            )
        if not schema.is_archive(db) or (read_only and not db.table_names()):
            raise not_an_archive(path)
    except BaseException:
        db.close()
        raise
    return db


# what a full disk is, whenever it happens (opening a new archive, storing, deriving): nothing is lost
DISK_FULL = "database or disk is full: free some space and run the command again (what was stored before is kept)"
SQLITE_FULL = 13  # sqlite3.SQLITE_FULL (Python 3.11+): the disk, or the database's own size limit, is full


def is_disk_full(exc: BaseException) -> bool:
    """True for SQLite's SQLITE_FULL (any extended code) and for an OSError ENOSPC or EDQUOT."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF == SQLITE_FULL) or "database or disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


# How an archive that cannot be written is read (``read_only_mode``): SQLite's read-only open, and with
# ``immutable`` when no -wal or -shm can be made beside it (SQLite then reads the file alone, never locking it).
READ_ONLY = "mode=ro"
IMMUTABLE = "mode=ro&immutable=1"


def read_only_mode(path: str | Path) -> str | None:
    """None when the archive at ``path`` can be opened as usual (its file and its folder are writable, as
    ``os.access`` tells: root is refused only by a read-only file system). Otherwise the URI query to read it
    with: ``mode=ro`` when SQLite can (its folder is writable, so SQLite makes its -shm; or it is not in WAL
    mode; or its -wal and -shm are there), ``mode=ro&immutable=1`` when the folder is read-only and the archive
    in WAL mode without a -wal to read: a read-only folder cannot hold a live writer's -wal, so nothing can
    change under the reader. ArchiveError (one sentence) when SQLite cannot read it at all."""
    path = Path(path)
    folder = path.parent
    if os.access(path, os.W_OK) and os.access(folder, os.W_OK):
        return None
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError:
        return None  # unreadable: the usual opening says why
    if os.access(folder, os.W_OK):
        return READ_ONLY  # only the file is read-only: SQLite makes its -shm (WAL mode) in the folder
    wal_mode = len(header) >= 20 and header[18] == 2  # the file format's read and write versions: 2 is WAL
    if not wal_mode:
        journal = Path(f"{path}-journal")
        if journal.exists() and journal.stat().st_size:
            raise ArchiveError(
                f"the folder {folder} is read-only and {path.name} has a journal of an interrupted write "
                f"({journal.name}) that SQLite must roll back before reading: open it once where it can be written"
            )
        return READ_ONLY
    wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
    if not wal.exists() or not wal.stat().st_size:
        return IMMUTABLE  # nothing in a -wal: the file alone is the archive
    if shm.exists():
        return READ_ONLY  # SQLite reads the -wal through the -shm a writer left
    raise ArchiveError(
        f"the folder {folder} is read-only and the archive is in WAL mode: its {wal.name} holds writes not yet in "
        f"{path.name}, and SQLite cannot read them without making a {shm.name} beside it; copy {path.name} and "
        f"{wal.name} to a writable folder, or make {folder} writable"
    )


def unwritable(path: str | Path) -> str:
    """Why the archive at ``path`` cannot be written, in a few words (for ``read_only_mode``'s readers)."""
    folder = Path(path).parent
    return f"its folder {folder} is read-only" if not os.access(folder, os.W_OK) else "the file is read-only"


def order_key(first_seen: str, url: str, text_sha256: str) -> bytes:
    """Sort key of a version (and of the article or block it starts): first seen, then the smallest
    URL, then its text's hash (hex); never arrival order. NUL separators keep tuple order in one value,
    the hash as its bytes (m036: half the hex's size, in the order table and its index): bytes compare as
    the UTF-8 text and the lowercase hex of equal length did, so the order is the same."""
    return f"{first_seen}\0{url}\0".encode() + bytes.fromhex(text_sha256)
