"""Shared fixtures: the seed snapshots, fresh archives, and seeds rendered as HTML pages."""

from __future__ import annotations

import html
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dedupe.archive import Archive  # noqa: E402

SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
PACKAGE_SEEDS = ROOT / "dedupe" / "seeds"
SEEDS = SHARED_SEEDS if SHARED_SEEDS.is_dir() else PACKAGE_SEEDS
BLOCK_LINES = 12


# A derived table's rows as they must be whatever order the observations arrived in (what the order, batching
# and fault tests compare across archives): the content links name a content by its page id (m023), which
# depends on arrival like a snapshot's id, so they are read by the content's hash.
_DERIVED_ROWS_BY_CONTENT = {
    "content_blocks": "SELECT p.content_sha256, cb.block_version_id FROM content_blocks cb "
    "JOIN pages p ON p.rowid = cb.page_id",
    "content_articles": "SELECT p.content_sha256, ca.article_version_id FROM content_articles ca "
    "JOIN pages p ON p.rowid = ca.page_id",
}


def derived_rows_sql(table: str) -> str:
    """The SELECT of a derived table's rows, contents named by their hash (``schema.DERIVED_TABLES``)."""
    return _DERIVED_ROWS_BY_CONTENT.get(table, f"SELECT * FROM [{table}]")


def derived_tables(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every derived table's rows, sorted, contents by hash: what must not depend on arrival or batching."""
    from dedupe.schema import DERIVED_TABLES

    return {t: sorted(map(tuple, conn.execute(derived_rows_sql(t)).fetchall()), key=repr) for t in DERIVED_TABLES}


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--reliability-runs N``: kills of each kind in tests/reliability (CI 5; the README's figures use 50)."""
    import os

    parser.addoption(
        "--reliability-runs",
        type=int,
        default=int(os.environ.get("PA_RELIABILITY_RUNS", 5)),
        help="kills of each kind in tests/reliability (default 5, or $PA_RELIABILITY_RUNS)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Compile the project's modules once before the workers start (``$PYTHONDONTWRITEBYTECODE`` set).

    Every `pa-archive`, `scrapy crawl` and replica the tests start is a fresh interpreter; with bytecode
    writing off, each one would compile again every project module changed since its ``__pycache__`` was
    last written (about 0.15 CPU-seconds a process). Only the controller compiles (workers have the variable
    too); a module edited later is compiled in memory as before."""
    import os

    if not sys.dont_write_bytecode or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import compileall

    compileall.compile_file(ROOT / "cli.py", quiet=2)
    for package in ("dedupe", "crawler", "replica", "datasette_pa_archive", "bench"):
        compileall.compile_dir(ROOT / package, quiet=2)


def seed_files() -> list[Path]:
    return sorted(SEEDS.glob("*.txt"))


def seed_name(path_or_url: str) -> str:
    """'000' for .../000_d3c53b123cbc5ee3.txt (or a URL ending in it)."""
    return path_or_url.rsplit("/", 1)[-1][:3]


def seed_block(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[:BLOCK_LINES]


def render_html(block: list[str], title: str | None, date: str | None, body: list[str], markup: str = "header") -> str:
    """A page shaped like the site's: nav, the block (header widget or aside), article, footer."""
    esc = html.escape
    block_html = (
        "<div class='member-states'>" + "".join(f"<p>{esc(x)}</p>" for x in block) + "</div>"
        if markup == "header"
        else "<aside class='delegations'><ul>" + "".join(f"<li>{esc(x)}</li>" for x in block) + "</ul></aside>"
    )
    head = f"<h1 class='content__title content__title--h2'>{esc(title)}</h1>" if title else ""
    when = f"<div class='content__date'>{esc(date)}</div>" if date else ""
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>CSTO PA</title></head><body>"
        "<header><nav><ul><li><a href='/'>Home</a></li><li><a href='/events'>Events</a></li>"
        "<li><a href='/countries'>Countries</a></li></ul></nav>"
        + (block_html if markup == "header" else "")
        + "</header>"
        + (block_html if markup != "header" else "")
        + f"<main>{head}{when}<div class='wysiwyg js-wysiwyg'>"
        + "".join(f"<p>{esc(x)}</p>" for x in body)
        + "</div></main><footer><p>© 2013-2026 Parliamentary Assembly of the CSTO</p>"
        "<p>Saint Petersburg, Tavricheskaya 5</p></footer></body></html>"
    )


def seed_as_html(path: Path, markup: str = "header") -> str:
    lines = path.read_text(encoding="utf-8").splitlines()
    block, rest = lines[:BLOCK_LINES], lines[BLOCK_LINES:]
    if len(rest) > 3 and rest[0] == rest[2]:
        return render_html(block, rest[0], rest[1], rest[3:], markup)
    return render_html(block, None, None, rest, markup)


CONTACTS = [
    "Press service of the Parliamentary Assembly of the CSTO",
    "Phone: 8 (812) 326-69-30, fax 8 (812) 326-69-31",
    "Address: 191015 Saint Petersburg, Shpalernaya street 47",
]  # three lines: a block inside the body


def pages_with_contacts() -> list:
    """Three seed articles whose body ends with the same three contact lines (``CONTACTS``): part of the first
    article's text until a second article repeats them, furniture from then on."""
    from dedupe.document import RawSnapshot

    pages = []
    for i, path in enumerate(seed_files()[1:4]):
        contacts = "".join(f"<p>{line}</p>" for line in CONTACTS)
        markup = seed_as_html(path).replace("</div></main>", f"{contacts}</div></main>")
        pages.append(RawSnapshot(f"https://pacsto.org/events/a{i}", f"2024-01-0{i + 1}T00:00:00Z", markup.encode()))
    return pages


@pytest.fixture
def archive(tmp_path: Path):
    arc = Archive(tmp_path / "archive.db")
    yield arc
    arc.close()
