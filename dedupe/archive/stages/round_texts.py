"""Stage 2b: a round's article texts. With the furniture of a round, each page's block runs and
article text are found again (``blocks.find_runs``, ``blocks.article_text``) and its text moves between
the groups of the round's space; the final round's texts are the articles, its runs the page's blocks."""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from ...blocks import Run, article_text, find_runs
from . import sql
from .evidence import any_furniture
from .model import Furniture, Moves, Round, Touched
from .pages import PageCache, page_lines
from .texts import space_update, text_ids


@dataclass
class RoundTexts:
    """What re-deriving pages' texts with a round's furniture changed."""

    moves: Moves = field(default_factory=dict)  # texts whose group in the round's space changed
    emptiness: set[int] = field(default_factory=set)  # pages whose text became empty or non-empty
    runs: list[tuple[int, list[list[int]]]] = field(default_factory=list)  # final round: pages' new block runs


def _furniture_on(
    conn: sqlite3.Connection, pages: PageCache, furniture: dict[int, bytes], chunk: Sequence[int]
) -> dict[int, set[str]]:
    """Each page's own lines that are furniture after the round (``furniture``: line id -> key)."""
    found: dict[int, set[str]] = defaultdict(set)
    if not furniture:
        return found
    for page_id, lines in page_lines(conn, chunk).items():
        for line_id, _ in lines:
            if line_id in furniture:
                found[page_id].add(pages.get(page_id).text_of_key[furniture[line_id]])
    return found


def _page_texts(
    conn: sqlite3.Connection, pages: PageCache, r: Round, page_ids: set[int]
) -> dict[int, tuple[str, list[Run]]]:
    """Each page's runs and article text with the round's furniture, by page id in order."""
    any_flag = any_furniture(conn, r)
    every = dict(conn.execute(r.sql(sql.FURNITURE_LINES))) if any_flag else {}
    results = {}
    for chunk in sql.chunks(sorted(page_ids)):
        furniture_of = _furniture_on(conn, pages, every, chunk)
        for page_id in chunk:
            page = pages.get(page_id)
            furniture = Furniture(furniture_of[page_id], any_flag)
            runs = find_runs(page.lines, furniture)
            results[page_id] = (article_text(page.lines, furniture, runs), runs)
    return results


def _stored(conn: sqlite3.Connection, r: Round, page_ids: Sequence[int]) -> dict[int, tuple]:
    """Each page's text id in the round, its runs (JSON) and the group of that text."""
    stored = {}
    for chunk in sql.chunks(page_ids):
        statement = r.sql(sql.PAGE_TEXTS_AND_RUNS, marks=sql.marks(chunk))
        for page_id, *row in conn.execute(statement, [r.space, *chunk]):
            stored[page_id] = tuple(row)
    return stored


def _touch_articles(conn: sqlite3.Connection, page_ids: set[int], touched: Touched) -> None:
    for chunk in sql.chunks(sorted(page_ids)):
        touched.articles.update(g for (g,) in conn.execute(sql.in_list(sql.GROUPS_OF_PAGES, chunk), chunk))


def rederive_texts(
    conn: sqlite3.Connection, pages: PageCache, r: Round, page_ids: set[int], touched: Touched
) -> RoundTexts:
    """Runs and article text of these pages with the furniture of round ``r``: the texts move between
    groups of the round's space; in the final round the pages' articles and block runs are touched, and
    the texts pages took are kept for the record writer (``Touched.article_texts``)."""
    results = _page_texts(conn, pages, r, page_ids)
    ids = text_ids(conn, (text for text, _ in results.values()))
    stored = _stored(conn, r, list(results))
    out = RoundTexts()
    added, removed, updates = [], [], []
    for page_id, (text, runs) in results.items():
        old_id, old_runs, old_group = stored[page_id]
        new_id = ids.get(text) if text else None
        if new_id != old_id:
            removed += [old_id] if old_id is not None else []
            added += [new_id] if new_id is not None else []
            if (old_id is None) != (new_id is None):
                out.emptiness.add(page_id)
            updates.append((new_id, page_id))
            if r.final and new_id is not None:  # a text in s1 before has its article version written
                touched.article_texts[new_id] = text
        if r.final:
            if old_group is not None:
                touched.articles.add(old_group)
            new_runs = [run.lines for run in runs]
            if sql.runs_json(new_runs) != old_runs:  # as stored: compared without decoding
                out.runs.append((page_id, new_runs))
    if r.final:
        conn.executemany(sql.UNLINK_CONTENT_ARTICLES, [(page_id,) for _, page_id in updates])
    conn.executemany(r.sql(sql.SET_PAGE_TEXT), updates)
    out.moves = space_update(conn, r.space, added, removed)
    if r.final:
        _touch_articles(conn, page_ids, touched)
    return out
