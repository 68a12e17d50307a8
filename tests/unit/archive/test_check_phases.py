"""`check` says what it is doing: at a million observations it runs for minutes, most of them
deriving the reference, and the command draws those phases as a progress bar."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cli import cli
from dedupe.archive import Archive
from dedupe.archive.derivation import CHECK_PHASES, CHECKED_TABLES

SEEDS = Path(__file__).resolve().parents[3] / "dedupe" / "seeds"


def test_check_reports_every_phase_in_order(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    seen: list[str] = []
    with Archive(db, create=False) as archive:
        assert archive.check(on_phase=seen.append) == {}
    assert seen == list(CHECK_PHASES)
    assert [p.removeprefix("compare ") for p in seen if p.startswith("compare ")] == list(CHECKED_TABLES)


def test_the_command_output_stays_one_line_when_piped(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    result = CliRunner().invoke(cli, ["check", "--db", str(db)])
    assert result.exit_code == 0
    assert result.stdout == "Every derived table equals a full rebuild.\n"
    assert "compare" not in result.stderr  # the bar is drawn only on a terminal


def test_the_reference_holds_a_line_repeated_on_many_pages_once(tmp_path: Path) -> None:
    """The reference derivation holds every page's lines at once (4.8 GB at a million observations
    before this): the delegation block's lines, on every page, are one object for all of them."""
    from dedupe.archive.reference import load_pages

    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    with Archive(db, create=False) as archive:
        pages = load_pages(archive.db)
    by_value: dict[tuple, set[int]] = {}
    for page in pages:
        for line in page.lines:
            by_value.setdefault(line, set()).add(id(line))
    repeated = [line for line, ids in by_value.items() if sum(line in p.lines for p in pages) > 1]
    assert repeated, "the seeds share their delegation block's lines"
    assert all(len(by_value[line]) == 1 for line in repeated)


def test_check_names_observations_whose_url_or_content_is_gone(tmp_path: Path) -> None:
    """Observations name their URL and content by row ids (m027) that no foreign key guards: a file changed by
    hand can leave one naming nothing, which the snapshots view would show as no URL or no content."""
    import sqlite3

    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE observations SET content_id = 999999 WHERE id = 1")
    conn.execute("UPDATE observations SET url_id = 999999 WHERE id IN (2, 3)")
    conn.commit()
    conn.close()
    with Archive(db, create=False) as archive:
        differences = archive.check()
    assert differences["observations"] == [
        "2 observation(s) name a URL the archive does not hold",
        "1 observation(s) name a content the archive does not hold",
    ]
    result = CliRunner().invoke(cli, ["check", "--db", str(db)])
    assert result.exit_code != 0 and "1 observation(s) name a content the archive does not hold" in result.output
