"""Where imported snapshots come from: files, folders, globs and JSON Lines.

Each input yields either a ``RawSnapshot`` or a ``SourceError`` naming the input, so one bad
file never stops the batch and never leaves a partial record.
"""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .bounded import bounded_lines  # noqa: F401 - also imported from here
from .document import (
    MAX_BODY_BYTES,
    MAX_URL_CHARS,
    RawSnapshot,
    SourceError,
    check_url,
    parse_observed_at,
    strip_userinfo,
    utc_iso,
)
from .pages import page_kind

JSONL_SUFFIXES = {".jsonl", ".ndjson"}
MAX_FILE_BYTES = MAX_BODY_BYTES  # a file, or one JSON Lines record
MAX_NUMBER_DIGITS = 100  # a JSON number: the longest any field needs is epoch seconds (10 digits and a fraction)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_COMPRESSED = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}


def expand(inputs: Iterable[str], skipped: list[str] | None = None) -> Iterator[Path | SourceError]:
    """Files named, found in folders (recursively, sorted) or matched by globs.

    An entry that cannot be read (a folder without permission, a link into /proc) is a ``SourceError`` of its
    own, and the rest is still found. A dangling symbolic link in a folder or matched by a glob is no error:
    it is appended to ``skipped`` ("<path>: dangling symbolic link") when that list is given."""
    for item in inputs:
        if not item:
            yield SourceError(item, "empty path")  # Path("") is the current folder: never imported unasked
            continue
        path = Path(item)
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            if item == "-":
                yield SourceError(item, "standard input cannot be imported; save it to a file and name that file")
            elif any(ch in item for ch in "*?["):
                matches = pattern_matches(item)
                found = [entry for entry in (_file_or_error(m, skipped) for m in matches) if entry is not None]
                if not found:
                    yield SourceError(
                        item, "no regular file matches this pattern" if matches else "no file matches this pattern"
                    )
                yield from found
            elif os.path.islink(path):
                yield SourceError(item, "dangling symbolic link")
            elif isinstance(exc, FileNotFoundError):
                yield SourceError(item, "no such file or folder")
            else:
                yield SourceError(item, os_reason(exc))
            continue
        if stat.S_ISDIR(mode):
            found = walk_folder(path, skipped)
            if not found:
                yield SourceError(item, "folder contains no files")
            yield from found
        elif stat.S_ISREG(mode):
            yield path
        else:
            yield SourceError(item, "not a regular file or folder")


def pattern_matches(pattern: str) -> list[Path]:
    """The paths a shell-style pattern names (``pages/**/*.html``), sorted, as ``glob.glob`` gives them (hidden
    names only where the pattern spells the dot) but through ``pathlib``, whose ``**`` does not follow links to
    folders: ``glob.glob`` did, and a folder linking back to its parent made it run without end (as
    ``walk_folder``, a link to a folder is not followed)."""
    parts = Path(pattern).parts
    first = next(i for i, part in enumerate(parts) if any(ch in part for ch in "*?["))
    anchor = Path(*parts[:first]) if first else Path()
    rest = Path(*parts[first:])
    dotted = any(part.startswith(".") for part in rest.parts)
    return sorted(
        match
        for match in anchor.glob(str(rest))
        if dotted or not any(part.startswith(".") for part in match.relative_to(anchor).parts)
    )


def walk_folder(folder: Path, skipped: list[str] | None = None) -> list[Path | SourceError]:
    """The regular files under ``folder`` (recursively, sorted by path; names starting with a dot, and links to
    folders, left out), with a ``SourceError`` in its place for each entry that cannot be read."""
    found: list[tuple[Path, Path | SourceError]] = []
    pending = [folder]
    while pending:  # a stack, not recursion: any depth of folders
        current = pending.pop()
        try:
            with os.scandir(current) as listing:
                entries = list(listing)
        except OSError as exc:
            found.append((current, SourceError(str(current), os_reason(exc))))
            continue
        for entry in entries:
            path = current / entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                    continue
                if entry.is_file(follow_symlinks=False):  # the common case, known from the listing: no stat
                    if not entry.name.startswith("."):
                        found.append((path, path))
                    continue
            except OSError as exc:
                found.append((path, SourceError(str(path), os_reason(exc))))
                continue
            if not entry.name.startswith("."):  # a link, a pipe, a device: what it is takes a stat
                kept = _file_or_error(path, skipped)
                if kept is not None:
                    found.append((path, kept))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])]


