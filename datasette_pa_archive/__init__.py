"""pa-archive's Datasette plugin: what no existing plugin does.

Registered through the ``datasette`` entry point, so ``datasette archive.db`` shows these pages
too; ``pa-archive serve`` adds the project's metadata (``metadata.py``) and settings. Datasette
finds ``templates/`` by itself.

* ``/-/diff?a=...&b=...`` compares any two versions (article ``av-``, block ``bv-`` or
  snapshot) side by side with the word-level highlights of ``pa-archive diff --words``
  (``diff_page``, over ``dedupe.analysis.diff``); ``/-/diff.json`` returns the same JSON as ``pa-archive diff --json``.
* ``/-/timeline`` draws each delegation's seat counts, per language, across snapshots as inline SVG
  (``timeline``; ``/-/timeline.json`` for the data).
* ``/-/roster`` shows each delegation's members per site, who joined and left when, with evidence
  snapshots and diffs; ``/-/parity`` the fields the English and Russian sites state differently
  (``rosters_page``).
* ``render_cell`` links version ids and version numbers to their diff.
* ``handle_exception`` answers a search the word index cannot make (a phrase, or one column: it keeps which
  versions hold a word, not where, m037) with what to use instead, not SQLite's message.

Archived pages are hostile input: every text reaches the HTML through Jinja's autoescape
(``|safe`` is never used on page text) and the plugin's pages forbid inline scripts (CSP).
The archive is only read, through Datasette's read-only connections.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import Response
from markupsafe import Markup, escape

from datasette_pa_archive.calendar_page import calendar_view
from datasette_pa_archive.cells import render_json_cell, render_link_cell
from datasette_pa_archive.diff_page import diff_href, diff_view
from datasette_pa_archive.evidence import conflicts_view
from datasette_pa_archive.rosters_page import parity_view, roster_view
from datasette_pa_archive.snapshot_page import snapshot_row_view, snapshot_view
from datasette_pa_archive.timeline import timeline_view

VERSION_ID = re.compile(r"[ab]v-[0-9a-f]{4,64}")
VERSION_TABLES = {"article_versions", "block_versions"}
ID_COLUMNS = {"id", "version_id", "article_version_id", "block_version_id", "previous_version_id"}
# what FTS5 says when asked of an index without positions (the word index, m037) what only positions answer
WORD_INDEX_LIMITS = ("phrase queries are not supported", "column queries are not supported")
WORD_INDEX_ADVICE = (
    "The search box of this table finds the versions holding every word typed, not a phrase and not one column. "
    "For a phrase, a word in any of its forms, or where the words matched, use the search query: {url}"
)


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    return [
        (r"^/-/diff(?P<as_json>\.json)?$", diff_view),
        (r"^/-/timeline(?P<as_json>\.json)?$", timeline_view),
        (r"^/-/conflicts$", conflicts_view),
        (r"^/-/snapshot/(?P<snapshot_id>\d{1,12})$", snapshot_view),
        (r"^/(?P<database>[^/-][^/]*)/snapshots/(?P<snapshot_id>\d{1,12})(?P<as_json>\.json)?$", snapshot_row_view),
        (r"^/-/calendar$", calendar_view),
        (r"^/-/roster(?P<as_json>\.json)?$", roster_view),
        (r"^/-/parity(?P<as_json>\.json)?$", parity_view),
    ]


@hookimpl
def handle_exception(datasette: Any, request: Any, exception: Exception) -> Any:
    """A phrase or a column search on the word index gets a sentence and a link to the search query with the same
    words (400; in JSON for a JSON request); any other error is Datasette's to show."""
    if not any(limit in str(exception) for limit in WORD_INDEX_LIMITS):
        return None
    database = (request.url_vars or {}).get("database")
    words = " ".join(
        request.args.get(key) for key in request.args if key.startswith("_search") and key != "_searchmode"
    )
    url = datasette.urls.path(f"/{database}/search?{urlencode({'q': words})}" if database else "/")
    message = WORD_INDEX_ADVICE.format(url=url)
    if request.path.endswith(".json"):
        return Response.json({"ok": False, "error": message, "status": 400, "title": "Not a word search"}, status=400)

    async def page() -> Response:
        error = Markup(WORD_INDEX_ADVICE.format(url=f'<a href="{escape(url)}">{escape(url)}</a>'))
        context = {"ok": False, "error": error, "status": 400, "title": "Not a word search"}
        return Response.html(await datasette.render_template("error.html", context, request=request), status=400)

    return page


