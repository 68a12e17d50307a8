"""The one way the project writes to SQLite: a transaction that takes the write lock first.

Apart from the archive because the migrations (below the archive) write with it too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlite_utils import Database


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
