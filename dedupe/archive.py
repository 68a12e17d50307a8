"""archive.db: store observations, derive versioned articles, blocks and facts, answer queries.

``Archive.add`` stores one observation (raw content once by hash, its analysis once, the
snapshot row) in its own transaction and marks the derived tables stale. ``Archive.refresh``
recomputes every derived table from the observations in one transaction: the result is a
function of the set of snapshots only (see ``dedupe.blocks``), and a kill at any point leaves
either the old or the new state. When the observations since the last refresh brought no new
content (a re-crawl's 304s), it updates counts and first/last seen in place instead, with the
same result. A stale archive refreshes itself on the next write.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import re
import signal
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from sqlite_utils import Database

from . import DEFAULT_DB, schema
from .blocks import ARTICLE_CONFIG, Derivation, PageLines, derive
from .document import InputError, PageAnalysis, RawSnapshot
from .extract import EXTRACTOR_VERSION, analyse, detect_language
from .facts import extract_facts
from .minhash import compute_signatures, deserialize, estimate_jaccard, serialize
from .sources import SourceError
from .storage import Codec, content_hash, text_hash
from .variants import assign_slots, compare_versions

REMOVED_STATUSES = {404, 410}
INGEST_BATCH = 200  # snapshots stored per transaction by ``ingest``
PARALLEL_MIN = 100  # contents to analyse in one batch before ``ingest`` uses worker processes (starting them costs ~0.2 s)
ANALYSIS_CHUNK = 8  # contents per task sent to a worker

_CONTENT_COLUMNS = ("sha256", "kind", "size", "stored_size", "compression", "encoding", "body")
_PAGE_COLUMNS = ("content_sha256", "extractor", "language", "title", "published", "structured", "lines")
_SNAPSHOT_COLUMNS = ("url", "host", "observed_at", "source", "origin", "http_status", "headers", "etag",
                     "last_modified", "page_type", "content_sha256", "status")


def _insert_sql(table: str, columns: tuple[str, ...], verb: str = "INSERT") -> str:
    """``INSERT INTO table (columns) VALUES (:columns)`` for a fixed table of this module."""
    return f"{verb} INTO [{table}] ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"


_INSERT_CONTENT = _insert_sql("contents", _CONTENT_COLUMNS, "INSERT OR IGNORE")
_INSERT_PAGE = _insert_sql("pages", _PAGE_COLUMNS, "INSERT OR IGNORE")
_INSERT_SNAPSHOT = _insert_sql("snapshots", _SNAPSHOT_COLUMNS)


class ArchiveError(Exception):
    """The database cannot be used as an archive (one clear sentence)."""


@dataclass
class AddResult:
    """What storing one observation did: 'new', 'seen_again', 'not_modified', 'removed', 'duplicate', 'error', 'failed'."""

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


class Archive:
    """One archive.db: open (creating and migrating it), add observations, refresh, query."""

    def __init__(self, path: str | Path = DEFAULT_DB, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise ArchiveError(f"{self.path} does not exist (run `pa-archive import` or `crawl` first)")
        try:
            self.db = Database(self.path)
            self.db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit is not fsynced (a checkpoint is). A killed process loses nothing
            # committed; a power cut may lose the last commits but never corrupts the archive.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA busy_timeout=30000")
            self.db.execute("PRAGMA foreign_keys=ON")
            if not schema.is_archive(self.db):
                raise ArchiveError(f"{self.path} is a SQLite database but not a pa-archive archive")
            schema.migrate(self.db)
            self.codec = Codec(self.db)
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"{self.path} is not a usable SQLite database ({exc})") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- observations ---------------------------------------------------------------

    def add(self, snap: RawSnapshot) -> AddResult:
        """Store one observation in its own transaction; bad input stores nothing."""
        try:
            prepared = self._prepare(snap)
        except InputError as exc:
            return AddResult("error", message=str(exc))
        with self.db.atomic():
            result = self._store(snap, *prepared)
        self._train_compression()
        return result

    def _train_compression(self) -> None:
        """Train the compression dictionary when due (see ``dedupe.storage``), in its own transaction."""
        if self.codec.train_due:
            with self.db.atomic():
                self.codec.train()

    def _prepare(self, snap: RawSnapshot) -> tuple[str | None, dict[str, Any] | None, dict[str, Any] | None]:
        """Hash, analyse and compress outside the transaction (the expensive part)."""
        sha, known = self._lookup(snap)
        if sha is None or known:
            return sha, None, None  # exact repeat: no analysis, no MinHash
        return self._pack(snap, sha, analyse(snap.body, snap.declared_charset, snap.kind_hint))

    def _lookup(self, snap: RawSnapshot) -> tuple[str | None, bool]:
        """The content's sha256 (None without a body) and whether the archive already has it."""
        if snap.body is None:
            return None, False
        sha = content_hash(snap.body)
        return sha, self.db.execute("SELECT 1 FROM contents WHERE sha256 = ?", [sha]).fetchone() is not None

    def _pack(self, snap: RawSnapshot, sha: str, analysis: PageAnalysis) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """The contents and pages rows of a new content."""
        blob, method = self.codec.compress(snap.body, analysis.kind)
        content = {
            "sha256": sha, "kind": analysis.kind, "size": len(snap.body), "stored_size": len(blob),
            "compression": method, "encoding": analysis.encoding, "body": blob,
        }
        page = {
            "content_sha256": sha, "extractor": EXTRACTOR_VERSION, "language": analysis.language,
            "title": analysis.title, "published": analysis.published, "structured": int(analysis.structured),
            "lines": json.dumps(analysis.lines, ensure_ascii=False),
        }
        return sha, content, page

    def _store(self, snap: RawSnapshot, sha: str | None, content: dict | None, page: dict | None) -> AddResult:
        status_code = snap.http_status
        if status_code == 304:
            row = self.db.execute(
                "SELECT content_sha256 FROM snapshots WHERE url = ? AND content_sha256 IS NOT NULL "
                "ORDER BY observed_at DESC, id DESC LIMIT 1", [snap.url]).fetchone()
            sha, status = (row[0] if row else None), "not_modified"
        elif status_code in REMOVED_STATUSES:
            sha, status = None, "removed"
        elif sha is None:
            status = "error"
        else:
            previous = self.db.execute(
                "SELECT content_sha256 FROM snapshots WHERE url = ? ORDER BY observed_at DESC, id DESC LIMIT 1", [snap.url]
            ).fetchone()
            status = "seen_again" if previous and previous[0] == sha else "new"
        if self.db.execute(
            "SELECT 1 FROM snapshots WHERE url = ? AND observed_at = ? AND coalesce(content_sha256, '') = ?",
            [snap.url, snap.observed_at, sha or ""],
        ).fetchone():
            return AddResult("duplicate", message="already in the archive")
        if content is not None:
            self.db.execute(_INSERT_CONTENT, content)
            self.db.execute(_INSERT_PAGE, page)
        headers = {k.lower(): v for k, v in (snap.headers or {}).items()}
        cursor = self.db.execute(_INSERT_SNAPSHOT, {
            "url": snap.url, "host": urlsplit(snap.url).hostname, "observed_at": snap.observed_at,
            "source": snap.source, "origin": snap.origin, "http_status": status_code,
            # a 304 repeats what the stored content's snapshot already says: keep its row small
            "headers": json.dumps(headers, ensure_ascii=False) if headers and status_code != 304 else None,
            "etag": headers.get("etag"), "last_modified": headers.get("last-modified"),
            "page_type": snap.page_type, "content_sha256": sha, "status": status,
        })
        self._mark_stale()
        return AddResult(status, cursor.lastrowid)

    def _mark_stale(self) -> None:
        """Count one more change of the observations (inside the transaction that made it)."""
        self.db.execute(
            "INSERT INTO archive_state(key, value) VALUES ('generation', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")

    def _generations(self) -> tuple[int, int]:
        """(observations' generation, generation the derived tables were built from)."""
        state = dict(self.db.execute(
            "SELECT key, CAST(value AS INTEGER) FROM archive_state WHERE key IN ('generation', 'derived_generation')"))
        return state.get("generation", 0), state.get("derived_generation", 0)

    def is_stale(self) -> bool:
        """True when observations or the extractor changed since the derived tables were built."""
        generation, derived = self._generations()
        outdated = self.db.execute("SELECT 1 FROM pages WHERE extractor != ? LIMIT 1", [EXTRACTOR_VERSION]).fetchone()
        return generation != derived or outdated is not None

    def ingest(self, items: Iterable[RawSnapshot | SourceError], progress: Any = None,
               workers: int | None = None) -> IngestReport:
        """Add every snapshot (errors are collected, not raised), then refresh once.

        The same as ``add`` for each item in turn, but faster: INGEST_BATCH snapshots are stored
        per transaction (one savepoint each: a snapshot is stored whole or not at all), and the
        pages of a batch are analysed by ``workers`` processes (default: one per CPU) while the
        batch before it is stored. ``progress(item)`` is called as each item is stored.
        """
        report = IngestReport(before=self.stats())
        analyser = _Analyser((os.cpu_count() or 1) if workers is None else workers)
        try:
            pending: tuple | None = None
            batch: list[RawSnapshot | SourceError] = []
            for item in itertools.chain(items, [None]):  # None: the end, to store the last batch
                if item is not None:
                    batch.append(item)
                    if len(batch) < INGEST_BATCH:
                        continue
                elif not batch:
                    break
                job = self._start_batch(batch, analyser)  # analysed while the previous batch is stored
                if pending is not None:
                    self._finish_batch(*pending, report, progress)
                pending, batch = (batch, *job), []
            if pending is not None:
                self._finish_batch(*pending, report, progress)
        finally:
            analyser.close()
        self.refresh()
        report.after = self.stats()
        report.new_content = report.after["contents"] - report.before["contents"]
        return report

    def _start_batch(self, batch: list[RawSnapshot | SourceError], analyser: "_Analyser") -> tuple:
        """Hash a batch and start analysing its new contents (a repeat inside the batch once)."""
        lookups: dict[int, tuple[str | None, bool]] = {}
        first_of: dict[str, int] = {}
        todo: list[int] = []
        for index, item in enumerate(batch):
            if isinstance(item, SourceError):
                continue
            sha, known = lookups[index] = self._lookup(item)
            if sha is None or known or sha in first_of:
                continue
            first_of[sha] = index
            todo.append(index)
        return lookups, first_of, todo, analyser.submit([batch[i] for i in todo])

    def _finish_batch(self, batch: list[RawSnapshot | SourceError], lookups: dict, first_of: dict, todo: list[int],
                      analyses: Callable[[], list], report: IngestReport, progress: Any) -> None:
        """Store an analysed batch in one transaction, then count it in order."""
        outcome = dict(zip(todo, analyses()))  # index -> PageAnalysis or InputError
        prepared: dict[int, tuple] = {}
        results: dict[int, AddResult] = {}
        for index, (sha, known) in lookups.items():
            item = batch[index]
            found = outcome.get(first_of.get(sha, -1)) if sha is not None and not known else None
            if isinstance(found, InputError):
                results[index] = AddResult("error", message=str(found))
            elif found is not None and first_of[sha] == index:
                prepared[index] = self._pack(item, sha, found)
            else:
                prepared[index] = (sha, None, None)  # no body, known, or a repeat of an earlier one
        failure: BaseException | None = None
        if prepared:
            with self.db.atomic():
                for index in sorted(prepared):
                    try:
                        with self.db.atomic():  # a savepoint: this snapshot whole or not at all
                            results[index] = self._store(batch[index], *prepared[index])
                    except BaseException as exc:  # noqa: BLE001 - re-raised once the earlier ones are committed
                        failure = exc
                        break
        if failure is not None:
            raise failure
        self._train_compression()
        for index, item in enumerate(batch):
            if isinstance(item, SourceError):
                report.errors.append(str(item))
            else:
                result = results[index]
                if result.status == "error":
                    report.errors.append(f"{item.origin or item.url}: {result.message}")
                elif result.status == "duplicate":
                    report.duplicates += 1
                else:
                    report.added += 1
                    report.seen_again += result.status in ("seen_again", "not_modified")
            if progress is not None:
                progress(item)

    def last_validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of the URL's newest stored content (for conditional requests)."""
        row = self.db.execute(
            "SELECT etag, last_modified FROM snapshots WHERE url = ? AND content_sha256 IS NOT NULL "
            "ORDER BY observed_at DESC, id DESC LIMIT 1", [url]).fetchone()
        return (row[0], row[1]) if row else (None, None)

    # --- derived records --------------------------------------------------------------

    def refresh(self, force: bool = False) -> bool:
        """Bring every derived table up to date with the observations, in one transaction.

        When the observations since the last refresh brought no new content (304s, byte-identical
        pages, removals, failures), only counts, first/last seen, article status and URL can change:
        those rows are updated in place (``_refresh_spans``). Otherwise, or with ``force``, every
        derived table is rebuilt."""
        if not force and not self.is_stale():
            return False
        if not force and self._refresh_spans():
            return True
        self._reanalyse_outdated()
        with self.db.atomic():  # one read snapshot: these pages are exactly that generation's
            generation, _ = self._generations()
            pages = self._load_pages()
            last_id = self.db.execute("SELECT coalesce(max(id), 0) FROM snapshots").fetchone()[0]
        derivation = derive(pages, self._signatures)
        with self.db.atomic():
            for table in schema.DERIVED_TABLES:
                self.db.execute(f"DELETE FROM [{table}]")  # fixed names from schema.DERIVED_TABLES
            _Writer(self.db, pages, derivation, self._signatures).write()
            # snapshots stored meanwhile belong to a later generation: the archive stays stale for them
            self._mark_derived(generation, last_id, _contents_key(len(pages), sum(p.has_article for p in pages)))
        return True

    def _mark_derived(self, generation: int, last_snapshot_id: int, contents_key: str) -> None:
        """Which observations the derived tables were built from: the generation, the last snapshot id
        and which contents (count, with an article) - what ``_refresh_spans`` needs to stay exact."""
        self.db.conn.executemany("INSERT OR REPLACE INTO archive_state(key, value) VALUES (?, ?)", [
            ("derived_generation", str(generation)), ("derived_snapshot_id", str(last_snapshot_id)),
            ("derived_contents", contents_key)])

    def _refresh_spans(self) -> bool:
        """Update counts, first/last seen, article status and URL in place, when that is all that can have
        changed; False (nothing written) when a full rebuild is needed.

        That is the case when the set of analysed contents (and which of them were seen as articles) is
        the one the derived tables were built from, no content's first observation or first URL moved
        (they order versions), and the stored rows are exactly what the rules below give for the
        observations they were built from (else, e.g. a page carrying the same block twice, rebuild)."""
        state = dict(self.db.execute(
            "SELECT key, value FROM archive_state WHERE key IN ('derived_snapshot_id', 'derived_contents')"))
        if len(state) < 2 or self.db.execute(
                "SELECT 1 FROM pages WHERE extractor != ? LIMIT 1", [EXTRACTOR_VERSION]).fetchone():
            return False
        with self.db.atomic():
            generation, _ = self._generations()
            contents, articles = self.db.execute(
                "SELECT count(*), coalesce(sum(has_article), 0) FROM (SELECT max(coalesce(s.page_type, 'article') "
                "= 'article') AS has_article FROM pages p JOIN snapshots s ON s.content_sha256 = p.content_sha256 "
                "GROUP BY p.content_sha256)").fetchone()
            if _contents_key(contents, articles) != state["derived_contents"]:
                return False
            old_id = int(state["derived_snapshot_id"])
            last_id = self.db.execute("SELECT coalesce(max(id), 0) FROM snapshots").fetchone()[0]
            before, now = _Spans(self.db, old_id), _Spans(self.db, last_id)
            if set(before.seen) != set(now.seen) or any(
                    before.seen[k][1] != now.seen[k][1] or before.first_url[k] != now.first_url[k] for k in before.seen):
                return False  # a version's first observation or first URL moved: the order may change
            rows = _SpanRows(self.db)
            if rows.computed(before) != rows.stored:
                return False
            rows.update(now)
            self._mark_derived(generation, last_id, state["derived_contents"])
        return True

    def _reanalyse_outdated(self) -> None:
        """Analyse again the contents an older extractor analysed, so results depend on the bytes only."""
        outdated = [sha for (sha,) in self.db.execute(
            "SELECT content_sha256 FROM pages WHERE extractor != ?", [EXTRACTOR_VERSION])]
        for sha in outdated:
            kind, encoding = self.db.execute("SELECT kind, encoding FROM contents WHERE sha256 = ?", [sha]).fetchone()
            try:
                analysis = analyse(self.raw_content(sha), encoding, kind)
            except InputError:
                continue  # keep the old analysis rather than lose the snapshot's page
            with self.db.atomic():
                self.db.execute(
                    "UPDATE pages SET extractor = ?, language = ?, title = ?, published = ?, structured = ?, lines = ? "
                    "WHERE content_sha256 = ?",
                    [EXTRACTOR_VERSION, analysis.language, analysis.title, analysis.published, int(analysis.structured),
                     json.dumps(analysis.lines, ensure_ascii=False), sha])

    def _load_pages(self) -> list[PageLines]:
        rows = self.db.execute(
            """SELECT p.content_sha256, p.structured, p.lines,
                      max(coalesce(s.page_type, 'article') = 'article') AS has_article
               FROM pages p JOIN snapshots s ON s.content_sha256 = p.content_sha256
               GROUP BY p.content_sha256"""
        ).fetchall()
        return [
            PageLines(key=sha, structured=bool(structured), lines=[tuple(x) for x in json.loads(lines)], has_article=bool(art))
            for sha, structured, lines, art in rows
        ]

    def _signatures(self, texts: Sequence[str]) -> np.ndarray:
        """Article signatures, cached in ``signatures`` by text hash (computed once ever)."""
        hashes = [text_hash(t) for t in texts]
        known: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for sha, blob in self.db.execute(
                f"SELECT text_sha256, signature FROM signatures WHERE config = ? AND text_sha256 IN ({marks})",
                [str(ARTICLE_CONFIG), *chunk],
            ):
                known[sha] = deserialize(blob)
        missing = [i for i, sha in enumerate(hashes) if sha not in known]
        if missing:
            fresh = compute_signatures([texts[i] for i in missing], ARTICLE_CONFIG)
            rows = []
            for row_index, i in enumerate(missing):
                known[hashes[i]] = fresh[row_index]
                rows.append({"text_sha256": hashes[i], "config": str(ARTICLE_CONFIG),
                             "signature": serialize(fresh[row_index], ARTICLE_CONFIG)})
            with self.db.atomic():
                self.db["signatures"].insert_all(rows, replace=True)
        return np.vstack([known[sha] for sha in hashes])

    # --- queries ----------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        return {name: self.db.execute(sql).fetchone()[0] for name, sql in schema.STATS_SQL.items()}

    def query(self, sql: str, params: dict[str, Any] | Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def conflicts(self) -> list[dict[str, Any]]:
        """One record per conflicting (delegation, field) of one language, values by snapshot count."""
        grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in self.query(schema.CONFLICTS_SQL):
            grouped[(row["delegation"], row["field"], row["language"])].append(
                {k: row[k] for k in ("value", "snapshots", "first_seen", "last_seen")})
        return [{"delegation": d, "field": f, "language": lang, "values": values}
                for (d, f, lang), values in grouped.items()]

    def missing_values(self) -> list[dict[str, Any]]:
        """Values present as a line but empty, with the snapshots they are missing in."""
        rows = self.query(schema.MISSING_SQL)
        names = {str(i): _short_name(url) for i, origin, url in self.db.execute("SELECT id, origin, url FROM snapshots")}
        for row in rows:
            ids = sorted(row.pop("snapshot_ids").split(","), key=int)
            row["seen_in"] = [names[i] for i in ids]
        return rows

    def search(self, query: str) -> list[dict[str, Any]]:
        """Full-text search (FTS5 syntax) over article titles and texts, best first."""
        try:
            return self.query(schema.SEARCH_SQL, {"q": query})
        except sqlite3.OperationalError as exc:
            raise ArchiveError(f"cannot search for {query!r}: {exc}") from None

    def block_versions(self) -> list[dict[str, Any]]:
        versions = self.query(schema.BLOCK_VERSIONS_SQL)
        changes = defaultdict(list)
        for row in self.query(schema.BLOCK_CHANGES_SQL):
            changes[row["block_version_id"]].append(row)
        members = defaultdict(list)
        for bv, origin, url in self.db.execute(
            "SELECT cb.block_version_id, s.origin, s.url FROM content_blocks cb "
            "JOIN snapshots s ON s.content_sha256 = cb.content_sha256 ORDER BY s.observed_at, s.id"):
            members[bv].append(_short_name(url))
        for row in versions:
            row["changes"] = changes.get(row["version_id"], [])
            row["seen_in"] = members.get(row["version_id"], [])
        return versions

    def resolve(self, ref: str) -> Ref:
        """What ``ref`` names (see REF_HELP)."""
        return _resolve(self, ref)

    def text_of(self, ref: Ref) -> str:
        """The text a diff compares: a snapshot's page, a version's text."""
        if ref.kind == "snapshot":
            row = self.db.execute("SELECT content_sha256, http_status FROM snapshots WHERE id = ?", [ref.id]).fetchone()
            if row[0] is None:
                raise ArchiveError(f"snapshot {ref.id} has no content (HTTP {row[1]})")
            return self.content_text(row[0])
        table = {"article_version": "article_versions", "block_version": "block_versions"}.get(ref.kind)
        if table is None:
            raise ArchiveError(f"{ref.label} has several versions: diff two of its versions (see `pa-archive history {ref.label.replace(' ', '')[:1]}{ref.id}`)")
        return self.db.execute(f"SELECT text FROM [{table}] WHERE id = ?", [ref.id]).fetchone()[0]

    def history(self, ref: Ref) -> dict[str, Any]:
        """Every version of the article or block ``ref`` belongs to, oldest first."""
        if ref.kind in ("snapshot", "article_version"):
            sql = ("SELECT av.article_id FROM snapshots s JOIN content_articles ca ON ca.content_sha256 = s.content_sha256 "
                   "JOIN article_versions av ON av.id = ca.article_version_id WHERE s.id = ?") if ref.kind == "snapshot" \
                else "SELECT article_id FROM article_versions WHERE id = ?"
            row = self.db.execute(sql, [ref.id]).fetchone()
            if row is None:
                return self._url_history(ref)
            ref = Ref("article", str(row[0]), f"article {row[0]}")
        if ref.kind == "block_version":
            row = self.db.execute("SELECT block_id FROM block_versions WHERE id = ?", [ref.id]).fetchone()
            ref = Ref("block", str(row[0]), f"block {row[0]}")
        if ref.kind == "article":
            head = self.query("SELECT * FROM articles WHERE id = ?", [ref.id])[0]
            versions = self.query(
                "SELECT id, version, title, published, similarity_to_previous, snapshots, first_seen, last_seen, text "
                "FROM article_versions WHERE article_id = ? ORDER BY version", [ref.id])
            for version in versions:
                version["seen_as"] = [r["url"] for r in self.query(
                    "SELECT DISTINCT s.url FROM snapshots s JOIN content_articles ca ON ca.content_sha256 = s.content_sha256 "
                    "WHERE ca.article_version_id = ? ORDER BY s.url", [version["id"]])]
            return {"kind": "article", "article": head, "versions": versions}
        head = self.query("SELECT * FROM blocks WHERE id = ?", [ref.id])[0]
        versions = [v for v in self.block_versions() if v["block_id"] == int(ref.id)]
        return {"kind": "block", "block": head, "versions": versions}

    def _url_history(self, ref: Ref) -> dict[str, Any]:
        url = self.db.execute("SELECT url FROM snapshots WHERE id = ?", [ref.id]).fetchone()[0]
        return {"kind": "url", "url": url, "snapshots": self.query(schema.URL_VERSIONS_SQL, {"url": url})}

    def content_text(self, sha: str) -> str:
        """The decoded page text of one stored content (its lines, in order)."""
        row = self.db.execute("SELECT lines FROM pages WHERE content_sha256 = ?", [sha]).fetchone()
        if not row:
            raise ArchiveError(f"no content {sha}")
        return "\n".join(line[0] for line in json.loads(row[0]))

    def raw_content(self, sha: str) -> bytes:
        row = self.db.execute("SELECT body, compression FROM contents WHERE sha256 = ?", [sha]).fetchone()
        if not row:
            raise ArchiveError(f"no content {sha}")
        return self.codec.decompress(row[0], row[1])


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


def _analyse_chunk(snaps: list[tuple[bytes, str | None, str | None]]) -> list[PageAnalysis | InputError]:
    """``analyse`` of each (body, declared charset, kind hint); bad input gives its InputError."""
    results: list[PageAnalysis | InputError] = []
    for body, charset, kind_hint in snaps:
        try:
            results.append(analyse(body, charset, kind_hint))
        except InputError as exc:
            results.append(exc)
    return results


class _Analyser:
    """``analyse`` for the batches of one ingest: in worker processes when a batch has enough
    new contents (and the platform can fork), else in this process. The pool starts on first use."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool: ProcessPoolExecutor | None = None

    def submit(self, snaps: list[RawSnapshot]) -> Callable[[], list[PageAnalysis | InputError]]:
        """Start analysing; the returned function waits for the results, in order."""
        args = [(s.body, s.declared_charset, s.kind_hint) for s in snaps]
        if self.workers < 2 or len(args) < PARALLEL_MIN or "fork" not in multiprocessing.get_all_start_methods():
            return lambda: _analyse_chunk(args)
        if self.pool is None:
            # fork: the workers inherit the loaded extractors (spawn would import trafilatura again).
            # They run only the pure ``analyse`` and leave through os._exit, so the SQLite connection
            # they inherit is never used or closed there, and fcntl locks are not inherited.
            self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_die_with_parent)
        futures = [self.pool.submit(_analyse_chunk, args[lo:lo + ANALYSIS_CHUNK])
                   for lo in range(0, len(args), ANALYSIS_CHUNK)]
        return lambda: [result for future in futures for result in future.result()]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


@dataclass(frozen=True)
class Ref:
    """A thing a user named: kind is 'snapshot', 'article', 'block', 'article_version' or 'block_version'."""

    kind: str
    id: str
    label: str


REF_HELP = (
    "a snapshot (12 or s12), an article (a3), a block (b1), an article version (av-1a2b...), "
    "a block version (bv-3c4d...; a unique prefix is enough), or a URL or file path"
)


def _resolve(archive: "Archive", ref: str) -> Ref:
    """Parse a user's reference; raise ArchiveError with a sentence when it names nothing."""
    ref = ref.strip()
    db = archive.db
    if re.fullmatch(r"s?\d+", ref):
        sid = ref.lstrip("s")
        if db.execute("SELECT 1 FROM snapshots WHERE id = ?", [sid]).fetchone():
            return Ref("snapshot", sid, f"snapshot {sid}")
        raise ArchiveError(f"there is no snapshot {sid}")
    for prefix, kind, table in (("a", "article", "articles"), ("b", "block", "blocks")):
        if re.fullmatch(prefix + r"\d+", ref):
            if db.execute(f"SELECT 1 FROM [{table}] WHERE id = ?", [ref[1:]]).fetchone():
                return Ref(kind, ref[1:], f"{kind} {ref[1:]}")
            raise ArchiveError(f"there is no {kind} {ref[1:]}")
    for prefix, kind, table in (("av-", "article_version", "article_versions"), ("bv-", "block_version", "block_versions")):
        if ref.startswith(prefix):
            rows = db.execute(f"SELECT id FROM [{table}] WHERE id LIKE ? || '%'", [ref]).fetchall()
            if len(rows) == 1:
                return Ref(kind, rows[0][0], rows[0][0])
            raise ArchiveError(f"{ref} matches {len(rows)} {kind.replace('_', ' ')}s" + ("" if rows else "; see `pa-archive blocks` or `history`"))
    url = ref
    if "://" not in ref and (Path(ref).exists() or "/" in ref or "." in ref):
        url = Path(ref).resolve().as_uri()
    row = db.execute("SELECT id FROM snapshots WHERE url = ? ORDER BY observed_at DESC, id DESC LIMIT 1", [url]).fetchone()
    if row is None:
        row = db.execute("SELECT id FROM snapshots WHERE substr(url, -length(?) - 1) = '/' || ? "
                         "ORDER BY observed_at DESC, id DESC LIMIT 1", [ref, ref]).fetchone()
    if row is None:
        raise ArchiveError(f"nothing in the archive is called {ref!r} ({REF_HELP})")
    return Ref("snapshot", str(row[0]), ref)


def _short_name(url: str) -> str:
    """A file name for imported files, the URL for fetched pages: what a person recognises."""
    return url.rsplit("/", 1)[-1] if url.startswith("file:") else url


def _contents_key(contents: int, with_article: int) -> str:
    """The analysed contents the derived tables were built from, as far as a refresh in place needs to know
    (contents and snapshots are never deleted, so equal counts mean the same set and the same flags)."""
    return f"{contents}:{with_article}"


class _Spans:
    """Per content, from the snapshots up to ``last_id``: (count, first seen, last seen), its smallest URL, the
    URL of its newest snapshot; per URL, the HTTP status of its newest snapshot (as ``_Writer`` reads them)."""

    def __init__(self, db: Database, last_id: int) -> None:
        self.seen: dict[str, tuple[int, str, str]] = {}
        self.first_url: dict[str, str] = {}
        for sha, count, first, last, url in db.execute(
                "SELECT content_sha256, count(*), min(observed_at), max(observed_at), min(url) FROM snapshots "
                "WHERE content_sha256 IS NOT NULL AND id <= ? GROUP BY content_sha256", [last_id]):
            self.seen[sha] = (count, first, last)
            self.first_url[sha] = url
        self.latest = {url: status for url, status, _ in db.execute(
            "SELECT url, http_status, max(observed_at) FROM snapshots WHERE id <= ? GROUP BY url", [last_id])}
        self.url_of = {sha: url for sha, url in db.execute(
            "SELECT content_sha256, url FROM snapshots WHERE content_sha256 IS NOT NULL AND id <= ? "
            "ORDER BY observed_at, id", [last_id])}

    def span(self, keys: Iterable[str]) -> tuple[int, str, str]:
        spans = [self.seen[k] for k in keys if k in self.seen]
        return sum(s[0] for s in spans), min(s[1] for s in spans), max(s[2] for s in spans)


class _SpanRows:
    """The span columns of the derived tables (what observations without new content change), stored and
    as ``_Writer``'s rules compute them for a ``_Spans``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.version_keys: dict[str, list[str]] = defaultdict(list)
        self.article_versions: dict[int, list[str]] = defaultdict(list)
        for version_id, article_id, sha in db.execute(
                "SELECT av.id, av.article_id, ca.content_sha256 FROM article_versions av "
                "JOIN content_articles ca ON ca.article_version_id = av.id ORDER BY av.article_id, av.version"):
            self.version_keys[version_id].append(sha)
            self.article_versions[article_id].append(sha)
        self.block_keys: dict[str, list[str]] = defaultdict(list)
        self.block_versions: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        for version_id, block_id, number, first_line in db.execute(
                "SELECT id, block_id, version, substr(text, 1, instr(text || char(10), char(10)) - 1) "
                "FROM block_versions ORDER BY block_id, version"):
            self.block_versions[block_id].append((number, version_id, first_line))
        for version_id, sha in db.execute("SELECT block_version_id, content_sha256 FROM content_blocks"):
            self.block_keys[version_id].append(sha)
        self.stored = {
            "article_versions": {r[0]: tuple(r[1:]) for r in db.execute(
                "SELECT id, snapshots, first_seen, last_seen FROM article_versions")},
            "articles": {r[0]: tuple(r[1:]) for r in db.execute(
                "SELECT id, snapshots, first_seen, last_seen, url, status FROM articles")},
            "block_versions": {r[0]: tuple(r[1:]) for r in db.execute(
                "SELECT id, snapshots, first_seen, last_seen FROM block_versions")},
            "blocks": {r[0]: tuple(r[1:]) for r in db.execute("SELECT id, snapshots, first_seen, last_seen, name FROM blocks")},
        }

    def computed(self, spans: _Spans) -> dict[str, dict[Any, tuple]]:
        versions = {vid: spans.span(keys) for vid, keys in self.version_keys.items()}
        articles = {}
        for article_id, keys in self.article_versions.items():
            newest = max(keys, key=lambda k: spans.seen[k][2])
            url = spans.url_of.get(newest)
            status = "removed" if url in spans.latest and spans.latest[url] in REMOVED_STATUSES else "live"
            articles[article_id] = (*spans.span(keys), url, status)
        block_versions = {vid: spans.span(keys) for vid, keys in self.block_keys.items()}
        blocks = {}
        for block_id, members in self.block_versions.items():
            counts = [block_versions[vid][0] for _, vid, _ in members]
            commonest = members[counts.index(max(counts))][2]  # ties: the earliest version, as _Writer picks
            blocks[block_id] = (sum(counts), min(block_versions[vid][1] for _, vid, _ in members),
                                max(block_versions[vid][2] for _, vid, _ in members), commonest[:80])
        return {"article_versions": versions, "articles": articles, "block_versions": block_versions, "blocks": blocks}

    def update(self, spans: _Spans) -> None:
        """Write the rows whose spans changed (the full-text index is only touched for those)."""
        columns = {"article_versions": ("snapshots", "first_seen", "last_seen"),
                   "articles": ("snapshots", "first_seen", "last_seen", "url", "status"),
                   "block_versions": ("snapshots", "first_seen", "last_seen"),
                   "blocks": ("snapshots", "first_seen", "last_seen", "name")}
        for table, rows in self.computed(spans).items():
            sets = ", ".join(f"{c} = ?" for c in columns[table])
            changed = [(*values, key) for key, values in rows.items() if self.stored[table].get(key) != values]
            if changed:
                self.db.conn.executemany(f"UPDATE [{table}] SET {sets} WHERE id = ?", changed)  # fixed names


class _Writer:
    """Turns one ``Derivation`` into rows of the derived tables."""

    def __init__(self, db: Database, pages: list[PageLines], derivation: Derivation,
                 signatures: Callable[[Sequence[str]], np.ndarray]) -> None:
        self.db = db
        self.signatures = signatures  # Archive._signatures: cached, one batched lookup
        self.pages = {p.key: p for p in pages}
        self.d = derivation
        self.seen: dict[str, tuple[int, str, str]] = {}
        self.first_url: dict[str, str] = {}
        for sha, count, first, last, url in db.execute(
            "SELECT content_sha256, count(*), min(observed_at), max(observed_at), min(url) FROM snapshots "
            "WHERE content_sha256 IS NOT NULL GROUP BY content_sha256"):
            self.seen[sha] = (count, first, last)
            self.first_url[sha] = url
        self.meta = {sha: (title, published) for sha, title, published in
                     db.execute("SELECT content_sha256, title, published FROM pages")}

    def _order(self, keys: Iterable[str], text: str) -> tuple[str, str, str]:
        """Sort key of a version: first seen, then the smallest URL, then its hash (never arrival order)."""
        keys = [k for k in keys if k in self.seen]
        return min(self.seen[k][1] for k in keys), min(self.first_url[k] for k in keys), text_hash(text)

    def _span(self, keys: Iterable[str]) -> tuple[int, str, str]:
        spans = [self.seen[k] for k in keys if k in self.seen]
        return sum(s[0] for s in spans), min(s[1] for s in spans), max(s[2] for s in spans)

    def write(self) -> None:
        self._write_articles()
        self._write_blocks()

    def _write_articles(self) -> None:
        members: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for key, group in self.d.article_group.items():
            if key in self.seen:
                members[group][self.d.article_text[key]].append(key)
        latest = {url: (status, ts) for url, status, ts in self.db.execute(
            "SELECT url, http_status, max(observed_at) FROM snapshots GROUP BY url")}
        url_of = {sha: url for sha, url in self.db.execute(
            "SELECT content_sha256, url FROM snapshots WHERE content_sha256 IS NOT NULL ORDER BY observed_at, id")}
        articles = []
        for versions in members.values():
            spans = {text: self._span(keys) for text, keys in versions.items()}
            ordered = sorted(versions, key=lambda t: self._order(versions[t], t))
            articles.append((self._order(versions[ordered[0]], ordered[0]), ordered, versions, spans))
        articles.sort()
        edited = [text for _, ordered, _, _ in articles if len(ordered) > 1 for text in ordered]
        signature_of = dict(zip(edited, self.signatures(edited))) if edited else {}  # only to compare versions
        article_rows, version_rows, link_rows = [], [], []
        for article_id, (_, ordered, versions, spans) in enumerate(articles, start=1):
            previous_sig = None
            titles = []
            for number, text in enumerate(ordered, start=1):
                keys = versions[text]
                count, first, last = spans[text]
                title = next((self.meta[k][0] for k in keys if self.meta[k][0]), None)
                published = next((self.meta[k][1] for k in keys if self.meta[k][1]), None)
                titles.append(title)
                sig = signature_of.get(text)
                version_id = "av-" + text_hash(text)[:12]
                version_rows.append({
                    "id": version_id, "article_id": article_id, "version": number, "title": title,
                    "published": published, "text": text, "snapshots": count, "first_seen": first, "last_seen": last,
                    "similarity_to_previous": None if previous_sig is None else round(estimate_jaccard(previous_sig, sig), 3),
                })
                link_rows += [{"content_sha256": k, "article_version_id": version_id} for k in keys]
                previous_sig = sig
            all_keys = [k for keys in versions.values() for k in keys]
            count, first, last = self._span(all_keys)
            url = max(all_keys, key=lambda k: self.seen[k][2])
            url = url_of.get(url)
            status = "removed" if url in latest and latest[url][0] in REMOVED_STATUSES else "live"
            article_rows.append({
                "id": article_id, "title": next((t for t in reversed(titles) if t), None), "url": url, "status": status,
                "versions": len(ordered), "snapshots": count, "first_seen": first, "last_seen": last,
            })
        self.db["articles"].insert_all(article_rows)
        self.db["article_versions"].insert_all(version_rows)
        self.db["content_articles"].insert_all(link_rows)

    def _write_blocks(self) -> None:
        occurrences: dict[int, dict[tuple[str, ...], list[str]]] = defaultdict(lambda: defaultdict(list))
        labels_of: dict[tuple[str, ...], list[int]] = {}
        for key, runs in self.d.runs.items():
            if key not in self.seen:
                continue
            page = self.pages[key]
            for run in runs:
                lines = tuple(page.lines[i][0] for i in run.lines)
                occurrences[run.block][lines].append(key)
                labels_of[lines] = [self.d.line_label[t] for t in lines]
        blocks = []
        for versions in occurrences.values():
            spans = {lines: self._span(keys) for lines, keys in versions.items()}
            ordered = sorted(versions, key=lambda v: self._order(versions[v], "\n".join(v)))
            blocks.append((self._order(versions[ordered[0]], "\n".join(ordered[0])), ordered, versions, spans))
        blocks.sort()
        block_rows, version_rows, line_rows, change_rows, link_rows, fact_rows = [], [], [], [], [], []
        for block_id, (_, ordered, versions, spans) in enumerate(blocks, start=1):
            slots = assign_slots([labels_of[v] for v in ordered])
            commonest = max(ordered, key=lambda v: spans[v][0])
            all_keys = [k for keys in versions.values() for k in keys]
            count, first, last = self._span(all_keys)
            block_rows.append({"id": block_id, "name": commonest[0][:80], "versions": len(ordered),
                               "snapshots": count, "first_seen": first, "last_seen": last})
            previous = None
            for number, (lines, line_slots) in enumerate(zip(ordered, slots), start=1):
                text = "\n".join(lines)
                version_id = "bv-" + text_hash(text)[:12]
                n, vfirst, vlast = spans[lines]
                version_rows.append({"id": version_id, "block_id": block_id, "version": number,
                                     "language": detect_language(text), "text": text,
                                     "line_count": len(lines), "snapshots": n, "first_seen": vfirst, "last_seen": vlast})
                line_rows += [{"block_version_id": version_id, "line_no": i, "slot": s, "text": t}
                              for i, (t, s) in enumerate(zip(lines, line_slots))]
                link_rows += [{"content_sha256": k, "block_version_id": version_id} for k in set(versions[lines])]
                fact_rows += [{"block_version_id": version_id, "delegation": f.delegation, "field": f.field,
                               "value": f.value, "line_no": f.line_no} for f in extract_facts(lines)]
                if previous is not None:
                    prev_id, prev_lines, prev_slots = previous
                    change_rows += [{"block_version_id": version_id, "previous_version_id": prev_id, "slot": c.slot,
                                     "kind": c.kind, "old_text": c.old_text, "new_text": c.new_text, "detail": c.detail}
                                    for c in compare_versions(prev_lines, prev_slots, lines, line_slots)]
                previous = (version_id, lines, line_slots)
        self.db["blocks"].insert_all(block_rows)
        self.db["block_versions"].insert_all(version_rows)
        self.db["block_version_lines"].insert_all(line_rows)
        self.db["block_line_changes"].insert_all(change_rows)
        self.db["content_blocks"].insert_all(link_rows, ignore=True)
        self.db["facts"].insert_all(fact_rows)