def _file_or_error(path: Path, skipped: list[str] | None) -> Path | SourceError | None:
    """``path`` if it is a regular file (or a link to one), its error if it cannot be read, None otherwise
    (a folder; a dangling link, a link to a folder, a device, a pipe or a socket, each added to ``skipped``: a
    pipe or a device is never opened, reading one could block or never end)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if os.path.islink(path) and skipped is not None:
            skipped.append(f"{shown_path(path)}: dangling symbolic link")
        return None
    except OSError as exc:
        return SourceError(str(path), os_reason(exc))
    if stat.S_ISREG(mode):
        return path
    if skipped is not None:
        if not stat.S_ISDIR(mode):
            skipped.append(f"{shown_path(path)}: not a regular file (a pipe, a device or a socket)")
        elif os.path.islink(path):
            skipped.append(f"{shown_path(path)}: symbolic link to a folder (not followed)")
    return None


def os_reason(exc: OSError) -> str:
    """Why the system refused, as the part of a sentence a person reads: "permission denied"."""
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


def printable_path(path: Path | str) -> str:
    """The path as text that can be printed and stored: bytes that are not UTF-8 shown as ``\\xff``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def shown_path(path: Path | str) -> str:
    """``printable_path`` with control characters escaped (a newline as ``\\n``, ESC as ``\\x1b``): a file name
    holding them keeps its error to one line and cannot drive the terminal that prints it."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], printable_path(path))


def read_file(
    path: Path, summaries: list | None = None, observed_at: str | None = None
) -> Iterator[RawSnapshot | SourceError]:
    """One snapshot per file, one per line for JSON Lines, one per record for web archives.

    A WARC, ARC or WACZ file is told by its content (see ``dedupe.webarchive.warc.detect``); what it
    held is appended to ``summaries`` (``dedupe.webarchive.warc.ReadSummary``) when given. A file whose
    name is not UTF-8 is one error: it could be neither stored nor printed, and must not cost
    the rest of the batch. ``observed_at`` (normalised, see ``parse_observed_at``) is the observation time
    of a plain file or of every JSON Lines record, instead of the file's mtime or the record's field; a web
    archive's records keep their own capture times."""
    if printable_path(path) != str(path):
        yield SourceError(printable_path(path), "file name is not valid UTF-8 (rename the file to import it)")
        return
    if path.suffix.lower() in JSONL_SUFFIXES:
        yield from read_jsonl(path, observed_at)
        return
    from .webarchive import warc  # WARC, ARC, WACZ: warcio is imported only for them

    if warc.detect(path):
        yield from warc.read_web_archive(path, summaries)
        return
    where = shown_path(path)
    try:
        with path.open("rb") as handle:
            body = handle.read(MAX_FILE_BYTES + 1)  # never more than the cap, even if the file grows
            mtime = os.fstat(handle.fileno()).st_mtime
    except OSError as exc:
        yield SourceError(where, os_reason(exc))
        return
    if len(body) > MAX_FILE_BYTES:
        yield SourceError(where, f"file is larger than {MAX_FILE_BYTES // 2**20} MB")
        return
    if warc.is_cdx_index(body):
        yield SourceError(where, "a CDX index, not a page or a web archive: import the WARC or WACZ files it lists")
        return
    try:
        observed = observed_at or utc_iso(datetime.fromtimestamp(mtime, timezone.utc))
    except (OverflowError, OSError, ValueError):  # a modification time outside 1991..tomorrow (dedupe.timestamps)
        yield SourceError(where, _refused_mtime(mtime))
        return
    url = path.resolve().as_uri()
    yield RawSnapshot(
        url=url, observed_at=observed, body=body, source="import", origin=where, page_type=page_kind(url, body)
    )


def _compression(head: bytes) -> str | None:
    """The compression whose magic bytes ``head`` starts with, or None (a JSON Lines file's: a plain file's bytes are
    the archive's to judge, and refused there as binary content)."""
    return next((name for magic, name in _COMPRESSED.items() if head.startswith(magic)), None)


def _refused_mtime(mtime: float) -> str:
    """Why a file's modification time cannot be its observation time, as one sentence."""
    from .timestamps import EARLIEST, latest

    try:
        when = f"{datetime.fromtimestamp(mtime, timezone.utc):%Y-%m-%d %H:%M:%S} UTC"
    except (OverflowError, OSError, ValueError):
        when = f"{mtime:.0f} seconds from 1970"
    return (
        f"its modification time ({when}) is not from {EARLIEST:%Y-%m-%d} to {latest():%Y-%m-%d}; "
        "give the time the page was seen with --observed-at"
    )


