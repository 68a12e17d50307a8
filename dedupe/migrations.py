"""The archive's migrations, in the order they run: the schema of ``dedupe.schema`` changes only by a
new one appended at the end.

Each is a sqlite-utils ``Migrations`` step, run in a transaction (unless marked otherwise) and
recorded by name in ``_sqlite_migrations``, so names and order never change: an archive made by
older code is brought up to date by the steps it has not had.
"""

from __future__ import annotations

import json
import sqlite3
import struct
from collections.abc import Callable, Iterator
from itertools import groupby
from operator import itemgetter

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from .headers import Headers, HeaderSplit, split_varying
from .schema import (
    CONTENT_LINK_VIEWS_DDL,
    CONTENT_LINKS_DDL,
    DERIVE_LINE_PAGES_DDL,
    DERIVE_LINES_DDL,
    DERIVE_PAGES_COLUMNS,
    DERIVE_PAGES_DDL,
    DERIVE_PAGES_M024_COLUMNS,
    DERIVE_PAGES_M024_DDL,
    DERIVE_STATE_DDL,
    DERIVE_TEXTS_DDL,
    HEADER_SETS_DDL,
    HOT_TEXT_KEYS_DDL,
    INITIAL_DDL,
    OBSERVATION_COLUMNS,
    OBSERVATIONS_DDL,
    ROSTER_DDL,
    SNAPSHOT_COLUMNS,
    SNAPSHOTS_VIEW_DDL,
    TEXT_SIGNATURE_TRIGGERS_DDL,
    TIME_BY_URL_ID_TABLES_DDL,
    TIME_BY_URL_ID_VIEWS_DDL,
)
from .sql_functions import register_functions
from .transactions import write_transaction

migrations = Migrations("pa-archive")


# what to do when a step meets derived rows it cannot convert: they are derived, so the version that wrote them
# can derive them again, after which this version's step converts them
_REBUILD_FIRST = (
    "derived rows, damaged: run `pa-archive rebuild` with the pa-archive version that wrote this archive, then "
    "open it with this one again, or restore it from a copy"
)


class MigrationError(ValueError):
    """A step that finds rows it cannot convert and stops (its transaction rolled back, the archive as it was):
    the archive's opening says it in a sentence (``ArchiveError``) with what to do."""


def migrate(db: Database, on_upgrade: Callable[[list[str]], None] | None = None) -> None:
    """Bring ``db`` to the current schema (idempotent); the stemming functions the triggers call are
    registered on its connection first.

    ``on_upgrade`` is told the names of the steps an existing archive is about to be given (not a new
    one's): on a large archive some take minutes, and a command that says nothing looks hung."""
    register_functions(db.conn)
    if on_upgrade is not None and migrations.migrations_table in db.table_names():
        pending = [step.name for step in migrations.pending(db)]
        if pending:
            on_upgrade(pending)
    migrations.apply(db)


def upgrade_notice(path: object, steps: list[str]) -> str:
    """The sentence a command says before it gives an archive made by an older pa-archive ``steps``
    (``migrate``'s ``on_upgrade``): one wording for the CLI and the crawl."""
    return (
        f"Upgrading {path} for this version of pa-archive ({len(steps)} schema step(s): {', '.join(steps)}). "
        "On a large archive this takes minutes; each step is a transaction, so an interruption loses nothing "
        "and the next command resumes."
    )


@migrations()
def m001_initial(db: Database) -> None:
    """Observations, derived records, views and full-text search."""
    db.executescript(INITIAL_DDL)
    db["article_versions"].enable_fts(["title", "text"], create_triggers=True, tokenize="unicode61")


# --- crawl runs (migration 2): one row per `pa-archive crawl` / `scrapy crawl pacsto` -----


@migrations()
def m002_crawl_runs(db: Database) -> None:
    """Every crawl run: when, how it ended, what it fetched and what changed."""
    db.executescript(
        """
        CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,           -- ISO 8601, UTC
            finished_at TEXT,                   -- NULL while running (or when the process was killed)
            status TEXT NOT NULL                -- 'running', 'finished', 'failed', 'interrupted'
                CHECK (status IN ('running', 'finished', 'failed', 'interrupted')),
            start_urls TEXT NOT NULL,           -- JSON list
            pages_fetched INTEGER NOT NULL DEFAULT 0,  -- responses handed to the archive (304s included)
            new INTEGER NOT NULL DEFAULT 0,     -- URLs seen for the first time
            changed INTEGER NOT NULL DEFAULT 0, -- known URLs with new content
            unchanged INTEGER NOT NULL DEFAULT 0,  -- 304 or byte-identical content
            removed INTEGER NOT NULL DEFAULT 0, -- 404/410: the article is marked removed
            failed INTEGER NOT NULL DEFAULT 0,  -- pages that could not be fetched or stored
            errors TEXT NOT NULL DEFAULT '[]',  -- JSON list of {"url", "error"}
            stats TEXT NOT NULL DEFAULT '{}',   -- JSON: Scrapy stats, settings, changes of the run
            resumed_from INTEGER REFERENCES crawl_runs(id),  -- the interrupted run this one continues
            jobdir TEXT,
            pid INTEGER
        );
        CREATE INDEX crawl_runs_started ON crawl_runs(started_at);
        """
    )


@migrations()
def m004_compression_dicts(db: Database) -> None:
    """zstd dictionaries trained on the archive's own pages (contents.compression 'zstd-dict:<id>')."""
    db.executescript(
        """
        CREATE TABLE compression_dicts (
            id INTEGER PRIMARY KEY,             -- the <id> of 'zstd-dict:<id>'
            created_at TEXT NOT NULL,           -- ISO 8601, UTC
            samples INTEGER NOT NULL,           -- HTML contents it was trained on
            contents_at INTEGER NOT NULL,       -- HTML contents in the archive when it was trained
            level INTEGER NOT NULL,             -- zstd level contents are compressed at with it
            dict BLOB NOT NULL                  -- zstandard.train_dictionary(...).as_bytes(); never deleted
        );
        """
    )


@migrations()
def m005_fts_follows_text_only(db: Database) -> None:
    """Re-index an article version in the full-text index only when its title or text changes, not
    when a refresh in place moves its counts or last_seen (a re-crawl's 304s)."""
    db.executescript(
        """
        DROP TRIGGER IF EXISTS [article_versions_au];
        CREATE TRIGGER [article_versions_au] AFTER UPDATE OF [title], [text] ON [article_versions] BEGIN
          INSERT INTO [article_versions_fts] ([article_versions_fts], rowid, [title], [text])
            VALUES ('delete', old.rowid, old.[title], old.[text]);
          INSERT INTO [article_versions_fts] (rowid, [title], [text]) VALUES (new.rowid, new.[title], new.[text]);
        END;
        """
    )


# --- incremental derivation (migration 6): the state ``dedupe.archive.incremental`` keeps ---------


@migrations()
def m006_incremental_derivation(db: Database) -> None:
    """Persisted MinHash/LSH indexes and per-page derivation state, so a refresh derives only what
    new observations touch. Internal: a function of the observations like the derived tables, and
    rebuilt with them (``pa-archive rebuild``)."""
    db.executescript(DERIVE_STATE_DDL)


@migrations()
def m007_fact_values_from_block_versions(db: Database) -> None:
    """Fact values counted from block versions (each knows its snapshots and first/last seen) instead of
    joining every snapshot to every fact: the conflicts query costs the number of block versions, not of
    snapshots (1M snapshots: milliseconds, not seconds). A snapshot is counted once per block version
    stating the value, which is once per snapshot unless a page shows two blocks stating the same fact."""
    db.executescript(
        """
        DROP VIEW IF EXISTS conflicts;
        DROP VIEW IF EXISTS missing_values;
        DROP VIEW IF EXISTS fact_values;

        -- each stated value of each (language, delegation, field), with how often and when it was seen
        CREATE VIEW fact_values AS
        SELECT bv.language, f.delegation, f.field, f.value,
               sum(bv.snapshots) AS snapshots, min(bv.first_seen) AS first_seen, max(bv.last_seen) AS last_seen
        FROM (SELECT DISTINCT block_version_id, delegation, field, value FROM facts) f
        JOIN block_versions bv ON bv.id = f.block_version_id
        GROUP BY bv.language, f.delegation, f.field, f.value;

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
        """
    )


