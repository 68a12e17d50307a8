"""Every refresh derives in place (no rebuild), with the very result of a rebuild: 304s, byte-identical
pages, removals, failures, new contents and late-arriving older observations alike."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from dedupe.stemming import stem_word
from replica import ReplicaSite, site_state
from tests.conftest import derived_tables

pytestmark = pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis
BASE = "http://127.0.0.1:8000"


def observe(
    path: str, when: str, epoch: int = 1, status: int = 200, lang: str = "en", page_type: str | None = None
) -> RawSnapshot:
    body, headers = None, {}
    if status == 200:
        answer = ReplicaSite(lang=lang).respond("GET", path, {}, epoch, BASE)
        body, headers = answer.body, dict(answer.headers)
    kind = page_type or ("listing" if path.startswith("/events?") or path == "/events" else "article")
    return RawSnapshot(
        url=BASE + path,
        observed_at=when,
        body=body,
        source="crawl",
        origin="crawl:1",
        http_status=status,
        headers=headers,
        declared_charset="utf-8" if body else None,
        page_type=kind,
    )


def derived(db: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(db)
    try:
        tables = derived_tables(con)
        tables["fts"] = sorted(
            con.execute(  # the versions full-text search finds (rowids follow arrival)
                "SELECT av.id FROM article_versions_stemmed "
                "JOIN article_versions av ON av.rowid = article_versions_stemmed.rowid "
                "WHERE article_versions_stemmed MATCH ?",
                [f"{stem_word('assembly')} OR {stem_word('ассамблея')}"],
            ).fetchall()
        )
        return tables
    finally:
        con.close()


def rebuilt(db: Path, folder: Path) -> dict[str, list[tuple]]:
    copy = folder / "rebuilt.db"
    with Archive(db) as archive:
        archive.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(db, copy)
    with Archive(copy) as archive:
        archive.refresh(force=True)
    return derived(copy)


def spied(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records each refresh as "in place" or "rebuild"."""
    calls: list[str] = []
    derive_all, refresh = archive.derived._derive_all, archive.derived.refresh

    def rebuild_all(last: int) -> None:
        calls.append("rebuild")
        derive_all(last)

    def spied_refresh(force: bool = False) -> bool:
        count = len(calls)
        done = refresh(force)
        if done and len(calls) == count:
            calls.append("in place")
        return done

    monkeypatch.setattr(archive.derived, "_derive_all", rebuild_all)
    monkeypatch.setattr(archive.derived, "refresh", spied_refresh)  # archive.refresh and ingest call it
    return calls


@pytest.fixture
def crawled(tmp_path: Path) -> Path:
    db = tmp_path / "a.db"
    articles = [a.path for a in site_state("en", 1).articles]
    with Archive(db) as archive:
        archive.ingest(
            [observe("/events", "2026-11-01T03:00:00Z"), observe("/events?page=2", "2026-11-01T03:00:01Z")]
            + [observe(p, f"2026-11-01T03:01:{i:02d}Z") for i, p in enumerate(articles)],
            workers=1,
        )
        archive.ingest(
            [observe(p, f"2026-11-08T03:01:{i:02d}Z", epoch=2) for i, p in enumerate(articles[:4])], workers=1
        )  # a new block variant on four pages, and the edit if it is among them
    return db


def test_observations_without_new_content_refresh_in_place_exactly_as_a_rebuild(
    crawled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = [a.path for a in site_state("en", 1).articles]
    with Archive(crawled) as archive:
        calls = spied(archive, monkeypatch)
        for snap in [
            observe("/events", "2026-11-09T03:00:00Z", status=304),
            observe(articles[0], "2026-11-09T03:00:01Z", epoch=2),  # byte-identical: seen again
            observe(articles[5], "2026-11-09T03:00:02Z", status=304),
            observe(articles[6], "2026-11-09T03:00:03Z", status=404),  # removed
            observe(articles[7], "2026-11-09T03:00:04Z", status=500),
        ]:  # a failure
            archive.add(snap)
        assert archive.refresh() and calls == ["in place"]
        assert not archive.is_stale()
    after = derived(crawled)
    assert after == rebuilt(crawled, tmp_path)
    removed = [r for r in after["articles"] if r[2] == BASE + articles[6]]
    assert removed and removed[0][3] == "removed"


def test_a_new_content_or_an_older_observation_is_derived_in_place(
    crawled: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = [a.path for a in site_state("en", 1).articles]
    with Archive(crawled) as archive:
        calls = spied(archive, monkeypatch)
        archive.add(observe(articles[8], "2026-11-09T03:00:00Z", epoch=3))  # a new block variant: new content
        assert archive.refresh() and calls == ["in place"]
        archive.add(observe(articles[9], "2025-01-01T00:00:00Z"))  # imported late, seen before anything else
        assert archive.refresh() and calls == ["in place"] * 2
        archive.add(observe(articles[9], "2026-11-10T00:00:00Z", status=304))
        assert archive.refresh() and calls == ["in place"] * 3
        assert archive.check() == {}
    assert derived(crawled) == rebuilt(crawled, tmp_path)


def test_an_archive_derived_by_an_older_version_rebuilds_once(crawled: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Archive(crawled) as archive:
        archive.db.execute("DELETE FROM archive_state WHERE key = 'derive_engine'")
        archive.add(observe("/events", "2026-11-09T03:00:00Z", status=304))
        calls = spied(archive, monkeypatch)
        assert archive.refresh() and calls == ["rebuild"]
        archive.add(observe("/events", "2026-11-10T03:00:00Z", status=304))
        assert archive.refresh() and calls == ["rebuild", "in place"]
