"""Cells Datasette would show raw: JSON columns folded, snapshots and conflict values as links.

* ``snapshots.headers``, ``crawl_runs.stats`` / ``errors`` / ``start_urls``: one folded line (a digest:
  "38 s · 1 facts changed", "9 headers · text/html"), opening on "key: value" lines, capped;
* a snapshot id (``snapshot_id`` anywhere, ``id`` of ``snapshots``): a link to ``/-/snapshot/<id>``;
* a block variant's ``snapshots`` count: a link to the snapshots showing it, with URL and date;
* a value of the ``conflicts`` view (or the "conflicting_facts" query): a link to its evidence.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup

JSON_COLUMNS = {
    ("snapshots", "headers"),
    ("crawl_runs", "stats"),
    ("crawl_runs", "errors"),
    ("crawl_runs", "start_urls"),
}
MAX_LINES = 40  # "key: value" lines shown of one JSON cell (the row's JSON has them all)
MAX_VALUE = 120  # characters of one value
DEPTH = 2  # nested objects are flattened to "a.b: value" this deep, deeper ones shown as compact JSON


def _compact(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def json_lines(data: Any, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
    """(key, value) lines of a JSON object or list, nested objects flattened to dotted keys."""
    items = list(data.items()) if isinstance(data, dict) else list(enumerate(data))
    lines: list[tuple[str, str]] = []
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value and depth + 1 < DEPTH:
            lines += json_lines(value, name + ".", depth + 1)
        elif isinstance(value, list) and value and all(not isinstance(v, (dict, list)) for v in value):
            lines.append((name, _compact(", ".join(str(v) for v in value))))
        elif isinstance(value, dict) and isinstance(data, list) and {"url", "error"} <= value.keys():
            lines.append((str(value.get("url") or "(run)"), _compact(value.get("error"))))
        else:
            lines.append((name, _compact(value)))
    return lines


def digest(data: Any, column: str) -> str:
    """The folded cell's one line: what a person looks for first in this column."""
    if column == "stats" and isinstance(data, dict):
        parts = []
        if isinstance(data.get("elapsed_seconds"), (int, float)):
            parts.append(f"{data['elapsed_seconds']:.0f} s")
        counts = (data.get("changes") or {}).get("counts") or {}
        for key, label in (
            ("new_articles", "new articles"),
            ("changed_facts", "facts changed"),
            ("new_block_versions", "new block variants"),
            ("new_conflicts", "new conflicts"),
            ("removed_articles", "removed articles"),
        ):
            if counts.get(key):
                parts.append(f"{counts[key]} {label}")
        return " · ".join(parts) or f"{len(data)} keys"
    if column == "errors" and isinstance(data, list):
        first = data[0] if data and isinstance(data[0], dict) else {}
        return f"{len(data)} error(s)" + (f": {_compact(first.get('error'))[:48]}" if first.get("error") else "")
    if column == "headers" and isinstance(data, dict):
        kind = next((v for k, v in data.items() if str(k).lower() == "content-type"), None)
        return f"{len(data)} headers" + (f" · {str(kind)[:32]}" if kind else "")
    return f"{len(data)} keys" if isinstance(data, dict) else f"{len(data)} items"


def json_table(data: Any, column: str = "") -> Markup:
    """A JSON object or list as a folded cell: one summary line, then "key: value" lines (every text escaped).

    Folded, because a run's stats hold a hundred keys and nested lists: rendered whole, as nested
    tables, in a table's narrow column, three runs made a page 187,000 pixels tall."""
    if not isinstance(data, (dict, list)):
        return Markup("{}").format(json.dumps(data, ensure_ascii=False))
    if isinstance(data, list) and all(isinstance(v, str) for v in data) and len(", ".join(data)) <= 80:
        return Markup('<span class="pa-json-inline">{}</span>').format(", ".join(data))
    lines = json_lines(data)
    body = Markup("").join(
        Markup('<div><span class="pa-json-key">{}</span>: {}</div>').format(key, value)
        for key, value in lines[:MAX_LINES]
    )
    if len(lines) > MAX_LINES:
        body += Markup('<div class="pa-muted">… {} more (the row\'s JSON has them all)</div>').format(
            len(lines) - MAX_LINES
        )
    return Markup('<details class="pa-json"><summary>{}</summary><div class="pa-json-lines">{}</div></details>').format(
        digest(data, column), body
    )


def render_json_cell(raw: Any, column: str, table: str | None) -> Markup | None:
    if (table, column) not in JSON_COLUMNS or not isinstance(raw, str) or not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if data in ({}, []):
        return Markup('<span class="pa-muted">none</span>')
    return json_table(data, column)


CONFLICT_COLUMNS = {"language", "delegation", "field", "value", "snapshots", "first_seen", "last_seen"}


def is_conflict_row(row: Any, table: str | None) -> bool:
    """A row of the conflicts view, or of a canned query with its columns ("conflicting_facts")."""
    if table == "conflicts":
        return True
    try:
        return table is None and set(row.keys()) >= CONFLICT_COLUMNS
    except AttributeError:
        return False


def render_link_cell(
    raw: Any, row: Any, column: str, table: str | None, database: str, datasette: Any, cell: Any
) -> Markup | None:
    if isinstance(raw, int) and (column == "snapshot_id" or (table == "snapshots" and column == "id")):
        href = datasette.urls.path(f"/-/snapshot/{raw}") + "?" + urlencode({"database": database})
        return Markup('<a class="pa-snapshot-link" href="{}">s{}</a>').format(href, raw)
    if table == "block_versions" and column == "snapshots" and isinstance(raw, int):
        version_id = cell(row, "id")
        if isinstance(version_id, str):
            href = datasette.urls.query(database, "block_version_snapshots") + "?" + urlencode({"id": version_id})
            return Markup('<a href="{}">{} snapshots</a>').format(href, raw)
    if column == "value" and isinstance(raw, str) and is_conflict_row(row, table):
        parts = [cell(row, "language") or "", cell(row, "delegation"), cell(row, "field")]
        if all(isinstance(p, str) for p in parts):
            anchor = "-".join(p.replace(" ", "_") for p in parts)
            href = datasette.urls.path("/-/conflicts") + "?" + urlencode({"database": database}) + "#" + anchor
            return Markup('<a class="pa-evidence-link" href="{}">{}</a> <small>(evidence)</small>').format(href, raw)
    return None
