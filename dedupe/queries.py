"""Every named SQL query of the archive: the CLI, the crawler and Datasette share these.

Bound ``:params`` or ``?`` only, never table names built with format strings. Migrations (the
tables these read) live in ``dedupe.schema``; the incremental engine's own SQL stays private to
``dedupe.archive.incremental``.
"""

from __future__ import annotations

# --------------------------------------------------------------------------- the archive's questions

CONFLICTS_SQL = """
SELECT language, delegation, field, value, snapshots, first_seen, last_seen
FROM conflicts
ORDER BY delegation, field, language, snapshots DESC, value
"""

# Values present as a line but empty, per (language, delegation, field): from the fact periods, not the snapshots.
MISSING_SQL = """
SELECT language, delegation, field, sum(snapshots) AS snapshots, min(first_seen) AS first_seen,
       max(last_seen) AS last_seen, count(*) AS periods
FROM fact_periods WHERE value = ''
GROUP BY language, delegation, field
ORDER BY delegation, field, language
"""

BLOCK_VERSIONS_SQL = """
SELECT b.id AS block_id, b.name AS block, bv.id AS version_id, bv.version, bv.line_count,
       bv.snapshots, bv.first_seen, bv.last_seen
FROM block_versions bv JOIN blocks b ON b.id = bv.block_id
ORDER BY b.id, bv.version
"""

# Blocks that state a fact in some version: the delegation block; the others are page furniture (menus, footers).
BLOCKS_WITH_FACTS_SQL = """
SELECT DISTINCT bv.block_id FROM facts f JOIN block_versions bv ON bv.id = f.block_version_id
"""

BLOCK_CHANGES_SQL = """
SELECT block_version_id, previous_version_id, slot, kind, old_text, new_text, detail
FROM block_line_changes
ORDER BY block_version_id, slot
"""

URL_VERSIONS_SQL = """
SELECT s.id AS snapshot_id, s.url, s.observed_at, s.http_status, s.status,
       av.article_id, av.id AS article_version_id, av.version, av.title
FROM snapshots s
LEFT JOIN content_articles ca ON ca.content_sha256 = s.content_sha256
LEFT JOIN article_versions av ON av.id = ca.article_version_id
WHERE s.url = :url
ORDER BY s.observed_at, s.id
"""

REMOVED_ARTICLES_SQL = """
SELECT id, title, url, versions, first_seen, last_seen
FROM articles WHERE status = 'removed' ORDER BY last_seen DESC
"""

# Full-text search in word forms: the query's words and the index are Snowball stems (dedupe.stemming:
# pa_stem_query, pa_snippet are registered on every connection that runs this), so "парламент" finds
# "парламента" and "депутат*" finds "депутатов"; FTS5 syntax otherwise ("a phrase", OR, NOT).
SEARCH_SQL = """
SELECT av.article_id, av.id AS version_id, av.title, av.published,
       pa_snippet(av.text, :q) AS snippet
FROM article_versions_stemmed
JOIN article_versions av ON av.rowid = article_versions_stemmed.rowid
WHERE article_versions_stemmed MATCH pa_stem_query(:q)
ORDER BY rank LIMIT 50
"""

# Missing values from the block versions' counts (the missing_values view): no snapshot is read.
MISSING_COUNTS_SQL = """
SELECT language, delegation, field, snapshots, first_seen, last_seen
FROM missing_values
ORDER BY delegation, field, language
"""

# Facts through time: each run of one value (see the fact_periods view); :delegation '' for all, any case.
FACT_PERIODS_SQL = """
SELECT language, delegation, field, period, value, snapshots, first_snapshot_id, first_seen,
       last_snapshot_id, last_seen, first_block_version_id, last_block_version_id
FROM fact_periods
WHERE :delegation = '' OR delegation = :delegation COLLATE NOCASE
ORDER BY delegation, field, language, period
"""

