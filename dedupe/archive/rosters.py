"""Rosters as versioned data: the derivation stage of ``roster_*`` and ``content_rosters``.

``RosterStage(conn).update(after_id, last_id)`` is the incremental stage: it extracts the rosters
of the contents first stored by the snapshots after_id < id <= last_id (``dedupe.rosters``), and
recomputes only the (delegation, language) pairs those snapshots observe: their versions' numbers
and counts, the membership periods and the changes. ``write_reference`` derives the same tables
from every observation at once, for ``check``.

A pair's observations are the snapshots whose content states a roster of it, in observation order
(observed_at, then snapshot id). A person (``dedupe.people.name_key``) joins at the first
observation listing them and leaves at the first later one that does not; listed again, they start
a new period. A change is recorded between consecutive observations stating different rosters.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from ..people import name_key
from ..rosters import Roster, extract_rosters, may_state_a_roster
from ..storage import Codec

CHUNK = 500


@dataclass(frozen=True)
class Observation:
    snapshot_id: int
    observed_at: str
    version_id: str


def _marks(items: Iterable) -> str:
    return ",".join("?" for _ in items)


class RosterStage:
    """Keeps the roster tables in step, inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.codec = Codec(conn)  # decodes pages.lines (compressed since m013)

    def update(self, after_id: int, last_id: int) -> None:
        """Derive what the snapshots after_id < id <= last_id bring."""
        new_contents = [
            sha
            for (sha,) in self.conn.execute(
                """SELECT DISTINCT s.content_sha256 FROM snapshots s
                   WHERE s.id > ? AND s.id <= ? AND s.content_sha256 IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM snapshots o
                                   WHERE o.content_sha256 = s.content_sha256 AND o.id <= ?)""",
                [after_id, last_id, after_id],
            )
        ]
        self.add_contents(new_contents)
        pairs = self.conn.execute(
            """SELECT DISTINCT rv.delegation, rv.language FROM snapshots s
               JOIN content_rosters cr ON cr.content_sha256 = s.content_sha256
               JOIN roster_versions rv ON rv.id = cr.roster_version_id
               WHERE s.id > ? AND s.id <= ?""",
            [after_id, last_id],
        ).fetchall()
        for delegation, language in sorted(pairs):
            self.recompute(delegation, language)

    def add_contents(self, shas: list[str]) -> None:
        """Extract and store the rosters of contents not derived before."""
        for start in range(0, len(shas), CHUNK):
            chunk = shas[start : start + CHUNK]
            rows = self.conn.execute(
                f"SELECT content_sha256, lines, lines_compression FROM pages WHERE content_sha256 IN ({_marks(chunk)})",
                chunk,
            ).fetchall()
            for sha, stored, method in rows:
                lines = self.codec.lines_json(stored, method, sha)
                if not may_state_a_roster(lines):  # no line is shaped like a roster: skip the JSON
                    continue
                for roster in extract_rosters([line[0] for line in json.loads(lines)]):
                    self._store(sha, roster)

    def _store(self, sha: str, roster: Roster) -> None:
        vid = roster.version_id
        exists = self.conn.execute("SELECT 1 FROM roster_versions WHERE id = ?", [vid]).fetchone()
        if not exists:
            self.conn.execute(
                "INSERT INTO roster_versions (id, delegation, language, version, seats, plenipotentiary, members, "
                "snapshots, first_seen, last_seen, first_snapshot_id) VALUES (?, ?, ?, 0, ?, ?, ?, 0, '', '', 0)",
                [
                    vid,
                    roster.delegation,
                    roster.language,
                    json.dumps(roster.seats, sort_keys=True),
                    roster.plenipotentiary,
                    len(roster.members),
                ],
            )
            self.conn.executemany(
                "INSERT INTO roster_members (roster_version_id, ord, name, full_name, person_key, position, chamber) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (vid, i, m.name, m.full_name, m.key, m.position, m.chamber)
                    for i, m in enumerate(roster.members, start=1)
                ],
            )
        self.conn.execute(
            "INSERT OR IGNORE INTO content_rosters (content_sha256, roster_version_id) VALUES (?, ?)", [sha, vid]
        )

    # ------------------------------------------------------------------ one (delegation, language)

    def recompute(self, delegation: str, language: str) -> None:
        """Versions' numbers and counts, membership periods and changes of one pair, from its observations."""
        observations = [
            Observation(*row)
            for row in self.conn.execute(
                """SELECT s.id, s.observed_at, min(rv.id) FROM roster_versions rv
                   JOIN content_rosters cr ON cr.roster_version_id = rv.id
                   JOIN snapshots s ON s.content_sha256 = cr.content_sha256
                   WHERE rv.delegation = ? AND rv.language = ? AND s.status != 'error'
                   GROUP BY s.id ORDER BY s.observed_at, s.id""",
                [delegation, language],
            )
        ]
        versions = [vid for (vid,) in self.conn.execute(
            "SELECT id FROM roster_versions WHERE delegation = ? AND language = ?", [delegation, language]
        )]  # fmt: skip
        members = self._members(versions)
        details = {
            vid: (json.loads(seats), plenipotentiary)
            for vid, seats, plenipotentiary in self.conn.execute(
                f"SELECT id, seats, plenipotentiary FROM roster_versions WHERE id IN ({_marks(versions)})", versions
            )
        }
        self._write_versions(versions, observations)
        self.conn.execute(
            "DELETE FROM roster_memberships WHERE delegation = ? AND language = ?", [delegation, language]
        )
        self.conn.executemany(
            "INSERT INTO roster_memberships VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(delegation, language, *row) for row in membership_periods(observations, members)],
        )
        self.conn.execute("DELETE FROM roster_changes WHERE delegation = ? AND language = ?", [delegation, language])
        self.conn.executemany(
            "INSERT OR IGNORE INTO roster_changes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(delegation, language, *row) for row in roster_changes(observations, members, details)],
        )

    def _members(self, versions: list[str]) -> dict[str, dict[str, str]]:
        """version id -> {person_key: name as listed}, in roster order."""
        found: dict[str, dict[str, str]] = {vid: {} for vid in versions}
        for vid, key, name in self.conn.execute(
            f"SELECT roster_version_id, person_key, name FROM roster_members "
            f"WHERE roster_version_id IN ({_marks(versions)}) ORDER BY roster_version_id, ord",
            versions,
        ):
            found[vid].setdefault(key, name)
        return found

    def _write_versions(self, versions: list[str], observations: list[Observation]) -> None:
        stats: dict[str, list] = {}
        for o in observations:
            s = stats.setdefault(o.version_id, [0, o.observed_at, o.observed_at, o.snapshot_id])
            s[0] += 1
            s[2] = o.observed_at
        # versions stated only by failed fetches have no observation: numbered last, by id
        ordered = sorted(
            versions, key=lambda v: (v not in stats, stats.get(v, [0, ""])[1], stats.get(v, [0] * 4)[3], v)
        )
        self.conn.executemany(
            "UPDATE roster_versions SET version = ?, snapshots = ?, first_seen = ?, last_seen = ?, "
            "first_snapshot_id = ? WHERE id = ?",
            [(n, *stats.get(vid, [0, "", "", 0]), vid) for n, vid in enumerate(ordered, start=1)],
        )


