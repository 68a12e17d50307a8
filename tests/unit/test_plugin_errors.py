"""How the Datasette plugin's pages and their .json answer a request's errors, table-driven over its routes.

A parameter the page cannot read (a date that is not one, an id that is not a number, a value it does not take,
one longer than any it takes) or a missing one: 400; a well-formed request for what the archive does not hold:
404; a sentence naming the parameter, the value echoed cut short and escaped on the HTML page; the .json in
Datasette's own JSON error shape with the HTML page's status; never a 500. And every page over an archive with
nothing in it: 200 and a sentence saying so. Datasette runs in this process (no port), over two small archives.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from tests.replica_corpus import country_snapshots

SEEDS = Path(__file__).resolve().parents[2] / "dedupe" / "seeds"
LONG = "x" * 30_000
SCRIPT = "<script>alert(1)</script>"
JSON_ERROR_KEYS = {"ok", "error", "status", "title"}  # datasette.handle_exception's JSON


@pytest.fixture(scope="module")
def archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``empty``: a fresh archive, nothing imported; ``full``: the seeds (Kyrgyzstan's seats 7 -> 6, a conflict)
    a day apart, and Belarus's country pages on both sites (rosters); ``old``: an archive without the roster
    tables, as one of an older version opened read-only looks."""
    folder = tmp_path_factory.mktemp("plugin-errors")
    empty, full, old = folder / "empty.db", folder / "full.db", folder / "old.db"
    Archive(empty).close()
    shutil.copy(empty, full)
    shutil.copy(empty, old)
    seeds = [
        RawSnapshot(f"file:///seeds/{path.name}", f"2025-10-{day:02d}T09:00:00Z", path.read_bytes())
        for day, path in enumerate(sorted(SEEDS.glob("*.txt")), start=1)
    ]
    belarus = [s for s in country_snapshots() if "republic-of-belarus" in s.url]
    with Archive(full) as archive:
        archive.ingest(sorted(seeds + belarus, key=lambda s: s.observed_at), workers=1)
    from dedupe.schema import ROSTER_TABLES

    conn = sqlite3.connect(old)
    for table in ROSTER_TABLES:
        conn.execute(f"DROP TABLE [{table}]")
    conn.commit()
    conn.close()
    return {"empty": empty, "full": full, "old": old}


def fetch(db: Path, *paths: str) -> list[httpx.Response]:
    from datasette.app import Datasette

    from datasette_pa_archive.serving import register_plugin

    register_plugin()
    datasette = Datasette([str(db)], settings={"sql_time_limit_ms": 10_000})

    async def run() -> list[httpx.Response]:
        return [await datasette.client.get(path) for path in paths]

    return asyncio.run(run())


def q(value: str) -> str:
    return quote(value, safe="")


def assert_json_error(response: httpx.Response, status: int, path: str) -> str:
    """The body is Datasette's JSON error with this status; its sentence."""
    assert response.headers["content-type"].startswith("application/json"), path
    body = response.json()
    assert set(body) == JSON_ERROR_KEYS and body["ok"] is False and body["status"] == status, (path, body)
    assert isinstance(body["error"], str) and body["error"].endswith("."), (path, body)
    return body["error"]


