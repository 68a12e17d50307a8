"""Read web archives (WARC 0.18-1.1, gzipped or not, ARC, WACZ) into observations the archive ingests.

Other tools (Heritrix, Browsertrix, ArchiveWeb.page, ``wget --warc-file``, pywb, Common Crawl)
keep what they fetched in WARC files; this module turns their records into ``RawSnapshot`` items
so they take the same path as a crawl or an import:

- a ``response`` (or a ``resource`` holding HTML) is an observation: WARC-Target-URI (userinfo
  removed), WARC-Date, HTTP status and headers (without Set-Cookie, names as written), the
  payload with its transfer and content encodings undone as the raw content;
- a ``revisit`` (any profile: WARC 0.18, 1.0, 1.1, URI-agnostic) is the content it refers to,
  seen again: the referred payload found earlier in the same file, by WARC-Refers-To, payload
  digest (any spelling: ``sha1:`` base32 or hex, ``sha256``/``sha-256``) or target URI and
  date; a revisit of a record skipped (not HTML, a redirect), or whose own HTTP headers say so, is skipped
  alike; otherwise, when it is not in the file, a 304 without a body re-links the URL's latest stored content
  (as does a server-not-modified revisit, so that an export reads back as it was);
- ``request``, ``metadata``, ``warcinfo``, DNS and non-HTML records are skipped and counted; NUL padding
  between records is read past and its size told once.

Why a reader of its own (warcio is still used to write): files written by other tools are
damaged and odd in ways a strict reader refuses, and one refusal used to lose the whole file or
batch. Here every record is framed by its own Content-Length, so:

- one bad record (no target URI, a header line of garbage, a digest that fails, a payload cut
  short) is one ``SourceError`` naming ``file@offset`` (the record's byte offset; in a gzipped
  file, the offset of the gzip member it starts in) and reading goes on after it, re-finding
  the next ``WARC/`` line when the framing itself is broken;
- a Content-Length far too long no longer swallows the records after it: when a record header starts inside
  the block and the block then runs past the file's end, or into bytes that are not a record, or its HTTP body
  ends at that header by its own Content-Length, reading goes back to that header (from what is buffered, or by
  seeking the file or zip member back) and the damaged record is one ``SourceError`` saying so, unless its HTTP body
  was whole before that header (then it is kept, and the summary notes it); a record that merely holds a WARC
  file as its payload is read as it is;
- everything is bounded while it streams: header lines and blocks, and payloads by the crawl's
  ``DOWNLOAD_MAXSIZE`` (``dedupe.bounded``) after gzip members, chunked transfer and
  Content-Encoding (gzip, deflate, br) are undone; a record over it is one line and skipped,
  and a skipped record (over the cap, or not HTML) is read past, never held in memory;
- a WARC-Date is read leniently (any ISO 8601 precision, WARC 0.18's forms); a record whose
  date is unusable takes the file's warcinfo date (else the file's time) and the summary says so.

"Truncated" means the transfer says so: the block or the HTTP Content-Length is longer than
what the file holds, a digest fails, a gzip stream ends early, or the crawler wrote
WARC-Truncated. A page that never closes ``</html>`` is complete.

Re-reading the same file yields the same observations, which the archive recognises (same URL,
time and content) and does not store again.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import zstandard

from .. import bounded
from ..document import RawSnapshot, SourceError, utc_iso
from .warc_records import READ_ERRORS, ReadSummary, RecordReader, one_line, printable
from .warc_stream import MAX_LINE, ZSTD_MAGIC, Damaged, ZstdFrames

MAX_WACZ_DEPTH = 3  # a WACZ inside a WACZ inside a WACZ, no deeper
WACZ_MEMBER_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
WACZ_PAGE_LISTS = ("pages/pages.jsonl", "pages/extraPages.jsonl")
# A member that expands more than this many times, to more than MAX_BOMB_FREE bytes, is not read: a WARC's text
# deflates 5-20 times; 1 MB of deflated NULs makes 1 GB (seconds of reading for nothing).
MAX_MEMBER_RATIO = 100
MAX_BOMB_FREE = 64 * 2**20
ZSTD_DICT_MAGIC = b"\x5d\x2a\x4d\x18"  # the skippable frame (0x184D2A5D) a .warc.zst keeps its dictionary in
MAX_ZSTD_DICT = 16 * 2**20  # a .warc.zst's dictionary (ArchiveTeam's are a few hundred KB)


# ----------------------------------------------------------------------------- detection


def sniff(head: bytes) -> str | None:
    """'warc', 'arc' or 'wacz' from a file's first bytes (None: not a web archive).

    Told by content, like every other input: a gzip member is opened to look for 'WARC/' or an
    ARC header, a zip for an ``archive/`` folder of WARCs or WACZs inside it (``is_wacz``)."""
    if head[:5].upper() == b"WARC/":  # 'warc/1.0' too: some writers lower-case every header
        return "warc"
    if head.startswith(b"filedesc://"):
        return "arc"
    if head.startswith(b"PK\x03\x04"):
        return "wacz"
    if head.startswith(b"\x1f\x8b"):
        try:
            inner = _gunzip_head(head)
        except zlib.error:
            return None
        return sniff(inner) if not inner.startswith(b"\x1f\x8b") else None
    return None


# A CDX index's first line: its legend (' CDX N b a m s k r M S V g'), ipwb's '!context'/'!meta', or a capture
# (SURT key, 14-digit timestamp, then the URL of a CDX line or the JSON of a CDXJ line).
_CDX_INDEX = re.compile(
    rb"\s*(?:CDX(?: [A-Za-z]){3,}\s*\n|!(?:context|meta) |\S+ \d{14} (?:\{|[A-Za-z][A-Za-z0-9+.-]*:\S* ))"
)


def is_cdx_index(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a CDX or CDXJ index (pywb, OpenWayback, ipwb, cdxj-indexer): it
    lists captures and where their records are, and holds no page, so it is not imported as a text page."""
    return bool(_CDX_INDEX.match(head[:4096]))


