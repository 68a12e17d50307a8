"""Observations of the replica site as a crawl would make them, without a server or a crawl: every
page of both languages at the three epochs (articles, listings, country pages, a removed article's
404), for tests that feed the archive many realistic snapshots quickly."""

from __future__ import annotations

import functools

from dedupe.document import RawSnapshot
from replica.content import EPOCHS, site_state
from replica.render import COUNTRY_SLUGS
from replica.site import ReplicaSite

HOSTS = {"en": "https://pacsto.org", "ru": "https://paodkb.org"}


def _page_type(path: str) -> str:
    if path.startswith("/events/"):
        return "article"
    return "country" if path.startswith("/countries/") else "listing"


@functools.lru_cache(maxsize=4)
def replica_snapshots(langs: tuple[str, ...] = ("en", "ru"), markup: str = "header") -> tuple[RawSnapshot, ...]:
    """Every page of the replica at each epoch, observed a day apart per epoch."""
    snapshots = []
    for lang in langs:
        site = ReplicaSite(lang, markup)
        slugs = sorted({a.slug for epoch in EPOCHS for a in site_state(lang, epoch).articles})
        paths = [
            "/events?page=1",
            "/events?page=2",
            *(f"/countries/{c}" for c in COUNTRY_SLUGS[:2]),
            *(f"/events/{slug}" for slug in slugs),
        ]
        for epoch in EPOCHS:
            for minute, path in enumerate(paths):
                response = site.respond("GET", path, {}, epoch, HOSTS[lang])
                observed = f"2024-0{epoch}-01T{minute // 60:02d}:{minute % 60:02d}:00Z"
                body = response.body if response.status == 200 else None
                snapshots.append(
                    RawSnapshot(
                        HOSTS[lang] + path,
                        observed,
                        body,
                        source="crawl",
                        http_status=response.status,
                        page_type=_page_type(path),
                        headers={"content-type": "text/html; charset=utf-8"},
                    )
                )
    return tuple(snapshots)


@functools.lru_cache(maxsize=2)
def country_snapshots(langs: tuple[str, ...] = ("en", "ru")) -> tuple[RawSnapshot, ...]:
    """Every country page of the replica at each epoch (the rosters), observed a day apart per epoch, at the
    same hours as ``replica_snapshots`` (minutes 50 and on, so no time is shared with its pages)."""
    snapshots = []
    for lang in langs:
        site = ReplicaSite(lang)
        for epoch in EPOCHS:
            for minute, slug in enumerate(COUNTRY_SLUGS, start=50):
                response = site.respond("GET", f"/countries/{slug}", {}, epoch, HOSTS[lang])
                snapshots.append(
                    RawSnapshot(
                        f"{HOSTS[lang]}/countries/{slug}",
                        f"2024-0{epoch}-01T00:{minute:02d}:00Z",
                        response.body,
                        source="crawl",
                        http_status=response.status,
                        page_type="country",
                        headers={"content-type": "text/html; charset=utf-8"},
                    )
                )
    return tuple(snapshots)
