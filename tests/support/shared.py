"""Expensive setups made once a test run, whichever worker asks first, and read by every test file that asks.

The demo and the replica crawled at three epochs are each made by several test files; the test files run on
two workers (pytest-xdist), so a module fixture would make them once a file. ``shared`` makes one under a lock
in the folder the workers share (the run's base temporary folder) and hands every later asker the same
folder; a build that fails leaves nothing behind, so the next asker builds (and fails) again. A test that
writes copies the folder first (``copy_of``). Every server a build starts is stopped inside the build.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

BIN = Path(sys.executable).parent


def _run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The base temporary folder of the whole run: a worker's own is a folder inside it (popen-gw0)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def shared(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], dict[str, Any]]
) -> tuple[Path, dict[str, Any]]:
    """``build(folder)`` once a run (its JSON-able result kept beside what it made); the folder and the result."""
    root = _run_folder(tmp_path_factory) / "shared"
    root.mkdir(exist_ok=True)
    folder, result = root / name, root / f"{name}.json"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not result.exists():
                shutil.rmtree(folder, ignore_errors=True)  # what a failed build left
                folder.mkdir()
                result.write_text(json.dumps(build(folder)), encoding="utf-8")
            return folder, json.loads(result.read_text(encoding="utf-8"))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def copy_of(folder: Path, target: Path) -> Path:
    """A copy of a shared folder's files into ``target`` (for a test that writes to what it was given)."""
    shutil.copytree(folder, target, dirs_exist_ok=True)
    return target


def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """`pa-archive demo` as the README's newcomer runs it: in a folder of its own (not the checkout), its
    archive the default ``demo-archive.db`` there, ``$PA_ARCHIVE_DB`` naming that file for the lines after it.
    The folder and {returncode, stdout, stderr, seconds}."""

    def build(folder: Path) -> dict[str, Any]:
        env = {
            **os.environ,
            "PA_ARCHIVE_DB": str(folder / "demo-archive.db"),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        started = time.monotonic()
        done = subprocess.run(
            [str(BIN / "pa-archive"), "demo"], cwd=folder, env=env, capture_output=True, text=True, timeout=180
        )
        seconds = time.monotonic() - started
        return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr, "seconds": seconds}

    return shared(tmp_path_factory, "demo", build)


def english_epochs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The English replica crawled at epochs 1, 2 and 3 into ``archive.db`` with ``--revisit-after 0`` (every
    archived page due, as after a week on a schedule): three `pa-archive crawl` runs (``crawl_subprocess``).
    The folder and {"runs": each run's JSON summary}."""

    def build(folder: Path) -> dict[str, Any]:
        from crawler.process import crawl_subprocess
        from replica import ReplicaServer

        runs = []
        with ReplicaServer(epoch=1, lang="en") as replica:
            for epoch in (1, 2, 3):
                replica.set_epoch(epoch)
                runs.append(
                    crawl_subprocess(str(folder / "archive.db"), [f"{replica.url}/events"], "--revisit-after", "0")
                )
        return {"runs": runs}

    return shared(tmp_path_factory, "english-epochs", build)
