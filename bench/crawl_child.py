"""One crawl of the benchmark, in a process of its own (Twisted's reactor cannot restart).

    python -m bench.crawl_child full URL --db archive.db     # what `pa-archive crawl` does
    python -m bench.crawl_child full URL --db archive.db --revisit-after 0   # a full revisit
    python -m bench.crawl_child bare URL                      # the same spider, nothing stored

Both run the ``pacsto`` spider with the same settings (no delay, no AutoThrottle, 8 requests at a
time to the one host) in the same kind of process; ``bare`` disables what the archive adds:
the archive pipeline, the crawl-run extension and the middleware that makes requests
conditional. ``full`` uses the project's revisit policy (``REVISIT_AFTER``, 7 days) unless
``--revisit-after`` says otherwise. Prints one JSON line: pages (stored observations), requests
(every request sent, robots.txt and the sitemap included), seconds (from starting the crawl to
its end, the archive's final refresh included), CPU seconds of this process and its children,
and the writer's CPU seconds by stage (``writer_stages``: see ``instrument_writer``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Polite defaults off: the benchmark measures the pipeline, not the politeness (crawler.process.FAST_SETTINGS).
BENCH_SETTINGS = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "LOG_LEVEL": "WARNING",
    "LOGSTATS_INTERVAL": 0,
}
ARCHIVE_MIDDLEWARE = "crawler.middlewares.ArchiveMiddleware"


def _cpu_seconds() -> tuple[float, float]:
    """User + system CPU of this process, and of its waited-for children (the archive writer)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def preload() -> None:
    """Import what both modes load lazily (Scrapy's HTTP handler, the archive), so that neither
    crawl's seconds include a second or two of imports the other does not pay."""
    from scrapy.settings import Settings
    from scrapy.utils.reactor import install_reactor

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    install_reactor(settings.get("TWISTED_REACTOR"))  # before anything imports twisted's default one

    import scrapy.core.downloader.handlers.http11  # noqa: F401
    import scrapy.crawler  # noqa: F401

    import crawler.middlewares  # noqa: F401
    import crawler.pipelines  # noqa: F401
    import crawler.process  # noqa: F401
    import crawler.runs  # noqa: F401
    import crawler.spiders.pacsto  # noqa: F401
    import dedupe.archive  # noqa: F401


def instrument_writer(report: Path) -> None:
    """Make the archive writer write its CPU seconds by stage to ``report`` when it finishes.

    The writer is another process (forked from this one, so it inherits the patched class), whose CPU
    the crawl sees only as a whole. Inside it the archive already counts ``analyse`` (its analysis workers
    included) and ``store``
    (``StageClock``); here the final refresh is counted as ``derive`` (its stemming as ``index``), and
    the rest of the process's CPU (queues, the per-page "is this URL known" query, reading the
    run's before and after state) as ``other``, so the stages add up to the writer's whole CPU."""
    from crawler.pipelines import ArchiveWriter

    finish = ArchiveWriter.finish

    def counted_finish(self: ArchiveWriter) -> dict[str, Any]:
        clock, refresh = self.archive.stage_cpu, self.archive.refresh

        def counted_refresh() -> Any:
            with clock.derive():
                return refresh()

        self.archive.refresh = counted_refresh  # type: ignore[method-assign]
        summary = finish(self)
        own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        stages = dict(clock.seconds)  # ``analyse`` includes the writer's analysis workers (ended by now)
        used = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
        stages["other"] = max(0.0, used - sum(stages.values()))
        report.write_text(json.dumps(stages), encoding="utf-8")
        return summary

    ArchiveWriter.finish = counted_finish  # type: ignore[method-assign]


def crawl_full(url: str, db: str, revisit_after: str | None = None) -> dict:
    """``pa-archive crawl --start-url URL --db DB [--revisit-after D]`` with the benchmark's settings."""
    from crawler.process import crawl_settings, run_crawl

    overrides = tuple(f"{name}={value}" for name, value in BENCH_SETTINGS.items())
    settings = crawl_settings(db, None, overrides, "WARNING", False, revisit_after)
    start = time.perf_counter()
    run = run_crawl(settings, [url])
    seconds = time.perf_counter() - start
    result = run.result()
    stats = (result.get("stats") or {}).get("scrapy") or {}
    return {
        "mode": "full",
        "pages": result.get("pages_fetched", 0),
        "seconds": seconds,
        "status": result.get("status"),
        "new": result.get("new"),
        "unchanged": result.get("unchanged"),
        "failed": result.get("failed"),
        "responses": stats.get("response_received_count"),
        "not_modified": stats.get("downloader/response_status_count/304", 0),
        "requests": stats.get("downloader/request_count", 0),
        "not_due": stats.get("pacsto/not_due", 0),
        "revisit_after_seconds": stats.get("pacsto/revisit/revisit_after_seconds"),
        # the tail: pages still queued for the writer when the spider finished, and the seconds from then to
        # the writer's end (storing them, the final refresh), when only the writer works
        "writer_backlog_at_close": stats.get("archive/backlog_at_close"),
        "writer_close_seconds": stats.get("archive/close_seconds"),
    }


def crawl_bare(url: str) -> dict:
    """The ``pacsto`` spider alone: its items go nowhere."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.spiders.pacsto import PacstoSpider

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for name, value in BENCH_SETTINGS.items():
        settings.set(name, value, priority="cmdline")
    middlewares = {k: v for k, v in settings.getdict("DOWNLOADER_MIDDLEWARES").items() if k != ARCHIVE_MIDDLEWARE}
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="cmdline")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("EXTENSIONS", {}, priority="cmdline")
    settings.set("REVISIT_ARCHIVED", False, priority="cmdline")
    settings.set("ARCHIVE_DB", "", priority="cmdline")
    start = time.perf_counter()  # from the same point as run_crawl: engine creation included
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(PacstoSpider)
    process.crawl(crawler, start_urls=[url])
    process.start()
    seconds = time.perf_counter() - start
    stats = crawler.stats.get_stats()
    return {
        "mode": "bare",
        "pages": stats.get("item_scraped_count", 0),
        "seconds": seconds,
        "status": stats.get("finish_reason"),
        "responses": stats.get("response_received_count"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.crawl_child", description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("full", "bare"))
    parser.add_argument("url", help="start URL, e.g. http://127.0.0.1:8000/events")
    parser.add_argument("--db", help="the archive (full mode)")
    parser.add_argument("--revisit-after", help="REVISIT_AFTER of the full crawl (default: the project's, 7d)")
    args = parser.parse_args(argv)
    if args.mode == "full" and not args.db:
        parser.error("full mode needs --db")
    preload()
    report = Path(tempfile.mkdtemp(prefix="pa-bench-writer-")) / "stages.json"
    instrument_writer(report)
    cpu = _cpu_seconds()
    result = crawl_full(args.url, args.db, args.revisit_after) if args.mode == "full" else crawl_bare(args.url)
    own, children = _cpu_seconds()
    result["cpu_seconds"] = own + children - sum(cpu)
    result["cpu_seconds_crawler"] = own - cpu[0]
    result["cpu_seconds_writer"] = children - cpu[1]
    if report.exists():
        result["writer_stages"] = json.loads(report.read_text(encoding="utf-8"))
        report.unlink()
    os.rmdir(report.parent)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
