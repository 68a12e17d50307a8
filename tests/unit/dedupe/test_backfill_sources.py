"""Backfill from a Common Crawl-layout index (CDX rows naming WARC files, records fetched by Range
requests) and from any Memento TimeMap, against servers on 127.0.0.1 (port 0), stopped by their fixture."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from dedupe.archive import Archive
from dedupe.webarchive import backfill as bf
from dedupe.webarchive import history
from dedupe.webarchive.polite_http import Client
from tests.support.loopback import QuietHandler, loopback_server
from tests.warcs import WarcBuilder, page

BLOCK = ["Delegation of Kyrgyzstan consists of 7 deputies.", "Plenipotentiary representative: Dastan Bekeshev"]
A = page("Session in Minsk", ["The Council met in Minsk and adopted the budget."], BLOCK)
B = page("Session in Minsk", ["The Council met in Minsk and adopted the budget."], BLOCK[:1] + ["Another line."])
LISTING = page("News", ["<div class='events__item'>a</div><div class='events__item'>b</div>"], BLOCK)


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        server = self.server
        server.log.append((self.path, self.headers.get("Range")))
        parts = urllib.parse.urlsplit(self.path)
        if parts.path == "/CC-MAIN-2016-10-index":
            self._send(200, server.index, [("Content-Type", "text/x-ndjson")])
        elif parts.path == "/crawl-data/cc.warc.gz":
            first, last = (int(x) for x in self.headers["Range"].removeprefix("bytes=").split("-"))
            self._send(206, server.warc[first : last + 1], [("Content-Type", "application/octet-stream")])
        elif parts.path.startswith("/timemap/link/"):
            self._send(200, server.timemap.encode(), [("Content-Type", "application/link-format")])
        elif parts.path.startswith("/wb/"):
            stamp = parts.path.split("/")[2]
            body = {"20160301100000id_": A, "20190601100000id_": B}.get(stamp)
            self._send(200 if body else 404, body or b"", [("Content-Type", "text/html; charset=utf-8")])
        else:
            self._send(404, b"", [("Content-Type", "text/plain")])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ThreadingHTTPServer]:
    path = tmp_path / "cc.warc.gz"
    with WarcBuilder(path) as warc:
        warc.response("https://pacsto.org/events/a", "2016-03-01T10:00:00Z", A)
        warc.response("https://pacsto.org/events", "2016-03-01T10:00:01Z", LISTING)
        warc.response("https://pacsto.org/events/a", "2019-06-01T10:00:00Z", B)
    rows = []
    with path.open("rb") as handle:
        records = ArchiveIterator(handle)
        for record in records:
            record.content_stream().read()
            url = record.rec_headers.get_header("WARC-Target-URI")
            stamp = "".join(ch for ch in record.rec_headers.get_header("WARC-Date") if ch.isdigit())
            rows.append({"urlkey": url, "timestamp": stamp, "url": url, "mime": "text/html", "status": "200"})
            rows[-1].update(offset=str(records.get_record_offset()), filename="crawl-data/cc.warc.gz")
            rows[-1]["length"] = str(records.get_record_length())
    with loopback_server(_Handler, log=[], warc=path.read_bytes()) as httpd:
        httpd.index = "\n".join(json.dumps(r) for r in rows).encode()
        httpd.timemap = (
            '<https://pacsto.org/events/a>; rel="original",\n'
            f'<{httpd.url}/timemap/link/https://pacsto.org/events/a>; rel="self"; type="application/link-format",\n'
            f'<{httpd.url}/wb/20160301100000/https://pacsto.org/events/a>; rel="first memento"; '
            'datetime="Tue, 01 Mar 2016 10:00:00 GMT",\n'
            f'<{httpd.url}/wb/20190601100000/https://pacsto.org/events/a>; rel="last memento"; '
            'datetime="Sat, 01 Jun 2019 10:00:00 GMT"\n'
        )
        yield httpd


def test_a_common_crawl_layout_index_is_backfilled_by_range_requests(server, tmp_path: Path) -> None:
    api = server.url + "/CC-MAIN-2016-10-index"
    captures = list(bf.list_captures(Client(), api, "pacsto.org/*", records=True))
    assert [(c.original, c.filename) for c in captures][0] == ("https://pacsto.org/events/a", "crawl-data/cc.warc.gz")
    with Archive(tmp_path / "archive.db") as archive:
        result = bf.backfill(archive, Client(), server.url + "/", captures)
        assert result.errors == [] and sum(y.fetched for y in result.years) == 3
        rows = archive.query("SELECT url, observed_at, page_type, origin FROM snapshots ORDER BY observed_at, url")
        assert sorted((r["url"], r["observed_at"], r["page_type"]) for r in rows) == [
            ("https://pacsto.org/events", "2016-03-01T10:00:01Z", "listing"),
            ("https://pacsto.org/events/a", "2016-03-01T10:00:00Z", "article"),
            ("https://pacsto.org/events/a", "2019-06-01T10:00:00Z", "article"),
        ]
        assert {r["page_type"] for r in rows} == {"listing", "article"}
        assert all(r["origin"].startswith(f"{server.url}/crawl-data/cc.warc.gz@") for r in rows)
        ranges = [rng for path, rng in server.log if path == "/crawl-data/cc.warc.gz"]
        assert len(ranges) == 3 and all(rng.startswith("bytes=") for rng in ranges)
        client = Client()
        bf.backfill(archive, client, server.url + "/", captures)
        assert client.requests == 0


def test_a_memento_timemap_is_backfilled_with_original_bytes(server, tmp_path: Path) -> None:
    captures = bf.timemap_captures(Client(), server.url + "/timemap/link/", "https://pacsto.org/events/a")
    assert [(c.timestamp, c.memento) for c in captures] == [
        ("20160301100000", f"{server.url}/wb/20160301100000id_/https://pacsto.org/events/a"),
        ("20190601100000", f"{server.url}/wb/20190601100000id_/https://pacsto.org/events/a"),
    ]
    with Archive(tmp_path / "archive.db") as archive:
        result = bf.backfill(archive, Client(), "", captures)
        assert result.errors == [] and sum(y.fetched for y in result.years) == 2
        rows = archive.query("SELECT observed_at, source, page_type FROM snapshots ORDER BY observed_at")
        assert [(r["observed_at"], r["source"], r["page_type"]) for r in rows] == [
            ("2016-03-01T10:00:00Z", "backfill", "article"),
            ("2019-06-01T10:00:00Z", "backfill", "article"),
        ]


def test_link_format_is_parsed_with_quoted_and_bare_parameters() -> None:
    links = history.parse_link_format('<http://a/1>; rel="first memento"; datetime="x, y",\n<http://a/2>;rel=memento')
    assert links == [("http://a/1", {"rel": "first memento", "datetime": "x, y"}), ("http://a/2", {"rel": "memento"})]
