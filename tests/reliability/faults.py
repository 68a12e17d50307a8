"""What every fault test checks afterwards: the archive is whole, nothing twice, derived = re-derived."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from dedupe.archive import Archive


def integrity(db: Path) -> str:
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def duplicate_snapshots(db: Path) -> list[tuple]:
    """Observations stored twice: the same URL, moment and content."""
    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return conn.execute(
            "SELECT url, observed_at, content_sha256, count(*) FROM snapshots "
            "GROUP BY url, observed_at, content_sha256 HAVING count(*) > 1"
        ).fetchall()


def count(db: Path, sql: str) -> int:
    try:
        with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return 0


def derived_state(db: Path) -> dict[str, list[tuple]]:
    """Every derived table's rows, sorted (FTS shadow tables are checked through article_versions). The
    incremental derivation's own state (``derive_*``: ids in arrival order) is not compared: ``check``
    compares what it builds with the reference."""
    from tests.conftest import derived_tables

    with contextlib.closing(sqlite3.connect(db, timeout=30)) as conn:
        return derived_tables(conn)


def rederived(db: Path, folder: Path) -> dict[str, list[tuple]]:
    """The derived tables of a copy of ``db`` after a full rebuild (``refresh(force=True)``)."""
    copy = folder / f"rederived-{db.name}"
    with (
        contextlib.closing(sqlite3.connect(db, timeout=30)) as source,
        contextlib.closing(sqlite3.connect(copy)) as target,
    ):
        source.backup(target)
    with Archive(copy) as archive:
        archive.refresh(force=True)
    state = derived_state(copy)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return state


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL a process started with ``start_new_session`` and everything it started (as power loss would)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _group_alive(proc.pid):
        time.sleep(0.05)


def _group_alive(group: int) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                return True
    return False


def clean(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
