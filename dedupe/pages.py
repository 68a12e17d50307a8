"""A page's kind (listing, article, country) from its URL and its content, decided in one place.

Why: the derived tables treat an article page, a news listing and a country page differently
(only an article page makes an article). When only the spider knew the kind, a page that came
through a WARC or a backfill lost it: ``export`` then ``import`` turned listing and country
pages into articles. Crawl, import and backfill now all ask ``page_kind``.

The site's address scheme (shared/site.md) decides first: ``/events`` (any page or month) is a
listing, ``/events/<slug>`` an article, ``/countries/<slug>`` a country page, on any host (the
replica serves the same paths on 127.0.0.1). Other URLs are told by the page: the listing's
markup (``events__item`` entries, several of them) makes a listing; anything else is None, and
the content decides as before (an article when one is found), so imported files keep working.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

ARTICLE_PATH = re.compile(r"^/events/[^/]+/?$")
COUNTRY_PATH = re.compile(r"^/countries/[^/]+/?$")
LISTING_PATHS = ("/events", "/events/")
KINDS = ("listing", "article", "country")
_LISTING_ITEM = re.compile(rb"""class\s*=\s*["'][^"']*\bevents__item\b""", re.IGNORECASE)
LISTING_MIN_ITEMS = 2  # one events__item could be a related-news box on an article page


def kind_of_url(url: str) -> str | None:
    """'listing', 'article' or 'country' by the site's address scheme, else None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https"):
        return None
    path = parts.path
    if path in LISTING_PATHS:
        return "listing"
    if ARTICLE_PATH.match(path):
        return "article"
    if COUNTRY_PATH.match(path):
        return "country"
    return None


def page_kind(url: str, body: bytes | None = None) -> str | None:
    """The kind of the page at ``url`` (see the module's doc); None when neither URL nor page tells."""
    kind = kind_of_url(url)
    if kind is not None or not body:
        return kind
    if len(_LISTING_ITEM.findall(body[:2_000_000])) >= LISTING_MIN_ITEMS:
        return "listing"
    return None
