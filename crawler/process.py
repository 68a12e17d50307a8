"""Running a crawl: the settings, the Scrapy process, a crawl in a child process, the demo's archive.

No click here: ``pa-archive crawl`` and ``demo`` (``cli.py``) and the benchmark
(``bench/crawl_child.py``) call these. A value the crawl cannot use raises ``CrawlSetupError``
(one sentence); the command layer turns it into its usage error.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Scrapy, Twisted and the archive are imported inside the functions: `pa-archive --help` stays fast.

FAST_SETTINGS = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=false", "CONCURRENT_REQUESTS_PER_DOMAIN=8")
DEMO_MARK = ("made_by", "pa-archive demo")  # an archive_state row: this archive is the demo's, to replace


class CrawlSetupError(ValueError):
    """A setting, start URL or archive path the crawl cannot use (one sentence); nothing was fetched."""


class CrawlFailed(RuntimeError):
    """A crawl in a child process ended without its JSON summary."""


def check_db_folder(db_path: str) -> None:
    """Refuse an archive path whose folder does not exist (a typo must not create folders)."""
    folder = Path(db_path).expanduser().parent
    if not folder.is_dir():
        raise CrawlSetupError(f"cannot use {db_path} as the archive: the folder {folder} does not exist.")


def log_path(db_path: str) -> str:
    """Where a crawl of ``db_path`` writes Scrapy's log unless ``--verbose``: beside the archive, named after it."""
    path = Path(db_path)
    return str(path.with_name(path.stem + "-crawl.log"))


def crawl_settings(
    db_path: str | None,
    jobdir: str | None,
    overrides: tuple[str, ...],
    log_level: str | None,
    progress: bool,
    revisit_after: str | None = None,
    verbose: bool = True,
) -> Any:
    """The project's Scrapy settings, then -s NAME=VALUE, then the flags.

    Without ``verbose`` Scrapy's log goes to a file beside the archive (``log_path``): a person at the
    terminal reads one sentence per failure in the run's summary, not Scrapy's tracebacks."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    for item in overrides:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise CrawlSetupError(f"-s {item}: a setting is given as NAME=VALUE, e.g. -s DOWNLOAD_DELAY=2.")
        settings.set(name.strip(), value, priority="cmdline")
    if db_path:
        settings.set("ARCHIVE_DB", db_path, priority="cmdline")
    if jobdir:
        settings.set("JOBDIR", jobdir, priority="cmdline")
    if revisit_after is not None:
        settings.set("REVISIT_AFTER", revisit_after, priority="cmdline")
    if log_level and "LOG_LEVEL" not in {o.partition("=")[0].strip() for o in overrides}:
        settings.set("LOG_LEVEL", log_level.upper(), priority="cmdline")
    if not verbose and "LOG_FILE" not in {o.partition("=")[0].strip() for o in overrides}:
        settings.set("LOG_FILE", log_path(settings.get("ARCHIVE_DB") or "archive.db"), priority="cmdline")
    if progress:
        extensions = settings.getdict("EXTENSIONS")
        extensions["crawler.runs.ProgressReporter"] = 900
        settings.set("EXTENSIONS", extensions, priority="cmdline")
    from crawler.settings import setting_errors

    errors = setting_errors(settings)
    if errors:
        raise CrawlSetupError(errors[0])
    return settings


def run_crawl(settings: Any, start_urls: list[str], wait: float = 0, on_wait: Callable[[], None] | None = None) -> Any:
    """Lock the archive, run the pacsto spider in this process (once: the reactor cannot restart).

    Another writer holding the archive is waited for up to ``wait`` seconds (``on_wait`` is called once, when the
    wait starts: ``pa-archive crawl --wait`` says so on stderr); WriterLocked after that. The run's clock starts
    when it holds the lock (``CrawlRun.begin``)."""
    from scrapy.crawler import CrawlerProcess

    from crawler.runs import CrawlRun
    from crawler.spiders.pacsto import HostScope, PacstoSpider
    from dedupe.archive.lock import WriterLocked

    urls = start_urls or settings.getlist("START_URLS")
    try:
        HostScope.from_urls(urls)
    except ValueError as exc:
        raise CrawlSetupError(f"{exc}.") from None
    run = CrawlRun(
        settings.get("ARCHIVE_DB"),
        urls,
        settings.get("JOBDIR") or None,
        settings.getfloat("CRAWL_MAX_FAILED_RATIO", 0.5),
    )
    deadline = time.monotonic() + wait
    while True:
        try:
            run.begin()  # WriterLocked: nothing fetched, nothing written
            break
        except WriterLocked:
            if time.monotonic() >= deadline:
                raise
            if on_wait is not None:
                on_wait()
                on_wait = None
            time.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
    proxied = any(os.environ.get(name) for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"))
    problem = None if proxied else unreachable(urls, settings.getfloat("DOWNLOAD_TIMEOUT", 30))
    if problem:  # no start host answers: one sentence at once, not a retried failure per page
        run.writer_error = problem
        run.finish("finished")
        return run
    process = CrawlerProcess(settings)
    quiet_scrapy_advice()
    crawler = process.create_crawler(PacstoSpider)
    CrawlRun.attach(crawler, run)
    failures: list[str] = []
    deferred = process.crawl(crawler, start_urls=urls)
    deferred.addErrback(lambda failure: failures.append(f"{failure.type.__name__}: {failure.value}"))
    interrupts = Interrupts(process, crawler, run)
    from twisted.internet import reactor

    reactor.addSystemEventTrigger("after", "startup", interrupts.install)
    process.start(install_signal_handlers=False)  # ours: Scrapy's second Ctrl-C waited for the writer for good
    if run.status == "running":  # the crawl could not start or close normally
        run.writer_error = run.writer_error or (failures[0] if failures else "the crawl stopped unexpectedly")
        run.finish("shutdown" if interrupts.count else "error")
    return run


def unreachable(urls: list[str], timeout: float = 10) -> str | None:
    """One sentence when none of the start URLs' hosts can be reached (its name does not resolve, or it
    refuses or ignores a connection); None when one can. A TCP connection only: HTTP errors are the crawl's."""
    import socket
    import threading
    from urllib.parse import urlsplit

    timeout = max(1.0, min(timeout, 10.0))
    problems = []
    for url in dict.fromkeys(urls):
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        found: list[Any] = []

        def resolve(host: str = host, port: int = port, found: list[Any] = found) -> None:
            try:
                found.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
            except OSError as exc:
                found.append(exc)

        worker = threading.Thread(target=resolve, daemon=True)
        worker.start()
        worker.join(timeout)
        if not found:
            problems.append(f"{host}: its name did not resolve within {timeout:.0f} s (is there a network?)")
            continue
        if isinstance(found[0], OSError):
            problems.append(f"{host}: its name does not resolve (DNS lookup failed: no network, or a mistyped host)")
            continue
        reason = None
        for family, kind, proto, _, address in found[0]:
            try:
                with socket.socket(family, kind, proto) as sock:
                    sock.settimeout(timeout)
                    sock.connect(address)
                reason = None
                break
            except ConnectionRefusedError:
                reason = "it refused the connection (is the site, or `pa-archive replica`, running?)"
            except TimeoutError:
                reason = f"it did not answer within {timeout:.0f} s"
            except OSError as exc:
                reason = f"it cannot be reached ({exc.strerror or exc})"
        if reason is None:
            return None
        problems.append(f"{host}:{port}: {reason}")
    if not problems:
        return None
    return "cannot reach " + "; ".join(problems) + "; nothing was fetched"


