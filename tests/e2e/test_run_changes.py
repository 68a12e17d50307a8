"""A run's changes are labelled the same whatever the revisit policy fetched, and `runs` says them.

Issue 21: after the replica moved to epoch 2, a default-policy crawl (listing page 1 only) stored the
block change as four `removed` and four `added` lines, a `--revisit-after 0` crawl (every page) as
`Kyrgyzstan seats_total: 7 → 6`. Both are scheduled runs of the same site: the labels must agree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from crawler.process import crawl_subprocess
from replica import ReplicaServer
from tests.support import shared

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def labels(changes: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, detail) of every line change of the run's new block variants, in a stable order."""
    return sorted(
        (c["kind"], c["detail"] or c["new_text"] or c["old_text"] or "")
        for v in changes["new_block_versions"]
        for c in v["changes"]
    )


def crawl_epochs(db: Path, server: ReplicaServer, revisit_all: bool) -> list[dict[str, Any]]:
    found = []
    for epoch in (1, 2, 3):
        server.set_epoch(epoch)
        extra = ("--revisit-after", "0") if revisit_all or epoch == 1 else ()
        found.append(crawl_subprocess(str(db), [f"{server.url}/events"], *extra))
    return found


def test_the_labels_of_a_block_change_do_not_depend_on_the_revisit_policy(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # every page at every epoch: the run's shared crawl (crawl_epochs(..., revisit_all=True) on a replica of its own)
    everything = shared.english_epochs(tmp_path_factory)[1]["runs"]
    with ReplicaServer(epoch=1, lang="en") as server:
        scheduled = crawl_epochs(tmp_path / "default.db", server, revisit_all=False)
    assert scheduled[1]["pages_fetched"] < everything[1]["pages_fetched"]  # the default policy fetched less
    for full, due in zip(everything[1:], scheduled[1:]):
        assert labels(due["stats"]["changes"]) == labels(full["stats"]["changes"])
        assert {c["kind"] for v in due["stats"]["changes"]["new_block_versions"] for c in v["changes"]} <= {
            "conflict",
            "missing",
            "filled",
            "reworded",
        }
    assert ("conflict", "Kyrgyzstan seats_total: 7 → 6") in labels(scheduled[1]["stats"]["changes"])
    changed = scheduled[1]["stats"]["changes"]["changed_facts"]
    facts = {(c["delegation"], c["field"], c["old"], c["new"]) for c in changed}
    assert ("Kyrgyzstan", "seats_total", "7", "6") in facts

    # `runs` and `runs N` say what changed, at 80 columns
    listing = subprocess.run(
        [sys.executable, "-m", "cli", "runs", "--db", str(tmp_path / "default.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listing.returncode == 0, listing.stderr
    assert "fact changed: Kyrgyzstan seats_total (en): 7 -> 6" in listing.stdout
    one = subprocess.run(
        [sys.executable, "-m", "cli", "runs", str(scheduled[1]["id"]), "--db", str(tmp_path / "default.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert one.returncode == 0, one.stderr
    assert "conflict: Kyrgyzstan seats_total: 7 → 6" in one.stdout
    assert "new conflict: Kyrgyzstan seats_total (en): 7 vs 6" in one.stdout
    for line in (listing.stdout + one.stdout).splitlines():
        assert len(line) <= 80, line