def membership_periods(observations: list[Observation], members: dict[str, dict[str, str]]) -> list[tuple]:
    """(person_key, period, name, joined, joined_id, last_listed, last_id, left, left_id) rows."""
    open_: dict[str, list] = {}
    periods: dict[str, int] = {}
    rows: list[tuple] = []
    for o in observations:
        listed = members.get(o.version_id, {})
        for key in [k for k in open_ if k not in listed]:
            row = open_.pop(key)
            rows.append((*row, o.observed_at, o.snapshot_id))
        for key, name in listed.items():
            if key in open_:
                open_[key][5], open_[key][6] = o.observed_at, o.snapshot_id
            else:
                periods[key] = periods.get(key, 0) + 1
                open_[key] = [key, periods[key], name, o.observed_at, o.snapshot_id, o.observed_at, o.snapshot_id]
    rows += [(*row, None, None) for row in open_.values()]
    return sorted(rows, key=lambda r: (r[0], r[1]))


def roster_changes(
    observations: list[Observation], members: dict[str, dict[str, str]], details: dict[str, tuple[dict, str]]
) -> list[tuple]:
    """(snapshot_id, observed_at, version, previous, kind, subject, old, new) rows, one per change."""
    rows: list[tuple] = []
    for before, after in zip(observations, observations[1:]):
        if before.version_id == after.version_id:
            continue
        old, new = members.get(before.version_id, {}), members.get(after.version_id, {})
        head = (after.snapshot_id, after.observed_at, after.version_id, before.version_id)
        rows += [(*head, "joined", key, "", name) for key, name in new.items() if key not in old]
        rows += [(*head, "left", key, name, "") for key, name in old.items() if key not in new]
        (old_seats, old_pleni), (new_seats, new_pleni) = details[before.version_id], details[after.version_id]
        if name_key(old_pleni) != name_key(new_pleni) or bool(old_pleni) != bool(new_pleni):
            rows.append((*head, "plenipotentiary", "plenipotentiary", old_pleni, new_pleni))
        for field in sorted(set(old_seats) | set(new_seats)):
            if old_seats.get(field, "") != new_seats.get(field, ""):
                rows.append((*head, "seats", field, old_seats.get(field, ""), new_seats.get(field, "")))
    return rows


def write_reference(db_conn: sqlite3.Connection) -> None:
    """The roster tables derived from every observation at once (inside the caller's transaction)."""
    from .. import schema

    for table in schema.ROSTER_TABLES:
        db_conn.execute(f"DELETE FROM [{table}]")  # fixed names from dedupe.schema
    stage = RosterStage(db_conn)
    shas = [
        sha
        for (sha,) in db_conn.execute(
            "SELECT sha256 FROM contents WHERE rowid IN (SELECT content_id FROM observations)"
        )
    ]
    stage.add_contents(sorted(shas))
    for delegation, language in db_conn.execute(
        "SELECT DISTINCT delegation, language FROM roster_versions ORDER BY 1, 2"
    ).fetchall():
        stage.recompute(delegation, language)
