"""The pacsto spider on saved pages (HtmlResponse objects): no network, no reactor.

Pages come from the replica's page builder (``ReplicaSite.respond``, no sockets) or are written
out here; they are the markup of shared/site.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.settings import Settings
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler import settings as project_settings
from crawler.items import PageFailure
from crawler.middlewares import AlreadyArchived, OffsiteRefused
from crawler.revisit import PageRecord, RevisitPolicy
from crawler.spiders.pacsto import (
    HostScope,
    PacstoSpider,
    canonical_url,
    clean_link,
    declared_charset,
    describe_failure,
    listing_params,
    listing_root,
    listing_url,
    page_type_of,
    snapshot_of,
)
from dedupe.document import RawSnapshot
from replica import ReplicaSite, site_state
from tests.support.revisit import NOW, WEEK, ago, seen

BASE = "http://127.0.0.1:8000"
FAULTS = ("flaky500", "slow", "truncated", "wrong_charset", "redirect_loop", "offsite_redirect", "calendar_trap")


def make_spider(**settings: object) -> PacstoSpider:
    spider = PacstoSpider(start_url=f"{BASE}/events")
    values = Settings()
    values.setmodule(project_settings)
    for name, value in settings.items():
        values.set(name, value)
    spider.configure(values)
    return spider


def page(
    path: str,
    epoch: int = 1,
    lang: str = "en",
    faults: tuple[str, ...] = (),
    markup: str = "header",
    headers: dict | None = None,
) -> HtmlResponse:
    """The replica's answer for ``path`` as Scrapy would hand it to a callback."""
    site = ReplicaSite(lang=lang, block_markup=markup, faults=faults)
    answer = site.respond("GET", path, headers or {}, epoch, BASE)
    url = BASE + path
    request = Request(url, meta={"page_type": page_type_of(url)})
    return HtmlResponse(url=url, status=answer.status, headers=dict(answer.headers), body=answer.body, request=request)


def split(results: list) -> tuple[list, list[Request]]:
    items = [r for r in results if not isinstance(r, Request)]
    return items, [r for r in results if isinstance(r, Request)]


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "url, kind",
    [
        (f"{BASE}/events", "listing"),
        (f"{BASE}/events?page=3", "listing"),
        (f"{BASE}/events?month=7&year=2013&page=1", "listing"),
        (f"{BASE}/events/erlan-koshanov-kazahstan-budet-delat-vse-vozmozhnoe", "article"),
        (f"{BASE}/events/slug-0b8f1c4e-7d3a-4c52-9a43-6f1e2d3c4b5a/", "article"),
        (f"{BASE}/countries/republic-of-tajikistan", "country"),
        (f"{BASE}/events/a/b", None),
        (f"{BASE}/contacts", None),
        (f"{BASE}/uploads/ckeditor/pictures/1/content_x.jpg", None),
    ],
)
def test_page_type_of(url: str, kind: str | None) -> None:
    assert page_type_of(url) == kind


def test_listing_urls() -> None:
    assert listing_params(f"{BASE}/events") == (1, None, None)
    assert listing_params(f"{BASE}/events?month=7&year=2013&page=2") == (2, 7, 2013)
    assert listing_url(f"{BASE}/events", 2) == f"{BASE}/events?page=2"
    assert listing_url(f"{BASE}/events?page=4", 1, 7, 2013) == f"{BASE}/events?month=7&year=2013&page=1"
    assert listing_root(f"{BASE}/events?page=1#top") == f"{BASE}/events"


def test_scope_is_the_start_hosts_their_www_twins_and_ports() -> None:
    scope = HostScope.from_urls(["https://pacsto.org/events", "https://paodkb.org/events", f"{BASE}/events"])
    for url in (
        "https://pacsto.org/events/x",
        "http://www.pacsto.org/events",
        "https://www.paodkb.org/",
        "https://pacsto.org:443/events",
        f"{BASE}/countries/x",
    ):
        assert scope.allows(url), url
    for url in (
        "https://example.org/",
        "https://evil.pacsto.org.example.com/",
        "https://pacsto.org:8443/",
        "http://127.0.0.1:8001/events",
        "http://localhost:8000/events",
        "ftp://pacsto.org/x",
        "file:///etc/passwd",
        "data:text/html,<p>x</p>",
        "javascript:alert(1)",
        "mailto:pa@pacsto.org",
        "http://127.0.0.1/events",
        "https://sub.pacsto.org/",
    ):
        assert not scope.allows(url), url
    with pytest.raises(ValueError):
        HostScope.from_urls(["file:///tmp/events"])


