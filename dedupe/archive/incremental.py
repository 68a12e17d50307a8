"""Incremental derivation: a refresh costs what the new observations touch, not the archive's size.

The reference (``dedupe.blocks.derive`` + ``dedupe.archive.reference``) computes furniture,
article groups and blocks from the whole set of pages in memory. This module keeps the same
computation's intermediate state in SQLite (the ``derive_*`` tables, see ``dedupe.schema``) and
brings it up to date for the pages and snapshots that arrived since the last refresh:

1. **Line and title clusters.** Every distinct line text (and, apart, every title) has its LSH
   band keys in ``derive_line_bands``; a new text looks its keys up, confirms each candidate by
   the exact shingle Jaccard and joins (or merges) clusters. Edges depend on the pair alone
   (``linking.connect_by_bands``), so the clusters are those of the whole set.
2. **Article text groups** in three spaces: ``raw`` (titled pages before any furniture), ``s0``
   (after round-0 furniture) and ``s1`` (the final article texts). Members join by band lookups
   and the estimated Jaccard; a text that leaves a space (furniture grew) re-clusters only the
   group it left.
3. **Evidence and furniture.** Each article page counts as one "article" per round (``ev0``,
   ``ev1``: title cluster and text group). Whether a cluster repeats on two articles, or a text
   verbatim, is asked of SQL with ``LIMIT 2``; only clusters and texts on pages whose evidence
   changed are asked. A text whose furniture flag flips re-derives the pages that contain it.
4. **Blocks** are components of line clusters linked by the runs (block versions) pages show;
   removing the last page of a version re-splits only its block.
5. **Records.** Only the articles and blocks that contain a touched page are rewritten; public
   ids stay ranks by first appearance, renumbered from the first rank that moved.

Anything this module does not handle in place (an extractor upgrade, a content that turns out
to be an article after all) raises ``NeedsRebuild`` and the caller rebuilds everything.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..blocks import (
    ARTICLE_CONFIG,
    LINE_BAND_THRESHOLD,
    Components,
    PageLines,
    _candidate_positions,
    _title,
    article_text,
    body_runs,
    find_runs,
    line_shingles,
    line_signatures,
    lines_alike,
    texts_alike,
)
from ..extract import detect_language
from ..facts import Fact, extract_facts
from ..linking import SHINGLE_CACHE, BandLinker, shared_keys
from ..minhash import band_keys, compute_signatures, deserialize, estimate_jaccard, serialize
from ..storage import Codec, text_hash
from ..variants import assign_slots, compare_versions
from .base import REMOVED_STATUSES, order_key

NEAR, CANDIDATE = 1, 2  # derive_page_lines.kind bits: a candidate line outside the body; any candidate line
CHUNK = 500  # parameters per IN (...) query


class NeedsRebuild(Exception):
    """The change cannot be derived in place; rebuild the derived tables from the observations."""


def _chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for lo in range(0, len(items), size):
        yield items[lo : lo + size]


def _marks(items: Sequence) -> str:
    return ",".join("?" * len(items))


class _Furniture:
    """The furniture set as one page sees it: its own furniture texts, and whether any exists."""

    def __init__(self, texts: set[str], any_furniture: bool) -> None:
        self.texts = texts
        self.any = any_furniture

    def __contains__(self, text: object) -> bool:
        return text in self.texts

    def __bool__(self) -> bool:
        return self.any


@dataclass
class _Page:
    page_id: int
    sha: str
    lines: PageLines
    title: str | None


class Deriver:
    """One incremental refresh, inside the caller's write transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.x = conn.execute
        self.codec = Codec(conn)  # decodes pages.lines (Codec.unpack_lines)
        self._pages: dict[int, _Page] = {}
        self.touched_articles: set[int] = set()  # s1 group labels (old and new)
        self.touched_blocks: set[int] = set()  # block labels (old and new)
        self.new_facts: dict[str, list] = {}  # block version hash -> facts, extracted once when it appears
        self.link_add: set[tuple[str, str]] = set()  # (content, block version id) pairs that appeared
        self.link_del: set[tuple[str, str]] = set()  # ... and disappeared
        self.recount: set[int] = set()  # block versions a page left: their spans are summed again
        self.dropped_contents: set[str] = set()  # contents of block versions dropped whole

    @property
    def changed_contents(self) -> set[str]:
        """Contents whose block versions changed in this update (the time-derived records re-derive their
        older snapshots)."""
        return {sha for sha, _ in self.link_add | self.link_del} | self.dropped_contents

    # ------------------------------------------------------------------ entry point

    def update(self, after_id: int, last_id: int) -> None:
        """Derive what the snapshots with after_id < id <= last_id bring."""
        contents = [
            sha
            for (sha,) in self.x(
                "SELECT DISTINCT content_sha256 FROM snapshots WHERE id > ? AND id <= ? AND content_sha256 IS NOT NULL",
                [after_id, last_id],
            )
        ]
        urls = [
            url for (url,) in self.x("SELECT DISTINCT url FROM snapshots WHERE id > ? AND id <= ?", [after_id, last_id])
        ]
        known = {}
        for chunk in _chunks(contents):
            known.update(
                self.x(
                    f"SELECT content_sha256, page_id FROM derive_pages WHERE content_sha256 IN ({_marks(chunk)})",
                    list(chunk),
                ).fetchall()
            )
        new_shas = [sha for sha in contents if sha not in known]
        old_ids = list(known.values())
        self._check_has_article(old_ids)
        new_pages = self._load_new_pages(new_shas)
        before = self._page_stats(old_ids)
        self._refresh_page_stats(old_ids)
        self._add_version_deltas(before)
        self._add_pages(new_pages)
        # observations of already-derived contents and of URLs (a 404) change spans, URL and status
        for chunk in _chunks(old_ids):
            self.touched_articles.update(
                g
                for (g,) in self.x(
                    f"SELECT g.grp FROM derive_pages p CROSS JOIN derive_groups g "  # CROSS: pages first, by id
                    f"ON g.space = 's1' AND g.text_id = p.text1_id "
                    f"WHERE p.page_id IN ({_marks(chunk)})",
                    list(chunk),
                )
            )
            self.touched_blocks.update(
                b
                for (b,) in self.x(
                    f"SELECT DISTINCT v.block FROM derive_page_blocks pb "
                    f"CROSS JOIN derive_block_versions v ON v.id = pb.version_id "
                    f"WHERE pb.page_id IN ({_marks(chunk)})",
                    list(chunk),
                )
            )
        for chunk in _chunks(urls):
            self.touched_articles.update(
                g
                for (g,) in self.x(f"SELECT grp FROM derive_article_order WHERE url IN ({_marks(chunk)})", list(chunk))
            )
        _RecordWriter(self).write()

    def _check_has_article(self, page_ids: list[int]) -> None:
        for chunk in _chunks(page_ids):
            changed = self.x(
                f"""SELECT 1 FROM derive_pages dp WHERE dp.page_id IN ({_marks(chunk)}) AND dp.has_article !=
                    (SELECT max(coalesce(s.page_type, 'article') = 'article') FROM snapshots s
                     WHERE s.content_sha256 = dp.content_sha256) LIMIT 1""",
                list(chunk),
            ).fetchone()
            if changed:
                raise NeedsRebuild("a content seen before as a listing was seen as an article")

    def _load_new_pages(self, shas: list[str]) -> list[_Page]:
        pages = []
        for chunk in _chunks(shas):
            for page_id, sha, structured, lines, method, has_article in self.x(
                f"""SELECT p.rowid, p.content_sha256, p.structured, p.lines, p.lines_compression,
                           (SELECT max(coalesce(s.page_type, 'article') = 'article') FROM snapshots s
                            WHERE s.content_sha256 = p.content_sha256)
                    FROM pages p WHERE p.content_sha256 IN ({_marks(chunk)})""",
                list(chunk),
            ):
                page = PageLines(
                    key=sha,
                    structured=bool(structured),
                    lines=self.codec.unpack_lines(lines, method),
                    has_article=bool(has_article),
                )
                pages.append(_Page(page_id, sha, page, _title(page)))
        pages.sort(key=lambda p: p.sha)
        for page in pages:
            self._pages[page.page_id] = page
        return pages

    def _refresh_page_stats(self, page_ids: list[int]) -> None:
        """Per content: snapshot count, first and last seen, smallest URL, URL of its newest snapshot
        (one pass over each chunk's snapshots, by the snapshots_content index)."""
        for chunk in _chunks(page_ids):
            rows = self.x(
                f"""SELECT p.page_id, count(*), min(s.observed_at), max(s.observed_at), min(s.url),
                           (SELECT n.url FROM snapshots n WHERE n.content_sha256 = p.content_sha256
                            ORDER BY n.observed_at DESC, n.id DESC LIMIT 1)
                    FROM derive_pages p JOIN snapshots s ON s.content_sha256 = p.content_sha256
                    WHERE p.page_id IN ({_marks(chunk)}) GROUP BY p.page_id""",
                list(chunk),
            ).fetchall()
            self.conn.executemany(
                "UPDATE derive_pages SET snapshots = ?, first_seen = ?, last_seen = ?, min_url = ?, newest_url = ? "
                "WHERE page_id = ?",
                [(*row[1:], row[0]) for row in rows],
            )

    def _page_stats(self, page_ids: list[int]) -> dict[int, tuple]:
        stats = {}
        for chunk in _chunks(page_ids):
            for row in self.x(
                f"SELECT page_id, snapshots, first_seen, last_seen, min_url FROM derive_pages "
                f"WHERE page_id IN ({_marks(chunk)})",
                list(chunk),
            ):
                stats[row[0]] = row[1:]
        return stats

    def _add_version_deltas(self, before: dict[int, tuple]) -> None:
        """New snapshots of contents already in block versions: add them to the versions' spans."""
        after = self._page_stats(list(before))
        for page_id, (count, _, _, _) in before.items():
            new_count, first, last, min_url = after[page_id]
            for version_id, n in self.x(
                "SELECT version_id, n FROM derive_page_blocks WHERE page_id = ?", [page_id]
            ).fetchall():
                self._add_to_version(version_id, n * (new_count - count), first, last, min_url)

    def _add_to_version(self, version_id: int, count: int, first: str, last: str, min_url: str) -> None:
        self.x(
            """UPDATE derive_block_versions SET snapshots = snapshots + ?, first_seen = min(coalesce(first_seen, ?), ?),
                  last_seen = max(coalesce(last_seen, ?), ?), min_url = min(coalesce(min_url, ?), ?) WHERE id = ?""",
            [count, first, first, last, last, min_url, min_url, version_id],
        )

    def page(self, page_id: int) -> _Page:
        if page_id not in self._pages:
            sha, structured, lines, method, has_article = self.x(
                "SELECT p.content_sha256, p.structured, p.lines, p.lines_compression, d.has_article FROM pages p "
                "JOIN derive_pages d ON d.page_id = p.rowid WHERE p.rowid = ?",
                [page_id],
            ).fetchone()
            page = PageLines(
                key=sha,
                structured=bool(structured),
                lines=self.codec.unpack_lines(lines, method),
                has_article=bool(has_article),
            )
            self._pages[page_id] = _Page(page_id, sha, page, _title(page))
        return self._pages[page_id]

    # ------------------------------------------------------------------ the stages

    def _add_pages(self, pages: list[_Page]) -> None:
        new_ids = [p.page_id for p in pages]
        merged_clusters, gained = self._add_lines(pages)
        self._blocks_after_cluster_merges(merged_clusters)
        moved_clusters = set(merged_clusters.values()) | gained
        title_moves = self._add_titles(pages)
        raw_moves = self._add_raw_texts(pages)
        # round 0: evidence of titled article pages by (title cluster, raw text group)
        dirty0 = set(new_ids) | self._pages_with("title_id", title_moves) | self._pages_with("raw_id", raw_moves)
        changed_ev0 = self._set_evidence(0, dirty0)
        flipped0, any0 = self._evidence(0, changed_ev0, moved_clusters)
        rerun0 = set(new_ids) | self._pages_containing(flipped0)
        if any0:
            rerun0 |= self._all_pages()
        moves0, emptiness0 = self._rerun(0, rerun0)
        dirty1 = (
            set(new_ids) | emptiness0 | self._pages_with("text0_id", moves0) | self._pages_with("title_id", title_moves)
        )
        changed_ev1 = self._set_evidence(1, dirty1)
        flipped1, any1 = self._evidence(1, changed_ev1, moved_clusters, also=flipped0)
        rerun1 = set(new_ids) | self._pages_containing(flipped1)
        if any1:
            rerun1 |= self._all_pages()
        moves1, _ = self._rerun(1, rerun1)
        for old, new in moves1.values():
            self.touched_articles.update(g for g in (old, new) if g is not None)

    # --- 1. line and title clusters

    def _line_ids(self, space: str, texts: Iterable[str]) -> dict[str, int]:
        """Ids of texts in a space, inserting the new ones (cluster NULL: not clustered yet)."""
        by_hash = {text_hash(t): t for t in texts}
        hashes = list(by_hash)
        ids: dict[str, int] = {}
        for chunk in _chunks(hashes):
            for line_id, h in self.x(
                f"SELECT id, hash FROM derive_lines WHERE space = ? AND hash IN ({_marks(chunk)})", [space, *chunk]
            ):
                ids[by_hash[h]] = line_id
        for h in hashes:
            if by_hash[h] not in ids:
                ids[by_hash[h]] = self.x(
                    "INSERT INTO derive_lines(space, hash, text) VALUES (?, ?, ?)", [space, h, by_hash[h]]
                ).lastrowid
        return ids

    def _cluster(self, space: str, ids: dict[str, int]) -> tuple[dict[int, int], set[int]]:
        """Cluster the texts among ``ids`` that have no cluster yet; returns (absorbed cluster -> kept
        cluster, clusters that gained members)."""
        todo_ids = [line_id for line_id in ids.values()]
        unclustered = set()
        singletons: dict[int, int] = {}  # body-only lines seen outside a body for the first time: their own cluster
        for chunk in _chunks(todo_ids):
            for i, cluster in self.x(
                f"SELECT id, cluster FROM derive_lines WHERE id IN ({_marks(chunk)}) AND indexed = 0", list(chunk)
            ):
                unclustered.add(i)
                if cluster is not None:
                    singletons[i] = cluster
        if not unclustered:
            return {}, set()
        text_of = {i: t for t, i in ids.items() if i in unclustered}
        new = sorted(unclustered)
        new_sigs, keys = line_signatures([text_of[i] for i in new])

        @lru_cache(maxsize=SHINGLE_CACHE)  # bounded: a page of 20,000 lines would hold ~80 MB of sets
        def sset(line_id: int) -> set[bytes]:
            return line_shingles(text_for(line_id))

        existing: dict[int, tuple[int, str]] = {}  # line id -> (cluster, text)
        sig_of: dict[int, np.ndarray] = {line_id: new_sigs[row] for row, line_id in enumerate(new)}
        flat = sorted(set(keys.reshape(-1).tolist()))
        seeds: list[tuple[int, int]] = []  # (key, existing line id): bucket members already clustered
        for chunk in _chunks(flat):
            for key, line_id, cluster, text, blob in self.x(
                f"SELECT b.key, b.line_id, l.cluster, l.text, l.signature FROM derive_line_bands b "
                f"CROSS JOIN derive_lines l ON l.id = b.line_id WHERE b.key IN ({_marks(chunk)}) AND l.space = ?",
                [*chunk, space],
            ):
                seeds.append((key, line_id))
                if line_id not in existing:
                    existing[line_id] = (cluster, text)
                    sig_of[line_id] = np.frombuffer(blob, dtype=np.uint32)
        ids_by_row = list(sig_of)  # every signature in one matrix, rows in this order
        row_of = {line_id: row for row, line_id in enumerate(ids_by_row)}

        def text_for(line_id: int) -> str:
            return existing[line_id][1] if line_id in existing else text_of[line_id]

        def confirm(a: int, b: int) -> bool:
            a_id, b_id = ids_by_row[a], ids_by_row[b]
            return lines_alike(sset(a_id), sset(b_id))

        # the same linker as the reference's ``connect_by_bands``: a new line is compared with each
        # component of its buckets until one member confirms, not with every earlier line
        linker = BandLinker(np.vstack([sig_of[i] for i in ids_by_row]), LINE_BAND_THRESHOLD, confirm)
        uf = linker.components
        for key, line_id in seeds:
            linker.seed(key, row_of[line_id], ("c", existing[line_id][0]))
        shared = shared_keys(keys) | {key for key, _ in seeds}  # a key no other line has gives no candidate
        node = {i: ("n", i) for i in new}
        for row, line_id in enumerate(new):
            linker.add(row_of[line_id], [key for key in keys[row].tolist() if key in shared], node[line_id])
        components: dict[object, list] = defaultdict(list)
        for line_id in new:
            components[uf.find(node[line_id])].append(line_id)
        for cluster in {c for c, _ in existing.values()}:
            root = uf.find(("c", cluster))
            if root in components:
                components[root].append(("c", cluster))
        merged: dict[int, int] = {}
        gained: set[int] = set()
        for members in components.values():
            clusters = sorted(m[1] for m in members if isinstance(m, tuple))
            lines = [m for m in members if not isinstance(m, tuple)]
            keep = clusters[0] if clusters else min(lines)
            for absorbed in clusters[1:]:
                merged[absorbed] = keep
                self.x("UPDATE derive_lines SET cluster = ? WHERE cluster = ?", [keep, absorbed])
            self.conn.executemany(
                "UPDATE derive_lines SET cluster = ?, indexed = 1, signature = ? WHERE id = ?",
                [(keep, sig_of[i].astype(np.uint32).tobytes(), i) for i in lines],
            )
            merged.update({singletons[i]: keep for i in lines if i in singletons and singletons[i] != keep})
            gained.add(keep)
        self.conn.executemany(  # a generator: 31 rows a line, never all in memory
            "INSERT OR IGNORE INTO derive_line_bands(key, line_id) VALUES (?, ?)",
            ((key, line_id) for row, line_id in enumerate(new) for key in set(keys[row].tolist())),
        )
        # chains of merges resolve to the final cluster
        for absorbed in list(merged):
            target = merged[absorbed]
            while target in merged:
                target = merged[target]
            merged[absorbed] = target
        return merged, gained

    def _add_lines(self, pages: list[_Page]) -> tuple[dict[int, int], set[int]]:
        texts = {text for p in pages for text, _, _ in p.lines.lines}
        ids = self._line_ids("line", texts)
        candidates = {p.lines.lines[i][0] for p in pages for i in _candidate_positions(p.lines)}
        outside_body = {
            p.lines.lines[i][0] for p in pages for i in _candidate_positions(p.lines) if p.lines.lines[i][1] != "body"
        }
        merged, gained = self._cluster("line", {t: ids[t] for t in outside_body})
        body_only = [ids[t] for t in candidates - outside_body]
        for chunk in _chunks(body_only):  # a cluster of their own until seen outside a body
            self.x(
                f"UPDATE derive_lines SET cluster = id WHERE id IN ({_marks(chunk)}) AND cluster IS NULL", list(chunk)
            )
        rows, page_rows = [], []
        for p in pages:
            kinds: dict[int, int] = defaultdict(int)
            for text, _, _ in p.lines.lines:
                kinds[ids[text]] |= 0
            for i in _candidate_positions(p.lines):
                text, role, _ = p.lines.lines[i]
                kinds[ids[text]] |= CANDIDATE | (NEAR if role != "body" else 0)
            rows += [(line_id, p.page_id, kind) for line_id, kind in kinds.items()]
            page_rows.append((p.page_id, p.sha, int(p.lines.has_article)))
        self.conn.executemany(
            "INSERT OR IGNORE INTO derive_pages(page_id, content_sha256, has_article) VALUES (?, ?, ?)", page_rows
        )
        self.conn.executemany("INSERT INTO derive_page_lines(line_id, page_id, kind) VALUES (?, ?, ?)", rows)
        self._refresh_page_stats([p.page_id for p in pages])
        if merged:
            self.x(f"DELETE FROM derive_near WHERE cluster IN ({_marks(list(merged))})", list(merged))
        self._merged_lines = merged
        return merged, gained

    def _add_titles(self, pages: list[_Page]) -> set[int]:
        """Cluster the new titles; returns title line ids whose cluster changed (their pages' evidence moves)."""
        titles = {p.title for p in pages if p.title is not None}
        if not titles:
            return set()
        ids = self._line_ids("title", titles)
        merged, _ = self._cluster("title", ids)
        self.conn.executemany(
            "UPDATE derive_pages SET title_id = ? WHERE page_id = ?",
            [(ids[p.title], p.page_id) for p in pages if p.title is not None],
        )
        moved: set[int] = set()
        for kept in merged.values():
            moved.update(i for (i,) in self.x("SELECT id FROM derive_lines WHERE cluster = ?", [kept]))
        return moved

    # --- 2. article text groups

    def _text_ids(self, texts: Iterable[str]) -> dict[str, int]:
        """Ids of article texts, with their signature and band keys stored once."""
        by_hash = {text_hash(t): t for t in texts if t}
        ids: dict[str, int] = {}
        hashes = list(by_hash)
        for chunk in _chunks(hashes):
            for text_id, h in self.x(f"SELECT id, hash FROM derive_texts WHERE hash IN ({_marks(chunk)})", list(chunk)):
                ids[by_hash[h]] = text_id
        missing = [h for h in hashes if by_hash[h] not in ids]
        if missing:
            sig = compute_signatures([by_hash[h] for h in missing], ARTICLE_CONFIG)
            keys = band_keys(sig, ARTICLE_CONFIG.threshold)
            for row, h in enumerate(missing):
                text_id = self.x(
                    "INSERT INTO derive_texts(hash, text, config, signature) VALUES (?, ?, ?, ?)",
                    [h, by_hash[h], ARTICLE_CONFIG.full_name, serialize(sig[row], ARTICLE_CONFIG)],
                ).lastrowid
                ids[by_hash[h]] = text_id
                self.conn.executemany(
                    "INSERT OR IGNORE INTO derive_text_bands(key, text_id) VALUES (?, ?)",
                    [(k, text_id) for k in set(keys[row].tolist())],
                )
        return ids

    def _signatures(self, text_ids: Iterable[int]) -> dict[int, np.ndarray]:
        ids = list(set(text_ids))
        out: dict[int, np.ndarray] = {}
        for chunk in _chunks(ids):
            for text_id, blob in self.x(
                f"SELECT id, signature FROM derive_texts WHERE id IN ({_marks(chunk)})", list(chunk)
            ):
                out[text_id] = deserialize(blob)
        return out

    def _space_update(
        self, space: str, added: list[int], removed: list[int]
    ) -> dict[int, tuple[int | None, int | None]]:
        """Count pages in and out of a text space; join added texts to groups, re-split groups that lost
        a text. Returns text id -> (old group, new group) for every member whose group changed."""
        moves: dict[int, tuple[int | None, int | None]] = {}
        resplit: set[int] = set()
        for text_id in removed:
            grp, pages = self.x(
                "SELECT grp, pages FROM derive_groups WHERE space = ? AND text_id = ?", [space, text_id]
            ).fetchone()
            if pages > 1:
                self.x("UPDATE derive_groups SET pages = pages - 1 WHERE space = ? AND text_id = ?", [space, text_id])
            else:
                self.x("DELETE FROM derive_groups WHERE space = ? AND text_id = ?", [space, text_id])
                moves[text_id] = (grp, None)
                resplit.add(grp)
        for grp in sorted(resplit):  # first the groups as the remaining texts make them, then the joins
            self._resplit(space, grp, moves)
        joining = []
        for text_id in added:
            row = self.x("SELECT pages FROM derive_groups WHERE space = ? AND text_id = ?", [space, text_id]).fetchone()
            if row:
                self.x("UPDATE derive_groups SET pages = pages + 1 WHERE space = ? AND text_id = ?", [space, text_id])
            else:
                joining.append(text_id)
                self.x(
                    "INSERT INTO derive_groups(space, text_id, grp, pages) VALUES (?, ?, ?, 1)",
                    [space, text_id, text_id],
                )
                moves[text_id] = (moves.get(text_id, (None, None))[0], text_id)
        if joining:
            self._join(space, sorted(joining), moves)
        return {t: m for t, m in moves.items() if m[0] != m[1]}

    def _join(self, space: str, joining: list[int], moves: dict) -> None:
        keys_of: dict[int, list[int]] = defaultdict(list)
        for chunk in _chunks(joining):
            for text_id, key in self.x(
                f"SELECT text_id, key FROM derive_text_bands WHERE text_id IN ({_marks(chunk)})", list(chunk)
            ):
                keys_of[text_id].append(key)
        candidates: dict[int, set[int]] = defaultdict(set)
        for text_id in joining:
            keys = keys_of[text_id]
            for chunk in _chunks(keys):
                for (other,) in self.x(
                    f"SELECT DISTINCT b.text_id FROM derive_text_bands b CROSS JOIN derive_groups g ON g.space = ? AND "
                    f"g.text_id = b.text_id WHERE b.key IN ({_marks(chunk)}) AND b.text_id != ?",
                    [space, *chunk, text_id],
                ):
                    candidates[text_id].add(other)
        sigs = self._signatures(set(joining) | {o for c in candidates.values() for o in c})
        group_of = {}
        for chunk in _chunks(list(sigs)):
            group_of.update(
                self.x(
                    f"SELECT text_id, grp FROM derive_groups WHERE space = ? AND text_id IN ({_marks(chunk)})",
                    [space, *chunk],
                ).fetchall()
            )
        uf = Components()
        for text_id in joining:
            for other in sorted(candidates[text_id]):
                a, b = uf.find(group_of[text_id]), uf.find(group_of[other])
                if a != b and texts_alike(sigs[text_id], sigs[other]):
                    uf.union(a, b)
        relabel: dict[int, int] = {}
        for grp in set(group_of.values()):
            root = uf.find(grp)
            if root != grp:
                relabel[grp] = root
        for old, new in relabel.items():
            for (text_id,) in self.x(
                "SELECT text_id FROM derive_groups WHERE space = ? AND grp = ?", [space, old]
            ).fetchall():
                before = moves.get(text_id, (old, old))[0]
                moves[text_id] = (before, new)
            self.x("UPDATE derive_groups SET grp = ? WHERE space = ? AND grp = ?", [new, space, old])

    def _resplit(self, space: str, grp: int, moves: dict) -> None:
        members = [
            t
            for (t,) in self.x(
                "SELECT text_id FROM derive_groups WHERE space = ? AND grp = ? ORDER BY text_id", [space, grp]
            )
        ]
        if not members:
            return
        sigs = self._signatures(members)
        keys = {t: set() for t in members}
        for chunk in _chunks(members):
            for text_id, key in self.x(
                f"SELECT text_id, key FROM derive_text_bands WHERE text_id IN ({_marks(chunk)})", list(chunk)
            ):
                keys[text_id].add(key)
        uf = Components()
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if uf.find(a) != uf.find(b) and keys[a] & keys[b] and texts_alike(sigs[a], sigs[b]):
                    uf.union(a, b)
        for text_id in members:
            label = uf.find(text_id)  # the smallest member: the same label a fresh join gives
            if label != grp:
                before = moves.get(text_id, (grp, grp))[0]
                moves[text_id] = (before, label)
                self.x("UPDATE derive_groups SET grp = ? WHERE space = ? AND text_id = ?", [label, space, text_id])

    def _add_raw_texts(self, pages: list[_Page]) -> set[int]:
        titled = [p for p in pages if p.title is not None]
        raw = {p.page_id: article_text(p.lines, set(), []) for p in titled}
        ids = self._text_ids(raw.values())
        for p in titled:
            if raw[p.page_id]:
                self.x("UPDATE derive_pages SET raw_id = ? WHERE page_id = ?", [ids[raw[p.page_id]], p.page_id])
        moves = self._space_update("raw", [ids[raw[p.page_id]] for p in titled if raw[p.page_id]], [])
        return set(moves)

    # --- 3. evidence and furniture

    def _pages_with(self, column: str, ids: set[int]) -> set[int]:
        found: set[int] = set()
        for chunk in _chunks(sorted(ids)):
            found.update(
                p
                for (p,) in self.x(f"SELECT page_id FROM derive_pages WHERE {column} IN ({_marks(chunk)})", list(chunk))
            )  # column: a fixed name of this module
        return found

    def _pages_containing(self, line_ids: set[int]) -> set[int]:
        found: set[int] = set()
        for chunk in _chunks(sorted(line_ids)):
            found.update(
                p
                for (p,) in self.x(
                    f"SELECT page_id FROM derive_page_lines WHERE line_id IN ({_marks(chunk)})", list(chunk)
                )
            )
        return found

    def _all_pages(self) -> set[int]:
        return {p for (p,) in self.x("SELECT page_id FROM derive_pages")}

    def _group(self, space: str, text_id: int | None) -> int | None:
        if text_id is None:
            return None
        row = self.x("SELECT grp FROM derive_groups WHERE space = ? AND text_id = ?", [space, text_id]).fetchone()
        return row[0] if row else None

    def _set_evidence(self, stage: int, page_ids: set[int]) -> set[int]:
        """Recompute ``ev<stage>`` of these pages; returns the pages whose evidence label changed."""
        changed = set()
        column = f"ev{stage}"
        for page_id in sorted(page_ids):
            row = self.x(
                f"SELECT has_article, title_id, raw_id, text0_id, {column} FROM derive_pages WHERE page_id = ?",
                [page_id],
            ).fetchone()
            has_article, title_id, raw_id, text0_id, old = row
            title_cluster = None
            if title_id is not None:
                title_cluster = self.x("SELECT cluster FROM derive_lines WHERE id = ?", [title_id]).fetchone()[0]
            if not has_article or (stage == 0 and title_id is None):
                new = None
            elif stage == 0:
                grp = self._group("raw", raw_id)
                new = f"t{title_cluster}:{grp if grp is not None else f'p{page_id}'}"
            else:
                grp = self._group("s0", text0_id)
                if title_id is not None:
                    new = f"t{title_cluster}:{grp if grp is not None else f'p{page_id}'}"
                else:
                    new = f"x{grp}" if grp is not None else f"p{page_id}"
            if new != old:
                self.x(f"UPDATE derive_pages SET {column} = ? WHERE page_id = ?", [new, page_id])
                changed.add(page_id)
        return changed

    def _evidence(
        self, stage: int, pages: set[int], moved_clusters: set[int], also: set[int] = frozenset()
    ) -> tuple[set[int], bool]:
        """Bring repeat flags, body runs, near-duplicate clusters and the furniture flags of round
        ``stage`` up to date after the evidence of ``pages`` changed. Returns the line ids whose
        furniture flag flipped and whether "there is furniture at all" flipped."""
        ev, rep, flag = f"ev{stage}", f"rep{stage}", f"f{stage}"
        texts: set[int] = set()
        clusters: set[int] = set(moved_clusters)
        for chunk in _chunks(sorted(pages)):
            for line_id, kind, cluster in self.x(
                f"SELECT pl.line_id, pl.kind, l.cluster FROM derive_page_lines pl "
                f"JOIN derive_lines l ON l.id = pl.line_id "
                f"WHERE pl.page_id IN ({_marks(chunk)}) AND pl.kind > 0",
                list(chunk),
            ):
                texts.add(line_id)
                if kind & NEAR:
                    clusters.add(cluster)
        # verbatim repeats on two different articles
        rep_flips: set[int] = set()
        for chunk in _chunks(sorted(texts)):
            for line_id, old, new in self.x(
                f"""SELECT l.id, l.{rep}, (SELECT count(*) FROM (SELECT DISTINCT p.{ev} FROM derive_page_lines pl
                        JOIN derive_pages p ON p.page_id = pl.page_id
                        WHERE pl.line_id = l.id AND pl.kind & {CANDIDATE} AND p.{ev} IS NOT NULL LIMIT 2)) >= 2
                    FROM derive_lines l WHERE l.id IN ({_marks(chunk)})""",
                list(chunk),
            ):
                if old != new:
                    rep_flips.add(line_id)
                    self.x(f"UPDATE derive_lines SET {rep} = ? WHERE id = ?", [new, line_id])
        run_pages = set(pages)
        for chunk in _chunks(sorted(rep_flips)):
            run_pages.update(
                p
                for (p,) in self.x(
                    f"SELECT pl.page_id FROM derive_page_lines pl JOIN derive_pages p ON p.page_id = pl.page_id "
                    f"WHERE pl.line_id IN ({_marks(chunk)}) AND p.{ev} IS NOT NULL",
                    list(chunk),
                )
            )
        run_texts = self._body_runs(stage, run_pages)
        # near-duplicate clusters outside the body on two different articles
        for chunk in _chunks(sorted(c for c in clusters if c is not None)):
            for cluster, near in self.x(
                f"""SELECT c.value, (SELECT count(*) FROM (SELECT DISTINCT p.{ev} FROM derive_lines l
                        JOIN derive_page_lines pl ON pl.line_id = l.id AND pl.kind & {NEAR}
                        JOIN derive_pages p ON p.page_id = pl.page_id
                        WHERE l.cluster = c.value AND p.{ev} IS NOT NULL LIMIT 2)) >= 2
                    FROM json_each(?) c""",
                [json.dumps(list(chunk))],
            ):
                if near:
                    self.x("INSERT OR IGNORE INTO derive_near(stage, cluster) VALUES (?, ?)", [stage, cluster])
                else:
                    self.x("DELETE FROM derive_near WHERE stage = ? AND cluster = ?", [stage, cluster])
        # the flags of every text whose inputs moved
        check = set(run_texts) | set(also)
        for chunk in _chunks(sorted(c for c in clusters if c is not None)):
            check.update(
                i for (i,) in self.x(f"SELECT id FROM derive_lines WHERE cluster IN ({_marks(chunk)})", list(chunk))
            )
        any_before = self._any_furniture(stage)
        flips: set[int] = set()
        earlier = "OR l.f0 = 1" if stage == 1 else ""
        for chunk in _chunks(sorted(check)):
            for line_id, old, new in self.x(
                f"""SELECT l.id, l.{flag}, (l.cluster IS NOT NULL AND (
                        EXISTS (SELECT 1 FROM derive_near n WHERE n.stage = {stage} AND n.cluster = l.cluster)
                        OR EXISTS (SELECT 1 FROM derive_runs r WHERE r.stage = {stage} AND r.line_id = l.id) {earlier}))
                    FROM derive_lines l WHERE l.id IN ({_marks(chunk)})""",
                list(chunk),
            ):
                if old != new:
                    flips.add(line_id)
                    self.x(f"UPDATE derive_lines SET {flag} = ? WHERE id = ?", [new, line_id])
        return flips, any_before != self._any_furniture(stage)

    def _any_furniture(self, stage: int) -> bool:
        return self.x(f"SELECT 1 FROM derive_lines WHERE f{stage} = 1 LIMIT 1").fetchone() is not None

    def _body_runs(self, stage: int, page_ids: set[int]) -> set[int]:
        """Recompute the body runs of these pages; returns the line ids whose run membership changed."""
        ev, rep = f"ev{stage}", f"rep{stage}"
        changed: set[int] = set()
        for page_id in sorted(page_ids):
            is_evidence = self.x(f"SELECT {ev} IS NOT NULL FROM derive_pages WHERE page_id = ?", [page_id]).fetchone()[
                0
            ]
            new: set[int] = set()
            if is_evidence:
                ids = dict(
                    self.x(
                        "SELECT l.text, l.id FROM derive_page_lines pl JOIN derive_lines l ON l.id = pl.line_id "
                        "WHERE pl.page_id = ?",
                        [page_id],
                    ).fetchall()
                )
                repeated = {
                    t
                    for (t,) in self.x(
                        f"SELECT l.text FROM derive_page_lines pl JOIN derive_lines l ON l.id = pl.line_id "
                        f"WHERE pl.page_id = ? AND l.{rep} = 1",
                        [page_id],
                    )
                }
                if repeated:
                    new = {ids[t] for t in body_runs(self.page(page_id).lines, repeated)}
            old = {
                i
                for (i,) in self.x("SELECT line_id FROM derive_runs WHERE stage = ? AND page_id = ?", [stage, page_id])
            }
            if old != new:
                self.x("DELETE FROM derive_runs WHERE stage = ? AND page_id = ?", [stage, page_id])
                self.conn.executemany(
                    "INSERT INTO derive_runs(stage, line_id, page_id) VALUES (?, ?, ?)",
                    [(stage, i, page_id) for i in new],
                )
                changed |= old ^ new
        return changed

    # --- 4. article texts and runs of a round

    def _rerun(self, stage: int, page_ids: set[int]) -> tuple[dict[int, tuple], set[int]]:
        """Runs and article text of these pages with the furniture of round ``stage``. Returns the
        text-space moves and the pages whose text became empty or non-empty."""
        flag, column, space = f"f{stage}", f"text{stage}_id", f"s{stage}"
        any_furniture = self._any_furniture(stage)
        added, removed, emptiness = [], [], set()
        results: dict[int, tuple[str, list]] = {}
        for page_id in sorted(page_ids):
            page = self.page(page_id)
            furniture = _Furniture(
                {
                    t
                    for (t,) in self.x(
                        f"SELECT l.text FROM derive_page_lines pl JOIN derive_lines l ON l.id = pl.line_id "
                        f"WHERE pl.page_id = ? AND l.{flag} = 1",
                        [page_id],
                    )
                },
                any_furniture,
            )
            runs = find_runs(page.lines, furniture)
            results[page_id] = (article_text(page.lines, furniture, runs), runs)
        ids = self._text_ids(text for text, _ in results.values())
        for page_id, (text, runs) in results.items():
            old_id, old_runs = self.x(
                f"SELECT {column}, runs FROM derive_pages WHERE page_id = ?", [page_id]
            ).fetchone()
            new_id = ids.get(text) if text else None
            if new_id != old_id:
                if stage == 1:
                    self.x("DELETE FROM content_articles WHERE content_sha256 = ?", [self.page(page_id).sha])
                if old_id is not None:
                    removed.append(old_id)
                if new_id is not None:
                    added.append(new_id)
                if (old_id is None) != (new_id is None):
                    emptiness.add(page_id)
                self.x(f"UPDATE derive_pages SET {column} = ? WHERE page_id = ?", [new_id, page_id])
            if stage == 1:
                old_group = self._group("s1", old_id)
                if old_group is not None:
                    self.touched_articles.add(old_group)
                new_runs = [run.lines for run in runs]
                if json.dumps(new_runs) != old_runs:
                    self._set_block_runs(page_id, new_runs)
        moves = self._space_update(space, added, removed)
        if stage == 1:
            for page_id in page_ids:
                grp = self._group(
                    "s1", self.x("SELECT text1_id FROM derive_pages WHERE page_id = ?", [page_id]).fetchone()[0]
                )
                if grp is not None:
                    self.touched_articles.add(grp)
        return moves, emptiness

    # --- 5. blocks

    def _set_block_runs(self, page_id: int, runs: list[list[int]]) -> None:
        page = self.page(page_id)
        self.x("UPDATE derive_pages SET runs = ? WHERE page_id = ?", [json.dumps(runs), page_id])
        old = dict(self.x("SELECT version_id, n FROM derive_page_blocks WHERE page_id = ?", [page_id]).fetchall())
        new: dict[int, int] = defaultdict(int)
        for run in runs:
            lines = [page.lines.lines[i][0] for i in run]
            new[self._block_version(lines)] += 1
        for version_id in set(old) | set(new):
            delta = new.get(version_id, 0) - old.get(version_id, 0)
            if delta == 0:
                continue
            version_hash = self.x("SELECT hash FROM derive_block_versions WHERE id = ?", [version_id]).fetchone()[0]
            link = (page.sha, "bv-" + version_hash[:12])
            if version_id in new and version_id not in old:
                self.link_add.add(link)
                self.link_del.discard(link)
            elif version_id in old and version_id not in new:
                self.link_del.add(link)
                self.link_add.discard(link)
            if version_id in new:  # the page's own snapshots count once per occurrence
                stats = self._page_stats([page_id])[page_id]
                self._add_to_version(version_id, delta * stats[0], *stats[1:])
            else:
                self.recount.add(version_id)
            if version_id in new and version_id in old:
                self.x(
                    "UPDATE derive_page_blocks SET n = ? WHERE version_id = ? AND page_id = ?",
                    [new[version_id], version_id, page_id],
                )
            elif version_id in new:
                self.x(
                    "INSERT INTO derive_page_blocks(version_id, page_id, n) VALUES (?, ?, ?)",
                    [version_id, page_id, new[version_id]],
                )
            else:
                self.x("DELETE FROM derive_page_blocks WHERE version_id = ? AND page_id = ?", [version_id, page_id])
            block, pages = self.x(
                "SELECT block, pages FROM derive_block_versions WHERE id = ?", [version_id]
            ).fetchone()
            pages += (version_id in new) - (version_id in old)
            self.touched_blocks.add(block)
            if pages == 0:
                self._drop_block_version(version_id, block)
            else:
                self.x("UPDATE derive_block_versions SET pages = ? WHERE id = ?", [pages, version_id])
        for version_id in set(old) | set(new):
            row = self.x("SELECT block FROM derive_block_versions WHERE id = ?", [version_id]).fetchone()
            if row:
                self.touched_blocks.add(row[0])

    def _block_version(self, lines: list[str]) -> int:
        """The id of a block version (a run's line texts), created and put in its block when new."""
        text = "\n".join(lines)
        h = text_hash(text)
        row = self.x("SELECT id FROM derive_block_versions WHERE hash = ?", [h]).fetchone()
        if row:
            return row[0]
        ids = self._line_ids("line", lines)
        line_ids = [ids[t] for t in lines]
        version_id = self.x(
            "INSERT INTO derive_block_versions(hash, line_ids, block, pages) VALUES (?, ?, 0, 0)",
            [h, json.dumps(line_ids)],
        ).lastrowid
        clusters = self._clusters_of(line_ids)
        blocks = sorted(
            {
                b
                for (b,) in self.x(
                    f"SELECT DISTINCT block FROM derive_block_clusters WHERE cluster IN ({_marks(clusters)})", clusters
                )
            }
        )
        if blocks:
            block = blocks[0]
            for other in blocks[1:]:
                self._relabel_block(other, block)
        else:
            block = self.x("SELECT coalesce(max(block), 0) + 1 FROM derive_block_versions").fetchone()[0]
        self.x("UPDATE derive_block_versions SET block = ? WHERE id = ?", [block, version_id])
        self.conn.executemany(
            "INSERT OR REPLACE INTO derive_block_clusters(cluster, block) VALUES (?, ?)", [(c, block) for c in clusters]
        )
        self.touched_blocks.add(block)
        facts = extract_facts(lines)  # once per block version: a version's text never changes
        self.new_facts[h] = facts
        return version_id

    def _clusters_of(self, line_ids: list[int]) -> list[int]:
        rows = dict(
            self.x(f"SELECT id, cluster FROM derive_lines WHERE id IN ({_marks(line_ids)})", line_ids).fetchall()
        )
        return sorted({rows[i] for i in line_ids})

    def _relabel_block(self, old: int, new: int) -> None:
        self.x("UPDATE derive_block_versions SET block = ? WHERE block = ?", [new, old])
        self.x("UPDATE derive_block_clusters SET block = ? WHERE block = ?", [new, old])
        self.touched_blocks.update((old, new))

    def _drop_block_version(self, version_id: int, block: int) -> None:
        self.x("DELETE FROM derive_block_versions WHERE id = ?", [version_id])
        self._resplit_block(block)

    def _resplit_block(self, block: int) -> None:
        """Components of a block's remaining versions (a removed version may have held it together)."""
        versions = self.x(
            "SELECT id, line_ids FROM derive_block_versions WHERE block = ? ORDER BY id", [block]
        ).fetchall()
        self.x("DELETE FROM derive_block_clusters WHERE block = ?", [block])
        uf = Components()
        clusters_of = {}
        for version_id, line_ids in versions:
            clusters = self._clusters_of(json.loads(line_ids))
            clusters_of[version_id] = clusters
            for c in clusters[1:]:
                uf.union(clusters[0], c)
        roots = sorted({uf.find(c[0]) for c in clusters_of.values()})
        next_label = self.x("SELECT coalesce(max(block), 0) + 1 FROM derive_block_versions").fetchone()[0]
        label_of = {}
        for index, root in enumerate(roots):
            label_of[root] = block if index == 0 else next_label + index - 1
        for version_id, clusters in clusters_of.items():
            label = label_of[uf.find(clusters[0])]
            self.x("UPDATE derive_block_versions SET block = ? WHERE id = ?", [label, version_id])
            self.conn.executemany(
                "INSERT OR REPLACE INTO derive_block_clusters(cluster, block) VALUES (?, ?)",
                [(c, label) for c in clusters],
            )
            self.touched_blocks.add(label)
        self.touched_blocks.add(block)

    def _blocks_after_cluster_merges(self, merged: dict[int, int]) -> None:
        """Line clusters that merged bring their blocks together."""
        for absorbed, kept in merged.items():
            row = self.x("SELECT block FROM derive_block_clusters WHERE cluster = ?", [absorbed]).fetchone()
            if row is None:
                continue
            self.x("DELETE FROM derive_block_clusters WHERE cluster = ?", [absorbed])
            kept_row = self.x("SELECT block FROM derive_block_clusters WHERE cluster = ?", [kept]).fetchone()
            if kept_row is None:
                self.x("INSERT INTO derive_block_clusters(cluster, block) VALUES (?, ?)", [kept, row[0]])
            elif kept_row[0] != row[0]:
                self._relabel_block(max(kept_row[0], row[0]), min(kept_row[0], row[0]))
            self.touched_blocks.add(row[0])


