"""`pa-archive serve` as an analyst meets it: Datasette on 127.0.0.1 over an archive of the seeds.

The archive is built the way a user builds one: `pa-archive import` of the bundled seeds
(their files dated one day apart) and of a JSON Lines file with hostile pages (a `<script>`
quoted in the text and in the title), then one recorded crawl run that changes a page and
finds another removed. The server runs in a subprocess and is always stopped.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from click.testing import CliRunner

from dedupe import datasette_metadata, schema
from dedupe.archive import Archive
from dedupe.diff import changed_line_pairs, word_ops
from dedupe.document import RawSnapshot

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SEEDS = ROOT / "dedupe" / "seeds"

PLANTED_URL = "https://pacsto.org/en/news/planted-script"
REMOVED_URL = "https://pacsto.org/en/news/youth-session"
SCRIPT = "<script>window.__pwned = 1; document.title = 'pwned'</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'
TITLE = "<script>document.title='pwned'</script> Commission meets"
PARAGRAPHS = [
    "The Standing Commission of the CSTO Parliamentary Assembly on defence and security met in Minsk to discuss "
    "the harmonisation of national legislation on the protection of critical infrastructure.",
    "Participants reviewed draft model laws on information security, on countering the financing of terrorism "
    "and on the status of allied forces deployed on the territory of member states.",
    f"A visitor comment quoted in the report read: {SCRIPT} and also {IMG} which the archive must show as text.",
    "The commission agreed to submit the drafts to the plenary session of the Assembly in November and to hold "
    "the next meeting in Dushanbe.",
]
EDITED = PARAGRAPHS[:2] + [
    PARAGRAPHS[2] + " <script>window.__pwned = 4</script>",
    PARAGRAPHS[3].replace("November", "December").replace("Dushanbe", "Bishkek"),
]
REMOVED = [
    "Young deputies from six countries gathered in Astana for the annual session of the youth interparliamentary "
    "assembly and elected a new chair.",
    "They discussed education exchanges, volunteering programmes and a joint statement on digital literacy to be "
    "presented to the Council of the Assembly.",
    "The next session will take place in Yerevan in the spring.",
]


def hostile_page(title: str, paragraphs: list[str], date: str) -> str:
    """An article page whose text quotes markup, with real scripts around it (the extractor drops those)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (f"<html><head><title>{html.escape(title)}</title><script>window.__pwned = 3</script></head><body>"
            f"<article><h1>{html.escape(title)}</h1><p class='date'>{date}</p>{body}</article>"
            f"<script>document.title = 'pwned'</script></body></html>")


def build_archive(folder: Path) -> Path:
    """Seeds dated a day apart + hostile pages via `pa-archive import`, then one crawl run (changed + removed)."""
    seeds = folder / "seeds"
    seeds.mkdir(parents=True)
    for day, seed in enumerate(sorted(SEEDS.glob("*.txt")), start=1):
        target = seeds / seed.name
        shutil.copyfile(seed, target)
        moment = datetime(2025, 10, day, 9, 0, tzinfo=timezone.utc).timestamp()
        os.utime(target, (moment, moment))
    planted = folder / "planted.jsonl"
    planted.write_text("\n".join(json.dumps(record) for record in [
        {"url": PLANTED_URL, "observed_at": "2025-10-06T10:00:00Z", "html": hostile_page(TITLE, PARAGRAPHS, "2025-10-06")},
        {"url": REMOVED_URL, "observed_at": "2025-10-06T11:00:00Z",
         "html": hostile_page("Youth parliament session in Astana", REMOVED, "2025-09-30")},
    ]) + "\n", encoding="utf-8")
    db = folder / "archive.db"
    subprocess.run([str(BIN / "pa-archive"), "import", str(seeds), str(planted), "--db", str(db)],
                   check=True, capture_output=True, timeout=120)
    with Archive(db) as archive:  # what a crawl run records (see dedupe.schema's CRAWL_RUN_* SQL)
        with archive.db.atomic():
            run = archive.db.execute(schema.CRAWL_RUN_INSERT_SQL, {
                "started_at": "2025-10-07T08:00:00Z", "start_urls": '["https://pacsto.org/en/"]',
                "resumed_from": None, "jobdir": None, "pid": None}).lastrowid
        origin = f"crawl:{run}"
        archive.ingest([
            RawSnapshot(url=PLANTED_URL, observed_at="2025-10-07T08:01:00Z", source="crawl", origin=origin,
                        http_status=200, page_type="article",
                        body=hostile_page(TITLE, EDITED, "2025-10-06").encode()),
            RawSnapshot(url=REMOVED_URL, observed_at="2025-10-07T08:02:00Z", source="crawl", origin=origin,
                        http_status=404, page_type="article", body=None),
        ])
        with archive.db.atomic():
            archive.db.execute(schema.CRAWL_RUN_FINISH_SQL, {
                "id": run, "finished_at": "2025-10-07T08:05:00Z", "status": "finished", "pages_fetched": 2,
                "new": 0, "changed": 1, "unchanged": 0, "removed": 1, "failed": 0, "errors": "[]", "stats": "{}"})
    return db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(db: Path, port: int) -> list[str]:
    """`pa-archive serve` once cli.py registers it; until then the same command through its module."""
    from cli import cli

    args = ["--db", str(db), "--host", "127.0.0.1", "--port", str(port)]
    if "serve" in cli.commands:
        return [str(BIN / "pa-archive"), "serve", *args]
    return [sys.executable, "-m", "dedupe.serve", *args]


