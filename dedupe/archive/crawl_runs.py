"""The ``crawl_runs`` table: a crawl's row from its start to its outcome, read back by ``runs``.

The crawler (``crawler.runs``) decides what a run is and when it ends; this module is the only one
that writes or reads its row, through the named SQL of ``dedupe.queries``.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .. import queries


class CrawlRuns:
    """The archive's crawl runs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def settle_interrupted(self) -> None:
        """Mark the runs left 'running' (by a killed process: the caller holds the writer lock) interrupted."""
        with self.db.atomic():
            self.db.execute(queries.CRAWL_RUNS_STALE_SQL)

    def start(
        self, started_at: str, start_urls: list[str], resumed_from: int | None, jobdir: str | None, pid: int
    ) -> int:
        """Insert a running run's row; its id."""
        with self.db.atomic():
            cursor = self.db.execute(
                queries.CRAWL_RUN_INSERT_SQL,
                {
                    "started_at": started_at,
                    "start_urls": json.dumps(start_urls),
                    "resumed_from": resumed_from,
                    "jobdir": jobdir,
                    "pid": pid,
                },
            )
        return cursor.lastrowid

    def finish(self, run_id: int, outcome: dict[str, Any]) -> None:
        """Write a run's outcome (finished_at, status, the page counts, errors and stats as JSON text)."""
        with self.db.atomic():
            self.db.execute(queries.CRAWL_RUN_FINISH_SQL, {"id": run_id, **outcome})

    def get(self, run_id: int) -> dict[str, Any] | None:
        """One run's row (start URLs, errors and stats decoded), or None."""
        rows = self._rows(queries.CRAWL_RUN_SQL, {"id": run_id})
        return decode_run(rows[0]) if rows else None

    def recent(self, limit: int) -> list[dict[str, Any]]:
        """The newest runs' rows (decoded), newest first."""
        return [decode_run(row) for row in self._rows(queries.CRAWL_RUNS_SQL, {"limit": limit})]

    def stored_urls(self, run_id: int) -> list[dict[str, Any]]:
        """{url, page_type} of every page the run stored (a page that failed is not stored)."""
        return self._rows(queries.CRAWL_RUN_URLS_SQL, {"origin": f"crawl:{run_id}"})

    def _rows(self, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def decode_run(row: dict[str, Any]) -> dict[str, Any]:
    """A run's row with its JSON columns decoded (a column that is not JSON reads as empty)."""
    data = dict(row)
    for key, default in (("start_urls", []), ("errors", []), ("stats", {})):
        try:
            data[key] = json.loads(data.get(key) or "null") or default
        except ValueError:
            data[key] = default
    return data


def record_notification(db_path: str | Path, run_id: int, report: dict[str, Any]) -> None:
    """Keep what a run's alert did (sent, title, failed deliveries) in its stats, without opening the whole
    archive (no migration, no refresh: the alert is sent after the run's writer has closed it)."""
    conn = sqlite3.connect(str(db_path), timeout=30)
    try:
        with conn:
            conn.execute(queries.CRAWL_RUN_NOTIFY_SQL, {"notify": json.dumps(report, ensure_ascii=False), "id": run_id})
    finally:
        conn.close()
