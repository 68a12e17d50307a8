"""What a weekly crawl that finds nothing new costs: every page's latest content observed again a week later.

Run on an archive ``bench.archive_scale`` built (or any archive): the latest observation of every URL is
added again, seven days later and with the same bytes, through ``Archive.ingest`` as a crawl's pages are,
then the refresh derives what they touch. Nothing new should appear (no article or block version), and
the cost should not grow with what the archive already holds. The archive is changed: run it on a copy.

    cp scale-1000000.db /tmp/week.db && python -m bench.unchanged_week --db /tmp/week.db
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

from dedupe.archive import Archive
from dedupe.document import RawSnapshot

LATEST_SQL = """
SELECT s.url, s.observed_at, s.content_sha256, s.http_status, s.page_type
FROM (SELECT max(id) AS id FROM snapshots GROUP BY url) latest JOIN snapshots s ON s.id = latest.id
WHERE s.content_sha256 IS NOT NULL AND s.status != 'error'
"""


def _week_later(observed_at: str) -> str:
    when = datetime.fromisoformat(observed_at.replace("Z", "+00:00")) + timedelta(days=7)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def latest(archive: Archive, limit: int | None = None) -> list[tuple]:
    """(url, observed_at, sha, status, page type) of every URL's latest stored observation."""
    return archive.db.execute(LATEST_SQL + (f" LIMIT {int(limit)}" if limit else "")).fetchall()


def unchanged_week(archive: Archive, rows: list[tuple]) -> Iterator[RawSnapshot]:
    """Every URL's latest content again, a week after it was observed (read one page at a time)."""
    for url, observed_at, sha, status, page_type in rows:
        yield RawSnapshot(
            url,
            _week_later(observed_at),
            archive.raw_content(sha),
            source="crawl",
            http_status=status or 200,
            page_type=page_type or "article",
            declared_charset="utf-8",
        )


def measure(db: Path, limit: int | None = None) -> dict:
    """Times reading the week's pages back (to subtract) and then ingesting them, with what grew."""
    with Archive(db, create=False) as archive:
        before = archive.counts()
        rows = latest(archive, limit)
        started = time.perf_counter()
        for _ in unchanged_week(archive, rows):
            pass
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        archive.ingest(unchanged_week(archive, rows))
        seconds = time.perf_counter() - started - read_s
        after = archive.counts()
    grown = {k: after[k] - before[k] for k in after if after[k] != before[k]}
    return {
        "unchanged_week_observations": len(rows),
        "unchanged_week_read_s": round(read_s, 1),
        "unchanged_week_s": round(seconds, 1),
        "unchanged_week_ms_per_observation": round(1000 * seconds / max(1, len(rows)), 2),
        "unchanged_week_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "unchanged_week_grown": grown,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.unchanged_week", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path, help="the archive to add the week to (it is changed)")
    parser.add_argument("--limit", type=int, help="only this many URLs (a smaller week)")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.db, args.limit), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
