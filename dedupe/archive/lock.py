"""The archive's one writer lock: a crawl, an import, a backfill, a rebuild and a compact never interleave.

An exclusive, non-blocking ``flock`` on ``<archive>.lock``, released when its holder ends, even
killed (the kernel drops it). Its file holds a note on the holder (pid, start, command) so the
writer refused can say who holds it, in one sentence. SQLite's own lock orders single
transactions; this one keeps a whole run (its row, its pages, its summary) to itself.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .base import ArchiveError

EXIT_LOCKED = 75  # EX_TEMPFAIL: another writer holds the archive; try again later
HOLDERS = {
    "crawl": "another crawl",
    "import": "an import",
    "backfill": "a backfill",
    "rebuild": "a rebuild",
    "compact": "a compact",
}
DONE = {
    "crawl": "crawled",
    "import": "imported",
    "backfill": "backfilled",
    "rebuild": "rebuilt",
    "compact": "compacted",
}


class WriterLocked(Exception):
    """Another writer holds this archive (one sentence naming it)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError):
        return True
    return True


class WriterLock:
    """An exclusive, non-blocking ``flock`` on ``<db>.lock``, released when the holder exits (even killed)."""

    def __init__(self, db_path: str | Path) -> None:
        self.path = Path(f"{db_path}.lock")
        self._handle: Any = None

    def acquire(self, command: str, note: dict[str, Any] | None = None, if_locked: str = "") -> None:
        """Take the lock for ``command`` (crawl, import, backfill, rebuild, compact) or raise WriterLocked, whose
        sentence ends with ``if_locked`` (what the refused writer did not do); ArchiveError (one sentence)
        when the lock file cannot be written."""
        folder = self.path.parent
        if not folder.is_dir():  # a mistyped --db: refused, never created
            raise ArchiveError(f"cannot lock {self.path.name[:-5]}: the folder {folder} does not exist")
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release(), not a block
        except OSError as exc:
            raise ArchiveError(f"cannot write the archive's lock file {self.path} ({exc.strerror or exc})") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(handle)
            handle.close()
            consequence = if_locked or f"nothing was {DONE.get(command, 'written')}; try again when it has finished"
            raise WriterLocked(self._refusal(holder, consequence)) from None
        handle.seek(0)
        handle.truncate()
        started = datetime.now(timezone.utc).isoformat(timespec="seconds")
        handle.write(json.dumps({"pid": os.getpid(), "started_at": started, "command": command, **(note or {})}))
        handle.flush()
        self._handle = handle

    def _refusal(self, holder: dict[str, Any], consequence: str) -> str:
        what, who = _described(holder)
        if holder.get("pid") and not _alive(holder["pid"]):
            who = f" (pid {holder['pid']} has ended; its archive writer is still stopping, try again in a moment)"
        return f"{what} is already writing {self.path.name[:-5]}{who}; {consequence} (the lock is {self.path})"

    def release(self) -> None:
        if self._handle is not None:
            self._handle.truncate(0)  # no stale holder note for the next one to report
            self._handle.flush()
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None


def _holder(handle: Any) -> dict[str, Any]:
    """The note the lock's holder wrote ({} when there is none or it cannot be read)."""
    handle.seek(0)
    try:
        found = json.loads(handle.read() or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def holder(db_path: str | Path) -> dict[str, Any] | None:
    """The note of the writer holding ``db_path``'s lock now (pid, started_at, command...), read without
    taking the lock (a reader must never make a writer starting at that moment fail); ``{}`` when no writer
    holds it: no lock file (no writer ever ran), an empty note (its holder released it) or a note whose process
    has ended (a killed holder: the kernel dropped its lock, the note stays). None when the note cannot be read."""
    try:
        with open(f"{db_path}.lock", encoding="utf-8") as handle:
            note = _holder(handle)
    except FileNotFoundError:
        return {}
    except OSError:
        return None
    if not note.get("pid") or not _alive(note["pid"]):
        return {}
    return note


def waiting_for(db_path: str | Path, seconds: float) -> str:
    """The line a writer says when it starts waiting (``--wait``) for the one holding ``db_path``'s lock."""
    note = holder(db_path) or {}
    what, who = _described(note)
    what = what if note else "another writer"
    return f"{what}{who} is writing {Path(db_path).name}: waiting up to {seconds:g} s for it to finish."


def _described(note: dict[str, Any]) -> tuple[str, str]:
    """(what holds the lock, ' (pid N, started T)'), from the holder's note (a note without a command: a crawl's)."""
    what = HOLDERS.get(note.get("command") or "crawl", "another writer")
    who = f" (pid {note['pid']}, started {note.get('started_at', '?')})" if note.get("pid") else ""
    return what, who


@contextlib.contextmanager
def writing(db_path: str | Path, command: str, if_locked: str = "") -> Iterator[WriterLock]:
    """The writer lock held for a block (``with writing(db, "import"): ...``)."""
    lock = WriterLock(db_path)
    lock.acquire(command, if_locked=if_locked)
    try:
        yield lock
    finally:
        lock.release()
