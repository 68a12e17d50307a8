"""The ``pacsto`` spider: news listings, every article, country pages; nothing else, nowhere else.

    scrapy crawl pacsto                                   # https://pacsto.org/events
    scrapy crawl pacsto -a start_url=http://127.0.0.1:8000/events
    scrapy crawl pacsto -a start_urls=https://pacsto.org/events,https://paodkb.org/events

The hosts of the start URLs (and their ``www.`` twins) are the only hosts it ever requests.
It reads ``/events?page=N`` until a page lists no article that listing has not seen (an empty page past
the end, or one that only repeats), follows ``/events/<slug>`` and ``/countries/<slug>`` links,
follows the month calendar (``/events?month=M&year=YYYY``) only inside explicit bounds, and
revisits the archive's known article pages so that a vanished one is recorded as removed.

What it requests again of what the archive already holds is the revisit policy's decision
(``crawler.revisit``, setting ``REVISIT_AFTER``): the start pages always; further listing pages
only down to the first one whose articles are all archived; archived articles and country pages
once their last observation is older than ``REVISIT_AFTER`` (or their sitemap ``<lastmod>`` is
later). Without an archive (a bare spider) every page is new, so everything is requested.
Callbacks only yield items (``dedupe.document.RawSnapshot``, ``PageFailure``) and requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed
from w3lib.url import safe_url_string, url_query_cleaner

from crawler import CALENDAR_EARLIEST, START_URL
from crawler.failures import CONNECT_FAILURES
from crawler.items import PageFailure
from crawler.revisit import DEFAULT_REVISIT_AFTER, RevisitPolicy, parse_duration
from dedupe.document import REMOVED_STATUSES, RawSnapshot, public_headers

# the site's address scheme lives with the one page-kind function that crawl, import and backfill share
from dedupe.pages import (  # noqa: F401
    ARTICLE_PATH,
    COUNTRY_PATH,
    LISTING_PATHS,
    OTHER,
    PERMANENT_REDIRECTS,
    kind_of_url,
    says_removed,
)
from dedupe.sources import utc_iso

PAGE_STATUSES = [
    304,
    *sorted(REMOVED_STATUSES),
]  # handed to the callback: "not modified" and "removed" are observations
DEFAULT_PORTS = {"http": 80, "https": 443}
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)

# The query parameters each kind of page may carry (shared/site.md): an article or a country page has none, so
# ``/events/<slug>?n=1`` is the article itself, never a new page (the query-string trap); a listing keeps
# its month, year and page, in the order written. URLs of no known kind keep their query as is.
PAGE_QUERY_PARAMS: dict[str, tuple[str, ...]] = {"article": (), "country": (), "listing": ("month", "year", "page")}

PRIORITY = {"listing": 20, "calendar": 10, "article": 0, "country": 0, None: 0, "revisit": -10}


# --------------------------------------------------------------------------- URLs


def page_type_of(url: str) -> str | None:
    """'listing', 'article' or 'country' by the site's address scheme (shared/site.md), else None."""
    return kind_of_url(url)


def first_int(values: list[str] | None) -> int | None:
    """The first value of a parsed query parameter (``parse_qs``) as an int, or None (absent or not a number)."""
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


def listing_params(url: str) -> tuple[int, int | None, int | None]:
    """(page, month, year) of a listing URL; page 1 when absent."""
    query = parse_qs(urlsplit(url).query)
    return max(first_int(query.get("page")) or 1, 1), first_int(query.get("month")), first_int(query.get("year"))


def listing_url(url: str, page: int, month: int | None = None, year: int | None = None) -> str:
    """``/events?page=N`` (or ``?month=M&year=YYYY&page=N``, month not zero-padded) on url's host."""
    parts = urlsplit(url)
    query = {} if month is None or year is None else {"month": month, "year": year}
    return urlunsplit((parts.scheme, parts.netloc, "/events", urlencode({**query, "page": page}), ""))


