"""How an archive that cannot be written is read (``read_only_mode``): decided from ``os.access`` (mocked here:
the tests run as root, whom chmod does not stop) and the files beside it."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from dedupe.archive import Archive, ArchiveError
from dedupe.archive.base import IMMUTABLE, READ_ONLY, read_only_mode, unwritable


def not_writable(*paths: Path):
    """An ``os.access`` that says none of ``paths`` can be written (and answers the rest truly)."""
    real = os.access
    refused = {str(p) for p in paths}

    def access(path, mode, *args, **kwargs):
        if mode & os.W_OK and str(path) in refused:
            return False
        return real(path, mode, *args, **kwargs)

    return access


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    db = tmp_path / "a.db"
    Archive(db).close()  # WAL mode; closed: no -wal left
    return db


def test_a_writable_archive_is_opened_as_usual(archive: Path) -> None:
    assert read_only_mode(archive) is None


def test_a_read_only_folder_without_a_wal_is_read_immutable(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "access", not_writable(archive.parent, archive))
    assert not (archive.parent / "a.db-wal").exists()
    assert read_only_mode(archive) == IMMUTABLE == "mode=ro&immutable=1"
    assert unwritable(archive) == f"its folder {archive.parent} is read-only"
    (archive.parent / "a.db-wal").write_bytes(b"")  # an empty -wal holds nothing either
    assert read_only_mode(archive) == IMMUTABLE


def test_a_read_only_file_in_a_writable_folder_is_read_with_mode_ro(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "access", not_writable(archive))
    assert read_only_mode(archive) == READ_ONLY == "mode=ro"
    assert unwritable(archive) == "the file is read-only"


def test_a_wal_in_a_read_only_folder_is_read_through_its_shm_or_refused(
    archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "access", not_writable(archive.parent))
    (archive.parent / "a.db-wal").write_bytes(b"x" * 100)  # writes a killed writer left
    with pytest.raises(ArchiveError, match=r"read-only and the archive is in WAL mode: its a\.db-wal holds writes"):
        read_only_mode(archive)
    (archive.parent / "a.db-shm").write_bytes(b"")
    assert read_only_mode(archive) == READ_ONLY


def test_a_rollback_journal_archive_in_a_read_only_folder_is_read_with_mode_ro(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    monkeypatch.setattr(os, "access", not_writable(tmp_path))
    assert read_only_mode(db) == READ_ONLY
    (tmp_path / "old.db-journal").write_bytes(b"x" * 10)  # a hot journal: SQLite must write to read
    with pytest.raises(ArchiveError, match="journal of an interrupted write"):
        read_only_mode(db)
