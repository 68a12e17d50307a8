"""An archive served immutable (``pa-archive serve`` on a file it cannot write) is not read whole for its hash.

Datasette names an immutable database by a sha256 of the whole file, computed when the first page asks
(about 3 s for a 1.4 GB archive); the plugin gives it a fingerprint at startup (``fingerprint``)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from dedupe.archive import Archive
from dedupe.document import RawSnapshot


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("immutable") / "archive.db"
    with Archive(db) as archive:
        html = b"<html><head><title>A</title></head><body><p>One paragraph of an article.</p></body></html>"
        archive.ingest([RawSnapshot(url="https://pacsto.org/events/a", body=html, observed_at="2025-01-01T00:00:00Z")])
    for extra in (db.with_name("archive.db-wal"), db.with_name("archive.db-shm")):
        assert not extra.exists()  # closed cleanly: what serve opens as immutable
    return db


def index_pages(db: Path, inspect_data: dict | None = None) -> tuple[int, str | None]:
    """Status of the index page and the database's hash, Datasette opening ``db`` as immutable with the plugin."""
    from datasette.app import Datasette

    from datasette_pa_archive.serving import register_plugin

    register_plugin()
    datasette = Datasette(immutables=[str(db)], inspect_data=inspect_data)

    async def run() -> tuple[int, str | None]:
        response = await datasette.client.get("/")
        return response.status_code, datasette.get_database(db.stem).hash

    return asyncio.run(run())


def test_the_first_page_does_not_hash_the_whole_file(archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasette.database

    read_whole: list[Path] = []
    monkeypatch.setattr(datasette.database, "inspect_hash", lambda path: read_whole.append(path) or "whole")
    status, digest = index_pages(archive)
    assert status == 200
    assert read_whole == []
    from datasette_pa_archive.fingerprint import quick_hash

    assert digest == quick_hash(archive) and len(digest) == 64


def test_the_fingerprint_changes_with_the_file_and_an_inspect_file_is_kept(archive: Path, tmp_path: Path) -> None:
    from datasette_pa_archive.fingerprint import quick_hash

    copy = tmp_path / "copy.db"
    copy.write_bytes(archive.read_bytes())
    before = quick_hash(copy)
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert quick_hash(copy) != before  # touched: another file as far as a cache can tell
    status, digest = index_pages(copy, {"copy": {"hash": "from-inspect", "size": 1, "file": str(copy), "tables": {}}})
    assert status == 200 and digest == "from-inspect"
