"""The Atom feed's links to the plugin's pages (``/-/diff``, ``/-/conflicts``, ``/-/roster``, the ``/-/calendar`` of
a removed article or of a feed with nothing yet) are built with Datasette's ``urls.path``: behind a proxy serving
Datasette under ``base_url='/prefix/'`` they lead to ``/prefix/-/...``, not out of it to ``/-/...``."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from tests.replica_corpus import country_snapshots

SEEDS = Path(__file__).resolve().parents[2] / "dedupe" / "seeds"
ATOM = {"atom": "http://www.w3.org/2005/Atom"}


def feed_and_pages(db: Path, base_url: str) -> tuple[list[str], list[int]]:
    """The links of ``db``'s feed served under ``base_url``, and the status of the first of each page they name."""
    from datasette.app import Datasette
    from datasette.utils import PrefixedUrlString

    from datasette_pa_archive.metadata import metadata
    from datasette_pa_archive.serving import register_plugin

    register_plugin()
    datasette = Datasette(
        [str(db)], metadata=metadata(db.stem), settings={"base_url": base_url, "sql_time_limit_ms": 10_000}
    )

    async def run() -> tuple[list[str], list[int]]:
        feed = await datasette.client.get(f"/{db.stem}/fact_changes.atom")  # the client adds base_url
        assert feed.status_code == 200, feed.text[:300]
        root = ET.fromstring(feed.content)
        links = [link.get("href") or "" for link in root.iterfind("atom:entry/atom:link", ATOM)]
        firsts = {link.split("?")[0]: link for link in reversed(links)}  # one of each page
        pages: list[httpx.Response] = [await datasette.client.get(PrefixedUrlString(h)) for h in firsts.values()]
        return links, [page.status_code for page in pages]

    return asyncio.run(run())


def test_the_feeds_links_keep_the_base_url(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    seeds = [
        RawSnapshot(f"file:///seeds/{path.name}", f"2025-10-{day:02d}T09:00:00Z", path.read_bytes())
        for day, path in enumerate(sorted(SEEDS.glob("*.txt")), start=1)
    ]
    belarus = [s for s in country_snapshots(("en",)) if "republic-of-belarus" in s.url]
    removed = RawSnapshot(seeds[0].url, "2025-10-30T09:00:00Z", None, source="crawl", http_status=404)  # file: link
    with Archive(db) as archive:
        archive.ingest(sorted(seeds + belarus, key=lambda s: s.observed_at) + [removed], workers=1)
    links, statuses = feed_and_pages(db, "/prefix/")
    pages = {link.split("?")[0] for link in links}
    assert {"/prefix/-/diff", "/prefix/-/conflicts", "/prefix/-/roster", "/prefix/-/calendar"} <= pages, pages
    assert all(link.startswith("/prefix/-/") for link in links), [h for h in links if not h.startswith("/prefix/")]
    assert statuses == [200] * len(statuses)  # each page is there, under the prefix
    links, _ = feed_and_pages(db, "/")
    assert {link.split("?")[0] for link in links} == {p.removeprefix("/prefix") for p in pages}


def test_the_entry_of_a_feed_with_nothing_yet_keeps_the_base_url(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    Archive(db).close()
    links, statuses = feed_and_pages(db, "/prefix/")
    assert links == ["/prefix/-/calendar"] and statuses == [200]
