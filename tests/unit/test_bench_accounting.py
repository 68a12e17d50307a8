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


def test_the_scale_archive_is_measured_as_written_and_compacted(tmp_path: Path) -> None:
    """`bench.run --archive-scale` reports the archive against its raw HTML as written and after `compact`
    (indexes merged, free pages given back): the compacted file is the smaller, and both ratios are of the
    same raw bytes."""
    import sqlite3

    from bench.run import scale_compacted
    from dedupe.archive import Archive
    from tests.replica_corpus import replica_snapshots

    db = tmp_path / "scale.db"
    with Archive(db) as archive:
        for start in range(0, 60, 10):  # in batches, as weeks arrive: the full-text index in several segments
            archive.ingest(replica_snapshots(("en",))[start : start + 10], workers=1)
    written = sum(p.stat().st_size for p in tmp_path.glob("scale.db*"))
    with sqlite3.connect(db) as conn:
        raw = conn.execute("SELECT sum(size) FROM contents").fetchone()[0]
    found = scale_compacted(db)
    assert found["archive_scale_compacted_bytes"] < written
    assert found["archive_scale_vs_raw_html"] == round(written / raw, 3)
    assert found["archive_scale_compacted_vs_raw_html"] == round(found["archive_scale_compacted_bytes"] / raw, 3)
    assert found["archive_scale_compact_s"] >= 0