def _gunzip_head(head: bytes) -> bytes:
    """The first decompressed bytes of a gzip stream of which only the start is at hand."""
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)


def is_wacz(path: Path | IO[bytes]) -> bool:
    """A zip holding at least one archive/*.warc[.gz] member, or WACZ files (a multi-WACZ)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(_is_wacz_member(n) or n.lower().endswith(".wacz") for n in zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def looks_like_wacz(path: Path) -> bool:
    """A zip named .wacz or holding a WACZ's datapackage.json: told "not a WACZ" when it has no archive/ folder,
    rather than "binary content" as any other zip."""
    if path.suffix.lower() == ".wacz":
        return True
    try:
        with zipfile.ZipFile(path) as zf:
            return "datapackage.json" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False


def _is_wacz_member(name: str) -> bool:
    return name.startswith("archive/") and name.lower().endswith(WACZ_MEMBER_SUFFIXES)


def open_zstd(raw: IO[bytes]) -> ZstdFrames:
    """The decompressed bytes of a .warc.zst (IIPC's Zstandard WARC, written by ArchiveTeam's wget-at and Zeno): a
    frame a record, after an optional skippable frame holding the dictionary every frame was compressed with (itself
    zstd-compressed or not). ValueError of one sentence when the dictionary cannot be read."""
    head = raw.read(8)
    params = {}
    start = 0
    if head[:4] == ZSTD_DICT_MAGIC:
        size = int.from_bytes(head[4:8], "little")
        if size > MAX_ZSTD_DICT:
            raise ValueError(f"its dictionary frame is larger than {MAX_ZSTD_DICT // 2**20} MB")
        data = raw.read(size)
        if len(data) < size:
            raise ValueError("the file ends inside its dictionary frame")
        if data.startswith(ZSTD_MAGIC):
            data = _unpack_dictionary(data)
        params["dict_data"] = zstandard.ZstdCompressionDict(data)
        start = 8 + size
    try:
        decompressor = zstandard.ZstdDecompressor(**params)  # the dictionary is read here
    except zstandard.ZstdError as exc:
        raise ValueError(f"its dictionary frame holds no zstd dictionary ({one_line(exc)})") from None
    frames = ZstdFrames(raw, decompressor, start)
    if not start:
        frames.cdata = head  # read back from the start: no dictionary frame
    return frames


def _unpack_dictionary(data: bytes) -> bytes:
    """A dictionary frame's zstd-compressed dictionary, at most ``MAX_ZSTD_DICT`` bytes of it: read as a stream, since
    ``decompress`` first allocates the size the frame's header declares (up to 2**64 bytes: a MemoryError)."""
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=False)
    try:
        return bounded.read_capped(reader, MAX_ZSTD_DICT, "its dictionary")
    except zstandard.ZstdError as exc:
        raise ValueError(f"its dictionary does not decompress ({one_line(exc)})") from None


def _is_zstd(head: bytes) -> bool:
    return head.startswith((ZSTD_MAGIC, ZSTD_DICT_MAGIC))


