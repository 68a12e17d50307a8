"""The archive's named questions: what the CLI, the crawler and Datasette's canned queries share.

Bound ``:params`` or ``?`` only, never table names built with format strings. The tables these
read are declared in ``dedupe.schema`` (changed by ``dedupe.migrations``). The rest of the named
SQL is by subject: rosters in ``dedupe.roster_queries``, a run's changes for the alerts in
``dedupe.alert_queries``, the Datasette plugin's own pages in ``dedupe.page_queries``; the
incremental engine's own SQL stays private to ``dedupe.archive.incremental``.
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
LEFT JOIN pages cp ON cp.content_sha256 = s.content_sha256
LEFT JOIN content_articles ca ON ca.page_id = cp.rowid
LEFT JOIN article_versions av ON av.id = ca.article_version_id
WHERE s.url = :url
ORDER BY s.observed_at, s.id
"""

# articles whose URL last said the page is gone (404/410, or an article's 301/308 to a page that is no article)
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

# Datasette's search box on the article_versions page (datasette_pa_archive.table_search): the versions the one
# full-text index finds for :{param}, an FTS5 query of stems (dedupe.stemming.stem_query, with a column filter for
# ?_search_title=), as a condition of the table page's own query
TABLE_SEARCH_SQL = "rowid IN (SELECT rowid FROM article_versions_stemmed WHERE article_versions_stemmed MATCH :{param})"

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
# (Over the stored rows, grouped by URL id in their key's order; the URL joined for the example only.)
FACTS_AS_OF_SQL = """
WITH latest AS (
  SELECT url_id, block_versions, stating, max(first_observed_at) AS since,
         min(last_observed_at, :until) AS observed_until
  FROM url_runs_by_url_id WHERE first_observed_at <= :until GROUP BY url_id
)
SELECT block_versions, count(*) AS pages, min(since) AS since, max(observed_until) AS last_observed,
       min(u.url) AS example_url
FROM latest JOIN urls u ON u.id = latest.url_id WHERE stating = 1 AND block_versions != ''
GROUP BY block_versions
"""

# Facts the pages of one origin (a crawl run 'crawl:<id>', an imported file) stated, per value: where one
# (language, delegation, field) has two non-empty values, the site contradicted itself within that run.
ORIGIN_FACTS_SQL = """
SELECT bv.language, f.delegation, f.field, f.value, count(DISTINCT s.url) AS pages, min(s.url) AS example_url
FROM snapshots s
JOIN pages cp ON cp.content_sha256 = s.content_sha256
JOIN content_blocks cb ON cb.page_id = cp.rowid
JOIN facts f ON f.block_version_id = cb.block_version_id
JOIN block_versions bv ON bv.id = f.block_version_id
WHERE s.origin = :origin AND f.value != ''
GROUP BY bv.language, f.delegation, f.field, f.value
ORDER BY f.delegation, f.field, bv.language, pages DESC, f.value
"""

DELEGATIONS_SQL = "SELECT DISTINCT delegation FROM facts ORDER BY delegation"

# What an import reports as its own effect: counts that cost a B-tree scan, not a join over every fact
COUNT_SQL = {
    "snapshots": "SELECT count(*) FROM observations",  # the table behind the view: a count through a join scans
    "contents": "SELECT count(*) FROM contents",
    "articles": "SELECT count(*) FROM articles",
    "article_versions": "SELECT count(*) FROM article_versions",
    "blocks": "SELECT count(*) FROM blocks",
    "block_versions": "SELECT count(*) FROM block_versions",
}

