"""A removal by redirect: an article URL that answers a permanent redirect (301, 308) to a page that is no article
is stored as a removal, and the incremental engine and the reference rebuild read it as they read a 404."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.pipelines import ArchiveWriter
from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from dedupe.pages import article_status, says_removed

BASE = "http://127.0.0.1:8000"
ARTICLE = f"{BASE}/events/budget-hearing"
TEXT = "Budget experts examined the financing of the collective rapid reaction forces this year. " * 4


@pytest.mark.parametrize(
    ("url", "status", "location", "removed"),
    [
        (ARTICLE, 404, None, True),
        (ARTICLE, 410, None, True),
        (ARTICLE, 301, "/", True),  # the home page
        (ARTICLE, 308, f"{BASE}/events", True),  # the listing
        (ARTICLE, 301, "/about", True),  # a page of no known kind
        (ARTICLE, 302, "/", False),  # temporary
        (ARTICLE, 307, "/", False),
        (ARTICLE, 301, "/events/budget-hearing-2", False),  # a new slug: moved
        (ARTICLE, 301, "https://127.0.0.1:8000/events/budget-hearing", False),  # https: moved
        (ARTICLE, 301, None, False),  # no Location: nothing says where
        (f"{BASE}/events", 301, "/", False),  # a listing is no article
        (f"{BASE}/countries/armenia", 301, "/", False),
        (f"{BASE}/events", 404, None, True),
    ],
)
def test_says_removed(url: str, status: int, location: str | None, removed: bool) -> None:
    assert says_removed(url, status, location) is removed


def observe(when: str, status: int = 200, location: str | None = None) -> RawSnapshot:
    body = None
    if status == 200:
        body = f"<html><head><title>Budget</title></head><body><article><h1>Budget</h1><p>{TEXT}</p>".encode()
    return RawSnapshot(
        url=ARTICLE,
        observed_at=when,
        body=body,
        source="crawl",
        origin="crawl:1",
        http_status=status,
        headers={"Location": location} if location else {},
        declared_charset="utf-8" if body else None,
        page_type="article",
    )


def state(archive: Archive) -> tuple[str, int, list[int]]:
    """(the article's status, its versions, the time-derived runs' ``stating`` of its URL) after a refresh."""
    archive.refresh()
    status, versions = archive.db.execute("SELECT status, versions FROM articles WHERE url = ?", [ARTICLE]).fetchone()
    runs = archive.db.execute("SELECT stating FROM url_runs WHERE url = ? ORDER BY first_observed_at", [ARTICLE])
    return status, versions, [stating for (stating,) in runs]


def test_a_permanent_redirect_removes_and_a_200_brings_back_alike_in_engine_and_reference(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as archive:
        assert archive.add(observe("2026-11-01T00:00:00Z")).status == "new"
        # a 302 is no removal: without a body it is stored as an observation without content (the crawl stores none)
        assert archive.add(observe("2026-11-08T00:00:00Z", 302, f"{BASE}/")).status == "error"
        assert state(archive) == ("live", 1, [1])
        assert archive.add(observe("2026-11-15T00:00:00Z", 301, f"{BASE}/")).status == "removed"
        assert state(archive) == ("removed", 1, [1, 0])
        assert archive.check() == {}
        assert archive.add(observe("2026-11-22T00:00:00Z")).status == "new"
        assert state(archive) == ("live", 1, [1, 0, 1])
        assert archive.add(observe("2026-11-29T00:00:00Z", 308, f"{BASE}/events")).status == "removed"
        assert state(archive) == ("removed", 1, [1, 0, 1, 0])
        assert archive.check() == {}


def test_article_status_reads_the_observation_status() -> None:
    assert [article_status(s) for s in ("removed", "new", "seen_again", "not_modified", None)] == [
        "removed",
        *["live"] * 4,
    ]


def test_a_redirect_removal_of_a_url_never_archived_is_not_stored(tmp_path: Path) -> None:
    """As a 404 of a URL the archive never held: nothing to mark removed, one sentence in the run's errors."""
    writer = ArchiveWriter(str(tmp_path / "a.db"))
    try:
        kind, message = writer.store(observe("2026-11-01T00:00:00Z", 301, f"{BASE}/"))
        assert (kind, message) == ("failed", f"HTTP 301: linked but redirected to {BASE}/ (never archived)")
        assert writer.archive.db.execute("SELECT count(*) FROM snapshots").fetchone() == (0,)
        assert writer.store(observe("2026-11-02T00:00:00Z"))[0] == "new"
        assert writer.store(observe("2026-11-03T00:00:00Z", 301, f"{BASE}/"))[0] == "removed"
    finally:
        writer.archive.close()