# (route, query, status, what the sentence says): each route with a .json is asked both ways
BOTH = [
    ("/-/conflicts", "delegation=Narnia", 404, "No delegation called 'Narnia' in this archive"),
    ("/-/conflicts", "delegation=" + LONG, 400, "delegation is too long"),
    ("/-/conflicts", "database=nope", 404, "There is no database called 'nope'"),
    ("/-/timeline", "delegation=Narnia", 404, "No delegation called 'Narnia' stating seat counts"),
    ("/-/timeline", "delegation=" + LONG, 400, "delegation is too long: 30,000 characters, at most 200"),
    ("/-/timeline", "database=nope", 404, "There is no database called 'nope'"),
    ("/-/timeline", "database=" + LONG, 400, "database is too long"),
    ("/-/roster", "delegation=Narnia", 404, "No delegation called 'Narnia' in this archive: the delegations are"),
    ("/-/roster", "delegation=" + LONG, 400, "delegation is too long"),
    ("/-/roster", "as_of=yesterday", 400, "as_of 'yesterday' is not a date from 1991-01-01 to tomorrow"),
    ("/-/roster", "as_of=2024-13-45", 400, "as_of '2024-13-45' is not a date"),
    ("/-/roster", "as_of=1990-01-01", 400, "as_of '1990-01-01' is not a date from 1991-01-01"),
    ("/-/roster", "delegation=Belarus&as_of=" + LONG, 400, "as_of is too long"),
    ("/-/roster", "database=nope", 404, "There is no database called 'nope'"),
    ("/-/parity", "as_of=yesterday", 400, "as_of 'yesterday' is not a date"),
    ("/-/parity", "as_of=" + LONG, 400, "as_of is too long"),
    ("/-/parity", "all=maybe", 400, "all 'maybe' is not one of the values it takes: 1 (agreeing fields too)"),
    ("/-/parity", "database=nope", 404, "There is no database called 'nope'"),
    ("/-/diff", "a=s1", 400, "Give b"),
    ("/-/diff", "b=zz", 400, "b 'zz' is not a version id"),
    ("/-/diff", "a=bv-zzzz&b=s2", 400, "a 'bv-zzzz' is not a block version id: bv- and 4 to 64 hexadecimal"),
    ("/-/diff", "b=" + "9" * 20, 400, "b '99999999999999999999' is not a version id"),
    ("/-/diff", "b=" + LONG, 400, "b is too long: 30,000 characters, at most 8,192"),
    ("/-/diff", "b=s2&context=bogus", 400, "context 'bogus' is not one of the values it takes: all"),
    ("/-/diff", "b=s99999", 404, "b: there is no snapshot 99999"),
    ("/-/diff", "a=bv-0000&b=s2", 404, "a: there is no block version bv-0000"),
    ("/-/diff", "b=s2&database=nope", 404, "There is no database called 'nope'"),
]

# pages without a .json: (path, status, what the sentence says)
HTML_ONLY = [
    ("/-/snapshot/999999", 404, "There is no snapshot 999999 in this archive."),
    ("/-/snapshot/abc", 400, "The snapshot id &#39;abc&#39; is not a number"),
    ("/-/snapshot/1234567890123", 400, "is not a number: give 1 to 12 digits"),
    ("/-/snapshot/", 400, "Give a snapshot id"),
    ("/-/snapshot", 400, "Give a snapshot id"),
    ("/-/snapshot/1?database=nope", 404, "There is no database called &#39;nope&#39;"),
    ("/-/calendar?url=https%3A%2F%2Fnowhere.example%2F", 404, "The archive has no capture of &#39;https://nowhere"),
    ("/-/calendar?url=" + LONG, 400, "url is too long: 30,000 characters, at most 8,192"),
    ("/-/calendar?database=nope", 404, "There is no database called &#39;nope&#39;"),
    ("/nope/snapshots/1", 404, "There is no database called &#39;nope&#39;"),
]


def test_each_error_has_the_same_status_as_html_and_as_json_and_says_which_parameter(archives) -> None:
    paths = [f"{route}{suffix}?{query}" for route, query, _, _ in BOTH for suffix in ("", ".json")]
    responses = dict(zip(paths, fetch(archives["full"], *paths)))
    for route, query, status, said in BOTH:
        page, data = responses[f"{route}?{query}"], responses[f"{route}.json?{query}"]
        shown = f"{route}?{query[:60]}"
        assert page.status_code == status and data.status_code == status, (shown, page.status_code, data.status_code)
        assert said in assert_json_error(data, status, shown), (shown, data.json())
        assert said.replace("'", "&#39;") in page.text, (shown, page.text[-3000:])
        assert "Traceback" not in page.text and page.headers["content-type"].startswith("text/html"), shown


def test_pages_without_json_answer_errors_with_their_status_and_a_sentence(archives) -> None:
    for (path, status, said), page in zip(HTML_ONLY, fetch(archives["full"], *(p for p, _, _ in HTML_ONLY))):
        assert page.status_code == status and said in page.text, (path[:60], page.status_code, page.text[-2000:])


def test_a_request_for_a_json_the_page_has_not_is_a_json_404_that_says_where_the_data_is(archives) -> None:
    (response,) = fetch(archives["full"], "/-/snapshot/1.json")
    assert "/full/snapshots.json?id=1" in assert_json_error(response, 404, "/-/snapshot/1.json")


