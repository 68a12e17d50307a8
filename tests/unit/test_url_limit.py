"""One longest URL (``dedupe.document.MAX_URL_CHARS``) for what the archive stores and what its Datasette pages take:
a URL an import accepted can be looked up in the calendar of captures and is drawn as a link (the calendar refused
a stored URL over 4,000 characters, while JSON Lines stored them up to 8,192)."""

from __future__ import annotations

import asyncio
import html
import json
import re
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx

from dedupe.archive import Archive
from dedupe.document import MAX_URL_CHARS
from dedupe.sources import read_sources

PAGE = b"<html><head><title>A long address</title></head><body><article><p>Kept.</p></article></body></html>"


def get(db: Path, path: str) -> httpx.Response:
    from datasette.app import Datasette

    from datasette_pa_archive.serving import register_plugin

    register_plugin()
    datasette = Datasette([str(db)], settings={"sql_time_limit_ms": 10_000})
    return asyncio.run(datasette.client.get(path))


def test_a_url_as_long_as_an_import_takes_is_found_by_the_calendar_and_linked(tmp_path: Path) -> None:
    from datasette_pa_archive.pages import web_href

    url = "https://pacsto.org/events/" + "a" * (MAX_URL_CHARS - len("https://pacsto.org/events/"))
    assert len(url) == MAX_URL_CHARS > 4_000
    records = tmp_path / "long.jsonl"
    records.write_text(json.dumps({"url": url, "observed_at": "2025-10-01T09:00:00Z", "html": PAGE.decode()}) + "\n")
    (item,) = list(read_sources([records]))
    assert getattr(item, "url", None) == url, item  # JSON Lines stores it
    db = tmp_path / "a.db"
    with Archive(db) as archive:
        archive.ingest([item], workers=1)
    response = get(db, "/-/calendar?url=" + quote(url, safe=""))
    assert response.status_code == 200, response.text[:300]
    assert "/-/snapshot/1" in response.text and "too long" not in response.text
    assert web_href(url) == url and web_href(url + "a") is None  # drawn as a link up to the same bound
    too_long = get(db, "/-/calendar?url=" + "a" * (MAX_URL_CHARS + 1))
    assert too_long.status_code == 400 and f"at most {MAX_URL_CHARS:,}" in too_long.text


def test_a_long_stored_url_is_a_reference_the_diff_page_takes(tmp_path: Path) -> None:
    """/-/diff took URLs of 2,000 characters only: a stored one of 5,000 was refused as too long."""
    url = "https://pacsto.org/events/" + "b" * (5_000 - len("https://pacsto.org/events/"))
    records = tmp_path / "long.jsonl"
    records.write_text(
        "".join(
            json.dumps({"url": url, "observed_at": when, "html": PAGE.decode().replace("Kept.", said)}) + "\n"
            for when, said in (("2025-10-01T09:00:00Z", "Kept."), ("2025-10-02T09:00:00Z", "Changed."))
        )
    )
    db = tmp_path / "a.db"
    with Archive(db) as archive:
        archive.ingest(list(read_sources([records])), workers=1)
    for page in ("/-/diff", "/-/diff.json"):
        response = get(db, f"{page}?a=s1&b=" + quote(url, safe=""))  # b: the URL's newest snapshot, s2
        assert response.status_code == 200, response.text[:300]
        assert "Changed" in response.text and "too long" not in response.text
    longest = get(db, "/-/diff?a=s1&b=" + quote(url + "b" * (MAX_URL_CHARS - len(url)), safe=""))
    assert longest.status_code == 404 and "nothing in the archive is called" in longest.text  # taken, not found


def serve_in_thread(db: Path) -> tuple[Any, threading.Thread, int]:
    """A real uvicorn (h11, as `pa-archive serve` runs it) serving ``db`` on 127.0.0.1, on a port of its own."""
    import uvicorn
    from datasette.app import Datasette

    from datasette_pa_archive.serving import register_plugin

    register_plugin()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(Datasette([str(db)]).app(), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    return server, thread, sock.getsockname()[1]


def get_in_pieces(port: int, target: str) -> bytes:
    """The status line of a GET whose head arrives in 1,460-byte pieces, as from a browser over a network."""
    head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        try:
            for start in range(0, len(head), 1460):
                conn.sendall(head[start : start + 1460])
                time.sleep(0.002)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        except OSError as exc:  # the server closed the connection on a head it refused
            return repr(exc).encode()
    return answer.split(b"\r\n", 1)[0]


def form_submitted(page: str) -> str:
    """The request a browser makes for the calendar page's form submitted as it is drawn (GET: its fields in order)."""
    form = re.search(r'<form class="pa-form" action="([^"]*)" method="get">(.*?)</form>', page, re.S)
    assert form is not None
    fields = re.findall(r'<input type="(?:hidden|text)" name="([^"]+)" value="([^"]*)"', form.group(2))
    return html.unescape(form.group(1)) + "?" + urlencode([(name, html.unescape(value)) for name, value in fields])


def test_the_calendar_link_of_the_longest_escaped_url_reaches_a_real_server(tmp_path: Path) -> None:
    """A stored URL of 8,192 characters, all of them escaped in a query ('/' is %2F), made a calendar link of 24,600
    characters: uvicorn refuses a head over 16 KiB while it arrives ('Invalid HTTP request received'). Such a link
    names the URL by its id instead, and every link the plugin draws to the calendar stays under MAX_LINK_CHARS."""
    from datasette_pa_archive.pages import MAX_LINK_CHARS

    url = "https://pacsto.org/events/" + "/" * (MAX_URL_CHARS - len("https://pacsto.org/events/"))
    records = tmp_path / "long.jsonl"
    records.write_text(json.dumps({"url": url, "observed_at": "2025-10-01T09:00:00Z", "html": PAGE.decode()}) + "\n")
    db = tmp_path / "a.db"
    with Archive(db) as archive:
        archive.ingest(list(read_sources([records])), workers=1)
    snapshot = get(db, "/-/snapshot/1")
    (link,) = re.findall(r'<a href="([^"]*/-/calendar\?[^"]*)">all captures', snapshot.text)
    link = html.unescape(link)
    index = get(db, "/-/calendar")
    assert [html.unescape(h) for h in re.findall(r'<a href="([^"]*/-/calendar\?[^"]*)">https://', index.text)] == [link]
    assert len(link) <= MAX_LINK_CHARS < len("/-/calendar?url=" + quote(url, safe=""))
    server, thread, port = serve_in_thread(db)
    try:
        assert get_in_pieces(port, link) == b"HTTP/1.1 200 OK"
        captures = httpx.get(f"http://127.0.0.1:{port}{link}", timeout=30)
        assert captures.status_code == 200 and "/-/snapshot/1" in captures.text and "1 capture," in captures.text
        # the form on that page, submitted unchanged as a browser does, names the URL by its id too
        resubmitted = form_submitted(captures.text)
        assert len(resubmitted) <= MAX_LINK_CHARS and get_in_pieces(port, resubmitted) == b"HTTP/1.1 200 OK"
        again = httpx.get(f"http://127.0.0.1:{port}{resubmitted}", timeout=30)
        assert again.status_code == 200 and "/-/snapshot/1" in again.text and "1 capture," in again.text
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    assert not thread.is_alive()
