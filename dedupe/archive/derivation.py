"""Keeping the derived tables in step with the observations: refresh, rebuild, check.

``refresh`` derives incrementally what the snapshots stored since the last refresh bring
(``dedupe.archive.incremental``), in one write transaction: a kill leaves the old state or the
new one. ``rebuild`` clears the derived tables and their state and derives everything again;
``check`` writes the reference derivation (``dedupe.archive.reference``) into a copy of the
archive and lists every difference from what the incremental refreshes built.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlite_utils import Database

from .. import schema
from ..document import EXTRACTOR_VERSION, InputError
from ..sql_functions import register_functions
from ..storage import Codec
from .base import write_transaction
from .queries import ArchiveQueries

ENGINE = "incremental-1"  # archive_state 'derive_engine': what built the derive_* state
SAME_ENGINE = {ENGINE, "incremental-2"}  # 2: written by a development version; the derive_* state is the same
# Stages kept beside the engine, each with the version of what it derives (archive_state 'stage:<name>'). A stage
# whose recorded version differs (new in this release, or its meaning changed) is built from scratch on its own
# by the next refresh, without rebuilding the rest: an archive of a million observations upgrades in minutes.
STAGES = {"time_records": "1", "rosters": "1"}
CHECK_SAMPLE = 5  # differing rows shown per table by ``check``
WINDOW = 2000  # snapshots derived at a time: bounds memory on a big import (any batching gives the same result)


def _built_stages(conn: sqlite3.Connection) -> set[str]:
    state = dict(conn.execute("SELECT key, value FROM archive_state WHERE key LIKE 'stage:%'").fetchall())
    return {name for name, version in STAGES.items() if state.get(f"stage:{name}") == version}


def _derive_windows(conn: sqlite3.Connection, after: int, last: int) -> None:
    """Derive the snapshots after_id < id <= last, WINDOW at a time (the engine, then the rosters), then the
    time-derived records once, inside the caller's transaction; a stage not built yet is built whole."""
    from .incremental import Deriver
    from .rosters import RosterStage
    from .time_records import TimeRecords

    built = _built_stages(conn)
    start, changed = after, set()
    while after < last:
        upto = min(last, after + WINDOW)
        deriver = Deriver(conn)
        deriver.update(after, upto)
        changed |= deriver.changed_contents
        if "rosters" in built:
            RosterStage(conn).update(after, upto)
        after = upto
    if "time_records" in built:
        TimeRecords(conn).update(start, last, changed)
    _build_stages(conn, last, STAGES.keys() - built)


def _build_stages(conn: sqlite3.Connection, last: int, names: Iterable[str]) -> None:
    """Build the named stages from scratch over snapshots up to ``last`` and record their versions."""
    from .rosters import RosterStage
    from .time_records import TimeRecords

    for name in sorted(names):
        if name == "time_records":
            TimeRecords(conn).rebuild(last)
        else:
            for table in schema.ROSTER_TABLES:
                conn.execute(f"DELETE FROM [{table}]")  # fixed names from dedupe.schema
            RosterStage(conn).update(0, last)
        conn.execute("INSERT OR REPLACE INTO archive_state(key, value) VALUES (?, ?)", [f"stage:{name}", STAGES[name]])


# A page analysed by another extractor version. Two index ranges, not ``extractor != ?``, which SQLite
# answers by scanning the whole index (3 ms at 20k pages, three times an ingest; 0.005 ms this way).
OUTDATED_PAGE_SQL = "SELECT 1 FROM pages WHERE extractor < ? OR extractor > ? LIMIT 1"


def derived_tables_lag(conn: sqlite3.Connection) -> bool:
    """True when snapshots arrived, or the extractor changed, since the derived tables were built:
    the one answer for the archive's refresh and for a read-only reader such as ``serve``."""
    state = dict(
        conn.execute(
            "SELECT key, value FROM archive_state WHERE key IN ('derived_snapshot_id', 'derive_engine')"
        ).fetchall()
    )
    last = conn.execute("SELECT coalesce(max(id), 0) FROM observations").fetchone()[0]
    if state.get("derive_engine") not in SAME_ENGINE:
        return last > 0
    if last > 0 and _built_stages(conn) != set(STAGES):
        return True
    outdated = conn.execute(OUTDATED_PAGE_SQL, [EXTRACTOR_VERSION, EXTRACTOR_VERSION]).fetchone()
    return int(state.get("derived_snapshot_id", 0)) != last or outdated is not None


