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
from collections import Counter
from typing import Any
from urllib.parse import urlencode, urlsplit

from datasette.utils.asgi import Response

from datasette_pa_archive.errors import NotThere, RequestError, param
from datasette_pa_archive.pages import (
    MAX_DATE_CHARS,
    MAX_NAME_CHARS,
    archive_database,
    as_of_param,
    calendar_href,
    diff_href,
    html_response,
    known_delegation,
    snapshot_href,
)
from dedupe.archive import ArchiveError

OLD_ARCHIVE = (
    "This archive was made by an older version and has no rosters: open it once with pa-archive "
    "(`pa-archive stats`) to update it."
)
ALL_CHOICES = {"1": "agreeing fields too", "0": "only the differences"}


def _seats_text(seats: dict[str, str]) -> str:
    chambers = [f"{k.removeprefix('seats.')} {v}" for k, v in sorted(seats.items()) if k.startswith("seats.")]
    total = seats.get("seats_total", "?")
    return f"{total} ({', '.join(chambers)})" if chambers else str(total)


def _read_roster(conn: Any, delegation: str, as_of: str | None) -> dict[str, Any]:
    """The roster page's data for ``delegation`` (the archive's spelling, or '' for all) at ``as_of``; NotThere
    when the archive has no rosters (one of an older version, read-only here)."""
    from dedupe import queries, roster_queries
    from dedupe.analysis import delegations
    from dedupe.archive import ReadOnlyArchive

    archive = ReadOnlyArchive(conn)
    tables = {r["name"] for r in archive.query(queries.TABLES_AND_VIEWS_SQL)}
    if "roster_versions" not in tables:
        raise NotThere(OLD_ARCHIVE)
    known = [r["delegation"] for r in archive.query(roster_queries.ROSTER_DELEGATIONS_SQL)]
    data: dict[str, Any] = {"delegations": known, "error": None}
    try:
        data.update(delegations.rosters_as_of(archive, as_of, delegation))
        until = data["as_of"]  # the last second ``as_of`` covers: nothing observed after it is shown
        data["changes"] = delegations.roster_changes(archive, delegation, until)
        data["memberships"] = delegations.memberships(archive, delegation, until)
        people = delegations.people(archive)
    except ArchiveError as exc:  # the request was checked (``roster_view``): what is left is the archive's
        raise NotThere(sentence(str(exc))) from None
    except sqlite3.OperationalError:
        raise NotThere(OLD_ARCHIVE) from None
    chosen = {r["delegation"] for r in data["rosters"]}
    data["ambiguous"] = [
        p for p in people if p["possible_matches"] and (not delegation or set(p["delegations"]) & chosen)
    ]
    return data


def _read_parity(conn: Any, as_of: str | None) -> dict[str, Any]:
    """The parity page's data at ``as_of`` (checked: ``as_of_param``); NotThere for an archive of an older
    version."""
    from dedupe.analysis.parity import parity
    from dedupe.archive import ReadOnlyArchive

    try:
        return {**parity(ReadOnlyArchive(conn), as_of), "error": None}
    except ArchiveError as exc:
        raise NotThere(sentence(str(exc))) from None
    except sqlite3.OperationalError:  # read-only: an archive of an older version is not migrated here
        raise NotThere(OLD_ARCHIVE) from None


def sentence(text: str) -> str:
    text = " ".join(text.split())
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


