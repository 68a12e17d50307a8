"""The archive on the seeds: the issue's acceptance, idempotence, bad input, order independence."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe import schema
from dedupe.archive import Archive, ArchiveError
from dedupe.document import RawSnapshot
from dedupe.sources import read_inputs
from tests.conftest import SEEDS, derived_tables, render_html, seed_block, seed_files, seed_name


def groups(archive: Archive, sql: str) -> set[frozenset[str]]:
    """Partition of seed names by the id the SQL returns next to each snapshot URL."""
    found: dict[object, set[str]] = {}
    for key, url in archive.db.execute(sql):
        found.setdefault(key, set()).add(seed_name(url))
    return {frozenset(v) for v in found.values()}


ARTICLES_SQL = """SELECT av.article_id, s.url FROM snapshots s
JOIN pages p ON p.content_sha256 = s.content_sha256 JOIN content_articles ca ON ca.page_id = p.rowid
JOIN article_versions av ON av.id = ca.article_version_id"""
BLOCK_VARIANTS_SQL = """SELECT cb.block_version_id, s.url FROM snapshots s
JOIN pages p ON p.content_sha256 = s.content_sha256 JOIN content_blocks cb ON cb.page_id = p.rowid"""


def summary(archive: Archive) -> tuple:
    """What must not depend on the order of import: articles, block variants, conflicts."""
    conflicts = [
        (c["delegation"], c["field"], sorted((v["value"], v["snapshots"]) for v in c["values"]))
        for c in archive.conflicts()
    ]
    return groups(archive, ARTICLES_SQL), groups(archive, BLOCK_VARIANTS_SQL), conflicts


def test_seeds_give_five_articles_three_block_variants_one_conflict(archive: Archive) -> None:
    report = archive.ingest(read_inputs([str(SEEDS)]))
    assert report.errors == [] and report.added == 5
    stats = archive.stats()
    assert (stats["articles"], stats["article_versions"], stats["blocks"], stats["block_versions"]) == (5, 5, 1, 3)
    articles, variants, conflicts = summary(archive)
    assert articles == {frozenset({n}) for n in ("000", "001", "002", "003", "004")}
    assert variants == {frozenset({"000", "002"}), frozenset({"001", "004"}), frozenset({"003"})}
    assert conflicts == [("Kyrgyzstan", "seats_total", [("6", 3), ("7", 2)])]


def test_no_article_text_contains_a_block_line(archive: Archive) -> None:
    archive.ingest(read_inputs([str(SEEDS)]))
    block_lines = {line for path in seed_files() for line in seed_block(path)}
    for (text,) in archive.db.execute("SELECT text FROM article_versions"):
        assert not block_lines & set(text.splitlines())
        assert len(text) > 500


def test_titles_and_dates_are_extracted_and_never_invented(archive: Archive) -> None:
    archive.ingest(read_inputs([str(SEEDS)]))
    rows = {
        seed_name(url): (title, published)
        for url, title, published in archive.db.execute(
            "SELECT s.url, av.title, av.published FROM snapshots s JOIN pages p ON p.content_sha256 = s.content_sha256 "
            "JOIN content_articles ca ON ca.page_id = p.rowid "
            "JOIN article_versions av ON av.id = ca.article_version_id"
        )
    }
    assert rows["000"] == (None, None)
    assert rows["001"] == (
        "Erlan Koshanov: Kazakhstan will do its utmost to enhance the influence of the CSTO",
        "2022-06-04",
    )
    assert rows["004"][1] == "2021-03-02"


def test_websites_missing_and_russian_rewording_are_not_conflicts(archive: Archive) -> None:
    archive.ingest(read_inputs([str(SEEDS)]))
    assert [(c["delegation"], c["field"]) for c in archive.conflicts()] == [("Kyrgyzstan", "seats_total")]
    missing = {(m["delegation"], m["field"]): m["snapshots"] for m in archive.missing_values()}
    assert missing == {
        ("Belarus", "website.council_of_the_republic"): 2,
        ("Belarus", "website.house_of_representatives"): 2,
        ("Kyrgyzstan", "website.supreme_council"): 2,
    }
    kinds = {(row[0], row[1]) for row in archive.db.execute("SELECT kind, detail FROM block_line_changes")}
    reworded = [detail for kind, detail in kinds if kind == "reworded"]
    assert reworded and "Russia seats.federation_council = 12" in reworded[0]
    assert {kind for kind, _ in kinds} <= {"conflict", "missing", "filled", "reworded"}


def test_importing_the_same_folder_again_adds_nothing(archive: Archive) -> None:
    archive.ingest(read_inputs([str(SEEDS)]))
    before = archive.stats()
    report = archive.ingest(read_inputs([str(SEEDS)]))
    assert report.added == 0 and report.duplicates == 5
    assert archive.stats() == before


def test_a_copy_with_one_sentence_changed_is_a_new_version_of_that_article(archive: Archive, tmp_path: Path) -> None:
    archive.ingest(read_inputs([str(SEEDS)]))
    source = seed_files()[2]
    text = source.read_text(encoding="utf-8")
    sentence = "The group has specified the main parameters and the concept of the draft Recommendations"
    assert sentence in text
    copy = tmp_path / "renamed-copy.txt"
    copy.write_text(
        text.replace(
            sentence, "The working group agreed on the structure and the key provisions of the draft Recommendations"
        ),
        encoding="utf-8",
    )
    archive.ingest(read_inputs([str(copy)]))
    stats = archive.stats()
    assert (stats["articles"], stats["article_versions"]) == (5, 6)
    history = archive.history(archive.resolve(str(copy)))
    assert [v["version"] for v in history["versions"]] == [1, 2]
    assert 0.6 < history["versions"][1]["similarity_to_previous"] < 1.0
    assert any(seed_name(u) == "002" for u in history["versions"][0]["seen_as"])


def test_two_short_articles_sharing_the_full_block_are_never_merged(archive: Archive, tmp_path: Path) -> None:
    block = seed_block(seed_files()[0])
    a = tmp_path / "short-a.html"
    b = tmp_path / "short-b.html"
    a.write_text(
        render_html(
            block,
            "Delegation visits Minsk",
            "3 May 2023",
            ["The delegation met colleagues in Minsk on Tuesday to discuss cooperation."],
        )
    )
    b.write_text(
        render_html(
            block,
            "Budget hearings held in Astana",
            "3 May 2023",
            ["Deputies reviewed the draft budget of the Assembly for the coming year."],
        )
    )
    archive.ingest(read_inputs([str(a), str(b)]))
    assert archive.stats()["articles"] == 2
    texts = sorted(t for (t,) in archive.db.execute("SELECT text FROM article_versions"))
    assert texts[0].startswith("Deputies reviewed") and texts[1].startswith("The delegation met")


def test_block_in_header_or_aside_gives_the_same_facts(tmp_path: Path) -> None:
    facts = []
    for markup in ("header", "aside"):
        pages = []
        for i, path in enumerate(seed_files()[1:]):
            lines = path.read_text(encoding="utf-8").splitlines()
            page = tmp_path / markup / f"{i}.html"
            page.parent.mkdir(exist_ok=True)
            page.write_text(render_html(lines[:12], lines[12], lines[13], lines[15:], markup), encoding="utf-8")
            pages.append(str(page))
        with Archive(tmp_path / f"{markup}.db") as arc:
            arc.ingest(read_inputs(pages))
            facts.append(sorted(arc.db.execute("SELECT delegation, field, value FROM facts").fetchall()))
            assert [c["delegation"] for c in arc.conflicts()] == ["Kyrgyzstan"]
    assert facts[0] == facts[1] and len(facts[0]) > 40


def dated_seeds(folder: Path) -> list[Path]:
    """Copies of the seeds observed a day apart (000 first), so time order is exercised."""
    folder.mkdir(exist_ok=True)
    copies = []
    for day, path in enumerate(seed_files()):
        copy = folder / path.name
        shutil.copy(path, copy)
        moment = 1_700_000_000 + day * 86_400
        os.utime(copy, (moment, moment))
        copies.append(copy)
    return copies


def derived_dump(archive: Archive) -> dict[str, list[tuple]]:
    """Every row of every derived table, in key order: what must not depend on arrival."""
    return derived_tables(archive.db.conn)


@pytest.fixture(scope="module")
def seeds_in_one_batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], dict[str, list[tuple]]]:
    """The dated seeds and the derived tables of their import in one batch: the same for every example of the
    order test below (the files' paths are part of what is derived, so every example reads these files)."""
    folder = tmp_path_factory.mktemp("order")
    files = dated_seeds(folder / "seeds")
    with Archive(folder / "batch.db") as batch:
        batch.ingest(read_inputs([str(folder / "seeds")]))
        expected = derived_dump(batch)
    assert [row[3] for row in sorted(expected["block_versions"], key=lambda r: r[2])] == ["en"] * 3
    assert sorted(r[2] for r in expected["block_versions"]) == [1, 2, 3]
    return files, expected


@pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(list(range(5))), cuts=st.lists(st.integers(1, 4), max_size=3, unique=True))
def test_result_does_not_depend_on_order_or_batching(
    order: list[int], cuts: list[int], seeds_in_one_batch: tuple[list[Path], dict], tmp_path_factory
) -> None:
    files, expected = seeds_in_one_batch
    with Archive(tmp_path_factory.mktemp("shuffled") / "shuffled.db") as arc:
        bounds = [0, *sorted(cuts), 5]
        for start, end in zip(bounds, bounds[1:]):
            arc.ingest(read_inputs([str(files[i]) for i in order[start:end]]))
        assert derived_dump(arc) == expected


