"""The crawl's way into the archive: writer, run bookkeeping, lock, resume, middlewares. No network."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.middlewares import (
    AllowedHostsMiddleware,
    AlreadyArchived,
    ArchiveMiddleware,
    BackoffRetryMiddleware,
    OffsiteRefused,
)
from crawler.pipelines import ArchiveWriter, InlineWriter, ProcessWriter
from crawler.replica import ReplicaSite, site_state
from crawler.runs import JOBDIR_STATE, CrawlRun, RunLocked, decode_run
from crawler.spiders.pacsto import HostScope
from dedupe.archive import Archive
from dedupe.changes import delta
from dedupe.changes import read_state as archive_state
from dedupe.document import RawSnapshot

BASE = "http://127.0.0.1:8000"


def replica_page(path: str, epoch: int = 1, lang: str = "en", markup: str = "header") -> tuple[bytes, dict]:
    answer = ReplicaSite(lang=lang, block_markup=markup).respond("GET", path, {}, epoch, BASE)
    return answer.body, dict(answer.headers)


def snap(
    path: str,
    when: str,
    epoch: int = 1,
    status: int = 200,
    body: bytes | None = None,
    page_type: str = "article",
    origin: str = "crawl:1",
) -> RawSnapshot:
    headers: dict = {}
    if body is None and status == 200:
        body, headers = replica_page(path, epoch)
    return RawSnapshot(
        url=BASE + path,
        observed_at=when,
        body=body,
        source="crawl",
        origin=origin,
        http_status=status,
        headers=headers,
        declared_charset="utf-8" if body else None,
        page_type=page_type,
    )


ARTICLES = [a.path for a in site_state("en", 1).articles]


# --------------------------------------------------------------------------- the writer


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


def open_files_of(db: Path) -> list[str]:
    """This process's descriptors and mappings of the archive's files (its SQLite connections' traces)."""
    names = {str(db), f"{db}-wal", f"{db}-shm"}
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target in names:
            found.append(target)
    maps = Path("/proc/self/maps").read_text().splitlines()
    return found + [line.split()[-1] for line in maps if line.split()[-1] in names]


class Crawler:
    """Enough of a Scrapy crawler for ArchivePipeline (weak-referenceable, as CrawlRun's registry needs)."""

    def __init__(self, tmp_path: Path) -> None:
        self.settings = Settings()
        self.settings.setmodule(project_settings)
        self.settings.set("ARCHIVE_DB", str(tmp_path / "a.db"))
        self.signals = SimpleNamespace(connect=lambda *a, **k: None)


def test_the_writer_process_is_forked_with_no_sqlite_connection_open(tmp_path: Path, monkeypatch) -> None:
    import multiprocessing.process

    from crawler.pipelines import ArchivePipeline

    db = tmp_path / "a.db"
    crawler = Crawler(tmp_path)
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


# --------------------------------------------------------------------------- runs, lock, resume


def test_a_run_is_a_row_from_start_to_finish(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    run = CrawlRun(db, [f"{BASE}/events"]).begin()
    row = decode_run(Archive(db).query("SELECT * FROM crawl_runs")[0])
    assert (row["status"], row["start_urls"], row["finished_at"]) == ("running", [f"{BASE}/events"], None)
    run.counts.pages_fetched, run.counts.new = 3, 2
    run.counts.add("unchanged")
    run.counts.add("failed", f"{BASE}/events/x", "HTTP 500 (after 3 retries)")
    assert run.finish("finished", {"downloader/response_count": 4}) == "finished"
    row = decode_run(Archive(db).query("SELECT * FROM crawl_runs")[0])
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


def test_a_second_run_on_the_same_archive_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    first = CrawlRun(db, [f"{BASE}/events"]).begin()
    with pytest.raises(RunLocked, match=r"another crawl is already writing a\.db \(pid \d+"):
        CrawlRun(db, [f"{BASE}/events"]).begin()
    assert Archive(db).query("SELECT count(*) AS n FROM crawl_runs")[0]["n"] == 1
    first.finish("finished")
    CrawlRun(db, [f"{BASE}/events"]).begin().finish("finished")


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
    old = decode_run(Archive(db).query("SELECT * FROM crawl_runs WHERE id = ?", [killed.id])[0])
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


def test_changes_between_two_states(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    writer = ArchiveWriter(db)
    for i, path in enumerate(ARTICLES[:8]):
        writer.store(snap(path, f"2025-10-20T09:00:{i:02d}Z"))
    writer.archive.refresh()
    before = archive_state(writer.archive)
    writer.store(snap(ARTICLES[0], "2025-12-01T09:00:00Z", status=404))
    writer.archive.refresh()
    changes = delta(before, archive_state(writer.archive)).as_dict()
    assert [a["url"] for a in changes["removed_articles"]] == [BASE + ARTICLES[0]]
    assert changes["new_articles"] == [] and changes["changed_articles"] == []


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


# --------------------------------------------------------------------------- middlewares


def fake_crawler(tmp_path: Path, **settings: object) -> SimpleNamespace:
    values = Settings()
    values.setmodule(project_settings)
    values.set("ARCHIVE_DB", str(tmp_path / "a.db"))
    for name, value in settings.items():
        values.set(name, value)
    stats = SimpleNamespace(
        counts={}, inc_value=lambda key, count=1, **_: stats.counts.__setitem__(key, stats.counts.get(key, 0) + count)
    )
    spider = SimpleNamespace(scope=HostScope.from_urls([f"{BASE}/events"]))
    return SimpleNamespace(
        settings=values, stats=stats, spider=spider, signals=SimpleNamespace(connect=lambda *a, **k: None)
    )


def test_allowed_hosts_middleware_refuses_redirects_off_the_site(tmp_path: Path) -> None:
    mw = AllowedHostsMiddleware(fake_crawler(tmp_path))
    assert mw.process_request(Request(f"{BASE}/events/x")) is None
    away = Request(
        "http://example.invalid/events/moved",
        dont_filter=True,
        meta={"redirect_urls": [f"{BASE}/events/fault-offsite-redirect"]},
    )
    with pytest.raises(OffsiteRefused, match="redirected from"):
        mw.process_request(away)
    with pytest.raises(OffsiteRefused):
        mw.process_request(Request("http://127.0.0.1:8001/robots.txt"))


def test_retries_wait_longer_each_time(tmp_path: Path) -> None:
    from scrapy.utils.test import get_crawler

    from crawler.spiders.pacsto import PacstoSpider

    crawler = get_crawler(PacstoSpider, {"RETRY_TIMES": 5, "RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 5.0})
    crawler.spider = PacstoSpider.from_crawler(crawler, start_url=f"{BASE}/events")
    mw = BackoffRetryMiddleware.from_crawler(crawler)
    request = Request(f"{BASE}/events/x")
    delays = []
    for _ in range(4):
        request = mw._retry(request, "500 Internal Server Error")
        delays.append(request.meta["retry_delay"])
    assert 1.6 <= delays[0] <= 2.4 and 3.2 <= delays[1] <= 4.8 and delays[2] <= 6.0 and delays[3] <= 6.0


def test_archive_middleware_makes_requests_conditional_and_answers_304_with_the_archived_body(tmp_path: Path) -> None:
    crawler = fake_crawler(tmp_path)
    writer = ArchiveWriter(crawler.settings["ARCHIVE_DB"])
    body, headers = replica_page("/events")
    writer.store(
        RawSnapshot(
            url=f"{BASE}/events",
            observed_at="2025-10-20T09:00:00Z",
            body=body,
            source="crawl",
            origin="crawl:0",
            http_status=200,
            headers=headers,
            declared_charset="utf-8",
            page_type="listing",
        )
    )
    writer.archive.close()
    run = CrawlRun(crawler.settings["ARCHIVE_DB"], [f"{BASE}/events"]).begin()
    mw = ArchiveMiddleware(crawler)
    mw.run = run
    request = Request(
        f"{BASE}/events",
        meta={"archive_page": True, "page_type": "listing"},
        headers={"If-None-Match": '"from-a-redirect"'},
    )
    assert mw.process_request(request) is None
    assert request.headers["If-None-Match"].decode() == headers["ETag"]
    assert request.headers["If-Modified-Since"].decode() == headers["Last-Modified"]
    fresh = Request(f"{BASE}/events/unknown", meta={"archive_page": True})
    mw.process_request(fresh)
    assert b"If-None-Match" not in fresh.headers
    answer = Response(f"{BASE}/events", status=304, headers={"ETag": headers["ETag"]}, request=request)
    replaced = mw.process_response(request, answer)
    assert isinstance(replaced, HtmlResponse) and replaced.status == 304 and replaced.body == body
    assert "archived-body" in replaced.flags
    assert mw.process_response(fresh, Response(fresh.url, status=200, body=b"x")).body == b"x"
    run.stored_before = {f"{BASE}/events/done": "article", f"{BASE}/events": "listing"}
    with pytest.raises(AlreadyArchived):
        mw.process_request(Request(f"{BASE}/events/done", meta={"archive_page": True, "page_type": "article"}))
    assert mw.process_request(Request(f"{BASE}/events", meta={"archive_page": True, "page_type": "listing"})) is None
    run.finish("finished")


def test_settings_are_polite_and_env_overridable(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from crawler import settings as module

    assert module.ROBOTSTXT_OBEY and module.AUTOTHROTTLE_ENABLED and module.DOWNLOAD_FAIL_ON_DATALOSS
    assert module.CONCURRENT_REQUESTS_PER_DOMAIN <= 4 and module.DOWNLOAD_DELAY >= 0.5
    assert "+http" in module.USER_AGENT and module.DOWNLOAD_MAXSIZE and module.REDIRECT_MAX_TIMES
    assert {500, 502, 503, 504} <= set(module.RETRY_HTTP_CODES) and not module.REMOTE_CONTROL_ENABLED
    monkeypatch.setenv("PA_ARCHIVE_DB", "/srv/pa/archive.db")
    monkeypatch.setenv("PA_DOWNLOAD_DELAY", "2.5")
    monkeypatch.setenv("PA_ROBOTSTXT_OBEY", "false")
    monkeypatch.setenv("PA_START_URLS", '["https://paodkb.org/events"]')
    try:
        importlib.reload(module)
        assert module.ARCHIVE_DB == "/srv/pa/archive.db" and module.DOWNLOAD_DELAY == 2.5
        assert module.ROBOTSTXT_OBEY is False and module.START_URLS == ["https://paodkb.org/events"]
    finally:
        monkeypatch.undo()
        importlib.reload(module)


def test_page_snapshot_item_is_a_dataclass_for_item_adapter() -> None:
    from itemadapter import ItemAdapter

    item = RawSnapshot(
        url=f"{BASE}/events", observed_at="2025-10-20T09:00:00Z", source="crawl", http_status=304, body=None
    )
    assert ItemAdapter(item).asdict()["http_status"] == 304


# --------------------------------------------------------------------------- the archive on crawled pages
# Reproductions, without a network, of what the e2e crawl tests need from the archive library:
# replica pages stored as a crawl stores them, then what dedupe derives from them.

COUNTRIES = (
    "republic-of-belarus",
    "republic-of-kazakhstan",
    "kyrgyz-republic",
    "russian-federation",
    "republic-of-tajikistan",
)
HOSTS = {"en": BASE, "ru": "http://127.0.0.1:8001"}


def crawl_like(archive: Archive, lang: str, epoch: int) -> None:
    """Every listing, article and country page of one site at one epoch, stored as the crawl stores them."""
    site, state = ReplicaSite(lang=lang), site_state(lang, epoch)
    listings = ["/events"] + [f"/events?page={n}" for n in range(2, -(-len(state.articles) // 6) + 2)]
    pages = (
        [(p, "listing") for p in listings]
        + [(a.path, "article") for a in state.articles]
        + [(f"/countries/{c}", "country") for c in COUNTRIES]
    )
    for path, kind in pages:
        answer = site.respond("GET", path, {}, epoch, HOSTS[lang])
        archive.add(
            RawSnapshot(
                url=HOSTS[lang] + path,
                observed_at=f"2025-1{epoch - 1}-01T09:00:00Z",
                body=answer.body,
                source="crawl",
                origin=f"crawl:{epoch}",
                http_status=answer.status,
                headers=dict(answer.headers),
                declared_charset="utf-8",
                page_type=kind,
            )
        )


def test_library_finds_the_delegation_block_once_per_site_on_crawled_pages(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    crawl_like(archive, "en", 1)
    crawl_like(archive, "ru", 1)
    archive.refresh()
    texts = [v["text"] for v in archive.query("SELECT text FROM block_versions")]
    for lang in ("en", "ru"):
        lines = site_state(lang, 1).block_lines
        assert [t for t in texts if lines[0] in t.splitlines()] == ["\n".join(lines)]


def test_library_other_furniture_has_one_version(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    crawl_like(archive, "en", 1)
    archive.refresh()
    rows = archive.query(
        "SELECT b.name, count(*) AS n FROM block_versions bv JOIN blocks b ON b.id = bv.block_id GROUP BY b.id"
    )
    assert all(r["n"] == 1 for r in rows), rows


def test_library_keeps_every_paragraph_and_no_block_line_in_article_text(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    crawl_like(archive, "en", 1)
    crawl_like(archive, "ru", 1)
    archive.refresh()
    for lang in ("en", "ru"):
        block = set(site_state(lang, 1).block_lines)
        for article in site_state(lang, 1).articles:
            (row,) = archive.query(
                "SELECT av.text FROM article_versions av JOIN content_articles ca ON ca.article_version_id = av.id "
                "JOIN snapshots s ON s.content_sha256 = ca.content_sha256 WHERE s.url = ?",
                [HOSTS[lang] + article.path],
            )
            assert all(p in row["text"] for p in article.paragraphs), (lang, article.path)
            assert not block & set(row["text"].splitlines()), (lang, article.path)


def test_library_conflicts_of_both_sites_are_only_the_kyrgyz_seats(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    for epoch in (1, 2):
        crawl_like(archive, "en", epoch)
        crawl_like(archive, "ru", epoch)
    archive.refresh()
    found = sorted(
        (c["language"], c["delegation"], c["field"], tuple(sorted(v["value"] for v in c["values"])))
        for c in archive.conflicts()
    )
    # one Kyrgyz seats conflict per language, each with both values: a list, so en and ru cannot collapse
    assert found == [("en", "Kyrgyzstan", "seats_total", ("6", "7")), ("ru", "Kyrgyzstan", "seats_total", ("6", "7"))]


def test_a_conflict_that_appears_in_the_second_language_later_is_new(tmp_path: Path) -> None:
    from cli.crawl import describe_changes, describe_run

    archive = Archive(tmp_path / "a.db")
    for epoch in (1, 2):
        crawl_like(archive, "en", epoch)
    archive.refresh()
    before = archive_state(archive)
    assert [(c["language"], c["delegation"], c["field"]) for c in before.conflicts.values()] == [
        ("en", "Kyrgyzstan", "seats_total")
    ]
    for epoch in (1, 2):
        crawl_like(archive, "ru", epoch)
    archive.refresh()
    changes = delta(before, archive_state(archive)).as_dict()
    assert [(c["language"], c["delegation"], c["field"]) for c in changes["new_conflicts"]] == [
        ("ru", "Kyrgyzstan", "seats_total")
    ]
    assert changes["counts"]["conflicts"] == 2 and changes["counts"]["new_conflicts"] == 1
    assert "  new conflict: Kyrgyzstan seats_total (ru): 7 vs 6" in describe_changes(
        changes
    ) or "  new conflict: Kyrgyzstan seats_total (ru): 6 vs 7" in describe_changes(changes)
    run = {
        "id": 2,
        "status": "finished",
        "pages_fetched": 1,
        "new": 0,
        "changed": 1,
        "unchanged": 0,
        "removed": 0,
        "failed": 0,
        "stats": {"changes": changes},
    }
    assert "conflicts: 2 (en 1, ru 1)" in " ".join(describe_run(run))
    archive.close()


# --------------------------------------------------------------------------- the commands (no crawl started)


def test_commands_have_help_with_an_example() -> None:
    from click.testing import CliRunner

    from cli.crawl import crawl, demo, replica, runs

    for command in (crawl, runs, replica, demo):
        result = CliRunner().invoke(command, ["--help"])
        assert result.exit_code == 0 and "Example:" in result.output, command.name


def test_crawl_refuses_a_locked_archive_with_status_75(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.crawl import crawl

    db = tmp_path / "a.db"
    holder = CrawlRun(db, [f"{BASE}/events"]).begin()
    try:
        result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", f"{BASE}/events"])
    finally:
        holder.finish("finished")
    assert result.exit_code == 75
    assert "another crawl is already writing a.db" in result.output
    assert len(Archive(db).query("SELECT id FROM crawl_runs")) == 1


def one_sentence_error(result) -> str:
    """The one line a refused command printed: "Error: ...", no usage text, no traceback."""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and lines[0].endswith("."), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return lines[0]


def test_crawl_rejects_bad_start_urls_and_settings(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.crawl import crawl

    db = tmp_path / "a.db"
    result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", "file:///etc/passwd"])
    assert result.exit_code == 2 and "not an http(s) URL" in one_sentence_error(result)
    result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", "https://pacsto.org:99999/events"])
    assert result.exit_code == 2 and "no valid port" in one_sentence_error(result)
    result = CliRunner().invoke(crawl, ["--db", str(db), "-s", "DOWNLOAD_DELAY"])
    assert result.exit_code == 2 and "NAME=VALUE" in one_sentence_error(result)
    for setting, expected in (
        ("CALENDAR_EARLIEST=bad", "CALENDAR_EARLIEST must be a month as YYYY-MM"),
        ("CALENDAR_EARLIEST=2013-13", "CALENDAR_EARLIEST must be a month"),
        ("LISTING_MAX_PAGES=many", "LISTING_MAX_PAGES must be a whole number"),
        ("DOWNLOAD_DELAY=-1", "DOWNLOAD_DELAY must be a number of at least 0"),
        ("ROBOTSTXT_OBEY=perhaps", "ROBOTSTXT_OBEY must be true or false"),
        ("ARCHIVE_WRITER=thread", "ARCHIVE_WRITER must be one of process, inline"),
    ):
        result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", f"{BASE}/events", "-s", setting])
        assert result.exit_code == 2 and expected in one_sentence_error(result), setting
    assert not db.exists() and not Path(f"{db}.lock").exists()  # refused up front: nothing locked or created


def test_crawl_refuses_an_archive_path_it_cannot_write_in_one_sentence(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.crawl import crawl
    from dedupe.archive import ArchiveError

    missing = tmp_path / "typo" / "archive.db"
    result = CliRunner().invoke(crawl, ["--db", str(missing), "--start-url", f"{BASE}/events"])
    assert result.exit_code == 2 and "does not exist" in one_sentence_error(result)
    assert not missing.parent.exists()  # no folder made for a mistyped path
    with pytest.raises(ArchiveError, match="does not exist"):
        CrawlRun(missing, [f"{BASE}/events"]).begin()  # `scrapy crawl -s ARCHIVE_DB=...` reaches the lock directly
    assert not missing.parent.exists()
    result = CliRunner().invoke(crawl, ["--db", "/proc/pa-archive-test.db", "--start-url", f"{BASE}/events"])
    assert result.exit_code == 1 and "/proc/pa-archive-test.db" in one_sentence_error(result)


def test_runs_limit_is_at_least_one(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.crawl import runs

    CrawlRun(tmp_path / "a.db", [f"{BASE}/events"]).begin().finish("finished")
    for bad in ("0", "-3"):
        result = CliRunner().invoke(runs, ["--db", str(tmp_path / "a.db"), "--limit", bad])
        assert result.exit_code == 2 and "--limit" in result.output
    assert CliRunner().invoke(runs, ["--db", str(tmp_path / "a.db"), "--limit", "1"]).exit_code == 0


def test_demo_replaces_only_an_archive_it_made(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.crawl import demo
    from crawler.process import is_demo_archive, prepare_demo_archive

    mine = tmp_path / "demo.db"
    prepare_demo_archive(str(mine), force=False)  # a new file: made and marked
    assert is_demo_archive(mine)
    prepare_demo_archive(str(mine), force=False)  # the demo's own: replaced
    assert is_demo_archive(mine)
    precious = tmp_path / "archive.db"
    with Archive(precious) as archive:
        archive.add(snap(ARTICLES[0], "2025-10-20T09:00:00Z"))
    Path(f"{precious}-wal").write_bytes(b"")  # what a crawl may leave next to it
    notes = tmp_path / "notes.txt"
    notes.write_text("not an archive at all")
    for target in (precious, notes):
        result = CliRunner().invoke(demo, ["--db", str(target)])
        assert result.exit_code == 2 and "is not an archive the demo made" in one_sentence_error(result)
    assert notes.read_text() == "not an archive at all" and Path(f"{precious}-wal").exists()
    with Archive(precious) as archive:
        assert archive.query("SELECT count(*) AS n FROM snapshots")[0]["n"] == 1
    assert not is_demo_archive(precious) and not is_demo_archive(notes)
    prepare_demo_archive(str(precious), force=True)  # --force: replaced
    assert is_demo_archive(precious)
    with Archive(precious) as archive:
        assert archive.query("SELECT count(*) AS n FROM snapshots")[0]["n"] == 0


def test_runs_lists_runs_as_text_and_json(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli.crawl import runs

    db = tmp_path / "a.db"
    run = CrawlRun(db, [f"{BASE}/events"]).begin()
    run.counts.pages_fetched, run.counts.new = 2, 2
    run.counts.add("failed", f"{BASE}/events/x", "timed out (after 3 retries)")
    run.finish("finished")
    text = CliRunner().invoke(runs, ["--db", str(db)])
    assert text.exit_code == 0
    assert "Crawl run 1 finished" in text.output and "failed: http://127.0.0.1:8000/events/x: timed out" in text.output
    data = json.loads(CliRunner().invoke(runs, ["--db", str(db), "--json"]).output)
    assert data[0]["status"] == "finished" and data[0]["errors"][0]["error"] == "timed out (after 3 retries)"


def test_library_makes_articles_of_news_pages_only(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    crawl_like(archive, "en", 1)
    archive.refresh()
    urls = [r["url"] for r in archive.query("SELECT url FROM articles")]
    assert len(urls) == len(site_state("en", 1).articles) and all("/events/" in url for url in urls)


# --------------------------------------------------------------------------- the revisit policy's knowledge


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


def test_crawl_takes_revisit_after_as_a_flag_a_setting_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from click.testing import CliRunner

    from cli.crawl import crawl
    from crawler import settings as module
    from crawler.process import crawl_settings

    assert crawl_settings(None, None, (), None, False).get("REVISIT_AFTER") == "7d"
    assert crawl_settings(None, None, ("REVISIT_AFTER=1d",), None, False, "0").get("REVISIT_AFTER") == "0"  # flag wins
    monkeypatch.setenv("PA_REVISIT_AFTER", "12h")
    try:
        importlib.reload(module)
        assert module.REVISIT_AFTER == "12h"
        monkeypatch.setenv("PA_REVISIT_AFTER", "0")
        importlib.reload(module)
        assert module.REVISIT_AFTER == 0
    finally:
        monkeypatch.undo()
        importlib.reload(module)
    db = tmp_path / "a.db"
    result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", f"{BASE}/events", "--revisit-after", "weekly"])
    assert result.exit_code == 2 and "--revisit-after must be a duration such as 7d" in one_sentence_error(result)
    result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", f"{BASE}/events", "-s", "REVISIT_AFTER=-2h"])
    assert result.exit_code == 2 and "REVISIT_AFTER must be a" in one_sentence_error(result)
    assert not db.exists()
    help_text = CliRunner().invoke(crawl, ["--help"]).output
    assert "--revisit-after" in help_text and "--revisit-after 0" in help_text
