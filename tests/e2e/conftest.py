"""Shared by the Datasette tests (test_datasette.py, test_browser.py): the archive they serve and the server.

``build_archive`` makes the archive a user would: `pa-archive import` of the bundled seeds (their
files dated one day apart) and of a JSON Lines file with hostile pages (a `<script>` quoted in the
text and in the title), then one recorded crawl run that changes a page and finds another removed.
``server`` runs `pa-archive serve` over it in a subprocess (one per test module), always stopped. The
archive is built once a test run (``tests.support.shared``) and each test module serves a copy of its own.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from dedupe import queries
from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from tests.support import shared

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SEEDS = ROOT / "dedupe" / "seeds"

PLANTED_URL = "https://pacsto.org/en/news/planted-script"
REMOVED_URL = "https://pacsto.org/en/news/youth-session"
SCRIPT = "<script>window.__pwned = 1; document.title = 'pwned'</script>"
IMG = '<img src=x onerror="window.__pwned = 2">'
TITLE = "<script>document.title='pwned'</script> Commission meets"
PARAGRAPHS = [
    "The Standing Commission of the CSTO Parliamentary Assembly on defence and security met in Minsk to discuss "
    "the harmonisation of national legislation on the protection of critical infrastructure.",
    "Participants reviewed draft model laws on information security, on countering the financing of terrorism "
    "and on the status of allied forces deployed on the territory of member states.",
    f"A visitor comment quoted in the report read: {SCRIPT} and also {IMG} which the archive must show as text.",
    "The commission agreed to submit the drafts to the plenary session of the Assembly in November and to hold "
    "the next meeting in Dushanbe.",
]
EDITED = PARAGRAPHS[:2] + [
    PARAGRAPHS[2] + " <script>window.__pwned = 4</script>",
    PARAGRAPHS[3].replace("November", "December").replace("Dushanbe", "Bishkek"),
]
REMOVED = [
    "Young deputies from six countries gathered in Astana for the annual session of the youth interparliamentary "
    "assembly and elected a new chair.",
    "They discussed education exchanges, volunteering programmes and a joint statement on digital literacy to be "
    "presented to the Council of the Assembly.",
    "The next session will take place in Yerevan in the spring.",
]


def hostile_page(title: str, paragraphs: list[str], date: str) -> str:
    """An article page whose text quotes markup, with real scripts around it (the extractor drops those)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f"<html><head><title>{html.escape(title)}</title><script>window.__pwned = 3</script></head><body>"
        f"<article><h1>{html.escape(title)}</h1><p class='date'>{date}</p>{body}</article>"
        f"<script>document.title = 'pwned'</script></body></html>"
    )


def build_archive(folder: Path) -> Path:
    """Seeds dated a day apart + hostile pages via `pa-archive import`, then one crawl run (changed + removed)."""
    seeds = folder / "seeds"
    seeds.mkdir(parents=True)
    for day, seed in enumerate(sorted(SEEDS.glob("*.txt")), start=1):
        target = seeds / seed.name
        shutil.copyfile(seed, target)
        moment = datetime(2025, 10, day, 9, 0, tzinfo=timezone.utc).timestamp()
        os.utime(target, (moment, moment))
    planted = folder / "planted.jsonl"
    planted.write_text(
        "\n".join(
            json.dumps(record)
            for record in [
                {
                    "url": PLANTED_URL,
                    "observed_at": "2025-10-06T10:00:00Z",
                    "html": hostile_page(TITLE, PARAGRAPHS, "2025-10-06"),
                },
                {
                    "url": REMOVED_URL,
                    "observed_at": "2025-10-06T11:00:00Z",
                    "html": hostile_page("Youth parliament session in Astana", REMOVED, "2025-09-30"),
                },
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    db = folder / "archive.db"
    subprocess.run(
        [str(BIN / "pa-archive"), "import", str(seeds), str(planted), "--db", str(db)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with Archive(db) as archive:  # what a crawl run records (see dedupe.schema's CRAWL_RUN_* SQL)
        with archive.db.atomic():
            run = archive.db.execute(
                queries.CRAWL_RUN_INSERT_SQL,
                {
                    "started_at": "2025-10-07T08:00:00Z",
                    "start_urls": '["https://pacsto.org/en/"]',
                    "resumed_from": None,
                    "jobdir": None,
                    "pid": None,
                },
            ).lastrowid
        origin = f"crawl:{run}"
        archive.ingest(
            [
                RawSnapshot(
                    url=PLANTED_URL,
                    observed_at="2025-10-07T08:01:00Z",
                    source="crawl",
                    origin=origin,
                    http_status=200,
                    page_type="article",
                    body=hostile_page(TITLE, EDITED, "2025-10-06").encode(),
                ),
                RawSnapshot(
                    url=REMOVED_URL,
                    observed_at="2025-10-07T08:02:00Z",
                    source="crawl",
                    origin=origin,
                    http_status=404,
                    page_type="article",
                    body=None,
                ),
            ]
        )
        with archive.db.atomic():
            archive.db.execute(
                queries.CRAWL_RUN_FINISH_SQL,
                {
                    "id": run,
                    "finished_at": "2025-10-07T08:05:00Z",
                    "status": "finished",
                    "pages_fetched": 2,
                    "new": 0,
                    "changed": 1,
                    "unchanged": 0,
                    "removed": 1,
                    "failed": 0,
                    "errors": "[]",
                    "stats": "{}",
                },
            )
    return db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_command(db: Path, port: int) -> list[str]:
    """`pa-archive serve` on 127.0.0.1:port."""
    return [str(BIN / "pa-archive"), "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port)]


class Server:
    """`pa-archive serve` in a subprocess on a free port of 127.0.0.1; ``wrapper`` runs it through another
    command (``setpriv`` as a user who cannot write the archive)."""

    def __init__(self, db: Path, log: Path, wrapper: Sequence[str] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            [*wrapper, *serve_command(db, self.port)], stdout=self._log_file, stderr=subprocess.STDOUT, cwd=db.parent
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"pa-archive serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/-/versions.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"pa-archive serve did not answer within {timeout}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log_file.close()


@pytest.fixture(scope="module")
def served_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy, the module's own, of the archive ``build_archive`` makes once a test run (``shared.shared``)."""

    def build(folder: Path) -> dict:
        build_archive(folder)
        return {}

    made, _ = shared.shared(tmp_path_factory, "datasette-archive", build)
    return shared.copy_of(made, tmp_path_factory.mktemp("datasette")) / "archive.db"


@pytest.fixture(scope="module")
def server(served_archive: Path) -> Iterator[Server]:
    running = Server(served_archive, served_archive.parent / "serve.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()