def test_long_values_are_echoed_cut_short(archives) -> None:
    """A 30 KB value comes back as at most ECHO_CHARS of it, on the page as in the JSON."""
    from datasette_pa_archive.errors import ECHO_CHARS

    long_unknown = "y" * 150  # under the length limits: echoed in a 404's sentence
    paths = [f"{route}{suffix}?{query}" for route, query, _, _ in BOTH if LONG in query for suffix in ("", ".json")]
    paths += [p for p, _, _ in HTML_ONLY if LONG in p]
    paths += [f"/-/snapshot/{'z' * 5000}", f"/-/calendar?url={'y' * 3000}", f"/-/roster.json?delegation={long_unknown}"]
    for path, response in zip(paths, fetch(archives["full"], *paths)):
        assert response.status_code in (400, 404), path[:60]
        assert "x" * (ECHO_CHARS + 1) not in response.text and "z" * (ECHO_CHARS + 1) not in response.text, path[:60]
        assert len(response.text) < 20_000, path[:60]
        field = 'name="url" value="' + "y" * 3000 + '"'  # a value within the limits stays whole in the form's field
        assert (field in response.text) == ("calendar?url=y" in path), path[:60]
        assert "y" * (ECHO_CHARS + 1) not in response.text.replace(field, ""), path[:60]


ESCAPED = [
    f"/-/timeline?delegation={q(SCRIPT)}",
    f"/-/conflicts?delegation={q(SCRIPT)}",
    f"/-/roster?delegation={q(SCRIPT)}",
    f"/-/roster?as_of={q(SCRIPT)}",
    f"/-/parity?all={q(SCRIPT)}",
    f"/-/diff?b={q(SCRIPT)}",
    f"/-/diff?b=s2&context={q(SCRIPT)}",
    f"/-/calendar?url={q(SCRIPT)}",
    f"/-/timeline?database={q(SCRIPT)}",
    f"/-/snapshot/{q('<script>alert(1)')}",
]


def test_echoed_values_are_escaped_on_the_pages(archives) -> None:
    for path, page in zip(ESCAPED, fetch(archives["full"], *ESCAPED)):
        assert page.status_code in (400, 404) and "<script>alert" not in page.text, path
        assert "&lt;script&gt;alert(1)" in page.text, path


ROUTES = {  # each route of register_routes and the parameters it reads
    "/-/timeline": ("delegation", "database"),
    "/-/timeline.json": ("delegation", "database"),
    "/-/diff": ("a", "b", "context", "database"),
    "/-/diff.json": ("a", "b", "context", "database"),
    "/-/conflicts": ("delegation", "database"),
    "/-/conflicts.json": ("delegation", "database"),
    "/-/snapshot/2": ("database",),
    "/-/calendar": ("url", "database"),
    "/-/roster": ("delegation", "as_of", "database"),
    "/-/roster.json": ("delegation", "as_of", "database"),
    "/-/parity": ("as_of", "all", "database"),
    "/-/parity.json": ("as_of", "all", "database"),
}
HOSTILE = ["", "%00", "%ff%fe", "-1", "9" * 40, "%0A", q("' OR 1=1 --"), q("../../etc/passwd")]


def test_no_value_of_any_parameter_of_any_route_is_a_500(archives) -> None:
    """Hostile values for every parameter of every route: an answer (200, 400 or 404), never a server error;
    every error of a .json in Datasette's JSON error shape, with a sentence."""
    paths = [f"{route}?{name}={value}" for route, names in ROUTES.items() for name in names for value in HOSTILE]
    paths += [f"/-/snapshot/{value}" for value in HOSTILE if "/" not in value]
    for db in (archives["full"], archives["empty"]):
        for path, response in zip(paths, fetch(db, *paths)):
            assert response.status_code in (200, 302, 400, 404), (db.name, path, response.status_code)
            if response.status_code >= 400 and path.split("?")[0].endswith(".json"):
                assert_json_error(response, response.status_code, path)
            assert "Traceback" not in response.text, path


