"""The archive's one writer lock (``dedupe.archive.lock``): exclusive, named, released even when killed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dedupe.archive import ArchiveError
from dedupe.archive.lock import WriterLock, WriterLocked, writing


@pytest.mark.parametrize(
    "holder, refused, said",
    [
        ("crawl", "import", "another crawl is already writing a.db"),
        ("import", "backfill", "an import is already writing a.db"),
        ("backfill", "crawl", "a backfill is already writing a.db"),
        ("rebuild", "import", "a rebuild is already writing a.db"),
    ],
)
def test_a_second_writer_is_refused_in_one_sentence_naming_the_first(
    tmp_path: Path, holder: str, refused: str, said: str
) -> None:
    db = tmp_path / "a.db"
    with writing(db, holder) as lock:
        note = json.loads(lock.path.read_text())
        assert note["command"] == holder and note["pid"] > 0 and note["started_at"]
        with pytest.raises(WriterLocked) as caught:
            WriterLock(db).acquire(refused)
    message = str(caught.value)
    assert message.startswith(said) and f"(pid {note['pid']}, started {note['started_at']})" in message
    assert ". " not in message and message.endswith(f"(the lock is {db}.lock)")  # one sentence
    assert "try again when it has finished" in message
    assert lock.path.read_text() == ""  # released: no stale note for the next writer to report
    WriterLock(db).acquire(refused)  # free again


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    code = (
        "import os, sys; from dedupe.archive.lock import WriterLock; "
        f"WriterLock({str(db)!r}).acquire('import'); sys.stdout.write('held'); sys.stdout.flush(); os._exit(9)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout == "held" and done.returncode == 9
    lock = WriterLock(db)
    lock.acquire("crawl")  # the kernel dropped the dead holder's flock
    assert lock.held
    lock.release()


def test_a_lock_in_a_folder_that_does_not_exist_is_refused_and_nothing_is_made(tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "a.db"
    with pytest.raises(ArchiveError, match="the folder .* does not exist"):
        WriterLock(missing).acquire("import")
    assert not missing.parent.exists()
