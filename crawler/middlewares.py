"""Downloader middlewares: the host fence, retries with backoff, and the archive's part in requests.

* ``AllowedHostsMiddleware`` refuses every request off the spider's hosts (redirect targets
  and ``dont_filter`` requests included) before robots.txt is even asked for, and every
  redirect from https to http (same host or not).
* ``BackoffRetryMiddleware`` is Scrapy's retry (5xx, timeouts, truncated bodies...) with an
  exponential pause before each new attempt.
* ``HostPauseMiddleware`` sends nothing to a host for as long as its 429/503 ``Retry-After`` asked.
* ``ArchiveMiddleware`` makes requests conditional on the archive's validators, answers a 304
  with the archived body (so a listing that did not change still yields its links), and skips
  pages that the interrupted run being resumed has already stored.
* ``SiteBreakerMiddleware`` stops the crawl as ``site_unreachable`` when a host stops answering
  mid-run: CRAWL_MAX_CONNECT_FAILURES pages in a row that cannot connect to it, with no answer between.
"""

from __future__ import annotations

import logging
import random
import time
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

from crawler.failures import connect_failure

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class OffsiteRefused(IgnoreRequest):
    """A request (often a redirect target) to a host the crawl may not visit."""


class DowngradeRefused(IgnoreRequest):
    """A redirect from https to plain http: the page would be fetched where anyone on the path can alter it."""


class AlreadyArchived(IgnoreRequest):
    """A page the run being resumed already stored: not fetched again."""


