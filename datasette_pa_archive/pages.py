"""What the plugin's pages share: which database they read, their links, their HTML response."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import NotFound, Response

# The plugin's pages run no inline script at all: a stored <script> that escaped escaping still would not run.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)


def diff_href(datasette: Any, b: str, a: str | None = None, database: str | None = None) -> str:
    params = {k: v for k, v in (("a", a), ("b", b), ("database", database)) if v}
    return datasette.urls.path("/-/diff") + "?" + urlencode(params)


def snapshot_href(datasette: Any, snapshot_id: int | str, database: str | None = None) -> str:
    """The snapshot page: its archived text and copy, its versions, the observations around it."""
    path = datasette.urls.path(f"/-/snapshot/{snapshot_id}")
    return path + ("?" + urlencode({"database": database}) if database else "")


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
