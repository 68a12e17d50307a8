"""Reading a test's archive with plain sqlite3, as an analyst's tool would (no pa-archive code in between)."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    """The rows of one query on the archive at ``db``, the connection closed after."""
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()
