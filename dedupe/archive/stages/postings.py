"""The pages of a line that stands on many pages, as a few ranges of page ids instead of a row per page.

``derive_page_lines`` holds a row per (line, page), about 13 bytes. The site's template (the delegation
block, the menus, the footer) stands on every page: at a million observations 88 lines made 78% of its
7.5M rows (76 of its 98 MB). Once a line is on ``COMMON_AFTER`` pages, its pages move to
``derive_line_pages``: a row per line and range of ``SPAN`` page ids, whose blob holds 2 bytes a page (its
offset in the range and its kind bits), in page id order.

The engine asks three things of a line's pages: which they are, which of them count as an article in a
round, and whether two of them count as two different articles. The first two read every range; the
last reads a line's ranges in page id order and stops at the second article, as the statements over
``derive_page_lines`` stop at ``LIMIT 2``. A line is common or not for good (its rows are in one table),
so every question asks the plain rows by SQL and the common lines here, and joins the answers.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from . import sql
from .model import KIND_BITS

SHIFT = 11  # a range holds the page ids of one value of page_id >> SHIFT
SPAN = 1 << SHIFT  # 2,048 page ids: a blob of at most 4 KB (within its row of an 8 KB page), rewritten when one joins
COMMON_AFTER = 64  # pages of a line before they move here: below it a row each costs less than a range


def encode(chunk: int, pairs: Iterable[tuple[int, int]], joined: bytes = b"") -> bytes:
    """(page id, kind) pairs of one range as its blob, with the pages of a blob it had (``joined``): uint16
    little-endian, offset << KIND_BITS | kind, sorted (so by page id)."""
    base = chunk << SHIFT
    values = np.array([(page - base) << KIND_BITS | kind for page, kind in pairs], dtype="<u2")
    return np.sort(np.concatenate([np.frombuffer(joined, dtype="<u2"), values])).tobytes()


def decode(chunk: int, blob: bytes, mask: int = 0) -> np.ndarray:
    """The page ids of a range's blob, in order; with ``mask``, those whose kind has one of its bits."""
    values = np.frombuffer(blob, dtype="<u2")
    if mask:
        values = values[(values & mask) != 0]
    return (values >> KIND_BITS).astype(np.int64) + (chunk << SHIFT)


def common_lines(conn: sqlite3.Connection, line_ids: Iterable[int]) -> set[int]:
    """Which of these lines have their pages here."""
    found: set[int] = set()
    for part in sql.chunks(sorted(set(line_ids))):
        found.update(line for (line,) in conn.execute(sql.in_list(sql.COMMON_LINES, part), list(part)))
    return found


def add(conn: sqlite3.Connection, rows: Sequence[tuple[int, int, int]]) -> None:
    """Record (line id, page id, kind) rows: a common line's in its ranges, the others' as rows; then the lines
    now on COMMON_AFTER pages or more become common (their rows move here)."""
    common = common_lines(conn, (line for line, _, _ in rows))
    conn.executemany(sql.INSERT_PAGE_LINE, [row for row in rows if row[0] not in common])
    append(conn, [row for row in rows if row[0] in common])
    candidates = sorted({line for line, _, _ in rows} - common)
    for part in sql.chunks(candidates):
        for (line,) in conn.execute(sql.NOW_COMMON, [json.dumps(list(part)), COMMON_AFTER]).fetchall():
            plain = conn.execute(sql.PLAIN_ROWS, [line]).fetchall()
            conn.execute(sql.DELETE_PLAIN_ROWS, [line])
            append(conn, [(line, page, kind) for page, kind in plain])


def append(conn: sqlite3.Connection, rows: Sequence[tuple[int, int, int]]) -> None:
    """Merge (line id, page id, kind) rows of common lines into their ranges (read, joined, written back)."""
    by_range: dict[int, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for line, page, kind in rows:
        by_range[line][page >> SHIFT].append((page, kind))
    for line, ranges in by_range.items():
        chunks = sorted(ranges)
        existing = dict(conn.execute(sql.in_list(sql.RANGES_AT, chunks), [line, *chunks]).fetchall())
        for chunk in chunks:
            conn.execute(sql.WRITE_RANGE, [line, chunk, encode(chunk, ranges[chunk], existing.get(chunk, b""))])


def pages_of(conn: sqlite3.Connection, line_ids: Iterable[int], mask: int = 0) -> set[int]:
    """Every page of these common lines (with ``mask``: whose kind has one of its bits)."""
    found: set[int] = set()
    for line in line_ids:
        for chunk, blob in conn.execute(sql.RANGES, [line]):
            found.update(decode(chunk, blob, mask).tolist())
    return found


def _pages_in_order(conn: sqlite3.Connection, line: int, mask: int) -> Iterator[list[int]]:
    """A common line's pages (kind within ``mask``), a range at a time in page id order."""
    for chunk, blob in conn.execute(sql.RANGES, [line]):
        pages = decode(chunk, blob, mask).tolist()
        if pages:
            yield pages


def evidence(conn: sqlite3.Connection, ev: str, line_ids: Iterable[int], mask: int, enough: int = 2) -> set[str]:
    """Distinct values of ``ev`` (a Round's evidence column) among the pages of these common lines whose kind
    has a bit of ``mask``, read in page id order until ``enough`` are found."""
    found: set[str] = set()
    for line in line_ids:
        for pages in _pages_in_order(conn, line, mask):
            for part in sql.chunks(pages):
                statement = sql.EVIDENCE_OF_PAGES.format(ev=ev, marks=sql.marks(part))
                found.update(value for (value,) in conn.execute(statement, [*part, enough]))
                if len(found) >= enough:
                    return found
    return found


def pages_with_evidence(conn: sqlite3.Connection, ev: str, line_ids: Iterable[int]) -> set[int]:
    """The pages of these common lines that count as an article in the round whose column is ``ev``."""
    found: set[int] = set()
    pages = sorted(pages_of(conn, line_ids))
    for part in sql.chunks(pages):
        found.update(p for (p,) in conn.execute(sql.PAGES_WITH_EVIDENCE.format(ev=ev, marks=sql.marks(part)), part))
    return found
