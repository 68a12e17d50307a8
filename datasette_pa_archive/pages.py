"""What the plugin's pages share: which database they read, their links, their HTML response."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import NotFound, Response


def datasette_menu_script() -> str:
    """The CSP source allowing exactly Datasette's own inline script (``_close_open_menus.html``, in every page's
    footer: it closes the navigation menu), by its hash; empty when it cannot be read. Without it every plugin
    page logged a blocked inline script in the browser's console."""
    try:
        from importlib.resources import files

        template = (files("datasette") / "templates" / "_close_open_menus.html").read_text(encoding="utf-8")
    except (OSError, ModuleNotFoundError):
        return ""
    found = re.search(r"<script>(.*?)</script>", template, re.S)
    if not found:
        return ""
    digest = base64.b64encode(hashlib.sha256(found.group(1).encode("utf-8")).digest()).decode("ascii")
    return f" 'sha256-{digest}'"


# The plugin's pages run no inline script of their own, and no other: a stored <script> that escaped escaping
# still would not run (its hash is not this one).
CSP = (
    f"default-src 'self'; script-src 'self'{datasette_menu_script()}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


def diff_href(datasette: Any, b: str, a: str | None = None, database: str | None = None) -> str:
    params = {k: v for k, v in (("a", a), ("b", b), ("database", database)) if v}
    return datasette.urls.path("/-/diff") + "?" + urlencode(params)


def snapshot_href(datasette: Any, snapshot_id: int | str, database: str | None = None) -> str:
    """The snapshot page: its archived text and copy, its versions, the observations around it."""
    path = datasette.urls.path(f"/-/snapshot/{snapshot_id}")
    return path + ("?" + urlencode({"database": database}) if database else "")


def snapshot_row_href(datasette: Any, database: str, snapshot_id: int | str, as_json: str = "") -> str:
    """The snapshot's row with every column: ``snapshots`` is a view (m027), so Datasette has no row page for it;
    the view filtered to its id shows the same."""
    return datasette.urls.table(database, "snapshots", format=as_json.lstrip(".") or None) + f"?id={int(snapshot_id)}"


async def archive_database(datasette: Any, request: Any) -> Any:
    """The database named by ?database=, else the first one that is a pa-archive archive."""
    wanted = request.args.get("database")
    if wanted:
        try:
            db = datasette.get_database(wanted)
        except KeyError:
            raise NotFound(f"There is no database called {wanted}") from None
        if "block_versions" not in await db.table_names():
            raise NotFound(f"{wanted} is not a pa-archive archive")
        return db
    for name, db in datasette.databases.items():
        if name.startswith("_"):
            continue
        if "block_versions" in await db.table_names():
            return db
    raise NotFound("No pa-archive archive is being served")


def html_response(body: str, status: int = 200) -> Response:
    """A page of the plugin: HTML with its Content-Security-Policy."""
    return Response.html(
        body, status=status, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    )
