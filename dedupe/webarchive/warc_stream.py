"""The byte layer of the web-archive reader: lenient WARC dates, digests in any spelling, and the bounded
decompressing stream that records are framed on.

Why apart from ``dedupe.webarchive.warc``: this is what makes reading bounded and resumable (a gzip member at a
time, a line at most ``MAX_LINE`` long, a corrupt member skipped to the next one), independent of what
a record means.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import zlib
from datetime import datetime, timedelta, timezone
from typing import IO

import zstandard

from .. import bounded
from ..document import utc_iso

MAX_LINE = 64 * 1024  # one header line (WARC, ARC or HTTP)
_WARC_LINE = re.compile(rb"WARC/\d", re.IGNORECASE)  # 'warc/1.0' too: some writers lower-case every header
# Where a record starts inside the block before it (its Content-Length too long): a WARC version line after a blank
# line, or an ARC header line (URL, IP address, 12-14 digit date, ..., length) after a newline.
_WARC_START = re.compile(rb"\n\r?\n(WARC/\d+\.\d+\r?\n)", re.IGNORECASE)
# Space-separated fields, a bounded number of them, so that a long line of numbers costs linear time, not quadratic.
_ARC_START = re.compile(rb"\n([A-Za-z][A-Za-z0-9+.-]*:\S* \S+ \d{12,14}(?: \S+){0,8}? \d+\r?\n)")
_ARC_HEADER = re.compile(
    rb"[A-Za-z][A-Za-z0-9+.-]*:\S*(?: \S+){0,8}? \d{12,14}(?: \S+){0,8}? \d+\r?\n"
)  # URL spaces too
# Where an ARC header line may start (``_ARC_HEADER`` tells): at a line's start only (re.M), since tried at every byte
# a line of 70,000 letters cost 70,000 scans of the rest of it (quadratic: minutes, a hang); a gzip member's start
# mid-line is tried apart (``_ARC_LINE_AT``).
_ARC_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9+.-]*:\S* ", re.MULTILINE)
_ARC_LINE_AT = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*:\S* ")
TAIL = 64  # bytes of a block kept to find a record header its last bytes ran into
HISTORY = 256  # bytes already read that the stream keeps, to step back into a header a block's last bytes ate
_GZIP_MAGIC = b"\x1f\x8b\x08"
_BLANK = b"\r\n \t\x00"  # read past between records
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"  # a Zstandard frame (RFC 8878)


# ----------------------------------------------------------------------------- dates


_ISO = re.compile(
    r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,3}))?)?"
    r"(?:[T ](\d{1,2})(?::?(\d{2}))?(?::?(\d{2}))?(?:[.,]\d+)?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$"
)


def warc_date(value: str) -> str | None:
    """A WARC-Date as the archive's UTC ISO string, or None when it says no usable time.

    Any ISO 8601 precision (``2019``, ``2019-08-15T01:02``, fractions, offsets with or without
    a colon), a 14-digit (or shorter) timestamp, and WARC 0.18's forms (``2008-10-294T05:21:46-0700``:
    a day of three digits is read as its first two when they make a date)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        if value.isdigit() and 4 <= len(value) <= 14:
            padded = (value + "0101000000"[len(value) - 4 :]) if len(value) < 14 else value
            return utc_iso(datetime.strptime(padded[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc))
        match = _ISO.match(value)
        if not match:
            return None
        year, month, day, hour, minute, second, zone = match.groups()
        day = (day or "1")[:2]
        moment = datetime(int(year), int(month or 1), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        offset = timedelta(0)
        if zone and zone[0] in "+-":
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
            offset = -offset if zone[0] == "-" else offset
        return utc_iso((moment - offset).replace(tzinfo=timezone.utc))
    except (ValueError, OverflowError):
        return None


# ----------------------------------------------------------------------------- digests


_DIGEST_NAMES = {"sha1": "sha1", "sha256": "sha256", "sha512": "sha512", "md5": "md5", "sha384": "sha384"}


def parse_digest(value: str | None) -> tuple[str, bytes] | None:
    """(hashlib name, digest bytes) of a WARC digest in any spelling seen in the wild, else None.

    ``sha1:`` base32 (Heritrix, warcio) or hex, ``sha256:``/``sha-256:``/``SHA256:``, base32, hex
    or base64 values; an unknown algorithm or an undecodable value is None (unverifiable)."""
    if not value or ":" not in value:
        return None
    name, _, text = value.strip().partition(":")
    algorithm = _DIGEST_NAMES.get(name.strip().lower().replace("-", "").replace("_", ""))
    if algorithm is None:
        return None
    size = hashlib.new(algorithm).digest_size
    text = text.strip()
    for decode in (
        lambda t: bytes.fromhex(t),
        lambda t: base64.b32decode(t.upper() + "=" * (-len(t) % 8)),
        lambda t: base64.b64decode(t + "=" * (-len(t) % 4), validate=True),
    ):
        try:
            raw = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == size:
            return algorithm, raw
    return None


def digest_key(value: str | None) -> str | None:
    """One spelling of a digest, to match a revisit with its payload whatever each wrote."""
    parsed = parse_digest(value)
    return f"{parsed[0]}:{parsed[1].hex()}" if parsed else None


# ----------------------------------------------------------------------------- the byte stream


class Damaged(Exception):
    """The stream cannot be read here (corrupt gzip data, bytes that are not gzip); one sentence, and the
    file offset where the damage is (the gzip member's)."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


class Input:
    """The decompressed bytes of a WARC/ARC stream (plain, gzip per record or one gzip member), read
    in bounded pieces, with the offset to report for a record that starts at the current position."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.origin = _position(raw)  # where the stream starts in ``raw``, when ``raw`` can seek back to it
        self.deferred: Damaged | None = None  # damage met while looking ahead, raised at the next read
        self.frames = raw.frames if isinstance(raw, ZstdFrames) else None  # a .warc.zst's, for ``tell``
        try:
            self.cdata = raw.read(bounded.CHUNK)  # compressed bytes not yet fed to the decompressor
        except Damaged as exc:  # a .warc.zst's first frame
            self.cdata, self.deferred = b"", exc
        self.cpos = 0  # offset in the file of cdata[0]
        self.gz = self.cdata.startswith(b"\x1f\x8b")
        self.decoder = None
        self.buf = b"" if self.gz else self.cdata
        self.pos = 0
        self.base = 0  # stream offset of buf[0]
        self.produced = 0 if self.gz else len(self.cdata)  # stream bytes made so far
        self.members: list[tuple[int, int]] = []  # (stream offset, file offset) where each gzip member starts
        self.eof = False
        self.cut = False  # the file ended inside a gzip member
        self.padding = 0  # NULs read past between records or between gzip members

    # --- filling

    def _more(self) -> None:
        """Read on: the next piece of the stream into the buffer, or mark where it ends."""
        if not self.gz:
            try:
                chunk = self.raw.read(bounded.CHUNK)
            except Damaged:  # a .warc.zst's frame: what it gave is dropped with it, as a gzip member's is
                self.base += len(self.buf)
                self.buf, self.pos = b"", 0
                raise
            if not chunk:
                self.eof = True
            else:
                self._append(chunk)
            return
        if not self.cdata:
            self.cdata = self.raw.read(bounded.CHUNK)
        if self.decoder is None and not self._open_member():
            return
        self._inflate()

    def _open_member(self) -> bool:
        """Start the gzip member at the current position (padding skipped); False when there is no member
        to start yet (the file ended, or too few bytes to tell); Damaged when what is there is not gzip."""
        padded = len(self.cdata)
        self.cdata = self.cdata.lstrip(b"\x00")  # padding between members
        self.padding += padded - len(self.cdata)
        self.cpos += padded - len(self.cdata)
        if not self.cdata:
            self.cdata = self.raw.read(bounded.CHUNK)
            if not self.cdata:
                self.eof = True
            return False
        if not self.cdata.startswith(b"\x1f\x8b"):
            if len(self.cdata) < 2:
                more = self.raw.read(bounded.CHUNK)
                if more:  # too few bytes to tell: look again with more (one byte the file ends on is no member)
                    self.cdata += more
                    return False
            at = self.cpos
            self._to_next_member()
            raise Damaged("bytes that are not a gzip member", at)
        self.decoder = zlib.decompressobj(31)
        self.members.append((self.produced, self.cpos))
        return True

    def _inflate(self) -> None:
        """Decompress the next piece of the open member; a file that ends inside it is cut."""
        if not self.cdata:
            self.eof, self.cut = True, True
            return
        try:
            out = self.decoder.decompress(self.cdata, bounded.CHUNK)
        except zlib.error as exc:
            at = self.members[-1][1] if self.members else self.cpos
            self.decoder = None
            self._to_next_member()
            raise Damaged(f"corrupt gzip data ({exc})", at) from None
        rest = self.decoder.unused_data if self.decoder.eof else self.decoder.unconsumed_tail
        self.cpos += len(self.cdata) - len(rest)
        self.cdata = rest
        if self.decoder.eof:
            self.decoder = None
        self._append(out)

    def _append(self, data: bytes) -> None:
        if self.pos > bounded.CHUNK:  # drop what was read, but the last few bytes (``rewind``)
            drop = self.pos - HISTORY
            self.base += drop
            self.buf = self.buf[drop:]
            self.pos = HISTORY
        self.buf += data
        if self.gz:
            self.produced += len(data)

    def _to_next_member(self) -> None:
        """Skip to the next gzip header in the file; what was decompressed but not read is dropped."""
        self.base += len(self.buf)
        self.buf, self.pos = b"", 0
        self.decoder = None
        self.cdata = self.cdata[1:]
        self.cpos += 1
        while True:
            found = self.cdata.find(_GZIP_MAGIC)
            if found >= 0:
                self.cpos += found
                self.cdata = self.cdata[found:]
                return
            keep = self.cdata[-2:]
            self.cpos += len(self.cdata) - len(keep)
            chunk = self.raw.read(bounded.CHUNK)
            if not chunk:
                self.cpos += len(keep)
                self.cdata = b""
                self.eof = True
                return
            self.cdata = keep + chunk

    def available(self, n: int) -> int:
        if self.deferred is not None:
            damage, self.deferred = self.deferred, None
            raise damage
        while len(self.buf) - self.pos < n and not self.eof:
            self._more()
        return len(self.buf) - self.pos

    def lookahead(self, n: int) -> bytes:
        """Up to ``n`` bytes from here, not read; damage met on the way is raised at the next read, not here."""
        try:
            self.available(n)
        except Damaged as exc:
            self.deferred = exc
        return self.buf[self.pos : self.pos + n]

    def rewind(self, offset: int) -> bool:
        """Go back to the stream offset ``offset`` (a record a too long block ran into); False when it cannot.

        From what is still buffered, else by seeking the file back: to ``offset`` in a plain stream, or to the
        gzip member holding it, decompressed again up to it."""
        if self.deferred is None and self.base <= offset <= self.base + len(self.buf):
            self.pos = offset - self.base
            return True
        if self.origin is None:
            return False
        try:
            if not self.gz:
                self.raw.seek(self.origin + offset)
                self.buf, self.pos, self.base, self.eof, self.deferred = b"", 0, offset, False, None
                return True
            start = next((m for m in reversed(self.members) if m[0] <= offset), None)
            if start is None:
                return False
            self.raw.seek(self.origin + start[1])
        except (OSError, ValueError):
            return False
        self.cdata, self.cpos, self.decoder = b"", start[1], None
        self.buf, self.pos, self.base, self.produced = b"", 0, start[0], start[0]
        self.members = [m for m in self.members if m[0] < start[0]]
        self.eof, self.cut, self.deferred = False, False, None
        skip = offset - start[0]
        while skip > 0:
            got = len(self.read(min(skip, bounded.CHUNK)))
            if not got:
                return False
            skip -= got
        return True

    # --- reading

    def peek(self, n: int) -> bytes:
        self.available(n)
        return self.buf[self.pos : self.pos + n]

    def read(self, n: int) -> bytes:
        self.available(n)
        out = self.buf[self.pos : self.pos + n]
        self.pos += len(out)
        return out

    def readline(self, limit: int = MAX_LINE) -> bytes | None:
        """One line (with its newline), the last line without one, or None when it is longer than ``limit``."""
        self.available(0)  # damage met while looking ahead
        scanned = 0
        while True:
            end = self.buf.find(b"\n", self.pos + scanned)
            if end >= 0 and end - self.pos < limit:
                line = self.buf[self.pos : end + 1]
                self.pos = end + 1
                return line
            if end >= 0 or len(self.buf) - self.pos >= limit:
                return None
            scanned = len(self.buf) - self.pos
            if self.eof:
                return self.read(scanned)
            self._more()

    def skip_blank(self) -> None:
        """Read past blank lines and NUL padding before a record, a buffer at a time (a file padded with
        megabytes of NULs is read at the speed of ``bytes.lstrip``); the NULs are counted in ``padding``."""
        while self.available(1):
            rest = len(self.buf) - self.pos
            blank = rest - len(self.buf[self.pos :].lstrip(_BLANK))
            self.padding += self.buf.count(b"\x00", self.pos, self.pos + blank)
            self.pos += blank
            if blank < rest:
                return

    def tell(self) -> int:
        """The offset to report for what starts here: in the file, or the file offset of its gzip member."""
        here = self.base + self.pos
        if self.frames:
            while len(self.frames) > 1 and self.frames[1][0] <= here:
                self.frames.pop(0)
            return self.frames[0][1]
        if not self.gz:
            return here
        while len(self.members) > 1 and self.members[1][0] <= here:
            self.members.pop(0)
        return self.members[0][1] if self.members else self.cpos

    def resync(self, kind: str = "warc") -> bool:
        """Move to the next line that starts a record of a ``kind`` stream ('warc': a ``WARC/`` line, 'arc': an ARC
        header line), or to a gzip member that does; False at the end.

        Called after a bad record's first line was read, so it always moves on: no loop."""
        while True:
            self.available(bounded.CHUNK)
            found = self._next_start(kind)
            if found is not None and found >= 0:
                self.pos = found
                return True
            if self.eof:
                self.pos = len(self.buf)
                return False
            self.pos = max(self.pos, len(self.buf) - 8) if found is None else -found - 1
            self._more()

    def _next_start(self, kind: str) -> int | None:
        """Where in the buffer the next record starts; None when not in it, ``-at - 1`` when an ARC header line may
        start at ``at`` but goes on past the buffer (read on from there)."""
        for at in self._candidates(kind):
            offset = self.base + at
            if not (offset == 0 or self.buf[at - 1 : at] == b"\n" or any(m[0] == offset for m in self.members)):
                continue
            if kind != "arc" or _ARC_HEADER.match(self.buf, at, at + MAX_LINE):
                return at
            if not self.eof and self.buf.find(b"\n", at) < 0 and len(self.buf) - at < MAX_LINE:
                return -at - 1
        return None

    def _candidates(self, kind: str) -> list[int]:
        """Where in the buffer, from ``pos``, a record's first line of a ``kind`` stream may start, in order."""
        if kind != "arc":
            return [match.start() for match in _WARC_LINE.finditer(self.buf, self.pos)]
        lines = [match.start() for match in _ARC_LINE.finditer(self.buf, self.pos)]
        members = (m[0] - self.base for m in self.members if self.pos <= m[0] - self.base < len(self.buf))
        return sorted({*lines, *(at for at in members if _ARC_LINE_AT.match(self.buf, at))})


class ZstdFrames:
    """A .warc.zst's decompressed bytes, a frame at a time: each frame is framed by its own block headers (RFC 8878),
    so a damaged frame costs only its records (``Damaged``, naming the frame's file offset, then the next frame), and
    ``frames`` maps the stream's offsets to the file offsets of the frames (a record is named by its frame's, as by
    its gzip member's in a .warc.gz). Every read is bounded, whatever a frame expands to (zstandard's stream reader)."""

    def __init__(self, raw: IO[bytes], decompressor: zstandard.ZstdDecompressor, start: int = 0) -> None:
        self.raw, self.decompressor = raw, decompressor
        self.cdata, self.cpos = b"", start  # compressed bytes read, not yet passed on; the file offset of cdata[0]
        self.produced = 0  # decompressed bytes passed on
        self.frames: list[tuple[int, int]] = []  # (stream offset, file offset) where each frame starts
        self.reader = None

    def read(self, n: int = -1) -> bytes:
        n = bounded.CHUNK if n is None or n < 0 else n
        while True:
            if self.reader is None and not self._start_frame():
                return b""
            at = self.frames[-1][1] if self.frames else self.cpos
            try:
                out = self.reader.read(n)
            except zstandard.ZstdError as exc:
                self._abandon_frame(at)
                raise Damaged(f"corrupt zstd data ({' '.join(str(exc).split())[:120]})", at) from None
            if out:
                self.produced += len(out)
                return out
            self.reader = None  # the frame ended (or the file did, inside it)
            if self.cpos == at:  # nothing of it could be read (a magic number the file ends on): never read it again
                self._abandon_frame(at)
                raise Damaged("a zstd frame cut short after its magic number", at)

    def _abandon_frame(self, at: int) -> None:
        """Leave the frame that started at ``at`` for the next frame's magic number, always past ``at``: a frame of
        which nothing could be read would otherwise be opened again, for ever."""
        self.reader = None
        if self.cpos == at:
            self.take(1)
        self._to_next_frame()

    def _start_frame(self) -> bool:
        """Open the frame here (padding and skippable frames read past); False at the end of the file; Damaged when
        what is here is no frame (reading goes on at the next one)."""
        while True:
            head = self.peek(8)
            if not head:
                return False
            padding = len(head) - len(head.lstrip(b"\x00"))
            if padding:
                self.take(padding)  # NULs between frames, 8 at most at a time
                continue
            if head[:4] == ZSTD_MAGIC:
                break
            if len(head) >= 8 and 0x50 <= head[0] <= 0x5F and head[1:4] == b"\x2a\x4d\x18":  # a skippable frame
                self.skip(8 + int.from_bytes(head[4:8], "little"))
                continue
            at = self.cpos
            self.take(1)
            self._to_next_frame()
            raise Damaged("bytes that are not a zstd frame", at)
        self.frames.append((self.produced, self.cpos))
        self.reader = self.decompressor.stream_reader(_FrameSource(self), read_across_frames=False)
        return True

    def _to_next_frame(self) -> None:
        """Skip to the next frame's magic number: the block headers of a damaged frame cannot be trusted."""
        while True:
            found = self.peek(len(self.cdata) or bounded.CHUNK).find(ZSTD_MAGIC)
            if found >= 0:
                self.take(found)
                return
            keep = min(len(self.cdata), len(ZSTD_MAGIC) - 1)
            self.take(len(self.cdata) - keep)
            if not self.peek(keep + 1)[keep:]:
                self.take(keep)
                return

    def peek(self, n: int) -> bytes:
        """The next ``n`` compressed bytes (fewer at the end of the file), not taken."""
        while len(self.cdata) < n:
            chunk = self.raw.read(max(bounded.CHUNK, n - len(self.cdata)))
            if not chunk:
                break
            self.cdata += chunk
        return self.cdata[:n]

    def take(self, n: int) -> bytes:
        """The next ``n`` compressed bytes, taken (passed on to a frame, or read past)."""
        out = self.peek(n)
        self.cdata = self.cdata[len(out) :]
        self.cpos += len(out)
        return out

    def skip(self, n: int) -> None:
        """Read past ``n`` compressed bytes (a skippable frame), a buffer at a time."""
        while n > 0:
            got = len(self.take(min(n, bounded.CHUNK)))
            if not got:
                return
            n -= got


class _FrameSource:
    """The compressed bytes of one zstd frame, read from ``ZstdFrames``, ending where the frame does: its header,
    then its blocks (a 3-byte header each, with the block's type and size), then its checksum when it has one."""

    def __init__(self, frames: ZstdFrames) -> None:
        self.frames = frames
        self.left = 0  # bytes to pass on before the next header to read
        self.state = "frame"
        self.checksum = False

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes of the frame; b"" at its end (or the file's)."""
        while self.left == 0:
            if not self._next_part():
                return b""
        data = self.frames.take(min(n if n is not None and n >= 0 else self.left, self.left))
        self.left = self.left - len(data) if data else 0
        if not data:
            self.state = "end"  # the file ended inside the frame
        return data

    def _next_part(self) -> bool:
        """Read the next header of the frame and how many bytes it covers; False at the frame's end."""
        if self.state == "frame":
            head = self.frames.peek(5)
            if len(head) < 5:
                return False
            descriptor = head[4]
            single = bool(descriptor & 0x20)
            self.checksum = bool(descriptor & 0x04)
            size_field = (1 if single else 0, 2, 4, 8)[descriptor >> 6]
            self.left = 5 + (0 if single else 1) + (0, 1, 2, 4)[descriptor & 3] + size_field
            self.state = "block"
            return True
        if self.state == "block":
            head = self.frames.peek(3)
            if len(head) < 3:
                return False
            value = int.from_bytes(head, "little")
            kind, size = (value >> 1) & 3, value >> 3
            self.left = 3 + (1 if kind == 1 else size)  # an RLE block holds one byte, repeated
            self.state = "checksum" if value & 1 else "block"
            return True
        if self.state == "checksum" and self.checksum:
            self.left, self.state = 4, "end"
            return True
        self.state = "end"
        return False


def _position(raw: IO[bytes]) -> int | None:
    """Where ``raw`` is now, when it can seek back there (a file, a zip member); else None."""
    try:
        return raw.tell() if raw.seekable() else None
    except (AttributeError, OSError, ValueError):
        return None


def starts_record(head: bytes, kind: str) -> bool:
    """Whether ``head`` (what follows a record) starts the next record of a ``kind`` stream, past blank lines
    and padding; the end of the stream (or only blank bytes) counts as one."""
    head = head.lstrip(_BLANK)
    if not head:
        return True
    if kind == "arc":
        return bool(_ARC_HEADER.match(head))
    return head[:5].upper() == b"WARC/"


class Block:
    """The next ``length`` bytes of a record's block, read from the stream, hashed as they pass.

    With a ``kind`` ('warc' or 'arc'), the bytes that pass are watched for the start of a record: ``overrun``
    then tells whether the block's length was too long, and where the record it ran into starts."""

    def __init__(self, source: Input, length: int, algorithm: str | None, kind: str | None = None) -> None:
        self.source, self.left, self.length = source, length, length
        self.hasher = hashlib.new(algorithm) if algorithm else None
        self.start = source.base + source.pos  # stream offset of the block's first byte
        self.pattern = {"warc": _WARC_START, "arc": _ARC_START}.get(kind or "")
        self.kind = kind
        self.boundary: int | None = None  # stream offset of the first record header seen inside the block
        self.tail = b""
        self.ends_early = False  # its HTTP body ended at ``boundary`` by its Content-Length (see ``overrun``)
        self.salvaged = False  # ran into the next record, but its HTTP body was whole and kept
        self._overrun: int | None | bool = False  # False: not worked out yet

    @property
    def position(self) -> int:
        """Stream offset of the next byte of the block."""
        return self.start + self.length - self.left

    def _watch(self, data: bytes) -> None:
        if self.pattern is None or self.boundary is not None or not data:
            return
        window = self.tail + data
        found = self.pattern.search(window)
        if found:
            self.boundary = self.position - len(window) + found.start(1)
        self.tail = window[-TAIL:]

    def peek(self, n: int) -> bytes:
        return self.source.peek(min(n, self.left)) if self.left > 0 else b""

    def read(self, n: int) -> bytes:
        if self.left <= 0:  # nothing left to read (and damage looked ahead at is not this block's)
            return b""
        data = self.source.read(min(n, self.left))
        self.left -= len(data)
        if self.hasher is not None:
            self.hasher.update(data)
        self._watch(data)
        return data

    def readline(self, limit: int) -> bytes | None:
        if self.left <= 0:
            return b""
        line = self.source.readline(min(limit, self.left))
        if line is None:
            if self.left >= limit:
                return None
            line = self.source.read(self.left)  # the block ends inside this line
        self.left -= len(line)
        if self.hasher is not None:
            self.hasher.update(line)
        self._watch(line)
        return line

    def drain(self, keep_hashing: bool = True) -> None:
        if not keep_hashing:
            self.hasher = None
        bounded.drain(self.read)

    @property
    def missing(self) -> int:
        """Bytes the block's length promised that the file does not hold (after ``drain``)."""
        return self.left

    def overrun(self) -> int | None:
        """After ``drain``: the stream offset of the record this block ran into when its length is too long, else
        None. Too long: a record header starts inside the block (or in its last bytes), and the block then runs
        past the file's end, or what follows it is not a record, or its HTTP body ended at that header
        (``ends_early``). A record that holds a whole WARC file as its payload is none of these."""
        if self._overrun is not False:
            return self._overrun
        self._overrun = None
        if self.pattern is None:
            return None
        boundary = self.boundary
        ahead = b"" if self.missing else self.source.lookahead(2 * TAIL)
        if ahead and b"\n" not in ahead:  # an ARC header line (a long URL) may run past 2 * TAIL bytes
            ahead = self.source.lookahead(MAX_LINE)
        ahead = ahead[: ahead.find(b"\n") + 1] if b"\n" in ahead else ahead
        straddles = False  # the header starts inside the block and ends after it: what follows is its rest
        if boundary is None and self.tail:  # the block's last bytes ate part of the next record's header
            found = self.pattern.search(self.tail + ahead)
            if found and found.start(1) < len(self.tail):
                boundary = self.position - len(self.tail) + found.start(1)
                straddles = found.end(1) > len(self.tail)
        if boundary is None:
            return None
        if not (self.missing or self.ends_early or straddles):
            ahead = self.source.lookahead(MAX_LINE)  # past blank lines, the whole of an ARC header line
            if self.source.deferred is None and starts_record(ahead, self.kind or "warc"):
                return None  # what follows is a record: the header inside the block is the payload's
        self._overrun = boundary
        return self._overrun
