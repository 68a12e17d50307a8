"""Soft removals: an archived article that now redirects to the home page or to the listing, as a Rails site does
with a deleted record (``redirect_to root_path``), and one that answers 200 with a "page not found" page.

Three crawls of a small site on 127.0.0.1, each in a child process (a Twisted reactor runs once per process): the
first archives six articles, the second (every archived page due) finds them gone or moved in the ways below, the
third finds one of them back. A permanent redirect (301, 308) away from an article is its removal; a temporary one
(302) and a redirect to another article are not.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from crawler.middlewares import AlreadyArchived, OffsiteRefused
from crawler.spiders.pacsto import first_redirect_status, redirect_removal
from dedupe.document import RawSnapshot
from tests.support.db import rows
from tests.support.loopback import QuietHandler, loopback_server
from tests.unit.crawler.test_spider import BASE, failure_of, make_spider

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
    "to-about": "A seminar on cyber security gathered legal experts from six capitals to compare statutes.",
    "renamed": "The youth parliament met in Yerevan to discuss volunteering, sport and student exchanges.",
    "comes-back": "Budget experts examined the financing of the collective rapid reaction forces this year.",
}
# once the site is at stage 1: (status, target) of each article that redirects
REDIRECTS = {
    "to-home": (302, "/"),  # temporary: no removal
    "to-listing": (301, "/events"),  # permanent, to the listing the run has read already
    "to-about": (308, "/about"),  # permanent, to a page of no known kind
    "renamed": (301, "/events/renamed-2"),  # permanent, to another article: moved, not removed
    "comes-back": (301, "/"),  # permanent, and back with a 200 at stage 2
}
NOT_FOUND = (
    "<html><head><title>Page not found</title></head><body><header><a href='/events'>News</a></header>"
    "<h1>The page you were looking for doesn't exist.</h1><p>You may have mistyped the address.</p></body></html>"
)


def article_html(slug: str) -> str:
    text = " ".join([ARTICLES[slug]] * 4)
    return f"<html><head><title>{slug}</title></head><body><article><h1>{slug}</h1><p>{text}</p>"


class _Site(QuietHandler):
    """The news list and its articles; from ``server.stage`` 1 the articles are deleted or moved as REDIRECTS and
    NOT_FOUND say (the listing links none of them); at stage 2 'comes-back' answers 200 again, linked again."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        server: Any = self.server
        path = urlsplit(self.path).path
        slug = path.removeprefix("/events/")
        gone = server.stage >= 1 and not (slug == "comes-back" and server.stage == 2)
        if path == "/":
            self._html(200, "<html><head><title>Home</title></head><body><h1>Welcome</h1><a href='/events'>News</a>")
        elif path == "/about":
            self._html(200, "<html><head><title>About</title></head><body><h1>About the Assembly</h1></body></html>")
        elif path == "/events":
            linked = ARTICLES if server.stage == 0 else ["comes-back"] if server.stage == 2 else []
            links = "".join(f'<a href="/events/{s}">{s}</a>' for s in linked)
            self._html(200, f"<html><head><title>News</title></head><body><h1>News</h1>{links}</body></html>")
        elif slug == "renamed-2":
            self._html(200, article_html("renamed"))
        elif slug in REDIRECTS and gone:
            status, target = REDIRECTS[slug]
            self._send(status, b"", [("Location", f"{server.url}{target}")])
        elif slug in ARTICLES and gone:
            self._html(200, NOT_FOUND)
        elif slug in ARTICLES:
            self._html(200, article_html(slug))
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


def versions(db: Path, url: str) -> list[tuple]:
    """(title, version) of the versions of the article last seen at ``url`` under its own title (the slug)."""
    return rows(
        db,
        "SELECT av.title, av.version FROM article_versions av JOIN articles a ON a.id = av.article_id "
        "WHERE a.url = ? ORDER BY a.id, av.version",
        url,
    )


def snapshots(db: Path, url: str) -> list[tuple]:
    return rows(db, "SELECT status, http_status, page_type FROM snapshots WHERE url = ? ORDER BY id", url)


