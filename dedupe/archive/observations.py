"""Storing observations: raw content once by hash, its analysis once, one snapshot row each.

``add`` stores one observation in its own transaction; ``ingest`` stores many, INGEST_BATCH per
transaction, analysing the next batch in worker processes while one is stored. Neither derives
anything: the derived records follow in ``refresh`` (see ``dedupe.archive.derivation``).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
import os
import resource
import signal
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from sqlite_utils import Database

from ..document import EXTRACTOR_VERSION, InputError, PageAnalysis, RawSnapshot
from ..headers import Headers, split_varying
from ..pages import says_removed
from ..sources import SourceError
from ..stemming import stemming_cpu_seconds
from ..storage import OWN_METHOD, Codec, Dictionary, compress_own, compress_with, content_hash
from .base import NEWEST_CONTENT_SNAPSHOT_SQL, NEWEST_SNAPSHOT_SQL, write_transaction

LOOKUP_CHUNK = 500  # hashes or URLs per query when a batch is read ahead
# which of a JSON list of content hashes the archive has
_KNOWN_CONTENTS = "SELECT sha256 FROM contents WHERE sha256 IN (SELECT value FROM json_each(?))"
# the rows of those contents: what an observation names its content by (m027)
_CONTENT_ROWS = "SELECT sha256, rowid FROM contents WHERE sha256 IN (SELECT value FROM json_each(?))"
# per URL of a JSON list: the content hash of its newest snapshot, and of its newest with content
_NEWEST_OF_URLS = """SELECT u.value,
  (SELECT content_sha256 FROM snapshots WHERE url = u.value ORDER BY observed_at DESC, id DESC LIMIT 1),
  (SELECT content_sha256 FROM snapshots WHERE url = u.value AND content_sha256 IS NOT NULL
   ORDER BY observed_at DESC, id DESC LIMIT 1)
FROM json_each(?) u"""  # as NEWEST_SNAPSHOT_SQL and NEWEST_CONTENT_SNAPSHOT_SQL
# which of a JSON list of [key, url, observed_at, content hash or ''] are stored snapshots: their keys
_STORED_SNAPSHOTS = """SELECT json_extract(k.value, '$[0]') FROM json_each(?) k WHERE EXISTS (
  SELECT 1 FROM snapshots WHERE url = json_extract(k.value, '$[1]') AND observed_at = json_extract(k.value, '$[2]')
    AND coalesce(content_sha256, '') = json_extract(k.value, '$[3]'))"""

INGEST_BATCH = 200  # snapshots stored per transaction by ``ingest``
PARALLEL_MIN = (
    100  # contents to analyse in one batch before ``ingest`` uses worker processes (starting them costs ~0.2 s)
)
ANALYSIS_CHUNK = 8  # contents per task sent to a worker
# the first batch is smaller: nothing is stored or derived while it is analysed, so it is time the
# importing process waits (half of it with the default sizes), at the smallest size the workers still take
FIRST_BATCH = PARALLEL_MIN


class Flush:
    """In ``ingest``'s input: nothing more for now; the batch so far is stored without waiting to fill."""


FLUSH = Flush()


@dataclass
class Batching:
    """How ``ingest`` cuts its input into transactions, and what it does between them.

    ``meanwhile()`` is called after a batch is stored while the next one is being analysed in the
    worker processes: the archive derives what was stored, on the CPU the workers leave."""

    size: int = INGEST_BATCH
    first: int = FIRST_BATCH
    meanwhile: Callable[[], None] | None = None


_CONTENT_COLUMNS = ("sha256", "kind", "size", "stored_size", "compression", "encoding", "body", "encoding_evidence")
_PAGE_COLUMNS = (
    "content_sha256",
    "extractor",
    "language",
    "title",
    "published",
    "structured",
    "lines",
    "lines_compression",
)
_SNAPSHOT_COLUMNS = (
    "url",
    "host",
    "observed_at",
    "source",
    "origin",
    "http_status",
    "headers",
    "header_set",
    "etag",
    "last_modified",
    "page_type",
    "content_sha256",
    "status",
)


