"""pa-archive's Datasette plugin: what no existing plugin does.

* ``/-/diff?a=...&b=...`` compares any two versions (article ``av-``, block ``bv-`` or
  snapshot) side by side with the word-level highlights of ``pa-archive diff --words``
  (``dedupe.diff``); ``/-/diff.json`` returns the same JSON as ``pa-archive diff --json``.
  With only ``b``, ``a`` is the version before it. Texts too large for difflib's word-level work
  (over 200 KB, 5,000 lines, a 5,000-character line, or too many words in the changed lines) get a
  plain line diff that says so: difflib runs outside Datasette's SQL time limit. Texts no page should
  compare (over 5 MB, or lines repeated so often that aligning them would cost more than
  ``dedupe.diff.MAX_LINE_PAIRS``) answer 400 before any matching, as does a malformed request; a
  version that is not there 404; each with a one-sentence error.
* ``/-/timeline`` draws each delegation's seat counts, per language, across snapshots as inline SVG
  (``/-/timeline.json`` for the data) from the "seat_counts" canned query's SQL, which
  returns only first values, changes and last values: a few rows for any archive.
* ``render_cell`` links version ids and version numbers to their diff.

Archived pages are hostile input: every text reaches the HTML through Jinja's autoescape
(``|safe`` is never used on page text) and the plugin's pages forbid inline scripts (CSP).
The archive is only read, through Datasette's read-only connections.
"""

from __future__ import annotations

import difflib
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from jinja2 import ChoiceLoader, FileSystemLoader
from markupsafe import Markup
from sqlite_utils import Database

from . import diff as difftools
from .archive import Archive, ArchiveError, Ref
from .datasette_metadata import SEAT_CHANGES_SQL, TIMELINE_AXIS_SQL

TEMPLATES = Path(__file__).with_name("templates")

# Only these reach Archive.resolve from the web: no file paths, nothing looked up on disk.
WEB_REF = re.compile(r"s?\d{1,12}|[ab]\d{1,12}|[ab]v-[0-9a-f]{4,64}|(?:https?|file)://\S{1,2000}")
VERSION_ID = re.compile(r"[ab]v-[0-9a-f]{4,64}")
VERSION_TABLES = {"article_versions", "block_versions"}
ID_COLUMNS = {"id", "version_id", "article_version_id", "block_version_id", "previous_version_id"}
CONTEXT_LINES = 3
# difflib runs in execute_fn, which Datasette's sql_time_limit_ms does not cover: beyond these the page
# is a plain line diff (common start and end, one aligned middle), without word-level highlights
MAX_DIFF_BYTES = 5_000_000  # of either text, UTF-8: larger texts are refused (400), before any matching
MAX_WORD_DIFF_BYTES = 200_000  # of either text, UTF-8
MAX_WORD_DIFF_LINES = 5_000  # of either text
MAX_WORD_DIFF_LINE_CHARS = 5_000  # of any one line
MAX_WORD_WORK = 4_000_000  # sum over changed line pairs of words(old) x words(new): difflib's cost, ~1 s
MAX_ALIGNED_LINES = 20_000  # a plain diff's middle longer than this is shown as removed, then added
MAX_SHOWN_CHARS = 5_000  # of one line on the page (the JSON has the whole line)
MAX_SHOWN_ROWS = 5_000  # rows of the page's table

# The plugin's pages run no inline script at all: a stored <script> that escaped escaping still would not run.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")


class ReadOnlyArchive(Archive):
    """``Archive``'s resolve/text_of/history over Datasette's read-only connection (no migration)."""

    def __init__(self, conn: sqlite3.Connection) -> None:  # noqa: D107 - deliberately skips Archive.__init__
        self.path = Path("")
        self.db = Database(conn, recursive_triggers=False)


def _row(line: difftools.LineRow, left: list | None, right: list | None) -> dict[str, Any]:
    """A row of the side-by-side page: its kind, line numbers and the highlighted runs of each side."""
    if line.tag == "equal":
        kind = "equal"
    else:
        kind = "changed" if line.old is not None and line.new is not None else ("deleted" if line.new is None else "inserted")
    return {"kind": kind, "ln_a": line.ln_a, "ln_b": line.ln_b, "left": left, "right": right}


# --- hooks ---------------------------------------------------------------------------