# --- facts through time (migration 7)  ---------------------------------------------------------------


@migrations()
def m007_fact_periods(db: Database) -> None:
    """The runs of one value of each (language, delegation, field) through time: 7 -> 6 -> 7 is three periods."""
    db.executescript(
        """
        -- each run of one value of a (language, delegation, field), in observation order (observed_at, then
        -- snapshot id) across the snapshots stating it: first and last snapshot, date and block variant
        CREATE VIEW fact_periods AS
        WITH ordered AS (
          SELECT language, delegation, field, value, snapshot_id, observed_at, block_version_id,
                 lag(value) OVER w AS previous_value
          FROM snapshot_facts
          WINDOW w AS (PARTITION BY language, delegation, field ORDER BY observed_at, snapshot_id, value)
        ), numbered AS (
          SELECT *, sum(previous_value IS NULL OR previous_value != value) OVER (
                      PARTITION BY language, delegation, field ORDER BY observed_at, snapshot_id, value
                      ROWS UNBOUNDED PRECEDING) AS period
          FROM ordered
        ), bounded AS (
          SELECT *, first_value(snapshot_id) OVER p AS first_snapshot_id,
                 first_value(block_version_id) OVER p AS first_block_version_id,
                 last_value(snapshot_id) OVER p AS last_snapshot_id,
                 last_value(block_version_id) OVER p AS last_block_version_id
          FROM numbered
          WINDOW p AS (PARTITION BY language, delegation, field, period ORDER BY observed_at, snapshot_id, value
                       ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        )
        SELECT language, delegation, field, period, value, count(*) AS snapshots,
               min(first_snapshot_id) AS first_snapshot_id, min(observed_at) AS first_seen,
               min(last_snapshot_id) AS last_snapshot_id, max(observed_at) AS last_seen,
               min(first_block_version_id) AS first_block_version_id,
               min(last_block_version_id) AS last_block_version_id
        FROM bounded
        GROUP BY language, delegation, field, period;
        """
    )


# --- search in word forms (migration 8) ---------------------------------------------------------------


@migrations()
def m008_stemmed_search(db: Database) -> None:
    """Article titles and texts as English and Russian Snowball stems (``dedupe.stemming``), in a full-text
    index kept in step with article_versions by triggers that call ``pa_stem``; filled for existing archives."""
    db.executescript(
        """
        CREATE VIRTUAL TABLE article_versions_stemmed USING fts5(title, text, tokenize='unicode61');
        CREATE TRIGGER article_versions_stemmed_ai AFTER INSERT ON article_versions BEGIN
          INSERT INTO article_versions_stemmed (rowid, title, text)
            VALUES (new.rowid, pa_stem(new.title), pa_stem(new.text));
        END;
        CREATE TRIGGER article_versions_stemmed_ad AFTER DELETE ON article_versions BEGIN
          DELETE FROM article_versions_stemmed WHERE rowid = old.rowid;
        END;
        CREATE TRIGGER article_versions_stemmed_au AFTER UPDATE OF title, text ON article_versions
        WHEN old.title IS NOT new.title OR old.text IS NOT new.text OR old.rowid != new.rowid BEGIN
          DELETE FROM article_versions_stemmed WHERE rowid = old.rowid;
          INSERT INTO article_versions_stemmed (rowid, title, text)
            VALUES (new.rowid, pa_stem(new.title), pa_stem(new.text));
        END;
        INSERT INTO article_versions_stemmed (rowid, title, text)
          SELECT rowid, pa_stem(title), pa_stem(text) FROM article_versions;
        """
    )


@migrations()
def m009_fts_reindexes_changed_text_only(db: Database) -> None:
    """The full-text index re-indexes a version only when its title or text really changed: a refresh
    writes a touched article's versions whole (counts, first/last seen) and must not rewrite the index."""
    db.executescript(
        """
        DROP TRIGGER IF EXISTS [article_versions_au];
        CREATE TRIGGER [article_versions_au] AFTER UPDATE OF [title], [text] ON [article_versions]
        WHEN old.title IS NOT new.title OR old.text IS NOT new.text BEGIN
          INSERT INTO [article_versions_fts] ([article_versions_fts], rowid, [title], [text])
            VALUES ('delete', old.rowid, old.[title], old.[text]);
          INSERT INTO [article_versions_fts] (rowid, [title], [text]) VALUES (new.rowid, new.[title], new.[text]);
        END;
        """
    )


# --- time-derived records (migration 10): what analysts ask about time, kept by the engine -------------


@migrations()
def m010_time_records(db: Database) -> None:
    """Runs of each URL's observations, block versions per URL, segments of each language's history and the
    periods of each fact, kept by ``dedupe.archive.time_records`` (``fact_periods`` was a view over every
    snapshot's facts: it becomes a table with the same columns). The next refresh builds them (that stage
    alone: ``dedupe.archive.derivation.STAGES``)."""
    db.executescript(
        """
        DROP VIEW IF EXISTS fact_periods;
        CREATE INDEX IF NOT EXISTS snapshots_observed ON snapshots(observed_at);  -- time order: (observed_at, id)
        CREATE TABLE url_runs (                 -- per URL, each run of observations showing the same block versions
            url TEXT NOT NULL,
            first_observed_at TEXT NOT NULL,
            first_snapshot_id INTEGER NOT NULL,
            last_observed_at TEXT NOT NULL,
            last_snapshot_id INTEGER NOT NULL,
            snapshots INTEGER NOT NULL,         -- observations in the run (failed fetches are left out)
            block_versions TEXT NOT NULL,       -- the block versions shown, comma-separated ('' for none)
            stating INTEGER NOT NULL,           -- 0: removed (404/410) or no content: the page states nothing
            PRIMARY KEY (url, first_observed_at, first_snapshot_id)
        ) WITHOUT ROWID;
        CREATE TABLE block_version_urls (       -- per block version and URL: how often and when the page showed it
            block_version_id TEXT NOT NULL,
            url TEXT NOT NULL,
            snapshots INTEGER NOT NULL,
            first_observed_at TEXT NOT NULL,
            first_snapshot_id INTEGER NOT NULL,
            last_observed_at TEXT NOT NULL,
            last_snapshot_id INTEGER NOT NULL,
            PRIMARY KEY (block_version_id, url)
        ) WITHOUT ROWID;
        CREATE INDEX block_version_urls_url ON block_version_urls(url);
        CREATE INDEX block_version_urls_first
            ON block_version_urls(block_version_id, first_observed_at, first_snapshot_id);
        CREATE TABLE fact_segments (            -- per language, each run of observations stating the same facts
            language TEXT NOT NULL,
            first_observed_at TEXT NOT NULL,
            first_snapshot_id INTEGER NOT NULL,
            last_observed_at TEXT NOT NULL,
            last_snapshot_id INTEGER NOT NULL,
            snapshots INTEGER NOT NULL,
            statement TEXT NOT NULL,            -- hash of the facts stated
            first_block_versions TEXT NOT NULL, -- the block versions stating them in its first observation
            last_block_versions TEXT NOT NULL,  -- ... and in its last
            PRIMARY KEY (language, first_observed_at, first_snapshot_id)
        ) WITHOUT ROWID;
        CREATE TABLE fact_periods (             -- each run of one value of a (language, delegation, field)
            language TEXT NOT NULL,
            delegation TEXT NOT NULL,
            field TEXT NOT NULL,
            period INTEGER NOT NULL,            -- 1, 2, ... in time order
            value TEXT NOT NULL,
            snapshots INTEGER NOT NULL,
            first_snapshot_id INTEGER NOT NULL,
            first_seen TEXT NOT NULL,
            last_snapshot_id INTEGER NOT NULL,
            last_seen TEXT NOT NULL,
            first_block_version_id TEXT NOT NULL,
            last_block_version_id TEXT NOT NULL,
            PRIMARY KEY (language, delegation, field, period)
        );
        CREATE INDEX fact_periods_delegation ON fact_periods(delegation, field);
        """
    )


