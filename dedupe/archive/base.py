"""What every part of the archive shares: its error, the statuses that remove an article, the
sort key that orders versions and ranks ids, and the write transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlite_utils import Database

from ..document import REMOVED_STATUSES  # noqa: F401 - re-exported: dedupe.archive.REMOVED_STATUSES


class ArchiveError(Exception):
    """The database cannot be used as an archive (one clear sentence)."""


def order_key(first_seen: str, url: str, text_sha256: str) -> str:
    """Sort key of a version (and of the article or block it starts): first seen, then the smallest
    URL, then its text's hash; never arrival order. NUL separators keep tuple order in one string."""
    return f"{first_seen}\0{url}\0{text_sha256}"


@contextlib.contextmanager
def write_transaction(db: Database) -> Iterator[None]:
    """One write transaction that takes the write lock first (``BEGIN IMMEDIATE``), so a second
    writer waits for the busy timeout instead of failing when it upgrades from reading; nested
    uses are savepoints."""
    if db.conn.in_transaction:
        with db.atomic():
            yield
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    if db.conn.in_transaction:  # SQLite rolls back by itself on some errors (SQLITE_FULL): nothing to commit
        db.conn.execute("COMMIT")
