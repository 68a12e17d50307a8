"""Read commands (stats, runs, blocks, check) on an archive that cannot be written: read as it is, never
'not a usable SQLite database (unable to open database file)'."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from dedupe.archive import Archive
from tests.conftest import SEEDS
from tests.support.crawl import ARTICLES, snap
from tests.unit.archive.test_read_only import not_writable

READERS = (["stats"], ["runs"], ["blocks"], ["check"])
ROOT = Path(__file__).resolve().parents[3]


def test_read_commands_read_an_archive_in_a_read_only_folder_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "a.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    with Archive(db) as archive:  # stored, not derived yet: a writer would refresh it first
        archive.add(snap(ARTICLES[0], "2025-10-20T09:00:00Z"))
    before = sorted(p.name for p in tmp_path.iterdir())
    monkeypatch.setattr(os, "access", not_writable(tmp_path, db))
    for command in READERS[:3]:
        result = CliRunner().invoke(cli, [*command, "--db", str(db)])
        assert result.exit_code == 0, (command, result.output)
        assert f"its folder {tmp_path} is read-only" in " ".join(result.output.split())  # the note: not refreshed
    result = CliRunner().invoke(cli, ["check", "--db", str(db)])
    assert result.exit_code == 1 and "derived tables lag behind" in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # immutable: no -wal, no -shm made


def test_read_commands_run_as_a_user_who_cannot_write_the_folder() -> None:
    """A real read-only folder: as root (whom chmod does not stop) the commands run as nobody."""
    as_nobody = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("root without setpriv: no user who cannot write the folder")
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    folder = Path(tempfile.mkdtemp(prefix="pa-archive-ro-"))  # not under pytest's root-only folder
    try:
        folder.chmod(0o755)
        db = folder / "replica.db"
        assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
        folder.chmod(0o555)
        for command in READERS:
            result = subprocess.run(
                [*as_nobody, sys.executable, "-c", "from cli import cli; cli()", *command, "--db", str(db)],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, (command, result.stderr)
            assert "not a usable SQLite database" not in result.stderr
        assert "Every derived table equals a full rebuild." in result.stdout
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
