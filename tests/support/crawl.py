"""Crawled pages without a network: replica pages as a crawl fetches them, and enough of a Scrapy crawler."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

from scrapy.settings import Settings

from crawler import settings as project_settings
from crawler.spiders.pacsto import HostScope
from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from replica import ReplicaSite, site_state

BASE = "http://127.0.0.1:8000"
HOSTS = {"en": BASE, "ru": "http://127.0.0.1:8001"}
COUNTRIES = (
    "republic-of-belarus",
    "republic-of-kazakhstan",
    "kyrgyz-republic",
    "russian-federation",
    "republic-of-tajikistan",
)
ARTICLES = [a.path for a in site_state("en", 1).articles]


def replica_page(path: str, epoch: int = 1, lang: str = "en", markup: str = "header") -> tuple[bytes, dict]:
    """The body and headers the English replica answers for ``path`` at ``epoch``."""
    answer = ReplicaSite(lang=lang, block_markup=markup).respond("GET", path, {}, epoch, BASE)
    return answer.body, dict(answer.headers)


def snap(
    path: str,
    when: str,
    epoch: int = 1,
    status: int = 200,
    body: bytes | None = None,
    page_type: str = "article",
    origin: str = "crawl:1",
) -> RawSnapshot:
    """A crawled observation of a replica page (a body of its own, or none for a failure)."""
    headers: dict = {}
    if body is None and status == 200:
        body, headers = replica_page(path, epoch)
    return RawSnapshot(
        url=BASE + path,
        observed_at=when,
        body=body,
        source="crawl",
        origin=origin,
        http_status=status,
        headers=headers,
        declared_charset="utf-8" if body else None,
        page_type=page_type,
    )


ARTICLES = [a.path for a in site_state("en", 1).articles]


def crawl_like(archive: Archive, lang: str, epoch: int) -> None:
    """Every listing, article and country page of one site at one epoch, stored as the crawl stores them."""
    site, state = ReplicaSite(lang=lang), site_state(lang, epoch)
    listings = ["/events"] + [f"/events?page={n}" for n in range(2, -(-len(state.articles) // 6) + 2)]
    pages = (
        [(p, "listing") for p in listings]
        + [(a.path, "article") for a in state.articles]
        + [(f"/countries/{c}", "country") for c in COUNTRIES]
    )
    for path, kind in pages:
        answer = site.respond("GET", path, {}, epoch, HOSTS[lang])
        archive.add(
            RawSnapshot(
                url=HOSTS[lang] + path,
                observed_at=f"2025-1{epoch - 1}-01T09:00:00Z",
                body=answer.body,
                source="crawl",
                origin=f"crawl:{epoch}",
                http_status=answer.status,
                headers=dict(answer.headers),
                declared_charset="utf-8",
                page_type=kind,
            )
        )


def open_files_of(db: Path) -> list[str]:
    """This process's descriptors and mappings of the archive's files (its SQLite connections' traces)."""
    names = {str(db), f"{db}-wal", f"{db}-shm"}
    found = []
    for fd in Path("/proc/self/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target in names:
            found.append(target)
    maps = Path("/proc/self/maps").read_text().splitlines()
    return found + [line.split()[-1] for line in maps if line.split()[-1] in names]


class FakeCrawler:
    """Enough of a Scrapy crawler for ArchivePipeline (weak-referenceable, as CrawlRun's registry needs)."""

    def __init__(self, tmp_path: Path) -> None:
        self.settings = Settings()
        self.settings.setmodule(project_settings)
        self.settings.set("ARCHIVE_DB", str(tmp_path / "a.db"))
        self.signals = SimpleNamespace(connect=lambda *a, **k: None)


def fake_crawler(tmp_path: Path, **settings: object) -> SimpleNamespace:
    """A crawler with the project's settings, counting stats, and a spider scoped to the replica."""
    values = Settings()
    values.setmodule(project_settings)
    values.set("ARCHIVE_DB", str(tmp_path / "a.db"))
    for name, value in settings.items():
        values.set(name, value)
    stats = SimpleNamespace(
        counts={}, inc_value=lambda key, count=1, **_: stats.counts.__setitem__(key, stats.counts.get(key, 0) + count)
    )
    spider = SimpleNamespace(scope=HostScope.from_urls([f"{BASE}/events"]))
    return SimpleNamespace(
        settings=values, stats=stats, spider=spider, signals=SimpleNamespace(connect=lambda *a, **k: None)
    )
