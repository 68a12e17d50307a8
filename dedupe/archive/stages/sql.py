"""Every statement the incremental engine runs: on its ``derive_*`` state, and on the public tables
(articles, blocks and their versions) it rewrites. One module, so a column's every use is here.

Templates take ``{marks}`` (a chunk's ``?,?`` list, see ``in_list``), a Round's column names
(``{ev}``, ``{rep}``, ``{flag}``, ``{text}``, ``{evidence_text}``, ``{stage}``: ``Round.sql``), or
one fixed column name of derive_pages (``{column}``); values are always bound parameters.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ...schema import URL_ID_OF

NEAR, CANDIDATE = 1, 2  # derive_page_lines.kind bits: a candidate line outside the body; any candidate line
CHUNK = 500  # parameters per IN (...) query


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    """``items`` in slices small enough for one ``IN (...)`` list."""
    for lo in range(0, len(items), size):
        yield items[lo : lo + size]


def marks(items: Sequence) -> str:
    """The ``?,?,...`` list for ``items``."""
    return ",".join("?" * len(items))


def in_list(template: str, items: Sequence, **fields: str) -> str:
    """A template with its ``{marks}`` list sized for ``items``."""
    return template.format(marks=marks(items), **fields)


# --------------------------------------------------------------------------- pages and their statistics

NEW_CONTENTS = "SELECT DISTINCT content_sha256 FROM snapshots WHERE id > ? AND id <= ? AND content_sha256 IS NOT NULL"
NEW_URLS = "SELECT DISTINCT url FROM snapshots WHERE id > ? AND id <= ?"
KNOWN_PAGES = (  # the engine's page of a content is its row in pages (m024: derive_pages keeps no hash)
    "SELECT p.content_sha256, d.page_id FROM pages p JOIN derive_pages d ON d.page_id = p.rowid "
    "WHERE p.content_sha256 IN ({marks})"
)
HAS_ARTICLE_CHANGED = """SELECT 1 FROM derive_pages dp JOIN pages pg ON pg.rowid = dp.page_id
    WHERE dp.page_id IN ({marks}) AND dp.has_article !=
    (SELECT max(coalesce(s.page_type, 'article') = 'article') FROM snapshots s
     WHERE s.content_sha256 = pg.content_sha256) LIMIT 1"""
NEW_PAGES = """SELECT p.rowid, p.content_sha256, p.structured, p.lines, p.lines_compression,
           (SELECT max(coalesce(s.page_type, 'article') = 'article') FROM snapshots s
            WHERE s.content_sha256 = p.content_sha256)
    FROM pages p WHERE p.content_sha256 IN ({marks})"""
DERIVED_PAGE = (
    "SELECT p.content_sha256, p.structured, p.lines, p.lines_compression, d.has_article FROM pages p "
    "JOIN derive_pages d ON d.page_id = p.rowid WHERE p.rowid = ?"
)
INSERT_PAGE = (  # its lines with its rows of derive_page_lines, whatever else a row already there holds
    "INSERT INTO derive_pages(page_id, has_article, lines) VALUES (?, ?, ?) "
    "ON CONFLICT (page_id) DO UPDATE SET lines = excluded.lines"
)
# a page's own lines (model.page_lines_blob), all of its pages or those with evidence in a round
PAGE_LINES = "SELECT page_id, lines FROM derive_pages WHERE page_id IN ({marks})"
EVIDENCE_PAGE_LINES = "SELECT page_id, lines FROM derive_pages WHERE page_id IN ({marks}) AND {ev} IS NOT NULL"
SNAPSHOT_STATS = """SELECT p.page_id, count(*), min(s.observed_at), max(s.observed_at), min(s.url),
           (SELECT n.url FROM snapshots n WHERE n.content_sha256 = pg.content_sha256
            ORDER BY n.observed_at DESC, n.id DESC LIMIT 1)
    FROM derive_pages p JOIN pages pg ON pg.rowid = p.page_id JOIN snapshots s ON s.content_sha256 = pg.content_sha256
    WHERE p.page_id IN ({marks}) GROUP BY p.page_id"""
# a page's smallest and newest URL by urls.id (m035); newest_url_id NULL where it is min_url_id (m025)
SET_PAGE_STATS = (
    "UPDATE derive_pages SET snapshots = ?1, first_seen = ?2, last_seen = ?3, "
    "min_url_id = (SELECT id FROM urls WHERE url = ?4), "
    "newest_url_id = (SELECT id FROM urls WHERE url = ?5 AND ?5 IS NOT ?4) WHERE page_id = ?6"
)
PAGE_STATS = (
    "SELECT p.page_id, p.snapshots, p.first_seen, p.last_seen, u.url FROM derive_pages p "
    "LEFT JOIN urls u ON u.id = p.min_url_id WHERE p.page_id IN ({marks})"
)
GROUPS_OF_PAGES = (
    "SELECT g.grp FROM derive_pages p CROSS JOIN derive_groups g "  # CROSS: pages first, by id
    "ON g.space = 's1' AND g.text_id = p.text1_id "
    "WHERE p.page_id IN ({marks})"
)
BLOCKS_OF_PAGES = (
    "SELECT DISTINCT v.block FROM derive_page_blocks pb "
    "CROSS JOIN derive_block_versions v ON v.id = pb.version_id "
    "WHERE pb.page_id IN ({marks})"
)
# derive_article_order names an article's URL by urls.id (m034); the engine knows it by its text
GROUPS_OF_URLS = "SELECT grp FROM derive_article_order WHERE url_id IN (SELECT id FROM urls WHERE url IN ({marks}))"
PAGES_WITH = "SELECT page_id FROM derive_pages WHERE {column} IN ({marks})"  # column: a fixed name
PAGES_CONTAINING = "SELECT page_id FROM derive_page_lines WHERE line_id IN ({marks})"
ALL_PAGES = "SELECT page_id FROM derive_pages"

# --------------------------------------------------------------------------- lines and titles

LINE_IDS = "SELECT id, hash FROM derive_lines WHERE space = ? AND hash IN ({marks})"
INSERT_LINE = "INSERT INTO derive_lines(space, hash) VALUES (?, ?)"  # its text only once clustered
UNINDEXED_LINES = "SELECT id, cluster FROM derive_lines WHERE id IN ({marks}) AND indexed = 0"
BUCKET_MEMBERS = "SELECT key, line_id FROM derive_line_bands WHERE key IN ({marks})"
# the space is compared by the caller: ``space = ?`` here made the statement 4x slower (measured at 20k pages)
MEMBERS = "SELECT id, space, cluster, text FROM derive_lines WHERE id IN ({marks}) ORDER BY id"
MERGE_CLUSTER = "UPDATE derive_lines SET cluster = ? WHERE cluster = ?"
SET_LINE_CLUSTER = "UPDATE derive_lines SET cluster = ?, indexed = 1, text = ? WHERE id = ?"
INSERT_LINE_BAND = "INSERT OR IGNORE INTO derive_line_bands(key, line_id) VALUES (?, ?)"
OWN_CLUSTER = "UPDATE derive_lines SET cluster = id WHERE id IN ({marks}) AND cluster IS NULL"
INSERT_PAGE_LINE = "INSERT INTO derive_page_lines(line_id, page_id, kind) VALUES (?, ?, ?)"
DELETE_NEAR_CLUSTERS = "DELETE FROM derive_near WHERE cluster IN ({marks})"
SET_PAGE_TITLE = "UPDATE derive_pages SET title_id = ? WHERE page_id = ?"
LINES_OF_CLUSTER = "SELECT id FROM derive_lines WHERE cluster = ?"
LINES_OF_CLUSTERS = "SELECT id FROM derive_lines WHERE cluster IN ({marks})"
LINE_CLUSTERS = "SELECT id, cluster FROM derive_lines WHERE id IN ({marks})"

# --------------------------------------------------------------------------- the pages of lines on many pages
# (postings: derive_line_pages, a row per line and range of page ids)

COMMON_LINES = "SELECT DISTINCT line_id FROM derive_line_pages WHERE line_id IN ({marks})"
RANGES = "SELECT chunk, pages FROM derive_line_pages WHERE line_id = ? ORDER BY chunk"
RANGES_AT = "SELECT chunk, pages FROM derive_line_pages WHERE line_id = ? AND chunk IN ({marks})"
WRITE_RANGE = (
    "INSERT INTO derive_line_pages(line_id, chunk, pages) VALUES (?, ?, ?) "
    "ON CONFLICT (line_id, chunk) DO UPDATE SET pages = excluded.pages"
)
# lines among ? (a JSON list) with at least ? rows in derive_page_lines (by its key: at most that many read)
NOW_COMMON = (
    "SELECT j.value FROM json_each(?) j WHERE "
    "(SELECT count(*) FROM (SELECT 1 FROM derive_page_lines WHERE line_id = j.value LIMIT ?2)) >= ?2"
)
PLAIN_ROWS = "SELECT page_id, kind FROM derive_page_lines WHERE line_id = ?"
DELETE_PLAIN_ROWS = "DELETE FROM derive_page_lines WHERE line_id = ?"
EVIDENCE_OF_PAGES = "SELECT DISTINCT {ev} FROM derive_pages WHERE page_id IN ({marks}) AND {ev} IS NOT NULL LIMIT ?"
PAGES_WITH_EVIDENCE = "SELECT page_id FROM derive_pages WHERE page_id IN ({marks}) AND {ev} IS NOT NULL"

# --------------------------------------------------------------------------- article texts and their groups

TEXT_IDS = "SELECT id, hash FROM derive_texts WHERE hash IN ({marks})"
INSERT_TEXT = "INSERT INTO derive_texts(hash) VALUES (?)"  # no text: its key (m017); its signature later (m040)
INSERT_TEXT_BAND = "INSERT OR IGNORE INTO derive_text_bands(key, text_id) VALUES (?, ?)"
TEXT_SIGNATURES = "SELECT id, hash, signature FROM derive_texts WHERE id IN ({marks})"
# a text without a signature (m040) and the text of its article version, whose id is 'av-' + 12 hex digits of its key
HELD_TEXTS = """SELECT t.id, t.hash, av.text FROM derive_texts t
   LEFT JOIN article_versions av ON av.id = 'av-' || lower(hex(substr(t.hash, 1, 6)))
   WHERE t.id IN ({marks})"""
STORE_NEW_SIGNATURE = """UPDATE derive_texts SET signature = ?1 WHERE hash = ?2 AND signature IS NULL
   AND NOT EXISTS (SELECT 1 FROM article_versions WHERE id = 'av-' || lower(hex(substr(?2, 1, 6))) AND text = ?3)"""
RELEASE_SIGNATURE = """UPDATE derive_texts SET signature = NULL WHERE hash = ?1 AND signature IS NOT NULL
   AND EXISTS (SELECT 1 FROM article_versions WHERE id = 'av-' || lower(hex(substr(?1, 1, 6))) AND text = ?2)"""
KEY_NEIGHBOURS = (  # per joining text (a JSON list of [band key, text id]), the texts of the space sharing a key
    "SELECT DISTINCT j.text_id, b.text_id FROM (SELECT json_extract(value, '$[0]') AS key, "
    "json_extract(value, '$[1]') AS text_id FROM json_each(?)) j "
    "CROSS JOIN derive_text_bands b ON b.key = j.key "
    "CROSS JOIN derive_groups g ON g.space = ? AND g.text_id = b.text_id "
    "WHERE b.text_id != j.text_id"
)
GROUP_OF = "SELECT grp FROM derive_groups WHERE space = ? AND text_id = ?"
# crowded band keys (schema.HOT_TEXT_KEYS_DDL): which of these keys (a JSON list) are hot; which of these keys now hold
# more than ?2 texts; the groups under one key, per space, as the key turns hot; the groups under hot keys; a member
# counted in or out of a group under a key; a group renamed
HOT_KEYS_AMONG = "SELECT key FROM derive_hot_text_keys WHERE key IN (SELECT value FROM json_each(?))"
CROWDED_KEYS = (
    "SELECT b.key FROM (SELECT DISTINCT value AS key FROM json_each(?1)) j "
    "CROSS JOIN derive_text_bands b ON b.key = j.key GROUP BY b.key HAVING count(*) > ?2"
)
INSERT_HOT_KEY = "INSERT OR IGNORE INTO derive_hot_text_keys(key) VALUES (?)"
HOT_GROUPS_OF_KEY = """INSERT INTO derive_hot_text_groups(space, key, grp, members)
   SELECT g.space, b.key, g.grp, count(*) FROM derive_text_bands b
   CROSS JOIN (SELECT 'raw' AS space UNION ALL SELECT 's0' UNION ALL SELECT 's1') s
   CROSS JOIN derive_groups g ON g.space = s.space AND g.text_id = b.text_id
   WHERE b.key = ?1 GROUP BY g.space, g.grp"""
HOT_NEIGHBOURS = (  # the groups under each of these hot keys (a JSON list), but those of these texts (another)
    "SELECT h.key, h.grp FROM (SELECT DISTINCT value AS key FROM json_each(?1)) j "
    "CROSS JOIN derive_hot_text_groups h ON h.space = ?2 AND h.key = j.key "
    "WHERE h.grp NOT IN (SELECT value FROM json_each(?3))"
)
HOT_COUNT = """INSERT INTO derive_hot_text_groups(space, key, grp, members) VALUES (?, ?, ?, ?)
   ON CONFLICT DO UPDATE SET members = members + excluded.members"""
HOT_EMPTIED = "DELETE FROM derive_hot_text_groups WHERE space = ? AND key = ? AND grp = ? AND members <= 0"
HOT_RELABEL = """INSERT INTO derive_hot_text_groups(space, key, grp, members)
   SELECT space, key, ?1, members FROM derive_hot_text_groups WHERE space = ?2 AND grp = ?3
   ON CONFLICT DO UPDATE SET members = members + excluded.members"""
HOT_DROP_GROUP = "DELETE FROM derive_hot_text_groups WHERE space = ? AND grp = ?"
ANY_HOT_KEY = "SELECT EXISTS (SELECT 1 FROM derive_hot_text_keys)"
GROUP_FIRST_MEMBERS = "SELECT text_id FROM derive_groups WHERE space = ? AND grp = ? ORDER BY text_id LIMIT ?"
GROUP_MEMBERS_UNDER_KEYS = (  # the members of a group (?3) of the space (?2) holding one of these keys (a JSON list)
    "SELECT DISTINCT b.text_id FROM (SELECT DISTINCT value AS key FROM json_each(?1)) j "
    "CROSS JOIN derive_text_bands b ON b.key = j.key "
    "CROSS JOIN derive_groups g ON g.space = ?2 AND g.text_id = b.text_id WHERE g.grp = ?3"
)
GROUPS_OF_TEXTS = "SELECT text_id, grp FROM derive_groups WHERE space = ? AND text_id IN ({marks})"
MEMBER = "SELECT grp, pages FROM derive_groups WHERE space = ? AND text_id = ?"
MEMBERS_PRESENT = "SELECT text_id FROM derive_groups WHERE space = ? AND text_id IN ({marks})"
MEMBER_PAGE_LEFT = "UPDATE derive_groups SET pages = pages - 1 WHERE space = ? AND text_id = ?"
MEMBER_PAGES_JOINED = "UPDATE derive_groups SET pages = pages + ? WHERE space = ? AND text_id = ?"
DELETE_MEMBER = "DELETE FROM derive_groups WHERE space = ? AND text_id = ?"
INSERT_MEMBER = "INSERT INTO derive_groups(space, text_id, grp, pages) VALUES (?, ?, ?, ?)"
GROUP_MEMBERS = "SELECT text_id FROM derive_groups WHERE space = ? AND grp = ?"
GROUP_MEMBERS_ORDERED = "SELECT text_id FROM derive_groups WHERE space = ? AND grp = ? ORDER BY text_id"
RELABEL_GROUP = "UPDATE derive_groups SET grp = ? WHERE space = ? AND grp = ?"
SET_MEMBER_GROUP = "UPDATE derive_groups SET grp = ? WHERE space = ? AND text_id = ?"
SET_RAW_TEXT = "UPDATE derive_pages SET raw_id = ? WHERE page_id = ?"

# --------------------------------------------------------------------------- evidence and furniture (per round)

EVIDENCE_INPUTS = """SELECT p.page_id, p.has_article, p.title_id, l.cluster, g.grp, p.{ev} FROM derive_pages p
    LEFT JOIN derive_lines l ON l.id = p.title_id
    LEFT JOIN derive_groups g ON g.space = ? AND g.text_id = p.{evidence_text}
    WHERE p.page_id IN ({marks})"""
SET_EVIDENCE = "UPDATE derive_pages SET {ev} = ? WHERE page_id = ?"
REPEATS = f"""SELECT l.id, l.{{rep}}, (SELECT count(*) FROM (SELECT DISTINCT p.{{ev}} FROM derive_page_lines pl
        JOIN derive_pages p ON p.page_id = pl.page_id
        WHERE pl.line_id = l.id AND pl.kind & {CANDIDATE} AND p.{{ev}} IS NOT NULL LIMIT 2)) >= 2
    FROM derive_lines l WHERE l.id IN ({{marks}})"""
SET_REPEAT = "UPDATE derive_lines SET {rep} = ? WHERE id = ?"
EVIDENCE_PAGES_OF_LINES = (
    "SELECT pl.page_id FROM derive_page_lines pl JOIN derive_pages p ON p.page_id = pl.page_id "
    "WHERE pl.line_id IN ({marks}) AND p.{ev} IS NOT NULL"
)
NEAR_CLUSTERS = f"""SELECT c.value, (SELECT count(*) FROM (SELECT DISTINCT p.{{ev}} FROM derive_lines l
        JOIN derive_page_lines pl ON pl.line_id = l.id AND pl.kind & {NEAR}
        JOIN derive_pages p ON p.page_id = pl.page_id
        WHERE l.cluster = c.value AND p.{{ev}} IS NOT NULL LIMIT 2)) >= 2
    FROM json_each(?) c"""
# ... the articles (up to two) a cluster's plain rows name, to join with those of its common lines' ranges
NEAR_EVIDENCE = f"""SELECT DISTINCT p.{{ev}} FROM derive_lines l
    JOIN derive_page_lines pl ON pl.line_id = l.id AND pl.kind & {NEAR}
    JOIN derive_pages p ON p.page_id = pl.page_id
    WHERE l.cluster = ? AND p.{{ev}} IS NOT NULL LIMIT 2"""
CLUSTER_LINES = "SELECT cluster, id FROM derive_lines WHERE cluster IN ({marks})"
INSERT_NEAR = "INSERT OR IGNORE INTO derive_near(stage, cluster) VALUES (?, ?)"
DELETE_NEAR = "DELETE FROM derive_near WHERE stage = ? AND cluster = ?"
FLAGS = """SELECT l.id, l.{flag}, (l.cluster IS NOT NULL AND (
        EXISTS (SELECT 1 FROM derive_near n WHERE n.stage = {stage} AND n.cluster = l.cluster)
        OR l.{in_runs} > 0 {earlier}))
    FROM derive_lines l WHERE l.id IN ({marks})"""
EARLIER_FLAG = "OR l.{earlier_flag} = 1"
SET_FLAG = "UPDATE derive_lines SET {flag} = ? WHERE id = ?"
ANY_FURNITURE = "SELECT 1 FROM derive_lines WHERE {flag} = 1 LIMIT 1"
REPEATED_LINES = "SELECT id, hash FROM derive_lines WHERE id IN ({marks}) AND {rep} = 1"  # what runs are made of
RUNS_OF_PAGES = (
    "SELECT p.page_id, s.value FROM derive_pages p LEFT JOIN derive_run_sets s ON s.id = p.{runs} "
    "WHERE p.page_id IN ({marks})"
)
SET_RUNS_OF_PAGE = "UPDATE derive_pages SET {runs} = ? WHERE page_id = ?"
COUNT_IN_RUNS = "UPDATE derive_lines SET {in_runs} = {in_runs} + ? WHERE id = ?"
FURNITURE_LINES = "SELECT id, hash FROM derive_lines WHERE {flag} = 1"  # by the partial index: a few hundred
PAGE_TEXTS_AND_RUNS = (
    "SELECT p.page_id, p.{text}, s.value, g.grp FROM derive_pages p "
    "LEFT JOIN derive_run_sets s ON s.id = p.runs_id "
    "LEFT JOIN derive_groups g ON g.space = ? AND g.text_id = p.{text} WHERE p.page_id IN ({marks})"
)
SET_PAGE_TEXT = "UPDATE derive_pages SET {text} = ? WHERE page_id = ?"
UNLINK_CONTENT_ARTICLES = "DELETE FROM content_articles WHERE page_id = ?"

# --------------------------------------------------------------------------- blocks and block versions

SET_PAGE_RUNS = "UPDATE derive_pages SET runs_id = ? WHERE page_id = ?"
INSERT_RUN_SET = "INSERT INTO derive_run_sets(value) VALUES (?)"
RUN_SET_ID = "SELECT id FROM derive_run_sets WHERE value = ?"


def run_set_id(conn: sqlite3.Connection, value: bytes | None) -> int | None:
    """The id in ``derive_run_sets`` of a page's runs (``runs_json`` or ``model.line_ids_blob``), added when
    new; None for no runs. Pages of one layout share their runs: each distinct value is stored once (m025). A
    value no page names any more is kept (they are few: one per layout ever seen; a rebuild starts afresh)."""
    if not value:
        return None
    found = conn.execute(RUN_SET_ID, [value]).fetchone()  # nearly always there: one statement a page
    return found[0] if found else conn.execute(INSERT_RUN_SET, [value]).lastrowid


def runs_json(runs: list[list[int]]) -> bytes | None:
    """A page's block runs (line indexes) as ``derive_run_sets`` holds them: compact JSON, as SQLite's
    ``json()`` writes it (m025 converted the older runs with it); None for none."""
    return json.dumps(runs, separators=(",", ":")).encode("utf-8") if runs else None


PAGE_BLOCKS = "SELECT version_id, n FROM derive_page_blocks WHERE page_id = ?"
VERSIONS_OF_PAGES = "SELECT page_id, version_id, n FROM derive_page_blocks WHERE page_id IN ({marks})"
SET_PAGE_BLOCK = "UPDATE derive_page_blocks SET n = ? WHERE version_id = ? AND page_id = ?"
INSERT_PAGE_BLOCK = "INSERT INTO derive_page_blocks(version_id, page_id, n) VALUES (?, ?, ?)"
DELETE_PAGE_BLOCK = "DELETE FROM derive_page_blocks WHERE version_id = ? AND page_id = ?"
ADD_TO_VERSION = """UPDATE derive_block_versions SET snapshots = snapshots + ?,
      first_seen = min(coalesce(first_seen, ?), ?), last_seen = max(coalesce(last_seen, ?), ?),
      min_url = min(coalesce(min_url, ?), ?) WHERE id = ?"""
RECOUNT_VERSION = """UPDATE derive_block_versions SET (snapshots, first_seen, last_seen, min_url) = (
      SELECT sum(pb.n * p.snapshots), min(p.first_seen), max(p.last_seen), min(u.url)
      FROM derive_page_blocks pb JOIN derive_pages p ON p.page_id = pb.page_id LEFT JOIN urls u ON u.id = p.min_url_id
      WHERE pb.version_id = ?)
      WHERE id = ?"""
VERSION_HASH = "SELECT hash FROM derive_block_versions WHERE id = ?"
VERSION_BY_HASH = "SELECT id FROM derive_block_versions WHERE hash = ?"
VERSION_BLOCK = "SELECT block FROM derive_block_versions WHERE id = ?"
VERSION_BLOCK_AND_PAGES = "SELECT block, pages FROM derive_block_versions WHERE id = ?"
SET_VERSION_PAGES = "UPDATE derive_block_versions SET pages = ? WHERE id = ?"
INSERT_VERSION = "INSERT INTO derive_block_versions(hash, line_ids, lines, block, pages) VALUES (?, ?, ?, 0, 0)"
SET_VERSION_BLOCK = "UPDATE derive_block_versions SET block = ? WHERE id = ?"
DELETE_VERSION = "DELETE FROM derive_block_versions WHERE id = ?"
NEXT_BLOCK = "SELECT coalesce(max(block), 0) + 1 FROM derive_block_versions"
VERSIONS_OF_BLOCK = "SELECT id, line_ids FROM derive_block_versions WHERE block = ? ORDER BY id"
VERSION_ROWS_OF_BLOCK = (
    "SELECT id, hash, line_ids, lines, snapshots, first_seen, last_seen, min_url FROM derive_block_versions "
    "WHERE block = ?"
)
BLOCKS_OF_CLUSTERS = "SELECT DISTINCT block FROM derive_block_clusters WHERE cluster IN ({marks})"
BLOCK_OF_CLUSTER = "SELECT block FROM derive_block_clusters WHERE cluster = ?"
SET_CLUSTER_BLOCK = "INSERT OR REPLACE INTO derive_block_clusters(cluster, block) VALUES (?, ?)"
INSERT_CLUSTER_BLOCK = "INSERT INTO derive_block_clusters(cluster, block) VALUES (?, ?)"
DELETE_CLUSTER_BLOCK = "DELETE FROM derive_block_clusters WHERE cluster = ?"
DELETE_BLOCK_CLUSTERS = "DELETE FROM derive_block_clusters WHERE block = ?"
RELABEL_VERSIONS = "UPDATE derive_block_versions SET block = ? WHERE block = ?"
RELABEL_CLUSTERS = "UPDATE derive_block_clusters SET block = ? WHERE block = ?"

# --------------------------------------------------------------------------- the public records: articles

ARTICLE_ORDER = "SELECT grp, sort_key, public_id FROM derive_article_order WHERE grp IN ({marks})"
DETACH_ARTICLE_VERSIONS = "UPDATE article_versions SET article_id = 0 WHERE article_id = ?"
DELETE_ARTICLE = "DELETE FROM articles WHERE id = ?"
DELETE_ARTICLE_ORDER = "DELETE FROM derive_article_order WHERE grp = ?"
INSERT_ARTICLE = (
    "INSERT INTO articles(id, title, url, status, versions, snapshots, first_seen, last_seen) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_ARTICLE_ORDER = (
    f"INSERT INTO derive_article_order(grp, sort_key, public_id, url_id) VALUES (?, ?, ?, {URL_ID_OF})"
)
UPSERT_ARTICLE_VERSION = """INSERT INTO article_versions(id, article_id, version, title, published, text,
      similarity_to_previous, snapshots, first_seen, last_seen)
      VALUES (:id, :article_id, :version, :title, :published, :text, :similarity_to_previous,
              :snapshots, :first_seen, :last_seen)
      ON CONFLICT(id) DO UPDATE SET article_id = excluded.article_id, version = excluded.version,
      title = excluded.title, published = excluded.published,
      similarity_to_previous = excluded.similarity_to_previous, snapshots = excluded.snapshots,
      first_seen = excluded.first_seen, last_seen = excluded.last_seen"""
MOVE_ARTICLE_VERSION = """UPDATE article_versions SET article_id = :article_id, version = :version, title = :title,
      published = :published, similarity_to_previous = :similarity_to_previous, snapshots = :snapshots,
      first_seen = :first_seen, last_seen = :last_seen WHERE id = :id"""  # a version already written: not its text
# the content links name a content by its page id (m023); the engine's records know it by hash: (hash, version)
LINK_CONTENT_ARTICLE = (
    "INSERT OR REPLACE INTO content_articles(page_id, article_version_id) "
    "SELECT rowid, ?2 FROM pages WHERE content_sha256 = ?1"
)
UNLINK_ARTICLE_VERSION = "DELETE FROM content_articles WHERE article_version_id = ?"
DELETE_ARTICLE_VERSION = "DELETE FROM article_versions WHERE id = ?"
ARTICLE_MEMBERS = """SELECT g.grp, pg.content_sha256, p.text1_id, lower(hex(t.hash)), p.snapshots, p.first_seen,
          p.last_seen, mu.url, coalesce(nu.url, mu.url), pg.title, pg.published
   FROM derive_groups g JOIN derive_pages p ON p.text1_id = g.text_id
   JOIN derive_texts t ON t.id = p.text1_id JOIN pages pg ON pg.rowid = p.page_id
   LEFT JOIN urls mu ON mu.id = p.min_url_id LEFT JOIN urls nu ON nu.id = p.newest_url_id
   WHERE g.space = 's1' AND g.grp IN ({marks})"""
# per URL, its newest observation's status: 'removed' when it said the page is gone (dedupe.pages.says_removed)
LATEST_STATUSES = """SELECT u.value, (SELECT status FROM snapshots WHERE url = u.value
      ORDER BY observed_at DESC, id DESC LIMIT 1) FROM json_each(?) u"""
VERSIONS_THERE = "SELECT id FROM article_versions WHERE id IN ({marks})"
# an article kept in place (its pages seen again): its row and its versions' as the record writer builds them
ARTICLE_VERSION_FIELDS = (
    "version",
    "title",
    "published",
    "similarity_to_previous",
    "snapshots",
    "first_seen",
    "last_seen",
)
ARTICLE_VERSIONS_OF = (
    f"SELECT article_id, id, {', '.join(ARTICLE_VERSION_FIELDS)} FROM article_versions WHERE article_id IN ({{marks}})"
)
ARTICLE_ROWS = (
    "SELECT id, title, url, status, versions, snapshots, first_seen, last_seen FROM articles WHERE id IN ({marks})"
)
UPDATE_ARTICLE = (
    "UPDATE articles SET title = ?, url = ?, status = ?, versions = ?, snapshots = ?, first_seen = ?, "
    "last_seen = ? WHERE id = ?"
)
UPDATE_ARTICLE_ORDER_URL = f"UPDATE derive_article_order SET url_id = {URL_ID_OF} WHERE grp = ?"
# a content's link to its version, written only when it is new or points elsewhere (no rewrite of the same row)
RELINK_CONTENT_ARTICLE = """INSERT INTO content_articles(page_id, article_version_id)
  SELECT rowid, ?2 FROM pages WHERE content_sha256 = ?1
  ON CONFLICT(page_id) DO UPDATE SET article_version_id = excluded.article_version_id
  WHERE article_version_id != excluded.article_version_id"""

# --------------------------------------------------------------------------- the public records: blocks

BLOCK_ORDER = "SELECT block, sort_key, public_id FROM derive_block_order WHERE block IN ({marks})"
BLOCK_VERSION_IDS = "SELECT id FROM block_versions WHERE block_id = ?"
DETACH_BLOCK_VERSIONS = "UPDATE block_versions SET block_id = 0 WHERE block_id = ?"
DELETE_BLOCK = "DELETE FROM blocks WHERE id = ?"
DELETE_BLOCK_ORDER = "DELETE FROM derive_block_order WHERE block = ?"
INSERT_BLOCK = "INSERT INTO blocks(id, name, versions, snapshots, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)"
INSERT_BLOCK_ORDER = "INSERT INTO derive_block_order(block, sort_key, public_id) VALUES (?, ?, ?)"
DELETE_VERSION_LINES = "DELETE FROM block_version_lines WHERE block_version_id IN ({marks})"
DELETE_VERSION_CHANGES = "DELETE FROM block_line_changes WHERE block_version_id IN ({marks})"
MOVE_BLOCK_VERSION = (
    "UPDATE block_versions SET block_id = :block_id, version = :version, snapshots = :snapshots, "
    "first_seen = :first_seen, last_seen = :last_seen WHERE id = :id"
)
INSERT_BLOCK_VERSION = """INSERT INTO block_versions(id, block_id, version, language, text, line_count, snapshots,
   first_seen, last_seen) VALUES (:id, :block_id, :version, :language, :text, :line_count,
   :snapshots, :first_seen, :last_seen)"""
INSERT_FACT = "INSERT OR IGNORE INTO facts(block_version_id, delegation, field, value, line_no) VALUES (?, ?, ?, ?, ?)"
INSERT_VERSION_LINE = "INSERT INTO block_version_lines(block_version_id, line_no, slot, text) VALUES (?, ?, ?, ?)"
INSERT_LINE_CHANGE = (
    "INSERT INTO block_line_changes(block_version_id, previous_version_id, slot, kind, "
    "old_text, new_text, detail) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
CONTENTS_OF_BLOCK_VERSION = (
    "SELECT p.content_sha256 FROM content_blocks cb JOIN pages p ON p.rowid = cb.page_id WHERE cb.block_version_id = ?"
)
DROP_BLOCK_VERSION = (
    "DELETE FROM facts WHERE block_version_id = ?",
    "DELETE FROM block_version_lines WHERE block_version_id = ?",
    "DELETE FROM block_line_changes WHERE block_version_id = ?",
    "DELETE FROM content_blocks WHERE block_version_id = ?",
    "DELETE FROM block_line_changes WHERE previous_version_id = ?",
    "DELETE FROM block_versions WHERE id = ?",
)
UNLINK_CONTENT_BLOCK = (  # (hash, version), as LINK_CONTENT_BLOCK
    "DELETE FROM content_blocks WHERE page_id = (SELECT rowid FROM pages WHERE content_sha256 = ?1) "
    "AND block_version_id = ?2"
)
LINK_CONTENT_BLOCK = (
    "INSERT OR IGNORE INTO content_blocks(page_id, block_version_id) "
    "SELECT rowid, ?2 FROM pages WHERE content_sha256 = ?1"
)
BLOCK_VERSION_WRITTEN = "SELECT 1 FROM block_versions WHERE id = ?"
FACTS_OF_VERSION = "SELECT delegation, field, value, line_no FROM facts WHERE block_version_id = ?"


# --------------------------------------------------------------------------- public ids as ranks


class RankSql(NamedTuple):
    """The statements that keep one record table's public ids ranks by sort key."""

    last_below: str  # the public id of the last row below a key
    between: str  # label, sort key and public id of the rows between two keys
    move_id: str  # a record's id
    move_child: str  # the id its child rows point at
    set_public_id: str  # the order table's public id of a label


ARTICLE_RANKS = RankSql(
    last_below="SELECT public_id FROM [derive_article_order] WHERE sort_key < ? ORDER BY sort_key DESC LIMIT 1",
    between="SELECT grp, sort_key, public_id FROM [derive_article_order] WHERE sort_key >= ? AND sort_key <= ?",
    move_id="UPDATE [articles] SET id = ? WHERE id = ?",
    move_child="UPDATE [article_versions] SET article_id = ? WHERE article_id = ?",
    set_public_id="UPDATE [derive_article_order] SET public_id = ? WHERE grp = ?",
)
BLOCK_RANKS = RankSql(
    last_below="SELECT public_id FROM [derive_block_order] WHERE sort_key < ? ORDER BY sort_key DESC LIMIT 1",
    between="SELECT block, sort_key, public_id FROM [derive_block_order] WHERE sort_key >= ? AND sort_key <= ?",
    move_id="UPDATE [blocks] SET id = ? WHERE id = ?",
    move_child="UPDATE [block_versions] SET block_id = ? WHERE block_id = ?",
    set_public_id="UPDATE [derive_block_order] SET public_id = ? WHERE block = ?",
)
