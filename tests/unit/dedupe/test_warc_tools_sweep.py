"""Files of archiving tools the reader had not met, each defect found by importing them a test here: a small file cut
from the tool's own (``tests/fixtures/real-archives``, origins and licences in its README) or one built in its shape."""

from __future__ import annotations

import base64
import gzip
import hashlib
from itertools import islice
from pathlib import Path

import pytest
import zstandard

from dedupe.sources import SourceError, read_sources
from dedupe.webarchive.backfill import _new_captures, parse_cdx
from dedupe.webarchive.warc import ReadSummary, read_web_archive
from tests.warcs import page

REAL = Path(__file__).parents[2] / "fixtures" / "real-archives"
HTML = page("Session in Minsk", ["The Council met in Minsk and adopted the budget for the next two years."], [])


def read(path: Path) -> tuple[list, ReadSummary]:
    summaries: list[ReadSummary] = []
    items = list(read_web_archive(path, summaries))
    return items, summaries[0]


def pages_of(items: list) -> list[str]:
    return [i.url for i in items if not isinstance(i, SourceError)]


def errors_of(items: list) -> list[SourceError]:
    return [i for i in items if isinstance(i, SourceError)]


def arc_record(header: str, body: bytes = HTML) -> bytes:
    """One ARC v1 record: ``header`` (URL IP date type) and the length of its HTTP response."""
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    return f"{header} {len(block)}\n".encode() + block + b"\n"


ARC_HEAD = b"filedesc://t.arc 0.0.0.0 20080430204825 text/plain 0\n\n"


# ----------------------------------------------------------------------------- ARC headers without a usable date


def test_an_arc_record_dated_null_takes_the_files_date_and_the_records_after_it_are_read(tmp_path: Path) -> None:
    # Heritrix wrote 'null' for a date it did not have (archivesunleashed/aut's badexample.arc.gz): the record was
    # one error and reading looked for a 'WARC/' line, so every ARC record after it was lost
    path = tmp_path / "null.arc"
    path.write_bytes(
        ARC_HEAD
        + arc_record("http://example.com/a 1.2.3.4 null text/html")
        + arc_record("http://example.com/b 1.2.3.4 20080430204826 text/html")
    )
    items, summary = read(path)
    assert [(i.url, i.observed_at) for i in items] == [
        ("http://example.com/a", "2008-04-30T20:48:25Z"),
        ("http://example.com/b", "2008-04-30T20:48:26Z"),
    ]
    assert summary.dated_by_file == 1 and summary.errors == 0


def test_after_an_arc_header_without_a_date_reading_goes_on_at_the_next_arc_header(tmp_path: Path) -> None:
    path = tmp_path / "nodate.arc"
    path.write_bytes(
        ARC_HEAD
        + arc_record("http://example.com/a 1.2.3.4 yesterday text/html extra")  # 6 fields: no date to be found
        + arc_record("http://example.com/b 1.2.3.4 20080430204826 text/html")
        + arc_record("http://example.com/c 1.2.3.4 20080430204827 text/html")
    )
    items, summary = read(path)
    assert pages_of(items) == ["http://example.com/b", "http://example.com/c"]
    assert [e.message for e in errors_of(items)] == ["ARC record header has no date"] and summary.errors == 1


def test_auts_bad_arc_is_read_to_its_end(tmp_path: Path) -> None:
    items, summary = read(REAL / "aut-badexample.arc.gz")
    assert pages_of(items) == ["http://www.archive.org/robots.txt"]
    # the three records after the one dated 'null' have empty bodies (Content-Length: 0): read, and skipped
    assert summary.skipped["empty body"] == 3 and summary.dated_by_file == 1
    missing = "payload of http://www.archive.org/ is truncated (479 bytes missing)"  # the file ends inside it
    assert [e.message for e in errors_of(items)] == [missing]


# ----------------------------------------------------------------------------- CDX indexes given to import