def listing_root(url: str) -> str:
    """The first page of the news list, always as ``/events`` (``/events?page=1`` is the same page)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/events", "", ""))


@dataclass(frozen=True)
class HostScope:
    """The hosts a crawl may request: those of its start URLs, their ``www.`` twins, same ports.

    A start URL with an explicit port (the replica) allows that port only; one without allows
    the default http and https ports. Only http and https are ever allowed.
    """

    hosts: tuple[tuple[str, int | None], ...]

    @classmethod
    def from_urls(cls, urls: Iterable[str]) -> HostScope:
        found: list[tuple[str, int | None]] = []
        for url in urls:
            try:
                parts = urlsplit(safe_url_string(url))  # an IDN host as links carry it: punycode
            except ValueError:  # a port out of range: said below
                parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            if parts.scheme not in DEFAULT_PORTS or not host:
                raise ValueError(f"start URL {url!r} is not an http(s) URL with a host")
            try:
                port = parts.port if parts.port not in (None, DEFAULT_PORTS[parts.scheme]) else None
            except ValueError:
                raise ValueError(f"start URL {url!r} has no valid port (1-65535)") from None
            twins = {host}
            if not re.fullmatch(r"[\d.]+|\[?[0-9a-f:]+\]?", host):
                twins.add(host[4:] if host.startswith("www.") else "www." + host)
            found += [(name, port) for name in sorted(twins)]
        return cls(tuple(dict.fromkeys(found)))

    @property
    def hostnames(self) -> list[str]:
        return sorted({host for host, _ in self.hosts})

    def allows(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            return False
        if port == DEFAULT_PORTS[parts.scheme]:
            port = None
        return (parts.hostname.lower(), port) in self.hosts


def canonical_url(url: str) -> str:
    """One spelling per page: percent-encoded, lowercase scheme and host (IDNA), no user info, no default port
    (``:443``/``:80``), no fragment, ``/`` for an empty path, and only the query parameters the page's kind has
    (``PAGE_QUERY_PARAMS``): none for an article or a country page, ``month``, ``year`` and ``page`` for a
    listing, in their order (``?month=7&year=2013&page=2`` stays so). ValueError for a URL that has no valid
    http(s) form (a port like ``:99999`` or ``:abc``, no host, another scheme).

    The path is kept as written (a trailing slash, the case of its escapes): the archive keys each page's
    history by its URL, so a path spelled otherwise than before would file an archived page's next observation
    under a new URL and its revisit under the old one for ever. The real sites' slugs are ASCII
    transliterations linked as ``/events/<slug>`` (shared/site.md)."""
    url = safe_url_string(url)  # ValueError for a port out of range or not a number
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL with a host: {url!r}")
    port = parts.port
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    canonical = urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))
    allowed = PAGE_QUERY_PARAMS.get(page_type_of(canonical))
    if allowed is not None and parts.query:
        canonical = url_query_cleaner(canonical, allowed, unique=True)
    return canonical


def clean_link(
    response: Response, href: str, scope: HostScope, spell: Callable[[str], str] | None = None
) -> str | None:
    """The canonical URL (``canonical_url``) of a link inside the scope, or None: mailto:, data:, file:,
    off-site, fragment-only, or malformed (a bad port) - one bad link never costs the page's others.
    ``spell`` (``PacstoSpider.respell``) writes it with the scheme and host the site answers under."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    try:
        url = canonical_url(response.urljoin(href))
    except ValueError:
        return None
    if not scope.allows(url):
        return None
    return spell(url) if spell is not None else url


def twin_key(url: str) -> tuple[str, int | None]:
    """(host without ``www.``, port without a default one) of a canonical URL: a host and its ``www.`` twin,
    over http or https, share one key."""
    parts = urlsplit(url)
    port = parts.port if parts.port not in (None, DEFAULT_PORTS.get(parts.scheme)) else None
    return (parts.hostname or "").removeprefix("www."), port


def year_month(value: Any) -> tuple[int, int]:
    """(year, month) of "YYYY-MM" (or "YYYY", January); ValueError naming the expected form."""
    match = re.fullmatch(r"\s*(\d{4})(?:-(\d{1,2}))?\s*", str(value))
    if not match or not 1 <= int(match.group(2) or 1) <= 12:
        raise ValueError(f"CALENDAR_EARLIEST must be a month as YYYY-MM, e.g. 2013-07, not {str(value)!r}")
    return int(match.group(1)), int(match.group(2) or 1)