def test_one_by_one_import_in_reverse_gives_the_same_result(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as batch, Archive(tmp_path / "b.db") as single:
        batch.ingest(read_inputs([str(SEEDS)]))
        for path in reversed(seed_files()):
            single.ingest(read_inputs([str(path)]))
        assert summary(single) == summary(batch)


def test_bad_inputs_are_reported_and_the_rest_imported(archive: Archive, tmp_path: Path) -> None:
    tmp_path = tmp_path / "inputs"
    tmp_path.mkdir()
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (tmp_path / "cp1251.txt").write_bytes("Делегация парламента".encode("cp1251"))  # nothing declared: detected
    utf8 = "Делегация парламента".encode()
    (tmp_path / "damaged.txt").write_bytes(utf8[:6] + b"\xff" + utf8[6:])  # UTF-8 with a stray byte: no guess
    (tmp_path / "cut.html").write_bytes(b"<html><body><p>half a page")
    (tmp_path / "feed.jsonl").write_text(
        '{"url": "https://pacsto.org/events/a", "observed_at": "2024-01-02T03:04:05Z", '
        '"text": "One line of text here."}\n'
        '{"url": "https://pacsto.org/events/b", "observed_at": "2024-01-02T03:04:05Z", "text": \n'
        '{"url": "javascript:alert(1)", "observed_at": "2024-01-02T03:04:05Z", "text": "x"}\n'
        '{"url": "https://pacsto.org/events/c", "observed_at": "2024-01-02", "html": "<p>a</p>", "text": "b"}\n'
    )
    shutil.copy(seed_files()[1], tmp_path / "good.txt")
    report = archive.ingest(read_inputs([str(tmp_path), str(tmp_path / "missing.txt"), str(tmp_path / "*.none")]))
    messages = "\n".join(report.errors)
    assert len(report.errors) == 8, messages  # cut.html is a page: a missing </html> is no proof of a cut
    for expected in (
        "empty.txt: empty content",
        "image.png: binary",
        "damaged.txt: not valid UTF-8",
        "feed.jsonl:2: malformed JSON",
        "feed.jsonl:3: url scheme 'javascript'",
        "feed.jsonl:4: a line needs exactly one",
        "missing.txt: no such file",
        "*.none: no file matches",
    ):
        assert expected in messages
    assert report.added == 4
    urls = {url for (url,) in archive.db.execute("SELECT url FROM snapshots")}
    assert "https://pacsto.org/events/a" in urls and len(urls) == 4
    assert any(url.endswith("/cut.html") for url in urls) and any(url.endswith("/cp1251.txt") for url in urls)
    assert archive.db.execute("SELECT count(*) FROM contents").fetchone()[0] == 4


def test_a_database_that_is_not_an_archive_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(ArchiveError, match="not a pa-archive archive"):
        Archive(other)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ArchiveError, match="not a usable SQLite database"):
        Archive(garbage)