@pytest.mark.parametrize(
    "index",
    [
        # pywb's sample_archive/cdx/example.cdx (CDX 11 with its legend)
        b" CDX N b a m s k r M S V g\ncom,example)/?example=1 20140103030321 http://example.com?example=1 text/html"
        b" 200 B2LTWWPUOYAH7UIPQ7ZUPQ4VMBSVC36A - - 1043 333 example.warc.gz\n",
        # pywb's and cdxj-indexer's CDXJ (py-wacz, js-wacz)
        b'com,example)/?example=1 20140103030321 {"url": "http://example.com?example=1", "length": "1043", '
        b'"offset": "333", "filename": "example.warc.gz"}\n',
        # ipwb's CDXJ
        b'!context ["http://oduwsdl.github.io/contexts/cdxj"]\n!meta {"generator": "InterPlanetary Wayback"}\n',
        # OpenWayback's legend without the leading space (richardlehane/webarchive's hello-world.cdx)
        b"CDX A b e a m s c k r V v D d g M n\n0-0-0checkmate.com/Bugs/ 20010424210551 209.52.183.152 ...\n",
    ],
    ids=["cdx11", "cdxj", "ipwb", "legend"],
)
def test_a_cdx_index_given_to_import_is_one_sentence_not_a_text_page(tmp_path: Path, index: bytes) -> None:
    path = tmp_path / "index.cdx"
    path.write_bytes(index)
    items = list(read_sources([path]))
    assert [(e.where, e.message) for e in items] == [
        (str(path), "a CDX index, not a page or a web archive: import the WARC or WACZ files it lists")
    ]


def test_a_text_page_that_mentions_cdx_is_still_a_page(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"CDX files list captures.\ncom,example)/ is a SURT key.\n")
    assert [type(i).__name__ for i in read_sources([path])] == ["RawSnapshot"]


# ----------------------------------------------------------------------------- digests


