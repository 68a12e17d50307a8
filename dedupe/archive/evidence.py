"""The evidence of a conflict, one answer for ``pa-archive conflicts`` and Datasette's ``/-/conflicts``.

Everything here reads the time-derived records (``dedupe.archive.time_records``) and the block
versions, never the snapshots one by one: a conflict's evidence costs the same at a thousand
observations and at a million.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from typing import Any

from .. import queries

URLS_LISTED = 10  # URLs listed per conflicting value (``urls_total`` counts them all)
CHANGES_LISTED = 20  # changes of value listed per conflict


def _rows(conn: sqlite3.Connection, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params or {})
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _count(conn: sqlite3.Connection, sql: str, **params: Any) -> int:
    return conn.execute(sql, params).fetchone()[0]


def pages_stating(conn: sqlite3.Connection, version_ids: list[str]) -> tuple[list[str], int]:
    """The pages that showed any of these block versions, oldest first (at most URLS_LISTED), and how many.

    Each version's first pages come through an index and are merged here: the URLs listed are those a sort
    of every page would list (a page among the first overall is among the first of the version it was
    first seen with), at the cost of URLS_LISTED rows per version."""
    first: dict[str, tuple[str, int]] = {}
    for version_id in version_ids:
        for url, observed_at, snapshot_id in conn.execute(
            queries.EVIDENCE_VERSION_URLS_SQL, {"id": version_id, "limit": URLS_LISTED}
        ):
            first[url] = min(first.get(url, (observed_at, snapshot_id)), (observed_at, snapshot_id))
    if not first:
        return [], 0
    listed = sorted(first, key=lambda url: (*first[url], url))[:URLS_LISTED]
    if len(version_ids) == 1:
        total = (
            len(first)
            if len(first) < URLS_LISTED
            else _count(conn, queries.EVIDENCE_VERSION_URLS_TOTAL_SQL, id=version_ids[0])
        )
    else:
        total = _count(conn, queries.EVIDENCE_URLS_TOTAL_SQL, ids=json.dumps(version_ids))
    return listed, total


def newest_snapshots(conn: sqlite3.Connection, version_ids: list[str]) -> list[dict[str, Any]]:
    """The newest snapshot of each page showing one of these block versions, newest first (at most
    URLS_LISTED): merged from each version's newest, as ``pages_stating`` merges the oldest."""
    rows: list[dict[str, Any]] = []
    for version_id in version_ids:
        rows += _rows(conn, queries.EVIDENCE_VERSION_SNAPSHOTS_SQL, {"id": version_id, "limit": URLS_LISTED})
    rows.sort(key=lambda r: (r["observed_at"], r["snapshot_id"]), reverse=True)
    return rows[:URLS_LISTED]


def conflict_evidence(
    conn: sqlite3.Connection, *, delegation: str = "", evidence: bool = True, snapshots: bool = False
) -> list[dict[str, Any]]:
    """One record per conflicting (delegation, field) of one language, values by snapshot count.

    With ``evidence``, each value lists the block versions stating it (``block_versions``), the pages
    stating it (``urls``, oldest first, at most URLS_LISTED, with ``urls_total``) and each record its
    ``changes`` of value in time ({from, to, a, b, at, times}: ``a`` and ``b`` the block variants to diff).
    With ``snapshots`` too, each value has ``variants`` (block version rows) and ``snapshot_rows`` (the
    newest snapshot of each page stating it, at most URLS_LISTED) with ``snapshots_total``."""
    grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(conn, queries.CONFLICTS_SQL):
        if delegation and row["delegation"].casefold() != delegation.casefold():
            continue
        grouped[(row["delegation"], row["field"], row["language"])].append(
            {k: row[k] for k in ("value", "snapshots", "first_seen", "last_seen")}
        )
    records = [
        {"delegation": d, "field": f, "language": lang, "values": values} for (d, f, lang), values in grouped.items()
    ]
    if not evidence:
        return records
    for record in records:
        slot = {"language": record["language"], "delegation": record["delegation"], "field": record["field"]}
        for value in record["values"]:
            variants = _rows(conn, queries.EVIDENCE_BLOCK_VERSIONS_SQL, {**slot, "value": value["value"]})
            ids = [v["id"] for v in variants]
            value["block_versions"] = ids
            value["urls"], value["urls_total"] = pages_stating(conn, ids)
            if snapshots:
                value["variants"] = variants
                value["snapshot_rows"] = newest_snapshots(conn, ids)
                value["snapshots_total"] = sum(v["snapshots"] for v in variants)
        record["changes"] = [
            {
                "from": c["previous_value"],
                "to": c["value"],
                "a": c["previous_block_version_id"],
                "b": c["block_version_id"],
                "at": c["first_changed"],
                "times": c["times"],
            }
            for c in _rows(conn, queries.EVIDENCE_CHANGES_SQL, {**slot, "limit": CHANGES_LISTED})
            if c["previous_block_version_id"] != c["block_version_id"]
        ]
    return records


def missing_evidence(conn: sqlite3.Connection, *, evidence: bool = True) -> list[dict[str, Any]]:
    """Values present as a line but empty, per (language, delegation, field): snapshots, first and last seen;
    with ``evidence``, the pages they are empty on (``seen_in``, oldest first, capped; ``seen_in_total``)."""
    rows = _rows(conn, queries.MISSING_SQL)
    if evidence:
        for row in rows:
            params = {k: row[k] for k in ("language", "delegation", "field")}
            ids = [v["id"] for v in _rows(conn, queries.EVIDENCE_BLOCK_VERSIONS_SQL, {**params, "value": ""})]
            row["seen_in"], row["seen_in_total"] = pages_stating(conn, ids)
    return rows