EMPTY_STATES = [  # every page over an archive with nothing imported: 200, and what it says
    ("/-/timeline", "No seat counts in this archive yet"),
    ("/-/diff", "The archive holds no delegation block variant yet"),
    ("/-/conflicts", "No conflicting facts in this archive."),
    ("/-/calendar", "The archive holds no capture yet"),
    ("/-/roster", "The archive holds no country page listing a delegation's members yet"),
    ("/-/parity", "neither site states a delegation's seats, plenipotentiary or members: nothing to compare yet"),
    ("/-/parity?all=1", "nothing to compare yet"),
]


def test_every_page_of_an_empty_archive_says_it_is_empty(archives) -> None:
    paths = [p for p, _ in EMPTY_STATES] + ["/-/timeline.json", "/-/roster.json", "/-/parity.json"]
    responses = fetch(archives["empty"], *paths)
    for (path, said), page in zip(EMPTY_STATES, responses):
        assert page.status_code == 200 and said in page.text, (path, page.status_code, page.text[-2000:])
    timeline, roster, parity = (r.json() for r in responses[len(EMPTY_STATES) :])
    assert timeline == {"snapshots": 0, "delegations": []} and parity == []
    assert roster["delegations"] == [] and roster["rosters"] == [] and roster["changes"] == []


def test_an_empty_archive_has_no_delegation_nor_snapshot(archives) -> None:
    paths = ["/-/roster.json?delegation=Belarus", "/-/timeline.json?delegation=Belarus", "/-/diff.json?b=s1"]
    for path, response in zip(paths, fetch(archives["empty"], *paths)):
        error = assert_json_error(response, 404, path)
        assert "it has none yet" in error or "there is no snapshot 1" in error, (path, error)
    (page,) = fetch(archives["empty"], "/-/snapshot/1")
    assert page.status_code == 404 and "There is no snapshot 1 in this archive." in page.text


def test_an_archive_without_rosters_is_a_404_that_says_how_to_update_it(archives) -> None:
    for path in ("/-/roster", "/-/parity"):
        page, data = fetch(archives["old"], path, path + ".json")
        assert page.status_code == 404 and "made by an older version" in page.text, path
        assert "made by an older version" in assert_json_error(data, 404, path + ".json")


def test_well_formed_requests_still_answer(archives) -> None:
    """The checks refuse no value the pages take: any case, a day or a time, all=1, context=all."""
    paths = [
        "/-/timeline.json?delegation=kyrgyzstan",
        "/-/roster.json?delegation=belarus&as_of=2024-02-15",
        "/-/roster?delegation=Belarus&as_of=2024-02-15T10:00:00Z",
        "/-/parity.json?as_of=2024-03-15",
        "/-/parity?all=1",
        "/-/parity?all=0",
        "/-/diff?a=s1&b=s2&context=all",
        "/-/conflicts?delegation=KYRGYZSTAN",
        "/-/snapshot/1",
        "/-/calendar?url=file%3A%2F%2F%2Fseeds%2F000_d3c53b123cbc5ee3.txt",
    ]
    for path, response in zip(paths, fetch(archives["full"], *paths)):
        assert response.status_code == 200, (path, response.status_code, response.text[-1500:])
    timeline, roster = fetch(archives["full"], paths[0], paths[1])
    assert [d["delegation"] for d in timeline.json()["delegations"]] == ["Kyrgyzstan"]
    assert {r["delegation"] for r in roster.json()["rosters"]} == {"Belarus"}


def test_with_cors_the_plugins_json_and_errors_carry_datasettes_cors_headers_once(archives: dict[str, Path]) -> None:
    """``datasette --cors``: another origin (a notebook, a newsroom's page) reads the plugin's JSON and its errors
    as it reads Datasette's own; without --cors none of them carries the headers."""
    from datasette.app import Datasette

    from datasette_pa_archive.serving import register_plugin

    register_plugin()
    paths = (
        "/-/timeline.json",  # the plugin's data
        "/-/parity.json?as_of=yesterday",  # the plugin's own error (400)
        "/-/snapshot/abc",  # an error raised to the plugin's handle_exception (400)
        "/full/snapshots.json?_size=1",  # Datasette's own: one header, not two
    )

    def get(cors: bool) -> list[httpx.Response]:
        datasette = Datasette([str(archives["full"])], settings={"sql_time_limit_ms": 10_000}, cors=cors)

        async def run() -> list[httpx.Response]:
            return [await datasette.client.get(path) for path in paths]

        return asyncio.run(run())

    for path, response in zip(paths, get(cors=True)):
        assert response.headers.get_list("access-control-allow-origin") == ["*"], (path, response.headers)
        assert response.status_code in (200, 400), (path, response.status_code)
    for path, response in zip(paths, get(cors=False)):
        assert "access-control-allow-origin" not in response.headers, path