class AllowedHostsMiddleware:
    """Only the hosts (and ports) of the start URLs, only http and https, whatever the request."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AllowedHostsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        redirected = request.meta.get("redirect_urls")
        if redirected and urlsplit(request.url).scheme == "http" and urlsplit(redirected[-1]).scheme == "https":
            self.crawler.stats.inc_value("pacsto/downgrade_refused")
            raise DowngradeRefused(
                f"refused to follow a redirect from https to http: {redirected[-1]} -> {request.url}"
            )
        scope = getattr(self.crawler.spider, "scope", None)
        if scope is None or scope.allows(request.url):
            return None
        self.crawler.stats.inc_value("pacsto/offsite_refused")
        redirected = request.meta.get("redirect_urls")
        origin = f" (redirected from {redirected[0]})" if redirected else ""
        raise OffsiteRefused(f"refused to leave the allowed hosts: {request.url}{origin}")


class BackoffRetryMiddleware(RetryMiddleware):
    """Retry 5xx answers and network errors, waiting base * 2**(n-1) seconds (jittered) before try n+1.

    A 429 or 503 that says when to come back (``Retry-After``: seconds or an HTTP date) is retried no sooner
    than that, up to ``RETRY_AFTER_MAX`` seconds (600 by default): backing off 2, 4 and 8 s against a site
    that asked for 120 s spent every retry inside the window it asked us to keep away, and lost the page.
    The other pages of that host wait too, in ``HostPauseMiddleware``.
    """

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("RETRY_AFTER_MAX", 600.0)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:
        request.meta.pop("retry_after", None)
        if response.status in self.retry_http_codes:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None:
                request.meta["retry_after"] = wait
        return super().process_response(request, response)

    def _retry(self, request: Request, reason: Any) -> Request | None:
        wait = request.meta.pop("retry_after", None)
        retry = super()._retry(request, reason)
        if retry is None:
            return None
        delay = 0.0
        if self.base > 0:
            attempt = retry.meta.get("retry_times", 1)
            delay = min(self.cap, self.base * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
        if wait is not None:
            delay = max(delay, min(wait, self.retry_after_max))
        if delay > 0:
            retry.meta["retry_delay"] = delay
        return retry

    async def process_request(self, request: Request) -> Request | None:
        delay = request.meta.pop("retry_delay", 0)
        waited = 0.0
        while waited < delay:  # in slices: a crawl that is stopping does not wait for a retry
            if site_gone(self.crawler) or spider_closing(self.crawler):
                return request  # back to the queue (a retry is never filtered): JOBDIR keeps it for the next run
            step = min(0.25, delay - waited)
            await maybe_deferred_to_future(deferLater(reactor, step, lambda: None))
            waited += step
        return None


class HostPauseMiddleware:
    """A 429 or 503 whose ``Retry-After`` asks to keep away pauses its whole host, not only the page that got it.

    A site that rate-limits a crawl answers 429 to every page it is sent while the window lasts: were only the
    refused page held back, the others would keep coming at full speed and each earn a 429 of its own. So no
    request to that host (Scrapy's downloader slot) is sent until the time passes, at most ``RETRY_AFTER_MAX``
    seconds: requests wait here in short slices, and those already queued in the downloader's slot go back to the
    scheduler to wait here too. A crawl that is stopping does not wait: its requests go back to the queue (JOBDIR
    keeps them). One log line per pause; ``pacsto/host_pauses`` and ``pacsto/host_paused_seconds`` count them.
    Placed after the retry middleware (a higher number): it sees the 429 before it becomes a retry.
    """

    STATUSES = frozenset({429, 503})
    SLICE = 0.25  # seconds between looks at a stopping crawl

    def __init__(self, crawler: Crawler, most: float) -> None:
        self.crawler = crawler
        self.most = most
        self.until: dict[str, float] = {}  # slot key -> time.monotonic() when its requests may go again

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HostPauseMiddleware:
        return cls(crawler, crawler.settings.getfloat("RETRY_AFTER_MAX", 600.0))

    def host_of(self, request: Request) -> str:
        """The downloader slot the request goes through (its host, as Scrapy groups requests for politeness)."""
        downloader = getattr(getattr(self.crawler, "engine", None), "downloader", None)
        if downloader is not None:
            return downloader.get_slot_key(request)
        return urlsplit(request.url).hostname or ""

    @classmethod
    def keep_away_seconds(cls, response: Response) -> float | None:
        """How long the answer asks the whole host to be left alone: a 429 or 503's ``Retry-After`` (None: it
        does not ask). The one reading of it, for this middleware and ``SiteBreakerMiddleware``."""
        if response.status not in cls.STATUSES:
            return None
        return retry_after_seconds(response.headers.get("Retry-After")) or None

    def process_response(self, request: Request, response: Response) -> Response:
        if wait := self.keep_away_seconds(response):
            self.pause(self.host_of(request), min(wait, self.most), response.status)
        return response

    def pause(self, host: str, seconds: float, status: int) -> None:
        """Keep ``host`` waiting ``seconds`` from now (a pause already longer stands)."""
        now = time.monotonic()
        current = self.until.get(host, 0.0)
        if now + seconds <= current:
            return
        self.until[host] = now + seconds
        self.crawler.stats.inc_value("pacsto/host_paused_seconds", round(now + seconds - max(now, current), 3))
        if current <= now:
            self.crawler.stats.inc_value("pacsto/host_pauses")
            logging.getLogger(__name__).warning(
                "%s answered %d with Retry-After: no request goes to it for %.0f s", host, status, seconds
            )
        self.hold_queued(host)

    def hold_queued(self, host: str) -> None:
        """Send the requests waiting in the host's downloader slot (they passed the middlewares before the pause)
        back to the scheduler, so that they wait here rather than go out when a connection frees. Scrapy has no
        public way to hold a slot: its ``slots`` and each slot's ``queue`` of (request, deferred), read
        defensively; a request is answered with a copy of itself, which the engine schedules again."""
        downloader = getattr(getattr(self.crawler, "engine", None), "downloader", None)
        slot = (getattr(downloader, "slots", None) or {}).get(host)
        queue = getattr(slot, "queue", None)
        while queue:
            request, deferred = queue.popleft()
            self.crawler.stats.inc_value("pacsto/host_pause_requeued")
            deferred.callback(request.replace(dont_filter=True))  # seen already: the duplicate filter would drop it

    async def process_request(self, request: Request) -> Request | None:
        host = self.host_of(request)
        while (left := self.until.get(host, 0.0) - time.monotonic()) > 0:
            if site_gone(self.crawler) or spider_closing(self.crawler):
                return request.replace(dont_filter=True)  # back to the queue: JOBDIR keeps it for the next run
            await maybe_deferred_to_future(deferLater(reactor, min(self.SLICE, left), lambda: None))
        return None


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (RFC 9110: a number of seconds or an HTTP date), None
    when absent or unreadable; never negative. Only ASCII digits are a number (RFC 9110's delay-seconds): ``str``'s
    isdigit() also takes '²' or '٣', which float() refuses or reads, and a hostile header failed the page."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else str(value)).strip()
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class ArchiveMiddleware:
    """Conditional requests from the archive; archived bodies for 304s; resumed runs skip stored pages."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.conditional = crawler.settings.getbool("CONDITIONAL_REQUESTS", True)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveMiddleware:
        if not crawler.settings.get("ARCHIVE_DB"):
            raise NotConfigured("no ARCHIVE_DB")
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        return mw

    def spider_opened(self, spider: Any) -> None:
        from crawler.runs import CrawlRun

        self.run = CrawlRun.for_crawler(self.crawler)

    @property
    def _run(self) -> Any:
        run = getattr(self, "run", None)
        if run is None:
            from crawler.runs import CrawlRun

            run = self.run = CrawlRun.for_crawler(self.crawler)
        return run

    def process_request(self, request: Request) -> None:
        if not request.meta.get("archive_page"):
            return None
        run = self._run
        if run.already_stored(request.url, request.meta.get("page_type")):
            self.crawler.stats.inc_value("pacsto/resume_skipped")
            run.counts.add("skipped")
            raise AlreadyArchived(f"already stored by run {run.resumed_from}: {request.url}")
        for name in ("If-None-Match", "If-Modified-Since"):  # a redirect copies the first URL's validators
            request.headers.pop(name, None)
        if self.conditional:
            etag, modified = run.validators(request.url)
            if etag:
                request.headers["If-None-Match"] = etag
            if modified:
                request.headers["If-Modified-Since"] = modified
            if etag or modified:
                request.meta["archive_conditional"] = True
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status != 304 or not request.meta.get("archive_conditional"):
            return response
        self.crawler.stats.inc_value("pacsto/not_modified")
        stored = self._run.last_content(response.url)
        if stored is None:
            return response
        body, encoding = stored
        return HtmlResponse(
            url=response.url,
            status=304,
            headers=response.headers,
            body=body,
            encoding=encoding,
            request=request,
            flags=[*response.flags, "archived-body"],
            protocol=response.protocol,
        )


