"""The ``crawl_runs`` table: a crawl's row from its start to its outcome, read back by ``runs``.

The crawler (``crawler.runs``) decides what a run is and when it ends; this module is the only one
that writes or reads its row, through the named SQL of ``dedupe.queries`` (and, below, the counts of what a
run stored, read from its observations).

A run's counts are written when it finishes. Until then (running, or killed before it could finish) they
are read from the observations it stored, by its origin (``crawl:<id>``, indexed): pages seen, new pages,
changed, unchanged, removed, failed fetches.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .. import queries

KILLED = "the crawl process ended without closing the run (killed?)"
COUNTS = ("pages_fetched", "new", "changed", "unchanged", "removed", "failed")


class CrawlRuns:
    """The archive's crawl runs."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def settle_interrupted(self) -> None:
        """Mark the runs left 'running' (by a killed process: the caller holds the writer lock) interrupted."""
        with self.db.atomic():
            stale = [row[0] for row in self.db.execute(queries.RUN_STALE_IDS_SQL).fetchall()]
            for run_id in stale:  # every count, not only the pages: a killed run's new pages were new
                self.db.execute(queries.CRAWL_RUN_SETTLE_SQL, {"id": run_id, "killed": KILLED, **self.observed(run_id)})

    def observed(self, run_id: int) -> dict[str, Any]:
        """What the run stored so far, from its observations (``queries.RUN_OBSERVED_SQL``): its counts and the
        time of its newest observation (None when it stored nothing)."""
        return self._rows(queries.RUN_OBSERVED_SQL, {"origin": f"crawl:{run_id}"})[0]

    def as_now(self, row: dict[str, Any], holder: dict[str, Any] | None) -> dict[str, Any]:
        """A decoded run's row as it stands now. A finished row is itself. A 'running' one counts what it
        stored so far (its row has counts only once it finishes) and, when its process no longer holds the
        archive's writer lock (``holder``: ``lock.holder``; None, unknown, leaves it running), reads
        'interrupted' as the next crawl will record it, with ``recorded_status`` 'running' (not written here)."""
        if row.get("status") != "running":
            return row
        data = dict(row)
        observed = self.observed(row["id"])
        data.update({key: max(observed[key], row.get(key) or 0) for key in COUNTS})
        alive = holder is None or (
            holder.get("command", "crawl") == "crawl" and (row.get("pid") is None or holder.get("pid") == row["pid"])
        )
        if alive:
            data["live"] = True
            return data
        data.update(  # as ``settle_interrupted`` will write it
            status="interrupted",
            recorded_status="running",
            finished_at=observed["last_observed_at"],
            errors=[*(row.get("errors") or []), {"url": None, "error": KILLED}],
        )
        return data

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