def test_a_first_version_is_shown_whole_not_as_an_error(archives: dict[str, Path]) -> None:
    """The links the archive's tables, search, feeds and the diff page's own list give to a first version
    (``/-/diff?b=<v1>``) show it whole against nothing, every line added: the page answered 404 'is the first
    version' before, a dead end for every first variant of a block."""
    first = sqlite3.connect(archives["full"]).execute("SELECT id FROM block_versions WHERE version = 1").fetchone()[0]
    page, data, snapshot = fetch(archives["full"], f"/-/diff?b={first}", f"/-/diff.json?b={first}", "/-/diff.json?b=s1")
    assert page.status_code == 200, page.text[:300]
    assert "A: nothing before it" in page.text and "First version:" in page.text and "swap A and B" not in page.text
    assert "<ins>" in page.text or 'class="pa-inserted"' in page.text
    assert data.status_code == 200 and data.json()["first_version"] is True and data.json()["a"] is None
    assert data.json()["b"] == first and all(c["old"] is None for c in data.json()["changes"])
    assert snapshot.status_code == 200 and snapshot.json()["first_version"] is True  # the first snapshot too


def test_the_conflicts_page_has_its_json(archives: dict[str, Path]) -> None:
    """``/-/conflicts.json`` answered Datasette's 'Database not found' (404): the page's data with its links."""
    data, one, page = fetch(
        archives["full"], "/-/conflicts.json", "/-/conflicts.json?delegation=kyrgyzstan", "/-/conflicts"
    )
    assert data.status_code == 200 and data.json()["conflicts"], data.text[:300]
    kyrgyz = one.json()
    assert kyrgyz["delegation"] == "Kyrgyzstan" and {c["delegation"] for c in kyrgyz["conflicts"]} == {"Kyrgyzstan"}
    values = {v["value"] for c in kyrgyz["conflicts"] if c["field"] == "seats_total" for v in c["values"]}
    assert values == {"6", "7"}
    assert all(
        s["href"].startswith("/-/snapshot/")
        for c in kyrgyz["conflicts"]
        for v in c["values"]
        for s in v["snapshot_rows"]
    )
    assert "/-/conflicts.json" in page.text  # the page links its JSON


def test_chambers_and_fields_read_as_words_on_the_roster_and_parity_pages(archives: dict[str, Path]) -> None:
    """'supreme_council' and 'seats.house_of_representatives' were shown as stored; the stored name stays the
    cell's title (what SQL and the JSON use)."""
    from datasette_pa_archive.pages import field_label

    assert field_label("seats.house_of_representatives") == "seats: House of Representatives"
    assert field_label("council_of_the_republic") == "Council of the Republic"
    assert field_label("seats_total") == "seats (total)" and field_label("members") == "members"
    assert field_label("website.state_duma") == "website: State Duma" and field_label(None) == ""
    (roster,) = fetch(archives["full"], "/-/roster?delegation=Belarus")
    assert roster.status_code == 200 and ">House of Representatives</td>" in roster.text
    assert 'title="house_of_representatives"' in roster.text