_ADVICE = re.compile(
    r"\s*If you want to process broken responses set the setting DOWNLOAD_FAIL_ON_DATALOSS = False"
    r"(?: -- This message won't be shown in further requests)?"
)


def quiet_scrapy_advice() -> None:
    """Take Scrapy's advice to set DOWNLOAD_FAIL_ON_DATALOSS = False out of every log record ("Got data loss
    in URL." stays): a truncated body must never become a page, so the advice is not for this tool's users.

    A record factory, not a handler filter: Scrapy installs its handlers when the crawl starts and quotes
    the advice inside other records too (the retry middleware's "Gave up retrying ...: <the error>")."""
    import logging

    previous = logging.getLogRecordFactory()
    if getattr(previous, "pa_archive", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is left to logging to report
            return record
        if "DOWNLOAD_FAIL_ON_DATALOSS" in text:
            record.msg, record.args = _ADVICE.sub("", text), ()
        return record

    factory.pa_archive = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class Interrupts:
    """Ctrl-C and SIGTERM during a crawl, as a person at the terminal expects them.

    The first says at once what it waits for and stops gracefully: no new request, the pages in flight
    are fetched and every fetched page is stored, Scrapy saves its JOBDIR queue; the run is
    ``interrupted`` and resumable. The second stops now: the archive writer finishes the page it is
    storing and leaves the rest (each page is one transaction), the run's row is written as
    ``interrupted`` and the reactor is stopped without waiting for downloads. A third ends the process.
    Scrapy's own handlers are not used: after its second Ctrl-C the reactor waited on a thread that
    waited for the writer to store its whole queue, so the crawl never returned."""

    WRITER_GRACE = 10.0  # seconds the writer has to finish its current page after the second signal

    def __init__(self, process: Any, crawler: Any, run: Any) -> None:
        self.process, self.crawler, self.run = process, crawler, run
        self.count = 0

    def install(self) -> None:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self.handle)

    def handle(self, signum: int, _frame: Any) -> None:
        """The signal handler: only counts and hands the work to the reactor (no I/O on shared streams here)."""
        from twisted.internet import reactor

        self.count += 1
        if self.count == 1:
            reactor.callFromThread(self.stop_gracefully, signum)
        elif self.count == 2:
            reactor.callFromThread(self.stop_now)
        else:
            os.write(2, b"\nstopped at once: the archive keeps what was stored; run the crawl again to go on.\n")
            if self.run.writer is not None:
                self.run.writer.kill()
            os._exit(130)

    def in_flight(self) -> tuple[int, int]:
        """(downloads in flight, fetched pages not yet stored)."""
        engine = getattr(self.crawler, "engine", None)
        downloads = len(getattr(getattr(engine, "downloader", None), "active", ()) or ())
        return downloads, self.run.backlog

    def stop_gracefully(self, signum: int = signal.SIGINT) -> None:
        from crawler.runs import say

        downloads, backlog = self.in_flight()
        waiting = f" and storing {backlog} fetched page(s)" if backlog else ""
        pages = "page" if downloads == 1 else "pages"
        if signum == signal.SIGINT:  # a person at the terminal
            say(self.crawler, f"stopping after {downloads} {pages} in flight{waiting} (Ctrl-C again to stop now)")
        else:  # systemd, kill, a scheduler: name the signal, and how to force the stop without a terminal
            name = signal.Signals(signum).name
            say(
                self.crawler,
                f"{name} received: stopping after {downloads} {pages} in flight{waiting} "
                f"(send {name} again, or Ctrl-C, to stop now)",
            )
        self.process.stop()  # the crawl closes with reason "shutdown"; the reactor stops when it has

    def stop_now(self) -> None:
        from twisted.internet import reactor

        from crawler.runs import say, stop_progress

        say(self.crawler, "stopping now: the page being stored is finished, the rest is left for the next run")
        run = self.run
        writer = run.writer
        if writer is not None:
            writer.abort()
            for url, kind, message in writer.close(timeout=self.WRITER_GRACE):
                run.counts.add(kind, url, message)
            run.writer_summary = writer.summary or {}
            run.writer_error = writer.error
        run.stopped_now = True
        stats = dict(self.crawler.stats.get_stats()) if getattr(self.crawler, "stats", None) else {}
        run.finish("shutdown", stats)
        stop_progress(self.crawler)
        reactor.crash()  # not reactor.stop(): its shutdown triggers wait for the downloads in flight