# --- delegations as people (migration 14): rosters from country pages, membership periods ---------------


@migrations()
def m014_rosters(db: Database) -> None:
    """Rosters (``dedupe.rosters``) per delegation and language: their versions with the members each lists,
    which content states which, each member's periods (joined: first observed listed; left: first observed
    not listed on a later roster of the same delegation and language) and the changes between rosters. The
    next refresh builds them (that stage alone: ``dedupe.archive.derivation.STAGES``)."""
    db.executescript(ROSTER_DDL)


# --- a lean archive (migrations m013_*): each thing stored once -------------------------------------------


@migrations()
def m013_stemmed_search_over_a_view(db: Database) -> None:
    """The stemmed full-text index without a second copy of the text: FTS5 with external content, a view
    that stems ``article_versions`` on demand (``pa_stem``), instead of an index that kept its own copy of
    every stemmed title and text (``article_versions_stemmed_content``, as large as the texts).

    SQLite 3.40 here has no ``contentless_delete`` (3.43), so the triggers remove a row from the index with
    FTS5's ``'delete'`` command, which needs the stems the row was indexed with: ``pa_stem`` of the old
    values (deterministic; ``dedupe.stemming.STEMMERS`` names the stemmers). The index is built again from
    the view by FTS5's ``'rebuild'``, so running this twice gives the same index. Queries (``MATCH``,
    ``rank``) read only the index; reading the table's columns runs the view, so it needs ``pa_stem``."""
    for statement in (
        "DROP TRIGGER IF EXISTS article_versions_stemmed_ai",
        "DROP TRIGGER IF EXISTS article_versions_stemmed_ad",
        "DROP TRIGGER IF EXISTS article_versions_stemmed_au",
        "DROP TABLE IF EXISTS article_versions_stemmed",
        "DROP VIEW IF EXISTS article_versions_stems",
        # stemmed on demand; version_rowid is the rowid FTS5 looks rows up by (content_rowid)
        """CREATE VIEW article_versions_stems AS
           SELECT rowid AS version_rowid, pa_stem(title) AS title, pa_stem(text) AS text FROM article_versions""",
        """CREATE VIRTUAL TABLE article_versions_stemmed USING fts5(
               title, text, tokenize='unicode61', content='article_versions_stems', content_rowid='version_rowid')""",
        """CREATE TRIGGER article_versions_stemmed_ai AFTER INSERT ON article_versions BEGIN
             INSERT INTO article_versions_stemmed (rowid, title, text)
               VALUES (new.rowid, pa_stem(new.title), pa_stem(new.text));
           END""",
        """CREATE TRIGGER article_versions_stemmed_ad AFTER DELETE ON article_versions BEGIN
             INSERT INTO article_versions_stemmed (article_versions_stemmed, rowid, title, text)
               VALUES ('delete', old.rowid, pa_stem(old.title), pa_stem(old.text));
           END""",
        """CREATE TRIGGER article_versions_stemmed_au AFTER UPDATE OF title, text ON article_versions
           WHEN old.title IS NOT new.title OR old.text IS NOT new.text OR old.rowid != new.rowid BEGIN
             INSERT INTO article_versions_stemmed (article_versions_stemmed, rowid, title, text)
               VALUES ('delete', old.rowid, pa_stem(old.title), pa_stem(old.text));
             INSERT INTO article_versions_stemmed (rowid, title, text)
               VALUES (new.rowid, pa_stem(new.title), pa_stem(new.text));
           END""",
        "INSERT INTO article_versions_stemmed (article_versions_stemmed) VALUES ('rebuild')",
    ):
        db.execute(statement)


@migrations()
def m013_drop_signatures(db: Database) -> None:
    """The ``signatures`` table was created and counted but never written (the derivation keeps its
    MinHash signatures in ``derive_texts`` and ``derive_lines``): dropped with its primary-key index."""
    db.execute("DROP TABLE IF EXISTS signatures")


LINES_MIGRATION_CHUNK = 500  # pages converted per transaction by m013_pages_lines_compressed


@migrations(transactional=False)
def m013_pages_lines_compressed(db: Database) -> None:
    """``pages.lines`` compressed with the archive's zstd dictionary (``dedupe.storage.Codec.pack_lines``),
    the method in the new column ``lines_compression`` (NULL: the JSON text an older archive stored).

    Resumable: LINES_MIGRATION_CHUNK pages a transaction, in rowid order, only those still NULL, so a
    kill loses at most one chunk's work and the next open of the archive carries on where it stopped
    (readers decode either form meanwhile). The file keeps its size until ``VACUUM``: freed pages are
    reused by later writes."""
    from .storage import Codec

    if "lines_compression" not in {row[1] for row in db.execute("PRAGMA table_info(pages)")}:
        db.execute("ALTER TABLE pages ADD COLUMN lines_compression TEXT")
    codec = Codec(db)
    last = db.execute("SELECT coalesce(min(rowid), 0) - 1 FROM pages WHERE lines_compression IS NULL").fetchone()[0]
    while True:
        with write_transaction(db):
            rows = db.execute(
                "SELECT rowid, lines FROM pages WHERE rowid > ? AND lines_compression IS NULL ORDER BY rowid LIMIT ?",
                [last, LINES_MIGRATION_CHUNK],
            ).fetchall()
            db.conn.executemany(
                "UPDATE pages SET lines = ?, lines_compression = ? WHERE rowid = ?",
                [(*codec.pack_lines_json(lines.encode("utf-8")), rowid) for rowid, lines in rows],
            )
        if len(rows) < LINES_MIGRATION_CHUNK:
            break
        last = rows[-1][0]


@migrations()
def m015_encoding_evidence(db: Database) -> None:
    """Why each content's text was decoded with its encoding (a BOM, the HTTP or ``<meta>`` charset,
    valid UTF-8, or detection when the declared charset did not decode cleanly): an analyst can see
    which pages were decoded by detection rather than by what they declared."""
    if "encoding_evidence" not in db["contents"].columns_dict:
        db.execute("ALTER TABLE contents ADD COLUMN encoding_evidence TEXT")