# What the site stated at a moment: each URL's run of observations holding :until (the latest starting at or
# before it; failed fetches are not in runs, removed pages state nothing), grouped by the block versions shown.
# ``dedupe.archive.queries`` expands each group into its facts. since: the earliest start of those runs.
FACTS_AS_OF_SQL = """
WITH latest AS (
  SELECT url, block_versions, stating, max(first_observed_at) AS since,
         min(last_observed_at, :until) AS observed_until
  FROM url_runs WHERE first_observed_at <= :until GROUP BY url
)
SELECT block_versions, count(*) AS pages, min(since) AS since, max(observed_until) AS last_observed,
       min(url) AS example_url
FROM latest WHERE stating = 1 AND block_versions != ''
GROUP BY block_versions
"""

# Facts the pages of one origin (a crawl run 'crawl:<id>', an imported file) stated, per value: where one
# (language, delegation, field) has two non-empty values, the site contradicted itself within that run.
ORIGIN_FACTS_SQL = """
SELECT bv.language, f.delegation, f.field, f.value, count(DISTINCT s.url) AS pages, min(s.url) AS example_url
FROM snapshots s
JOIN content_blocks cb ON cb.content_sha256 = s.content_sha256
JOIN facts f ON f.block_version_id = cb.block_version_id
JOIN block_versions bv ON bv.id = f.block_version_id
WHERE s.origin = :origin AND f.value != ''
GROUP BY bv.language, f.delegation, f.field, f.value
ORDER BY f.delegation, f.field, bv.language, pages DESC, f.value
"""

DELEGATIONS_SQL = "SELECT DISTINCT delegation FROM facts ORDER BY delegation"

# What an import reports as its own effect: counts that cost a B-tree scan, not a join over every fact
COUNT_SQL = {
    "snapshots": "SELECT count(*) FROM snapshots",
    "contents": "SELECT count(*) FROM contents",
    "articles": "SELECT count(*) FROM articles",
    "article_versions": "SELECT count(*) FROM article_versions",
    "blocks": "SELECT count(*) FROM blocks",
    "block_versions": "SELECT count(*) FROM block_versions",
}

STATS_SQL = {
    "snapshots": "SELECT count(*) FROM snapshots",
    "contents": "SELECT count(*) FROM contents",
    "articles": "SELECT count(*) FROM articles",
    "article_versions": "SELECT count(*) FROM article_versions",
    "blocks": "SELECT count(*) FROM blocks",
    "block_versions": "SELECT count(*) FROM block_versions",
    "facts": "SELECT count(*) FROM facts",
    "conflicts": "SELECT count(*) FROM (SELECT DISTINCT language, delegation, field FROM conflicts)",
    "raw_bytes": "SELECT coalesce(sum(size), 0) FROM contents",
    "stored_bytes": "SELECT coalesce(sum(stored_size), 0) FROM contents",
}


# --------------------------------------------------------------------------- crawl runs

CRAWL_RUN_INSERT_SQL = """
INSERT INTO crawl_runs (started_at, status, start_urls, resumed_from, jobdir, pid)
VALUES (:started_at, 'running', :start_urls, :resumed_from, :jobdir, :pid)
"""

CRAWL_RUN_FINISH_SQL = """
UPDATE crawl_runs
SET finished_at = :finished_at, status = :status, pages_fetched = :pages_fetched, new = :new,
    changed = :changed, unchanged = :unchanged, removed = :removed, failed = :failed,
    errors = :errors, stats = :stats
WHERE id = :id
"""

# Runs left 'running' by a process that no longer holds the lock (killed): mark them interrupted.
CRAWL_RUNS_STALE_SQL = """
UPDATE crawl_runs
SET status = 'interrupted',
    finished_at = (SELECT max(s.observed_at) FROM snapshots s WHERE s.origin = 'crawl:' || crawl_runs.id),
    pages_fetched = (SELECT count(*) FROM snapshots s WHERE s.origin = 'crawl:' || crawl_runs.id
                     AND s.status != 'error'),
    errors = json_insert(errors, '$[#]', json_object('url', NULL, 'error',
             'the crawl process ended without closing the run (killed?)'))
WHERE status = 'running'
"""

CRAWL_RUN_SQL = "SELECT * FROM crawl_runs WHERE id = :id"

CRAWL_RUNS_SQL = "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT :limit"

# URLs a run (and the runs it resumes) already stored: a resumed run does not store them again
# (a page that failed is tried again).
CRAWL_RUN_URLS_SQL = """
SELECT DISTINCT url, page_type FROM snapshots WHERE origin = :origin AND status != 'error'
"""