# What `check` compares with a full rebuild, and the phases it reports on the way.
CHECKED_TABLES = (*schema.DERIVED_TABLES, *schema.TIME_TABLES)
CHECK_PHASES = (
    "bring the derived records up to date",
    "check the observations' links",
    "copy the archive",
    "derive the reference from the observations",
    *(f"compare {table}" for table in CHECKED_TABLES),
)


class DerivedRecords:
    """The deriving part of ``Archive``: keeps the derived tables in step with the observations."""

    def __init__(self, db: Database, codec: Codec, reader: ArchiveQueries) -> None:
        self.db = db
        self.codec = codec
        self.reader = reader  # the stored bytes of a page analysed again

    def _state(self) -> dict[str, str]:
        return dict(
            self.db.execute(
                "SELECT key, value FROM archive_state WHERE key IN ('derived_snapshot_id', 'derive_engine')"
            ).fetchall()
        )

    def _last_snapshot_id(self) -> int:
        return self.db.execute("SELECT coalesce(max(id), 0) FROM observations").fetchone()[0]

    def _outdated(self) -> bool:
        return self.db.execute(OUTDATED_PAGE_SQL, [EXTRACTOR_VERSION, EXTRACTOR_VERSION]).fetchone() is not None

    def backlog(self) -> tuple[int, int]:
        """(snapshots derived, snapshots stored since): by id, what the derived tables cover and what not."""
        derived = int(self._state().get("derived_snapshot_id", 0))
        return derived, self._last_snapshot_id() - derived

    def is_stale(self) -> bool:
        """True when snapshots arrived, or the extractor changed, since the derived tables were built."""
        return derived_tables_lag(self.db.conn)

    def refresh(self, force: bool = False) -> bool:
        """Bring the derived tables up to date; returns whether anything was derived.

        Incremental unless ``force``, the extractor changed, or the derivation state was built by
        another engine (an archive from an older version): then everything is rebuilt."""
        if force or (self.is_stale() and (self._outdated() or self._state().get("derive_engine") not in SAME_ENGINE)):
            self.rebuild()
            return True
        if not self.is_stale():
            return False
        from .incremental import NeedsRebuild  # numpy, datasketch: only when there is work

        with write_transaction(self.db):
            after = int(self._state().get("derived_snapshot_id", 0))
            last = self._last_snapshot_id()
            if last == after and _built_stages(self.db.conn) == set(STAGES):
                return False  # another process refreshed meanwhile
            try:
                with self.db.atomic():  # a savepoint: a change derived in place is whole or not at all
                    _derive_windows(self.db.conn, after, last)
            except NeedsRebuild:
                self._derive_all(last)
            self._mark_derived(last)
        return True

    def rebuild(self) -> None:
        """Derive every derived table again from the observations (analysing outdated pages first)."""
        self._reanalyse_outdated()
        with write_transaction(self.db):
            self._derive_all(self._last_snapshot_id())

    def _derive_all(self, last: int) -> None:
        # the engine's state first: deleting article versions then puts no text's signature back (m040's trigger)
        for table in (*schema.DERIVE_STATE_TABLES, *schema.DERIVED_TABLES, *schema.TIME_STORED_TABLES):
            self.db.execute(f"DELETE FROM [{table}]")  # fixed names from dedupe.schema
        self.db.execute("DELETE FROM archive_state WHERE key LIKE 'stage:%'")  # every stage built whole, once
        _derive_windows(self.db.conn, 0, last)
        self._mark_derived(last)

    def _mark_derived(self, last_snapshot_id: int) -> None:
        self.db.conn.executemany(
            "INSERT OR REPLACE INTO archive_state(key, value) VALUES (?, ?)",
            [("derived_snapshot_id", str(last_snapshot_id)), ("derive_engine", ENGINE)],
        )

    def _reanalyse_outdated(self) -> None:
        """Analyse again the contents an older extractor analysed, so results depend on the bytes only."""
        from ..extract import analyse

        outdated = [
            sha
            for (sha,) in self.db.execute("SELECT content_sha256 FROM pages WHERE extractor != ?", [EXTRACTOR_VERSION])
        ]
        if outdated:  # lines about to change: none may stay the dictionary of another page's lines
            with write_transaction(self.db):
                self.codec.detach_lines(EXTRACTOR_VERSION)
        for sha in outdated:
            kind, encoding = self.db.execute("SELECT kind, encoding FROM contents WHERE sha256 = ?", [sha]).fetchone()
            raw = self.reader.raw_content(sha)
            try:
                analysis = analyse(raw, encoding, kind)
            except InputError:
                continue  # keep the old analysis rather than lose the snapshot's page
            with write_transaction(self.db):
                self.db.execute(
                    "UPDATE pages SET extractor = ?, language = ?, title = ?, published = ?, structured = ?, "
                    "lines = ?, lines_compression = ? WHERE content_sha256 = ?",
                    [
                        EXTRACTOR_VERSION,
                        analysis.language,
                        analysis.title,
                        analysis.published,
                        int(analysis.structured),
                        *self.codec.pack_lines(analysis.lines, raw),
                        sha,
                    ],
                )

    def check(self, on_phase: Callable[[str], None] | None = None) -> dict[str, list[str]]:
        """Differences between the derived tables and the reference derivation, by table (empty: none).

        The reference is written into a temporary copy of the archive, never into the archive.
        ``on_phase`` is told each of ``check_phases()`` as it starts: at a million observations the
        check takes minutes, most of them deriving the reference."""
        from .reference import write_reference
        from .rosters import write_reference as write_roster_reference
        from .time_records import write_reference as write_time_reference

        phase = on_phase or (lambda _label: None)
        phase(CHECK_PHASES[0])
        self.refresh()
        phase(CHECK_PHASES[1])
        differences = {"observations": broken} if (broken := broken_observation_links(self.db.conn)) else {}
        with tempfile.TemporaryDirectory(prefix="pa-archive-check-") as tmp:
            phase(CHECK_PHASES[2])
            copy_path = Path(tmp) / "reference.db"
            target = sqlite3.connect(copy_path)
            with target:
                self.db.conn.backup(target)
            target.close()
            reference = Database(copy_path)
            register_functions(reference.conn)  # the triggers call pa_stem and pa_text_signature
            phase(CHECK_PHASES[3])
            with write_transaction(reference):
                # the copy's engine state is thrown away with it: no signature put back per version replaced
                reference.execute("DELETE FROM derive_texts")
                write_reference(reference)
                write_time_reference(reference.conn)
                write_roster_reference(reference.conn)
            for table in CHECKED_TABLES:
                phase(f"compare {table}")
                if diff := _table_differences(self.db, reference, table):
                    differences[table] = diff
            reference.close()
        return differences


