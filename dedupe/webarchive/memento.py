"""Memento (RFC 7089): the archive's observations of one URL as a TimeMap.

Why: Memento is how web-archive tools ask "which copies of this URL exist, and when?"; a
TimeMap in link format (or JSON) lets them, and scripts, list this archive's copies beside the
Wayback Machine's. Each observation that has a content (a 200, a page seen again, a 304 that
re-links the stored copy) is a memento; a removal or a failed fetch is not.

Memento URIs point where the copy can be seen: by default the snapshot's page in the archive's
Datasette (`pa-archive serve`, ``<datasette>/-/snapshot/<id>?database=<db name>``: the archived copy,
its article version and block variants, not the raw row); with a replay prefix
(a pywb collection the archive was exported to), ``<prefix>/<YYYYMMDDhhmmss>/<url>``.
"""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

MEMENTOS_SQL = """
SELECT s.id AS snapshot_id, s.url, s.observed_at, s.http_status, s.status, s.content_sha256,
       ca.article_version_id
FROM snapshots s LEFT JOIN pages cp ON cp.content_sha256 = s.content_sha256
LEFT JOIN content_articles ca ON ca.page_id = cp.rowid
WHERE s.url = :url AND s.content_sha256 IS NOT NULL
ORDER BY s.observed_at, s.id
"""


def http_date(observed_at: str) -> str:
    """RFC 1123 date (Memento's datetime) of the archive's ISO UTC time."""
    moment = datetime.fromisoformat(observed_at.replace("Z", "+00:00")).astimezone(timezone.utc)
    return format_datetime(moment, usegmt=True)


def timestamp14(observed_at: str) -> str:
    """YYYYMMDDhhmmss: the Wayback/pywb form of a capture time."""
    return "".join(ch for ch in observed_at if ch.isdigit())[:14]


def mementos(archive, url: str, datasette: str, db_name: str, replay_prefix: str | None = None) -> list[dict[str, Any]]:
    """Every observation of ``url`` with a content, oldest first, each with its memento URI."""
    rows = archive.query(MEMENTOS_SQL, {"url": url})
    for row in rows:
        if replay_prefix:
            row["memento"] = f"{replay_prefix.rstrip('/')}/{timestamp14(row['observed_at'])}/{url}"
        else:
            page = f"/-/snapshot/{row['snapshot_id']}?{urlencode({'database': db_name})}"
            row["memento"] = datasette.rstrip("/") + page
        row["datetime"] = http_date(row["observed_at"])
    return rows


def link_format(url: str, rows: list[dict[str, Any]], self_uri: str | None = None) -> str:
    """An RFC 7089 TimeMap (application/link-format) of ``rows`` from ``mementos``."""
    links = [f'<{url}>; rel="original"']
    if self_uri and rows:
        links.append(
            f'<{self_uri}>; rel="self"; type="application/link-format"; '
            f'from="{rows[0]["datetime"]}"; until="{rows[-1]["datetime"]}"'
        )
    for index, row in enumerate(rows):
        rel = ["memento"]
        if index == 0:
            rel.insert(0, "first")
        if index == len(rows) - 1:
            rel.insert(0, "last") if len(rows) > 1 else rel.insert(1, "last")
        links.append(f'<{row["memento"]}>; rel="{" ".join(rel)}"; datetime="{row["datetime"]}"')
    return ",\n".join(links) + "\n"


def calendar(rows: list[dict[str, Any]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Mementos by year, then month (the Wayback Machine's calendar), each with the version seen
    and the previous different one (for a link to their diff); the data of a calendar page."""
    years: dict[str, dict[str, list[dict[str, Any]]]] = {}
    previous: str | None = None
    current: str | None = None
    for row in rows:
        version = row.get("article_version_id") or row["content_sha256"]
        changed = current is not None and version != current
        if version != current:
            previous, current = current, version
        entry = {**row, "version": version, "previous_version": previous, "changed": changed}
        years.setdefault(row["observed_at"][:4], {}).setdefault(row["observed_at"][5:7], []).append(entry)
    return years
