"""Ctrl-C twice (and SIGTERM twice) during a real crawl of the replica: said at once, over in seconds.

Issue 21: after a second Ctrl-C the crawl printed "failed" and never returned (the reactor waited on a
thread that waited for the writer process to store its whole queue). Here the crawl runs in its own
session, the signals are sent as a terminal sends them (to the process group: the writer gets them
too), and the crawl must exit within 15 s of the first, leave an archive `check` accepts and a run
row that says ``interrupted``.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from crawler.replica import ReplicaServer

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FAST = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=false", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "DOWNLOAD_TIMEOUT=60")


def stored(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    except sqlite3.Error:
        return 0


def run_status(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT status FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()[0]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_two_interrupts_stop_a_crawl_within_seconds_and_leave_a_consistent_archive(tmp_path: Path, signum: int) -> None:
    db = tmp_path / "archive.db"
    # a page that answers after 30 s keeps the crawl busy (and a download in flight) when the signals come
    with ReplicaServer(epoch=1, lang="en", faults={"slow"}, slow_seconds=30) as server:
        command = [sys.executable, "-m", "cli", "crawl", "--db", str(db), "--no-progress"]
        command += ["--start-url", f"{server.url}/events", "--jobdir", str(tmp_path / "job")]
        for setting in FAST:
            command += ["-s", setting]
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        err_lines: list[str] = []
        reader = threading.Thread(target=lambda: err_lines.extend(proc.stderr), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while stored(db) < 10 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert proc.poll() is None, "".join(err_lines)
            first = time.monotonic()
            os.killpg(proc.pid, signum)  # as a terminal does: the whole foreground group
            said = time.monotonic() + 3
            while not any("stopping after" in line for line in err_lines) and time.monotonic() < said:
                time.sleep(0.02)
            assert any("pages in flight" in line and "again to stop now" in line for line in err_lines), err_lines
            time.sleep(0.3)
            assert proc.poll() is None  # the slow page is still in flight: the graceful stop waits for it
            os.killpg(proc.pid, signum)
            proc.wait(timeout=15 - (time.monotonic() - first))
            elapsed = time.monotonic() - first
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
            out = proc.stdout.read()
            proc.stdout.close()
            reader.join(timeout=5)
            proc.stderr.close()
    assert elapsed < 15
    assert proc.returncode == 1
    assert "interrupted" in out and "--jobdir" in out, out
    assert not any("Traceback" in line for line in err_lines), "".join(err_lines)
    assert run_status(db) == "interrupted"
    check = subprocess.run(
        [sys.executable, "-m", "cli", "check", "--db", str(db)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stdout + check.stderr
