"""The lean archive (migrations m013_*): each thing stored once, nothing kept that no question asks.

* an archive built by the code before m013 (``tests/data/archive-before-m013.db.gz``) is converted in
  place on open: its search results, page texts and derived tables are what they were, ``check`` passes;
* the conversion of ``pages.lines`` resumes where a kill stopped it;
* every index of the schema is used by a named query or one of the engine's lookups (EXPLAIN QUERY PLAN).

The fixture was built at commit 195b6dd (the last before m013) by ``Archive.ingest`` of 27 observations of
the replica (``tests.replica_corpus.replica_snapshots(("en",))``: listing page 1, the Tajik country page and
the first 8 article URLs, at the three epochs), checkpointed and vacuumed.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
import shutil
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlite_utils import Database

from dedupe import alert_queries, migrations, minhash, queries, schema
from dedupe.archive import Archive
from dedupe.archive.base import ArchiveError
from dedupe.archive.derivation import OUTDATED_PAGE_SQL
from dedupe.archive.incremental import NeedsRebuild
from dedupe.archive.stages import sql as stage_sql
from dedupe.archive.stages import texts as stage_texts
from dedupe.archive.stages.model import line_key, page_lines_of, text_key
from dedupe.blocks import line_signatures
from dedupe.document import RawSnapshot
from dedupe.headers import http_date
from dedupe.sql_functions import register_functions
from dedupe.storage import text_hash
from tests.conftest import derived_rows_sql, pages_with_contacts
from tests.replica_corpus import replica_snapshots

pytestmark = pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "archive-before-m013.db.gz"
SEARCHES = (
    "delegation",
    "deleg*",
    "parliamentary assembly",
    '"collective security"',
    "seats OR deputies",
    "kazakhstan",
)
M013 = ("m013_stemmed_search_over_a_view", "m013_drop_signatures", "m013_pages_lines_compressed")


BEFORE_M013_TABLES = (
    "facts", "content_articles", "block_line_changes", "block_version_lines", "content_blocks", "block_versions",
    "blocks", "article_versions", "articles",
)  # fmt: skip


def _old_archive(tmp_path: Path) -> Path:
    path = tmp_path / "before.db"
    with gzip.open(FIXTURE) as source, path.open("wb") as target:
        shutil.copyfileobj(source, target)
    return path


def _search_results(conn: sqlite3.Connection) -> dict[str, list]:
    """The CLI's, the canned query's and (since m037) Datasette's table search (SEARCH_SQL, stemmed), for each of
    SEARCHES."""
    return {query: conn.execute(queries.SEARCH_SQL, {"q": query}).fetchall() for query in SEARCHES}


def _derived(conn: sqlite3.Connection) -> dict[str, list]:
    """The derived tables an archive before m013 already had (later migrations add others, filled on refresh)."""
    present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    keyed_by_page = "page_id" in {row[1] for row in conn.execute("PRAGMA table_info(content_blocks)")}  # m023
    return {
        table: sorted(
            conn.execute(derived_rows_sql(table) if keyed_by_page else f"SELECT * FROM [{table}]").fetchall(),
            key=repr,
        )
        for table in schema.DERIVED_TABLES
        if table in present and table in BEFORE_M013_TABLES
    }


def _integrity_check(conn: sqlite3.Connection, index: str) -> None:
    """FTS5's own check of an index against its content table (raises when they differ)."""
    with conn:  # the 'integrity-check' command is an INSERT: its implicit transaction ends here
        conn.execute(f"INSERT INTO [{index}]([{index}], rank) VALUES ('integrity-check', 1)")


def test_an_archive_built_before_m013_is_converted_in_place(tmp_path: Path) -> None:
    path = _old_archive(tmp_path)
    old = sqlite3.connect(path)
    register_functions(old)
    assert not {row[0] for row in old.execute("SELECT name FROM _sqlite_migrations")} & set(M013)
    texts = {
        sha: "\n".join(line[0] for line in json.loads(lines))
        for sha, lines in old.execute("SELECT content_sha256, lines FROM pages")
    }
    searches, derived = _search_results(old), _derived(old)
    assert any(found[0] for found in searches.values()) and any(found[1] for found in searches.values())
    old.close()

    with Archive(path) as archive:
        conn = archive.db.conn
        applied = {row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations")}
        assert set(M013) <= applied
        tables = set(archive.db.table_names())
        assert "signatures" not in tables and "article_versions_stemmed_content" not in tables
        assert conn.execute("SELECT count(*) FROM pages WHERE lines_compression IS NULL").fetchone()[0] == 0
        assert {sha: archive.content_text(sha) for sha in texts} == texts
        assert _search_results(conn) == searches
        assert _derived(conn) == derived
        # FTS5's own check of both indexes against their content (the stemmed one: the stemming view)
        _integrity_check(conn, "article_versions_stemmed")
        assert archive.check() == {}
        # and it goes on: new observations (new article versions, so the triggers index and unindex) still check
        more = sorted({s.url for s in replica_snapshots(("en",)) if "/events/" in s.url})[8:10]
        archive.ingest([s for s in replica_snapshots(("en",)) if s.url in more], workers=1)
        assert archive.counts()["article_versions"] > len(derived["article_versions"])
        archive.refresh(force=True)  # deletes every article version: the 'delete' trigger on each
        _integrity_check(conn, "article_versions_stemmed")
        assert archive.check() == {}


def test_the_lines_conversion_resumes_where_it_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _old_archive(tmp_path)
    old = sqlite3.connect(path)
    texts = {sha: lines for sha, lines in old.execute("SELECT content_sha256, lines FROM pages")}
    old.close()
    monkeypatch.setattr(migrations, "LINES_MIGRATION_CHUNK", 5)
    calls = {"n": 0}
    from dedupe import storage

    original = storage.Codec.pack_lines_json

    def killed_after_two_chunks(self, data: bytes):
        calls["n"] += 1
        if calls["n"] > 10:
            raise KeyboardInterrupt("killed")
        return original(self, data)

    monkeypatch.setattr(storage.Codec, "pack_lines_json", killed_after_two_chunks)
    with pytest.raises(KeyboardInterrupt):
        Archive(path)
    half = sqlite3.connect(path)
    done = half.execute("SELECT count(*) FROM pages WHERE lines_compression IS NOT NULL").fetchone()[0]
    assert done == 10 and "m013_pages_lines_compressed" not in {
        row[0] for row in half.execute("SELECT name FROM _sqlite_migrations")
    }
    half.close()
    monkeypatch.setattr(storage.Codec, "pack_lines_json", original)
    with Archive(path) as archive:  # the next open carries on, and the pages already converted stay as they are
        assert archive.db.execute("SELECT count(*) FROM pages WHERE lines_compression IS NULL").fetchone()[0] == 0
        converted = {sha: archive.content_text(sha) for sha in texts}
        assert converted == {sha: "\n".join(line[0] for line in json.loads(lines)) for sha, lines in texts.items()}
        migrations.m013_pages_lines_compressed(archive.db)  # once more: nothing left to do, nothing changes
        assert {sha: archive.content_text(sha) for sha in texts} == converted
        assert archive.check() == {}


# --------------------------------------------------------------------------- every index has a user

# Each index the migrations create, with a statement that uses it: a named query of dedupe.queries, or one
# of the incremental engine's lookups (dedupe/archive/stages/sql.py) as it runs it. An index nobody's plan
# uses is dead weight: drop it by a migration, or name its user here.
INDEX_USERS: dict[str, str] = {
    "article_versions_article": queries.LATEST_ARTICLE_VERSION_SQL,
    "block_versions_block": queries.LATEST_BLOCK_VERSION_SQL,
    "content_articles_version": "SELECT page_id FROM content_articles WHERE article_version_id = ?",
    "content_blocks_version": "SELECT page_id FROM content_blocks WHERE block_version_id = ?",
    "crawl_runs_started": queries.LAST_RUN_SQL,
    "derive_article_order_key": "SELECT public_id FROM [derive_article_order] WHERE sort_key < ? "
    "ORDER BY sort_key DESC LIMIT 1",
    "derive_article_order_url_id": "SELECT grp FROM derive_article_order "
    "WHERE url_id IN (SELECT id FROM urls WHERE url IN (?, ?))",
    "derive_block_clusters_block": "DELETE FROM derive_block_clusters WHERE block = ?",
    "derive_block_order_key": "SELECT public_id FROM [derive_block_order] WHERE sort_key < ? "
    "ORDER BY sort_key DESC LIMIT 1",
    "derive_block_versions_block": "SELECT id, hash, line_ids, snapshots, first_seen, last_seen, min_url "
    "FROM derive_block_versions WHERE block = ?",
    "derive_groups_grp": "SELECT text_id FROM derive_groups WHERE space = ? AND grp = ?",
    "derive_hot_text_groups_key": stage_sql.HOT_NEIGHBOURS,
    "derive_lines_cluster": "SELECT id FROM derive_lines WHERE cluster IN (?, ?)",
    "derive_lines_f0": "SELECT 1 FROM derive_lines WHERE f0 = 1 LIMIT 1",
    "derive_lines_f1": "SELECT 1 FROM derive_lines WHERE f1 = 1 LIMIT 1",
    "derive_page_blocks_page": "SELECT version_id, n FROM derive_page_blocks WHERE page_id = ?",
    "derive_pages_raw": "SELECT page_id FROM derive_pages WHERE raw_id IN (?, ?)",
    "derive_pages_text0": "SELECT page_id FROM derive_pages WHERE text0_id IN (?, ?)",
    "derive_pages_text1": "SELECT page_id FROM derive_pages WHERE text1_id IN (?, ?)",
    "derive_pages_title": "SELECT page_id FROM derive_pages WHERE title_id IN (?, ?)",
    "pages_extractor": OUTDATED_PAGE_SQL,
    "observations_content": "SELECT u.url, min(o.observed_at) FROM observations o JOIN urls u ON u.id = o.url_id "
    "WHERE o.content_id IN (SELECT rowid FROM contents WHERE sha256 IN (?, ?)) AND o.id <= ? GROUP BY o.url_id",
    "observations_observed": "SELECT id, observed_at, content_sha256 FROM snapshots WHERE observed_at >= ? "
    "AND content_sha256 IS NOT NULL ORDER BY observed_at, id",
    "fact_periods_delegation": queries.FACT_PERIODS_SQL,
    "roster_versions_delegation": "SELECT id FROM roster_versions WHERE delegation = ? AND language = ?",
    "content_rosters_version": "SELECT s.id, s.observed_at, min(rv.id) FROM roster_versions rv "
    "JOIN content_rosters cr ON cr.roster_version_id = rv.id JOIN snapshots s ON s.content_sha256 = cr.content_sha256 "
    "WHERE rv.delegation = ? AND rv.language = ? AND s.status != 'error' GROUP BY s.id ORDER BY s.observed_at, s.id",
    "roster_changes_time": alert_queries.ALERT_ROSTER_CHANGES_SQL,
    "observations_url_time": queries.URL_VERSIONS_SQL,
    "observations_origin": queries.CRAWL_RUN_URLS_SQL,
    "observations_outcome": queries.SNAPSHOT_OUTCOMES_SQL,
}


def _plan(conn: sqlite3.Connection, sql: str) -> str:
    names = re.findall(r":(\w+)", sql)
    params: dict | list = dict.fromkeys(names, "") if names else [None] * sql.count("?")
    return "\n".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))