def read_jsonl(path: Path, observed_at: str | None = None) -> Iterator[RawSnapshot | SourceError]:
    """``{"url", "observed_at", "text"|"html"}`` per line (``observed_at`` given: the time of every line);
    a bad line is an error of its own, and a file that holds no line at all (empty, or only blank lines) is one
    error. Lines are UTF-8 (a byte order mark on a line is ignored: files joined with ``cat`` keep theirs); a
    UTF-16 or UTF-32 file is one error saying so."""
    where_file = shown_path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield SourceError(where_file, os_reason(exc))
        return
    records = 0
    with handle:
        size = os.fstat(handle.fileno()).st_size  # what a writer appends meanwhile is the next import's
        for number, raw in bounded_lines(handle, MAX_FILE_BYTES, total=size):
            where = f"{where_file}:{number}"
            if number == 1 and raw is not None and raw.startswith(_WIDE_BOMS):
                yield SourceError(where_file, "file is UTF-16 or UTF-32, not UTF-8 (save it as UTF-8 to import it)")
                return
            if number == 1 and raw is not None and (compression := _compression(raw)):
                yield SourceError(where_file, f"{compression}-compressed (decompress it to import it)")
                return
            if raw is None:
                records += 1
                yield SourceError(where, f"record is larger than {MAX_FILE_BYTES // 2**20} MB")
                continue
            if not raw.strip():
                continue
            records += 1
            try:
                yield _jsonl_record(raw, where, observed_at)
            except ValueError as exc:
                yield SourceError(where, str(exc))
    if not records:
        yield SourceError(where_file, "file holds no JSON Lines record (it is empty)")


_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _jsonl_record(raw: bytes, where: str, observed_at: str | None) -> RawSnapshot:
    """One JSON Lines record as a snapshot; ValueError (one sentence) for a line that cannot be one."""
    try:
        line = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ValueError("line is not valid UTF-8") from None
    if "\x00" in line:  # never valid JSON (control characters must be escaped); json.loads would misname it
        raise ValueError("line contains NUL bytes (JSON Lines must be UTF-8 text, not UTF-16)")
    try:
        record = json.loads(line, parse_int=_json_int)
    except json.JSONDecodeError as exc:
        raise ValueError(f"malformed JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    if not isinstance(record, dict):
        raise ValueError("a line must be a JSON object")
    url = record_url(unicode_field(record, "url"))
    if observed_at is None and record.get("observed_at") is None:
        raise ValueError("observed_at is missing (give it in the line, or --observed-at for the whole file)")
    observed = observed_at or parse_observed_at(unicode_field(record, "observed_at"))
    kinds = [k for k in ("html", "text") if isinstance(record.get(k), str)]
    if len(kinds) != 1:
        raise ValueError('a line needs exactly one of "text" or "html" (a string)')
    body = str(unicode_field(record, kinds[0])).encode("utf-8")
    return RawSnapshot(url=url, observed_at=observed, body=body, source="import", origin=where, kind_hint=kinds[0])


def _json_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise ValueError(f"a number in the line has more than {MAX_NUMBER_DIGITS} digits")
    return int(digits)


def record_url(value: object) -> str:
    """A JSON Lines record's url as the archive keeps it (``check_url``), or ValueError (one sentence): at most
    ``MAX_URL_CHARS``, an http(s) URL with a host, and stored without ``user:password@`` (a credential is never
    kept or shown, as from a web archive) and without its ``#fragment`` (never sent to a server: ``page#top`` is
    the page)."""
    if isinstance(value, str) and len(value) > MAX_URL_CHARS:
        raise ValueError(f"url is longer than {MAX_URL_CHARS:,} characters")
    try:
        url = check_url(value)
        parts = urlsplit(url)
        parts.port  # noqa: B018 - ValueError for a port out of range or not a number
    except ValueError as exc:
        reason = str(exc)
        if reason.startswith("url "):
            raise
        raise ValueError(f"url is not a valid URL ({reason[:1].lower() + reason[1:]})") from None
    if parts.scheme.lower() in ("http", "https") and not parts.hostname:
        raise ValueError("url has no host")
    url = strip_userinfo(urlunsplit(parts._replace(fragment="")))
    if len(url) > MAX_URL_CHARS:  # percent-encoding made it longer
        raise ValueError(f"url is longer than {MAX_URL_CHARS:,} characters once percent-encoded")
    return url


def unicode_field(record: dict, name: str) -> object:
    """``record[name]`` (None when absent); a string holding a lone surrogate (``"\\ud800"`` is valid JSON but
    not Unicode text) is refused with the field's name."""
    value = record.get(name)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{name}: contains a lone surrogate (invalid Unicode)") from None
    return value


def read_sources(
    items: Iterable[Path | SourceError], summaries: list | None = None, observed_at: str | None = None
) -> Iterator[RawSnapshot | SourceError]:
    """Every snapshot (or error) from expanded inputs, reading one file at a time (``observed_at``: see
    ``read_file``)."""
    for item in items:
        for found in [item] if isinstance(item, SourceError) else read_file(item, summaries, observed_at):
            if isinstance(found, SourceError) and shown_path(found.where) != found.where:
                found = SourceError(shown_path(found.where), found.message)  # noqa: PLW2901 - printable, one line
            yield found


def read_inputs(inputs: Iterable[str]) -> Iterator[RawSnapshot | SourceError]:
    """Every snapshot (or error) from files, folders, globs and JSON Lines files."""
    return read_sources(expand(inputs))
