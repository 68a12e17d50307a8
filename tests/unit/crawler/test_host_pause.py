"""A 429 or 503 with Retry-After keeps the whole host waiting, not only the page that got it.

A crawl of a small site on 127.0.0.1 in a child process (a Twisted reactor runs once per process), with
politeness off for speed: the first article asked for answers 429 Retry-After: 2, and the server notes when every
request arrives.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.http import Response

from crawler.middlewares import HostPauseMiddleware, retry_after_seconds
from crawler.runs import CrawlRun
from tests.support.crawl import fake_crawler
from tests.support.loopback import QuietHandler, loopback_server
from tests.unit.crawler.test_middlewares import BASE, breaker

ROOT = Path(__file__).resolve().parents[3]
ARTICLES = 12
FAST = (
    "DOWNLOAD_DELAY=0.05",  # one request at a time: Scrapy 2.19 sends a slot's whole queue at once without a delay
    "AUTOTHROTTLE_ENABLED=false",
    "CONCURRENT_REQUESTS_PER_DOMAIN=2",
    "DOWNLOAD_TIMEOUT=5",
    "RETRY_BACKOFF_BASE=0.1",
    "SITEMAP_FOLLOW=false",
    "ROBOTSTXT_OBEY=false",
)


class _Site(QuietHandler):
    """/events lists the articles; the first article request gets ``server.busy`` (a 429 with Retry-After)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        server: Any = self.server
        path = urlsplit(self.path).path
        with server.lock:
            server.arrivals.append((time.monotonic(), path))
            first = path.startswith("/events/a") and not server.busy_sent
            if first:
                server.busy_sent = time.monotonic()
        if first:
            self._send(429, b"slow down", [("Retry-After", server.retry_after), ("Content-Type", "text/plain")])
        elif path == "/events":
            links = "".join(f'<a href="/events/a{n}">{n}</a>' for n in range(ARTICLES))
            self._html(f"<html><body><h1>News</h1>{links}</body></html>")
        elif path.startswith("/events/a"):
            text = f"The assembly met at {path} and adopted a model law on cooperation. " * 5
            self._html(f"<html><head><title>{path}</title></head><body><article><h1>{path}</h1><p>{text}</p>")
        else:
            self._send(404, b"not found", [("Content-Type", "text/plain")])

    def _html(self, html: str) -> None:
        self._send(200, html.encode(), [("Content-Type", "text/html; charset=utf-8")])


def _site(retry_after: str) -> Any:
    return loopback_server(_Site, arrivals=[], busy_sent=0.0, retry_after=retry_after, lock=threading.Lock())


def _command(db: Path, url: str, *settings: str) -> list[str]:
    command = [sys.executable, "-m", "cli", "crawl", "--db", str(db), "--json", "--no-progress"]
    command += ["--start-url", f"{url}/events"]
    for setting in (*FAST, *settings):
        command += ["-s", setting]
    return command


def test_a_429_with_retry_after_keeps_every_request_to_its_host_waiting(tmp_path: Path) -> None:
    with _site("2") as site:
        done = subprocess.run(
            _command(tmp_path / "a.db", site.url), capture_output=True, text=True, timeout=60, cwd=ROOT
        )
    result = json.loads(done.stdout)
    assert result["status"] == "finished", done.stderr[-2000:]
    busy = site.busy_sent
    after = [(round(t - busy, 2), path) for t, path in site.arrivals if t > busy]
    # a request already on its way when the 429 left may arrive a moment later; none is sent in the window
    inside = [(dt, path) for dt, path in after if 0.2 < dt < 1.95]
    assert busy and not inside, after
    assert sum(1 for dt, _ in after if dt >= 1.95) >= ARTICLES - 2  # the rest, and the retry, came after it
    stats = result["stats"]["scrapy"]
    assert stats["pacsto/host_pauses"] == 1 and 1.9 <= stats["pacsto/host_paused_seconds"] <= 2.1
    assert stats["pacsto/host_pause_requeued"] >= 1, after  # those queued in the downloader's slot waited too
    assert result["new"] == ARTICLES + 2 and result["failed"] == 0  # /events, /events?page=2 and the articles


