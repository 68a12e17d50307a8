"""One longest URL (``dedupe.document.MAX_URL_CHARS``) for what the archive stores and what its Datasette pages take:
a URL an import accepted can be looked up in the calendar of captures and is drawn as a link (the calendar refused
a stored URL over 4,000 characters, while JSON Lines stored them up to 8,192)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from urllib.parse import quote

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
