"""The conflicts page: ``/-/conflicts`` (and ``/-/conflicts.json``), every conflicting value with its evidence.

For each value: the newest snapshots stating it (URL, date, link to the archived copy on ``/-/snapshot``),
the block variants carrying it, and for each conflict a ready diff of the two variants around each
change of value. The data are ``dedupe.archive.evidence.conflict_evidence``, the same answer
``pa-archive conflicts`` gives, read from the time-derived records (fast at any archive size).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import Response

from datasette_pa_archive.errors import param
from datasette_pa_archive.pages import (
    MAX_NAME_CHARS,
    archive_database,
    diff_href,
    html_response,
    known_delegation,
    snapshot_href,
)
from dedupe.archive.evidence import conflict_evidence


async def conflicts_view(datasette: Any, request: Any) -> Response:
    db = await archive_database(datasette, request)
    # a delegation the archive does not name is a 404; one without conflicts an empty page
    wanted = await known_delegation(db, param(request, "delegation", MAX_NAME_CHARS))
    records = await db.execute_fn(lambda conn: conflict_evidence(conn, delegation=wanted, snapshots=True))
    conflicts = []
    for record in records:
        values = []
        for value in record["values"]:
            found = value["snapshot_rows"]
            for s in found:
                s["href"] = snapshot_href(datasette, s["snapshot_id"], db.name)
            for v in value["variants"]:
                v["href"] = datasette.urls.row(db.name, "block_versions", v["id"])
            values.append(
                {
                    **value,
                    "language": record["language"],
                    "snapshot_rows": found,
                    "total": value["snapshots_total"],
                }
            )
        changes = [
            {
                "previous_value": c["from"],
                "value": c["to"],
                "previous_block_version_id": c["a"],
                "block_version_id": c["b"],
                "first_changed": c["at"],
                "times": c["times"],
                "diff_href": diff_href(datasette, a=c["a"], b=c["b"], database=db.name),
            }
            for c in record["changes"]
        ]
        key = (record["language"], record["delegation"], record["field"])
        conflicts.append(
            {
                "language": record["language"],
                "delegation": record["delegation"],
                "field": record["field"],
                "values": values,
                "changes": changes,
                "anchor": "-".join(part.replace(" ", "_") for part in key),
            }
        )
    if (request.url_vars or {}).get("as_json"):  # the page's data, links included (``pa-archive conflicts --json``'s)
        return Response.json({"database": db.name, "delegation": wanted or None, "conflicts": conflicts}, default=str)
    context = {
        "database": db.name,
        "conflicts": conflicts,
        "delegation": wanted,
        "query_href": datasette.urls.query(db.name, "conflicting_facts"),
        "timeline_path": datasette.urls.path("/-/timeline"),
        "json_href": datasette.urls.path("/-/conflicts.json")
        + "?"
        + urlencode({"database": db.name, **({"delegation": wanted} if wanted else {})}),
    }
    body = await datasette.render_template("pa_conflicts.html", context, request=request)
    return html_response(body)