STATS_SQL = {
    "snapshots": "SELECT count(*) FROM observations",  # the table behind the view: a count through a join scans
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

# What a run stored, from its observations: a 'new' observation of a URL that had no content before it is a new
# page, of one that had content a change (what the crawl's writer counts: ``crawler.pipelines.ArchiveWriter``).
RUN_OBSERVED_SQL = """
WITH o AS (
  SELECT status, observed_at,
         status = 'new' AND EXISTS (SELECT 1 FROM observations p WHERE p.url_id = o.url_id
                                    AND p.content_id IS NOT NULL AND p.id < o.id) AS changed
  FROM observations o WHERE o.origin = :origin
)
SELECT coalesce(sum(status != 'error'), 0) AS pages_fetched,
       coalesce(sum(status = 'new' AND NOT changed), 0) AS new,
       coalesce(sum(changed), 0) AS changed,
       coalesce(sum(status IN ('seen_again', 'not_modified')), 0) AS unchanged,
       coalesce(sum(status = 'removed'), 0) AS removed,
       coalesce(sum(status = 'error'), 0) AS failed,
       max(observed_at) AS last_observed_at
FROM o
"""
# Runs left 'running' (the caller holds the writer lock, so their process was killed): each is marked interrupted
# with what it stored (``RUN_OBSERVED_SQL``'s counts, its newest observation's time) and the reason.
RUN_STALE_IDS_SQL = "SELECT id FROM crawl_runs WHERE status = 'running'"
CRAWL_RUN_SETTLE_SQL = """
UPDATE crawl_runs
SET status = 'interrupted', finished_at = :last_observed_at, pages_fetched = :pages_fetched, new = :new,
    changed = :changed, unchanged = :unchanged, removed = :removed, failed = max(failed, :failed),
    errors = json_insert(errors, '$[#]', json_object('url', NULL, 'error', :killed))
WHERE id = :id
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


# The first block-line change that is a conflict of facts (the crawling demo shows its word diff).
FIRST_CONFLICT_CHANGE_SQL = """
SELECT previous_version_id, block_version_id FROM block_line_changes
WHERE kind = 'conflict' ORDER BY block_version_id LIMIT 1
"""


# The newest observation of each crawled URL that was not a failure (200, 304, 404, 410: the page was seen),
# and the newest failure; SQLite takes the bare columns from the row holding max(observed_at). Grouped by the URL's
# row in the tables behind the snapshots view (m027): grouping the view by its URL text would sort every observation.
CRAWL_LAST_SEEN_SQL = """
SELECT u.url, max(o.observed_at) AS observed_at, o.http_status, o.status, o.page_type
FROM observations o JOIN urls u ON u.id = o.url_id
WHERE o.source = 'crawl' AND o.status != 'error' GROUP BY o.url_id
"""
CRAWL_LAST_FAILED_SQL = """
SELECT u.url, max(o.observed_at) AS observed_at, o.page_type
FROM observations o JOIN urls u ON u.id = o.url_id
WHERE o.source = 'crawl' AND o.status = 'error' GROUP BY o.url_id
"""


# --------------------------------------------------------------------------- archive_state

ARCHIVE_STATE_VALUE_SQL = "SELECT value FROM archive_state WHERE key = ?"
ARCHIVE_STATE_SET_SQL = "INSERT OR REPLACE INTO archive_state(key, value) VALUES (?, ?)"

# --------------------------------------------------------------------------- full-text indexes

SEARCH_INDEXES = ("article_versions_stemmed",)  # FTS5 over article_versions' rows (one since m037)
SEARCH_INDEX_OPTIMIZE_SQL = "INSERT INTO {index}({index}) VALUES ('optimize')"  # FTS5: merge into one segment

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
  WHERE (field = 'seats_total' OR field LIKE 'seats.%')
    AND (:delegation = '' OR delegation = :delegation COLLATE NOCASE)
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
LEFT JOIN pages cp ON cp.content_sha256 = s.content_sha256
LEFT JOIN content_articles ca ON ca.page_id = cp.rowid
LEFT JOIN article_versions av ON av.id = ca.article_version_id
WHERE s.origin IN (SELECT 'crawl:' || id FROM runs) AND s.status IN ('new', 'removed', 'error')
ORDER BY s.observed_at, s.id
"""

# The same without a crawl_runs table (an archive from before migration m002): since :since,
# by default since the start of the last day anything was observed.
SINCE_SQL = """
WITH since_when AS (
  SELECT coalesce(nullif(:since, ''), date((SELECT max(observed_at) FROM observations))) AS since
)
SELECT s.origin AS run, s.id AS snapshot_id, s.url, s.observed_at, s.http_status, s.status,
{change}
FROM since_when w CROSS JOIN snapshots s  -- the date first, then the snapshots since it by their index
LEFT JOIN pages cp ON cp.content_sha256 = s.content_sha256
LEFT JOIN content_articles ca ON ca.page_id = cp.rowid
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
        WHERE cb.page_id = cp.rowid AND bv.first_seen >= w.since) AS new_block_versions"""

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

# --------------------------------------------------------------------------- what an archive file holds

TABLES_AND_VIEWS_SQL = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"


# --------------------------------------------------------------------------- the feed and a run's alert

# The Atom feed of what changed (datasette-atom renders a canned query with these columns):
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
       a.url || ' answered 404/410, or redirected for good to a page that is no article (last seen ' ||
       a.last_seen || ').',
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
# version (the range of its key in block_version_urls; the top :limit sorted there, 12 ms for the 50,000
# pages of one version at a million observations) and merged: never a sort of every page.

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


# The pages showing one block variant, each with its latest snapshot showing it, newest first (the canned
# query "block_version_snapshots"; from the per-URL records: fast whatever the number of snapshots).
BLOCK_VERSION_SNAPSHOTS_SQL = """
SELECT last_snapshot_id AS snapshot_id, url, last_observed_at AS observed_at, snapshots,
       first_snapshot_id, first_observed_at
FROM block_version_urls WHERE block_version_id = :id
ORDER BY last_observed_at DESC, last_snapshot_id DESC LIMIT 1000
"""


# --------------------------------------------------------------------------- the lean archive (m013)

# A content's lines as stored: decode them with ``dedupe.storage.Codec.unpack_lines(lines, lines_compression, sha)``.
PAGE_LINES_SQL = "SELECT lines, lines_compression FROM pages WHERE content_sha256 = ?"
# snapshots that brought their URL a new content (what ``compact`` looks at to store versions as changes)
NEW_VERSION_SNAPSHOTS_SQL = "SELECT count(*) FROM observations WHERE status = 'new'"

# `pa-archive stats`: the snapshots that are not a page's content, failed fetches (stored without content, in the URL's
# history) and pages found removed (404/410, an article's 301/308 away: pages.says_removed), through the partial index
# of just those (m042): a scan of every observation took 37-122 ms at 100,000.
SNAPSHOT_OUTCOMES_SQL = "SELECT status, count(*) FROM observations WHERE status IN ('error', 'removed') GROUP BY status"
