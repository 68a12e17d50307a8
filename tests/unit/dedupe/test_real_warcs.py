"""Damage met in real archives (the test files of warcio, warcio.js, jwarc, webarchive-commons, pywb, py-wacz, warcat
and the JHOVE WARC suite), each rebuilt here from pywb's sample archive (``tests/fixtures/pywb-sample-archive``) or
by hand: a Content-Length far too long no longer swallows the records after it, and a lower-cased ``warc/1.0``
record is read."""

from __future__ import annotations

import gzip
import io
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from dedupe.sources import SourceError
from dedupe.webarchive.warc import ReadSummary, detect, read_stream, read_web_archive

SAMPLES = Path(__file__).parents[2] / "fixtures" / "pywb-sample-archive"
# pywb's example.warc: warcinfo, a response (HTML, 1270 bytes by its HTTP Content-Length), its request, a revisit of
# it, the revisit's request, a 302 response
EXAMPLE = (SAMPLES / "example.warc").read_bytes()
RESPONSE_LENGTH = b"Content-Length: 1610"  # the response's block
REVISIT_LENGTH = b"Content-Length: 340"
WHOLE = (2, 1, 0)  # what example.warc holds: (observations, revisits, bad records)


def read(path: Path) -> tuple[list, ReadSummary]:
    summaries: list[ReadSummary] = []
    items = list(read_web_archive(path, summaries))
    return items, summaries[0]


def counts(summary: ReadSummary) -> tuple[int, int, int]:
    return summary.observations, summary.revisits, summary.errors


def errors_of(items: list) -> list[SourceError]:
    return [i for i in items if isinstance(i, SourceError)]


def members(data: bytes) -> list[bytes]:
    """The decompressed gzip members of ``data``, one by one."""
    out = []
    while data:
        decoder = zlib.decompressobj(31)
        out.append(decoder.decompress(data))
        data = decoder.unused_data
    return out


def too_long(data: bytes, old: bytes, new_length: int) -> bytes:
    assert data.count(old) == 1
    return data.replace(old, b"Content-Length: %d" % new_length)


@pytest.mark.parametrize("length", [1610 + 6, 1610 + 1000, 99_999], ids=["eats-a-header's-start", "far", "past-eof"])
def test_a_content_length_too_long_no_longer_swallows_the_records_after_it(tmp_path: Path, length: int) -> None:
    path = tmp_path / "too-long.warc"
    path.write_bytes(too_long(EXAMPLE, RESPONSE_LENGTH, length))
    items, summary = read(path)
    assert counts(summary) == WHOLE  # the revisit and the requests after it are read again
    assert not errors_of(items)
    assert [i.body == items[0].body for i in items] == [True, True] and len(items[0].body) == 1270
    assert "kept (HTTP body whole) whose Content-Length ran into the next record" in str(summary)


def test_per_record_gzip_and_one_gzip_member_resynchronise_alike(tmp_path: Path) -> None:
    records = [too_long(m, RESPONSE_LENGTH, 2610) if RESPONSE_LENGTH in m else m for m in members(EXAMPLE_GZ)]
    per_record, whole = tmp_path / "per-record.warc.gz", tmp_path / "one-member.warc.gz"
    per_record.write_bytes(b"".join(gzip.compress(r) for r in records))
    whole.write_bytes(gzip.compress(b"".join(records)))
    for path in (per_record, whole):
        items, summary = read(path)
        assert counts(summary) == WHOLE and not errors_of(items), path.name


EXAMPLE_GZ = (SAMPLES / "example.warc.gz").read_bytes()


def test_a_record_whose_body_is_not_whole_is_not_stored_and_is_told(tmp_path: Path) -> None:
    # the revisit's block runs 960 bytes into the request after it: it has no body to keep
    path = tmp_path / "revisit-too-long.warc"
    path.write_bytes(too_long(EXAMPLE, REVISIT_LENGTH, 1300))
    items, summary = read(path)
    errors = errors_of(items)
    assert counts(summary) == (1, 0, 1) and len(errors) == 1
    assert errors[0].where.endswith("@3161")  # the damaged revisit, by its offset
    assert "runs past its end into the next record (at offset 4062)" in errors[0].message
    assert "not imported" in errors[0].message and "reading goes on" in errors[0].message
    assert summary.skipped["request"] == 2  # the request it ran into is read


