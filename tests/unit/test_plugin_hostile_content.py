"""The Datasette plugin over an archive of hostile pages: what the pages hold is shown as text, never as markup.

Everything on the plugin's pages comes from crawled pages: titles, texts, URLs (``javascript:``, ``data:``, ``file:``,
one with quotes and a ``<script>``), the delegation block's facts (a plenipotentiary with markup, a website that is
``data:`` or ``javascript:``), the headers a server sent. Every page and JSON over such an archive:
no live ``<script>`` or element of the archive's, no event attribute, every ``href``/``src`` the plugin's own or
http(s), the JSON valid, never a 500; query parameters echoed escaped. Datasette runs in this process (no port).
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import sqlite3
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from tests.replica_corpus import country_snapshots

SEEDS = Path(__file__).resolve().parents[2] / "dedupe" / "seeds"
SCRIPT = '<script>alert("pwned")</script>'
IMG = "\"'><img src=x onerror=alert(1)>"
HOSTILE_URLS = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(2)//pacsto.org",
    "data:text/html,<script>alert(3)</script>",
    "file:///etc/passwd",
]
QUOTED_URL = 'https://pacsto.org/x"><script>alert(9)</script>'
MIRROR = "https://www.pacsto.org/countries/republic-of-belarus"
BROKEN_MIRROR = "https://[www.pacsto.org/countries/republic-of-belarus"  # an IPv6 host never closed
PARAGRAPHS = [
    "The Standing Commission of the CSTO Parliamentary Assembly on defence and security met in Minsk to discuss "
    "the harmonisation of national legislation on the protection of critical infrastructure.",
    "Participants reviewed draft model laws on information security, on countering the financing of terrorism "
    "and on the status of allied forces deployed on the territory of member states.",
    f"A visitor comment quoted in the report: {SCRIPT} and {IMG} and javascript:alert(4) as words.",
    "The commission agreed to submit the drafts to the plenary session of the Assembly in November.",
]

REMOVED = [
    "Young deputies from six countries gathered in Astana for the annual session of the youth interparliamentary "
    "assembly and elected a new chair.",
    "They discussed education exchanges, volunteering programmes and a joint statement on digital literacy to be "
    "presented to the Council of the Assembly.",
    "The next session will take place in Yerevan in the spring.",
]


def page(title: str, paragraphs: list[str]) -> bytes:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{html.escape(title)}</title><script>alert('live')</script></head><body>"
        f"<article><h1>{html.escape(title)}</h1><p class='date'>2025-10-06</p>{body}</article></body></html>"
    ).encode()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds a day apart, one with a plenipotentiary carrying markup and websites that are ``javascript:`` and
    ``data:`` (conflicts with the others); an article with markup in its title and text, edited; pages at hostile
    URLs, one of them an article later removed; Belarus's country pages, the English one also at a second address
    whose stored URL cannot be split."""
    db = tmp_path_factory.mktemp("plugin-hostile") / "hostile.db"
    snaps = []
    for day, seed in enumerate(sorted(SEEDS.glob("*.txt")), start=1):
        text = seed.read_text(encoding="utf-8")
        if day == 2:
            text = text.replace("Viktor Kogut", f"Viktor Kogut {SCRIPT}{IMG}")
            text = text.replace("http://house.gov.by/en/", "javascript:alert(document.cookie)")
        if day == 3:
            text = text.replace("http://house.gov.by/en/", "data:text/html,<script>alert(5)</script>")
        snaps.append(RawSnapshot(f"file:///seeds/{seed.name}", f"2025-10-{day:02d}T09:00:00Z", text.encode()))
    article = "https://pacsto.org/en/news/planted"
    headers = {"content-type": "text/html; charset=utf-8", "x-planted": SCRIPT + IMG}
    snaps.append(RawSnapshot(article, "2025-10-06T10:00:00Z", page(f"{SCRIPT} title", PARAGRAPHS), headers=headers))
    edited = PARAGRAPHS[:2] + [PARAGRAPHS[2] + f" {IMG} {SCRIPT}", PARAGRAPHS[3].replace("November", "December")]
    snaps.append(RawSnapshot(article, "2025-10-07T10:00:00Z", page(f"{SCRIPT} title", edited)))
    for minute, url in enumerate([*HOSTILE_URLS, QUOTED_URL]):
        text = REMOVED if url == "file:///etc/passwd" else PARAGRAPHS  # its own article: then removed
        snaps.append(RawSnapshot(url, f"2025-10-08T10:{minute:02d}:00Z", page(f"Page {minute} {SCRIPT}", text)))
    snaps.append(RawSnapshot("file:///etc/passwd", "2025-10-09T10:00:00Z", None, http_status=404))  # removed
    for snap in country_snapshots():  # (a roster refuses a name with markup: the names are the replica's)
        if "republic-of-belarus" in snap.url:
            snaps.append(snap)
            if snap.url.startswith("https://pacsto.org/"):
                mirrored = snap.observed_at.replace(":00Z", ":30Z")
                snaps.append(RawSnapshot(MIRROR, mirrored, snap.body, source="crawl", page_type="country"))
    with Archive(db) as store:
        report = store.ingest(sorted(snaps, key=lambda s: s.observed_at), workers=1)
    assert not report.errors
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE urls SET url = ? WHERE url = ?", [BROKEN_MIRROR, MIRROR])
    conn.close()
    return db


