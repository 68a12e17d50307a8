"""``scrapy crawl``, as cron and Scrapyd run it, with the exit statuses of ``pa-archive crawl``.

Scrapy's own command exits 0 for any crawl that started: a crawl refused because another run holds the archive
looked like a finished one to a cron job, and a setting Scrapy's components cannot read (``-s RETRY_TIMES=many``)
ended in a traceback. This command checks the settings first (``crawler.settings.setting_errors``: one line each,
naming the ``PA_`` variable a value came from, exit status 2, nothing locked or fetched) and exits 75
(EX_TEMPFAIL, as ``pa-archive crawl`` does) when the spider closed as ``archive_locked``, 1 when the run failed or
was interrupted (site unreachable, too many failures, Ctrl-C), 0 when it finished.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from scrapy import signals
from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.runs import ARCHIVE_LOCKED

EXIT_BAD_SETTINGS = 2  # as click's usage errors
EXIT_LOCKED = 75  # EX_TEMPFAIL: try again later


class Command(ScrapyCrawl):
    def short_desc(self) -> str:
        return "Run a spider of the current project, by name (settings checked first; 75 if the archive is busy)"

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        from crawler.settings import setting_errors

        if len(args) != 1:
            raise UsageError("give one spider's name: scrapy crawl pacsto")
        assert self.settings is not None and self.crawler_process is not None
        errors = setting_errors(self.settings) + _start_url_errors(self.settings, opts.spargs)
        if errors:
            for error in errors:
                print(f"Error: {error}", file=sys.stderr)
            self.exitcode = EXIT_BAD_SETTINGS
            return
        crawler = self._create_crawler(args[0])
        reasons: list[str] = []
        crawler.signals.connect(lambda spider, reason: reasons.append(reason), signal=signals.spider_closed, weak=False)
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if reasons == [ARCHIVE_LOCKED]:
            self.exitcode = EXIT_LOCKED
        elif self.crawler_process.bootstrap_failed or _run_status(crawler) in ("failed", "interrupted"):
            self.exitcode = 1  # as pa-archive crawl


def _start_url_errors(settings: Any, spargs: dict[str, str]) -> list[str]:
    """The start URLs' problem (``-a start_url=ftp://...`` was a traceback from the spider's constructor), as
    ``pa-archive crawl`` says it."""
    from crawler.spiders.pacsto import HostScope

    urls = [u.strip() for u in [spargs.get("start_url") or "", *(spargs.get("start_urls") or "").split(",")]]
    urls = [u for u in urls if u] or settings.getlist("START_URLS")
    try:
        HostScope.from_urls(urls)
    except ValueError as exc:
        return [f"{exc}."]
    return []


def _run_status(crawler: Any) -> str:
    """The status the crawl's run ended with (``crawler.runs``: 'finished', 'failed', 'interrupted')."""
    from crawler.runs import CrawlRun

    return CrawlRun.for_crawler(crawler).status
