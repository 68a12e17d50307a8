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
