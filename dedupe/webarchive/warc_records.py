"""One WARC or ARC stream's records as observations: framing, damage, revisits, the summary.

``dedupe.webarchive.warc`` finds the streams in a file (a WARC, an ARC, the members of a WACZ) and hands each
to ``RecordReader``; what a record becomes, and why a reader of its own, is told in ``dedupe.webarchive.warc``'s
docstring. Here: each record framed by its own Content-Length (re-found by its ``WARC/`` line when
the framing is broken), one bad record one ``SourceError`` naming ``file@offset``, revisits resolved
from the payloads seen earlier in the same stream (``PayloadCache``, bounded), and everything
bounded while it streams (``dedupe.bounded``).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO
from urllib.parse import urlsplit

import zstandard

from .. import bounded
from ..document import MAX_URL_CHARS, RawSnapshot, SourceError, check_url, strip_userinfo
from ..headers import Headers, charset_of, media_type
from ..pages import page_kind, says_removed
from .warc_stream import MAX_LINE, digest_key, parse_digest, starts_record, warc_date
from .warc_stream import Block as _Block
from .warc_stream import Damaged as _Damaged
from .warc_stream import Input as _Input

HTML_TYPES = {"text/html", "application/xhtml+xml", "text/plain"}
MAX_HEADER_BLOCK = 1024 * 1024  # a record's WARC headers, or its HTTP headers, in all
MAX_REVISIT_BYTES = 64 * 2**20  # payload bytes (and their bookkeeping) kept to resolve revisits in one file
MAX_REVISIT_ENTRIES = 20_000
ENTRY_OVERHEAD = 1024  # bytes of memory an entry costs besides its payload and headers
PARTIAL_STATUSES = frozenset({204, 205, 206})
# What reading a file, or a member of a zip, can raise besides a bad record: the stream ends there.
READ_ERRORS = (
    zipfile.BadZipFile,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    zlib.error,
    zstandard.ZstdError,  # a .warc.zst's frames
)
MAX_JUNK = 64  # stray bytes between two records read past as a note, not a bad record
_SIZE = re.compile(r"[0-9]{1,18}")  # a length: 10**18 bytes is past any file


@dataclass
class ReadSummary:
    """What one web archive file held: observations passed on and records skipped, by reason."""

    where: str
    observations: int = 0
    revisits: int = 0
    skipped: Counter = field(default_factory=Counter)
    errors: int = 0
    dated_by_file: int = 0
    pages_listed: int = 0
    notes: Counter = field(default_factory=Counter)  # quirks read past, e.g. a stale Content-Encoding
    padding: int = 0  # NUL bytes read past between records (a file padded to a block size, a disk's zeros)
    refused: int = 0  # observations read whole whose page the archive then refused (binary, no charset...)

    def __str__(self) -> str:
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
        notes = ""
        if self.dated_by_file:
            notes += f"; {self.dated_by_file} record(s) dated by the file (their WARC-Date is unusable)"
        if self.notes:
            notes += "; " + ", ".join(f"{n} {why}" for why, n in sorted(self.notes.items()))
        if self.padding:
            notes += f"; {self.padding:,} bytes of padding skipped"
        if self.pages_listed:
            notes += f"; {self.pages_listed} page(s) in its page list"
        refused = f", {self.refused} of them refused (see the errors)" if self.refused else ""
        return (
            f"{self.where}: {self.observations} observation(s) ({self.revisits} revisit(s)){refused}, "
            f"{sum(self.skipped.values())} record(s) skipped{' (' + skipped + ')' if skipped else ''}, "
            f"{self.errors} bad record(s){notes}"
        )


def size_of(text: str | None) -> int | None:
    """A length field (Content-Length, an ARC header's last field) as a number, else None: ASCII digits only, at most
    18 of them. ``str.isdigit`` also takes '²' (latin-1 0xB2) and any number of digits, which ``int`` then refuses
    (ValueError, past 4,300 digits too), and that ended the reading of the whole file instead of costing one record."""
    text = (text or "").strip()
    return int(text) if _SIZE.fullmatch(text) else None


def _whole_by_content_length(raw: bytes, http: Headers) -> bytes | None:
    """An HTTP body cut to its Content-Length when it holds all of it, and nothing after it but the record
    separator's blank lines (not chunked); else None."""
    size = size_of(http.get("Content-Length"))
    if size is None or "chunked" in (http.get("Transfer-Encoding") or "").lower():
        return None
    return raw[:size] if len(raw) >= size and not raw[size:].strip() else None


def printable(text: str) -> str:
    """``text`` with control, format (bidi) and other unprintable characters escaped: safe to print and store."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def one_line(exc: BaseException) -> str:
    return printable(" ".join(str(exc).split())[:160]) or type(exc).__name__


class _RecordError(Exception):
    """One record is bad (the message names it); ``resync`` when its framing cannot be trusted."""

    def __init__(self, message: str, resync: bool = False, junk: bool = False) -> None:
        super().__init__(message)
        self.resync, self.junk = resync, junk


class _Skipped(Exception):
    """A record that is no observation, for a reason the summary counts (not an error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _target_url(rec_type: str, warc: Headers) -> str:
    """The record's http(s) URL without userinfo; _Skipped for DNS and other schemes, a bad record for an
    http(s) URL that is not one (a port out of range, an unclosed IPv6 bracket, no host) or is longer than
    ``MAX_URL_CHARS``, the bound of every URL the archive stores (a header line alone may hold 64 KB of it)."""
    raw_url = (warc.get("WARC-Target-URI") or "").strip().strip("<>").strip()
    if not raw_url:
        raise _RecordError(f"{rec_type} record has no WARC-Target-URI")
    if raw_url.lower().startswith(("dns:", "whois:")):
        raise _Skipped("dns")
    if not raw_url.lower().startswith(("http://", "https://")):
        raise _Skipped("not http(s)")
    if len(raw_url) > MAX_URL_CHARS:
        raise _RecordError(_too_long(rec_type, raw_url))
    try:
        url = check_url(strip_userinfo(raw_url))
        valid = bool(urlsplit(url).hostname)
    except ValueError:
        valid = False
    if not valid:
        raise _RecordError(f"{rec_type} record's WARC-Target-URI is an invalid URL ({printable(raw_url[:200])})")
    if len(url) > MAX_URL_CHARS:  # percent-encoding made it longer
        raise _RecordError(_too_long(rec_type, raw_url, " once percent-encoded"))
    return url


def _too_long(rec_type: str, raw_url: str, how: str = "") -> str:
    """The sentence for a target URL over ``MAX_URL_CHARS``: its length and its start, never all of it."""
    return (
        f"{rec_type} record's WARC-Target-URI is longer than {MAX_URL_CHARS:,} characters{how} "
        f"({len(raw_url):,}: {printable(raw_url[:80])}...)"
    )


def _arc_date_field(fields: list[str], in_arc: bool) -> int | None:
    """Where the date is in an ARC header line's fields: the first of 12-14 digits after the URL and IP address
    (a URL may hold spaces); else, in an ARC file (``in_arc``: a header was read before), in a line of ARC v1's
    5 fields (URL IP date type length) or v2's 10 whose first is a URL, the third: an unusable date (Heritrix wrote
    ``null``) that the file's date then stands for, as for a WARC record."""
    found = next((i for i in range(2, len(fields) - 1) if re.fullmatch(r"\d{12,14}", fields[i])), None)
    a_url = re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", fields[0]) is not None
    return 2 if found is None and in_arc and a_url and len(fields) in (5, 10) else found


def _declared_type(rec_type: str, warc: Headers, http: Headers, arc: bool) -> str:
    """The payload's media type as declared (HTTP's, else the record's for a resource or an ARC record);
    _Skipped when it is declared and not HTML."""
    mime = media_type(http.get("Content-Type") or "")
    if not mime and (rec_type == "resource" or arc):
        mime = media_type(warc.get("Content-Type") or "")
    if mime and mime not in HTML_TYPES:
        raise _Skipped("not HTML")
    return mime


class RecordReader:
    """The records of one stream: framing, errors by offset, revisits, the summary."""

    def __init__(self, handle: IO[bytes], where: str, source: str, cap: int, fallback: str | None) -> None:
        self.handle, self.where, self.source, self.cap = handle, where, source, cap
        self.fallback = fallback
        self.file_date: str | None = None  # the first warcinfo's (or ARC filedesc's) date
        self.kind = "warc"  # 'arc' once an ARC header was read: a bad record is then read past to the next ARC header
        self.summary = ReadSummary(where)
        self.payloads = PayloadCache(MAX_REVISIT_BYTES, MAX_REVISIT_ENTRIES)
        # why each record read earlier was skipped (not HTML, HTTP 302...): its revisits are skipped alike
        self.skips = PayloadCache(MAX_REVISIT_ENTRIES * ENTRY_OVERHEAD * 2, MAX_REVISIT_ENTRIES)

    def records(self) -> Iterator[RawSnapshot | SourceError]:
        try:
            stream = _Input(self.handle)
        except READ_ERRORS as exc:
            self.summary.errors += 1
            yield SourceError(f"{self.where}@0", f"unreadable ({one_line(exc)})")
            return
        offset, failed_at = 0, -1
        while True:
            try:
                stream.skip_blank()
                if not stream.available(1):
                    offset = stream.tell()
                    break
                offset, start = stream.tell(), stream.base + stream.pos
                item = self._record(stream)
            except _RecordError as exc:
                found = self._resync(stream) if exc.resync else True
                if exc.junk and found and stream.base + stream.pos - start <= MAX_JUNK:
                    # a few stray bytes between records (a Content-Length off by some): nothing was lost
                    self.summary.notes["stray bytes between records"] += 1
                    continue
                self.summary.errors += 1
                failed_at = offset
                yield SourceError(f"{self.where}@{offset}", str(exc))
                if not found:
                    break
                continue
            except _Damaged as exc:
                self.summary.errors += 1
                at = offset if exc.offset is None else exc.offset
                yield SourceError(f"{self.where}@{at}", f"unreadable record: {exc}; reading goes on after it")
                continue
            except READ_ERRORS as exc:  # the file (or zip member) itself cannot be read on
                self.summary.errors += 1
                yield SourceError(f"{self.where}@{offset}", f"the file cannot be read from here on ({one_line(exc)})")
                break
            if isinstance(item, RawSnapshot):
                item.locator = f"{self.where}@{offset}"  # a page refused later (its charset...) is named by it
            if item is not None:
                yield item
        self.summary.padding = stream.padding
        if stream.cut and failed_at != offset:
            self.summary.errors += 1
            yield SourceError(f"{self.where}@{offset}", "the file ends inside a gzip member (it was cut short)")

    def _resync(self, stream: _Input) -> bool:
        try:
            return stream.resync(self.kind)
        except _Damaged:
            return not stream.eof

    # --- one record

    def _record(self, stream: _Input) -> RawSnapshot | SourceError | None:
        first = stream.readline(MAX_LINE)
        if first is None:  # not read: its first byte is stepped past, or the resync finds this same line for ever
            stream.read(1)
            raise _RecordError(f"a header line is longer than {MAX_LINE // 1024} KB", resync=True)
        if first[:5].upper() == b"WARC/":  # 'warc/1.0' too
            return self._warc_record(stream)
        return self._arc_record(stream, first)

    def _header_block(self, stream: _Input | _Block, what: str) -> list[tuple[str, str]]:
        """Name: value lines up to an empty line (continuations folded), bounded in lines and bytes."""
        pairs: list[tuple[str, str]] = []
        total = 0
        while True:
            line = stream.readline(MAX_LINE)
            if line is None:
                raise _RecordError(f"a {what} header line is longer than {MAX_LINE // 1024} KB", resync=True)
            total += len(line)
            if total > MAX_HEADER_BLOCK:
                raise _RecordError(f"{what} headers are longer than {MAX_HEADER_BLOCK // 1024} KB", resync=True)
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if not text.strip():
                return pairs
            if text[:1] in (" ", "\t") and pairs:
                pairs[-1] = (pairs[-1][0], f"{pairs[-1][1]} {text.strip()}")
            elif ":" in text:
                name, _, value = text.partition(":")
                pairs.append((name.strip(), value.strip()))
            if not line.endswith(b"\n"):  # the stream (or the block) ended inside the headers
                if what == "HTTP":
                    return pairs  # the block ends with its HTTP headers (no empty line): nothing is missing
                raise _RecordError(f"the record ends inside its {what} headers", resync=True)

    def _warc_record(self, stream: _Input) -> RawSnapshot | SourceError | None:
        warc = Headers(self._header_block(stream, "WARC"))
        length = size_of(warc.get("Content-Length"))
        if length is None:
            raise _RecordError("record has no valid Content-Length", resync=True)
        block_digest = parse_digest(warc.get("WARC-Block-Digest"))
        block = _Block(stream, length, block_digest[0] if block_digest else None, "warc")
        rec_type = (warc.get("WARC-Type") or "").strip().lower()
        date_text = warc.get("WARC-Date") or ""
        if rec_type == "warcinfo":
            self.file_date = self.file_date or warc_date(date_text)
        item, failure = None, None
        try:
            item = self._observation(rec_type, warc, block, date_text)
        except _RecordError as exc:
            failure = exc
        finally:
            block.drain(keep_hashing=block.hasher is not None)
        if self._overran(stream, block, warc, item, item is None and failure is None):
            return self._counted(item, rec_type == "revisit")  # its HTTP body was whole: kept, with a note
        if failure is not None:
            raise failure
        if block.missing:
            return self._bad(warc, f"is truncated ({block.missing} bytes missing)")
        if block_digest and block.hasher is not None and block.hasher.digest() != block_digest[1]:
            return self._bad(warc, "fails its digest (WARC-Block-Digest)")
        return self._counted(item, rec_type == "revisit")

    def _overran(
        self, stream: _Input, block: _Block, warc: Headers, item: RawSnapshot | None, skipped: bool = False
    ) -> bool:
        """When the record's length is too long (``_Block.overrun``): reading goes back to the record it ran into,
        and the record is kept only when its HTTP body was whole by its Content-Length before that record's
        header (True, with a note); a record skipped anyway (``skipped``: a request, not HTML...) is a note too;
        else it is a bad record, told in words. False: the record's length is right."""
        boundary = block.overrun()
        if boundary is None:
            return False
        rewound = stream.rewind(boundary)
        if rewound and (skipped or (block.salvaged and isinstance(item, RawSnapshot))):
            what = "skipped record(s)" if skipped else "record(s) kept (HTTP body whole)"
            self.summary.notes[f"{what} whose Content-Length ran into the next record (read on from it)"] += 1
            return True
        if isinstance(item, RawSnapshot):
            self.payloads.forget(item.url, item.observed_at)
        url = printable(strip_userinfo((warc.get("WARC-Target-URI") or "").strip("<> "))) or "a record"
        length = f"its Content-Length ({block.length:,} bytes)"
        if not rewound:
            raise _RecordError(
                f"record of {url} is damaged: {length} runs into the next record, which cannot be read again "
                "here (the records it overlaps are lost); reading goes on at the next record header",
                resync=True,
            )
        where = stream.tell()
        raise _RecordError(
            f"record of {url} is damaged: {length} runs past its end into the next record (at offset {where}); "
            "it is not imported, and reading goes on from that record"
        )

    def _counted(self, item: RawSnapshot | None, revisit: bool) -> RawSnapshot | None:
        """``item``, counted once it passed every check of its record (a revisit that fails its digest is a
        bad record only, not an observation too)."""
        if item is not None:
            self.summary.observations += 1
            self.summary.revisits += revisit
        return item

    def _bad(self, warc: Headers, what: str) -> None:
        url = printable(strip_userinfo((warc.get("WARC-Target-URI") or "").strip("<> "))) or "a record"
        raise _RecordError(f"payload of {url} {what}" if "digest" not in what else f"record of {url} {what}")

    def _arc_record(self, stream: _Input, line: bytes) -> RawSnapshot | SourceError | None:
        fields = line.decode("latin-1").split()
        if len(fields) < 5 or size_of(fields[-1]) is None:
            raise _RecordError("not a WARC or ARC record header", resync=True, junk=True)
        at = _arc_date_field(fields, in_arc=self.kind == "arc")
        if at is None:
            raise _RecordError("ARC record header has no date", resync=True)
        self.kind = "arc"
        url = " ".join(fields[: at - 1])  # an ARC URL may hold spaces: everything before the IP address
        date_text, mime = fields[at], fields[at + 1] if at + 1 < len(fields) - 1 else ""
        block = _Block(stream, size_of(fields[-1]) or 0, None, "arc")
        if url.startswith("filedesc://"):
            self.file_date = self.file_date or warc_date(date_text)
            self.summary.skipped["arc header"] += 1
            block.drain()
            self._overran(stream, block, Headers([("WARC-Target-URI", url)]), None, True)
            return None
        warc = Headers([("WARC-Target-URI", url), ("WARC-Date", date_text), ("Content-Type", mime)])
        item, failure = None, None
        try:
            item = self._observation("response", warc, block, date_text, arc=True)
        except _RecordError as exc:
            failure = exc
        finally:
            block.drain(keep_hashing=False)
        if self._overran(stream, block, warc, item, item is None and failure is None):
            return self._counted(item, False)
        if failure is not None:
            raise failure
        if block.missing and not (isinstance(item, RawSnapshot) and item.body is not None):
            return self._bad(warc, f"is truncated ({block.missing} bytes missing)")
        if block.missing:  # its HTTP body was whole by its Content-Length (``_payload``)
            self.summary.notes["ARC record length past the file's end, its HTTP body whole"] += 1
        return self._counted(item, False)

    def _date(self, text: str) -> str | None:
        observed = warc_date(text)
        if observed is None:
            observed = self.file_date or self.fallback
            if observed is not None:
                self.summary.dated_by_file += 1
        return observed

    def _observation(
        self, rec_type: str, warc: Headers, block: _Block, date_text: str, arc: bool = False
    ) -> RawSnapshot | SourceError | None:
        """One record as an observation, or None (skipped and counted); bad records raise _RecordError."""
        try:
            return self._read_observation(rec_type, warc, block, date_text, arc)
        except _Skipped as skipped:
            self.summary.skipped[skipped.reason] += 1
            return None

    def _read_observation(
        self, rec_type: str, warc: Headers, block: _Block, date_text: str, arc: bool
    ) -> RawSnapshot | SourceError | None:
        """``_observation``'s steps, in order: what kind of record, its URL, its date, its HTTP part, then
        a removed page, or a revisit, or an HTML payload."""
        if rec_type not in ("response", "resource", "revisit"):
            raise _Skipped(rec_type or "unknown")
        url = _target_url(rec_type, warc)
        observed = self._date(date_text)
        if observed is None:
            raise _RecordError(f"record of {printable(url)} has no usable WARC-Date, and the file no date")
        status, http = self._http_headers(rec_type, warc, block, arc)
        base = dict(url=url, observed_at=observed, source=self.source, origin=self.where, http_status=status)
        if rec_type == "revisit":
            return self._revisit(warc, url, base, http)
        try:
            return self._response(rec_type, warc, block, arc, base, http)
        except _Skipped as skipped:  # remembered, so that a revisit of this record is skipped alike
            self.skips.put(
                digest_key(warc.get("WARC-Payload-Digest")),
                warc.get("WARC-Record-ID"),
                url,
                observed,
                (None, None, skipped.reason),
            )
            raise

    def _response(
        self, rec_type: str, warc: Headers, block: _Block, arc: bool, base: dict, http: Headers
    ) -> RawSnapshot:
        """A response or resource record: a removed page (a 404/410, an article's permanent redirect away:
        ``pages.says_removed``, its Location kept), or its HTML payload (_Skipped for anything else)."""
        url, observed, status = base["url"], base["observed_at"], base["http_status"]
        if says_removed(url, status, http.get("Location")):
            return RawSnapshot(**base, headers=http, body=None, page_type=page_kind(url))
        if status is not None and (not 200 <= status < 300 or status in PARTIAL_STATUSES):
            raise _Skipped(f"HTTP {status}")  # 206: a part of a page, 204/205: none
        mime = _declared_type(rec_type, warc, http, arc)
        if warc.get("WARC-Truncated"):
            self._bad(warc, f"is truncated by its crawler (WARC-Truncated: {printable(warc['WARC-Truncated'][:40])})")
        body = self._payload(block, warc, http, url, arc)
        if not body.strip():
            raise _Skipped("empty body")  # a HEAD, or a page served empty: nothing to read
        if not mime and not body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
            raise _Skipped("not HTML")
        self.payloads.put(
            digest_key(warc.get("WARC-Payload-Digest")),
            warc.get("WARC-Record-ID"),
            url,
            observed,
            (status or 200, http, body),
        )
        return RawSnapshot(
            **base,
            headers=http,
            body=body,
            declared_charset=charset_of(http.get("Content-Type") or warc.get("Content-Type") or ""),
            page_type=page_kind(url, body),
        )

    def _http_headers(self, rec_type: str, warc: Headers, block: _Block, arc: bool) -> tuple[int | None, Headers]:
        """The record's HTTP status and headers, when its block starts with them (a resource has none)."""
        if rec_type != "resource" and block.peek(5) == b"HTTP/":
            return self._http_part(block)
        if rec_type == "response" and not arc and "application/http" in (warc.get("Content-Type") or "").lower():
            raise _Skipped("no HTTP headers")
        return None, Headers()

    def _http_part(self, block: _Block) -> tuple[int | None, Headers]:
        """HTTP status and headers at the start of a block (Set-Cookie dropped later, by RawSnapshot)."""
        line = block.readline(MAX_LINE)
        if line is None:
            raise _RecordError(f"HTTP status line is longer than {MAX_LINE // 1024} KB")
        parts = line.decode("latin-1").split()
        try:
            status = int(parts[1][:3]) if len(parts) > 1 else None
        except ValueError:
            status = None
        return status, Headers(self._header_block(block, "HTTP"))

    def _payload(self, block: _Block, warc: Headers, http: Headers, url: str, arc: bool = False) -> bytes:
        """The payload, transfer and content encodings undone, at most the cap; digests and lengths checked. An
        ARC record whose length runs past the file's end while its HTTP body is whole by its Content-Length is
        read (``_whole_by_content_length``): some ARC writers counted a URL's spaces as '%20' in the record's length."""
        raw = self._raw_payload(block, http, url, arc)
        body = raw
        if "chunked" in (http.get("Transfer-Encoding") or "").lower():
            body = bounded.dechunk(raw)
            body = raw if body is None else body  # a stale Transfer-Encoding: the tool kept the decoded body
        declared = parse_digest(warc.get("WARC-Payload-Digest"))
        if declared and declared == parse_digest(warc.get("WARC-Block-Digest")):
            declared = None  # ClueWeb09's writer put the block's digest in both: the block's is checked (_warc_record)
        if declared and not any(hashlib.new(declared[0], b).digest() == declared[1] for b in {raw, body}):
            raise _RecordError(f"record of {printable(url)} fails its digest (WARC-Payload-Digest)")
        length = size_of(http.get("Content-Length"))
        if length is not None and length > len(body) and "chunked" not in (http.get("Transfer-Encoding") or ""):
            rest = self._left_after(block, length - len(body), arc)
            if rest is None:
                raise _RecordError(
                    f"payload of {printable(url)} is truncated "
                    f"({length - len(body)} bytes missing by its Content-Length)"
                )
            body, raw = body + rest, raw + rest
            self.summary.notes[
                "record(s) whose length left out their body's last blank bytes (read from after it)"
            ] += 1
        codings = [c for c in (http.get("Content-Encoding") or "").split(",") if c.strip().lower() != "identity"]
        if codings:
            try:
                body = bounded.decode_content(body, codings, self.cap, "payload")
            except bounded.TooLarge:
                raise _RecordError(
                    f"payload of {printable(url)} is larger than {bounded.megabytes(self.cap)} "
                    "once decompressed: skipped"
                ) from None
            except bounded.Undecodable as exc:
                if body[:2] == b"\x1f\x8b" or not _looks_like_text(body):
                    what = f"payload of {printable(url)} does not decode as {','.join(codings)}: {exc}"
                    raise _RecordError(what) from None
                self.summary.notes[f"stale Content-Encoding {','.join(codings)} (body kept as is)"] += 1
        return body

    def _raw_payload(self, block: _Block, http: Headers, url: str, arc: bool) -> bytes:
        """The block's payload as written (at most the cap): cut to its HTTP Content-Length when the block ran into
        the next record and the body is whole before it, or (ARC) when the block runs past the file's end."""
        start = block.position
        try:
            raw = bounded.read_capped(block, self.cap, "payload")
        except bounded.TooLarge:
            block.drain(keep_hashing=False)
            raise _RecordError(
                f"payload of {printable(url)} is larger than {bounded.megabytes(self.cap)} (the download cap): skipped"
            ) from None
        block.drain()
        boundary = self._ends_at(block, raw, start, http)
        if boundary is not None:  # the block ran into the next record: its HTTP body, when whole, ends before it
            cut = boundary - start
            whole = _whole_by_content_length(raw[:cut], http) if 0 <= cut <= len(raw) else None
            if whole is not None:
                raw, block.salvaged = whole, True
        elif block.missing:
            whole = _whole_by_content_length(raw, http) if arc else None
            if whole is None:
                raise _RecordError(f"payload of {printable(url)} is truncated ({block.missing} bytes missing)")
            raw = whole
        return raw

    def _left_after(self, block: _Block, missing: int, arc: bool) -> bytes | None:
        """The ``missing`` last bytes of an HTTP body found just after its block, when they are blank and a record
        (or the file's end) follows them: the writer's length left out the body's last newline (warcio's
        example-wrong-chunks.warc.gz, webarchive-commons' link-extraction-test.warc). Else None. They are read past
        as stray bytes between records, as before."""
        if missing > MAX_JUNK or block.left or block.overrun() is not None:
            return None
        ahead = block.source.lookahead(missing + MAX_JUNK)
        rest = ahead[:missing]
        if (
            len(rest) < missing
            or rest.strip(b" \t\r\n")
            or not starts_record(ahead[missing:], "arc" if arc else "warc")
        ):
            return None
        return rest

    @staticmethod
    def _ends_at(block: _Block, raw: bytes, start: int, http: Headers) -> int | None:
        """``block.overrun()``; a block also overran when its HTTP body, by its Content-Length, ends just before the
        record header found inside it (its length then runs exactly to a later record)."""
        if block.boundary is not None and not block.missing:
            size, cut = size_of(http.get("Content-Length")), block.boundary - start
            if size is not None and size <= cut <= len(raw) and not raw[size:cut].strip():
                block.ends_early = "chunked" not in (http.get("Transfer-Encoding") or "").lower()
        return block.overrun()

    def _revisit(self, warc: Headers, url: str, base: dict, http: Headers) -> RawSnapshot:
        """The content a revisit refers to, seen again: its payload when read earlier in this file (a 304 of
        the same URL stays a 304, which links the same content); skipped as its original was (not HTML, a
        redirect...); else told by its own HTTP status and Content-Type like a response; else (none, or an
        HTML type) a 304 that re-links the URL's latest stored content."""
        keys = (
            digest_key(warc.get("WARC-Payload-Digest")),
            warc.get("WARC-Refers-To"),
            strip_userinfo((warc.get("WARC-Refers-To-Target-URI") or url).strip("<> ")),
            warc_date(warc.get("WARC-Refers-To-Date") or ""),
        )
        found = self.payloads.find(*keys)
        if found is None:
            skipped = self.skips.get(*keys)
            if skipped is not None:
                raise _Skipped(skipped[2])
            return self._unresolved_revisit(warc, url, base, http)
        (referred_url, _), (stored_status, stored_headers, payload) = found
        if base["http_status"] == 304 and referred_url == url:  # the server said so: kept a 304, as exported
            return RawSnapshot(**base, headers={}, body=None, page_type=page_kind(url))
        headers = stored_headers or http
        return RawSnapshot(
            **{**base, "http_status": stored_status},
            headers=headers,
            declared_charset=charset_of(headers.get("Content-Type") or ""),
            body=payload,
            page_type=page_kind(url, payload),
        )

    def _unresolved_revisit(self, warc: Headers, url: str, base: dict, http: Headers) -> RawSnapshot:
        """A revisit whose original is not in the file, by the same rules as a response: a removed page (a 404/410,
        an article's permanent redirect away), another status than 2xx or 304 and a declared type that is not HTML
        are skipped; else a 304.

        A revisit without a Content-Type is kept: most tools write the revisit of an HTML page with no headers."""
        status = base["http_status"]
        if says_removed(url, status, http.get("Location")):
            return RawSnapshot(**base, headers=http, body=None, page_type=page_kind(url))
        if status is not None and status != 304 and (not 200 <= status < 300 or status in PARTIAL_STATUSES):
            raise _Skipped(f"HTTP {status}")
        _declared_type("revisit", warc, http, False)
        return RawSnapshot(**{**base, "http_status": 304}, headers={}, body=None, page_type=page_kind(url))


def _looks_like_text(body: bytes) -> bool:
    sample = body[:4096]
    controls = sum(b < 9 or 13 < b < 32 for b in sample)
    return bool(sample) and b"\x00" not in sample and controls <= len(sample) // 50


class PayloadCache:
    """Payloads seen earlier in one file, by digest, record ID and (URL, date), to resolve revisits.

    Bounded by entries and by bytes (payload, headers and a fixed cost per entry); the oldest
    entry is forgotten first, in O(1). A revisit whose payload was forgotten falls back to a 304
    (the URL's latest stored content)."""

    def __init__(self, max_bytes: int = MAX_REVISIT_BYTES, max_entries: int = MAX_REVISIT_ENTRIES) -> None:
        self.max_bytes, self.max_entries = max_bytes, max_entries
        self.size = 0
        self.entries: OrderedDict[tuple[str, str | None], tuple] = OrderedDict()  # capture -> (keys, cost, entry)
        self.by_digest: dict[str, tuple[str, str | None]] = {}
        self.by_id: dict[str, tuple[str, str | None]] = {}

    def put(self, digest: str | None, record_id: str | None, url: str, observed: str | None, entry: tuple) -> None:
        capture = (url, observed)
        self._forget(capture)
        cost = ENTRY_OVERHEAD + len(entry[2] or b"") + sum(len(k) + len(v) for k, v in (entry[1] or {}).items())
        if cost > self.max_bytes:
            return
        self.entries[capture] = ((digest, record_id), cost, entry)
        self.size += cost
        if digest:
            self.by_digest[digest] = capture
        if record_id:
            self.by_id[record_id.strip()] = capture
        while self.size > self.max_bytes or len(self.entries) > self.max_entries:
            self._forget(next(iter(self.entries)))

    def forget(self, url: str, observed: str | None) -> None:
        """Forget what was put for (``url``, ``observed``): its record turned out bad after it was read."""
        self._forget((url, observed))

    def _forget(self, capture: tuple[str, str | None]) -> None:
        found = self.entries.pop(capture, None)
        if found is None:
            return
        (digest, record_id), cost, _ = found
        self.size -= cost
        if digest and self.by_digest.get(digest) == capture:
            del self.by_digest[digest]
        if record_id and self.by_id.get(record_id.strip()) == capture:
            del self.by_id[record_id.strip()]

    def get(self, digest: str | None, record_id: str | None, url: str, observed: str | None) -> tuple | None:
        found = self.find(digest, record_id, url, observed)
        return found[1] if found else None

    def find(
        self, digest: str | None, record_id: str | None, url: str, observed: str | None
    ) -> tuple[tuple[str, str | None], tuple] | None:
        """(the capture's URL and date, its entry) by record ID, else digest, else URL and date."""
        for capture in (
            self.by_id.get((record_id or "").strip()),
            self.by_digest.get(digest or ""),
            (url, observed),
        ):
            if capture is not None and capture in self.entries:
                return capture, self.entries[capture][2]
        return None
