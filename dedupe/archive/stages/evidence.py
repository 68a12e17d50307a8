"""Stage 3: evidence and furniture, once per round.

Each article page counts as one "article" per round (its ``ev0``/``ev1`` label: title cluster and
text group), so a line repeated on the pages of one article is not furniture. A line is furniture
when its near-duplicate cluster repeats outside the body on two different articles, or when it sits
in a run of 3+ lines repeated verbatim (a block the extractor swallowed). Whether a cluster or a text
repeats on two articles is asked of SQL with ``LIMIT 2``, and only for the clusters and texts on
pages whose evidence changed."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ...blocks import body_runs
from . import postings, sql
from .model import Round, line_ids_blob, line_ids_of
from .pages import PageCache, page_lines


@dataclass
class FurnitureChanges:
    """What bringing a round's furniture up to date changed."""

    flipped: set[int] = field(default_factory=set)  # line ids whose furniture flag flipped
    any_flipped: bool = False  # whether "there is furniture at all" flipped


def any_furniture(conn: sqlite3.Connection, r: Round) -> bool:
    """Whether any line is furniture after round ``r``."""
    return conn.execute(r.sql(sql.ANY_FURNITURE)).fetchone() is not None


def _label(page_id: int, title_cluster: int | None, titled: bool, grp: int | None) -> str:
    if titled:
        return f"t{title_cluster}:{grp if grp is not None else f'p{page_id}'}"
    return f"x{grp}" if grp is not None else f"p{page_id}"


def set_evidence(conn: sqlite3.Connection, r: Round, page_ids: set[int]) -> set[int]:
    """Recompute the round's evidence label of these pages; returns the pages whose label changed."""
    updates = []
    for chunk in sql.chunks(sorted(page_ids)):
        statement = r.sql(sql.EVIDENCE_INPUTS, marks=sql.marks(chunk))
        for page_id, has_article, title_id, title_cluster, grp, old in conn.execute(
            statement, [r.evidence_space, *chunk]
        ):
            if not has_article or (r.needs_title and title_id is None):
                new = None
            else:
                new = _label(page_id, title_cluster, title_id is not None, grp)
            if new != old:
                updates.append((new, page_id))
    conn.executemany(r.sql(sql.SET_EVIDENCE), updates)
    return {page_id for _, page_id in updates}


def _candidate_lines(conn: sqlite3.Connection, pages: set[int], clusters: set[int]) -> set[int]:
    """The candidate lines of these pages; adds the clusters of those outside the body to ``clusters``."""
    texts: set[int] = set()
    near: set[int] = set()
    for lines in page_lines(conn, sorted(pages)).values():
        for line_id, kind in lines:
            if kind > 0:
                texts.add(line_id)
                if kind & sql.NEAR:
                    near.add(line_id)
    for chunk in sql.chunks(sorted(near)):
        clusters.update(cluster for _, cluster in conn.execute(sql.in_list(sql.LINE_CLUSTERS, chunk), list(chunk)))
    return texts


def _repeat_flips(conn: sqlite3.Connection, r: Round, texts: set[int]) -> set[int]:
    """Bring the verbatim-repeat flags of these lines up to date; returns the lines whose flag flipped."""
    flips: set[int] = set()
    for chunk in sql.chunks(sorted(texts)):
        common = postings.common_lines(conn, chunk)  # their pages are in ranges, not in the statement's rows
        for line_id, old, new in conn.execute(r.sql(sql.REPEATS, marks=sql.marks(chunk)), list(chunk)):
            if line_id in common:
                new = int(len(postings.evidence(conn, r.ev_column, [line_id], sql.CANDIDATE)) >= 2)
            if old != new:
                flips.add(line_id)
                conn.execute(r.sql(sql.SET_REPEAT), [new, line_id])
    return flips


def _evidence_pages_of(conn: sqlite3.Connection, r: Round, line_ids: set[int]) -> set[int]:
    found: set[int] = set()
    for chunk in sql.chunks(sorted(line_ids)):
        found.update(p for (p,) in conn.execute(r.sql(sql.EVIDENCE_PAGES_OF_LINES, marks=sql.marks(chunk)), chunk))
    return found | postings.pages_with_evidence(conn, r.ev_column, postings.common_lines(conn, line_ids))