def site_gone(crawler: Crawler) -> bool:
    """Whether SiteBreakerMiddleware stopped this crawl because its site stopped answering."""
    from crawler.runs import _RUNS

    run = _RUNS.get(crawler)
    return run is not None and run.ended_early is not None


def spider_closing(crawler: Crawler) -> bool:
    """Whether the engine is closing the spider (Ctrl-C, SIGTERM, CloseSpider): a retry waiting out a
    ``Retry-After`` of up to ``RETRY_AFTER_MAX`` seconds would hold the close (the engine waits for every
    request in progress) until a scheduler's stop timeout killed the crawl. Scrapy has no public flag for
    it: its engine slot's ``closing`` (2.x), read defensively."""
    slot = getattr(getattr(crawler, "engine", None), "_slot", None)
    return getattr(slot, "closing", None) is not None


class SiteBreakerMiddleware:
    """Stop the crawl when a host stops answering mid-run, rather than retry every page left with backoff.

    Each host has a streak: the distinct pages whose attempt failed to connect (refused, timed out, DNS)
    since the host last answered anything (any HTTP status). When a streak reaches ``CRAWL_MAX_CONNECT_FAILURES``
    pages (0: never) the spider closes as ``site_unreachable`` with one log line naming the host and the
    requests left unfetched; the run is ``interrupted``, so the next run resumes (with ``--jobdir``,
    exactly where it stopped). Pages, not attempts: one page failing through all its retries never trips it.
    Placed after the retry middleware (a higher number): it sees every attempt. Once tripped, the retries of
    the pages in flight go back to the queue without their backoff wait (``BackoffRetryMiddleware``): the
    crawl closes within moments, and Scrapy's JOBDIR queue keeps them for the next run.

    A page refused with a 429/503 that asks to keep away (``Retry-After``) counts in the streak too, as no
    answer: ``HostPauseMiddleware`` holds the whole host for each one, so a site refusing every page made the
    crawl last pages x attempts x ``RETRY_AFTER_MAX`` (12 pages refused with Retry-After: 1 took 38 s, one
    pause per attempt; 1,000 refused with 600 s would take weeks) before it ended as failed."""

    def __init__(self, crawler: Crawler, limit: int) -> None:
        self.crawler = crawler
        self.limit = limit
        self.streaks: dict[str, set[str]] = {}
        self.tripped: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteBreakerMiddleware:
        limit = crawler.settings.getint("CRAWL_MAX_CONNECT_FAILURES", 10)
        if limit <= 0:
            raise NotConfigured("CRAWL_MAX_CONNECT_FAILURES is 0")
        return cls(crawler, limit)

    def process_response(self, request: Request, response: Response) -> Response:
        host = urlsplit(request.url).netloc
        if HostPauseMiddleware.keep_away_seconds(response):
            if not self.tripped:
                self.count(host, request.url, f"refused (HTTP {response.status} with Retry-After, the last one)")
        else:
            self.streaks.pop(host, None)  # the host answered
        return response

    def process_exception(self, request: Request, exception: BaseException) -> None:
        failure = connect_failure(exception)
        if failure is None:
            return None
        if self.tripped:
            return None  # its retry goes back to the queue (BackoffRetryMiddleware), which JOBDIR keeps
        self.count(urlsplit(request.url).netloc, request.url, f"could not connect ({failure}, the last one)")
        return None

    def count(self, host: str, page: str, how: str) -> None:
        """One more page of ``host``'s streak (``how`` it went, for the log line); trip at the limit."""
        streak = self.streaks.setdefault(host, set())
        streak.add(page)
        if len(streak) >= self.limit:
            self.trip(host, len(streak), how)

    def left(self) -> int:
        """Requests queued or in flight (those in flight fail without a retry now)."""
        engine = self.crawler.engine
        try:
            queued = len(engine._slot.scheduler)  # no public accessor
        except Exception:  # noqa: BLE001 - a scheduler without a length
            queued = 0
        return queued + len(getattr(engine.downloader, "active", ()) or ())

    def trip(self, host: str, pages: int, how: str) -> None:
        from crawler.runs import SITE_UNREACHABLE, CrawlRun, say, told

        left = self.left()
        self.tripped = (
            f"{host} stopped answering: {pages} pages in a row {how} with no "
            f"answer in between; the crawl stopped with {left} request(s) left unfetched, which the next run fetches"
        )
        self.crawler.stats.set_value("pacsto/site_unreachable", host)
        self.crawler.stats.set_value("pacsto/left_unfetched", left)
        CrawlRun.for_crawler(self.crawler).ended_early = self.tripped
        logging.getLogger(__name__).error("%s", self.tripped)
        if told(self.crawler):  # a person watching the progress line hears it now, not only in the summary
            say(self.crawler, self.tripped)
        self.close_spider(SITE_UNREACHABLE)

    def close_spider(self, reason: str) -> None:
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))
