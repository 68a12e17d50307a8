"""Raw content storage: every compression method reads back, the dictionary reaches 8x, batches are atomic."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
import zstandard

from bench.synthetic_site import SyntheticSite
from dedupe import storage
from dedupe.archive import Archive, observations
from dedupe.document import RawSnapshot
from dedupe.sources import read_inputs
from tests.support.analysis import analyse_each_page_once


@pytest.fixture(scope="module")
def site_pages() -> list[bytes]:
    """300 article pages shaped like the site's (the replica's templates, 7-12 KB, one shared block)."""
    site = SyntheticSite(300)
    return [site.page_html(article) for article in site.articles]


# the tests of who analyses a page and what analysing it again gives: each analyses as the archive does
ANALYSING = {
    "test_parallel_analysis_gives_the_same_archive",
    "test_a_worker_compresses_with_the_dictionaries_it_is_handed_as_the_writer_would",
    "test_pages_analysed_again_leave_no_lines_referring_to_lines_that_changed",
}


@pytest.fixture(autouse=True)
def _each_page_analysed_once(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Storage tests reuse a page's analysis (``tests.support.analysis``: the same 300 site pages are stored
    again and again here, a third of this module's time); the ``ANALYSING`` ones analyse as the archive does."""
    if request.node.originalname not in ANALYSING:
        analyse_each_page_once(monkeypatch)


def snapshot(number: int, body: bytes, **extra) -> RawSnapshot:
    return RawSnapshot(
        url=f"https://pacsto.org/events/a{number}",
        observed_at="2025-10-20T09:00:00Z",
        body=body,
        source="crawl",
        **extra,
    )


def test_plain_zstd_round_trip() -> None:
    body = "<p>Делегация Жогорку Кенеша</p>".encode() * 50
    blob, method = storage.compress(body)
    assert method == "zstd" and len(blob) < len(body)
    assert storage.decompress(blob, method) == body


def test_unknown_methods_and_missing_dictionaries_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown compression 'gzip'"):
        storage.decompress(b"", "gzip")
    with pytest.raises(ValueError, match="unknown compression"):
        storage.decompress(b"", "zstd-dict:x")
    with pytest.raises(ValueError, match="needs the archive's dictionary 3"):
        storage.decompress(b"", "zstd-dict:3")


def test_dictionary_blob_reads_back_with_a_mapping_or_a_function(site_pages: list[bytes]) -> None:
    data = storage.train_dictionary(site_pages[:200])
    compressor = zstandard.ZstdCompressor(level=storage.DICT_LEVEL, dict_data=zstandard.ZstdCompressionDict(data))
    blob = compressor.compress(site_pages[250])
    assert storage.decompress(blob, "zstd-dict:7", {7: data}) == site_pages[250]
    assert storage.decompress(blob, "zstd-dict:7", lambda number: data) == site_pages[250]


def test_dictionary_compresses_site_pages_at_least_8x(site_pages: list[bytes]) -> None:
    """Trained on 200 pages, applied to 100 others (the archive's own dictionary is counted)."""
    data = storage.train_dictionary(site_pages[:200])
    compressor = zstandard.ZstdCompressor(level=storage.DICT_LEVEL, dict_data=zstandard.ZstdCompressionDict(data))
    unseen = site_pages[200:]
    raw = sum(map(len, unseen))
    packed = sum(len(compressor.compress(page)) for page in unseen)
    plain = sum(len(storage.compress(page)[0]) for page in unseen)
    assert raw / packed >= 8.0
    assert raw / plain < 4.0  # what the dictionary is for: each page alone repeats the template
    assert raw * 3 / (packed * 3 + len(data)) >= 8.0  # with its dictionary paid for by 300 pages


