"""Stage 0: which contents a window of snapshots brings, their lines, and each content's statistics.

A content (an analysed page) is derived once, when it first appears; later snapshots of it only move
its statistics (snapshot count, first and last seen, smallest URL, URL of its newest snapshot), which
``derive_pages`` keeps so that block versions and articles can sum them without reading snapshots."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from ...blocks import PageLines, page_title
from ...storage import Codec
from . import postings, sql
from .model import Page, Round, page_lines_of


class NeedsRebuild(Exception):
    """The change cannot be derived in place; rebuild the derived tables from the observations."""


class PageStats(NamedTuple):
    """A content's snapshots as derive_pages sums them."""

    snapshots: int
    first_seen: str
    last_seen: str
    min_url: str


@dataclass
class Window:
    """What the snapshots of one window bring: contents seen before, contents new, URLs observed."""

    old_ids: list[int]  # derive_pages ids of contents already derived
    new_shas: list[str]  # contents never derived
    urls: list[str]


def read_window(conn: sqlite3.Connection, after_id: int, last_id: int) -> Window:
    """Split the contents of the snapshots after_id < id <= last_id into known and new ones."""
    contents = [sha for (sha,) in conn.execute(sql.NEW_CONTENTS, [after_id, last_id])]
    urls = [url for (url,) in conn.execute(sql.NEW_URLS, [after_id, last_id])]
    known: dict[str, int] = {}
    for chunk in sql.chunks(contents):
        known.update(conn.execute(sql.in_list(sql.KNOWN_PAGES, chunk), list(chunk)).fetchall())
    return Window(list(known.values()), [sha for sha in contents if sha not in known], urls)


def check_has_article(conn: sqlite3.Connection, page_ids: list[int]) -> None:
    """Raise ``NeedsRebuild`` when a content derived as a listing has now been seen as an article."""
    for chunk in sql.chunks(page_ids):
        if conn.execute(sql.in_list(sql.HAS_ARTICLE_CHANGED, chunk), list(chunk)).fetchone():
            raise NeedsRebuild("a content seen before as a listing was seen as an article")


