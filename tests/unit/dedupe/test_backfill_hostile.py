"""Backfill against hostile or broken servers (issue 20): bounded answers, deadlines, CDX rows it did not
ask for, answers of another shape, and a backfill killed midway that resumes without fetching again."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from dedupe.archive import Archive
from dedupe.webarchive import backfill as bf
from dedupe.webarchive.polite_http import Client
from tests.support.loopback import QuietHandler, loopback_server
from tests.warcs import page

BLOCK = ["Delegation of Kyrgyzstan consists of 7 deputies.", "Plenipotentiary representative: Dastan Bekeshev"]
HEADER = ["timestamp", "original", "mimetype", "statuscode", "digest"]


HTML = [("Content-Type", "text/html; charset=utf-8")]


class _Handler(QuietHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        server = self.server
        server.log.append(self.path)
        if self.path.startswith("/slow"):  # a byte every 0.3 s, forever (bounded by the test's deadline)
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            for _ in range(200):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.3)
            return
        if self.path.startswith("/big"):
            self._send(200, b"x" * 3_000_000, HTML)
        elif self.path.startswith("/cdx/search/cdx"):
            self._send(200, server.cdx, HTML)
        elif self.path.startswith("/web/"):
            number = int(self.path.split("/")[2][:14][-2:])
            self._send(200, page(f"Article {number}", [f"Body of article number {number} here."], BLOCK), HTML)
        else:
            self._send(404, b"", HTML)


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    with loopback_server(_Handler, log=[], cdx=b"[]") as httpd:
        yield httpd


def test_a_trickling_server_is_stopped_by_the_overall_deadline(server) -> None:
    client = Client(retries=0, timeout=5, deadline=1.5, sleep=lambda _: None)
    started = time.monotonic()
    with pytest.raises(OSError, match="no complete answer within 1.5 s"):
        client.get(server.url + "/slow")
    assert time.monotonic() - started < 5


def test_an_answer_over_the_cap_is_refused_while_it_streams(server) -> None:
    with pytest.raises(OSError, match="larger than"):
        Client(retries=0, cap=1_000_000).get(server.url + "/big")


@pytest.mark.parametrize("answer", [b"[1,2,3]", b"null", b"[[1], [2]]", b'{"a": 1}\n[1]', b"[" * 100_000, b"<html>"])
def test_cdx_answers_of_another_shape_are_one_sentence(server, answer: bytes) -> None:
    server.cdx = answer
    with pytest.raises(bf.BackfillError) as caught:
        list(bf.list_captures(Client(retries=0), server.url + "/cdx/search/cdx", "pacsto.org/*"))
    assert "did not answer CDX" in str(caught.value) and "\n" not in str(caught.value)


def test_only_captures_of_the_requested_pattern_and_host_are_kept(server) -> None:
    rows = [
        ["20160301100000", "https://pacsto.org/events/a", "text/html", "200", "D1"],
        ["20160301100001", "http://www.pacsto.org/events?page=2", "text/html", "200", "D2"],
        ["20160301100002", "file:///etc/passwd", "text/html", "200", "D3"],
        ["20160301100003", "https://evil.example/events/a", "text/html", "200", "D4"],
        ["20160301100004", "https://pacsto.org.evil.example/events", "text/html", "200", "D5"],
        ["20160301100005", "https://user:pw@pacsto.org/events/b", "text/html", "200", "D6"],
        ["abc", "https://pacsto.org/events/c", "text/html", "200", "D7"],
        ["20160301100007", "https://pacsto.org/countries/x", "text/html", "200", "D8"],
    ]
    server.cdx = json.dumps([HEADER, *rows]).encode()
    found = list(bf.list_captures(Client(), server.url + "/cdx/search/cdx", "pacsto.org/events*"))
    assert [c.original for c in found] == ["https://pacsto.org/events/a", "http://www.pacsto.org/events?page=2"]


def test_a_backfill_killed_midway_keeps_what_it_fetched_and_the_rerun_fetches_the_rest(server, tmp_path: Path) -> None:
    rows = [[f"201603011000{n:02d}", f"https://pacsto.org/events/a{n}", "text/html", "200", f"D{n}"] for n in range(25)]
    server.cdx = json.dumps([HEADER, *rows]).encode()
    api = server.url + "/cdx/search/cdx"
    prefix = bf.replay_prefix_for(api)

    class Killed(BaseException):
        pass

    fetched = []

    def kill_after_22(n: int) -> None:
        fetched.append(n)
        if len(fetched) == 22:
            raise Killed

    with Archive(tmp_path / "archive.db") as archive:
        captures = list(bf.list_captures(Client(), api, "pacsto.org/*"))
        with pytest.raises(Killed):
            bf.backfill(archive, Client(), prefix, captures, progress=kill_after_22, batch=5)
        stored = archive.query("SELECT count(*) AS n FROM snapshots")[0]["n"]
        assert stored == 20  # four batches of five stored; the fifth was in flight
        client = Client()
        result = bf.backfill(archive, client, prefix, captures, batch=5)
        assert client.requests == 5 and result.years[0].archived_before == 20 and result.years[0].fetched == 5
        kinds = {r["page_type"] for r in archive.query("SELECT DISTINCT page_type FROM snapshots")}
        assert kinds == {"article"}
