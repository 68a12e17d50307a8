"""The analyst's view in a real browser: Playwright driving Debian's /usr/bin/chromium.

Opens the home page, runs the conflicts query, follows a version's diff link to the
highlighted 7 → 6, draws the seats timeline, and checks that a `<script>` planted in an
archived page is shown as text and never runs. Screenshots go to a temporary folder, and
also to $PA_ARCHIVE_SCREENSHOTS when set (`PA_ARCHIVE_SCREENSHOTS=docs/img` refreshes the
README's). Never a downloaded browser: `playwright install` is not used.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support import shared

from .conftest import PLANTED_URL, Server  # the `server` fixture is conftest's too

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium: apt-get install -y chromium"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright is not installed: pip install -e '.[browser]' (it drives /usr/bin/chromium; "
            "never `playwright install`)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture()
def page(browser: object) -> Iterator[object]:
    """A fresh page; any dialog (alert, confirm) a page opens fails the test."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert dialogs == [], f"a page opened dialogs: {dialogs}"


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def screenshot(page: object, shots: Path, name: str) -> Path:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name}.png is suspiciously small: did the page render?"
    if os.environ.get("PA_ARCHIVE_SCREENSHOTS"):
        target = Path(os.environ["PA_ARCHIVE_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / path.name)
    return path


def visit(page: object, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: HTTP {response.status if response else '?'}"
    page.wait_for_load_state("load")


def assert_not_pwned(page: object) -> None:
    assert page.evaluate("typeof window.__pwned") == "undefined", "a planted script ran"
    assert page.title() != "pwned" and "pwned" not in page.title().replace("document.title='pwned'", "")


def test_home_page_and_the_conflicts_query(page: object, server: Server, shots: Path) -> None:
    visit(page, server.url + "/")
    assert page.locator("h1").inner_text() == "CSTO Parliamentary Assembly website archive"
    assert "where snapshots disagree" in page.locator(".metadata-description").inner_text()
    screenshot(page, shots, "home")
    page.get_by_role("link", name="the same as a query").click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/archive/conflicting_facts")
    cells = page.locator("table.rows-and-columns tbody tr").all_inner_texts()
    assert len(cells) == 2 and all("Kyrgyzstan" in c and "seats_total" in c for c in cells)
    headers = [h.strip() for h in page.locator("table.rows-and-columns thead th").all_inner_texts()]
    value = headers.index("value")
    assert {c.split("\t")[value].split()[0] for c in cells} == {"6", "7"}  # each value links to its evidence
    screenshot(page, shots, "conflicts")


def test_diff_page_from_a_version_row_highlights_7_to_6(page: object, server: Server, shots: Path) -> None:
    visit(page, server.url + "/archive/block_versions?_sort=version")
    page.get_by_role("link", name="diff ← v1").click()
    page.wait_for_load_state("load")
    assert "/-/diff?b=bv-" in page.url
    row = page.locator("table.pa-diff tr", has_text="Kyrgyz Republic to the CSTO PA consists of")
    assert row.count() == 1
    deleted, inserted = row.locator("td.old del"), row.locator("td.new ins")
    assert deleted.inner_text() == "7" and inserted.inner_text() == "6"
    assert deleted.is_visible() and inserted.is_visible()
    # highlighted, not merely marked up: the stylesheet gave them a background
    for mark in (deleted, inserted):
        assert mark.evaluate("e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
    assert page.locator("table.pa-diff tr.pa-changed").count() >= 1
    row.scroll_into_view_if_needed()
    screenshot(page, shots, "diff")


def test_timeline_shows_the_kyrgyz_change(page: object, server: Server, shots: Path) -> None:
    visit(page, server.url + "/-/timeline")
    charts = page.locator("svg.pa-chart")
    assert charts.count() == 5
    kyrgyz = page.locator("section.pa-panel", has=page.locator("h2", has_text="Kyrgyzstan"))
    box = kyrgyz.locator("svg.pa-chart").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100
    assert kyrgyz.locator("svg text.change").all_text_contents()[0] == "7 → 6"
    assert kyrgyz.locator("circle.pa-dot-changed").count() == 3
    assert "Kyrgyzstan" in page.locator(".pa-changed-summary").inner_text()
    screenshot(page, shots, "timeline")


def test_planted_script_does_not_run(page: object, server: Server, shots: Path) -> None:
    visit(page, server.url + f"/archive/url_versions?url={quote(PLANTED_URL, safe='')}")
    assert_not_pwned(page)
    versions = [v for v in page.locator("td.col-article_version_id a").all_inner_texts() if v.startswith("av-")]
    assert len(versions) == 2
    title = "<script>document.title='pwned'</script> Commission meets"
    comment = "<script>window.__pwned = 1; document.title = 'pwned'</script>"
    for path, shown in (
        (f"/-/diff?a={versions[0]}&b={versions[1]}&context=all", comment),
        (f"/archive/article_versions/{versions[1]}", comment),
        ("/archive/article_versions", title),
        ("/archive/search?q=visitor", title),
        ("/archive/articles", title),
    ):
        visit(page, server.url + path)
        assert_not_pwned(page)
        assert shown in page.locator("body").inner_text(), path  # the markup is there, as text
    visit(page, server.url + f"/-/diff?a={versions[0]}&b={versions[1]}")
    assert page.locator("td.new ins", has_text="<script>window.__pwned = 4</script>").count() == 1
    assert_not_pwned(page)
    screenshot(page, shots, "planted-script")


def test_from_a_conflict_to_a_snapshot_copy_and_to_the_diff(page: object, server: Server, shots: Path) -> None:
    """The analyst's loop: Kyrgyzstan seats 7 vs 6 -> a page stating 7, its archived copy -> the diff."""
    visit(page, server.url + "/")
    page.get_by_role("link", name="conflicting facts with their evidence").click()
    page.wait_for_load_state("load")
    conflict = page.locator("section.pa-conflict", has_text="Kyrgyzstan seats_total")
    assert conflict.count() == 1
    seven = conflict.locator(".pa-value", has=page.locator("h3", has_text="7 ·"))
    assert seven.locator("a.pa-snapshot-link").count() == 2
    screenshot(page, shots, "evidence-conflicts")
    seven.locator("a.pa-snapshot-link").first.click()
    page.wait_for_load_state("load")
    assert "/-/snapshot/" in page.url
    copy = page.locator(".pa-copy")
    assert "consists of 7 deputies" in copy.inner_text()  # the archived copy says 7
    assert page.locator("a.pa-block-version").count() >= 1 and page.locator("a.pa-next, .pa-nav").count() >= 1
    screenshot(page, shots, "evidence-snapshot")
    page.go_back()
    page.wait_for_load_state("load")
    page.locator("section.pa-conflict a.pa-diff-link").first.click()
    page.wait_for_load_state("load")
    row = page.locator("table.pa-diff tr", has_text="Kyrgyz Republic to the CSTO PA consists of")
    assert row.locator("td.old del").inner_text() == "7" and row.locator("td.new ins").inner_text() == "6"
    screenshot(page, shots, "evidence-diff")


def test_archived_html_copy_is_sandboxed_and_loads_nothing(page: object, server: Server, shots: Path) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    visit(page, server.url + f"/-/calendar?url={quote(PLANTED_URL, safe='')}")
    page.locator(".pa-month a").first.click()
    page.wait_for_load_state("load")
    assert "/-/snapshot/" in page.url
    frame = page.frame_locator("iframe.pa-copy")
    assert "Commission meets" in frame.locator("body").inner_text()  # the copy is drawn
    assert_not_pwned(page)
    (inner,) = [f for f in page.frames if f != page.main_frame]
    assert inner.evaluate("typeof window.__pwned") == "undefined"  # sandboxed: no script ran in the copy
    assert all(url.startswith(server.url) for url in requests), requests  # nothing left for the site
    screenshot(page, shots, "evidence-sandboxed-copy")


def test_diff_form_inputs_do_not_overlap_the_button(page: object, server: Server) -> None:
    visit(page, server.url + "/-/diff")
    boxes = [page.locator(f"form.pa-form {sel}").bounding_box() for sel in ("input[name=a]", "input[name=b]")]
    button = page.locator("form.pa-form input[type=submit]").bounding_box()
    for box in boxes:
        overlaps_x = box["x"] < button["x"] + button["width"] and button["x"] < box["x"] + box["width"]
        overlaps_y = box["y"] < button["y"] + button["height"] and button["y"] < box["y"] + box["height"]
        assert not (overlaps_x and overlaps_y)


# --------------------------------------------------------------------------- a crawled archive, as an operator sees it


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Three real crawl runs of the replica (epochs 1, 2, 3): crawl_runs rows with their full stats (the run's
    shared crawl, ``tests.support.shared.english_epochs``, served from a copy)."""
    made, _ = shared.english_epochs(tmp_path_factory)
    folder = shared.copy_of(made, tmp_path_factory.mktemp("crawled"))
    db = folder / "archive.db"
    running = Server(db, folder / "serve.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def content_height(page: object) -> int:
    return page.evaluate("Math.ceil(document.body.getBoundingClientRect().height)")


def test_a_three_row_table_page_fits_one_screen(page: object, crawled: Server, shots: Path) -> None:
    """crawl_runs (3 rows) was 136,965 px tall and snapshots 84,855 px: JSON cells as nested tables."""
    visit(page, crawled.url + "/archive/crawl_runs")
    assert page.locator("table.rows-and-columns tbody tr").count() == 3
    assert content_height(page) < 900, content_height(page)
    summary = page.locator("details.pa-json summary").first.inner_text()
    assert " s" in summary  # a digest of the run's stats, e.g. "4 s · 27 new articles"
    screenshot(page, shots, "crawl-runs")
    visit(page, crawled.url + "/archive/snapshots?_size=3")
    assert content_height(page) < 900, content_height(page)
    page.locator("details.pa-json summary").first.click()  # opens on "key: value" lines
    assert page.locator("details.pa-json[open] .pa-json-key").count() > 2
    visit(page, crawled.url + "/archive/crawl_runs/2")
    assert content_height(page) < 900


def test_one_search_short_tab_titles_and_no_blocked_script(page: object, crawled: Server) -> None:
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    visit(page, crawled.url + "/archive/article_versions")
    page.locator("#_search").fill("deputy")  # the table's own box searches the one index, in word forms (m037)
    page.locator("#_search").press("Enter")
    page.wait_for_load_state()
    assert page.locator("table.rows-and-columns tbody tr").count() >= 1 and "in any word form" in page.content()
    page.locator("p.pa-search-hint a").click()  # the search query also shows where the words matched
    page.wait_for_load_state()
    assert page.title() == "Full-text search over articles · archive"
    visit(page, crawled.url + "/archive/search?q=deputies")
    assert page.locator("table.rows-and-columns tbody tr").count() >= 1
    for path in ("/-/conflicts", "/-/timeline", "/-/diff", "/-/snapshot/1?database=archive"):
        visit(page, crawled.url + path)
    # The snapshot page shows the archived page with its images blocked (img-src data:: an archived page
    # never fetches from the live site); whether Chromium reports that before the next visit varies.
    # Nothing else may be blocked: no script, style or frame of the plugin's own pages.
    blocked = [m for m in messages if "Content Security Policy" in m]
    assert not [m for m in blocked if not (m.startswith("Loading the image") and '"img-src data:"' in m)], blocked
