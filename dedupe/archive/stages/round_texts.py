"""Stage 2b: a round's article texts. With the furniture of a round, each page's block runs and
article text are found again (``blocks.find_runs``, ``blocks.article_text``) and its text moves between
the groups of the round's space; the final round's texts are the articles, its runs the page's blocks."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from ...blocks import Run, article_text, find_runs
from . import sql
from .evidence import any_furniture
from .model import Furniture, Moves, Page, Round, Touched
from .pages import PageCache
from .texts import group_of, space_update, text_ids


@dataclass
class RoundTexts:
    """What re-deriving pages' texts with a round's furniture changed."""

    moves: Moves = field(default_factory=dict)  # texts whose group in the round's space changed
    emptiness: set[int] = field(default_factory=set)  # pages whose text became empty or non-empty
    runs: list[tuple[int, list[list[int]]]] = field(default_factory=list)  # final round: pages' new block runs


def _page_text(conn: sqlite3.Connection, r: Round, page: Page, any_flag: bool) -> tuple[str, list[Run]]:
    furniture = Furniture({t for (t,) in conn.execute(r.sql(sql.FURNITURE_ON_PAGE), [page.page_id])}, any_flag)
    runs = find_runs(page.lines, furniture)
    return article_text(page.lines, furniture, runs), runs


def rederive_texts(
    conn: sqlite3.Connection, pages: PageCache, r: Round, page_ids: set[int], touched: Touched
) -> RoundTexts:
    """Runs and article text of these pages with the furniture of round ``r``: the texts move between
    groups of the round's space; in the final round the pages' articles and block runs are touched."""
    any_flag = any_furniture(conn, r)
    results = {page_id: _page_text(conn, r, pages.get(page_id), any_flag) for page_id in sorted(page_ids)}
    ids = text_ids(conn, (text for text, _ in results.values()))
    out = RoundTexts()
    added, removed = [], []
    for page_id, (text, runs) in results.items():
        old_id, old_runs = conn.execute(r.sql(sql.PAGE_TEXT_AND_RUNS), [page_id]).fetchone()
        new_id = ids.get(text) if text else None
        if new_id != old_id:
            if r.final:
                conn.execute(sql.UNLINK_CONTENT_ARTICLES, [pages.get(page_id).sha])
            removed += [old_id] if old_id is not None else []
            added += [new_id] if new_id is not None else []
            if (old_id is None) != (new_id is None):
                out.emptiness.add(page_id)
            conn.execute(r.sql(sql.SET_PAGE_TEXT), [new_id, page_id])
        if r.final:
            old_group = group_of(conn, r.space, old_id)
            if old_group is not None:
                touched.articles.add(old_group)
            new_runs = [run.lines for run in runs]
            if json.dumps(new_runs) != old_runs:
                out.runs.append((page_id, new_runs))
    out.moves = space_update(conn, r.space, added, removed)
    if r.final:
        for page_id in page_ids:
            grp = group_of(conn, r.space, conn.execute(sql.PAGE_ARTICLE_TEXT, [page_id]).fetchone()[0])
            if grp is not None:
                touched.articles.add(grp)
    return out
