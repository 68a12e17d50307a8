"""The snapshot page: ``/-/snapshot/<id>``, one observation with its archived copy.

Shows the page's archived text, its HTML in a sandboxed frame, and links to its article version,
block variants, the previous and next observation of its URL (with the diff between them) and the
URL's calendar of captures. The archived HTML is hostile input: it goes into ``srcdoc`` (escaped as
an attribute), the frame has an empty ``sandbox`` (no scripts, no forms, a unique origin) and the
copy starts with a Content-Security-Policy that forbids every request (no images, styles, fonts or
frames load from anywhere); the page's own CSP adds the same ``default-src`` limits.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from datasette.utils.asgi import Response
from sqlite_utils import Database

from datasette_pa_archive.errors import BadParameter, NotThere, echo
from datasette_pa_archive.pages import (
    archive_database,
    calendar_href,
    diff_href,
    html_response,
    snapshot_href,
    snapshot_row_href,
    web_href,
)
from dedupe import page_queries, queries
from dedupe.storage import Codec

# No request leaves the archived copy: everything is refused but inline styles.
COPY_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"
MAX_COPY_BYTES = 3_000_000  # larger pages are shown as text only
SNAPSHOT_ID = re.compile(r"[0-9]{1,12}")  # larger numbers are no snapshot's id (and no SQLite integer's)


def sandboxed_copy(raw: bytes, encoding: str | None) -> str:
    """The archived HTML for ``srcdoc``, behind a CSP that forbids scripts and requests."""
    text = raw.decode(encoding or "utf-8", errors="replace")
    return f'<meta http-equiv="Content-Security-Policy" content="{COPY_CSP}">\n{text}'


def read_snapshot(conn: Any, snapshot_id: int) -> dict[str, Any] | None:
    """The snapshot's row, its block variants, neighbours, text and raw copy (None if there is none)."""
    conn_rows = conn.execute(page_queries.SNAPSHOT_PAGE_SQL, {"id": snapshot_id})
    names = [d[0] for d in conn_rows.description]
    row = conn_rows.fetchone()
    if row is None:
        return None
    snap = dict(zip(names, row))
    snap["blocks"] = [
        dict(zip(("id", "block_id", "version", "name"), r))
        for r in conn.execute(page_queries.SNAPSHOT_BLOCK_VERSIONS_SQL, {"sha": snap["content_sha256"]})
    ]
    snap["neighbours"] = {
        r[0]: {"id": r[1], "observed_at": r[2], "status": r[3]}
        for r in conn.execute(page_queries.SNAPSHOT_NEIGHBOURS_SQL, {"id": snapshot_id})
    }
    snap["text"], snap["archived_html"], snap["archived_raw_text"] = None, None, None
    if snap["content_sha256"]:
        codec = Codec(Database(conn, recursive_triggers=False))
        lines = conn.execute(queries.PAGE_LINES_SQL, [snap["content_sha256"]]).fetchone()
        if lines:
            snap["text"] = "\n".join(line[0] for line in codec.unpack_lines(*lines, snap["content_sha256"]))
        if (snap["size"] or 0) <= MAX_COPY_BYTES:
            body = conn.execute(
                "SELECT body, compression FROM contents WHERE sha256 = ?", [snap["content_sha256"]]
            ).fetchone()
            raw = codec.decompress(body[0], body[1])
            if snap["kind"] == "html":
                snap["archived_html"] = sandboxed_copy(raw, snap["encoding"])
            else:  # a text file is its own copy
                snap["archived_raw_text"] = raw.decode(snap["encoding"] or "utf-8", errors="replace")
    try:
        snap["headers"] = json.loads(snap["headers"] or "{}")
    except ValueError:
        pass
    return snap


async def snapshot_row_view(datasette: Any, request: Any) -> Response:
    """``/<database>/snapshots/<id>``, the row page of the table snapshots was before m027 (links to it are in
    notes and feeds): sent on to the view's row."""
    url_vars = request.url_vars
    if url_vars["database"] not in datasette.databases:
        raise NotThere(f"There is no database called {echo(unquote(url_vars['database']))}.")
    return Response.redirect(
        snapshot_row_href(datasette, url_vars["database"], url_vars["snapshot_id"], url_vars.get("as_json") or "")
    )


async def snapshot_view(datasette: Any, request: Any) -> Response:
    """``/-/snapshot/<id>``: an id that is not a number, or none, is a 400; a number no snapshot has a 404."""
    raw_id = unquote(request.url_vars.get("snapshot_id") or "")
    if not raw_id:
        raise BadParameter("Give a snapshot id in the path, as /-/snapshot/12 (the id column of snapshots).")
    if raw_id.endswith(".json") and SNAPSHOT_ID.fullmatch(raw_id[: -len(".json")]):
        db = await archive_database(datasette, request)
        row = snapshot_row_href(datasette, db.name, raw_id[: -len(".json")], ".json")
        raise NotThere(f"The snapshot page has no JSON: the snapshot's row is {row}.")
    if not SNAPSHOT_ID.fullmatch(raw_id):
        raise BadParameter(f"The snapshot id {echo(raw_id)} is not a number: give 1 to 12 digits, as /-/snapshot/12.")
    db = await archive_database(datasette, request)
    snap = await db.execute_fn(lambda conn: read_snapshot(conn, int(raw_id)))
    if snap is None:
        raise NotThere(f"There is no snapshot {raw_id} in this archive.")
    links: dict[str, Any] = {
        "row": snapshot_row_href(datasette, db.name, snap["id"]),
        "calendar": await calendar_href(datasette, db, snap["url"]),
        "live": web_href(snap["url"]),  # None for any other scheme (javascript:, data:, file:): shown as text only
    }
    if snap["article_version_id"]:
        links["article_version"] = datasette.urls.row(db.name, "article_versions", snap["article_version_id"])
        links["article"] = datasette.urls.row(db.name, "articles", str(snap["article_id"]))
    for other in snap["neighbours"].values():
        other["href"] = snapshot_href(datasette, other["id"], db.name)
    previous = snap["neighbours"].get("previous")
    if previous and snap["content_sha256"]:
        links["diff_previous"] = diff_href(datasette, a=f"s{previous['id']}", b=f"s{snap['id']}", database=db.name)
    for block in snap["blocks"]:
        block["href"] = datasette.urls.row(db.name, "block_versions", block["id"])
        block["diff_href"] = diff_href(datasette, b=block["id"], database=db.name) if block["version"] > 1 else None
    context = {"database": db.name, "snap": snap, "links": links}
    body = await datasette.render_template("pa_snapshot.html", context, request=request)
    return html_response(body)
