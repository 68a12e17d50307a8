"""The archive pipeline: every page the spider yields goes to ``Archive.add`` (as ``import`` does).

Analysing a page (decoding, extraction, MinHash) costs far more than fetching it from a nearby
server, so by default the archive is written by a separate **writer process** fed through a
queue: the crawl never waits for the archive. While the crawl is ahead, the writer takes what has
queued up as one batch (STREAM_BATCH pages, one transaction), has it analysed by worker processes
of its own and derives the batch before while they work (``Archive.ingest``: the import's path);
while it keeps up, it stores what arrived at once (``FLUSH``), as few as one page. Each page is
answered in the order it came. At the end of the crawl the writer stores what is left, refreshes
the derived tables and reports what changed. If the writer falls far behind, the engine pauses
until it catches up; if it dies, the run is closed as failed. ``ARCHIVE_WRITER = "inline"`` stores in the crawl's
own thread instead (simpler to debug, slower).
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider
from twisted.internet import task, threads

from crawler.items import PageFailure
from crawler.runs import ARCHIVE_LOCKED, CrawlRun
from crawler.spiders.pacsto import first_redirect_status, redirect_removal
from dedupe.analysis import changes
from dedupe.archive import FLUSH, AddResult, Archive, Flush
from dedupe.document import RawSnapshot
from dedupe.pages import says_removed
from dedupe.sources import utc_iso

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

HIGH_WATER = 400  # pages waiting for the writer before the engine pauses
LOW_WATER = 100
STREAM_BATCH = 100  # pages per transaction while the crawl is ahead of the writer (fewer while it keeps up)
STREAM_WORKERS = None  # analysis processes of the writer: one per CPU (1: analyse in the writer itself)


# --------------------------------------------------------------------------- the writer's work


class ArchiveWriter:
    """Stores observations and names what each one was for the run: new, changed, unchanged, removed, failed."""

    def __init__(self, db_path: str) -> None:
        self.archive = Archive(db_path)
        self.archive.refresh()  # a killed run may have left the derived tables behind
        self.before = changes.read_state(self.archive)
        self.origins: set[str] = set()  # the run's ('crawl:<id>'): its pages' contradictions go in the summary

    def store(self, snap: RawSnapshot, failure: str | None = None) -> tuple[str, str]:
        """(kind, message) of one observation after storing it; ``failure`` records a page that failed."""
        known, refused = self._admit(snap, failure)
        return refused or self._kind(self.archive.add(snap), failure, known)

    def store_stream(
        self, pages: Iterable[tuple[RawSnapshot, str | None] | Flush], answer: Callable[[str, str, str], None]
    ) -> None:
        """Store a stream of (snapshot, failure) as ``store`` does each, with ``answer(url, kind, message)``
        for each in the order they came: in batches while the crawl is ahead (analysed by worker processes,
        derived between batches), one at a time while the writer keeps up. ``FLUSH``: nothing more for now."""
        answers = _InOrder(answer)
        queued: set[str] = set()  # URLs with content sent to the archive, maybe not stored yet

        def to_store() -> Iterator[RawSnapshot | Flush]:
            for page in pages:
                if isinstance(page, Flush):
                    yield page
                    continue
                snap, failure = page
                known, refused = self._admit(snap, failure, queued)
                if refused:
                    answers.now(snap.url, *refused)
                    continue
                if failure is None and (snap.body or snap.http_status == 304):
                    queued.add(snap.url)
                answers.expect(snap, (failure, known))
                yield snap

        def stored(item: Any, result: AddResult | None) -> None:
            failure, known = answers.context(item)
            answers.done(item, *self._kind(result, failure, known))

        self.archive.ingest(
            to_store(), workers=STREAM_WORKERS, size=STREAM_BATCH, first_batch=STREAM_BATCH, listener=stored
        )

    def _admit(
        self, snap: RawSnapshot, failure: str | None, queued: set[str] | frozenset = frozenset()
    ) -> tuple[bool, tuple[str, str] | None]:
        """Whether the URL had content before this observation (in the archive, or ``queued`` earlier in
        this stream), and the answer if it is not to be stored: a 404/410 of a URL never archived has
        nothing to mark removed. Notes the run's origin (its pages' contradictions go in the summary)."""
        if snap.origin:
            self.origins.add(snap.origin)
        if failure is not None:
            return False, None  # a failed page is stored as a failure whatever the archive holds
        known = snap.url in queued or self.archive.has_content(snap.url)
        location = snap.headers.get("Location")
        if not known and says_removed(snap.url, snap.http_status, location):
            gone = f"redirected to {location}" if location else "not found"
            return False, ("failed", f"HTTP {snap.http_status}: linked but {gone} (never archived)")
        return known, None

    @staticmethod
    def _kind(result: AddResult | None, failure: str | None, known: bool) -> tuple[str, str]:
        if failure is not None:
            return "failed", failure  # stored as a snapshot without content, status 'error': the URL's history shows it
        if result is None:
            return "failed", "not stored"
        if result.status == "new":
            return ("changed" if known else "new"), ""
        if result.status in ("seen_again", "not_modified", "duplicate"):
            return "unchanged", ""
        if result.status == "removed":
            return "removed", ""
        return "failed", result.message or f"not stored ({result.status})"

    def finish(self) -> dict[str, Any]:
        """Refresh the derived tables once; what changed since the writer opened the archive."""
        self.archive.refresh()
        found = changes.delta(self.before, changes.read_state(self.archive))
        found.contradictions = [c for origin in sorted(self.origins) for c in self.archive.contradictions(origin)]
        summary = {"changes": found.as_dict(), "stats": self.archive.stats()}
        self.archive.close()
        return summary


class _InOrder:
    """The writer's answers in the order the pages came, though a page refused at once may come after pages
    still being analysed: each waits for the ones before it."""

    def __init__(self, answer: Callable[[str, str, str], None]) -> None:
        self.answer = answer
        self.waiting: collections.deque[list] = collections.deque()  # [url, kind, message]; kind None: not yet
        self.slots: dict[int, tuple[list, Any]] = {}  # id(snapshot) -> (its entry, what the caller keeps)

    def expect(self, snap: RawSnapshot, context: Any) -> None:
        entry = [snap.url, None, ""]
        self.waiting.append(entry)
        self.slots[id(snap)] = (entry, context)

    def context(self, snap: RawSnapshot) -> Any:
        return self.slots[id(snap)][1]

    def done(self, snap: RawSnapshot, kind: str, message: str) -> None:
        entry, _ = self.slots.pop(id(snap))
        entry[1:] = kind, message
        self._release()

    def now(self, url: str, kind: str, message: str) -> None:
        self.waiting.append([url, kind, message])
        self._release()

    def _release(self) -> None:
        while self.waiting and self.waiting[0][1] is not None:
            self.answer(*self.waiting.popleft())


class WriterStopped(Exception):
    """The crawl asked the writer to stop now (``abort``), or the crawl process is gone."""


def _inbox_pages(inbox: Any, parent_pid: int, abort: Any) -> Iterator[tuple[RawSnapshot, str | None] | Flush]:
    """The pages the crawl sends, until ("stop",); ``FLUSH`` each time the queue runs dry, so what arrived
    is stored now rather than when a batch fills. Raises WriterStopped on abort or when the crawl is gone."""
    dry = True
    while True:
        if abort is not None and abort.is_set():
            raise WriterStopped("aborted")
        try:
            message = inbox.get(timeout=0.2) if dry else inbox.get_nowait()
        except queue.Empty:
            if not dry:
                dry = True
                yield FLUSH
            elif os.getppid() != parent_pid:
                raise WriterStopped("orphaned") from None  # the crawl was killed: store nothing more
            continue
        if message[0] == "stop":
            return
        if os.getppid() != parent_pid:
            raise WriterStopped("orphaned")
        dry = False
        yield message[1], message[2]


def writer_main(db_path: str, inbox: Any, outbox: Any, parent_pid: int, abort: Any = None) -> None:
    """The writer process: ("page", RawSnapshot, failure) in, ("result", url, kind, message) out, until ("stop",).

    ``abort`` (an Event) set by the crawl means "stop now": the batch being stored is finished (each batch is
    one transaction), the queued pages are left, and the derived tables are left for the next command to
    bring up to date, so the writer exits within about one batch's time and never waits on its queue."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the crawl stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # the crawl sees a daemon process (ended if the crawl exits); inside, it may start analysis workers of its
    # own, which multiprocessing refuses a daemon. They die with it (PR_SET_PDEATHSIG: observations._die_with_parent)
    multiprocessing.current_process().daemon = False
    try:
        writer = ArchiveWriter(db_path)
        outbox.put(("ready",))
        try:
            writer.store_stream(
                _inbox_pages(inbox, parent_pid, abort), lambda url, kind, text: outbox.put(("result", url, kind, text))
            )
        except WriterStopped as stopped:
            writer.archive.close()
            if str(stopped) == "aborted":
                outbox.put(("aborted",))
            return
        outbox.put(("done", writer.finish()))
    except BaseException as exc:  # noqa: BLE001 - reported to the crawl, which fails the run
        outbox.put(("crashed", traceback.format_exc(), "disk_full" if _disk_full(exc) else None))


