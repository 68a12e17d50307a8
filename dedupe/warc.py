"""Read web archives (WARC, WARC.gz, ARC, WACZ) into observations the archive ingests.

Other tools (Heritrix, Browsertrix, ``wget --warc-file``, pywb) keep what they fetched in WARC
files; this module turns their records into ``RawSnapshot`` items so they take the same path
as a crawl or an import:

- a ``response`` (or an HTML ``resource``) is an observation: WARC-Target-URI, WARC-Date,
  HTTP status and headers (without Set-Cookie), the payload as the raw content;
- a ``revisit`` is the content it refers to, seen again: the referred payload found earlier in
  the same file is passed again (the archive's content hash makes it "seen again"); when it is
  not in the file, a 304 without a body re-links the URL's latest stored content;
- ``request``, ``metadata``, ``warcinfo``, DNS and non-HTML records are skipped and counted;
- a record whose digest does not match, or whose payload is cut short, is one ``SourceError``
  naming the file and the record's offset; the records after it are still read.

Re-reading the same file yields the same observations, which the archive recognises (same
URL, time and content) and does not store again.
"""

from __future__ import annotations

import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .document import PRIVATE_HEADERS, REMOVED_STATUSES, RawSnapshot, SourceError, check_url

HTML_TYPES = {"text/html", "application/xhtml+xml", "text/plain"}
MAX_REVISIT_CACHE = 256 * 2**20  # payload bytes kept in memory to resolve revisits within one file
WACZ_MEMBER_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")


@dataclass
class ReadSummary:
    """What one web archive file held: observations passed on and records skipped, by reason."""

    where: str
    observations: int = 0
    revisits: int = 0
    skipped: Counter = field(default_factory=Counter)
    errors: int = 0

    def __str__(self) -> str:
        skipped = ", ".join(f"{n} {why}" for why, n in sorted(self.skipped.items()))
        return (
            f"{self.where}: {self.observations} observation(s) ({self.revisits} revisit(s)), "
            f"{sum(self.skipped.values())} record(s) skipped{' (' + skipped + ')' if skipped else ''}, "
            f"{self.errors} bad record(s)"
        )


# ----------------------------------------------------------------------------- detection


def sniff(head: bytes) -> str | None:
    """'warc', 'arc' or 'wacz' from a file's first bytes (None: not a web archive).

    Told by content, like every other input: a gzip member is opened to look for 'WARC/' or an
    ARC header, a zip for an ``archive/`` folder of WARCs (checked by ``is_wacz``)."""
    if head.startswith(b"WARC/"):
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


def _gunzip_head(head: bytes) -> bytes:
    """The first decompressed bytes of a gzip stream of which only the start is at hand."""
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 64)


def is_wacz(path: Path) -> bool:
    """A zip holding at least one archive/*.warc[.gz] member."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(_is_wacz_member(name) for name in zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _is_wacz_member(name: str) -> bool:
    return name.startswith("archive/") and name.endswith(WACZ_MEMBER_SUFFIXES)


def detect(path: Path) -> str | None:
    """'warc', 'arc' or 'wacz' when ``path`` is a web archive, told by its content."""
    try:
        with path.open("rb") as handle:
            kind = sniff(handle.read(4096))
    except OSError:
        return None
    if kind == "wacz" and not is_wacz(path):
        return None
    return kind


# ----------------------------------------------------------------------------- reading


def read_web_archive(path: Path, summaries: list[ReadSummary] | None = None) -> Iterator[RawSnapshot | SourceError]:
    """Every observation (or bad record) in a WARC, ARC or WACZ file; its summary appended at the end."""
    kind = detect(path)
    if kind == "wacz":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            yield SourceError(str(path), f"unreadable WACZ ({exc})")
            return
        with zf:
            for name in sorted(n for n in zf.namelist() if _is_wacz_member(n)):
                with zf.open(name) as member:
                    yield from read_stream(member, f"{path}!{name}", "wacz", summaries)
        return
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield SourceError(str(path), exc.strerror or str(exc))
        return
    with handle:
        yield from read_stream(handle, str(path), "warc", summaries)


def read_stream(
    handle: IO[bytes], where: str, source: str = "warc", summaries: list[ReadSummary] | None = None
) -> Iterator[RawSnapshot | SourceError]:
    """The records of one WARC/ARC stream (gzipped or not) as observations; see the module's doc."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    summary = ReadSummary(where)
    payloads = _PayloadCache(MAX_REVISIT_CACHE)
    records = ArchiveIterator(handle, arc2warc=True, check_digests=True)
    offset = 0  # of the record being read: where an error is reported
    try:
        for record in records:
            try:
                item = _observe(record, where, source, payloads, summary)
            except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
                item = SourceError(where, f"unreadable record ({_one_line(exc)})")
            offset = records.get_record_offset()
            if isinstance(item, SourceError):
                summary.errors += 1
                yield SourceError(f"{where}@{offset}", item.message)
            elif item is not None:
                yield item
            offset += records.get_record_length()
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        summary.errors += 1
        yield SourceError(f"{where}@{offset}", f"the file cannot be read from here on ({_one_line(exc)})")
    if summaries is not None:
        summaries.append(summary)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__