def article_status(db: Path, title: str) -> list[tuple]:
    return rows(db, "SELECT status FROM articles WHERE title = ?", title)


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The archive after the site deleted or moved its articles (a copy: ``db``), the same archive after the
    third crawl (``later``), and the runs' summaries."""
    folder = tmp_path_factory.mktemp("soft")
    later = folder / "a.db"
    with loopback_server(_Site, stage=0) as site:
        first = crawl(later, site.url)
        site.stage = 1
        second = crawl(later, site.url)
        db = folder / "second.db"
        shutil.copyfile(later, db)
        site.stage = 2
        third = crawl(later, site.url)
    return {"db": db, "later": later, "base": site.url, "first": first, "second": second, "third": third}


def test_a_temporary_redirect_keeps_the_article_and_its_landing_page_is_no_article(crawled: dict[str, Any]) -> None:
    """A 302 to the home page is no removal (a site sends readers away for a while too): the article's URL gets
    no observation and its article stays live with its one version. The home page is filed under its own URL as
    'other' (no kind by its address, reached through a redirect), so its "Welcome" is no article and not among
    the run's new articles, which the alerts read."""
    db, base, second = crawled["db"], crawled["base"], crawled["second"]
    assert crawled["first"]["new"] == 8  # /events, /events?page=2 and the six articles
    url = f"{base}/events/to-home"
    assert snapshots(db, url) == [("new", 200, "article")]
    assert versions(db, url) == [("to-home", 1)]
    assert rows(db, "SELECT status FROM articles WHERE url = ?", url) == [("live",)]
    assert snapshots(db, f"{base}/") == [("new", 200, "other")]
    assert snapshots(db, f"{base}/about") == [("new", 200, "other")]
    assert not rows(db, "SELECT title FROM articles WHERE title IN ('Home', 'Welcome', 'About', 'About the Assembly')")
    new_articles = [a["title"] for a in second["stats"]["changes"]["new_articles"]]
    assert new_articles == ["The page you were looking for doesn't exist."]
    assert second["failed"] == 0


def test_a_permanent_redirect_away_from_an_article_is_its_removal(crawled: dict[str, Any]) -> None:
    """A 301 to the listing (read already in that run: Scrapy drops the redirect) and a 308 to a page of no known
    kind are recorded as observations of the article's URL with their real status and Location, no body; the
    article is removed as after a 404 (its versions kept), the run counts the removals, and the URL's time-derived
    run says it stated nothing then."""
    db, base, second = crawled["db"], crawled["base"], crawled["second"]
    for slug, (status, target) in {"to-listing": (301, "/events"), "to-about": (308, "/about")}.items():
        url = f"{base}/events/{slug}"
        assert snapshots(db, url) == [("new", 200, "article"), ("removed", status, "article")], slug
        (headers, sha) = rows(
            db,
            "SELECT headers, content_sha256 FROM snapshots WHERE url = ? AND id = "
            "(SELECT max(id) FROM snapshots WHERE url = ?)",
            url,
            url,
        )[0]
        assert json.loads(headers) == {"Location": f"{base}{target}"} and sha is None, slug
        assert versions(db, url) == [(slug, 1)], slug
        assert rows(db, "SELECT status FROM articles WHERE url = ?", url) == [("removed",)], slug
        assert rows(db, "SELECT stating FROM url_runs WHERE url = ? ORDER BY first_observed_at", url) == [(1,), (0,)]
    assert second["removed"] == 3  # with comes-back's 301 to the home page
    removed = sorted(a["title"] for a in second["stats"]["changes"]["removed_articles"])
    assert removed == ["comes-back", "to-about", "to-listing"]


def test_a_permanent_redirect_to_another_article_is_a_move(crawled: dict[str, Any]) -> None:
    """A 301 to another article URL (a new slug) says where the article went, not that it is gone: the old URL gets
    no observation, the page it lands on is filed as an article, and the article is live under its new URL."""
    db, base = crawled["db"], crawled["base"]
    assert snapshots(db, f"{base}/events/renamed") == [("new", 200, "article")]
    assert snapshots(db, f"{base}/events/renamed-2") == [("new", 200, "article")]
    assert rows(db, "SELECT url, status, versions FROM articles WHERE title = 'renamed'") == [
        (f"{base}/events/renamed-2", "live", 1)
    ]