def test_every_index_is_used_by_a_named_query_or_a_lookup(tmp_path: Path) -> None:
    with Archive(_ingested(tmp_path, replica_snapshots(("en",))[:40])) as archive:
        conn = archive.db.conn
        indexes = {
            name
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
            if not name.startswith("idx__sqlite_migrations")  # sqlite-utils' own, for its migrations table
        }
        assert indexes == set(INDEX_USERS), "an index without a user here: drop it by a migration or name its user"
        unused = {name: sql for name, sql in INDEX_USERS.items() if f"INDEX {name}" not in _plan(conn, sql)}
        assert unused == {}


def test_the_outdated_extractor_question_seeks_and_never_scans(tmp_path: Path) -> None:
    """Asked three times an ingest: ``extractor != ?`` scanned the whole index (3 ms at 20k pages)."""
    with Archive(tmp_path / "archive.db") as archive:
        plan = _plan(archive.db.conn, OUTDATED_PAGE_SQL)
        assert "SEARCH pages USING COVERING INDEX pages_extractor" in plan and "SCAN" not in plan
        archive.ingest(replica_snapshots(("en",))[:3], workers=1)
        assert not archive.derived.is_stale()
        archive.db.execute("UPDATE pages SET extractor = '0' WHERE rowid = (SELECT min(rowid) FROM pages)")
        assert archive.derived.is_stale()  # a page of an older extractor is found by the range below
        archive.db.execute("UPDATE pages SET extractor = 'zzz' WHERE extractor = '0'")
        assert archive.derived.is_stale()  # ... and of a newer one by the range above


def test_m016_keeps_line_texts_only_where_the_engine_reads_them(tmp_path: Path) -> None:
    path = _ingested(tmp_path, replica_snapshots(("en",))[:30])
    with Archive(path) as archive:
        every_line = {
            line_key(text): text
            for sha in [s for (s,) in archive.db.execute("SELECT content_sha256 FROM pages")]
            for text in archive.content_text(sha).splitlines()
        }
        versions = dict(archive.db.execute("SELECT id, lines FROM derive_block_versions").fetchall())
    old = sqlite3.connect(path)  # the state as m006 made it: every line's text, versions without their lines
    old.create_function("line_text", 1, lambda key: every_line[key])
    old.create_function("line_hash", 1, lambda key: text_hash(every_line[key]))
    _undo_m041(old)  # later steps, which the lines as m006 made them predate
    _undo_m038(old)
    _undo_m019(old)
    old.executescript(
        """
        ALTER TABLE derive_block_versions DROP COLUMN lines;
        CREATE TABLE old_lines AS SELECT * FROM derive_lines;
        UPDATE old_lines SET text = coalesce(text, line_text(hash)), hash = line_hash(hash);
        DROP TABLE derive_lines;
        CREATE TABLE derive_lines (id INTEGER PRIMARY KEY, space TEXT NOT NULL, hash TEXT NOT NULL,
            text TEXT NOT NULL, cluster INTEGER, indexed INTEGER NOT NULL DEFAULT 0, signature BLOB,
            rep0 INTEGER NOT NULL DEFAULT 0, rep1 INTEGER NOT NULL DEFAULT 0, f0 INTEGER NOT NULL DEFAULT 0,
            f1 INTEGER NOT NULL DEFAULT 0, UNIQUE (space, hash));
        INSERT INTO derive_lines SELECT id, space, hash, text, cluster, indexed, signature, rep0, rep1, f0, f1
            FROM old_lines;
        DROP TABLE old_lines;
        CREATE INDEX derive_lines_cluster ON derive_lines(cluster);
        CREATE INDEX derive_lines_f0 ON derive_lines(f0) WHERE f0 = 1;
        CREATE INDEX derive_lines_f1 ON derive_lines(f1) WHERE f1 = 1;
        DELETE FROM _sqlite_migrations WHERE name = 'm016_derive_lines_text_when_clustered';
        """
    )
    assert old.execute("SELECT count(*) FROM derive_lines WHERE indexed = 0 AND text != ''").fetchone()[0] > 0
    old.close()
    with Archive(path) as archive:  # the migration converts the state in place
        conn = archive.db.conn
        assert conn.execute("SELECT count(*) FROM derive_lines WHERE indexed = 0 AND text IS NOT NULL").fetchone() == (
            0,
        )
        assert conn.execute("SELECT count(*) FROM derive_lines WHERE indexed = 1 AND text IS NULL").fetchone() == (0,)
        assert conn.execute("SELECT DISTINCT typeof(hash), length(hash) FROM derive_lines").fetchall() == [("blob", 12)]
        assert dict(conn.execute("SELECT id, lines FROM derive_block_versions").fetchall()) == versions
        assert archive.check() == {}
        archive.ingest(replica_snapshots(("en",))[30:45], workers=1)  # and the engine goes on from it
        assert archive.check() == {}


_BUILT: dict[str, Path] = {}  # the archives ``_ingested`` built in this module, by what they hold