@hookimpl
def startup(datasette: Any) -> None:
    """The database page counts the tables it lists, not the derivation's million-row state (``counts``)."""
    from datasette_pa_archive.counts import install

    install(datasette)


@hookimpl
def prepare_connection(conn: Any) -> None:
    """pa_stem_query and pa_snippet for the search query (pa_stem, should a write ever happen here)."""
    from dedupe.stemming import register_functions

    register_functions(conn)


@hookimpl
def menu_links(datasette: Any, actor: Any, request: Any) -> list[dict[str, str]]:
    return [
        {"href": datasette.urls.path("/-/conflicts"), "label": "Conflicting facts, with evidence"},
        {"href": datasette.urls.path("/-/timeline"), "label": "Seats timeline"},
        {"href": datasette.urls.path("/-/calendar"), "label": "Captures of a URL"},
        {"href": datasette.urls.path("/-/diff"), "label": "Compare two versions"},
        {"href": datasette.urls.path("/-/roster"), "label": "Delegation rosters: who joined and left"},
        {"href": datasette.urls.path("/-/parity"), "label": "English vs Russian site"},
    ]


@hookimpl
def table_actions(datasette: Any, actor: Any, database: str, table: str, request: Any) -> list[dict[str, str]] | None:
    if table in ("facts", "snapshot_facts", "fact_values", "conflicts", "blocks", "block_versions"):
        return [
            {
                "href": datasette.urls.path("/-/timeline") + "?" + urlencode({"database": database}),
                "label": "Seats timeline",
            }
        ]
    return None


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Markup | None:
    """JSON columns as tables; snapshots, conflict values, version numbers and ids as links; else Datasette's."""
    raw = value.get("value") if isinstance(value, dict) else value
    shown = render_json_cell(raw, column, table) or render_link_cell(
        raw, row, column, table, database, datasette, _cell
    )
    if shown is not None:
        return shown
    if table in VERSION_TABLES and column == "version" and isinstance(raw, int):
        version_id = _cell(row, "id")
        if not isinstance(version_id, str) or raw < 2:
            return Markup(f"v{raw}")
        href = diff_href(datasette, b=version_id, database=database)
        return Markup('v{} · <a class="pa-diff-link" href="{}">diff ← v{}</a>').format(raw, href, raw - 1)
    if column not in ID_COLUMNS or not isinstance(raw, str) or not VERSION_ID.fullmatch(raw):
        return None
    row_table = "article_versions" if raw.startswith("av-") else "block_versions"
    row_href = datasette.urls.row(database, row_table, raw)
    previous, later = _cell(row, "previous_version_id"), _cell(row, "block_version_id")
    if column == "block_version_id" and isinstance(previous, str) and VERSION_ID.fullmatch(previous):
        href = diff_href(datasette, a=previous, b=raw, database=database)
    elif column == "previous_version_id" and isinstance(later, str) and VERSION_ID.fullmatch(later):
        href = diff_href(datasette, a=raw, b=later, database=database)
    elif _cell(row, "version") == 1:
        href = None  # a first version has nothing before it
    else:
        href = diff_href(datasette, b=raw, database=database)
    link = Markup('<a href="{}">{}</a>').format(row_href, raw)
    if href:
        link += Markup(' <a class="pa-diff-link" href="{}">diff</a>').format(href)
    return link


def _cell(row: Any, key: str) -> Any:
    try:
        value = row[key]
    except (IndexError, KeyError, TypeError):
        return None
    return value.get("value") if isinstance(value, dict) else value