def _canonical_or_as_is(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url


def declared_charset(content_type: str | None) -> str | None:
    """The charset a Content-Type header declares, as written (the archive decides what to trust)."""
    match = _CHARSET.search(content_type or "")
    return match.group(1) if match else None


def snapshot_of(response: Response, page_type: str | None, observed: datetime | None = None) -> RawSnapshot:
    """The observation a response is: a 304 or 404/410 carries no body, anything else its raw bytes."""
    headers = public_headers(
        {  # never a Set-Cookie: the archive is readable by anyone who reads it
            key.decode("latin-1"): b", ".join(values).decode("latin-1") for key, values in response.headers.items()
        }
    )
    status = response.status
    return RawSnapshot(  # the archive's own record: it travels to the store as it is (the run adds its origin)
        url=_canonical_or_as_is(response.url),  # a redirect may land on https://host:443/...
        observed_at=utc_iso(observed or datetime.now(timezone.utc)),
        body=None if status in PAGE_STATUSES else response.body,
        source="crawl",
        http_status=status,
        headers=headers,
        declared_charset=declared_charset(headers.get("Content-Type")),
        page_type=page_type,
    )


def redirect_removal(meta: Mapping[str, Any], landed: str, observed: datetime | None = None) -> RawSnapshot | None:
    """The observation of the page first asked for when a redirect says it is gone, else None: an article URL
    whose answer was a permanent redirect (301, 308) to a page that is no article (``dedupe.pages.says_removed``)
    and whose chain did not end on an article either. Permanent hops in a row are read as one: www to the bare
    host, or http to https, then the deleted article's 301 home, is a removal (the first hop alone, to the same
    article on another host, read as a move). It keeps the first answer's status and, as its Location, where those
    permanent hops led, without a body; the archive stores it as a removal. ``meta``: the request's (Scrapy's
    ``redirect_urls`` and ``redirect_reasons``); ``landed``: the URL the chain reached."""
    chain, reasons = meta.get("redirect_urls") or [], meta.get("redirect_reasons") or []
    if not chain or not reasons or not isinstance(reasons[0], int):  # no redirect, or a <meta> refresh
        return None
    permanent = next((i for i, reason in enumerate(reasons) if reason not in PERMANENT_REDIRECTS), len(reasons))
    asked, location = _canonical_or_as_is(chain[0]), [*chain[1:], landed][max(permanent, 1) - 1]
    if page_type_of(_canonical_or_as_is(landed)) == "article" or not says_removed(asked, reasons[0], location):
        return None
    return RawSnapshot(
        url=asked,
        observed_at=utc_iso(observed or datetime.now(timezone.utc)),
        body=None,
        source="crawl",
        http_status=reasons[0],
        headers={"Location": location},
        page_type=page_type_of(asked),
    )


def first_redirect_status(meta: Mapping[str, Any]) -> int | None:
    """The status the page asked for answered when its redirect chain failed further on (an offsite hop, a loop): the
    chain's first reason (301, 308...) as the site sent it, not a 302 assumed; None without a redirect."""
    reasons = meta.get("redirect_reasons") or []
    if reasons and isinstance(reasons[0], int):
        return reasons[0]
    return 302 if meta.get("redirect_urls") else None  # a <meta> refresh: no status of its own


_FAILURE_NAMES = {  # the connection failures (the host did not answer) are the site breaker's, in one table
    **CONNECT_FAILURES,
    "ResponseDataLossError": "truncated body: the connection closed before the announced length",
    "ConnectionLost": "connection lost",
    "ConnectionDone": "connection closed",
    "DownloadCancelledError": "download cancelled (larger than DOWNLOAD_MAXSIZE?)",
}


def describe_failure(failure: Failure) -> str:
    """One sentence for the run's error list."""
    request = getattr(failure, "request", None)
    retries = request.meta.get("retry_times", 0) if request is not None else 0
    after = f" (after {retries} retr{'y' if retries == 1 else 'ies'})" if retries else ""
    value = failure.value
    if failure.check(HttpError):
        return f"HTTP {value.response.status}{after}"
    name = type(value).__name__
    if name in _FAILURE_NAMES:
        return _FAILURE_NAMES[name] + after
    if failure.check(ResponseFailed):
        reasons = getattr(value, "reasons", []) or []
        if any("DataLoss" in type(getattr(r, "value", r)).__name__ for r in reasons):
            return _FAILURE_NAMES["ResponseDataLossError"] + after
        return f"connection failed mid-response{after}"
    if failure.check(IgnoreRequest):
        return str(value) or "request ignored"
    return f"{name}: {value}{after}" if str(value) else f"{name}{after}"


# --------------------------------------------------------------------------- spider


class PacstoSpider(scrapy.Spider):
    """News of the CSTO Parliamentary Assembly: listings, articles, country pages."""

    name = "pacsto"

    def __init__(self, start_url: str | None = None, start_urls: str | list[str] | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        urls: list[str] = []
        if start_url:
            urls.append(start_url)
        if start_urls:
            urls += start_urls.split(",") if isinstance(start_urls, str) else list(start_urls)
        self.start_urls = [u.strip() for u in urls if u and u.strip()]
        self.listing_max_pages = 5000
        self.calendar_max_pages = 300
        self.calendar_earliest = year_month(CALENDAR_EARLIEST)
        self.sitemap_follow = True
        self.sitemap_lastmod = True
        self.sitemap_max_depth = 2
        self.sitemap_max_files = 50
        self.sitemap_max_bytes = 16 * 1024 * 1024  # DOWNLOAD_MAXSIZE: a .xml.gz is unpacked to no more
        self._sitemaps_requested = 0  # sitemap files requested this run (SITEMAP_MAX_FILES)
        self.revisit_archived = True
        self.revisit_after = 0.0  # no settings, no archive: a first crawl, everything requested
        self._policy: RevisitPolicy | None = None
        # article URLs seen per listing sequence, keyed (netloc, month, year): /events?page=N of one host is
        # one sequence, each calendar month of each host another; a page listing only ones its own sequence
        # has seen ends that sequence, whatever order the responses of the others arrive in
        self._listed: dict[tuple[str, int | None, int | None], set[str]] = {}
        self._calendar: set[str] = set()
        self._configure_scope()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> PacstoSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.configure(crawler.settings)
        return spider

    def configure(self, settings: Any) -> None:
        """Bounds and defaults from the settings (the start URL setting only when none was given)."""
        if not self.start_urls:
            urls = settings.getlist("START_URLS") or [START_URL]
            self.start_urls = [u.strip() for u in urls if u.strip()]
        self.listing_max_pages = settings.getint("LISTING_MAX_PAGES", 5000)
        self.calendar_max_pages = settings.getint("CALENDAR_MAX_PAGES", 300)
        self.calendar_earliest = year_month(settings.get("CALENDAR_EARLIEST", CALENDAR_EARLIEST))
        self.sitemap_follow = settings.getbool("SITEMAP_FOLLOW", True)
        self.sitemap_lastmod = settings.getbool("SITEMAP_LASTMOD", True)
        self.sitemap_max_depth = settings.getint("SITEMAP_MAX_DEPTH", 2)
        self.sitemap_max_files = settings.getint("SITEMAP_MAX_FILES", 50)
        self.sitemap_max_bytes = settings.getint("DOWNLOAD_MAXSIZE", 16 * 1024 * 1024)
        self.revisit_archived = settings.getbool("REVISIT_ARCHIVED", True)
        self.revisit_after = parse_duration(settings.get("REVISIT_AFTER", DEFAULT_REVISIT_AFTER))
        self._policy = None
        self._configure_scope()

    def _configure_scope(self) -> None:
        urls = self.start_urls or [START_URL]
        self.scope = HostScope.from_urls(urls)
        self.allowed_domains = self.scope.hostnames
        # How each host of the scope is written in the URLs this crawl requests and files pages under: its
        # start URL's scheme and host until a redirect shows the site answers elsewhere (``learn_spelling``).
        # The site is served as pacsto.org and as www.pacsto.org, and an editor's absolute link may name either
        # (or http://): without one spelling, one article would be fetched and archived under two or four URLs.
        self.spelling: dict[tuple[str, int | None], tuple[str, str]] = {}
        for url in urls:
            canonical = canonical_url(url)  # an IDN host as links carry it (punycode), so that their keys match
            parts = urlsplit(canonical)
            self.spelling.setdefault(twin_key(canonical), (parts.scheme, parts.netloc))

    def respell(self, url: str) -> str:
        """``url`` (canonical, in scope) with the scheme and host this crawl writes its host as; never an https
        link as http (a crawl started at ``http://`` would otherwise fetch over http what the page linked over
        https: the downgrade the redirect middleware refuses)."""
        spelled = self.spelling.get(twin_key(url))
        if spelled is None:
            return url
        parts = urlsplit(url)
        scheme, netloc = spelled
        if parts.scheme == "https" and scheme == "http":
            scheme = "https"
            netloc = netloc.removesuffix(":80")  # an http port is no https one: twin_key matched the default ports
        return urlunsplit((scheme, netloc, parts.path, parts.query, ""))

    def learn_spelling(self, response: Response) -> None:
        """A redirect that only changed the scheme or the host to its ``www.`` twin (http -> https, pacsto.org ->
        www.pacsto.org or back) says how the site wants its pages named: the links read from then on are
        written that way, so they are not each redirected, and never archived under the other name."""
        redirects = (response.meta.get("redirect_urls") or []) if response.request is not None else []
        if not redirects:
            return
        try:
            asked, landed = canonical_url(redirects[0]), canonical_url(response.url)
        except ValueError:
            return
        key = twin_key(landed)
        a, b = urlsplit(asked), urlsplit(landed)
        if twin_key(asked) != key or (a.path, a.query) != (b.path, b.query) or key not in self.spelling:
            return
        if self.spelling[key] != (b.scheme, b.netloc):
            self.logger.info("the site answers %s as %s://%s: links are written so", asked, b.scheme, b.netloc)
            self.spelling[key] = (b.scheme, b.netloc)
            self._count("spelling_learned")

    @property
    def policy(self) -> RevisitPolicy:
        """The revisit policy of this run, built from the archive when the crawl starts (``crawler.runs``)."""
        if self._policy is None:
            from crawler.runs import revisit_policy  # the run knows the archive; a bare spider has none

            self._policy = revisit_policy(getattr(self, "crawler", None), self.revisit_after, self.sitemap_lastmod)
        return self._policy

    @policy.setter
    def policy(self, policy: RevisitPolicy) -> None:
        self._policy = policy

    def _count(self, key: str, n: int = 1) -> None:
        crawler = getattr(self, "crawler", None)
        if crawler is not None and getattr(crawler, "stats", None) is not None:
            crawler.stats.inc_value(f"pacsto/{key}", n)

    def wanted(self, url: str) -> bool:
        """Request this linked article or country page? (the revisit policy; counted when not)"""
        if self.policy.wanted(url):
            return True
        self._count("not_due")
        return False

    # ------------------------------------------------------------------ requests

    def page_request(self, url: str, page_type: str | None = None, priority: int | None = None) -> scrapy.Request:
        """A request for a page the archive stores (its 304/404/410 answers reach ``parse``)."""
        kind = page_type or page_type_of(url)
        return scrapy.Request(
            url,
            callback=self.parse,
            errback=self.failed,
            priority=PRIORITY.get(kind, 0) if priority is None else priority,
            meta={"page_type": kind, "handle_httpstatus_list": PAGE_STATUSES, "archive_page": True},
        )

    async def start(self):  # Scrapy >= 2.13 (the project needs >= 2.19): start_requests() is never called
        for request in self.initial_requests():
            yield request

    def initial_requests(self) -> Iterator[scrapy.Request]:
        """Start URLs, each start host's sitemap, then the archive's pages that are due (revisited last)."""
        starts = [canonical_url(url) for url in self.start_urls]
        policy = self.policy
        crawler = getattr(self, "crawler", None)
        if crawler is not None and getattr(crawler, "stats", None) is not None:
            for key, value in policy.summary().items():
                crawler.stats.set_value(f"pacsto/revisit/{key}", value)
        for url in starts:
            yield self.page_request(url, priority=PRIORITY["listing"] + 10)
        if self.sitemap_follow:
            for origin in dict.fromkeys(f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" for u in starts):
                yield self.sitemap_request(origin + "/sitemap.xml", sitemap_root=True)
        if self.revisit_archived:
            for url, page_type in policy.revisits():
                if self.scope.allows(url) and url not in starts:
                    self._count("revisit/requested")
                    yield self.page_request(url, page_type, priority=PRIORITY["revisit"])

    # ------------------------------------------------------------------ callbacks

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        """Every page: its snapshot, then the article and country pages it links.

        A page reached through a redirect is filed as the kind of page it landed on, ``OTHER`` when its URL is of
        no known kind: an article that redirects to the home page (a removed record, a Rails ``redirect_to
        root_path``) is not stored as an article. When that redirect was permanent, the article's URL gets an
        observation of its own saying so (``redirect_removal``): the archive marks the article removed."""
        meta = response.request.meta if response.request is not None else {}
        redirected = bool(meta.get("redirect_urls"))
        removal = redirect_removal(meta, response.url) if redirected else None
        if removal is not None:
            yield removal
        page_type = page_type_of(response.url)
        if page_type is None:  # a redirect's page is what it landed on, not what was asked
            page_type = OTHER if redirected else meta.get("page_type")
        yield snapshot_of(response, page_type)
        self.learn_spelling(response)
        if response.status in REMOVED_STATUSES or not isinstance(response, TextResponse) or not response.body:
            return  # a 304 arrives with the archived body (ArchiveMiddleware), so its links are followed
        hrefs = response.css("a::attr(href)").getall()
        links = [u for u in (clean_link(response, h, self.scope, self.respell) for h in hrefs) if u]
        for url in dict.fromkeys(links):
            kind = page_type_of(url)
            if kind in ("article", "country"):
                if self.wanted(url):
                    yield self.page_request(url, kind)
            elif kind == "listing" and listing_params(url) == (1, None, None):
                yield self.page_request(listing_root(url), kind)  # the news list itself, one URL for it
        if page_type == "listing":
            yield from self.next_listing_pages(response, links)

    def next_listing_pages(self, response: TextResponse, links: list[str]) -> Iterator[scrapy.Request]:
        """The next page while this one lists articles the listing has not shown yet in this run, and
        either one the archive does not have or the next page is due (``REVISIT_AFTER``): a re-crawl
        stops at the first page whose articles are all archived (a 304's archived copy included);
        calendar months inside the bounds, when due."""
        items = [
            clean_link(response, h, self.scope, self.respell)
            for h in response.css("div.events__content a::attr(href)").getall()
        ]
        if not response.css("div.events__content"):  # unknown markup: any article link counts
            items = links
        items = [u for u in items if u and page_type_of(u) == "article"]
        page, month, year = listing_params(response.url)
        seen = self._listed.setdefault(self.listing_sequence(response.url), set())
        unseen = [u for u in items if u not in seen]
        seen.update(items)
        next_url = listing_url(response.url, page + 1, month, year)
        if unseen and all(self.policy.known(u) for u in items) and not self.policy.due(next_url):
            self._count("listing_stopped_archived")  # every article here is archived, the next page recent
            unseen = []
        if unseen:
            if month is not None and year is not None:
                if len(self._calendar) < self.calendar_max_pages and next_url not in self._calendar:
                    self._calendar.add(next_url)
                    yield self.page_request(next_url, "listing", PRIORITY["calendar"])
            elif page < self.listing_max_pages:
                yield self.page_request(next_url, "listing", PRIORITY["listing"])
        for url in links:
            if page_type_of(url) != "listing":
                continue
            link_page, link_month, link_year = listing_params(url)
            if link_month is None or link_year is None or link_page != 1:
                continue  # pagination links are not followed: the next page is computed above
            url = listing_url(url, 1, link_month, link_year)
            if url not in self._calendar and self.calendar_allows(link_month, link_year) and self.policy.due(url):
                self._calendar.add(url)
                yield self.page_request(url, "listing", PRIORITY["calendar"])

    @staticmethod
    def listing_sequence(url: str) -> tuple[str, int | None, int | None]:
        """Which listing a listing page belongs to: (netloc, month, year), month and year None for /events?page=N."""
        _, month, year = listing_params(url)
        if month is None or year is None:
            month = year = None
        return urlsplit(url).netloc, month, year

    def calendar_allows(self, month: int, year: int) -> bool:
        """A month page is followed if it lies between the site's first news and now, within the page budget."""
        now = datetime.now(timezone.utc)
        return (
            1 <= month <= 12
            and self.calendar_earliest <= (year, month) <= (now.year, now.month)
            and len(self._calendar) < self.calendar_max_pages
        )

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        """Article and country pages named in sitemap.xml (nested sitemaps followed, gzipped ones unpacked)
        that the revisit policy wants: new, due, or changed by their ``<lastmod>`` since the archive last
        saw them. Sitemap indexes nest at most SITEMAP_MAX_DEPTH deep and a run reads at most
        SITEMAP_MAX_FILES sitemaps: an index of indexes cannot keep the crawl busy forever."""
        depth = response.request.meta.get("sitemap_depth", 0) if response.request is not None else 0
        try:
            sitemap = Sitemap(self.sitemap_body(response))
        except Exception as exc:  # a broken sitemap is not needed: the listings suffice
            self._count("sitemap_unreadable")
            self.logger.info("ignoring unreadable sitemap %s: %s", response.url, exc)
            return
        for entry in sitemap:
            url = clean_link(response, entry.get("loc", ""), self.scope, self.respell)
            if url is None:
                continue
            if sitemap.type == "sitemapindex":
                if depth >= self.sitemap_max_depth or self._sitemaps_requested >= self.sitemap_max_files:
                    self._count("sitemap_skipped")
                    self.logger.info(
                        "sitemap %s not read: more than SITEMAP_MAX_DEPTH=%d levels or SITEMAP_MAX_FILES=%d files",
                        url,
                        self.sitemap_max_depth,
                        self.sitemap_max_files,
                    )
                    continue
                yield self.sitemap_request(url, priority=0, sitemap_depth=depth + 1)
            elif page_type_of(url) in ("article", "country"):
                if self.policy.changed_since_seen(url, entry.get("lastmod")):
                    self._count("sitemap_lastmod_changed")
                    yield self.page_request(url)
                elif self.wanted(url):
                    yield self.page_request(url)

    def sitemap_request(self, url: str, priority: int = PRIORITY["listing"], **meta: Any) -> scrapy.Request:
        """A request for a sitemap file, counted against SITEMAP_MAX_FILES (the callers check the count)."""
        self._sitemaps_requested += 1
        return scrapy.Request(
            url,
            callback=self.parse_sitemap,
            errback=self.sitemap_failed,
            priority=priority,
            meta={"archive_page": False, "dont_retry": True, **meta},
        )

    def sitemap_body(self, response: Response) -> bytes:
        """The sitemap's XML: a gzipped one (``.xml.gz`` served as a file, not as Content-Encoding) unpacked to
        at most DOWNLOAD_MAXSIZE bytes; ValueError when it is larger or not gzip after all."""
        body = response.body
        if body[:2] != b"\x1f\x8b":
            return body
        try:
            return gunzip(body, max_size=self.sitemap_max_bytes)
        except OSError as exc:  # gzip.BadGzipFile, a truncated stream
            raise ValueError(f"not a readable gzip file ({exc})") from None

    def sitemap_failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """No /sitemap.xml: ask robots.txt where the sitemaps are (its ``Sitemap:`` lines). A Rails site's
        sitemap_generator writes ``/sitemap.xml.gz`` and names it only there."""
        self.logger.info("no sitemap: %s", describe_failure(failure))
        request = getattr(failure, "request", None)
        if request is None or not request.meta.get("sitemap_root"):
            return
        parts = urlsplit(request.url)
        yield scrapy.Request(
            urlunsplit((parts.scheme, parts.netloc, "/robots.txt", "", "")),
            callback=self.parse_robots,
            errback=self.sitemap_failed,
            priority=PRIORITY["listing"],
            meta={"archive_page": False, "dont_retry": True},
        )

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        """The sitemaps robots.txt names (inside the scope, within SITEMAP_MAX_FILES); ``/sitemap.xml.gz`` when
        it names none."""
        named = sitemap_urls_from_robots(response.body[:1_000_000], base_url=response.url)  # Scrapy's reader
        urls = [u for href in named if (u := clean_link(response, href, self.scope, self.respell))] or [
            clean_link(response, "/sitemap.xml.gz", self.scope, self.respell)  # none named in the scope either
        ]
        for url in dict.fromkeys(u for u in urls if u):
            if self._sitemaps_requested >= self.sitemap_max_files:
                self._count("sitemap_skipped")
                break
            yield self.sitemap_request(url)

    def failed(self, failure: Failure) -> Iterator[PageFailure]:
        """A page that could not be fetched becomes a failure of the run (the run goes on)."""
        from crawler.middlewares import AlreadyArchived

        request = failure.request
        if failure.check(AlreadyArchived):  # stored by the interrupted run this one resumes
            # ... or only where a redirect landed (the home page every deleted article is sent to): the article's
            # removal by that redirect is this run's, as when the duplicate filter drops it (request_dropped)
            removal = redirect_removal(request.meta, request.url) if request.meta.get("redirect_urls") else None
            if removal is not None:
                yield removal
            return
        if failure.check(IgnoreRequest) and "robots.txt" in str(failure.value):
            self.crawler.stats.inc_value("pacsto/robots_forbidden")
            return
        page = (request.meta.get("redirect_urls") or [request.url])[0]  # the page asked for, not where it led
        response = getattr(failure.value, "response", None)
        status = response.status if response is not None else first_redirect_status(request.meta)
        yield PageFailure(
            url=page,
            error=describe_failure(failure),
            page_type=request.meta.get("page_type"),
            observed_at=utc_iso(datetime.now(timezone.utc)),
            http_status=status,
        )
