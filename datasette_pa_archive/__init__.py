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
* With ``--cors`` the plugin's pages and errors carry Datasette's CORS headers too (``cors``).
* The search box of ``article_versions`` searches the archive's one full-text index, of word stems
  (``table_search``: ``filters_from_request``, ``extra_template_vars``); a search it cannot read is answered with
  a sentence (``handle_exception``).

Archived pages are hostile input: every text reaches the HTML through Jinja's autoescape
(``|safe`` is never used on page text) and the plugin's pages forbid inline scripts (CSP).
The archive is only read, through Datasette's read-only connections.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from markupsafe import Markup

from datasette_pa_archive import errors, table_search
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


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    return [
        (r"^/-/diff(?P<as_json>\.json)?$", diff_view),
        (r"^/-/timeline(?P<as_json>\.json)?$", timeline_view),
        (r"^/-/conflicts(?P<as_json>\.json)?$", conflicts_view),
        (r"^/-/snapshot(?:/(?P<snapshot_id>[^/]*))?$", snapshot_view),  # any id: one that is not a number is a 400
        (r"^/(?P<database>[^/-][^/]*)/snapshots/(?P<snapshot_id>\d{1,12})(?P<as_json>\.json)?$", snapshot_row_view),
        (r"^/-/calendar$", calendar_view),
        (r"^/-/roster(?P<as_json>\.json)?$", roster_view),
        (r"^/-/parity(?P<as_json>\.json)?$", parity_view),
    ]


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """Datasette's ``--cors`` headers on the plugin's routes and errors as well (``cors``)."""
    from datasette_pa_archive.cors import with_cors

    return lambda app: with_cors(datasette, app)


@hookimpl
def prepare_jinja2_environment(env: Any) -> None:
    """``pa_label``: a fact's field or a chamber as a reader names it (``pages.field_label``)."""
    from datasette_pa_archive.pages import field_label

    env.filters["pa_label"] = field_label


@hookimpl(tryfirst=True)
def handle_exception(datasette: Any, request: Any, exception: Exception) -> Any:
    """A search the full-text index cannot read gets a sentence (``table_search.search_error``); any other error
    the request caused is answered quickly, its input cut short and no traceback logged (``errors``).

    Asked first (``tryfirst``): Datasette takes the first answer, and pluggy asks the plugin registered last first,
    so another plugin that answers every error (an error reporter) installed beside this one would otherwise hide
    these sentences. What it leaves (None) still reaches the others and Datasette's default.

    ``client_error`` is asked first: it also turns off Datasette's rich traceback for every error (a search FTS5
    cannot read, which it leaves to ``search_error``, took 2 s of the event loop to log with its locals)."""
    return errors.client_error(datasette, request, exception) or table_search.search_error(
        datasette, request, exception
    )


@hookimpl
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    """The search box of ``article_versions`` through the stemmed index (``table_search.filters``)."""
    return table_search.filters(request, database, table, datasette)


@hookimpl
def extra_template_vars(template: str, database: str | None, table: str | None, datasette: Any, request: Any) -> Any:
    """The search box drawn on ``article_versions`` (``table_search.template_vars``); the search query's page
    saying in words why a search cannot be read (``table_search.query_page_vars``)."""

    async def inner() -> dict[str, Any]:
        found = table_search.query_page_vars(template, database, request)
        return {**(await table_search.template_vars(template, database, table, datasette)), **found}

    return inner


@hookimpl
def startup(datasette: Any) -> None:
    """The database page counts the tables it lists, not the derivation's million-row state (``counts``); an
    immutable archive is named by a fingerprint, not a hash of its whole file (``fingerprint``)."""
    from datasette_pa_archive import counts, fingerprint

    counts.install(datasette)
    fingerprint.install(datasette)


@hookimpl
def prepare_connection(conn: Any, datasette: Any) -> None:
    """pa_stem_query and pa_snippet for the search query (pa_stem, should a write ever happen here); pa_feed_link
    for the feed's links (``pages.feed_link``: the pages' rule of a safe link, the plugin's pages under Datasette's
    ``base_url``)."""
    from datasette_pa_archive.pages import feed_link
    from dedupe.stemming import register_functions

    register_functions(conn)

    def pa_feed_link(link: Any, fallback: str) -> str:
        return feed_link(link, fallback, datasette.urls.path)

    conn.create_function("pa_feed_link", 2, pa_feed_link, deterministic=True)


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
