"""`pa-archive serve` on an archive it cannot write (a copy on a read-only share or mount), as a real server.

The folder is made read-only for real: as root (whom chmod does not stop) the server runs as ``nobody`` through
``setpriv``. A WAL-mode archive there is read two ways, both served: cleanly closed (no -wal: Datasette opens it
``immutable``, since ``mode=ro`` would need a -shm the folder cannot hold) and as a killed writer left it (its
-wal and -shm beside it: ``mode=ro`` reads the -wal's snapshot through the -shm). A truncated archive there is
refused in one sentence. Every server is stopped by the test that started it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import BIN, ROOT, Server

LATE_URL = "https://pacsto.org/late.txt"

# A writer killed after committing one snapshot: its -wal and -shm stay beside the archive, the snapshot not yet
# derived (os._exit: no close, so no checkpoint folds the -wal into the file).
KILLED_WRITER = f"""
import os, sys
from dedupe.archive import Archive
from dedupe.document import RawSnapshot
archive = Archive(sys.argv[1])
archive.add(RawSnapshot(url={LATE_URL!r}, observed_at="2025-10-09T09:00:00Z",
                        body=b"A page stored late\\nby a writer that was killed.", kind_hint="text"))
os._exit(0)
"""


def _as_a_reader() -> list[str]:
    """The command prefix that runs a program as a user who cannot write the folder: none for a user whom
    chmod stops, ``setpriv`` to ``nobody`` for root."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("root without setpriv: no user who cannot write the folder")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pytest.fixture
def folder() -> Iterator[Path]:
    """A folder ``nobody`` can read (not under pytest's root-only one), writable again before it is removed."""
    made = Path(tempfile.mkdtemp(prefix="pa-archive-serve-ro-"))
    made.chmod(0o755)
    try:
        yield made
    finally:
        made.chmod(0o755)
        shutil.rmtree(made)


@pytest.fixture(scope="module")
def seeds_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pa-archive import --seeds` into a new archive, once a module: each test copies it (a closed archive is
    its one file) into its read-only folder."""
    db = tmp_path_factory.mktemp("seeds") / "archive.db"
    subprocess.run(
        [str(BIN / "pa-archive"), "import", "--seeds", "--db", str(db)], check=True, capture_output=True, timeout=120
    )
    assert not Path(f"{db}-wal").exists()  # closed cleanly: the -wal folded into the file
    return db


def _served_urls(server: Server) -> list[str]:
    """The URLs of the snapshots the server shows, read over HTTP (200 asserted)."""
    response = httpx.get(server.url + "/archive/snapshots.json?_shape=array&_col=url&_size=max", timeout=30)
    assert response.status_code == 200, response.text
    return [row["url"] for row in response.json()]


@pytest.mark.parametrize("left", ["closed", "with_wal"])
def test_serve_answers_on_an_archive_in_a_read_only_folder(
    folder: Path, tmp_path: Path, left: str, seeds_archive: Path
) -> None:
    reader = _as_a_reader()
    db = Path(shutil.copyfile(seeds_archive, folder / "archive.db"))
    if left == "with_wal":
        subprocess.run([sys.executable, "-c", KILLED_WRITER, str(db)], cwd=ROOT, check=True, timeout=120)
        assert Path(f"{db}-wal").stat().st_size > 0 and Path(f"{db}-shm").exists()
    else:
        assert not Path(f"{db}-wal").exists()
    folder.chmod(0o555)
    before = sorted(p.name for p in folder.iterdir())
    server = Server(db, tmp_path / "serve.log", wrapper=reader)
    try:
        server.wait_ready(timeout=60)
        urls = _served_urls(server)
        conflicts = httpx.get(server.url + "/-/conflicts", timeout=30)
    finally:
        server.stop()
    log = server.log.read_text()
    assert conflicts.status_code == 200 and "Kyrgyzstan" in conflicts.text, log
    assert len(urls) == (6 if left == "with_wal" else 5) and (LATE_URL in urls) == (left == "with_wal"), urls
    note = f"note: {db} cannot be written (its folder {folder} is read-only): it is served as its last writer left it"
    lagging = ", without deriving its newest snapshots."
    assert note + (lagging if left == "with_wal" else ".") in log, log
    assert "Traceback" not in log and "readonly database" not in log, log
    assert sorted(p.name for p in folder.iterdir()) == before  # nothing made beside it


def test_serve_refuses_a_truncated_archive_in_a_read_only_folder_in_one_sentence(
    folder: Path, seeds_archive: Path
) -> None:
    reader = _as_a_reader()
    truncated = folder / "archive.db"
    truncated.write_bytes(seeds_archive.read_bytes()[: seeds_archive.stat().st_size // 2])
    folder.chmod(0o555)
    done = subprocess.run(
        [*reader, *[str(BIN / "pa-archive"), "serve", "--db", str(truncated), "--port", "0"]],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip() == (
        f"Error: {truncated} is not a usable SQLite database (database disk image is malformed; "
        f"its folder {folder} is read-only)"
    )
    assert not done.stdout
