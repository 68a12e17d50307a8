"""Time-derived records: what analysts ask about time, kept by the engine instead of computed per query.

A block version changes a few times a year; observations arrive every day. Every question about
time (periods of a value, the timeline, as-of, the evidence of a conflict, missing values) used to
join every observation to every fact of its block version at query time. These records keep the
answers, touched only by what a refresh brings:

* ``url_runs`` - per URL, each maximal run of its observations (in ``(observed_at, id)`` order,
  failed fetches left out) showing the same block versions: a URL crawled weekly for a year with
  one block change is two rows. "What did this page state at time T" reads one row per URL.
* ``block_version_urls`` - per block version and URL, how often and when the page showed it: the
  capped URL lists of ``blocks``, the conflicts' evidence and the snapshots stating a value.
* ``fact_segments`` - per language, each maximal run of observations (of every URL, in time
  order) stating the same facts: the archive's whole history as a handful of rows when the site
  is consistent, one row per flip when it is not.
* ``fact_periods`` - per (language, delegation, field), each maximal run of segments stating one
  value: 7 -> 6 -> 7 is three periods. The timeline, ``facts --periods`` and the changes of a
  conflict read these.

A refresh extends the last run of each touched URL and the last segment of each language when
the new observations come after everything known (a crawl); an older observation arriving late,
or a content whose block versions changed, re-derives only from the run or segment it falls in.
``reference_rows`` computes the same tables from scratch for ``pa-archive check``.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace

from ..schema import TIME_STORED_TABLES, TIME_TABLES, URL_ID_OF
from .time_values import (
    PERIOD_COLUMNS,
    SEGMENT_COLUMNS,
    URL_RUN_COLUMNS,
    Contents,
    Key,
    Period,
    PeriodBuilder,
    Segment,
    Statement,
    UrlRun,
    extend_segments,
    url_runs_of,
)

CHUNK = 500  # parameters per IN (...) query
SCAN_BATCH = 5000  # snapshots fetched at a time when a segment is re-derived

TABLES = TIME_TABLES  # as read (two are views)
STORED = TIME_STORED_TABLES  # as written

# ``url_runs`` and ``block_version_urls`` are views (m033): their rows are written naming the URL by ``urls.id``.
# Every URL of a run is one an observation names, so the lookup finds it (a NULL would fail NOT NULL, loudly).
_URL_RUN_STORED = (
    "url_runs_by_url_id (url_id, first_observed_at, first_snapshot_id, last_observed_at, last_snapshot_id, "
    f"snapshots, block_versions, stating) VALUES ({URL_ID_OF}, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_URL_RUN = f"INSERT INTO {_URL_RUN_STORED}"
REPLACE_URL_RUN = f"INSERT OR REPLACE INTO {_URL_RUN_STORED}"
DELETE_URL_RUNS = f"DELETE FROM url_runs_by_url_id WHERE url_id = {URL_ID_OF}"
INSERT_BLOCK_VERSION_URL = (
    "INSERT INTO block_version_urls_by_url_id (block_version_id, url_id, snapshots, first_observed_at, "
    f"first_snapshot_id, last_observed_at, last_snapshot_id) VALUES (?, {URL_ID_OF}, ?, ?, ?, ?, ?)"
)
ADD_TO_BLOCK_VERSION_URL = f"""{INSERT_BLOCK_VERSION_URL}
    ON CONFLICT (block_version_id, url_id) DO UPDATE SET snapshots = snapshots + excluded.snapshots,
    last_observed_at = excluded.last_observed_at, last_snapshot_id = excluded.last_snapshot_id"""
DELETE_BLOCK_VERSION_URL = (
    f"DELETE FROM block_version_urls_by_url_id WHERE block_version_id = ? AND url_id = {URL_ID_OF}"
)

# The periods of one language last seen in each (delegation, field) (those a crawl's new observations carry
# on), with the field's highest period number; the caller keeps those of the latest last snapshot.
RUNNING_PERIODS_SQL = f"""
SELECT {", ".join("p." + c.strip() for c in PERIOD_COLUMNS.split(","))}, m.top FROM fact_periods p
JOIN (SELECT delegation, field, max(last_seen) AS seen, max(period) AS top FROM fact_periods
      WHERE language = ? GROUP BY delegation, field) m
  ON p.delegation = m.delegation AND p.field = m.field AND p.last_seen = m.seen
