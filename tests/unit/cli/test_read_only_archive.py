"""Read commands (stats, runs, blocks, check) on an archive that cannot be written: read as it is, never
'not a usable SQLite database (unable to open database file)'."""

from __future__ import annotations

import gzip
import os
import shutil
import sqlite3
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


def _not_archives(folder: Path) -> dict[str, Path]:
    """Files a user may point --db at by mistake, each in ``folder``: SQLite databases of someone else's, an
    empty file, a cut-off archive, and files that are no SQLite at all."""
    made = {name: folder / f"{name}.db" for name in ("empty", "other", "zero", "truncated", "random", "gzip")}
    with sqlite3.connect(made["empty"]) as conn:
        conn.execute("PRAGMA user_version = 7")  # a database with a page and no table
    with sqlite3.connect(made["other"]) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
    made["zero"].write_bytes(b"")
    archive = folder / "archive.db"
    Archive(archive).close()  # closed: all of it in the file, no -wal
    whole = archive.read_bytes()
    archive.unlink()
    made["truncated"].write_bytes(whole[: len(whole) // 2])
    made["random"].write_bytes(bytes(range(256)) * 40)
    made["gzip"].write_bytes(gzip.compress(whole))
    return made


def _refusal(command: str, path: Path) -> str:
    """What ``command --db path`` says, on one line, after checking it refused the file the way a user should
    hear it: exit 1, no traceback, one sentence that starts with the file's name."""
    result = CliRunner().invoke(cli, [command, "--db", str(path)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (command, path, result.output)
    said = " ".join(result.output.split())
    assert said.startswith(f"Error: {path} ") and ". " not in said, (command, said)
    return said


def test_a_read_only_file_that_is_no_archive_is_refused_in_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read through ``ReadingArchive``, someone else's database is refused as the writable path refuses it
    (not for lacking ``compression_dicts``, which the reading part reads on opening), and every other file in
    one sentence naming why it was read as it is; never a traceback."""
    files = _not_archives(tmp_path)
    writable = {name: tmp_path / f"writable-{name}.db" for name in ("empty", "other")}
    for name, copy in writable.items():
        shutil.copy(files[name], copy)
    said_writable = {name: _refusal("stats", path) for name, path in writable.items()}
    monkeypatch.setattr(os, "access", not_writable(tmp_path, *files.values()))
    for name, path in files.items():
        said = _refusal("stats", path)
        assert "compression_dicts" not in said, (name, said)
        if name in writable:  # word for word what the writable path says of the same file
            assert said == said_writable[name].replace(f"writable-{name}", name)
            assert said.endswith(
                "is a SQLite database but not a pa-archive archive (an existing database is never adopted: "
                "choose another --db)"
            )
        else:
            assert f"its folder {tmp_path} is read-only" in said, (name, said)


def test_serve_refuses_a_read_only_file_that_is_no_archive_in_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve`` reads an archive it cannot write as the read commands do (``read_only_mode``), so a file there
    that SQLite cannot read is refused for what it is, naming why it was read as it is, not for "attempt to
    write a readonly database"; never a traceback, and Datasette is never started."""
    from datasette_pa_archive import serving

    files = _not_archives(tmp_path)
    started: list[list[str]] = []
    monkeypatch.setattr(serving, "run_datasette", started.append)
    monkeypatch.setattr(os, "access", not_writable(tmp_path, *files.values()))
    for name, path in files.items():
        said = _refusal("serve", path)
        assert "readonly database" not in said, (name, said)
        if name in ("empty", "other", "zero"):
            assert said.endswith("is a SQLite database but not a pa-archive archive"), (name, said)
        else:
            assert said.endswith(f"; its folder {tmp_path} is read-only)"), (name, said)
    assert not started


def test_serve_opens_an_archive_in_a_read_only_folder_immutable_only_without_a_wal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closed, the archive is handed to Datasette as immutable (``-i``, downloads off as for a mutable one); with
    a -wal and its -shm, read ``mode=ro`` (immutable would ignore the -wal's snapshots); with a -wal and no -shm,
    which SQLite cannot read without making one, refused in one sentence."""
    from datasette_pa_archive import serving

    db = tmp_path / "a.db"
    assert CliRunner().invoke(cli, ["import", str(SEEDS), "--db", str(db)]).exit_code == 0
    started: list[list[str]] = []
    monkeypatch.setattr(serving, "run_datasette", started.append)
    monkeypatch.setattr(os, "access", not_writable(tmp_path, db))
    result = CliRunner().invoke(cli, ["serve", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert f"note: {db} cannot be written (its folder {tmp_path} is read-only): it is served as its last writer " in (
        result.output
    )
    (argv,) = started
    assert argv[1:3] == ["-i", str(db.resolve())] and argv[argv.index("allow_download") + 1] == "off", argv
    Path(f"{db}-wal").write_bytes(b"\0" * 32)  # a -wal to read: only SQLite's mode=ro reads it, through a -shm
    Path(f"{db}-shm").write_bytes(b"")
    assert serving.served_archive(db).query == "mode=ro" and not serving.served_archive(db).immutable
    Path(f"{db}-shm").unlink()
    result = CliRunner().invoke(cli, ["serve", "--db", str(db)])
    assert result.exit_code == 1 and "holds writes not yet in a.db" in " ".join(result.output.split()), result.output
    assert len(started) == 1