def test_archive_trains_a_dictionary_and_recompresses_earlier_contents(tmp_path: Path, site_pages: list[bytes]) -> None:
    with Archive(tmp_path / "archive.db") as archive:
        for number, body in enumerate(site_pages[: storage.TRAIN_AFTER - 1]):
            archive.add(snapshot(number, body))
        methods = {m for (m,) in archive.db.execute("SELECT DISTINCT compression FROM contents")}
        assert methods == {"zstd"}
        lines_methods = {m for (m,) in archive.db.execute("SELECT DISTINCT lines_compression FROM pages")}
        assert lines_methods == {"zstd-own"}  # against the page's own raw bytes: smaller than plain zstd
        texts = {sha: archive.content_text(sha) for (sha,) in archive.db.execute("SELECT sha256 FROM contents")}
        for number, body in enumerate(site_pages[storage.TRAIN_AFTER - 1 :], start=storage.TRAIN_AFTER - 1):
            archive.add(snapshot(number, body))
        dictionaries = archive.db.execute("SELECT id, samples, level, purpose FROM compression_dicts").fetchall()
        assert dictionaries == [
            (1, storage.TRAIN_AFTER, storage.DICT_LEVEL, "html"),
            (2, storage.TRAIN_AFTER, storage.LINES_LEVEL, "lines"),
        ]
        methods = dict(archive.db.execute("SELECT compression, count(*) FROM contents GROUP BY 1").fetchall())
        assert methods == {"zstd-dict:1": len(site_pages)}
        # the pages' lines have a dictionary of their own: those stored before it are recompressed with it,
        # and read back the same
        lines_methods = dict(archive.db.execute("SELECT lines_compression, count(*) FROM pages GROUP BY 1").fetchall())
        assert lines_methods == {"zstd-own:2": len(site_pages)}
        assert {sha: archive.content_text(sha) for sha in texts} == texts
        json_bytes, stored_bytes, with_html_dictionary = 0, 0, 0
        for sha, lines, method in archive.db.execute(LINES_SQL):
            data = json.dumps(archive.codec.unpack_lines(lines, method, sha), ensure_ascii=False).encode()
            json_bytes += len(data)
            stored_bytes += len(lines)
            with_html_dictionary += len(archive.codec.current.compress_lines(data))
        assert json_bytes / stored_bytes >= 4.0  # the block and the menus are in the dictionary
        assert stored_bytes < 0.9 * with_html_dictionary  # and the JSON around them
        raw, stored = archive.db.execute("SELECT sum(size), sum(stored_size) FROM contents").fetchone()
        assert raw / stored >= 8.0
        for (sha,) in archive.db.execute("SELECT sha256 FROM contents"):
            assert hashlib.sha256(archive.raw_content(sha)).hexdigest() == sha
    with Archive(tmp_path / "archive.db") as reopened:  # a new process reads with the stored dictionary
        sha = hashlib.sha256(site_pages[0]).hexdigest()
        assert reopened.raw_content(sha) == site_pages[0]


def test_page_lines_read_back_from_every_form_they_were_stored_in(tmp_path: Path, site_pages: list[bytes]) -> None:
    """Codec.unpack_lines reads plain zstd, a dictionary's frames and the JSON text of an archive before m013."""
    lines = [("Делегация Республики Беларусь", "block", "header"), ("Title", "title", "main"), ("Body", "body", "main")]
    with Archive(tmp_path / "archive.db") as archive:
        codec = archive.codec
        plain, method = codec.pack_lines(lines)
        assert method == "zstd" and codec.unpack_lines(plain, method) == lines
        text = json.dumps(lines, ensure_ascii=False)
        assert codec.unpack_lines(text, storage.LINES_JSON) == lines == codec.unpack_lines(text.encode(), None)
        for number, body in enumerate(site_pages[: storage.TRAIN_AFTER]):
            archive.add(snapshot(number, body))
        packed, method = codec.pack_lines(lines)
        assert method == "zstd-dict:2" and codec.unpack_lines(packed, method) == lines  # the dictionary of lines
    with Archive(tmp_path / "archive.db") as reopened:  # another connection: the dictionary is read from the archive
        assert reopened.codec.unpack_lines(packed, method) == lines


def test_a_new_pages_lines_are_stored_against_its_own_raw_page(tmp_path: Path, site_pages: list[bytes]) -> None:
    """A page's lines are words its raw page holds: stored against those bytes (after the tail of the dictionary
    of lines) they take a fraction of what the dictionary alone gives, read back the same, and a read against
    other bytes fails instead of giving other text."""
    with Archive(tmp_path / "archive.db") as archive:
        for number, body in enumerate(site_pages[:260]):
            archive.add(snapshot(number, body))
        codec = archive.codec
        rows = archive.db.execute(LINES_SQL + " WHERE rowid > 200").fetchall()
        assert {method for _, _, method in rows} == {"zstd-own:2"}
        own, dictionary_alone = 0, 0
        for sha, value, method in rows:
            data = codec.lines_json(value, method, sha).encode("utf-8")
            assert codec.lines_json(value, method, raw=archive.raw_content(sha)) == data.decode("utf-8")
            own += len(value)
            dictionary_alone += len(codec.current_lines.compress_lines(data))
        assert own < 0.5 * dictionary_alone
        sha, value, method = rows[0]
        with pytest.raises(storage.StorageError, match="needs its hash"):
            codec.unpack_lines(value, method)
        with pytest.raises(storage.StorageError):  # the checksum: another page's bytes are not this one's
            codec.unpack_lines(value, method, raw=archive.raw_content(rows[1][0]))
        assert archive.check() == {}


