"""The archive writer of a crawl: what each page was for the run, in a process or inline. No network."""

from __future__ import annotations

from pathlib import Path

from crawler.pipelines import ArchiveWriter, InlineWriter, ProcessWriter
from crawler.runs import CrawlRun
from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from tests.support.crawl import ARTICLES, BASE, FakeCrawler, open_files_of, replica_page, snap


def test_writer_names_each_observation_new_changed_unchanged_removed_or_failed(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    writer = ArchiveWriter(db)
    first, second = ARTICLES[0], ARTICLES[1]
    assert writer.store(snap(first, "2025-10-20T09:00:00Z")) == ("new", "")
    assert writer.store(snap(second, "2025-10-20T09:00:01Z")) == ("new", "")
    assert writer.store(snap(first, "2025-10-21T09:00:00Z")) == ("unchanged", "")  # byte-identical
    assert writer.store(snap(first, "2025-10-22T09:00:00Z", status=304)) == ("unchanged", "")
    assert writer.store(snap(first, "2025-11-10T09:00:00Z", epoch=2)) == ("changed", "")  # the block changed
    assert writer.store(snap(second, "2025-12-01T09:00:00Z", status=404)) == ("removed", "")
    kind, message = writer.store(snap("/events/never-seen", "2025-12-01T09:00:00Z", status=404))
    assert kind == "failed" and "never archived" in message
    kind, message = writer.store(snap("/events/binary", "2025-12-01T09:00:00Z", body=b"\x89PNG\r\n\x1a\n\x00\x00"))
    assert kind == "failed" and message
    failed = RawSnapshot(
        url=BASE + second,
        observed_at="2025-12-02T09:00:00Z",
        body=None,
        source="crawl",
        origin="crawl:1",
        http_status=500,
        page_type="article",
    )
    assert writer.store(failed, "HTTP 500 (after 3 retries)") == ("failed", "HTTP 500 (after 3 retries)")
    summary = writer.finish()
    assert summary["stats"]["snapshots"] == 7  # the never-archived 404 and the binary body left no record
    assert len(summary["changes"]["new_articles"]) == 2
    with Archive(db) as archive:
        assert (
            archive.query("SELECT count(*) AS n FROM snapshots WHERE url LIKE '%binary%' OR url LIKE '%never%'")[0]["n"]
            == 0
        )
        statuses = [
            r["status"] for r in archive.query("SELECT status FROM snapshots WHERE url = ? ORDER BY id", [BASE + first])
        ]
        assert statuses == ["new", "seen_again", "not_modified", "new"]
        rows = archive.query(
            "SELECT status, http_status, content_sha256 FROM snapshots WHERE url = ? ORDER BY id", [BASE + second]
        )
        assert [(r["status"], r["http_status"]) for r in rows] == [("new", 200), ("removed", 404), ("error", 500)]


def test_a_truncated_or_undecodable_body_never_becomes_a_version(tmp_path: Path) -> None:
    writer = ArchiveWriter(str(tmp_path / "a.db"))
    undecodable = "<html><body><p>Парламентская Ассамблея</p></body></html>".encode()[:-30] + b"\xff\xfe\x00\x00"
    kind, _ = writer.store(snap("/events/broken", "2025-10-20T09:00:00Z", body=undecodable))
    assert kind == "failed"
    assert writer.store(snap("/events/empty", "2025-10-20T09:00:00Z", body=b""))[0] == "failed"
    summary = writer.finish()
    assert summary["stats"]["snapshots"] == 0 and summary["stats"]["article_versions"] == 0


def test_process_writer_keeps_order_counts_everything_and_reports_at_close(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    writer = ProcessWriter(db)
    path = ARTICLES[0]
    sent = [
        snap(path, "2025-10-20T09:00:00Z"),
        snap(path, "2025-10-20T09:00:05Z", status=304),
        snap(path, "2025-11-10T09:00:00Z", epoch=2),
    ] + [snap(p, "2025-10-20T09:00:00Z") for p in ARTICLES[1:6]]
    for item in sent:
        writer.submit(item)
    results = writer.poll() + writer.close()
    assert writer.error is None and writer.pending == 0
    assert [kind for url, kind, _ in results if url == BASE + path] == ["new", "unchanged", "changed"]
    assert len(results) == len(sent)
    assert writer.summary["stats"]["snapshots"] == len(sent)
    assert not writer.process.is_alive()


def test_the_writer_process_is_forked_with_no_sqlite_connection_open(tmp_path: Path, monkeypatch) -> None:
    import multiprocessing.process

    from crawler.pipelines import ArchivePipeline

    db = tmp_path / "a.db"
    crawler = FakeCrawler(tmp_path)
    run = CrawlRun.attach(crawler, CrawlRun(db, [f"{BASE}/events"])).begin()
    assert open_files_of(db)  # the run reads validators and archived bodies through its connection
    at_fork: list[list[str]] = []
    real_start = multiprocessing.process.BaseProcess.start

    def start(process: object) -> None:
        at_fork.append(open_files_of(db))
        real_start(process)

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start)
    pipeline = ArchivePipeline(crawler)
    pipeline.open_spider()
    try:
        pipeline.loop.stop()
        assert at_fork == [[]]  # nothing of SQLite's crossed the fork
        assert open_files_of(db) and run.validators(BASE + "/events/x") == (None, None)  # reopened after it
        pipeline.process_item(
            RawSnapshot(
                url=BASE + ARTICLES[0],
                observed_at="2025-10-20T09:00:00Z",
                source="crawl",
                http_status=200,
                body=replica_page(ARTICLES[0])[0],
                page_type="article",
            )
        )
    finally:
        results = pipeline.writer.close()
    assert [(kind, pipeline.writer.error) for _, kind, _ in results] == [("new", None)]
    assert run.finish("finished") == "finished"


def test_inline_writer_does_the_same_work(tmp_path: Path) -> None:
    writer = InlineWriter(str(tmp_path / "a.db"))
    writer.submit(snap(ARTICLES[0], "2025-10-20T09:00:00Z"))
    assert writer.close() == [(BASE + ARTICLES[0], "new", "")]
    assert writer.summary["stats"]["articles"] == 1


def _mixed_observations() -> list[tuple[RawSnapshot, str | None]]:
    first, second = ARTICLES[0], ARTICLES[1]
    failed = snap(second, "2025-12-02T09:00:00Z", body=None, status=500)
    return [
        (snap(first, "2025-10-20T09:00:00Z"), None),
        (snap(second, "2025-10-20T09:00:01Z"), None),
        (snap(first, "2025-10-21T09:00:00Z"), None),
        (snap(first, "2025-10-22T09:00:00Z", status=304), None),
        (snap(first, "2025-11-10T09:00:00Z", epoch=2), None),
        (snap(second, "2025-12-01T09:00:00Z", status=404), None),
        (snap("/events/never-seen", "2025-12-01T09:00:00Z", status=404), None),
        (snap("/events/binary", "2025-12-01T09:00:00Z", body=b"\x89PNG\r\n\x1a\n\x00\x00"), None),
        (failed, "HTTP 500 (after 3 retries)"),
        *((snap(path, "2025-10-20T09:00:00Z"), None) for path in ARTICLES[2:8]),
    ]


def test_a_stream_in_batches_analysed_by_workers_answers_as_one_page_at_a_time(tmp_path: Path, monkeypatch) -> None:
    """What the writer process does while the crawl is ahead: batches, analysed by worker processes. Each
    page's answer, in order, and the archive are those of storing the pages one at a time."""
    from crawler import pipelines
    from dedupe.archive import FLUSH, observations

    monkeypatch.setattr(observations, "PARALLEL_MIN", 2)
    monkeypatch.setattr(pipelines, "STREAM_BATCH", 4)
    monkeypatch.setattr(pipelines, "STREAM_WORKERS", 2)
    analysed_by_workers: list[int] = []
    real_submit = observations.ProcessPoolExecutor.submit

    def counting_submit(pool, fn, chunk, *rest):  # each chunk of pages handed to a worker process
        analysed_by_workers.append(len(chunk))
        return real_submit(pool, fn, chunk, *rest)

    monkeypatch.setattr(observations.ProcessPoolExecutor, "submit", counting_submit)
    pages = _mixed_observations()
    one = ArchiveWriter(str(tmp_path / "one.db"))
    expected = [(page.url, *one.store(page, failure)) for page, failure in pages]
    one_summary = one.finish()
    batched = ArchiveWriter(str(tmp_path / "batched.db"))
    answers: list[tuple[str, str, str]] = []
    batched.store_stream([*pages[:9], FLUSH, *pages[9:]], lambda *answer: answers.append(answer))
    summary = batched.finish()
    assert answers == expected
    assert sum(analysed_by_workers) >= 6  # the batches of new contents went to the workers
    assert summary["stats"] == one_summary["stats"] and summary["stats"]["snapshots"] == 13
    with Archive(tmp_path / "batched.db") as archive:
        assert archive.check() == {}


def test_the_writer_process_analyses_in_worker_processes_of_its_own(tmp_path: Path, monkeypatch) -> None:
    """The writer process (a daemon to the crawl) starts analysis workers of its own when pages queue up;
    every page is still answered, in order, and the archive is whole."""
    from crawler import pipelines
    from dedupe.archive import observations

    monkeypatch.setattr(observations, "PARALLEL_MIN", 2)  # inherited by the forked writer
    monkeypatch.setattr(pipelines, "STREAM_BATCH", 4)
    monkeypatch.setattr(pipelines, "STREAM_WORKERS", 2)
    pages = _mixed_observations()
    writer = ProcessWriter(str(tmp_path / "a.db"))
    for page, failure in pages:
        writer.submit(page, failure)
    results = writer.poll() + writer.close(timeout=120)
    assert writer.error is None, writer.error
    assert [url for url, _, _ in results] == [page.url for page, _ in pages]
    assert [kind for _, kind, _ in results][:6] == ["new", "new", "unchanged", "unchanged", "changed", "removed"]
    assert writer.summary["stats"]["snapshots"] == 13 and not writer.process.is_alive()


def test_a_page_that_breaks_the_extractor_is_one_failure_and_the_stream_goes_on(tmp_path: Path, monkeypatch) -> None:
    """Hostile markup that makes the extractors raise (not an InputError) fails that page alone, with its
    reason; the pages before and after it are stored, one at a time or in a batch."""
    from dedupe import extract
    from dedupe.archive import FLUSH

    real = extract.analyse

    def fragile(body: bytes, *args: object):
        if b"<!--trip-->" in body:
            raise RecursionError("maximum recursion depth exceeded")
        return real(body, *args)

    monkeypatch.setattr(extract, "analyse", fragile)
    hostile = snap("/events/hostile", "2025-10-20T09:00:00Z", body=b"<html><body><!--trip--><p>x</p></body></html>")
    pages = [
        (snap(ARTICLES[0], "2025-10-20T09:00:00Z"), None),
        (hostile, None),
        (snap(ARTICLES[1], "2025-10-20T09:00:00Z"), None),
    ]
    writer = ArchiveWriter(str(tmp_path / "a.db"))
    answers: list[tuple[str, str, str]] = []
    writer.store_stream([*pages, FLUSH], lambda *answer: answers.append(answer))
    one = ArchiveWriter(str(tmp_path / "one.db"))
    assert [kind for _, kind, _ in answers] == ["new", "failed", "new"]
    assert "could not be analysed (RecursionError" in answers[1][2]
    assert one.store(hostile)[0] == "failed"
    assert writer.finish()["stats"]["snapshots"] == 2


def test_a_full_disk_mid_crawl_counts_every_page_not_stored_and_says_so(tmp_path: Path, monkeypatch) -> None:
    import sqlite3
    import time

    from crawler.pipelines import count_unstored

    def full_after_one(self: ArchiveWriter, pages, answer) -> None:  # the writer's disk fills after one page
        stored = 0
        for page in pages:
            if isinstance(page, tuple):
                if stored:
                    raise sqlite3.OperationalError("database or disk is full")
                answer(page[0].url, "new", "")
                stored += 1

    monkeypatch.setattr(ArchiveWriter, "store_stream", full_after_one)  # before the fork: the writer has it
    db = tmp_path / "x.db"
    run = CrawlRun(db, [f"{BASE}/events"]).begin()
    with run.archive_closed():
        writer = ProcessWriter(str(db))
    for path in ARTICLES[:5]:
        run.counts.pages_fetched += 1
        writer.submit(snap(path, "2025-10-20T09:00:00Z"))
    deadline = time.monotonic() + 20
    results = []
    while writer.error is None and time.monotonic() < deadline:
        results += writer.poll()
        time.sleep(0.05)
    results += writer.close()
    for url, kind, message in results:
        run.counts.add(kind, url, message)
    run.writer_error = writer.error
    count_unstored(writer, run)
    assert run.finish("archive_writer_failed") == "failed"
    row = run.result()
    assert (row["pages_fetched"], row["new"], row["failed"]) == (5, 1, 4)
    assert row["errors"][0]["error"] == (
        f"the disk holding {db} is full: 4 fetched pages were not stored; free some space and run the crawl again, "
        "the next run fetches them"
    )
    assert [e["url"] for e in row["errors"][1:]] == [BASE + path for path in ARTICLES[1:5]]
    assert {e["error"] for e in row["errors"][1:]} == {"not stored: the disk is full"}
    assert len(row["errors"]) == 5 and row["stats"]["not_stored"] == 4  # no "the crawl ended early" besides