class _RecordWriter:
    """Rewrites the public rows of the articles and blocks a refresh touched, and keeps ids ranks."""

    def __init__(self, deriver: Deriver) -> None:
        self.d = deriver
        self.x = deriver.x
        self.conn = deriver.conn

    def write(self) -> None:
        self.x("PRAGMA defer_foreign_keys = ON")
        for version_id in sorted(self.d.recount):  # a page left it: min and max cannot be taken back
            self.x(
                """UPDATE derive_block_versions SET (snapshots, first_seen, last_seen, min_url) = (
                      SELECT sum(pb.n * p.snapshots), min(p.first_seen), max(p.last_seen), min(p.min_url)
                      FROM derive_page_blocks pb JOIN derive_pages p ON p.page_id = pb.page_id WHERE pb.version_id = ?)
                      WHERE id = ?""",
                [version_id, version_id],
            )
        self._write_articles(sorted(self.d.touched_articles))
        self._write_blocks(sorted(self.d.touched_blocks))

    # --- ranks

    def _renumber(
        self,
        table: str,
        child: str,
        child_column: str,
        order_table: str,
        label: str,
        old: dict[int, tuple[str, int]],
        new: dict[int, str],
    ) -> dict[int, int]:
        """Public ids as ranks by sort key: ``old`` label -> (key, id) removed, ``new`` label -> key added.
        Returns label -> id for the new ones, and moves the ids of the others whose rank changed: only
        those between the smallest and the largest key that differs (none when a record is appended
        at the end or keeps its key), so a touch costs what it changed, not the table's size."""
        old_keys = Counter(key for key, _ in old.values())
        new_keys = Counter(new.values())
        differing = (old_keys - new_keys) + (new_keys - old_keys)
        assigned: dict[int, int] = {}
        if not differing:  # the same keys: the same ranks, in key order
            free = sorted(old.values())
            for (lab, _), (_, pid) in zip(sorted(new.items(), key=lambda item: (item[1], item[0])), free):
                assigned[lab] = pid
            return assigned
        low = min(differing)
        # rows above every changed key keep their rank unless the number of records changed
        high = max([*old_keys, *new_keys]) if len(old) == len(new) else "\U0010ffff"
        # ids are ranks: the rows below ``low`` are exactly ids 1..below, whichever were removed
        last_kept = self.x(
            f"SELECT public_id FROM [{order_table}] WHERE sort_key < ? ORDER BY sort_key DESC LIMIT 1", [low]
        ).fetchone()
        below = max([last_kept[0] if last_kept else 0] + [pid for key, pid in old.values() if key < low])
        kept_below = below - sum(1 for key, _ in old.values() if key < low)
        same_below = sorted((key, pid) for key, pid in old.values() if key < low)  # affected, key unchanged
        new_below = sorted((key, lab) for lab, key in new.items() if key < low)
        for (_, lab), (_, pid) in zip(new_below, same_below):
            assigned[lab] = pid
        shifted = self.x(
            f"SELECT {label}, sort_key, public_id FROM [{order_table}] WHERE sort_key >= ? AND sort_key <= ?",
            [low, high],
        ).fetchall()
        combined = sorted(
            [(key, lab, pid) for lab, key, pid in shifted]
            + [(key, lab, None) for lab, key in new.items() if key >= low]
        )
        moves = []
        for rank, (_, lab, pid) in enumerate(combined, start=kept_below + len(new_below) + 1):
            if pid is None:
                assigned[lab] = rank
            elif pid != rank:
                moves.append((lab, pid, rank))
        if moves:
            for step in ("neg", "pos"):
                for _, pid, rank in moves:
                    src, dst = (pid, -rank) if step == "neg" else (-rank, rank)
                    self.x(f"UPDATE [{table}] SET id = ? WHERE id = ?", [dst, src])
                    self.x(f"UPDATE [{child}] SET {child_column} = ? WHERE {child_column} = ?", [dst, src])
            self.conn.executemany(
                f"UPDATE [{order_table}] SET public_id = ? WHERE {label} = ?", [(rank, lab) for lab, _, rank in moves]
            )
        return assigned

    # --- articles

    def _write_articles(self, groups: list[int]) -> None:
        old: dict[int, tuple[str, int]] = {}
        for chunk in _chunks(groups):
            for grp, key, pid in self.x(
                f"SELECT grp, sort_key, public_id FROM derive_article_order WHERE grp IN ({_marks(chunk)})", list(chunk)
            ):
                old[grp] = (key, pid)
        old_versions: set[str] = set()
        for grp, (_, pid) in old.items():
            old_versions.update(v for (v,) in self.x("SELECT id FROM article_versions WHERE article_id = ?", [pid]))
            self.x(
                "UPDATE article_versions SET article_id = 0 WHERE article_id = ?", [pid]
            )  # until rewritten or dropped
            self.x("DELETE FROM articles WHERE id = ?", [pid])
            self.x("DELETE FROM derive_article_order WHERE grp = ?", [grp])
        built = {}
        for grp in groups:
            record = self._article(grp)
            if record is not None:
                built[grp] = record
        assigned = self._renumber(
            "articles",
            "article_versions",
            "article_id",
            "derive_article_order",
            "grp",
            old,
            {grp: r[0] for grp, r in built.items()},
        )
        new_versions: set[str] = set()
        for grp, (key, article, versions, links) in built.items():
            pid = assigned[grp]
            self.x(
                "INSERT INTO articles(id, title, url, status, versions, snapshots, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [pid, *article],
            )
            self.x(
                "INSERT INTO derive_article_order(grp, sort_key, public_id, url) VALUES (?, ?, ?, ?)",
                [grp, key, pid, article[1]],
            )
            for v in versions:
                new_versions.add(v["id"])
                self.x(
                    """INSERT INTO article_versions(id, article_id, version, title, published, text,
                          similarity_to_previous, snapshots, first_seen, last_seen)
                          VALUES (:id, :article_id, :version, :title, :published, :text, :similarity_to_previous,
                                  :snapshots, :first_seen, :last_seen)
                          ON CONFLICT(id) DO UPDATE SET article_id = excluded.article_id, version = excluded.version,
                          title = excluded.title, published = excluded.published,
                          similarity_to_previous = excluded.similarity_to_previous, snapshots = excluded.snapshots,
                          first_seen = excluded.first_seen, last_seen = excluded.last_seen""",
                    {**v, "article_id": pid},
                )
            self.conn.executemany(
                "INSERT OR REPLACE INTO content_articles(content_sha256, article_version_id) VALUES (?, ?)", links
            )
        for version_id in sorted(old_versions - new_versions):  # its texts left these articles
            self.x("DELETE FROM content_articles WHERE article_version_id = ?", [version_id])
            self.x("DELETE FROM article_versions WHERE id = ?", [version_id])

    def _article(self, grp: int):
        rows = self.x(
            """SELECT p.content_sha256, p.text1_id, t.hash, t.text, p.snapshots, p.first_seen, p.last_seen, p.min_url,
                      p.newest_url, pg.title, pg.published
               FROM derive_groups g JOIN derive_pages p ON p.text1_id = g.text_id
               JOIN derive_texts t ON t.id = p.text1_id JOIN pages pg ON pg.content_sha256 = p.content_sha256
               WHERE g.space = 's1' AND g.grp = ? ORDER BY p.content_sha256""",
            [grp],
        ).fetchall()
        if not rows:
            return None
        versions: dict[int, list] = {}
        for row in rows:
            versions.setdefault(row[1], []).append(row)

        def span(keys):
            return sum(k[4] for k in keys), min(k[5] for k in keys), max(k[6] for k in keys)

        def order(keys):
            return order_key(min(k[5] for k in keys), min(k[7] for k in keys), keys[0][2])

        ordered = sorted(versions, key=lambda t: order(versions[t]))
        sigs = self.d._signatures(ordered) if len(ordered) > 1 else {}
        out, links, titles = [], [], []
        previous = None
        for number, text_id in enumerate(ordered, start=1):
            keys = versions[text_id]
            count, first, last = span(keys)
            title = next((k[9] for k in keys if k[9]), None)
            published = next((k[10] for k in keys if k[10]), None)
            titles.append(title)
            version_id = "av-" + keys[0][2][:12]
            out.append(
                {
                    "id": version_id,
                    "version": number,
                    "title": title,
                    "published": published,
                    "text": keys[0][3],
                    "snapshots": count,
                    "first_seen": first,
                    "last_seen": last,
                    "similarity_to_previous": None
                    if previous is None
                    else round(estimate_jaccard(sigs[previous], sigs[text_id]), 3),
                }
            )
            links += [(k[0], version_id) for k in keys]
            previous = text_id
        # iteration order of the reference: texts by their smallest content, contents by hash
        all_keys = [k for t in sorted(versions, key=lambda t: versions[t][0][0]) for k in versions[t]]
        count, first, last = span(all_keys)
        newest = max(all_keys, key=lambda k: k[6])
        url = newest[8]
        status = "removed" if _latest_status(self.conn, url) in REMOVED_STATUSES else "live"
        article = (next((t for t in reversed(titles) if t), None), url, status, len(ordered), count, first, last)
        return order(versions[ordered[0]]), article, out, links

    # --- blocks

    def _write_blocks(self, blocks: list[int]) -> None:
        old: dict[int, tuple[str, int]] = {}
        for chunk in _chunks(blocks):
            for block, key, pid in self.x(
                f"SELECT block, sort_key, public_id FROM derive_block_order WHERE block IN ({_marks(chunk)})",
                list(chunk),
            ):
                old[block] = (key, pid)
        old_versions: set[str] = set()
        for block, (_, pid) in old.items():
            old_versions.update(v for (v,) in self.x("SELECT id FROM block_versions WHERE block_id = ?", [pid]))
            self.x("UPDATE block_versions SET block_id = 0 WHERE block_id = ?", [pid])  # until rewritten or dropped
            self.x("DELETE FROM blocks WHERE id = ?", [pid])
            self.x("DELETE FROM derive_block_order WHERE block = ?", [block])
        built = {}
        for block in blocks:
            record = self._block(block)
            if record is not None:
                built[block] = record
        assigned = self._renumber(
            "blocks",
            "block_versions",
            "block_id",
            "derive_block_order",
            "block",
            old,
            {b: r[0] for b, r in built.items()},
        )
        new_versions: set[str] = set()
        for block, (key, row, versions, lines, changes) in built.items():
            pid = assigned[block]
            self.x(
                "INSERT INTO blocks(id, name, versions, snapshots, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?)",
                [pid, *row],
            )
            self.x("INSERT INTO derive_block_order(block, sort_key, public_id) VALUES (?, ?, ?)", [block, key, pid])
            ids = [v["id"] for v in versions]
            new_versions.update(ids)
            for chunk in _chunks(ids):
                self.x(f"DELETE FROM block_version_lines WHERE block_version_id IN ({_marks(chunk)})", list(chunk))
                self.x(f"DELETE FROM block_line_changes WHERE block_version_id IN ({_marks(chunk)})", list(chunk))
            for v in versions:
                if not v["fresh"]:  # its text, language and facts never change: only place, number and spans
                    self.x(
                        "UPDATE block_versions SET block_id = :block_id, version = :version, snapshots = :snapshots, "
                        "first_seen = :first_seen, last_seen = :last_seen WHERE id = :id",
                        {**v, "block_id": pid},
                    )
                else:
                    self.x(
                        """INSERT INTO block_versions(id, block_id, version, language, text, line_count, snapshots,
                           first_seen, last_seen) VALUES (:id, :block_id, :version, :language, :text, :line_count,
                           :snapshots, :first_seen, :last_seen)""",
                        {**v, "block_id": pid},
                    )
                    self.conn.executemany(
                        "INSERT OR IGNORE INTO facts(block_version_id, delegation, field, value, line_no) "
                        "VALUES (?, ?, ?, ?, ?)",
                        [(v["id"], f.delegation, f.field, f.value, f.line_no) for f in v["facts"]],
                    )
            self.conn.executemany(
                "INSERT INTO block_version_lines(block_version_id, line_no, slot, text) VALUES (?, ?, ?, ?)", lines
            )
            self.conn.executemany(
                "INSERT INTO block_line_changes(block_version_id, previous_version_id, slot, kind, "
                "old_text, new_text, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                changes,
            )
        for version_id in sorted(old_versions - new_versions):
            linked = self.x("SELECT content_sha256 FROM content_blocks WHERE block_version_id = ?", [version_id])
            self.d.dropped_contents.update(sha for (sha,) in linked)
            for table in ("facts", "block_version_lines", "block_line_changes", "content_blocks"):
                self.x(f"DELETE FROM [{table}] WHERE block_version_id = ?", [version_id])  # fixed names
            self.x("DELETE FROM block_line_changes WHERE previous_version_id = ?", [version_id])
            self.x("DELETE FROM block_versions WHERE id = ?", [version_id])
        self.conn.executemany(
            "DELETE FROM content_blocks WHERE content_sha256 = ? AND block_version_id = ?", sorted(self.d.link_del)
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO content_blocks(content_sha256, block_version_id) VALUES (?, ?)",
            sorted(self.d.link_add),
        )

    def _block(self, block: int):
        versions = self.x(
            "SELECT id, hash, line_ids, snapshots, first_seen, last_seen, min_url "
            "FROM derive_block_versions WHERE block = ?",
            [block],
        ).fetchall()
        if not versions:
            return None
        info = {}
        for version_id, h, line_ids, count, first, last, min_url in versions:
            ids = json.loads(line_ids)
            texts = dict(self.x(f"SELECT id, text FROM derive_lines WHERE id IN ({_marks(ids)})", ids).fetchall())
            clusters = dict(self.x(f"SELECT id, cluster FROM derive_lines WHERE id IN ({_marks(ids)})", ids).fetchall())
            lines = [texts[i] for i in ids]
            text = "\n".join(lines)
            info[version_id] = {
                "hash": h,
                "lines": lines,
                "labels": [clusters[i] for i in ids],
                "text": text,
                "span": (count, first, last),
                "order": order_key(first, min_url, h),
            }
        ordered = sorted(info, key=lambda v: info[v]["order"])
        slots = assign_slots([info[v]["labels"] for v in ordered], [info[v]["lines"] for v in ordered])
        counts = [info[v]["span"][0] for v in ordered]
        commonest = ordered[counts.index(max(counts))]
        row = (
            info[commonest]["lines"][0][:80],
            len(ordered),
            sum(counts),
            min(info[v]["span"][1] for v in ordered),
            max(info[v]["span"][2] for v in ordered),
        )
        out, line_rows, change_rows = [], [], []
        previous = None
        for number, (v, line_slots) in enumerate(zip(ordered, slots), start=1):
            item = info[v]
            version_id = "bv-" + item["hash"][:12]
            fresh = self.x("SELECT 1 FROM block_versions WHERE id = ?", [version_id]).fetchone() is None
            if fresh:  # facts extracted once, when the version first appears
                facts = self.d.new_facts.get(item["hash"]) or extract_facts(item["lines"])
            else:  # a version already written: its facts are in the facts table
                facts = [
                    Fact(*row)
                    for row in self.x(
                        "SELECT delegation, field, value, line_no FROM facts WHERE block_version_id = ?", [version_id]
                    )
                ]
            out.append(
                {
                    "id": version_id,
                    "fresh": fresh,
                    "version": number,
                    "language": detect_language(item["text"]) if fresh else None,
                    "text": item["text"],
                    "line_count": len(item["lines"]),
                    "snapshots": item["span"][0],
                    "first_seen": item["span"][1],
                    "last_seen": item["span"][2],
                    "facts": facts,
                }
            )
            line_rows += [(version_id, i, s, t) for i, (t, s) in enumerate(zip(item["lines"], line_slots))]
            if previous is not None:
                prev_id, prev_lines, prev_slots, prev_facts = previous
                change_rows += [
                    (version_id, prev_id, c.slot, c.kind, c.old_text, c.new_text, c.detail)
                    for c in compare_versions(prev_lines, prev_slots, item["lines"], line_slots, prev_facts, facts)
                ]
            previous = (version_id, item["lines"], line_slots, facts)
        return info[ordered[0]]["order"], row, out, line_rows, change_rows


def _latest_status(conn: sqlite3.Connection, url: str | None) -> int | None:
    """HTTP status of the newest snapshot of a URL (what says whether its article was removed)."""
    if url is None:
        return None
    row = conn.execute(
        "SELECT http_status FROM snapshots WHERE url = ? ORDER BY observed_at DESC, id DESC LIMIT 1", [url]
    ).fetchone()
    return row[0] if row else None
