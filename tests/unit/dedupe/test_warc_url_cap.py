"""A web archive record's target URL is held to ``MAX_URL_CHARS``, the bound JSON Lines imports have: a longer one
(a hostile record's 60 KB header line) is one ``file@offset`` error line, and the records after it are still read,
in a WARC (gzipped or not), an ARC and a WACZ alike."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from dedupe.document import MAX_URL_CHARS
from dedupe.sources import SourceError, read_sources
from tests.unit.dedupe.test_warc_quirks import A, B, record

SITE = "https://pacsto.org/events/"
LONGEST = SITE + "a" * (MAX_URL_CHARS - len(SITE))  # taken: exactly the bound
HUGE = SITE + "x" * 60_000  # within the 64 KB header line the reader allows
WIDE = SITE + "я" * 3_000  # 3,026 characters, 18,026 once percent-encoded


def read(path: Path) -> tuple[list[str], list[SourceError]]:
    items = list(read_sources([path]))
    return [i.url for i in items if not isinstance(i, SourceError)], [i for i in items if isinstance(i, SourceError)]


def arc_record(url: str, body: bytes) -> bytes:
    block = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    return url.encode() + b" 127.0.0.1 20080301100000 text/html %d\n" % len(block) + block + b"\n"


@pytest.mark.parametrize("form", ["warc", "warc.gz"])
def test_a_target_url_over_the_bound_is_one_error_line_and_the_file_goes_on(tmp_path: Path, form: str) -> None:
    records = [record(SITE + "before"), record(HUGE, B), record(WIDE, B), record(LONGEST), record(SITE + "after", B)]
    path = tmp_path / f"hostile.{form}"
    path.write_bytes(b"".join(gzip.compress(r) for r in records) if form.endswith("gz") else b"".join(records))
    pages, errors = read(path)
    assert pages == [SITE + "before", LONGEST, SITE + "after"]
    offsets = [sum(len(r) for r in records[:i]) for i in (1, 2)]
    if form.endswith("gz"):
        offsets = [sum(len(gzip.compress(r)) for r in records[:i]) for i in (1, 2)]
    assert [e.where for e in errors] == [f"{path}@{offset}" for offset in offsets]
    assert errors[0].message == (
        f"response record's WARC-Target-URI is longer than 8,192 characters (60,026: {HUGE[:80]}...)"
    )
    assert errors[1].message.startswith("response record's WARC-Target-URI is longer than 8,192 characters once ")
    assert all(len(str(e)) < 400 for e in errors)  # the URL's start, never all of it


def test_an_arc_and_a_wacz_hold_their_urls_to_the_same_bound(tmp_path: Path) -> None:
    desc = b"1 0 pa-archive\nURL IP-address Archive-date Content-type Archive-length\n"
    head = b"filedesc://t.arc 0.0.0.0 20080301100000 text/plain %d\n" % len(desc) + desc + b"\n"
    arc = tmp_path / "t.arc"
    arc.write_bytes(head + arc_record(HUGE, B) + arc_record(SITE + "a", A))
    pages, errors = read(arc)
    assert pages == [SITE + "a"]
    assert [e.where for e in errors] == [f"{arc}@{len(head)}"] and "longer than 8,192 characters" in errors[0].message
    wacz = tmp_path / "t.wacz"
    with zipfile.ZipFile(wacz, "w") as zf:
        zf.writestr("archive/data.warc", record(HUGE) + record(SITE + "b", B))
        zf.writestr("datapackage.json", "{}")
    pages, errors = read(wacz)
    assert pages == [SITE + "b"]
    assert [e.where for e in errors] == [f"{wacz}!archive/data.warc@0"]
    assert "longer than 8,192 characters" in errors[0].message