def test_an_html_body_without_its_length_is_not_kept_when_the_record_overran(tmp_path: Path) -> None:
    body = b"<html><body><p>The Council met in Minsk.</p></body></html>"
    first = _response("http://example.com/a", body, http_length=False)
    second = _response("http://example.com/b", body.replace(b"Minsk", b"Astana"))
    path = tmp_path / "no-http-length.warc"
    path.write_bytes(_with_block_length(first, +500) + second)
    items, summary = read(path)
    assert [i.url for i in items if not isinstance(i, SourceError)] == ["http://example.com/b"]
    assert len(errors_of(items)) == 1 and "is damaged" in errors_of(items)[0].message


def test_a_skipped_record_that_overran_is_a_note_not_an_error(tmp_path: Path) -> None:
    image = _response("http://example.com/logo.png", b"\x89PNG" + b"\x00" * 40, content_type="image/png")
    page = _response("http://example.com/", b"<html><body><p>Minsk</p></body></html>")
    path = tmp_path / "image-too-long.warc"
    path.write_bytes(_with_block_length(image, +300) + page)
    items, summary = read(path)
    assert [i.url for i in items] == ["http://example.com/"] and summary.skipped["not HTML"] == 1
    assert "skipped record(s) whose Content-Length ran into the next record" in str(summary)


def test_a_record_holding_a_whole_warc_in_its_payload_is_not_cut(tmp_path: Path) -> None:
    inner = _response("http://example.com/inner", b"<html><body><p>inside</p></body></html>")
    outer = _response("http://example.com/dump.txt", b"a WARC file:\r\n\r\n" + inner, content_type="text/plain")
    after = _response("http://example.com/after", b"<html><body><p>after</p></body></html>")
    path = tmp_path / "nested.warc"
    path.write_bytes(outer + after)
    items, summary = read(path)
    assert [i.url for i in items] == ["http://example.com/dump.txt", "http://example.com/after"]
    assert items[0].body.endswith(inner) and not summary.notes


def test_an_arc_record_too_long_no_longer_swallows_the_next(tmp_path: Path) -> None:
    arc = (SAMPLES / "example.arc").read_bytes()
    start = arc.index(b"http://example.com/ ")
    header, record = arc[:start], arc[start:]
    second = record.replace(b"http://example.com/ ", b"http://example.com/b ", 1)
    length = int(record[: record.index(b"\n")].split()[-1])
    path = tmp_path / "too-long.arc"
    path.write_bytes(header + record.replace(b" %d\n" % length, b" %d\n" % (length + 700), 1) + second)
    items, summary = read(path)
    assert [i.url for i in items] == ["http://example.com/", "http://example.com/b"]
    assert not errors_of(items) and summary.observations == 2


def test_a_long_line_of_numbers_in_an_arc_record_is_watched_in_linear_time(tmp_path: Path) -> None:
    # the first pattern for an ARC header inside a block backtracked over such a line: minutes for 200 KB
    body = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n\na:" + b" 12345678901234" * 14_000 + b"\n"
    path = tmp_path / "numbers.arc"
    path.write_bytes(
        b"filedesc://numbers.arc 0.0.0.0 20140216050221 text/plain 0\n\n"
        + b"http://example.com/n 93.184.216.119 20140216050221 text/plain %d\n" % len(body)
        + body
        + b"\n"
    )
    started = time.monotonic()
    items, summary = read(path)
    assert summary.observations == 1 and not errors_of(items)
    assert time.monotonic() - started < 5


def test_a_wacz_member_is_read_again_from_the_record_it_overran(tmp_path: Path) -> None:
    path = tmp_path / "too-long.wacz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("archive/data.warc", too_long(EXAMPLE, RESPONSE_LENGTH, 2610))
    items, summary = read(path)
    assert counts(summary) == WHOLE and not errors_of(items)


