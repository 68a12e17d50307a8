"""The pages of a line on many pages kept as ranges of page ids (``dedupe.archive.stages.postings``, m028).

The engine must derive the same records whether a line's pages are rows or ranges: archives built with
every template line in ranges (a threshold of 3 pages) and with none (a threshold no line reaches) hold the
same derived tables, and ``check`` (the reference derivation) passes on both."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from dedupe.archive import Archive
from dedupe.archive.stages import postings
from dedupe.archive.stages.evidence import _evidence_pages_of
from dedupe.archive.stages.model import ROUND_0, ROUND_1
from dedupe.archive.stages.pages import pages_containing
from tests.conftest import derived_tables
from tests.replica_corpus import replica_snapshots

pytestmark = pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis


def test_a_range_gives_back_its_pages_and_their_kinds() -> None:
    chunk = 3
    base = chunk << postings.SHIFT
    pairs = [(base + postings.SPAN - 1, 3), (base, 0), (base + 17, 2), (base + 18, 3)]
    blob = postings.encode(chunk, pairs)
    assert len(blob) == 2 * len(pairs)  # 2 bytes a page
    assert postings.decode(chunk, blob).tolist() == [base, base + 17, base + 18, base + postings.SPAN - 1]
    assert postings.decode(chunk, blob, mask=2).tolist() == [base + 17, base + 18, base + postings.SPAN - 1]
    assert postings.decode(chunk, blob, mask=1).tolist() == [base + 18, base + postings.SPAN - 1]
    assert postings.decode(chunk, b"").dtype == np.int64
    joined = postings.encode(chunk, [(base + 5, 2)], joined=blob)  # a page joins a range: in page order
    assert postings.decode(chunk, joined).tolist() == [base, base + 5, base + 17, base + 18, base + postings.SPAN - 1]


def _plain_and_ranged(conn: sqlite3.Connection) -> tuple[set[tuple[int, int, int]], set[tuple[int, int, int]]]:
    """(line, page, kind) of derive_page_lines' rows, and of the ranges' pages."""
    plain = set(conn.execute("SELECT line_id, page_id, kind FROM derive_page_lines"))
    ranged = set()
    for line, chunk, blob in conn.execute("SELECT line_id, chunk, pages FROM derive_line_pages"):
        for value in np.frombuffer(blob, dtype="<u2").tolist():
            ranged.add((line, (chunk << postings.SHIFT) + (value >> postings.KIND_BITS), value & 3))
    return plain, ranged


def _build(path: Path, snapshots: tuple, batches: int) -> dict:
    with Archive(path) as archive:
        size = -(-len(snapshots) // batches)
        for lo in range(0, len(snapshots), size):
            archive.ingest(snapshots[lo : lo + size], workers=1)
        assert archive.check() == {}
        return derived_tables(archive.db.conn)


def test_lines_on_many_pages_derive_as_lines_on_few(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    snapshots = replica_snapshots(("en", "ru"))
    monkeypatch.setattr(postings, "COMMON_AFTER", 10**9)
    as_rows = _build(tmp_path / "rows.db", snapshots, batches=6)
    monkeypatch.setattr(postings, "COMMON_AFTER", 3)
    as_ranges = _build(tmp_path / "ranges.db", snapshots, batches=6)
    assert as_ranges == as_rows
    conn = sqlite3.connect(tmp_path / "ranges.db")
    plain, ranged = _plain_and_ranged(conn)
    lines_in_ranges = {line for line, _, _ in ranged}
    assert len(lines_in_ranges) > 20 and not lines_in_ranges & {line for line, _, _ in plain}
    rows = sqlite3.connect(tmp_path / "rows.db")
    every = set(rows.execute("SELECT line_id, page_id, kind FROM derive_page_lines"))
    assert plain | ranged == every  # each (line, page, kind) once, in one of the two
    # the engine's own state agrees too, and so does each question it asks of a line's pages
    for state in ("SELECT * FROM derive_lines", "SELECT * FROM derive_near", "SELECT * FROM derive_pages"):
        assert sorted(conn.execute(state)) == sorted(rows.execute(state)), state
    lines = {line for line, _, _ in every}
    for r in (ROUND_0, ROUND_1):
        assert _evidence_pages_of(conn, r, lines) == _evidence_pages_of(rows, r, lines)
    assert pages_containing(conn, lines) == pages_containing(rows, lines)
    assert pages_containing(conn, lines_in_ranges) == {page for _, page, _ in ranged}


def test_m028_moves_the_rows_of_lines_on_many_pages_into_ranges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshots = replica_snapshots(("en",))
    path = tmp_path / "archive.db"
    monkeypatch.setattr(postings, "COMMON_AFTER", 10**9)  # as the engine before m028: a row per (line, page)
    before = _build(path, snapshots[:40], batches=2)
    conn = sqlite3.connect(path)
    every = set(conn.execute("SELECT line_id, page_id, kind FROM derive_page_lines"))
    with conn:
        conn.execute("DROP TABLE derive_line_pages")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm028_common_lines_by_page_ranges'")
    conn.close()
    monkeypatch.setattr(postings, "COMMON_AFTER", 3)
    with Archive(path) as archive:  # converted on open
        conn = archive.db.conn
        plain, ranged = _plain_and_ranged(conn)
        assert ranged and plain | ranged == every and not plain & ranged
        assert derived_tables(conn) == before
        assert archive.check() == {}
        archive.ingest(snapshots[40:], workers=1)  # and the engine goes on from it
        assert archive.check() == {}