@migrations()
def m016_derive_lines_text_when_clustered(db: Database) -> None:
    """The engine's line state keeps a line's text only where it is read: lines clustered by shingles
    (``indexed``: outside a body, and titles) need it to confirm a later near-duplicate; every other
    line is found by its key, 16 bytes of its sha256 instead of the 64 characters of its hex digest.
    Block versions keep their own lines (``derive_block_versions.lines``, JSON), which the public
    records are written from. An existing archive is converted in place."""
    if "lines" not in db["derive_block_versions"].columns_dict:
        db.execute("ALTER TABLE derive_block_versions ADD COLUMN lines TEXT NOT NULL DEFAULT '[]'")
        versions = db.execute("SELECT id, line_ids FROM derive_block_versions").fetchall()
        for version_id, line_ids in versions:
            ids = json.loads(line_ids)
            texts = dict(
                db.execute("SELECT l.id, l.text FROM derive_lines l JOIN json_each(?) j ON j.value = l.id", [line_ids])
            )
            db.execute(
                "UPDATE derive_block_versions SET lines = ? WHERE id = ?",
                [json.dumps([texts[i] for i in ids], ensure_ascii=False), version_id],
            )
    if "NOT NULL" in _column_sql(db, "derive_lines", "text"):
        db.conn.create_function("m016_key", 1, lambda h: bytes.fromhex(h[:32]), deterministic=True)
        db.executescript(
            """
            CREATE TABLE derive_lines_m016 (
                id INTEGER PRIMARY KEY,
                space TEXT NOT NULL,                -- 'line' or 'title'
                hash BLOB NOT NULL,                 -- first 16 bytes of sha256(text) (stages.model.line_key)
                text TEXT,                          -- only once indexed: the shingles of a clustered line
                cluster INTEGER,
                indexed INTEGER NOT NULL DEFAULT 0,
                signature BLOB,
                rep0 INTEGER NOT NULL DEFAULT 0,
                rep1 INTEGER NOT NULL DEFAULT 0,
                f0 INTEGER NOT NULL DEFAULT 0,
                f1 INTEGER NOT NULL DEFAULT 0,
                UNIQUE (space, hash)
            );
            INSERT INTO derive_lines_m016(id, space, hash, text, cluster, indexed, signature, rep0, rep1, f0, f1)
                SELECT id, space, m016_key(hash), CASE WHEN indexed = 1 THEN text END, cluster, indexed, signature,
                       rep0, rep1, f0, f1 FROM derive_lines;
            DROP TABLE derive_lines;
            ALTER TABLE derive_lines_m016 RENAME TO derive_lines;
            CREATE INDEX derive_lines_cluster ON derive_lines(cluster);
            CREATE INDEX derive_lines_f0 ON derive_lines(f0) WHERE f0 = 1;
            CREATE INDEX derive_lines_f1 ON derive_lines(f1) WHERE f1 = 1;
            """
        )


TEXTS_MIGRATION_CHUNK = 2000  # derive_texts rows copied per transaction by m017_derive_texts_keys_only


@migrations(transactional=False)
def m017_derive_texts_keys_only(db: Database) -> None:
    """The engine's text state keeps no text: a text (before furniture, after round 0, or an article's)
    is found by its key, 16 bytes of its sha256 instead of the 64 characters of its hex digest, and
    grouped by its MinHash signature and band keys; nothing reads it verbatim. An article version's text
    is written from the text its page gave when the version first appears, and is kept in
    ``article_versions`` (``Touched.article_texts``), which held every article text a second time.

    The table is copied without its texts into a new one, TEXTS_MIGRATION_CHUNK rows a transaction in id
    order (resumable: a kill loses at most one chunk, and the next open carries on after the last id
    copied), then swapped for the old one in one transaction that also shortens the text hash in the
    articles' sort keys to the 32 hex digits the engine now writes there (the order is the same)."""

    if "text" not in db["derive_texts"].columns_dict:
        return
    db.conn.create_function("m017_key", 1, _key_of_hex, deterministic=True)
    with write_transaction(db):
        db.execute(
            """CREATE TABLE IF NOT EXISTS derive_texts_m017 (
                id INTEGER PRIMARY KEY,
                hash BLOB NOT NULL UNIQUE,          -- first 16 bytes of sha256(text) (stages.model.text_key)
                config TEXT NOT NULL,               -- MinhashConfig.full_name: every parameter, scheme included
                signature BLOB NOT NULL             -- datasketch LeanMinHash.serialize
            )"""
        )
    while True:
        with write_transaction(db):
            last = db.execute("SELECT coalesce(max(id), 0) FROM derive_texts_m017").fetchone()[0]
            copied = db.execute(
                "INSERT INTO derive_texts_m017(id, hash, config, signature) SELECT id, m017_key(hash), config, "
                "signature FROM derive_texts WHERE id > ? ORDER BY id LIMIT ?",
                [last, TEXTS_MIGRATION_CHUNK],
            ).rowcount
        if copied < TEXTS_MIGRATION_CHUNK:
            break
    with write_transaction(db):
        db.execute("DROP TABLE derive_texts")
        db.execute("ALTER TABLE derive_texts_m017 RENAME TO derive_texts")
        keys = db.execute("SELECT grp, sort_key FROM derive_article_order").fetchall()
        db.conn.executemany(
            "UPDATE derive_article_order SET sort_key = ? WHERE grp = ?",
            [(key[:-32], grp) for grp, key in keys if len(key.rsplit("\0", 1)[-1]) == 64],
        )


@migrations()
def m018_content_links_without_rowid(db: Database) -> None:
    """``content_blocks`` and ``content_articles`` as WITHOUT ROWID tables: each row is its primary key
    (a content's hash and a version id), which a rowid table stores twice, in the table and in the
    key's index. Same columns, keys and indexes; a third less space (content_blocks held 201 MB at a
    million observations). Copied in this step's transaction; the views that read them are unchanged."""
    for table, columns, key, index_column in (
        (
            "content_blocks",
            "content_sha256 TEXT NOT NULL REFERENCES contents(sha256), "
            "block_version_id TEXT NOT NULL REFERENCES block_versions(id)",
            "content_sha256, block_version_id",
            "block_version_id",
        ),
        (
            "content_articles",
            "content_sha256 TEXT NOT NULL REFERENCES contents(sha256), "
            "article_version_id TEXT NOT NULL REFERENCES article_versions(id)",
            "content_sha256",
            "article_version_id",
        ),
    ):
        if "WITHOUT ROWID" in _table_sql(db, table):
            continue
        db.execute(f"CREATE TABLE {table}_m018 ({columns}, PRIMARY KEY ({key})) WITHOUT ROWID")
        db.execute(f"INSERT INTO {table}_m018 SELECT * FROM {table}")
        db.execute(f"DROP TABLE {table}")
        # legacy: the views that read the table by name would otherwise be checked (and refused) while
        # the name is missing between the DROP and the RENAME
        db.execute("PRAGMA legacy_alter_table = ON")
        try:
            db.execute(f"ALTER TABLE {table}_m018 RENAME TO {table}")
        finally:
            db.execute("PRAGMA legacy_alter_table = OFF")
        db.execute(f"CREATE INDEX {table}_version ON {table}({index_column})")


@migrations()
def m019_runs_per_page(db: Database) -> None:
    """The engine's body runs kept per page and counted per line instead of a row per (round, line, page):
    a page's run lines in one column a round (``derive_pages.runs0``, ``runs1``: 4 bytes a line id,
    ``stages.model.line_ids_blob``), and on how many pages each line is in a run
    (``derive_lines.in_runs0``, ``in_runs1``), which is all the furniture flags ask. ``derive_runs``
    and its index held 277 MB at a million observations. Converted in this step's transaction."""
    if "derive_runs" not in db.table_names():
        return
    from .archive.stages.model import line_ids_blob

    first = itemgetter(0)
    for stage in (0, 1):
        if f"runs{stage}" not in db["derive_pages"].columns_dict:
            db.execute(f"ALTER TABLE derive_pages ADD COLUMN runs{stage} BLOB")
        if f"in_runs{stage}" not in db["derive_lines"].columns_dict:
            db.execute(f"ALTER TABLE derive_lines ADD COLUMN in_runs{stage} INTEGER NOT NULL DEFAULT 0")
        rows = db.execute("SELECT page_id, line_id FROM derive_runs WHERE stage = ? ORDER BY page_id", [stage])
        runs = ((line_ids_blob(line_id for _, line_id in group), page_id) for page_id, group in groupby(rows, first))
        db.conn.executemany(f"UPDATE derive_pages SET runs{stage} = ? WHERE page_id = ?", runs)  # streamed
        db.execute(
            f"UPDATE derive_lines SET in_runs{stage} = c.n FROM (SELECT line_id, count(*) AS n FROM derive_runs "
            "WHERE stage = ? GROUP BY line_id) c WHERE derive_lines.id = c.line_id",
            [stage],
        )
    db.execute("DROP TABLE derive_runs")


