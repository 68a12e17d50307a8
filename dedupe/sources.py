"""Where imported snapshots come from: files, folders, globs and JSON Lines.

Each input yields either a ``RawSnapshot`` or a ``SourceError`` naming the input, so one bad
file never stops the batch and never leaves a partial record.
"""

from __future__ import annotations

import glob
import json
import os
import stat
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path

from .bounded import bounded_lines  # noqa: F401 - also imported from here
from .document import MAX_BODY_BYTES, RawSnapshot, SourceError, check_url, parse_observed_at, utc_iso
from .pages import page_kind

JSONL_SUFFIXES = {".jsonl", ".ndjson"}
MAX_FILE_BYTES = MAX_BODY_BYTES  # a file, or one JSON Lines record


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
            if any(ch in item for ch in "*?["):
                matches = sorted(Path(p) for p in glob.glob(item, recursive=True))
                found = [entry for entry in (_file_or_error(m, skipped) for m in matches) if entry is not None]
                if not found:
                    yield SourceError(item, "no file matches this pattern")
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
    (a folder, a device, a pipe; a dangling link, which is added to ``skipped``)."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if os.path.islink(path) and skipped is not None:
            skipped.append(f"{printable_path(path)}: dangling symbolic link")
        return None
    except OSError as exc:
        return SourceError(str(path), os_reason(exc))
    return path if stat.S_ISREG(mode) else None


def os_reason(exc: OSError) -> str:
    """Why the system refused, as the part of a sentence a person reads: "permission denied"."""
    reason = exc.strerror or str(exc)
    return reason[:1].lower() + reason[1:]


def printable_path(path: Path | str) -> str:
    """The path as text that can be printed and stored: bytes that are not UTF-8 shown as ``\\xff``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


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
    try:
        with path.open("rb") as handle:
            body = handle.read(MAX_FILE_BYTES + 1)  # never more than the cap, even if the file grows
            observed = observed_at or utc_iso(datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, timezone.utc))
    except OSError as exc:
        yield SourceError(str(path), os_reason(exc))
        return
    except ValueError as exc:  # a modification time outside 1991..tomorrow (dedupe.timestamps)
        yield SourceError(str(path), f"its modification {exc}; give the time with --observed-at")
        return
    if len(body) > MAX_FILE_BYTES:
        yield SourceError(str(path), f"file is larger than {MAX_FILE_BYTES // 2**20} MB")
        return
    url = path.resolve().as_uri()
    yield RawSnapshot(
        url=url, observed_at=observed, body=body, source="import", origin=str(path), page_type=page_kind(url, body)
    )


def read_jsonl(path: Path, observed_at: str | None = None) -> Iterator[RawSnapshot | SourceError]:
    """``{"url", "observed_at", "text"|"html"}`` per line (``observed_at`` given: the time of every line);
    a bad line is an error of its own."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        yield SourceError(str(path), os_reason(exc))
        return
    with handle:
        for number, raw in bounded_lines(handle, MAX_FILE_BYTES):
            where = f"{path}:{number}"
            if raw is None:
                yield SourceError(where, f"record is larger than {MAX_FILE_BYTES // 2**20} MB")
                continue
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
                if not isinstance(record, dict):
                    raise ValueError("a line must be a JSON object")
                url = check_url(unicode_field(record, "url"))
                observed = observed_at or parse_observed_at(unicode_field(record, "observed_at"))
                kinds = [k for k in ("html", "text") if isinstance(record.get(k), str)]
                if len(kinds) != 1:
                    raise ValueError('a line needs exactly one of "text" or "html" (a string)')
                body = unicode_field(record, kinds[0]).encode("utf-8")
            except UnicodeDecodeError:
                yield SourceError(where, "line is not valid UTF-8")
                continue
            except UnicodeEncodeError:  # every field read is checked first: a last guard, not a path
                yield SourceError(where, "a field contains a lone surrogate (invalid Unicode)")
                continue
            except json.JSONDecodeError as exc:
                yield SourceError(where, f"malformed JSON ({exc.msg} at column {exc.colno})")
                continue
            except (ValueError, RecursionError) as exc:
                message = "JSON nested too deeply" if isinstance(exc, RecursionError) else str(exc)
                yield SourceError(where, message)
                continue
            yield RawSnapshot(
                url=url, observed_at=observed, body=body, source="import", origin=where, kind_hint=kinds[0]
            )


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
        if isinstance(item, SourceError):
            yield (
                SourceError(printable_path(item.where), item.message)
                if printable_path(item.where) != item.where
                else item
            )
        else:
            yield from read_file(item, summaries, observed_at)


def read_inputs(inputs: Iterable[str]) -> Iterator[RawSnapshot | SourceError]:
    """Every snapshot (or error) from files, folders, globs and JSON Lines files."""
    return read_sources(expand(inputs))
