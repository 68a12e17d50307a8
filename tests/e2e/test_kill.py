"""A kill at any point leaves archive.db consistent: SIGKILL an import, then use the archive."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.support.snapshots import make_snapshots, snapshot_count

SCRIPT = Path(sys.executable).with_name("pa-archive")
# files imported: past PARALLEL_MIN (100), so the import analyses in worker processes that the kill must take along
FILES = 160


def survivors(group: int) -> list[int]:
    """Processes still alive in the killed import's process group."""
    alive = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                alive.append(int(entry.name))
    return alive


def test_sigkill_during_import_leaves_a_consistent_archive(tmp_path: Path) -> None:
    make_snapshots(tmp_path / "in", FILES)
    db = tmp_path / "archive.db"
    proc = subprocess.Popen(
        [str(SCRIPT), "import", str(tmp_path / "in"), "--db", str(db)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while snapshot_count(db) < 30 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    # its analysis workers die with it (never orphans); then clean up whatever would remain
    deadline = time.monotonic() + 10
    while survivors(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = survivors(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    assert left == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        orphans = conn.execute(
            "SELECT count(*) FROM snapshots s LEFT JOIN contents c ON c.sha256 = s.content_sha256 "
            "WHERE c.sha256 IS NULL"
        ).fetchone()[0]
        assert orphans == 0
        stored = conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    assert 30 <= stored <= FILES

    # the next command heals the derived tables; importing again completes without duplicates
    stats = json.loads(
        subprocess.run(
            [str(SCRIPT), "stats", "--json", "--db", str(db)], capture_output=True, text=True, timeout=120, check=True
        ).stdout
    )
    assert stats["articles"] == stats["snapshots"] == stored and stats["block_versions"] == 1
    subprocess.run(
        [str(SCRIPT), "import", str(tmp_path / "in"), "--db", str(db)], capture_output=True, timeout=300, check=True
    )
    stats = json.loads(
        subprocess.run(
            [str(SCRIPT), "stats", "--json", "--db", str(db)], capture_output=True, text=True, timeout=120, check=True
        ).stdout
    )
    assert stats["snapshots"] == stats["articles"] == stats["contents"] == FILES
    assert stats["blocks"] == 1 and stats["block_versions"] == 1
