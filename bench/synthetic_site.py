"""A replica of the site at a chosen size, for the benchmark: N generated articles plus listings.

    with SyntheticServer(pages=1000) as server:       # http://127.0.0.1:<port>
        ...crawl server.url...

The pages are the replica's (``replica.render`` templates, its routing, ETags and
304s, the epoch-1 delegation block of ~1.9 KB), so the crawler and the archive see what they
see on the replica, only more of it. Each article has the replica's title and lead templates
and 5-12 paragraphs of prose (1.4-3.9 KB, like the seeds' bodies), a third of them with one
of the replica's sentences; the prose comes from a 20,000-word pseudo-vocabulary, because
34 sentence templates repeated over thousands of articles would look like page furniture.
A head like a Rails site's (``HEAD_ASSETS``) brings the pages to the real site's 7-12 KB.
Listing pages show a window of page numbers (the replica lists every one, ~100 KB a listing
page at 10k articles). Everything is deterministic for a given (pages, lang, seed);
responses are rendered once and cached, so the server costs little CPU next to the crawler.

    python -m bench.synthetic_site --pages 1000 --port 8000
"""

from __future__ import annotations

import argparse
import functools
import random
import threading
import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from replica import render, words
from replica.content import (
    ARCHIVE_START,
    PAGE_SIZE,
    Article,
    Figure,
    SiteState,
    _context,
    _slots,
    block_lines,
    format_date,
    make_slug,
)
from replica.server import ReplicaServer
from replica.site import STATIC_TIME, ReplicaSite, Response, etag_for, first_int, last_modified_for, not_modified

DEFAULT_PAGES = 1000
SEED = 20240611
LAST_DAY = date(2025, 9, 30)
SENTENCES_PER_PARAGRAPH = (1, 1, 2, 2, 2)  # prose sentences (10-25 words) of a paragraph
TEMPLATE_SHARE = 0.3  # paragraphs with one of the replica's sentences
PAGINATION_WINDOW = 3  # page numbers shown either side of the current one


_ONSETS = {
    "en": [
        "b",
        "c",
        "d",
        "f",
        "g",
        "h",
        "k",
        "l",
        "m",
        "n",
        "p",
        "r",
        "s",
        "t",
        "v",
        "z",
        "br",
        "dr",
        "gr",
        "kr",
        "pl",
        "st",
        "tr",
        "sh",
        "ch",
    ],
    "ru": "б в г д з к л м н п р с т ф х ж ш бр др гр кр пл ст тр".split(),
}
_VOWELS = {"en": ["a", "e", "i", "o", "u", "ai", "ea", "ou"], "ru": ["а", "е", "и", "о", "у", "ы", "я", "ю"]}
_CODAS = {
    "en": ["", "", "n", "r", "s", "t", "l", "m", "nd", "st"],
    "ru": ["", "", "н", "р", "с", "т", "л", "м", "нд", "ст"],
}
_FUNCTION_WORDS = {
    "en": "the of and to in a for on with that as by at from is was be will this has its their".split(),
    "ru": "и в на с по о к для что из от как это его их был будет также при".split(),
}
VOCABULARY_SIZE = 20_000


