"""Every named SQL query of the archive: the CLI, the crawler and Datasette share these.

Bound ``:params`` or ``?`` only, never table names built with format strings. Migrations (the
tables these read) live in ``dedupe.schema``; the incremental engine's own SQL stays private to
``dedupe.archive.incremental``.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- archive_state

ARCHIVE_STATE_VALUE_SQL = "SELECT value FROM archive_state WHERE key = ?"
ARCHIVE_STATE_SET_SQL = "INSERT OR REPLACE INTO archive_state(key, value) VALUES (?, ?)"

# --------------------------------------------------------------------------- version navigation
# An article or a block stands for its latest version; a version's previous one; every version
# of the same article or block (the diff page's "compare with").

LATEST_ARTICLE_VERSION_SQL = "SELECT id FROM article_versions WHERE article_id = ? ORDER BY version DESC LIMIT 1"
LATEST_BLOCK_VERSION_SQL = "SELECT id FROM block_versions WHERE block_id = ? ORDER BY version DESC LIMIT 1"
PREVIOUS_ARTICLE_VERSION_SQL = """
SELECT p.id FROM article_versions v JOIN article_versions p ON p.article_id = v.article_id AND p.version < v.version
WHERE v.id = ? ORDER BY p.version DESC LIMIT 1
"""
PREVIOUS_BLOCK_VERSION_SQL = """
SELECT p.id FROM block_versions v JOIN block_versions p ON p.block_id = v.block_id AND p.version < v.version
WHERE v.id = ? ORDER BY p.version DESC LIMIT 1
"""
PREVIOUS_SNAPSHOT_SQL = """
SELECT p.id FROM snapshots s JOIN snapshots p ON p.url = s.url AND p.content_sha256 IS NOT NULL
AND (p.observed_at < s.observed_at OR (p.observed_at = s.observed_at AND p.id < s.id))
WHERE s.id = ? ORDER BY p.observed_at DESC, p.id DESC LIMIT 1
"""
ARTICLE_VERSION_SIBLINGS_SQL = """
SELECT o.id, o.version, o.first_seen FROM article_versions v JOIN article_versions o
ON o.article_id = v.article_id WHERE v.id = ? ORDER BY o.version
"""
BLOCK_VERSION_SIBLINGS_SQL = """
SELECT o.id, o.version, o.first_seen FROM block_versions v JOIN block_versions o
ON o.block_id = v.block_id WHERE v.id = ? ORDER BY o.version
"""
