"""The diff page: ``/-/diff`` (side by side, word-level highlights) and ``/-/diff.json``.

With only ``b``, ``a`` is the version before it. Texts too large for difflib's word-level work
(over 200 KB, 5,000 lines, a 5,000-character line, or too many words in the changed lines) get a
plain line diff that says so, as do texts whose line matching exceeds ``dedupe.analysis.diff.MAX_MATCH_WORK``:
difflib runs outside Datasette's SQL time limit, so its work is bounded, and it runs in a small pool
of its own (``DIFF_WORKERS``), off the event loop and off the SQL threads every page needs. Texts no page should
compare (over 5 MB, or lines repeated so often that aligning them would cost more than
``dedupe.analysis.diff.MAX_LINE_PAIRS``) answer 400 before any matching, as does a malformed request; a
version that is not there 404; each with a one-sentence error. The algorithms are ``dedupe.analysis.diff``'s,
version navigation is ``dedupe.archive``'s.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import Response

from datasette_pa_archive.errors import BadParameter, echo, json_error, param
from datasette_pa_archive.pages import MAX_URL_CHARS, archive_database, diff_href, html_response, snapshot_row_href
from dedupe import page_queries
from dedupe.analysis import diff as difftools
from dedupe.archive import ArchiveError, ReadOnlyArchive, Ref

# Only these reach Archive.resolve from the web: no file paths, nothing looked up on disk. A URL as long as the
# archive stores (MAX_URL_CHARS, what imports accept), so every stored URL can be compared by its address.
WEB_REF = re.compile(rf"s?\d{{1,12}}|[ab]\d{{1,12}}|[ab]v-[0-9a-f]{{4,64}}|(?:https?|file)://\S{{1,{MAX_URL_CHARS}}}")
MAX_SHOWN_CHARS = 5_000  # of one line on the page (the JSON has the whole line)
MAX_SHOWN_ROWS = 5_000  # rows of the page's table
MAX_REF_CHARS = MAX_URL_CHARS  # of a or b: the longest reference is a stored URL
CONTEXT_CHOICES = {"all": "every line, not only the changed ones and a few around them"}


class DiffError(Exception):
    """A diff that cannot be shown (one sentence for the page); HTTP 404: what was asked for is not there."""

    status = 404


class BadDiffRequest(DiffError):
    """A request that names no version, or not in a form the page takes: HTTP 400."""

    status = 400


def sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "?", "!")) else text + "."


NOTHING_BEFORE = "nothing before it"  # side A of a first version's page: the links to it show it whole


@dataclass
class Side:
    """One side of a diff: what it is, where it lives, its text."""

    ref: str
    kind: str
    label: str
    text: str
    version: int | None = None
    parent: str | None = None  # 'a3' or 'b1'
    title: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    snapshots: int | None = None
    url: str | None = None


def read_sides(conn: sqlite3.Connection, a: str | None, b: str | None) -> dict[str, Any]:
    """Both sides and B's siblings, read from the archive (raises DiffError): the part that needs SQL."""
    archive = ReadOnlyArchive(conn)
    rb = latest_version(archive, resolve(archive, b, "b"))
    if a:
        ra = latest_version(archive, resolve(archive, a, "a"))
    else:
        ra = archive.previous_version(rb)
        if ra is None:  # a first version: shown whole, against nothing (every line added), not as an error
            side_b = read_side(archive, rb)
            return {
                "a": Side("", side_b.kind, NOTHING_BEFORE, ""),
                "b": side_b,
                "labels": (NOTHING_BEFORE, rb.label),
                "siblings": archive.sibling_versions(rb),
                "first": True,
            }
    return {
        "a": read_side(archive, ra),
        "b": read_side(archive, rb),
        "labels": (ra.label, rb.label),
        "siblings": archive.sibling_versions(rb),
    }


