"""Web archives as other tools write them: every quirk a small crafted file, each capture stored or one line."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import zipfile
import zlib
from pathlib import Path

import pytest

from dedupe.archive import Archive
from dedupe.headers import Headers
from dedupe.sources import SourceError, read_sources
from dedupe.webarchive.warc import ReadSummary, read_web_archive
from dedupe.webarchive.warc_records import PayloadCache
from dedupe.webarchive.warc_stream import digest_key, warc_date
from tests.warcs import page

BLOCK = ["Delegation of Kyrgyzstan consists of 7 deputies.", "Plenipotentiary representative: Dastan Bekeshev"]
A = page("Session in Minsk", ["The Council met in Minsk and adopted the budget for the next two years."], BLOCK)
B = page("Observers in Astana", ["Observers of the Assembly monitored the elections in Astana."], BLOCK)


def record(
    url: str | None,
    body: bytes = A,
    *,
    rec_type: str = "response",
    date: str = "2016-03-01T10:00:00Z",
    http: list[tuple[str, str]] | None = None,
    status: str = "200 OK",
    version: str = "WARC/1.0",
    extra: list[tuple[str, str]] = (),
    warc_type: str = "application/http; msgtype=response",
) -> bytes:
    """One WARC record, written by hand the way another tool might (no library smoothing it)."""
    if http is None:
        http = [("Content-Type", "text/html; charset=utf-8")]
    block = body
    if rec_type != "resource":
        head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in http) + "\r\n"
        block = head.encode("latin-1") + body
    fields = [
        ("WARC-Type", rec_type),
        ("WARC-Date", date),
        ("WARC-Record-ID", f"<urn:uuid:{hashlib.md5(block + date.encode()).hexdigest()}>"),
    ]
    if url is not None:
        fields.append(("WARC-Target-URI", url))
    fields += [("Content-Type", warc_type), *extra, ("Content-Length", str(len(block)))]
    head = version + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    return head.encode("utf-8") + block + b"\r\n\r\n"


def read(path: Path) -> tuple[list, list[ReadSummary]]:
    summaries: list[ReadSummary] = []
    return list(read_web_archive(path, summaries)), summaries


def pages_of(items: list) -> list[str]:
    return [i.url for i in items if not isinstance(i, SourceError)]


def errors_of(items: list) -> list[SourceError]:
    return [i for i in items if isinstance(i, SourceError)]


# ----------------------------------------------------------------------------- 18.1 header names in any case


def test_lowercase_http_header_names_are_html_and_keep_their_spelling(tmp_path: Path) -> None:
    path = tmp_path / "browser.warc"
    path.write_bytes(
        record("https://pacsto.org/events/a", http=[("content-type", "text/html; charset=UTF-8"), ("etag", '"x"')])
        + record("https://pacsto.org/events/b", B, http=[("CONTENT-TYPE", "text/html")])
    )
    items, _ = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a", "https://pacsto.org/events/b"]
    first = items[0]
    assert first.declared_charset == "UTF-8" and first.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert list(first.headers) == ["content-type", "etag"]  # stored as written
    archive = Archive(tmp_path / "a.db")
    archive.ingest(read_sources([path]))
    stored = archive.query("SELECT headers, etag FROM snapshots WHERE url = 'https://pacsto.org/events/a'")[0]
    assert stored["etag"] == '"x"' and '"content-type"' in stored["headers"]


def test_headers_type_is_case_insensitive_and_joins_repeats() -> None:
    headers = Headers([("Content-Type", "text/html"), ("Vary", "a"), ("vary", "b")])
    assert headers["content-type"] == headers.get("CONTENT-TYPE") == "text/html"
    assert "VARY" in headers and headers["Vary"] == "a, b" and list(headers) == ["Content-Type", "Vary"]
    assert dict(Headers({"Set-Cookie": "x"}).without({"set-cookie"})) == {}


# ----------------------------------------------------------------------------- 18.5 / 20.3 one bad record


def test_a_record_without_target_uri_then_garbage_is_one_line_and_the_next_file_is_imported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.warc"
    bad.write_bytes(
        record("https://pacsto.org/events/a")
        + record(None, B)
        + b"\x00garbage\xff" * 50
        + b"\r\n"
        + record("https://pacsto.org/events/c", B)
    )
    good = tmp_path / "good.warc"
    good.write_bytes(record("https://pacsto.org/events/d", B))
    items = list(read_sources([bad, good]))
    errors = errors_of(items)
    assert pages_of(items) == [
        "https://pacsto.org/events/a",
        "https://pacsto.org/events/c",
        "https://pacsto.org/events/d",
    ]
    assert errors, "the record without a target URI is reported"
    for error in errors:
        where, _, offset = error.where.rpartition("@")
        assert where == str(bad) and int(offset) >= 0 and "\n" not in error.message
    assert "no WARC-Target-URI" in errors[0].message


@pytest.mark.parametrize("cut", [30, 200, 400])
def test_a_file_cut_inside_headers_or_its_last_gzip_member_is_one_line(tmp_path: Path, cut: int) -> None:
    data = gzip.compress(record("https://pacsto.org/events/a")) + gzip.compress(
        record("https://pacsto.org/events/b", B)
    )
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(data[:-cut])
    items, summaries = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a"]
    assert len(errors_of(items)) == 1 and summaries[0].errors == 1
    assert errors_of(items)[0].where.endswith(f"@{len(gzip.compress(record('https://pacsto.org/events/a')))}")


def test_a_file_cut_inside_plain_warc_headers_is_one_line(tmp_path: Path) -> None:
    data = record("https://pacsto.org/events/a") + record("https://pacsto.org/events/b", B)
    path = tmp_path / "cut.warc"
    path.write_bytes(data[: len(record("https://pacsto.org/events/a")) + 40])
    items, _ = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a"] and len(errors_of(items)) == 1


def test_a_corrupt_gzip_member_costs_only_its_record(tmp_path: Path) -> None:
    members = [
        gzip.compress(record(f"https://pacsto.org/events/{n}", body)) for n, body in (("a", A), ("b", B), ("c", A))
    ]
    broken = bytearray(members[1])
    broken[20:40] = b"\xff" * 20
    path = tmp_path / "corrupt.warc.gz"
    path.write_bytes(members[0] + bytes(broken) + members[2])
    items, _ = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a", "https://pacsto.org/events/c"]
    assert [e.where for e in errors_of(items)] == [f"{path}@{len(members[0])}"]


# ----------------------------------------------------------------------------- 18.2 dates


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-08-15T01:02", "2019-08-15T01:02:00Z"),
        ("2019-08-15", "2019-08-15T00:00:00Z"),
        ("2019", "2019-01-01T00:00:00Z"),
        ("2016-03-01T10:00:01.250Z", "2016-03-01T10:00:01Z"),
        ("2008-10-29T05:21:46-0700", "2008-10-29T12:21:46Z"),
        ("2008-10-294T05:21:46-0700", "2008-10-29T12:21:46Z"),  # ClueWeb09's WARC/0.18
        ("2008-10-29T05:21:46+05:30", "2008-10-28T23:51:46Z"),
        ("20160301100000", "2016-03-01T10:00:00Z"),
        ("2016-13-45T99:00:00Z", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_warc_dates_are_read_leniently(text: str, expected: str | None) -> None:
    assert warc_date(text) == expected


def test_an_unusable_date_takes_the_warcinfo_date_and_says_so(tmp_path: Path) -> None:
    info = (
        b"WARC/0.18\r\nWARC-Type: warcinfo\r\nWARC-Date: 2009-03-01T00:00:00Z\r\nContent-Type: application/warc-fields"
        b"\r\nContent-Length: 0\r\n\r\n\r\n\r\n"
    )
    path = tmp_path / "clueweb.warc"
    path.write_bytes(
        info
        + record("https://pacsto.org/events/a", date="2009-03-65T08:43:19-0800", version="WARC/0.18")
        + record("https://pacsto.org/events/b", B, date="2008-10-294T05:21:46-0700", version="WARC/0.18")
    )
    items, summaries = read(path)
    assert [(i.url, i.observed_at) for i in items] == [
        ("https://pacsto.org/events/a", "2009-03-01T00:00:00Z"),
        ("https://pacsto.org/events/b", "2008-10-29T12:21:46Z"),
    ]
    assert summaries[0].dated_by_file == 1 and "1 record(s) dated by the file" in str(summaries[0])


# ----------------------------------------------------------------------------- 20.1 bounded bodies, 20.9 cache


def test_a_body_over_the_cap_is_one_line_and_skipped_without_reading_it_whole(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PA_DOWNLOAD_MAXSIZE", "100000")
    big = b"<html><body>" + b"x" * 300_000 + b"</body></html>"
    path = tmp_path / "big.warc"
    path.write_bytes(record("https://pacsto.org/events/big", big) + record("https://pacsto.org/events/a"))
    items, _ = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a"]
    assert "larger than 100,000 bytes" in errors_of(items)[0].message


def test_a_gzip_content_encoding_bomb_is_stopped_at_the_cap(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PA_DOWNLOAD_MAXSIZE", str(2**20))
    bomb = zlib.compress(b"<p>" + b"a" * (64 * 2**20), 9)  # 64 MB in ~64 KB
    gz = gzip.compress(b"<p>" + b"a" * (64 * 2**20), 9)
    path = tmp_path / "bomb.warc"
    path.write_bytes(
        record(
            "https://pacsto.org/events/z", bomb, http=[("Content-Type", "text/html"), ("Content-Encoding", "deflate")]
        )
        + record("https://pacsto.org/events/g", gz, http=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")])
        + record("https://pacsto.org/events/a")
    )
    items, _ = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a"]
    assert all("once decompressed" in e.message for e in errors_of(items)) and len(errors_of(items)) == 2


def test_non_html_records_are_skipped_unread(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PA_DOWNLOAD_MAXSIZE", "1000")
    path = tmp_path / "img.warc"
    path.write_bytes(record("https://pacsto.org/x.jpg", b"\xff" * 50_000, http=[("Content-Type", "image/jpeg")]))
    items, summaries = read(path)
    assert items == [] and summaries[0].skipped["not HTML"] == 1


def test_the_revisit_cache_is_bounded_by_entries_and_bytes() -> None:
    cache = PayloadCache(max_bytes=10_000, max_entries=3)
    for n in range(5):
        cache.put(f"sha1:{n}", f"<id{n}>", f"u{n}", "t", (200, {}, b"x" * 10))
    assert len(cache.entries) == 3 and cache.get("sha1:0", None, "u0", "t") is None
    assert cache.get(None, "<id4>", "?", None)[2] == b"x" * 10
    cache.put("sha1:big", None, "big", "t", (200, {}, b"y" * 8_000))
    assert cache.size <= 10_000 and len(cache.entries) <= 3 and cache.get("sha1:big", None, "", None)


# ----------------------------------------------------------------------------- 18.4 formats


def test_a_warc_gzipped_as_one_member_is_read(tmp_path: Path) -> None:
    path = tmp_path / "single.warc.gz"
    path.write_bytes(gzip.compress(record("https://pacsto.org/events/a") + record("https://pacsto.org/events/b", B)))
    items, _ = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a", "https://pacsto.org/events/b"] and not errors_of(items)


def sha1_digests(body: bytes) -> dict[str, str]:
    raw = hashlib.sha1(body).digest()
    return {
        "base32": "sha1:" + base64.b32encode(raw).decode(),
        "hex": "sha1:" + raw.hex(),
        "upper": "SHA1:" + base64.b32encode(raw).decode(),
        "sha256": "sha-256:" + hashlib.sha256(body).hexdigest(),
    }


@pytest.mark.parametrize("spelling", ["base32", "hex", "upper", "sha256"])
@pytest.mark.parametrize(
    "profile",
    [
        "http://netpreserve.org/warc/0.18/revisit/identical-payload-digest",
        "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
        "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
    ],
)
def test_revisits_of_every_profile_and_digest_spelling_find_their_payload(
    tmp_path: Path, spelling: str, profile: str
) -> None:
    digest = sha1_digests(A)[spelling]
    revisit = record(
        "https://www.pacsto.org/events/a-copy",  # URI-agnostic: another URL, the same payload
        b"",
        rec_type="revisit",
        date="2017-01-01T00:00:00Z",
        extra=[("WARC-Profile", profile), ("WARC-Payload-Digest", digest)],
    )
    path = tmp_path / "revisits.warc"
    path.write_bytes(record("https://pacsto.org/events/a", extra=[("WARC-Payload-Digest", digest)]) + revisit)
    items, summaries = read(path)
    assert not errors_of(items)
    assert [(i.url, i.http_status, i.body == A) for i in items] == [
        ("https://pacsto.org/events/a", 200, True),
        ("https://www.pacsto.org/events/a-copy", 200, True),
    ]
    assert summaries[0].revisits == 1
    assert digest_key(sha1_digests(A)["base32"]) == digest_key(sha1_digests(A)["hex"])


def test_html_in_resource_records_and_arc_urls_with_spaces(tmp_path: Path) -> None:
    path = tmp_path / "resource.warc"
    path.write_bytes(record("https://pacsto.org/events/r", rec_type="resource", warc_type="text/html; charset=utf-8"))
    items, _ = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/r"] and items[0].declared_charset == "utf-8"
    desc = b"1 0 pa-archive\nURL IP-address Archive-date Content-type Archive-length\n"
    block = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + A
    arc = (
        b"filedesc://t.arc 0.0.0.0 20080301100000 text/plain %d\n" % len(desc)
        + desc
        + b"\n"
        + b"http://pacsto.org/events/a b c 127.0.0.1 20080301100000 text/html %d\n" % len(block)
        + block
        + b"\n"
    )
    (tmp_path / "t.arc").write_bytes(arc)
    items, _ = read(tmp_path / "t.arc")
    assert pages_of(items) == ["http://pacsto.org/events/a%20b%20c"]


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "stale"])
def test_content_encodings_and_a_stale_header(tmp_path: Path, coding: str) -> None:
    if coding == "br":
        brotli = pytest.importorskip("brotli")
        body = brotli.compress(A)
    elif coding == "gzip":
        body = gzip.compress(A)
    elif coding == "deflate":
        body = zlib.compress(A)
    else:
        body = A  # the tool decoded the body and kept the header
    name = "gzip" if coding == "stale" else coding
    path = tmp_path / "enc.warc"
    path.write_bytes(
        record("https://pacsto.org/events/a", body, http=[("Content-Type", "text/html"), ("Content-Encoding", name)])
    )
    items, summaries = read(path)
    assert not errors_of(items) and items[0].body == A
    assert ("stale Content-Encoding" in str(summaries[0])) == (coding == "stale")


def test_common_crawl_x_crawler_headers_mean_the_body_is_already_decoded(tmp_path: Path) -> None:
    path = tmp_path / "cc.warc"
    http = [("Content-Type", "text/html"), ("X-Crawler-Content-Encoding", "gzip"), ("X-Crawler-Content-Length", "99")]
    path.write_bytes(record("https://pacsto.org/events/a", http=http))
    items, _ = read(path)
    assert items[0].body == A


def test_a_wacz_inside_a_wacz_and_its_page_list(tmp_path: Path) -> None:
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as zf:
        zf.writestr("archive/data.warc.gz", gzip.compress(record("https://pacsto.org/events/a")))
        zf.writestr(
            "pages/pages.jsonl", '{"format": "json-pages-1.0"}\n{"url": "https://pacsto.org/events/a", "title": "A"}\n'
        )
        zf.writestr("datapackage.json", "{}")
    path = tmp_path / "multi.wacz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("collection/crawl-1.wacz", inner.getvalue(), compress_type=zipfile.ZIP_STORED)
        zf.writestr("datapackage.json", "{}")
    items, summaries = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a"] and not errors_of(items)
    assert items[0].origin == f"{path}!collection/crawl-1.wacz!archive/data.warc.gz"
    assert sum(s.pages_listed for s in summaries) == 1


def test_member_names_with_escape_sequences_and_userinfo_never_reach_output(tmp_path: Path) -> None:
    path = tmp_path / "evil.wacz"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/\x1b[2K\rerror: forged\u202e.warc", record("https://user:secret@pacsto.org/events/a"))
    items, _ = read(path)
    assert items[0].url == "https://pacsto.org/events/a"
    assert "\x1b" not in items[0].origin and "\u202e" not in items[0].origin and "\\x1b" in items[0].origin


@pytest.mark.parametrize("damage", ["crc", "method", "encrypted"])
def test_a_damaged_wacz_member_is_one_line_and_the_other_members_are_read(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "damaged.wacz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/a.warc", record("https://pacsto.org/events/a"))
        zf.writestr("archive/b.warc", record("https://pacsto.org/events/b", B))
    raw = bytearray(path.read_bytes())
    second = raw.index(b"PK\x03\x04", 4)  # the local header of archive/b.warc
    if damage == "crc":
        at = raw.index(b"Observers", second)
        raw[at : at + 9] = b"OBSERVERS"
    elif damage == "method":
        raw[second + 8 : second + 10] = b"\x63\x00"
        central = raw.index(b"PK\x01\x02", raw.index(b"PK\x01\x02") + 4)
        raw[central + 10 : central + 12] = b"\x63\x00"
    else:
        raw[second + 6] |= 1
        central = raw.index(b"PK\x01\x02", raw.index(b"PK\x01\x02") + 4)
        raw[central + 8] |= 1
    path.write_bytes(bytes(raw))
    items, _ = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a"]
    errors = errors_of(items)
    assert len(errors) == 1 and errors[0].where.startswith(f"{path}!archive/b.warc@")


def test_partial_and_empty_responses_are_skipped_not_errors(tmp_path: Path) -> None:
    path = tmp_path / "partial.warc"
    path.write_bytes(
        record("https://pacsto.org/events/a", A[:100], status="206 Partial Content")
        + record("https://pacsto.org/events/b", b"")
        + record("https://pacsto.org/events/c", B)
    )
    items, summaries = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/c"] and not errors_of(items)
    assert summaries[0].skipped == {"HTTP 206": 1, "empty body": 1}


# ----------------------------------------------------------------------------- revisits of what was skipped

NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"


def revisit(url: str, date: str, *, http: list[tuple[str, str]], status: str = "200 OK", **refers: str) -> bytes:
    """A revisit record with its own HTTP headers and WARC-Refers-To* / WARC-Payload-Digest fields."""
    names = {"digest": "WARC-Payload-Digest", "target": "WARC-Refers-To-Target-URI", "on": "WARC-Refers-To-Date"}
    profile = NOT_MODIFIED if status.startswith("304") else IDENTICAL
    extra = [("WARC-Profile", profile), *((names[k], v) for k, v in refers.items())]
    return record(url, b"", rec_type="revisit", date=date, http=http, status=status, extra=extra)


def test_revisits_of_non_html_are_skipped_as_their_originals_and_html_ones_kept(tmp_path: Path) -> None:
    css = b"body { color: red }"
    css_digest = sha1_digests(css)["base32"]
    path = tmp_path / "site.warc"
    path.write_bytes(
        record("https://pacsto.org/events/a", extra=[("WARC-Payload-Digest", sha1_digests(A)["base32"])])
        + record(
            "https://pacsto.org/s.css",
            css,
            http=[("Content-Type", "text/css")],
            extra=[("WARC-Payload-Digest", css_digest)],
        )
        # its own type says CSS (the original is outside the file)
        + revisit("https://pacsto.org/t.css", "2016-03-02T00:00:00Z", http=[("Content-Type", "text/css")])
        # no type of its own, but its original (by digest) was skipped as not HTML
        + revisit("https://pacsto.org/s.css", "2016-03-02T00:00:01Z", http=[], digest=css_digest)
        # a 304 of a font
        + revisit(
            "https://pacsto.org/f.woff2",
            "2016-03-02T00:00:02Z",
            http=[("Content-Type", "font/woff2")],
            status="304 Not Modified",
        )
        # an HTML page seen again: by digest, and as a 304 without any Content-Type (its original outside the file)
        + revisit("https://pacsto.org/events/a", "2016-03-02T00:00:03Z", http=[], digest=sha1_digests(A)["hex"])
        + revisit("https://pacsto.org/events/a", "2016-03-02T00:00:04Z", http=[], status="304 Not Modified")
    )
    items, summaries = read(path)
    assert not errors_of(items)
    assert [(i.url, i.observed_at, i.http_status, i.body == A) for i in items] == [
        ("https://pacsto.org/events/a", "2016-03-01T10:00:00Z", 200, True),
        ("https://pacsto.org/events/a", "2016-03-02T00:00:03Z", 200, True),
        ("https://pacsto.org/events/a", "2016-03-02T00:00:04Z", 304, False),
    ]
    assert summaries[0].skipped == {"not HTML": 4} and (summaries[0].observations, summaries[0].revisits) == (3, 2)

    # what was stored is what an export holds: read back, the same snapshots
    from dedupe.webarchive.warc_export import export_warc

    snapshots = "SELECT url, observed_at, http_status, content_sha256 FROM snapshots ORDER BY observed_at"
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(read_sources([path]))
        export_warc(archive, tmp_path / "out.warc.gz")
        stored = archive.query(snapshots)
    with Archive(tmp_path / "b.db") as copy:
        report = copy.ingest(read_web_archive(tmp_path / "out.warc.gz"))
        assert report.errors == [] and copy.query(snapshots) == stored and len(stored) == 3


def test_a_revisit_of_a_redirect_or_a_removed_page_is_what_its_status_says(tmp_path: Path) -> None:
    path = tmp_path / "statuses.warc"
    path.write_bytes(
        revisit("https://pacsto.org/old", "2016-03-02T00:00:00Z", http=[("Location", "/new")], status="301 Moved")
        + revisit("https://pacsto.org/gone", "2016-03-02T00:00:01Z", http=[], status="404 Not Found")
    )
    items, summaries = read(path)
    assert [(i.url, i.http_status, i.body) for i in items] == [("https://pacsto.org/gone", 404, None)]
    assert summaries[0].skipped == {"HTTP 301": 1}


def test_a_revisit_that_fails_its_digest_is_a_bad_record_only(tmp_path: Path) -> None:
    bad = revisit("https://pacsto.org/events/a", "2016-03-02T00:00:00Z", http=[])
    bad = bad.replace(b"Content-Length:", b"WARC-Block-Digest: sha1:" + b"A" * 32 + b"\r\nContent-Length:")
    path = tmp_path / "digest.warc"
    path.write_bytes(record("https://pacsto.org/events/a") + bad)
    items, summaries = read(path)
    assert len(pages_of(items)) == 1 and len(errors_of(items)) == 1
    assert (summaries[0].observations, summaries[0].revisits, summaries[0].errors) == (1, 0, 1)


# ----------------------------------------------------------------------------- padding, bombs, not a WACZ, URLs


def test_nul_padding_is_read_past_a_buffer_at_a_time_and_told_once(tmp_path: Path, monkeypatch) -> None:
    from dedupe.webarchive import warc_stream

    calls = 0
    available = warc_stream.Input.available

    def counted(self, n: int) -> int:
        nonlocal calls
        calls += 1
        return available(self, n)

    monkeypatch.setattr(warc_stream.Input, "available", counted)
    path = tmp_path / "padded.warc"
    path.write_bytes(record("https://pacsto.org/events/a") + b"\x00" * 2**22 + record("https://pacsto.org/events/b", B))
    items, summaries = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a", "https://pacsto.org/events/b"] and not errors_of(items)
    assert calls < 10_000  # not one call per byte
    assert summaries[0].padding == 2**22 and "; 4,194,304 bytes of padding skipped" in str(summaries[0])


def test_nul_padding_between_gzip_members_keeps_the_offsets_right(tmp_path: Path) -> None:
    first = gzip.compress(record("https://pacsto.org/events/a"))
    second = gzip.compress(record("https://pacsto.org/events/b", B, extra=[("WARC-Block-Digest", "sha1:" + "A" * 32)]))
    path = tmp_path / "padded.warc.gz"
    path.write_bytes(first + b"\x00" * 1000 + second)
    items, summaries = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a"]
    assert [e.where for e in errors_of(items)] == [f"{path}@{len(first) + 1000}"]
    assert summaries[0].padding == 1000


def test_a_wacz_member_that_is_a_decompression_bomb_is_not_read(tmp_path: Path, monkeypatch) -> None:
    from dedupe.webarchive import warc

    monkeypatch.setattr(warc, "MAX_BOMB_FREE", 2**16)
    path = tmp_path / "bomb.wacz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/a.warc", record("https://pacsto.org/events/a"))
        zf.writestr("archive/big.warc", b"\x00" * 2**20)
    items, _ = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a"]
    (error,) = errors_of(items)
    assert error.where.startswith(f"{path}!archive/big.warc@") and "decompression bomb" in error.message


def test_a_zip_like_a_wacz_without_an_archive_folder_is_told_so(tmp_path: Path) -> None:
    from dedupe.webarchive.warc import detect

    path = tmp_path / "invalid.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("datapackage.json", "{}")
        zf.writestr("data/archive/test.txt", "not here")
    assert detect(path) == "wacz"
    items = list(read_sources([path]))
    assert [(e.where, e.message) for e in errors_of(items)] == [
        (f"{path}@0", "not a WACZ (no archive/ folder of WARC files)")
    ]


def test_an_http_url_that_is_not_valid_is_a_bad_record_and_another_scheme_is_skipped(tmp_path: Path) -> None:
    bad = ["https://pacsto.org:99999/x", "https://[::1", "https://", "http:///events/a"]
    path = tmp_path / "urls.warc"
    path.write_bytes(b"".join(record(url) for url in [*bad, "ftp://pacsto.org/a", "https://pacsto.org/events/a"]))
    items, summaries = read(path)
    assert pages_of(items) == ["https://pacsto.org/events/a"]
    errors = errors_of(items)
    assert len(errors) == 4 and all("WARC-Target-URI is an invalid URL" in e.message for e in errors)
    assert summaries[0].skipped == {"not http(s)": 1} and summaries[0].errors == 4


def test_a_page_refused_after_reading_is_named_by_its_file_offset_and_url(tmp_path: Path) -> None:
    """A record read whole whose page is then refused (binary content, no charset reads it) is one line naming
    where it is in the file and which URL, as a damaged record's is: the archive's own ``origin`` stays the file."""
    binary = b"<html><body>" + b"\x00\x01\x02" * 200 + b"</body></html>"
    first = record("https://pacsto.org/events/fine")
    path = tmp_path / "mixed.warc"
    path.write_bytes(first + record("https://pacsto.org/events/binary", binary))
    with Archive(tmp_path / "a.db") as archive:
        report = archive.ingest(read_sources([path]), workers=1)
        origins = {o for (o,) in archive.db.execute("SELECT DISTINCT origin FROM snapshots")}
    assert report.added == 1 and origins == {str(path)}
    assert report.errors == [
        f"{path}@{len(first)}: https://pacsto.org/events/binary: binary content (not text or HTML)"
    ]


@pytest.mark.parametrize("short_by", [0, 10])
def test_an_arc_length_that_counts_a_urls_spaces_as_escapes_is_read_when_its_body_is_whole(
    tmp_path: Path, short_by: int
) -> None:
    """warcio's example-space-in-url.arc: its last record's length counts each space of the URL as '%20' (12
    bytes past the file's end), while its HTTP body is whole by its Content-Length. That record is read, with a
    note; one whose body is short of its Content-Length too stays a truncated record."""
    desc = b"1 0 pa-archive\nURL IP-address Archive-date Content-type Archive-length\n"
    body = A[: len(A) - short_by]
    block = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(A) + body
    arc = (
        b"filedesc://t.arc 0.0.0.0 20080301100000 text/plain %d\n" % len(desc)
        + desc
        + b"\n"
        + b"http://pacsto.org/events/a b c d e f 127.0.0.1 20080301100000 text/html %d\n" % (len(block) + 12)
        + block
        + b"\n"
    )
    (tmp_path / "t.arc").write_bytes(arc)
    items, summaries = read(tmp_path / "t.arc")
    if short_by:
        assert not pages_of(items) and summaries[0].errors == 1
        assert "is truncated (" in [str(i) for i in items if isinstance(i, SourceError)][0]
    else:
        assert pages_of(items) == ["http://pacsto.org/events/a%20b%20c%20d%20e%20f"] and items[0].body == A
        assert summaries[0].errors == 0 and summaries[0].notes == {
            "ARC record length past the file's end, its HTTP body whole": 1
        }
