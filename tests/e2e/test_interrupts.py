"""Ctrl-C twice (and SIGTERM twice) during a real crawl of the replica: said at once, over in seconds.

Issue 21: after a second Ctrl-C the crawl printed "failed" and never returned (the reactor waited on a
thread that waited for the writer process to store its whole queue). Here the crawl runs in its own
session, the signals are sent as a terminal sends them (to the process group: the writer gets them
too), and the crawl must exit within 15 s of the first, leave an archive `check` accepts and a run
row that says ``interrupted``.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from replica import FAULT_PATHS, ReplicaServer

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
            said_at_once = re.compile(
                r"stopping after \d+ pages? in flight.*\(Ctrl-C again to stop now\)"
                if signum == signal.SIGINT
                else r"SIGTERM received: stopping after \d+ pages? in flight.*"
                r"\(send SIGTERM again, or Ctrl-C, to stop now\)"
            )
            assert any(said_at_once.search(line) for line in err_lines), err_lines
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


# --------------------------------------------------------------------------- network failures


def crawl_command(db: Path, url: str, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "cli", "crawl", "--db", str(db), "--no-progress", "--start-url", url]
    for setting in (*FAST, "RETRY_BACKOFF_BASE=0.1", "RETRY_TIMES=1", "DOWNLOAD_TIMEOUT=5"):
        command += ["-s", setting]
    return command + list(extra)


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("https://pa-archive-test.invalid/events", "its name does not resolve (DNS lookup failed"),
        ("http://127.0.0.1:9/events", "it refused the connection"),
    ],
    ids=["dns", "refused"],
)
def test_an_unreachable_start_host_fails_at_once_with_one_sentence(tmp_path: Path, url: str, said: str) -> None:
    started = time.monotonic()
    done = subprocess.run(crawl_command(tmp_path / "a.db", url), cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 15  # was 28 s of DNS retries
    assert done.returncode == 1
    text = " ".join(done.stdout.split())
    assert said in text and "nothing was fetched" in text, done.stdout
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr


def test_a_faulty_site_gives_one_sentence_per_failure_and_no_scrapy_advice(tmp_path: Path) -> None:
    with ReplicaServer(epoch=1, lang="en", faults={"truncated", "flaky500"}) as server:
        command = crawl_command(tmp_path / "a.db", f"{server.url}/events")
        quiet = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
        # --verbose on the truncated page alone (its retries are what Scrapy would advise about), no sitemap
        loud = subprocess.run(
            crawl_command(
                tmp_path / "b.db", server.url + FAULT_PATHS["truncated"], "--verbose", "-s", "SITEMAP_FOLLOW=0"
            ),
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert "truncated body" in quiet.stdout  # the failure, as one sentence in the summary
    assert quiet.stderr.strip() == "", quiet.stderr  # Scrapy's log went to the file
    log = (tmp_path / "a-crawl.log").read_text(encoding="utf-8")
    assert "Gave up retrying" in log or "truncated" in log.lower() or "data loss" in log.lower()
    assert "[scrapy" in loud.stderr  # --verbose: Scrapy's log on stderr
    assert "truncated body" in loud.stdout, loud.stdout  # the page failed as in the whole crawl
    for text in (quiet.stdout, quiet.stderr, loud.stdout, loud.stderr, log):
        assert "DOWNLOAD_FAIL_ON_DATALOSS" not in text


def test_ctrl_c_twice_in_a_terminal_with_the_live_progress_line(tmp_path: Path) -> None:
    """The same through a pseudo-terminal: the keys reach the crawl as a person types them, and the live
    progress line (rich) gives way to the messages and the summary."""
    db = tmp_path / "archive.db"
    with ReplicaServer(epoch=1, lang="en", faults={"slow"}, slow_seconds=30) as server:
        command = [sys.executable, "-m", "cli", "crawl", "--db", str(db), "--start-url", f"{server.url}/events"]
        for setting in FAST:
            command += ["-s", setting]
        pid, fd = pty.fork()
        if pid == 0:  # the child: the crawl, on the terminal
            os.chdir(ROOT)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.execv(sys.executable, command)
        screen = bytearray()

        def read(seconds: float) -> bool:
            """Read the terminal for ``seconds``; False once the crawl has closed it."""
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                if select.select([fd], [], [], 0.05)[0]:
                    try:
                        screen.extend(os.read(fd, 65536))
                    except OSError:
                        return False
            return True

        status = None
        try:
            deadline = time.monotonic() + 60
            while stored(db) < 10 and time.monotonic() < deadline:
                read(0.1)
            os.write(fd, b"\x03")  # Ctrl-C, typed
            first = time.monotonic()
            read(1.0)
            assert b"again to stop now" in screen, bytes(screen[-2000:])
            os.write(fd, b"\x03")
            while status is None and time.monotonic() - first < 15:
                read(0.2)
                done, code = os.waitpid(pid, os.WNOHANG)
                status = code if done else None
            elapsed = time.monotonic() - first
        finally:
            if status is None:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            os.close(fd)
    assert status is not None and elapsed < 15
    assert os.waitstatus_to_exitcode(status) == 1
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode("utf-8", "replace"))
    assert "stopping now" in text and "interrupted" in text and "Traceback" not in text, text[-2000:]
    assert run_status(db) == "interrupted"