def test_every_method_ever_written_stays_readable(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain zstd left by an old version, then two dictionaries: all of it reads back."""
    monkeypatch.setattr(storage, "TRAIN_AFTER", 20)
    monkeypatch.setattr(storage, "RETRAIN_EVERY", 40)
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        for number, body in enumerate(site_pages[:100]):
            archive.add(snapshot(number, body))
    con = sqlite3.connect(db)  # a content written before dictionaries existed, never recompressed
    blob, _ = storage.compress(site_pages[100])
    sha = hashlib.sha256(site_pages[100]).hexdigest()
    con.execute(
        "INSERT INTO contents (sha256, kind, size, stored_size, compression, encoding, body)"
        " VALUES (?, 'html', ?, ?, 'zstd', 'utf-8', ?)",
        [sha, len(site_pages[100]), len(blob), blob],
    )
    con.commit()
    con.close()
    with Archive(db) as archive:
        methods = {m for (m,) in archive.db.execute("SELECT DISTINCT compression FROM contents")}
        assert methods == {"zstd", "zstd-dict:1", "zstd-dict:3"}  # 2 and 4: the dictionaries of lines
        lines_methods = {m for (m,) in archive.db.execute("SELECT DISTINCT lines_compression FROM pages")}
        assert lines_methods == {"zstd-own:2", "zstd-own:4"}
        for body in site_pages[:101]:
            assert archive.raw_content(hashlib.sha256(body).hexdigest()) == body
        for sha, value, method in archive.db.execute(LINES_SQL):
            assert archive.codec.unpack_lines(value, method, sha)


def test_an_archive_without_a_dictionary_of_lines_gets_one_at_its_next_write(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines go through the raw pages' dictionary until there is one of lines (an archive whose dictionaries
    came before m021, or whose lines could not be trained on): the next write trains it, and both read back."""
    monkeypatch.setattr(storage, "TRAIN_AFTER", 20)
    db = tmp_path / "archive.db"
    with monkeypatch.context() as patched:
        patched.setattr(storage.Codec, "_train_lines", lambda self: None)
        with Archive(db) as archive:
            for number, body in enumerate(site_pages[:30]):
                archive.add(snapshot(number, body))
            assert archive.db.execute("SELECT id, purpose FROM compression_dicts").fetchall() == [(1, "html")]
            stored = {m for (m,) in archive.db.execute("SELECT lines_compression FROM pages")}
            assert stored <= {"zstd-own", "zstd-own:1"}
    with Archive(db) as archive:
        archive.add(snapshot(30, site_pages[30]))  # stored, then the dictionary of lines trained
        archive.add(snapshot(31, site_pages[31]))
        assert archive.db.execute("SELECT id, purpose FROM compression_dicts").fetchall() == [(1, "html"), (2, "lines")]
        lines_methods = [m for (m,) in archive.db.execute("SELECT lines_compression FROM pages ORDER BY rowid")]
        assert lines_methods[-2:] == ["zstd-own:1", "zstd-own:2"] and "zstd-own" not in lines_methods
        for sha, value, method in archive.db.execute(LINES_SQL):
            assert [line[0] for line in archive.codec.unpack_lines(value, method, sha)]


def test_first_dictionary_recompresses_only_the_newest_plain_contents(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archive written before dictionaries existed is not rewritten whole when the first one arrives."""
    monkeypatch.setattr(storage, "TRAIN_AFTER", 50)
    monkeypatch.setattr(storage, "RECOMPRESS_LIMIT", 30)
    monkeypatch.setattr(storage, "RECOMPRESS_CHUNK", 7)
    with Archive(tmp_path / "archive.db") as archive:
        for number, body in enumerate(site_pages[:50]):
            archive.add(snapshot(number, body))
        rows = archive.db.execute("SELECT rowid, compression FROM contents ORDER BY rowid").fetchall()
        assert [method for _, method in rows] == ["zstd"] * 20 + ["zstd-dict:1"] * 30
        for body in site_pages[:50]:
            assert archive.raw_content(hashlib.sha256(body).hexdigest()) == body


def test_recompressed_contents_and_lines_leave_no_half_empty_pages(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bodies and lines the first dictionaries shrink are not left where they were with most of their
    page empty: each table is about as small as its rows, as after a VACUUM; a page keeps its rowid, which
    the engine's state refers to."""
    monkeypatch.setattr(storage, "TRAIN_AFTER", 60)
    with Archive(tmp_path / "archive.db") as archive:
        for number, body in enumerate(site_pages[:59]):
            archive.add(snapshot(number, body))
        page_ids = archive.db.execute("SELECT rowid, content_sha256 FROM pages ORDER BY rowid").fetchall()
        for number, body in enumerate(site_pages[59:150], start=59):
            archive.add(snapshot(number, body))
        methods = [m for (m,) in archive.db.execute("SELECT compression FROM contents")]
        assert methods == ["zstd-dict:1"] * 150  # the first 60 recompressed, the others stored so
        assert {m for (m,) in archive.db.execute("SELECT lines_compression FROM pages")} == {"zstd-own:2"}
        page_size = archive.db.execute("PRAGMA page_size").fetchone()[0]
        for table in ("contents", "pages"):
            leaves, payload = archive.db.execute(
                "SELECT count(*), sum(payload) FROM dbstat WHERE name = ? AND pagetype = 'leaf'", [table]
            ).fetchone()
            assert leaves <= 1.5 * payload / page_size + 2, (table, leaves, payload)  # shrunk in place: 2x
        assert archive.db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert archive.db.execute("SELECT rowid, content_sha256 FROM pages ORDER BY rowid LIMIT 59").fetchall() == (
            page_ids
        )
        assert archive.check() == {}
        for body in site_pages[:150]:
            assert archive.raw_content(hashlib.sha256(body).hexdigest()) == body


def test_ingest_stores_a_batch_but_never_part_of_a_bad_input(tmp_path: Path, site_pages: list[bytes]) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    for number, body in enumerate(site_pages[:40]):
        (folder / f"{number:03d}.html").write_bytes(body)
    (folder / "020_truncated.html").write_bytes(site_pages[41][:3000])
    (folder / "021_empty.html").write_bytes(b"")
    (folder / "022_repeat.html").write_bytes(site_pages[5])
    with Archive(tmp_path / "archive.db") as archive:
        report = archive.ingest(read_inputs([str(folder)]), workers=2)
        assert report.added == 41 and report.new_content == 40
        assert [Path(e.split(": ")[0]).name for e in report.errors] == ["020_truncated.html", "021_empty.html"]
        counts = [
            archive.db.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in ("contents", "pages", "snapshots")
        ]
        assert counts == [40, 40, 41]


@pytest.mark.parametrize("train_after", [200, 40])
def test_parallel_analysis_gives_the_same_archive(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch, train_after: int
) -> None:
    """Worker processes only change who analyses (and compresses) a page, never what is stored or derived:
    with no dictionary yet, and with the first dictionaries trained while the workers analyse."""
    monkeypatch.setattr(storage, "TRAIN_AFTER", train_after)
    folder = tmp_path / "pages"
    folder.mkdir()
    for number, body in enumerate(site_pages[:120] if train_after == 200 else site_pages[:170]):
        (folder / f"{number:03d}.html").write_bytes(body)
    methods_from_workers: list[str] = []
    real = observations.ObservationStore._with_dictionaries

    def recording(self, body, packed):  # in this process: what each worker's page came back compressed with
        methods_from_workers.extend((packed.body[1], packed.lines[1]))
        return real(self, body, packed)

    monkeypatch.setattr(observations.ObservationStore, "_with_dictionaries", recording)
    dumps = []
    for workers in (1, 2):
        with Archive(tmp_path / f"archive{workers}.db") as archive:
            # batches of 50 after the first 100: the later ones go to the workers once the dictionaries exist
            archive.ingest(read_inputs([str(folder)]), workers=workers, size=50)
            dumps.append(
                [
                    archive.db.execute(sql).fetchall()
                    for sql in (
                        "SELECT sha256, compression, body FROM contents ORDER BY sha256",
                        "SELECT * FROM pages ORDER BY content_sha256",
                        "SELECT url, status, content_sha256 FROM snapshots ORDER BY url",
                        "SELECT id, title, text FROM article_versions ORDER BY id",
                        "SELECT id, text FROM block_versions ORDER BY id",
                    )
                ]
            )
    assert dumps[0] == dumps[1]
    assert methods_from_workers  # the workers compressed
    if train_after == 40:  # and with the archive's dictionaries, read from its file
        assert {"zstd-dict:1", "zstd-own:2"} <= set(methods_from_workers)


def test_a_training_rolled_back_leaves_no_content_in_a_dictionary_that_is_not_there(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A training transaction that fails (a full disk while it recompresses) is rolled back: the archive goes on
    storing with the dictionaries it has, never with the ids of those that were not kept."""
    monkeypatch.setattr(storage, "TRAIN_AFTER", 20)
    real = storage.Codec._recompress_plain_lines
    failures = [RuntimeError("disk full")]

    def failing_once(self: storage.Codec) -> None:
        if failures:
            raise failures.pop()
        real(self)

    monkeypatch.setattr(storage.Codec, "_recompress_plain_lines", failing_once)
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        for number, body in enumerate(site_pages[:19]):
            archive.add(snapshot(number, body))
        with pytest.raises(RuntimeError, match="disk full"):
            archive.add(snapshot(19, site_pages[19]))  # stored, then its training rolled back
        assert archive.db.execute("SELECT count(*) FROM compression_dicts").fetchone()[0] == 0
        for number, body in enumerate(site_pages[20:60], start=20):
            archive.add(snapshot(number, body))
    with Archive(db) as archive:
        numbers = [n for (n,) in archive.db.execute("SELECT id FROM compression_dicts")]
        known = {f"{prefix}:{n}" for n in numbers for prefix in ("zstd-dict", "zstd-own")}
        used = {
            m
            for (m,) in archive.db.execute("SELECT compression FROM contents UNION SELECT lines_compression FROM pages")
        }
        assert used <= known | {"zstd", "zstd-own"} and known
        for body in site_pages[:60]:
            assert archive.raw_content(hashlib.sha256(body).hexdigest()) == body


# --------------------------------------------------------------------------- bounds


def test_a_frame_declaring_a_huge_size_is_refused_before_any_allocation() -> None:
    """16 bytes declaring 1 TiB raised MemoryError; now one sentence, nothing allocated."""
    frame = b"\x28\xb5\x2f\xfd" + bytes([0xE0]) + (2**40).to_bytes(8, "little") + b"\x01\x00\x00"
    with pytest.raises(storage.StorageError, match="would expand to 1,099,511,627,776 bytes"):
        storage.decompress(frame, "zstd")


def test_a_small_blob_expanding_past_the_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    declared = zstandard.ZstdCompressor().compress(b"a" * 200_000)
    undeclared = zstandard.ZstdCompressor(write_content_size=False).compress(b"a" * 200_000)
    assert len(declared) < 100
    with pytest.raises(storage.StorageError, match="more than the 100,000 allowed"):
        storage.bounded_decompress(zstandard.ZstdDecompressor(), declared, limit=100_000)
    with pytest.raises(storage.StorageError, match="within 100,000 bytes"):
        storage.bounded_decompress(zstandard.ZstdDecompressor(), undeclared, limit=100_000)
    assert storage.bounded_decompress(zstandard.ZstdDecompressor(), undeclared) == b"a" * 200_000
    with pytest.raises(storage.StorageError, match="not a zstd frame"):
        storage.decompress(b"not zstd at all", "zstd")


def test_dictionary_training_holds_at_most_its_memory_budget(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest([snapshot(i, body) for i, body in enumerate(site_pages[:40])])
        budget = sum(map(len, site_pages[:10]))
        monkeypatch.setattr(storage, "TRAIN_BUDGET_BYTES", budget)
        sample = archive.codec._training_sample()
    assert 0 < len(sample) <= 10 and sum(map(len, sample)) <= budget


def test_compact_recompresses_the_lines_an_older_archive_stored_with_the_dictionary_of_raw_pages(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`compact` trains the dictionary of lines an archive lacks, rewrites every page's lines with it (same
    lines read back, derived records unchanged) and gives the space back."""
    monkeypatch.setattr(storage, "TRAIN_AFTER", 20)
    monkeypatch.setattr(storage, "RECOMPRESS_CHUNK", 7)
    db = tmp_path / "archive.db"
    with monkeypatch.context() as patched:  # as an archive written before m021
        patched.setattr(storage.Codec, "_train_lines", lambda self: None)
        patched.setattr(storage, "compress_own", _not_against_own_page)
        with Archive(db) as archive:
            for number, body in enumerate(site_pages[:120]):
                archive.add(snapshot(number, body))
            before = {sha: archive.codec.unpack_lines(v, m, sha) for sha, v, m in archive.db.execute(LINES_SQL)}
            stored_before = archive.db.execute("SELECT sum(length(lines)) FROM pages").fetchone()[0]
    with Archive(db) as archive:
        looked_at: list[int] = []
        size_before, size_after = archive.compact(progress=looked_at.append)
        assert archive.db.execute("SELECT id, purpose FROM compression_dicts").fetchall() == [(1, "html"), (2, "lines")]
        assert {m for (m,) in archive.db.execute("SELECT lines_compression FROM pages")} == {"zstd-own:2"}
        assert {sha: archive.codec.unpack_lines(v, m, sha) for sha, v, m in archive.db.execute(LINES_SQL)} == before
        assert archive.db.execute("SELECT sum(length(lines)) FROM pages").fetchone()[0] < 0.9 * stored_before
        assert sum(looked_at) == 120 and size_after < size_before
        assert archive.check() == {}


LINES_SQL = "SELECT content_sha256, lines, lines_compression FROM pages"


def _not_against_own_page(dictionary, data, raw, blob, method):  # as the writer before 'zstd-own'
    return blob, method


def test_a_worker_compresses_with_the_dictionaries_it_is_handed_as_the_writer_would(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An analysis worker is handed the dictionaries' bytes with its task (it never opens the archive) and
    compresses a page's body and lines byte for byte as the writer's Codec does; plain zstd without them."""
    from dedupe.archive.observations import PackedPage, Packing, _analyse_chunk

    monkeypatch.setattr(storage, "TRAIN_AFTER", 20)
    with Archive(tmp_path / "archive.db") as archive:
        for number, body in enumerate(site_pages[:30]):
            archive.add(snapshot(number, body))
        codec = archive.codec
        html, lines = codec.current, codec.current_lines
        assert html is not None and lines is not None
        snaps = [(body, "utf-8", None) for body in site_pages[30:32]] + [(b"", None, None)]
        packed = _analyse_chunk(snaps, Packing((html.id, html.raw), (lines.id, lines.raw)))
        assert [type(result).__name__ for result in packed] == ["PackedPage", "PackedPage", "InputError"]
        for body, page in zip(site_pages[30:32], packed[:2]):
            assert isinstance(page, PackedPage)
            assert page.body == (html.compress(body), html.method)
            analysis = _analyse_chunk([(body, "utf-8", None)])[0]
            assert page.lines == codec.pack_lines(analysis.lines, body)
            assert codec.unpack_lines(*page.lines, raw=body) == analysis.lines
    plain = _analyse_chunk(snaps[:1], Packing(None, None))[0]
    assert isinstance(plain, PackedPage) and plain.body[1] == "zstd" and plain.lines[1] == "zstd-own"
    assert storage.decompress(plain.body[0], "zstd") == site_pages[30]


def test_compact_goes_on_past_a_page_whose_lines_cannot_be_read(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A damaged ``pages.lines`` (not a zstd frame) is left as it is; the other pages' lines are recompressed and
    the file compacted, instead of the whole command failing on one row."""
    monkeypatch.setattr(storage, "TRAIN_AFTER", 20)
    db = tmp_path / "archive.db"
    with monkeypatch.context() as patched:  # lines in the raw pages' dictionary, as an archive before m021
        patched.setattr(storage.Codec, "_train_lines", lambda self: None)
        patched.setattr(storage, "compress_own", _not_against_own_page)
        with Archive(db) as archive:
            for number, body in enumerate(site_pages[:40]):
                archive.add(snapshot(number, body))
            archive.db.execute("UPDATE pages SET lines = x'00112233' WHERE rowid = 30")
    with Archive(db) as archive:
        archive.compact()
        methods = dict(archive.db.execute("SELECT rowid, lines_compression FROM pages"))
        assert methods.pop(30) == "zstd-dict:1" and set(methods.values()) == {"zstd-own:2"}
        assert archive.db.execute("SELECT lines FROM pages WHERE rowid = 30").fetchone()[0] == b"\x00\x11\x22\x33"


def _versions(page: bytes) -> list[bytes]:
    """Three versions of one page, each a sentence added to its text (a week's edit)."""
    out, body = [], page
    for week in range(3):
        body = body.replace(b"</p>", f" Edited in week {week}.</p>".encode(), 1)
        out.append(body)
    return out


def test_a_new_version_of_a_page_is_stored_as_what_changed(tmp_path: Path, site_pages: list[bytes]) -> None:
    """A new content of a URL is compressed against the URL's earlier content: a fraction of its size alone.
    The third version refers to the first, not to the second (one reference to follow, at most)."""
    url = "https://pacsto.org/events/edited"
    first, *later = [site_pages[0], *_versions(site_pages[0])]
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest([snapshot(n, body) for n, body in enumerate(site_pages[1:40], start=1)], workers=1)
        for week, body in enumerate([first, *later]):
            archive.ingest([RawSnapshot(url, f"2025-10-{20 + week}T09:00:00Z", body, source="crawl")], workers=1)
        rows = {
            sha: (method, size)
            for sha, method, size in archive.db.execute("SELECT sha256, compression, stored_size FROM contents")
        }
        shas = [hashlib.sha256(body).hexdigest() for body in [first, *later]]
        assert not rows[shas[0]][0].startswith(storage.REF_PREFIX)
        for sha in shas[1:]:
            method, size = rows[sha]
            assert method == _ref(archive, "contents", shas[0]) and size < rows[shas[0]][1] / 3, (method, size)
        assert [archive.raw_content(sha) for sha in shas] == [first, *later]
        other = hashlib.sha256(site_pages[1]).hexdigest()  # another URL's page is compressed on its own
        assert not rows[other][0].startswith(storage.REF_PREFIX)
        lines = dict(archive.db.execute("SELECT content_sha256, lines_compression FROM pages").fetchall())
        assert [lines[sha] for sha in shas[1:]] == [_ref(archive, "pages", shas[0])] * 3  # and so are its lines
        assert [archive.content_text(sha) for sha in shas] == [_text_of(body) for body in [first, *later]]
        assert archive.check() == {}


def _ref(archive: Archive, table: str, sha: str) -> str:
    """The method of a blob compressed against the row of ``table`` (contents or pages) of content ``sha``."""
    key = "sha256" if table == "contents" else "content_sha256"
    (rowid,) = archive.db.execute(f"SELECT rowid FROM [{table}] WHERE [{key}] = ?", [sha]).fetchone()
    return f"zstd-ref:#{rowid}"


def _text_of(body: bytes) -> str:
    from dedupe.extract import analyse

    return "\n".join(line[0] for line in analyse(body, None, None).lines)


def test_pages_analysed_again_leave_no_lines_referring_to_lines_that_changed(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A newer extractor rewrites pages' lines: the lines of later versions, compressed against the first
    version's, are stored on their own before any page is analysed again, so they read back whichever
    pages the new analysis changes or fails on."""
    import dataclasses

    from dedupe import extract
    from dedupe.document import InputError

    url = "https://pacsto.org/events/edited"
    bodies = [site_pages[0], *_versions(site_pages[0])]
    shas = [hashlib.sha256(body).hexdigest() for body in bodies]
    with Archive(tmp_path / "a.db") as archive:
        for week, body in enumerate(bodies):
            archive.ingest([RawSnapshot(url, f"2025-10-{20 + week}T09:00:00Z", body, source="crawl")], workers=1)
        texts = {sha: archive.content_text(sha) for sha in shas}
        with archive.db.conn:
            archive.db.execute("UPDATE pages SET extractor = 'an older one'")
        real = extract.analyse

        def newer(body: bytes, charset: str | None, kind: str | None):  # changes the first's lines, fails on the rest
            if body != bodies[0]:
                raise InputError("not this one")
            found = real(body, charset, kind)
            return dataclasses.replace(found, lines=[*found.lines, ("Added by a newer extractor", "candidate", 0)])

        monkeypatch.setattr(extract, "analyse", newer)
        archive.rebuild()
        assert archive.content_text(shas[0]) == texts[shas[0]] + "\nAdded by a newer extractor"
        assert {sha: archive.content_text(sha) for sha in shas[1:]} == {sha: texts[sha] for sha in shas[1:]}
        methods = [m for (m,) in archive.db.execute("SELECT lines_compression FROM pages")]
        assert not any(m.startswith(storage.REF_PREFIX) for m in methods)


SET_METHOD = "UPDATE contents SET compression = ? WHERE sha256 = ?"


def test_a_reference_to_a_missing_or_chained_content_is_refused_in_one_sentence(
    tmp_path: Path, site_pages: list[bytes]
) -> None:
    url = "https://pacsto.org/events/edited"
    bodies = [site_pages[0], *_versions(site_pages[0])[:2]]
    with Archive(tmp_path / "a.db") as archive:
        for week, body in enumerate(bodies):
            archive.ingest([RawSnapshot(url, f"2025-10-{20 + week}T09:00:00Z", body, source="crawl")], workers=1)
        first, second, third = (hashlib.sha256(body).hexdigest() for body in bodies)
        with archive.db.conn:  # a hand edit: the third refers to the second, itself a reference
            archive.db.execute(SET_METHOD, [_ref(archive, "contents", second), third])
        with pytest.raises(storage.StorageError, match="itself stored as a reference"):
            archive.raw_content(third)
        with archive.db.conn:
            archive.db.execute(SET_METHOD, [storage.REF_PREFIX + "99999", third])
        with pytest.raises(storage.StorageError, match="content #99999, which the archive does not have"):
            archive.raw_content(third)
        for hostile in ("zstd-ref:#", "zstd-ref:#-1", "zstd-ref:#1 OR 1", "zstd-ref:#١"):  # not a rowid: refused
            with archive.db.conn:
                archive.db.execute(SET_METHOD, [hostile, third])
            with pytest.raises((storage.StorageError, ValueError), match="unknown compression"):
                archive.raw_content(third)
        assert archive.raw_content(second) == bodies[1] and archive.raw_content(first) == bodies[0]
    with pytest.raises(ValueError, match="needs the archive"):
        storage.decompress(b"", storage.REF_PREFIX + "1")


def test_compact_stores_the_new_versions_an_older_archive_kept_whole_as_what_changed(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An archive written before references (each version compressed on its own): `compact` rewrites every
    later version against its URL's first content, every content reads back the same, and a content that
    others refer to is never made a reference itself."""
    url = "https://pacsto.org/events/edited"
    bodies = [site_pages[0], *_versions(site_pages[0])]
    shas = [hashlib.sha256(body).hexdigest() for body in bodies]
    monkeypatch.setattr(storage.Codec, "against", lambda self, body, previous, blob, method: (blob, method))
    with Archive(tmp_path / "a.db") as archive:  # as the code before wrote it
        archive.ingest([snapshot(n, body) for n, body in enumerate(site_pages[1:30], start=1)], workers=1)
        for week, body in enumerate(bodies):
            archive.ingest([RawSnapshot(url, f"2025-10-{20 + week}T09:00:00Z", body, source="crawl")], workers=1)
        assert archive.codec.referenced() == set()
    monkeypatch.undo()
    looked_at: list[int] = []
    with Archive(tmp_path / "a.db") as archive:
        before = dict(archive.db.execute("SELECT sha256, stored_size FROM contents").fetchall())
        archive.compact(versions=looked_at.append)
        rows = {
            sha: (method, size)
            for sha, method, size in archive.db.execute("SELECT sha256, compression, stored_size FROM contents")
        }
        assert [rows[sha][0] for sha in shas[1:]] == [_ref(archive, "contents", shas[0])] * 3
        assert {f"zstd-ref:#{rowid}" for rowid in archive.codec.referenced()} == {_ref(archive, "contents", shas[0])}
        assert all(rows[sha][1] < before[sha] / 3 for sha in shas[1:])
        assert rows[shas[0]][1] == before[shas[0]] and not rows[shas[0]][0].startswith(storage.REF_PREFIX)
        assert [archive.raw_content(sha) for sha in shas] == bodies
        assert sum(looked_at) == archive.db.execute("SELECT count(*) FROM snapshots WHERE status = 'new'").fetchone()[0]
        archive.compact()  # once more: nothing left to do, nothing changes
        assert {sha: method for sha, (method, _) in rows.items()} == dict(
            archive.db.execute("SELECT sha256, compression FROM contents").fetchall()
        )
        assert archive.check() == {}


def test_a_reference_read_against_other_bytes_fails_instead_of_giving_other_text(
    tmp_path: Path, site_pages: list[bytes]
) -> None:
    url = "https://pacsto.org/events/edited"
    bodies = [site_pages[0], _versions(site_pages[0])[0]]
    with Archive(tmp_path / "a.db") as archive:
        for week, body in enumerate(bodies):
            archive.ingest([RawSnapshot(url, f"2025-10-{20 + week}T09:00:00Z", body, source="crawl")], workers=1)
        first, second = (hashlib.sha256(body).hexdigest() for body in bodies)
        altered = bodies[0].replace(b"<p>", b"<P>", 1)  # one byte: what the copy would differ by, silently
        other, method = storage.compress(altered)
        with archive.db.conn:  # a hand edit: the content referred to holds other bytes now
            archive.db.execute("UPDATE contents SET body = ?, compression = ? WHERE sha256 = ?", [other, method, first])
        with pytest.raises(storage.StorageError):
            archive.raw_content(second)


def test_a_new_version_of_a_huge_page_is_compressed_on_its_own(
    tmp_path: Path, site_pages: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page over REF_BASE_LIMIT is never the dictionary of its next versions (its size in memory and time
    again for each of them)."""
    monkeypatch.setattr(storage, "REF_BASE_LIMIT", len(site_pages[0]) - 1)
    url = "https://pacsto.org/events/edited"
    bodies = [site_pages[0], _versions(site_pages[0])[0]]
    with Archive(tmp_path / "a.db") as archive:
        for week, body in enumerate(bodies):
            archive.ingest([RawSnapshot(url, f"2025-10-{20 + week}T09:00:00Z", body, source="crawl")], workers=1)
        methods = [m for (m,) in archive.db.execute("SELECT compression FROM contents")]
        lines = [m for (m,) in archive.db.execute("SELECT lines_compression FROM pages")]
        assert not any(m.startswith(storage.REF_PREFIX) for m in methods + lines)
        assert archive.raw_content(hashlib.sha256(bodies[1]).hexdigest()) == bodies[1]


def test_m032_names_the_row_a_version_refers_to_by_its_rowid(tmp_path: Path, site_pages: list[bytes]) -> None:
    """References as the code before m032 wrote them ('zstd-ref:<sha256>', in contents and pages) become
    'zstd-ref:#<rowid>' on open: the same methods as the current code writes, every content and every page's text
    reads back the same; a reference to a content the archive lacks is left as it was."""
    from dedupe import migrations

    url = "https://pacsto.org/events/edited"
    bodies = [site_pages[0], *_versions(site_pages[0])]
    shas = [hashlib.sha256(body).hexdigest() for body in bodies]
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest([snapshot(n, body) for n, body in enumerate(site_pages[1:20], start=1)], workers=1)
        for week, body in enumerate(bodies):
            archive.ingest([RawSnapshot(url, f"2025-10-{20 + week}T09:00:00Z", body, source="crawl")], workers=1)
        expected = archive.db.execute(_METHODS).fetchall()
        texts = [archive.content_text(sha) for sha in shas]
        with archive.db.conn:  # back as the code before m032 wrote them
            for table, column, key in (
                ("contents", "compression", "sha256"),
                ("pages", "lines_compression", "content_sha256"),
            ):
                archive.db.execute(
                    f"UPDATE {table} SET {column} = 'zstd-ref:' || (SELECT b.{key} FROM {table} b "
                    f"WHERE b.rowid = CAST(substr({table}.{column}, 11) AS INTEGER)) WHERE {column} LIKE 'zstd-ref:#%'"
                )
            archive.db.execute(SET_METHOD, ["zstd-ref:" + "0" * 64, hashlib.sha256(site_pages[5]).hexdigest()])
            archive.db.execute(
                "DELETE FROM _sqlite_migrations WHERE name = ?", [migrations.m032_references_by_rowid.__name__]
            )
        old = archive.db.execute(_METHODS).fetchall()
        assert sum(m.startswith("zstd-ref:") and "#" not in m for row in old for m in row[1:] if m) == 7
    with Archive(tmp_path / "a.db") as archive:  # converted on open
        got = archive.db.execute(_METHODS).fetchall()
        damaged = hashlib.sha256(site_pages[5]).hexdigest()
        assert [row for row in got if row[0] != damaged] == [row for row in expected if row[0] != damaged]
        assert dict((row[0], row[1]) for row in got)[damaged] == "zstd-ref:" + "0" * 64
        assert [archive.raw_content(sha) for sha in shas] == bodies
        assert [archive.content_text(sha) for sha in shas] == texts


_METHODS = (
    "SELECT c.sha256, c.compression, p.lines_compression FROM contents c "
    "JOIN pages p ON p.content_sha256 = c.sha256 ORDER BY c.rowid"
)
