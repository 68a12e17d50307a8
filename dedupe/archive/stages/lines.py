"""Stage 1: line and title clusters.

Every distinct line text (and, apart, every title) has its LSH band keys in ``derive_line_bands``; a
new text looks its keys up, is confirmed against each candidate component by the exact shingle
Jaccard (``blocks.lines_alike``) and joins, or merges, clusters. An edge depends on the pair alone
(``linking.connect_by_bands``), so the clusters are those of the whole set whatever the order."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ...blocks import (
    LINE_BAND_THRESHOLD,
    candidate_positions,
    line_shingles,
    line_signatures,
    lines_alike,
    remember_line_signatures,
    stored_line_signatures,
)
from ...linking import SHINGLE_CACHE, BandLinker, Components, shared_keys
from ...minhash import estimates_against
from . import postings, sql
from .model import LINE_SPACES, Page, line_key, page_lines_blob
from .pages import refresh_page_stats

MEMBER_PROBE = 4  # members of a cluster under each key tried first (near-identical lines: the first confirms)


@dataclass
class ClusterChanges:
    """What clustering new texts did to the clusters already there."""

    merged: dict[int, int] = field(default_factory=dict)  # absorbed cluster -> the cluster it joined (final)
    gained: set[int] = field(default_factory=set)  # clusters that gained members


class _Bucketed:
    """The lines already clustered that share a band key with the new ones: their texts, their signatures in one
    matrix (rows in line id order; computed again from the texts, ``blocks.stored_line_signatures``), and per band
    key the rows of its members and their clusters."""

    def __init__(self, conn: sqlite3.Connection, space: str, keys: np.ndarray) -> None:
        keyed: list[tuple[int, int]] = []  # (key, line id): from the band index alone
        for chunk in sql.chunks(sorted(set(keys.reshape(-1).tolist()))):
            keyed += conn.execute(sql.in_list(sql.BUCKET_MEMBERS, chunk), chunk).fetchall()
        clusters: list[int] = []
        self.ids: list[int] = []  # each member once, in line id order (of this space: lines and titles share keys)
        self.texts: dict[int, str] = {}
        wanted = LINE_SPACES[space]
        for chunk in sql.chunks(sorted({line_id for _, line_id in keyed})):
            for line_id, its_space, cluster, text in conn.execute(sql.in_list(sql.MEMBERS, chunk), chunk):
                if its_space == wanted:
                    self.ids.append(line_id)
                    clusters.append(cluster)
                    self.texts[line_id] = text
        self.clusters = np.array(clusters, dtype=np.int64)
        self.signatures = stored_line_signatures([self.texts[i] for i in self.ids]) if self.ids else None
        self.first_rows, self.other_rows = self._rows_by_key(np.array(keyed, dtype=np.int64).reshape(-1, 2))

    def _rows_by_key(self, keyed: np.ndarray) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """Per band key, the member rows in it (numpy: a title's buckets hold thousands at 20k pages): the first
        ``MEMBER_PROBE`` of each cluster under the key, and the others. A new line is estimated against the first
        ones, and against the others only of a cluster none of them confirmed: near-identical lines (one cluster of
        thousands under every key) cost a few estimates each, not thousands."""
        if not self.ids:
            return {}, {}
        ids = np.array(self.ids, dtype=np.int64)
        rows = np.minimum(np.searchsorted(ids, keyed[:, 1]), len(ids) - 1)
        kept = ids[rows] == keyed[:, 1]  # a member of the other space has no row
        keyed_keys, rows = keyed[kept, 0], rows[kept]
        order = np.lexsort((rows, self.clusters[rows], keyed_keys))  # by key, its clusters, rows in id order
        keyed_keys, rows = keyed_keys[order], rows[order]
        clusters = self.clusters[rows]
        starts = np.flatnonzero(np.r_[True, (keyed_keys[1:] != keyed_keys[:-1]) | (clusters[1:] != clusters[:-1])])
        rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
        first = rank < MEMBER_PROBE
        return _split_by_key(keyed_keys[first], rows[first]), _split_by_key(keyed_keys[~first], rows[~first])

    def candidates(self, keys: Iterable[int], by_key: dict[int, np.ndarray]) -> np.ndarray:
        """The member rows of ``by_key`` (``first_rows`` or ``other_rows``) under any of ``keys``, each once, in
        line id order."""
        found = [by_key[key] for key in keys if key in by_key]
        return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)


def _split_by_key(keys: np.ndarray, rows: np.ndarray) -> dict[int, np.ndarray]:
    """Rows grouped by their key (``keys`` sorted)."""
    if not len(keys):
        return {}
    unique, starts = np.unique(keys, return_index=True)
    return dict(zip(unique.tolist(), np.split(rows, starts[1:]), strict=True))


def line_ids(conn: sqlite3.Connection, space: str, texts: Iterable[str]) -> dict[str, int]:
    """Ids of texts in a space, inserting the new ones (cluster NULL: not clustered yet; the text is kept
    only once the line is clustered, see ``cluster``)."""
    by_hash = {line_key(t): t for t in texts}
    ids: dict[str, int] = {}

    def look_up(hashes: list[bytes]) -> None:
        for chunk in sql.chunks(hashes):
            for line_id, h in conn.execute(sql.in_list(sql.LINE_IDS, chunk), [LINE_SPACES[space], *chunk]):
                ids[by_hash[h]] = line_id

    look_up(list(by_hash))
    missing = [h for h, text in by_hash.items() if text not in ids]
    conn.executemany(sql.INSERT_LINE, [(LINE_SPACES[space], h) for h in missing])  # ids in this order, as one by one
    look_up(missing)
    return ids


def _unclustered(conn: sqlite3.Connection, ids: Iterable[int]) -> tuple[set[int], dict[int, int]]:
    """Lines not banded yet, and of those the body-only ones that had a cluster of their own."""
    unclustered: set[int] = set()
    singletons: dict[int, int] = {}
    for chunk in sql.chunks(list(ids)):
        for line_id, cluster in conn.execute(sql.in_list(sql.UNINDEXED_LINES, chunk), list(chunk)):
            unclustered.add(line_id)
            if cluster is not None:
                singletons[line_id] = cluster
    return unclustered, singletons


def _components(
    new: list[int], new_sigs: np.ndarray, text_of: dict[int, str], keys: np.ndarray, old: _Bucketed
) -> list[list]:
    """The new lines grouped with the existing clusters they link to (an existing cluster as ("c", id)).

    The new lines are linked among themselves by the reference's ``BandLinker``. Each is then
    estimated, in one numpy comparison, against the existing members of its buckets, leaving out the
    clusters its component has joined already; the members that pass are confirmed by the exact test
    in line id order until one per cluster confirms. An edge depends on the pair alone, so these are
    the components of the whole set. The members are not put in the linker's buckets one by one: a
    title's buckets hold thousands of lines of other clusters in a large archive (titles share their
    patterns), and seeding them cost a quarter of adding one article at 5,000 pages."""

    @lru_cache(maxsize=SHINGLE_CACHE)  # bounded: a page of 20,000 lines would hold ~80 MB of sets
    def sset(line_id: int) -> set[bytes]:
        return line_shingles(old.texts[line_id] if line_id in old.texts else text_of[line_id])

    linker = BandLinker(new_sigs, LINE_BAND_THRESHOLD, lambda a, b: lines_alike(sset(new[a]), sset(new[b])))
    shared = shared_keys(keys)  # a key no other new line has gives no candidate among them
    for row, line_id in enumerate(new):
        linker.add(row, [key for key in keys[row].tolist() if key in shared], ("n", line_id))
    uf = linker.components
    joined: dict[Hashable, set[int]] = {}  # component root -> the existing clusters in it
    if old.signatures is not None:
        for row, line_id in enumerate(new):
            _join_existing(row, line_id, new_sigs[row], keys[row].tolist(), old, uf, joined, sset)
    components: dict[Hashable, list] = defaultdict(list)
    for line_id in new:
        components[uf.find(("n", line_id))].append(line_id)
    for root, clusters in joined.items():
        components[root].extend(("c", cluster) for cluster in sorted(clusters))
    return list(components.values())


def _join_existing(
    row: int,
    line_id: int,
    signature: np.ndarray,
    keys: list[int],
    old: _Bucketed,
    uf: Components,
    joined: dict[Hashable, set[int]],
    sset: Callable[[int], set[bytes]],
) -> None:
    """Join one new line's component to every existing cluster it has a confirmed edge to: first through each
    cluster's first members under its keys, then through the other members of the clusters none of those
    confirmed (every cluster under a key has a first member there, so those are all the clusters met)."""
    node = ("n", line_id)
    members = old.candidates(keys, old.first_rows)
    mine = joined.get(uf.find(node))
    if mine:
        members = members[~np.isin(old.clusters[members], list(mine))]
    if not len(members):
        return
    met = set(old.clusters[members].tolist())
    _join_members(line_id, signature, members, old, uf, joined, sset)
    unsettled = met - joined.get(uf.find(node), set())
    if unsettled:
        others = old.candidates(keys, old.other_rows)
        others = others[np.isin(old.clusters[others], list(unsettled))]
        if len(others):
            _join_members(line_id, signature, others, old, uf, joined, sset)


def _join_members(
    line_id: int,
    signature: np.ndarray,
    members: np.ndarray,
    old: _Bucketed,
    uf: Components,
    joined: dict[Hashable, set[int]],
    sset: Callable[[int], set[bytes]],
) -> None:
    """Estimate the new line against these member rows in one numpy comparison; confirm those that pass by the
    exact test in line id order until one per cluster confirms, joining each such cluster to its component."""
    node = ("n", line_id)
    passing = members[estimates_against(signature, old.signatures[members]) >= LINE_BAND_THRESHOLD]
    mine_set = joined.get(uf.find(node), set())
    for member in passing.tolist():
        cluster = int(old.clusters[member])
        if cluster in mine_set or not lines_alike(sset(line_id), sset(old.ids[member])):
            continue
        root, other = uf.find(node), uf.find(("c", cluster))
        ours = joined.pop(root, set())
        theirs = joined.pop(other, {cluster})
        uf.union(root, other)
        mine_set = joined[uf.find(node)] = ours | theirs


def _resolve_chains(merged: dict[int, int]) -> dict[int, int]:
    """Chains of merges resolve to the final cluster."""
    for absorbed in list(merged):
        target = merged[absorbed]
        while target in merged:
            target = merged[target]
        merged[absorbed] = target
    return merged


def cluster(conn: sqlite3.Connection, space: str, ids: dict[str, int]) -> ClusterChanges:
    """Cluster the texts among ``ids`` that have no cluster yet, joining and merging existing clusters."""
    unclustered, singletons = _unclustered(conn, ids.values())
    if not unclustered:
        return ClusterChanges()
    text_of = {i: t for t, i in ids.items() if i in unclustered}
    new = sorted(unclustered)
    new_sigs, keys = line_signatures([text_of[i] for i in new])
    remember_line_signatures([text_of[i] for i in new], new_sigs)
    old = _Bucketed(conn, space, keys)
    components = _components(new, new_sigs, text_of, keys, old)
    changes = ClusterChanges()
    for members in components:
        clusters = sorted(m[1] for m in members if isinstance(m, tuple))
        lines = [m for m in members if not isinstance(m, tuple)]
        keep = clusters[0] if clusters else min(lines)
        for absorbed in clusters[1:]:
            changes.merged[absorbed] = keep
            conn.execute(sql.MERGE_CLUSTER, [keep, absorbed])
        conn.executemany(sql.SET_LINE_CLUSTER, [(keep, text_of[i], i) for i in lines])
        changes.merged.update({singletons[i]: keep for i in lines if i in singletons and singletons[i] != keep})
        changes.gained.add(keep)
    conn.executemany(  # a generator: 31 rows a line, never all in memory
        sql.INSERT_LINE_BAND, ((key, line_id) for row, line_id in enumerate(new) for key in set(keys[row].tolist()))
    )
    _resolve_chains(changes.merged)
    return changes


def _page_line_kinds(page: Page, ids: dict[str, int]) -> dict[int, int]:
    """Each distinct line of one page with its candidate bits (``derive_page_lines.kind``)."""
    kinds: dict[int, int] = defaultdict(int)
    for text, _, _ in page.lines.lines:
        kinds[ids[text]] |= 0
    for i in candidate_positions(page.lines):
        text, role, _ = page.lines.lines[i]
        kinds[ids[text]] |= sql.CANDIDATE | (sql.NEAR if role != "body" else 0)
    return kinds


def add_lines(conn: sqlite3.Connection, pages: list[Page]) -> ClusterChanges:
    """Record the new pages and their lines; cluster the lines seen outside a body (body-only lines
    are clusters of their own until then)."""
    ids = line_ids(conn, "line", {text for p in pages for text, _, _ in p.lines.lines})
    candidates = {p.lines.lines[i][0] for p in pages for i in candidate_positions(p.lines)}
    outside_body = {
        p.lines.lines[i][0] for p in pages for i in candidate_positions(p.lines) if p.lines.lines[i][1] != "body"
    }
    changes = cluster(conn, "line", {t: ids[t] for t in outside_body})
    body_only = [ids[t] for t in candidates - outside_body]
    for chunk in sql.chunks(body_only):
        conn.execute(sql.in_list(sql.OWN_CLUSTER, chunk), list(chunk))
    kinds = {p.page_id: _page_line_kinds(p, ids) for p in pages}
    conn.executemany(
        sql.INSERT_PAGE, [(p.page_id, int(p.lines.has_article), page_lines_blob(kinds[p.page_id])) for p in pages]
    )
    postings.add(conn, [(line, page, kind) for page, lines in kinds.items() for line, kind in lines.items()])
    refresh_page_stats(conn, [p.page_id for p in pages])
    if changes.merged:
        merged = list(changes.merged)
        conn.execute(sql.in_list(sql.DELETE_NEAR_CLUSTERS, merged), merged)
    return changes


def add_titles(conn: sqlite3.Connection, pages: list[Page]) -> set[int]:
    """Cluster the new titles; returns title line ids whose cluster changed (their pages' evidence moves)."""
    titles = {p.title for p in pages if p.title is not None}
    if not titles:
        return set()
    ids = line_ids(conn, "title", titles)
    changes = cluster(conn, "title", ids)
    conn.executemany(sql.SET_PAGE_TITLE, [(ids[p.title], p.page_id) for p in pages if p.title is not None])
    moved: set[int] = set()
    for kept in changes.merged.values():
        moved.update(i for (i,) in conn.execute(sql.LINES_OF_CLUSTER, [kept]))
    return moved
