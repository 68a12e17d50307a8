"""Many small text snapshots to import, and counting what an import (perhaps still running) stored."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from tests.conftest import seed_files


def make_snapshots(folder: Path, count: int) -> None:
    """Distinct short articles that all carry the seed block (recurring, near-identical titles)."""
    block = seed_files()[0].read_text(encoding="utf-8").splitlines()[:12]
    words = " ".join(path.read_text(encoding="utf-8") for path in seed_files()).split()
    rng = random.Random(7)
    folder.mkdir()
    for i in range(count):
        body = [" ".join(rng.choice(words) for _ in range(rng.randint(25, 60))) + "." for _ in range(3)]
        text = block + [
            f"Session {i} of the commission",
            f"{1 + i % 28} March 2023",
            f"Session {i} of the commission",
            *body,
        ]
        (folder / f"{i:04d}.txt").write_text("\n".join(text), encoding="utf-8")


def snapshot_count(db: Path) -> int:
    """Snapshots stored so far (0 while the archive cannot be read yet: it is being made or written)."""
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    except sqlite3.Error:
        return 0
