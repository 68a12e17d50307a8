"""An archive made by an older pa-archive is upgraded with a notice first: some schema steps rewrite
large tables (minutes at a million observations), and a command that says nothing looks hung."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from dedupe import migrations
from dedupe.archive import Archive

SEEDS = Path(__file__).resolve().parents[3] / "dedupe" / "seeds"


@pytest.fixture()
def archive_behind_by_one_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[str]]:
    """An archive at the current schema, and a newer pa-archive with one more step for it."""
    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    ran: list[str] = []
    newer = migrations.Migrations._Migration("m999_a_later_step", lambda db: ran.append("ran"), True)
    monkeypatch.setattr(migrations.migrations, "_migrations", [*migrations.migrations._migrations, newer])
    return db, ran


def test_a_command_says_it_upgrades_before_it_does(archive_behind_by_one_step: tuple[Path, list[str]]) -> None:
    db, ran = archive_behind_by_one_step
    first = CliRunner().invoke(cli, ["stats", "--db", str(db)])
    assert first.exit_code == 0, first.output
    assert "Upgrading" in first.stderr and "1 schema step(s): m999_a_later_step" in first.stderr
    assert ran == ["ran"]
    again = CliRunner().invoke(cli, ["stats", "--db", str(db)])
    assert "Upgrading" not in again.stderr and ran == ["ran"]  # applied once, announced once


def test_a_new_archive_is_created_without_an_upgrade_notice(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(tmp_path / "new.db")])
    assert result.exit_code == 0 and "Upgrading" not in result.stderr


def test_the_library_tells_its_caller_the_steps(archive_behind_by_one_step: tuple[Path, list[str]]) -> None:
    db, _ = archive_behind_by_one_step
    told: list[list[str]] = []
    with Archive(db, create=False, on_upgrade=told.append):
        pass
    assert told == [["m999_a_later_step"]]


def test_a_crawl_says_it_upgrades_before_it_fetches(
    archive_behind_by_one_step: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    from crawler.runs import CrawlRun

    db, ran = archive_behind_by_one_step
    CrawlRun(db, ["https://pacsto.org/events"]).begin().finish("finished")
    assert "Upgrading" in capsys.readouterr().err and ran == ["ran"]


def test_serve_refuses_an_archive_an_upgrade_would_change_and_says_how_to_upgrade_it(
    archive_behind_by_one_step: tuple[Path, list[str]],
) -> None:
    """Serving never writes, and the pages read the current schema: an older archive is named, not half served."""
    db, ran = archive_behind_by_one_step
    refused = CliRunner().invoke(cli, ["serve", "--db", str(db), "--print-metadata"])
    assert refused.exit_code == 1 and ran == []
    assert "older pa-archive (1 schema step(s) to give it: m999_a_later_step)" in refused.output
    assert f"pa-archive stats --db {db}" in refused.output
    assert CliRunner().invoke(cli, ["stats", "--db", str(db)]).exit_code == 0 and ran == ["ran"]
    served = CliRunner().invoke(cli, ["serve", "--db", str(db), "--print-metadata"])
    assert served.exit_code == 0 and "databases" in served.output