def _disk_full(exc: BaseException | None) -> bool:
    """A full disk (SQLITE_FULL, ENOSPC, EDQUOT) behind ``exc`` or what it was raised from."""
    from dedupe.archive import is_disk_full

    seen = 0
    while exc is not None and seen < 10:
        if is_disk_full(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class ProcessWriter:
    """A writer process and its two queues, seen from the crawl."""

    def __init__(self, db_path: str, start_method: str | None = None) -> None:
        methods = multiprocessing.get_all_start_methods()
        method = start_method if start_method in methods else ("fork" if "fork" in methods else "spawn")
        # fork: the child inherits the run lock's descriptor, so the lock holds until the writer is gone
        context = multiprocessing.get_context(method)
        self.inbox = context.Queue()
        self.outbox = context.Queue()
        self.abort_event = context.Event()
        self.process = context.Process(
            target=writer_main,
            args=(db_path, self.inbox, self.outbox, os.getpid(), self.abort_event),
            name="pa-archive-writer",
            daemon=True,
        )
        self.process.start()
        self.pending = 0
        self.unanswered: collections.deque[tuple[str, str | None]] = collections.deque()  # (url, failure) sent
        self.summary: dict[str, Any] | None = None
        self.error: str | None = None
        self.disk_full = False
        self.aborted = False
        self.closed = False
        self._closing = threading.Lock()  # the pipeline's close (in a thread) and a second Ctrl-C may both close

    def submit(self, snap: RawSnapshot, failure: str | None = None) -> None:
        if self.abort_event.is_set():
            return  # stopping now: nothing more is stored
        self.pending += 1
        self.unanswered.append((snap.url, failure))
        self.inbox.put(("page", snap, failure))  # the record itself, pickled: one type from spider to store

    def poll(self) -> list[tuple[str, str, str]]:
        """Results that arrived, without waiting."""
        results = []
        while True:
            try:
                message = self.outbox.get_nowait()
            except queue.Empty:
                break
            results += self._handle(message)
        if self.error is None and self.summary is None and not self.process.is_alive():
            self.error = f"the archive writer process exited unexpectedly (exit code {self.process.exitcode})"
        return results

    def _handle(self, message: tuple) -> list[tuple[str, str, str]]:
        if message[0] == "result":
            self.pending -= 1
            self._answered(message[1])
            return [message[1:]]
        if message[0] == "done":
            self.summary = message[1]
        elif message[0] == "aborted":
            self.aborted = True
        elif message[0] == "crashed":
            self.error = "the archive writer failed: " + message[1].strip().splitlines()[-1]
            self.traceback = message[1]
            self.disk_full = len(message) > 2 and message[2] == "disk_full"
        return []

    def _answered(self, url: str) -> None:
        """The writer answered for ``url`` (answers come in the order the pages were sent)."""
        if self.unanswered and self.unanswered[0][0] == url:
            self.unanswered.popleft()
            return
        for index, (sent, _) in enumerate(self.unanswered):
            if sent == url:
                del self.unanswered[index]
                return

    def unstored(self) -> list[tuple[str, str | None]]:
        """(url, failure) of what was sent and never answered: not stored (after an error or an abort)."""
        return list(self.unanswered)

    def abort(self) -> None:
        """Stop now: the writer finishes the page it is storing and leaves the queued ones."""
        self.abort_event.set()

    def close(self, timeout: float | None = None) -> list[tuple[str, str, str]]:
        """Stop after the queued pages (or at once after ``abort``), wait for the final summary (blocking).

        With ``timeout`` a writer that has not answered by then is ended (SIGTERM, then SIGKILL): each of its
        pages is one SQLite transaction, so what it stored stays whole and the rest is rolled back."""
        with self._closing:
            if self.closed:
                return []
            results = self._close(timeout)
            self.closed = True
            return results

    def _close(self, timeout: float | None) -> list[tuple[str, str, str]]:
        results = []
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.error is None and not self.abort_event.is_set():
            self.inbox.put(("stop",))
        while self.summary is None and self.error is None and not self.aborted:
            if deadline is not None and time.monotonic() >= deadline:
                self._end_process()
                self.error = "the archive writer did not stop in time and was ended (what it stored is kept)"
                break
            try:
                results += self._handle(self.outbox.get(timeout=0.2))
            except queue.Empty:
                if not self.process.is_alive():
                    results += self.poll()
                    if self.summary is None and self.error is None and not self.aborted:
                        self.error = (
                            f"the archive writer process exited unexpectedly (exit code {self.process.exitcode})"
                        )
        self.process.join(timeout=5 if self.aborted or self.error else 30)
        if self.process.is_alive():
            self._end_process()
        if self.aborted or self.error:
            self.inbox.cancel_join_thread()  # pages left in the pipe must not hold this process at exit
        self.inbox.close()
        self.outbox.close()
        return results

    def _end_process(self) -> None:
        self.process.terminate()
        self.process.join(timeout=3)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=3)

    def kill(self) -> None:
        """The last resort of a third Ctrl-C: the writer dies at once (SQLite rolls back its open transaction)."""
        if self.process.is_alive():
            self.process.kill()