@pytest.fixture(scope="module", autouse=True)
def _built_archives(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A folder for the archives ``_ingested`` builds once a module (forgotten when the module ends)."""
    _BUILT["folder"] = tmp_path_factory.mktemp("lean-built")
    yield
    _BUILT.clear()


def _ingested(tmp_path: Path, snapshots: Sequence[RawSnapshot], name: str = "archive.db") -> Path:
    """An archive (``name`` in ``tmp_path``) of these snapshots, as the current code builds it.

    Most tests here start from the same few (the replica's first 30 or 40 observations): each is ingested
    once a module (about 1.3 s of analysis for 40 pages) and every test gets a copy of its own file."""
    key = hashlib.sha256(repr([dataclasses.astuple(snapshot) for snapshot in snapshots]).encode()).hexdigest()
    built = _BUILT.get(key)
    if built is None:
        built = _BUILT["folder"] / f"{key}.db"
        with Archive(built) as archive:
            archive.ingest(snapshots, workers=1)
        _BUILT[key] = built
    path = tmp_path / name
    shutil.copyfile(built, path)  # a closed archive is its one file (the -wal is checkpointed and removed)
    return path


def _undo_m041(conn: sqlite3.Connection) -> None:
    """derive_lines naming its spaces by word, as before m041 (the keys stay 12 bytes: m041 keeps those as they are,
    and the steps before it that make keys compute them with ``line_key``)."""
    if (
        conn.execute("SELECT 1 FROM _sqlite_migrations WHERE name = 'm041_line_keys_in_twelve_bytes'").fetchone()
        is None
    ):
        return
    info = conn.execute("PRAGMA table_info(derive_lines)").fetchall()  # (cid, name, type, notnull, default, pk)
    declared = ", ".join(
        f"{name} {'TEXT' if name == 'space' else kind}{' NOT NULL' if notnull else ''}"
        + (f" DEFAULT {default}" if default is not None else "")
        for _, name, kind, notnull, default, _ in info
        if name != "id"
    )
    listed = ", ".join(name for _, name, *_ in info)
    selected = listed.replace("space", "CASE space WHEN 1 THEN 'title' ELSE 'line' END")
    conn.executescript(
        f"""
        ALTER TABLE derive_lines RENAME TO derive_lines_m041;
        DROP INDEX derive_lines_cluster; DROP INDEX derive_lines_f0; DROP INDEX derive_lines_f1;
        CREATE TABLE derive_lines (id INTEGER PRIMARY KEY, {declared}, UNIQUE (space, hash));
        INSERT INTO derive_lines({listed}) SELECT {selected} FROM derive_lines_m041;
        DROP TABLE derive_lines_m041;
        CREATE INDEX derive_lines_cluster ON derive_lines(cluster);
        CREATE INDEX derive_lines_f0 ON derive_lines(f0) WHERE f0 = 1;
        CREATE INDEX derive_lines_f1 ON derive_lines(f1) WHERE f1 = 1;
        DELETE FROM _sqlite_migrations WHERE name = 'm041_line_keys_in_twelve_bytes';
        """
    )
    conn.commit()


def _before_m041(path: Path) -> dict[bytes, str]:
    """The archive's derive_lines put back as m016-m040 left it (each space by its word, 16-byte keys); returns its
    line and title texts by their 16-byte key."""
    with Archive(path) as archive:
        texts = [
            t
            for sha in [s for (s,) in archive.db.execute("SELECT content_sha256 FROM pages")]
            for t in archive.content_text(sha).splitlines()
        ]
        texts += [t for (t,) in archive.db.execute("SELECT text FROM derive_lines WHERE text IS NOT NULL")]
    full = {hashlib.sha256(t.encode()).digest()[:16]: t for t in texts}
    by_short = {key[:12]: key for key in full}
    conn = sqlite3.connect(path)
    _undo_m041(conn)
    conn.create_function("m041_full_key", 1, lambda key: by_short[key])
    with conn:
        conn.execute("UPDATE derive_lines SET hash = m041_full_key(hash)")
    conn.close()
    return full


def test_m041_keys_lines_by_twelve_bytes_and_each_space_by_a_number(tmp_path: Path) -> None:
    """m041 converts the engine's lines in place: the same rows by id, a 12-byte key and a numbered space each,
    ``check`` passes and the engine goes on from them."""
    corpus = replica_snapshots(("en",))
    path = _ingested(tmp_path, corpus[:40])
    with Archive(path) as archive:
        rows = archive.db.execute("SELECT * FROM derive_lines ORDER BY id").fetchall()
    _before_m041(path)
    old = sqlite3.connect(path)
    assert old.execute("SELECT DISTINCT space, length(hash) FROM derive_lines ORDER BY 1").fetchall() == [
        ("line", 16),
        ("title", 16),
    ]
    old.close()
    with Archive(path) as archive:  # converted on open
        conn = archive.db.conn
        assert conn.execute("SELECT DISTINCT space, length(hash) FROM derive_lines ORDER BY 1").fetchall() == [
            (0, 12),
            (1, 12),
        ]
        assert conn.execute("SELECT * FROM derive_lines ORDER BY id").fetchall() == rows
        assert archive.check() == {}
        archive.ingest(corpus[40:], workers=1)  # new lines meet the converted ones by key
        assert archive.check() == {}


def test_m041_stops_on_two_lines_whose_keys_share_twelve_bytes(tmp_path: Path) -> None:
    """Two different lines of one space whose 16-byte keys share the first 12 would be one line: the step stops,
    the archive as it was, and says so."""
    path = _ingested(tmp_path, replica_snapshots(("en",))[:10])
    _before_m041(path)
    conn = sqlite3.connect(path)
    with conn:
        (a, key), (b, _) = conn.execute("SELECT id, hash FROM derive_lines WHERE space = 'line' LIMIT 2").fetchall()
        conn.execute("UPDATE derive_lines SET hash = ? WHERE id = ?", [key[:12] + b"\xff" * 4, b])
        conn.execute("UPDATE derive_lines SET hash = ? WHERE id = ?", [key[:12] + b"\x00" * 4, a])
    conn.close()
    with pytest.raises(ArchiveError, match="share the first 12 bytes"):
        Archive(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT DISTINCT space FROM derive_lines ORDER BY 1").fetchall() == [("line",), ("title",)]
    conn.close()


def _undo_m038(conn: sqlite3.Connection) -> None:
    """derive_lines keeping each clustered line's MinHash signature, as before m038."""
    if "signature" in {row[1] for row in conn.execute("PRAGMA table_info(derive_lines)")}:
        return
    conn.create_function("line_signature", 1, lambda text: line_signatures([text])[0][0].astype(np.uint32).tobytes())
    conn.executescript(
        """
        ALTER TABLE derive_lines ADD COLUMN signature BLOB;
        UPDATE derive_lines SET signature = line_signature(text) WHERE indexed = 1;
        DELETE FROM _sqlite_migrations WHERE name = 'm038_line_signatures_from_their_texts';
        """
    )


def test_m038_computes_line_signatures_from_their_texts_and_clusters_as_before(tmp_path: Path) -> None:
    """The signatures of clustered lines (titles, mostly) are dropped: the engine computes a candidate's again from
    its text, and the clusters it makes from then on are those a fresh build makes of the same observations."""
    corpus = replica_snapshots(("en",))
    path = _ingested(tmp_path, corpus[:40])
    conn = sqlite3.connect(path)
    _undo_m038(conn)
    assert conn.execute("SELECT count(*) FROM derive_lines WHERE length(signature) = 512").fetchone()[0] > 0
    conn.commit()
    conn.close()
    with Archive(path) as archive:  # converted on open
        conn = archive.db.conn
        assert "signature" not in {row[1] for row in conn.execute("PRAGMA table_info(derive_lines)")}
        assert conn.execute("SELECT count(*) FROM derive_lines WHERE indexed = 1 AND text IS NULL").fetchone() == (0,)
        archive.ingest(corpus[40:], workers=1)  # new titles meet the stored ones in their buckets
        assert archive.check() == {}
        clusters = conn.execute("SELECT space, text, cluster FROM derive_lines WHERE indexed = 1").fetchall()
    with Archive(tmp_path / "fresh.db") as fresh:
        fresh.ingest(corpus, workers=1)
        assert _partition(fresh.db.conn.execute("SELECT space, text, cluster FROM derive_lines WHERE indexed = 1")) == (
            _partition(clusters)
        )


def _signature_state(conn: sqlite3.Connection) -> tuple[list[bytes], list[bytes]]:
    """The keys of the engine's texts whose signature is stored, and of those without one."""
    rows = conn.execute("SELECT hash, signature IS NULL FROM derive_texts ORDER BY id").fetchall()
    return [h for h, held in rows if not held], [h for h, held in rows if held]


def _held_keys(conn: sqlite3.Connection) -> set[bytes]:
    return {text_key(t) for (t,) in conn.execute("SELECT text FROM article_versions")}


def test_m040_keeps_no_signature_for_a_text_its_article_version_holds(tmp_path: Path) -> None:
    """A text an article version holds has no stored signature (computed again from the version's text when a new
    text meets it); the archive made before m040 is converted on open, and what the engine derives after it is
    what a fresh build derives."""
    corpus = replica_snapshots(("en",))
    path = _ingested(tmp_path, corpus[:40])
    conn = sqlite3.connect(path)
    _undo_m040(conn)
    assert conn.execute("SELECT count(*) FROM derive_texts WHERE signature IS NULL").fetchone() == (0,)
    conn.close()
    with Archive(path) as archive:  # converted on open
        conn = archive.db.conn
        stored, held = _signature_state(conn)
        assert held and set(held) == _held_keys(conn) & set(held + stored) and not set(stored) & _held_keys(conn)
        archive.ingest(corpus[40:], workers=1)  # new versions meet the held texts in their buckets
        assert archive.check() == {}
        stored, held = _signature_state(conn)
        assert set(held) == _held_keys(conn) and not set(stored) & _held_keys(conn)
        records = conn.execute(
            "SELECT id, version, similarity_to_previous, snapshots FROM article_versions ORDER BY id"
        ).fetchall()
    with Archive(tmp_path / "fresh.db") as fresh:
        fresh.ingest(corpus, workers=1)
        assert (
            fresh.db.execute(
                "SELECT id, version, similarity_to_previous, snapshots FROM article_versions ORDER BY id"
            ).fetchall()
            == records
        )
        assert any(s is not None for (_, _, s, _) in records)  # similarities computed from held texts


def test_a_text_whose_article_version_goes_has_its_signature_stored_again(tmp_path: Path) -> None:
    """The first article's text holds a contacts block until a second article repeats it: its version then goes
    (the text without the block is the article's now), and the engine still knows the old text as the page's
    text before furniture; the trigger stores its signature again, as the engine would have computed it."""
    pages = pages_with_contacts()
    with Archive(tmp_path / "a.db") as archive:
        conn = archive.db.conn
        archive.ingest(pages[:1], workers=1)
        (first,) = [t for (t,) in conn.execute("SELECT text FROM article_versions")]
        assert conn.execute("SELECT signature FROM derive_texts WHERE hash = ?", [text_key(first)]).fetchone() == (
            None,
        )
        archive.ingest(pages[1:2], workers=1)  # the block is furniture now: the first version is replaced
        assert first not in {t for (t,) in conn.execute("SELECT text FROM article_versions")}
        (signature,) = conn.execute("SELECT signature FROM derive_texts WHERE hash = ?", [text_key(first)]).fetchone()
        assert signature == stage_texts.signature_blob(first)
        stored, held = _signature_state(conn)
        assert set(held) == _held_keys(conn) and text_key(first) in stored
        archive.ingest(pages[2:], workers=1)
        assert archive.check() == {}


def test_a_signature_no_version_holds_is_derived_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A text without a signature whose version no longer holds it (the triggers dropped, the text changed by
    hand) is a state the engine never leaves: reading it asks for a rebuild, which derives it all again."""
    corpus = replica_snapshots(("en",))
    path = _ingested(tmp_path, corpus[:40])
    with Archive(path) as archive:
        conn = archive.db.conn
        text_id, version = conn.execute(
            "SELECT t.id, av.id FROM derive_texts t JOIN article_versions av "
            "ON av.id = 'av-' || lower(hex(substr(t.hash, 1, 6))) LIMIT 1"
        ).fetchone()
        with conn:
            conn.execute("DROP TRIGGER article_versions_text_signature_au")
            conn.execute("UPDATE article_versions SET text = text || ' (edited)' WHERE id = ?", [version])
        monkeypatch.setattr(stage_texts, "_held_signature_cache", {})  # as a new process: none computed yet
        with pytest.raises(NeedsRebuild, match="no article version holding it"):
            stage_texts.signatures(conn, [text_id])
        archive.rebuild()
        assert archive.check() == {}
        stored, held = _signature_state(conn)
        assert set(held) == _held_keys(conn)


def _partition(rows: Iterable[tuple[str, str, int]]) -> set[frozenset[tuple[str, str]]]:
    """Clusters as sets of (space, text), whatever their ids."""
    groups: dict[int, set[tuple[str, str]]] = {}
    for space, text, cluster in rows:
        groups.setdefault(cluster, set()).add((space, text))
    return {frozenset(group) for group in groups.values()}


def _archive_before_m017(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict]:
    """An archive of 30 observations whose derive_texts and article sort keys are put back as m006 made them
    (every text verbatim, keyed by its 64-character hex digest), and the state the current code built."""
    seen: dict[bytes, str] = {}

    def recording_key(text: str) -> bytes:
        seen[text_key(text)] = text
        return text_key(text)

    monkeypatch.setattr(stage_texts, "text_key", recording_key)  # the texts the engine saw, by key
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.ingest(replica_snapshots(("en",))[:30], workers=1)
        conn = archive.db.conn
        state = {
            "texts": sorted(conn.execute("SELECT * FROM derive_texts").fetchall()),
            "order": sorted(conn.execute("SELECT * FROM derive_article_order").fetchall()),
        }
    monkeypatch.undo()
    assert state["texts"] and all(key in seen for _, key, _ in state["texts"])
    old = sqlite3.connect(path)
    _undo_m040(old)  # every signature stored, as m017 knew the table
    old.create_function("old_text", 1, lambda key: seen[key])
    old.create_function("old_hash", 1, lambda key: text_hash(seen[key]))
    old.create_function("old_sort_key", 1, lambda k: k[:-16].decode() + text_hash(seen[k[-16:]]))  # m036's bytes
    old.executescript(
        """
        CREATE TABLE old_texts AS SELECT id, old_hash(hash) AS hash, old_text(hash) AS text,
            'minhash:perm=128,unit=word' AS config, signature FROM derive_texts;
        DROP TABLE derive_texts;
        CREATE TABLE derive_texts (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, text TEXT NOT NULL,
            config TEXT NOT NULL, signature BLOB NOT NULL);
        INSERT INTO derive_texts SELECT * FROM old_texts;
        DROP TABLE old_texts;
        UPDATE derive_article_order SET sort_key = old_sort_key(sort_key);
        DELETE FROM _sqlite_migrations WHERE name IN
            ('m017_derive_texts_keys_only', 'm029_derive_texts_without_config', 'm036_sort_keys_as_bytes');
        """
    )
    assert old.execute("SELECT count(*) FROM derive_texts WHERE length(text) > 100").fetchone()[0] > 0
    old.close()
    return path, state


def _assert_texts_converted(archive: Archive, state: dict) -> None:
    conn = archive.db.conn
    assert [row[1] for row in conn.execute("PRAGMA table_info(derive_texts)")] == ["id", "hash", "signature"]  # m029
    assert conn.execute("SELECT DISTINCT typeof(hash), length(hash) FROM derive_texts").fetchall() == [("blob", 16)]
    assert sorted(conn.execute("SELECT * FROM derive_texts").fetchall()) == state["texts"]
    assert sorted(conn.execute("SELECT * FROM derive_article_order").fetchall()) == state["order"]
    assert "derive_texts_m017" not in archive.db.table_names()


def test_m017_keeps_no_text_in_the_engines_text_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, state = _archive_before_m017(tmp_path, monkeypatch)
    with Archive(path) as archive:  # the migration converts the state in place, to what the engine builds now
        _assert_texts_converted(archive, state)
        assert archive.check() == {}
        migrations.m017_derive_texts_keys_only(archive.db)  # once more: nothing left to do, nothing changes
        _assert_texts_converted(archive, state)
        versions = archive.counts()["article_versions"]
        archive.ingest(replica_snapshots(("en",))[30:60], workers=1)  # and the engine goes on from it
        assert archive.counts()["article_versions"] > versions
        assert archive.check() == {}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # SQLite reports the kill too
def test_the_texts_conversion_resumes_where_it_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, state = _archive_before_m017(tmp_path, monkeypatch)
    monkeypatch.setattr(migrations, "TEXTS_MIGRATION_CHUNK", 2)
    original, calls = migrations._key_of_hex, {"n": 0}

    def killed_in_the_third_chunk(digest: str) -> bytes:
        calls["n"] += 1
        if calls["n"] > 5:
            raise RuntimeError("killed")
        return original(digest)

    monkeypatch.setattr(migrations, "_key_of_hex", killed_in_the_third_chunk)
    with pytest.raises(ArchiveError):  # the open fails in the third chunk's transaction
        Archive(path)
    half = sqlite3.connect(path)
    assert half.execute("SELECT count(*) FROM derive_texts_m017").fetchone() == (4,)  # two chunks, not the third
    assert "text" in {row[1] for row in half.execute("PRAGMA table_info(derive_texts)")}
    half.close()
    monkeypatch.setattr(migrations, "_key_of_hex", original)
    with Archive(path) as archive:  # the next open carries on after the rows copied
        _assert_texts_converted(archive, state)
        assert archive.check() == {}


def _undo_m035(conn: sqlite3.Connection) -> None:
    """derive_pages naming a page's smallest and newest URL by their text, as before m035."""
    if "min_url_id" not in {row[1] for row in conn.execute("PRAGMA table_info(derive_pages)")}:
        return
    conn.executescript(
        """
        ALTER TABLE derive_pages ADD COLUMN min_url TEXT;
        ALTER TABLE derive_pages ADD COLUMN newest_url TEXT;
        UPDATE derive_pages SET min_url = (SELECT url FROM urls WHERE id = min_url_id),
            newest_url = (SELECT url FROM urls WHERE id = newest_url_id);
        ALTER TABLE derive_pages DROP COLUMN min_url_id;
        ALTER TABLE derive_pages DROP COLUMN newest_url_id;
        DELETE FROM _sqlite_migrations WHERE name = 'm035_page_urls_by_id';
        """
    )


def _undo_m034(conn: sqlite3.Connection) -> None:
    """derive_article_order naming each article's URL by its text (indexed), as before m034."""
    if "url_id" not in {row[1] for row in conn.execute("PRAGMA table_info(derive_article_order)")}:
        return
    conn.executescript(
        """
        ALTER TABLE derive_article_order ADD COLUMN url TEXT;
        UPDATE derive_article_order SET url = (SELECT url FROM urls WHERE id = url_id);
        DROP INDEX derive_article_order_url_id;
        ALTER TABLE derive_article_order DROP COLUMN url_id;
        CREATE INDEX derive_article_order_url ON derive_article_order(url);
        DELETE FROM _sqlite_migrations WHERE name = 'm034_article_order_by_url_id';
        """
    )


def _page_urls_sql(conn: sqlite3.Connection) -> str:
    """A page's smallest and newest URL (NULL where it is the smallest) as text, whichever form derive_pages has."""
    if "min_url_id" in {row[1] for row in conn.execute("PRAGMA table_info(derive_pages)")}:
        return "(SELECT url FROM urls WHERE id = min_url_id), (SELECT url FROM urls WHERE id = newest_url_id)"
    return "min_url, newest_url"


def _pages_as_m024(conn: sqlite3.Connection) -> list[tuple]:
    """derive_pages' rows in m024's columns, runs decoded, whichever form the table has (m024's or m025's)."""
    if "runs_id" in {row[1] for row in conn.execute("PRAGMA table_info(derive_pages)")}:
        sets = ", ".join(f"(SELECT value FROM derive_run_sets WHERE id = p.{c}_id)" for c in ("runs", "runs0", "runs1"))
        rows = conn.execute(
            "SELECT page_id, has_article, title_id, raw_id, text0_id, text1_id, ev0, ev1, snapshots, first_seen, "
            f"last_seen, {_page_urls_sql(conn)}, {sets} FROM derive_pages p"
        ).fetchall()
        rows = [(*row[:12], row[12] or row[11], *row[13:]) for row in rows]  # the newest URL: NULL if the smallest
        rows = [(*row[:13], json.loads(row[13]) if row[13] else [], *row[14:]) for row in rows]
    else:
        rows = conn.execute(
            "SELECT page_id, has_article, title_id, raw_id, text0_id, text1_id, ev0, ev1, snapshots, first_seen, "
            "last_seen, min_url, newest_url, runs, runs0, runs1 FROM derive_pages"
        ).fetchall()
        rows = [(*row[:13], json.loads(row[13]), *row[14:]) for row in rows]
    return sorted(rows, key=repr)


def _undo_m025(conn: sqlite3.Connection) -> None:
    """derive_pages back as m024 left it: each page's runs in its row (the block runs as Python's json.dumps
    wrote them), its newest URL even where it is its smallest, its lines only in derive_page_lines (indexed by
    page too); no derive_run_sets."""
    if "runs_id" not in {row[1] for row in conn.execute("PRAGMA table_info(derive_pages)")}:
        return
    _undo_m035(conn)  # a later step, which converts the URLs m025 copies
    conn.create_function("spaced_json", 1, lambda v: json.dumps(json.loads(v)) if v else "[]")
    conn.executescript(
        f"""
        ALTER TABLE derive_pages RENAME TO kept;
        DROP INDEX derive_pages_title; DROP INDEX derive_pages_raw;
        DROP INDEX derive_pages_text0; DROP INDEX derive_pages_text1;
        {schema.DERIVE_PAGES_M024_DDL}
        INSERT INTO derive_pages ({schema.DERIVE_PAGES_M024_COLUMNS})
            SELECT page_id, has_article, title_id, raw_id, text0_id, text1_id, ev0, ev1,
                spaced_json((SELECT value FROM derive_run_sets WHERE id = k.runs_id)), snapshots, first_seen,
                last_seen, min_url, coalesce(newest_url, min_url),
                (SELECT value FROM derive_run_sets WHERE id = k.runs0_id),
                (SELECT value FROM derive_run_sets WHERE id = k.runs1_id)
            FROM kept k;
        DROP TABLE kept;
        DROP TABLE derive_run_sets;
        CREATE INDEX derive_page_lines_page ON derive_page_lines(page_id);
        DELETE FROM _sqlite_migrations WHERE name = 'm025_derive_pages_shared_runs_own_lines';
        -- m031 converts the lines m025 puts in derive_pages: it runs again after m025
        DELETE FROM _sqlite_migrations WHERE name = 'm031_page_lines_as_varint_gaps';
        """
    )


def _undo_m019(conn: sqlite3.Connection) -> None:
    """The body runs back as m006 kept them: a derive_runs row per (round, line, page)."""
    from dedupe.archive.stages.model import line_ids_of

    _undo_m025(conn)  # a later step, whose form of the runs m019 predates
    conn.execute(
        "CREATE TABLE derive_runs (stage INTEGER NOT NULL, line_id INTEGER NOT NULL, page_id INTEGER NOT NULL, "
        "PRIMARY KEY (stage, line_id, page_id)) WITHOUT ROWID"
    )
    conn.execute("CREATE INDEX derive_runs_page ON derive_runs(stage, page_id)")
    for stage in (0, 1):
        rows = conn.execute(f"SELECT page_id, runs{stage} FROM derive_pages").fetchall()
        conn.executemany(
            "INSERT INTO derive_runs VALUES (?, ?, ?)",
            [(stage, line_id, page_id) for page_id, blob in rows for line_id in line_ids_of(blob)],
        )
    conn.execute("UPDATE derive_pages SET runs0 = NULL, runs1 = NULL")
    conn.execute("UPDATE derive_lines SET in_runs0 = 0, in_runs1 = 0")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm019_runs_per_page'")
    conn.commit()


def test_m019_keeps_body_runs_per_page_and_counts_per_line(tmp_path: Path) -> None:
    """m019 converts the runs of an archive in place: the same runs per page, each line counted on the
    pages whose runs hold it, check passes and the engine goes on from there."""
    from dedupe.archive.stages.model import line_ids_of

    path = _ingested(tmp_path, replica_snapshots(("en",))[:40])
    with Archive(path) as archive:
        conn = archive.db.conn
        runs = {(row[0], s): line_ids_of(row[14 + s]) for row in _pages_as_m024(conn) for s in (0, 1)}
        counts = conn.execute("SELECT id, in_runs0, in_runs1 FROM derive_lines ORDER BY id").fetchall()
    assert sum(len(v) for v in runs.values()) > 20 and any(c[1] > 1 for c in counts)
    old = sqlite3.connect(path)
    _undo_m019(old)
    assert old.execute("SELECT count(*) FROM derive_runs").fetchone()[0] == sum(len(v) for v in runs.values())
    old.close()
    with Archive(path) as archive:
        conn = archive.db.conn
        assert "derive_runs" not in archive.db.table_names()
        again = {(row[0], s): line_ids_of(row[14 + s]) for row in _pages_as_m024(conn) for s in (0, 1)}
        assert again == runs
        assert conn.execute("SELECT id, in_runs0, in_runs1 FROM derive_lines ORDER BY id").fetchall() == counts
        assert archive.check() == {}
        archive.ingest(replica_snapshots(("en",))[40:60], workers=1)
        assert archive.check() == {}


def _bytes(conn: sqlite3.Connection, table: str) -> int:
    """A table's bytes with its indexes (dbstat)."""
    return conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE ?", [table + "%"]).fetchone()[0]


@pytest.mark.parametrize("made_by", ["m001", "m018"])
def test_m023_names_each_content_by_its_page_in_the_content_links(tmp_path: Path, made_by: str) -> None:
    """content_blocks and content_articles keyed by the content's hash, as m001 made them (rowid tables) or
    m018 (WITHOUT ROWID), become keyed by its page id in place: the same links, the views that read them
    answer the same, check passes, the engine goes on writing them, and they take less room."""
    path = _ingested(tmp_path, replica_snapshots(("en",))[:30])
    conn = sqlite3.connect(path)
    links = {t: sorted(conn.execute(derived_rows_sql(t))) for t in ("content_blocks", "content_articles")}  # by hash
    facts = sorted(conn.execute("SELECT * FROM snapshot_facts"))
    extracted = sorted(conn.execute("SELECT * FROM snapshots_extracted"))
    assert links["content_blocks"] and links["content_articles"] and facts and extracted
    # the tables, their indexes and the two views as m001 made them (m018: the same tables WITHOUT ROWID)
    made = ("content_blocks", "content_articles", "snapshot_facts", "snapshots_extracted")
    old_form = [
        statement.replace(");", ") WITHOUT ROWID;") if made_by == "m018" and "CREATE TABLE" in statement else statement
        for statement in migrations.ddl_statements(schema.INITIAL_DDL)
        if re.search(rf"CREATE (TABLE|VIEW) ({'|'.join(made)}) |CREATE INDEX \w+ ON ({'|'.join(made)})\(", statement)
    ]
    assert len(old_form) == 6
    conn.execute("PRAGMA legacy_alter_table = ON")
    for view in ("snapshot_facts", "snapshots_extracted"):
        conn.execute(f"DROP VIEW {view}")
    conn.executescript("DROP TABLE content_blocks; DROP TABLE content_articles;" + "".join(old_form))
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm023_content_links_by_page'")
    if made_by == "m001":
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm018_content_links_without_rowid'")
    conn.executemany("INSERT INTO content_blocks VALUES (?, ?)", links["content_blocks"])
    conn.executemany("INSERT INTO content_articles VALUES (?, ?)", links["content_articles"])
    conn.commit()
    assert sorted(conn.execute("SELECT * FROM snapshot_facts")) == facts
    assert sorted(conn.execute("SELECT * FROM snapshots_extracted")) == extracted
    by_hash = {t: _bytes(conn, t) for t in links}
    conn.close()
    with Archive(path) as archive:
        conn = archive.db.conn
        assert "page_id" in archive.db["content_blocks"].columns_dict
        assert (
            "WITHOUT ROWID" in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'content_blocks'").fetchone()[0]
        )
        assert sorted(conn.execute("SELECT * FROM snapshot_facts")) == facts
        assert sorted(conn.execute("SELECT * FROM snapshots_extracted")) == extracted
        assert archive.check() == {}
        by_page = {t: _bytes(conn, t) for t in links}
        assert by_page["content_blocks"] < by_hash["content_blocks"], (by_hash, by_page)
        archive.ingest(replica_snapshots(("en",))[30:40], workers=1)  # the engine writes them on
        assert archive.check() == {}
        archive.ingest(replica_snapshots(("en",))[30:45], workers=1)
        assert archive.check() == {}


def test_m020_block_version_urls_keep_their_key_only_and_a_rewritten_url_loses_its_rows(tmp_path: Path) -> None:
    """The rows of a URL whose runs are derived again (an older observation arriving late) are deleted by
    their keys, the block versions its runs listed; nothing by URL is left to index."""
    corpus = replica_snapshots(("en",))
    with Archive(tmp_path / "archive.db") as archive:
        indexes = archive.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'block_version_urls_by_url_id'"
        ).fetchall()
        assert indexes == []  # the primary key is the table (WITHOUT ROWID)
        late = [s for s in corpus if "2024-01-" in s.observed_at]
        archive.ingest([s for s in corpus if s not in late], workers=1)
        before = archive.db.execute("SELECT count(*) FROM block_version_urls").fetchone()[0]
        archive.ingest(late, workers=1)  # older than everything stored: each of their URLs is rewritten
        after = archive.db.execute("SELECT count(*) FROM block_version_urls").fetchone()[0]
        assert before > 0 and after > before  # the late pages showed block versions not seen on their URLs
        plan = _plan(archive.db.conn, queries.EVIDENCE_VERSION_URLS_SQL)
        assert "SEARCH b USING PRIMARY KEY (block_version_id=?)" in plan  # the table under the view (m033)
        assert archive.check() == {}


def test_m022_text_band_keys_come_from_signatures_as_stored(tmp_path: Path) -> None:
    """The engine computes a text's band keys from its signature instead of reading them by text id (m022
    dropped that index): for every text, they are the keys ``derive_text_bands`` holds for it."""
    with Archive(tmp_path / "archive.db") as archive:
        archive.ingest(replica_snapshots(("en", "ru")), workers=1)
        conn = archive.db.conn
        stored: dict[int, set[int]] = {}
        for key, text_id in conn.execute("SELECT key, text_id FROM derive_text_bands"):
            stored.setdefault(text_id, set()).add(key)
        computed = stage_texts._keys_of(stage_texts.signatures(conn, stored))
        assert len(stored) >= 30 and computed == stored
        index = "SELECT 1 FROM sqlite_master WHERE name = 'derive_text_bands_text'"
        conn.execute("CREATE INDEX derive_text_bands_text ON derive_text_bands(text_id)")  # as before m022
        migrations.m022_text_bands_by_key_only(archive.db)
        assert conn.execute(index).fetchone() is None
        assert archive.check() == {}


def test_m024_drops_the_engines_copy_of_each_contents_hash(tmp_path: Path) -> None:
    """derive_pages as m006-m019 made it (with content_sha256 UNIQUE) loses the hash in place: every other
    column as it was, `check` passes, the engine goes on deriving, and the table takes less room."""
    path = _ingested(tmp_path, replica_snapshots(("en",))[:30])
    conn = sqlite3.connect(path)
    _undo_m025(conn)  # a later step
    rows = _pages_as_m024(conn)
    assert rows
    with_hash_ddl = schema.DERIVE_PAGES_M024_DDL.replace(
        "has_article INTEGER NOT NULL,", "content_sha256 TEXT NOT NULL UNIQUE, has_article INTEGER NOT NULL,"
    )
    conn.executescript(
        f"""
        ALTER TABLE derive_pages RENAME TO kept;
        DROP INDEX derive_pages_title; DROP INDEX derive_pages_raw;
        DROP INDEX derive_pages_text0; DROP INDEX derive_pages_text1;
        {with_hash_ddl}
        INSERT INTO derive_pages (content_sha256, {schema.DERIVE_PAGES_M024_COLUMNS})
            SELECT p.content_sha256, k.* FROM kept k JOIN pages p ON p.rowid = k.page_id;
        DROP TABLE kept;
        DELETE FROM _sqlite_migrations WHERE name = 'm024_derive_pages_without_hash';
        """
    )
    with_hash = _bytes(conn, "derive_pages") + _bytes(conn, "sqlite_autoindex_derive_pages")
    conn.close()
    with Archive(path) as archive:
        conn = archive.db.conn
        assert "content_sha256" not in archive.db["derive_pages"].columns_dict
        assert _pages_as_m024(conn) == rows
        assert _bytes(conn, "derive_pages") < with_hash
        assert archive.check() == {}
        archive.ingest(replica_snapshots(("en",))[30:40], workers=1)  # the engine derives on
        assert archive.check() == {}


def test_m025_keeps_each_distinct_runs_once_and_each_pages_lines_in_its_row(tmp_path: Path) -> None:
    """derive_pages as m024 left it (each page's three runs in its row, its lines in derive_page_lines indexed
    by page) names its runs by the id of a derive_run_sets row in place and holds its own lines: the same runs
    and lines for every page, far fewer run values than pages, no index of derive_page_lines by page, `check`
    passes, the engine goes on deriving (a run set it has not seen is added), and the tables take less room."""
    path = _ingested(tmp_path, replica_snapshots(("en",))[:40])
    conn = sqlite3.connect(path)
    rows = _pages_as_m024(conn)
    _undo_m025(conn)
    assert _pages_as_m024(conn) == rows
    assert conn.execute("SELECT count(*) FROM derive_pages WHERE runs != '[]' AND runs1 IS NOT NULL").fetchone()[0] > 5
    by_page = sorted(conn.execute("SELECT page_id, line_id, kind FROM derive_page_lines"))
    before = _bytes(conn, "derive_pages") + _bytes(conn, "derive_page_lines")
    conn.close()
    with Archive(path) as archive:
        conn = archive.db.conn
        assert _pages_as_m024(conn) == rows
        sets = conn.execute("SELECT count(*) FROM derive_run_sets").fetchone()[0]
        assert 0 < sets < len(rows) / 2
        assert conn.execute("SELECT count(*) FROM derive_pages WHERE newest_url_id = min_url_id").fetchone() == (0,)
        after = _bytes(conn, "derive_pages") + _bytes(conn, "derive_run_sets") + _bytes(conn, "derive_page_lines")
        assert after < before
        indexes = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "derive_page_lines_page" not in indexes
        held = sorted(
            (page, line, kind)
            for page, blob in conn.execute("SELECT page_id, lines FROM derive_pages")
            for line, kind in page_lines_of(blob)
        )
        assert held == by_page and len(held) > 100
        migrations.m025_derive_pages_shared_runs_own_lines(archive.db)  # once more: nothing left to do, nothing changes
        assert _pages_as_m024(conn) == rows
        assert archive.check() == {}
        archive.ingest(replica_snapshots(("en",))[40:70], workers=1)  # the engine derives on
        assert archive.check() == {}
        assert conn.execute("SELECT count(*) FROM derive_run_sets").fetchone()[0] >= sets


def _undo_m040(conn: sqlite3.Connection) -> None:
    """Every text's signature stored, in m017's NOT NULL column, without m040's triggers, as before m040."""
    if (
        conn.execute(
            "SELECT 1 FROM _sqlite_migrations WHERE name = 'm040_text_signatures_from_article_versions'"
        ).fetchone()
        is None
    ):
        return
    conn.create_function("m040_signature", 1, stage_texts.signature_blob)
    conn.executescript(
        """
        UPDATE derive_texts SET signature = (SELECT m040_signature(av.text) FROM article_versions av
            WHERE av.id = 'av-' || lower(hex(substr(derive_texts.hash, 1, 6)))) WHERE signature IS NULL;
        DROP TRIGGER article_versions_text_signature_ad;
        DROP TRIGGER article_versions_text_signature_au;
        ALTER TABLE derive_texts RENAME TO derive_texts_new;
        CREATE TABLE derive_texts (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, signature BLOB NOT NULL);
        INSERT INTO derive_texts SELECT * FROM derive_texts_new;
        DROP TABLE derive_texts_new;
        DELETE FROM _sqlite_migrations WHERE name = 'm040_text_signatures_from_article_versions';
        """
    )
    conn.commit()


def _undo_m039(conn: sqlite3.Connection) -> None:
    """Observations keeping their whole headers (minified JSON, as the writer keeps what no set holds), as before
    m039; the snapshots view as m027 made it."""
    if "header_set" not in {row[1] for row in conn.execute("PRAGMA table_info(observations)")}:
        return
    whole = conn.execute("SELECT headers, id FROM snapshots WHERE headers IS NOT NULL").fetchall()
    (view,) = [s for s in migrations.ddl_statements(schema.OBSERVATIONS_DDL) if "CREATE VIEW snapshots" in s]
    conn.executescript(
        f"""
        DROP VIEW snapshots;
        {view};
        ALTER TABLE observations DROP COLUMN header_set;
        DROP TABLE header_sets;
        DELETE FROM _sqlite_migrations WHERE name = 'm039_header_sets';
        """
    )
    conn.executemany("UPDATE observations SET headers = ? WHERE id = ?", whole)
    conn.commit()


def _undo_m027(conn: sqlite3.Connection) -> None:
    """The snapshots table as m026 left it (its hash in each row, its four indexes), from the view m027 made."""
    for later in (_undo_m039, _undo_m033, _undo_m034, _undo_m035):  # later steps: m039's on observations, and
        # the steps whose URL ids m027 makes anew
        later(conn)
    (ddl,) = [s for s in migrations.ddl_statements(schema.INITIAL_DDL) if "CREATE TABLE snapshots" in s]
    conn.execute("PRAGMA legacy_alter_table = ON")  # the views that name snapshots stay as they are
    conn.executescript(
        ddl.replace("CREATE TABLE snapshots", "CREATE TABLE snapshots_m026")
        + """;
        INSERT INTO snapshots_m026 SELECT * FROM snapshots ORDER BY id;
        DROP VIEW snapshots;
        DROP TABLE observations;
        DROP TABLE urls;
        ALTER TABLE snapshots_m026 RENAME TO snapshots;
        CREATE INDEX snapshots_url_time ON snapshots(url, observed_at);
        CREATE INDEX snapshots_content ON snapshots(content_sha256);
        CREATE INDEX snapshots_origin ON snapshots(origin);
        CREATE INDEX snapshots_observed ON snapshots(observed_at);
        DELETE FROM _sqlite_migrations WHERE name = 'm027_observations_by_url_and_content_ids';
        """
    )
    conn.execute("PRAGMA legacy_alter_table = OFF")


def _m026_archive(tmp_path: Path, snaps: list) -> tuple[Path, sqlite3.Connection]:
    """An archive of ``snaps`` in the form m026 left it, and a connection to it (the caller closes it)."""
    path = _ingested(tmp_path, snaps)
    conn = sqlite3.connect(path)
    _undo_m027(conn)
    return path, conn


def test_m026_keeps_snapshots_by_url_and_time_and_each_observation_once(tmp_path: Path) -> None:
    """The identity index (URL, time, content hash) gives way to (URL, time): every observation is still
    stored once (the writer checks before it inserts: the same snapshots again, or twice in one batch, add
    nothing), the newest of a URL is read from the index without a sort, and the index takes less room."""
    snaps = replica_snapshots(("en",))[:30]
    path, conn = _m026_archive(tmp_path, snaps)
    conn.executescript(
        """
        DROP INDEX snapshots_url_time;
        CREATE UNIQUE INDEX snapshots_identity ON snapshots(url, observed_at, coalesce(content_sha256, ''));
        DELETE FROM _sqlite_migrations WHERE name = 'm026_snapshots_by_url_and_time';
        """
    )
    payload = "SELECT sum(payload) FROM dbstat WHERE name = ?"  # the index is one page either way: its bytes in it
    before = conn.execute(payload, ["snapshots_identity"]).fetchone()[0]
    rows = conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall()
    conn.close()
    with Archive(path) as archive:  # m026, then m027
        conn = archive.db.conn
        names = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "observations_url_time" in names and not {"snapshots_identity", "snapshots_url_time"} & names
        assert conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall() == rows
        assert conn.execute(payload, ["observations_url_time"]).fetchone()[0] < before * 0.7
        plan = _plan(conn, "SELECT id FROM snapshots WHERE url = ? ORDER BY observed_at DESC, id DESC LIMIT 1")
        assert "INDEX observations_url_time" in plan and "TEMP B-TREE" not in plan
        report = archive.ingest([*snaps[:10], *snaps[:10]], workers=1)  # already stored, and twice in one batch
        assert report.after["snapshots"] == report.before["snapshots"] == len(rows)
        one = replica_snapshots(("en",))[30]
        archive.ingest([one, one], workers=1)
        assert conn.execute("SELECT count(*) FROM snapshots WHERE url = ?", [one.url]).fetchone() == (1,)
        assert archive.check() == {}


def test_m027_names_each_content_by_its_row_and_snapshots_read_as_before(tmp_path: Path) -> None:
    """Observations name their content by ``contents.rowid``; the snapshots view gives every row, every view over
    it and every named question the same answers as the table did, in less room, and the writer goes on."""
    snaps = replica_snapshots(("en",))
    path, conn = _m026_archive(tmp_path, snaps[:40])
    payload = "SELECT sum(payload) FROM dbstat WHERE name LIKE ? OR name LIKE ?"
    before = conn.execute(payload, ["snapshots%", "snapshots%"]).fetchone()[0]
    rows = conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall()
    views = {
        v: conn.execute(f"SELECT * FROM {v} ORDER BY 1, 2, 3").fetchall()
        for v in ("snapshots_extracted", "snapshot_facts", "conflicts")
    }
    assert any(sha is None for *_, sha, _status in rows)  # observations without a body are kept as such
    conn.close()
    with Archive(path) as archive:
        conn = archive.db.conn
        assert conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall() == rows
        assert {v: conn.execute(f"SELECT * FROM {v} ORDER BY 1, 2, 3").fetchall() for v in views} == views
        linked = conn.execute(
            "SELECT count(*) FROM observations o JOIN contents c ON c.rowid = o.content_id"
        ).fetchone()[0]
        assert linked == sum(1 for row in rows if row[-2] is not None)
        after = conn.execute(payload, ["observations%", "%autoindex_urls%"]).fetchone()[0]
        after += conn.execute("SELECT sum(payload) FROM dbstat WHERE name = 'urls'").fetchone()[0]
        assert after < before * 0.75  # 40 snapshots of 33 URLs; 0.47 at a million observations (10 a URL)
        assert conn.execute("SELECT count(*) FROM urls").fetchone()[0] == len({row[1] for row in rows})
        plan = _plan(conn, "SELECT url FROM snapshots WHERE content_sha256 = ?")  # a content's observations
        assert "INDEX observations_content" in plan and "SCAN" not in plan
        assert archive.check() == {}
        archive.ingest([*snaps[:40], *snaps[40:50]], workers=1)  # the old ones add nothing, the new ones land
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == len(rows) + 10
        with_body = "SELECT count(*) FROM snapshots s JOIN contents c ON c.sha256 = s.content_sha256"
        assert (
            conn.execute(with_body).fetchone() == conn.execute("SELECT count(content_sha256) FROM snapshots").fetchone()
        )
        assert archive.check() == {}


def test_m027_refuses_an_archive_whose_snapshot_names_a_missing_content(tmp_path: Path) -> None:
    """Such a snapshot's hash would be lost (no row to name): the step refuses, says why, and changes nothing."""
    path, conn = _m026_archive(tmp_path, replica_snapshots(("en",))[:5])
    conn.execute("UPDATE snapshots SET content_sha256 = ? WHERE id = 1", ["0" * 64])
    conn.commit()
    rows = conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall()
    conn.close()
    with pytest.raises(ArchiveError, match="1 snapshot.s. name a content the archive does not hold"):
        Archive(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT type FROM sqlite_master WHERE name = 'snapshots'").fetchone() == ("table",)
    assert conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall() == rows
    conn.close()


def test_m027_converts_the_first_form_it_had_with_urls_as_text(tmp_path: Path) -> None:
    """Commit 6b33fa0 gave m027 as ``m027_observations_by_content_id``: ``observations`` with each URL's text and
    no ``urls``. An archive upgraded then is converted by the step as it is now, with every row as it was."""
    snaps = replica_snapshots(("en",))
    path, conn = _m026_archive(tmp_path, snaps[:30])
    rows = conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall()
    conn.execute("PRAGMA legacy_alter_table = ON")
    conn.executescript(  # that first form, made from the m026 one as its step made it
        """
        ALTER TABLE snapshots RENAME TO snapshots_old;
        DROP INDEX snapshots_url_time; DROP INDEX snapshots_content; DROP INDEX snapshots_origin;
        DROP INDEX snapshots_observed;
        CREATE TABLE observations (id INTEGER PRIMARY KEY, url TEXT NOT NULL, host TEXT, observed_at TEXT NOT NULL,
            source TEXT NOT NULL, origin TEXT, http_status INTEGER, headers TEXT, etag TEXT, last_modified TEXT,
            page_type TEXT, content_id INTEGER, status TEXT NOT NULL);
        INSERT INTO observations SELECT s.id, s.url, s.host, s.observed_at, s.source, s.origin, s.http_status,
            s.headers, s.etag, s.last_modified, s.page_type, c.rowid, s.status
            FROM snapshots_old s LEFT JOIN contents c ON c.sha256 = s.content_sha256;
        DROP TABLE snapshots_old;
        CREATE INDEX observations_url_time ON observations(url, observed_at);
        CREATE INDEX observations_content ON observations(content_id);
        CREATE INDEX observations_origin ON observations(origin);
        CREATE INDEX observations_observed ON observations(observed_at);
        CREATE VIEW snapshots AS SELECT o.id, o.url, o.host, o.observed_at, o.source, o.origin, o.http_status,
            o.headers, o.etag, o.last_modified, o.page_type, c.sha256 AS content_sha256, o.status
            FROM observations o LEFT JOIN contents c ON c.rowid = o.content_id;
        INSERT INTO _sqlite_migrations(migration_set, name, applied_at)
            VALUES ('pa-archive', 'm027_observations_by_content_id', '2026-12-04 08:35:00');
        """
    )
    conn.commit()
    assert conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall() == rows
    conn.close()
    with Archive(path) as archive:
        conn = archive.db.conn
        assert (
            "url_id" in archive.db["observations"].columns_dict and "url" not in archive.db["observations"].columns_dict
        )
        assert conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall() == rows
        assert archive.check() == {}
        archive.ingest(snaps[30:40], workers=1)  # and the writer goes on
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == len(rows) + 10


def test_the_writer_refuses_a_snapshot_whose_content_is_not_stored(tmp_path: Path) -> None:
    """Before m027 the table's foreign key refused it; a row id has no foreign key, and the snapshot would have
    been stored as one without a body."""
    snap = replica_snapshots(("en",))[0]
    with Archive(tmp_path / "archive.db") as archive:
        with pytest.raises(sqlite3.IntegrityError, match="names a content the archive does not hold"):
            archive.store._store(snap, "f" * 64, None, None)
        assert archive.db.execute("SELECT count(*) FROM observations").fetchone() == (0,)


def test_m029_drops_the_text_states_config_which_nothing_read(tmp_path: Path) -> None:
    path = _ingested(tmp_path, replica_snapshots(("en",))[:20])
    with Archive(path) as archive:
        texts = archive.db.execute("SELECT id, hash, signature FROM derive_texts ORDER BY id").fetchall()
    conn = sqlite3.connect(path)  # the table as m017 left it: the parameters' name in every row
    with conn:
        conn.execute("ALTER TABLE derive_texts ADD COLUMN config TEXT NOT NULL DEFAULT 'minhash:perm=128,unit=word'")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm029_derive_texts_without_config'")
    conn.close()
    with Archive(path) as archive:
        conn = archive.db.conn
        assert [row[1] for row in conn.execute("PRAGMA table_info(derive_texts)")] == ["id", "hash", "signature"]
        assert conn.execute("SELECT id, hash, signature FROM derive_texts ORDER BY id").fetchall() == texts
        assert archive.check() == {}
        archive.ingest(replica_snapshots(("en",))[20:35], workers=1)  # and the engine goes on from it
        assert archive.check() == {}


def test_m030_keeps_the_top_31_bits_of_each_band_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Band keys as the code before m030 stored them (a whole int64 row hash) become what ``band_keys`` gives now:
    the same rows as an archive the current code built from the same observations."""
    bands = (
        "SELECT 'line', key, line_id FROM derive_line_bands "
        "UNION ALL SELECT 'text', key, text_id FROM derive_text_bands"
    )
    snapshots = replica_snapshots(("en",))[:30]
    with monkeypatch.context() as patched:
        patched.setattr(minhash, "KEY_SHIFT", 0)
        with Archive(tmp_path / "old.db") as archive:
            archive.ingest(snapshots, workers=1)
            assert archive.db.execute(f"SELECT max(abs(key)) FROM ({bands})").fetchone()[0] > 2**30
            archive.db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm030_band_keys_in_four_bytes'")
    with Archive(_ingested(tmp_path, snapshots, "new.db")) as archive:
        expected = sorted(archive.db.execute(bands).fetchall())
    with Archive(tmp_path / "old.db") as archive:  # converted on open
        assert sorted(archive.db.execute(bands).fetchall()) == expected
        assert archive.check() == {}
        archive.ingest(replica_snapshots(("en",))[30:45], workers=1)  # the engine finds its neighbours by them
        assert archive.check() == {}


def _undo_m031(conn: sqlite3.Connection) -> None:
    """derive_pages.lines back in m025's form: the line ids, 4 bytes each, then a byte per kind."""
    rows = conn.execute("SELECT page_id, lines FROM derive_pages WHERE lines IS NOT NULL").fetchall()
    old = []
    for page_id, blob in rows:
        pairs = page_lines_of(blob)
        ids, kinds = [i for i, _ in pairs], [k for _, k in pairs]
        old.append((struct.pack(f"<{len(ids)}I{len(ids)}B", *ids, *kinds), page_id))
    conn.executemany("UPDATE derive_pages SET lines = ? WHERE page_id = ?", old)
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm031_page_lines_as_varint_gaps'")
    conn.commit()


def test_m031_writes_each_pages_lines_as_varint_gaps(tmp_path: Path) -> None:
    """Page lines in m025's form (5 bytes a line) become the varint gaps the engine writes now: the same
    (line, kind) pairs for every page, the same bytes as an archive the current code built, at most half the
    size, and the engine derives on from them; ``check`` passes."""
    snapshots = replica_snapshots(("en",))[:40]
    with Archive(_ingested(tmp_path, snapshots, "new.db")) as archive:
        expected = archive.db.execute("SELECT page_id, lines FROM derive_pages ORDER BY page_id").fetchall()
    shutil.copy(tmp_path / "new.db", tmp_path / "old.db")
    conn = sqlite3.connect(tmp_path / "old.db")
    _undo_m031(conn)
    old_size = conn.execute("SELECT sum(length(lines)) FROM derive_pages").fetchone()[0]
    conn.close()
    with Archive(tmp_path / "old.db") as archive:  # converted on open
        rows = archive.db.execute("SELECT page_id, lines FROM derive_pages ORDER BY page_id").fetchall()
        assert rows == expected and len(rows) > 30
        assert sum(len(page_lines_of(blob)) for _, blob in rows) > 300
        assert sum(len(blob) for _, blob in rows) * 2 < old_size
        assert archive.check() == {}
        archive.ingest(replica_snapshots(("en",))[40:55], workers=1)
        assert archive.check() == {}


def test_m031_stops_on_page_lines_in_no_form_it_knows(tmp_path: Path) -> None:
    """A row that is not in m025's form (here, ids out of order) stops the step with the page named, and the
    archive keeps every row as it was (the step is one transaction; it runs again once the row is mended)."""
    conn = sqlite3.connect(_ingested(tmp_path, replica_snapshots(("en",))[:10]))
    _undo_m031(conn)
    (page_id,) = conn.execute("SELECT min(page_id) FROM derive_pages WHERE length(lines) >= 10").fetchone()
    conn.execute("UPDATE derive_pages SET lines = ? WHERE page_id = ?", [struct.pack("<2I2B", 9, 3, 0, 0), page_id])
    conn.commit()
    before = conn.execute("SELECT page_id, lines FROM derive_pages ORDER BY page_id").fetchall()
    conn.close()
    with pytest.raises(ArchiveError, match=f"upgrading .* stopped, .*page {page_id} is not in m025's form"):
        Archive(tmp_path / "archive.db").close()
    conn = sqlite3.connect(tmp_path / "archive.db")
    assert conn.execute("SELECT page_id, lines FROM derive_pages ORDER BY page_id").fetchall() == before
    assert not conn.execute("SELECT 1 FROM _sqlite_migrations WHERE name = 'm031_page_lines_as_varint_gaps'").fetchone()


def _payload(conn: sqlite3.Connection, table: str) -> int:
    """The bytes of a table's rows (dbstat), without the free space of its pages."""
    return conn.execute("SELECT sum(payload) FROM dbstat WHERE name = ?", [table]).fetchone()[0]


def _undo_m033(conn: sqlite3.Connection) -> None:
    """url_runs and block_version_urls back as tables naming their URL (m010, m020), from the views m033 made."""
    conn.executescript(
        """
        CREATE TABLE url_runs_m032 AS SELECT * FROM url_runs;
        CREATE TABLE block_version_urls_m032 AS SELECT * FROM block_version_urls;
        DROP VIEW url_runs; DROP VIEW block_version_urls;
        DROP TABLE url_runs_by_url_id; DROP TABLE block_version_urls_by_url_id;
        CREATE TABLE url_runs (url TEXT NOT NULL, first_observed_at TEXT NOT NULL, first_snapshot_id INTEGER NOT NULL,
            last_observed_at TEXT NOT NULL, last_snapshot_id INTEGER NOT NULL, snapshots INTEGER NOT NULL,
            block_versions TEXT NOT NULL, stating INTEGER NOT NULL,
            PRIMARY KEY (url, first_observed_at, first_snapshot_id)) WITHOUT ROWID;
        CREATE TABLE block_version_urls (block_version_id TEXT NOT NULL, url TEXT NOT NULL,
            snapshots INTEGER NOT NULL, first_observed_at TEXT NOT NULL, first_snapshot_id INTEGER NOT NULL,
            last_observed_at TEXT NOT NULL, last_snapshot_id INTEGER NOT NULL,
            PRIMARY KEY (block_version_id, url)) WITHOUT ROWID;
        INSERT INTO url_runs SELECT * FROM url_runs_m032;
        INSERT INTO block_version_urls SELECT * FROM block_version_urls_m032;
        DROP TABLE url_runs_m032; DROP TABLE block_version_urls_m032;
        DELETE FROM _sqlite_migrations WHERE name = 'm033_time_records_by_url_id';
        """
    )


def test_m033_names_the_url_of_the_time_records_by_its_id(tmp_path: Path) -> None:
    """url_runs and block_version_urls as tables with the URL's text become tables by urls.id under views of the
    old names: the same rows through the views, less room, `check` passes, the engine writes on (a crawl's new
    runs and a late observation's rewritten ones), and the analysts' queries over them answer as before."""
    corpus = replica_snapshots(("en",))
    late = [s for s in corpus if "2024-01-" in s.observed_at]
    path = _ingested(tmp_path, [s for s in corpus if s not in late][:60])
    with Archive(path) as archive:
        until = archive.db.execute("SELECT max(observed_at) FROM snapshots").fetchone()[0]
        as_of = archive.db.execute(queries.FACTS_AS_OF_SQL, {"until": until}).fetchall()
    conn = sqlite3.connect(path)
    tables = ("url_runs", "block_version_urls")
    rows = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}
    assert all(len(found) > 20 for found in rows.values())
    _undo_m033(conn)
    assert {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables} == rows
    before = _payload(conn, "url_runs") + _payload(conn, "block_version_urls")
    conn.close()
    with Archive(path) as archive:  # converted on open
        conn = archive.db.conn
        assert set(tables) <= set(archive.db.view_names())
        assert {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables} == rows
        after = _payload(conn, "url_runs_by_url_id") + _payload(conn, "block_version_urls_by_url_id")
        assert after < before * 0.75
        assert conn.execute(queries.FACTS_AS_OF_SQL, {"until": until}).fetchall() == as_of and as_of
        assert archive.check() == {}
        archive.ingest([s for s in corpus if s not in late][60:], workers=1)
        archive.ingest(late, workers=1)  # older than everything stored: their URLs' runs are rewritten
        assert archive.check() == {}


def test_m034_names_each_articles_url_by_its_id_in_the_article_order(tmp_path: Path) -> None:
    """derive_article_order as before m034 (each article's URL as text, indexed) names it by urls.id: the same
    URLs, less room, `check` passes, and the engine goes on (a removed page touches its article by its URL)."""
    corpus = replica_snapshots(("en",))
    path = _ingested(tmp_path, corpus[:40])
    with Archive(path) as archive:
        expected = archive.db.execute(
            "SELECT o.grp, o.sort_key, o.public_id, u.url FROM derive_article_order o JOIN urls u ON u.id = o.url_id "
            "ORDER BY o.grp"
        ).fetchall()
    assert len(expected) > 10
    conn = sqlite3.connect(path)
    _undo_m034(conn)
    before = _payload(conn, "derive_article_order") + _payload(conn, "derive_article_order_url")
    conn.close()
    with Archive(path) as archive:  # converted on open
        conn = archive.db.conn
        got = conn.execute(
            "SELECT o.grp, o.sort_key, o.public_id, u.url FROM derive_article_order o JOIN urls u ON u.id = o.url_id "
            "ORDER BY o.grp"
        ).fetchall()
        assert got == expected
        after = _payload(conn, "derive_article_order") + _payload(conn, "derive_article_order_url_id")
        assert after < before * 0.8
        assert archive.check() == {}
        article = next(s for s in corpus[:40] if s.url == expected[0][3])
        gone = dataclasses.replace(article, observed_at="2030-01-01T00:00:00Z", body=None, http_status=404)
        archive.ingest([gone, *corpus[40:50]], workers=1)
        assert archive.check() == {}
        assert conn.execute("SELECT status FROM articles WHERE url = ?", [article.url]).fetchone() == ("removed",)


def test_m035_names_each_pages_urls_by_their_ids(tmp_path: Path) -> None:
    """derive_pages as before m035 (a page's smallest and newest URL as text) names them by urls.id: the same
    URLs for every page, less room, `check` passes, and the engine goes on (a page seen under a new URL)."""
    corpus = replica_snapshots(("en",))
    path = _ingested(tmp_path, corpus[:40])
    with Archive(path) as archive:
        expected = _pages_as_m024(archive.db.conn)
    conn = sqlite3.connect(path)
    _undo_m035(conn)
    assert _pages_as_m024(conn) == expected
    before = _payload(conn, "derive_pages")
    conn.close()
    with Archive(path) as archive:  # converted on open
        conn = archive.db.conn
        assert _pages_as_m024(conn) == expected
        assert _payload(conn, "derive_pages") < before - 20 * len(expected)
        assert archive.check() == {}
        moved = dataclasses.replace(corpus[5], url=corpus[5].url + "?moved", observed_at="2030-01-01T00:00:00Z")
        archive.ingest([moved, *corpus[40:50]], workers=1)
        assert archive.check() == {}


def test_m036_keeps_the_hash_of_each_sort_key_as_bytes_and_every_rank(tmp_path: Path) -> None:
    """Sort keys as text (the hash in hex, before m036) become bytes: what the current code writes for the same
    observations, in the same order (the public ids unchanged), and the engine ranks on from them (pages out
    of time order renumber articles)."""
    corpus = replica_snapshots(("en",))
    path = _ingested(tmp_path, corpus[20:60])
    with Archive(path) as archive:
        expected = {
            table: archive.db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("derive_article_order", "derive_block_order")
        }
        ids = archive.db.execute("SELECT id, url FROM articles ORDER BY id").fetchall()
    conn = sqlite3.connect(path)
    conn.create_function("as_text", 2, lambda k, n: k[:-n].decode() + k[-n:].hex())  # its hash: the last n bytes
    for table, size in (("derive_article_order", 16), ("derive_block_order", 32)):
        conn.execute(f"UPDATE {table} SET sort_key = as_text(sort_key, ?)", [size])
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm036_sort_keys_as_bytes'")
    conn.commit()
    assert conn.execute("SELECT DISTINCT typeof(sort_key) FROM derive_article_order").fetchall() == [("text",)]
    conn.close()
    with Archive(path) as archive:  # converted on open
        for table, rows in expected.items():
            assert archive.db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall() == rows and rows
        assert archive.db.execute("SELECT id, url FROM articles ORDER BY id").fetchall() == ids
        archive.ingest(corpus[:20], workers=1)  # older than everything stored: the ids after them move
        assert archive.check() == {}


def test_m037_keeps_one_full_text_index(tmp_path: Path) -> None:
    """The word index m001 made (``article_versions_fts``, with the triggers m001 and m009 gave it) goes: every
    search is the stemmed index's, which finds what it found, checks against the texts, and follows the versions
    the engine writes and deletes from then on."""
    corpus = replica_snapshots(("en",))
    path = _ingested(tmp_path, corpus[:40])
    conn = sqlite3.connect(path)
    register_functions(conn)
    db = Database(conn)  # the word index as the history made it: m001's, with m009's trigger for updates
    db["article_versions"].enable_fts(["title", "text"], create_triggers=True, tokenize="unicode61")
    migrations.m009_fts_reindexes_changed_text_only(db)
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm037_one_full_text_index'")
    triggers = "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%article_versions_fts%'"
    assert conn.execute(triggers).fetchone() == (3,)
    found = _search_results(conn)
    assert sum(map(bool, found.values())) >= 4  # words the replica has ("seats OR deputies": neither)
    conn.commit()
    conn.close()
    with Archive(path) as archive:  # converted on open
        conn = archive.db.conn
        left = "SELECT name FROM sqlite_master WHERE name LIKE 'article_versions_fts%' OR sql LIKE '%versions_fts%'"
        assert conn.execute(left).fetchall() == []
        assert _search_results(conn) == found
        archive.ingest(corpus[40:80], workers=1)
        archive.refresh(force=True)  # every version deleted and written again: the stemmed index's triggers
        _integrity_check(conn, "article_versions_stemmed")
        assert archive.check() == {}


def test_m033_stops_on_a_time_record_naming_a_url_the_archive_does_not_hold(tmp_path: Path) -> None:
    """A url_runs row whose URL no observation names (damaged: the engine never writes one) would be dropped by
    the copy: the step stops with a sentence instead, and the tables stay as they were."""
    path = tmp_path / "archive.db"
    with Archive(path) as archive:
        archive.ingest(replica_snapshots(("en",))[:10], workers=1)
    conn = sqlite3.connect(path)
    _undo_m033(conn)
    conn.execute(
        "INSERT INTO url_runs SELECT 'https://pacsto.org/nowhere', first_observed_at, first_snapshot_id, "
        "last_observed_at, last_snapshot_id, snapshots, block_versions, stating FROM url_runs LIMIT 1"
    )
    conn.commit()
    before = sorted(conn.execute("SELECT * FROM url_runs").fetchall())
    conn.close()
    with pytest.raises(ArchiveError, match="1 row.* of url_runs name a URL the archive does not hold"):
        Archive(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT type FROM sqlite_master WHERE name = 'url_runs'").fetchone() == ("table",)
    assert sorted(conn.execute("SELECT * FROM url_runs").fetchall()) == before
    conn.close()


def _crawled(snaps: list, when: str = "2026-01-0{}T10:00:00Z") -> list[RawSnapshot]:
    """``snaps`` as a crawl stores them: each with the headers of a web server's answer, in its order (Scrapy's
    spelling), its Date and validators its own; one with a name that is not an HTTP token; one a 304."""
    crawled = []
    for number, snap in enumerate(snaps):
        observed = when.format(number % 9 + 1)
        headers = {
            "Content-Length": str(len(snap.body or b"")),
            "Server": "nginx",
            # the server's clock as the crawler's, or a second behind it
            "Date": http_date(observed) if number % 2 else http_date(observed.replace(":00Z", ":01Z")),
            "Content-Type": "text/html; charset=utf-8",
            "Etag": f'"e{number}"',
            "Last-Modified": "Mon, 20 Oct 2025 09:30:42 GMT",
            "Cache-Control": "max-age=0" if number % 2 else "no-cache",
        }
        if number == 3:
            headers["X Odd Name"] = 'ünïcode "quoted"'
        crawled.append(RawSnapshot(snap.url, observed, snap.body, "crawl", "crawl:1", 200, headers, "utf-8"))
    first = crawled[0]
    crawled.append(RawSnapshot(first.url, "2026-02-01T10:00:00Z", None, "crawl", "crawl:2", 304, {"Etag": '"e0"'}))
    return crawled


def test_header_sets_store_each_set_once_and_snapshots_give_every_header_back_in_order(tmp_path: Path) -> None:
    """A crawl's responses share two sets of headers: each is stored once, each observation keeps its
    Content-Length and a Date that is not its own time, and snapshots.headers is the whole response's headers in
    their order, as before. Headers with a name no JSON path may hold are kept whole; a 304 keeps none (its
    content's snapshot has them)."""
    crawled = _crawled(replica_snapshots(("en",))[:12])
    path = _ingested(tmp_path, crawled)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM header_sets").fetchone() == (2,)
    got = dict(conn.execute("SELECT id, headers FROM snapshots"))
    ids = dict(conn.execute("SELECT observed_at || url, id FROM snapshots"))
    for snap in crawled:
        stored = got[ids[snap.observed_at + snap.url]]
        if snap.http_status == 304:
            assert stored is None
            continue
        assert list(json.loads(stored).items()) == list(snap.headers.items())  # every header, in its order
    rows = conn.execute("SELECT header_set, headers FROM observations WHERE headers IS NOT NULL").fetchall()
    whole = [text for number, text in rows if number is None]
    assert len(whole) == 1 and "X Odd Name" in whole[0]
    # a Date that is the observation's own time is written by the view; one that is not is kept
    kept = sorted(tuple(json.loads(text)) for number, text in rows if number is not None)
    assert kept == [("Content-Length",)] * 5 + [("Content-Length", "Date")] * 6
    in_sets = [text for number, text in rows if number is not None]
    assert sum(map(len, in_sets)) < sum(len(text) for text in got.values() if text and "X Odd" not in text) / 3


def test_m039_converts_whole_headers_to_sets_and_keeps_what_it_cannot(tmp_path: Path) -> None:
    """An archive whose observations hold their whole headers is converted on open: the same snapshots.headers
    (every header, in its order), each set once; a row whose etag column disagrees with its JSON (changed by hand)
    keeps its headers whole; the writer and ``check`` go on."""
    crawled = _crawled(replica_snapshots(("en",))[:12])
    path = _ingested(tmp_path, crawled[:10])
    conn = sqlite3.connect(path)
    _undo_m039(conn)
    conn.execute("UPDATE observations SET etag = 'changed by hand' WHERE id = 2")
    conn.commit()
    before = conn.execute("SELECT id, headers FROM snapshots ORDER BY id").fetchall()
    assert all(number is None or "Server" in number for _, number in before)  # whole, as before m039
    conn.close()
    with Archive(path) as archive:
        conn = archive.db.conn
        assert conn.execute("SELECT id, headers FROM snapshots ORDER BY id").fetchall() == before
        assert conn.execute("SELECT count(*) FROM header_sets").fetchone() == (2,)
        kept = conn.execute("SELECT id FROM observations WHERE header_set IS NULL AND headers IS NOT NULL")
        assert sorted(kept) == [(2,), (4,)]  # the hand-changed row and the name no set holds
        archive.ingest(crawled[10:], workers=1)
        assert conn.execute("SELECT count(*) FROM header_sets").fetchone() == (2,)
        assert archive.check() == {}
        with conn:  # a hand edit: its set gone
            conn.execute("UPDATE observations SET header_set = 99 WHERE id = 3")
        assert archive.check() == {"observations": ["1 observation(s) name a set of headers the archive does not hold"]}


def test_a_server_that_sends_a_new_set_each_time_costs_its_headers_once(tmp_path: Path) -> None:
    """A per-request header the writer does not know as varying (X-Trace) makes each answer's set new: each set
    is stored once, found by its 16-byte digest, not by a second copy of its text in a unique index."""
    crawled = _crawled(replica_snapshots(("en",))[:40])[:40]
    for number, snap in enumerate(crawled):
        snap.headers["X-Trace"] = f"trace-{number:08d}-{'x' * 40}"
    path = _ingested(tmp_path, [snap for snap in crawled if "X Odd Name" not in snap.headers])
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM header_sets").fetchone() == (39,)
    whole = sum(len(text.encode()) for (text,) in conn.execute("SELECT headers FROM snapshots"))
    stored = (
        conn.execute(
            "SELECT sum(payload) FROM dbstat WHERE name = 'header_sets' OR name LIKE 'sqlite_autoindex_header_sets%'"
        ).fetchone()[0]
        + conn.execute("SELECT sum(length(headers)) FROM observations").fetchone()[0]
    )
    assert stored < whole * 1.3


@pytest.mark.parametrize(
    "value",
    ["a\x00b", 'q"uote\\back', "tab\there", "ünïcode \u2028 line", "\x7f\x1b[31m", "", " lead", "x" * 5000],
    ids=["nul", "quote-backslash", "tab", "unicode", "escape", "empty", "space", "long"],
)
def test_any_header_value_comes_back_from_its_set_as_received(tmp_path: Path, value: str) -> None:
    """A server's (or a web archive's) header values are outside input: whatever a varying one (Date, ETag,
    Last-Modified, rebuilt from columns and SQL) or a set's one holds, snapshots.headers gives it back."""
    headers = {"Server": value, "Date": value, "Etag": value, "Last-Modified": value, "X-Odd": value}
    snap = RawSnapshot(
        "http://127.0.0.1/p",
        "2026-01-01T00:00:00Z",
        b"<html><body><p>a page</p></body></html>",
        "crawl",
        None,
        200,
        headers,
        "utf-8",
    )
    conn = sqlite3.connect(_ingested(tmp_path, [snap]))
    assert conn.execute("SELECT header_set IS NOT NULL FROM observations").fetchone() == (1,)
    (stored,) = conn.execute("SELECT headers FROM snapshots").fetchone()
    assert list(json.loads(stored).items()) == list(headers.items())