def _observe(
    record, where: str, source: str, payloads: _PayloadCache, summary: ReadSummary
) -> RawSnapshot | SourceError | None:
    """One record as an observation, an error, or None (skipped and counted)."""
    rec_type = record.rec_type
    if rec_type not in ("response", "resource", "revisit"):
        summary.skipped[rec_type or "unknown"] += 1
        return None
    url = (record.rec_headers.get_header("WARC-Target-URI") or "").strip("<> ")
    if url.startswith("dns:"):
        summary.skipped["dns"] += 1
        return None
    try:
        url = check_url(url)
    except ValueError:
        summary.skipped["not http(s)"] += 1
        return None
    observed = warc_date(record.rec_headers.get_header("WARC-Date") or "")
    if observed is None:
        return SourceError(where, f"record of {url} has no valid WARC-Date")
    status, headers = _http_part(record)
    mime = (
        (headers.get("Content-Type") or record.rec_headers.get_header("Content-Type") or "")
        .split(";")[0]
        .strip()
        .lower()
    )
    if rec_type == "response" and record.http_headers is None:
        summary.skipped["no HTTP headers"] += 1
        return None
    body = record.content_stream().read()
    record.raw_stream.read()  # the rest (after a content-encoding), so the digests are complete
    if getattr(record.raw_stream, "limit", 0):
        return SourceError(where, f"payload of {url} is truncated ({record.raw_stream.limit} bytes missing)")
    checker = getattr(record, "digest_checker", None)
    if checker is not None and checker.passed is False:
        return SourceError(where, f"record of {url} fails its digest ({'; '.join(checker.problems)[:120]})")
    charset = _charset(headers.get("Content-Type") or "")
    base = dict(
        url=url,
        observed_at=observed,
        source=source,
        origin=f"{where}",
        http_status=status,
        headers=headers,
        declared_charset=charset,
    )
    if rec_type == "revisit":
        target = record.rec_headers.get_header("WARC-Refers-To-Target-URI") or url
        referred = payloads.get(
            record.rec_headers.get_header("WARC-Payload-Digest"),
            target,
            warc_date(record.rec_headers.get_header("WARC-Refers-To-Date") or ""),
        )
        summary.revisits += 1
        summary.observations += 1
        if referred is None:  # not in this file: the URL's latest stored content, seen again
            return RawSnapshot(**{**base, "http_status": 304, "headers": {}}, body=None)
        stored_status, stored_headers, payload = referred
        stored_headers = stored_headers or headers
        return RawSnapshot(
            **{
                **base,
                "http_status": stored_status,
                "headers": stored_headers,
                "declared_charset": _charset(stored_headers.get("Content-Type") or ""),
            },
            body=payload,
        )
    if status in REMOVED_STATUSES:
        summary.observations += 1
        return RawSnapshot(**base, body=None)
    if status is not None and not 200 <= status < 300:
        summary.skipped[f"HTTP {status}"] += 1
        return None
    if mime and mime not in HTML_TYPES:
        summary.skipped["not HTML"] += 1
        return None
    payloads.put(record.rec_headers.get_header("WARC-Payload-Digest"), url, observed, (status, headers, body))
    summary.observations += 1
    return RawSnapshot(**base, body=body)


def _http_part(record) -> tuple[int | None, dict[str, str]]:
    """HTTP status and headers (Set-Cookie dropped, repeated names joined) of a record."""
    http = record.http_headers
    if http is None:
        return None, {}
    try:
        status = int((http.get_statuscode() or "0")[:3]) or None
    except ValueError:
        status = None
    headers: dict[str, str] = {}
    for name, value in http.headers:
        if name.lower() in PRIVATE_HEADERS:
            continue
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return status, headers


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            return value.strip().strip("\"'")
    return None


def warc_date(value: str) -> str | None:
    """A WARC-Date (ISO 8601, any precision) or a 14-digit timestamp as the archive's UTC ISO string."""
    from .timestamps import TimestampError, parse

    value = value.strip()
    if not value:
        return None
    try:
        return parse(value, "WARC-Date")  # the archive's one timestamp: 1991 to tomorrow, zero-padded
    except TimestampError:
        return None


class _PayloadCache:
    """Payloads seen earlier in one file, by digest and by (URL, date), to resolve revisits.

    Bounded in bytes: the oldest are forgotten first; a revisit whose payload was forgotten
    falls back to a 304 (the URL's latest stored content)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.by_digest: dict[str, tuple] = {}
        self.by_capture: dict[tuple[str, str | None], tuple] = {}

    def put(self, digest: str | None, url: str, observed: str, entry: tuple) -> None:
        if digest:
            self.by_digest[digest] = entry
        self.by_capture[(url, observed)] = entry
        self.size += len(entry[2])
        while self.size > self.max_bytes and self.by_capture:
            old = self.by_capture.pop(next(iter(self.by_capture)))
            self.size -= len(old[2])
            for key in [k for k, v in self.by_digest.items() if v is old]:
                del self.by_digest[key]

    def get(self, digest: str | None, url: str, observed: str | None) -> tuple | None:
        if digest and digest in self.by_digest:
            return self.by_digest[digest]
        return self.by_capture.get((url, observed))
