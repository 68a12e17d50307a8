"""kill -9 at random moments of an import and of a crawl, again and again on one archive, then a run to
the end: every time the archive passes ``PRAGMA integrity_check`` and holds no observation twice; at the
end nothing is lost and the derived tables equal a full re-derivation on a copy.

``--reliability-runs N`` kills (CI: 5 of each; the README's figures: 50).
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from replica import ReplicaServer, site_state
from tests.reliability.faults import count, derived_state, duplicate_snapshots, integrity, kill_group, rederived
from tests.support.snapshots import make_snapshots

ROOT = Path(__file__).resolve().parents[2]
IMPORTED = 120  # files of the import (each one snapshot)
FAST = (
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=false",
    "CONCURRENT_REQUESTS_PER_DOMAIN=4",
    "DOWNLOAD_TIMEOUT=5",
    "RETRY_BACKOFF_BASE=0.1",
    "RETRY_TIMES=1",
    "REVISIT_AFTER=0",
)


def import_command(folder: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "cli", "import", str(folder), "--db", str(db)]


def crawl_command(url: str, db: Path, jobdir: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "cli",
        "crawl",
        "--db",
        str(db),
        "--json",
        "--no-progress",
        "--start-url",
        url,
        "--jobdir",
        str(jobdir),
        "--wait",
        "20",
    ]
    for setting in FAST:
        command += ["-s", setting]
    return command


def kill_at_random(command: list[str], runs: int, db: Path, rng: random.Random, spread: int) -> dict:
    """Start ``command`` and SIGKILL it (its whole process group) ``runs`` times, each time at a random moment
    of its work: once it has stored a random number (up to ``spread``) more snapshots than the archive held,
    or, one time in three, a random instant (up to 0.5 s) after it stored its first new one (the refresh at
    the end of an import, a crawl's writer draining its queue). The archive is checked after each kill."""
    figures = {"kills": 0, "finished_before_kill": 0, "integrity_failures": 0, "duplicates": 0}
    for run in range(runs):
        before = count(db, "SELECT count(*) FROM snapshots")
        target = before + rng.randint(1, spread)
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                stored = count(db, "SELECT count(*) FROM snapshots")
                if stored >= target or (run % 3 == 2 and stored > before):
                    break
                time.sleep(0.005)
            if run % 3 == 2:
                time.sleep(rng.uniform(0, 0.5))
            figures["finished_before_kill"] += proc.poll() is not None
        finally:
            kill_group(proc)
        figures["kills"] += 1
        figures["integrity_failures"] += integrity(db) != "ok"
        figures["duplicates"] += len(duplicate_snapshots(db))
    return figures


def test_kill_an_import_at_random_moments(tmp_path: Path, reliability_runs: int) -> None:
    """Each kill on a fresh archive, at a random instant of the import's work (from the moment its archive
    file appears to the moment a whole import of the same files ends), then the import run again."""
    folder = tmp_path / "in"
    make_snapshots(folder, IMPORTED)
    reference = tmp_path / "reference.db"
    proc = subprocess.Popen(
        import_command(folder, reference), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    while not reference.exists() and proc.poll() is None:
        time.sleep(0.005)
    started = time.monotonic()
    proc.wait(timeout=300)
    work = time.monotonic() - started
    expected = derived_state(reference)
    rng = random.Random(reliability_runs)
    figures = {"kills": 0, "finished_before_kill": 0, "stored_at_kill": []}
    for run in range(reliability_runs):
        db = tmp_path / f"run{run}.db"
        proc = subprocess.Popen(
            import_command(folder, db),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while not db.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            time.sleep(rng.uniform(0, work))
            figures["finished_before_kill"] += proc.poll() is not None
        finally:
            kill_group(proc)
        figures["kills"] += 1
        assert integrity(db) == "ok" and duplicate_snapshots(db) == []
        figures["stored_at_kill"].append(count(db, "SELECT count(*) FROM snapshots"))
        done = subprocess.run(import_command(folder, db), cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert integrity(db) == "ok" and duplicate_snapshots(db) == []
        assert count(db, "SELECT count(*) FROM snapshots") == IMPORTED  # each file once: nothing lost, nothing twice
        assert derived_state(db) == expected  # the same as an import never interrupted...
        if run == reliability_runs - 1:
            assert expected == rederived(db, tmp_path)  # ...which is a full re-derivation
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    print(
        f"\nreliability: import kills={figures['kills']} finished_before_kill={figures['finished_before_kill']} "
        f"work={work:.2f}s stored_at_kill={figures['stored_at_kill']}"
    )


@pytest.mark.e2e
def test_kill_a_crawl_at_random_moments(tmp_path: Path, reliability_runs: int) -> None:
    db, jobdir = tmp_path / "archive.db", tmp_path / "job"
    rng = random.Random(1000 + reliability_runs)
    with ReplicaServer(epoch=1, lang="en") as server:
        command = crawl_command(f"{server.url}/events", db, jobdir)
        figures = kill_at_random(command, reliability_runs, db, rng, 12)
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    print(
        f"\nreliability: crawl kills={figures['kills']} finished_before_kill={figures['finished_before_kill']} "
        f"runs={count(db, 'SELECT count(*) FROM crawl_runs')}"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert figures["integrity_failures"] == 0 and figures["duplicates"] == 0, figures
    assert integrity(db) == "ok" and duplicate_snapshots(db) == []
    articles = site_state("en", 1).articles
    titles = {r for r in _titles(db)}
    assert {a.title for a in articles} <= titles  # every article of the site has its version: none lost
    assert count(
        db,
        "SELECT count(*) FROM article_versions av JOIN articles a ON a.id = av.article_id "
        "WHERE a.url LIKE '%/events/%'",
    ) == len(articles)  # and none twice
    assert count(db, "SELECT count(*) FROM crawl_runs WHERE status = 'running'") == 0
    assert derived_state(db) == rederived(db, tmp_path)


def _titles(db: Path) -> list[str]:
    import contextlib
    import sqlite3

    with contextlib.closing(sqlite3.connect(db)) as conn:
        return [r[0] for r in conn.execute("SELECT title FROM article_versions")]