def crawl_subprocess(db_path: str, start_urls: list[str], *extra: str, timeout: float = 120) -> dict[str, Any]:
    """One ``pa-archive crawl`` in a child process (a Twisted reactor runs once per process); its JSON summary."""
    command = [sys.executable, "-m", "cli", "crawl", "--db", str(Path(db_path).resolve()), "--json", "--no-progress"]
    for url in start_urls:
        command += ["--start-url", url]
    for setting in FAST_SETTINGS:
        command += ["-s", setting]
    command += list(extra)
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    try:
        return json.loads(done.stdout)
    except ValueError:
        raise CrawlFailed(f"the crawl failed (exit status {done.returncode}): {done.stderr.strip()[-800:]}") from None


def is_demo_archive(db_path: str | Path) -> bool:
    """True for an archive an earlier demo made (its archive_state row says so), read without writing."""
    import sqlite3

    from dedupe.archive import ReadOnlyArchive
    from dedupe.readonly import connect_read_only

    try:
        conn = connect_read_only(db_path)
    except sqlite3.Error:
        return False
    try:
        return ReadOnlyArchive(conn).state(DEMO_MARK[0]) == DEMO_MARK[1]
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def prepare_demo_archive(db_path: str, force: bool) -> None:
    """Remove the demo's earlier archive (never anything else unless forced), then make a marked empty one."""
    from dedupe.archive import Archive

    check_db_folder(db_path)
    path = Path(db_path)
    if path.exists() and not force and not is_demo_archive(path):
        raise CrawlSetupError(
            f"{db_path} exists and is not an archive the demo made: give another --db, or --force to replace it."
        )
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(db_path + suffix).unlink(missing_ok=True)
    with Archive(db_path) as archive:
        archive.set_state(*DEMO_MARK)
