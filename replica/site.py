"""Routing of the replica: one request in, one ``Response`` out. No sockets here.

``ReplicaSite(lang, block_markup, faults, slow_seconds).respond(method, target, headers,
epoch, base_url)`` builds the page for a path at an epoch, adds ETag (hash of the body) and
Last-Modified (fixed per epoch and path), and answers conditional requests with 304.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit

from . import render
from .content import EPOCH_TIMES, EPOCHS, LANGS, PAGE_SIZE, SiteState, all_figures, fault_article, site_state
from .faults import (
    FAULT_ARTICLES,
    FAULT_PATHS,
    LINK_TEXT,
    LOOP,
    OFFSITE_LOCATION,
    WRONG_CHARSET_DECLARED,
    FirstTimeTracker,
    parse_faults,
)
from .image import JPEG_BYTES

HTML = "text/html; charset=utf-8"
STATIC_TIME = datetime(2021, 3, 15, 12, 0, tzinfo=timezone.utc)  # Last-Modified of images and robots.txt


def first_int(values: list[str] | None) -> int | None:
    """The first value of a parsed query parameter (``parse_qs``) as an int, or None. The replica parses its
    own URLs, as the real site does: it shares no code with the spider it stands in front of."""
    try:
        return int(values[0]) if values else None
    except ValueError:
        return None


@dataclass
class Response:
    """What the server sends. ``send_bytes`` < len(body) truncates; ``delay`` is waited first."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    send_bytes: int | None = None
    delay: float = 0.0

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


def etag_for(body: bytes) -> str:
    """A strong ETag: a hash of the body."""
    return '"' + hashlib.sha256(body).hexdigest()[:24] + '"'


def last_modified_for(epoch: int, target: str) -> datetime:
    """The epoch's time plus a per-path offset under an hour (so it only grows with the epoch)."""
    return EPOCH_TIMES[epoch] + timedelta(seconds=zlib.crc32(target.encode()) % 3600)


