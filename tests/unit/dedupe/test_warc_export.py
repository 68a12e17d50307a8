"""Exporting the archive as WARC/1.1: one response per content, revisits, metadata; it reads back the same."""

from __future__ import annotations

import json
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from dedupe.webarchive.warc import read_web_archive
from dedupe.webarchive.warc_export import REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED, export_warc, payload_digest
from tests.warcs import page

BLOCK = ["Delegation of Kyrgyzstan consists of 7 deputies.", "Plenipotentiary representative: Dastan Bekeshev"]
A = page("Session in Minsk", ["The Council met in Minsk and adopted the budget for the next two years of work."], BLOCK)
B = page("Observers in Astana", ["Observers of the Assembly monitored the elections in Astana for three days."], BLOCK)
URL_A, URL_B = "https://pacsto.org/events/a", "https://paodkb.org/events/b"


def build(path: Path) -> Path:
    """A: new, seen again, 304; B: new, then removed; and an imported file (not exportable)."""
    headers = {"Content-Type": "text/html; charset=utf-8", "ETag": '"a1"', "Content-Encoding": "gzip"}
    with Archive(path) as archive:
        archive.ingest(
            [
                RawSnapshot(URL_A, "2016-03-01T10:00:00Z", A, source="crawl", http_status=200, headers=headers),
                RawSnapshot(URL_B, "2016-03-01T10:00:01Z", B, source="crawl", http_status=200, headers=headers),
                RawSnapshot(URL_A, "2017-03-01T10:00:00Z", A, source="crawl", http_status=200, headers=headers),
                RawSnapshot(URL_A, "2018-03-01T10:00:00Z", None, source="crawl", http_status=304),
                RawSnapshot(URL_B, "2018-03-01T10:00:01Z", None, source="crawl", http_status=404),
                RawSnapshot("file:///tmp/seed.txt", "2018-03-01T10:00:02Z", b"Plain text seed page\n\nwith lines"),
            ]
        )
    return path


def records(path: Path) -> list:
    with path.open("rb") as handle:
        out = []
        for record in ArchiveIterator(handle):
            out.append((record.rec_type, record.rec_headers, record.http_headers, record.content_stream().read()))
        return out


def test_one_response_per_content_revisits_for_repeats_and_304s_metadata_for_each(tmp_path: Path) -> None:
    with Archive(build(tmp_path / "archive.db")) as archive:
        report = export_warc(archive, tmp_path / "out.warc.gz")
    assert (report.responses, report.revisits, report.not_modified, report.removed, report.metadata) == (2, 1, 1, 1, 5)
    assert report.skipped == {"not an HTTP URL": 1}
    found = records(tmp_path / "out.warc.gz")
    assert [
        (t, h.get_header("WARC-Target-URI"), h.get_header("WARC-Date")) for t, h, _, _ in found if t != "metadata"
    ] == [
        ("warcinfo", None, found[0][1].get_header("WARC-Date")),
        ("response", URL_A, "2016-03-01T10:00:00Z"),
        ("response", URL_B, "2016-03-01T10:00:01Z"),
        ("revisit", URL_A, "2017-03-01T10:00:00Z"),
        ("revisit", URL_A, "2018-03-01T10:00:00Z"),
        ("response", URL_B, "2018-03-01T10:00:01Z"),
    ]
    assert found[0][1].protocol == "WARC/1.1"
    response_a = found[1]
    assert response_a[3] == A and response_a[2].get_statuscode() == "200"
    # the body is stored decoded: no Content-Encoding, a Content-Length that matches
    assert response_a[2].get_header("Content-Encoding") is None
    assert response_a[2].get_header("Content-Length") == str(len(A)) and response_a[2].get_header("Etag") == '"a1"'
    revisits = [h for t, h, _, _ in found if t == "revisit"]
    assert [h.get_header("WARC-Profile") for h in revisits] == [REVISIT_IDENTICAL, REVISIT_NOT_MODIFIED]
    assert {
        (
            h.get_header("WARC-Refers-To-Target-URI"),
            h.get_header("WARC-Refers-To-Date"),
            h.get_header("WARC-Payload-Digest"),
        )
        for h in revisits
    } == {(URL_A, "2016-03-01T10:00:00Z", payload_digest(A))}
    removed = found[-2]
    assert removed[2].get_statuscode() == "404" and removed[3] == b""


