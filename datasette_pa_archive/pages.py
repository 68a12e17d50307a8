"""What the plugin's pages share: which database they read, their links, their HTML response."""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode, urlsplit

from datasette.utils.asgi import Response

from datasette_pa_archive.errors import BadParameter, NotThere, echo, param
from dedupe.document import MAX_URL_CHARS  # the longest URL stored, asked for by ?url= and drawn as a link

MAX_DATABASE_CHARS = 255  # a database is named after its file, whose name is at most 255 bytes
MAX_NAME_CHARS = 200  # a delegation's name ("Kyrgyzstan"): any longer is no name
MAX_DATE_CHARS = 40  # 2024-05-01T10:00:00.000000+03:00 is 32


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


WEB_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)  # no space nor control character anywhere


def web_href(url: Any) -> str | None:
    """``url`` when a link to it is safe to draw: an http(s) URL with a host; None for anything else (javascript:,
    data:, file:, a URL with spaces or control characters, a malformed one), which the page shows as text only.
    Archived URLs are hostile input: a link built from one takes this first."""
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS or not WEB_URL.fullmatch(url):
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:  # "http://[::1" : an IPv6 host not closed
        return None
    return url if host else None


OWN_PAGE = re.compile(r"/-/[^\s\x00-\x1f\x7f]*")  # a page of the plugin's, as the feed's SQL builds its links


def feed_link(link: Any, fallback: str, site_path: Callable[[str], str] = str) -> str:
    """An Atom entry's link (``pa_feed_link`` in the feed's SQL: ``metadata.web_links_only``): a page of the
    plugin's own (``/-/...``, no space nor control character), an archived URL when ``web_href`` would draw it as a
    link, else ``fallback``. A removed article's link is its archived URL (``javascript:``, ``data:``, ``file:``...):
    the feed and the pages take one rule, this module's, not an SQL copy of it that drifts. The plugin's pages
    (``fallback`` too) go through ``site_path``, Datasette's ``urls.path``: behind a proxy that serves Datasette
    under a prefix (its ``base_url`` setting), a bare ``/-/diff`` would lead out of it."""
    if isinstance(link, str) and len(link) <= MAX_URL_CHARS and OWN_PAGE.fullmatch(link):
        return str(site_path(link))
    return web_href(link) or str(site_path(fallback))


# The longest link a page draws with an archived URL in its query. A stored URL holds up to MAX_URL_CHARS, and
# escaping it for a query can triple it ('/', '&' become %2F, %26: 24,600 characters for 8,192 of '/'), more than
# uvicorn reads (h11 refuses a request whose head passes 16 KiB before it has all arrived: 'Invalid HTTP request
# received', whenever it comes in pieces, as over a network) or nginx's default 8 KB buffers hold. 8,000 leaves a
# request line of 8,192 room for its method and version.
MAX_LINK_CHARS = 8_000


async def calendar_href(datasette: Any, db: Any, url: str | None) -> str | None:
    """The calendar of captures of ``url`` in ``db`` (a Datasette database): by ``?url=``, readable and the same in
    any archive, unless that link would pass MAX_LINK_CHARS; then by the URL's id in this archive (``?url_id=``),
    which every server takes. None when there is no URL, or it is not in the archive (shown as text only)."""
    if not url:
        return None
    path = datasette.urls.path("/-/calendar")
    href = path + "?" + urlencode({"url": url, "database": db.name})
    if len(href) <= MAX_LINK_CHARS:
        return href
    row = (await db.execute("SELECT id FROM urls WHERE url = ?", [url])).first()
    return path + "?" + urlencode({"url_id": row[0], "database": db.name}) if row else None


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
    """The database named by ?database=, else the first one that is a pa-archive archive (NotThere: none)."""
    wanted = param(request, "database", MAX_DATABASE_CHARS)
    if wanted:
        try:
            db = datasette.get_database(wanted)
        except KeyError:
            raise NotThere(f"There is no database called {echo(wanted)}.") from None
        if "block_versions" not in await db.table_names():
            raise NotThere(f"The database {echo(wanted)} is not a pa-archive archive.")
        return db
    for name, db in datasette.databases.items():
        if name.startswith("_"):
            continue
        if "block_versions" in await db.table_names():
            return db
    raise NotThere("No pa-archive archive is being served.")


async def known_delegation(db: Any, wanted: str, known: list[str] | None = None, what: str = "") -> str:
    """The archive's spelling of the delegation ``wanted`` (any case; '' stays ''): among ``known``, else the names
    of the block facts and rosters; NotThere, naming those there are, when unknown."""
    if not wanted:
        return ""
    if known is None:
        known = await db.execute_fn(_all_delegations)
    match = next((name for name in known if name.casefold() == wanted.casefold()), None)
    if match is None:
        there = f"the delegations are {', '.join(known)}" if known else "it has none yet"
        raise NotThere(f"No delegation called {echo(wanted)}{what} in this archive: {there}.")
    return match


def _all_delegations(conn: Any) -> list[str]:
    """Every delegation the block facts or the rosters name (``dedupe.analysis.delegations.delegation_name``'s)."""
    from dedupe import queries, roster_queries

    names: set[str] = set()
    for sql in (queries.DELEGATIONS_SQL, roster_queries.ROSTER_DELEGATIONS_SQL):
        try:
            names |= {row[0] for row in conn.execute(sql)}
        except sqlite3.OperationalError:  # an archive of an older version, without rosters (read-only here)
            continue
    return sorted(names)


def as_of_param(request: Any) -> str | None:
    """``?as_of=`` as the rosters and parity read it (None: now); BadParameter when it is not such a date."""
    from dedupe.archive import ArchiveError
    from dedupe.archive.queries import as_of_bound
    from dedupe.timestamps import EARLIEST, FORMS

    value = param(request, "as_of", MAX_DATE_CHARS)
    if not value:
        return None
    try:
        as_of_bound(value)
    except ArchiveError:
        raise BadParameter(
            f"as_of {echo(value)} is not a date from {EARLIEST:%Y-%m-%d} to tomorrow: give {FORMS}."
        ) from None
    return value


def html_response(body: str, status: int = 200) -> Response:
    """A page of the plugin: HTML with its Content-Security-Policy."""
    return Response.html(
        body, status=status, headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    )


def field_label(name: Any) -> str:
    """A fact's field or a chamber as a reader names it: ``seats.house_of_representatives`` -> "seats: House of
    Representatives", ``seats_total`` -> "seats (total)", ``supreme_council`` -> "Supreme Council" (the stored names,
    which the SQL and the JSON use, stay in the cell's title). Anything else is shown as it is."""
    text = "" if name is None else str(name)
    if text == "seats_total":
        return "seats (total)"
    head, dot, tail = text.partition(".")
    if dot and head in ("seats", "website") and tail:
        return f"{head}: {_words(tail)}"
    return _words(text) if re.fullmatch(r"[a-z]+(?:_[a-z]+)+", text) else text


def _words(slug: str) -> str:
    small = {"of", "the", "and"}
    return " ".join(w if w in small and i else w.capitalize() for i, w in enumerate(slug.split("_")))
