"""The archive's schema: the tables, the DDL that creates them, and what opens a file as an archive.

The schema is applied by ``dedupe.migrations.migrate`` (sqlite-utils ``Migrations``: each step run
in a transaction and recorded in ``_sqlite_migrations``); it changes only by a new step appended
there. ``INITIAL_DDL`` is the first step's, ``DERIVE_STATE_DDL`` and ``ROSTER_DDL`` those of the steps
that add the engine's state and the rosters; later steps alter them. This module imports nothing of the
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
    "derive_texts",
    "derive_text_bands",
    "derive_hot_text_keys",
    "derive_hot_text_groups",
    "derive_groups",
    "derive_pages",
    "derive_run_sets",
    "derive_page_lines",
    "derive_line_pages",
    "derive_block_versions",
    "derive_page_blocks",
    "derive_block_clusters",
    "derive_article_order",
    "derive_block_order",
)

# Tables without an INTEGER PRIMARY KEY whose rows others name by rowid (observations.content_id, the content links
# and derive_pages.page_id by pages.rowid, 'zstd-ref:#<rowid>'), each with its key: ``compact`` checks VACUUM kept them.
ROWID_NAMED = (("contents", "sha256"), ("pages", "content_sha256"))

# A URL's row id by its text, in a statement whose parameter is the URL: the tables that name URLs by ``urls.id``
# (the time-derived records, the engine's article order) are written through it.
URL_ID_OF = "(SELECT id FROM urls WHERE url = ?)"

# Time-derived records (migration 10): what analysts ask about time, kept by the engine. ``check`` compares these
# (``url_runs`` and ``block_version_urls`` are views since m033); the engine writes and empties TIME_STORED_TABLES.
TIME_TABLES = ("fact_periods", "fact_segments", "block_version_urls", "url_runs")
TIME_STORED_TABLES = ("fact_periods", "fact_segments", "block_version_urls_by_url_id", "url_runs_by_url_id")


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
    return "_sqlite_migrations" in names and bool({"snapshots", "observations"} & names)  # before m027, after it


# SQLite's page size for new archives (and for one ``pa-archive compact`` rewrites). An article version's row
# (2-3 KB of text) fits once in a 4 KB page, leaving a third of ``article_versions`` empty; at 8 KB three fit.
# The 1M-observation benchmark archive: 2,714 -> 2,609 MB, no analyst page or command slower (bench.analyst).
PAGE_SIZE = 8192


def claim(db: Database) -> None:
    """Mark a new database as this project's before anything else is written to it (with PAGE_SIZE pages:
    a page size is chosen once, before the file's first write)."""
    if db.execute("PRAGMA page_count").fetchone()[0] == 0:
        db.execute(f"PRAGMA page_size = {PAGE_SIZE}")
    if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")


# --- the first migration's DDL: observations, derived records, views ----------------------------------

