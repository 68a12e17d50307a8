"""Alerts on facts, end to end: a local JSON webhook (Apprise ``json://127.0.0.1:PORT/...``) receives
what `pa-archive crawl` and `import` send, against the replica at two epochs and the seeds.

The receiver binds port 0 on 127.0.0.1 in a thread and is stopped by the fixture.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from replica import ReplicaServer

from .conftest import ROOT, SEEDS

pytestmark = pytest.mark.e2e

FAST = ("DOWNLOAD_DELAY=0", "AUTOTHROTTLE_ENABLED=False", "REVISIT_AFTER=0", "ROBOTSTXT_OBEY=False")


class Receiver:
    """A JSON webhook on 127.0.0.1: every POST's JSON body is kept in ``messages``."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        received = self.messages

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append({"path": self.path, **json.loads(body or b"{}")})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    try:
        yield hook
    finally:
        hook.stop()


def pa_archive(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )


def crawl(db: Path, url: str, *extra: str) -> dict[str, Any]:
    args = ["crawl", "--db", str(db), "--json", "--no-progress", "--start-url", f"{url}/events", *extra]
    for setting in FAST:
        args += ["-s", setting]
    done = pa_archive(*args)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_a_crawl_that_changes_a_fact_sends_one_message_and_an_unchanged_one_none(
    tmp_path: Path, receiver: Receiver
) -> None:
    db = tmp_path / "archive.db"
    with ReplicaServer(epoch=1, lang="en") as site:
        crawl(db, site.url)  # the first crawl: no alert asked for
        unchanged = crawl(db, site.url, "--notify", receiver.url)
        assert receiver.messages == [] and unchanged["stats"]["notify"] == {"sent": False, "title": None, "errors": []}
        site.set_epoch(2)
        changed = crawl(db, site.url, "--notify", receiver.url, "--datasette-url", "http://127.0.0.1:8001")
    assert len(receiver.messages) == 1, receiver.messages
    (message,) = receiver.messages
    assert "Kyrgyzstan seats_total 7 → 6" in message["title"]
    assert "Kyrgyzstan seats_total (en): 7 → 6" in message["message"]
    assert "http://127.0.0.1:8001/-/diff?a=bv-" in message["message"]  # a ready diff of the two variants
    assert changed["stats"]["notify"]["sent"] is True
    runs = pa_archive("runs", "--db", str(db))
    assert "alert sent: pa-archive crawl run" in runs.stdout


def seeds(folder: Path, *names: str) -> Path:
    folder.mkdir(exist_ok=True)
    for name in names:
        (source,) = SEEDS.glob(f"{name}_*.txt")
        shutil.copy(source, folder / source.name)
    return folder


def test_imports_alert_through_the_environment_and_a_failed_delivery_never_fails_the_import(
    tmp_path: Path, receiver: Receiver
) -> None:
    db = str(tmp_path / "archive.db")
    assert pa_archive("import", str(seeds(tmp_path / "first", "000", "002")), "--db", db).returncode == 0
    again = pa_archive("import", str(tmp_path / "first"), "--db", db, env={"PA_ARCHIVE_NOTIFY": receiver.url})
    assert again.returncode == 0 and receiver.messages == []  # nothing new: nothing sent
    dead = "json://127.0.0.1:9/nobody"  # the discard port: nothing listens
    done = pa_archive(
        "import",
        str(seeds(tmp_path / "second", "001", "003")),
        "--db",
        db,
        env={"PA_ARCHIVE_NOTIFY": f"{receiver.url} {dead}"},
    )
    assert done.returncode == 0, done.stderr
    assert "notification to json://127.0.0.1:9/… failed" in done.stderr
    assert len(receiver.messages) == 1
    assert "Kyrgyzstan seats_total (en): 7 → 6" in receiver.messages[0]["message"]