@functools.lru_cache(maxsize=2)
def vocabulary(lang: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """Pseudo-words (1-3 syllables) and their cumulative Zipf weights: prose that does not repeat
    across articles the way 34 sentence templates would (repetition is what marks furniture)."""
    rng = random.Random(7)
    found: dict[str, None] = {}
    while len(found) < VOCABULARY_SIZE:
        word = "".join(
            rng.choice(_ONSETS[lang]) + rng.choice(_VOWELS[lang]) + rng.choice(_CODAS[lang])
            for _ in range(rng.choice((1, 2, 2, 3)))
        )
        found[word] = None
    weights, total = [], 0.0
    for rank in range(len(found)):
        total += 1.0 / (rank + 10)
        weights.append(total)
    return tuple(found), tuple(weights)


def _filler(rng: random.Random, lang: str, n_words: int) -> str:
    """One sentence of prose: function words and Zipf-distributed pseudo-words."""
    vocab, cumulative = vocabulary(lang)
    picked = rng.choices(vocab, cum_weights=cumulative, k=n_words)
    function = _FUNCTION_WORDS[lang]
    text = " ".join(rng.choice(function) if rng.random() < 0.35 else word for word in picked)
    return text[0].upper() + text[1:] + "."


def _generate(rng: random.Random, day: date, lang: str, used: set[str]) -> Article:
    """One article: the replica's title and lead templates, 5-12 paragraphs of prose (some with
    one of the replica's sentences), sometimes a figure or two; a unique slug."""
    kind = rng.choice(sorted(words.KINDS))
    ctx = _context(rng, day)
    ru_title = words.KINDS[kind][1].format(**vars(ctx))
    slug = make_slug(
        ru_title, rng.randint(5, 8), uuid.UUID(int=rng.getrandbits(128), version=4) if rng.random() < 0.25 else None
    )
    while slug in used:  # like friendly_id: disambiguate with a UUID
        slug = make_slug(ru_title, 8, uuid.UUID(int=rng.getrandbits(128), version=4))
    used.add(slug)
    title = words.KINDS[kind][0 if lang == "en" else 1].format(**vars(ctx))
    # the template, then more words than it has: two titles of one template stay below the 0.5 Jaccard
    # at which the archive takes titles for the same article
    title = title[0].upper() + title[1:] + ": " + _filler(rng, lang, rng.randint(12, 16)).rstrip(".").lower()
    lead = words.KINDS[kind][2 if lang == "en" else 3].format(**vars(ctx))
    templates = list(range(len(words.SENTENCES)))
    rng.shuffle(templates)

    def sentence() -> str:
        template = words.SENTENCES[templates.pop() if templates else rng.randrange(len(words.SENTENCES))]
        return template[0 if lang == "en" else 1].format(**vars(_slots(rng, ctx)))

    # A template sentence never stands alone: two articles' paragraphs built on the same template
    # would be near-duplicate lines, which is what page furniture looks like.
    paragraphs = [" ".join([lead] + [_filler(rng, lang, rng.randint(10, 25)) for _ in range(2)])]
    for _ in range(rng.randint(5, 12) - 1):
        prose = [_filler(rng, lang, rng.randint(10, 25)) for _ in range(rng.choice(SENTENCES_PER_PARAGRAPH))]
        if rng.random() < TEMPLATE_SHARE:
            prose.insert(rng.randrange(len(prose) + 1), sentence())
            prose += [_filler(rng, lang, rng.randint(10, 25))] * (len(prose) < 3)
        paragraphs.append(" ".join(prose))
    body: list = list(paragraphs)
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 2)):
            body.insert(
                rng.randrange(len(body)), Figure(rng.randrange(10000, 99999), f"img_{rng.randrange(1000, 9999)}")
            )
    pad = day.day < 10 and rng.random() < 0.4 and lang == "en"
    return Article(slug, lang, title, day, format_date(day, lang, pad=pad), tuple(body), "generated")


ASSET_HASH = "3f9c2a7d51e8b40c6a1f"
# What a Rails site's <head> carries beyond the replica's (assets, icons, a page description,
# Open Graph and Twitter cards, a web-analytics counter): the replica's template is leaner than
# the real pages, and this is what brings a page to the site's 7-12 KB. Identical on every page
# except the description and image, as on the real site.
HEAD_ASSETS = (
    '<meta http-equiv="X-UA-Compatible" content="IE=edge">'
    '<meta name="format-detection" content="telephone=no">'
    '<meta name="csrf-param" content="authenticity_token">'
    f'<link rel="stylesheet" media="all" href="/assets/application-{ASSET_HASH}.css">'
    f'<link rel="stylesheet" media="print" href="/assets/print-{ASSET_HASH[::-1]}.css">'
    f'<script src="/assets/application-{ASSET_HASH}.js" defer></script>'
    '<link rel="icon" type="image/png" sizes="32x32" href="/favicon-32x32.png">'
    '<link rel="icon" type="image/png" sizes="16x16" href="/favicon-16x16.png">'
    '<link rel="apple-touch-icon" sizes="180x180" href="/apple-touch-icon.png">'
    '<link rel="manifest" href="/site.webmanifest">'
    '<link rel="alternate" hreflang="ru" href="https://paodkb.org/">'
    '<link rel="alternate" hreflang="en" href="https://pacsto.org/">'
    '<meta name="theme-color" content="#1c3f7a">'
    '<meta property="og:type" content="article"><meta property="og:site_name" content="{site}">'
    '<meta name="twitter:card" content="summary_large_image"><meta name="twitter:site" content="@pacsto">'
    '<script type="text/javascript">(function(m,e,t,r,i,k,a){{m[i]=m[i]||function(){{(m[i].a=m[i].a||[])'
    ".push(arguments)}};m[i].l=1*new Date();for(var j=0;j<document.scripts.length;j++){{if(document.scripts[j]"
    ".src===r){{return;}}}}k=e.createElement(t),a=e.getElementsByTagName(t)[0],k.async=1,k.src=r,a.parentNode"
    '.insertBefore(k,a)}})(window,document,"script","/assets/counter/tag.js","counter");counter(48151623,"init",'
    "{{clickmap:true,trackLinks:true,accurateTrackBounce:true,webvisor:false,trackHash:true}});</script>"
    '<noscript><div><img src="/assets/counter/watch/48151623" style="position:absolute; left:-9999px;" alt="">'
    "</div></noscript>"
    '<script type="application/ld+json">{{"@context":"https://schema.org","@type":"Organization",'
    '"name":"{site}","url":"https://pacsto.org/","logo":"https://pacsto.org/assets/logo-{hash}.png",'
    '"address":{{"@type":"PostalAddress","streetAddress":"Shpalernaya 47","addressLocality":"St. Petersburg",'
    '"postalCode":"191015","addressCountry":"RU"}}}}</script>'
)


