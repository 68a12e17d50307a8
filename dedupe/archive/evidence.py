"""The evidence of a conflict, one answer for ``pa-archive conflicts`` and Datasette's ``/-/conflicts``.

Everything here reads the time-derived records (``dedupe.archive.time_records``) and the block
versions, never the snapshots one by one: a conflict's evidence costs the same at a thousand
observations and at a million.
"""

from __future__ import annotations

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
            params = {**slot, "value": value["value"], "limit": URLS_LISTED}
            variants = _rows(conn, queries.EVIDENCE_BLOCK_VERSIONS_SQL, params)
            urls = _rows(conn, queries.EVIDENCE_URLS_SQL, params)
            value["block_versions"] = [v["id"] for v in variants]
            value["urls"] = [u["url"] for u in urls]
            value["urls_total"] = urls[0]["total"] if urls else 0
            if snapshots:
                found = _rows(conn, queries.EVIDENCE_SNAPSHOTS_SQL, params)
                value["variants"] = variants
                value["snapshot_rows"] = found
                value["snapshots_total"] = found[0]["total"] if found else 0
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
            urls = _rows(conn, queries.EVIDENCE_URLS_SQL, {**params, "value": "", "limit": URLS_LISTED})
            row["seen_in"] = [u["url"] for u in urls]
            row["seen_in_total"] = urls[0]["total"] if urls else 0
    return rows