class PageCache:
    """Pages' lines, decoded once per refresh (several stages read the same page)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.codec = Codec(conn)  # decodes pages.lines (Codec.unpack_lines)
        self._pages: dict[int, Page] = {}

    def load_new(self, shas: list[str]) -> list[Page]:
        """The contents never derived, by hash order (the order the reference derives them in)."""
        pages = []
        for chunk in sql.chunks(shas):
            for page_id, sha, structured, lines, method, has_article in self.conn.execute(
                sql.in_list(sql.NEW_PAGES, chunk), list(chunk)
            ):
                pages.append(self._page(page_id, sha, structured, lines, method, has_article))
        pages.sort(key=lambda p: p.sha)
        for page in pages:
            self._pages[page.page_id] = page
        return pages

    def get(self, page_id: int) -> Page:
        """A derived page by its id."""
        if page_id not in self._pages:
            row = self.conn.execute(sql.DERIVED_PAGE, [page_id]).fetchone()
            self._pages[page_id] = self._page(page_id, *row)
        return self._pages[page_id]

    def _page(self, page_id: int, sha: str, structured: int, lines: bytes, method: str | None, article: int) -> Page:
        lines = self.codec.unpack_lines(lines, method, sha)
        page = PageLines(key=sha, structured=bool(structured), lines=lines, has_article=bool(article))
        return Page(page_id, sha, page, page_title(page))


def refresh_page_stats(conn: sqlite3.Connection, page_ids: list[int]) -> None:
    """Per content: snapshot count, first and last seen, smallest URL, URL of its newest snapshot
    (one pass over each chunk's snapshots, by the snapshots_content index)."""
    for chunk in sql.chunks(page_ids):
        rows = conn.execute(sql.in_list(sql.SNAPSHOT_STATS, chunk), list(chunk)).fetchall()
        conn.executemany(sql.SET_PAGE_STATS, [(*row[1:], row[0]) for row in rows])


def page_stats(conn: sqlite3.Connection, page_ids: Iterable[int]) -> dict[int, PageStats]:
    """The statistics derive_pages holds for these contents."""
    stats = {}
    for chunk in sql.chunks(list(page_ids)):
        for page_id, *row in conn.execute(sql.in_list(sql.PAGE_STATS, chunk), list(chunk)):
            stats[page_id] = PageStats(*row)
    return stats


def add_to_version(conn: sqlite3.Connection, version_id: int, count: int, stats: PageStats) -> None:
    """Add ``count`` snapshots spanning ``stats`` to a block version's span."""
    first, last, min_url = stats.first_seen, stats.last_seen, stats.min_url
    conn.execute(sql.ADD_TO_VERSION, [count, first, first, last, last, min_url, min_url, version_id])


def add_version_deltas(conn: sqlite3.Connection, before: dict[int, PageStats]) -> None:
    """New snapshots of contents already in block versions: add them to the versions' spans.

    A week's crawl sees every page again, and every page shows the same few block versions: the deltas
    are summed per version first, so each version is updated once per refresh, not once per page
    (one query per chunk of pages for their blocks)."""
    after = page_stats(conn, before)
    deltas: dict[int, tuple[int, str | None, str | None, str | None]] = {}
    for chunk in sql.chunks(sorted(before)):
        for page_id, version_id, n in conn.execute(sql.in_list(sql.VERSIONS_OF_PAGES, chunk), list(chunk)).fetchall():
            new = after[page_id]
            add = n * (new.snapshots - before[page_id].snapshots)
            if version_id not in deltas:
                deltas[version_id] = (add, new.first_seen, new.last_seen, new.min_url)
                continue
            count, first, last, min_url = deltas[version_id]
            deltas[version_id] = (
                count + add,
                _least(first, new.first_seen),
                _greatest(last, new.last_seen),
                _least(min_url, new.min_url),
            )
    for version_id in sorted(deltas):
        count, first, last, min_url = deltas[version_id]
        add_to_version(conn, version_id, count, PageStats(0, first, last, min_url))


def _least(a: str | None, b: str | None) -> str | None:
    """min() that passes over None, as SQL's min(coalesce(x, y), y) does for the column being updated."""
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: str | None, b: str | None) -> str | None:
    return b if a is None else a if b is None else max(a, b)


def pages_with(conn: sqlite3.Connection, column: str, ids: set[int]) -> set[int]:
    """Pages whose ``column`` (a fixed derive_pages column name) is one of ``ids``."""
    found: set[int] = set()
    for chunk in sql.chunks(sorted(ids)):
        found.update(p for (p,) in conn.execute(sql.in_list(sql.PAGES_WITH, chunk, column=column), list(chunk)))
    return found


def pages_containing(conn: sqlite3.Connection, line_ids: set[int]) -> set[int]:
    """Pages that carry any of these lines (a common line's from its ranges, ``postings``)."""
    found: set[int] = set()
    for chunk in sql.chunks(sorted(line_ids)):
        found.update(p for (p,) in conn.execute(sql.in_list(sql.PAGES_CONTAINING, chunk), list(chunk)))
    return found | postings.pages_of(conn, postings.common_lines(conn, line_ids))


def all_pages(conn: sqlite3.Connection) -> set[int]:
    """Every derived page."""
    return {p for (p,) in conn.execute(sql.ALL_PAGES)}


def page_lines(
    conn: sqlite3.Connection, page_ids: Iterable[int], evidence: Round | None = None
) -> dict[int, list[tuple[int, int]]]:
    """Each page's (line id, kind) pairs (``derive_pages.lines``); with ``evidence``, only the pages that
    count as an article in that round."""
    found: dict[int, list[tuple[int, int]]] = {}
    for chunk in sql.chunks(list(page_ids)):
        statement = (
            sql.in_list(sql.PAGE_LINES, chunk)
            if evidence is None
            else evidence.sql(sql.EVIDENCE_PAGE_LINES, marks=sql.marks(chunk))
        )
        for page_id, blob in conn.execute(statement, list(chunk)):
            found[page_id] = page_lines_of(blob)
    return found