WHERE p.language = ?
"""


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for lo in range(0, len(items), size):
        yield items[lo : lo + size]


def _marks(items: Sequence) -> str:
    return ",".join("?" * len(items))


# --------------------------------------------------------------------------- the incremental update


class TimeRecords:
    """Brings the time-derived records up to date after the engine derived snapshots after_id < id <= last_id.

    ``changed_contents``: contents whose block versions changed in this refresh (their older
    snapshots now show other versions)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.x = conn.execute
        self.contents = Contents(conn)
        self._done_urls: set[str] = set()  # URLs whose runs this update rewrote

    def update(self, after_id: int, last_id: int, changed_contents: Iterable[str] = ()) -> None:
        late: dict[str, Key] = {}  # URL -> earliest old snapshot whose block versions changed
        changed = sorted(set(changed_contents)) if after_id else []  # a first derivation has no older snapshots
        for chunk in _chunks(changed):
            for url, observed_at in self.x(
                # the tables behind the snapshots view (m027): from the contents' rows to their observations by index
                f"SELECT u.url, min(o.observed_at) FROM observations o JOIN urls u ON u.id = o.url_id "
                f"WHERE o.content_id IN (SELECT rowid FROM contents WHERE sha256 IN ({_marks(chunk)})) AND o.id <= ? "
                f"GROUP BY o.url_id",
                [*chunk, after_id],
            ):
                key = self._first_key(url, observed_at, after_id)
                late[url] = min(late.get(url, key), key)
        earliest = self._update_url_runs(after_id, last_id, late)
        if earliest is not None:
            for language in self._languages():
                appended_to = self._update_segments(language, earliest)
                if appended_to is None or not self._extend_periods(language, appended_to):
                    self._write_periods(language)

    def rebuild(self, last_id: int) -> None:
        for table in STORED:
            self.x(f"DELETE FROM [{table}]")  # fixed names
        self.update(0, last_id)

    def _first_key(self, url: str, observed_at: str, upto: int) -> Key:
        sid = self.x(
            "SELECT min(id) FROM snapshots WHERE url = ? AND observed_at = ? AND id <= ?", [url, observed_at, upto]
        ).fetchone()[0]
        return (observed_at, sid)

    def _languages(self) -> list[str]:
        known = {lang for (lang,) in self.x("SELECT DISTINCT language FROM fact_segments")}
        return sorted(known | set(self.contents.languages.values()))

    # --- URLs

    def _update_url_runs(self, after_id: int, last_id: int, late: dict[str, Key]) -> Key | None:
        """Runs and block-version pages of every URL the new snapshots (or ``late`` changes) touch; returns the
        earliest key touched (None: nothing)."""
        earliest: Key | None = min(late.values()) if late else None
        rows = self.x(
            "SELECT id, url, observed_at, content_sha256, http_status FROM snapshots "
            "WHERE id > ? AND id <= ? AND status != 'error' ORDER BY url, observed_at, id",
            [after_id, last_id],
        )
        batch: list[tuple[str, list[tuple]]] = []
        for url, group in _by_url(rows):
            first = (group[0][2], group[0][0])
            earliest = first if earliest is None else min(earliest, first)
            batch.append((url, group))
            if len(batch) >= CHUNK:
                self._url_batch(batch, late)
                batch = []
        self._url_batch(batch, late)
        rest = sorted(set(late) - self._done_urls)
        for chunk in _chunks(rest):
            self._url_batch([(url, []) for url in chunk], late)
        return earliest

    def _url_batch(self, batch: list[tuple[str, list[tuple]]], late: dict[str, Key]) -> None:
        if not batch:
            return
        urls = [url for url, _ in batch]
        self._done_urls.update(urls)
        existing: dict[str, list[UrlRun]] = defaultdict(list)
        for r in self.x(
            f"SELECT {URL_RUN_COLUMNS} FROM url_runs WHERE url IN ({_marks(urls)}) "
            f"ORDER BY url, first_observed_at, first_snapshot_id",
            urls,
        ):
            existing[r[0]].append(UrlRun(r[0], (r[1], r[2]), (r[3], r[4]), r[5], r[6], r[7]))
        self.contents.load(row[3] for _, group in batch for row in group)
        appended: list[UrlRun] = []  # runs extended or added after everything known (a crawl): written in place
        deltas: list[tuple] = []  # ... and what their new observations add to block_version_urls
        rewritten: dict[str, list[UrlRun]] = {}  # URLs re-derived from an earlier run: written whole
        for url, group in batch:
            runs = existing.get(url, [])
            start = min([(g[2], g[0]) for g in group[:1]] + ([late[url]] if url in late else []))
            if url not in late and (not runs or start > runs[-1].last):  # a new URL, or after everything known
                appended += url_runs_of(self.contents, group, runs[-1] if runs else None)
                deltas += block_version_url_rows(url_runs_of(self.contents, group))
                continue
            # from the run the earliest touched snapshot falls in (or the one before it: a boundary may go)
            cut = next((i for i, run in enumerate(runs) if run.last >= start), len(runs))
            cut = max(0, cut - 1)
            scan_from = min(runs[cut].first, start) if cut < len(runs) else start
            rows = self.x(
                "SELECT id, url, observed_at, content_sha256, http_status FROM snapshots "
                "WHERE url = ? AND status != 'error' AND (observed_at > ? OR (observed_at = ? AND id >= ?)) "
                "ORDER BY observed_at, id",
                [url, scan_from[0], scan_from[0], scan_from[1]],
            ).fetchall()
            self.contents.load(r[3] for r in rows)
            rewritten[url] = runs[:cut] + url_runs_of(self.contents, rows)
        self.conn.executemany(REPLACE_URL_RUN, [r.row() for r in appended])
        self.conn.executemany(ADD_TO_BLOCK_VERSION_URL, deltas)
        gone = [(url,) for url in rewritten]
        self.conn.executemany(DELETE_URL_RUNS, gone)
        # a URL's block_version_urls rows are those of the block versions its runs list: deleted by their
        # key, so the table needs no index by URL (576 B a page at the first crawl; m020)
        shown = {
            (bv, url) for url in rewritten for run in existing.get(url, []) for bv in run.block_versions.split(",")
        }
        self.conn.executemany(DELETE_BLOCK_VERSION_URL, sorted(p for p in shown if p[0]))
        every = [run for runs in rewritten.values() for run in runs]
        self.conn.executemany(INSERT_URL_RUN, [r.row() for r in every])
        self.conn.executemany(INSERT_BLOCK_VERSION_URL, block_version_url_rows(every))

    # --- segments

    def _update_segments(self, language: str, earliest: Key) -> Segment | None:
        """Extend the last segment when ``earliest`` comes after everything known; else re-derive from the
        segment before the one ``earliest`` falls in (so a boundary that disappears is merged). Returns the
        last segment as it was before, when the update only appended after it (a crawl); else None."""
        last = self._segment_at_or_before(language, earliest)
        carried: Segment | None = None
        appended_to: Segment | None = None
        if last is not None and earliest > last.last and not self._segments_after(language, last.first):
            carried, scan_from = last, earliest
            appended_to = replace(last)
        else:
            scan_from = earliest
            if last is not None:
                carried = self._segment_at_or_before(language, (last.first[0], last.first[1] - 1))
                scan_from = last.first
            cut = carried.first if carried is not None else scan_from
            self.x(
                "DELETE FROM fact_segments WHERE language = ? AND (first_observed_at > ? OR "
                "(first_observed_at = ? AND first_snapshot_id >= ?))",
                [language, cut[0], cut[0], cut[1]],
            )
        segments: list[Segment] = [carried] if carried else []
        for key, statements in self._scan(scan_from):
            statement = statements.get(language)
            if statement is not None:
                extend_segments(segments, language, key, statement)
                if len(segments) > SCAN_BATCH:
                    self._write_segments(segments[:-1])
                    del segments[:-1]
        self._write_segments(segments)
        return appended_to

    def _write_segments(self, segments: list[Segment]) -> None:
        self.conn.executemany(
            f"INSERT OR REPLACE INTO fact_segments ({SEGMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [s.row() for s in segments],
        )

    def _segment_at_or_before(self, language: str, key: Key) -> Segment | None:
        row = self.x(
            f"SELECT {SEGMENT_COLUMNS} FROM fact_segments WHERE language = ? AND (first_observed_at < ? OR "
            f"(first_observed_at = ? AND first_snapshot_id <= ?)) "
            f"ORDER BY first_observed_at DESC, first_snapshot_id DESC LIMIT 1",
            [language, key[0], key[0], key[1]],
        ).fetchone()
        return _segment(row) if row else None

    def _segments_after(self, language: str, key: Key) -> bool:
        return (
            self.x(
                "SELECT 1 FROM fact_segments WHERE language = ? AND (first_observed_at > ? OR "
                "(first_observed_at = ? AND first_snapshot_id > ?)) LIMIT 1",
                [language, key[0], key[0], key[1]],
            ).fetchone()
            is not None
        )

    def _scan(self, start: Key) -> Iterator[tuple[Key, dict[str, Statement]]]:
        """Every snapshot from ``start`` on, in key order, with what it states (by the observed_at index)."""
        cursor = self.conn.execute(
            "SELECT id, observed_at, content_sha256 FROM snapshots "
            "WHERE observed_at >= ? AND content_sha256 IS NOT NULL ORDER BY observed_at, id",
            [start[0]],
        )
        while rows := cursor.fetchmany(SCAN_BATCH):
            self.contents.load(r[2] for r in rows)
            for sid, observed_at, sha in rows:
                if (observed_at, sid) >= start:
                    yield (observed_at, sid), self.contents.statements(sha)

    # --- periods

    def _extend_periods(self, language: str, appended_to: Segment) -> bool:
        """The periods after segments were only appended after ``appended_to`` (the last segment before
        the update): the periods running at its end (per field, those ending last) are carried on through
        the segments from it on, and only they and the new ones are written; the rest stay. At a million
        observations ``_write_periods`` rebuilt 27,000 periods from 9,000 segments a language (0.66 s) for
        every crawled batch. False when there is nothing to carry on from (then rebuild them all)."""
        running: dict[tuple[str, str], dict[str, Period]] = defaultdict(dict)
        ends: dict[tuple[str, str], Key] = {}
        numbers: dict[tuple[str, str], int] = {}
        for row in self.x(RUNNING_PERIODS_SQL, [language, language]):  # the last-seen ones of each field
            period = _period(row[:-1])
            slot = (period.delegation, period.field)
            numbers[slot] = row[-1]
            if period.last > ends.get(slot, ("", 0)):
                ends[slot], running[slot] = period.last, {}
            if period.last == ends[slot]:
                running[slot][period.value] = period
        if not running:
            return False
        builder = PeriodBuilder(language, self.contents, open=dict(running))
        seeded = {id(p) for values in running.values() for p in values.values()}
        for row in self.x(
            f"SELECT {SEGMENT_COLUMNS} FROM fact_segments WHERE language = ? AND (first_observed_at > ? OR "
            "(first_observed_at = ? AND first_snapshot_id >= ?)) ORDER BY first_observed_at, first_snapshot_id",
            [language, appended_to.first[0], appended_to.first[0], appended_to.first[1]],
        ):
            segment = _segment(row)
            count = segment.snapshots
            if segment.first == appended_to.first:  # the last segment, extended: only what it gained
                count -= appended_to.snapshots
                if count == 0:
                    continue
            facts = self.contents.facts_of(segment.first_block_versions)
            builder.add(
                segment.first, segment.last, count, facts, segment.first_block_versions, segment.last_block_versions
            )
        periods = builder.periods(numbered=False)
        fresh = sorted(
            (p for p in periods if id(p) not in seeded), key=lambda p: (p.delegation, p.field, p.first, p.value)
        )
        for period in fresh:  # after every period there was: numbered on from each field's last
            slot = (period.delegation, period.field)
            numbers[slot] = period.number = numbers.get(slot, 0) + 1
        self.conn.executemany(
            "DELETE FROM fact_periods WHERE language = ? AND delegation = ? AND field = ? AND period = ?",
            [(language, p.delegation, p.field, p.number) for p in periods if id(p) in seeded],
        )
        self.conn.executemany(
            f"INSERT INTO fact_periods ({PERIOD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [p.row() for p in periods],
        )
        return True

    def _write_periods(self, language: str) -> None:
        builder = PeriodBuilder(language, self.contents)
        for row in self.x(
            f"SELECT {SEGMENT_COLUMNS} FROM fact_segments WHERE language = ? "
            "ORDER BY first_observed_at, first_snapshot_id",
            [language],
        ):
            segment = _segment(row)
            facts = self.contents.facts_of(segment.first_block_versions)
            builder.add(
                segment.first, segment.last, segment.snapshots, facts,
                segment.first_block_versions, segment.last_block_versions,
            )  # fmt: skip
        self.x("DELETE FROM fact_periods WHERE language = ?", [language])
        self.conn.executemany(
            f"INSERT INTO fact_periods ({PERIOD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [p.row() for p in builder.periods()],
        )