@pytest.mark.parametrize("force", [False, True])
def test_a_failure_inside_the_refresh_leaves_the_previous_state(archive: Archive, monkeypatch, force: bool) -> None:
    archive.ingest(read_inputs([str(p) for p in seed_files()[:4]]))
    before = archive.stats()
    archive.add(RawSnapshot("https://pacsto.org/events/x", "2024-01-01T00:00:00Z", seed_files()[4].read_bytes()))
    from dedupe.archive.stages import records

    def explode(self) -> None:
        self.conn.execute(
            "INSERT INTO articles(id, status, versions, snapshots, first_seen, last_seen) "
            "VALUES (999, 'live', 0, 0, 'x', 'x')"
        )
        raise RuntimeError("killed mid-refresh")

    monkeypatch.setattr(records.RecordWriter, "write", explode)
    with pytest.raises(RuntimeError):
        archive.refresh(force=force)
    assert {
        k: v for k, v in archive.stats().items() if k not in ("snapshots", "contents", "raw_bytes", "stored_bytes")
    } == {k: v for k, v in before.items() if k not in ("snapshots", "contents", "raw_bytes", "stored_bytes")}
    assert archive.db.execute("SELECT count(*) FROM articles WHERE id = 999").fetchone()[0] == 0
    assert archive.is_stale()
    monkeypatch.undo()
    archive.refresh()
    assert archive.stats()["articles"] == 5 and archive.check() == {}


