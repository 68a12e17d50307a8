"""Reading web archives: WARC, WARC.gz, ARC and WACZ, told by content, into the archive."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from dedupe.archive import Archive
from dedupe.sources import SourceError, read_inputs
from dedupe.webarchive.warc import ReadSummary, detect, read_web_archive
from dedupe.webarchive.warc_stream import warc_date
from tests.warcs import WarcBuilder, page

BLOCK = ["Delegation of Kyrgyzstan consists of 7 deputies.", "Plenipotentiary representative: Dastan Bekeshev"]
A = page("Session in Minsk", ["The Council met in Minsk and adopted the budget for the next two years of work."], BLOCK)
B = page("Observers in Astana", ["Observers of the Assembly monitored the elections in Astana for three days."], BLOCK)
C = page(
    "Session in Minsk", ["The Council met in Minsk and adopted the budget for the next three years of work."], BLOCK
)


def sample(path: Path, gzip: bool = True) -> Path:
    """Every kind of record a crawler writes: 4 observations (1 revisit, 1 removal), 6 skipped."""
    with WarcBuilder(path, gzip=gzip) as warc:
        warc.dns("pacsto.org", "2016-03-01T10:00:00Z")
        warc.request("https://pacsto.org/events/a", "2016-03-01T10:00:00Z")
        warc.response("https://pacsto.org/events/a", "2016-03-01T10:00:00Z", A, headers=[("Set-Cookie", "s=1")])
        warc.response("https://pacsto.org/events/b", "2016-03-01T10:00:01.250Z", B)
        warc.response("https://pacsto.org/logo.png", "2016-03-01T10:00:02Z", b"\x89PNG", content_type="image/png")
        warc.response("https://pacsto.org/old", "2016-03-01T10:00:03Z", b"moved", status="301 Moved Permanently")
        warc.response("https://pacsto.org/events/gone", "2016-03-01T10:00:04Z", b"not here", status="404 Not Found")
        warc.metadata("https://pacsto.org/events/a", "2016-03-01T10:00:00Z")
        warc.revisit(
            "https://pacsto.org/events/a", "2017-01-01T00:00:00Z", "https://pacsto.org/events/a", "2016-03-01T10:00:00Z"
        )
        warc.response("mailto:info@pacsto.org", "2016-03-01T10:00:05Z", A)
    return path


def read(path: Path) -> tuple[list, ReadSummary]:
    summaries: list[ReadSummary] = []
    items = list(read_web_archive(path, summaries))
    return items, summaries[0]


@pytest.mark.parametrize("gz", [True, False])
def test_responses_revisits_and_removals_become_observations_the_rest_is_counted(tmp_path: Path, gz: bool) -> None:
    items, summary = read(sample(tmp_path / ("a.warc.gz" if gz else "a.warc"), gzip=gz))
    assert [(i.url, i.observed_at, i.http_status, i.body is not None) for i in items] == [
        ("https://pacsto.org/events/a", "2016-03-01T10:00:00Z", 200, True),
        ("https://pacsto.org/events/b", "2016-03-01T10:00:01Z", 200, True),
        ("https://pacsto.org/events/gone", "2016-03-01T10:00:04Z", 404, False),
        ("https://pacsto.org/events/a", "2017-01-01T00:00:00Z", 200, True),
    ]
    assert items[3].body == items[0].body == A  # the revisit is the same content, seen again
    assert items[0].headers == {"Content-Type": "text/html; charset=utf-8", "Content-Length": str(len(A))}
    assert items[0].declared_charset == "utf-8" and items[0].source == "warc"
    assert (summary.observations, summary.revisits, summary.errors) == (4, 1, 0)
    assert dict(summary.skipped) == {
        "dns": 1,
        "request": 1,
        "not HTML": 1,
        "HTTP 301": 1,
        "metadata": 1,
        "not http(s)": 1,
    }


def test_a_revisit_of_content_outside_the_file_relinks_the_urls_latest_content(tmp_path: Path) -> None:
    with WarcBuilder(tmp_path / "r.warc.gz") as warc:
        warc.revisit(
            "https://pacsto.org/events/a",
            "2018-01-01T00:00:00Z",
            "https://pacsto.org/events/a",
            "2016-03-01T10:00:00Z",
            digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
    items, _ = read(tmp_path / "r.warc.gz")
    assert [(i.http_status, i.body) for i in items] == [(304, None)]
    with Archive(tmp_path / "archive.db") as archive:
        archive.ingest(read_web_archive(sample(tmp_path / "a.warc.gz")))
        report = archive.ingest(read_web_archive(tmp_path / "r.warc.gz"))
        assert (report.added, report.seen_again, report.new_content) == (1, 1, 0)
        rows = archive.query(
            "SELECT status, content_sha256 FROM snapshots WHERE url = ? ORDER BY observed_at, id",
            ["https://pacsto.org/events/a"],
        )
    assert [r["status"] for r in rows] == ["new", "seen_again", "not_modified"]
    assert len({r["content_sha256"] for r in rows}) == 1


def test_a_bad_digest_and_a_truncated_record_are_reported_by_offset_and_the_rest_imported(tmp_path: Path) -> None:
    path = tmp_path / "bad.warc"
    with WarcBuilder(path, gzip=False) as warc:
        for name, body in (("a", A), ("b", B), ("c", C)):
            warc.response(f"https://pacsto.org/events/{name}", "2016-03-01T10:00:00Z", body)
    data = path.read_bytes()
    at = data.index(b"Observers of the Assembly")
    data = data[:at] + b"OBSERVERS" + data[at + 9 :]  # same length, other bytes: the digest fails
    path.write_bytes(data[:-60])  # the last record cut short
    items, summary = read(path)
    errors = [i for i in items if isinstance(i, SourceError)]
    assert [e.where for e in errors] == [
        f"{path}@{data.rindex(b'WARC/1.1', 0, at)}",
        f"{path}@{data.rindex(b'WARC/1.1')}",
    ]
    assert "https://pacsto.org/events/b fails its digest" in errors[0].message
    assert "https://pacsto.org/events/c is truncated" in errors[1].message
    assert [i.url for i in items if not isinstance(i, SourceError)] == ["https://pacsto.org/events/a"]
    assert summary.errors == 2


def test_arc_files_are_read(tmp_path: Path) -> None:
    desc = b"1 0 pa-archive\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [b"filedesc://t.arc 0.0.0.0 20160301100000 text/plain %d\n" % len(desc) + desc + b"\n"]
    for url, date, body in [
        ("http://pacsto.org/events/a", b"20160301100000", A),
        ("http://pacsto.org/events/b", b"20160301100001", B),
    ]:
        block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + body
        records.append(b"%s 127.0.0.1 %s text/html %d\n" % (url.encode(), date, len(block)) + block + b"\n")
    (tmp_path / "t.arc").write_bytes(b"".join(records))
    (tmp_path / "t.arc.gz").write_bytes(b"".join(gzip.compress(r) for r in records))  # a gzip member a record
    for name in ("t.arc", "t.arc.gz"):
        assert detect(tmp_path / name) == "arc"
        items, summary = read(tmp_path / name)
        assert [(i.url, i.observed_at, i.body) for i in items] == [
            ("http://pacsto.org/events/a", "2016-03-01T10:00:00Z", A),
            ("http://pacsto.org/events/b", "2016-03-01T10:00:01Z", B),
        ]


def test_wacz_is_read_from_its_archive_folder(tmp_path: Path) -> None:
    warc = sample(tmp_path / "data.warc.gz")
    with zipfile.ZipFile(tmp_path / "c.wacz", "w") as zf:
        zf.write(warc, "archive/data.warc.gz")
        zf.writestr("datapackage.json", "{}")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "not a web archive")
    assert (detect(tmp_path / "c.wacz"), detect(tmp_path / "other.zip")) == ("wacz", None)
    items, summary = read(tmp_path / "c.wacz")
    assert len(items) == 4 and {i.source for i in items} == {"wacz"}
    assert summary.where == f"{tmp_path / 'c.wacz'}!archive/data.warc.gz"


def test_inputs_are_told_by_content_not_by_name(tmp_path: Path) -> None:
    sample(tmp_path / "crawl.txt")  # a gzipped WARC under a misleading name
    (tmp_path / "plain.gz").write_bytes(gzip.compress(b"not a web archive"))
    items = list(read_inputs([str(tmp_path / "crawl.txt"), str(tmp_path / "plain.gz")]))
    assert [type(i).__name__ for i in items] == ["RawSnapshot"] * 4 + ["RawSnapshot"]
    assert items[-1].url.startswith("file://")  # the plain gzip is a file, for the archive to judge


def test_importing_the_same_warc_again_adds_nothing_and_no_cookie_is_kept(tmp_path: Path) -> None:
    path = sample(tmp_path / "a.warc.gz")
    with Archive(tmp_path / "archive.db") as archive:
        first = archive.ingest(read_web_archive(path))
        again = archive.ingest(read_web_archive(path))
        cookies = archive.query("SELECT count(*) AS n FROM snapshots WHERE headers LIKE '%cookie%'")[0]["n"]
    assert (first.added, first.new_content, first.seen_again, first.errors) == (4, 2, 1, [])
    assert (again.added, again.duplicates) == (0, 4)
    assert cookies == 0


def test_warc_dates_of_every_precision() -> None:
    assert warc_date("2016-03-01T10:00:00Z") == "2016-03-01T10:00:00Z"
    assert warc_date("2016-03-01T10:00:00.123456Z") == "2016-03-01T10:00:00Z"
    assert warc_date("20160301100000") == "2016-03-01T10:00:00Z"
    assert warc_date("2016") == "2016-01-01T00:00:00Z"
    assert warc_date("yesterday") is None
