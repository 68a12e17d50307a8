"""Every command that writes an archive takes its one writer lock: while another writer holds it,
crawl, import, backfill, rebuild and compact stop at once with one sentence and exit status 75, writing nothing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from dedupe.archive.lock import EXIT_LOCKED, WriterLock
from tests.conftest import SEEDS, seed_files

HELD_BY = {"crawl": "another crawl", "import": "an import", "backfill": "a backfill"}
# each writer's command line, with nothing it could reach: the lock is taken before anything is fetched or read
WRITERS = {
    "crawl": ["crawl", "--start-url", "http://127.0.0.1:9/events", "--no-progress"],
    "import": ["import", str(SEEDS)],
    "backfill": ["backfill", "--cdx-api", "http://127.0.0.1:9/cdx", "--url", "http://127.0.0.1:9/events"],
}


def snapshots(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("holder", sorted(HELD_BY))
def test_each_writer_refuses_to_start_while_another_holds_the_archive(tmp_path: Path, writer: str, holder: str) -> None:
    db = tmp_path / "a.db"
    assert CliRunner().invoke(cli, ["import", str(seed_files()[0]), "--db", str(db)]).exit_code == 0
    lock = WriterLock(db)
    lock.acquire(holder)
    try:
        result = CliRunner().invoke(cli, [*WRITERS[writer], "--db", str(db)])
    finally:
        lock.release()
    assert result.exit_code == EXIT_LOCKED == 75, result.output
    (line,) = [text for text in result.output.splitlines() if text.strip()]
    assert line.startswith(f"error: {HELD_BY[holder]} is already writing a.db (pid ") and "Traceback" not in line
    assert snapshots(db) == 1  # nothing written
    if writer == "crawl":
        with sqlite3.connect(db) as conn:
            assert conn.execute("SELECT count(*) FROM crawl_runs").fetchone()[0] == 0


def test_an_import_into_a_new_archive_while_a_crawl_holds_it_creates_nothing(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    crawl = WriterLock(db)
    crawl.acquire("crawl", {"started_at": "2026-11-29T10:00:00+00:00"})
    try:
        result = CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)])
    finally:
        crawl.release()
    assert result.exit_code == 75
    assert "another crawl is already writing a.db" in result.output and "nothing was imported" in result.output
    assert "started 2026-11-29T10:00:00+00:00" in result.output
    assert not db.exists()
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0  # once it has finished


@pytest.mark.parametrize(("command", "done"), [("rebuild", "rebuilt"), ("compact", "compacted")])
def test_a_rebuild_or_compact_waits_for_no_one_it_refuses_while_a_crawl_writes(
    tmp_path: Path, command: str, done: str
) -> None:
    db = tmp_path / "a.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    crawl = WriterLock(db)
    crawl.acquire("crawl")
    try:
        result = CliRunner().invoke(cli, [command, "--db", str(db)])
    finally:
        crawl.release()
    assert result.exit_code == 75 and "another crawl is already writing a.db" in result.output
    assert f"nothing was {done}" in result.output
    assert CliRunner().invoke(cli, [command, "--db", str(db)]).exit_code == 0


def test_compact_gives_the_free_pages_back(tmp_path: Path) -> None:
    """`compact`: the file loses its free pages (here those of a dropped table), nothing else changes."""
    import json

    from dedupe.archive import Archive

    db = tmp_path / "a.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    with sqlite3.connect(db) as conn:  # pages freed as an upgrade that copies a table frees them
        conn.execute("CREATE TABLE freed AS SELECT zeroblob(100000) AS b FROM snapshots")
        conn.execute("DROP TABLE freed")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        free_before = (
            conn.execute("PRAGMA freelist_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]
        )
        # the engine and the content links name a content by its row in pages (m023), observations by its row
        # in contents (m027): compact must keep both
        page_ids = conn.execute("SELECT rowid, content_sha256 FROM pages ORDER BY rowid").fetchall()
        content_ids = conn.execute("SELECT rowid, sha256 FROM contents ORDER BY rowid").fetchall()
        snapshots = conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall()
        tables = {
            t: conn.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0]
            for (t,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%' "
                "AND name NOT LIKE '%stemmed%'"
            )
        }
    result = CliRunner().invoke(cli, ["compact", "--db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    sizes = json.loads(result.output)
    assert free_before > 400_000 and sizes["bytes_after"] < sizes["bytes_before"] - 400_000
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
        assert conn.execute("SELECT rowid, content_sha256 FROM pages ORDER BY rowid").fetchall() == page_ids
        assert conn.execute("SELECT rowid, sha256 FROM contents ORDER BY rowid").fetchall() == content_ids
        assert conn.execute("SELECT * FROM snapshots ORDER BY id").fetchall() == snapshots
        assert {t: conn.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in tables} == tables
    with Archive(db) as archive:
        assert archive.check() == {}


def test_a_new_archive_has_8_kb_pages_and_compact_gives_an_older_one_them(tmp_path: Path) -> None:
    """Article texts (2-3 KB a row) fill a third less of 4 KB pages: new archives use 8 KB, and `compact`
    rewrites an archive made with 4 KB pages with 8 KB ones, back in WAL, every row as it was."""
    from dedupe import schema
    from dedupe.archive import Archive

    new = tmp_path / "new.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(new)]).exit_code == 0
    with sqlite3.connect(new) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == schema.PAGE_SIZE == 8192
    old = tmp_path / "old.db"
    with sqlite3.connect(new) as conn:  # the same archive as the code before made it: 4 KB pages
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA page_size = 4096")
        conn.execute(f"VACUUM INTO '{old}'")
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 4096
        texts = conn.execute("SELECT id, text FROM article_versions ORDER BY id").fetchall()
    result = CliRunner().invoke(cli, ["compact", "--db", str(old)])
    assert result.exit_code == 0, result.output
    with sqlite3.connect(old) as conn:
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 8192
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT id, text FROM article_versions ORDER BY id").fetchall() == texts
    with Archive(old) as archive:
        assert archive.check() == {}


def test_compact_with_a_reader_open_keeps_the_page_size_and_still_compacts(tmp_path: Path) -> None:
    """Changing the page size needs the archive out of WAL, which SQLite refuses while another connection
    reads it: `compact` then only compacts."""
    from dedupe.archive import Archive

    db = tmp_path / "a.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    old = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA page_size = 4096")
        conn.execute(f"VACUUM INTO '{old}'")
    with sqlite3.connect(old) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
    reader = sqlite3.connect(old)
    try:
        reader.execute("SELECT count(*) FROM snapshots").fetchone()  # an open connection, no transaction
        with Archive(old) as archive:
            archive.compact()
            assert archive.db.execute("PRAGMA page_size").fetchone()[0] == 4096
            assert archive.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert archive.check() == {}
    finally:
        reader.close()


def test_compact_merges_the_full_text_indexes_a_crawl_built_in_batches(tmp_path: Path) -> None:
    """An index written a few rows a transaction keeps each term's list in several FTS5 segments; `compact`
    merges them into one (FTS5's optimize): smaller, and every search finds what it found before."""
    from bench.synthetic_site import SyntheticSite
    from dedupe.archive import Archive
    from dedupe.document import RawSnapshot
    from dedupe.queries import SEARCH_INDEXES

    site = SyntheticSite(pages=60)
    db = tmp_path / "a.db"
    with Archive(db) as archive:
        for lo in range(0, 60, 4):  # as a crawl's writer stores pages while it keeps up: a few at a time
            archive.ingest(
                [
                    RawSnapshot(f"https://pacsto.org{a.path}", "2026-01-05T10:00:00Z", site.page_html(a))
                    for a in site.articles[lo : lo + 4]
                ],
                workers=1,
            )
    searches = ['"collect secur"', "parliament*", "deleg NOT armenia", "title:csto"]  # in stems, as the index is

    def index_state() -> tuple[dict[str, int], dict[tuple[str, str], list[int]]]:
        with sqlite3.connect(db) as conn:
            size = {i: conn.execute(f"SELECT sum(length(block)) FROM {i}_data").fetchone()[0] for i in SEARCH_INDEXES}
            found = {
                (i, q): [r for (r,) in conn.execute(f"SELECT rowid FROM {i} WHERE {i} MATCH ? ORDER BY rowid", [q])]
                for i in SEARCH_INDEXES
                for q in searches
            }
        return size, found

    size_before, found_before = index_state()
    assert all(found_before[("article_versions_stemmed", q)] for q in searches[:2])  # the searches find something
    assert CliRunner().invoke(cli, ["compact", "--db", str(db)]).exit_code == 0
    size_after, found_after = index_state()
    assert found_after == found_before
    assert all(size_after[i] < size_before[i] for i in SEARCH_INDEXES), (size_before, size_after)
    assert sum(size_after.values()) < 0.99 * sum(size_before.values())  # (the stemmed index: 1.5% here)
    with Archive(db) as archive:
        assert archive.check() == {}


def test_compact_says_so_if_vacuum_ever_renumbered_the_rows_named_by_rowid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's documentation allows VACUUM to renumber rows of a table without an INTEGER PRIMARY KEY; were
    it to (here a rewrite that moves the contents' rowids), compact fails with a sentence, not in silence."""
    from dedupe.archive import Archive, ArchiveError

    db = tmp_path / "a.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0

    def renumbering(self: Archive) -> None:
        with self.db.conn:
            self.db.execute("UPDATE contents SET rowid = rowid + 1000")

    monkeypatch.setattr(Archive, "_rewrite", renumbering)
    with Archive(db) as archive, pytest.raises(ArchiveError, match="VACUUM renumbered rows of contents or pages"):
        archive.compact()


def test_crawl_wait_says_who_it_waits_for_and_does_not_count_the_wait_as_run_time(tmp_path: Path) -> None:
    import json
    import threading
    import time

    db = tmp_path / "a.db"
    holder = WriterLock(db)
    holder.acquire("import")
    release = threading.Timer(2.5, holder.release)
    release.start()
    started = time.monotonic()
    try:
        result = CliRunner().invoke(
            cli, [*WRITERS["crawl"], "--db", str(db), "--wait", "30", "--json"], catch_exceptions=False
        )
    finally:
        release.join(10)
    took = time.monotonic() - started
    (waited,) = [line for line in result.stderr.splitlines() if "waiting" in line]
    assert waited.startswith(f"an import (pid {os.getpid()}, started ")
    assert waited.endswith(") is writing a.db: waiting up to 30 s for it to finish.")
    run = json.loads(result.stdout)
    assert run["id"] == 1  # one row: the refused tries wrote nothing
    assert run["stats"]["elapsed_seconds"] <= took - 2.0  # the 2.5 s wait is not the run's time
