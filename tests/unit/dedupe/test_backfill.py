"""The CDX client: both JSON dialects, resume keys, replay addresses, politeness, resuming; and timemaps.

The server is a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (port 0), stopped by its fixture.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from dedupe.webarchive import backfill as bf
from dedupe.webarchive.memento import link_format, mementos
from dedupe.webarchive.polite_http import Client
from tests.support.loopback import QuietHandler, loopback_server
from tests.warcs import page

BLOCK = ["Delegation of Kyrgyzstan consists of 7 deputies.", "Plenipotentiary representative: Dastan Bekeshev"]
PAGES = {
    "20160301100000": page("Session in Minsk", ["The Council met in Minsk and adopted the budget."], BLOCK),
    "20190601100000": page("Session in Minsk", ["The Council met in Minsk and adopted the budget."], BLOCK[:1] + ["x"]),
}
HEADER = ["timestamp", "original", "mimetype", "statuscode", "digest"]
ROWS = [
    ["20160301100000", "https://pacsto.org/events/a", "text/html", "200", "D1"],
    ["20170101000000", "https://pacsto.org/events/a", "text/html", "200", "D1"],  # same digest: collapsed
    ["20180101000000", "https://pacsto.org/logo.png", "image/png", "200", "P1"],
    ["20190601100000", "https://pacsto.org/events/a", "text/html", "200", "D2"],
]


class _Handler(QuietHandler):
    def do_GET(self) -> None:
        server = self.server
        server.log.append(self.path)
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        if server.fail_next:
            server.fail_next -= 1
            self._send(503 if server.fail_next % 2 else 429, b"busy", [("Retry-After", "0")])
        elif parts.path == "/cdx/search/cdx":  # the Wayback Machine: pages of 2 with resume keys
            start = int(query.get("resumeKey", "0"))
            table = [HEADER, *ROWS[start : start + 2]]
            if start + 2 < len(ROWS):
                table += [[], [str(start + 2)]]
            self._send(200, json.dumps(table).encode())
        elif parts.path.startswith("/web/"):
            timestamp = parts.path.split("/")[2][:14]
            self._send(
                200,
                PAGES[timestamp],
                [
                    ("Content-Type", "text/html; charset=utf-8"),
                    ("X-Archive-Orig-Etag", '"e1"'),
                    ("X-Archive-Orig-Set-Cookie", "s=1"),
                    ("Memento-Datetime", "Tue, 01 Mar 2016 10:00:00 GMT"),
                ],
            )
        else:
            self._send(404, b"")


@pytest.fixture
def wayback() -> Iterator[ThreadingHTTPServer]:
    with loopback_server(_Handler, log=[], fail_next=0) as server:
        yield server


def test_replay_addresses_follow_the_cdx_api() -> None:
    assert bf.replay_prefix_for("https://web.archive.org/cdx/search/cdx") == "https://web.archive.org/web"
    assert bf.replay_prefix_for("http://127.0.0.1:8080/my-coll/cdx") == "http://127.0.0.1:8080/my-coll"
    with pytest.raises(ValueError):
        bf.replay_prefix_for("http://127.0.0.1:8080/search")
    capture = bf.Capture("20160301100000", "https://pacsto.org/events")
    assert (
        bf.replay_url("https://web.archive.org/web", capture)
        == "https://web.archive.org/web/20160301100000id_/https://pacsto.org/events"
    )
    assert (bf.default_delay("https://web.archive.org/cdx/search/cdx"), bf.default_delay("http://127.0.0.1/c/cdx")) == (
        1.0,
        0.0,
    )


def test_both_json_dialects_are_parsed() -> None:
    rows, key = bf.parse_cdx(json.dumps([HEADER, ROWS[0], [], ["abc"]]).encode())
    assert (rows, key) == ([dict(zip(HEADER, ROWS[0]))], "abc")
    pywb = b'{"timestamp": "20160301100000", "url": "https://pacsto.org/", "mime": "text/html", "status": "200"}\n'
    rows, key = bf.parse_cdx(pywb)
    assert (rows[0]["original"], rows[0]["mimetype"], rows[0]["statuscode"], key) == (
        "https://pacsto.org/",
        "text/html",
        "200",
        None,
    )
    assert bf.parse_cdx(b"") == ([], None)


def test_captures_follow_resume_keys_and_collapse_repeated_digests(wayback) -> None:
    client = Client()
    found = list(bf.list_captures(client, wayback.url + "/cdx/search/cdx", "pacsto.org/*", since="2016", until="2019"))
    assert [(c.timestamp, c.digest) for c in found] == [
        ("20160301100000", "D1"),
        ("20180101000000", "P1"),
        ("20190601100000", "D2"),
    ]
    queries = [dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(p).query)) for p in wayback.log]
    assert [q.get("resumeKey") for q in queries] == [None, "2"]
    assert {(q["output"], q["filter"], q["collapse"], q["from"], q["to"], q["showResumeKey"]) for q in queries} == {
        ("json", "statuscode:200", "digest", "2016", "2019", "true")
    }


def test_retries_back_off_on_429_and_5xx_and_keep_the_delay(wayback) -> None:
    pauses: list[float] = []
    now = [1000.0]  # a clock that only the pauses move: the figures do not depend on the machine's load

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    client = Client(delay=0.5, retries=3, backoff=2.0, sleep=sleep, clock=lambda: now[0])
    wayback.fail_next = 2
    status, _, body, _ = client.get(wayback.url + "/cdx/search/cdx?url=x")
    assert status == 200 and client.requests == 3
    assert [round(p, 1) for p in pauses] == [0.0, 0.5, 0.0, 0.5]  # Retry-After: 0, then the delay before each request
    wayback.fail_next = 10
    with pytest.raises(OSError, match="HTTP 503"):
        Client(retries=2, sleep=lambda _: None).get(wayback.url + "/cdx/search/cdx?url=x")


def test_backfill_stores_dated_captures_once_and_skips_what_is_archived(wayback, tmp_path: Path) -> None:
    api = wayback.url + "/cdx/search/cdx"
    with Archive(tmp_path / "archive.db") as archive:
        captures = list(bf.list_captures(Client(), api, "pacsto.org/*"))
        assert [(y.year, y.captures, y.not_html) for y in bf.plan(captures, set()).values()] == [
            ("2016", 1, 0),
            ("2018", 1, 1),
            ("2019", 1, 0),
        ]
        ticks: list[int] = []
        result = bf.backfill(archive, Client(), bf.replay_prefix_for(api), captures, progress=ticks.append)
        assert [(y.year, y.fetched, y.new_contents) for y in result.years] == [
            ("2016", 1, 1),
            ("2018", 0, 0),
            ("2019", 1, 1),
        ]
        assert sum(ticks) == 3 and result.errors == []
        rows = archive.query("SELECT url, observed_at, source, origin, headers FROM snapshots ORDER BY observed_at")
        assert [(r["observed_at"], r["source"]) for r in rows] == [
            ("2016-03-01T10:00:00Z", "backfill"),
            ("2019-06-01T10:00:00Z", "backfill"),
        ]
        assert rows[0]["origin"] == f"{wayback.url}/web/20160301100000id_/https://pacsto.org/events/a"
        # names as the capture spelled them (X-Archive-Orig-Etag: Etag), looked up in any case
        assert json.loads(rows[0]["headers"]) == {"Etag": '"e1"', "content-type": "text/html; charset=utf-8"}
        client = Client()
        again = bf.backfill(archive, client, bf.replay_prefix_for(api), captures)
        assert [(y.archived_before, y.fetched) for y in again.years] == [
            (1, 0),
            (0, 0),
            (1, 0),
        ] and client.requests == 0


def test_timemap_in_link_format(tmp_path: Path) -> None:
    url = "https://pacsto.org/events/a"
    with Archive(tmp_path / "archive.db") as archive:
        archive.ingest(
            [
                RawSnapshot(url, "2016-03-01T10:00:00Z", PAGES["20160301100000"], http_status=200),
                RawSnapshot(url, "2019-06-01T10:00:00Z", None, http_status=304),
                RawSnapshot(url, "2020-01-01T00:00:00Z", None, http_status=404),
            ]
        )
        rows = mementos(archive, url, "http://127.0.0.1:8001", "archive")
        only = mementos(archive, url, "", "", replay_prefix="http://127.0.0.1:8080/c")[:1]
    assert [r["status"] for r in rows] == ["new", "not_modified"]  # the removal is no memento
    assert link_format(url, rows, self_uri="http://x/timemap").splitlines() == [
        f'<{url}>; rel="original",',
        '<http://x/timemap>; rel="self"; type="application/link-format"; from="Tue, 01 Mar 2016 10:00:00 GMT"; '
        'until="Sat, 01 Jun 2019 10:00:00 GMT",',
        f'<http://127.0.0.1:8001/-/snapshot/{rows[0]["snapshot_id"]}?database=archive>; rel="first memento"; '
        'datetime="Tue, 01 Mar 2016 10:00:00 GMT",',
        f'<http://127.0.0.1:8001/-/snapshot/{rows[1]["snapshot_id"]}?database=archive>; rel="last memento"; '
        'datetime="Sat, 01 Jun 2019 10:00:00 GMT"',
    ]
    assert link_format(url, only).splitlines()[1] == (
        f'<http://127.0.0.1:8080/c/20160301100000/{url}>; rel="first last memento"; '
        'datetime="Tue, 01 Mar 2016 10:00:00 GMT"'
    )


class ScriptedCdx:
    """A client whose CDX answers are given in advance (one a request), recording the queries."""

    def __init__(self, *answers: object) -> None:
        self.answers, self.queries = list(answers), []

    def get(self, url: str, cap: int | None = None) -> tuple[int, dict, bytes, str]:
        self.queries.append(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)))
        return 200, {}, json.dumps(self.answers.pop(0) if self.answers else []).encode(), url


def test_a_server_naming_its_fields_otherwise_is_asked_for_all_of_them() -> None:
    own_names = [["ts", "uri"], ["20170101000000", "https://pacsto.org/events/a"]]
    rows = [
        ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest"],
        ["k", "20170101000000", "https://pacsto.org/events/a", "text/html", "200", "D1"],
        ["k", "20170102000000", "https://pacsto.org/events/b", "text/html", "404", "D2"],  # not a 200
        ["k", "2017", "https://pacsto.org/events/c", "text/html", "-", "D3"],  # a year: dated 2017-01-01
        ["k", "someday", "https://pacsto.org/events/d", "text/html", "200", "D4"],  # no usable time
        ["k", "20170103000000", "https://example.org/events/e", "text/html", "200", "D5"],  # not asked for
    ]
    client = ScriptedCdx(own_names, rows)
    captures = list(bf.list_captures(client, "http://127.0.0.1:9/cdx/search/cdx", "pacsto.org/*"))
    assert [c.original for c in captures] == ["https://pacsto.org/events/a", "https://pacsto.org/events/c"]
    assert "fl" in client.queries[0] and "fl" not in client.queries[1]


def test_a_cdx_server_that_never_ends_is_refused_after_max_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bf, "MAX_PAGES", 3)
    page = [["timestamp", "original"], ["20170101000000", "https://pacsto.org/events/a"], [], ["more"]]
    client = ScriptedCdx(page, page, page, page)
    with pytest.raises(bf.BackfillError, match="more than 3 pages"):
        list(bf.list_captures(client, "http://127.0.0.1:9/cdx/search/cdx", "pacsto.org/*"))
    assert [q.get("resumeKey") for q in client.queries] == [None, "more", "more"]
