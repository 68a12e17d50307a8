"""Read-only opens and odd file names (issue 9, gap 6): a path is a path, never part of a URI."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli, serve
from datasette_pa_archive import serving
from dedupe.readonly import connect_read_only, read_only_uri
from tests.conftest import SEEDS

ODD_NAMES = ["a#b.db", "a?mode=rwc.db", "100%25.db", "with space.db"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_a_read_only_open_reads_that_file_and_creates_nothing(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    before = sorted(os.listdir(tmp_path))
    with connect_read_only(path) as ro:
        assert ro.execute("SELECT name FROM sqlite_master").fetchall() == [("t",)]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ro.execute("INSERT INTO t VALUES (1)")
    ro.close()
    assert sorted(os.listdir(tmp_path)) == before
    with pytest.raises(sqlite3.OperationalError):
        connect_read_only(tmp_path / "missing#x.db").execute("SELECT 1")
    assert not (tmp_path / "missing").exists() and read_only_uri(path).endswith("?mode=ro")


def test_serve_an_archive_whose_name_has_a_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``serve --db 'a#b.db'`` used to create an empty file ``a`` and serve that."""
    db = tmp_path / "a#b.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    assert "snapshots" in serving.check_archive(db) and not serving.is_stale(db)
    served: list[Path] = []
    monkeypatch.setattr(serving, "run_datasette", lambda argv: served.append(Path(argv[1]).resolve()))
    result = CliRunner().invoke(serve, ["--db", str(db)])
    assert result.exit_code == 0, result.output
    assert served == [db.resolve()]  # Datasette is handed a link without '#' that leads to the archive itself
    assert not (tmp_path / "a").exists()


def test_a_file_name_that_is_not_utf8_is_one_error_and_the_rest_imports(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(sorted(SEEDS.glob("*.txt"))[1], folder / "good.txt")
    (Path(os.fsdecode(bytes(folder) + b"/bad\xff.txt"))).write_text("A text under an odd name, long enough.")
    result = CliRunner().invoke(cli, ["import", str(folder), "--db", str(tmp_path / "a.db")])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    assert "Imported 1 snapshot(s)" in result.output
    assert "bad\\xff.txt: file name is not valid UTF-8" in result.output
