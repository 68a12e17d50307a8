"""Soft removals: an archived article that now redirects to the home page or to the listing, as a Rails site does
with a deleted record (``redirect_to root_path``), and one that answers 200 with a "page not found" page.

Two crawls of a small site on 127.0.0.1, each in a child process (a Twisted reactor runs once per process): the
first archives three articles, the second (every archived page due) finds them gone in those three ways.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.loopback import QuietHandler, loopback_server

ROOT = Path(__file__).resolve().parents[3]
FAST = (
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=false",
    "CONCURRENT_REQUESTS_PER_DOMAIN=1",
    "DOWNLOAD_TIMEOUT=5",
    "RETRY_TIMES=0",
    "SITEMAP_FOLLOW=false",
    "ROBOTSTXT_OBEY=false",
    "REVISIT_AFTER=0",
)
ARTICLES = {  # texts far apart, so that each is an article of its own
    "to-home": "Deputies discussed migration policy in Minsk and agreed on joint monitoring of the borders.",
    "to-listing": "The defence commission reviewed a draft model law on military cooperation and peacekeeping.",
    "not-found": "Observers monitored the parliamentary elections in Bishkek and praised the orderly turnout.",
}
NOT_FOUND = (
    "<html><head><title>Page not found</title></head><body><header><a href='/events'>News</a></header>"
    "<h1>The page you were looking for doesn't exist.</h1><p>You may have mistyped the address.</p></body></html>"
)


class _Site(QuietHandler):
    """The news list and its articles; once ``server.gone``, the articles are deleted in the three ways."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        server: Any = self.server
        path = urlsplit(self.path).path
        slug = path.removeprefix("/events/")
        if path == "/":
            self._html(200, "<html><head><title>Home</title></head><body><h1>Welcome</h1><a href='/events'>News</a>")
        elif path == "/events":
            links = "" if server.gone else "".join(f'<a href="/events/{s}">{s}</a>' for s in ARTICLES)
            self._html(200, f"<html><head><title>News</title></head><body><h1>News</h1>{links}</body></html>")
        elif slug in ARTICLES and server.gone and slug != "not-found":
            target = "/" if slug == "to-home" else "/events"
            self._send(302 if slug == "to-home" else 301, b"", [("Location", f"{server.url}{target}")])
        elif slug in ARTICLES and server.gone:
            self._html(200, NOT_FOUND)
        elif slug in ARTICLES:
            text = " ".join([ARTICLES[slug]] * 4)
            self._html(200, f"<html><head><title>{slug}</title></head><body><article><h1>{slug}</h1><p>{text}</p>")
        else:
            self._html(404, NOT_FOUND)

    def _html(self, status: int, html: str) -> None:
        self._send(status, html.encode(), [("Content-Type", "text/html; charset=utf-8")])


def crawl(db: Path, url: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "cli", "crawl", "--db", str(db), "--json", "--no-progress"]
    command += ["--start-url", f"{url}/events"]
    for setting in FAST:
        command += ["-s", setting]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    result = json.loads(done.stdout)
    assert result["status"] == "finished", done.stderr[-2000:]
    return result


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def versions(db: Path, url: str) -> list[tuple]:
    """(title, version) of the versions of the article last seen at ``url`` under its own title (the slug)."""
    return rows(
        db,
        "SELECT av.title, av.version FROM article_versions av JOIN articles a ON a.id = av.article_id "
        "WHERE a.url = ? ORDER BY a.id, av.version",
        url,
    )


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The archive after the site deleted its three articles, and both runs' summaries."""
    db = tmp_path_factory.mktemp("soft") / "a.db"
    with loopback_server(_Site, gone=False) as site:
        first = crawl(db, site.url)
        site.gone = True
        second = crawl(db, site.url)
    return {"db": db, "base": site.url, "first": first, "second": second}


def test_an_article_redirected_to_the_home_page_or_the_listing_keeps_its_history(crawled: dict[str, Any]) -> None:
    """What the crawl does today, and a careful archive should: the page a removed article redirects to is filed
    under its own URL (or, the listing having been read already in that run, not again), and the article's URL is
    given no observation and its article no version from it. The article is not marked removed either: a redirect
    says where the site sends a reader, not that the text is gone (left: no observation records the redirect)."""
    db, base, second = crawled["db"], crawled["base"], crawled["second"]
    assert crawled["first"]["new"] == 5  # /events, /events?page=2 and the three articles
    for slug in ("to-home", "to-listing"):
        url = f"{base}/events/{slug}"
        assert rows(db, "SELECT status, http_status FROM snapshots WHERE url = ?", url) == [("new", 200)], slug
        assert versions(db, url) == [(slug, 1)], slug
        assert rows(db, "SELECT status FROM articles WHERE url = ?", url) == [("live",)], slug
    # the home page is filed under its own URL, with no kind (it is no article by its address)
    assert rows(db, "SELECT status, http_status, page_type FROM snapshots WHERE url = ?", f"{base}/") == [
        ("new", 200, None)
    ]
    # its text is no version of any archived article
    assert not rows(
        db,
        "SELECT 1 FROM snapshots s JOIN pages p ON p.content_sha256 = s.content_sha256 "
        "JOIN content_articles ca ON ca.page_id = p.rowid JOIN article_versions av ON av.id = ca.article_version_id "
        "JOIN articles a ON a.id = av.article_id WHERE s.url = ? AND a.url LIKE ?",
        f"{base}/",
        f"{base}/events/%",
    )
    assert second["failed"] == 0 and second["removed"] == 0


def test_a_200_not_found_page_is_stored_as_what_it_is_and_the_article_keeps_its_text(crawled: dict[str, Any]) -> None:
    """Left as it is: a 200 "page not found" is a new observation of the article's URL (no status says it is gone,
    and no site-independent sign tells it from a short page: the extractor finds its two lines as a body). Its text
    is too far from the article's to join it as a version; the archived article keeps its one version."""
    db, base = crawled["db"], crawled["base"]
    url = f"{base}/events/not-found"
    observed = rows(db, "SELECT status, http_status, page_type FROM snapshots WHERE url = ? ORDER BY id", url)
    assert observed == [("new", 200, "article"), ("new", 200, "article")]
    titles = dict(rows(db, "SELECT title, versions FROM articles WHERE url = ?", url))
    assert titles["not-found"] == 1  # the archived article: its one version, still live
    assert rows(db, "SELECT status FROM articles WHERE title = 'not-found'") == [("live",)]
