"""A crawl run: its row from start to finish, its status, resuming a killed run, what the revisit policy knows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from crawler.pipelines import ArchiveWriter
from crawler.runs import JOBDIR_STATE, CrawlRun
from dedupe.archive import Archive
from tests.support.crawl import ARTICLES, BASE, snap


def test_a_run_is_a_row_from_start_to_finish(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    run = CrawlRun(db, [f"{BASE}/events"]).begin()
    row = Archive(db).runs.recent(1)[0]
    assert (row["status"], row["start_urls"], row["finished_at"]) == ("running", [f"{BASE}/events"], None)
    run.counts.pages_fetched, run.counts.new = 3, 2
    run.counts.add("unchanged")
    run.counts.add("failed", f"{BASE}/events/x", "HTTP 500 (after 3 retries)")
    assert run.finish("finished", {"downloader/response_count": 4}) == "finished"
    row = Archive(db).runs.recent(1)[0]
    assert (row["status"], row["pages_fetched"], row["new"], row["unchanged"], row["failed"]) == (
        "finished",
        3,
        2,
        1,
        1,
    )
    assert row["errors"] == [{"url": f"{BASE}/events/x", "error": "HTTP 500 (after 3 retries)"}]
    assert row["stats"]["scrapy"]["downloader/response_count"] == 4 and row["finished_at"]
    assert not run.lock.held


@pytest.mark.parametrize(
    "reason, pages, failed, expected",
    [
        ("finished", 10, 0, "finished"),
        ("finished", 10, 3, "finished"),
        ("finished", 2, 8, "failed"),
        ("finished", 0, 5, "failed"),
        ("finished", 0, 0, "failed"),
        ("shutdown", 3, 0, "interrupted"),
        ("archive_writer_failed", 10, 0, "failed"),
        ("closespider_timeout", 10, 0, "failed"),
    ],
)
def test_run_status(tmp_path: Path, reason: str, pages: int, failed: int, expected: str) -> None:
    run = CrawlRun(tmp_path / "a.db", [f"{BASE}/events"])
    run.counts.pages_fetched, run.counts.failed = pages, failed
    assert run.conclude(reason) == expected


def test_a_killed_run_is_marked_interrupted_and_resumed_without_storing_its_pages_again(tmp_path: Path) -> None:
    db, jobdir = tmp_path / "a.db", tmp_path / "job"
    killed = CrawlRun(db, [f"{BASE}/events"], str(jobdir)).begin()
    writer = ArchiveWriter(str(db))
    writer.store(snap("/events", "2025-10-20T09:00:00Z", page_type="listing", origin=killed.origin))
    writer.store(snap(ARTICLES[0], "2025-10-20T09:00:01Z", origin=killed.origin))
    writer.archive.close()
    (jobdir / "requests.seen").write_text("half-written\n")
    (jobdir / "requests.queue").mkdir()
    killed.lock.release()  # what the kernel does when the process is killed; the row stays 'running'
    killed.archive.close()

    resumed = CrawlRun(db, [f"{BASE}/events"], str(jobdir)).begin()
    assert resumed.resumed_from == killed.id
    assert resumed.already_stored(BASE + ARTICLES[0], "article")
    assert not resumed.already_stored(BASE + "/events", "listing")  # re-read for its links, not stored again
    assert BASE + "/events" in resumed.stored_before
    assert not resumed.already_stored(BASE + ARTICLES[1], "article")
    assert not (jobdir / "requests.seen").exists() and not (jobdir / "requests.queue").exists()
    old = Archive(db).runs.get(killed.id)
    assert old["status"] == "interrupted" and old["pages_fetched"] == 2 and "killed" in old["errors"][0]["error"]
    state = json.loads((jobdir / JOBDIR_STATE).read_text())
    assert state["run_id"] == resumed.id and state["clean"] is False
    resumed.counts.pages_fetched = 5
    assert resumed.finish("finished") == "finished"

    after_finish = CrawlRun(db, [f"{BASE}/events"], str(jobdir)).begin()  # a finished run is not resumed
    assert after_finish.resumed_from is None and after_finish.stored_before == {}
    after_finish.finish("shutdown")
    assert json.loads((jobdir / JOBDIR_STATE).read_text())["clean"] is True
    (jobdir / "requests.seen").write_text("kept after a clean stop\n")
    clean_resume = CrawlRun(db, [f"{BASE}/events"], str(jobdir)).begin()
    assert clean_resume.resumed_from == after_finish.id and (jobdir / "requests.seen").exists()
    clean_resume.finish("finished")


def test_m002_adds_crawl_runs(tmp_path: Path) -> None:
    Archive(tmp_path / "a.db").close()
    con = sqlite3.connect(tmp_path / "a.db")
    columns = [r[1] for r in con.execute("PRAGMA table_info(crawl_runs)")]
    assert columns[:13] == [
        "id",
        "started_at",
        "finished_at",
        "status",
        "start_urls",
        "pages_fetched",
        "new",
        "changed",
        "unchanged",
        "removed",
        "failed",
        "errors",
        "stats",
    ]
    assert [r[0] for r in con.execute("SELECT name FROM _sqlite_migrations ORDER BY id")][:2] == [
        "m001_initial",
        "m002_crawl_runs",
    ]
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO crawl_runs (started_at, status, start_urls) VALUES ('x', 'bogus', '[]')")


def test_the_run_tells_the_revisit_policy_what_each_url_last_was(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from crawler.items import PageFailure
    from crawler.runs import revisit_policy

    db = tmp_path / "a.db"
    writer = ArchiveWriter(str(db))
    a, b, c, d = ARTICLES[:4]
    writer.store(snap("/events", "2026-11-01T03:00:00Z", page_type="listing"))
    writer.store(snap(a, "2026-11-01T03:00:01Z"))
    writer.store(snap(a, "2026-11-20T03:00:01Z", status=304))  # seen again: the newest observation counts
    writer.store(snap(b, "2026-11-01T03:00:02Z"))
    writer.store(snap(b, "2026-11-20T03:00:02Z", status=404))  # removed
    writer.store(snap(c, "2026-11-01T03:00:03Z"))
    writer.store(PageFailure(BASE + c, "timed out", "article", "2026-11-20T03:00:03Z").to_raw("crawl:2"), "timed out")
    writer.store(PageFailure(BASE + d, "HTTP 500", "article", "2026-11-20T03:00:04Z").to_raw("crawl:2"), "HTTP 500")
    writer.archive.close()

    run = CrawlRun(db, [f"{BASE}/events"]).begin()
    try:
        records = run.page_records()
        assert set(records) == {BASE + p for p in ("/events", a, b, c, d)}
        assert records[BASE + a].seen_at == datetime(2026, 11, 20, 3, 0, 1, tzinfo=timezone.utc)
        assert (records[BASE + a].http_status, records[BASE + a].failed_last) == (304, False)
        assert records[BASE + b].removed and not records[BASE + b].failed_last
        assert records[BASE + c].failed_last and records[BASE + c].seen_at is not None  # failed after a success
        assert records[BASE + d].failed_last and records[BASE + d].seen_at is None  # never fetched at all
        assert records[BASE + "/events"].page_type == "listing"
        policy = run.revisit_policy(7 * 86400)
        assert policy.now == datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
        crawler = type("Crawler", (), {})()  # what the registry needs: an object it can refer to weakly
        CrawlRun.attach(crawler, run)
        assert revisit_policy(crawler, 7 * 86400).records == records
        assert revisit_policy(None, 7 * 86400).records == {}  # a bare spider knows no page
    finally:
        run.finish("finished")


def test_a_resumed_run_reads_again_the_listing_pages_the_killed_run_stored(tmp_path: Path) -> None:
    db, jobdir = tmp_path / "a.db", tmp_path / "job"
    killed = CrawlRun(db, [f"{BASE}/events"], str(jobdir)).begin()
    writer = ArchiveWriter(str(db))
    writer.store(snap("/events?page=2", "2026-11-20T09:00:00Z", page_type="listing", origin=killed.origin))
    writer.store(snap(ARTICLES[0], "2026-11-20T09:00:01Z", origin=killed.origin))
    writer.archive.close()
    killed.lock.release()
    killed.archive.close()
    resumed = CrawlRun(db, [f"{BASE}/events"], str(jobdir)).begin()
    try:
        policy = resumed.revisit_policy(7 * 86400)
        assert policy.due(f"{BASE}/events?page=2")  # so the listing walk reaches what the killed run had not
        assert policy.known(BASE + ARTICLES[0]) and resumed.already_stored(BASE + ARTICLES[0], "article")
    finally:
        resumed.finish("finished")


def test_a_run_that_cannot_write_its_jobdir_ends_its_row(tmp_path: Path) -> None:
    """The row is inserted before the JOBDIR's state is written: a JOBDIR the run cannot write ends that row as
    failed, with the reason, and frees the archive for the next run."""
    db, jobdir = tmp_path / "a.db", tmp_path / "job"
    (jobdir / (JOBDIR_STATE + ".tmp")).mkdir(parents=True)  # the state file cannot be written
    with pytest.raises(OSError):
        CrawlRun(db, [f"{BASE}/events"], str(jobdir)).begin()
    row = Archive(db).runs.recent(1)[0]
    assert row["status"] == "failed" and row["finished_at"]
    assert row["errors"][0]["error"].startswith("the run could not start:")
    following = CrawlRun(db, [f"{BASE}/events"]).begin()  # the lock was released
    assert following.id == row["id"] + 1 and following.status == "running"
    following.finish("finished")


def test_a_runs_time_starts_when_it_holds_the_archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run made, then kept waiting for another run's lock, counts its elapsed time from ``begin``."""
    import crawler.runs

    clock = [1000.0]
    monkeypatch.setattr(crawler.runs.time, "monotonic", lambda: clock[0])
    run = CrawlRun(tmp_path / "a.db", [f"{BASE}/events"])
    clock[0] += 600  # ten minutes waiting for the lock
    run.begin()
    clock[0] += 2.5
    run.finish("finished")
    assert Archive(tmp_path / "a.db").runs.recent(1)[0]["stats"]["elapsed_seconds"] == 2.5


def test_a_run_stopped_by_ctrl_c_while_it_begins_is_interrupted_not_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(self: CrawlRun, clean: bool) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(CrawlRun, "_write_jobdir_state", interrupted)
    with pytest.raises(KeyboardInterrupt):
        CrawlRun(tmp_path / "a.db", [f"{BASE}/events"]).begin()
    row = Archive(tmp_path / "a.db").runs.recent(1)[0]
    assert (row["status"], row["errors"][0]["error"]) == ("interrupted", "stopped before it began")
