"""Crawl runs: the run from the writer lock to its outcome, resuming an interrupted run, progress.

One ``CrawlRun`` per crawl. ``begin()`` takes the archive's writer lock (``dedupe.archive.lock``:
a second writer exits with ``WriterLocked``), marks runs left 'running' by a killed process as
'interrupted', decides whether this run resumes one (``--jobdir`` remembers the run it
belongs to) and inserts the run's row (``dedupe.archive.crawl_runs``). ``finish()`` writes the
outcome and releases the lock.

Resuming: Scrapy's JOBDIR survives a clean stop (SIGINT/SIGTERM) but not a SIGKILL, whose
request queue and seen-requests file are half-written. So the archive is the truth: a run that
resumes an interrupted one does not fetch again the article and country pages the interrupted
run (and the runs it resumed) stored, and does not store its listing pages again (they are
fetched for their links only). Scrapy's own JOBDIR state is kept after a clean stop and cleared
after a kill or a finished run (a finished run's seen-requests would filter every page).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.revisit import PageRecord, RevisitPolicy, parse_time
from dedupe import DEFAULT_DB
from dedupe.archive import Archive
from dedupe.archive.lock import WriterLock
from dedupe.migrations import upgrade_notice
from dedupe.sources import utc_iso

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

JOBDIR_STATE = "pa-archive-run.json"
ARCHIVE_LOCKED = "archive_locked"  # the close reason of a crawl refused by the archive's writer lock
SITE_UNREACHABLE = "site_unreachable"  # the close reason of a crawl whose site stopped answering (middlewares)
SCRAPY_JOBDIR_FILES = ("requests.seen", "requests.queue", "spider.state")
MAX_ERRORS = 1000


def now_iso() -> str:
    return utc_iso(datetime.now(timezone.utc))


@dataclass
class RunCounts:
    """What a run did to the archive, page by page."""

    pages_fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    skipped: int = 0  # stored by the interrupted run this one resumes
    errors: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, url: str | None = None, message: str = "") -> None:
        if kind == "failed":
            self.failed += 1
            if len(self.errors) < MAX_ERRORS:
                self.errors.append({"url": url, "error": message})
        elif kind in ("new", "changed", "unchanged", "removed", "skipped"):
            setattr(self, kind, getattr(self, kind) + 1)


def without_credentials(url: str) -> str:
    """The URL without ``user:password@``: a start URL is stored in ``crawl_runs`` and printed by ``runs``,
    so a password in it would be kept and shown forever (the crawl never sends it: ``canonical_url``)."""
    from scrapy.utils.url import strip_url  # Scrapy only where a crawl is set up: `pa-archive runs` starts fast

    try:
        return strip_url(url, strip_credentials=True, strip_default_port=False, strip_fragment=False)
    except ValueError:  # not parseable as a URL: drop whatever sits between "//" and the last "@" of the host part
        return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@", r"\1", url)


_RUNS: weakref.WeakKeyDictionary[Crawler, CrawlRun] = weakref.WeakKeyDictionary()


class CrawlRun:
    """One crawl of one archive, from the lock to the ``crawl_runs`` row's outcome."""

    def __init__(
        self, db_path: str | Path, start_urls: list[str], jobdir: str | None = None, max_failed_ratio: float = 0.5
    ) -> None:
        self.db_path = Path(db_path)
        self.start_urls = [without_credentials(url) for url in start_urls]
        self.jobdir = Path(jobdir) if jobdir else None
        self.max_failed_ratio = max_failed_ratio
        self.lock = WriterLock(self.db_path)
        self.archive: Archive | None = None
        self.id: int | None = None
        self.resumed_from: int | None = None
        self.started_at: str | None = None
        self.status = "new"
        self.counts = RunCounts()
        self.stored_before: dict[str, str | None] = {}  # url -> page_type, by the runs this one resumes
        self.writer_summary: dict[str, Any] = {}
        self.writer_error: str | None = None
        self.backlog = 0  # pages handed to the archive writer, not yet stored
        self.writer: Any = None  # the pipeline's archive writer (a second Ctrl-C stops it at once)
        self.stopped_now = False  # by a second Ctrl-C: Scrapy's own JOBDIR state is not trusted then
        self.scrapy_stats: dict[str, Any] = {}
        self.started_clock = time.monotonic()
        self.locked: str | None = None  # another writer held the archive: the crawl closes as 'archive_locked'
        self.ended_early: str | None = None  # why the crawl stopped before its end (one sentence), e.g. the site died
        self.not_stored = 0  # observations sent to the archive writer that it never stored (it failed)

    # ------------------------------------------------------------------ registry

    @classmethod
    def attach(cls, crawler: Crawler, run: CrawlRun) -> CrawlRun:
        _RUNS[crawler] = run
        return run

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> CrawlRun:
        """The crawler's run, made from its settings when the command did not attach one."""
        run = _RUNS.get(crawler)
        if run is None:
            settings = crawler.settings
            spider_urls = getattr(getattr(crawler, "spider", None), "start_urls", None)
            run = cls(
                settings.get("ARCHIVE_DB") or DEFAULT_DB,
                list(spider_urls or settings.getlist("START_URLS")),
                settings.get("JOBDIR") or None,
                settings.getfloat("CRAWL_MAX_FAILED_RATIO", 0.5),
            )
            _RUNS[crawler] = run
        return run

    @property
    def origin(self) -> str:
        return f"crawl:{self.id}"

    # ------------------------------------------------------------------ begin / finish

    def begin(self) -> CrawlRun:
        """Lock the archive, settle stale runs, resume or start, insert the row (idempotent)."""
        if self.id is not None:
            return self
        self.started_at = now_iso()
        self.started_clock = time.monotonic()  # a wait for another run's lock is not this run's time
        self.lock.acquire(
            "crawl",
            {"started_at": self.started_at, "db": str(self.db_path.resolve())},
            if_locked="this run stops without fetching anything",
        )
        try:
            self.archive = Archive(self.db_path, on_upgrade=self._announce_upgrade)
            self.archive.runs.settle_interrupted()
            self.resumed_from = self._prepare_jobdir()
            self.id = self.archive.runs.start(
                self.started_at,
                self.start_urls,
                self.resumed_from,
                str(self.jobdir) if self.jobdir else None,
                os.getpid(),
            )
            self._load_resumed_pages()
            self._write_jobdir_state(clean=False)
            self.status = "running"
        except BaseException as exc:
            self._abandon(exc)
            raise
        return self

    def _abandon(self, exc: BaseException) -> None:
        """A start that failed after the row was inserted (the JOBDIR unwritable, say) ends that row as failed,
        naming why: left 'running', ``runs`` would show a crawl that never fetched as one in progress."""
        try:
            if self.id is not None and self.archive is not None:
                stopped = isinstance(exc, KeyboardInterrupt)  # Ctrl-C while it began: stopped, not broken
                reason = f"the run could not start: {exc}" if str(exc) else f"the run could not start: {exc!r}"
                self.archive.runs.finish(
                    self.id,
                    {
                        "finished_at": now_iso(),
                        "status": "interrupted" if stopped else "failed",
                        **dict.fromkeys(("pages_fetched", "new", "changed", "unchanged", "removed", "failed"), 0),
                        "errors": json.dumps(
                            [{"url": None, "error": "stopped before it began" if stopped else reason}],
                            ensure_ascii=False,
                        ),
                        "stats": json.dumps({"finish_reason": "shutdown" if stopped else "not_started"}),
                    },
                )
        except Exception:  # the archive itself failing: the next run settles the row as interrupted
            pass
        finally:
            self.id = None
            self.close()
            self.lock.release()

    def _prepare_jobdir(self) -> int | None:
        """The run this one resumes (if any); clears Scrapy's JOBDIR state it must not trust."""
        if self.jobdir is None:
            return None
        self.jobdir.mkdir(parents=True, exist_ok=True)
        state_file = self.jobdir / JOBDIR_STATE
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        previous = None
        if state.get("db") == str(self.db_path.resolve()) and state.get("run_id"):
            previous = self.archive.runs.get(state["run_id"])
        resumable = previous is not None and previous["status"] == "interrupted"
        if not (resumable and state.get("clean")):
            for name in SCRAPY_JOBDIR_FILES:  # half-written by a kill, or complete from a finished run
                target = self.jobdir / name
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()
        return previous["id"] if resumable else None

    def _load_resumed_pages(self) -> None:
        run_id = self.resumed_from
        seen: set[int] = set()
        while run_id is not None and run_id not in seen:
            seen.add(run_id)
            for row in self.archive.runs.stored_urls(run_id):
                self.stored_before.setdefault(row["url"], row["page_type"])
            row = self.archive.runs.get(run_id)
            run_id = row["resumed_from"] if row else None

    def _write_jobdir_state(self, clean: bool) -> None:
        if self.jobdir is None:
            return
        state = {"db": str(self.db_path.resolve()), "run_id": self.id, "clean": clean, "pid": os.getpid()}
        tmp = self.jobdir / (JOBDIR_STATE + ".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, self.jobdir / JOBDIR_STATE)

    def conclude(self, reason: str) -> str:
        """The run's status from Scrapy's finish reason and what happened to its pages."""
        tried = self.counts.pages_fetched + self.counts.failed
        if reason in ("shutdown", "interrupted", SITE_UNREACHABLE):  # resumable: the next run goes on
            return "interrupted"
        if self.writer_error or reason != "finished":
            return "failed"
        if tried and self.counts.pages_fetched == 0:
            return "failed"
        if tried and self.counts.failed / tried > self.max_failed_ratio:
            return "failed"
        if not tried and not self.counts.skipped:
            return "failed"
        return "finished"

    def finish(self, reason: str, stats: dict[str, Any] | None = None) -> str:
        """Write the outcome to the run's row, release the lock; returns the status."""
        if self.id is None or self.status not in ("running",):
            return self.status
        self.status = self.conclude(reason)
        if stats is not None:
            self.scrapy_stats = stats
        run_errors = []  # the run's own first: a summary shows the first few errors, then "... and N more"
        if self.writer_error:
            run_errors.append({"url": None, "error": self.writer_error})
        if reason not in ("finished", "shutdown") and not (reason == "archive_writer_failed" and self.writer_error):
            run_errors.append({"url": None, "error": self.ended_early or f"the crawl ended early: {reason}"})
        elif self.status == "failed" and not self.writer_error:
            run_errors.append(
                {
                    "url": None,
                    "error": "too many pages failed" if self.counts.pages_fetched else "no page could be fetched",
                }
            )
        errors = run_errors + list(self.counts.errors)
        summary = {
            "finish_reason": reason,
            "skipped_as_stored": self.counts.skipped,
            "not_stored": self.not_stored,  # counted as failed too
            "resumed_pages": sum(1 for kind in self.stored_before.values() if kind != "listing"),
            "stopped_now": self.stopped_now,
            "elapsed_seconds": round(time.monotonic() - self.started_clock, 2),
            "changes": self.writer_summary.get("changes", {}),
            "archive": self.writer_summary.get("stats", {}),
            "scrapy": _jsonable(self.scrapy_stats),
        }
        try:
            self.archive.runs.finish(
                self.id,
                {
                    "finished_at": now_iso(),
                    "status": self.status,
                    "pages_fetched": self.counts.pages_fetched,
                    "new": self.counts.new,
                    "changed": self.counts.changed,
                    "unchanged": self.counts.unchanged,
                    "removed": self.counts.removed,
                    "failed": self.counts.failed,
                    "errors": json.dumps(errors, ensure_ascii=False),
                    "stats": json.dumps(summary, ensure_ascii=False, default=str),
                },
            )
            # a run stopped at once left Scrapy's request queue mid-write: the next run trusts the archive only
            self._write_jobdir_state(clean=self.status == "interrupted" and not self.stopped_now)
        finally:
            self.close()
        return self.status

    def close(self) -> None:
        if self.archive is not None:
            self.archive.close()
            self.archive = None
        self.lock.release()

    @contextmanager
    def archive_closed(self) -> Iterator[None]:
        """The run's SQLite connection closed meanwhile, reopened after (the lock stays held).

        For forking the archive writer: SQLite must not have a connection carried across a fork
        (https://www.sqlite.org/howtocorrupt.html#_carrying_an_open_database_connection_across_a_fork_),
        and a WAL connection has the -shm file mapped and POSIX locks the child would share.
        """
        if self.archive is None:
            yield
            return
        self.archive.close()
        self.archive = None
        try:
            yield
        finally:
            self.archive = Archive(self.db_path)

    def _announce_upgrade(self, steps: list[str]) -> None:
        """Before the run fetches anything, an archive made by an older pa-archive is upgraded (minutes on
        a large one): said on stderr, where the crawl's progress goes, so the wait is not mistaken for a hang."""
        print(upgrade_notice(self.db_path, steps), file=sys.stderr, flush=True)

    def result(self) -> dict[str, Any]:
        """The run's row as a dict (errors and stats decoded), read back from the archive."""
        with Archive(self.db_path) as archive:
            row = archive.runs.get(self.id)
        return row or {"id": self.id, "status": self.status}

    # ------------------------------------------------------------------ used while crawling

    def validators(self, url: str) -> tuple[str | None, str | None]:
        if self.archive is None:
            return None, None
        return self.archive.last_validators(url)

    def last_content(self, url: str) -> tuple[bytes, str] | None:
        """The URL's newest stored body and the charset it was decoded with."""
        if self.archive is None:
            return None
        return self.archive.last_content(url)

    def already_stored(self, url: str, page_type: str | None) -> bool:
        """Not to be fetched again: stored by the interrupted run this one resumes (listings are re-read)."""
        return url in self.stored_before and (page_type or self.stored_before[url]) != "listing"

    def page_records(self) -> dict[str, PageRecord]:
        """Every URL this archive's crawls observed: its newest observation that was not a failure, and
        whether a failure came after it (the revisit policy's knowledge)."""
        if self.archive is None:
            return {}
        last_seen, last_failed = self.archive.crawled_urls()
        seen = {row["url"]: row for row in last_seen}
        failed = {row["url"]: row for row in last_failed}
        records = {}
        for url in seen.keys() | failed.keys():
            good, bad = seen.get(url), failed.get(url)
            records[url] = PageRecord(
                seen_at=parse_time(good["observed_at"]) if good else None,
                http_status=good["http_status"] if good else None,
                status=good["status"] if good else None,
                page_type=(good or bad)["page_type"],
                failed_last=bad is not None and (good is None or bad["observed_at"] > good["observed_at"]),
            )
        return records

    def revisit_policy(self, revisit_after: float, use_lastmod: bool = True) -> RevisitPolicy:
        """What this run requests again (``crawler.revisit``), from the archive as the run began.

        Pages the interrupted run being resumed stored are not "recently seen" for the listing walk:
        its listing pages are read again, so the walk reaches the articles it had not stored yet."""
        reread = frozenset(url for url, kind in self.stored_before.items() if kind == "listing")
        started = parse_time(self.started_at) if self.started_at else None
        return RevisitPolicy(
            revisit_after=revisit_after,
            records=self.page_records(),
            now=started or datetime.now(timezone.utc),
            reread=reread,
            use_lastmod=use_lastmod,
        )


def revisit_policy(crawler: Crawler | None, revisit_after: float, use_lastmod: bool = True) -> RevisitPolicy:
    """The run's revisit policy; without a run (a bare spider) one that knows no page: everything is new."""
    run = _RUNS.get(crawler) if crawler is not None else None
    if run is None:
        return RevisitPolicy(revisit_after=revisit_after, use_lastmod=use_lastmod)
    return run.revisit_policy(revisit_after, use_lastmod)


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v)) for k, v in stats.items()}