def _period(row: tuple) -> Period:
    """A ``fact_periods`` row (``PERIOD_COLUMNS``) as the builder keeps it."""
    language, delegation, fld, number, value, snapshots, first_id, first_seen, last_id, last_seen, first_bv, last_bv = (
        row
    )
    return Period(
        language,
        delegation,
        fld,
        value,
        snapshots,
        (first_seen, first_id),
        (last_seen, last_id),
        first_bv,
        last_bv,
        number,
    )


def _segment(row: tuple) -> Segment:
    return Segment(row[0], (row[1], row[2]), (row[3], row[4]), row[5], row[6], row[7], row[8])


def _by_url(rows: Iterable[tuple]) -> Iterator[tuple[str, list[tuple]]]:
    url, group = None, []
    for row in rows:
        if row[1] != url and group:
            yield url, group
            group = []
        url = row[1]
        group.append(row)
    if group:
        yield url, group


def block_version_url_rows(runs: Iterable[UrlRun]) -> list[tuple]:
    """Per (block version, URL) of these runs: snapshots, first and last observation showing it."""
    spans: dict[tuple[str, str], list] = {}
    for run in runs:
        for bv in filter(None, run.block_versions.split(",")):
            span = spans.get((bv, run.url))
            if span is None:
                spans[(bv, run.url)] = [run.snapshots, run.first, run.last]
            else:
                span[0] += run.snapshots
                span[1], span[2] = min(span[1], run.first), max(span[2], run.last)
    return [(bv, url, n, first[0], first[1], last[0], last[1]) for (bv, url), (n, first, last) in spans.items()]


