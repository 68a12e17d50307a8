"""The downloader middlewares: hosts kept to the site, retries backing off, conditional requests from the archive."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response

from crawler.middlewares import (
    AllowedHostsMiddleware,
    AlreadyArchived,
    ArchiveMiddleware,
    BackoffRetryMiddleware,
    OffsiteRefused,
)
from crawler.pipelines import ArchiveWriter
from crawler.runs import CrawlRun
from dedupe.document import RawSnapshot
from tests.support.crawl import BASE, fake_crawler, replica_page


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