def compare(sides: dict[str, Any]) -> dict[str, Any]:
    """The diff of two sides read by ``read_sides``: no SQL, bounded work (``dedupe.analysis.diff``'s budgets)."""
    side_a, side_b = sides["a"], sides["b"]
    label_a, label_b = sides["labels"]
    try:
        difftools.check_comparable(side_a.text, side_b.text)
    except difftools.DiffTooLarge as exc:
        raise BadDiffRequest(str(exc)) from None
    plain = difftools.too_large_for_words(side_a.text, side_b.text)
    opcodes = None
    if not plain:
        la, lb = side_a.text.splitlines(), side_b.text.splitlines()
        try:
            opcodes = difftools.line_opcodes(la, lb, budget=difftools.MAX_MATCH_WORK)
        except difftools.MatchBudgetExceeded:
            plain = (
                "The texts' lines match only in short runs, too many to align word by word here: this is a "
                "plain line diff, without word-level highlights."
            )
        else:
            plain = difftools.too_many_words(la, lb, opcodes)
    if plain:
        rows, structured = difftools.plain_line_diff(side_a.text, side_b.text, label_a, label_b, plain)
    else:
        rows = difftools.side_by_side_rows(side_a.text, side_b.text, opcodes)
        structured = difftools.structured(side_a.text, side_b.text, label_a, label_b, opcodes)
    first = sides.get("first", False)
    if first:  # nothing to name on side A; say why every line is new
        structured = {**structured, "a": None, "first_version": True}
    return {
        "a": side_a,
        "b": side_b,
        "rows": rows,
        "structured": structured,
        "plain": plain,
        "siblings": sides["siblings"],
        "first": first,
    }


# Diffs are computed here, not on the event loop nor in Datasette's SQL threads (which every page needs):
# at most DIFF_WORKERS at once, each bounded in work; more requests wait their turn.
DIFF_WORKERS = 2
_DIFFS = ThreadPoolExecutor(max_workers=DIFF_WORKERS, thread_name_prefix="pa-diff")


async def computed(sides: dict[str, Any]) -> dict[str, Any]:
    return await asyncio.get_running_loop().run_in_executor(_DIFFS, compare, sides)