class InlineWriter:
    """The same work in the crawl's own thread."""

    def __init__(self, db_path: str) -> None:
        self.writer = ArchiveWriter(db_path)
        self.results: list[tuple[str, str, str]] = []
        self.pending = 0
        self.summary: dict[str, Any] | None = None
        self.error: str | None = None

    def submit(self, snap: RawSnapshot, failure: str | None = None) -> None:
        try:
            kind, text = self.writer.store(snap, failure)
        except Exception as exc:  # noqa: BLE001
            kind, text = "failed", f"archive error: {type(exc).__name__}: {exc}"
        self.results.append((snap.url, kind, text))

    def poll(self) -> list[tuple[str, str, str]]:
        results, self.results = self.results, []
        return results

    def abort(self) -> None:
        """Stop now: nothing is queued here, the page being stored is finished by the crawl's own thread."""

    def kill(self) -> None:
        """Nothing to kill: the archive is written in the crawl's own thread."""

    def close(self, timeout: float | None = None) -> list[tuple[str, str, str]]:
        if self.summary is not None or self.error is not None:
            return self.poll()
        try:
            self.summary = self.writer.finish()
        except Exception as exc:  # noqa: BLE001
            self.error = f"the archive refresh failed: {type(exc).__name__}: {exc}"
        return self.poll()


