"""One bound on every body the archive takes in, checked while the bytes stream in.

Why: a web archive record, a backfill response or a CDX answer is written by someone else, and
its size (after gzip members, chunked transfer and Content-Encoding are undone) can be anything:
a 3 MB file can hold a 1 GiB gzip bomb. Every reader takes bodies through these functions, which
stop as soon as the decoded bytes pass the cap, so nothing over it is ever held in memory.

The cap is the crawl's ``DOWNLOAD_MAXSIZE`` (16 MB by default; ``PA_DOWNLOAD_MAXSIZE`` sets it,
as it does for a crawl), never more than ``MAX_BODY_BYTES`` (50 MB), the most the store accepts.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import IO, BinaryIO

from .document import MAX_BODY_BYTES

DEFAULT_CAP = 16 * 1024 * 1024  # the crawl's DOWNLOAD_MAXSIZE (crawler/settings.py)
CHUNK = 64 * 1024  # bytes read (or fed to a decompressor) at a time
_SKIP_CHUNK = 1024 * 1024  # the rest of an oversized line is read and dropped this much at a time
_BROTLI_STEP = 1024  # compressed bytes fed at a time when the decoder cannot bound its own output


class TooLarge(ValueError):
    """A body whose decoded size passes the cap (the message is one sentence)."""


class Undecodable(ValueError):
    """A Content-Encoding that does not decode (the message is one sentence)."""


def body_cap(value: int | str | None = None) -> int:
    """The cap in bytes: ``value``, else ``$PA_DOWNLOAD_MAXSIZE``, else 16 MB; within 1 byte .. 50 MB."""
    raw = value if value is not None else os.environ.get("PA_DOWNLOAD_MAXSIZE", "")
    try:
        cap = int(str(raw)) if str(raw).strip() else DEFAULT_CAP
    except ValueError:
        cap = DEFAULT_CAP
    return min(max(cap, 1), MAX_BODY_BYTES)


def megabytes(cap: int) -> str:
    """'16 MB' (or '1,000 bytes' under a megabyte) for messages."""
    return f"{cap / 2**20:g} MB" if cap >= 2**20 else f"{cap:,} bytes"


def read_capped(stream: IO[bytes], cap: int, what: str = "body") -> bytes:
    """All of ``stream``, or TooLarge as soon as more than ``cap`` bytes have come (the rest unread)."""
    parts, size = [], 0
    while True:
        chunk = stream.read(min(CHUNK, cap + 1 - size))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
        if size > cap:
            raise TooLarge(f"{what} is larger than {megabytes(cap)}")


def drain(read: Callable[[int], bytes]) -> int:
    """Read to the end and keep nothing; the number of bytes read."""
    total = 0
    while chunk := read(CHUNK):
        total += len(chunk)
    return total


def _inflate(data: bytes, wbits: int, cap: int, what: str) -> bytes:
    """zlib/gzip/raw deflate of ``data`` to at most ``cap`` bytes (gzip: every member)."""
    out, size = [], 0
    while data:
        decoder = zlib.decompressobj(wbits)
        pending = data
        while pending:
            piece = decoder.decompress(pending, cap + 1 - size)
            out.append(piece)
            size += len(piece)
            if size > cap:
                raise TooLarge(f"{what} is larger than {megabytes(cap)} once decompressed")
            pending = decoder.unconsumed_tail
            if decoder.eof or not piece and not pending:
                break
        if not decoder.eof:
            flushed = decoder.flush()
            if size + len(flushed) > cap:
                raise TooLarge(f"{what} is larger than {megabytes(cap)} once decompressed")
            out.append(flushed)
            if wbits != -zlib.MAX_WBITS:  # a gzip or zlib stream without its end: bytes were lost
                raise Undecodable("the compressed stream ends early")
            break
        data = decoder.unused_data.lstrip(b"\x00") if wbits == 31 else b""  # gzip: the next member
        if not data.startswith(b"\x1f\x8b"):
            break  # trailing bytes that are not a gzip member: what came before is the body
    return b"".join(out)


def _unbrotli(data: bytes, cap: int, what: str) -> bytes:
    try:
        import brotli
    except ImportError:  # pragma: no cover - brotli comes with Scrapy
        raise Undecodable("brotli is not installed") from None
    decoder = brotli.Decompressor()
    step = getattr(decoder, "process", None) or decoder.decompress
    out, size = [], 0
    try:
        for start in range(0, len(data), _BROTLI_STEP):  # small steps: the output is checked after each
            piece = step(data[start : start + _BROTLI_STEP])
            out.append(piece)
            size += len(piece)
            if size > cap:
                raise TooLarge(f"{what} is larger than {megabytes(cap)} once decompressed")
    except brotli.error as exc:
        raise Undecodable(f"not brotli ({exc})") from None
    return b"".join(out)


def decode_content(data: bytes, encodings: Iterable[str], cap: int, what: str = "body") -> bytes:
    """``data`` with its Content-Encodings undone (the last applied first), at most ``cap`` bytes.

    gzip (and x-gzip), deflate (zlib or raw, both are sent as 'deflate'), br; identity and unknown
    names are left as they are. Undecodable when a coding does not apply (the caller decides
    whether a stale header explains it)."""
    for coding in reversed([c.strip().lower() for c in encodings if c.strip()]):
        try:
            if coding in ("gzip", "x-gzip"):
                data = _inflate(data, 31, cap, what)
            elif coding == "deflate":
                try:
                    data = _inflate(data, zlib.MAX_WBITS, cap, what)
                except (zlib.error, Undecodable):
                    data = _inflate(data, -zlib.MAX_WBITS, cap, what)
            elif coding == "br":
                data = _unbrotli(data, cap, what)
        except zlib.error as exc:
            raise Undecodable(f"not {coding} ({exc})") from None
    return data


def dechunk(data: bytes) -> bytes | None:
    """The body of a chunked transfer (RFC 9112 7.1), or None when ``data`` is not chunked."""
    out, at = [], 0
    while True:
        end = data.find(b"\n", at)
        if end < 0 or end - at > 1024:
            return None
        size_text = data[at:end].split(b";")[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        at = end + 1
        if size == 0:
            return b"".join(out)
        if at + size > len(data):
            return None
        out.append(data[at : at + size])
        at += size
        if data[at : at + 2] == b"\r\n":
            at += 2
        elif data[at : at + 1] == b"\n":
            at += 1


def bounded_lines(
    handle: BinaryIO, limit: int = MAX_BODY_BYTES, total: int | None = None
) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line of a binary file, reading at most ``limit`` + 1 bytes of one
    line; None for a longer line, whose rest is read and dropped in chunks, never held whole.

    ``total``: read no more than that many bytes in all, so that a file another program is still appending to
    (a scraper's JSON Lines) is read as it was when its size was taken, not followed for as long as it grows;
    a last line cut there comes without its newline (the caller's error to report)."""
    left = total

    def readline(size: int) -> bytes:
        nonlocal left
        if left is None:
            return handle.readline(size)
        line = handle.readline(min(size, left)) if left > 0 else b""
        left -= len(line)
        return line

    number = 0
    while True:
        line = readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                rest = readline(_SKIP_CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield number, None
        else:
            yield number, line
