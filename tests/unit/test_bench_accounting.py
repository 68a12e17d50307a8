"""The benchmark's own accounting, checked without running it: peak memory of a child process is its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_child_process_reports_its_own_peak_memory_not_its_parents() -> None:
    """ru_maxrss survives exec on Linux: a child started by a large parent would report the parent's size."""
    ballast = bytearray(400 * 2**20)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # every page touched: resident
    code = "import resource; from bench.minhash_bench import _peak_rss_mb; print(_peak_rss_mb(resource.RUSAGE_SELF))"
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True, timeout=60)
    assert float(done.stdout) < 300, done.stdout  # its own imports (numpy, datasketch): well under the parent's 400 MB
    del ballast
