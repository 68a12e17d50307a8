"""The values the time-derived records are made of: what a content states, runs of one URL, segments
and periods of one language, each with the row it is stored as.

``dedupe.archive.time_records`` keeps the tables up to date with these (and computes the reference
rows for ``check`` from them); they read the database only through ``Contents``, which caches each
content's block versions and facts once per refresh.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

CHUNK = 500  # parameters per IN (...) query

Key = tuple[str, int]  # (observed_at, snapshot id): the one order of observations


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for lo in range(0, len(items), size):
        yield items[lo : lo + size]


def _marks(items: Sequence) -> str:
    return ",".join("?" * len(items))


# --------------------------------------------------------------------------- what a content states


_KEYS: dict[frozenset, str] = {}  # facts -> statement key: contents share a handful of statements


@dataclass(frozen=True)
class Statement:
    """What one content states in one language: its fact-bearing block versions and their facts."""

    language: str
    block_versions: tuple[str, ...]
    facts: frozenset[tuple[str, str, str]]  # (delegation, field, value)

    @property
    def key(self) -> str:
        """A hash of the facts alone: two block variants stating the same facts (a rewording) are one segment."""
        found = _KEYS.get(self.facts)
        if found is None:
            canonical = json.dumps(sorted(self.facts), ensure_ascii=False, separators=(",", ":"))
            found = _KEYS[self.facts] = hashlib.sha256(canonical.encode()).hexdigest()[:16]
            if len(_KEYS) > 10_000:  # bounded: a site whose facts flip on every page would grow it
                _KEYS.clear()
                _KEYS[self.facts] = found
        return found


class Contents:
    """Block versions and facts of contents, looked up in batches and cached for one refresh."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.languages: dict[str, str] = {}
        self.facts: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
        for bv, lang, delegation, fld, value in conn.execute(
            "SELECT bv.id, bv.language, f.delegation, f.field, f.value "
            "FROM facts f JOIN block_versions bv ON bv.id = f.block_version_id"
        ):
            self.languages[bv] = lang
            self.facts[bv].add((delegation, fld, value))
        self._versions: dict[str, tuple[str, ...]] = {}
        self._statements: dict[str, dict[str, Statement]] = {}
        self._stating: dict[tuple[str, str, str, str], str] = {}
        self._facts_of: dict[str, frozenset[tuple[str, str, str]]] = {}

    def load(self, shas: Iterable[str | None]) -> None:
        missing = sorted({s for s in shas if s is not None and s not in self._versions})
        for chunk in _chunks(missing):
            found: dict[str, list[str]] = defaultdict(list)
            for sha, bv in self.conn.execute(
                "SELECT p.content_sha256, cb.block_version_id FROM pages p "
                f"JOIN content_blocks cb ON cb.page_id = p.rowid WHERE p.content_sha256 IN ({_marks(chunk)})",
                list(chunk),
            ):
                found[sha].append(bv)
            for sha in chunk:
                self._versions[sha] = tuple(sorted(found.get(sha, ())))

    def versions(self, sha: str | None) -> tuple[str, ...]:
        """Every block version the content shows (furniture included)."""
        if sha is None:
            return ()
        if sha not in self._versions:
            self.load([sha])
        return self._versions[sha]

    def statements(self, sha: str | None) -> dict[str, Statement]:
        """Per language, what the content states (languages without facts are absent)."""
        if sha is None:
            return {}
        if sha not in self._statements:
            by_language: dict[str, list[str]] = defaultdict(list)
            for bv in self.versions(sha):
                if bv in self.languages:
                    by_language[self.languages[bv]].append(bv)
            self._statements[sha] = {
                lang: Statement(lang, tuple(bvs), frozenset().union(*(self.facts[b] for b in bvs)))
                for lang, bvs in by_language.items()
            }
        return self._statements[sha]

    def facts_of(self, block_versions: str) -> frozenset[tuple[str, str, str]]:
        """The facts a comma-separated list of block versions states (cached: a few lists recur)."""
        found = self._facts_of.get(block_versions)
        if found is None:
            found = self._facts_of[block_versions] = frozenset().union(
                *(self.facts[b] for b in block_versions.split(","))
            )
        return found

    def stating(self, block_versions: str, delegation: str, fld: str, value: str) -> str:
        """The first (smallest) of the block versions stating the value."""
        key = (block_versions, delegation, fld, value)
        if key not in self._stating:
            fact = key[1:]
            self._stating[key] = min(b for b in block_versions.split(",") if fact in self.facts.get(b, ()))
        return self._stating[key]


# --------------------------------------------------------------------------- runs of one URL


@dataclass
class UrlRun:
    url: str
    first: Key
    last: Key
    snapshots: int
    block_versions: str  # sorted ids, comma-separated; '' for none
    stating: int  # 0: a removed page (404/410, a permanent redirect away) or no content: it states nothing

    def row(self) -> tuple:
        return (
            self.url,
            self.first[0],
            self.first[1],
            self.last[0],
            self.last[1],
            self.snapshots,
            self.block_versions,
            self.stating,
        )


URL_RUN_COLUMNS = (
    "url, first_observed_at, first_snapshot_id, last_observed_at, last_snapshot_id, snapshots, block_versions, stating"
)


def _url_observation(contents: Contents, row: tuple) -> tuple[Key, str, int]:
    """(key, block versions, stating) of one snapshot row (id, url, observed_at, content_sha256, http_status)."""
    sid, _, observed_at, sha, _ = row
    # an observation that says its page is gone (404/410, an article's permanent redirect away: pages.says_removed)
    # is stored without content (observations._placed), as a failure: either way the URL stated nothing then
    stating = int(sha is not None)
    return (observed_at, sid), ",".join(contents.versions(sha)), stating