def sha1_base32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def clueweb09_record(url: str, body: bytes, digest_of: bytes | None = None) -> bytes:
    """A record as ClueWeb09's Nutch wrote it (resiliparse's clueweb-quirk.warc.gz): WARC/0.18, its 3-digit day,
    HTTP headers ended by bare newlines, a stale ``Content-Encoding: gzip`` on the decoded body, and the block's
    digest as the payload's too (``digest_of``: what both digests are of, the block unless told)."""
    block = b"HTTP/1.1 200 OK\nContent-Type: text/html\nContent-Encoding: gzip\n\n" + body
    digest = sha1_base32(block if digest_of is None else digest_of)
    head = (
        f"WARC/0.18\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: 2008-10-294T05:21:46-0700\r\n"
        f"WARC-Payload-Digest: {digest}\r\nWARC-Block-Digest: {digest}\r\n"
        f"Content-Type: application/http;msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


def test_a_payload_digest_that_is_the_blocks_digest_is_checked_as_the_blocks(tmp_path: Path) -> None:
    # every ClueWeb09 record failed its payload digest (29 of 29 in resiliparse's clueweb-quirk.warc.gz)
    path = tmp_path / "clueweb09.warc.gz"
    path.write_bytes(
        gzip.compress(clueweb09_record("http://example.jp/a", HTML))
        + gzip.compress(clueweb09_record("http://example.jp/b", HTML, digest_of=b"another block"))
    )
    items, summary = read(path)
    assert pages_of(items) == ["http://example.jp/a"] and items[0].body == HTML
    assert items[0].observed_at == "2008-10-29T12:21:46Z"
    assert [e.message for e in errors_of(items)] == [
        "record of http://example.jp/b fails its digest (WARC-Block-Digest)"
    ]
    assert "stale Content-Encoding gzip (body kept as is)" in summary.notes


# ----------------------------------------------------------------------------- backfill's CDX reader


PYWB_CDX = (
    b" CDX N b a m s k r M S V g\n"
    b"com,example)/?example=1 20140103030321 http://example.com?example=1 text/html 200 "
    b"B2LTWWPUOYAH7UIPQ7ZUPQ4VMBSVC36A - - 1043 333 example.warc.gz\n"
)
PYWB_CDXJ = (
    b'com,example)/?example=1 20140103030321 {"url": "http://example.com?example=1", "mime": "text/html", '
    b'"status": "200", "digest": "B2LTWWPUOYAH7UIPQ7ZUPQ4VMBSVC36A", "length": "1043", "offset": "333", '
    b'"filename": "example.warc.gz"}\n'
)
OPENWAYBACK_CDX = (  # richardlehane/webarchive's hello-world.cdx: another legend, the IP address before the URL
    b"CDX A b e a m s c k r V v D d g M n\n"
    b"0-0-0checkmate.com/Bugs/Bug_Investigators.html 20010424210551 209.52.183.152 "
    b"0-0-0checkmate.com:80/Bugs/Bug_Investigators.html text/html 200 58670fbe7432c5bed6f3dcd7ea32b221 "
    b"a725a64ad6bb7112c55ed26c9e4cef63 - 17130110 59129865 1927657 6501523 DE_crawl6.20010424210458 - 5750\n"
)
EXAMPLE_ROW = {
    "timestamp": "20140103030321",
    "original": "http://example.com?example=1",
    "mimetype": "text/html",
    "statuscode": "200",
    "digest": "B2LTWWPUOYAH7UIPQ7ZUPQ4VMBSVC36A",
    "length": "1043",
    "offset": "333",
    "filename": "example.warc.gz",
}


@pytest.mark.parametrize("answer", [PYWB_CDX, PYWB_CDXJ], ids=["cdx-legend", "cdxj"])
def test_cdxj_and_cdx_with_a_legend_are_read_by_their_field_names(answer: bytes) -> None:
    # a CDXJ line was read as a CDX line: its URL was '{"url":', so every capture was dropped as off the pattern
    rows, resume = parse_cdx(answer)
    assert resume is None and len(rows) == 1
    assert {k: rows[0][k] for k in EXAMPLE_ROW} == EXAMPLE_ROW


def test_a_cdx_legend_names_where_each_field_is() -> None:
    rows, _ = parse_cdx(OPENWAYBACK_CDX)
    assert rows[0]["original"] == "0-0-0checkmate.com:80/Bugs/Bug_Investigators.html"
    assert (rows[0]["timestamp"], rows[0]["statuscode"], rows[0]["offset"]) == ("20010424210551", "200", "17130110")


def test_a_short_line_after_a_legend_is_one_sentence() -> None:
    with pytest.raises(ValueError, match="a CDX line has no timestamp and URL"):
        parse_cdx(b"CDX a m s k b\nhttp://example.com/ text/html 200 X\n")


# ----------------------------------------------------------------------------- Zstandard WARCs (.warc.zst)


def warc_record(url: str, body: bytes = HTML) -> bytes:
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    head = (
        f"WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: {url}\r\nWARC-Date: 2023-05-01T10:00:00Z\r\n"
        f"Content-Type: application/http;msgtype=response\r\nContent-Length: {len(block)}\r\n\r\n"
    )
    return head.encode() + block + b"\r\n\r\n"


RECORDS = [warc_record(f"https://example.org/{n}") for n in range(3)]


def warc_zst(records: list[bytes], with_dictionary: bool) -> bytes:
    """A .warc.zst as IIPC's Zstandard WARC proposal and ArchiveTeam's wget-at write it: a frame a record, the
    dictionary (zstd-compressed) in a skippable frame (magic 0x184D2A5D) in front."""
    if not with_dictionary:
        return b"".join(zstandard.ZstdCompressor().compress(r) for r in records)
    dictionary = zstandard.train_dictionary(1024, [r.replace(b"/0", b"/%d" % n) for n in range(40) for r in records])
    compressor = zstandard.ZstdCompressor(dict_data=dictionary)
    packed = zstandard.ZstdCompressor().compress(dictionary.as_bytes())
    frame = b"\x5d\x2a\x4d\x18" + len(packed).to_bytes(4, "little") + packed
    return frame + b"".join(compressor.compress(r) for r in records)


@pytest.mark.parametrize("with_dictionary", [False, True], ids=["frames", "dictionary"])
def test_a_zstandard_warc_is_read(tmp_path: Path, with_dictionary: bool) -> None:
    # wget-at and Zeno write .warc.zst; it was refused as "binary content (not text or HTML)"
    path = tmp_path / "at.warc.zst"
    path.write_bytes(warc_zst(RECORDS, with_dictionary))
    items, summary = read(path)
    assert pages_of(items) == [f"https://example.org/{n}" for n in range(3)] and summary.errors == 0
    assert items[0].body == HTML


def test_a_damaged_zstandard_warc_is_one_sentence_each(tmp_path: Path) -> None:
    whole = warc_zst(RECORDS, with_dictionary=True)
    cut = tmp_path / "cut.warc.zst"
    cut.write_bytes(whole[:40])  # inside its dictionary frame
    assert [(e.where, e.message) for e in read_sources([cut])] == [
        (f"{cut}@0", "unreadable .warc.zst: the file ends inside its dictionary frame")
    ]
    frames = [zstandard.ZstdCompressor().compress(r) for r in RECORDS]
    garbage = b"\x28\xb5\x2f\xfd" + b"\xff" * 64  # a frame's magic number, then nothing a frame holds
    garbled = tmp_path / "garbled.warc.zst"
    garbled.write_bytes(frames[0] + garbage + frames[1] + b"\x00" * 3 + frames[2] + b"\x00" * 32)
    items, summary = read(garbled)
    assert pages_of(items) == [f"https://example.org/{n}" for n in range(3)] and summary.errors == 1
    [error] = errors_of(items)
    assert error.where == f"{garbled}@{len(frames[0])}"  # the damaged frame's offset in the file
    assert error.message.startswith("unreadable record: corrupt zstd data (")


def test_a_record_of_a_zstandard_warc_is_named_by_its_frames_offset(tmp_path: Path) -> None:
    frames = [zstandard.ZstdCompressor().compress(r) for r in RECORDS[:2]]
    frames.append(zstandard.ZstdCompressor().compress(RECORDS[2].replace(b"Content-Length: ", b"Content-Length: 9")))
    path = tmp_path / "named.warc.zst"
    path.write_bytes(b"".join(frames))
    items, _ = read(path)
    assert [e.where for e in errors_of(items)] == [f"{path}@{len(frames[0]) + len(frames[1])}"]


def test_an_arc_header_whose_first_byte_the_block_before_ate_is_read_whole(tmp_path: Path) -> None:
    # the ARC format's own hello-world2.arc (richardlehane/webarchive): its filedesc's length counts one byte too
    # many, the 'h' of the next record's URL; that record was read as a 'ttp://...' URL and skipped as not http(s)
    version = b"2 0 AlexaInternet\nURL IP-address Archive-date Content-type Result-code Checksum Location Offset "
    version += b"Filename Archive-length\n\n"
    url = "http://www.dryswamp.edu:80/" + "index" * 8 + ".html"  # a header line longer than the 128 bytes looked at
    path = tmp_path / "hello-world2.arc"
    path.write_bytes(
        b"filedesc://IA-001102.arc 0.0.0.0 19960923142103 text/plain 200 - - 0 IA-001102.arc %d\n" % (len(version) + 1)
        + version
        + arc_record(f"{url} 127.10.100.2 19961104142103 text/html 200 fac069150613fe55599cc7fa88aa089d - 209 x.arc")
    )
    items, summary = read(path)
    assert pages_of(items) == [url] and summary.errors == 0


def test_a_line_of_five_words_between_warc_records_does_not_make_the_file_an_arc(tmp_path: Path) -> None:
    path = tmp_path / "junk.warc"
    path.write_bytes(RECORDS[0] + b"see page 2 of 45\r\n" + RECORDS[1])
    items, summary = read(path)
    assert pages_of(items) == ["https://example.org/0", "https://example.org/1"]
    assert [e.message for e in errors_of(items)] == ["ARC record header has no date"]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("tail", [b"", b"\x00", b"\x28\xb5\x2f\xfd"], ids=["magic", "magic-nul", "magic-twice"])
def test_a_zstandard_warc_that_ends_on_a_frames_magic_number_ends(tmp_path: Path, tail: bytes) -> None:
    """The fuzzer's find: a frame of which nothing can be read (the file ends on its magic number) was opened again
    for ever, a new frame noted each time, until the memory ran out (4.8 GB in a minute). Now the reading ends, the
    records before it read."""
    frames = [zstandard.ZstdCompressor().compress(r) for r in RECORDS]
    path = tmp_path / "ends.warc.zst"
    path.write_bytes(b"".join(frames) + b"\x28\xb5\x2f\xfd" + tail)
    items, summary = read(path)
    assert pages_of(items) == [f"https://example.org/{n}" for n in range(3)]
    assert summary.errors <= 2 and all(e.where.startswith(f"{path}@") for e in errors_of(items))
    alone = tmp_path / "magic.bin"
    alone.write_bytes(b"\x28\xb5\x2f\xfd" + tail)
    assert len(list(read_sources([alone]))) == 1  # a file of a few bytes: one item, whatever it is


def test_a_dictionary_frame_that_holds_no_dictionary_is_one_sentence(tmp_path: Path) -> None:
    """Found by mutating .warc.zst files: a dictionary frame whose bytes claim a zstd dictionary (its magic number)
    but hold none raised zstandard's own error out of the import."""
    junk = b"\x37\xa4\x30\xec" + b"\x01" * 60
    path = tmp_path / "junk-dictionary.warc.zst"
    path.write_bytes(b"\x5d\x2a\x4d\x18" + len(junk).to_bytes(4, "little") + junk + warc_zst(RECORDS, False))
    assert [(e.where, e.message.split(" (")[0]) for e in read_sources([path])] == [
        (f"{path}@0", "unreadable .warc.zst: its dictionary frame holds no zstd dictionary")
    ]


# ----------------------------------------------------------------------------- lengths int() refuses


@pytest.mark.parametrize("length", ["\xb2", "9" * 5000], ids=["superscript-two", "5000-digits"])
def test_a_length_that_is_no_number_costs_its_record_not_the_file(tmp_path: Path, length: str) -> None:
    # str.isdigit() takes '²' (latin-1 0xB2) and 5,000 digits, int() then refused them (ValueError): 'the file
    # cannot be read from here on', every record after it lost
    second = warc_record("https://example.org/1").replace(b"Content-Length: ", b"Content-Length: X", 1)
    warc = tmp_path / "length.warc"
    warc.write_bytes(RECORDS[0] + second.replace(b"Content-Length: X", f"Content-Length: {length}".encode("latin-1")))
    warc.write_bytes(warc.read_bytes() + RECORDS[2])
    arc = tmp_path / "length.arc"
    bad = f"http://example.com/b 1.2.3.4 20080430204826 text/html {length}\n".encode("latin-1") + HTML + b"\n"
    arc.write_bytes(ARC_HEAD + arc_record("http://example.com/a 1.2.3.4 20080430204826 text/html") + bad)
    arc.write_bytes(arc.read_bytes() + arc_record("http://example.com/c 1.2.3.4 20080430204826 text/html"))
    for path, last in ((warc, "https://example.org/2"), (arc, "http://example.com/c")):
        items, summary = read(path)
        assert pages_of(items)[-1] == last and summary.errors == 1
        assert "cannot be read" not in errors_of(items)[0].message


# ----------------------------------------------------------------------------- loops the fuzzer found


def bounded_read(path: Path, most: int = 50) -> list:
    """At most ``most`` items: a reader that loops (yielding the same error for ever) fails here, it does not hang."""
    return list(islice(read_web_archive(path), most))


def test_a_warc_line_longer_than_64_kb_is_read_past(tmp_path: Path) -> None:
    # a first line 'WARC/1.0' and 70,000 spaces was not read (too long), so the resync found it again: the same
    # error for ever, memory growing
    path = tmp_path / "long-line.warc"
    path.write_bytes(b"WARC/1.0" + b" " * 70_000 + b"\r\n" + RECORDS[0])
    items = bounded_read(path)
    assert pages_of(items) == ["https://example.org/0"]
    assert [e.message for e in errors_of(items)] == ["a header line is longer than 64 KB"]


@pytest.mark.timeout(20)
def test_a_warc_gz_that_ends_on_one_stray_byte_ends(tmp_path: Path) -> None:
    # one byte after the last gzip member was too few to tell a gzip header by, and was looked at again for ever
    path = tmp_path / "stray.warc.gz"
    path.write_bytes(b"".join(gzip.compress(r) for r in RECORDS) + b"x")
    items = bounded_read(path)
    assert pages_of(items) == [f"https://example.org/{n}" for n in range(3)]
    assert len(errors_of(items)) == 1


def test_a_cdxj_row_whose_offset_or_length_is_no_number_is_not_fetched() -> None:
    # '²' passes str.isdigit, then int() raised ValueError out of fetch_warc_record: the backfill ended in a traceback
    row = 'org,example)/{} 20200101000000 {{"url": "http://example.org/{}", "status": "200", "filename": "a.warc.gz", '
    sizes = [("\xb2", "90"), ("12", "9" * 5000), ("12", "90")]
    lines = [row.format(n, n) + f'"offset": "{at}", "length": "{size}"}}' for n, (at, size) in enumerate(sizes)]
    rows, _ = parse_cdx("\n".join(lines).encode())
    assert [c.original for c in _new_captures(rows, "http://example.org/*", True, {})] == ["http://example.org/2"]


def test_a_dictionary_frame_declaring_a_terabyte_is_one_sentence(tmp_path: Path) -> None:
    # zstandard's decompress() allocates the content size a frame's header declares: 2**40 bytes, a MemoryError out of
    # the import (found by 30,000 mutations, 11 such files)
    frame = b"\x28\xb5\x2f\xfd\xc0\x00" + (2**40).to_bytes(8, "little") + (1 | 5 << 3).to_bytes(3, "little") + b"x" * 5
    path = tmp_path / "terabyte-dictionary.warc.zst"
    path.write_bytes(b"\x5d\x2a\x4d\x18" + len(frame).to_bytes(4, "little") + frame + warc_zst(RECORDS, False))
    [error] = list(read_web_archive(path))
    assert error.message.startswith("unreadable .warc.zst: its dictionary does not decompress (")


@pytest.mark.timeout(10)
def test_an_arc_line_of_150000_letters_is_read_past_in_linear_time(tmp_path: Path) -> None:
    # the resync to the next ARC header tried its pattern at every byte, each try scanning the rest of the letters:
    # quadratic, 9 s for 70,000 letters, about a minute for these
    path = tmp_path / "letters.arc"
    record = arc_record("http://example.com/a 1.2.3.4 20080430204826 text/html")
    letters = b"http://example.com/" + b"a" * 150_000 + b"\n"
    path.write_bytes(ARC_HEAD + record + letters + record.replace(b"/a ", b"/c "))
    items = bounded_read(path)
    assert pages_of(items) == ["http://example.com/a", "http://example.com/c"]
    assert [e.message for e in errors_of(items)] == ["a header line is longer than 64 KB"]