# Whether a URL ever had content (a new content of a known URL is a change, not a new page).
CRAWL_URL_KNOWN_SQL = "SELECT 1 FROM snapshots WHERE url = :url AND content_sha256 IS NOT NULL LIMIT 1"

# Articles as a crawl summary compares them before and after a run, each known by its first
# version (article ids are renumbered by every refresh, and an article's URL may change).
CRAWL_ARTICLES_STATE_SQL = """
SELECT a.id, a.title, a.url, a.status, a.versions, a.first_seen, a.last_seen, av.id AS first_version
FROM articles a JOIN article_versions av ON av.article_id = a.id AND av.version = 1
ORDER BY a.id
"""

# The first block-line change that is a conflict of facts (the crawling demo shows its word diff).
FIRST_CONFLICT_CHANGE_SQL = """
SELECT previous_version_id, block_version_id FROM block_line_changes
WHERE kind = 'conflict' ORDER BY block_version_id LIMIT 1
"""


# The newest observation of each crawled URL that was not a failure (200, 304, 404, 410: the page was seen),
# and the newest failure; SQLite takes the bare columns from the row holding max(observed_at).
CRAWL_LAST_SEEN_SQL = """
SELECT url, max(observed_at) AS observed_at, http_status, page_type FROM snapshots
WHERE source = 'crawl' AND status != 'error' GROUP BY url
"""
CRAWL_LAST_FAILED_SQL = """
SELECT url, max(observed_at) AS observed_at, page_type FROM snapshots
WHERE source = 'crawl' AND status = 'error' GROUP BY url
"""


# --------------------------------------------------------------------------- archive_state

ARCHIVE_STATE_VALUE_SQL = "SELECT value FROM archive_state WHERE key = ?"
ARCHIVE_STATE_SET_SQL = "INSERT OR REPLACE INTO archive_state(key, value) VALUES (?, ?)"

# --------------------------------------------------------------------------- Datasette: timeline, last run

# Seat counts through time, from the fact periods (a series is a step function: a point per period, not per
# snapshot): per language, delegation and field its first value, every change and its last observation, so
# that the /-/timeline page draws an archive of any size from a few rows. Facts are compared within one
# language (pacsto.org and paodkb.org are two series, never one alternating between them). n: the
# observations stating facts.
SEAT_CHANGES_SQL = """
WITH p AS (
  SELECT language, delegation, field, period, value, first_snapshot_id, first_seen, first_block_version_id,
         last_snapshot_id, last_seen, last_block_version_id,
         lag(value) OVER w AS previous_value, lag(last_snapshot_id) OVER w AS previous_snapshot_id,
         lag(last_seen) OVER w AS previous_observed_at, lag(last_block_version_id) OVER w AS previous_block_version_id,
         max(period) OVER (PARTITION BY language, delegation, field) AS periods
  FROM fact_periods
  WHERE (field = 'seats_total' OR field LIKE 'seats.%') AND (:delegation = '' OR delegation = :delegation)
  WINDOW w AS (PARTITION BY language, delegation, field ORDER BY period)
), n AS (SELECT coalesce(sum(snapshots), 0) AS n FROM fact_segments)
SELECT * FROM (
SELECT language, delegation, field, value, CASE WHEN period = 1 THEN 'first' ELSE 'change' END AS kind,
       previous_value, first_snapshot_id AS snapshot_id, first_seen AS observed_at,
       first_block_version_id AS block_version_id, n.n AS n,
       previous_snapshot_id, previous_observed_at, previous_block_version_id
FROM p CROSS JOIN n
UNION ALL
SELECT language, delegation, field, value, 'last', value, last_snapshot_id, last_seen, last_block_version_id, n.n,
       first_snapshot_id, first_seen, first_block_version_id
FROM p CROSS JOIN n WHERE period = periods AND last_snapshot_id != first_snapshot_id
)
ORDER BY delegation, language, field = 'seats_total' DESC, field, observed_at, snapshot_id
"""

