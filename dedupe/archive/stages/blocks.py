"""Stage 4: blocks and block versions.

A block version is the text of one run of furniture lines; a block is a connected component of line
clusters linked by the versions pages show (``derive_block_clusters``). A page's runs are counted per
version (``derive_page_blocks``) and each version sums its pages' snapshots; removing the last page
of a version re-splits only its block, and merging two line clusters merges their blocks."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict

from ...blocks import Components, version_public_id
from ...facts import extract_facts
from ...storage import text_hash
from . import sql
from .lines import line_ids
from .model import Touched
from .pages import PageCache, PageStats, add_to_version, page_stats


class BlockStage:
    """Keeps blocks and block versions in step with pages' runs, noting what it touched."""

    def __init__(self, conn: sqlite3.Connection, pages: PageCache, touched: Touched) -> None:
        self.conn = conn
        self.pages = pages
        self.touched = touched

    def set_page_runs(self, page_id: int, runs: list[list[int]]) -> None:
        """A page's block runs changed: move its counts between block versions."""
        page = self.pages.get(page_id)
        self.conn.execute(sql.SET_PAGE_RUNS, [sql.run_set_id(self.conn, sql.runs_json(runs)), page_id])
        old = dict(self.conn.execute(sql.PAGE_BLOCKS, [page_id]).fetchall())
        new: dict[int, int] = defaultdict(int)
        for run in runs:
            new[self.block_version([page.lines.lines[i][0] for i in run])] += 1
        stats = None
        for version_id in set(old) | set(new):
            delta = new.get(version_id, 0) - old.get(version_id, 0)
            if delta != 0:
                if version_id in new and stats is None:  # the page's own statistics: read once
                    stats = page_stats(self.conn, [page_id])[page_id]
                self._move_count(page_id, page.sha, version_id, old, new, delta, stats)
        for version_id in set(old) | set(new):
            row = self.conn.execute(sql.VERSION_BLOCK, [version_id]).fetchone()
            if row:
                self.touched.blocks.add(row[0])

    def _move_count(
        self, page_id: int, sha: str, version_id: int, old: dict, new: dict, delta: int, stats: PageStats | None
    ) -> None:
        if (version_id in new) != (version_id in old):
            version_hash = self.conn.execute(sql.VERSION_HASH, [version_id]).fetchone()[0]
            self.touched.link((sha, version_public_id(version_hash)), added=version_id in new)
        if version_id in new:  # the page's own snapshots count once per occurrence
            add_to_version(self.conn, version_id, delta * stats.snapshots, stats)
        else:
            self.touched.recount.add(version_id)
        if version_id in new and version_id in old:
            self.conn.execute(sql.SET_PAGE_BLOCK, [new[version_id], version_id, page_id])
        elif version_id in new:
            self.conn.execute(sql.INSERT_PAGE_BLOCK, [version_id, page_id, new[version_id]])
        else:
            self.conn.execute(sql.DELETE_PAGE_BLOCK, [version_id, page_id])
        block, pages = self.conn.execute(sql.VERSION_BLOCK_AND_PAGES, [version_id]).fetchone()
        pages += (version_id in new) - (version_id in old)
        self.touched.blocks.add(block)
        if pages == 0:
            self.conn.execute(sql.DELETE_VERSION, [version_id])
            self._resplit_block(block)
        else:
            self.conn.execute(sql.SET_VERSION_PAGES, [pages, version_id])

    def block_version(self, lines: list[str]) -> int:
        """The id of a block version (a run's line texts), created and put in its block when new."""
        h = text_hash("\n".join(lines))
        row = self.conn.execute(sql.VERSION_BY_HASH, [h]).fetchone()
        if row:
            return row[0]
        ids = line_ids(self.conn, "line", lines)
        version_lines = [ids[t] for t in lines]
        version_id = self.conn.execute(
            sql.INSERT_VERSION, [h, json.dumps(version_lines), json.dumps(lines, ensure_ascii=False)]
        ).lastrowid
        clusters = self._clusters_of(version_lines)
        blocks = sorted({b for (b,) in self.conn.execute(sql.in_list(sql.BLOCKS_OF_CLUSTERS, clusters), clusters)})
        if blocks:
            block = blocks[0]
            for other in blocks[1:]:
                self._relabel_block(other, block)
        else:
            block = self.conn.execute(sql.NEXT_BLOCK).fetchone()[0]
        self.conn.execute(sql.SET_VERSION_BLOCK, [block, version_id])
        self.conn.executemany(sql.SET_CLUSTER_BLOCK, [(c, block) for c in clusters])
        self.touched.blocks.add(block)
        self.touched.new_facts[h] = extract_facts(lines)  # once per block version: a version's text never changes
        return version_id

    def _clusters_of(self, ids: list[int]) -> list[int]:
        rows = dict(self.conn.execute(sql.in_list(sql.LINE_CLUSTERS, ids), ids).fetchall())
        return sorted({rows[i] for i in ids})

    def _relabel_block(self, old: int, new: int) -> None:
        self.conn.execute(sql.RELABEL_VERSIONS, [new, old])
        self.conn.execute(sql.RELABEL_CLUSTERS, [new, old])
        self.touched.blocks.update((old, new))

    def _resplit_block(self, block: int) -> None:
        """Components of a block's remaining versions (a removed version may have held it together)."""
        versions = self.conn.execute(sql.VERSIONS_OF_BLOCK, [block]).fetchall()
        self.conn.execute(sql.DELETE_BLOCK_CLUSTERS, [block])
        uf = Components()
        clusters_of = {}
        for version_id, ids in versions:
            clusters = self._clusters_of(json.loads(ids))
            clusters_of[version_id] = clusters
            for c in clusters[1:]:
                uf.union(clusters[0], c)
        roots = sorted({uf.find(c[0]) for c in clusters_of.values()})
        next_label = self.conn.execute(sql.NEXT_BLOCK).fetchone()[0]
        label_of = {root: block if index == 0 else next_label + index - 1 for index, root in enumerate(roots)}
        for version_id, clusters in clusters_of.items():
            label = label_of[uf.find(clusters[0])]
            self.conn.execute(sql.SET_VERSION_BLOCK, [label, version_id])
            self.conn.executemany(sql.SET_CLUSTER_BLOCK, [(c, label) for c in clusters])
            self.touched.blocks.add(label)
        self.touched.blocks.add(block)

    def merge_clusters(self, merged: dict[int, int]) -> None:
        """Line clusters that merged bring their blocks together."""
        for absorbed, kept in merged.items():
            row = self.conn.execute(sql.BLOCK_OF_CLUSTER, [absorbed]).fetchone()
            if row is None:
                continue
            self.conn.execute(sql.DELETE_CLUSTER_BLOCK, [absorbed])
            kept_row = self.conn.execute(sql.BLOCK_OF_CLUSTER, [kept]).fetchone()
            if kept_row is None:
                self.conn.execute(sql.INSERT_CLUSTER_BLOCK, [kept, row[0]])
            elif kept_row[0] != row[0]:
                self._relabel_block(max(kept_row[0], row[0]), min(kept_row[0], row[0]))
            self.touched.blocks.add(row[0])