async def roster_view(datasette: Any, request: Any) -> Response:
    """A date it cannot read is a 400, a delegation the archive does not name a 404: in JSON for the .json, else
    said above the page's form (``errors``)."""
    as_json = bool(request.url_vars.get("as_json"))
    db = await archive_database(datasette, request)
    path = datasette.urls.path("/-/roster")
    context: dict[str, Any] = {
        "database": db.name,
        "delegation": "",
        "as_of_arg": "",
        "roster_path": path,
        "parity_href": datasette.urls.path("/-/parity") + "?" + urlencode({"database": db.name}),
    }
    try:
        context["as_of_arg"] = (request.args.get("as_of") or "").strip()[:MAX_DATE_CHARS]  # the form keeps it
        as_of = as_of_param(request)
        wanted = param(request, "delegation", MAX_NAME_CHARS)
        context["delegation"] = wanted
        delegation = await known_delegation(db, wanted)
        data = await db.execute_fn(lambda conn: _read_roster(conn, delegation, as_of))
    except RequestError as exc:
        if as_json:
            raise  # errors.client_error: Datasette's JSON error, this status
        known = await db.execute_fn(_roster_delegations)
        context.update(error=exc.message, delegations=known, delegation_links=_links(path, db.name, known))
        return html_response(await datasette.render_template("pa_roster.html", context, request=request), exc.status)
    if as_json:
        return Response.json(data, default=str)
    for change in data.get("changes", []):
        change["href"] = snapshot_href(datasette, change["snapshot_id"], db.name)
        if change["previous_snapshot_id"]:
            change["diff_href"] = diff_href(
                datasette, a=f"s{change['previous_snapshot_id']}", b=f"s{change['snapshot_id']}", database=db.name
            )
    sites = Counter((r["delegation"], r["language"]) for r in data.get("rosters", []))
    for roster in data.get("rosters", []):
        roster["href"] = snapshot_href(datasette, roster["snapshot_id"], db.name)
        roster["seats_text"] = _seats_text(roster["seats"])
        # one delegation's pages of one language under two addresses (a mirror, a moved site): say whose is whose
        if sites[(roster["delegation"], roster["language"])] > 1:
            roster["host"] = _host(roster["url"])
    for m in data.get("memberships", []):
        m["left_href"] = snapshot_href(datasette, m["left_snapshot_id"], db.name)
        m["joined_href"] = snapshot_href(datasette, m["joined_snapshot_id"], db.name)
    context.update(data)
    context.update(delegation=delegation, delegation_links=_links(path, db.name, data.get("delegations", [])))
    return html_response(await datasette.render_template("pa_roster.html", context, request=request))


def _host(url: str | None) -> str:
    """The host of an archived URL, as text; the URL itself when it has none or cannot be split (a stored
    ``http://[::1`` made ``urlsplit`` raise: the page answered 500)."""
    try:
        return urlsplit(url or "").netloc or url or ""
    except ValueError:
        return url or ""


def _links(path: str, database: str, delegations: list[str]) -> list[tuple[str, str]]:
    return [(d, path + "?" + urlencode({"delegation": d, "database": database})) for d in delegations]


def _roster_delegations(conn: Any) -> list[str]:
    """The delegations with rosters, for the links above an error ([] for an archive without rosters)."""
    from dedupe import roster_queries

    try:
        return [row[0] for row in conn.execute(roster_queries.ROSTER_DELEGATIONS_SQL)]
    except sqlite3.OperationalError:
        return []


async def parity_view(datasette: Any, request: Any) -> Response:
    """A date or ``all`` it cannot read is a 400 (in JSON for the .json, else said above the page's form)."""
    as_json = bool(request.url_vars.get("as_json"))
    db = await archive_database(datasette, request)
    context: dict[str, Any] = {
        "database": db.name,
        "as_of_arg": "",
        "error": None,
        "fields": [],
        "total": 0,
        "show_all": False,
        "parity_path": datasette.urls.path("/-/parity"),
    }
    try:
        context["as_of_arg"] = (request.args.get("as_of") or "").strip()[:MAX_DATE_CHARS]  # the form keeps it
        as_of = as_of_param(request)
        show_all = param(request, "all", 1, ALL_CHOICES) == "1"
        context["show_all"] = show_all
        data = await db.execute_fn(lambda conn: _read_parity(conn, as_of))
    except RequestError as exc:
        if as_json:
            raise  # errors.client_error: Datasette's JSON error, this status
        context["error"] = exc.message
        return html_response(await datasette.render_template("pa_parity.html", context, request=request), exc.status)
    if as_json:
        return Response.json(data["fields"], default=str)
    roster_path = datasette.urls.path("/-/roster")
    for field in data["fields"]:
        field["roster_href"] = roster_path + "?" + urlencode({"delegation": field["delegation"], "database": db.name})
        for side in (field["en"], field["ru"]):
            for source in side["sources"]:
                source["calendar_href"] = await calendar_href(datasette, db, source.get("url"))
    context.update(
        {
            "as_of": data["as_of"],
            "fields": data["fields"] if show_all else [f for f in data["fields"] if not f["agree"]],
            "agreeing": sum(1 for f in data["fields"] if f["agree"]),
            "total": len(data["fields"]),
        }
    )
    return html_response(await datasette.render_template("pa_parity.html", context, request=request))