# What changed in the last crawl run (or run :run, with the interrupted runs it resumed):
# its snapshots (origin 'crawl:<id>') that brought new content, a removal or an error.
LAST_RUN_SQL = """
WITH RECURSIVE chosen(id) AS (
  SELECT coalesce(nullif(:run, ''), (SELECT id FROM crawl_runs ORDER BY started_at DESC, id DESC LIMIT 1))
), runs(id, started_at, resumed_from) AS (
  SELECT c.id, c.started_at, c.resumed_from FROM crawl_runs c JOIN chosen ON c.id = chosen.id
  UNION
  SELECT c.id, c.started_at, c.resumed_from FROM crawl_runs c JOIN runs r ON c.id = r.resumed_from
), since_when AS (SELECT min(started_at) AS since FROM runs)
SELECT substr(s.origin, 7) AS run, s.id AS snapshot_id, s.url, s.observed_at, s.http_status, s.status,
{change}
FROM snapshots s CROSS JOIN since_when w
LEFT JOIN content_articles ca ON ca.content_sha256 = s.content_sha256
LEFT JOIN article_versions av ON av.id = ca.article_version_id
WHERE s.origin IN (SELECT 'crawl:' || id FROM runs) AND s.status IN ('new', 'removed', 'error')
ORDER BY s.observed_at, s.id
"""

# The same without a crawl_runs table (an archive from before migration m002): since :since,
# by default since the start of the last day anything was observed.
SINCE_SQL = """
WITH since_when AS (
  SELECT coalesce(nullif(:since, ''), date((SELECT max(observed_at) FROM snapshots))) AS since
)
SELECT s.origin AS run, s.id AS snapshot_id, s.url, s.observed_at, s.http_status, s.status,
{change}
FROM since_when w CROSS JOIN snapshots s  -- the date first, then the snapshots since it by their index
LEFT JOIN content_articles ca ON ca.content_sha256 = s.content_sha256
LEFT JOIN article_versions av ON av.id = ca.article_version_id
WHERE s.observed_at >= w.since AND s.status IN ('new', 'removed', 'error')
ORDER BY s.observed_at, s.id
"""

# What a changed snapshot brought, relative to the start w.since of the period looked at.
_CHANGE_COLUMNS = """\
       CASE
         WHEN s.status = 'removed' THEN 'page removed'
         WHEN s.status = 'error' THEN 'fetch failed'
         WHEN av.id IS NULL THEN 'page changed (no article)'
         WHEN av.first_seen >= w.since AND av.version = 1 THEN 'new article'
         WHEN av.first_seen >= w.since THEN 'new article version'
         ELSE 'page changed, article text unchanged'
       END AS change,
       av.article_id, av.id AS article_version_id, av.version, av.title,
       (SELECT group_concat(cb.block_version_id, ' ') FROM content_blocks cb
          JOIN block_versions bv ON bv.id = cb.block_version_id
        WHERE cb.content_sha256 = s.content_sha256 AND bv.first_seen >= w.since) AS new_block_versions"""

LAST_RUN_SQL = LAST_RUN_SQL.format(change=_CHANGE_COLUMNS)
SINCE_SQL = SINCE_SQL.format(change=_CHANGE_COLUMNS)


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

# --------------------------------------------------------------------------- the Datasette pages

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
TABLES_AND_VIEWS_SQL = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"


# --------------------------------------------------------------------------- alerts (dedupe.alerts) and the feed

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

# Removed articles, each known by its first version (article ids are renumbered by every refresh).
ALERT_REMOVED_ARTICLES_SQL = """
SELECT av.id AS first_version, a.id, a.title, a.url, a.last_seen
FROM articles a CROSS JOIN article_versions av ON av.article_id = a.id AND av.version = 1  -- few are removed
WHERE a.status = 'removed'
"""