def test_links_outside_the_scope_or_http_are_never_followed() -> None:
    body = b"""<html><body><main>
      <a href="/events/kept-one">ok</a> <a href="../events/kept-two#frag">ok</a>
      <a href="https://example.org/events/x">offsite</a> <a href="//evil.example/events/y">offsite</a>
      <a href="http://127.0.0.1:9999/events/z">other port</a>
      <a href="javascript:void(0)">js</a> <a href="mailto:x@pacsto.org">mail</a>
      <a href="data:text/html,hi">data</a> <a href="file:///etc/passwd">file</a> <a href="ftp://127.0.0.1:8000/x">ftp</a>
      <a href="#top">fragment</a> <a href="">empty</a>
    </main></body></html>"""
    response = HtmlResponse(url=f"{BASE}/events/here", body=body, encoding="utf-8")
    scope = HostScope.from_urls([f"{BASE}/events"])
    links = {clean_link(response, href, scope) for href in response.css("a::attr(href)").getall()} - {None}
    assert links == {f"{BASE}/events/kept-one", f"{BASE}/events/kept-two"}
    spider = make_spider()
    _, requests = split(list(spider.parse(response)))
    assert {r.url for r in requests} == links


def test_a_link_with_a_bad_port_is_dropped_alone_not_with_the_page_s_other_links() -> None:
    body = b"""<html><body><main>
      <a href="https://pacsto.org/events/before">ok</a>
      <a href="https://pacsto.org:99999/">port out of range</a> <a href="https://pacsto.org:abc/">port not a number</a>
      <a href="https://pacsto.org:99999/events/x">port out of range</a>
      <a href="/events/after">ok</a> <a href="/countries/kyrgyz-republic">ok</a>
    </main></body></html>"""
    response = HtmlResponse(url="https://pacsto.org/events/here", body=body, encoding="utf-8")
    scope = HostScope.from_urls(["https://pacsto.org/events"])
    for bad in ("https://pacsto.org:99999/", "https://pacsto.org:abc/", "http://[::1/x"):
        assert clean_link(response, bad, scope) is None
    spider = PacstoSpider(start_url="https://pacsto.org/events")
    _, requests = split(list(spider.parse(response)))
    assert [r.url for r in requests] == [
        "https://pacsto.org/events/before",
        "https://pacsto.org/events/after",
        "https://pacsto.org/countries/kyrgyz-republic",
    ]


def test_links_are_canonical_so_a_page_has_one_url_history() -> None:
    response = HtmlResponse(url="https://pacsto.org/events?page=2", body=b"<html></html>", encoding="utf-8")
    scope = HostScope.from_urls(["https://pacsto.org/events", f"{BASE}/events"])
    same = [
        "https://pacsto.org/events/x",
        "https://pacsto.org:443/events/x",
        "HTTPS://PacSTO.org:443/events/x#top",
        "https://user@pacsto.org/events/x",
        "/events/x",
        "//PACSTO.ORG/events/x",
    ]
    assert {clean_link(response, href, scope) for href in same} == {"https://pacsto.org/events/x"}
    assert clean_link(response, "http://pacsto.org:80/events/x", scope) == "http://pacsto.org/events/x"
    assert clean_link(response, "https://pacsto.org", scope) == "https://pacsto.org/"
    # the query is kept, in its order: the calendar's month, year and page
    assert (
        clean_link(response, "/events?month=7&year=2013&page=2", scope)
        == "https://pacsto.org/events?month=7&year=2013&page=2"
    )
    assert clean_link(response, "?page=3", scope) == "https://pacsto.org/events?page=3"
    assert clean_link(response, "http://127.0.0.1:8000/events?page=2", scope) == f"{BASE}/events?page=2"
    assert canonical_url("https://PACSTO.org:443/events") == "https://pacsto.org/events"
    with pytest.raises(ValueError):
        canonical_url("https://pacsto.org:99999/")
    landed = HtmlResponse(url="https://PACSTO.org:443/events/x", body=b"<html></html>", encoding="utf-8")
    assert snapshot_of(landed, "article").url == "https://pacsto.org/events/x"  # where a redirect led
    spider = PacstoSpider(start_urls="https://PACSTO.org:443/events")
    assert [r.url for r in spider.initial_requests()][:2] == [
        "https://pacsto.org/events",
        "https://pacsto.org/sitemap.xml",
    ]


