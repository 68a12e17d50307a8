"""Delegations as people, and the two sites against each other: ``/-/roster`` and ``/-/parity``.

``/-/roster?delegation=Belarus&as_of=2025-11-01`` shows, per site, who the delegation's country
page listed at that moment (position, chamber, since when), every change (joined, left,
plenipotentiary, seats) with the snapshots before and after and their diff, and the people whose
names may be one person (shown, never merged). ``/-/parity?as_of=...`` lists the fields the English
and Russian sites state differently, with each side's evidence. Both read through
``dedupe.analysis.delegations`` and ``dedupe.analysis.parity``, as ``pa-archive roster`` and ``parity`` do; ``.json``
returns the same data. Names come from archived pages: printed through Jinja's autoescape only.
"""

from __future__ import annotations

import sqlite3
from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import Response

from datasette_pa_archive.pages import archive_database, diff_href, html_response, snapshot_href
from dedupe.archive import ArchiveError

OLD_ARCHIVE = (
    "This archive was made by an older version: open it once with pa-archive (`pa-archive stats`) to update it."
)


def _seats_text(seats: dict[str, str]) -> str:
    chambers = [f"{k.removeprefix('seats.')} {v}" for k, v in sorted(seats.items()) if k.startswith("seats.")]
    total = seats.get("seats_total", "?")
    return f"{total} ({', '.join(chambers)})" if chambers else str(total)


def _read_roster(conn: Any, delegation: str, as_of: str | None) -> dict[str, Any]:
    from dedupe import queries, roster_queries
    from dedupe.analysis import delegations
    from dedupe.archive import ReadOnlyArchive

    archive = ReadOnlyArchive(conn)
    tables = {r["name"] for r in archive.query(queries.TABLES_AND_VIEWS_SQL)}
    if "roster_versions" not in tables:
        return {"error": OLD_ARCHIVE, "delegations": []}
    known = [r["delegation"] for r in archive.query(roster_queries.ROSTER_DELEGATIONS_SQL)]
    data: dict[str, Any] = {"delegations": known, "error": None}
    try:
        data.update(delegations.rosters_as_of(archive, as_of, delegation))
        data["changes"] = delegations.roster_changes(archive, delegation)
        data["memberships"] = [m for m in delegations.memberships(archive, delegation) if m["left"]]
        people = delegations.people(archive)
    except (ArchiveError, sqlite3.OperationalError) as exc:
        error = str(exc) if isinstance(exc, ArchiveError) else OLD_ARCHIVE
        return {**data, "error": error, "rosters": [], "changes": [], "memberships": []}
    chosen = {r["delegation"] for r in data["rosters"]}
    data["ambiguous"] = [
        p for p in people if p["possible_matches"] and (not delegation or set(p["delegations"]) & chosen)
    ]
    return data


def _read_parity(conn: Any, as_of: str | None) -> dict[str, Any]:
    from dedupe.analysis.parity import parity
    from dedupe.archive import ReadOnlyArchive

    try:
        return {**parity(ReadOnlyArchive(conn), as_of), "error": None}
    except ArchiveError as exc:
        return {"as_of": as_of, "fields": [], "error": str(exc)}
    except sqlite3.OperationalError:  # read-only: an archive of an older version is not migrated here
        return {"as_of": as_of, "fields": [], "error": OLD_ARCHIVE}


async def roster_view(datasette: Any, request: Any) -> Response:
    db = await archive_database(datasette, request)
    delegation = request.args.get("delegation", "")
    as_of = request.args.get("as_of") or None
    data = await db.execute_fn(lambda conn: _read_roster(conn, delegation, as_of))
    if request.url_vars.get("as_json"):
        return Response.json(data, default=str)
    for change in data.get("changes", []):
        change["href"] = snapshot_href(datasette, change["snapshot_id"], db.name)
        if change["previous_snapshot_id"]:
            change["diff_href"] = diff_href(
                datasette, a=f"s{change['previous_snapshot_id']}", b=f"s{change['snapshot_id']}", database=db.name
            )
    for roster in data.get("rosters", []):
        roster["href"] = snapshot_href(datasette, roster["snapshot_id"], db.name)
        roster["seats_text"] = _seats_text(roster["seats"])
    for m in data.get("memberships", []):
        m["left_href"] = snapshot_href(datasette, m["left_snapshot_id"], db.name)
        m["joined_href"] = snapshot_href(datasette, m["joined_snapshot_id"], db.name)
    path = datasette.urls.path("/-/roster")
    context = {
        **data,
        "database": db.name,
        "delegation": delegation,
        "as_of_arg": as_of or "",
        "roster_path": path,
        "delegation_links": [
            (d, path + "?" + urlencode({"delegation": d, "database": db.name})) for d in data.get("delegations", [])
        ],
        "parity_href": datasette.urls.path("/-/parity") + "?" + urlencode({"database": db.name}),
    }
    return html_response(await datasette.render_template("pa_roster.html", context, request=request))


async def parity_view(datasette: Any, request: Any) -> Response:
    db = await archive_database(datasette, request)
    as_of = request.args.get("as_of") or None
    data = await db.execute_fn(lambda conn: _read_parity(conn, as_of))
    if request.url_vars.get("as_json"):
        if data["error"]:  # a date it cannot read: said, not an empty list that looks like "no data"
            return Response.json({"ok": False, "error": data["error"]}, status=400)
        return Response.json(data["fields"], default=str)
    show_all = request.args.get("all") == "1"
    roster_path = datasette.urls.path("/-/roster")
    for field in data["fields"]:
        field["roster_href"] = roster_path + "?" + urlencode({"delegation": field["delegation"], "database": db.name})
    context = {
        "database": db.name,
        "as_of": data["as_of"],
        "as_of_arg": as_of or "",
        "error": data["error"],
        "fields": data["fields"] if show_all else [f for f in data["fields"] if not f["agree"]],
        "agreeing": sum(1 for f in data["fields"] if f["agree"]),
        "total": len(data["fields"]),
        "show_all": show_all,
        "parity_path": datasette.urls.path("/-/parity"),
    }
    return html_response(await datasette.render_template("pa_parity.html", context, request=request))