def test_metadata_records_carry_what_was_derived(tmp_path: Path) -> None:
    with Archive(build(tmp_path / "archive.db")) as archive:
        export_warc(archive, tmp_path / "out.warc")
        version = archive.query(
            "SELECT article_version_id FROM content_articles ca JOIN pages p ON p.rowid = ca.page_id LIMIT 1"
        )
    found = records(tmp_path / "out.warc")
    metadata = [(h, body) for t, h, _, body in found if t == "metadata"]
    concurrent = {h.get_header("WARC-Record-ID") for t, h, _, _ in found if t in ("response", "revisit")}
    assert {h.get_header("WARC-Concurrent-To") for h, _ in metadata} == concurrent
    assert {h.get_header("Content-Type") for h, _ in metadata} == {"application/warc-fields"}
    first = dict(line.split(": ", 1) for line in metadata[0][1].decode().splitlines())
    derived = json.loads(first["pa-archive-derived"])
    assert derived["url"] == URL_A and derived["status"] == "new"
    assert "The Council met in Minsk" in derived["article_version"]["text"]
    assert first["article-version-id"] == derived["article_version"]["id"]
    assert version


def test_filters_and_the_round_trip(tmp_path: Path) -> None:
    with Archive(build(tmp_path / "archive.db")) as archive:
        only_a = export_warc(archive, tmp_path / "a.warc.gz", url_prefix="https://pacsto.org/")
        since = export_warc(archive, tmp_path / "since.warc.gz", since="2017")
    assert (only_a.responses, only_a.revisits, only_a.not_modified, only_a.removed) == (1, 1, 1, 0)
    # from 2017 on, A's first observation is not exported: its next one carries the content
    assert (since.responses, since.revisits, since.not_modified, since.removed) == (1, 0, 1, 1)
    with Archive(tmp_path / "copy.db") as copy:
        report = copy.ingest(read_web_archive(tmp_path / "a.warc.gz"))
        rows = copy.query("SELECT observed_at, status FROM snapshots ORDER BY observed_at")
    assert (report.added, report.new_content, report.errors) == (3, 1, [])
    assert [r["status"] for r in rows] == ["new", "seen_again", "not_modified"]  # the 304 comes back a 304


# ----------------------------------------------------------------------------- outputs that are the archive


def test_outputs_that_resolve_to_the_archive_its_wal_or_lock_are_refused(tmp_path: Path) -> None:
    import os

    import pytest

    from dedupe.webarchive.warc_export import ExportError, check_outputs

    db = build(tmp_path / "archive.db")
    (tmp_path / "link.wacz").symlink_to(db)
    for out in (db, tmp_path / "archive.db-wal", tmp_path / "archive.db.lock", tmp_path / "sub" / ".." / "archive.db"):
        with pytest.raises(ExportError, match="the archive's own file"):
            check_outputs(db, [tmp_path / "x.warc.gz", out])
    with pytest.raises(ExportError, match="the archive's own file"):
        check_outputs(str(db), [tmp_path / "link.wacz"])
    with pytest.raises(ExportError, match="named twice"):
        check_outputs(db, [tmp_path / "x.warc", tmp_path / "x.warc"])
    check_outputs(db, [tmp_path / "x.warc.gz", tmp_path / "x.cdxj", tmp_path / "x.wacz"])
    assert os.path.getsize(db) > 0


def test_a_failed_export_leaves_no_partial_file(tmp_path: Path, monkeypatch) -> None:
    import pytest

    from dedupe.webarchive import warc_export

    archive = Archive(build(tmp_path / "archive.db"))
    out = tmp_path / "out.warc.gz"

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(warc_export, "_metadata_record", broken)
    with pytest.raises(OSError):
        export_warc(archive, out)
    assert sorted(p.name for p in tmp_path.iterdir() if "out" in p.name) == []


def test_userinfo_in_a_stored_url_is_not_exported(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    body = page("Session in Minsk", ["The Council met in Minsk and adopted the budget."], ["Block line one here."])
    archive.ingest([RawSnapshot("https://u:secret@pacsto.org/events/a", "2016-03-01T10:00:00Z", body, http_status=200)])
    export_warc(archive, tmp_path / "x.warc")
    assert b"secret" not in (tmp_path / "x.warc").read_bytes()


def test_export_wacz_onto_the_archive_is_refused_and_the_archive_survives(tmp_path: Path) -> None:
    import sqlite3
    import subprocess
    import sys

    db = build(tmp_path / "archive.db")
    before = db.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "cli", "export", "--db", str(db), "--warc", str(tmp_path / "x.warc"), "--wacz", str(db)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parents[3],
    )
    assert done.returncode == 1 and "the archive's own file" in done.stderr and "Traceback" not in done.stderr
    assert db.read_bytes() == before and not (tmp_path / "x.warc").exists()
    assert sqlite3.connect(db).execute("SELECT count(*) FROM snapshots").fetchone()[0] == 6