def not_modified(headers: Mapping[str, str], etag: str, modified: datetime) -> bool:
    """RFC 9110: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or etag in tags
    if_modified_since = headers.get("If-Modified-Since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return modified.replace(microsecond=0) <= since
    return False


class ReplicaSite:
    """The pages of one language's site (pacsto.org for "en", paodkb.org for "ru")."""

    def __init__(self, lang: str = "en", block_markup: str = "header", faults=(), slow_seconds: float = 5.0):
        if lang not in LANGS:
            raise ValueError(f"lang must be one of {', '.join(LANGS)}, not {lang!r}")
        if block_markup not in render.BLOCK_MARKUPS:
            raise ValueError(f"block_markup must be one of {', '.join(render.BLOCK_MARKUPS)}, not {block_markup!r}")
        self.lang = lang
        self.block_markup = block_markup
        self.faults = parse_faults(faults)
        self.slow_seconds = float(slow_seconds)
        self._flaky = FirstTimeTracker()
        self._figures = all_figures()
        for epoch in EPOCHS:  # build every epoch once, up front
            site_state(lang, epoch)

    # ------------------------------------------------------------------ entry point

    def respond(self, method: str, target: str, headers: Mapping[str, str], epoch: int, base_url: str) -> Response:
        """The response to ``method target`` (GET or HEAD) at ``epoch``."""
        state = site_state(self.lang, epoch)
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        response = self._route(state, path, query, base_url)
        if response.status == 200 and not any(k == "Location" for k, _ in response.headers):
            modified = STATIC_TIME if path.startswith("/uploads/") or path == "/robots.txt" else None
            modified = modified or last_modified_for(epoch, target)
            etag = etag_for(response.body)
            response.headers += [("ETag", etag), ("Last-Modified", format_datetime(modified, usegmt=True))]
            if not_modified(headers, etag, modified):
                keep = [(k, v) for k, v in response.headers if k in ("ETag", "Last-Modified")]
                return Response(304, keep, delay=response.delay)
            response.headers.append(("Cache-Control", "max-age=0, private, must-revalidate"))
        elif response.body:
            response.headers.append(("ETag", etag_for(response.body)))
            response.headers.append(("Last-Modified", format_datetime(last_modified_for(epoch, target), usegmt=True)))
        return response

    # ------------------------------------------------------------------ routing

    def _route(self, state: SiteState, path: str, query: dict, base_url: str) -> Response:
        if path == "/":
            return self._html(
                state, render.UI[self.lang]["home"], render.home_main(self.lang, list(state.articles[:3]))
            )
        if path in ("/events", "/events/"):
            return self._listing(state, query)
        if path.startswith("/events/"):
            return self._article(state, path.removeprefix("/events/"))
        if path.startswith("/countries/") and path.removeprefix("/countries/") in render.COUNTRY_SLUGS:
            index = render.COUNTRY_SLUGS.index(path.removeprefix("/countries/"))
            main = render.country_main(self.lang, index, state.epoch)
            return self._html(state, render.UI[self.lang]["countries"][index], main)
        if path == "/contacts":
            ui = render.UI[self.lang]
            return self._html(state, ui["contacts"], render.text_main(ui["contacts"], ui["contacts_text"]))
        if path == "/robots.txt":
            return Response(200, [("Content-Type", "text/plain; charset=utf-8")], render.robots(base_url).encode())
        if path == "/sitemap.xml":
            return self._sitemap(state, base_url)
        if path in self._figures:
            return Response(200, [("Content-Type", "image/jpeg")], JPEG_BYTES)
        if path in LOOP and "redirect_loop" in self.faults:
            return self._redirect(LOOP[path])
        return self._not_found(state)

    def _html(self, state: SiteState, title: str, main: str, status: int = 200, meta: str = "") -> Response:
        markup = render.page(self.lang, title, main, state.block_lines, self.block_markup, meta=meta)
        return Response(status, [("Content-Type", HTML)], markup.encode("utf-8"))

    def _not_found(self, state: SiteState) -> Response:
        ui = render.UI[self.lang]
        return self._html(state, ui["not_found"], render.text_main(ui["not_found"], [ui["not_found_text"]]), 404)

    @staticmethod
    def _redirect(location: str) -> Response:
        body = f'<html><body>You are being <a href="{location}">redirected</a>.</body></html>'.encode()
        return Response(302, [("Location", location), ("Content-Type", HTML)], body)

    def _article(self, state: SiteState, slug: str) -> Response:
        article = state.by_slug.get(slug)
        if article is not None:
            return self._html(state, article.title, render.article_main(article), meta=render.article_meta(article))
        fault = next((name for name, path in FAULT_PATHS.items() if path == f"/events/{slug}"), None)
        if fault is None or fault not in self.faults:
            return self._not_found(state)
        if fault == "offsite_redirect":
            return self._redirect(OFFSITE_LOCATION)
        if fault == "flaky500" and self._flaky.first(FAULT_PATHS[fault]):
            ui = render.UI[self.lang]
            markup = (
                f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{ui["server_error"]}</title>'
                f"</head><body><h1>{ui['server_error']}</h1><p>{ui['server_error_text']}</p></body></html>\n"
            )
            return Response(500, [("Content-Type", HTML)], markup.encode("utf-8"))
        if fault == "wrong_charset":
            ru_state = site_state("ru", state.epoch)
            article = fault_article(FAULT_ARTICLES[fault], "ru", slug)
            markup = render.page(
                "ru",
                article.title,
                render.article_main(article),
                ru_state.block_lines,
                self.block_markup,
                meta=render.article_meta(article),
                charset_meta=False,
            )
            return Response(
                200, [("Content-Type", f"text/html; charset={WRONG_CHARSET_DECLARED}")], markup.encode("utf-8")
            )
        article = fault_article(FAULT_ARTICLES[fault], self.lang, slug)
        response = self._html(state, article.title, render.article_main(article), meta=render.article_meta(article))
        if fault == "slow":
            response.delay = self.slow_seconds
        if fault == "truncated":
            response.send_bytes = len(response.body) // 2
        return response

    # ------------------------------------------------------------------ listings

    def _listing(self, state: SiteState, query: dict) -> Response:
        ui = render.UI[self.lang]
        page_no = max(first_int(query.get("page")) or 1, 1)
        if "month" in query or "year" in query:
            return self._month_listing(state, query, page_no)
        articles = list(state.articles)
        last = max(1, -(-len(articles) // PAGE_SIZE))
        items = articles[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]
        extra = render.pagination(self.lang, page_no, last)
        if page_no == 1:
            if "calendar_trap" in self.faults and articles:
                newest = articles[0].published
                extra += render.calendar_links(self.lang, [("month", newest.month, newest.year)])
            links = [(FAULT_PATHS[name], LINK_TEXT[self.lang][name]) for name in FAULT_PATHS if name in self.faults]
            extra += render.announcements(self.lang, links)
        return self._html(state, ui["news"], render.listing_main(self.lang, ui["news"], items, extra))

    def _month_listing(self, state: SiteState, query: dict, page_no: int) -> Response:
        ui = render.UI[self.lang]
        month, year = first_int(query.get("month")), first_int(query.get("year"))
        if month is None or year is None or not 1 <= month <= 12:
            return self._html(state, ui["news"], render.listing_main(self.lang, ui["news"], []))
        matching = [a for a in state.articles if (a.published.year, a.published.month) == (year, month)]
        last = max(1, -(-len(matching) // PAGE_SIZE))
        items = matching[(page_no - 1) * PAGE_SIZE : page_no * PAGE_SIZE]
        trap = "calendar_trap" in self.faults
        if trap and not items and state.articles:
            items = [state.articles[0]]  # the trap: a pinned item, the page is never empty
        prev_month = (month - 1, year) if month > 1 else (12, year - 1)
        next_month = (month + 1, year) if month < 12 else (1, year + 1)
        links = []
        if trap or any((a.published.year, a.published.month) < (year, month) for a in state.articles):
            links.append(("prev", *prev_month))
        if any((a.published.year, a.published.month) > (year, month) for a in state.articles):
            links.append(("next", *next_month))
        extra = render.pagination(self.lang, page_no, last, month, year) + render.calendar_links(self.lang, links)
        heading = f"{ui['news']}: {render.month_name(month, self.lang)} {year}"
        return self._html(state, heading, render.listing_main(self.lang, heading, items, extra))

    def _sitemap(self, state: SiteState, base_url: str) -> Response:
        entries: list[tuple[str, str | None]] = [("/", None), ("/events", None), ("/contacts", None)]
        entries += [(f"/countries/{slug}", None) for slug in render.COUNTRY_SLUGS]
        entries += [(a.path, a.published.isoformat()) for a in state.articles]
        body = render.sitemap(base_url, entries).encode("utf-8")
        return Response(200, [("Content-Type", "application/xml; charset=utf-8")], body)