# The Atom feed of the same changes (datasette-atom renders a canned query with these columns):
# new block variants with the facts they changed, new conflicts (dated by their second value's
# first sighting), removed articles and roster changes (one entry per new roster observed), newest first.
FACT_CHANGES_FEED_SQL = """
SELECT 'tag:pa-archive,2025:block-version:' || bv.id AS atom_id,
       'Block b' || bv.block_id || ' v' || bv.version || ' (' || coalesce(bv.language, '?') || '): '
         || coalesce((SELECT group_concat(c.detail, '; ') FROM block_line_changes c
                      WHERE c.block_version_id = bv.id AND c.kind IN ('conflict', 'missing', 'filled')),
                     'new variant ' || bv.id) AS atom_title,
       bv.first_seen AS atom_updated,
       'New variant ' || bv.id || ' of block b' || bv.block_id || ' (' || b.name || '), first seen '
         || bv.first_seen || ' in ' || bv.snapshots || ' snapshot(s).'
         || coalesce(char(10) || (SELECT group_concat(c.kind || ': ' || coalesce(c.detail, c.new_text, c.old_text, ''),
                                                      char(10))
                                  FROM block_line_changes c WHERE c.block_version_id = bv.id), '') AS atom_content,
       '/-/diff?b=' || bv.id AS atom_link
FROM block_versions bv JOIN blocks b ON b.id = bv.block_id
UNION ALL
SELECT 'tag:pa-archive,2025:conflict:' || language || ':' || delegation || ':' || field,
       'Conflict: ' || delegation || ' ' || field || ' (' || language || '): ' || group_concat(value, ' vs '),
       max(first_seen),
       delegation || ' ' || field || ' is stated as ' || group_concat(value || ' (' || snapshots || ' snapshots, '
         || first_seen || ' .. ' || last_seen || ')', ', '),
       '/-/conflicts'
FROM (SELECT * FROM conflicts ORDER BY first_seen)
GROUP BY language, delegation, field
UNION ALL
SELECT 'tag:pa-archive,2025:removed:' || av.id,
       'Article removed: ' || coalesce(a.title, a.url),
       a.last_seen,
       a.url || ' answered 404/410 (last seen ' || a.last_seen || ').',
       a.url
FROM articles a CROSS JOIN article_versions av ON av.article_id = a.id AND av.version = 1  -- few are removed
WHERE a.status = 'removed'
UNION ALL
SELECT 'tag:pa-archive,2025:roster:' || delegation || ':' || language || ':' || snapshot_id,
       'Roster: ' || delegation || ' (' || language || '): '
         || group_concat(CASE kind WHEN 'joined' THEN '+ ' || new_value WHEN 'left' THEN '- ' || old_value
                         ELSE subject || ' ' || old_value || ' → ' || new_value END, '; '),
       observed_at,
       'The ' || delegation || ' roster (' || language || ' site) changed, first observed ' || observed_at
         || ' in snapshot ' || snapshot_id || ' (' || roster_version_id || ', before: ' || previous_version_id || ').'
         || char(10) || group_concat(kind || ': ' || CASE WHEN kind IN ('joined', 'left')
                                                   THEN old_value || new_value
                                                   ELSE old_value || ' → ' || new_value END, char(10)),
       '/-/roster?delegation=' || delegation
FROM roster_changes
GROUP BY delegation, language, snapshot_id
ORDER BY atom_updated DESC
LIMIT 200
"""

# A crawl run's alert (sent, title, failed deliveries) kept in its stats: `pa-archive runs` shows it.
CRAWL_RUN_NOTIFY_SQL = """
UPDATE crawl_runs SET stats = json_set(coalesce(nullif(stats, ''), '{}'), '$.notify', json(:notify)) WHERE id = :id
"""

# --------------------------------------------------------------------------- Datasette: evidence pages

# The evidence of a conflict (``dedupe.archive.evidence``, for the CLI and Datasette alike): per value the block
# versions stating it, the pages and the newest snapshots stating it (from the per-URL records, capped), and
# the changes of value through time (from the fact periods). The pages and snapshots are read per block
# version, at most :limit each through an index, and merged: a value stated on every page of a million
# observations costs a few small reads, not a sort of every page.

# The pages that showed one block version, oldest first (at most :limit).
EVIDENCE_VERSION_URLS_SQL = """
SELECT url, first_observed_at, first_snapshot_id FROM block_version_urls
WHERE block_version_id = :id ORDER BY first_observed_at, first_snapshot_id, url LIMIT :limit
"""

# The newest snapshot of each page that showed one block version, newest first (at most :limit).
EVIDENCE_VERSION_SNAPSHOTS_SQL = """
SELECT last_snapshot_id AS snapshot_id, url, last_observed_at AS observed_at, block_version_id
FROM block_version_urls WHERE block_version_id = :id
ORDER BY last_observed_at DESC, last_snapshot_id DESC LIMIT :limit
"""