def fetch(db: Path, *paths: str) -> list[httpx.Response]:
    from datasette.app import Datasette

    from datasette_pa_archive import metadata
    from datasette_pa_archive.serving import register_plugin

    register_plugin()
    datasette = Datasette(
        [str(db)],
        metadata=metadata.metadata(db.stem, metadata.archive_tables(db)),
        settings={"sql_time_limit_ms": 10_000},
    )

    async def run() -> list[httpx.Response]:
        return [await datasette.client.get(path) for path in paths]

    return asyncio.run(run())


class Markup(HTMLParser):
    """What a page's HTML does: its links (href, src, action...), event attributes and the text of its scripts."""

    LINKS = {"href", "src", "action", "formaction", "xlink:href", "poster", "background", "data"}

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.events: list[tuple[str, str]] = []
        self.scripts: list[str] = []
        self.elements: list[str] = []
        self._in_script = False

    @classmethod
    def of(cls, text: str) -> Markup:
        markup = cls()
        markup.feed(text)
        return markup

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(tag)
        self._in_script = tag == "script"
        for name, value in attrs:
            if name.startswith("on"):
                self.events.append((tag, name))
            if name in self.LINKS and value is not None:
                self.links.append((tag, name, value))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def safe_link(value: str) -> bool:
    """The plugin's or Datasette's own (a path, a query, a fragment) or an http(s) URL."""
    text = value.strip().lower()
    return text == "" or (text.startswith(("/", "?", "#", "http://", "https://")) and not text.startswith("//"))


def assert_inert(response: httpx.Response, path: str) -> Markup:
    """The page answered (no 500) and its HTML runs nothing and links nowhere the archive chose, or its JSON parses."""
    assert response.status_code < 500, (path, response.status_code, response.text[:500])
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        json.loads(response.text)
        return Markup()
    markup = Markup.of(response.text)
    assert not markup.events, (path, markup.events)
    assert all(safe_link(value) for _, _, value in markup.links), (path, [v for *_, v in markup.links])
    assert not [s for s in markup.scripts if "alert" in s or "pwned" in s], path
    assert "img" not in markup.elements, path  # no page of the plugin draws an image: one is the archive's
    assert "<script>alert" not in response.text and "<img src=x" not in response.text, path
    return markup


def snapshot_ids(db: Path, url: str) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT id FROM snapshots WHERE url = ? ORDER BY id", [url])]
    finally:
        conn.close()


@pytest.mark.parametrize("url", [*HOSTILE_URLS, "file:///seeds/001_34847c4070c3c854.txt"])
def test_snapshot_page_shows_a_url_that_is_not_http_as_text_only(archive: Path, url: str) -> None:
    """The snapshot page's "live page" link was ``<a href="{{ snap.url }}">``: a javascript: URL ran on a click."""
    (snapshot_id,) = snapshot_ids(archive, url)[:1]
    (response,) = fetch(archive, f"/-/snapshot/{snapshot_id}")
    assert response.status_code == 200
    markup = assert_inert(response, url)
    assert html.escape(url, quote=True).replace("&#x27;", "&#39;").replace("&quot;", "&#34;") in response.text
    assert not [v for *_, v in markup.links if v.strip().lower().startswith(url.split(":")[0].lower() + ":")]
    assert "(not an http(s) address: no link)" in response.text