@hookimpl
def prepare_jinja2_environment(env: Any, datasette: Any) -> None:
    """Make dedupe/templates available, after Datasette's own and any --template-dir."""
    env.loader = ChoiceLoader([env.loader, FileSystemLoader(str(TEMPLATES))])


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    return [
        (r"^/-/diff(?P<as_json>\.json)?$", diff_view),
        (r"^/-/timeline(?P<as_json>\.json)?$", timeline_view),
    ]


@hookimpl
def menu_links(datasette: Any, actor: Any, request: Any) -> list[dict[str, str]]:
    return [
        {"href": datasette.urls.path("/-/timeline"), "label": "Seats timeline"},
        {"href": datasette.urls.path("/-/diff"), "label": "Compare two versions"},
    ]


@hookimpl
def table_actions(datasette: Any, actor: Any, database: str, table: str, request: Any) -> list[dict[str, str]] | None:
    if table in ("facts", "snapshot_facts", "fact_values", "conflicts", "blocks", "block_versions"):
        return [{"href": datasette.urls.path("/-/timeline") + "?" + urlencode({"database": database}),
                 "label": "Seats timeline"}]
    return None


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Markup | None:
    """Version numbers and version ids link to their diff; anything else is left to Datasette."""
    raw = value.get("value") if isinstance(value, dict) else value
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


def diff_href(datasette: Any, b: str, a: str | None = None, database: str | None = None) -> str:
    params = {k: v for k, v in (("a", a), ("b", b), ("database", database)) if v}
    return datasette.urls.path("/-/diff") + "?" + urlencode(params)


# --- which database --------------------------------------------------------------------


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


def _html(body: str, status: int = 200) -> Response:
    return Response.html(body, status=status, headers={"Content-Security-Policy": CSP,
                                                       "X-Content-Type-Options": "nosniff"})


# --- the diff page ----------------------------------------------------------------------


class DiffError(Exception):
    """A diff that cannot be shown (one sentence for the page); HTTP 404: what was asked for is not there."""

    status = 404


class BadDiffRequest(DiffError):
    """A request that names no version, or not in a form the page takes: HTTP 400."""

    status = 400


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    return text if text.endswith((".", "?", "!")) else text + "."


