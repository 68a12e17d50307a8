"""Downloader middlewares: the host fence, retries with backoff, and the archive's part in requests.

* ``AllowedHostsMiddleware`` refuses every request off the spider's hosts (redirect targets
  and ``dont_filter`` requests included) before robots.txt is even asked for, and every
  redirect from https to http (same host or not).
* ``BackoffRetryMiddleware`` is Scrapy's retry (5xx, timeouts, truncated bodies...) with an
  exponential pause before each new attempt.
* ``ArchiveMiddleware`` makes requests conditional on the archive's validators, answers a 304
  with the archived body (so a listing that did not change still yields its links), and skips
  pages that the interrupted run being resumed has already stored.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import reactor
from twisted.internet.task import deferLater

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
    """Retry 5xx answers and network errors, waiting base * 2**(n-1) seconds (jittered) before try n+1."""

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 2.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    def _retry(self, request: Request, reason: Any) -> Request | None:
        retry = super()._retry(request, reason)
        if retry is not None and self.base > 0:
            attempt = retry.meta.get("retry_times", 1)
            retry.meta["retry_delay"] = min(self.cap, self.base * 2 ** (attempt - 1)) * random.uniform(0.8, 1.2)
        return retry

    async def process_request(self, request: Request) -> None:
        delay = request.meta.pop("retry_delay", 0)
        if delay:
            await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return None


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
