"""Incremental derivation: a refresh costs what the new observations touch, not the archive's size.

The reference (``dedupe.blocks.derive`` + ``dedupe.archive.reference``) computes furniture,
article groups and blocks from the whole set of pages in memory. The engine keeps the same
computation's intermediate state in SQLite (the ``derive_*`` tables, see ``dedupe.schema``; every
statement on them in ``stages.sql``) and brings it up to date for the pages and snapshots that
arrived since the last refresh, as a pipeline of stages (``dedupe.archive.stages``):

0. **Pages** (``stages.pages``). The window's snapshots split into contents already derived (their
   statistics move: snapshot count, first and last seen, which block versions sum) and new ones,
   whose lines are decoded once.
1. **Line and title clusters** (``stages.lines``). Every distinct line text (and, apart, every title)
   has its LSH band keys in ``derive_line_bands``; a new text looks its keys up, confirms each
   candidate by the exact shingle Jaccard and joins (or merges) clusters. Edges depend on the pair
   alone (``linking.connect_by_bands``), so the clusters are those of the whole set. Merged clusters
   merge their blocks (``stages.blocks``).
2. **Article text groups** (``stages.texts``) in three spaces: ``raw`` (titled pages before any
   furniture), ``s0`` (after round-0 furniture) and ``s1`` (the final article texts). Members join
   by band lookups and the estimated Jaccard; a text that leaves a space (furniture grew)
   re-clusters only the group it left.
3. **Evidence and furniture, round 0 then round 1** (``stages.evidence``; a ``Round`` names each
   round's columns). Each article page counts as one "article" per round (``ev0``, ``ev1``: title
   cluster and text group). Whether a cluster repeats on two articles, or a text verbatim, is
   asked of SQL with ``LIMIT 2``; only clusters and texts on pages whose evidence changed are
   asked. A line whose furniture flag flips re-derives the pages that contain it: their runs and
   article texts with the round's furniture (``stages.round_texts``), which move texts between
   the round's groups and so the next round's evidence.
4. **Blocks** (``stages.blocks``) are components of line clusters linked by the runs (block
   versions) pages show; the final round's runs move pages between block versions, and removing
   the last page of a version re-splits only its block.
5. **Records** (``stages.records``). Only the articles and blocks that contain a touched page are
   rewritten; public ids stay ranks by first appearance, renumbered from the first rank that moved
   (``stages.ranks``).

What a refresh touched travels as one ``Touched`` value from stage to stage. Anything the engine
does not handle in place (an extractor upgrade, a content that turns out to be an article after
all) raises ``NeedsRebuild`` and the caller rebuilds everything.
"""

from __future__ import annotations

import sqlite3

from .stages import sql
from .stages.blocks import BlockStage
from .stages.evidence import set_evidence, update_furniture
from .stages.lines import add_lines, add_titles
from .stages.model import ROUND_0, ROUND_1, Moves, Page, Touched
from .stages.pages import (
    NeedsRebuild,
    PageCache,
    add_version_deltas,
    all_pages,
    check_has_article,
    page_stats,
    pages_containing,
    pages_with,
    read_window,
    refresh_page_stats,
)
from .stages.records import RecordWriter
from .stages.round_texts import rederive_texts
from .stages.texts import add_raw_texts, begin_refresh, store_new_signatures

__all__ = ["Deriver", "NeedsRebuild"]


class Deriver:
    """One incremental refresh, inside the caller's write transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.pages = PageCache(conn)
        self.touched = Touched()
        self.blocks = BlockStage(conn, self.pages, self.touched)

    @property
    def changed_contents(self) -> set[str]:
        """Contents whose block versions changed in this update (the time-derived records re-derive their
        older snapshots)."""
        return self.touched.changed_contents

    def update(self, after_id: int, last_id: int) -> None:
        """Derive what the snapshots with after_id < id <= last_id bring."""
        begin_refresh()
        window = read_window(self.conn, after_id, last_id)
        check_has_article(self.conn, window.old_ids)
        new_pages = self.pages.load_new(window.new_shas)
        before = page_stats(self.conn, window.old_ids)
        refresh_page_stats(self.conn, window.old_ids)
        add_version_deltas(self.conn, before)
        self.add_pages(new_pages)
        self._touch_observed(window.old_ids, window.urls)
        RecordWriter(self.conn, self.touched).write()
        store_new_signatures(self.conn)  # of the texts no article version holds (m040)

    def add_pages(self, pages: list[Page]) -> None:
        """Lines, texts, the two furniture rounds and blocks for the contents never derived (none: nothing
        to do, and no signature library to load, for a window of 304s and pages seen again)."""
        if not pages:
            return
        new_ids = {p.page_id for p in pages}
        clusters = add_lines(self.conn, pages)
        self.blocks.merge_clusters(clusters.merged)
        moved_clusters = set(clusters.merged.values()) | clusters.gained
        title_moves = add_titles(self.conn, pages)
        moved_texts = add_raw_texts(self.conn, pages)  # texts whose group moved in the space evidence reads
        emptiness: set[int] = set()
        flipped: set[int] = set()
        final_moves: Moves = {}
        for r in (ROUND_0, ROUND_1):
            dirty = (
                new_ids
                | emptiness
                | pages_with(self.conn, r.evidence_text_column, moved_texts)
                | pages_with(self.conn, "title_id", title_moves)
            )
            changed = set_evidence(self.conn, r, dirty)
            furniture = update_furniture(self.conn, self.pages, r, changed, moved_clusters, also=flipped)
            rerun = new_ids | pages_containing(self.conn, furniture.flipped)
            if furniture.any_flipped:
                rerun |= all_pages(self.conn)
            texts = rederive_texts(self.conn, self.pages, r, rerun, self.touched)
            for page_id, runs in texts.runs:
                self.blocks.set_page_runs(page_id, runs)
            moved_texts, emptiness, flipped, final_moves = (
                set(texts.moves),
                texts.emptiness,
                furniture.flipped,
                texts.moves,
            )
        for old, new in final_moves.values():
            self.touched.articles.update(g for g in (old, new) if g is not None)

    def _touch_observed(self, old_ids: list[int], urls: list[str]) -> None:
        """Observations of already-derived contents and of URLs (a 404) change spans, URL and status."""
        for chunk in sql.chunks(old_ids):
            self.touched.articles.update(
                g for (g,) in self.conn.execute(sql.in_list(sql.GROUPS_OF_PAGES, chunk), list(chunk))
            )
            self.touched.blocks.update(
                b for (b,) in self.conn.execute(sql.in_list(sql.BLOCKS_OF_PAGES, chunk), list(chunk))
            )
        for chunk in sql.chunks(urls):
            self.touched.articles.update(
                g for (g,) in self.conn.execute(sql.in_list(sql.GROUPS_OF_URLS, chunk), list(chunk))
            )
