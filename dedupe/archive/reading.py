"""An archive this process cannot write (a read-only folder, file or mount), read as it is.

Why a class of its own: ``Archive`` migrates and refreshes on opening, which writes; reading an archive that
cannot be written must do neither, and must say so when what it reads lags behind (its derived tables as the
last writer left them). The CLI opens it for a command that only reads (``cli.open_archive``); what it says is
handed to a callback, so the command decides where the sentence goes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..migrations import migrations
from . import ReadOnlyArchive
from .base import ArchiveError, Closable, open_archive_file, unwritable
from .crawl_runs import CrawlRuns
from .derivation import DerivedRecords


class ReadingArchive(ReadOnlyArchive, Closable):
    """An archive this process cannot write, read as it is (``base.read_only_mode``: SQLite's ``mode=ro``, with
    ``immutable=1`` when its folder is read-only): the reading part, the crawl runs and the check (which writes
    only into a temporary copy). Nothing is upgraded or refreshed: an archive that needs an upgrade is refused
    (ArchiveError), one whose derived tables lag behind its snapshots is read as its last writer left it and
    ``on_note`` is told so in one sentence (a reader would otherwise take old answers for current ones)."""

    def __init__(self, db_path: str | Path, mode: str, on_note: Callable[[str], None] | None = None) -> None:
        self.path = Path(db_path)
        why = self.why = unwritable(db_path)
        try:
            conn = open_archive_file(db_path, mode).conn  # refused before the reading part reads its first table
        except sqlite3.Error as exc:
            raise ArchiveError(f"{db_path} is not a usable SQLite database ({exc}; {why})") from None
        try:
            super().__init__(conn)
            if pending := [step.name for step in migrations.pending(self.db)]:
                raise ArchiveError(
                    f"{db_path} was made by an older pa-archive and needs an upgrade ({len(pending)} schema "
                    f"step(s)) that cannot be written: {why}; run a command of this version once where it can be "
                    "written"
                )
            self.runs = CrawlRuns(self.db)
            self.derived = DerivedRecords(self.db, self.codec, self)  # type: ignore[arg-type] - reads only
            if self.derived.is_stale() and on_note is not None:
                on_note(
                    f"{db_path} cannot be written ({why}): it is read as its last writer left it, without "
                    "deriving its newest snapshots."
                )
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise ArchiveError(f"{db_path} is not a usable SQLite database ({exc}; {why})") from None
        except BaseException:
            conn.close()
            raise

    def check(self, on_phase: Callable[[str], None] | None = None) -> dict[str, list[str]]:
        """``DerivedRecords.check`` when the derived tables are up to date; ArchiveError when they lag behind,
        since the check refreshes them first and here that would be a write."""
        if self.derived.is_stale():
            raise ArchiveError(
                f"{self.path} cannot be written ({self.why}) and its derived tables lag behind its newest "
                "snapshots: a check compares them after a refresh; run it where the archive can be written"
            )
        return self.derived.check(on_phase=on_phase)