@migrations()
def m020_block_version_urls_by_key_only(db: Database) -> None:
    """``block_version_urls`` keeps its primary key (block version, URL) and no other index: a rewritten
    URL's rows are deleted by their keys (the block versions its runs list), and the pages of one
    block version, oldest first, are sorted from the key's range (12 ms for 50,000 pages at a million
    observations). The two indexes were 1,271 B a page after the first crawl of the benchmark site
    and 74 MB at a million observations."""
    db.execute("DROP INDEX IF EXISTS block_version_urls_url")
    db.execute("DROP INDEX IF EXISTS block_version_urls_first")


@migrations()
def m021_lines_dictionaries(db: Database) -> None:
    """``compression_dicts.purpose``: 'html' for the dictionaries of raw pages (``contents.body``), 'lines'
    for those trained on pages' lines (``pages.lines``), whose JSON a dictionary of HTML compresses less
    well (1,200 -> 923 B a page on 3,000 pages of the 100,000-observation benchmark archive). The
    dictionaries already there are all of raw pages; the archive's next write trains its first of lines."""
    if "purpose" not in {column.name for column in db["compression_dicts"].columns}:
        db.execute("ALTER TABLE compression_dicts ADD COLUMN purpose TEXT NOT NULL DEFAULT 'html'")


@migrations()
def m022_text_bands_by_key_only(db: Database) -> None:
    """``derive_text_bands`` keeps its primary key (band key, text) and no index by text: the engine computes
    a text's band keys from its signature when it needs them (a text joining a space, a group split again).
    The index was 422 B a page after the benchmark's first crawl and 45 MB at a million observations."""
    db.execute("DROP INDEX IF EXISTS derive_text_bands_text")


@migrations()
def m023_content_links_by_page(db: Database) -> None:
    """``content_blocks`` and ``content_articles`` name a content by its row in ``pages`` (``page_id``, the
    engine's page id) instead of its 64-hex hash, which each of their rows held twice (in the row and in
    the index by version): 964 B a page after the benchmark's first crawl, 218 MB at a million observations.
    The views that read them (``snapshot_facts``, ``snapshots_extracted``) join ``pages`` for the hash.
    Copied in this step's transaction (a kill leaves the archive as it was)."""
    if "page_id" in db["content_blocks"].columns_dict:
        return
    for view in ("snapshot_facts", "snapshots_extracted"):
        db.execute(f"DROP VIEW IF EXISTS {view}")
    # legacy: a rename does not rewrite what names the tables (a view made by hand on them keeps naming them)
    db.execute("PRAGMA legacy_alter_table = ON")
    try:
        for table in ("content_blocks", "content_articles"):
            db.execute(f"ALTER TABLE {table} RENAME TO {table}_m023")
            db.execute(f"DROP INDEX IF EXISTS {table}_version")
    finally:
        db.execute("PRAGMA legacy_alter_table = OFF")
    _execute_each(db, CONTENT_LINKS_DDL)
    # a link to a content without its row in pages cannot be named so; the engine writes links only for analysed
    # contents (their page), so none is lost
    db.execute(
        "INSERT INTO content_blocks (page_id, block_version_id) SELECT p.rowid, cb.block_version_id "
        "FROM content_blocks_m023 cb JOIN pages p ON p.content_sha256 = cb.content_sha256 ORDER BY 1, 2"
    )
    db.execute(
        "INSERT INTO content_articles (page_id, article_version_id) SELECT p.rowid, ca.article_version_id "
        "FROM content_articles_m023 ca JOIN pages p ON p.content_sha256 = ca.content_sha256 ORDER BY 1"
    )
    db.execute("DROP TABLE content_blocks_m023")
    db.execute("DROP TABLE content_articles_m023")
    _execute_each(db, CONTENT_LINK_VIEWS_DDL)


@migrations()
def m024_derive_pages_without_hash(db: Database) -> None:
    """``derive_pages`` without ``content_sha256``: the engine's page id is the content's rowid in ``pages``,
    which holds the hash; the copy and its unique index were 150 B a page after the benchmark's first crawl
    and 33 MB at a million observations. Copied in this step's transaction."""
    if "content_sha256" not in db["derive_pages"].columns_dict:
        return
    _set_derive_pages_aside(db, "derive_pages_m024", DERIVE_PAGES_M024_DDL)
    db.execute(
        f"INSERT INTO derive_pages ({DERIVE_PAGES_M024_COLUMNS}) "
        f"SELECT {DERIVE_PAGES_M024_COLUMNS} FROM derive_pages_m024 ORDER BY page_id"
    )
    db.execute("DROP TABLE derive_pages_m024")


@migrations()
def m025_derive_pages_shared_runs_own_lines(db: Database) -> None:
    """``derive_pages`` names its three runs (the block runs, the body runs of rounds 0 and 1) by the id of a
    row of ``derive_run_sets``, which holds each distinct value once: pages of one layout show the same runs,
    and the three copies each page held were 276 B a page after the benchmark's first crawl (8 distinct values
    in 1,000 pages) and 6.2 MB at 100,000 observations (12). ``newest_url`` is NULL where it is ``min_url``
    (every page seen under one URL). The block runs' JSON is written compact (SQLite's ``json``, as
    ``sql.runs_json`` writes it). Each page's own lines, with their kinds, are in its row (``lines``,
    ``model.page_lines_blob``), which is where the engine reads them, and the index of ``derive_page_lines``
    by page is dropped (401 -> ~170 B a page after the benchmark's first crawl; 8.6 MB at 100,000
    observations, the rows' own key by line kept for the pages of a line). Copied in this step's
    transaction."""
    if "runs_id" in db["derive_pages"].columns_dict:
        return
    _set_derive_pages_aside(db, "derive_pages_m025", DERIVE_PAGES_DDL)
    db.execute(
        "INSERT OR IGNORE INTO derive_run_sets(value) SELECT value FROM ("
        "SELECT CAST(json(runs) AS BLOB) AS value FROM derive_pages_m025 WHERE runs != '[]' "
        "UNION SELECT runs0 FROM derive_pages_m025 WHERE runs0 IS NOT NULL "
        "UNION SELECT runs1 FROM derive_pages_m025 WHERE runs1 IS NOT NULL) ORDER BY value"
    )
    copied = DERIVE_PAGES_COLUMNS.replace(
        "runs_id", "(SELECT id FROM derive_run_sets WHERE value = CAST(json(o.runs) AS BLOB))"
    )
    copied = copied.replace("newest_url", "nullif(newest_url, min_url)")
    for column in ("runs0", "runs1"):
        copied = copied.replace(f"{column}_id", f"(SELECT id FROM derive_run_sets WHERE value = o.{column})")
    db.execute(
        f"INSERT INTO derive_pages ({DERIVE_PAGES_COLUMNS}) SELECT {copied} FROM derive_pages_m025 o ORDER BY page_id"
    )
    db.execute("DROP TABLE derive_pages_m025")
    rows = db.conn.execute("SELECT page_id, line_id, kind FROM derive_page_lines ORDER BY page_id")  # by its index
    by_page = groupby(rows, itemgetter(0))
    blobs = ((_m025_lines_blob({line: kind for _, line, kind in of}), page) for page, of in by_page)
    db.conn.executemany("UPDATE derive_pages SET lines = ? WHERE page_id = ?", blobs)
    db.execute("DROP INDEX IF EXISTS derive_page_lines_page")


@migrations()
def m026_snapshots_by_url_and_time(db: Database) -> None:
    """The index of snapshots by (URL, time) without the content's 64-hex hash, which m001's unique identity
    index (URL, time, content) held for every observation: 64 of its ~150 B a row (64 MB at a million
    observations). It still serves every question by URL and time (and, with the row id last, "newest
    first" without a sort); that one URL at one time with one content is stored once is the writer's rule,
    which it checks in the write transaction before every insert (``ObservationStore._store``)."""
    db.execute("CREATE INDEX IF NOT EXISTS snapshots_url_time ON snapshots(url, observed_at)")
    db.execute("DROP INDEX IF EXISTS snapshots_identity")