@pytest.mark.parametrize(
    "url, canonical",
    [
        ("https://pacsto.org/events/x?n=1", "https://pacsto.org/events/x"),
        ("https://pacsto.org/events/x/?utm_source=a&n=2#top", "https://pacsto.org/events/x/"),
        (
            "https://pacsto.org/countries/republic-of-tajikistan?sort=1",
            "https://pacsto.org/countries/republic-of-tajikistan",
        ),
        ("https://pacsto.org/events?page=2&session=abc", "https://pacsto.org/events?page=2"),
        (
            "https://pacsto.org/events?month=7&x=1&year=2013&page=2&page=9",
            "https://pacsto.org/events?month=7&year=2013&page=2",
        ),
        ("https://pacsto.org/sitemap.xml?v=2", "https://pacsto.org/sitemap.xml?v=2"),  # no known kind: as written
    ],
)
def test_canonical_url_keeps_only_the_query_a_page_kind_has(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_query_string_trap_is_one_article_not_a_chain() -> None:
    """A page that links ``?n=2`` from ``?n=1`` of the same article yields no new page (gap 1)."""
    spider = make_spider()
    chain = "".join(f'<a href="/events/trap?n={n}">more</a>' for n in range(2, 12))
    body = f"<html><body><h1>Trap</h1>{chain}<a href='/events/other?ref=x'>o</a></body></html>".encode()
    response = HtmlResponse(
        url=f"{BASE}/events/trap?n=1", body=body, encoding="utf-8", request=Request(f"{BASE}/events/trap?n=1")
    )
    items, requests = split(list(spider.parse(response)))
    assert items[0].url == f"{BASE}/events/trap"
    assert sorted(r.url for r in requests) == [f"{BASE}/events/other", f"{BASE}/events/trap"]


def test_declared_charset_is_taken_as_written() -> None:
    assert declared_charset("text/html; charset=iso-8859-1") == "iso-8859-1"
    assert declared_charset('text/html; charset="UTF-8"') == "UTF-8"
    assert declared_charset("text/html") is None and declared_charset(None) is None


# --------------------------------------------------------------------------- callbacks


def test_listing_page_yields_its_snapshot_its_articles_countries_and_the_next_page() -> None:
    spider = make_spider()
    response = page("/events")
    items, requests = split(list(spider.parse(response)))
    (item,) = items
    assert isinstance(item, RawSnapshot) and item.source == "crawl"
    assert (item.url, item.page_type, item.http_status, item.body) == (f"{BASE}/events", "listing", 200, response.body)
    assert item.declared_charset == "utf-8" and item.headers["Etag"].startswith('"')
    assert datetime.strptime(item.observed_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) <= datetime.now(
        timezone.utc
    )
    listed = [a.path for a in site_state("en", 1).articles[:6]]
    by_type: dict = {}
    for request in requests:
        by_type.setdefault(request.meta["page_type"], []).append(request.url)
        assert request.meta["handle_httpstatus_list"] == [304, 404, 410]
        assert request.callback == spider.parse and request.errback == spider.failed
    assert by_type["article"] == [BASE + path for path in listed]
    assert len(by_type["country"]) == 5
    # the next page is computed (pagination links are not followed); the menu's /events is the start page
    assert by_type["listing"] == [f"{BASE}/events", f"{BASE}/events?page=2"]


def test_listing_ends_at_the_empty_page() -> None:
    spider = make_spider()
    pages = -(-len(site_state("en", 1).articles) // 6)
    for number in range(1, pages + 1):
        _, requests = split(list(spider.parse(page(f"/events?page={number}"))))
        assert f"{BASE}/events?page={number + 1}" in {r.url for r in requests}
    items, requests = split(list(spider.parse(page(f"/events?page={pages + 1}"))))
    assert items[0].page_type == "listing" and items[0].http_status == 200
    assert not [r for r in requests if listing_params(r.url)[0] > 1]


def test_a_listing_that_only_repeats_seen_articles_ends_too() -> None:
    spider = make_spider()
    list(spider.parse(page("/events?page=1")))
    _, requests = split(list(spider.parse(page("/events?page=1"))))  # same items again (the site shifted?)
    assert not [r for r in requests if listing_params(r.url)[0] > 1]


def listing_page(url: str, articles: list[str]) -> HtmlResponse:
    """A listing (or calendar month) page in the site's markup listing these article paths."""
    items = "".join(f'<div class="events__item"><a href="{path}">{path}</a></div>' for path in articles)
    body = f'<html><body><div class="events"><div class="events__content">{items}</div></div></body></html>'
    return HtmlResponse(
        url=url, body=body.encode(), encoding="utf-8", request=Request(url, meta={"page_type": "listing"})
    )


def next_pages(spider: PacstoSpider, response: HtmlResponse) -> set[str]:
    _, requests = split(list(spider.parse(response)))
    return {r.url for r in requests if listing_params(r.url)[0] > 1}


def test_each_listing_and_calendar_month_ends_on_its_own_whatever_order_pages_arrive_in() -> None:
    first = [f"/events/news-{n}" for n in range(6)]
    october, november = first[:3], first[3:]
    listing = f"{BASE}/events?page=1"
    month = f"{BASE}/events?month=10&year=2025&page=1"
    other_month = f"{BASE}/events?month=11&year=2025&page=1"
    # the calendar months arrive first and list every article of the news list's first page...
    spider = make_spider()
    assert next_pages(spider, listing_page(month, october)) == {f"{BASE}/events?month=10&year=2025&page=2"}
    assert next_pages(spider, listing_page(other_month, november)) == {f"{BASE}/events?month=11&year=2025&page=2"}
    # ...which still goes on to page 2: those articles are new to it
    assert next_pages(spider, listing_page(listing, first)) == {f"{BASE}/events?page=2"}
    # the other way round: the news list first, then a month listing only articles it has seen
    spider = make_spider()
    assert next_pages(spider, listing_page(listing, first)) == {f"{BASE}/events?page=2"}
    assert next_pages(spider, listing_page(month, october)) == {f"{BASE}/events?month=10&year=2025&page=2"}
    # a sequence still ends when its own page repeats what it has seen
    assert next_pages(spider, listing_page(f"{BASE}/events?page=2", first)) == set()
    assert next_pages(spider, listing_page(f"{BASE}/events?month=10&year=2025&page=2", october)) == set()


def test_the_two_hosts_listings_do_not_end_each_other() -> None:
    spider = PacstoSpider(start_urls=f"{BASE}/events,http://127.0.0.1:8001/events")
    paths = [f"/events/news-{n}" for n in range(6)]
    # the same absolute links on both hosts' pages (a site linking its twin): each host's listing is its own
    absolute = [f"{BASE}{p}" for p in paths]
    assert next_pages(spider, listing_page(f"{BASE}/events", absolute)) == {f"{BASE}/events?page=2"}
    assert next_pages(spider, listing_page("http://127.0.0.1:8001/events", absolute)) == {
        "http://127.0.0.1:8001/events?page=2"
    }


def test_article_page_snapshot_keeps_the_raw_bytes_and_follows_country_pages() -> None:
    spider = make_spider()
    article = site_state("en", 1).articles[0]
    response = page(article.path)
    items, requests = split(list(spider.parse(response)))
    assert items[0].body == response.body and items[0].page_type == "article"
    assert {r.meta["page_type"] for r in requests} <= {"country", "listing"}
    assert f"{BASE}/events" in {r.url for r in requests}  # the news list, from the menu


def test_not_modified_and_removed_pages_carry_no_body() -> None:
    spider = make_spider()
    path = site_state("en", 1).articles[0].path
    etag = page(path).headers["ETag"].decode()
    not_modified = page(path, headers={"If-None-Match": etag})
    assert not_modified.status == 304
    items, requests = split(list(spider.parse(not_modified)))
    assert (items[0].http_status, items[0].body) == (304, None) and requests == []
    # ArchiveMiddleware answers a 304 with the archived body: its links are followed, still no body stored
    archived = HtmlResponse(
        url=not_modified.url,
        status=304,
        headers=not_modified.headers,
        body=page(path).body,
        encoding="utf-8",
        request=not_modified.request,
    )
    items, requests = split(list(spider.parse(archived)))
    assert (items[0].http_status, items[0].body) == (304, None) and requests
    removed = page("/events/no-such-article")
    assert removed.status == 404
    items, requests = split(list(spider.parse(removed)))
    assert (items[0].http_status, items[0].body, items[0].page_type) == (404, None, "article") and requests == []


def test_wrong_declared_charset_passes_the_raw_utf8_bytes_and_the_header_as_written() -> None:
    spider = make_spider()
    response = page("/events/fault-wrong-charset", faults=FAULTS)
    (item,), _ = split(list(spider.parse(response)))
    assert item.declared_charset == "iso-8859-1"
    assert "Парламентская Ассамблея".encode() in item.body  # decoding is the archive's job


def test_calendar_trap_is_bounded_by_date_and_by_page_count() -> None:
    spider = make_spider(CALENDAR_MAX_PAGES=3)
    _, requests = split(list(spider.parse(page("/events", faults=FAULTS))))
    months = [r for r in requests if listing_params(r.url)[1] is not None]
    assert len(months) == 1
    followed = []
    frontier = months
    while frontier:
        request = frontier.pop()
        followed.append(request.url)
        path = request.url.removeprefix(BASE)
        _, more = split(list(spider.parse(page(path, faults=FAULTS))))
        frontier += [r for r in more if listing_params(r.url)[1] is not None]
    assert len(followed) == 3  # the budget, though every month links the one before, forever


def test_calendar_never_goes_before_the_first_news() -> None:
    spider = make_spider()
    assert spider.calendar_allows(7, 2013) and not spider.calendar_allows(6, 2013)
    assert not spider.calendar_allows(12, 1)
    now = datetime.now(timezone.utc)
    assert not spider.calendar_allows(now.month, now.year + 1) and not spider.calendar_allows(13, 2020)
    _, requests = split(list(spider.parse(page("/events?month=7&year=2013&page=1", faults=FAULTS))))
    assert not [r for r in requests if listing_params(r.url)[1:] == (6, 2013)]


def test_sitemap_gives_article_and_country_pages_in_scope() -> None:
    spider = make_spider()
    site = ReplicaSite()
    answer = site.respond("GET", "/sitemap.xml", {}, 1, BASE)
    response = Response(url=f"{BASE}/sitemap.xml", body=answer.body)
    requests = list(spider.parse_sitemap(response))
    kinds = {r.meta["page_type"] for r in requests}
    assert kinds == {"article", "country"}
    assert len(requests) == len(site_state("en", 1).articles) + 5
    offsite = Response(
        url=f"{BASE}/sitemap.xml",
        body=b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/'
        b'schemas/sitemap/0.9"><url><loc>https://example.org/events/x</loc></url></urlset>',
    )
    assert list(spider.parse_sitemap(offsite)) == []


def test_start_requests_are_the_start_urls_then_the_sitemap() -> None:
    spider = PacstoSpider(start_urls=f"{BASE}/events,http://127.0.0.1:8001/events")
    requests = list(spider.initial_requests())
    assert [r.url for r in requests] == [
        f"{BASE}/events",
        "http://127.0.0.1:8001/events",
        f"{BASE}/sitemap.xml",
        "http://127.0.0.1:8001/sitemap.xml",
    ]
    assert spider.allowed_domains == ["127.0.0.1"]
    assert PacstoSpider().start_urls == [] and make_spider().start_urls == [f"{BASE}/events"]


def test_start_is_the_only_way_in() -> None:
    import asyncio

    # Scrapy >= 2.13 iterates start(); the project needs >= 2.19, so a start_requests() would be dead code
    assert "start_requests" not in PacstoSpider.__dict__
    spider = PacstoSpider(start_url=f"{BASE}/events")

    async def collect() -> list[str]:
        return [request.url async for request in spider.start()]

    assert (
        asyncio.run(collect())
        == [r.url for r in spider.initial_requests()]
        == [f"{BASE}/events", f"{BASE}/sitemap.xml"]
    )


# --------------------------------------------------------------------------- failures


def failure_of(exc: Exception, url: str = f"{BASE}/events/x", **meta: object) -> Failure:
    failure = Failure(exc)
    failure.request = Request(url, meta={"page_type": "article", **meta})
    return failure


def test_failures_become_one_sentence_per_page() -> None:
    from scrapy.exceptions import DownloadTimeoutError, ResponseDataLossError

    spider = make_spider()
    spider.crawler = type("C", (), {"stats": type("S", (), {"inc_value": lambda *a, **k: None})()})()
    response = HtmlResponse(url=f"{BASE}/events/x", status=500, body=b"", request=Request(f"{BASE}/events/x"))
    cases = [
        (HttpError(response, "Ignoring non-200 response"), {"retry_times": 3}, "HTTP 500 (after 3 retries)"),
        (DownloadTimeoutError("took longer than 1.0 seconds"), {"retry_times": 1}, "timed out (after 1 retry)"),
        (ResponseDataLossError(), {}, "truncated body: the connection closed before the announced length"),
    ]
    for exc, meta, expected in cases:
        (item,) = list(spider.failed(failure_of(exc, **meta)))
        assert isinstance(item, PageFailure) and (item.url, item.error) == (f"{BASE}/events/x", expected)
    offsite = failure_of(
        OffsiteRefused("refused to leave the allowed hosts: http://example.invalid/"),
        "http://example.invalid/",
        redirect_urls=[f"{BASE}/events/moved"],
    )
    (item,) = list(spider.failed(offsite))
    assert item.url == f"{BASE}/events/moved" and "refused" in item.error
    assert list(spider.failed(failure_of(AlreadyArchived("stored")))) == []
    assert list(spider.failed(failure_of(IgnoreRequest("Forbidden by robots.txt")))) == []
    assert describe_failure(failure_of(ValueError("odd"))) == "ValueError: odd"


def test_snapshot_of_a_redirected_page_is_filed_under_where_it_landed() -> None:
    response = HtmlResponse(
        url=f"{BASE}/events/new-slug",
        body=b"<html><body><p>x</p></body></html>",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    raw = snapshot_of(response, "article")  # the archive's record as it is: the run sets its origin
    assert (raw.url, raw.source, raw.origin, raw.http_status, raw.declared_charset, raw.page_type) == (
        f"{BASE}/events/new-slug",
        "crawl",
        None,
        200,
        "utf-8",
        "article",
    )


# --------------------------------------------------------------------------- the spider with an archive behind it


def archived_spider(records: dict[str, PageRecord], revisit_after: str = "7d", **settings: object) -> PacstoSpider:
    spider = make_spider(REVISIT_AFTER=revisit_after, **settings)
    spider.policy = RevisitPolicy(spider.revisit_after, records, NOW, use_lastmod=spider.sitemap_lastmod)
    return spider


def epoch_1_records(when: datetime) -> dict[str, PageRecord]:
    """An archive that crawled the replica's epoch 1 at ``when``: every article, listing and country page."""
    state = site_state("en", 1)
    records = {BASE + a.path: seen(when) for a in state.articles}
    records |= {f"{BASE}/events?page={n}": seen(when, "listing") for n in range(2, 7)}
    records[f"{BASE}/events"] = seen(when, "listing")
    _, requests = split(list(make_spider().parse(page("/events"))))
    records |= {r.url: seen(when, "country") for r in requests if r.meta["page_type"] == "country"}
    return records


def test_settings_give_the_spider_its_revisit_policy() -> None:
    assert make_spider().revisit_after == WEEK  # the project's default
    assert make_spider(REVISIT_AFTER="36h").revisit_after == 129600 and make_spider(REVISIT_AFTER=0).revisit_after == 0
    assert PacstoSpider(start_url=f"{BASE}/events").policy.records == {}  # no archive: everything is new
    with pytest.raises(ValueError, match="REVISIT_AFTER"):
        make_spider(REVISIT_AFTER="weekly")
    assert project_settings.REVISIT_AFTER == "7d" and project_settings.SITEMAP_LASTMOD is True
    values = Settings()
    values.setmodule(project_settings)
    values.set("REVISIT_AFTER", "weekly")
    errors = project_settings.setting_errors(values)
    assert errors == ["REVISIT_AFTER must be a duration such as 7d, 12h, 30m or a number of seconds, not 'weekly'."]


def test_an_unchanged_first_listing_page_requests_nothing_more_when_all_is_archived_and_recent() -> None:
    spider = archived_spider(epoch_1_records(ago(days=1)))
    for response in (page("/events"), archived_304(page("/events"))):  # a 200, or a 304 read from the archive
        spider._listed.clear()
        items, requests = split(list(spider.parse(response)))
        assert len(items) == 1 and [r.url for r in requests] == [f"{BASE}/events"], [r.url for r in requests]


def archived_304(response: HtmlResponse) -> HtmlResponse:
    """What ArchiveMiddleware hands the spider for a 304: the archived body, status 304."""
    return HtmlResponse(
        url=response.url,
        status=304,
        headers=response.headers,
        body=response.body,
        encoding="utf-8",
        request=response.request,
    )


def test_a_new_article_on_the_first_page_is_fetched_and_the_listing_read_on_to_the_next_page() -> None:
    records = epoch_1_records(ago(days=1))
    newest = BASE + site_state("en", 1).articles[0].path
    del records[newest]  # the site published it since the last run
    spider = archived_spider(records)
    _, requests = split(list(spider.parse(page("/events"))))
    assert {r.url for r in requests} == {newest, f"{BASE}/events", f"{BASE}/events?page=2"}
    # page 2 lists only archived articles and page 3 was read a day ago: the walk stops there
    _, requests = split(list(spider.parse(page("/events?page=2"))))
    assert {r.url for r in requests} == {f"{BASE}/events"}


def test_the_listing_is_read_on_when_its_next_page_is_due_and_everything_when_revisit_after_is_0() -> None:
    records = epoch_1_records(ago(days=1))
    records[f"{BASE}/events?page=2"] = seen(ago(days=8), "listing")
    spider = archived_spider(records)
    _, requests = split(list(spider.parse(page("/events"))))
    assert {r.url for r in requests} == {f"{BASE}/events", f"{BASE}/events?page=2"}
    spider = archived_spider(epoch_1_records(ago(minutes=1)), revisit_after="0")  # the old behaviour
    _, requests = split(list(spider.parse(page("/events"))))
    assert {r.meta["page_type"] for r in requests} == {"article", "country", "listing"}
    assert f"{BASE}/events?page=2" in {r.url for r in requests} and len(requests) == 6 + 5 + 2


def test_due_archived_pages_are_requested_from_links_and_counted_when_not() -> None:
    records = epoch_1_records(ago(days=1))
    due = BASE + site_state("en", 1).articles[2].path
    records[due] = seen(ago(days=10))
    spider = archived_spider(records)
    stats: dict[str, int] = {}
    spider.crawler = SimpleCrawler(stats)
    _, requests = split(list(spider.parse(page("/events"))))
    assert [r.url for r in requests if r.meta["page_type"] == "article"] == [due]
    assert stats["pacsto/not_due"] == 5 + 5 and stats["pacsto/listing_stopped_archived"] == 1


class SimpleCrawler:
    """Just the stats a spider counts into."""

    def __init__(self, stats: dict[str, int]) -> None:
        self.stats = type(
            "Stats",
            (),
            {
                "inc_value": lambda _, key, n=1: stats.__setitem__(key, stats.get(key, 0) + n),
                "set_value": lambda _, key, value: stats.__setitem__(key, value),
            },
        )()


def sitemap_response(entries: list[tuple[str, str | None]]) -> Response:
    urls = "".join(
        f"<url><loc>{BASE}{path}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</url>" for path, mod in entries
    )
    body = f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    return Response(url=f"{BASE}/sitemap.xml", body=body.encode())


def test_the_sitemap_gives_new_due_and_lastmod_changed_pages_only() -> None:
    records = {f"{BASE}/events/{name}": seen(ago(days=1)) for name in ("same", "edited", "undated", "today")}
    records[f"{BASE}/events/old"] = seen(ago(days=9))
    records[f"{BASE}/events/today"] = seen(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc))
    entries = [
        ("/events/same", "2026-11-01"),
        ("/events/edited", (NOW - timedelta(hours=2)).isoformat()),
        ("/events/undated", None),
        ("/events/old", "2020-01-01"),
        ("/events/brand-new", None),
        ("/events/today", "2026-11-23"),
    ]  # a bare date: it may have changed after 01:00 that day
    spider = archived_spider(records)
    requested = [r.url.removeprefix(BASE) for r in spider.parse_sitemap(sitemap_response(entries))]
    assert requested == ["/events/edited", "/events/old", "/events/brand-new", "/events/today"]
    spider = archived_spider(records, SITEMAP_LASTMOD=False)  # a site whose lastmod always says "now"
    requested = [r.url.removeprefix(BASE) for r in spider.parse_sitemap(sitemap_response(entries))]
    assert requested == ["/events/old", "/events/brand-new"]


def test_the_replica_sitemap_lastmod_is_the_publication_date_so_nothing_archived_is_asked_for_again() -> None:
    spider = archived_spider(epoch_1_records(ago(days=1)))
    answer = ReplicaSite().respond("GET", "/sitemap.xml", {}, 1, BASE)
    assert b"<lastmod>" in answer.body
    assert list(spider.parse_sitemap(Response(url=f"{BASE}/sitemap.xml", body=answer.body))) == []


def test_the_first_requests_are_the_start_page_the_sitemap_then_the_due_pages() -> None:
    records = epoch_1_records(ago(days=1))
    old = [BASE + a.path for a in site_state("en", 1).articles[-2:]]
    records[old[0]] = seen(ago(days=8))
    records[old[1]] = seen(ago(days=20))
    records[f"{BASE}/events/elsewhere".replace("8000", "8001")] = seen(ago(days=20))  # not this crawl's host
    spider = archived_spider(records)
    requests = list(spider.initial_requests())
    assert [r.url for r in requests] == [f"{BASE}/events", f"{BASE}/sitemap.xml", old[1], old[0]]
    assert [r.priority for r in requests[2:]] == [-10, -10]
    spider = archived_spider(records, REVISIT_ARCHIVED=False)
    assert [r.url for r in spider.initial_requests()] == [f"{BASE}/events", f"{BASE}/sitemap.xml"]


# --------------------------------------------------------------------------- sitemap bounds: depth, count, size


def sitemap_index(*locs: str) -> bytes:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{items}</sitemapindex>'.encode()


def test_nested_sitemap_indexes_stop_at_their_depth_and_count() -> None:
    spider = make_spider(SITEMAP_MAX_DEPTH=2, SITEMAP_MAX_FILES=5)
    spider._sitemaps_requested = 1  # sitemap.xml itself
    deep = Response(
        url=f"{BASE}/sitemap-2.xml",
        body=sitemap_index(f"{BASE}/sitemap-3.xml"),
        request=Request(f"{BASE}/sitemap-2.xml", meta={"sitemap_depth": 2}),
    )
    assert list(spider.parse_sitemap(deep)) == []  # a third level is not read
    wide = Response(
        url=f"{BASE}/sitemap.xml",
        body=sitemap_index(*(f"{BASE}/s{i}.xml" for i in range(100))),
        request=Request(f"{BASE}/sitemap.xml"),
    )
    requests = list(spider.parse_sitemap(wide))
    assert len(requests) == 4 and all(r.meta["sitemap_depth"] == 1 for r in requests)
    assert list(spider.parse_sitemap(wide)) == []  # the run's budget is spent


def test_a_gzipped_sitemap_is_read_and_a_gzip_bomb_is_not() -> None:
    import gzip

    spider = make_spider(DOWNLOAD_MAXSIZE=100_000)
    xml = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{BASE}/events/from-a-gzipped-sitemap</loc></url></urlset>"
    ).encode()
    packed = Response(url=f"{BASE}/sitemap.xml.gz", body=gzip.compress(xml))
    assert [r.url for r in spider.parse_sitemap(packed)] == [f"{BASE}/events/from-a-gzipped-sitemap"]
    bomb = Response(url=f"{BASE}/sitemap.xml.gz", body=gzip.compress(xml[:-10] + b" " * 1_000_000 + xml[-10:]))
    assert list(spider.parse_sitemap(bomb)) == []  # unpacked to no more than DOWNLOAD_MAXSIZE, then ignored
