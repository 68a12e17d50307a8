"""``ReadingArchive``, the library's reading of an archive that cannot be written: what it notes goes to its
caller's callback (the CLI prints it), never straight to the terminal, and its refusals are ArchiveErrors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dedupe.archive import Archive, ArchiveError
from dedupe.archive.base import IMMUTABLE, READ_ONLY
from dedupe.archive.reading import ReadingArchive
from tests.support.crawl import ARTICLES, snap
from tests.unit.archive.test_read_only import not_writable


@pytest.fixture
def stale(tmp_path: Path) -> Path:
    """An archive whose newest snapshot is stored but not derived yet (a writer would refresh it first)."""
    db = tmp_path / "a.db"
    with Archive(db) as archive:
        archive.ingest([snap(ARTICLES[0], "2025-10-19T09:00:00Z")], workers=1)
        archive.add(snap(ARTICLES[1], "2025-10-20T09:00:00Z"))
    return db


def test_a_stale_archive_is_noted_through_the_callback_only(
    stale: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(os, "access", not_writable(stale.parent, stale))
    notes: list[str] = []
    with ReadingArchive(stale, IMMUTABLE, on_note=notes.append) as archive:
        assert archive.counts()["snapshots"] == 2
        with pytest.raises(ArchiveError, match="its derived tables lag behind its newest snapshots"):
            archive.check()
    assert notes == [
        f"{stale} cannot be written (its folder {stale.parent} is read-only): it is read as its last writer left "
        "it, without deriving its newest snapshots."
    ]
    with ReadingArchive(stale, IMMUTABLE):  # no callback: nothing said
        pass
    printed = capsys.readouterr()
    assert printed.out == printed.err == ""


def test_an_up_to_date_archive_is_read_and_checked_without_a_note(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Archive(db) as archive:
        archive.ingest([snap(ARTICLES[0], "2025-10-19T09:00:00Z")], workers=1)
    notes: list[str] = []
    with ReadingArchive(db, READ_ONLY, on_note=notes.append) as archive:
        assert archive.check() == {}
    assert notes == []


def test_a_file_that_is_no_archive_is_refused_in_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(ArchiveError, match="is not a usable SQLite database"):
        ReadingArchive(tmp_path / "junk.db", READ_ONLY)