INITIAL_DDL = """
        CREATE TABLE contents (
            sha256 TEXT PRIMARY KEY,            -- of the raw bytes
            kind TEXT NOT NULL,                 -- 'html' or 'text'
            size INTEGER NOT NULL,              -- raw bytes
            stored_size INTEGER NOT NULL,       -- compressed bytes
            compression TEXT NOT NULL,          -- 'zstd', 'zstd-dict:<id>' or 'zstd-ref:#<rowid>' (dedupe.storage)
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


# The engine's own state (migration 6; m016 changed derive_lines, m017 derive_texts: keyed by 16-byte
# BLOBs, no text kept; the article sort keys end in 32 hex digits; m019 dropped derive_runs for
# derive_pages.runs0/runs1 and derive_lines.in_runs0/in_runs1; m022 dropped the index of derive_text_bands by
# text, which an archive made before it had; m038 dropped derive_lines.signature, computed again from the text):
# persisted MinHash/LSH indexes and per-page derivation state, kept by ``dedupe.archive.incremental`` and its stages.
DERIVE_STATE_DDL = """
CREATE TABLE derive_lines (             -- every distinct line text of a page, and (apart) every title
    id INTEGER PRIMARY KEY,
    space TEXT NOT NULL,                -- 'line' or 'title'
    hash TEXT NOT NULL,                 -- text_hash(text)
    text TEXT NOT NULL,
    cluster INTEGER,                    -- near-duplicate component (a member's id);
                                        -- NULL: never a candidate line
    indexed INTEGER NOT NULL DEFAULT 0, -- 1 once seen outside a body: banded and clustered (body-only
                                        -- lines count verbatim and are clusters of their own)
    signature BLOB,                     -- of an indexed line: blocks.LINE_CONFIG MinHash, uint32 values
    rep0 INTEGER NOT NULL DEFAULT 0,    -- verbatim on 2+ different articles, as round 0 counts them
    rep1 INTEGER NOT NULL DEFAULT 0,    -- ... as round 1 counts them
    f0 INTEGER NOT NULL DEFAULT 0,      -- furniture after round 0
    f1 INTEGER NOT NULL DEFAULT 0,      -- furniture (final)
    UNIQUE (space, hash)
);
CREATE INDEX derive_lines_cluster ON derive_lines(cluster);
CREATE INDEX derive_lines_f0 ON derive_lines(f0) WHERE f0 = 1;
CREATE INDEX derive_lines_f1 ON derive_lines(f1) WHERE f1 = 1;
CREATE TABLE derive_line_bands (        -- LSH band keys of clustered lines (char 4-gram MinHash)
    key INTEGER NOT NULL,               -- minhash.band_keys: salted per band
    line_id INTEGER NOT NULL,
    PRIMARY KEY (key, line_id)
) WITHOUT ROWID;
CREATE TABLE derive_near (              -- clusters whose lines outside the body repeat on 2+ articles
    stage INTEGER NOT NULL, cluster INTEGER NOT NULL, PRIMARY KEY (stage, cluster)
) WITHOUT ROWID;
CREATE TABLE derive_runs (              -- lines in a run of 3+ repeated lines on an article page
    stage INTEGER NOT NULL, line_id INTEGER NOT NULL, page_id INTEGER NOT NULL,
    PRIMARY KEY (stage, line_id, page_id)
) WITHOUT ROWID;
CREATE INDEX derive_runs_page ON derive_runs(stage, page_id);
CREATE TABLE derive_texts (             -- article texts with their MinHash signature
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    text TEXT NOT NULL,
    config TEXT NOT NULL,               -- MinhashConfig.full_name: every parameter, scheme included
    signature BLOB NOT NULL             -- datasketch LeanMinHash.serialize
);
CREATE TABLE derive_text_bands (
    key INTEGER NOT NULL, text_id INTEGER NOT NULL, PRIMARY KEY (key, text_id)
) WITHOUT ROWID;
CREATE TABLE derive_groups (            -- near-duplicate groups of texts in a space ('raw', 's0', 's1')
    space TEXT NOT NULL,
    text_id INTEGER NOT NULL,
    grp INTEGER NOT NULL,               -- the smallest text id of the group
    pages INTEGER NOT NULL,             -- pages whose text in this space it is
    PRIMARY KEY (space, text_id)
) WITHOUT ROWID;
CREATE INDEX derive_groups_grp ON derive_groups(space, grp);
CREATE TABLE derive_pages (             -- one per analysed content: its place in the derivation
    page_id INTEGER PRIMARY KEY,        -- pages.rowid
    content_sha256 TEXT NOT NULL UNIQUE,
    has_article INTEGER NOT NULL,
    title_id INTEGER,                   -- derive_lines, space 'title'
    raw_id INTEGER,                     -- derive_texts: the text before furniture (titled pages)
    text0_id INTEGER,                   -- ... after round 0
    text1_id INTEGER,                   -- ... the article text
    ev0 TEXT,                           -- the article it counts as in round 0 (NULL: no evidence)
    ev1 TEXT,                           -- ... in round 1
    runs TEXT NOT NULL DEFAULT '[]',    -- JSON: its block runs, as line indexes
    snapshots INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT,
    last_seen TEXT,
    min_url TEXT,
    newest_url TEXT
);
CREATE INDEX derive_pages_title ON derive_pages(title_id);
CREATE INDEX derive_pages_raw ON derive_pages(raw_id);
CREATE INDEX derive_pages_text0 ON derive_pages(text0_id);
CREATE INDEX derive_pages_text1 ON derive_pages(text1_id);
CREATE TABLE derive_page_lines (        -- which page has which line text
    line_id INTEGER NOT NULL,
    page_id INTEGER NOT NULL,
    kind INTEGER NOT NULL,              -- bits: 1 a candidate outside the body, 2 any candidate; 0 title/date
    PRIMARY KEY (line_id, page_id)
) WITHOUT ROWID;
CREATE INDEX derive_page_lines_page ON derive_page_lines(page_id);
CREATE TABLE derive_block_versions (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,          -- text_hash of its lines
    line_ids TEXT NOT NULL,             -- JSON
    block INTEGER NOT NULL,             -- component of line clusters
    pages INTEGER NOT NULL,
    snapshots INTEGER NOT NULL DEFAULT 0,  -- kept up to date by deltas, so a block seen on every
    first_seen TEXT,                    -- page costs nothing per new page
    last_seen TEXT,
    min_url TEXT
);
CREATE INDEX derive_block_versions_block ON derive_block_versions(block);
CREATE TABLE derive_page_blocks (
    version_id INTEGER NOT NULL, page_id INTEGER NOT NULL, n INTEGER NOT NULL,
    PRIMARY KEY (version_id, page_id)
) WITHOUT ROWID;
CREATE INDEX derive_page_blocks_page ON derive_page_blocks(page_id);
CREATE TABLE derive_block_clusters (cluster INTEGER PRIMARY KEY, block INTEGER NOT NULL);
CREATE INDEX derive_block_clusters_block ON derive_block_clusters(block);
CREATE TABLE derive_article_order (     -- public article id = rank of sort_key
    grp INTEGER PRIMARY KEY, sort_key TEXT NOT NULL, public_id INTEGER NOT NULL, url TEXT
);
CREATE INDEX derive_article_order_key ON derive_article_order(sort_key);
CREATE INDEX derive_article_order_url ON derive_article_order(url);
CREATE TABLE derive_block_order (
    block INTEGER PRIMARY KEY, sort_key TEXT NOT NULL, public_id INTEGER NOT NULL
);
CREATE INDEX derive_block_order_key ON derive_block_order(sort_key);
"""


# Delegations as people (migration 14), kept by ``dedupe.archive.rosters``.
ROSTER_DDL = """
CREATE TABLE roster_versions (
    id TEXT PRIMARY KEY,                -- 'rv-' + hash of the canonical roster (dedupe.rosters.Roster)
    delegation TEXT NOT NULL,           -- English country name, as in facts
    language TEXT NOT NULL,             -- 'en' or 'ru'
    version INTEGER NOT NULL,           -- 1, 2, ... per (delegation, language), by first_seen
    seats TEXT NOT NULL,                -- JSON {"seats_total": "11", "seats.<chamber>": "7", ...}
    plenipotentiary TEXT NOT NULL,      -- '' when the page names none
    members INTEGER NOT NULL,
    snapshots INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    first_snapshot_id INTEGER NOT NULL
);
CREATE INDEX roster_versions_delegation ON roster_versions(delegation, language, version);
CREATE TABLE roster_members (
    roster_version_id TEXT NOT NULL,
    ord INTEGER NOT NULL,               -- place on the roster line, from 1
    name TEXT NOT NULL,                 -- as the roster line writes it
    full_name TEXT NOT NULL,            -- as the biography writes it ('' when the same or none)
    person_key TEXT NOT NULL,           -- dedupe.people.name_key: one person across scripts
    position TEXT NOT NULL,             -- as the biography states it ('' when none)
    chamber TEXT NOT NULL,              -- body slug of dedupe.facts.BODIES ('' when not stated)
    PRIMARY KEY (roster_version_id, ord)
);
CREATE TABLE content_rosters (
    content_sha256 TEXT NOT NULL,
    roster_version_id TEXT NOT NULL,
    PRIMARY KEY (content_sha256, roster_version_id)
);
CREATE INDEX content_rosters_version ON content_rosters(roster_version_id);
CREATE TABLE roster_memberships (
    delegation TEXT NOT NULL,
    language TEXT NOT NULL,
    person_key TEXT NOT NULL,
    period INTEGER NOT NULL,            -- 1, 2, ...: listed again after leaving is a new period
    name TEXT NOT NULL,                 -- as listed when joining
    joined TEXT NOT NULL,               -- first observed listed
    joined_snapshot_id INTEGER NOT NULL,
    last_listed TEXT NOT NULL,
    last_listed_snapshot_id INTEGER NOT NULL,
    left TEXT,                          -- first observed not listed afterwards; NULL: still listed
    left_snapshot_id INTEGER,
    PRIMARY KEY (delegation, language, person_key, period)
);
CREATE TABLE roster_changes (           -- between consecutive observed rosters of one delegation and language
    delegation TEXT NOT NULL,
    language TEXT NOT NULL,
    snapshot_id INTEGER NOT NULL,       -- the first observation of the new roster
    observed_at TEXT NOT NULL,
    roster_version_id TEXT NOT NULL,
    previous_version_id TEXT NOT NULL,
    kind TEXT NOT NULL,                 -- 'joined', 'left', 'plenipotentiary', 'seats'
    subject TEXT NOT NULL,              -- person_key, or the seats field
    old_value TEXT NOT NULL,            -- '' for joined
    new_value TEXT NOT NULL,            -- '' for left
    PRIMARY KEY (delegation, language, snapshot_id, kind, subject)
);
CREATE INDEX roster_changes_time ON roster_changes(observed_at);
"""


# Which content shows which block version and which article version, by the content's row in ``pages``
# (migration 23: ``page_id`` is ``pages.rowid``, the engine's page id in ``derive_pages``, where it was the
# 64-hex hash: a row a third its size, 218 -> ~60 MB at a million observations); and the two views that read
# them. The hash of a page id is ``pages.content_sha256``.
CONTENT_LINKS_DDL = """
CREATE TABLE content_blocks (
    page_id INTEGER NOT NULL,           -- pages.rowid of the content
    block_version_id TEXT NOT NULL REFERENCES block_versions(id),
    PRIMARY KEY (page_id, block_version_id)
) WITHOUT ROWID;
CREATE INDEX content_blocks_version ON content_blocks(block_version_id);
CREATE TABLE content_articles (
    page_id INTEGER PRIMARY KEY,        -- pages.rowid of the content
    article_version_id TEXT NOT NULL REFERENCES article_versions(id)
);
CREATE INDEX content_articles_version ON content_articles(article_version_id);
"""

CONTENT_LINK_VIEWS_DDL = """
-- every snapshot with the facts its page stated (in the page's language)
CREATE VIEW snapshot_facts AS
SELECT s.id AS snapshot_id, s.url, s.observed_at, bv.language, f.delegation, f.field, f.value,
       f.block_version_id
FROM snapshots s
JOIN pages p ON p.content_sha256 = s.content_sha256
JOIN content_blocks cb ON cb.page_id = p.rowid
JOIN facts f ON f.block_version_id = cb.block_version_id
JOIN block_versions bv ON bv.id = f.block_version_id;

-- snapshots with what was extracted from them
CREATE VIEW snapshots_extracted AS
SELECT s.id, s.url, s.observed_at, s.source, s.http_status, s.status, s.page_type,
       s.content_sha256, ca.article_version_id, av.article_id,
       (SELECT group_concat(cb.block_version_id) FROM content_blocks cb WHERE cb.page_id = p.rowid)
         AS block_version_ids
FROM snapshots s
LEFT JOIN pages p ON p.content_sha256 = s.content_sha256
LEFT JOIN content_articles ca ON ca.page_id = p.rowid
LEFT JOIN article_versions av ON av.id = ca.article_version_id;
"""

# The engine's page as migration 24 made it: ``derive_pages`` without its copy of the content's hash, which ``pages``
# holds for the same rowid (the copy and its unique index were 150 B a page, 33 MB at a million observations).
DERIVE_PAGES_M024_COLUMNS = (
    "page_id, has_article, title_id, raw_id, text0_id, text1_id, ev0, ev1, runs, snapshots, first_seen, "
    "last_seen, min_url, newest_url, runs0, runs1"
)
DERIVE_PAGES_M024_DDL = """
CREATE TABLE derive_pages (             -- one per analysed content: its place in the derivation
    page_id INTEGER PRIMARY KEY,        -- pages.rowid (the content's hash: pages.content_sha256)
    has_article INTEGER NOT NULL,
    title_id INTEGER,                   -- derive_lines, space 'title'
    raw_id INTEGER,                     -- derive_texts: the text before furniture (titled pages)
    text0_id INTEGER,                   -- ... after round 0
    text1_id INTEGER,                   -- ... the article text
    ev0 TEXT,                           -- the article it counts as in round 0 (NULL: no evidence)
    ev1 TEXT,                           -- ... in round 1
    runs TEXT NOT NULL DEFAULT '[]',    -- JSON: its block runs, as line indexes
    snapshots INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT,
    last_seen TEXT,
    min_url TEXT,
    newest_url TEXT,
    runs0 BLOB,                         -- the line ids of its body runs after round 0 (model.line_ids_blob)
    runs1 BLOB                          -- ... after round 1
);
CREATE INDEX derive_pages_title ON derive_pages(title_id);
CREATE INDEX derive_pages_raw ON derive_pages(raw_id);
CREATE INDEX derive_pages_text0 ON derive_pages(text0_id);
CREATE INDEX derive_pages_text1 ON derive_pages(text1_id);
"""

# The engine's page (migration 25): its runs by the id of a set of runs that all pages showing the same layout share
# (``derive_run_sets``): the three copies a page held were 276 B a page after the benchmark's first crawl, for 8
# distinct values in 1,000 pages; its newest URL only where it is not its smallest; its own lines in one value
# (``lines``), which replaced the index of derive_page_lines by page. DERIVE_PAGES_COLUMNS: those m024's table had.
DERIVE_PAGES_COLUMNS = (
    "page_id, has_article, title_id, raw_id, text0_id, text1_id, ev0, ev1, runs_id, snapshots, first_seen, "
    "last_seen, min_url, newest_url, runs0_id, runs1_id"
)
DERIVE_PAGES_DDL = """
CREATE TABLE derive_pages (             -- one per analysed content: its place in the derivation
    page_id INTEGER PRIMARY KEY,        -- pages.rowid (the content's hash: pages.content_sha256)
    has_article INTEGER NOT NULL,
    title_id INTEGER,                   -- derive_lines, space 'title'
    raw_id INTEGER,                     -- derive_texts: the text before furniture (titled pages)
    text0_id INTEGER,                   -- ... after round 0
    text1_id INTEGER,                   -- ... the article text
    ev0 TEXT,                           -- the article it counts as in round 0 (NULL: no evidence)
    ev1 TEXT,                           -- ... in round 1
    runs_id INTEGER,                    -- derive_run_sets: its block runs, as line indexes (JSON); NULL: none
    snapshots INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT,
    last_seen TEXT,
    min_url TEXT,
    newest_url TEXT,                    -- NULL: min_url
    runs0_id INTEGER,                   -- derive_run_sets: the line ids of its body runs after round 0
                                        -- (model.line_ids_blob); NULL: none
    runs1_id INTEGER,                   -- ... after round 1
    lines BLOB                          -- its distinct lines with their kinds (model.page_lines_blob)
);
CREATE INDEX derive_pages_title ON derive_pages(title_id);
CREATE INDEX derive_pages_raw ON derive_pages(raw_id);
CREATE INDEX derive_pages_text0 ON derive_pages(text0_id);
CREATE INDEX derive_pages_text1 ON derive_pages(text1_id);
CREATE TABLE derive_run_sets (          -- each distinct value of a page's runs, once (sql.run_set_id)
    id INTEGER PRIMARY KEY,
    value BLOB NOT NULL UNIQUE
);
"""

# The pages of a line on many pages (migration 28): its rows of derive_page_lines (~13 B a page) as ranges of
# page ids, 2 B a page; the template's lines stand on every page (``dedupe.archive.stages.postings``).
DERIVE_LINE_PAGES_DDL = """
CREATE TABLE derive_line_pages (        -- the pages of a line on postings.COMMON_AFTER pages or more
    id INTEGER PRIMARY KEY,             -- a rowid table: a blob of up to 4 KB stays in its row (WITHOUT ROWID
                                        -- spills what passes ~2 KB to a page of its own)
    line_id INTEGER NOT NULL,
    chunk INTEGER NOT NULL,             -- page_id >> postings.SHIFT
    pages BLOB NOT NULL,                -- uint16 LE a page, in order: its offset in the range << 2 | its kind
    UNIQUE (line_id, chunk)
);
"""

# The time-derived records by URL (m033) name their URL by ``urls.id``, as ``observations`` do, where they held its
# text (~40 B a row: 27 MB at a million observations, 200 B a page after the benchmark's first crawl). Analysts read
# them as before, through views of their old names with the URL joined back; the engine writes the tables.
TIME_BY_URL_ID_TABLES_DDL = """
CREATE TABLE url_runs_by_url_id (       -- per URL, each run of observations showing the same block versions
    url_id INTEGER NOT NULL,            -- urls.id
    first_observed_at TEXT NOT NULL,
    first_snapshot_id INTEGER NOT NULL,
    last_observed_at TEXT NOT NULL,
    last_snapshot_id INTEGER NOT NULL,
    snapshots INTEGER NOT NULL,         -- observations in the run (failed fetches are left out)
    block_versions TEXT NOT NULL,       -- the block versions shown, comma-separated ('' for none)
    stating INTEGER NOT NULL,           -- 0: removed (404/410) or no content: the page states nothing
    PRIMARY KEY (url_id, first_observed_at, first_snapshot_id)
) WITHOUT ROWID;
CREATE TABLE block_version_urls_by_url_id ( -- per block version and URL: how often and when the page showed it
    block_version_id TEXT NOT NULL,
    url_id INTEGER NOT NULL,            -- urls.id
    snapshots INTEGER NOT NULL,
    first_observed_at TEXT NOT NULL,
    first_snapshot_id INTEGER NOT NULL,
    last_observed_at TEXT NOT NULL,
    last_snapshot_id INTEGER NOT NULL,
    PRIMARY KEY (block_version_id, url_id)
) WITHOUT ROWID;
"""
TIME_BY_URL_ID_VIEWS_DDL = """
CREATE VIEW url_runs AS
SELECT u.url, r.first_observed_at, r.first_snapshot_id, r.last_observed_at, r.last_snapshot_id, r.snapshots,
       r.block_versions, r.stating
FROM url_runs_by_url_id r JOIN urls u ON u.id = r.url_id;
CREATE VIEW block_version_urls AS
SELECT b.block_version_id, u.url, b.snapshots, b.first_observed_at, b.first_snapshot_id, b.last_observed_at,
       b.last_snapshot_id
FROM block_version_urls_by_url_id b JOIN urls u ON u.id = b.url_id;
"""

# One row per observation (migration 27), its URL and its content each named by a row id where ``snapshots`` held
# their text: the URL (~40 B, in the row and again in its index by URL and time) by ``urls.id``, and the content's
# 64-hex hash (in the row and again in its index by content) by ``contents.rowid``: ~230 of ~360 MB at a million
# observations. ``snapshots`` is now a view of these rows with the URL, host and hash joined back, so every query,
# view and Datasette page that reads snapshots reads them as before; only the writer names these tables.
# ``contents`` rows keep their rowid for good: never deleted, and the recompression that rewrites the first ones
# inserts each with its own rowid again (``storage.Codec``), as ``pages`` rows for the engine's page ids.
SNAPSHOT_COLUMNS = (
    "id, url, host, observed_at, source, origin, http_status, headers, etag, last_modified, page_type, "
    "content_sha256, status"
)
OBSERVATION_COLUMNS = (
    "id, url_id, observed_at, source, origin, http_status, headers, etag, last_modified, page_type, content_id, status"
)
OBSERVATIONS_DDL = """
CREATE TABLE urls (                     -- each URL observed, once
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    host TEXT                           -- the URL's host name (empty for files)
);
CREATE TABLE observations (             -- one per fetch or imported record; read through the snapshots view
    id INTEGER PRIMARY KEY,             -- snapshots.id
    url_id INTEGER NOT NULL,            -- urls.id
    observed_at TEXT NOT NULL,          -- ISO 8601, UTC
    source TEXT NOT NULL,               -- 'import' or 'crawl'
    origin TEXT,                        -- file path or crawl run that produced it
    http_status INTEGER,
    headers TEXT,                       -- JSON object (since m039: the values header_set leaves null)
    etag TEXT,
    last_modified TEXT,
    page_type TEXT,                     -- 'article', 'listing', 'country' or NULL
    content_id INTEGER,                 -- contents.rowid (the hash: snapshots.content_sha256); NULL: no body
    status TEXT NOT NULL                -- 'new', 'seen_again', 'not_modified', 'removed', 'error'
);
-- by URL and time, newest first with the row id, unsorted; with the content after them, so that counting the
-- snapshots view (Datasette's table page: a count through both joins) reads this index, not the table (1M: 0.59 ->
-- 0.2 s for 8 MB)
CREATE INDEX observations_url_time ON observations(url_id, observed_at, id, content_id);
CREATE INDEX observations_content ON observations(content_id);
CREATE INDEX observations_origin ON observations(origin);
CREATE INDEX observations_observed ON observations(observed_at);      -- time order: (observed_at, id)
-- only the failed fetches and removed pages (m042): `pa-archive stats` counts them without reading every observation
CREATE INDEX observations_outcome ON observations(status) WHERE status IN ('error', 'removed');
-- each observation with its URL and its content's hash: what the archive's queries and its analysts read
CREATE VIEW snapshots AS
SELECT o.id, u.url, u.host, o.observed_at, o.source, o.origin, o.http_status, o.headers, o.etag, o.last_modified,
       o.page_type, c.sha256 AS content_sha256, o.status
FROM observations o
JOIN urls u ON u.id = o.url_id
LEFT JOIN contents c ON c.rowid = o.content_id;
"""

# A crawl's responses repeat the same few sets of headers but for a few values (``headers.VARYING_HEADERS``: Date,
# Content-Length, ETag, Last-Modified...): ~340 B an observation as whole JSON, 430 B a page of the first crawl with
# the row's share of its indexes. Since migration 39 an observation names its set (``header_set``: the headers in
# their order, each varying value null) and keeps in ``headers`` only the varying values but ETag and Last-Modified,
# which its own columns hold, and a Date that is its own time to the second (``headers.http_date``), which the view
# writes from observed_at. ``snapshots.headers`` puts each back in place: json_replace sets a value where its key
# stands (and leaves a set without that key alone), json_patch then the values kept with the observation. An
# observation whose headers cannot take that form (a name that is not an HTTP token) keeps them whole, with
# ``header_set`` NULL. The key names keep the spelling of the source ("Etag" from Scrapy, "ETag" from a WARC); where
# the set has no such header they name one it lacks.
HEADER_SETS_DDL = """
CREATE TABLE header_sets (              -- each set of response headers observed, once (varying values null)
    id INTEGER PRIMARY KEY,
    digest BLOB NOT NULL UNIQUE,        -- first 16 bytes of sha256(headers) (headers.HeaderSplit.digest)
    headers TEXT NOT NULL,              -- JSON object, in the response's order
    etag_key TEXT NOT NULL,             -- the set's name of ETag (as spelled), else 'ETag'
    modified_key TEXT NOT NULL,         -- the set's name of Last-Modified, else 'Last-Modified'
    date_key TEXT NOT NULL              -- the set's name of Date, else 'Date'
);
"""
SNAPSHOTS_VIEW_DDL = """
-- each observation with its URL, its content's hash and its whole headers: what the queries and analysts read
CREATE VIEW snapshots AS
SELECT o.id, u.url, u.host, o.observed_at, o.source, o.origin, o.http_status,
       CASE WHEN o.header_set IS NULL THEN o.headers ELSE (
           SELECT json_patch(json_replace(h.headers,
               '$."' || h.date_key || '"', substr('SunMonTueWedThuFriSat', 3 * strftime('%w', o.observed_at) + 1, 3)
                   || strftime(', %d ', o.observed_at)
                   || substr('JanFebMarAprMayJunJulAugSepOctNovDec', 3 * strftime('%m', o.observed_at) - 2, 3)
                   || strftime(' %Y %H:%M:%S GMT', o.observed_at),
               '$."' || h.etag_key || '"', o.etag, '$."' || h.modified_key || '"', o.last_modified),
               coalesce(o.headers, '{}'))
           FROM header_sets h WHERE h.id = o.header_set) END AS headers,
       o.etag, o.last_modified, o.page_type, c.sha256 AS content_sha256, o.status
FROM observations o
JOIN urls u ON u.id = o.url_id
LEFT JOIN contents c ON c.rowid = o.content_id;
"""


# --- article texts' signatures (migration 40) ------------------------------------------------------------------
# ``derive_texts`` knows each text of the engine by its 16-byte key and its MinHash signature (~530 B). An article
# text is held by its article version (``article_versions.text``, id 'av-' + the key's first 12 hex digits), so
# its signature is a pure function of a text the archive keeps: the engine sets it NULL once the version holds
# the text and computes it again when the text meets another (``stages.texts.signatures``). The triggers put a
# signature back when a version's text leaves (deleted, or changed by hand), so a NULL always names a held text.
DERIVE_TEXTS_DDL = """
CREATE TABLE derive_texts (
    id INTEGER PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,          -- first 16 bytes of sha256(text) (stages.model.text_key)
    signature BLOB                      -- datasketch LeanMinHash.serialize; NULL: article_versions holds the text
);
"""
TEXT_SIGNATURE_TRIGGERS_DDL = """
CREATE TRIGGER article_versions_text_signature_ad AFTER DELETE ON article_versions BEGIN
  UPDATE derive_texts SET signature = pa_text_signature(old.text)
   WHERE hash = pa_text_key(old.text) AND signature IS NULL;
END;
CREATE TRIGGER article_versions_text_signature_au AFTER UPDATE OF text ON article_versions
  WHEN old.text IS NOT new.text BEGIN
  UPDATE derive_texts SET signature = pa_text_signature(old.text)
   WHERE hash = pa_text_key(old.text) AND signature IS NULL;
END;
"""


# --- the engine's lines, leaner (migration 41) ---------------------------------------------------------------------
# Every distinct line of a page, and apart every title, by a 12-byte key and its space as an integer (0 a line, 1 a
# title: SQLite stores 0 and 1 in the record's header alone), in the row and in its unique index: 16 bytes and the
# words 'line' / 'title' before.
DERIVE_LINES_DDL = """
CREATE TABLE derive_lines (
    id INTEGER PRIMARY KEY,
    space INTEGER NOT NULL,             -- 0 a page's line, 1 a title (stages.model.LINE_SPACES)
    hash BLOB NOT NULL,                 -- first 12 bytes of sha256(text) (stages.model.line_key)
    text TEXT,                          -- only once indexed: the shingles of a clustered line
    cluster INTEGER,                    -- near-duplicate component (a member's id); NULL: never a candidate line
    indexed INTEGER NOT NULL DEFAULT 0, -- 1 once banded and clustered (body-only lines are clusters of their own)
    rep0 INTEGER NOT NULL DEFAULT 0,    -- verbatim on 2+ different articles, as round 0 counts them
    rep1 INTEGER NOT NULL DEFAULT 0,    -- ... as round 1 counts them
    f0 INTEGER NOT NULL DEFAULT 0,      -- furniture after round 0
    f1 INTEGER NOT NULL DEFAULT 0,      -- furniture (final)
    in_runs0 INTEGER NOT NULL DEFAULT 0,  -- body runs of round 0 holding it
    in_runs1 INTEGER NOT NULL DEFAULT 0,  -- ... of round 1
    UNIQUE (space, hash)
);
CREATE INDEX derive_lines_cluster ON derive_lines(cluster);
CREATE INDEX derive_lines_f0 ON derive_lines(f0) WHERE f0 = 1;
CREATE INDEX derive_lines_f1 ON derive_lines(f1) WHERE f1 = 1;
"""


# --- the groups under a crowded band key (migration 43) ------------------------------------------------------------
# A new article text joins the groups of the texts that share one of its LSH band keys. Near-identical texts (a feed
# of one notice with a number changed) all share every key, so reading a key's texts one by one made each new text
# meet every earlier one: n^2 x bands rows. Past ``stages.texts.HOT_BUCKET`` texts a key is "hot" and the groups
# present under it are kept per space, with how many of their members hold it: a new text meets groups, and in a
# group the first member alike it is enough. Most keys never get there, so these tables stay small.
HOT_TEXT_KEYS_DDL = """
CREATE TABLE IF NOT EXISTS derive_hot_text_keys (  -- band keys held by more than stages.texts.HOT_BUCKET texts
    key INTEGER PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS derive_hot_text_groups (  -- per space, the groups under each hot key
    space TEXT NOT NULL,                -- as derive_groups.space
    key INTEGER NOT NULL,               -- a derive_hot_text_keys key
    grp INTEGER NOT NULL,               -- a derive_groups.grp of the space
    members INTEGER NOT NULL,           -- its members (texts of the space) whose band keys include the key
    PRIMARY KEY (space, grp, key)       -- a group's rows together: renamed as one when groups merge
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS derive_hot_text_groups_key ON derive_hot_text_groups(space, key);
"""