def article_head(article: Article) -> str:
    """The replica's article meta tags plus the head a real page has (see HEAD_ASSETS)."""
    site = render.UI[article.lang]["site"]
    lead = article.paragraphs[0] if article.paragraphs else article.title
    description = render._e(lead[:200])
    image = next((f.path for f in article.figures), f"/assets/logo-{ASSET_HASH}.png")
    return (
        render.article_meta(article)
        + f'<meta name="description" content="{description}">'
        + f'<meta property="og:description" content="{description}">'
        + f'<meta property="og:image" content="{image}">'
        + HEAD_ASSETS.format(site=render._e(site), hash=ASSET_HASH)
    )


@functools.lru_cache(maxsize=4)
def synthetic_state(pages: int = DEFAULT_PAGES, lang: str = "en", seed: int = SEED) -> SiteState:
    """The site with ``pages`` generated articles (newest first) and the epoch-1 block."""
    if pages < 1:
        raise ValueError(f"pages must be >= 1, not {pages}")
    rng = random.Random(seed)
    span = (LAST_DAY - ARCHIVE_START).days
    days = sorted(ARCHIVE_START + timedelta(days=rng.randrange(span)) for _ in range(pages))
    used: set[str] = set()
    articles = [_generate(rng, day, lang, used) for day in days]
    articles.sort(key=lambda a: (a.published, a.slug), reverse=True)
    return SiteState(lang, 1, "a", block_lines(lang, "a"), tuple(articles))


def pagination(lang: str, page_no: int, last: int) -> str:
    """``render.pagination``'s markup, with only a window of page numbers (plus first and last)."""
    if last <= 1 or page_no > last:
        return ""
    ui = render.UI[lang]
    url = render.listing_url
    links = []
    if page_no > 1:
        links.append(f'<a class="pagination__prev" rel="prev" href="{url(page_no - 1)}">{render._e(ui["prev"])}</a>')
    shown = sorted({1, last, *range(max(1, page_no - PAGINATION_WINDOW), min(last, page_no + PAGINATION_WINDOW) + 1)})
    for number in shown:
        if number == page_no:
            links.append(f'<span class="pagination__current">{number}</span>')
        else:
            links.append(f'<a class="pagination__page" href="{url(number)}">{number}</a>')
    if page_no < last:
        links.append(f'<a class="pagination__next" rel="next" href="{url(page_no + 1)}">{render._e(ui["next"])}</a>')
        links.append(f'<a class="pagination__last" href="{url(last)}">{render._e(ui["last"])}</a>')
    return f'<nav class="pagination">{"".join(links)}</nav>'