class CrawlRunExtension:
    """Begins the run when the crawler starts (``scrapy crawl`` too) and finishes it with the close reason.

    An archive another writer holds (``scrapy crawl`` under Scrapyd or cron; ``pa-archive crawl`` takes
    the lock before the crawler exists) is one log line with the holder's pid and start, and the spider
    closes as ``archive_locked`` before anything is fetched (the pipeline refuses to open): no traceback,
    no row, and the JOBDIR the holder may be using is not opened."""

    def __init__(self, crawler: Crawler) -> None:
        from dedupe.archive.lock import WriterLocked

        self.crawler = crawler
        self.run = CrawlRun.for_crawler(crawler)
        try:
            self.run.begin()  # before the scheduler reads JOBDIR
        except WriterLocked as exc:
            self.run.locked = str(exc)
            logging.getLogger(__name__).error("%s", exc)
            # the scheduler is built after the extensions: it must not open (and, closing, rewrite) the queue of
            # the crawl holding the lock, which may use the same JOBDIR
            crawler.settings.set("JOBDIR", None, priority=max(crawler.settings.getpriority("JOBDIR") or 0, 100))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlRunExtension:
        from scrapy import signals

        ext = cls(crawler)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Any, reason: str) -> None:
        if self.run.locked:
            return  # said when the lock was refused; the holder's run is not ours to finish
        stats = dict(self.crawler.stats.get_stats())
        stats["finish_reason"] = reason
        status = self.run.finish(reason, stats)
        spider.logger.info("crawl run %s %s: %s", self.run.id, status, self.run.counts)