class FirstVersion(DiffError):
    """B has no version before it; ``later`` are the versions it can be compared with."""

    def __init__(self, message: str, ref: str, later: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.ref = ref
        self.later = later


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


def diff_data(conn: sqlite3.Connection, a: str | None, b: str | None) -> dict[str, Any]:
    """Both sides, the side-by-side rows and the CLI's structured diff (raises DiffError)."""
    archive = ReadOnlyArchive(conn)
    rb = _resolve(archive, b, "b")
    rb = _latest_version(archive, rb)
    if a:
        ra = _latest_version(archive, _resolve(archive, a, "a"))
    else:
        ra = _previous(archive, rb)
        if ra is None:
            later = [v for v in _siblings(archive, rb) if v["id"] != rb.id]
            raise FirstVersion(f"{rb.label} is the first version: there is nothing before it to compare with.",
                               rb.id, later)
    side_a, side_b = _side(archive, ra), _side(archive, rb)
    refuse_costly(side_a.text, side_b.text)
    plain = too_large_for_words(side_a.text, side_b.text)
    opcodes = None
    if not plain:
        la, lb = side_a.text.splitlines(), side_b.text.splitlines()
        opcodes = difftools.line_opcodes(la, lb)
        plain = too_many_words(la, lb, opcodes)
    if plain:
        rows, structured = plain_line_diff(side_a.text, side_b.text, ra.label, rb.label, plain)
    else:
        rows = side_by_side_rows(side_a.text, side_b.text, opcodes)
        structured = difftools.structured(side_a.text, side_b.text, ra.label, rb.label, opcodes)
    return {
        "a": side_a,
        "b": side_b,
        "rows": rows,
        "structured": structured,
        "plain": plain,
        "siblings": _siblings(archive, rb),
    }


def refuse_costly(a: str, b: str) -> None:
    """BadDiffRequest (400, one sentence) for texts too large to compare within a request: checked before any
    matching, since difflib runs in execute_fn, outside Datasette's SQL time limit."""
    for name, text in (("A", a), ("B", b)):
        size = len(text.encode("utf-8", "replace"))
        if size > MAX_DIFF_BYTES:
            raise BadDiffRequest(f"{name} is {size:,} bytes, more than the {MAX_DIFF_BYTES:,} this page compares; "
                                 "use pa-archive diff.")
    try:
        difftools.check_alignable(a.splitlines(), b.splitlines())
    except difftools.DiffTooLarge as exc:
        raise BadDiffRequest(str(exc)) from None


def too_large_for_words(a: str, b: str) -> str | None:
    """Why these texts get a plain line diff (one sentence), or None when a word-level diff is affordable."""
    for name, text in (("A", a), ("B", b)):
        size = len(text.encode("utf-8", "replace"))
        if size > MAX_WORD_DIFF_BYTES:
            return (f"{name} is {size:,} bytes (more than {MAX_WORD_DIFF_BYTES:,}): this is a plain line diff, "
                    "without word-level highlights.")
        lines = text.splitlines()
        if len(lines) > MAX_WORD_DIFF_LINES:
            return (f"{name} has {len(lines):,} lines (more than {MAX_WORD_DIFF_LINES:,}): this is a plain line "
                    "diff, without word-level highlights.")
        longest = max(map(len, lines), default=0)
        if longest > MAX_WORD_DIFF_LINE_CHARS:
            return (f"{name} has a line of {longest:,} characters (more than {MAX_WORD_DIFF_LINE_CHARS:,}): this is "
                    "a plain line diff, without word-level highlights.")
    return None


_WORDS = re.compile(r"\s+|[^\s]+")  # dedupe.diff's tokens


def too_many_words(la: list[str], lb: list[str], opcodes: list[tuple[str, int, int, int, int]]) -> str | None:
    """Why the changed line pairs are too costly to compare word by word (one sentence), or None."""
    work = 0
    for tag, i1, i2, j1, j2 in opcodes:
        if tag != "replace":
            continue  # a line only removed or only added costs nothing to compare
        for old, new in zip(la[i1:i2], lb[j1:j2]):
            work += len(_WORDS.findall(old)) * len(_WORDS.findall(new))
            if work > MAX_WORD_WORK:
                return ("The changed lines hold too many words to compare word by word: this is a plain line diff, "
                        "without word-level highlights.")
    return None


def plain_line_opcodes(la: list[str], lb: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes for a common start and end and a middle aligned only while it is small enough."""
    start = 0
    while start < len(la) and start < len(lb) and la[start] == lb[start]:
        start += 1
    end = 0
    while end < len(la) - start and end < len(lb) - start and la[-1 - end] == lb[-1 - end]:
        end += 1
    ma, mb = la[start:len(la) - end], lb[start:len(lb) - end]
    ops: list[tuple[str, int, int, int, int]] = [("equal", 0, start, 0, start)] if start else []
    if max(len(ma), len(mb)) <= MAX_ALIGNED_LINES:
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ma, mb).get_opcodes():
            ops.append((tag, i1 + start, i2 + start, j1 + start, j2 + start))
    else:
        if ma:
            ops.append(("delete", start, start + len(ma), start, start))
        if mb:
            ops.append(("insert", start + len(ma), start + len(ma), start, start + len(mb)))
    if end:
        ops.append(("equal", len(la) - end, len(la), len(lb) - end, len(lb)))
    return ops


def plain_line_diff(a: str, b: str, a_id: str, b_id: str, reason: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Side-by-side rows (whole lines, no word operations) and the structured diff's shape without ``words``."""
    la, lb = a.splitlines(), b.splitlines()
    rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    matched = 0
    for line in difftools.aligned_rows(la, lb, plain_line_opcodes(la, lb)):
        if line.tag == "equal":
            matched += 1
        else:
            changes.append({"old": line.old, "new": line.new})
        # whole lines: the row's colour marks them
        rows.append(_row(line, [("equal", line.old)] if line.old is not None else None,
                         [("equal", line.new)] if line.new is not None else None))
    total = len(la) + len(lb)
    structured = {"a": a_id, "b": b_id, "identical": a == b,
                  "line_similarity": round(2 * matched / total, 4) if total else 1.0,
                  "changes": changes, "word_level": False, "note": reason}
    return rows, structured


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


def _resolve(archive: Archive, ref: str | None, name: str) -> Ref:
    ref = (ref or "").strip()
    if not ref:
        raise BadDiffRequest(f"Give {name}: a version id (av-… or bv-…), a snapshot number, an article (a3) or a block (b1).")
    if not WEB_REF.fullmatch(ref):
        raise BadDiffRequest(f"{name} must be a version id (av-… or bv-…), a snapshot number (12), an article (a3), "
                        "a block (b1) or a URL.")
    try:
        return archive.resolve(ref)
    except ArchiveError as exc:
        raise DiffError(str(exc)) from None


def _latest_version(archive: Archive, ref: Ref) -> Ref:
    """An article or a block stands for its latest version."""
    table = {"article": ("article_versions", "article_id"), "block": ("block_versions", "block_id")}.get(ref.kind)
    if table is None:
        return ref
    row = archive.db.execute(
        f"SELECT id FROM [{table[0]}] WHERE [{table[1]}] = ? ORDER BY version DESC LIMIT 1", [ref.id]).fetchone()
    if row is None:
        raise DiffError(f"{ref.label} has no versions")
    kind = "article_version" if ref.kind == "article" else "block_version"
    return Ref(kind, row[0], row[0])


def _previous(archive: Archive, ref: Ref) -> Ref | None:
    """The version before ``ref`` (the URL's previous snapshot with content, for a snapshot)."""
    db = archive.db
    if ref.kind in ("article_version", "block_version"):
        table, parent = ("article_versions", "article_id") if ref.kind == "article_version" else ("block_versions", "block_id")
        row = db.execute(
            f"SELECT p.id FROM [{table}] v JOIN [{table}] p ON p.[{parent}] = v.[{parent}] AND p.version < v.version "
            "WHERE v.id = ? ORDER BY p.version DESC LIMIT 1", [ref.id]).fetchone()
        return Ref(ref.kind, row[0], row[0]) if row else None
    if ref.kind == "snapshot":
        row = db.execute(
            "SELECT p.id FROM snapshots s JOIN snapshots p ON p.url = s.url AND p.content_sha256 IS NOT NULL "
            "AND (p.observed_at < s.observed_at OR (p.observed_at = s.observed_at AND p.id < s.id)) "
            "WHERE s.id = ? ORDER BY p.observed_at DESC, p.id DESC LIMIT 1", [ref.id]).fetchone()
        return Ref("snapshot", str(row[0]), f"snapshot {row[0]}") if row else None
    return None


def _side(archive: Archive, ref: Ref) -> Side:
    try:
        text = archive.text_of(ref)
    except ArchiveError as exc:
        raise DiffError(str(exc)) from None
    db = archive.db
    if ref.kind == "article_version":
        r = db.execute("SELECT version, article_id, title, first_seen, last_seen, snapshots "
                       "FROM article_versions WHERE id = ?", [ref.id]).fetchone()
        return Side(ref.id, ref.kind, ref.label, text, r[0], f"a{r[1]}", r[2], r[3], r[4], r[5])
    if ref.kind == "block_version":
        r = db.execute("SELECT bv.version, bv.block_id, b.name, bv.first_seen, bv.last_seen, bv.snapshots "
                       "FROM block_versions bv JOIN blocks b ON b.id = bv.block_id WHERE bv.id = ?", [ref.id]).fetchone()
        return Side(ref.id, ref.kind, ref.label, text, r[0], f"b{r[1]}", f"block b{r[1]}: {r[2]}…", r[3], r[4], r[5])
    r = db.execute("SELECT url, observed_at FROM snapshots WHERE id = ?", [ref.id]).fetchone()
    return Side(f"s{ref.id}", ref.kind, ref.label, text, None, None, None, r[1], r[1], 1, r[0])


def _siblings(archive: Archive, ref: Ref) -> list[dict[str, Any]]:
    """Every version of the same article or block, for the "compare with" links."""
    if ref.kind == "article_version":
        sql = ("SELECT o.id, o.version, o.first_seen FROM article_versions v JOIN article_versions o "
               "ON o.article_id = v.article_id WHERE v.id = ? ORDER BY o.version")
    elif ref.kind == "block_version":
        sql = ("SELECT o.id, o.version, o.first_seen FROM block_versions v JOIN block_versions o "
               "ON o.block_id = v.block_id WHERE v.id = ? ORDER BY o.version")
    else:
        return []
    return [{"id": r[0], "version": r[1], "first_seen": r[2]} for r in archive.db.execute(sql, [ref.id]).fetchall()]


def side_by_side_rows(a: str, b: str, opcodes: list[tuple[str, int, int, int, int]] | None = None
                      ) -> list[dict[str, Any]]:
    """Aligned rows: equal lines once on each side, changed lines paired as in
    ``dedupe.diff.changed_line_pairs`` with ``dedupe.diff.word_ops`` on each pair.

    A row is {"kind": 'equal'|'changed'|'deleted'|'inserted', "ln_a", "ln_b",
    "left": [(op, text), ...] or None, "right": [...] or None}.
    """
    rows: list[dict[str, Any]] = []
    for line in difftools.aligned_rows(a.splitlines(), b.splitlines(), opcodes):
        if line.tag == "equal":
            rows.append(_row(line, [("equal", line.old)], [("equal", line.new)]))
            continue
        ops = difftools.word_ops(line.old or "", line.new or "")
        rows.append(_row(line, [(op.op, op.text) for op in ops if op.op != "insert"] if line.old is not None else None,
                         [(op.op, op.text) for op in ops if op.op != "delete"] if line.new is not None else None))
    return rows


def collapse(rows: list[dict[str, Any]], context: int = CONTEXT_LINES) -> list[dict[str, Any]]:
    """Keep ``context`` equal rows around each change; runs beyond become one 'skip' row."""
    changed = [i for i, r in enumerate(rows) if r["kind"] != "equal"]
    keep = {j for i in changed for j in range(i - context, i + context + 1)}
    out: list[dict[str, Any]] = []
    skipped = 0
    for i, row in enumerate(rows):
        if row["kind"] != "equal" or i in keep:
            if skipped:
                out.append({"kind": "skip", "count": skipped})
                skipped = 0
            out.append(row)
        else:
            skipped += 1
    if skipped:
        out.append({"kind": "skip", "count": skipped})
    return out


async def diff_view(datasette: Any, request: Any) -> Response:
    as_json = bool(request.url_vars.get("as_json"))
    try:
        db = await archive_database(datasette, request)
    except NotFound as exc:
        if as_json:
            return Response.json({"error": _sentence(exc.args[0] if exc.args else "Not found")}, status=404)
        raise
    a, b = request.args.get("a"), request.args.get("b")
    show_all = request.args.get("context") == "all"
    context: dict[str, Any] = {"database": db.name, "a_param": a or "", "b_param": b or "", "error": None,
                               "show_all": show_all}
    status = 200
    if not a and not b:
        if as_json:
            return Response.json({"error": "Give b (and optionally a): a version id (av-… or bv-…), a snapshot "
                                           "number, an article (a3) or a block (b1)."}, status=400)
        context["recent"] = (await db.execute(
            "SELECT bv.id, bv.version, bv.block_id, bv.first_seen FROM block_versions bv "
            "ORDER BY bv.first_seen DESC, bv.version DESC LIMIT 20")).rows
    else:
        try:
            data = await db.execute_fn(lambda conn: diff_data(conn, a, b))
        except DiffError as exc:
            if as_json:
                return Response.json({"error": _sentence(str(exc))}, status=exc.status)
            context["error"] = _sentence(str(exc))
            if isinstance(exc, FirstVersion):
                context["compare"] = [{**v, "href": diff_href(datasette, a=exc.ref, b=v["id"], database=db.name)}
                                      for v in exc.later]
            status = exc.status
        else:
            if as_json:
                return Response.json(data["structured"])
            rows = data["rows"]
            context.update(data)
            context["rows"], context["rows_left_out"] = shown(rows if show_all else collapse(rows))
            context["changed_count"] = sum(r["kind"] != "equal" for r in rows)
            context["a_href"] = _side_href(datasette, db.name, data["a"])
            context["b_href"] = _side_href(datasette, db.name, data["b"])
            context["links"] = {
                "all": diff_href(datasette, a=data["a"].ref, b=data["b"].ref, database=db.name) + "&context=all",
                "changes": diff_href(datasette, a=data["a"].ref, b=data["b"].ref, database=db.name),
                "json": datasette.urls.path("/-/diff.json") + "?" + urlencode({"a": data["a"].ref, "b": data["b"].ref,
                                                                             "database": db.name}),
                "swap": diff_href(datasette, a=data["b"].ref, b=data["a"].ref, database=db.name),
            }
            context["compare"] = [
                {**s, "href": diff_href(datasette, a=s["id"], b=data["b"].ref, database=db.name)}
                for s in data["siblings"] if s["id"] != data["b"].ref
            ]
    context["diff_path"] = datasette.urls.path("/-/diff")
    body = await datasette.render_template("pa_diff.html", context, request=request)
    return _html(body, status)


def _side_href(datasette: Any, database: str, side: Side) -> str:
    if side.kind == "article_version":
        return datasette.urls.row(database, "article_versions", side.ref)
    if side.kind == "block_version":
        return datasette.urls.row(database, "block_versions", side.ref)
    return datasette.urls.row(database, "snapshots", side.ref.lstrip("s"))


# --- the seats timeline -------------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT = 760, 150
MARGIN = {"left": 46, "right": 44, "top": 26, "bottom": 34}
COLOURS = ["#1f4e79", "#c77c02", "#2e8540", "#8e44ad", "#7f7f7f"]
MAX_TICKS = 6
MAX_LABELLED_CHANGES = 12  # a series that flips more often gets red dots without "7 → 6" labels
MAX_LISTED_CHANGES = 50  # per delegation in the table under its chart; the seat_counts query has all
TIMELINE_TIME_LIMIT_MS = 30_000  # the window query reads every snapshot's facts once


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def timeline_data(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Series per delegation, language and field from SEAT_CHANGES_SQL rows (first value, changes, last value).

    One panel per delegation and language: the English and the Russian site state their facts
    separately (and may disagree), so each is its own line, never one alternating between them.
    """
    panels: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    changes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        value = _int(r["value"])
        if value is None:
            continue  # a seat count that is not a number is not drawn (the seat_counts query shows it)
        key = (r["delegation"], r.get("language") or "")
        point = {"x": r["x"], "value": value, "snapshot_id": r["snapshot_id"], "observed_at": r["observed_at"],
                 "block_version_id": r["block_version_id"]}
        before = _int(r["previous_value"]) if r["kind"] == "change" else None
        if before is not None:
            point["changed_from"] = before
            changes.setdefault(key, []).append({
                "field": r["field"],
                "from": {"value": before, "snapshot_id": r["previous_snapshot_id"],
                         "observed_at": r["previous_observed_at"], "block_version_id": r["previous_block_version_id"]},
                "to": point,
            })
        panels.setdefault(key, {}).setdefault(r["field"], []).append(point)
    return {
        "snapshots": rows[0]["n"] if rows else 0,
        "delegations": [
            {"delegation": name, "language": language,
             "series": [{"field": f, "language": language, "points": points} for f, points in fields.items()],
             "changes": changes.get((name, language), [])}
            for (name, language), fields in sorted(panels.items())
        ],
    }


def chart(panel: dict[str, Any], n: int) -> dict[str, Any]:
    """Coordinates for one delegation's SVG: scaled points, step paths and y ticks."""
    values = [p["value"] for s in panel["series"] for p in s["points"]]
    low, high = min(values), max(values)
    if low == high:
        low, high = low - 1, high + 1
    pad = max(1, round((high - low) * 0.15))
    low, high = max(0, low - pad), high + pad
    plot_w = CHART_WIDTH - MARGIN["left"] - MARGIN["right"]
    plot_h = CHART_HEIGHT - MARGIN["top"] - MARGIN["bottom"]

    def x(i: int) -> float:
        return round(MARGIN["left"] + (plot_w / 2 if n < 2 else plot_w * i / (n - 1)), 1)

    def y(v: float) -> float:
        return round(MARGIN["top"] + plot_h * (high - v) / (high - low), 1)

    step = max(1, round((high - low) / 4))
    lines = []
    for k, s in enumerate(panel["series"]):
        # a step line: each value holds until the snapshot that states another
        path = "".join(f"M{x(p['x'])},{y(p['value'])}" if j == 0 else f"H{x(p['x'])}V{y(p['value'])}"
                       for j, p in enumerate(s["points"]))
        dots = [{**p, "cx": x(p["x"]), "cy": y(p["value"]), "changed": "changed_from" in p} for p in s["points"]]
        lines.append({"field": s["field"], "colour": COLOURS[k % len(COLOURS)], "path": path, "dots": dots,
                      "total": s["field"] == "seats_total",
                      "labelled": sum(d["changed"] for d in dots) <= MAX_LABELLED_CHANGES})
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "lines": lines,
            "y_ticks": [{"value": v, "y": y(v)} for v in range(int(low), int(high) + 1, step)],
            "x0": MARGIN["left"], "x1": CHART_WIDTH - MARGIN["right"], "y_base": CHART_HEIGHT - MARGIN["bottom"],
            "x_of": x}


def change_summary(panel: dict[str, Any], spelled_out: int = 4) -> list[str]:
    """One phrase per changed field: "seats_total 7 → 6", or a count when it flipped often."""
    phrases = []
    for series in panel["series"]:
        changed = [p for p in series["points"] if "changed_from" in p]
        if not changed:
            continue
        if len(changed) <= spelled_out:
            steps = [changed[0]["changed_from"]] + [p["value"] for p in changed]
            phrases.append(f"{series['field']} " + " → ".join(str(v) for v in steps))
        else:
            values = sorted({p["value"] for p in series["points"]})
            phrases.append(f"{series['field']} changed {len(changed)} times between "
                           f"{', '.join(str(v) for v in values)}, last {series['points'][-1]['value']}")
    return phrases


def tick_step(n: int) -> int:
    """Every how many snapshots an x tick goes, for at most MAX_TICKS of them."""
    return max(1, -(-(n - 1) // (MAX_TICKS - 1)))


def x_ticks(axis: list[dict[str, Any]], x_of: Any, step: int) -> list[dict[str, Any]]:
    """Ticks at the axis rows, without a regular tick crowding the last one."""
    last = axis[-1]["x"] if axis else 0
    kept = [a for a in axis if a["x"] == last or last - a["x"] >= step / 2]
    return [{"x": x_of(a["x"]), "label": f"s{a['snapshot_id']}", "date": a["observed_at"][:10]} for a in kept]


async def timeline_view(datasette: Any, request: Any) -> Response:
    as_json = bool(request.url_vars.get("as_json"))
    db = await archive_database(datasette, request)
    wanted = request.args.get("delegation") or ""
    results = await db.execute(SEAT_CHANGES_SQL, {"delegation": wanted}, custom_time_limit=TIMELINE_TIME_LIMIT_MS)
    data = timeline_data([dict(r) for r in results.rows])
    if as_json:
        return Response.json(data)
    n = data["snapshots"]
    step = tick_step(n)
    axis = [dict(r) for r in (await db.execute(TIMELINE_AXIS_SQL, {"delegation": wanted, "step": step},
                                                custom_time_limit=TIMELINE_TIME_LIMIT_MS)).rows]
    panels = []
    for number, panel in enumerate(data["delegations"], start=1):
        drawing = chart(panel, n)
        drawing["x_ticks"] = x_ticks(axis, drawing.pop("x_of"), step)
        panel["summary"] = change_summary(panel)
        panel["listed_changes"] = panel["changes"][:MAX_LISTED_CHANGES]
        panel["more_changes"] = len(panel["changes"]) - len(panel["listed_changes"])
        for change in panel["listed_changes"]:
            change["diff_href"] = diff_href(datasette, a=change["from"]["block_version_id"],
                                            b=change["to"]["block_version_id"], database=db.name)
            change["from_href"] = datasette.urls.row(db.name, "snapshots", str(change["from"]["snapshot_id"]))
            change["to_href"] = datasette.urls.row(db.name, "snapshots", str(change["to"]["snapshot_id"]))
        panels.append({**panel, "chart": drawing, "anchor": f"delegation-{number}"})
    context = {
        "database": db.name,
        "panels": panels,
        "snapshot_count": n,
        "delegation": wanted,
        "all_delegations": [r[0] for r in (await db.execute(
            "SELECT DISTINCT delegation FROM facts WHERE field = 'seats_total' ORDER BY delegation")).rows],
        "snapshot_href": lambda sid: datasette.urls.row(db.name, "snapshots", str(sid)),
        "timeline_path": datasette.urls.path("/-/timeline"),
        "seat_counts_href": datasette.urls.query(db.name, "seat_counts"),
        "json_href": datasette.urls.path("/-/timeline.json") + "?" + urlencode(
            {k: v for k, v in (("database", db.name), ("delegation", wanted)) if v}),
    }
    body = await datasette.render_template("pa_timeline.html", context, request=request)
    return _html(body)