@migrations()
def m027_observations_by_url_and_content_ids(db: Database) -> None:
    """Observations name their URL by ``urls.id`` and their content by ``contents.rowid`` (table ``observations``)
    where ``snapshots`` held the URL's text and the content's 64-hex hash, each in the row and again in an index
    (~230 of ~360 MB at a million observations); ``snapshots`` is a view that joins them back, so what reads
    snapshots reads the same rows. URLs are numbered in their sort order, observations copied in id order, in this
    step's transaction. An observation whose content is missing would lose its hash, so the step refuses such an
    archive (only a file changed by hand can hold one: the table's foreign key forbade it) rather than lose it.
    An archive given this step's first form (commit 6b33fa0, recorded as ``m027_observations_by_content_id``:
    ``observations`` with the URL's text, no ``urls``) is converted the same way from those rows."""
    found = db["observations"].columns_dict if "observations" in db.table_names() else None
    if found is not None and "url_id" in found:
        return
    db.execute("PRAGMA legacy_alter_table = ON")  # a rename does not rewrite the views that name snapshots
    try:
        if found is not None:  # the first form: its rows, read with their content's hash as snapshots held them
            db.execute("DROP VIEW snapshots")
            db.execute("ALTER TABLE observations RENAME TO snapshots_m027")
            source = (
                "(SELECT o.id, o.url, o.host, o.observed_at, o.source, o.origin, o.http_status, o.headers, o.etag, "
                "o.last_modified, o.page_type, c.sha256 AS content_sha256, o.status FROM snapshots_m027 o "
                "LEFT JOIN contents c ON c.rowid = o.content_id)"
            )
        else:
            missing = db.execute(
                "SELECT count(*) FROM snapshots s WHERE s.content_sha256 IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM contents c WHERE c.sha256 = s.content_sha256)"
            ).fetchone()[0]
            if missing:
                raise sqlite3.IntegrityError(
                    f"{missing} snapshot(s) name a content the archive does not hold: this archive was changed "
                    "outside pa-archive; restore it from a backup, or delete those snapshots, before this version "
                    "can open it"
                )
            db.execute("ALTER TABLE snapshots RENAME TO snapshots_m027")
            source = "snapshots_m027"
    finally:
        db.execute("PRAGMA legacy_alter_table = OFF")
    for index in ("url_time", "content", "origin", "observed", "identity"):  # of either form: the names are taken
        db.execute(f"DROP INDEX IF EXISTS snapshots_{index}")
        db.execute(f"DROP INDEX IF EXISTS observations_{index}")
    statements = ddl_statements(OBSERVATIONS_DDL)
    tables = [s for s in statements if "CREATE TABLE" in s]
    for statement in tables:
        db.execute(statement)
    db.execute(f"INSERT INTO urls(url, host) SELECT url, min(host) FROM {source} GROUP BY url ORDER BY url")
    copied = SNAPSHOT_COLUMNS.replace("url, host", "(SELECT u.id FROM urls u WHERE u.url = s.url)").replace(
        "content_sha256", "(SELECT c.rowid FROM contents c WHERE c.sha256 = s.content_sha256)"
    )
    db.execute(f"INSERT INTO observations ({OBSERVATION_COLUMNS}) SELECT {copied} FROM {source} s ORDER BY s.id")
    db.execute("DROP TABLE snapshots_m027")
    for statement in statements:  # the indexes built once, after the rows; then the view
        if statement not in tables:
            db.execute(statement)


@migrations()
def m028_common_lines_by_page_ranges(db: Database) -> None:
    """The pages of a line that stands on ``postings.COMMON_AFTER`` pages or more (the template: the delegation
    block, the menus) as ranges of page ids in ``derive_line_pages``, 2 B a page, instead of a row each in
    ``derive_page_lines`` (~13 B): at a million observations 88 lines made 78% of its 7.5M rows. Each line's rows
    move in this step's transaction; an archive this step already converted has its table."""
    if "derive_line_pages" in db.table_names():
        return
    _execute_each(db, DERIVE_LINE_PAGES_DDL)
    from .archive.stages import postings  # the engine's encoding (its package loads numpy: only here)

    common = db.execute(
        "SELECT line_id FROM derive_page_lines GROUP BY line_id HAVING count(*) >= ?", [postings.COMMON_AFTER]
    ).fetchall()
    for (line,) in common:
        rows = db.execute("SELECT page_id, kind FROM derive_page_lines WHERE line_id = ?", [line]).fetchall()
        db.execute("DELETE FROM derive_page_lines WHERE line_id = ?", [line])
        postings.append(db.conn, [(line, page, kind) for page, kind in rows])


@migrations()
def m029_derive_texts_without_config(db: Database) -> None:
    """``derive_texts`` without ``config``: every row held the same 75-character name of the MinHash parameters,
    which nothing read (the signature, datasketch's ``LeanMinHash.serialize``, carries its seed and its number of
    permutations, and the parameters are the code's: ``ARTICLE_CONFIG``); 9 MB at a million observations."""
    if "config" in db["derive_texts"].columns_dict:
        db.execute("ALTER TABLE derive_texts DROP COLUMN config")


@migrations()
def m030_band_keys_in_four_bytes(db: Database) -> None:
    """The LSH band keys of ``derive_line_bands`` and ``derive_text_bands`` as ``minhash.band_keys`` now gives
    them: the top 31 bits of each band's row hash (``key >> KEY_SHIFT``, SQLite's arithmetic shift, as numpy's),
    4 bytes a key instead of 8. Each table is copied in key order (two keys of one row that now meet are one row)
    and the copy takes its name, in this step's transaction."""
    from .minhash import KEY_SHIFT

    for table, member in (("derive_line_bands", "line_id"), ("derive_text_bands", "text_id")):
        if db.execute(f"SELECT 1 FROM [{table}] WHERE key NOT BETWEEN -1073741824 AND 1073741823 LIMIT 1").fetchone():
            sql = _table_sql(db, table)
            db.execute(f"ALTER TABLE [{table}] RENAME TO [{table}_m030]")
            db.execute(sql)
            db.execute(
                f"INSERT OR IGNORE INTO [{table}] (key, {member}) SELECT key >> ?, {member} FROM [{table}_m030] "
                "ORDER BY 1, 2",
                [KEY_SHIFT],
            )
            db.execute(f"DROP TABLE [{table}_m030]")


@migrations()
def m031_page_lines_as_varint_gaps(db: Database) -> None:
    """``derive_pages.lines`` as ``model.page_lines_blob`` now writes it: each line as the gap from the one
    before over its kind's two bits, a varint (about 55 B a page at a million observations, where 4 bytes an id
    and a byte a kind, m025's form, took 167: 25 MB). Every row is rewritten in this step's transaction; a row
    that is not in m025's form (its length not five bytes a line, its ids not ascending, a kind above 3) stops
    the step with the page named, rather than be read as something else."""
    from .archive.stages.model import page_lines_blob  # the engine's encoding (its package loads numpy: only here)

    def converted() -> Iterator[tuple[bytes, int]]:
        for page_id, blob in db.conn.execute("SELECT page_id, lines FROM derive_pages WHERE lines IS NOT NULL"):
            yield page_lines_blob(dict(_m025_lines_of(page_id, blob))), page_id

    db.conn.executemany("UPDATE derive_pages SET lines = ? WHERE page_id = ?", list(converted()))


