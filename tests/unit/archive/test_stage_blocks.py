"""The block stage alone: pages' runs counted per block version, spans summed, a version dropped with
its last page, merged line clusters merging their blocks."""

from __future__ import annotations

import sqlite3

from dedupe.archive.stages.blocks import BlockStage
from dedupe.archive.stages.model import Touched
from dedupe.blocks import version_public_id
from tests.unit.archive.stage_pages import HEADER, derive_lines, lines_of


def _versions(conn: sqlite3.Connection) -> list[tuple]:
    return conn.execute(
        "SELECT hash, block, pages, snapshots, first_seen, last_seen FROM derive_block_versions"
    ).fetchall()


def test_a_run_on_two_pages_is_one_version_and_leaves_with_its_last_page(stage_conn: sqlite3.Connection) -> None:
    fake = derive_lines(stage_conn, {1: lines_of("One", "First."), 2: lines_of("Two", "Second.")})
    touched = Touched()
    stage = BlockStage(stage_conn, fake, touched)
    stage.set_page_runs(1, [[0, 1]])
    stage.set_page_runs(2, [[0, 1]])
    [(h, block, pages, snapshots, first, last)] = _versions(stage_conn)
    assert (pages, snapshots, first, last) == (2, 4, "2024-01-01", "2024-02-02")  # two snapshots a page
    public = version_public_id(h)
    assert touched.link_add == {("sha1", public), ("sha2", public)} and touched.blocks == {block}
    assert [(f.delegation, f.field, f.value) for f in touched.new_facts[h]][0] == ("Kyrgyzstan", "seats_total", "7")
    stage.set_page_runs(1, [])
    assert _versions(stage_conn)[0][2] == 1 and touched.recount == {1} and ("sha1", public) in touched.link_del
    stage.set_page_runs(2, [])
    assert _versions(stage_conn) == []
    assert stage_conn.execute("SELECT count(*) FROM derive_block_clusters").fetchone()[0] == 0
    assert touched.changed_contents == {"sha1", "sha2"}


def test_a_new_version_joins_the_block_of_its_clusters_and_merged_clusters_merge_blocks(
    stage_conn: sqlite3.Connection,
) -> None:
    fake = derive_lines(stage_conn, {1: lines_of("One", "First."), 2: lines_of("Two", "Second.")})
    stage = BlockStage(stage_conn, fake, Touched())
    first = stage.block_version(HEADER)
    second = stage.block_version([HEADER[1], HEADER[0]])  # another run of the same clusters: same block
    blocks = dict(stage_conn.execute("SELECT id, block FROM derive_block_versions").fetchall())
    assert blocks[first] == blocks[second] == 1
    clusters = [c for (c,) in stage_conn.execute("SELECT cluster FROM derive_block_clusters ORDER BY cluster")]
    stage_conn.execute("INSERT INTO derive_block_clusters(cluster, block) VALUES (999, 5)")
    stage_conn.execute("UPDATE derive_block_versions SET block = 5 WHERE id = ?", [second])
    stage.merge_clusters({999: clusters[0]})  # cluster 999 joined a cluster of block 1: block 5 becomes 1
    assert {b for (b,) in stage_conn.execute("SELECT block FROM derive_block_versions")} == {1}
    assert stage_conn.execute("SELECT count(*) FROM derive_block_clusters WHERE cluster = 999").fetchone()[0] == 0