def test_a_roster_as_of_a_moment_shows_what_was_observed_by_then_and_nothing_after(archives: dict[str, Path]) -> None:
    """Belarus's roster changes on the Russian site on 2024-02-01 and on the English one on 2024-03-01: as of
    2024-02-15 the first change is shown and the second is not, nor its new member. (An as-of before every roster
    could not tell a cut by time from an archive without rosters: ``as_of=1995`` said no country page was observed
    by then, then listed who joined in 2024.)"""
    now, then, page, early = fetch(
        archives["full"],
        "/-/roster.json?delegation=Belarus",
        "/-/roster.json?delegation=Belarus&as_of=2024-02-15",
        "/-/roster?delegation=Belarus&as_of=2024-02-15",
        "/-/roster.json?delegation=Belarus&as_of=1995",
    )

    def changes(response: httpx.Response) -> set[tuple[str, str, str]]:
        return {(c["language"], c["kind"], c["old_value"] or c["new_value"]) for c in response.json()["changes"]}

    earlier = {("ru", "left", "Воробьёв Александр"), ("ru", "joined", "Морозов Олег")}
    later = {("en", "left", "Alexander Vorobyov"), ("en", "joined", "Oleg Morozov")}
    assert changes(now) == earlier | later  # the archive holds both
    assert then.status_code == 200 and changes(then) == earlier
    members = {r["language"]: {m["name"] for m in r["members"]} for r in then.json()["rosters"]}
    assert "Alexander Vorobyov" in members["en"] and "Oleg Morozov" not in members["en"]
    assert "Морозов Олег" in members["ru"] and "Воробьёв Александр" not in members["ru"]
    left = {(m["language"], m["name"], m["left"][:10]) for m in then.json()["memberships"]}
    assert left == {("ru", "Воробьёв Александр", "2024-02-01")}  # the English one left later
    assert page.status_code == 200 and "Морозов Олег" in page.text and "Oleg Morozov" not in page.text
    assert early.json()["rosters"] == early.json()["changes"] == early.json()["memberships"] == []


def test_the_parity_pages_sources_are_links_to_their_evidence(archives: dict[str, Path]) -> None:
    """Each side's sources (block variants, roster versions, the page) were plain text: a dead end for evidence."""
    import re

    (page,) = fetch(archives["full"], "/-/parity?all=1")
    sources = " ".join(re.findall(r'<span class="pa-source">.*?</span>', page.text, re.S))
    hrefs = {h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', sources)}
    assert any("/full/roster_versions/rv-" in h for h in hrefs) and any("/-/calendar?url=" in h for h in hrefs)
    assert all(r.status_code == 200 for r in fetch(archives["full"], *sorted(hrefs)[:12])), sorted(hrefs)[:12]


def test_one_delegations_rosters_under_two_addresses_say_which_is_which(
    archives: dict[str, Path], tmp_path: Path
) -> None:
    """The same site crawled under two addresses gave two 'Belarus (en)' sections, unlabelled."""
    import dataclasses

    db = tmp_path / "two.db"
    shutil.copy(archives["full"], db)
    english = [s for s in country_snapshots() if "republic-of-belarus" in s.url and "pacsto.org" in s.url]
    mirrored = [
        dataclasses.replace(
            s, url=s.url.replace("pacsto.org", "mirror.pacsto.example"), observed_at="2025-11-01T09:00:00Z"
        )
        for s in english[-1:]
    ]
    with Archive(db) as archive:
        archive.ingest(mirrored, workers=1)
    (page,) = fetch(db, "/-/roster?delegation=Belarus")
    assert page.status_code == 200
    assert "Belarus (en, mirror.pacsto.example)" in page.text and "Belarus (en, pacsto.org)" in page.text
    assert "Belarus (ru):" in page.text  # one Russian roster: no address needed


def test_the_feed_of_an_archive_with_nothing_changed_yet_is_a_feed(archives: dict[str, Path]) -> None:
    """datasette-atom takes the feed's time from its newest entry: a new archive's feed was a 500 for the reader who
    subscribed to it before anything had changed. It is a feed with one entry saying so; an archive with changes
    does not show that entry."""
    from datasette.app import Datasette

    from datasette_pa_archive import metadata
    from datasette_pa_archive.serving import register_plugin

    register_plugin()

    def feed(db: Path) -> httpx.Response:
        datasette = Datasette([str(db)], metadata=metadata.metadata(db.stem, metadata.archive_tables(db)))
        return asyncio.run(datasette.client.get(f"/{db.stem}/fact_changes.atom"))

    empty, full = feed(archives["empty"]), feed(archives["full"])
    assert empty.status_code == 200 and "<feed" in empty.text, empty.text[-2000:]
    assert empty.text.count("<entry>") == 1 and "No change recorded yet" in empty.text
    assert full.status_code == 200 and full.text.count("<entry>") > 1 and "No change recorded yet" not in full.text