# --------------------------------------------------------------------------- the reference


def reference_rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every time-derived table computed from scratch from the snapshots, one snapshot at a time (``check``)."""
    contents = Contents(conn)
    url_runs: list[UrlRun] = []
    rows = conn.execute(
        "SELECT id, url, observed_at, content_sha256, http_status FROM snapshots WHERE status != 'error' "
        "ORDER BY url, observed_at, id"
    )
    for _, group in _by_url(rows):
        contents.load(r[3] for r in group)
        url_runs += url_runs_of(contents, group)
    segments: dict[str, list[Segment]] = defaultdict(list)
    builders: dict[str, PeriodBuilder] = {}
    cursor = conn.execute(
        "SELECT id, observed_at, content_sha256 FROM snapshots WHERE content_sha256 IS NOT NULL "
        "ORDER BY observed_at, id"
    )
    while batch := cursor.fetchmany(SCAN_BATCH):
        contents.load(r[2] for r in batch)
        for sid, observed_at, sha in batch:
            key = (observed_at, sid)
            for language, statement in contents.statements(sha).items():
                extend_segments(segments[language], language, key, statement)
                bvs = ",".join(statement.block_versions)
                builder = builders.setdefault(language, PeriodBuilder(language, contents))
                builder.add(key, key, 1, statement.facts, bvs, bvs)
    return {
        "url_runs": [r.row() for r in url_runs],
        "block_version_urls": block_version_url_rows(url_runs),
        "fact_segments": [s.row() for lang in segments for s in segments[lang]],
        "fact_periods": [p.row() for b in builders.values() for p in b.periods()],
    }


def write_reference(conn: sqlite3.Connection) -> None:
    """Replace the time-derived tables with the reference's rows (inside the caller's transaction)."""
    found = reference_rows(conn)
    for table in STORED:
        conn.execute(f"DELETE FROM [{table}]")  # fixed names
    conn.executemany(INSERT_URL_RUN, found["url_runs"])
    conn.executemany(INSERT_BLOCK_VERSION_URL, found["block_version_urls"])
    for table, columns in (("fact_segments", SEGMENT_COLUMNS), ("fact_periods", PERIOD_COLUMNS)):
        marks = ", ".join("?" * len(columns.split(",")))
        conn.executemany(f"INSERT INTO [{table}] ({columns}) VALUES ({marks})", found[table])