# How many pages showed one block version (one row per page and version).
EVIDENCE_VERSION_URLS_TOTAL_SQL = "SELECT count(*) FROM block_version_urls WHERE block_version_id = :id"

# How many pages showed any of some block versions (:ids, a JSON array): a page showing two of them counts once.
EVIDENCE_URLS_TOTAL_SQL = """
SELECT count(DISTINCT url) AS total FROM block_version_urls
WHERE block_version_id IN (SELECT value FROM json_each(:ids))
"""

# The block variants carrying one conflict value.
EVIDENCE_BLOCK_VERSIONS_SQL = """
SELECT DISTINCT bv.id, bv.block_id, bv.version, bv.snapshots, bv.first_seen, bv.last_seen
FROM facts f JOIN block_versions bv ON bv.id = f.block_version_id
WHERE bv.language = :language AND f.delegation = :delegation AND f.field = :field AND f.value = :value
ORDER BY bv.first_seen, bv.id
"""

# Each change of one fact between consecutive periods of non-empty values: the two variants to diff.
EVIDENCE_CHANGES_SQL = """
SELECT previous_value, value, previous_block_version_id, block_version_id, min(first_seen) AS first_changed,
       count(*) AS times
FROM (
  SELECT period, value, first_block_version_id AS block_version_id, first_seen,
         lag(value) OVER w AS previous_value, lag(last_block_version_id) OVER w AS previous_block_version_id
  FROM fact_periods
  WHERE language = :language AND delegation = :delegation AND field = :field AND value != ''
  WINDOW w AS (ORDER BY period)
)
WHERE previous_value IS NOT NULL AND previous_value != value
GROUP BY previous_block_version_id, block_version_id
ORDER BY first_changed, min(period) LIMIT :limit
"""

# One snapshot with what was derived from it.
SNAPSHOT_PAGE_SQL = """
SELECT s.id, s.url, s.observed_at, s.source, s.origin, s.http_status, s.status, s.page_type, s.content_sha256,
       s.headers, c.kind, c.size, c.encoding, p.title, p.language,
       ca.article_version_id, av.article_id, av.version AS article_version, av.title AS article_title
FROM snapshots s
LEFT JOIN contents c ON c.sha256 = s.content_sha256
LEFT JOIN pages p ON p.content_sha256 = s.content_sha256
LEFT JOIN content_articles ca ON ca.content_sha256 = s.content_sha256
LEFT JOIN article_versions av ON av.id = ca.article_version_id
WHERE s.id = :id
"""
SNAPSHOT_BLOCK_VERSIONS_SQL = """
SELECT bv.id, bv.block_id, bv.version, b.name FROM content_blocks cb
JOIN block_versions bv ON bv.id = cb.block_version_id JOIN blocks b ON b.id = bv.block_id
WHERE cb.content_sha256 = :sha ORDER BY bv.block_id
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

# The pages showing one block variant, each with its latest snapshot showing it, newest first (the canned
# query "block_version_snapshots"; from the per-URL records: fast whatever the number of snapshots).
BLOCK_VERSION_SNAPSHOTS_SQL = """
SELECT last_snapshot_id AS snapshot_id, url, last_observed_at AS observed_at, snapshots,
       first_snapshot_id, first_observed_at
FROM block_version_urls WHERE block_version_id = :id
ORDER BY last_observed_at DESC, last_snapshot_id DESC LIMIT 1000
"""

# The URLs with the most observations (the calendar page's index), from the per-URL runs.
CALENDAR_URLS_SQL = """
SELECT url, sum(snapshots) AS captures, min(first_observed_at) AS first_seen, max(last_observed_at) AS last_seen
FROM url_runs GROUP BY url ORDER BY captures DESC, url LIMIT 50
"""


# --------------------------------------------------------------------------- rosters and parity (dedupe.delegations,
# dedupe.parity, `pa-archive roster` / `parity`, Datasette's /-/roster and /-/parity)

ROSTER_DELEGATIONS_SQL = "SELECT DISTINCT delegation FROM roster_versions ORDER BY delegation"

# The rosters stated at a moment: the latest observation at or before :until of each URL that ever stated a
# roster (a failed fetch says nothing; a removed page states none), with the roster version it states.
ROSTERS_AS_OF_SQL = """
WITH roster_urls AS (
  SELECT DISTINCT s.url FROM content_rosters cr CROSS JOIN snapshots s ON s.content_sha256 = cr.content_sha256
), latest AS (
  SELECT (SELECT s.id FROM snapshots s WHERE s.url = u.url AND s.observed_at <= :until AND s.status != 'error'
          ORDER BY s.observed_at DESC, s.id DESC LIMIT 1) AS id
  FROM roster_urls u
)
SELECT rv.delegation, rv.language, rv.id AS roster_version_id, rv.version, rv.seats, rv.plenipotentiary,
       rv.members, s.url, s.observed_at, s.id AS snapshot_id
