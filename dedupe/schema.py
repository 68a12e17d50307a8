"""The archive's schema: the tables, the DDL that creates them, and what opens a file as an archive.

The schema is applied by ``dedupe.migrations.migrate`` (sqlite-utils ``Migrations``: each step run
in a transaction and recorded in ``_sqlite_migrations``); it changes only by a new step appended
there. ``INITIAL_DDL`` is the first step's; later ones alter it. This module imports nothing of the
project, so both the steps and the code that reads the archive can name its tables. The named
queries that read these tables live in ``dedupe.queries``.

Tables come in two kinds:

* **observations** - ``contents``, ``snapshots``, ``pages``: written once, never rewritten
  (only recompressed); the truth of what was fetched or imported.
* **derived** - ``articles``, ``article_versions``, ``blocks``, ``block_versions``,
  ``block_version_lines``, ``block_line_changes``, ``content_blocks``, ``facts``: a
  deterministic function of the observations, rebuilt by ``dedupe.archive.Archive.refresh``
  in one transaction, so that the result never depends on the order snapshots arrived in.
"""

from __future__ import annotations

from sqlite_utils import Database

# --- which tables are what ----------------------------------------------------------------------------

# Delegations as people (migration 14), kept by dedupe.archive.rosters with the rest, compared by `check`.
ROSTER_TABLES = ("roster_changes", "roster_memberships", "roster_members", "content_rosters", "roster_versions")

DERIVED_TABLES = (
    "facts",
    "content_articles",
    "block_line_changes",
    "block_version_lines",
    "content_blocks",
    "block_versions",
    "blocks",
    "article_versions",
    "articles",
    *ROSTER_TABLES,
)

# Incremental derivation (migration 6): the state ``dedupe.archive.incremental`` keeps.
DERIVE_STATE_TABLES = (
    "derive_lines",
    "derive_line_bands",
    "derive_near",
    "derive_runs",
    "derive_texts",
    "derive_text_bands",
    "derive_groups",
    "derive_pages",
    "derive_page_lines",
    "derive_block_versions",
    "derive_page_blocks",
    "derive_block_clusters",
    "derive_article_order",
    "derive_block_order",
)

# Time-derived records (migration 10): what analysts ask about time, kept by the engine.
TIME_TABLES = ("fact_periods", "fact_segments", "block_version_urls", "url_runs")


# --- opening a file as an archive ---------------------------------------------------------------------


APPLICATION_ID = 0x70614172  # "paAr" in the SQLite header: a file this project started, even before its tables


def is_archive(db: Database) -> bool:
    """True when ``db`` was created by this project, or is no database yet (a new or 0-byte file).

    An existing SQLite database without tables is someone else's empty database, not ours:
    refused rather than adopted (unless its header carries APPLICATION_ID)."""
    names = set(db.table_names())
    if not names:
        empty = db.execute("PRAGMA page_count").fetchone()[0] == 0
        return empty or db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    return "_sqlite_migrations" in names and "snapshots" in names


def claim(db: Database) -> None:
    """Mark a new database as this project's before anything else is written to it."""
    if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


# --- the first migration's DDL: observations, derived records, views ----------------------------------

