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
A crawled page reached through a redirect whose landing URL is of no known kind (the home page a
deleted article is sent to) is ``OTHER``: never an article, whatever its content.

Which observations say that a page is gone (``says_removed``) is decided here too, from its URL and
what the site answered: the archive stores that verdict as the observation's status, 'removed'.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from .document import REMOVED_STATUSES

ARTICLE_PATH = re.compile(r"^/events/[^/]+/?$")
COUNTRY_PATH = re.compile(r"^/countries/[^/]+/?$")
LISTING_PATHS = ("/events", "/events/")
KINDS = ("listing", "article", "country")
# a redirect's landing page of no known kind (kind_of_url None): stored, never an article (the engine reads a NULL
# page_type as a possible article, as imports of unknown pages need, and any other value as none)
OTHER = "other"
# permanent redirects: the site says the URL is gone for good. A temporary one (302, 303, 307) is not a removal: a
# site sends readers away for a while too (maintenance, a login, a consent page), and the URL may answer again.
PERMANENT_REDIRECTS = frozenset({301, 308})
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


def says_removed(url: str, http_status: int | None, location: str | None = None) -> bool:
    """Whether an answer says the page at ``url`` is gone: a 404 or 410, or an article's permanent redirect
    (301, 308) whose ``location`` is no article (the home page, a listing, any other page), as a CMS answers
    for a deleted record. A redirect to another article (a new slug, https, www) moves the page: no removal."""
    if http_status in REMOVED_STATUSES:
        return True
    if http_status not in PERMANENT_REDIRECTS or not location or kind_of_url(url) != "article":
        return False
    try:
        target = urljoin(url, location.strip())
    except ValueError:  # an unreadable Location: nothing says where the page went
        return False
    return kind_of_url(target) != "article"


def article_status(newest_observation_status: str | None) -> str:
    """An article's status from its URL's newest observation's status: 'removed' when that observation said
    the page is gone (``says_removed``, stored as the observation's status), else 'live'. The one rule of the
    incremental engine and of the reference rebuild ``check`` compares it with."""
    return "removed" if newest_observation_status == "removed" else "live"