FROM latest l
JOIN snapshots s ON s.id = l.id
JOIN content_rosters cr ON cr.content_sha256 = s.content_sha256
JOIN roster_versions rv ON rv.id = cr.roster_version_id
WHERE :delegation = '' OR rv.delegation = :delegation COLLATE NOCASE
ORDER BY rv.delegation, rv.language, s.url
"""

# The members of some roster versions (:ids, a JSON list), in roster order.
ROSTER_MEMBERS_SQL = """
SELECT roster_version_id, ord, name, full_name, person_key, position, chamber
FROM roster_members WHERE roster_version_id IN (SELECT value FROM json_each(:ids))
ORDER BY roster_version_id, ord
"""

ROSTER_MEMBERSHIPS_SQL = """
SELECT delegation, language, person_key, period, name, joined, joined_snapshot_id, last_listed,
       last_listed_snapshot_id, left, left_snapshot_id
FROM roster_memberships
WHERE :delegation = '' OR delegation = :delegation COLLATE NOCASE
ORDER BY delegation, language, joined, name
"""

# What changed between consecutive rosters (joined, left, plenipotentiary, seats), with the pages observed.
ROSTER_CHANGES_SQL = """
SELECT rc.delegation, rc.language, rc.snapshot_id, rc.observed_at, rc.roster_version_id, rc.previous_version_id,
       rc.kind, rc.subject, rc.old_value, rc.new_value, s.url,
       (SELECT p.id FROM snapshots p JOIN content_rosters cr ON cr.content_sha256 = p.content_sha256
        WHERE cr.roster_version_id = rc.previous_version_id AND p.url = s.url
        ORDER BY p.observed_at DESC, p.id DESC LIMIT 1) AS previous_snapshot_id
FROM roster_changes rc JOIN snapshots s ON s.id = rc.snapshot_id
WHERE :delegation = '' OR rc.delegation = :delegation COLLATE NOCASE
ORDER BY rc.observed_at, rc.delegation, rc.language, rc.snapshot_id,
         CASE rc.kind WHEN 'left' THEN 0 WHEN 'joined' THEN 1 WHEN 'plenipotentiary' THEN 2 ELSE 3 END, rc.subject
"""

ROSTER_VERSIONS_SQL = """
SELECT id, delegation, language, version, seats, plenipotentiary, members, snapshots, first_seen, last_seen,
       first_snapshot_id
FROM roster_versions
WHERE :delegation = '' OR delegation = :delegation COLLATE NOCASE
ORDER BY delegation, language, version
"""

# Every spelling of every listed person (identities across scripts are built from these by dedupe.people).
ROSTER_NAMES_SQL = """
SELECT DISTINCT rv.delegation, rv.language, rm.person_key, rm.name, rm.full_name
FROM roster_members rm JOIN roster_versions rv ON rv.id = rm.roster_version_id
ORDER BY rv.delegation, rm.person_key, rv.language, rm.name
"""

# The alerts' view of rosters: every change ever derived (a run's new ones are those not there before).
ALERT_ROSTER_CHANGES_SQL = """
SELECT delegation, language, snapshot_id, observed_at, kind, subject, old_value, new_value, roster_version_id,
       previous_version_id
FROM roster_changes ORDER BY observed_at, delegation, language
"""

# --------------------------------------------------------------------------- the lean archive (m013)

# A content's lines as stored: decode them with ``dedupe.storage.Codec.unpack_lines(lines, lines_compression)``.
PAGE_LINES_SQL = "SELECT lines, lines_compression FROM pages WHERE content_sha256 = ?"
