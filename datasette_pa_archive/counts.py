"""Table counts on the database page without counting the derivation's state.

Datasette's database page counts every table (``Database.table_counts``), hidden ones included,
with a 5 ms time limit each. SQLite answers ``count(*)`` with one B-tree step that its progress
handler cannot interrupt, so the limit does not hold: on an archive of a million observations the
engine's ``derive_*`` tables and the full-text indexes' shadow tables (millions of rows, never
shown) cost seconds on every view of the page. They are reported as "many rows" instead; every
table the page lists is still counted.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from datasette.database import QueryInterrupted

UNCOUNTED = re.compile(r"derive_.*|.*_(fts|stemmed)(_(data|idx|docsize|config|content))?")


def install(datasette: Any) -> None:
    """Give each database of ``datasette`` a ``table_counts`` that skips the uncounted tables."""
    for db in datasette.databases.values():
        if getattr(db, "_pa_counts", False):
            continue

        async def table_counts(limit: int = 10, _db: Any = db) -> dict[str, int | None]:
            counts: dict[str, int | None] = {}
            for table in await _db.table_names():
                if UNCOUNTED.fullmatch(table):
                    counts[table] = None
                    continue
                try:
                    found = await _db.execute(f"select count(*) from [{table}]", custom_time_limit=limit)
                    counts[table] = found.rows[0][0]
                except (QueryInterrupted, sqlite3.OperationalError, sqlite3.DatabaseError):
                    counts[table] = None
            return counts

        db.table_counts = table_counts
        db._pa_counts = True
