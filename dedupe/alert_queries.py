"""The named SQL of what a run changed, as the alerts and the crawl summary read it (``dedupe.analysis.changes``):
the archive's state before and after a run, compared in Python.

Bound ``:params`` or ``?`` only; the archive's other named queries are in ``dedupe.queries`` (the Atom
feed of the same changes, a Datasette canned query, is ``FACT_CHANGES_FEED_SQL`` there).
"""

from __future__ import annotations

# Articles as a crawl summary compares them before and after a run, each known by its first
# version (article ids are renumbered by every refresh, and an article's URL may change).
CRAWL_ARTICLES_STATE_SQL = """
SELECT a.id, a.title, a.url, a.status, a.versions, a.first_seen, a.last_seen, av.id AS first_version
FROM articles a JOIN article_versions av ON av.article_id = a.id AND av.version = 1
ORDER BY a.id
"""

# Each fact's current value: the one stated by the block variant seen last (per language, delegation, field).
ALERT_CURRENT_FACTS_SQL = """
SELECT language, delegation, field, value, block_version_id FROM (
  SELECT bv.language, f.delegation, f.field, f.value, f.block_version_id,
         row_number() OVER (PARTITION BY bv.language, f.delegation, f.field
                            ORDER BY bv.last_seen DESC, bv.first_seen DESC, bv.id) AS newest
  FROM facts f JOIN block_versions bv ON bv.id = f.block_version_id
) WHERE newest = 1
"""

ALERT_BLOCK_VERSIONS_SQL = """
SELECT bv.id, bv.block_id, bv.version, bv.language, bv.first_seen, b.name AS block
FROM block_versions bv JOIN blocks b ON b.id = bv.block_id
"""

ALERT_LINE_CHANGES_SQL = """
SELECT block_version_id, previous_version_id, kind, detail, old_text, new_text
FROM block_line_changes ORDER BY block_version_id, slot
"""

# The alerts' view of rosters: every change ever derived (a run's new ones are those not there before).
ALERT_ROSTER_CHANGES_SQL = """
SELECT delegation, language, snapshot_id, observed_at, kind, subject, old_value, new_value, roster_version_id,
       previous_version_id
FROM roster_changes ORDER BY observed_at, delegation, language
"""
