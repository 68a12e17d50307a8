"""The archive issue's acceptance, run as a user would: the installed `pa-archive` script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import SEEDS

SCRIPT = Path(sys.executable).with_name("pa-archive")


def pa(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PA_ARCHIVE_DB": str(db)}
    result = subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_seed_acceptance_end_to_end(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    pa("import", str(SEEDS), db=db)
    stats = json.loads(pa("stats", "--json", db=db).stdout)
    assert (
        stats["articles"],
        stats["article_versions"],
        stats["blocks"],
        stats["block_versions"],
        stats["conflicts"],
    ) == (5, 5, 1, 3, 1)

    conflicts = json.loads(pa("conflicts", "--json", db=db).stdout)
    assert [(c["delegation"], c["field"], [(v["value"], v["snapshots"]) for v in c["values"]]) for c in conflicts] == [
        ("Kyrgyzstan", "seats_total", [("6", 3), ("7", 2)])
    ]

    blocks = json.loads(pa("blocks", "--json", db=db).stdout)
    assert sorted(sorted(name[:3] for name in v["seen_in"]) for v in blocks) == [
        ["000", "002"],
        ["001", "004"],
        ["003"],
    ]
    first, second = blocks[0]["version_id"], blocks[1]["version_id"]
    assert "[-7-]{+6+}" in pa("diff", first, second, "--words", db=db).stdout

    again = pa("import", str(SEEDS), db=db)
    assert "Imported 0 snapshot(s)" in again.stdout
    assert json.loads(pa("stats", "--json", db=db).stdout)["snapshots"] == 5

    edited = tmp_path / "copy-under-another-name.txt"
    source = sorted(SEEDS.glob("004_*.txt"))[0]
    text = source.read_text(encoding="utf-8")
    edited.write_text(
        text.replace(
            "The election to the Mazhilis of the Parliament of the Republic of Kazakhstan "
            "was held on January 10, 2021.",
            "The election to the Mazhilis took place on 10 January 2021 under strict sanitary rules.",
        ),
        encoding="utf-8",
    )
    pa("import", str(edited), db=db)
    stats = json.loads(pa("stats", "--json", db=db).stdout)
    assert (stats["articles"], stats["article_versions"]) == (5, 6)
    history = json.loads(pa("history", str(edited), "--json", db=db).stdout)
    assert [v["version"] for v in history["versions"]] == [1, 2]


def test_bad_input_gives_one_line_per_input_and_nonzero_exit(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "blob.bin").write_bytes(bytes(range(256)) * 4)
    shutil.copy(sorted(SEEDS.glob("*.txt"))[0], tmp_path / "in" / "good.txt")
    result = pa("import", str(tmp_path / "in"), db=db, check=False)
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        f"error: {tmp_path / 'in' / 'blob.bin'}: binary content (not text or HTML)"
    ]
    assert "Traceback" not in result.stderr
    assert json.loads(pa("stats", "--json", db=db).stdout)["snapshots"] == 1
