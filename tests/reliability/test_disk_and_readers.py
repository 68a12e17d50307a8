"""A full disk, and readers during an import.

* Full disk: the archive on a 1 MB tmpfs (where this machine lets the test mount one; SQLite's
  ``max_page_count`` is the in-process variant, tests/unit/test_leaks.py): ``import`` exits 1 with one
  sentence naming the cause, the archive passes ``integrity_check``, and once space returns the same
  import completes with nothing lost or doubled.
* Readers: read-only connections (as Datasette opens them) and Datasette itself query the archive
  continuously while an import writes: no error, and never a snapshot without its content.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dedupe.readonly import connect_read_only
from tests.reliability.faults import count, derived_state, duplicate_snapshots, integrity, rederived
from tests.support.snapshots import make_snapshots

ROOT = Path(__file__).resolve().parents[2]
FILES = 200


@contextlib.contextmanager
def small_disk(folder: Path, size: str) -> Path:
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'not root'})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_full_disk_is_one_sentence_and_the_archive_survives(tmp_path: Path) -> None:
    make_snapshots(tmp_path / "in", FILES)
    with small_disk(tmp_path / "disk", "1m") as disk:
        db = disk / "archive.db"
        command = [sys.executable, "-m", "cli", "import", str(tmp_path / "in"), "--db", str(db)]
        full = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        stored_when_full = count(db, "SELECT count(*) FROM snapshots")
        assert full.returncode == 1
        assert full.stderr.strip().splitlines() == [
            "Error: database or disk is full: free some space and run the command again (what was stored before "
            "is kept)"
        ], full.stderr[-2000:]
        assert integrity(db) == "ok"
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr[-2000:]
        assert integrity(db) == "ok" and duplicate_snapshots(db) == []
        assert count(db, "SELECT count(*) FROM snapshots") == FILES
        assert derived_state(db) == rederived(db, tmp_path)
    print(f"\nreliability: full disk: stored {stored_when_full} of {FILES} when full, {FILES} after space returned")


# A snapshot whose content is missing would be a half-written observation.
HALF_WRITTEN = (
    "SELECT count(*) FROM snapshots s LEFT JOIN contents c ON c.sha256 = s.content_sha256 "
    "WHERE s.content_sha256 IS NOT NULL AND c.sha256 IS NULL"
)
READER_QUERIES = (
    "SELECT count(*) FROM snapshots",
    "SELECT count(*) FROM conflicts",
    "SELECT count(*) FROM article_versions_stemmed WHERE article_versions_stemmed MATCH 'session'",  # a stem
    "SELECT delegation, field, value FROM facts ORDER BY 1, 2, 3 LIMIT 50",
    HALF_WRITTEN,
)


def sqlite_reader(db: Path, stop: threading.Event, errors: list[str], queries: dict[str, int]) -> None:
    """Read the archive as an analyst's script would, until told to stop; every error is recorded."""
    while not stop.is_set():
        try:
            with contextlib.closing(connect_read_only(db, timeout=30)) as conn:
                for sql in READER_QUERIES:
                    value = conn.execute(sql).fetchall()
                    if sql is HALF_WRITTEN and value[0][0]:
                        errors.append(f"half-written: {value[0][0]} snapshot(s) without content")
                    queries["sqlite"] += 1
        except Exception as exc:  # the point is that there is none
            errors.append(f"sqlite reader: {type(exc).__name__}: {exc}")


def datasette_reader(db: Path, stop: threading.Event, errors: list[str], queries: dict[str, int]) -> None:
    """Ask Datasette for pages as a browser would, until told to stop; every 5xx is recorded."""
    from datasette.app import Datasette

    from datasette_pa_archive.serving import register_plugin

    register_plugin()
    datasette = Datasette([str(db)], settings={"sql_time_limit_ms": 10_000})

    async def loop() -> None:
        while not stop.is_set():
            for path in ("/archive/conflicts.json", "/archive/snapshots.json?_size=5", "/-/diff.json?b=b1"):
                response = await datasette.client.get(path)
                if response.status_code >= 500:
                    errors.append(f"datasette {path}: HTTP {response.status_code}")
                queries["datasette"] += 1

    try:
        asyncio.run(loop())
    except Exception as exc:
        errors.append(f"datasette reader: {type(exc).__name__}: {exc}")


def test_readers_never_see_an_error_while_an_import_writes(tmp_path: Path) -> None:
    make_snapshots(tmp_path / "in", FILES)
    db = tmp_path / "archive.db"
    seeds = subprocess.run(
        [sys.executable, "-m", "cli", "import", str(ROOT / "dedupe" / "seeds"), "--db", str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert seeds.returncode == 0, seeds.stderr
    errors: list[str] = []
    queries = {"sqlite": 0, "datasette": 0}
    stop = threading.Event()

    readers = [
        threading.Thread(target=sqlite_reader, args=(db, stop, errors, queries)),
        threading.Thread(target=sqlite_reader, args=(db, stop, errors, queries)),
        threading.Thread(target=datasette_reader, args=(db, stop, errors, queries)),
    ]
    for reader in readers:
        reader.start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cli", "import", str(tmp_path / "in"), "--db", str(db)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        stop.set()
        for reader in readers:
            reader.join(timeout=60)
    print(
        f"\nreliability: readers ran {queries['sqlite']} SQLite and {queries['datasette']} Datasette queries "
        f"during the import, errors: {len(errors)}"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert errors == []
    assert queries["sqlite"] > 0 and queries["datasette"] > 0
