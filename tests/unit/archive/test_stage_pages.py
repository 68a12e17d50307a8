"""The page stage alone: a window of snapshots splits into new and known contents, a new content's
lines are decoded once, and a content's statistics follow its snapshots."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedupe.archive import Archive
from dedupe.archive.stages.pages import (
    NeedsRebuild,
    PageCache,
    check_has_article,
    page_stats,
    read_window,
    refresh_page_stats,
)
from dedupe.document import RawSnapshot
from tests.conftest import seed_files


def test_new_contents_then_known_ones_and_their_statistics(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as archive:
        conn = archive.db.conn
        body = seed_files()[1].read_bytes()
        archive.add(RawSnapshot("https://pacsto.org/events/a", "2024-01-01T00:00:00Z", body))
        window = read_window(conn, 0, 1)
        assert window.old_ids == [] and len(window.new_shas) == 1 and window.urls == ["https://pacsto.org/events/a"]
        [page] = PageCache(conn).load_new(window.new_shas)
        assert page.sha == window.new_shas[0] and page.title and page.lines.has_article
        assert page.title in [text for text, role, _ in page.lines.lines if role == "title"]
        archive.refresh()
        archive.add(RawSnapshot("https://pacsto.org/events/b", "2024-03-01T00:00:00Z", body))
        window = read_window(conn, 1, 2)
        assert window.new_shas == [] and len(window.old_ids) == 1
        refresh_page_stats(conn, window.old_ids)
        stats = page_stats(conn, window.old_ids)[window.old_ids[0]]
        assert stats == (2, "2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", "https://pacsto.org/events/a")
        assert PageCache(conn).get(window.old_ids[0]).lines.lines == page.lines.lines
        check_has_article(conn, window.old_ids)  # an article seen as an article again: nothing to rebuild


def test_a_listing_seen_later_as_an_article_needs_a_rebuild(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as archive:
        conn = archive.db.conn
        archive.add(RawSnapshot("https://pacsto.org/events/a", "2024-01-01T00:00:00Z", seed_files()[1].read_bytes()))
        archive.refresh()
        page_id = conn.execute("SELECT page_id FROM derive_pages").fetchone()[0]
        conn.execute("UPDATE derive_pages SET has_article = 0")  # as if it had been derived as a listing
        with pytest.raises(NeedsRebuild):
            check_has_article(conn, [page_id])
