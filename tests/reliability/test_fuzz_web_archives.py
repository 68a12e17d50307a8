"""Fuzzing the web-archive readers (issues 18 and 20): mutations of real records (cut, flipped bytes,
repeated header lines, lowercase names, bad dates, garbage) in WARC, ARC and WACZ files, CDX answers
(JSON and text) and WACZ page lists. Whatever comes in: no traceback, every reader error is one
``SourceError`` line naming ``file@offset`` (offset >= 0), or for a CDX answer one ValueError sentence.

CI runs ``CI_EXAMPLES`` examples a target; ``PA_FUZZ_EXAMPLES=10000`` is the dedicated run.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path

import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe.document import RawSnapshot
from dedupe.sources import SourceError
from dedupe.webarchive import backfill as bf
from dedupe.webarchive.warc import _read_pages, read_web_archive

CI_EXAMPLES = 150
EXAMPLES = int(os.environ.get("PA_FUZZ_EXAMPLES", CI_EXAMPLES))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= CI_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
SAMPLES = Path(__file__).parents[1] / "fixtures" / "pywb-sample-archive"
SEED_FILES = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".warc", ".arc") or p.name.endswith(".gz"))
WHERE = re.compile(r"@\d+$")
HEADER_LINES = [
    b"WARC-Date: 2008-10-294T05:21:46-0700\r\n",
    b"WARC-Date: yesterday\r\n",
    b"warc-type: response\r\n",
    b"WARC-Target-URI: \r\n",
    b"Content-Length: -5\r\n",
    b"Content-Length: 99999999999\r\n",
    b"content-type: text/html; charset=utf-8\r\n",
    b"Content-Encoding: br\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"WARC-Payload-Digest: sha1:AAAA\r\n",
    b"WARC-Refers-To: <urn:uuid:x>\r\n",
    b"\x1b[2K\r\n",
]


def _plain(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


SEEDS = [_plain(p) for p in SEED_FILES]


@st.composite
def mutated(draw) -> bytes:
    """A real file, decompressed, then mutated the ways damaged archives are."""
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cut", "flip", "repeat", "lower", "insert", "garbage"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "cut":
            del data[at:]
        elif kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "repeat":
            end = data.find(b"\n", at)
            if end > 0:
                start = data.rfind(b"\n", 0, at) + 1
                data[start:start] = data[start : end + 1] * draw(st.integers(1, 3))
        elif kind == "lower":
            data[at : at + 200] = bytes(data[at : at + 200]).lower()
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(HEADER_LINES))
        else:
            data[at:at] = draw(st.binary(max_size=64))
    return bytes(data)


def _check(items: list) -> None:
    for item in items:
        assert isinstance(item, (RawSnapshot, SourceError))
        if isinstance(item, SourceError):
            assert WHERE.search(item.where), item
            assert "\n" not in item.message and "Traceback" not in item.message


def _read(data: bytes, name: str) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        return list(read_web_archive(path))


@FUZZ
@given(mutated(), st.sampled_from(["plain", "gzip-per-record", "gzip-one-member"]))
def test_fuzz_warc_and_arc_reader(data: bytes, packing: str) -> None:
    if packing == "gzip-one-member":
        data = gzip.compress(data)
    elif packing == "gzip-per-record":
        parts = re.split(rb"(?=WARC/1\.|WARC/0\.)", data)
        data = b"".join(gzip.compress(p) for p in parts if p)
        data = data[: len(data) - (len(data) % 7 if len(data) % 3 == 0 else 0)]  # sometimes cut the last member
    _check(_read(data, "fuzz.warc.gz" if packing != "plain" else "fuzz.warc"))


ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
ZSTD_DICTIONARY = zstandard.train_dictionary(
    1024, [bytes(s).replace(b"2019", b"%d" % year) for year in range(1990, 2030) for s in SEEDS[:4]]
)


@FUZZ
@given(
    mutated(),
    st.booleans(),
    st.lists(
        st.tuples(
            st.one_of(st.just(-1), st.integers(0, 10**6)),  # -1: at the end of the file
            st.one_of(st.sampled_from([ZSTD_MAGIC, ZSTD_MAGIC + b"\x00", b"\x00" * 3]), st.binary(max_size=8)),
        ),
        max_size=3,
    ),
)
def test_fuzz_zstandard_warc_reader(data: bytes, with_dictionary: bool, damage: list[tuple[int, bytes]]) -> None:
    """A .warc.zst (a frame a record, a dictionary frame in front or none), then damaged after compression: bytes
    cut or inserted where a frame's bytes, its magic number or the file's end are (a frame that could not be read
    was once opened again for ever)."""
    parts = [p for p in re.split(rb"(?=WARC/1\.|WARC/0\.)", data) if p]
    compressor = zstandard.ZstdCompressor(dict_data=ZSTD_DICTIONARY) if with_dictionary else zstandard.ZstdCompressor()
    packed = bytearray(b"".join(compressor.compress(p) for p in parts))
    for at, insert in damage:
        at = len(packed) if at < 0 else at % (len(packed) + 1)
        packed[at : at + (0 if insert else 1 + at % 5)] = insert or b""
    if with_dictionary:
        head = ZSTD_DICTIONARY.as_bytes()
        packed[0:0] = b"\x5d\x2a\x4d\x18" + len(head).to_bytes(4, "little") + head
    _check(_read(bytes(packed), "fuzz.warc.zst"))


@FUZZ
@given(mutated(), st.integers(0, 3), st.sampled_from(["stored", "deflated"]))
def test_fuzz_wacz_reader(data: bytes, damage: int, method: str) -> None:
    buffer = io.BytesIO()
    compress = zipfile.ZIP_STORED if method == "stored" else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(buffer, "w", compression=compress) as zf:
        zf.writestr("archive/data.warc", data)
        zf.writestr("pages/pages.jsonl", b'{"format": "json-pages-1.0"}\n{"url": "https://pacsto.org/"}\n[1]\n{\n')
        zf.writestr("datapackage.json", b"{}")
    raw = bytearray(buffer.getvalue())
    if damage == 1:  # bad CRC / corrupt member data
        at = raw.find(b"WARC")
        if at > 0:
            raw[at + 10 : at + 14] = b"\x00\xff\x00\xff"
    elif damage == 2:  # an unknown compression method
        raw[8:10] = b"\x63\x00"
    elif damage == 3:  # "encrypted" flag on the first member
        raw[6] |= 1
    _check(_read(bytes(raw), "fuzz.wacz"))


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=10),
            lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=5),
            max_leaves=20,
        ).map(lambda v: __import__("json").dumps(v).encode()),
        st.lists(st.text(max_size=30), max_size=5).map(lambda lines: "\n".join(lines).encode()),
    )
)
def test_fuzz_cdx_answers(answer: bytes) -> None:
    try:
        rows, resume = bf.parse_cdx(answer)
    except ValueError as exc:
        assert "\n" not in str(exc)
        return
    assert all(isinstance(r, dict) and all(isinstance(v, str) for v in r.values()) for r in rows)
    assert resume is None or isinstance(resume, str)


@FUZZ
@given(st.lists(st.one_of(st.binary(max_size=80), st.sampled_from([b'{"url": "x"}', b"[1]", b"{"])), max_size=8))
def test_fuzz_wacz_page_lists(lines: list[bytes]) -> None:
    summaries: list = []
    items = list(_read_pages(io.BytesIO(b"\n".join(lines)), "x.wacz!pages/pages.jsonl", summaries))
    _check(items)
    assert len(summaries) == 1