# --------------------------------------------------------------------------- the Scrapy pipeline


class ArchivePipeline:
    """RawSnapshot -> the archive (one ingestion path with `import`); PageFailure -> the run's errors."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.mode = crawler.settings.get("ARCHIVE_WRITER", "process")
        self.start_method = crawler.settings.get("ARCHIVE_WRITER_START") or None
        self.writer: ProcessWriter | InlineWriter | None = None
        self.loop: task.LoopingCall | None = None
        self.paused = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.request_dropped, signal=signals.request_dropped)
        return pipeline

    @property
    def run(self) -> CrawlRun:
        return CrawlRun.for_crawler(self.crawler)

    def open_spider(self) -> None:
        if self.run.locked:  # another writer holds the archive (logged by CrawlRunExtension): close at once
            raise CloseSpider(ARCHIVE_LOCKED)
        run = self.run.begin()
        if self.mode == "inline":
            self.writer = InlineWriter(str(run.db_path))
        else:
            with run.archive_closed():  # no SQLite connection of ours may cross the fork into the writer
                self.writer = ProcessWriter(str(run.db_path), self.start_method)
            self.loop = task.LoopingCall(self.drain)
            self.loop.start(0.2, now=False)
        run.writer = self.writer  # a second Ctrl-C stops it at once (crawler.process.Interrupts)

    def process_item(self, item: Any) -> Any:
        run = self.run
        if isinstance(item, PageFailure):
            if item.observed_at:
                self.writer.submit(item.to_raw(run.origin), item.error)  # counted when stored
            else:
                run.counts.add("failed", item.url, item.error)
        elif isinstance(item, RawSnapshot):
            if item.url in run.stored_before:
                run.counts.add("skipped")  # a listing re-read for its links by a resumed run
                return item
            run.counts.pages_fetched += 1
            item.origin = run.origin
            self.writer.submit(item)
            if self.mode == "inline":
                self.drain()
        return item

    def drain(self) -> None:
        """Count the writer's results; pause the engine while it is far behind; stop if it died."""
        if self.writer is None:
            return
        for url, kind, message in self.writer.poll():
            self.run.counts.add(kind, url, message)
        self.run.backlog = self.writer.pending
        engine = self.crawler.engine
        if not self.paused and self.writer.pending > HIGH_WATER:
            self.paused = True
            engine.pause()
        elif self.paused and self.writer.pending < LOW_WATER:
            self.paused = False
            engine.unpause()
        if self.writer.error and self.loop is not None and self.loop.running:
            self.loop.stop()
            if self.paused:
                engine.unpause()
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason="archive_writer_failed"))

    async def close_spider(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        if self.writer is None:
            return
        from scrapy.utils.defer import maybe_deferred_to_future

        writer = self.writer
        for url, kind, message in writer.poll():
            self.run.counts.add(kind, url, message)
        started, backlog = time.monotonic(), writer.pending
        if isinstance(writer, InlineWriter):
            results = writer.close()  # its SQLite connection belongs to this thread
        else:
            results = await maybe_deferred_to_future(threads.deferToThread(writer.close))
        for url, kind, message in results:
            self.run.counts.add(kind, url, message)
        self.run.writer_summary = writer.summary or {}
        self.run.writer_error = writer.error
        count_unstored(writer, self.run)
        self.crawler.stats.set_value("archive/backlog_at_close", backlog)
        self.crawler.stats.set_value("archive/close_seconds", round(time.monotonic() - started, 3))

    def request_dropped(self, request: Any) -> None:
        """A redirect back to a URL of its own chain is a loop: the page fails (Scrapy drops it silently). A
        redirect to a page this run read already (the listing) is dropped too: when it says the article it came
        from is gone (``redirect_removal``), that is stored."""
        chain = request.meta.get("redirect_urls") or []
        if not request.meta.get("archive_page"):
            return
        removal = redirect_removal(request.meta, request.url) if request.url not in chain else None
        if removal is not None:
            self.process_item(removal)
        elif request.url in chain:
            self.process_item(
                PageFailure(
                    url=chain[0],
                    error=f"redirect loop: {' -> '.join([*chain, request.url])}",
                    page_type=request.meta.get("page_type"),
                    observed_at=utc_iso(datetime.now(timezone.utc)),
                    http_status=first_redirect_status(request.meta),
                )
            )


def count_unstored(writer: Any, run: CrawlRun) -> None:
    """After the writer failed: each page it was sent and never stored is a failed page of the run, and the
    run's error says in one sentence what happened and what to do (the pages are fetched again next time)."""
    if not writer.error or not isinstance(writer, ProcessWriter):
        return  # the inline writer answers for every page as it is sent
    left = writer.unstored()
    if not left:
        return
    fetched = sum(1 for _, failure in left if failure is None)
    pages = f"{fetched} fetched page{'' if fetched == 1 else 's'} {'was' if fetched == 1 else 'were'} not stored"
    if writer.disk_full:
        run.writer_error = (
            f"the disk holding {run.db_path} is full: {pages}; free some space and run the crawl again, "
            "the next run fetches them"
        )
        why = "not stored: the disk is full"
    else:
        run.writer_error = f"{writer.error}; {pages}: run the crawl again, the next run fetches them"
        why = "not stored: the archive writer failed"
    for url, failure in left:
        run.counts.add("failed", url, failure or why)
    run.not_stored = len(left)