def test_snapshot_page_links_an_http_url_escaped_inside_its_attribute(archive: Path) -> None:
    (snapshot_id,) = snapshot_ids(archive, QUOTED_URL)[:1]
    (response,) = fetch(archive, f"/-/snapshot/{snapshot_id}")
    markup = assert_inert(response, QUOTED_URL)
    assert ("a", "href", QUOTED_URL) in markup.links  # one attribute, whole: the quote did not end it
    assert 'href="https://pacsto.org/x&#34;&gt;&lt;script&gt;alert(9)&lt;/script&gt;"' in response.text


def test_every_page_and_json_over_hostile_content_is_inert(archive: Path) -> None:
    conn = sqlite3.connect(archive)
    try:
        snapshots = [row[0] for row in conn.execute("SELECT id FROM snapshots")]
        urls = [row[0] for row in conn.execute("SELECT DISTINCT url FROM snapshots")]
        versions = [
            row[0] for row in conn.execute("SELECT id FROM article_versions UNION ALL SELECT id FROM block_versions")
        ]
    finally:
        conn.close()
    name = archive.stem
    paths = [
        "/-/timeline",
        "/-/timeline.json",
        "/-/conflicts",
        "/-/conflicts.json",
        "/-/conflicts?delegation=belarus",
        "/-/roster",
        "/-/roster.json",
        "/-/roster?delegation=Belarus",
        "/-/parity?all=1",
        "/-/parity.json",
        "/-/calendar",
        "/-/diff",
        f"/{name}/search?q=commission",
        f"/{name}/search?q=alert",
        f"/{name}/search.json?q=script",
        f"/{name}/article_versions?_search=alert",
        f"/{name}/fact_changes",
        *(f"/{name}/{table}" for table in ("snapshots", "conflicts", "facts", "block_versions", "articles")),
        *(f"/{name}/{query}" for query in ("conflicting_facts", "block_variants", "block_changes", "removed_articles")),
    ]
    paths += [f"/-/snapshot/{i}" for i in snapshots] + [f"/{name}/snapshots?id={i}" for i in snapshots]
    paths += [f"/-/diff?b=s{i}" for i in snapshots] + [f"/-/diff.json?b=s{i}" for i in snapshots]
    paths += [f"/-/calendar?url={quote(url, safe='')}" for url in urls]
    paths += [f"/-/diff?b={v}" for v in versions] + [f"/-/diff.json?b={v}" for v in versions]
    paths += [f"/{name}/{'article' if v.startswith('av-') else 'block'}_versions/{v}" for v in versions]
    responses = fetch(archive, *paths)
    for path, response in zip(paths, responses):
        assert_inert(response, path)
    pages = dict(zip(paths, responses))
    # the archive's markup is there, as text
    assert "Viktor Kogut &lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in pages["/-/conflicts"].text
    assert "data:text/html,&lt;script&gt;alert(5)&lt;/script&gt;" in pages["/-/conflicts"].text
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt; title" in pages[f"/{name}/search?q=commission"].text


@pytest.mark.parametrize(
    "path",
    [
        "/-/roster?delegation=Belarus&as_of=" + quote(SCRIPT),
        "/-/roster.json?delegation=Belarus&as_of=" + quote(SCRIPT),
        "/-/roster?delegation=" + quote(SCRIPT + IMG),
        "/-/roster.json?delegation=" + quote(SCRIPT + IMG),
        "/-/parity?as_of=" + quote(IMG),
        "/-/parity.json?as_of=" + quote(IMG),
        "/-/timeline?delegation=" + quote(SCRIPT),
        "/-/timeline.json?delegation=" + quote(SCRIPT),
        "/-/conflicts?delegation=" + quote(IMG),
        "/-/conflicts.json?delegation=" + quote(IMG),
        "/-/calendar?url=" + quote(IMG + SCRIPT),
        "/-/diff?a=" + quote(IMG) + "&b=" + quote(SCRIPT),
        "/-/diff.json?a=" + quote(IMG) + "&b=" + quote(SCRIPT),
        "/-/diff?b=" + quote("javascript:alert(1)"),
        "/-/snapshot/" + quote(SCRIPT, safe=""),
        "/hostile/search?q=" + quote(SCRIPT),
        "/hostile/search?q=" + quote(IMG),
        "/hostile/search.json?q=" + quote(IMG),
        "/hostile/article_versions?_search=" + quote(SCRIPT),
        "/hostile/article_versions.json?_search=" + quote(SCRIPT),
        "/hostile/article_versions?_search_title=" + quote(IMG),
        "/hostile/article_versions?_search_" + quote(IMG, safe="") + "=x",
    ],
)
def test_hostile_query_parameters_are_echoed_as_text(archive: Path, path: str) -> None:
    (response,) = fetch(archive, path)
    assert 400 <= response.status_code < 500 or "search" in path, (path, response.status_code)
    assert_inert(response, path)
    if "json" not in response.headers["content-type"]:
        assert "alert" not in "".join(Markup.of(response.text).scripts)


