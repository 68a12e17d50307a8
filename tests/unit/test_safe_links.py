"""One rule of a safe link for the plugin's pages (``pages.web_href``) and its Atom feed (``metadata.web_links_only``,
whose SQL calls it as ``pa_feed_link``): on a table of hostile URLs the feed keeps exactly the links the pages draw.
The feed's SQL GLOB of its own took ``https:///path``, a host never closed, a no-break space, a NUL and any length."""

from __future__ import annotations

import sqlite3

import pytest

from datasette_pa_archive.metadata import web_links_only
from datasette_pa_archive.pages import web_href
from dedupe.document import MAX_URL_CHARS

FALLBACK = "/-/calendar"
LINKED = [
    "https://pacsto.org/en/",
    "HTTP://PACSTO.ORG/X",
    "hTtPs://paodkb.org/ru/events?page=2&year=2024",
    "http://127.0.0.1:8000/events/a",
    "https://[::1]:8443/x",
    "https://pacsto.org/" + "a" * (MAX_URL_CHARS - len("https://pacsto.org/")),
]
NOT_LINKED = [
    "javascript:alert(document.cookie)",
    "JaVaScRiPt:alert(1)//https://pacsto.org/",
    "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "ftp://pacsto.org/a",
    " http://pacsto.org/",
    "http://pacsto.org/ ",
    "\thttps://pacsto.org/",
    "https://pacsto.org/\njavascript:alert(1)",
    "https://pacsto.org/a b",
    "https://pacsto.org/\x00javascript:alert(1)",
    "https://pacsto.org/\x7f",
    "https://pacsto.org/\u00a0x",
    "https://pacsto.org/\u2028x",
    "//evil.example/",
    "http:",
    "http://",
    "https:///path",
    "http://:80/",
    "https://[www.pacsto.org/x",
    "https://pacsto.org/" + "a" * MAX_URL_CHARS,
    "",
    "/events/a",
]


def feed_links(urls: list[object]) -> list[str]:
    """Each URL as the feed's SQL (``web_links_only``) leaves it, on a connection the plugin prepared."""
    from datasette.app import Datasette

    from datasette_pa_archive import prepare_connection

    conn = sqlite3.connect(":memory:")
    prepare_connection(conn, Datasette())
    rows = " UNION ALL ".join(
        f"SELECT 'id{i}' AS atom_id, 't' AS atom_title, '2025-01-01T00:00:{i:02d}Z' AS atom_updated, "
        f"'c' AS atom_content, :u{i} AS atom_link"
        for i in range(len(urls))
    )
    found = conn.execute(web_links_only(rows, FALLBACK), {f"u{i}": url for i, url in enumerate(urls)})
    got = {atom_id: atom_link for atom_id, _title, _updated, _content, atom_link in found}
    return [got[f"id{i}"] for i in range(len(urls))]


def test_the_feed_links_exactly_what_the_pages_link() -> None:
    urls: list[object] = [*LINKED, *NOT_LINKED, None]
    assert [web_href(url) for url in LINKED] == LINKED
    assert [web_href(url) for url in [*NOT_LINKED, None]] == [None] * (len(NOT_LINKED) + 1)
    assert feed_links(urls) == [web_href(url) or FALLBACK for url in urls]


@pytest.mark.parametrize(
    ("own", "kept"),
    [("/-/diff?b=bv-0123abcd", True), ("/-/conflicts", True), ("/-/roster?delegation=a b", False), ("/-/\x00", False)],
)
def test_the_plugins_own_pages_are_linked_without_spaces_or_control_characters(own: str, kept: bool) -> None:
    assert feed_links([own]) == [own if kept else FALLBACK]
