"""The CLI as a user runs it (CliRunner): outputs, JSON interfaces, errors, help."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from tests.conftest import ROOT, SEEDS, seed_files
from tests.support import shared


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "archive.db")
    result = CliRunner().invoke(cli, ["import", str(SEEDS), "--db", path])
    assert result.exit_code == 0, result.output
    return path


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def test_import_reports_counts(tmp_path: Path) -> None:
    result = run("import", str(SEEDS), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 0
    assert "Imported 5 snapshot(s)" in result.output and "+5 article version(s), +3 block version(s)" in result.output


def test_db_defaults_to_env_variable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("PA_ARCHIVE_DB", str(tmp_path / "env.db"))
    assert run("import", str(seed_files()[0])).exit_code == 0
    assert (tmp_path / "env.db").exists()


def test_stats_json_is_the_public_interface(db: str) -> None:
    data = json.loads(run("stats", "--db", db, "--json").output)
    assert {
        k: data[k] for k in ("snapshots", "articles", "article_versions", "blocks", "block_versions", "conflicts")
    } == {"snapshots": 5, "articles": 5, "article_versions": 5, "blocks": 1, "block_versions": 3, "conflicts": 1}


def test_stats_says_how_many_snapshots_are_failed_fetches_or_removed_pages(db: str) -> None:
    from dedupe.archive import Archive
    from tests.support.crawl import ARTICLES, snap

    with Archive(db) as archive:
        archive.add(snap(ARTICLES[0], "2025-10-20T09:00:00Z", status=500, origin="crawl:1"))  # failed: no content
        archive.add(snap(ARTICLES[1], "2025-10-20T09:00:01Z", origin="crawl:1"))
        archive.add(snap(ARTICLES[1], "2025-10-21T09:00:01Z", status=404, origin="crawl:1"))
    data = json.loads(run("stats", "--db", db, "--json").output)
    assert (data["snapshots"], data["failed_fetches"], data["removed_pages"]) == (8, 1, 1)
    text = run("stats", "--db", db).output
    assert "snapshots  8 (of which 1 failed fetch(es), 1 page(s) found removed)" in text
    assert "failed_fetches" not in text


def test_conflicts_json_shape(db: str) -> None:
    data = json.loads(run("conflicts", "--db", db, "--json").output)
    assert len(data) == 1
    record = data[0]
    assert (record["delegation"], record["field"]) == ("Kyrgyzstan", "seats_total")
    assert [(v["value"], v["snapshots"]) for v in record["values"]] == [("6", 3), ("7", 2)]
    assert all(v["first_seen"] <= v["last_seen"] for v in record["values"])


def test_conflicts_text_lists_missing_values_apart(db: str) -> None:
    output = run("conflicts", "--db", db).output
    assert "Kyrgyzstan seats_total" in output
    assert "Missing values" in output and "Kyrgyzstan website.supreme_council (en): empty in 2" in output


def test_blocks_shows_variants_and_named_changes(db: str) -> None:
    output = run("blocks", "--db", db).output
    assert output.count("  v") == 3
    assert "conflict  Kyrgyzstan seats_total" in output and "reworded" in output
    data = json.loads(run("blocks", "--db", db, "--json").output)
    assert sorted(len(v["seen_in"]) for v in data) == [1, 2, 2]


def test_history_of_an_article_by_path_and_by_id(db: str) -> None:
    by_path = run("history", str(seed_files()[1]), "--db", db)
    assert by_path.exit_code == 0 and "Erlan Koshanov" in by_path.output and "v1 av-" in by_path.output
    data = json.loads(run("history", "a1", "--db", db, "--json").output)
    assert data["kind"] == "article" and len(data["versions"]) == 1


def test_history_of_the_block(db: str) -> None:
    data = json.loads(run("history", "b1", "--db", db, "--json").output)
    assert data["kind"] == "block" and [v["version"] for v in data["versions"]] == [1, 2, 3]


def test_diff_of_two_block_versions_highlights_7_to_6(db: str) -> None:
    versions = {v["version_id"]: v for v in json.loads(run("blocks", "--db", db, "--json").output)}
    seven = next(i for i, v in versions.items() if "000_" in " ".join(v["seen_in"]))
    six = next(i for i, v in versions.items() if "001_" in " ".join(v["seen_in"]))
    words = run("diff", seven, six, "--words", "--db", db).output
    assert "[-7-]{+6+}" in words and "Kyrgyz" in words
    unified = run("diff", seven, six, "--db", db).output
    assert "-Delegation of the Supreme Council of the Kyrgyz Republic to the CSTO PA consists of 7 deputies." in unified
    assert "+Delegation of the Supreme Council of the Kyrgyz Republic to the CSTO PA consists of 6 deputies." in unified
    side = run("diff", seven[:8], six[:8], "--side-by-side", "--db", db).output
    assert " | " in side
    data = json.loads(run("diff", seven, six, "--json", "--db", db).output)
    kyrgyz = next(c for c in data["changes"] if "Kyrgyz Republic to the CSTO" in c["old"])
    assert {"op": "delete", "text": "7"} in kyrgyz["words"] and {"op": "insert", "text": "6"} in kyrgyz["words"]
    assert "\x1b[" not in words  # no colour when not a terminal


def test_diff_of_two_snapshots(db: str) -> None:
    result = run("diff", "1", "s2", "--db", db)
    assert result.exit_code == 0 and result.output.startswith("--- snapshot 1")


def test_user_mistakes_are_one_clear_sentence(db: str, tmp_path: Path) -> None:
    missing = run("history", "a99", "--db", db)
    assert missing.exit_code == 1 and "Error: there is no article 99" in missing.output
    unknown = run("diff", "bv-zzz", "1", "--db", db)
    assert unknown.exit_code == 1 and "there is no block version" in unknown.output
    # a typed prefix is a prefix, not a LIKE pattern: 'bv-%' and 'bv-_' matched every block version
    for pattern in ("bv-%", "bv-_", "BV-%"):
        wild = run("diff", pattern, "1", "--db", db)
        assert wild.exit_code == 1 and f"there is no block version {pattern}" in wild.output
    versions = [r[0] for r in sqlite3.connect(db).execute("SELECT id FROM block_versions ORDER BY id")]
    assert len(versions) >= 2 and run("diff", versions[0].upper(), "1", "--db", db).exit_code == 0  # any case
    assert "names more than one block version" in run("diff", "bv-", "1", "--db", db).output  # a prefix of all
    absent = run("stats", "--db", str(tmp_path / "nothing.db"))
    assert absent.exit_code == 1 and "does not exist" in absent.output
    whole = run("diff", "a1", "1", "--db", db)  # an article stands for its latest version, as on the diff page
    assert whole.exit_code == 0 and "--- a1 (av-" in whole.output
    both = run("diff", "a1", "1", "--unified", "--words", "--db", db)
    assert both.exit_code == 2 and "--unified cannot be combined" in both.output


def test_import_exit_status_is_nonzero_when_an_input_failed(tmp_path: Path) -> None:
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    result = CliRunner().invoke(cli, ["import", str(bad), str(seed_files()[0]), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 1
    assert "empty.txt: empty content" in result.output
    assert "Imported 1 snapshot(s)" in result.output


def test_not_an_archive_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello")
    result = run("stats", "--db", str(other))
    assert result.exit_code == 1 and "not a usable SQLite database" in result.output


def test_every_command_has_help_with_an_example_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        result = run(name, "--help")
        assert result.exit_code == 0 and "Example" in result.output, name
        assert f"pa-archive {name}" in readme, f"README does not mention `pa-archive {name}`"


def test_demo_runs_from_any_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder, done = shared.demo(tmp_path_factory)  # `pa-archive demo` run in a folder of its own, once a test run
    assert folder.resolve() != ROOT and (folder / "demo-archive.db").is_file()  # its archive where it ran
    output = done["stdout"] + done["stderr"]
    assert done["returncode"] == 0, output
    assert "Kyrgyzstan seats_total" in output
    assert "[-7-]{+6+}" in output or "[-6-]{+7+}" in output


def test_search_finds_articles_by_text(db: str) -> None:
    rows = json.loads(run("search", "peacekeeping", "--db", db, "--json").output)
    assert len(rows) == 1 and rows[0]["title"] is None and "[peacekeeping]" in rows[0]["snippet"].lower()
    assert "Erlan Koshanov" in run("search", "referendum", "--db", db).output
    bad = run("search", '"unbalanced', "--db", db)
    assert bad.exit_code == 1 and "cannot search" in bad.output


def test_missing_values_name_the_snapshots(db: str) -> None:
    output = run("conflicts", "--db", db).output
    assert "  Kyrgyzstan website.supreme_council (en): empty in 2 snapshot(s)\n" in output
    assert "      at 001_34847c4070c3c854.txt\n         004_b569dc52b8981c01.txt\n" in output


def test_history_by_file_name_is_not_a_pattern(db: str) -> None:
    assert run("history", "%", "--db", db).exit_code == 1
    assert "Erlan Koshanov" in run("history", "001_34847c4070c3c854.txt", "--db", db).output


def test_odd_inputs_are_one_line_each(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"url": "https://pacsto.org/x", "observed_at": 1e20, "text": "Some text here."}\n')
    result = run("import", str(feed), "/dev/null", "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "feed.jsonl:1: observed_at '1e+20' is not a date and time" in result.output
    assert "/dev/null: not a regular file or folder" in result.output


def test_an_unwritable_database_path_is_one_sentence(tmp_path: Path) -> None:
    result = run("import", str(seed_files()[0]), "--db", str(tmp_path / "no" / "such" / "dir" / "a.db"))
    assert result.exit_code == 1 and "Traceback" not in result.output and result.output.startswith("Error:")


def test_check_passes_on_the_seeds_and_fails_with_the_difference_when_a_derived_row_is_wrong(db: str) -> None:
    result = run("check", "--db", db)
    assert result.exit_code == 0 and "equals a full rebuild" in result.output
    import sqlite3

    con = sqlite3.connect(db)
    con.execute("UPDATE block_versions SET snapshots = snapshots + 1 WHERE version = 1")
    con.commit()
    con.close()
    result = run("check", "--db", db, "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["equal"] is False and list(report["differences"]) == ["block_versions"]
    assert run("rebuild", "--db", db).exit_code == 0
    assert run("check", "--db", db).exit_code == 0


def test_reading_commands_do_not_import_the_heavy_libraries(db: str) -> None:
    """`--help`, `stats`, `conflicts` and `runs` start fast: no MinHash, extractor or crawler imported."""
    import subprocess
    import sys

    code = (
        "import sys; from click.testing import CliRunner; from cli import cli; r = CliRunner(); "
        f"[r.invoke(cli, a) for a in (['--help'], ['stats', '--db', {db!r}], ['conflicts', '--db', {db!r}], "
        f"['runs', '--db', {db!r}])]; "
        "print(sorted(m for m in ('datasketch', 'scipy', 'trafilatura', 'scrapy', 'dedupe.minhash') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


# --- the analyst's loop: evidence, facts through time, 80 columns, word forms -----------------------


def dated_seeds(tmp_path: Path) -> str:
    """The seeds imported one month apart (000 in January 2020 ... 004 in May): 7, 6, 7, 6, 6 Kyrgyz seats."""
    path = str(tmp_path / "dated.db")
    for month, seed in enumerate(seed_files(), start=1):
        result = run("import", str(seed), "--db", path, "--observed-at", f"2020-{month:02d}-01")
        assert result.exit_code == 0, result.output
    return path


def test_conflicts_json_values_carry_their_evidence(db: str) -> None:
    record = json.loads(run("conflicts", "--db", db, "--json").output)[0]
    six, seven = record["values"]
    assert [url.rsplit("/", 1)[-1][:3] for url in six["urls"]] == ["001", "003", "004"] and six["urls_total"] == 3
    assert [url.rsplit("/", 1)[-1][:3] for url in seven["urls"]] == ["000", "002"] and seven["urls_total"] == 2
    assert len(six["block_versions"]) == 2 and len(seven["block_versions"]) == 1
    assert not set(six["block_versions"]) & set(seven["block_versions"])
    first = record["changes"][0]
    assert (first["from"], first["to"], first["a"], first["b"]) == (
        "7",
        "6",
        seven["block_versions"][0],
        six["block_versions"][0],
    )


def test_conflicts_text_gives_variants_pages_and_a_ready_diff_in_80_columns(db: str) -> None:
    data = json.loads(run("conflicts", "--db", db, "--json").output)[0]
    output = run("conflicts", "--db", db).output
    change = data["changes"][0]
    assert f"    pa-archive diff {change['a']} {change['b']} --words" in output
    assert f"      in {', '.join(data['values'][0]['block_versions'])}" in output
    assert "      at 001_34847c4070c3c854.txt" in output
    assert max(len(line) for line in output.splitlines()) <= 80
    diff = run("diff", change["a"], change["b"], "--words", "--db", db)
    assert "[-7-]{+6+}" in diff.output


def test_fact_periods_read_a_flip_flop_as_separate_periods(tmp_path: Path) -> None:
    from dedupe.archive import Archive

    with Archive(dated_seeds(tmp_path)) as archive:
        periods = [
            (p["value"], p["first_seen"][:10], p["last_seen"][:10], p["snapshots"])
            for p in archive.fact_periods("kyrgyzstan")
            if p["field"] == "seats_total"
        ]
    assert periods == [
        ("7", "2020-01-01", "2020-01-01", 1),
        ("6", "2020-02-01", "2020-02-01", 1),
        ("7", "2020-03-01", "2020-03-01", 1),
        ("6", "2020-04-01", "2020-05-01", 2),
    ]


def test_facts_as_of_a_date_with_the_site_contradicting_itself(tmp_path: Path) -> None:
    db = dated_seeds(tmp_path)

    def seats(as_of: str) -> dict:
        data = json.loads(run("facts", "--db", db, "--as-of", as_of, "--delegation", "KYRGYZSTAN", "--json").output)
        return next(f for f in data["facts"] if f["field"] == "seats_total")

    january = seats("2020-01-15")
    assert [(v["value"], v["pages"]) for v in january["values"]] == [("7", 1)] and not january["contradiction"]
    february = seats("2020-02-01")  # a date covers its whole day: 001 was seen on it
    assert [(v["value"], v["pages"]) for v in february["values"]] == [("6", 1), ("7", 1)] and february["contradiction"]
    assert [(v["value"], v["pages"]) for v in seats("2021-01-01")["values"]] == [("6", 3), ("7", 2)]
    text = run("facts", "--db", db, "--as-of", "2020-01-15").output
    assert "contradicts itself" not in text
    # one header per delegation, its facts grouped by language, fields and values in aligned columns
    assert text.count("\nKyrgyzstan\n") == 1 and "(en pages)" not in text
    seats_line = next(line for line in text.splitlines() if "seats_total" in line and line.rstrip().endswith(" 7"))
    plenipotentiary = next(line for line in text.splitlines() if "plenipotentiary" in line)
    assert seats_line.index("seats_total") == plenipotentiary.index("plenipotentiary")
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "! the site contradicts itself" in run("facts", "--db", db, "--delegation", "kyrgyzstan").output
    periods = run("facts", "--db", db, "--delegation", "Kyrgyzstan", "--periods").output
    assert "  6                        2020-04-01 00:00 .. 2020-05-01 00:00  s4..s5" in periods
    unknown = run("facts", "--db", db, "--delegation", "Narnia")
    assert unknown.exit_code == 1 and "no delegation is called 'Narnia' (known: Belarus, Kazakhstan" in unknown.output
    bad = run("facts", "--db", db, "--as-of", "yesterday")
    assert bad.exit_code == 2 and "--as-of 'yesterday' is not a date" in bad.output


def test_import_observed_at_dates_every_file(tmp_path: Path) -> None:
    import sqlite3

    db = str(tmp_path / "a.db")
    assert run("import", str(SEEDS), "--db", db, "--observed-at", "2019-06-01T10:00:00+02:00").exit_code == 0
    con = sqlite3.connect(db)
    assert {r[0] for r in con.execute("SELECT observed_at FROM snapshots")} == {"2019-06-01T08:00:00Z"}
    con.close()
    bad = run("import", str(SEEDS), "--db", db, "--observed-at", "soon")
    assert bad.exit_code == 2 and "'soon' is not a date" in bad.output


def test_blocks_shows_one_block_and_distinct_pages(db: str) -> None:
    output = run("blocks", "b1", "--db", db).output
    assert output.startswith("block b1: Delegation of the National Assembly") and output.count("  v") == 3
    assert "     seen on 000_d3c53b123cbc5ee3.txt\n             002_5efd4e484426b60a.txt\n" in output
    assert max(len(line) for line in output.splitlines()) <= 80
    data = json.loads(run("blocks", "--db", db, "--json").output)
    assert [(v["seen_in_total"], v["furniture"]) for v in data] == [(2, False), (2, False), (1, False)]
    missing = run("blocks", "b9", "--db", db)
    assert missing.exit_code == 1 and "there is no block 9" in missing.output


def test_url_lines_cap_the_list_with_a_count() -> None:
    from cli import url_lines

    assert url_lines(["u1", "u2", "u3", "u4", "u5"], 12, "at ") == ["at u1", "   u2", "   u3", "   +9 more"]


def test_side_by_side_wraps_at_80_columns_and_takes_word_marks(db: str) -> None:
    record = json.loads(run("conflicts", "--db", db, "--json").output)[0]
    a, b = record["changes"][0]["a"], record["changes"][0]["b"]
    output = run("diff", a, b, "--side-by-side", "--words", "--db", db).output
    assert max(len(line) for line in output.splitlines()) <= 80
    flat = " ".join(output.split())
    assert "consists of [-7-]" in flat and "consists of {+6+}" in flat
    plain = run("diff", a, b, "--side-by-side", "--db", db).output
    assert "deputies." in plain and "[-7-]" not in plain


def test_an_article_or_block_stands_for_its_latest_version(db: str) -> None:
    versions = json.loads(run("history", "b1", "--db", db, "--json").output)["versions"]
    result = run("diff", versions[0]["version_id"], "b1", "--db", db)
    assert result.exit_code == 0 and f"+++ b1 ({versions[-1]['version_id']})" in result.output
    assert run("diff", "a1", "a1", "--db", db).output.strip() == "(identical)"


def test_similarity_never_reads_one_for_an_edit() -> None:
    from cli import similarity

    assert (similarity(0.9964), similarity(1.0), similarity(0.5)) == ("0.996", "~1, a small edit", "0.500")


def test_history_of_a_url_names_each_snapshots_article_version(tmp_path: Path) -> None:
    from dedupe.archive import Archive

    db = str(tmp_path / "a.db")
    page = tmp_path / "page.txt"
    page.write_text("Just one line, no article here.\n", encoding="utf-8")
    assert run("import", str(page), "--db", db).exit_code == 0
    with Archive(db) as archive:
        rows = archive.query("SELECT article_id, id, version, title FROM article_versions")
    output = run("history", str(page), "--db", db).output
    if rows:  # a lone page is an article: its history is the article's
        assert f"v1 {rows[0]['id']}" in output
    else:
        assert "page.txt" in output and "HTTP -" in output


def test_search_finds_word_forms_and_prefixes(tmp_path: Path) -> None:
    db = str(tmp_path / "ru.db")
    lines = tmp_path / "ru.jsonl"
    text = "Заседание депутатов парламента\n\nДепутаты обсудили работу парламентов и ассамблеи."
    lines.write_text(
        json.dumps({"url": "https://paodkb.org/events/x", "observed_at": "2024-05-01T10:00:00Z", "text": text}) + "\n",
        encoding="utf-8",
    )
    assert run("import", str(lines), "--db", db).exit_code == 0
    for query in ("парламент", "депутат*", "депутаты", "парламентами"):
        found = json.loads(run("search", query, "--db", db, "--json").output)
        assert len(found) == 1, query
    assert "[депутатов]" in json.loads(run("search", "депутат*", "--db", db, "--json").output)[0]["snippet"]
    assert json.loads(run("search", "депутатский", "--db", db, "--json").output) == []


def test_a_runs_own_pages_that_disagree_are_contradictions(db: str) -> None:
    import sqlite3

    from cli import describe_contradictions
    from dedupe.archive import Archive

    con = sqlite3.connect(db)
    con.execute("UPDATE observations SET origin = 'crawl:9'")  # the table behind the snapshots view
    con.commit()
    con.close()
    with Archive(db) as archive:
        found = archive.contradictions("crawl:9")
        assert archive.contradictions("crawl:8") == []
    assert [(c["delegation"], c["field"], [(v["value"], v["pages"]) for v in c["values"]]) for c in found] == [
        ("Kyrgyzstan", "seats_total", [("6", 3), ("7", 2)])
    ]
    assert describe_contradictions(found) == [
        "  the site contradicts itself in this run: Kyrgyzstan seats_total (en)",
        "      6 (3 page(s)) vs 7 (2 page(s))",
    ]


def test_the_stemmed_index_is_filled_for_an_archive_from_before_it(db: str) -> None:
    import sqlite3

    from dedupe.archive import Archive

    con = sqlite3.connect(db)
    con.executescript(
        """DROP TABLE article_versions_stemmed; DROP TRIGGER article_versions_stemmed_ai;
        DROP TRIGGER article_versions_stemmed_ad; DROP TRIGGER article_versions_stemmed_au;
        DELETE FROM _sqlite_migrations WHERE name IN ('m008_stemmed_search', 'm013_stemmed_search_over_a_view');"""
    )
    con.close()
    with Archive(db) as archive:
        assert archive.db.execute("SELECT count(*) FROM article_versions_stemmed").fetchone()[0] == 5
        assert [r["article_id"] for r in archive.search("deputies")] != []
    assert run("check", "--db", db).exit_code == 0


def test_conflicts_without_evidence_give_the_same_values_and_counts(db: str) -> None:
    full = json.loads(run("conflicts", "--db", db, "--json").output)
    lean = json.loads(run("conflicts", "--db", db, "--json", "--no-evidence").output)
    assert (
        [(c["delegation"], [(v["value"], v["snapshots"]) for v in c["values"]]) for c in lean]
        == [(c["delegation"], [(v["value"], v["snapshots"]) for v in c["values"]]) for c in full]
        == [("Kyrgyzstan", [("6", 3), ("7", 2)])]
    )
    assert "urls" not in lean[0]["values"][0] and "urls" in full[0]["values"][0]
    text = run("conflicts", "--db", db, "--no-evidence").output
    assert "Kyrgyzstan seats_total" in text and " at " not in text and "      in" not in text
    assert "empty in 2 snapshot(s)" in text


def test_times_print_to_the_second_only_where_two_would_read_alike() -> None:
    from cli import Clock

    apart = Clock(["2024-05-01T16:14:01Z", "2024-05-01T16:14:09Z", None])
    assert apart("2024-05-01T16:14:01Z") == "2024-05-01 16:14:01"  # was "16:14 .. 16:14"
    minutes = Clock(["2024-05-01T16:14:01Z", "2024-05-01T16:15:09Z", "2024-05-01T16:14:01Z"])
    assert minutes("2024-05-01T16:14:01Z") == "2024-05-01 16:14"


def test_fewer_versions_after_an_import_are_said_as_a_regrouping_not_a_loss() -> None:
    from cli import _version_change

    assert _version_change(5, "article") == "+5 article version(s)"
    assert _version_change(0, "block") == "+0 block version(s)"
    assert (
        _version_change(-1, "article")
        == "1 article version(s) fewer (the new pages regrouped them; no snapshot was lost)"
    )


def test_a_runs_pages_fetched_but_not_stored_are_said_in_its_summary() -> None:
    """A disk that filled mid-crawl: the pages the writer never stored count as failed, and the summary says how
    many of the failed were fetched (the crawler's ``not_stored``), so no one reads them as the site's failures."""
    from cli import describe_run

    run = {"id": 3, "status": "failed", "pages_fetched": 38, "new": 1, "changed": 0, "unchanged": 0, "removed": 0}
    full = " ".join(describe_run({**run, "failed": 37, "stats": {"not_stored": 37}}))
    assert "37 failed (37 of them fetched but not stored)." in full
    plain = " ".join(describe_run({**run, "failed": 2, "stats": {}}))
    assert "2 failed." in plain and "not stored" not in plain