def _insert_sql(table: str, columns: tuple[str, ...], verb: str = "INSERT") -> str:
    """``INSERT INTO table (columns) VALUES (:columns)`` for a fixed table of this module."""
    return f"{verb} INTO [{table}] ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


_INSERT_CONTENT = _insert_sql("contents", _CONTENT_COLUMNS, "INSERT OR IGNORE")
_INSERT_PAGE = _insert_sql("pages", _PAGE_COLUMNS, "INSERT OR IGNORE")
# into the tables behind the snapshots view (m027): the URL once, then the observation naming its URL (found by its
# text in the same statement) and its content by their rows
_INSERT_URL = "INSERT OR IGNORE INTO urls(url, host) VALUES (:url, :host)"
_INSERT_SNAPSHOT = (
    _insert_sql("observations", _SNAPSHOT_COLUMNS)
    .replace("url, host, ", "url_id, ", 1)
    .replace(":url, :host, ", "(SELECT id FROM urls WHERE url = :url), ", 1)
    .replace("content_sha256", "content_id")
)
_CONTENT_ROW = "SELECT rowid FROM contents WHERE sha256 = ?"
_HEADER_SET = "SELECT id FROM header_sets WHERE digest = ?"
_INSERT_HEADER_SET = "INSERT INTO header_sets(digest, headers, etag_key, modified_key, date_key) VALUES (?, ?, ?, ?, ?)"


@dataclass
class AddResult:
    """What storing one observation did.

    ``status``: 'new', 'seen_again', 'not_modified', 'removed', 'duplicate', 'error' or 'failed'."""

    status: str
    snapshot_id: int | None = None
    message: str = ""


@dataclass
class IngestReport:
    """Counts of one import or crawl batch, and the errors by input."""

    added: int = 0
    new_content: int = 0
    seen_again: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    # told each input and what storing it did, as it is counted (the crawl's writer answers the crawl)
    listener: Callable[[RawSnapshot | SourceError, AddResult | None], None] | None = field(default=None, repr=False)

    def count(self, item: RawSnapshot | SourceError, result: AddResult | None) -> None:
        """Count one input: a source that could not be read, or what storing its snapshot did."""
        if self.listener is not None:
            self.listener(item, result)
        if isinstance(item, SourceError) or result is None:  # None: only for a source that could not be read
            self.errors.append(str(item))
        elif result.status == "error":
            where = f"{item.locator}: {item.url}" if item.locator else item.origin or item.url
            self.errors.append(f"{where}: {result.message}")
        elif result.status == "duplicate":
            self.duplicates += 1
        else:
            self.added += 1
            self.seen_again += result.status in ("seen_again", "not_modified")

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "new_content": self.new_content,
            "seen_again": self.seen_again,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "new_article_versions": self.after.get("article_versions", 0) - self.before.get("article_versions", 0),
            "new_block_versions": self.after.get("block_versions", 0) - self.before.get("block_versions", 0),
            "stats": self.after,
        }


STAGES = ("analyse", "store", "derive", "index")


