"""Pages for the stage tests without analysed pages: a ``PageCache`` stand-in and a short pipeline
up to the evidence stage."""

from __future__ import annotations

import sqlite3

from dedupe.archive.stages.lines import add_lines, add_titles
from dedupe.archive.stages.model import Page
from dedupe.archive.stages.texts import add_raw_texts
from dedupe.blocks import PageLines, page_title


class FakePages:
    """A ``PageCache`` stand-in: pages given by their lines, so a stage runs without analysed pages."""

    def __init__(self, conn: sqlite3.Connection, pages: dict[int, list[tuple[str, str, int]]]) -> None:
        self.pages = {}
        for page_id, lines in pages.items():
            page = PageLines(key=f"sha{page_id}", structured=True, lines=lines, has_article=True)
            self.pages[page_id] = Page(page_id, f"sha{page_id}", page, page_title(page))
            # its content and its row in pages, whose rowid is the page id (the content links name it by that)
            conn.execute(
                "INSERT INTO contents(sha256, kind, size, stored_size, compression, encoding, body) "
                "VALUES (?, 'html', 0, 0, 'zstd', 'utf-8', x'')",
                [f"sha{page_id}"],
            )
            conn.execute(
                "INSERT INTO pages(rowid, content_sha256, extractor, structured, lines) VALUES (?, ?, 'test', 1, '[]')",
                [page_id, f"sha{page_id}"],
            )
            url_id = conn.execute("INSERT INTO urls(url, host) VALUES (?, '')", [f"u{page_id}"]).lastrowid
            conn.execute(
                "INSERT INTO derive_pages(page_id, has_article, snapshots, first_seen, last_seen, min_url_id) "
                "VALUES (?, 1, 2, ?, ?, ?)",
                [page_id, f"2024-01-0{page_id}", f"2024-02-0{page_id}", url_id],
            )

    def get(self, page_id: int) -> Page:
        return self.pages[page_id]


HEADER = [
    "The delegation of the Kyrgyz Republic consists of 7 deputies of the Jogorku Kenesh",
    "Plenipotentiary representative of the Kyrgyz Republic: Talant Mamytov",
]


def lines_of(title: str, body: str) -> list[tuple[str, str, int]]:
    """An article page's lines: the two header lines, its title and one body line."""
    return [(HEADER[0], "candidate", 0), (HEADER[1], "candidate", 0), (title, "title", 1), (body, "body", 1)]


def derive_lines(conn: sqlite3.Connection, pages: dict[int, list]) -> FakePages:
    """Pages through the stages before evidence: lines, titles and raw texts."""
    fake = FakePages(conn, pages)
    new = [fake.get(page_id) for page_id in pages]
    add_lines(conn, new)
    add_titles(conn, new)
    add_raw_texts(conn, new)
    return fake
