"""The search box of the ``article_versions`` table page, through the archive's one full-text index.

The archive keeps one full-text index over its article texts since m037: ``article_versions_stemmed``, of
Snowball stems with their positions, over a view (no copy of the texts). Datasette finds no index of
``article_versions`` itself (that one's content is the view), so its own ``?_search=`` filter does nothing
there; this one (``filters_from_request``) sends the box's words as stems (``dedupe.stemming.stem_query``, as
the search query does) to the stemmed index: a word finds every form of it, ``"a phrase"`` a phrase,
``word*`` a prefix, ``CSTO-PA`` the two words in a row; ``?_search_title=`` and ``?_search_text=`` one
column. ``template_vars`` draws the box (Datasette draws it only for an index it found itself), and
``search_error`` answers a box search FTS5 cannot read with a sentence, not SQLite's message.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from datasette.filters import FilterArguments
from datasette.utils.asgi import BadRequest, Response
from markupsafe import Markup, escape

from dedupe.queries import TABLE_SEARCH_SQL
from dedupe.stemming import stem_query, unreadable

TABLE = "article_versions"
SEARCH_QUERY = "search"  # the canned query of the same index (``metadata.canned_queries``)
INDEX = "article_versions_stemmed"
COLUMNS = ("title", "text")  # the index's columns: ?_search_<column>=
WORD_INDEX = "article_versions_fts"  # an archive before m037 (plain `datasette` never upgrades): Datasette's own
UNREADABLE = "fts5: syntax error"  # what SQLite says of a query FTS5 cannot read (an unclosed quote: ``filters``)
ADVICE = (
    "The full-text index cannot read that search ({detail}). It reads words (any of their forms), "
    '"a phrase", prefix*, OR, NOT and parentheses; the search query also shows where they matched: {url}'
)


def _searches(request: Any) -> dict[str, str]:
    """The box's search (key '') and the per-column ones (key: the column), non-empty, of a request."""
    found = {}
    for key in request.args:
        if key == "_search" or (key.startswith("_search_") and key != "_searchmode"):
            value = request.args.get(key, "").strip()
            if value:
                found[key.removeprefix("_search").removeprefix("_")] = value
    return found


async def _has_index(datasette: Any, database: str) -> bool:
    """Whether the box is this module's to answer: the stemmed index is there, and no word index Datasette would
    search by itself (an archive not upgraded since m037, served by plain ``datasette``, keeps its own box)."""
    db = datasette.get_database(database)
    return await db.table_exists(INDEX) and not await db.table_exists(WORD_INDEX)


def filters(request: Any, database: str, table: str, datasette: Any) -> Any:
    """``?_search=`` (``?_search_title=``, ``?_search_text=``) on ``article_versions``, through the stemmed index."""
    if table != TABLE:
        return None

    async def inner() -> FilterArguments | None:
        searches = _searches(request)
        if not searches or not await _has_index(datasette, database):
            return None
        clauses, params, described = [], {}, []
        for i, (column, words) in enumerate(searches.items()):
            if column and column not in COLUMNS:
                raise BadRequest(f"Cannot search by column {column!r}: the index holds {' and '.join(COLUMNS)}.")
            try:
                stems = stem_query(words)
            except ValueError as error:  # an unclosed quote, a NOT with nothing before it
                raise BadRequest(f"Cannot search for {words!r}: {error}.") from error
            if not stems:  # no word in it: nothing matches, rather than everything
                clauses.append("0")
                continue
            clauses.append(TABLE_SEARCH_SQL.format(param=f"pa_search_{i}"))
            params[f"pa_search_{i}"] = f"{column} : ({stems})" if column else stems
            shown = words if '"' in words else f'"{words}"'  # a phrase typed in quotes keeps its own
            described.append(f"{column or 'title or text'} matches {shown} in any word form")
        return FilterArguments(clauses, params, described, {"search": searches.get("", "")})

    return inner


async def template_vars(template: str, database: str | None, table: str | None, datasette: Any) -> dict[str, Any]:
    """The search box on the ``article_versions`` page of an archive (Datasette draws it only for its own finds)."""
    if table == TABLE and template == "table.html" and database and await _has_index(datasette, database):
        return {"supports_search": True}
    return {}


def query_page_vars(template: str, database: str | None, request: Any) -> dict[str, Any]:
    """The search query's page (``/<db>/search?q=``) with a search the index cannot read: the sentence the search
    command gives (``dedupe.stemming.unreadable``) in place of SQLite's ("user-defined function raised exception"
    for an unclosed quote, "fts5: syntax error near" for ``*``). Datasette shows a canned query's SQL error on its
    page with status 400 (so ``handle_exception`` never sees it); a template variable of a plugin replaces the
    page's ``error``. Any other error of the query (a time limit) stays Datasette's."""
    if template != "query.html" or not database or request is None:
        return {}
    if (request.url_vars or {}).get("table") != SEARCH_QUERY:
        return {}
    q = request.args.get("q")
    reason = unreadable(q) if q and q.strip() else None
    return {"error": f"Cannot search for {q[:200]!r}: {reason}."} if reason else {}


def search_error(datasette: Any, request: Any, exception: Exception) -> Any:
    """A box search FTS5 cannot read (a safety net: ``stem_query`` gives it only queries FTS5 reads): 400 with
    a sentence and a link to the search query with the same words (in JSON for a JSON request); any other error is
    Datasette's to show. (The search query's own errors never reach here: Datasette shows a canned query's SQL error
    on its page.)"""
    detail = str(exception)
    searches = _searches(request)
    if not searches or UNREADABLE not in detail:
        return None
    database = (request.url_vars or {}).get("database")
    words = " ".join(searches.values())
    url = datasette.urls.path(f"/{database}/search?{urlencode({'q': words})}" if database else "/")
    title = "A search the index cannot read"
    if request.path.endswith(".json"):
        message = ADVICE.format(detail=detail, url=url)
        return Response.json({"ok": False, "error": message, "status": 400, "title": title}, status=400)

    async def page() -> Response:
        link = Markup(f'<a href="{escape(url)}">{escape(url)}</a>')
        error = Markup(escape(ADVICE).replace("{detail}", escape(detail)).replace("{url}", link))
        context = {"ok": False, "error": error, "status": 400, "title": title}
        return Response.html(await datasette.render_template("error.html", context, request=request), status=400)

    return page