class StageClock:
    """CPU seconds by stage of storing observations, so the benchmark can say where a page's time goes:

    * ``analyse``: extraction (``dedupe.extract.analyse``), here and in ``ingest``'s worker processes
      (their CPU counted when the pool ends: ``RUSAGE_CHILDREN``);
    * ``store``: hashing, compressing (when no worker did) and the SQLite writes of contents, pages and snapshots;
    * ``derive``: the refresh of the derived tables after an ``ingest``, minus ``index``;
    * ``index``: stemming for the full-text index (its tokenizer runs inside SQLite's inserts, so it counts in
      ``derive``).
    """

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)

    @contextlib.contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started = time.process_time()
        try:
            yield
        finally:
            self.seconds[stage] += time.process_time() - started

    @contextlib.contextmanager
    def derive(self) -> Iterator[None]:
        """``derive`` with the stemming inside it counted as ``index``."""
        stemmed = stemming_cpu_seconds()
        with self("derive"):
            yield
        index = stemming_cpu_seconds() - stemmed
        self.seconds["derive"] -= index
        self.seconds["index"] += index

    @contextlib.contextmanager
    def workers(self) -> Iterator[None]:
        """``analyse`` in worker processes: their CPU, once they have ended."""
        before = _children_cpu()
        try:
            yield
        finally:
            self.seconds["analyse"] += _children_cpu() - before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class ObservationStore:
    """The writing part of ``Archive``: contents, pages and snapshots (never the derived records)."""

    def __init__(self, db: Database, codec: Codec) -> None:
        self.db = db
        self.codec = codec
        self.stage_cpu = StageClock()  # CPU seconds by stage of what this store stored

    # --- one observation ------------------------------------------------------------

    def add(self, snap: RawSnapshot) -> AddResult:
        """Store one observation in its own transaction; bad input stores nothing."""
        try:
            prepared = self._prepare(snap)
        except InputError as exc:
            return AddResult("error", message=str(exc))
        with self.stage_cpu("store"), write_transaction(self.db):
            result = self._store(snap, *prepared)
        self.train_compression()
        return result

    def train_compression(self) -> None:
        """Train the compression dictionary when due (see ``dedupe.storage``), in its own transaction; if that
        is rolled back, the codec forgets the dictionaries it would have added."""
        if self.codec.train_due:
            try:
                with write_transaction(self.db):
                    self.codec.train()
            except BaseException:
                self.codec.reload()
                raise

    def _prepare(self, snap: RawSnapshot) -> tuple[str | None, dict[str, Any] | None, dict[str, Any] | None]:
        """Hash, analyse and compress outside the transaction (the expensive part)."""
        sha, known = self._lookup(snap)
        if sha is None or known:
            return sha, None, None  # exact repeat: no analysis, no MinHash
        with self.stage_cpu("analyse"):  # trafilatura is imported only when a new content arrives
            analysis = _analysed(snap.body, snap.declared_charset, snap.kind_hint)
        return self._pack(snap, sha, analysis)

    def _lookup(self, snap: RawSnapshot) -> tuple[str | None, bool]:
        """The content's sha256 (None without a body) and whether the archive already has it."""
        return self._lookups([snap])[0]

    def _lookups(self, snaps: list[RawSnapshot]) -> list[tuple[str | None, bool]]:
        """``_lookup`` for many observations: one query per chunk of hashes (a week's crawl is mostly
        contents the archive has)."""
        with self.stage_cpu("store"):
            shas = [None if snap.body is None else content_hash(snap.body) for snap in snaps]
            wanted = sorted({sha for sha in shas if sha is not None})
            known: set[str] = set()
            for lo in range(0, len(wanted), LOOKUP_CHUNK):
                chunk = json.dumps(wanted[lo : lo + LOOKUP_CHUNK])
                known.update(sha for (sha,) in self.db.execute(_KNOWN_CONTENTS, [chunk]))
            return [(sha, sha in known) for sha in shas]

    def _pack(
        self, snap: RawSnapshot, sha: str, analysis: PageAnalysis | PackedPage
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """The contents and pages rows of a new content (compressed here, or already by a worker)."""
        with self.stage_cpu("store"):
            if isinstance(analysis, PackedPage):
                self.codec.count(analysis.kind)
                (blob, method), (lines, lines_method) = self._with_dictionaries(snap.body, analysis)
            else:
                blob, method = self.codec.compress(snap.body, analysis.kind)
                lines, lines_method = self.codec.pack_lines(analysis.lines, snap.body)
        content = {
            "sha256": sha,
            "kind": analysis.kind,
            "size": len(snap.body),
            "stored_size": len(blob),
            "compression": method,
            "encoding": analysis.encoding,
            "body": blob,
            "encoding_evidence": analysis.encoding_evidence or None,
        }
        page = {
            "content_sha256": sha,
            "extractor": EXTRACTOR_VERSION,
            "language": analysis.language,
            "title": analysis.title,
            "published": analysis.published,
            "structured": int(analysis.structured),
            "lines": lines,
            "lines_compression": lines_method,
        }
        return sha, content, page

    def _with_dictionaries(self, body: bytes, packed: PackedPage) -> tuple[tuple[bytes, str], tuple[bytes, str]]:
        """A worker's compressed body and lines, compressed again here in the one case where that matters: the
        worker compressed without a dictionary and the archive has trained its first one since (the batches
        in flight while it was trained), since the contents stored before it are recompressed only then."""
        (blob, method), (lines, lines_method) = packed.body, packed.lines
        if method == "zstd" and self.codec.current is not None:
            blob, method = compress_with(self.codec.current, body)
        if lines_method in ("zstd", OWN_METHOD) and self.codec.current is not None:
            data = self.codec.lines_json(lines, lines_method, raw=body).encode("utf-8")
            lines, lines_method = self.codec.pack_lines_json(data, body)
        return (blob, method), (lines, lines_method)

    def _newest(self, url: str, with_content: bool) -> str | None:
        """The content hash of the URL's newest snapshot (of the newest with content)."""
        row = self.db.execute(NEWEST_CONTENT_SNAPSHOT_SQL if with_content else NEWEST_SNAPSHOT_SQL, {"url": url})
        found = row.fetchone()
        return found[1] if found else None

    def _placed(self, snap: RawSnapshot, sha: str | None, newest: _Newest | None) -> tuple[str | None, str]:
        """The content hash a snapshot stores (a 304's is its URL's newest content) and its status.
        ``newest``: what the archive held for its URL before the batch, when read ahead (``_read_ahead``)."""
        status_code = snap.http_status
        if status_code == 304:
            return (newest.content if newest is not None else self._newest(snap.url, with_content=True)), "not_modified"
        if says_removed(snap.url, status_code, snap.headers.get("Location")):
            return None, "removed"  # 404/410, or an article's permanent redirect away: the page is gone
        if sha is None:
            return None, "error"
        previous = newest.any if newest is not None else self._newest(snap.url, with_content=False)
        return sha, "seen_again" if previous == sha else "new"

    def _read_ahead(self, batch: list, prepared: dict[int, tuple]) -> dict[int, _Ahead]:
        """For the batch's snapshots of URLs it holds once: their hash and status, whether each is already
        stored (a duplicate) and its URL's newest content, in a few queries for the whole batch instead of
        three a snapshot. A URL the batch holds twice is left to ``_store``: its first snapshot changes what
        the second sees."""
        per_url: dict[str, int] = {}
        for index in prepared:
            per_url[batch[index].url] = per_url.get(batch[index].url, 0) + 1
        once = [index for index in sorted(prepared) if per_url[batch[index].url] == 1]
        newest: dict[str, _Newest] = {}
        for lo in range(0, len(once), LOOKUP_CHUNK):
            urls = json.dumps([batch[index].url for index in once[lo : lo + LOOKUP_CHUNK]])
            newest.update(
                (url, _Newest(any_, content)) for url, any_, content in self.db.execute(_NEWEST_OF_URLS, [urls])
            )
        placed = {index: self._placed(batch[index], prepared[index][0], newest[batch[index].url]) for index in once}
        stored: set[int] = set()
        for lo in range(0, len(once), LOOKUP_CHUNK):
            chunk = once[lo : lo + LOOKUP_CHUNK]
            keys = json.dumps(
                [[index, batch[index].url, batch[index].observed_at, placed[index][0] or ""] for index in chunk]
            )
            stored.update(index for (index,) in self.db.execute(_STORED_SNAPSHOTS, [keys]))
        rows: dict[str, int] = {}
        wanted = sorted({placed[index][0] for index in once} - {None})
        for lo in range(0, len(wanted), LOOKUP_CHUNK):
            rows.update(self.db.execute(_CONTENT_ROWS, [json.dumps(wanted[lo : lo + LOOKUP_CHUNK])]))
        return {
            index: _Ahead(*placed[index], index in stored, newest[batch[index].url].content, rows.get(placed[index][0]))
            for index in once
        }

    def _store(
        self,
        snap: RawSnapshot,
        sha: str | None,
        content: dict | None,
        page: dict | None,
        ahead: _Ahead | None = None,
    ) -> AddResult:
        """Store one snapshot (with its content and page when new). ``ahead``: what ``_read_ahead`` found
        for it (else looked up here)."""
        status_code = snap.http_status
        stored: bool | None = None
        if ahead is not None:
            sha, status, stored = ahead.sha, ahead.status, ahead.stored
        else:
            sha, status = self._placed(snap, sha, None)
        if stored is None:
            stored = (
                self.db.execute(
                    "SELECT 1 FROM snapshots WHERE url = ? AND observed_at = ? AND coalesce(content_sha256, '') = ?",
                    [snap.url, snap.observed_at, sha or ""],
                ).fetchone()
                is not None
            )
        if stored:
            return AddResult("duplicate", message="already in the archive")
        if content is not None:
            base = ahead.base if ahead is not None else self._newest(snap.url, with_content=True)
            if base is not None and content["kind"] == "html":  # a new version of a page: store what changed
                blob, method = self.codec.against(snap.body, base, content["body"], content["compression"])
                content = {**content, "body": blob, "stored_size": len(blob), "compression": method}
                own = self.codec.lines_json(page["lines"], page["lines_compression"], raw=snap.body).encode("utf-8")
                lines, lines_method = self.codec.lines_against(
                    own, base, page["extractor"], page["lines"], page["lines_compression"]
                )
                page = {**page, "lines": lines, "lines_compression": lines_method}
            inserted = self.db.execute(_INSERT_CONTENT, content)
            content_id = inserted.lastrowid if inserted.rowcount == 1 else None
            self.db.execute(_INSERT_PAGE, page)
        if content is None:
            content_id = ahead.content_id if ahead is not None else None
        if sha is not None and content_id is None:  # the table's foreign key refused this before m027
            found = self.db.execute(_CONTENT_ROW, [sha]).fetchone()
            if found is None:
                raise sqlite3.IntegrityError(f"the snapshot of {snap.url} names a content the archive does not hold")
            content_id = found[0]
        headers = Headers(snap.headers or {})  # looked up in any case, stored as spelled
        # a 304 repeats what the stored content's snapshot already says: keep its row small
        header_set, stored_headers = (
            self._stored_headers(headers, snap.observed_at) if status_code != 304 else (None, None)
        )
        self.db.execute(_INSERT_URL, {"url": snap.url, "host": urlsplit(snap.url).hostname})
        cursor = self.db.execute(
            _INSERT_SNAPSHOT,
            {
                "url": snap.url,
                "observed_at": snap.observed_at,
                "source": snap.source,
                "origin": snap.origin,
                "http_status": status_code,
                "headers": stored_headers,
                "header_set": header_set,
                "etag": headers.get("etag"),
                "last_modified": headers.get("last-modified"),
                "page_type": snap.page_type,
                "content_id": content_id,
                "status": status,
            },
        )
        return AddResult(status, cursor.lastrowid)

    def _stored_headers(self, headers: Headers, observed_at: str) -> tuple[int | None, str | None]:
        """(``observations.header_set``, ``observations.headers``) for a response's headers: the id of its set
        (added if new) and the values that vary, or (None, the whole JSON) where no set can hold them."""
        if not headers:
            return None, None
        split = split_varying(headers, observed_at)
        if split is None:
            return None, json.dumps(headers, ensure_ascii=False, separators=(",", ":"))
        found = self.db.execute(_HEADER_SET, [split.digest]).fetchone()
        if found is None:
            values = [split.digest, split.set_json, split.etag_key, split.modified_key, split.date_key]
            found = (self.db.execute(_INSERT_HEADER_SET, values).lastrowid,)
        return found[0], split.varying_json

    # --- many observations ----------------------------------------------------------

    def ingest(
        self,
        items: Iterable[RawSnapshot | SourceError | Flush],
        report: IngestReport,
        progress: Any = None,
        workers: int | None = None,
        batching: Batching | None = None,
    ) -> None:
        """Store every snapshot, counting it in ``report`` (errors are collected, not raised).

        The same as ``add`` for each item in turn, but faster: ``batching.size`` snapshots are stored
        per transaction (one savepoint each: a snapshot is stored whole or not at all), and the
        pages of a batch are analysed by ``workers`` processes (default: one per CPU) while the
        batch before it is stored. ``progress(item)`` is called as each item is stored. ``FLUSH`` in
        ``items`` (a stream that has nothing more for now, such as a crawl's queue) ends the batch early.
        """
        analyser = _Analyser((os.cpu_count() or 1) if workers is None else workers)
        with self.stage_cpu.workers():
            self._ingest_batches(items, analyser, report, progress, batching or Batching())

    def _ingest_batches(
        self,
        items: Iterable[RawSnapshot | SourceError | Flush],
        analyser: _Analyser,
        report: IngestReport,
        progress: Any,
        batching: Batching,
    ) -> None:
        """Store ``items`` a batch at a time, each batch analysed while the one before is stored."""
        pending: list[tuple] = []  # the batch being analysed, with its job (at most one)

        def advance(batch: list[RawSnapshot | SourceError], full: bool) -> None:
            """Start analysing ``batch``; store the one before it, and derive while ``batch`` is analysed."""
            job = self._start_batch(batch, analyser)
            if pending:
                self._finish_batch(*pending.pop(), report, progress)
                if full and batching.meanwhile is not None and analyser.in_background:
                    batching.meanwhile()
            pending.append((batch, *job))

        try:
            batch: list[RawSnapshot | SourceError] = []
            for item in itertools.chain(items, [None]):  # None: the end, to store the last batch
                if isinstance(item, Flush) or item is None:  # nothing more for now: store all there is
                    if batch:
                        advance(batch, full=False)
                        batch = []
                    if pending:
                        self._finish_batch(*pending.pop(), report, progress)
                    if item is None:
                        break
                    continue
                batch.append(item)
                if len(batch) >= (batching.size if pending else batching.first):
                    advance(batch, full=True)
                    batch = []
        finally:
            analyser.close()

    def _start_batch(self, batch: list[RawSnapshot | SourceError], analyser: _Analyser) -> tuple:
        """Hash a batch and start analysing its new contents (a repeat inside the batch once)."""
        lookups: dict[int, tuple[str | None, bool]] = {}
        first_of: dict[str, int] = {}
        todo: list[int] = []
        snaps = [index for index, item in enumerate(batch) if not isinstance(item, SourceError)]
        found = dict(zip(snaps, self._lookups([batch[index] for index in snaps])))
        for index in snaps:
            sha, known = lookups[index] = found[index]
            if sha is None or known or sha in first_of:
                continue
            first_of[sha] = index
            todo.append(index)
        return lookups, first_of, todo, analyser.submit([batch[i] for i in todo], self._packing())

    def _packing(self) -> Packing:
        """How workers compress what they analyse: the archive's current dictionaries, with their bytes."""
        html, lines = self.codec.current, self.codec.current_lines or self.codec.current
        return Packing(
            (html.id, html.raw) if html else None,
            (lines.id, lines.raw) if lines else None,
        )

    def _finish_batch(
        self,
        batch: list[RawSnapshot | SourceError],
        lookups: dict,
        first_of: dict,
        todo: list[int],
        analyses: Callable[[], list],
        report: IngestReport,
        progress: Any,
    ) -> None:
        """Store an analysed batch in one transaction, then count it in order."""
        with self.stage_cpu("analyse"):  # in this process: the analysis; with workers: waiting (no CPU)
            outcome = dict(zip(todo, analyses()))  # index -> PageAnalysis or InputError
        results: dict[int, AddResult] = {}
        prepared: dict[int, tuple] = {}
        for index, (sha, known) in lookups.items():
            found = outcome.get(first_of.get(sha, -1)) if sha is not None and not known else None
            if isinstance(found, InputError):
                results[index] = AddResult("error", message=str(found))
            elif found is not None and first_of[sha] == index:
                prepared[index] = self._pack(batch[index], sha, found)
            else:
                prepared[index] = (sha, None, None)  # no body, known, or a repeat of an earlier one
        self._store_batch(batch, prepared, results)
        self.train_compression()
        for index, item in enumerate(batch):
            report.count(item, results.get(index))
            if progress is not None:
                progress(item)

    def _store_batch(self, batch: list, prepared: dict[int, tuple], results: dict[int, AddResult]) -> None:
        """Store the prepared snapshots in one transaction, each in a savepoint; a failure is raised once the
        snapshots before it are committed."""
        if not prepared:
            return
        failure: BaseException | None = None
        with self.stage_cpu("store"), write_transaction(self.db):
            ahead = self._read_ahead(batch, prepared)
            for index in sorted(prepared):
                try:
                    with self.db.atomic():  # a savepoint: this snapshot whole or not at all
                        results[index] = self._store(batch[index], *prepared[index], ahead.get(index))
                except BaseException as exc:  # noqa: BLE001 - re-raised once the earlier ones are committed
                    if not self.db.conn.in_transaction:
                        raise  # SQLite rolled the whole batch back (a full disk): nothing to commit, say why
                    failure = exc
                    break
        if failure is not None:
            raise failure


def _die_with_parent() -> None:
    """Pool initializer: a worker ends when the importing process dies, even by SIGKILL (Linux)."""
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: workers still end when the pool shuts down
        pass
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(0)
    # Ctrl-C reaches the terminal's whole process group: the importing process says what was kept, and a
    # worker's KeyboardInterrupt traceback would only bury that sentence (the pool ends with the process)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _analysed(body: bytes, charset: str | None, kind_hint: str | None) -> PageAnalysis:
    """``dedupe.extract.analyse``, where a page that makes the extractors fail (hostile markup that trips
    lxml, trafilatura or htmldate) is bad input like any other: its InputError, so one page never stops
    an import or a crawl's writer, and nothing of it is stored."""
    from ..extract import analyse

    try:
        return analyse(body, charset, kind_hint)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure of the extractors on this page
        raise InputError(f"the page could not be analysed ({type(exc).__name__}: {exc})") from exc


class _Ahead(NamedTuple):
    """What ``_read_ahead`` found for one snapshot of its batch."""

    sha: str | None  # the content hash it stores
    status: str  # 'new', 'seen_again', ...
    stored: bool  # already in the archive: a duplicate
    base: str | None  # its URL's newest content before the batch (what a new content is compressed against)
    content_id: int | None  # the row of its content, if the archive held it before the batch


class _Newest(NamedTuple):
    """What a URL's newest snapshots held before a batch: content hashes (None: no such snapshot)."""

    any: str | None  # of its newest snapshot
    content: str | None  # of its newest snapshot with content


@dataclass(frozen=True)
class Packing:
    """What a worker needs to compress as the archive's writer would: the dictionaries of raw pages and of
    lines to use, each (id, its bytes), None for plain zstd. The bytes travel with each task (2 x 64 KB for
    8 pages: microseconds), so a worker never opens the archive: no SQLite in a forked process."""

    html: tuple[int, bytes] | None
    lines: tuple[int, bytes] | None


@dataclass
class PackedPage:
    """An analysed content as a worker sends it back: the ``pages`` row's values with its lines and the raw
    body already compressed (so the storing process, which is what an ingest waits on, does not)."""

    kind: str
    encoding: str
    encoding_evidence: str
    language: str
    title: str | None
    published: str | None
    structured: bool
    body: tuple[bytes, str]  # (blob, contents.compression)
    lines: tuple[bytes, str]  # (blob, pages.lines_compression)


_worker_dictionaries: dict[tuple[int, bytes], Dictionary] = {}  # in a worker: each dictionary it was given


def _given(dictionary: tuple[int, bytes] | None) -> Dictionary | None:
    """In a worker: the ``Dictionary`` of (id, bytes) as handed with a task, built once a process."""
    if dictionary is None:
        return None
    found = _worker_dictionaries.get(dictionary)
    if found is None:
        found = _worker_dictionaries[dictionary] = Dictionary(*dictionary)
    return found


def _packed(body: bytes, analysis: PageAnalysis, packing: Packing) -> PackedPage:
    """``analysis`` with ``body`` and its lines compressed with ``packing``'s dictionaries."""
    data = json.dumps(analysis.lines, ensure_ascii=False).encode("utf-8")
    return PackedPage(
        analysis.kind,
        analysis.encoding,
        analysis.encoding_evidence,
        analysis.language,
        analysis.title,
        analysis.published,
        analysis.structured,
        compress_with(_given(packing.html), body),
        compress_own(_given(packing.lines), data, body, *compress_with(_given(packing.lines), data, lines=True)),
    )


def _analyse_chunk(
    snaps: list[tuple[bytes, str | None, str | None]], packing: Packing | None = None
) -> list[PageAnalysis | PackedPage | InputError]:
    """``analyse`` of each (body, declared charset, kind hint), compressed with ``packing`` when given; bad
    input gives its InputError."""
    results: list[PageAnalysis | PackedPage | InputError] = []
    for body, charset, kind_hint in snaps:
        try:
            analysis = _analysed(body, charset, kind_hint)
        except InputError as exc:
            results.append(exc)
            continue
        results.append(analysis if packing is None else _packed(body, analysis, packing))
    return results


class _Analyser:
    """``analyse`` for the batches of one ingest: in worker processes when a batch has enough
    new contents (and the platform can fork), else in this process. The pool starts on first use."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None
        self.in_background = False  # the last batch submitted is being analysed by the workers

    def submit(
        self, snaps: list[RawSnapshot], packing: Packing | None = None
    ) -> Callable[[], list[PageAnalysis | PackedPage | InputError]]:
        """Start analysing; the returned function waits for the results, in order. In worker processes, each
        page is also compressed as ``packing`` says (in this process, the caller compresses)."""
        args = [(s.body, s.declared_charset, s.kind_hint) for s in snaps]
        # a small batch is analysed here: starting the pool costs more; once it runs, only a single page is
        self.in_background = (
            self.workers >= 2
            and len(args) >= (PARALLEL_MIN if self.pool is None else 2)
            and "fork" in multiprocessing.get_all_start_methods()
        )
        if not self.in_background:
            return lambda: _analyse_chunk(args)
        if self.pool is None:
            from .. import extract  # noqa: F401 - loaded before the fork, so every worker has it already

            # fork: the workers inherit the loaded extractors (spawn would import trafilatura again).
            # They run only the pure ``analyse`` and the compression (with dictionaries handed to them) and leave
            # through os._exit, so the SQLite connection they inherit is never used or closed there, and fcntl
            # locks are not inherited.
            self.pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("fork"), initializer=_die_with_parent
            )
        futures = [
            self.pool.submit(_analyse_chunk, args[lo : lo + ANALYSIS_CHUNK], packing)
            for lo in range(0, len(args), ANALYSIS_CHUNK)
        ]
        return lambda: [result for future in futures for result in future.result()]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None