@migrations()
def m032_references_by_rowid(db: Database) -> None:
    """A new version's raw page and lines name what they are compressed against by its rowid
    (``'zstd-ref:#<rowid>'``, in ``contents`` and in ``pages``) instead of its sha256 (``'zstd-ref:<sha256>'``):
    16 bytes where 73 were, in two columns of every new version's rows (14 MB at a million observations). A
    reference whose content the archive lacks (a damaged row, unreadable before as after) is left as it was."""
    for table, column, key in (("contents", "compression", "sha256"), ("pages", "lines_compression", "content_sha256")):
        db.execute(
            f"UPDATE [{table}] SET [{column}] = 'zstd-ref:#' || (SELECT b.rowid FROM [{table}] b "
            f"WHERE b.[{key}] = substr([{table}].[{column}], 10)) "
            f"WHERE [{column}] LIKE 'zstd-ref:%' AND [{column}] NOT LIKE 'zstd-ref:#%' "
            f"AND EXISTS (SELECT 1 FROM [{table}] b WHERE b.[{key}] = substr([{table}].[{column}], 10))"
        )


@migrations()
def m033_time_records_by_url_id(db: Database) -> None:
    """``url_runs`` and ``block_version_urls`` name their URL by ``urls.id`` (``url_runs_by_url_id``,
    ``block_version_urls_by_url_id``), and the old names become views with the URL joined back
    (``schema.TIME_BY_URL_ID_TABLES_DDL``, ``TIME_BY_URL_ID_VIEWS_DDL``): every row copied in this step's
    transaction. A row naming a URL the archive does not hold (which a refresh never writes) stops the step
    rather than be dropped."""
    if "url_runs" in db.view_names():
        return
    for table in ("url_runs", "block_version_urls"):
        orphans = db.execute(
            f"SELECT count(*) FROM [{table}] t WHERE NOT EXISTS (SELECT 1 FROM urls u WHERE u.url = t.url)"
        ).fetchone()[0]
        if orphans:
            raise MigrationError(f"{orphans} row(s) of {table} name a URL the archive does not hold ({_REBUILD_FIRST})")
    _execute_each(db, TIME_BY_URL_ID_TABLES_DDL)
    db.execute(
        "INSERT INTO url_runs_by_url_id SELECT u.id, r.first_observed_at, r.first_snapshot_id, r.last_observed_at, "
        "r.last_snapshot_id, r.snapshots, r.block_versions, r.stating FROM url_runs r JOIN urls u ON u.url = r.url "
        "ORDER BY u.id, r.first_observed_at, r.first_snapshot_id"
    )
    db.execute(
        "INSERT INTO block_version_urls_by_url_id SELECT b.block_version_id, u.id, b.snapshots, b.first_observed_at, "
        "b.first_snapshot_id, b.last_observed_at, b.last_snapshot_id FROM block_version_urls b "
        "JOIN urls u ON u.url = b.url ORDER BY b.block_version_id, u.id"
    )
    db.execute("DROP TABLE url_runs")
    db.execute("DROP TABLE block_version_urls")
    _execute_each(db, TIME_BY_URL_ID_VIEWS_DDL)


@migrations()
def m034_article_order_by_url_id(db: Database) -> None:
    """``derive_article_order`` names each article's URL by ``urls.id`` (``url_id``, indexed) where it held the
    URL's text twice, in its row and in its index by URL (~80 B an article: 8 MB at a million observations)."""
    if "url_id" in db["derive_article_order"].columns_dict:
        return
    db.execute("ALTER TABLE derive_article_order ADD COLUMN url_id INTEGER")
    db.execute(
        "UPDATE derive_article_order SET url_id = (SELECT u.id FROM urls u WHERE u.url = derive_article_order.url)"
    )
    db.execute("DROP INDEX IF EXISTS derive_article_order_url")
    db.execute("ALTER TABLE derive_article_order DROP COLUMN url")
    db.execute("CREATE INDEX derive_article_order_url_id ON derive_article_order(url_id)")


@migrations()
def m035_page_urls_by_id(db: Database) -> None:
    """``derive_pages`` names a page's smallest and newest URL by ``urls.id`` (``min_url_id``, ``newest_url_id``,
    NULL where it is the smallest) where it held their text (~40 B a page: 8 MB at a million observations)."""
    if "min_url_id" in db["derive_pages"].columns_dict:
        return
    db.execute("ALTER TABLE derive_pages ADD COLUMN min_url_id INTEGER")
    db.execute("ALTER TABLE derive_pages ADD COLUMN newest_url_id INTEGER")
    db.execute(
        "UPDATE derive_pages SET min_url_id = (SELECT u.id FROM urls u WHERE u.url = derive_pages.min_url), "
        "newest_url_id = (SELECT u.id FROM urls u WHERE u.url = derive_pages.newest_url)"
    )
    db.execute("ALTER TABLE derive_pages DROP COLUMN min_url")
    db.execute("ALTER TABLE derive_pages DROP COLUMN newest_url")


@migrations()
def m036_sort_keys_as_bytes(db: Database) -> None:
    """The sort keys of ``derive_article_order`` and ``derive_block_order`` as ``archive.base.order_key`` now
    makes them: the text's hash at their end as its bytes, not its hex (16 of 32 bytes an article, in the row
    and in its index: 3 MB at a million observations). The order, and so every public id, is the same."""
    db.conn.create_function("m036_key", 1, _m036_key, deterministic=True)
    for table in ("derive_article_order", "derive_block_order"):
        db.execute(f"UPDATE [{table}] SET sort_key = m036_key(sort_key) WHERE typeof(sort_key) = 'text'")


def _m036_key(key: str) -> bytes:
    """A sort key before m036 (first seen, URL and hex hash, NUL-separated text) as ``order_key`` makes it."""
    head, _, digest = key.rpartition("\0")
    return f"{head}\0".encode() + bytes.fromhex(digest)


@migrations()
def m037_one_full_text_index(db: Database) -> None:
    """One full-text index over the article texts: the stemmed one (``article_versions_stemmed``), which finds a
    word in any of its forms, phrases and prefixes. The word index m001 made for Datasette's search box
    (``article_versions_fts``, 1,662 B a page after the benchmark's first crawl, 116-121 MB at a million observations)
    and its three triggers go: the plugin's ``filters_from_request`` sends the box's words to the stemmed index."""
    for trigger in ("article_versions_ai", "article_versions_ad", "article_versions_au"):
        db.execute(f"DROP TRIGGER IF EXISTS [{trigger}]")
    db.execute("DROP TABLE IF EXISTS article_versions_fts")


@migrations()
def m038_line_signatures_from_their_texts(db: Database) -> None:
    """``derive_lines`` keeps a clustered line's text and no longer its MinHash signature, which the engine computes
    again from the text when the line is a candidate (``blocks.stored_line_signatures``): 512 B a title, 51 MB at a
    million observations, for ~11 us of CPU a candidate."""
    if "signature" in db["derive_lines"].columns_dict:
        db.execute("ALTER TABLE derive_lines DROP COLUMN signature")


@migrations()
def m039_header_sets(db: Database) -> None:
    """A crawl's observations name their set of response headers (``header_sets``: the same few sets again and
    again) and keep only the values that vary (Content-Length, a Date that is not the observation's own time...;
    ETag and Last-Modified are in their own columns already): ~340 B an observation as whole JSON, ~25 B after.
    ``snapshots.headers`` gives them whole as before, in the same order (``schema.SNAPSHOTS_VIEW_DDL``). Rows are
    converted in id order, a chunk at a time; a row whose headers no set can hold (a name that is not an HTTP
    token, columns that disagree with its JSON: a file changed by hand) keeps them whole."""
    if "header_set" not in db["observations"].columns_dict:
        _execute_each(db, HEADER_SETS_DDL)
        db.execute("ALTER TABLE observations ADD COLUMN header_set INTEGER")
    db.execute("DROP VIEW IF EXISTS snapshots")
    _execute_each(db, SNAPSHOTS_VIEW_DDL)
    sets = {digest: number for number, digest in db.execute("SELECT id, digest FROM header_sets")}
    after = 0
    while rows := db.execute(
        "SELECT id, headers, etag, last_modified, observed_at FROM observations WHERE id > ? AND headers IS NOT NULL "
        "AND header_set IS NULL ORDER BY id LIMIT 10000",
        [after],
    ).fetchall():
        after = rows[-1][0]
        updates = []
        for number, text, etag, modified, observed_at in rows:
            split = _m039_split(text, etag, modified, observed_at)
            if split is None:
                continue
            found = sets.get(split.digest)
            if found is None:
                found = sets[split.digest] = db.execute(
                    "INSERT INTO header_sets(digest, headers, etag_key, modified_key, date_key) VALUES (?, ?, ?, ?, ?)",
                    [split.digest, split.set_json, split.etag_key, split.modified_key, split.date_key],
                ).lastrowid
            updates.append((found, split.varying_json, number))
        db.conn.executemany("UPDATE observations SET header_set = ?, headers = ? WHERE id = ?", updates)


