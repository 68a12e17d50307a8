"""The record stage alone: a block's public rows from the engine's state, versions in time order,
what changed between them, and the contents linked to each version."""

from __future__ import annotations

import sqlite3

from dedupe.archive.stages.blocks import BlockStage
from dedupe.archive.stages.model import Touched
from dedupe.archive.stages.records import RecordWriter
from tests.unit.archive.stage_pages import HEADER, derive_lines, lines_of

SIX = HEADER[0].replace("7", "6")


def test_two_versions_of_a_block_become_one_block_with_a_conflict(stage_conn: sqlite3.Connection) -> None:
    later = [(SIX, "candidate", 0), (HEADER[1], "candidate", 0), ("Two", "title", 1), ("Second.", "body", 1)]
    fake = derive_lines(stage_conn, {1: lines_of("One", "First."), 2: later})
    touched = Touched()
    stage = BlockStage(stage_conn, fake, touched)
    stage.set_page_runs(1, [[0, 1]])
    stage.set_page_runs(2, [[0, 1]])
    RecordWriter(stage_conn, touched).write()
    assert stage_conn.execute("SELECT id, name, versions, snapshots FROM blocks").fetchall() == [
        (1, HEADER[0][:80], 2, 4)
    ]
    versions = stage_conn.execute(
        "SELECT id, version, first_seen, text FROM block_versions ORDER BY version"
    ).fetchall()
    assert [(v[1], v[2], v[3].splitlines()[0]) for v in versions] == [
        (1, "2024-01-01", HEADER[0]),
        (2, "2024-01-02", SIX),
    ]
    kinds = {
        k
        for (k,) in stage_conn.execute(
            "SELECT kind FROM block_line_changes WHERE block_version_id = ?", [versions[1][0]]
        )
    }
    assert kinds == {"conflict"}
    seats = stage_conn.execute(
        "SELECT block_version_id, value FROM facts WHERE field = 'seats_total' ORDER BY block_version_id"
    ).fetchall()
    assert sorted(value for _, value in seats) == ["6", "7"]
    links = stage_conn.execute("SELECT page_id, block_version_id FROM content_blocks ORDER BY 1").fetchall()
    assert links == [(1, versions[0][0]), (2, versions[1][0])]


def test_a_block_whose_versions_are_gone_loses_its_rows(stage_conn: sqlite3.Connection) -> None:
    fake = derive_lines(stage_conn, {1: lines_of("One", "First.")})
    touched = Touched()
    stage = BlockStage(stage_conn, fake, touched)
    stage.set_page_runs(1, [[0, 1]])
    RecordWriter(stage_conn, touched).write()
    stage.set_page_runs(1, [])
    RecordWriter(stage_conn, touched).write()
    for table in ("blocks", "block_versions", "facts", "block_version_lines", "content_blocks"):
        assert stage_conn.execute(f"SELECT count(*) FROM [{table}]").fetchone()[0] == 0, table
    assert touched.dropped_contents == {"sha1"}
