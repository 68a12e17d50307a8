"""A newcomer's first hour: what a user met, done the way they did it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from cli import cli
from tests.support.snapshots import make_snapshots, snapshot_count

ROOT = Path(__file__).resolve().parents[3]


def test_a_failed_import_of_a_missing_path_creates_no_file(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["import", str(tmp_path / "no-such-folder"), "--db", str(db)])
    assert result.exit_code == 1
    assert "no such file or folder" in result.output and "was not created" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # neither archive.db nor archive.db.lock


def test_the_seeds_ship_with_the_package(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["import", "--seeds", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Imported 5 snapshot(s)")
    nothing = CliRunner().invoke(cli, ["import", "--db", str(db)])
    assert nothing.exit_code == 2 and "or give --seeds" in nothing.output


def test_serve_on_a_busy_port_is_one_sentence_before_anything_else(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    assert CliRunner().invoke(cli, ["import", "--seeds", "--db", str(db)]).exit_code == 0
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve", "--db", str(db), "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output
    assert "Serving" not in result.output and len(result.output.strip().splitlines()) == 1


def test_ctrl_c_during_an_import_says_what_was_kept(tmp_path: Path) -> None:
    make_snapshots(tmp_path / "in", 1500)
    db = tmp_path / "archive.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "import", str(tmp_path / "in"), "--db", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # a terminal's default: under a background job (a CI runner's shell) SIGINT is inherited as ignored
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 60
        while snapshot_count(db) < 150 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # well inside the import: 1,350 files still to go
        assert proc.poll() is None, proc.communicate()
        os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
    assert proc.returncode == 130, out + err
    assert "Import interrupted:" in err and "stored before it are kept" in err and "run the same command again" in err
    assert "Traceback" not in err and "Aborted!" not in err