def detect(path: Path) -> str | None:
    """'warc', 'arc' or 'wacz' when ``path`` is a web archive, told by its content (a .warc.zst by its first record)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4096)
            if head.startswith(ZSTD_DICT_MAGIC):
                return "warc"  # the frame IIPC's Zstandard WARC keeps its dictionary in: read (or refused) as one
            if head.startswith(ZSTD_MAGIC):
                handle.seek(0)
                inner = open_zstd(handle).read(64)  # Damaged: not a .warc.zst worth reading
                return "warc" if sniff(inner) in ("warc", "arc") and inner[:1] != b"\x1f" else None
            kind = sniff(head)
    except (OSError, ValueError, zstandard.ZstdError, Damaged):
        return None
    if kind == "wacz" and not is_wacz(path) and not looks_like_wacz(path):
        return None
    return kind


# ----------------------------------------------------------------------------- reading files


def read_web_archive(
    path: Path, summaries: list[ReadSummary] | None = None, cap: int | None = None
) -> Iterator[RawSnapshot | SourceError]:
    """Every observation (or bad record) in a WARC, ARC or WACZ file; its summary appended at the end."""
    cap = bounded.body_cap(cap)
    where = printable(str(path))
    try:
        fallback = utc_iso(datetime.fromtimestamp(path.stat().st_mtime, timezone.utc))
    except (OSError, ValueError, OverflowError):
        fallback = None
    kind = detect(path)
    if kind == "wacz":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            yield SourceError(f"{where}@0", f"unreadable WACZ ({one_line(exc)})")
            return
        if not is_wacz(path):
            zf.close()
            yield SourceError(f"{where}@0", "not a WACZ (no archive/ folder of WARC files)")
            return
        with zf:
            yield from _read_zip(zf, where, summaries, cap, fallback, 1)
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield SourceError(f"{where}@0", exc.strerror or str(exc))
        return
    with handle:
        stream: IO[bytes] = handle
        if _is_zstd(handle.read(4)):
            handle.seek(0)
            try:
                stream = open_zstd(handle)
            except (OSError, ValueError) as exc:
                yield SourceError(f"{where}@0", f"unreadable .warc.zst: {one_line(exc)}")
                return
        else:
            handle.seek(0)
        yield from read_stream(stream, where, "warc", summaries, cap, fallback)


def _read_zip(
    zf: zipfile.ZipFile, where: str, summaries: list | None, cap: int, fallback: str | None, depth: int
) -> Iterator[RawSnapshot | SourceError]:
    """The WARCs of a WACZ (``archive/``), the WACZs inside it (a multi-WACZ), its page lists."""
    for info in sorted(zf.infolist(), key=lambda i: i.filename):
        name = info.filename
        here = f"{where}!{printable(name)}"
        lower = name.lower()
        if _is_bomb(info):
            yield SourceError(
                f"{here}@{info.header_offset}",
                f"member expands {info.file_size // max(info.compress_size, 1):,} times, to {info.file_size:,} bytes "
                "(a decompression bomb): not read",
            )
            continue
        try:
            if lower.endswith(".wacz"):
                if depth >= MAX_WACZ_DEPTH:
                    yield SourceError(f"{here}@{info.header_offset}", f"WACZ nested deeper than {MAX_WACZ_DEPTH}")
                    continue
                with zf.open(info) as member, zipfile.ZipFile(member) as inner:
                    yield from _read_zip(inner, here, summaries, cap, fallback, depth + 1)
            elif _is_wacz_member(name):
                with zf.open(info) as member:
                    yield from read_stream(member, here, "wacz", summaries, cap, fallback)
            elif name in WACZ_PAGE_LISTS:
                with zf.open(info) as member:
                    yield from _read_pages(member, here, summaries)
        except READ_ERRORS as exc:
            yield SourceError(f"{here}@{info.header_offset}", f"unreadable member ({one_line(exc)})")


def _is_bomb(info: zipfile.ZipInfo) -> bool:
    """A member far larger than what it compresses from (zipfile never reads past its declared size)."""
    return info.file_size > MAX_BOMB_FREE and info.file_size > MAX_MEMBER_RATIO * info.compress_size


def _read_pages(handle: IO[bytes], where: str, summaries: list | None) -> Iterator[SourceError]:
    """A WACZ page list (``pages.jsonl``): counted, and each line checked; a bad line is one error."""
    summary = ReadSummary(where)
    offset = 0
    for number, line in bounded.bounded_lines(handle, MAX_LINE):
        at = offset
        offset += len(line or b"")
        if line is None:
            summary.errors += 1
            yield SourceError(f"{where}@{at}", f"line {number} is longer than {MAX_LINE // 1024} KB")
            continue
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            summary.errors += 1
            yield SourceError(f"{where}@{at}", f"line {number} is not JSON")
            continue
        if isinstance(entry, dict) and "url" in entry:
            summary.pages_listed += 1
        elif not (isinstance(entry, dict) and "format" in entry):  # the first line is the list's header
            summary.skipped["not a page"] += 1
    if summaries is not None:
        summaries.append(summary)


def read_stream(
    handle: IO[bytes],
    where: str,
    source: str = "warc",
    summaries: list[ReadSummary] | None = None,
    cap: int | None = None,
    fallback_date: str | None = None,
) -> Iterator[RawSnapshot | SourceError]:
    """The records of one WARC/ARC stream (gzipped or not) as observations; see the module's doc."""
    reader = RecordReader(handle, where, source, bounded.body_cap(cap), fallback_date)
    try:
        yield from reader.records()
    finally:
        if summaries is not None:
            summaries.append(reader.summary)