# --------------------------------------------------------------------------- progress


_REPORTERS: weakref.WeakKeyDictionary[Crawler, ProgressReporter] = weakref.WeakKeyDictionary()


def say(crawler: Crawler | None, text: str) -> None:
    """Tell the person at the terminal something now, above the progress line if there is one."""
    reporter = _REPORTERS.get(crawler) if crawler is not None else None
    if reporter is not None:
        reporter.say(text)
    else:
        print(text, file=sys.stderr, flush=True)


def told(crawler: Crawler | None) -> bool:
    """Whether a person watches this crawl's progress line (``say`` then reaches them at once)."""
    return crawler is not None and crawler in _REPORTERS


def stop_progress(crawler: Crawler | None) -> None:
    """Take the live progress line away now (a crawl stopped at once never reaches spider_closed)."""
    reporter = _REPORTERS.get(crawler) if crawler is not None else None
    if reporter is not None:
        reporter.spider_closed(None)


class ProgressReporter:
    """A progress line on stderr while the crawl runs: a live line on a terminal, else one every N s."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.interactive = sys.stderr.isatty()
        self.interval = crawler.settings.getfloat("PROGRESS_INTERVAL", 0.5 if self.interactive else 10.0)
        self.task: Any = None
        self.live: Any = None
        self.last_line = ""
        _REPORTERS[crawler] = self

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressReporter:
        from scrapy import signals

        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def line(self) -> str:
        run = _RUNS.get(self.crawler)
        counts = run.counts if run else RunCounts()
        engine = self.crawler.engine
        try:
            queued = len(engine._slot.scheduler)  # no public accessor
        except Exception:
            queued = 0
        in_flight = len(getattr(engine.downloader, "active", ()) or ())
        backlog = run.backlog if run else 0
        return (
            f"{counts.pages_fetched} pages: {counts.new} new, {counts.changed} changed, {counts.unchanged} "
            f"unchanged, {counts.removed} removed, {counts.failed} failed | {queued} queued, {in_flight} in "
            f"flight, {backlog} to store"
        )

    def say(self, text: str) -> None:
        """One line above the live progress line (or on its own when there is none)."""
        if self.live is not None:
            self.live.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            print(text, file=sys.stderr, flush=True)

    def spider_opened(self, spider: Any) -> None:
        from twisted.internet import task

        if self.interactive:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(
                self._text(self.line()), console=Console(stderr=True), refresh_per_second=4, transient=True
            )
            self.live.start()
        self.task = task.LoopingCall(self.tick)
        self.task.start(self.interval, now=False)

    def tick(self) -> None:
        text = self.line()
        if self.live is not None:
            self.live.update(self._text(text))
        elif text != self.last_line:
            print(text, file=sys.stderr, flush=True)
        self.last_line = text

    @staticmethod
    def _text(line: str) -> Any:
        from rich.text import Text

        return Text("crawling: " + line, no_wrap=True, overflow="ellipsis")

    def spider_closed(self, spider: Any) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()
        if self.live is not None:
            self.live.stop()
            self.live = None