def shown(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The page's rows with very long lines cut, at most MAX_SHOWN_ROWS of them; and how many were left out."""
    out = []
    for row in rows[:MAX_SHOWN_ROWS]:
        for side in ("left", "right"):
            parts = row.get(side)
            if parts and sum(len(text) for _, text in parts) > MAX_SHOWN_CHARS:
                kept, room = [], MAX_SHOWN_CHARS
                for op, text in parts:
                    if room <= 0:
                        break
                    kept.append((op, text[:room]))
                    room -= len(text)
                cut = sum(len(text) for _, text in parts) - MAX_SHOWN_CHARS
                row = {**row, side: kept + [("equal", f" … ({cut:,} more characters)")]}
        out.append(row)
    return out, max(0, len(rows) - MAX_SHOWN_ROWS)


def resolve(archive: ReadOnlyArchive, ref: str | None, name: str) -> Ref:
    """A reference from the request (only what ``WEB_REF`` allows), resolved: BadDiffRequest (400) when missing or
    not in a form the page takes, DiffError (404) when well-formed but not in the archive, each naming ``name``."""
    ref = (ref or "").strip()
    if not ref:
        raise BadDiffRequest(
            f"Give {name}: a version id (av-… or bv-…), a snapshot number, an article (a3) or a block (b1)."
        )
    kind = {"av-": "article version", "bv-": "block version"}.get(ref[:3].lower())
    if kind and not WEB_REF.fullmatch(ref):
        raise BadDiffRequest(
            f"{name} {echo(ref)} is not a {kind} id: {ref[:3].lower()} and 4 to 64 hexadecimal digits."
        )
    if not WEB_REF.fullmatch(ref):
        raise BadDiffRequest(
            f"{name} {echo(ref)} is not a version id (av-… or bv-…), a snapshot number (12), an article (a3), "
            "a block (b1) or a URL."
        )
    try:
        return archive.resolve(ref)
    except ArchiveError as exc:
        raise DiffError(f"{name}: {exc}") from None


def latest_version(archive: ReadOnlyArchive, ref: Ref) -> Ref:
    """An article or a block stands for its latest version; DiffError when it has none."""
    version = archive.latest_version(ref)
    if version is None:
        raise DiffError(f"{ref.label} has no versions")
    return version


def read_side(archive: ReadOnlyArchive, ref: Ref) -> Side:
    """One side of the diff: its text and what the page says about it."""
    try:
        text = archive.text_of(ref)
    except ArchiveError as exc:
        raise DiffError(str(exc)) from None
    db = archive.db
    if ref.kind == "article_version":
        r = db.execute(page_queries.ARTICLE_VERSION_SIDE_SQL, [ref.id]).fetchone()
        return Side(ref.id, ref.kind, ref.label, text, r[0], f"a{r[1]}", r[2], r[3], r[4], r[5])
    if ref.kind == "block_version":
        r = db.execute(page_queries.BLOCK_VERSION_SIDE_SQL, [ref.id]).fetchone()
        return Side(ref.id, ref.kind, ref.label, text, r[0], f"b{r[1]}", f"block b{r[1]}: {r[2]}…", r[3], r[4], r[5])
    r = db.execute(page_queries.SNAPSHOT_SIDE_SQL, [ref.id]).fetchone()
    return Side(f"s{ref.id}", ref.kind, ref.label, text, None, None, None, r[1], r[1], 1, r[0])


async def diff_view(datasette: Any, request: Any) -> Response:
    """Errors: a missing or malformed a or b, an unknown context, a pair too costly to compare: 400; a version that
    is not there, or none before b: 404. The .json answers them in Datasette's JSON error shape; the page says them
    above its form (``errors``)."""
    as_json = bool(request.url_vars.get("as_json"))
    db = await archive_database(datasette, request)  # errors.client_error answers its 404, in JSON for the .json
    context: dict[str, Any] = {"database": db.name, "a_param": "", "b_param": "", "error": None, "show_all": False}
    context["diff_path"] = datasette.urls.path("/-/diff")
    try:
        context["show_all"] = param(request, "context", 3, CONTEXT_CHOICES) == "all"
        a, b = param(request, "a", MAX_REF_CHARS), param(request, "b", MAX_REF_CHARS)
    except BadParameter as exc:
        if as_json:
            raise
        context["error"] = exc.message
        return html_response(await datasette.render_template("pa_diff.html", context, request=request), exc.status)
    context["a_param"], context["b_param"] = a, b
    show_all = context["show_all"]
    status = 200
    if not a and not b:
        if as_json:
            return json_error(
                "Give b (and optionally a): a version id (av-… or bv-…), a snapshot number, an article (a3) or a "
                "block (b1).",
                400,
            )
        context["recent"] = (await db.execute(page_queries.RECENT_BLOCK_VERSIONS_SQL)).rows
    else:
        try:
            data = await computed(await db.execute_fn(lambda conn: read_sides(conn, a, b)))
        except DiffError as exc:
            if as_json:
                return json_error(sentence(str(exc)), exc.status)
            context["error"] = sentence(str(exc))
            status = exc.status
        else:
            if as_json:
                return Response.json(data["structured"])
            rows = data["rows"]
            context.update(data)
            context["rows"], context["rows_left_out"] = shown(rows if show_all else difftools.collapse(rows))
            context["changed_count"] = sum(r["kind"] != "equal" for r in rows)
            first = data["first"]
            a_ref = None if first else data["a"].ref
            context["a_href"] = None if first else side_href(datasette, db.name, data["a"])
            context["b_href"] = side_href(datasette, db.name, data["b"])
            context["links"] = {
                "all": diff_href(datasette, a=a_ref, b=data["b"].ref, database=db.name) + "&context=all",
                "changes": diff_href(datasette, a=a_ref, b=data["b"].ref, database=db.name),
                "json": datasette.urls.path("/-/diff.json")
                + "?"
                + urlencode({**({"a": a_ref} if a_ref else {}), "b": data["b"].ref, "database": db.name}),
                "swap": None if first else diff_href(datasette, a=data["b"].ref, b=a_ref, database=db.name),
            }
            context["compare"] = [
                {**s, "href": diff_href(datasette, a=s["id"], b=data["b"].ref, database=db.name)}
                for s in data["siblings"]
                if s["id"] != data["b"].ref
            ]
    body = await datasette.render_template("pa_diff.html", context, request=request)
    return html_response(body, status)


def side_href(datasette: Any, database: str, side: Side) -> str:
    if side.kind == "article_version":
        return datasette.urls.row(database, "article_versions", side.ref)
    if side.kind == "block_version":
        return datasette.urls.row(database, "block_versions", side.ref)
    return snapshot_row_href(datasette, database, side.ref.lstrip("s"))