class Server:
    """`pa-archive serve` in a subprocess on a free port of 127.0.0.1."""

    def __init__(self, db: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(serve_command(db, self.port), stdout=self._log_file, stderr=subprocess.STDOUT,
                                        cwd=db.parent)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pa-archive serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/-/versions.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"pa-archive serve did not answer within {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log_file.close()


@pytest.fixture(scope="module")
def served_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(tmp_path_factory.mktemp("datasette"))


@pytest.fixture(scope="module")
def server(served_archive: Path) -> Iterator[Server]:
    running = Server(served_archive, served_archive.parent / "serve.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def get(server: Server, path: str, status: int = 200) -> httpx.Response:
    response = httpx.get(server.url + path, timeout=30)
    assert response.status_code == status, f"{path}: HTTP {response.status_code}\n{response.text[:2000]}"
    return response


def rows(server: Server, path: str) -> list[dict]:
    """A canned query's or table's rows through the JSON API."""
    name, _, query = path.partition("?")
    return get(server, f"/archive/{name}.json?{query + '&' if query else ''}_shape=array").json()


def conflict_pair(server: Server) -> tuple[str, str]:
    """The block variants between which Kyrgyzstan's seats went 7 → 6."""
    (change,) = [r for r in rows(server, "block_changes") if r["detail"] == "Kyrgyzstan seats_total: 7 → 6"]
    return change["previous_version_id"], change["block_version_id"]


def planted_versions(server: Server) -> list[dict]:
    return rows(server, f"url_versions?url={quote(PLANTED_URL, safe='')}")


# --- the command -----------------------------------------------------------------------


def test_serve_is_a_pa_archive_command() -> None:
    from cli import cli

    assert "serve" in cli.commands, "cli.py must register it: from dedupe.serve import serve; cli.add_command(serve)"


def test_serve_refuses_what_is_not_an_archive(tmp_path: Path) -> None:
    from dedupe.serve import serve

    result = CliRunner().invoke(serve, ["--db", str(tmp_path / "nothing.db")])
    assert result.exit_code == 1 and "does not exist" in result.output
    sqlite3.connect(tmp_path / "other.db").execute("CREATE TABLE t (x)").connection.close()
    result = CliRunner().invoke(serve, ["--db", str(tmp_path / "other.db")])
    assert result.exit_code == 1 and "not a pa-archive archive" in result.output


def test_print_metadata_is_fitted_to_the_archive(served_archive: Path) -> None:
    from dedupe.serve import datasette_argv, serve

    archive = served_archive
    result = CliRunner().invoke(serve, ["--db", str(archive), "--print-metadata"])
    assert result.exit_code == 0, result.output
    assert "\n  archive:\n" in result.output and "last_run_changes:" in result.output
    argv = datasette_argv(archive, "m.json", "127.0.0.1", 8123, ["--setting", "sql_time_limit_ms", "5000"])
    assert argv[:2] == ["serve", str(archive)] and "--immutable" not in argv and "-i" not in argv
    assert argv[-3:] == ["--setting", "sql_time_limit_ms", "5000"]


def test_shipped_metadata_is_generated_from_the_sql_constants() -> None:
    shipped = datasette_metadata.SHIPPED.read_text(encoding="utf-8")
    assert shipped == datasette_metadata.to_yaml(datasette_metadata.metadata()), \
        "regenerate: python -m dedupe.datasette_metadata > dedupe/metadata.yml"
    queries = datasette_metadata.metadata()["databases"]["archive"]["queries"]
    assert queries["conflicting_facts"]["sql"] == schema.CONFLICTS_SQL.strip()
    assert queries["url_versions"]["sql"] == schema.URL_VERSIONS_SQL.strip()
    assert schema.SEARCH_SQL.strip() in queries["search"]["sql"]


# --- home, descriptions, facets --------------------------------------------------------------


def test_home_page_explains_the_archive(server: Server) -> None:
    page = get(server, "/").text
    assert "CSTO Parliamentary Assembly website archive" in page
    assert "stored here once per distinct version" in page and "where snapshots disagree" in page
    assert 'href="archive/conflicting_facts"' in page and 'href="-/timeline"' in page


def test_every_table_and_column_an_analyst_sees_has_a_description(server: Server) -> None:
    served = get(server, "/-/metadata.json").json()["databases"]["archive"]["tables"]
    database = get(server, "/archive.json").json()
    names = {t["name"] for t in database["tables"] if not t["hidden"]} | {v["name"] for v in database["views"]}
    assert {"snapshots", "articles", "block_versions", "facts", "conflicts", "crawl_runs"} <= names
    undescribed = []
    for name in sorted(names):
        meta = served.get(name, {})
        columns = get(server, f"/archive/{name}.json?_size=0").json()["columns"]
        if not meta.get("description"):
            undescribed.append(name)
        undescribed += [f"{name}.{c}" for c in columns if not meta.get("columns", {}).get(c)]
    assert undescribed == []


def test_facets_for_delegation_field_host_and_run(server: Server) -> None:
    facts = get(server, "/archive/facts.json?_size=0").json()["facet_results"]
    assert {"delegation", "field"} <= set(facts)
    assert "Kyrgyzstan" in [v["value"] for v in facts["delegation"]["results"]]
    snapshots = get(server, "/archive/snapshots.json?_size=0").json()["facet_results"]
    assert {"host", "origin"} <= set(snapshots)
    assert "crawl:1" in [v["value"] for v in snapshots["origin"]["results"]]
    assert "pacsto.org" in [v["value"] for v in snapshots["host"]["results"]]


# --- canned queries --------------------------------------------------------------------


def test_conflicts_returns_the_kyrgyz_seats(server: Server) -> None:
    found = rows(server, "conflicting_facts")
    assert [(r["delegation"], r["field"], r["value"], r["snapshots"]) for r in found] == [
        ("Kyrgyzstan", "seats_total", "6", 3), ("Kyrgyzstan", "seats_total", "7", 2)]
    seven = found[1]
    assert (seven["first_seen"], seven["last_seen"]) == ("2025-10-01T09:00:00Z", "2025-10-03T09:00:00Z")


def test_missing_values_are_not_conflicts(server: Server) -> None:
    found = {(r["delegation"], r["field"]) for r in rows(server, "missing_facts")}
    assert ("Kyrgyzstan", "website.supreme_council") in found
    assert all(field != "seats_total" for _, field in found)


def test_seat_counts_by_snapshot(server: Server) -> None:
    found = rows(server, "seat_counts?delegation=Kyrgyzstan")
    assert [(r["snapshot_id"], r["kind"], r["previous_value"], r["value"]) for r in found] == [
        (1, "first", None, "7"), (2, "change", "7", "6"), (3, "change", "6", "7"), (4, "change", "7", "6"),
        (5, "last", "6", "6")]
    everyone = rows(server, "seat_counts")
    assert len({r["delegation"] for r in everyone}) == 5
    belarus = [(r["kind"], r["snapshot_id"]) for r in everyone if r["delegation"] == "Belarus" and r["field"] == "seats_total"]
    assert belarus == [("first", 1), ("last", 5)]  # unchanged: no rows in between


def test_block_variants_over_time(server: Server) -> None:
    found = rows(server, "block_variants")
    assert [(r["block_id"], r["version"], r["snapshots"]) for r in found] == [(1, 1, 2), (1, 2, 2), (1, 3, 1)]
    assert [r["first_seen"] for r in found] == sorted(r["first_seen"] for r in found)


def test_block_changes_name_the_facts(server: Server) -> None:
    kinds = {(r["kind"], r["detail"]) for r in rows(server, "block_changes")}
    assert ("conflict", "Kyrgyzstan seats_total: 7 → 6") in kinds
    assert any(kind == "reworded" for kind, _ in kinds)


def test_what_changed_in_the_last_crawl_run(server: Server) -> None:
    found = rows(server, "last_run_changes")
    assert [(r["run"], r["url"], r["change"]) for r in found] == [
        ("1", PLANTED_URL, "new article version"), ("1", REMOVED_URL, "page removed")]
    assert rows(server, "last_run_changes?run=1") == found
    assert rows(server, "last_run_changes?run=99") == []


def test_last_run_query_of_an_archive_without_crawl_runs(served_archive: Path) -> None:
    """Before migration m002 the query looks at the last day observed (or since a date)."""
    tables = datasette_metadata.archive_tables(served_archive) - {"crawl_runs"}
    query = datasette_metadata.metadata("archive", tables)["databases"]["archive"]["queries"]["last_run_changes"]
    assert query["params"] == ["since"]
    conn = sqlite3.connect(f"file:{served_archive}?mode=ro", uri=True)
    try:
        last_day = conn.execute(query["sql"], {"since": ""}).fetchall()
        since = conn.execute(query["sql"], {"since": "2025-10-06"}).fetchall()
    finally:
        conn.close()
    assert [r[2] for r in last_day] == [PLANTED_URL, REMOVED_URL]
    assert len(since) == 4  # the two imported pages too


def test_every_version_of_one_url(server: Server) -> None:
    found = planted_versions(server)
    assert [(r["version"], r["status"], r["http_status"]) for r in found] == [(1, "new", None), (2, "new", 200)]
    assert rows(server, "url_versions") == []  # no URL given: nothing, not an error


def test_removed_articles(server: Server) -> None:
    found = rows(server, "removed_articles")
    assert [(r["title"], r["url"]) for r in found] == [("Youth parliament session in Astana", REMOVED_URL)]


def test_full_text_search(server: Server) -> None:
    found = rows(server, "search?q=harmonisation")
    assert sorted(r["version_id"] for r in found) == sorted(r["article_version_id"] for r in planted_versions(server))
    assert "[harmonisation]" in found[0]["snippet"]
    assert rows(server, "search?q=Kyrgyz*")  # FTS5 syntax: prefix
    assert rows(server, "search") == []  # opened without q: no FTS syntax error
    # the table page's own search escapes what is typed
    assert get(server, "/archive/article_versions.json?_search=Bishkek&_shape=array").json()[0]["version"] == 2


def test_every_canned_query_is_checked_here(server: Server) -> None:
    database = get(server, "/archive.json").json()
    names = {q["name"] for q in database["queries"]}
    tables = {t["name"] for t in database["tables"]} | {v["name"] for v in database["views"]}
    assert not names & tables, "a canned query named like a table hides the table"
    checked = {"conflicting_facts", "missing_facts", "seat_counts", "block_variants", "block_changes", "last_run_changes",
               "url_versions", "removed_articles", "search"}
    assert names == checked
    for name in names:  # and each page renders without an SQL error
        assert "message-error" not in get(server, f"/archive/{name}").text, name


# --- diff page -----------------------------------------------------------------------------


def test_diff_page_highlights_the_seats_change(server: Server) -> None:
    a, b = conflict_pair(server)
    page = get(server, f"/-/diff?a={a}&b={b}")
    assert page.headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'")
    text = page.text
    row = next(r for r in text.split("<tr") if "Kyrgyz Republic to the CSTO PA consists of" in r)
    assert "consists of <del>7</del> deputies" in row and "consists of <ins>6</ins> deputies" in row
    assert f"A: {a}" in text and f"B: {b}" in text
    # b alone compares with the version before it
    assert f"A: {a}" in get(server, f"/-/diff?b={b}").text
    # and the rows are the CLI's: changed_line_pairs with word_ops
    texts = {r["id"]: r["text"] for r in rows(server, "block_versions")}
    pairs = changed_line_pairs(texts[a], texts[b])
    assert text.count('<tr class="pa-changed">') == sum(o is not None and n is not None for o, n in pairs)
    assert [op.op for op in word_ops("consists of 7 deputies.", "consists of 6 deputies.")] == [
        "equal", "delete", "insert", "equal"]


def test_diff_json_is_the_cli_json(server: Server, served_archive: Path) -> None:
    a, b = conflict_pair(server)
    served = get(server, f"/-/diff.json?a={a}&b={b}").json()
    cli = subprocess.run([str(BIN / "pa-archive"), "diff", a, b, "--json", "--db", str(served_archive)],
                         check=True, capture_output=True, text=True, timeout=60)
    assert served == json.loads(cli.stdout)


def test_diff_page_errors_are_sentences(server: Server) -> None:
    first, second = (r["version_id"] for r in rows(server, "block_variants")[:2])
    page = get(server, f"/-/diff?b={first}", status=404).text
    assert "is the first version" in page and f"/-/diff?a={first}&amp;b={second}&amp;database=archive" in page
    assert "must be a version id" in get(server, "/-/diff?b=../../etc/passwd", status=404).text
    assert "Which versions?" in get(server, "/-/diff").text


def test_version_rows_link_to_their_diff(server: Server) -> None:
    a, b = conflict_pair(server)
    assert f'href="/-/diff?b={b}&amp;database=archive">diff ← v' in get(server, "/archive/block_versions").text
    assert f'href="/-/diff?a={a}&amp;b={b}&amp;database=archive">diff</a>' in get(server, "/archive/block_line_changes").text
    assert "/-/diff?b=" in get(server, "/archive/article_versions").text
    assert "/-/diff?a=" in get(server, "/archive/block_changes").text


# --- timeline -----------------------------------------------------------------------------


def test_timeline_draws_the_kyrgyz_seats(server: Server) -> None:
    page = get(server, "/-/timeline").text
    assert page.count('<svg class="pa-chart"') == 5 and "Kyrgyzstan" in page
    assert '<text class="change"' in page and "7 → 6" in page
    data = get(server, "/-/timeline.json").json()
    kyrgyz = next(d for d in data["delegations"] if d["delegation"] == "Kyrgyzstan")
    total = next(s for s in kyrgyz["series"] if s["field"] == "seats_total")
    assert [p["value"] for p in total["points"]] == [7, 6, 7, 6, 6]
    assert [(c["field"], c["from"]["value"], c["to"]["value"], c["to"]["snapshot_id"]) for c in kyrgyz["changes"]] == [
        ("seats_total", 7, 6, 2), ("seats_total", 6, 7, 3), ("seats_total", 7, 6, 4)]
    assert data["snapshots"] == 5 and page.count("<text x=") >= 5 * 2 * 5  # y ticks, x ticks (id + date)
    belarus = next(d for d in data["delegations"] if d["delegation"] == "Belarus")
    assert belarus["changes"] == []
    one = get(server, "/-/timeline?delegation=Kyrgyzstan").text
    assert one.count('<svg class="pa-chart"') == 1


# --- hostile pages --------------------------------------------------------------------------


def test_planted_script_is_shown_as_text_everywhere(server: Server) -> None:
    v1, v2 = (r["article_version_id"] for r in planted_versions(server))
    pages = {
        "diff": get(server, f"/-/diff?a={v1}&b={v2}&context=all").text,
        "row": get(server, f"/archive/article_versions/{v2}").text,
        "table": get(server, "/archive/article_versions").text,
        "articles": get(server, "/archive/articles").text,
        "search": get(server, "/archive/search?q=visitor").text,
        "url_versions": get(server, f"/archive/url_versions?url={quote(PLANTED_URL, safe='')}").text,
    }
    for name, page in pages.items():
        assert "window.__pwned" in page or "document.title=" in page, name  # the text is there...
        assert "<script>window.__pwned" not in page and "<script>document.title" not in page, name  # ...never as markup
        assert "<img src=x" not in page, name
    assert "&lt;script&gt;window.__pwned = 4&lt;/script&gt;" in pages["diff"]
    assert "<ins>" in pages["diff"] and "&lt;img src=x onerror=" in pages["diff"]


# --- read-only while a crawl writes ------------------------------------------------------------


def test_datasette_reads_while_a_writer_writes(server: Server, served_archive: Path) -> None:
    """WAL: a writer holding a write transaction does not block Datasette, which sees each commit."""
    assert get(server, "/-/databases.json").json()[0]["is_mutable"] is True  # read-only, not immutable
    writer = sqlite3.connect(served_archive, timeout=5, isolation_level=None)
    try:
        assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO archive_state(key, value) VALUES ('e2e_writer', '1')")
        assert get(server, "/archive/archive_state.json?key=e2e_writer&_shape=array").json() == []
        writer.execute("COMMIT")
        assert get(server, "/archive/archive_state.json?key=e2e_writer&_shape=array").json() == [
            {"key": "e2e_writer", "value": "1"}]
    finally:
        writer.execute("DELETE FROM archive_state WHERE key = 'e2e_writer'")
        writer.close()
