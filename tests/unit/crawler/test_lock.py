"""A crawl run holds the archive's writer lock from ``begin`` to ``finish``: a second run is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.runs import CrawlRun
from dedupe.archive import Archive
from dedupe.archive.lock import WriterLocked
from tests.support.crawl import BASE


def test_a_second_run_on_the_same_archive_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    first = CrawlRun(db, [f"{BASE}/events"]).begin()
    assert first.lock.held
    with pytest.raises(WriterLocked, match=r"another crawl is already writing a\.db \(pid \d+.*stops without fetching"):
        CrawlRun(db, [f"{BASE}/events"]).begin()
    assert len(Archive(db).runs.recent(10)) == 1
    first.finish("finished")
    assert not first.lock.held
    CrawlRun(db, [f"{BASE}/events"]).begin().finish("finished")
    assert [bool(run["finished_at"]) for run in Archive(db).runs.recent(10)] == [True, True]  # both ran, in turn