def test_304_and_404_record_seen_again_and_removed(archive: Archive) -> None:
    url = "https://pacsto.org/events/some-article"
    body = seed_files()[1].read_bytes()
    archive.add(RawSnapshot(url, "2024-01-01T00:00:00Z", body, source="crawl", http_status=200))
    archive.add(RawSnapshot(url, "2024-02-01T00:00:00Z", None, source="crawl", http_status=304))
    archive.refresh()
    row = archive.query("SELECT versions, snapshots, last_seen, status FROM articles")[0]
    assert row == {"versions": 1, "snapshots": 2, "last_seen": "2024-02-01T00:00:00Z", "status": "live"}
    archive.add(RawSnapshot(url, "2024-03-01T00:00:00Z", None, source="crawl", http_status=404))
    archive.refresh()
    row = archive.query("SELECT versions, status, last_seen FROM articles")[0]
    assert row == {"versions": 1, "status": "removed", "last_seen": "2024-02-01T00:00:00Z"}


def test_wal_mode_and_raw_content_round_trip(archive: Archive) -> None:
    archive.ingest(read_inputs([str(seed_files()[3])]))
    assert archive.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    sha, size, stored = archive.db.execute("SELECT sha256, size, stored_size FROM contents").fetchone()
    assert archive.raw_content(sha) == seed_files()[3].read_bytes()
    assert stored < size


def test_recurring_near_identical_titles_are_still_different_articles(archive: Archive, tmp_path: Path) -> None:
    block = seed_block(seed_files()[0])
    bodies = [seed_files()[i].read_text(encoding="utf-8").splitlines()[15:18] for i in (1, 2, 3)]
    paths = []
    for i, body in enumerate(bodies):
        path = tmp_path / f"session-{i}.html"
        path.write_text(render_html(block, f"Session {i + 12} of the Standing Commission", "3 May 2023", body))
        paths.append(str(path))
    archive.ingest(read_inputs(paths))
    stats = archive.stats()
    assert (stats["articles"], stats["blocks"]) == (3, 3)  # the delegation block, the nav menu, the footer
    block_texts = [t for (t,) in archive.db.execute("SELECT text FROM block_versions")]
    assert any(t.splitlines() == block for t in block_texts)


