"""The named SQL of the Datasette plugin's own pages (``datasette_pa_archive``): the diff page's sides,
the snapshot page, the timeline's delegations and the calendar's index.

Bound ``:params`` or ``?`` only; the canned queries and the questions the CLI shares with Datasette
are in ``dedupe.queries``.
"""

from __future__ import annotations

ARTICLE_VERSION_SIDE_SQL = """
SELECT version, article_id, title, first_seen, last_seen, snapshots FROM article_versions WHERE id = ?
"""

BLOCK_VERSION_SIDE_SQL = """
SELECT bv.version, bv.block_id, b.name, bv.first_seen, bv.last_seen, bv.snapshots
FROM block_versions bv JOIN blocks b ON b.id = bv.block_id WHERE bv.id = ?
"""

SNAPSHOT_SIDE_SQL = "SELECT url, observed_at FROM snapshots WHERE id = ?"

RECENT_BLOCK_VERSIONS_SQL = """
SELECT bv.id, bv.version, bv.block_id, bv.first_seen FROM block_versions bv
ORDER BY bv.first_seen DESC, bv.version DESC LIMIT 20
"""

SEAT_DELEGATIONS_SQL = "SELECT DISTINCT delegation FROM facts WHERE field = 'seats_total' ORDER BY delegation"

# One snapshot with what was derived from it.
SNAPSHOT_PAGE_SQL = """
SELECT s.id, s.url, s.observed_at, s.source, s.origin, s.http_status, s.status, s.page_type, s.content_sha256,
       s.headers, c.kind, c.size, c.encoding, p.title, p.language,
       ca.article_version_id, av.article_id, av.version AS article_version, av.title AS article_title
FROM snapshots s
LEFT JOIN contents c ON c.sha256 = s.content_sha256
LEFT JOIN pages p ON p.content_sha256 = s.content_sha256
LEFT JOIN content_articles ca ON ca.page_id = p.rowid
LEFT JOIN article_versions av ON av.id = ca.article_version_id
WHERE s.id = :id
"""

SNAPSHOT_BLOCK_VERSIONS_SQL = """
SELECT bv.id, bv.block_id, bv.version, b.name FROM content_blocks cb
JOIN block_versions bv ON bv.id = cb.block_version_id JOIN blocks b ON b.id = bv.block_id
WHERE cb.page_id = (SELECT rowid FROM pages WHERE content_sha256 = :sha) ORDER BY bv.block_id
"""

# The observations of the same URL just before and just after one snapshot.
SNAPSHOT_NEIGHBOURS_SQL = """
SELECT * FROM (
  SELECT 'previous' AS side, q.id, q.observed_at, q.status FROM snapshots s JOIN snapshots q ON q.url = s.url
    AND (q.observed_at < s.observed_at OR (q.observed_at = s.observed_at AND q.id < s.id))
  WHERE s.id = :id ORDER BY q.observed_at DESC, q.id DESC LIMIT 1)
UNION ALL
SELECT * FROM (
  SELECT 'next', q.id, q.observed_at, q.status FROM snapshots s JOIN snapshots q ON q.url = s.url
    AND (q.observed_at > s.observed_at OR (q.observed_at = s.observed_at AND q.id > s.id))
  WHERE s.id = :id ORDER BY q.observed_at, q.id LIMIT 1)
"""

# The URLs with the most observations (the calendar page's index), from the per-URL runs.
CALENDAR_URLS_SQL = """
SELECT u.url, c.captures, c.first_seen, c.last_seen FROM (
  SELECT url_id, sum(snapshots) AS captures, min(first_observed_at) AS first_seen, max(last_observed_at) AS last_seen
  FROM url_runs_by_url_id GROUP BY url_id
) c JOIN urls u ON u.id = c.url_id
ORDER BY c.captures DESC, u.url LIMIT 50
"""