def test_stopping_the_crawl_during_a_pause_is_prompt_and_the_next_run_fetches_what_waited(tmp_path: Path) -> None:
    db, jobdir = tmp_path / "a.db", tmp_path / "job"
    with _site("30") as site:
        crawl = subprocess.Popen(
            [*_command(db, site.url, "RETRY_AFTER_MAX=30"), "--jobdir", str(jobdir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 30
            while not site.busy_sent and time.monotonic() < deadline and crawl.poll() is None:
                time.sleep(0.05)
            time.sleep(0.5)  # the other requests are waiting now
            asked = time.monotonic()
            crawl.send_signal(signal.SIGTERM)
            out, err = crawl.communicate(timeout=25)
            took = time.monotonic() - asked
        finally:
            if crawl.poll() is None:
                crawl.kill()
                crawl.wait(5)
        fetched_first = {path for _, path in site.arrivals}
        assert site.busy_sent and took < 5, (took, err[-2000:])
        assert json.loads(out)["status"] == "interrupted"
        # the site is kind again: the next run with the jobdir fetches the articles that waited
        site.retry_after = "0"
        done = subprocess.run(
            [*_command(db, site.url), "--jobdir", str(jobdir)], capture_output=True, text=True, timeout=60, cwd=ROOT
        )
    again = json.loads(done.stdout)
    assert again["status"] == "finished", done.stderr[-2000:]
    assert len([p for p in fetched_first if p.startswith("/events/a")]) < ARTICLES
    con = sqlite3.connect(db)
    try:
        stored = con.execute(
            "SELECT count(DISTINCT url) FROM snapshots WHERE url LIKE '%/events/a%' AND content_sha256 IS NOT NULL"
        ).fetchone()[0]
    finally:
        con.close()
    assert stored == ARTICLES


def test_a_pause_is_logged_and_counted_once_and_only_ever_lengthened(tmp_path: Path, caplog) -> None:
    crawler = fake_crawler(tmp_path, RETRY_AFTER_MAX=30)
    mw = HostPauseMiddleware.from_crawler(crawler)
    request = Request("https://pacsto.org/events/a")

    def answer(status: int, retry_after: str | None) -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        mw.process_response(request, Response(request.url, status=status, headers=headers, request=request))

    with caplog.at_level("WARNING", logger="crawler.middlewares"):
        answer(429, "10")
        answer(503, "5")  # inside the pause: nothing new
        answer(429, "86400")  # a day: no longer than RETRY_AFTER_MAX, the pause lengthened to it
        answer(500, "60")  # not a status whose Retry-After means "keep away"
        answer(429, None)
    assert [r.getMessage() for r in caplog.records] == [
        "pacsto.org answered 429 with Retry-After: no request goes to it for 10 s"
    ]
    assert crawler.stats.counts["pacsto/host_pauses"] == 1
    # 10 s, then lengthened to 30 s from the third answer's moment: 30 s and the few ms between the answers
    assert 29.9 <= crawler.stats.counts["pacsto/host_paused_seconds"] <= 30.5
    assert 29 < mw.until["pacsto.org"] - time.monotonic() <= 30 and set(mw.until) == {"pacsto.org"}


def test_a_retry_after_of_unicode_digits_or_absurd_values_is_read_safely() -> None:
    """A hostile Retry-After never raises (a raise in the middleware failed the page instead of retrying it):
    only ASCII digits are seconds; a huge number is infinite (RETRY_AFTER_MAX caps it), a date past is 0."""
    assert retry_after_seconds(b"\xb2") is None  # '²' in latin-1: str.isdigit() says yes, float() refuses it
    assert retry_after_seconds("\u0663") is None  # an Arabic-Indic 3
    assert retry_after_seconds(" 7 ") == 7.0
    assert retry_after_seconds(b"9" * 5000) == float("inf")
    assert retry_after_seconds("Sun, 06 Nov 1994 08:49:37 GMT") == 0.0
    for junk in ("-5", "1e9", "1.5", "", "Wed, 21 Oct 99999 07:28:00 GMT", "\x00"):
        assert retry_after_seconds(junk) is None, junk


def test_a_site_refusing_every_page_with_retry_after_ends_the_crawl_as_interrupted(tmp_path: Path) -> None:
    """Each refused page pauses the whole host, so a site answering 429 Retry-After to every page made the crawl
    last pages x attempts x RETRY_AFTER_MAX: the site breaker counts such pages as unanswered, and stops the crawl
    at the tenth in a row (resumable). An attempt without Retry-After, or any other answer between, is an answer."""
    mw, closed = breaker(tmp_path)

    def answer(n: int, status: int, retry_after: str | None = "600") -> None:
        request = Request(f"{BASE}/events/a{n}")
        headers = {"Retry-After": retry_after} if retry_after else {}
        mw.process_response(request, Response(request.url, status=status, headers=headers, request=request))

    for _ in range(5):
        answer(0, 429)  # one page refused through its retries is one page
    for n in range(1, 9):
        answer(n, 503 if n % 2 else 429)
    answer(9, 429, None)  # no Retry-After: an answer (the retries and their backoff handle it)
    answer(10, 200)
    assert not closed and not mw.streaks
    for n in range(20, 29):
        answer(n, 429)
    assert not closed
    answer(29, 429, "Sun, 06 Nov 2094 08:49:37 GMT")
    assert closed == ["site_unreachable"]
    assert CrawlRun.for_crawler(mw.crawler).ended_early == (
        "127.0.0.1:8000 stopped answering: 10 pages in a row refused (HTTP 429 with Retry-After, the last one) with "
        "no answer in between; the crawl stopped with 43 request(s) left unfetched, which the next run fetches"
    )
