"""A web archive's permanent redirect of an article to a page that is no article is its removal, as in a crawl.

``dedupe.pages.says_removed`` is the one rule: a WARC ``response`` (or an unresolved ``revisit``) of an article URL
answering 301/308 with a Location that is no article is imported as a removal of that page (its Location kept); the
export writes such an observation back with its status and Location, so the round trip keeps the article removed.
"""

from __future__ import annotations

import json
from pathlib import Path

from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from dedupe.sources import read_inputs
from dedupe.webarchive.warc_export import export_warc
from tests.support.db import rows
from tests.warcs import WarcBuilder

ARTICLE = "https://pacsto.org/events/deputies-met-in-minsk"
TEXT = "Deputies met in Minsk to discuss a model law on migration and the monitoring of borders. " * 4
PAGE = f"<html><head><title>Minsk</title></head><body><article><h1>Minsk</h1><p>{TEXT}</p></article></body></html>"


def imported(tmp_path: Path, name: str, location: str, status: str = "301 Moved Permanently") -> Path:
    """An archive of a WARC holding the article's page, then its redirect to ``location`` a week later."""
    warc = tmp_path / f"{name}.warc.gz"
    with WarcBuilder(warc) as builder:
        builder.response(ARTICLE, "2025-03-01T10:00:00Z", PAGE.encode())
        builder.response(ARTICLE, "2025-03-08T10:00:00Z", b"", status=status, headers=[("Location", location)])
    db = tmp_path / f"{name}.db"
    with Archive(db) as archive:
        archive.ingest(read_inputs([str(warc)]), workers=1)
    return db


def test_an_articles_permanent_redirect_to_the_home_page_in_a_warc_removes_it(tmp_path: Path) -> None:
    db = imported(tmp_path, "home", "https://pacsto.org/")
    assert rows(db, "SELECT status, http_status FROM snapshots WHERE url = ? ORDER BY observed_at", ARTICLE) == [
        ("new", 200),
        ("removed", 301),
    ]
    assert rows(db, "SELECT status FROM articles WHERE url = ?", ARTICLE) == [("removed",)]


def test_a_redirect_to_another_article_or_a_temporary_one_is_no_removal(tmp_path: Path) -> None:
    moved = imported(tmp_path, "moved", "https://pacsto.org/events/deputies-met-in-minsk-2")
    temporary = imported(tmp_path, "temporary", "https://pacsto.org/", status="302 Found")
    for db in (moved, temporary):
        assert rows(db, "SELECT status, http_status FROM snapshots WHERE url = ?", ARTICLE) == [("new", 200)]
        assert rows(db, "SELECT status FROM articles WHERE url = ?", ARTICLE) == [("live",)]


def test_the_export_keeps_a_redirect_removal_and_its_location(tmp_path: Path) -> None:
    """A crawl's removal by redirect (an observation with the 301 and its Location, no body) goes out as a response
    with that status and Location, and an archive importing the export marks the article removed too."""
    db = tmp_path / "crawled.db"
    with Archive(db) as archive:
        page = RawSnapshot(ARTICLE, "2025-03-01T10:00:00Z", PAGE.encode(), source="crawl", http_status=200)
        gone = RawSnapshot(
            ARTICLE,
            "2025-03-08T10:00:00Z",
            None,
            source="crawl",
            http_status=301,
            headers={"Location": "https://pacsto.org/events"},
        )
        archive.ingest([page, gone], workers=1)
        report = export_warc(archive, tmp_path / "out.warc.gz")
    assert report.removed == 1
    again = tmp_path / "again.db"
    with Archive(again) as archive:
        archive.ingest(read_inputs([str(tmp_path / "out.warc.gz")]), workers=1)
    assert rows(again, "SELECT status FROM articles WHERE url = ?", ARTICLE) == [("removed",)]
    ((status, headers),) = rows(again, "SELECT http_status, headers FROM snapshots WHERE status = 'removed'")
    assert status == 301 and json.loads(headers)["Location"] == "https://pacsto.org/events"
