"""The calendar of captures: ``/-/calendar?url=...``, a URL's observations by year, then month.

Like the Wayback Machine's calendar: each capture links to its snapshot page (the version seen)
and, where the version changed, to the diff with the previous one. The data are
``dedupe.webarchive.memento``'s (``MEMENTOS_SQL``, ``calendar``), the same as ``pa-archive timemap``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import Response

from datasette_pa_archive.errors import BadParameter, NotThere, RequestError, echo, param
from datasette_pa_archive.pages import (
    MAX_LINK_CHARS,
    MAX_URL_CHARS,
    archive_database,
    calendar_href,
    diff_href,
    html_response,
    snapshot_href,
)
from dedupe import page_queries
from dedupe.webarchive import memento

MAX_ID_DIGITS = 12  # of ?url_id= (a snapshot id takes as many: /-/snapshot/<id>)
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def diff_refs(entry: dict[str, Any], previous_row: dict[str, Any] | None) -> tuple[str, str] | None:
    """What to compare for a capture whose version changed: article versions, else the two snapshots."""
    if not entry["changed"] or previous_row is None:
        return None
    if str(entry["version"]).startswith("av-") and str(entry["previous_version"]).startswith("av-"):
        return entry["previous_version"], entry["version"]
    return f"s{previous_row['snapshot_id']}", f"s{entry['snapshot_id']}"


async def url_by_id(db: Any, request: Any) -> str:
    """The URL ``?url_id=`` names (``urls.id``), '' when it is not given: how the pages link the calendar of a URL
    too long to pass in a link (``pages.calendar_href``). BadParameter when it is no id, NotThere when no URL has it."""
    raw = param(request, "url_id", MAX_ID_DIGITS)
    if not raw:
        return ""
    if not raw.isascii() or not raw.isdigit():
        raise BadParameter(f"url_id {echo(raw)} is not a number: give the id of a URL in the archive (urls.id).")
    row = (await db.execute("SELECT url FROM urls WHERE id = ?", [int(raw)])).first()
    if row is None:
        raise NotThere(f"The archive has no URL with id {raw}.")
    return row[0]


async def form_fields(db: Any, url: str) -> dict[str, Any]:
    """What the form is filled with: the URL in its box, unless submitting it unchanged would make a request longer
    than MAX_LINK_CHARS, which servers refuse (uvicorn: a head over 16 KiB); then the box is left empty for another
    URL and the URL is named by its id in a hidden field (a URL typed in the box wins over it), as the pages' links
    to such a calendar do (``pages.calendar_href``)."""
    if len("/-/calendar?database=&" + urlencode({"url": url})) + len(db.name) * 3 <= MAX_LINK_CHARS:
        return {"value": url, "url_id": None}
    row = (await db.execute("SELECT id FROM urls WHERE url = ?", [url])).first()
    return {"value": "", "url_id": row[0]} if row else {"value": url, "url_id": None}


async def calendar_view(datasette: Any, request: Any) -> Response:
    """A URL by ``?url=`` or by its id (``?url_id=``); none: the most captured URLs. A parameter it cannot read is a
    400, a URL it has no capture of a 404, each said above the form."""
    db = await archive_database(datasette, request)
    context: dict[str, Any] = {"database": db.name, "url": "", "years": [], "error": None, "captured_urls": []}
    status = 200
    try:
        url = param(request, "url", MAX_URL_CHARS) or await url_by_id(db, request)
    except RequestError as exc:  # said above the form, which stays empty
        context["error"], status, url = exc.message, exc.status, ""
    else:
        context["url"] = url
    context["form"] = await form_fields(db, url)
    if not url:
        if status == 200:
            captured = [dict(r) for r in (await db.execute(page_queries.CALENDAR_URLS_SQL)).rows]
            for row in captured:
                row["href"] = await calendar_href(datasette, db, row["url"])
            context["captured_urls"] = captured
            context["empty"] = not captured
    else:
        rows = [dict(r) for r in (await db.execute(memento.MEMENTOS_SQL, {"url": url})).rows]
        if not rows:
            context["error"] = f"The archive has no capture of {echo(url)}."
            status = 404
        years = memento.calendar(rows)
        previous_row = None
        for year, months in years.items():
            shown_months = []
            for month, entries in months.items():
                for entry in entries:
                    entry["href"] = snapshot_href(datasette, entry["snapshot_id"], db.name)
                    refs = diff_refs(entry, previous_row)
                    entry["diff_href"] = diff_href(datasette, a=refs[0], b=refs[1], database=db.name) if refs else None
                    previous_row = entry
                shown_months.append({"month": MONTHS[int(month) - 1], "entries": entries})
            context["years"].append(
                {"year": year, "months": shown_months, "captures": sum(len(m) for m in months.values())}
            )
        context["captures"] = len(rows)
    context["calendar_path"] = datasette.urls.path("/-/calendar")
    body = await datasette.render_template("pa_calendar.html", context, request=request)
    return html_response(body, status)