class _OneWay(io.RawIOBase):
    """A stream that cannot seek back (a pipe): what was read past is gone."""

    def __init__(self, data: bytes) -> None:
        self.inner = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # noqa: ANN001 - RawIOBase's signature
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def test_a_stream_that_cannot_seek_back_tells_what_was_lost_and_reads_on() -> None:
    filler = b"<p>" + b"x" * 500_000 + b"</p>"  # far past what the reader keeps buffered
    first = _response("http://example.com/a", b"<html><body>" + filler + b"</body></html>")
    second = _response("http://example.com/b", b"<html><body><p>second</p></body></html>")
    third = _response("http://example.com/c", b"<html><body><p>third</p></body></html>" + filler)
    # the first block ends inside the third record: the second is lost, the fourth found by its WARC/ line
    data = _with_block_length(first, len(second) + 300_000) + second + third + third.replace(b"/c", b"/d", 1)
    summaries: list[ReadSummary] = []
    items = list(read_stream(_OneWay(data), "pipe", summaries=summaries))
    errors = errors_of(items)
    assert len(errors) == 1 and "cannot be read again" in errors[0].message and "lost" in errors[0].message
    assert [i.url for i in items if not isinstance(i, SourceError)] == ["http://example.com/d"]


def test_lower_case_warc_records_are_read(tmp_path: Path) -> None:
    # JHOVE's valid-warcfile-upper-lower-case.warc: 'warc/1.0' and lower-cased header names
    page = _response("http://example.com/", b"<html><body><p>Minsk</p></body></html>")
    lower = page[: page.index(b"\r\n\r\n")].lower() + page[page.index(b"\r\n\r\n") :]
    path = tmp_path / "lower.warc"
    path.write_bytes(lower + page.replace(b"example.com/", b"example.com/b", 1))
    assert detect(path) == "warc"
    items, summary = read(path)
    assert [i.url for i in items] == ["http://example.com/", "http://example.com/b"] and summary.errors == 0


def test_a_body_whose_last_newline_the_record_length_left_out_is_kept_whole(tmp_path: Path) -> None:
    # webarchive-commons' link-extraction-test.warc: the block ends one byte before the HTTP body does, and that
    # byte, a newline, comes right after the block
    body = b"<html><body><p>The Council met in Minsk.</p></body></html>\n"
    short = _with_block_length(_response("http://example.com/a", body), -1)
    cut = _with_block_length(_response("http://example.com/b", body.replace(b"</html>", b"</html>x")), -2)
    path = tmp_path / "short.warc"
    path.write_bytes(short + cut + _response("http://example.com/c", body))
    items, summary = read(path)
    assert [(i.url, i.body) for i in items if not isinstance(i, SourceError)] == [
        ("http://example.com/a", body),
        ("http://example.com/c", body),
    ]
    errors = errors_of(items)
    assert len(errors) == 1 and "http://example.com/b is truncated (2 bytes missing by its Content-Length)" in (
        errors[0].message
    )
    assert "left out their body's last blank bytes" in str(summary)


def _response(url: str, body: bytes, content_type: str = "text/html", http_length: bool = True) -> bytes:
    length = b"Content-Length: %d\r\n" % len(body) if http_length else b""
    block = b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\n%s\r\n" % (content_type.encode(), length) + body
    head = (
        "WARC/1.0\r\nWARC-Type: response\r\nWARC-Date: 2017-03-06T04:03:48Z\r\n"
        f"WARC-Record-ID: <urn:uuid:{abs(hash(url + str(len(body)))):032x}>\r\nWARC-Target-URI: {url}\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


def _with_block_length(record: bytes, more: int) -> bytes:
    head_end = record.index(b"\r\n\r\n")
    length = int(record[:head_end].rsplit(b"Content-Length: ", 1)[1])
    return (
        record[:head_end].replace(b"Content-Length: %d" % length, b"Content-Length: %d" % (length + more))
        + (record[head_end:])
    )
