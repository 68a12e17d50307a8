"""The downloader middlewares: hosts kept to the site, retries backing off, conditional requests from the archive."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import DownloadConnectionRefusedError, DownloadTimeoutError, NotConfigured
from scrapy.http import HtmlResponse, Response

from crawler.middlewares import (
    AllowedHostsMiddleware,
    AlreadyArchived,
    ArchiveMiddleware,
    BackoffRetryMiddleware,
    OffsiteRefused,
    SiteBreakerMiddleware,
    site_gone,
    spider_closing,
)
from crawler.pipelines import ArchiveWriter
from crawler.runs import CrawlRun
from dedupe.document import RawSnapshot
from tests.support.crawl import BASE, FakeCrawler, fake_crawler, replica_page


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


class BreakerCrawler(FakeCrawler):
    """A crawler whose engine has a queue and downloads in flight; its stats are kept."""

    def __init__(self, tmp_path: Path, queued: int = 0, in_flight: int = 0) -> None:
        super().__init__(tmp_path)
        values: dict = {}
        self.stats = SimpleNamespace(values=values, set_value=values.__setitem__)
        downloader = SimpleNamespace(active={object() for _ in range(in_flight)})
        self.engine = SimpleNamespace(_slot=SimpleNamespace(scheduler=[None] * queued), downloader=downloader)


def breaker(tmp_path: Path, **settings: object) -> tuple[SiteBreakerMiddleware, list[str]]:
    crawler = BreakerCrawler(tmp_path, queued=40, in_flight=3)
    for name, value in settings.items():
        crawler.settings.set(name, value)
    mw = SiteBreakerMiddleware.from_crawler(crawler)
    closed: list[str] = []
    mw.close_spider = closed.append  # type: ignore[method-assign]
    return mw, closed


REFUSED = DownloadConnectionRefusedError("Connection was refused by other side: 111: Connection refused.")


def test_the_site_dying_mid_crawl_stops_it_after_ten_pages_that_cannot_connect(tmp_path: Path) -> None:
    mw, closed = breaker(tmp_path)
    for n in range(9):
        assert mw.process_exception(Request(f"{BASE}/events/a{n}"), REFUSED) is None
    assert not closed
    last = Request(f"{BASE}/events/a9")
    mw.process_exception(last, DownloadTimeoutError("took longer than 5 seconds"))
    assert closed == ["site_unreachable"]
    run = CrawlRun.for_crawler(mw.crawler)
    assert run.ended_early == (
        "127.0.0.1:8000 stopped answering: 10 pages in a row could not connect (timed out, the last one) with no "
        "answer in between; the crawl stopped with 43 request(s) left unfetched, which the next run fetches"
    )
    assert run.conclude("site_unreachable") == "interrupted"  # resumable, exit status 1
    assert site_gone(mw.crawler)  # the retries in flight go back to the queue without their backoff wait


def test_one_flaky_page_an_answer_between_or_an_http_error_never_trips_it(tmp_path: Path) -> None:
    mw, closed = breaker(tmp_path)
    flaky = Request(f"{BASE}/events/flaky")
    for _ in range(50):  # one page failing every retry is one page
        mw.process_exception(flaky, REFUSED)
    for n in range(8):  # with the flaky one, 9 pages in a row
        mw.process_exception(Request(f"{BASE}/events/a{n}"), REFUSED)
    mw.process_response(Request(f"{BASE}/events/ok"), Response(f"{BASE}/events/ok", status=500))  # it answered
    for n in range(9):
        mw.process_exception(Request(f"{BASE}/events/b{n}"), REFUSED)
    for n in range(20):
        mw.process_exception(Request(f"{BASE}/events/c{n}"), ValueError("not a connection failure"))
    for n in range(9):  # another host's failures are its own streak
        mw.process_exception(Request(f"http://127.0.0.1:8001/events/d{n}"), REFUSED)
    assert closed == [] and not site_gone(mw.crawler)


def test_the_breaker_is_a_setting_and_0_turns_it_off(tmp_path: Path, monkeypatch) -> None:
    mw, closed = breaker(tmp_path, CRAWL_MAX_CONNECT_FAILURES=3)
    for n in range(3):
        mw.process_exception(Request(f"{BASE}/events/a{n}"), REFUSED)
    assert closed == ["site_unreachable"]
    with pytest.raises(NotConfigured):
        breaker(tmp_path, CRAWL_MAX_CONNECT_FAILURES=0)
    monkeypatch.setenv("PA_CRAWL_MAX_CONNECT_FAILURES", "25")
    import importlib

    from crawler import settings as project_settings

    try:
        assert importlib.reload(project_settings).CRAWL_MAX_CONNECT_FAILURES == 25
    finally:
        monkeypatch.delenv("PA_CRAWL_MAX_CONNECT_FAILURES")
        importlib.reload(project_settings)
    assert project_settings.CRAWL_MAX_CONNECT_FAILURES == 10


def test_a_retry_stops_waiting_when_the_spider_closes() -> None:
    """A retry waiting out a long Retry-After gives way to a close (Ctrl-C, SIGTERM): the engine waits for every
    request in progress, so the wait would hold the stop for up to RETRY_AFTER_MAX seconds."""
    from scrapy.core.engine import _Slot

    slot = _Slot(True, SimpleNamespace(schedule=lambda: None, cancel=lambda: None), None)  # Scrapy's own slot
    assert slot.closing is None  # what _Slot.close() replaces with a Deferred
    crawler = SimpleNamespace(engine=SimpleNamespace(_slot=slot))
    assert not spider_closing(crawler) and not spider_closing(SimpleNamespace(engine=None))
    slot.closing = object()
    assert spider_closing(crawler)
