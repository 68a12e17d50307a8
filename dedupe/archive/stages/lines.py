"""Stage 1: line and title clusters.

Every distinct line text (and, apart, every title) has its LSH band keys in ``derive_line_bands``; a
new text looks its keys up, is confirmed against each candidate component by the exact shingle
Jaccard (``blocks.lines_alike``) and joins, or merges, clusters. An edge depends on the pair alone
(``linking.connect_by_bands``), so the clusters are those of the whole set whatever the order."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ...blocks import LINE_BAND_THRESHOLD, candidate_positions, line_shingles, line_signatures, lines_alike
from ...linking import SHINGLE_CACHE, BandLinker, shared_keys
from . import sql
from .model import Page, line_key
from .pages import refresh_page_stats


@dataclass
class ClusterChanges:
    """What clustering new texts did to the clusters already there."""

    merged: dict[int, int] = field(default_factory=dict)  # absorbed cluster -> the cluster it joined (final)
    gained: set[int] = field(default_factory=set)  # clusters that gained members


@dataclass
class _Bucketed:
    """The lines already clustered that share a band key with the new ones."""

    seeds: list[tuple[int, int]] = field(default_factory=list)  # (key, line id)
    cluster_text: dict[int, tuple[int, str]] = field(default_factory=dict)  # line id -> (cluster, text)
    signatures: dict[int, np.ndarray] = field(default_factory=dict)


def line_ids(conn: sqlite3.Connection, space: str, texts: Iterable[str]) -> dict[str, int]:
    """Ids of texts in a space, inserting the new ones (cluster NULL: not clustered yet; the text is kept
    only once the line is clustered, see ``cluster``)."""
    by_hash = {line_key(t): t for t in texts}
    ids: dict[str, int] = {}

    def look_up(hashes: list[bytes]) -> None:
        for chunk in sql.chunks(hashes):
            for line_id, h in conn.execute(sql.in_list(sql.LINE_IDS, chunk), [space, *chunk]):
                ids[by_hash[h]] = line_id

    look_up(list(by_hash))
    missing = [h for h, text in by_hash.items() if text not in ids]
    conn.executemany(sql.INSERT_LINE, [(space, h) for h in missing])  # ids in this order, as one by one
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


def _bucket_members(conn: sqlite3.Connection, space: str, keys: np.ndarray) -> _Bucketed:
    found = _Bucketed()
    flat = sorted(set(keys.reshape(-1).tolist()))
    for chunk in sql.chunks(flat):
        for key, line_id, cluster, text, blob in conn.execute(sql.in_list(sql.BUCKET_MEMBERS, chunk), [*chunk, space]):
            found.seeds.append((key, line_id))
            if line_id not in found.cluster_text:
                found.cluster_text[line_id] = (cluster, text)
                found.signatures[line_id] = np.frombuffer(blob, dtype=np.uint32)
    return found


def _components(
    new: list[int], new_sigs: np.ndarray, text_of: dict[int, str], keys: np.ndarray, old: _Bucketed
) -> tuple[list[list], dict[int, np.ndarray]]:
    """The new lines grouped with the existing clusters they link to (an existing cluster as ("c", id)),
    and every signature involved by line id."""
    signatures = {line_id: new_sigs[row] for row, line_id in enumerate(new)}
    signatures.update(old.signatures)
    ids_by_row = list(signatures)  # every signature in one matrix, rows in this order
    row_of = {line_id: row for row, line_id in enumerate(ids_by_row)}

    @lru_cache(maxsize=SHINGLE_CACHE)  # bounded: a page of 20,000 lines would hold ~80 MB of sets
    def sset(line_id: int) -> set[bytes]:
        return line_shingles(old.cluster_text[line_id][1] if line_id in old.cluster_text else text_of[line_id])

    def confirm(a: int, b: int) -> bool:
        return lines_alike(sset(ids_by_row[a]), sset(ids_by_row[b]))

    # the same linker as the reference's ``connect_by_bands``: a new line is compared with each
    # component of its buckets until one member confirms, not with every earlier line
    linker = BandLinker(np.vstack([signatures[i] for i in ids_by_row]), LINE_BAND_THRESHOLD, confirm)
    for key, line_id in old.seeds:
        linker.seed(key, row_of[line_id], ("c", old.cluster_text[line_id][0]))
    shared = shared_keys(keys) | {key for key, _ in old.seeds}  # a key no other line has gives no candidate
    for row, line_id in enumerate(new):
        linker.add(row_of[line_id], [key for key in keys[row].tolist() if key in shared], ("n", line_id))
    uf = linker.components
    components: dict[object, list] = defaultdict(list)
    for line_id in new:
        components[uf.find(("n", line_id))].append(line_id)
    for cluster in {c for c, _ in old.cluster_text.values()}:
        root = uf.find(("c", cluster))
        if root in components:
            components[root].append(("c", cluster))
    return list(components.values()), signatures


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
    old = _bucket_members(conn, space, keys)
    components, signatures = _components(new, new_sigs, text_of, keys, old)
    changes = ClusterChanges()
    for members in components:
        clusters = sorted(m[1] for m in members if isinstance(m, tuple))
        lines = [m for m in members if not isinstance(m, tuple)]
        keep = clusters[0] if clusters else min(lines)
        for absorbed in clusters[1:]:
            changes.merged[absorbed] = keep
            conn.execute(sql.MERGE_CLUSTER, [keep, absorbed])
        conn.executemany(
            sql.SET_LINE_CLUSTER, [(keep, signatures[i].astype(np.uint32).tobytes(), text_of[i], i) for i in lines]
        )
        changes.merged.update({singletons[i]: keep for i in lines if i in singletons and singletons[i] != keep})
        changes.gained.add(keep)
    conn.executemany(  # a generator: 31 rows a line, never all in memory
        sql.INSERT_LINE_BAND, ((key, line_id) for row, line_id in enumerate(new) for key in set(keys[row].tolist()))
    )
    _resolve_chains(changes.merged)
    return changes


def _page_line_rows(page: Page, ids: dict[str, int]) -> list[tuple[int, int, int]]:
    """derive_page_lines rows of one page: each distinct line with its candidate bits."""
    kinds: dict[int, int] = defaultdict(int)
    for text, _, _ in page.lines.lines:
        kinds[ids[text]] |= 0
    for i in candidate_positions(page.lines):
        text, role, _ = page.lines.lines[i]
        kinds[ids[text]] |= sql.CANDIDATE | (sql.NEAR if role != "body" else 0)
    return [(line_id, page.page_id, kind) for line_id, kind in kinds.items()]


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
    conn.executemany(sql.INSERT_PAGE, [(p.page_id, p.sha, int(p.lines.has_article)) for p in pages])
    conn.executemany(sql.INSERT_PAGE_LINE, [row for p in pages for row in _page_line_rows(p, ids)])
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
