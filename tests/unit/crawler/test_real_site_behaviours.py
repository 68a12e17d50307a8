"""What the real pacsto.org / paodkb.org would do that the replica does not: several spellings of one page's
URL (www. or not, http or https; the path as written), redirects between them,
an article redirected to the home page, Retry-After on 429/503, and sitemaps named only in robots.txt.

Saved responses (HtmlResponse objects) and the middlewares on their own: no network, no reactor.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from crawler.middlewares import BackoffRetryMiddleware, retry_after_seconds
from crawler.spiders.pacsto import PacstoSpider, canonical_url
from dedupe.document import RawSnapshot

EN = "https://pacsto.org"
RU = "https://paodkb.org"


def html(url: str, links: list[str], redirected_from: str | None = None, page_type: str | None = None) -> HtmlResponse:
    body = "".join(f'<a href="{href}">x</a>' for href in links)
    meta = {"page_type": page_type} if page_type else {}
    if redirected_from:
        meta["redirect_urls"] = [redirected_from]
    return HtmlResponse(
        url=url,
        body=f"<html><body><main>{body}</main></body></html>".encode(),
        encoding="utf-8",
        request=Request(url, meta=meta),
    )


def requested(spider: PacstoSpider, response: HtmlResponse) -> list[str]:
    return [r.url for r in spider.parse(response) if isinstance(r, Request)]


# --------------------------------------------------------------------------- one URL per page


def test_a_path_is_kept_as_written_so_an_archived_page_keeps_its_url() -> None:
    """The archive keys a page's history by its URL: a trailing slash or the case of an escape spelled otherwise
    than the archive holds it would file the page's next observation under a new URL (its revisit under the old
    one, for ever). The real slugs are ASCII transliterations linked as /events/<slug> (shared/site.md)."""
    assert canonical_url(f"{EN}/events/x/?utm_source=tg#top") == f"{EN}/events/x/"
    assert canonical_url(f"{RU}/events/%d0%bd%d0%b0") == f"{RU}/events/%d0%bd%d0%b0"
    assert canonical_url(f"{RU}/events/на") == f"{RU}/events/%D0%BD%D0%B0"  # raw Cyrillic is escaped (w3lib)
    assert canonical_url(f"{EN}/events/a%2fb") == f"{EN}/events/a%2fb"


def test_a_page_linking_one_article_over_both_hosts_and_schemes_requests_it_once() -> None:
    spider = PacstoSpider(start_url=f"{RU}/events")
    links = [
        "/events/novosti-dnya",
        "http://www.paodkb.org/events/novosti-dnya",
        "https://www.paodkb.org:443/events/novosti-dnya#comments",
        "https://paodkb.org/events/novosti-dnya?utm_source=tg",
    ]
    article = [u for u in requested(spider, html(f"{RU}/events/other", links)) if "/events/" in u]
    assert article == [f"{RU}/events/novosti-dnya"]


def test_an_https_link_is_never_fetched_over_http() -> None:
    """A crawl started at http:// writes the twin's links with its host, but an https link keeps https: writing it
    as http would be the downgrade the redirect middleware refuses."""
    spider = PacstoSpider(start_url="http://pacsto.org/events")
    links = ["https://pacsto.org/events/a", "https://www.pacsto.org/events/b", "http://www.pacsto.org/events/c"]
    assert requested(spider, html("http://pacsto.org/events/x", links)) == [
        "https://pacsto.org/events/a",
        "https://pacsto.org/events/b",
        "http://pacsto.org/events/c",
    ]


# --------------------------------------------------------------------------- www., http and redirects between them


def test_links_to_the_www_twin_or_over_http_are_written_as_the_start_url_is() -> None:
    spider = PacstoSpider(start_urls=f"{EN}/events,{RU}/events")
    links = ["http://www.pacsto.org/events/a", "https://www.pacsto.org/countries/b", "http://paodkb.org/events/c"]
    assert requested(spider, html(f"{EN}/events/x", links)) == [
        f"{EN}/events/a",
        f"{EN}/countries/b",
        f"{RU}/events/c",  # the other site keeps its own host: the twins are pacsto.org and www.pacsto.org only
    ]


def test_a_redirect_to_the_www_twin_teaches_the_spider_to_write_www() -> None:
    spider = PacstoSpider(start_url=f"{EN}/events")
    landed = html("https://www.pacsto.org/events", ["/events/a", f"{EN}/events/b"], redirected_from=f"{EN}/events")
    urls = requested(spider, landed)
    assert "https://www.pacsto.org/events/a" in urls and "https://www.pacsto.org/events/b" in urls
    assert not [u for u in urls if u.startswith(f"{EN}/")]  # never once through the redirect again
    # the sitemap's absolute locs too
    xml = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{EN}/events/c</loc></url></urlset>"
    ).encode()
    sitemap = Response(url=f"{EN}/sitemap.xml", body=xml, request=Request(f"{EN}/sitemap.xml"))
    assert [r.url for r in spider.parse_sitemap(sitemap)] == ["https://www.pacsto.org/events/c"]


def test_a_redirect_that_moves_the_page_does_not_change_how_the_host_is_written() -> None:
    spider = PacstoSpider(start_url=f"{EN}/events")
    moved = html("https://www.pacsto.org/events/new-slug", ["/events/a"], redirected_from=f"{EN}/events/old-slug")
    assert f"{EN}/events/a" in requested(spider, moved)


def test_an_http_start_url_learns_https_from_the_site_s_redirect() -> None:
    spider = PacstoSpider(start_url="http://pacsto.org/events")
    landed = html(f"{EN}/events", ["http://pacsto.org/events/a"], redirected_from="http://pacsto.org/events")
    assert f"{EN}/events/a" in requested(spider, landed)


def test_an_article_redirected_to_the_home_page_is_not_filed_as_an_article() -> None:
    spider = PacstoSpider(start_url=f"{EN}/events")
    home = html(f"{EN}/", ["/events/a"], redirected_from=f"{EN}/events/removed", page_type="article")
    (snapshot,) = [i for i in spider.parse(home) if isinstance(i, RawSnapshot)]
    assert (snapshot.url, snapshot.page_type) == (f"{EN}/", "other")  # no kind, reached through a redirect
    renamed = html(f"{EN}/events/new", [], redirected_from=f"{EN}/events/old", page_type="article")
    (snapshot,) = [i for i in spider.parse(renamed) if isinstance(i, RawSnapshot)]
    assert snapshot.page_type == "article"
    not_redirected = html(f"{EN}/", [], page_type="article")  # what the request said, when nothing moved
    (snapshot,) = [i for i in spider.parse(not_redirected) if isinstance(i, RawSnapshot)]
    assert snapshot.page_type == "article"


# --------------------------------------------------------------------------- 429 / 503 with Retry-After


def retry_middleware(**settings: object) -> BackoffRetryMiddleware:
    crawler = get_crawler(
        PacstoSpider, {"RETRY_TIMES": 3, "RETRY_BACKOFF_BASE": 2.0, "RETRY_BACKOFF_MAX": 60.0, **settings}
    )
    crawler.spider = PacstoSpider.from_crawler(crawler, start_url=f"{EN}/events")
    return BackoffRetryMiddleware.from_crawler(crawler)


def busy(status: int, retry_after: str | None) -> tuple[Request, Response]:
    request = Request(f"{EN}/events/x")
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return request, Response(url=request.url, status=status, headers=headers, request=request)


def test_a_429_is_retried_no_sooner_than_its_retry_after() -> None:
    mw = retry_middleware()
    request, response = busy(429, "120")
    retry = mw.process_response(request, response)
    assert isinstance(retry, Request) and retry.meta["retry_delay"] == 120.0
    assert "retry_after" not in retry.meta  # the next answer says its own
    request, response = busy(503, format_datetime(datetime.now(timezone.utc) + timedelta(seconds=90), usegmt=True))
    assert 85 <= mw.process_response(request, response).meta["retry_delay"] <= 90.5
    request, response = busy(429, "86400")  # a day: waited for no longer than RETRY_AFTER_MAX
    assert mw.process_response(request, response).meta["retry_delay"] == 600.0
    assert retry_middleware(RETRY_AFTER_MAX=30).process_response(*busy(429, "86400")).meta["retry_delay"] == 30.0
    request, response = busy(429, None)  # no header: the usual backoff
    assert 1.6 <= mw.process_response(request, response).meta["retry_delay"] <= 2.4
    request, response = busy(429, "0")  # "now": the backoff still spaces the retries
    assert 1.6 <= mw.process_response(request, response).meta["retry_delay"] <= 2.4


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc).timestamp()
    assert retry_after_seconds(b"30", now) == 30.0
    assert retry_after_seconds("Thu, 01 Jan 2026 12:01:00 GMT", now) == 60.0
    assert retry_after_seconds("Thu, 01 Jan 2026 11:00:00 GMT", now) == 0.0  # in the past
    assert retry_after_seconds("soon", now) is None and retry_after_seconds(None, now) is None
    assert retry_after_seconds("-5", now) is None


# --------------------------------------------------------------------------- sitemaps named in robots.txt


def sitemap_404(url: str, **meta: object) -> Failure:
    request = Request(url, meta=meta)
    failure = Failure(HttpError(Response(url=url, status=404, request=request), "Ignoring non-200 response"))
    failure.request = request
    return failure


def robots(body: str) -> TextResponse:
    url = f"{EN}/robots.txt"
    return TextResponse(url=url, body=body.encode(), encoding="utf-8", request=Request(url))


def test_no_sitemap_xml_reads_robots_txt_for_the_sitemaps_it_names() -> None:
    spider = PacstoSpider(start_url=f"{EN}/events")
    first = [r for r in spider.initial_requests() if r.url.endswith("/sitemap.xml")]
    assert first and first[0].meta["sitemap_root"] is True
    (ask,) = list(spider.sitemap_failed(sitemap_404(f"{EN}/sitemap.xml", sitemap_root=True)))
    assert ask.url == f"{EN}/robots.txt" and ask.callback == spider.parse_robots
    assert list(spider.sitemap_failed(sitemap_404(f"{EN}/sitemap-2.xml"))) == []  # a nested one: no fallback
    named = robots(
        "User-agent: *\nDisallow: /admin\n"
        "Sitemap: https://pacsto.org/sitemaps/sitemap.xml.gz\n"
        "sitemap:   https://www.pacsto.org/sitemaps/news.xml  \n"
        "Sitemap: https://cdn.example.net/sitemap.xml.gz\n"  # off the site: never requested
    )
    requests = list(spider.parse_robots(named))
    assert [r.url for r in requests] == [f"{EN}/sitemaps/sitemap.xml.gz", f"{EN}/sitemaps/news.xml"]
    assert all(r.callback == spider.parse_sitemap for r in requests)
    # none named: Rails' sitemap_generator default
    assert [r.url for r in spider.parse_robots(robots("User-agent: *\nDisallow:\n"))] == [f"{EN}/sitemap.xml.gz"]
    # only sitemaps off the site named: the same default
    offsite = robots("Sitemap: https://cdn.example.net/sitemap.xml.gz\n")
    assert [r.url for r in spider.parse_robots(offsite)] == [f"{EN}/sitemap.xml.gz"]


def test_sitemaps_named_in_robots_txt_count_against_sitemap_max_files() -> None:
    spider = PacstoSpider(start_url=f"{EN}/events")
    spider.sitemap_max_files = 3
    spider._sitemaps_requested = 1  # /sitemap.xml
    body = "".join(f"Sitemap: {EN}/s{n}.xml\n" for n in range(100))
    assert len(list(spider.parse_robots(robots(body)))) == 2


def test_an_idn_host_and_its_www_twin_are_one_spelling() -> None:
    """Links carry an IDN host in punycode; the start URL may be typed in Unicode: both are one host."""
    spider = PacstoSpider(start_url="https://пример.рф/events")
    links = ["https://www.xn--e1afmkfd.xn--p1ai/events/a", "http://xn--e1afmkfd.xn--p1ai/events/b"]
    assert requested(spider, html("https://xn--e1afmkfd.xn--p1ai/events/x", links)) == [
        "https://xn--e1afmkfd.xn--p1ai/events/a",
        "https://xn--e1afmkfd.xn--p1ai/events/b",
    ]