def test_the_archive_after_such_a_crawl_passes_check(crawled: dict[str, Any]) -> None:
    """The incremental engine and the reference rebuild read a removal by redirect alike."""
    command = [sys.executable, "-m", "cli", "check", "--db", str(crawled["db"])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_an_article_back_after_its_removal_by_redirect_is_live_again(crawled: dict[str, Any]) -> None:
    """As after a 404: a page last seen removed is not revisited on schedule (each run would count it removed
    again), but requested when the site links it again; once it answers 200, the article is live, its history
    whole."""
    later, base, third = crawled["later"], crawled["base"], crawled["third"]
    url = f"{base}/events/comes-back"
    assert snapshots(later, url) == [("new", 200, "article"), ("removed", 301, "article"), ("new", 200, "article")]
    assert article_status(later, "comes-back") == [("live",)]
    assert versions(later, url) == [("comes-back", 1)]
    assert article_status(later, "to-listing") == [("removed",)]
    assert third["stats"]["changes"]["removed_articles"] == []  # removed already
    assert third["removed"] == 0  # to-listing and to-about, removed and linked by nothing: not requested again


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


def test_a_failed_redirect_chain_keeps_the_status_the_page_answered() -> None:
    """An article's 301 or 308 whose next hop fails (off the allowed hosts, a loop) is stored as a failure with the
    status the article's URL answered, as the chain's first reason says, not a 302 assumed for every redirect."""
    spider = make_spider()
    for status in (301, 308, 302):
        offsite = failure_of(
            OffsiteRefused("refused to leave the allowed hosts: http://example.invalid/"),
            "http://example.invalid/",
            redirect_urls=[f"{BASE}/events/moved"],
            redirect_reasons=[status],
        )
        (item,) = list(spider.failed(offsite))
        assert (item.url, item.http_status) == (f"{BASE}/events/moved", status)
    assert first_redirect_status({"redirect_urls": ["a", "b"], "redirect_reasons": [308, 302]}) == 308
    assert first_redirect_status({"redirect_urls": ["a"], "redirect_reasons": ["meta refresh"]}) == 302
    assert first_redirect_status({}) is None


def test_a_resumed_run_records_a_removal_whose_redirect_lands_on_a_page_stored_before() -> None:
    """A run resuming an interrupted one skips the pages that run stored (AlreadyArchived), the home page and the
    listing among them: an article's 301 there was dropped with no trace (and counted as a page skipped). The
    removal is recorded as when the duplicate filter drops such a redirect; a page asked for itself stays skipped."""
    spider = make_spider()
    landed = failure_of(
        AlreadyArchived("already stored by run 1"),
        f"{BASE}/",
        redirect_urls=[f"{BASE}/events/deleted"],
        redirect_reasons=[301],
    )
    (removal,) = list(spider.failed(landed))
    assert isinstance(removal, RawSnapshot) and removal.body is None
    assert (removal.url, removal.http_status, removal.headers) == (
        f"{BASE}/events/deleted",
        301,
        {"Location": f"{BASE}/"},
    )
    temporary = failure_of(
        AlreadyArchived("stored"), f"{BASE}/", redirect_urls=[f"{BASE}/events/away"], redirect_reasons=[302]
    )
    assert list(spider.failed(temporary)) == []
    assert list(spider.failed(failure_of(AlreadyArchived("stored"), f"{BASE}/events/kept"))) == []


def test_permanent_redirects_in_a_row_are_read_as_one() -> None:
    """The real site is served on www and the bare host: an archived www article that is deleted answers 301 to the
    bare host's same article, which answers 301 home. Read hop by hop, the first 301 was a move and the removal was
    missed; read as the permanent hops in a row, it is a removal whose Location is where they led. A temporary hop
    ends the run: a 301 to the same article that then 302s home is no removal, nor a chain that ends on an article."""
    www, bare = "https://www.pacsto.org/events/deleted", "https://pacsto.org/events/deleted"
    meta = {"redirect_urls": [www, bare], "redirect_reasons": [301, 301]}
    removal = redirect_removal(meta, "https://pacsto.org/")
    assert removal is not None and (removal.url, removal.http_status) == (www, 301)
    assert removal.headers == {"Location": "https://pacsto.org/"}
    assert redirect_removal({**meta, "redirect_reasons": [301, 302]}, "https://pacsto.org/") is None
    assert redirect_removal({**meta, "redirect_reasons": [308]}, "https://pacsto.org/events/deleted") is None
    three = {"redirect_urls": [www, bare, "https://pacsto.org/events/"], "redirect_reasons": [301, 308, 302]}
    assert redirect_removal(three, "https://pacsto.org/").headers == {"Location": "https://pacsto.org/events/"}