@migrations()
def m040_text_signatures_from_article_versions(db: Database) -> None:
    """``derive_texts`` keeps no signature (~530 B) for a text that its article version holds: the engine computes it
    again from ``article_versions.text`` when the text meets another (~0.2 ms). The column becomes nullable (the
    table is written again, ids kept), the triggers that put a signature back when a version's text leaves are
    created, and each held text's signature is dropped, a text counted held only when its version's text has its
    key (``pa_text_key``)."""
    if _table_sql(db, "derive_texts").find("signature BLOB NOT NULL") >= 0:
        db.execute("ALTER TABLE derive_texts RENAME TO derive_texts_m040")
        _execute_each(db, DERIVE_TEXTS_DDL)
        db.execute("INSERT INTO derive_texts(id, hash, signature) SELECT id, hash, signature FROM derive_texts_m040")
        db.execute("DROP TABLE derive_texts_m040")
    for statement in ddl_statements(TEXT_SIGNATURE_TRIGGERS_DDL):
        db.execute(statement.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1))
    db.execute(
        "UPDATE derive_texts SET signature = NULL WHERE signature IS NOT NULL AND EXISTS (SELECT 1 FROM "
        "article_versions av WHERE av.id = 'av-' || lower(hex(substr(derive_texts.hash, 1, 6))) "
        "AND pa_text_key(av.text) = derive_texts.hash)"
    )


@migrations()
def m041_line_keys_in_twelve_bytes(db: Database) -> None:
    """``derive_lines`` knows a line by 12 bytes of its sha256 (16 before) and its space by an integer (0 a line, 1 a
    title; the words before), in the row and in its unique index: ~20 bytes a line. The table is written again,
    ids kept; two lines whose keys would share 12 bytes stop the step (a chance of about 1 in 10^13 at a
    hundred million lines)."""
    if " INTEGER " in _column_sql(db, "derive_lines", "space"):
        return
    db.execute("ALTER TABLE derive_lines RENAME TO derive_lines_m041")
    for index in ("derive_lines_cluster", "derive_lines_f0", "derive_lines_f1"):
        db.execute(f"DROP INDEX IF EXISTS {index}")  # fixed names: made again with the new table
    _execute_each(db, DERIVE_LINES_DDL)
    try:
        db.execute(
            "INSERT INTO derive_lines(id, space, hash, text, cluster, indexed, rep0, rep1, f0, f1, in_runs0, in_runs1) "
            "SELECT id, CASE space WHEN 'title' THEN 1 ELSE 0 END, substr(hash, 1, 12), text, cluster, indexed, "
            "rep0, rep1, f0, f1, in_runs0, in_runs1 FROM derive_lines_m041 ORDER BY id"
        )
    except sqlite3.IntegrityError:
        raise MigrationError(
            "two different lines in the engine's state share the first 12 bytes of their sha256, which this version "
            "of pa-archive keys them by: keep the version that wrote this archive, and report it"
        ) from None
    db.execute("DROP TABLE derive_lines_m041")


@migrations()
def m042_an_index_of_failed_and_removed_observations(db: Database) -> None:
    """``pa-archive stats`` counts the failed fetches and removed pages among the snapshots: through a partial index
    of only those rows, not a scan of every observation (37-122 ms at 100,000 observations)."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS observations_outcome ON observations(status) WHERE status IN ('error', 'removed')"
    )


@migrations()
def m043_groups_under_crowded_text_keys(db: Database) -> None:
    """The groups present under each band key that many article texts hold (``schema.HOT_TEXT_KEYS_DDL``), so that
    a new text among thousands of near-identical ones meets their group, not each of them. Empty at first: a key
    already crowded is found so the next time a text holding it arrives (``stages.texts``)."""
    _execute_each(db, HOT_TEXT_KEYS_DDL)


def _m039_split(text: str, etag: str | None, modified: str | None, observed_at: str) -> HeaderSplit | None:
    """``headers.split_varying`` of a row's whole headers (JSON), if its etag and last_modified columns hold what
    the JSON says (else None: the row keeps them whole)."""
    try:
        found = json.loads(text)
    except ValueError:
        return None
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        return None
    headers = Headers(found.items())
    if len(headers) != len(found) or headers.get("etag") != etag or headers.get("last-modified") != modified:
        return None
    return split_varying(headers, observed_at)


def _m025_lines_blob(kinds: dict[int, int]) -> bytes:
    """A page's lines in m025's form: the line ids sorted, 4 bytes each, then each one's kind in a byte."""
    ids = sorted(kinds)
    return struct.pack(f"<{len(ids)}I{len(ids)}B", *ids, *(kinds[i] for i in ids))


def _m025_lines_of(page_id: int, blob: bytes) -> list[tuple[int, int]]:
    """The (line id, kind) pairs of a blob in m025's form (``_m025_lines_blob``), checked to be one."""
    count, rest = divmod(len(blob), 5)
    values = struct.unpack(f"<{count}I{count}B", blob) if not rest else ()
    ids, kinds = values[:count], values[count:]
    if rest or any(a >= b for a, b in zip(ids, ids[1:])) or any(k > 3 for k in kinds):
        raise MigrationError(f"derive_pages.lines of page {page_id} is not in m025's form ({_REBUILD_FIRST})")
    return list(zip(ids, kinds))


def _set_derive_pages_aside(db: Database, name: str, ddl: str) -> None:
    """Rename ``derive_pages`` to ``name`` (its rows to copy into the new table) and create the new one by ``ddl``."""
    db.execute("PRAGMA legacy_alter_table = ON")  # a rename does not rewrite what names the table
    try:
        db.execute(f"ALTER TABLE derive_pages RENAME TO {name}")
    finally:
        db.execute("PRAGMA legacy_alter_table = OFF")
    for index in ("title", "raw", "text0", "text1"):  # their names are the new table's
        db.execute(f"DROP INDEX IF EXISTS derive_pages_{index}")
    _execute_each(db, ddl)


def ddl_statements(ddl: str) -> list[str]:
    """The statements of a DDL script, each whole (comments before it included)."""
    statements, statement = [], ""
    for line in ddl.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            statements.append(statement)
            statement = ""
    return statements


def _execute_each(db: Database, ddl: str) -> None:
    """Each statement of ``ddl`` in the step's transaction (``executescript`` would commit before it)."""
    for statement in ddl_statements(ddl):
        db.execute(statement)


def _table_sql(db: Database, table: str) -> str:
    return db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]).fetchone()[0]


def _key_of_hex(digest: str) -> bytes:
    """The 16-byte key (``stages.model.line_key``, ``text_key``) of a text whose sha256 hex digest this is."""
    return bytes.fromhex(digest[:32])


def _column_sql(db: Database, table: str, column: str) -> str:
    """The declaration of one column in a table's CREATE statement (to tell a migration already applied)."""
    sql = _table_sql(db, table)
    return next((line for line in sql.splitlines() if line.strip().startswith(column + " ")), "")