def test_feed_links_only_the_plugins_pages_and_http_urls(archive: Path) -> None:
    """A removed article's feed entry linked to its archived URL, whatever its scheme (here file:///etc/passwd)."""
    (response,) = fetch(archive, f"/{archive.stem}/fact_changes.atom")
    assert response.status_code == 200
    feed = ET.fromstring(response.content)
    ns = {"atom": "http://www.w3.org/2005/Atom"}
    entries = feed.findall("atom:entry", ns)
    links = [link.get("href") or "" for entry in entries for link in entry.findall("atom:link", ns)]
    assert links and all(link.startswith(("/-/", "http://", "https://")) for link in links), links
    removed = next(e for e in entries if "Article removed" in (e.findtext("atom:title", "", ns)))
    assert "file:///etc/passwd" in removed.findtext("atom:content", "", ns)  # the entry still names it, as text
    assert [link.get("href") for link in removed.findall("atom:link", ns)] == ["/-/calendar"]
    updated = [e.findtext("atom:updated", "", ns) for e in entries]
    assert any("/-/diff?b=bv-" in link for link in links) and len(updated) == len(entries)


def test_unreadable_search_is_answered_without_a_rich_traceback(
    archive: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search FTS5 cannot read went to ``search_error`` before ``client_error``, so Datasette's rich traceback of
    every local was printed for it: 2 s of the event loop per request. (Markup typed in the box was such a search;
    ``dedupe.stemming`` now makes it one FTS5 reads, so the stemmer is made to give FTS5 what it refuses.)"""
    import datasette.handle_exception as default_handler
    import rich

    from datasette_pa_archive import table_search

    monkeypatch.setattr(default_handler, "rich", rich)  # as in a fresh server, before any other error
    capsys.readouterr()
    (pasted,) = fetch(archive, "/hostile/article_versions?_search=" + quote(SCRIPT * 20))
    assert pasted.status_code == 200  # markup pasted into the box is searched for its words
    assert_inert(pasted, "search")
    monkeypatch.setattr(table_search, "stem_query", lambda words: '"script" (')
    (response,) = fetch(archive, "/hostile/article_versions?_search=" + quote(SCRIPT))
    assert response.status_code == 400 and "The full-text index cannot read that search" in response.text
    assert_inert(response, "search")
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err and "locals" not in printed.out + printed.err


def test_roster_names_a_host_it_cannot_split_as_text(archive: Path) -> None:
    """Two addresses of one site's roster are told apart by their host; a stored URL urlsplit refuses was a 500."""
    (page, data) = fetch(archive, "/-/roster?delegation=Belarus", "/-/roster.json?delegation=Belarus")
    assert page.status_code == 200 and data.status_code == 200
    assert_inert(page, "roster")
    heading = re.findall(r"<h2>Belarus \(en, ([^)]*)\)", page.text)
    assert sorted(heading) == sorted(["pacsto.org", html.escape(BROKEN_MIRROR)]), heading


def test_web_href_takes_http_urls_only() -> None:
    from datasette_pa_archive.pages import web_href

    for url in ["https://pacsto.org/en/", "HTTP://paodkb.org/x?a=1&b=2", QUOTED_URL]:
        assert web_href(url) == url
    for url in [
        *HOSTILE_URLS,
        " javascript:alert(1)",
        "https://pacsto.org/\njavascript:alert(1)",
        "https://pacsto.org/a b",
        "http://",
        "https:///path",
        "//evil.example/",
        "/-/diff",
        BROKEN_MIRROR,
        "vbscript:msgbox(1)",
        None,
        42,
    ]:
        assert web_href(url) is None, url
