"""Messages and leaks (issue 9, gap 8): a full disk in one sentence, no password or cookie kept, no downgrade."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import click
import pytest
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.settings import Settings

from cli import DISK_FULL, user_errors
from crawler import settings as project_settings
from crawler.middlewares import AllowedHostsMiddleware, DowngradeRefused
from crawler.runs import CrawlRun, without_credentials
from crawler.spiders.pacsto import HostScope, snapshot_of
from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from dedupe.sources import read_inputs
from tests.support.snapshots import make_snapshots

COOKIES = {
    "Set-Cookie": "_session=secret; HttpOnly",
    "set-cookie2": "old=1",
    "Content-Type": "text/html; charset=utf-8",
}


def test_a_full_disk_is_one_sentence_naming_the_cause() -> None:
    for error in (sqlite3.OperationalError("database or disk is full"), OSError(28, "No space left on device")):
        with pytest.raises(click.ClickException) as caught, user_errors():
            raise error
        assert caught.value.message == DISK_FULL and caught.value.message.startswith("database or disk is full")


def test_sqlite_full_during_an_import_reaches_the_user_as_itself(tmp_path: Path) -> None:
    make_snapshots(tmp_path / "in", 60)
    with Archive(tmp_path / "a.db") as archive:
        pages = archive.db.execute("PRAGMA page_count").fetchone()[0]
        archive.db.execute(f"PRAGMA max_page_count = {pages + 10}")  # 80 KB: less than 60 pages take
        with pytest.raises(click.ClickException, match="^database or disk is full"), user_errors():
            archive.ingest(read_inputs([str(tmp_path / "in")]))


def test_start_urls_are_stored_without_credentials(tmp_path: Path) -> None:
    assert without_credentials("https://user:pa55@pacsto.org/events?page=2") == "https://pacsto.org/events?page=2"
    run = CrawlRun(tmp_path / "a.db", ["https://user:pa55@pacsto.org/events", "https://paodkb.org/events"])
    run.begin()
    try:
        with sqlite3.connect(tmp_path / "a.db") as conn:
            stored = json.loads(conn.execute("SELECT start_urls FROM crawl_runs").fetchone()[0])
    finally:
        run.lock.release()
        run.archive.close()
    assert stored == ["https://pacsto.org/events", "https://paodkb.org/events"]


def test_set_cookie_is_never_archived(tmp_path: Path) -> None:
    response = HtmlResponse(
        url="https://pacsto.org/events/x", body=b"<html><body><p>x</p></body></html>", headers=COOKIES, encoding="utf-8"
    )
    assert {k.lower() for k in snapshot_of(response, "article").headers} == {"content-type"}
    # whatever a source hands over (JSON Lines, WARC, a crawl), the record drops them
    snap = RawSnapshot(
        url="https://pacsto.org/events/y",
        observed_at="2025-01-01T00:00:00Z",
        body=b"<html><body><p>A page with enough text to be stored.</p></body></html>",
        source="crawl",
        http_status=200,
        headers=dict(COOKIES),
    )
    assert set(snap.headers) == {"Content-Type"}
    with Archive(tmp_path / "a.db") as archive:
        archive.add(snap)
        stored = " ".join(str(v) for row in archive.db.execute("SELECT * FROM snapshots") for v in row)
    assert "secret" not in stored.lower() and "set-cookie" not in stored.lower()


def test_a_redirect_from_https_to_http_on_the_same_host_is_refused() -> None:
    values = Settings()
    values.setmodule(project_settings)
    stats = SimpleNamespace(inc_value=lambda *a, **k: None)
    crawler = SimpleNamespace(
        settings=values, stats=stats, spider=SimpleNamespace(scope=HostScope.from_urls(["https://pacsto.org/events"]))
    )
    mw = AllowedHostsMiddleware(crawler)
    down = Request("http://pacsto.org/events/x", meta={"redirect_urls": ["https://pacsto.org/events/x"]})
    with pytest.raises(DowngradeRefused, match="^refused to follow a redirect from https to http: "):
        mw.process_request(down)
    up = Request("https://pacsto.org/events/x", meta={"redirect_urls": ["http://pacsto.org/events/x"]})
    assert mw.process_request(up) is None and mw.process_request(Request("http://pacsto.org/events/z")) is None
