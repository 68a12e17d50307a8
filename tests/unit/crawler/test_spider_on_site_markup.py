"""The pacsto spider on saved pages in the real site's markup (tests/fixtures/site, shared/site.md),
not the replica's own: what it yields for a news article, a listing page and a Russian page."""

from __future__ import annotations

from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.spiders.pacsto import PacstoSpider, page_type_of
from dedupe.document import RawSnapshot

PAGES = Path(__file__).resolve().parents[2] / "fixtures" / "site"
EN, RU = "https://pacsto.org", "https://paodkb.org"
SLUG = "erlan-koshanov-kazahstan-budet-delat-vse-vozmozhnoe"
COUNTRIES = [
    "republic-of-belarus",
    "republic-of-kazakhstan",
    "kyrgyz-republic",
    "russian-federation",
    "republic-of-tajikistan",
]
LISTED = [
    "yuriy-shuvalov-prinyal-uchastie-v-rabote-missii-nablyudateley",
    "v-moskve-sostoyalos-zasedanie-postoyannoy-komissii-pa-odkb",
    "parlamentskaya-assambleya-odkb-provela-seminar-3f2c9a4e-7b1d-4c55-9e0a-2d6b8f1e4a77",
    "delegatsiya-pa-odkb-posetila-dushanbe",
    "viktor-kogut-vystupil-na-konferentsii-v-minske",
    "v-erevane-proshlo-zasedanie-soveta-pa-odkb",
]


def spider() -> PacstoSpider:
    crawl = PacstoSpider(start_urls=f"{EN}/events,{RU}/events")
    values = Settings()
    values.setmodule(project_settings)
    crawl.configure(values)
    return crawl


def saved(name: str, url: str) -> HtmlResponse:
    """A saved page as Scrapy hands it to the callback, with the headers a Rails site sends."""
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "ETag": 'W/"5d41402abc4b2a76b9719d911017c592"',
        "Set-Cookie": "_pacsto_session=secret; path=/; HttpOnly",
    }
    body = (PAGES / name).read_bytes()
    request = Request(url, meta={"page_type": page_type_of(url)})
    return HtmlResponse(url=url, status=200, headers=headers, body=body, request=request)


def crawl(name: str, url: str) -> tuple[RawSnapshot, dict[str, list[str]]]:
    """The snapshot the spider yields first, and the URLs it requests next by page type, in order."""
    results = list(spider().parse(saved(name, url)))
    snapshot, requests = results[0], results[1:]
    assert isinstance(snapshot, RawSnapshot) and all(isinstance(r, Request) for r in requests)
    followed: dict[str, list[str]] = {}
    for request in requests:
        followed.setdefault(request.meta["page_type"], []).append(request.url)
    return snapshot, followed


def test_a_news_article_yields_its_raw_snapshot_and_follows_the_block_s_country_pages() -> None:
    url = f"{EN}/events/{SLUG}"
    snapshot, followed = crawl("pacsto-article.html", url)
    assert (snapshot.url, snapshot.page_type, snapshot.http_status, snapshot.source) == (url, "article", 200, "crawl")
    assert snapshot.body == (PAGES / "pacsto-article.html").read_bytes() and snapshot.declared_charset == "utf-8"
    assert snapshot.headers["ETag"].startswith('W/"') and "Set-Cookie" not in snapshot.headers
    assert followed == {
        "country": [f"{EN}/countries/{c}" for c in COUNTRIES],  # from the delegation block, in its order
        "listing": [f"{EN}/events"],  # the menu's news list
    }  # not /about or /documents (no page kind), not the twin site's home page, not the share or social links


def test_a_listing_page_follows_its_six_articles_and_computes_the_next_page() -> None:
    url = f"{EN}/events?page=2"
    snapshot, followed = crawl("pacsto-events-page-2.html", url)
    assert (snapshot.url, snapshot.page_type, snapshot.http_status) == (url, "listing", 200)
    assert followed["article"] == [f"{EN}/events/{slug}" for slug in LISTED]  # newest first, each once
    assert followed["country"] == [f"{EN}/countries/{c}" for c in COUNTRIES]
    listings = followed["listing"]
    assert f"{EN}/events?page=3" in listings  # computed from this page's number
    assert f"{EN}/events?page=401" not in listings and f"{EN}/events?page=1" not in listings  # pagination links
    assert not [u for u in listings if "author=" in u]  # an author's link is no listing page
    months = [u for u in listings if "month=" in u]
    assert months == [f"{EN}/events?month=5&year=2022&page=1", f"{EN}/events?month=6&year=2022&page=1"]


def test_a_russian_page_keeps_its_bytes_and_stays_on_its_own_host() -> None:
    url = f"{RU}/events/{SLUG}"
    snapshot, followed = crawl("paodkb-article.html", url)
    assert (snapshot.url, snapshot.page_type, snapshot.declared_charset) == (url, "article", "utf-8")
    text = snapshot.body.decode("utf-8")
    assert "Делегация Жогорку Кенеша Кыргызской Республики в ПА ОДКБ состоит из 6 депутатов." in text
    assert "4 июня 2022" in text
    assert followed == {"country": [f"{RU}/countries/{c}" for c in COUNTRIES], "listing": [f"{RU}/events"]}