def test_versions_are_numbered_by_time_not_arrival(archive: Archive, tmp_path: Path) -> None:
    files = dated_seeds(tmp_path / "seeds")
    for path in reversed(files):
        archive.ingest(read_inputs([str(path)]))
    versions = archive.query("SELECT version, first_seen FROM block_versions ORDER BY version")
    assert [v["first_seen"] for v in versions] == sorted(v["first_seen"] for v in versions)
    first = archive.history(archive.resolve("b1"))["versions"][0]
    assert [name[:3] for name in first["seen_in"]] == ["000", "002"]


def test_a_refresh_holds_the_write_lock_and_a_later_snapshot_keeps_the_archive_stale(
    archive: Archive, monkeypatch
) -> None:
    archive.ingest(read_inputs([str(p) for p in seed_files()[:3]]))
    from dedupe.archive import incremental

    real_update = incremental.Deriver.update
    refused = []

    def update_while_a_writer_tries(self, after_id, last_id):
        other = sqlite3.connect(archive.path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # another writer cannot slip a snapshot in meanwhile
            refused.append(str(exc))
        finally:
            other.close()
        return real_update(self, after_id, last_id)

    monkeypatch.setattr(incremental.Deriver, "update", update_while_a_writer_tries)
    archive.add(RawSnapshot("https://pacsto.org/events/x", "2024-01-01T00:00:00Z", seed_files()[4].read_bytes()))
    archive.refresh()
    assert refused == ["database is locked"]
    with Archive(archive.path) as writer:  # the writer comes after the refresh: the archive is stale again
        writer.add(
            RawSnapshot(
                "https://pacsto.org/events/late",
                "2024-01-01T00:00:00Z",
                seed_files()[3].read_bytes(),
                source="crawl",
                http_status=200,
            )
        )
    assert archive.is_stale()
    archive.refresh()
    assert not archive.is_stale() and archive.stats()["articles"] == 5


def test_pages_of_an_older_extractor_are_analysed_again(archive: Archive, monkeypatch) -> None:
    archive.ingest(read_inputs([str(SEEDS)]))
    archive.db.execute("UPDATE pages SET extractor = 'extract-0', lines = '[]', title = NULL")
    assert archive.is_stale()
    archive.refresh()
    assert archive.stats()["articles"] == 5
    assert archive.db.execute("SELECT count(*) FROM pages WHERE title IS NOT NULL").fetchone()[0] == 4


def test_every_fact_of_a_block_is_kept_even_when_a_field_repeats(archive: Archive, tmp_path: Path) -> None:
    lines = seed_block(seed_files()[0])
    extra = lines[:9] + ["Website of the Supreme Council of the Kyrgyz Republic: http://kenesh.kg/ru/"] + lines[9:]
    for i, body in enumerate(seed_files()[1:3]):
        text = body.read_text(encoding="utf-8").splitlines()
        (tmp_path / f"{i}.txt").write_text("\n".join(extra + text[12:]), encoding="utf-8")
    archive.ingest(read_inputs([str(tmp_path / "0.txt"), str(tmp_path / "1.txt")]))
    websites = archive.query("SELECT value FROM facts WHERE field = 'website.supreme_council' ORDER BY line_no")
    assert [w["value"] for w in websites] == ["http://www.kenesh.kg/", "http://kenesh.kg/ru/"]


def test_an_empty_sqlite_database_is_refused_untouched_and_a_new_file_is_claimed(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("PRAGMA user_version = 7")  # an empty database someone made: a header, no tables
    con.close()
    before = other.read_bytes()
    with pytest.raises(ArchiveError, match="not a pa-archive archive"):
        Archive(other)
    assert other.read_bytes() == before and not Path(f"{other}-wal").exists()  # not switched to WAL
    fresh = tmp_path / "fresh.db"
    fresh.touch()  # a 0-byte file is no database yet: adopted and claimed
    with Archive(fresh) as archive:
        assert archive.db.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