# Observations name their URL and content by row ids (m027) that no foreign key guards (a rowid cannot be one's
# parent key): a row naming none would read through the snapshots view as no URL, no content or no headers.
BROKEN_LINKS_SQL = {
    "name a URL the archive does not hold": "SELECT count(*) FROM observations o "
    "WHERE NOT EXISTS (SELECT 1 FROM urls u WHERE u.id = o.url_id)",
    "name a content the archive does not hold": "SELECT count(*) FROM observations o "
    "WHERE o.content_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM contents c WHERE c.rowid = o.content_id)",
    # the view would read its headers as none (m039)
    "name a set of headers the archive does not hold": "SELECT count(*) FROM observations o "
    "WHERE o.header_set IS NOT NULL AND NOT EXISTS (SELECT 1 FROM header_sets h WHERE h.id = o.header_set)",
}


def broken_observation_links(conn: sqlite3.Connection) -> list[str]:
    """One sentence per kind of broken link among the observations (none: an empty list)."""
    counts = {what: conn.execute(sql).fetchone()[0] for what, sql in BROKEN_LINKS_SQL.items()}
    return [f"{n} observation(s) {what}" for what, n in counts.items() if n]


def _rows(db: Database, table: str) -> list[tuple]:
    return sorted(db.execute(f"SELECT * FROM [{table}]").fetchall(), key=repr)  # fixed names


def _table_differences(ours: Database, reference: Database, table: str) -> list[str]:
    mine, theirs = _rows(ours, table), _rows(reference, table)
    if mine == theirs:
        return []
    only_mine = sorted(set(mine) - set(theirs), key=repr)
    only_theirs = sorted(set(theirs) - set(mine), key=repr)
    lines = [f"{len(mine)} rows here, {len(theirs)} in the reference"]
    lines += [f"only here: {row!r}"[:300] for row in only_mine[:CHECK_SAMPLE]]
    lines += [f"only in the reference: {row!r}"[:300] for row in only_theirs[:CHECK_SAMPLE]]
    return lines