class SyntheticSite(ReplicaSite):
    """The replica's routing over ``synthetic_state(pages)``; the epoch is ignored (the site never changes)."""

    def __init__(self, pages: int = DEFAULT_PAGES, lang: str = "en", block_markup: str = "header", seed: int = SEED):
        super().__init__(lang=lang, block_markup=block_markup)
        self.state = synthetic_state(pages, lang, seed)
        self._figures = {f.path: f for article in self.state.articles for f in article.figures}
        self._cache: dict[tuple[str, str], tuple[int, list[tuple[str, str]], bytes, str | None, object]] = {}
        self._lock = threading.Lock()

    @property
    def articles(self) -> tuple[Article, ...]:
        return self.state.articles

    def respond(self, method: str, target: str, headers: Mapping[str, str], epoch: int, base_url: str) -> Response:
        """Like ``ReplicaSite.respond`` (ETag, Last-Modified, 304s), from a cache of rendered pages."""
        key = (target, base_url)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._render(target, base_url)
            with self._lock:
                self._cache[key] = cached
        status, base_headers, body, etag, modified = cached
        if status == 200 and etag is not None and not_modified(headers, etag, modified):
            return Response(304, [("ETag", etag), ("Last-Modified", format_datetime(modified, usegmt=True))])
        extra = [("Cache-Control", "max-age=0, private, must-revalidate")] if status == 200 else []
        return Response(status, list(base_headers) + extra, body)

    def _render(self, target: str, base_url: str) -> tuple:
        parts = urlsplit(target)
        response = self._route(self.state, parts.path, parse_qs(parts.query), base_url)
        if response.status == 200 and not any(k == "Location" for k, _ in response.headers):
            static = parts.path.startswith("/uploads/") or parts.path == "/robots.txt"
            modified = STATIC_TIME if static else last_modified_for(1, target)
            etag = etag_for(response.body)
            response.headers += [("ETag", etag), ("Last-Modified", format_datetime(modified, usegmt=True))]
            return response.status, response.headers, response.body, etag, modified
        if response.body:
            response.headers.append(("ETag", etag_for(response.body)))
            response.headers.append(("Last-Modified", format_datetime(last_modified_for(1, target), usegmt=True)))
        return response.status, response.headers, response.body, None, None

    def _listing(self, state: SiteState, query: dict) -> Response:
        if "month" in query or "year" in query:
            return self._month_listing(state, query, max(first_int(query.get("page")) or 1, 1))
        ui = render.UI[self.lang]
        page_no = max(first_int(query.get("page")) or 1, 1)
        last = max(1, -(-len(state.articles) // PAGE_SIZE))
        items = list(state.articles[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE])
        return self._html(
            state, ui["news"], render.listing_main(self.lang, ui["news"], items, pagination(self.lang, page_no, last))
        )

    def _article(self, state: SiteState, slug: str) -> Response:
        article = state.by_slug.get(slug)
        if article is None:
            return self._not_found(state)
        return self._html(state, article.title, render.article_main(article), meta=article_head(article))

    def page_html(self, article: Article) -> bytes:
        """The bytes the server sends for an article (what ``import`` reads from files)."""
        return self.respond("GET", article.path, {}, 1, "http://127.0.0.1").body

    def listing_count(self) -> int:
        return max(1, -(-len(self.state.articles) // PAGE_SIZE))


class SyntheticServer(ReplicaServer):
    """``ReplicaServer`` serving a ``SyntheticSite`` of ``pages`` articles on 127.0.0.1."""

    def __init__(
        self,
        pages: int = DEFAULT_PAGES,
        lang: str = "en",
        block_markup: str = "header",
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = SEED,
    ):
        super().__init__(epoch=1, lang=lang, block_markup=block_markup, host=host, port=port)
        self.site = SyntheticSite(pages, lang, block_markup, seed)

    def warm(self) -> None:
        """Render every listing and article once, so the first crawl does not pay for rendering."""
        for number in range(1, self.site.listing_count() + 1):
            self.site.respond("GET", render.listing_url(number), {}, 1, self.url)
        self.site.respond("GET", "/events", {}, 1, self.url)
        for article in self.site.articles:
            self.site.respond("GET", article.path, {}, 1, self.url)


def write_pages(site: SyntheticSite, folder: Path) -> list[Path]:
    """Every article page as an .html file (sorted names), the input of the import benchmark."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, article in enumerate(reversed(site.articles)):
        path = folder / f"{number:06d}_{article.slug[:60]}.html"
        path.write_bytes(site.page_html(article))
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """Serve a synthetic site until Ctrl-C, printing its URL."""
    parser = argparse.ArgumentParser(prog="python -m bench.synthetic_site", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=DEFAULT_PAGES, help="number of articles (default 1000)")
    parser.add_argument("--lang", choices=("en", "ru"), default="en")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = SyntheticServer(args.pages, args.lang, port=args.port).start()
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
