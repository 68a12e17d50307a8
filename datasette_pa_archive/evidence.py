"""The conflicts page: ``/-/conflicts``, every conflicting value with its evidence.

For each value: the snapshots stating it (URL, date, link to the archived copy on ``/-/snapshot``),
the block variants carrying it, and for each conflict a ready diff of the two variants around each
change of value. The data are ``dedupe.queries``' EVIDENCE_* queries over the same ``conflicts`` view
the "conflicting_facts" canned query and ``pa-archive conflicts`` read.
"""

from __future__ import annotations

from typing import Any

from datasette.utils.asgi import Response

from datasette_pa_archive.pages import archive_database, diff_href, html_response, snapshot_href
from dedupe import queries

SNAPSHOTS_SHOWN = 10  # per value; the count says how many there are


async def conflicts_view(datasette: Any, request: Any) -> Response:
    db = await archive_database(datasette, request)
    wanted = (request.args.get("delegation") or "").strip()
    rows = [dict(r) for r in (await db.execute(queries.CONFLICTS_SQL)).rows]
    if wanted:
        rows = [r for r in rows if r["delegation"].casefold() == wanted.casefold()]
    conflicts: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        key = (r["language"] or "", r["delegation"], r["field"])
        conflict = conflicts.setdefault(
            key, {"language": key[0], "delegation": key[1], "field": key[2], "values": [], "changes": []}
        )
        params = {"language": key[0], "delegation": key[1], "field": key[2], "value": r["value"]}
        found = [
            dict(s)
            for s in (await db.execute(queries.EVIDENCE_SNAPSHOTS_SQL, {**params, "limit": SNAPSHOTS_SHOWN})).rows
        ]
        for s in found:
            s["href"] = snapshot_href(datasette, s["snapshot_id"], db.name)
        variants = [dict(v) for v in (await db.execute(queries.EVIDENCE_BLOCK_VERSIONS_SQL, params)).rows]
        for v in variants:
            v["href"] = datasette.urls.row(db.name, "block_versions", v["id"])
        conflict["values"].append(
            {**r, "snapshot_rows": found, "total": found[0]["total"] if found else 0, "variants": variants}
        )
    for key, conflict in conflicts.items():
        params = {"language": key[0], "delegation": key[1], "field": key[2]}
        for c in (await db.execute(queries.EVIDENCE_CHANGES_SQL, params)).rows:
            change = dict(c)
            change["diff_href"] = diff_href(
                datasette, a=change["previous_block_version_id"], b=change["block_version_id"], database=db.name
            )
            conflict["changes"].append(change)
        conflict["anchor"] = "-".join(part.replace(" ", "_") for part in key)
    context = {
        "database": db.name,
        "conflicts": list(conflicts.values()),
        "delegation": wanted,
        "query_href": datasette.urls.query(db.name, "conflicting_facts"),
        "timeline_path": datasette.urls.path("/-/timeline"),
    }
    body = await datasette.render_template("pa_conflicts.html", context, request=request)
    return html_response(body)