def _run_inputs(
    conn: sqlite3.Connection, pages: PageCache, r: Round, chunk: Sequence[int]
) -> tuple[dict[int, dict[str, int]], dict[int, set[str]], dict[int, set[int]]]:
    """For evidence pages of a chunk: the texts that repeat, with their line ids (a body run is made of
    them alone: only their keys are read); for every page: its runs."""
    ids: dict[int, dict[str, int]] = defaultdict(dict)
    repeated: dict[int, set[str]] = defaultdict(set)
    lines_of = page_lines(conn, chunk, evidence=r)
    repeats: dict[int, bytes] = {}  # line id -> key, of the lines that repeat
    every = sorted({line_id for lines in lines_of.values() for line_id, _ in lines})
    for part in sql.chunks(every):
        repeats.update(conn.execute(r.sql(sql.REPEATED_LINES, marks=sql.marks(part)), list(part)))
    for page_id, lines in lines_of.items():
        for line_id, _ in lines:
            if line_id in repeats:
                text = pages.get(page_id).text_of_key[repeats[line_id]]
                ids[page_id][text] = line_id
                repeated[page_id].add(text)
    runs: dict[int, set[int]] = defaultdict(set)
    for page_id, blob in conn.execute(r.sql(sql.RUNS_OF_PAGES, marks=sql.marks(chunk)), chunk):
        runs[page_id] = line_ids_of(blob)
    return ids, repeated, runs


def body_runs_of(conn: sqlite3.Connection, pages: PageCache, r: Round, page_ids: set[int]) -> set[int]:
    """Recompute the body runs of these pages; returns the line ids whose run membership changed."""
    changed: set[int] = set()
    for chunk in sql.chunks(sorted(page_ids)):
        ids, repeated, runs = _run_inputs(conn, pages, r, chunk)
        for page_id in chunk:
            new: set[int] = set()
            if repeated[page_id]:
                new = {ids[page_id][t] for t in body_runs(pages.get(page_id).lines, repeated[page_id])}
            old = runs[page_id]
            if old != new:
                conn.execute(r.sql(sql.SET_RUNS_OF_PAGE), [sql.run_set_id(conn, line_ids_blob(new)), page_id])
                conn.executemany(r.sql(sql.COUNT_IN_RUNS), [(1, i) for i in new - old] + [(-1, i) for i in old - new])
                changed |= old ^ new
    return changed


def _near_clusters(conn: sqlite3.Connection, r: Round, clusters: list[int]) -> None:
    """Record which clusters repeat outside the body on two different articles."""
    for chunk in sql.chunks(clusters):
        common: dict[int, list[int]] = defaultdict(list)  # per cluster, its lines whose pages are in ranges
        lines_of = conn.execute(sql.in_list(sql.CLUSTER_LINES, chunk), list(chunk)).fetchall()
        found = postings.common_lines(conn, (line for _, line in lines_of))
        for cluster, line in lines_of:
            if line in found:
                common[cluster].append(line)
        for cluster, near in conn.execute(r.sql(sql.NEAR_CLUSTERS), [json.dumps(list(chunk))]).fetchall():
            if not near and cluster in common:  # the plain rows' articles and the ranges' together
                seen = {ev for (ev,) in conn.execute(r.sql(sql.NEAR_EVIDENCE), [cluster])}
                near = len(seen | postings.evidence(conn, r.ev_column, common[cluster], sql.NEAR)) >= 2
            if near:
                conn.execute(sql.INSERT_NEAR, [r.number, cluster])
            else:
                conn.execute(sql.DELETE_NEAR, [r.number, cluster])


def _flag_flips(conn: sqlite3.Connection, r: Round, check: Iterable[int]) -> set[int]:
    """Bring the furniture flags of these lines up to date; returns the lines whose flag flipped."""
    earlier = sql.EARLIER_FLAG.format(earlier_flag=r.earlier_flag_column) if r.earlier_flag_column else ""
    flips: set[int] = set()
    for chunk in sql.chunks(sorted(check)):
        for line_id, old, new in conn.execute(r.sql(sql.FLAGS, earlier=earlier, marks=sql.marks(chunk)), chunk):
            if old != new:
                flips.add(line_id)
                conn.execute(r.sql(sql.SET_FLAG), [new, line_id])
    return flips


def update_furniture(
    conn: sqlite3.Connection,
    pages: PageCache,
    r: Round,
    changed_pages: set[int],
    moved_clusters: set[int],
    also: set[int] = frozenset(),
) -> FurnitureChanges:
    """Bring repeat flags, body runs, near-duplicate clusters and the furniture flags of round ``r`` up
    to date after the evidence of ``changed_pages`` changed (and the clusters ``moved_clusters`` moved);
    ``also``: lines whose flags are checked whatever happened (an earlier round's flips)."""
    clusters: set[int] = set(moved_clusters)
    texts = _candidate_lines(conn, changed_pages, clusters)
    run_pages = set(changed_pages) | _evidence_pages_of(conn, r, _repeat_flips(conn, r, texts))
    run_texts = body_runs_of(conn, pages, r, run_pages)
    real_clusters = sorted(c for c in clusters if c is not None)
    _near_clusters(conn, r, real_clusters)
    check = set(run_texts) | set(also)  # the flags of every text whose inputs moved
    for chunk in sql.chunks(real_clusters):
        check.update(i for (i,) in conn.execute(sql.in_list(sql.LINES_OF_CLUSTERS, chunk), list(chunk)))
    any_before = any_furniture(conn, r)
    flipped = _flag_flips(conn, r, check)
    return FurnitureChanges(flipped, any_before != any_furniture(conn, r))
