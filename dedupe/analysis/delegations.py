"""Reading the rosters: who each delegation listed at a moment, who joined and left when, and the
people behind the names. What ``pa-archive roster``, Datasette's roster page and ``dedupe.analysis.parity``
share; every query is named in ``dedupe.queries``.

``archive`` is anything with ``query(sql, params)`` and ``delegation_name``: an ``Archive`` or a
``ReadOnlyArchive`` over Datasette's connection.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from .. import queries, roster_queries
from ..archive.base import ArchiveError
from ..archive.queries import as_of_bound
from ..people import identities

__all__ = ["delegation_name", "rosters_as_of", "roster_changes", "memberships", "people"]


def delegation_name(archive: Any, name: str) -> str:
    """The archive's spelling of a delegation (block facts or rosters) named in any case; '' stays ''."""
    if not name:
        return ""
    known = sorted(
        {row["delegation"] for row in archive.query(roster_queries.ROSTER_DELEGATIONS_SQL)}
        | {row["delegation"] for row in archive.query(queries.DELEGATIONS_SQL)}
    )
    for candidate in known:
        if candidate.casefold() == name.strip().casefold():
            return candidate
    raise ArchiveError(f"no delegation is called {name!r} (known: {', '.join(known) or 'none yet'})")


def rosters_as_of(archive: Any, when: str | None = None, delegation: str = "") -> dict[str, Any]:
    """Each delegation's roster per language at ``when`` (default now): every page stating one, by its
    latest observation at or before it, with members (position, chamber, when they joined)."""
    until = as_of_bound(when)
    delegation = delegation_name(archive, delegation)
    rows = archive.query(roster_queries.ROSTERS_AS_OF_SQL, {"until": until, "delegation": delegation})
    ids = sorted({r["roster_version_id"] for r in rows})
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for m in archive.query(roster_queries.ROSTER_MEMBERS_SQL, {"ids": json.dumps(ids)}):
        members[m["roster_version_id"]].append(m)
    joined = _joined_as_of(archive, delegation, until)
    found = []
    for r in rows:
        listed = [
            {
                "name": m["name"],
                "full_name": m["full_name"],
                "person": m["person_key"],
                "position": m["position"],
                "chamber": m["chamber"],
                "joined": joined.get((r["delegation"], r["language"], m["person_key"])),
            }
            for m in members[r["roster_version_id"]]
        ]
        found.append(
            {
                "delegation": r["delegation"],
                "language": r["language"],
                "url": r["url"],
                "observed_at": r["observed_at"],
                "snapshot_id": r["snapshot_id"],
                "roster_version": r["roster_version_id"],
                "version": r["version"],
                "seats": json.loads(r["seats"]),
                "plenipotentiary": r["plenipotentiary"],
                "members": listed,
            }
        )
    return {"as_of": until, "rosters": found}


def _joined_as_of(archive: Any, delegation: str, until: str) -> dict[tuple[str, str, str], str]:
    """(delegation, language, person) -> when the period that covers ``until`` began."""
    found = {}
    for p in archive.query(roster_queries.ROSTER_MEMBERSHIPS_SQL, {"delegation": delegation}):
        if p["joined"] <= until and (p["left"] is None or p["left"] > until):
            found[(p["delegation"], p["language"], p["person_key"])] = p["joined"]
    return found


def roster_changes(archive: Any, delegation: str = "", until: str | None = None) -> list[dict[str, Any]]:
    """Every change between consecutive rosters, oldest first: joined, left, plenipotentiary, seats; with
    ``until`` (an ISO time), only those observed by then."""
    rows = archive.query(roster_queries.ROSTER_CHANGES_SQL, {"delegation": delegation_name(archive, delegation)})
    return rows if until is None else [r for r in rows if r["observed_at"] <= until]


def memberships(archive: Any, delegation: str = "", until: str | None = None) -> list[dict[str, Any]]:
    """Each member's periods: joined (first observed listed) and left (first observed not listed after); with
    ``until``, the periods ended by then (who had left as of that moment)."""
    rows = archive.query(roster_queries.ROSTER_MEMBERSHIPS_SQL, {"delegation": delegation_name(archive, delegation)})
    return rows if until is None else [r for r in rows if r["left"] and r["left"] <= until]


def people(archive: Any) -> list[dict[str, Any]]:
    """Every person listed, one record per identity across scripts: spellings, delegations, languages,
    and the identities that may be the same person (shown, never merged)."""
    rows = archive.query(roster_queries.ROSTER_NAMES_SQL)
    names = [r["name"] for r in rows] + [r["full_name"] for r in rows if r["full_name"]]
    where: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in rows:
        where[r["person_key"]].add((r["delegation"], r["language"]))
    records = []
    for identity in identities(names):
        record = identity.as_dict()
        record["delegations"] = sorted({d for d, _ in where.get(identity.key, ())})
        record["languages"] = sorted({lang for _, lang in where.get(identity.key, ())})
        records.append(record)
    return records
