"""archive.db: store observations, derive versioned articles, blocks and facts, answer queries.

``Archive`` is made of three parts, each an object over the one connection, in its own module:

* ``store`` (``observations.ObservationStore``) - storing what was fetched or imported (``add``, ``ingest``);
* ``derived`` (``derivation.DerivedRecords``) - keeping the derived tables in step (``refresh``, ``rebuild``,
  ``check``), by the incremental engine in ``incremental`` with ``reference`` as the full-rebuild reference;
* ``reader`` (``queries.ArchiveQueries``) - references, history, stored pages and the queries the CLI,
  the crawler and Datasette share; crawl runs have their own part (``runs``).

``Archive`` answers every method of its parts by name (``archive.conflicts()`` is
``archive.reader.conflicts()``). ``ReadOnlyArchive`` is the reading part alone, over a connection
opened elsewhere: it has no method that writes. Writers take ``lock.WriterLock`` first.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlite_utils import Database

from .. import DEFAULT_DB, migrations, schema
from ..document import RawSnapshot
from ..queries import ARCHIVE_STATE_SET_SQL, SEARCH_INDEX_OPTIMIZE_SQL, SEARCH_INDEXES
from ..sources import SourceError
from ..sql_functions import register_functions
from ..storage import Codec
from .base import (
    DISK_FULL,
    REMOVED_STATUSES,
    ArchiveError,
    Closable,
    is_disk_full,
    open_archive_file,
    write_transaction,
)
from .crawl_runs import CrawlRuns
from .derivation import DerivedRecords
from .observations import (
    FIRST_BATCH,
    FLUSH,
    INGEST_BATCH,
    AddResult,
    Batching,
    Flush,
    IngestReport,
    ObservationStore,
    StageClock,
)
from .queries import REF_HELP, ArchiveQueries, Ref

__all__ = [
    "REF_HELP",
    "REMOVED_STATUSES",
    "AddResult",
    "Archive",
    "ArchiveError",
    "IngestReport",
    "FLUSH",
    "Flush",
    "ReadOnlyArchive",
    "Ref",
]

# The refresh between an ingest's batches waits for DERIVE_BETWEEN_MIN new snapshots, and for a
# DERIVE_BETWEEN_SHARE of those already derived: a refresh costs ~30 ms however few pages it derives,
# and some of its steps grow with the archive (the articles' public ids, the titles' clusters: 1.9 s for
# 200 new pages of 6,000), so refreshes every batch would make a big import quadratic. Growing
# geometrically, they cost a few times one final refresh, and still run while the workers analyse.
DERIVE_BETWEEN_MIN = 50
DERIVE_BETWEEN_SHARE = 0.25

_P = ParamSpec("_P")
_R = TypeVar("_R")
_Part = TypeVar("_Part")


def _by(part: str, method: Callable[Concatenate[_Part, _P], _R]) -> Callable[Concatenate[Archive, _P], _R]:
    """``Archive``'s own name for one method of one of its parts (signature and docstring kept)."""

    @functools.wraps(method)
    def call(self: Archive, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return getattr(getattr(self, part), method.__name__)(*args, **kwargs)

    return call


class ReadOnlyArchive(ArchiveQueries):
    """The reading part of an archive (resolve, text_of, history, version navigation, conflicts...) over a
    connection opened read-only elsewhere (Datasette's): nothing is migrated, and no method writes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        db = Database(conn, recursive_triggers=False)
        register_functions(conn)  # pa_stem_query, pa_snippet: the search query calls them
        conn.execute("PRAGMA query_only = ON")  # whatever the connection allows, nothing is written through it
        super().__init__(db, Codec(db))  # reads pages.lines and contents (nothing is compressed here)


class Archive(Closable):
    """One archive.db: open (creating and migrating it), add observations, refresh, query."""

    def __init__(
        self,
        path: str | Path = DEFAULT_DB,
        *,
        create: bool = True,
        on_upgrade: Callable[[list[str]], None] | None = None,
    ) -> None:
        """``on_upgrade``: told the schema steps an archive made by older code is about to be given."""
        self.path = Path(path)
        self.db, self.codec = _open(self.path, create, on_upgrade)
        self.reader = ArchiveQueries(self.db, self.codec)
        self.store = ObservationStore(self.db, self.codec)
        self.derived = DerivedRecords(self.db, self.codec, self.reader)
        self.runs = CrawlRuns(self.db)

    def ingest(
        self,
        items: Iterable[RawSnapshot | SourceError | Flush],
        progress: Any = None,
        workers: int | None = None,
        *,
        size: int = INGEST_BATCH,
        first_batch: int = FIRST_BATCH,
        listener: Callable[[RawSnapshot | SourceError, AddResult | None], None] | None = None,
    ) -> IngestReport:
        """Add every snapshot (errors are collected, not raised), then refresh (see
        ``ObservationStore.ingest``); the report counts what the archive gained.

        With worker processes the derived tables are also refreshed between batches, while the workers
        analyse the next one: the derivation, serial at the end otherwise, runs on the CPU they leave
        (an import's wall time on two cores: see the README's performance section). ``size`` and
        ``first_batch``: snapshots per transaction; ``FLUSH`` in ``items`` ends a batch early;
        ``listener(item, result)`` is told what storing each input did (see ``IngestReport``)."""
        report = IngestReport(before=self.reader.counts(), listener=listener)
        self.store.ingest(items, report, progress, workers, Batching(size, first_batch, self._derive_between))
        self._derive_step()
        report.after = self.reader.counts()
        report.new_content = report.after["contents"] - report.before["contents"]
        return report

    def _derive_step(self) -> None:
        with self.stage_cpu.derive():
            self.derived.refresh()

    def _derive_between(self) -> None:
        """The refresh between an ingest's batches, once enough is new to be worth what a refresh costs
        whatever it derives (see DERIVE_BETWEEN_SHARE)."""
        derived, new = self.derived.backlog()
        if new >= max(DERIVE_BETWEEN_MIN, DERIVE_BETWEEN_SHARE * derived):
            self._derive_step()

    def compact(
        self, progress: Callable[[int], None] | None = None, versions: Callable[[int], None] | None = None
    ) -> tuple[int, int]:
        """Recompress the pages' lines stored before the archive had a dictionary of lines, then rewrite the
        file without its free pages (SQLite's ``VACUUM``); its bytes (WAL included) before and after.

        Why: SQLite reuses the pages a deletion or a schema step frees, but never gives them back to the
        disk (a million-observation archive kept 1.97 GB of them after ``m013``-``m018``); and an archive
        written before ``m021`` keeps its lines in the raw pages' dictionary (a quarter larger) until
        rewritten, which only pays once the file is rewritten too; an archive of 4 KB pages gets
        ``schema.PAGE_SIZE`` ones (``_vacuum``). ``VACUUM`` needs about the archive's
        size again in free space while it runs, and a moment with no reader between two of their
        transactions; a kill leaves the archive as it was (the lines recompressed so far stay so, each
        chunk its own transaction). ``progress(pages)`` is told each chunk of pages' lines looked at.

        Contents an archive stored on their own before new versions of a page were stored as what changed
        (``Codec.against``) are rewritten so (``Codec.refer_versions``); ``versions(snapshots)`` is told each
        chunk of the snapshots that brought a new content looked at. The full-text index is merged into
        one segment (FTS5's ``optimize``): an index built in batches, as crawls and imports build it, keeps
        a term's list in several segments (10% of the index: 26.5 -> 23.8 MB at 100,000 observations); only
        here, where VACUUM gives the pages it frees back to the disk, does merging them make the file smaller."""
        before = self._file_bytes()
        needed = self.path.stat().st_size
        free = shutil.disk_usage(self.path.parent).free
        if free < needed:
            raise ArchiveError(
                f"compacting {self.path} needs about {needed / 1e6:,.0f} MB free beside it ({free / 1e6:,.0f} MB are)"
            )
        self._recompress_lines(progress or (lambda _pages: None))
        self._refer_versions(versions or (lambda _snapshots: None))
        with write_transaction(self.db):
            for index in SEARCH_INDEXES:  # each into one segment: FTS5 keeps a batch's rows as their own
                self.db.execute(SEARCH_INDEX_OPTIMIZE_SQL.format(index=index))
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._vacuum()
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return before, self._file_bytes()

    def _vacuum(self) -> None:
        """VACUUM (``_rewrite``), then a check that every row others name by its rowid kept it.

        ``contents`` and ``pages`` have no INTEGER PRIMARY KEY, and their rows are named by rowid (observations,
        the content links, the engine's pages, ``'zstd-ref:#<rowid>'``). SQLite's documentation says VACUUM
        *may* renumber such rows; its VACUUM keeps them (a test holds it to that), and this says so loudly if
        one ever did not, rather than let the archive read other rows."""
        before = self._rowid_fingerprint()
        self._rewrite()
        if self._rowid_fingerprint() != before:
            raise ArchiveError(
                f"VACUUM renumbered rows of contents or pages in {self.path}, which other rows name by rowid: the "
                f"archive no longer reads right; restore it from a copy (SQLite {sqlite3.sqlite_version})"
            )

    def _rowid_fingerprint(self) -> str:
        """A digest of (rowid, key) of every row of ``schema.ROWID_NAMED`` (0.6 s at a million observations)."""
        digest = hashlib.sha256()
        for table, key in schema.ROWID_NAMED:
            for rowid, value in self.db.execute(f"SELECT rowid, [{key}] FROM [{table}] ORDER BY rowid"):
                digest.update(f"{rowid}\0{value}\n".encode())
        return digest.hexdigest()

    def _rewrite(self) -> None:
        """VACUUM, with ``schema.PAGE_SIZE`` pages if the archive has other (an archive made before it).
        SQLite changes a page size only outside WAL: the rewrite runs with a rollback journal (as atomic), then
        the archive is in WAL again. With another connection open, that switch is refused: then the page
        size stays as it is and the file is only compacted."""
        if self.db.execute("PRAGMA page_size").fetchone()[0] != schema.PAGE_SIZE:
            try:
                mode = self.db.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
            except sqlite3.OperationalError:  # locked: another connection holds the WAL
                mode = "wal"
            if mode.lower() == "delete":
                try:
                    self.db.execute(f"PRAGMA page_size = {schema.PAGE_SIZE}")
                    self.db.execute("VACUUM")
                finally:
                    self.db.execute("PRAGMA journal_mode = WAL")
                return
        self.db.execute("VACUUM")

    def _recompress_lines(self, progress: Callable[[int], None]) -> int:
        """``Codec.recompress_lines`` over every page, a chunk a transaction (a dictionary of lines trained
        first if the archive is due one); the number of pages rewritten."""
        if self.codec.current_lines is None:
            self.store.train_compression()
        last: int | None = 0
        rewritten = 0
        while last is not None:
            with write_transaction(self.db):
                last, looked_at, done = self.codec.recompress_lines(last)
            rewritten += done
            progress(looked_at)
        return rewritten

    def _refer_versions(self, progress: Callable[[int], None]) -> int:
        """``Codec.refer_versions`` over every snapshot, a chunk a transaction; the contents rewritten."""
        referenced = self.codec.referenced()
        last: int | None = 0
        rewritten = 0
        while last is not None:
            with write_transaction(self.db):
                last, looked_at, done = self.codec.refer_versions(last, referenced)
            rewritten += done
            progress(looked_at)
        return rewritten

    def _file_bytes(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def set_state(self, key: str, value: str) -> None:
        """Set one value of ``archive_state`` (a mark such as the demo's)."""
        with write_transaction(self.db):
            self.db.execute(ARCHIVE_STATE_SET_SQL, [key, value])

    @property
    def stage_cpu(self) -> StageClock:
        """CPU seconds by stage of what this archive object stored and derived (see ``StageClock``)."""
        return self.store.stage_cpu

    # the store
    add = _by("store", ObservationStore.add)
    # the derived records
    refresh = _by("derived", DerivedRecords.refresh)
    rebuild = _by("derived", DerivedRecords.rebuild)
    check = _by("derived", DerivedRecords.check)
    is_stale = _by("derived", DerivedRecords.is_stale)
    # the reader
    counts = _by("reader", ArchiveQueries.counts)
    new_version_snapshots = _by("reader", ArchiveQueries.new_version_snapshots)
    stats = _by("reader", ArchiveQueries.stats)
    query = _by("reader", ArchiveQueries.query)
    conflicts = _by("reader", ArchiveQueries.conflicts)
    missing_values = _by("reader", ArchiveQueries.missing_values)
    contradictions = _by("reader", ArchiveQueries.contradictions)
    fact_periods = _by("reader", ArchiveQueries.fact_periods)
    facts_as_of = _by("reader", ArchiveQueries.facts_as_of)
    delegation_name = _by("reader", ArchiveQueries.delegation_name)
    search = _by("reader", ArchiveQueries.search)
    block_versions = _by("reader", ArchiveQueries.block_versions)
    block_of_version = _by("reader", ArchiveQueries.block_of_version)
    first_conflict_change = _by("reader", ArchiveQueries.first_conflict_change)
    resolve = _by("reader", ArchiveQueries.resolve)
    resolve_version = _by("reader", ArchiveQueries.resolve_version)
    text_of = _by("reader", ArchiveQueries.text_of)
    history = _by("reader", ArchiveQueries.history)
    latest_version = _by("reader", ArchiveQueries.latest_version)
    previous_version = _by("reader", ArchiveQueries.previous_version)
    sibling_versions = _by("reader", ArchiveQueries.sibling_versions)
    content_text = _by("reader", ArchiveQueries.content_text)
    raw_content = _by("reader", ArchiveQueries.raw_content)
    has_content = _by("reader", ArchiveQueries.has_content)
    last_validators = _by("reader", ArchiveQueries.last_validators)
    last_content = _by("reader", ArchiveQueries.last_content)
    crawled_urls = _by("reader", ArchiveQueries.crawled_urls)
    state = _by("reader", ArchiveQueries.state)


def _open(path: Path, create: bool, on_upgrade: Callable[[list[str]], None] | None = None) -> tuple[Database, Codec]:
    """Open (creating or migrating) the archive at ``path``; ArchiveError (one sentence) for anything else."""
    if not create and not path.exists():
        raise ArchiveError(f"{path} does not exist (run `pa-archive import` or `crawl` first)")
    try:
        db = open_archive_file(path)  # someone else's database refused before anything in it changes (WAL mode)
        new = not db.table_names()
        if new:
            schema.claim(db)
        else:
            db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit is not fsynced (a checkpoint is). A killed process loses nothing
        # committed; a power cut may lose the last commits but never corrupts the archive.
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA busy_timeout=30000")
        # 64 MB of page cache (SQLite's default is 2 MB): the derivation's indexes are read at random, and
        # once they outgrow the cache every lookup would go to the file
        db.execute("PRAGMA cache_size=-65536")
        db.execute("PRAGMA foreign_keys=ON")
        register_functions(db.conn)  # the triggers call pa_stem (the stemmed index) and pa_text_signature (m040)
        migrations.migrate(db, on_upgrade)
        if new:
            # a new archive's schema is written straight into the file (rollback journal, ~0.5 MB) and only
            # then switched to WAL: in WAL its ~20 steps would pile ~1 MB into the log before a checkpoint
            db.execute("PRAGMA journal_mode=WAL")
        return db, Codec(db)
    except sqlite3.DatabaseError as exc:
        if is_disk_full(exc):  # while writing a new archive's schema, or an upgrade
            raise ArchiveError(DISK_FULL) from None
        raise ArchiveError(f"{path} is not a usable SQLite database ({exc})") from None
    except migrations.MigrationError as exc:
        raise ArchiveError(f"upgrading {path} stopped, nothing changed by that step: {exc}") from None