def url_runs_of(contents: Contents, rows: Iterable[tuple], start: UrlRun | None = None) -> list[UrlRun]:
    """Runs of one URL's snapshot rows (in key order), continuing ``start`` when the first row extends it."""
    runs: list[UrlRun] = [start] if start else []
    for row in rows:
        key, bvs, stating = _url_observation(contents, row)
        last = runs[-1] if runs else None
        if last is not None and last.block_versions == bvs and last.stating == stating:
            last.last, last.snapshots = key, last.snapshots + 1
        else:
            runs.append(UrlRun(row[1], key, key, 1, bvs, stating))
    return runs


# --------------------------------------------------------------------------- segments of one language


@dataclass
class Segment:
    language: str
    first: Key
    last: Key
    snapshots: int
    statement: str
    first_block_versions: str
    last_block_versions: str

    def row(self) -> tuple:
        return (
            self.language,
            self.first[0],
            self.first[1],
            self.last[0],
            self.last[1],
            self.snapshots,
            self.statement,
            self.first_block_versions,
            self.last_block_versions,
        )


SEGMENT_COLUMNS = (
    "language, first_observed_at, first_snapshot_id, last_observed_at, last_snapshot_id, snapshots, statement, "
    "first_block_versions, last_block_versions"
)


def extend_segments(segments: list[Segment], language: str, key: Key, statement: Statement) -> None:
    """Add one observation stating ``statement`` after the last segment (in place)."""
    bvs = ",".join(statement.block_versions)
    last = segments[-1] if segments else None
    if last is not None and last.statement == statement.key:
        last.last, last.last_block_versions, last.snapshots = key, bvs, last.snapshots + 1
    else:
        segments.append(Segment(language, key, key, 1, statement.key, bvs, bvs))


# --------------------------------------------------------------------------- periods of one language


@dataclass
class Period:
    language: str
    delegation: str
    field: str
    value: str
    snapshots: int
    first: Key
    last: Key
    first_block_version_id: str
    last_block_version_id: str
    number: int = 0

    def row(self) -> tuple:
        return (
            self.language,
            self.delegation,
            self.field,
            self.number,
            self.value,
            self.snapshots,
            self.first[1],
            self.first[0],
            self.last[1],
            self.last[0],
            self.first_block_version_id,
            self.last_block_version_id,
        )


PERIOD_COLUMNS = (
    "language, delegation, field, period, value, snapshots, first_snapshot_id, first_seen, last_snapshot_id, "
    "last_seen, first_block_version_id, last_block_version_id"
)


@dataclass
class PeriodBuilder:
    """Periods of every (delegation, field) of one language from spans stating facts, in time order.

    A period of a value is a maximal run of consecutive spans (of the field's own sequence: spans not
    stating the field are skipped) that state it; one value per snapshot is the usual case, and then
    periods are the runs of one value. Spans are segments (incrementally) or single snapshots (reference)."""

    language: str
    contents: Contents
    open: dict[tuple[str, str], dict[str, Period]] = field(default_factory=dict)
    done: list[Period] = field(default_factory=list)

    _slots: dict[frozenset, dict[tuple[str, str], frozenset[str]]] = field(default_factory=dict)

    def add(
        self, first: Key, last: Key, count: int, facts: frozenset[tuple[str, str, str]], first_bvs: str, last_bvs: str
    ) -> None:
        """One span (``count`` observations from ``first`` to ``last``) stating ``facts``. A value stated on
        and on costs one comparison per field: the block version stating it last is found once, at the end."""
        slots = self._slots.get(facts)
        if slots is None:
            grouped: dict[tuple[str, str], set[str]] = defaultdict(set)
            for delegation, fld, value in facts:
                grouped[(delegation, fld)].add(value)
            slots = self._slots[facts] = {slot: frozenset(values) for slot, values in grouped.items()}
        for slot, stated in slots.items():
            running = self.open.get(slot)
            if running is None:
                running = self.open[slot] = {}
            if len(running) != len(stated) or any(v not in running for v in stated):
                for value in [v for v in running if v not in stated]:
                    self.done.append(running.pop(value))
                for value in stated:
                    if value not in running:
                        first_bv = self.contents.stating(first_bvs, *slot, value)
                        running[value] = Period(self.language, *slot, value, 0, first, last, first_bv, "")
            for period in running.values():
                period.last = last
                period.snapshots += count
                period.last_block_version_id = last_bvs  # the variants; the one stating it is picked in periods()

    def periods(self, numbered: bool = True) -> list[Period]:
        """Every period, each with the block version stating it last; numbered 1, 2, ... per field in time
        order unless ``numbered`` is False (the caller numbers on from periods it keeps elsewhere)."""
        every = self.done + [p for running in self.open.values() for p in running.values()]
        for p in every:
            if "," in p.last_block_version_id:  # several variants in its last span: the first stating it
                p.last_block_version_id = self.contents.stating(p.last_block_version_id, p.delegation, p.field, p.value)
        if not numbered:
            return every
        every.sort(key=lambda p: (p.delegation, p.field, p.first, p.value))
        number, slot = 0, None
        for period in every:
            number = number + 1 if (period.delegation, period.field) == slot else 1
            slot = (period.delegation, period.field)
            period.number = number
        return every
