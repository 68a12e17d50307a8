"""A week's crawl sees every page again: what it costs the writer must be statements per batch, not per page.

The statements SQLite runs are traced (``set_trace_callback``, the SQL with its values) while the latest page
of every URL of the replica is stored again a year later."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from dedupe.archive import Archive
from tests.replica_corpus import replica_snapshots

pytestmark = pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis

# a read of one URL's or one content's rows (the values are in the traced SQL)
ONE_KEY_READ = re.compile(r"^\s*SELECT\b.*\bWHERE\s+(url|sha256|content_sha256)\s*=\s*'", re.IGNORECASE | re.DOTALL)
BLOCK_VERSION_SPAN = re.compile(r"^\s*UPDATE\s+derive_block_versions\b", re.IGNORECASE)


def _traced(archive: Archive, week: list) -> tuple[list[str], object]:
    traced: list[str] = []
    archive.db.conn.set_trace_callback(traced.append)
    try:
        return traced, archive.ingest(week, workers=1)
    finally:
        archive.db.conn.set_trace_callback(None)


def _week_again(tmp_path: Path) -> tuple[list[str], list, Archive]:
    corpus = sorted(replica_snapshots(("en", "ru")), key=lambda s: (s.observed_at, s.url))
    latest = {s.url: s for s in corpus}
    week = [dataclasses.replace(s, observed_at=s.observed_at.replace("2024", "2025", 1)) for s in latest.values()]
    archive = Archive(tmp_path / "a.db")
    archive.ingest(corpus, workers=1)
    traced, report = _traced(archive, week)
    assert report.added == len(week) and report.new_content == 0  # the same contents, a year later
    return traced, week, archive


def test_a_week_seen_again_reads_no_url_or_content_one_at_a_time(tmp_path: Path) -> None:
    traced, week, archive = _week_again(tmp_path)
    with archive:
        assert [q for q in traced if ONE_KEY_READ.match(q)] == []
        assert archive.check() == {}
        again, report = _traced(archive, week)  # the same week once more: every snapshot a duplicate
        assert report.duplicates == len(week) > 40 and report.added == 0
        assert [q for q in again if ONE_KEY_READ.match(q)] == []


def test_block_versions_spans_are_updated_once_per_version_not_once_per_page(tmp_path: Path) -> None:
    traced, week, archive = _week_again(tmp_path)
    with archive:
        versions = archive.db.execute("SELECT count(*) FROM derive_block_versions").fetchone()[0]
    updates = sum(1 for q in traced if BLOCK_VERSION_SPAN.match(q))
    # each page shows 2-4 block versions: one update each per page was 3x the pages
    assert 0 < updates <= versions * 2 < len(week), (updates, versions)