INITIAL_DDL = """
        CREATE TABLE contents (
            sha256 TEXT PRIMARY KEY,            -- of the raw bytes
            kind TEXT NOT NULL,                 -- 'html' or 'text'
            size INTEGER NOT NULL,              -- raw bytes
            stored_size INTEGER NOT NULL,       -- compressed bytes
            compression TEXT NOT NULL,          -- 'zstd' or 'zstd-dict:<id>'
            encoding TEXT NOT NULL,             -- charset the text was decoded with
            body BLOB NOT NULL
        );
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            url TEXT NOT NULL,
            host TEXT,
            observed_at TEXT NOT NULL,          -- ISO 8601, UTC
            source TEXT NOT NULL,               -- 'import' or 'crawl'
            origin TEXT,                        -- file path or crawl run that produced it
            http_status INTEGER,
            headers TEXT,                       -- JSON object
            etag TEXT,
            last_modified TEXT,
            page_type TEXT,                     -- 'article', 'listing', 'country' or NULL
            content_sha256 TEXT REFERENCES contents(sha256),
            status TEXT NOT NULL                -- 'new', 'seen_again', 'not_modified', 'removed', 'error'
        );
        CREATE UNIQUE INDEX snapshots_identity  -- also serves "the snapshots of a URL, by time"
            ON snapshots(url, observed_at, coalesce(content_sha256, ''));
        CREATE INDEX snapshots_content ON snapshots(content_sha256);
        CREATE INDEX snapshots_origin ON snapshots(origin);
        CREATE TABLE pages (
            content_sha256 TEXT PRIMARY KEY REFERENCES contents(sha256),
            extractor TEXT NOT NULL,            -- version of the extraction code
            language TEXT,
            title TEXT,
            published TEXT,                     -- ISO date or NULL, never guessed
            structured INTEGER NOT NULL,        -- 1 when title/date or an article body were found
            lines TEXT NOT NULL                 -- JSON [[text, role, section], ...]
        );
        CREATE INDEX pages_extractor ON pages(extractor);
        CREATE TABLE archive_state (
            key TEXT PRIMARY KEY,               -- 'derived_snapshot_id' (the last snapshot derived), 'derive_engine',
                                                -- 'stage:<name>' (each stage's version), 'made_by' (the demo's)
            value TEXT NOT NULL
        );
        CREATE TABLE signatures (
            text_sha256 TEXT PRIMARY KEY,
            config TEXT NOT NULL,               -- str(MinhashConfig): how it was made
            signature BLOB NOT NULL             -- datasketch LeanMinHash.serialize
        );
        CREATE TABLE articles (
            id INTEGER PRIMARY KEY,
            title TEXT,
            url TEXT,                           -- the URL it was last seen under
            status TEXT NOT NULL,               -- 'live' or 'removed'
            versions INTEGER NOT NULL,
            snapshots INTEGER NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL
        );
        CREATE TABLE article_versions (
            id TEXT PRIMARY KEY,                -- 'av-' + hash of the text
            article_id INTEGER NOT NULL REFERENCES articles(id),
            version INTEGER NOT NULL,           -- 1, 2, ... by first_seen
            title TEXT,
            published TEXT,
            text TEXT NOT NULL,                 -- block-free article text
            similarity_to_previous REAL,        -- estimated Jaccard to version - 1
            snapshots INTEGER NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL
        );
        CREATE INDEX article_versions_article ON article_versions(article_id, version);
        CREATE TABLE blocks (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,                 -- start of its most common first line
            versions INTEGER NOT NULL,
            snapshots INTEGER NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL
        );
        CREATE TABLE block_versions (
            id TEXT PRIMARY KEY,                -- 'bv-' + hash of the text
            block_id INTEGER NOT NULL REFERENCES blocks(id),
            version INTEGER NOT NULL,
            language TEXT NOT NULL,             -- 'en' or 'ru': facts are compared within a language
            text TEXT NOT NULL,
            line_count INTEGER NOT NULL,
            snapshots INTEGER NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL
        );
        CREATE INDEX block_versions_block ON block_versions(block_id, version);
        CREATE TABLE block_version_lines (
            block_version_id TEXT NOT NULL REFERENCES block_versions(id),
            line_no INTEGER NOT NULL,
            slot INTEGER NOT NULL,              -- aligned position, shared by all versions of the block
            text TEXT NOT NULL,
            PRIMARY KEY (block_version_id, line_no)
        );
        CREATE TABLE block_line_changes (
            block_version_id TEXT NOT NULL REFERENCES block_versions(id),
            previous_version_id TEXT NOT NULL REFERENCES block_versions(id),
            slot INTEGER NOT NULL,
            kind TEXT NOT NULL,                 -- 'conflict', 'missing', 'filled', 'reworded', 'changed',
                                                --  'added' or 'removed'
            old_text TEXT,
            new_text TEXT,
            detail TEXT,
            PRIMARY KEY (block_version_id, slot)
        );
        CREATE TABLE content_blocks (
            content_sha256 TEXT NOT NULL REFERENCES contents(sha256),
            block_version_id TEXT NOT NULL REFERENCES block_versions(id),
            PRIMARY KEY (content_sha256, block_version_id)
        );
        CREATE INDEX content_blocks_version ON content_blocks(block_version_id);
        CREATE TABLE content_articles (
            content_sha256 TEXT PRIMARY KEY REFERENCES contents(sha256),
            article_version_id TEXT NOT NULL REFERENCES article_versions(id)
        );
        CREATE INDEX content_articles_version ON content_articles(article_version_id);
        CREATE TABLE facts (
            block_version_id TEXT NOT NULL REFERENCES block_versions(id),
            delegation TEXT NOT NULL,           -- English country name
            field TEXT NOT NULL,                -- seats_total, seats.<chamber>, plenipotentiary, website.<body>
            value TEXT NOT NULL,                -- '' when the line is there but empty
            line_no INTEGER NOT NULL,
            PRIMARY KEY (block_version_id, delegation, field, line_no)
        );

        -- every snapshot with the facts its page stated (in the page's language)
        CREATE VIEW snapshot_facts AS
        SELECT s.id AS snapshot_id, s.url, s.observed_at, bv.language, f.delegation, f.field, f.value,
               f.block_version_id
        FROM snapshots s
        JOIN content_blocks cb ON cb.content_sha256 = s.content_sha256
        JOIN facts f ON f.block_version_id = cb.block_version_id
        JOIN block_versions bv ON bv.id = f.block_version_id;

        -- each stated value of each (language, delegation, field), with how often and when it was seen
        CREATE VIEW fact_values AS
        SELECT language, delegation, field, value,
               count(DISTINCT snapshot_id) AS snapshots,
               min(observed_at) AS first_seen, max(observed_at) AS last_seen
        FROM snapshot_facts
        GROUP BY language, delegation, field, value;

        -- the same (delegation, field) with different non-empty values across snapshots of one
        -- language: "Виктор Когут" and "Viktor Kogut" are one name in two scripts, not a conflict
        CREATE VIEW conflicts AS
        WITH v AS (SELECT * FROM fact_values WHERE value != ''),
             c AS (SELECT language, delegation, field FROM v GROUP BY language, delegation, field HAVING count(*) > 1)
        SELECT v.language, v.delegation, v.field, v.value, v.snapshots, v.first_seen, v.last_seen
        FROM v JOIN c USING (language, delegation, field);

        -- values that are absent (empty) in some snapshots: missing, not a conflict
        CREATE VIEW missing_values AS
        SELECT language, delegation, field, snapshots, first_seen, last_seen
        FROM fact_values WHERE value = '';

        -- snapshots with what was extracted from them
        CREATE VIEW snapshots_extracted AS
        SELECT s.id, s.url, s.observed_at, s.source, s.http_status, s.status, s.page_type,
               s.content_sha256, ca.article_version_id, av.article_id,
               (SELECT group_concat(cb.block_version_id) FROM content_blocks cb
                WHERE cb.content_sha256 = s.content_sha256) AS block_version_ids
        FROM snapshots s
        LEFT JOIN content_articles ca ON ca.content_sha256 = s.content_sha256
        LEFT JOIN article_versions av ON av.id = ca.article_version_id;
        """
