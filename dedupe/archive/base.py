"""What every part of the archive shares: its error, the statuses that remove an article, the
sort key that orders versions and ranks ids, the write transaction, and the one question every
part asks of a URL: its newest snapshot."""

from __future__ import annotations

import errno
import sqlite3

from ..document import REMOVED_STATUSES  # noqa: F401 - re-exported: dedupe.archive.REMOVED_STATUSES
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


# what a full disk is, whenever it happens (opening a new archive, storing, deriving): nothing is lost
DISK_FULL = "database or disk is full: free some space and run the command again (what was stored before is kept)"
SQLITE_FULL = 13  # sqlite3.SQLITE_FULL (Python 3.11+): the disk, or the database's own size limit, is full


def is_disk_full(exc: BaseException) -> bool:
    """True for SQLite's SQLITE_FULL (any extended code) and for an OSError ENOSPC or EDQUOT."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF == SQLITE_FULL) or "database or disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def order_key(first_seen: str, url: str, text_sha256: str) -> bytes:
    """Sort key of a version (and of the article or block it starts): first seen, then the smallest
    URL, then its text's hash (hex); never arrival order. NUL separators keep tuple order in one value,
    the hash as its bytes (m036: half the hex's size, in the order table and its index): bytes compare as
    the UTF-8 text and the lowercase hex of equal length did, so the order is the same."""
    return f"{first_seen}\0{url}\0".encode() + bytes.fromhex(text_sha256)
