"""Cells Datasette would show raw: JSON columns as small tables, snapshots and conflict values as links.

* ``snapshots.headers``, ``crawl_runs.stats`` / ``errors`` / ``start_urls``: a table of keys and
  values (nested values as compact JSON), not a wall of JSON;
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
MAX_ITEMS = 60  # keys shown of one JSON object (the row's JSON has them all)


def json_table(data: Any) -> Markup:
    """A JSON object or list as an HTML table of its items (every text escaped)."""
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data))
    else:
        return Markup("{}").format(json.dumps(data, ensure_ascii=False))
    rows = Markup("")
    for key, value in items[:MAX_ITEMS]:
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        rows += Markup("<tr><th>{}</th><td>{}</td></tr>").format(key, shown)
    more = len(items) - MAX_ITEMS
    if more > 0:
        rows += Markup('<tr><td colspan="2">… {} more</td></tr>').format(more)
    return Markup('<table class="pa-json">{}</table>').format(rows)


def render_json_cell(raw: Any, column: str, table: str | None) -> Markup | None:
    if (table, column) not in JSON_COLUMNS or not isinstance(raw, str) or not raw.strip():
        return None
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if data in ({}, []):
        return Markup('<span class="pa-muted">none</span>')
    return json_table(data)


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
