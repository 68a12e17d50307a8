"""``Archive`` is made of parts over one connection; a read-only archive is the reading part alone."""

from __future__ import annotations

import inspect
import sqlite3
from pathlib import Path

import pytest

from dedupe.archive import Archive, ReadOnlyArchive
from dedupe.archive.queries import ArchiveQueries
from dedupe.readonly import connect_read_only
from tests.conftest import SEEDS

WRITES = ("add", "ingest", "refresh", "rebuild", "check", "set_state", "store", "derived", "runs", "stage_cpu")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dedupe.sources import expand, read_sources

    db = tmp_path_factory.mktemp("parts") / "a.db"
    with Archive(db) as archive:
        archive.ingest(read_sources(expand([str(SEEDS)])), workers=0)
    return db


def test_an_archive_holds_its_parts_over_one_connection(seeded: Path) -> None:
    with Archive(seeded) as archive:
        parts = (archive.store, archive.derived, archive.reader, archive.runs)
        assert all(part.db is archive.db for part in parts)
        assert archive.derived.reader is archive.reader and archive.store.codec is archive.codec
        # the archive's own names are its parts' methods: same answer, same signature and docstring
        assert archive.stats() == archive.reader.stats() and archive.stats()["snapshots"] == 5
        assert inspect.signature(archive.conflicts) == inspect.signature(archive.reader.conflicts)
        assert archive.refresh.__doc__ == archive.derived.refresh.__doc__


def test_a_read_only_archive_has_no_write_method(seeded: Path) -> None:
    conn = connect_read_only(seeded)
    try:
        reader = ReadOnlyArchive(conn)
        assert [name for name in WRITES if hasattr(reader, name)] == []
        with Archive(seeded) as archive:
            assert [name for name in WRITES if hasattr(archive, name)] == list(WRITES)  # the list is not stale
            assert reader.conflicts() == archive.conflicts() and reader.stats() == archive.stats()
    finally:
        conn.close()


def test_nothing_can_be_written_through_a_read_only_archive_even_over_a_writable_connection(seeded: Path) -> None:
    conn = sqlite3.connect(seeded)  # writable as opened: the read-only archive makes it read-only
    try:
        reader = ReadOnlyArchive(conn)
        for sql in ("DELETE FROM observations", "INSERT INTO archive_state(key, value) VALUES ('x', 'y')"):
            with pytest.raises(sqlite3.OperationalError, match="readonly"):
                reader.query(sql)
        assert reader.stats()["snapshots"] == 5 and reader.state("x") is None
    finally:
        conn.close()


def test_the_archive_answers_every_method_of_its_reading_part_by_name() -> None:
    reading = {name for name, _ in inspect.getmembers(ArchiveQueries, inspect.isfunction) if not name.startswith("_")}
    assert len(reading) > 20 and sorted(reading - set(dir(Archive))) == []


def test_the_reading_part_is_the_whole_read_only_archive() -> None:
    own = {name for name in vars(ReadOnlyArchive) if not name.startswith("_")}
    assert own == set() and ReadOnlyArchive.__mro__[1] is ArchiveQueries
