"""Incremental derivation equals the reference: whatever the batches and their order, the derived
tables built refresh by refresh are those the full in-memory derivation gives (``Archive.check``)."""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe.archive import Archive
from dedupe.archive.stages import texts as stage_texts
from dedupe.document import RawSnapshot
from tests.conftest import CONTACTS, pages_with_contacts
from tests.replica_corpus import replica_snapshots
from tests.unit.archive.test_stage_texts import hot_groups_as_counted

# a statement that deletes or inserts an article row (an update in place does neither)
REWRITES_ARTICLES = re.compile(r"\s*(DELETE\s+FROM|INSERT\s+(OR\s+\w+\s+)?INTO)\s+\[?articles\b", re.IGNORECASE)


def _ingest_in_batches(archive: Archive, snapshots: list[RawSnapshot], cuts: list[int]) -> None:
    bounds = [0, *sorted(c for c in cuts if 0 < c < len(snapshots)), len(snapshots)]
    for start, end in zip(bounds, bounds[1:]):
        archive.ingest(snapshots[start:end], workers=1)


@pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(seed=st.integers(0, 10_000), batches=st.integers(1, 6), share=st.floats(0.3, 1.0))
def test_any_batching_and_order_equals_the_reference(seed: int, batches: int, share: float, tmp_path_factory) -> None:
    rng = random.Random(seed)
    corpus = list(replica_snapshots(("en",)))
    chosen = rng.sample(corpus, max(1, int(len(corpus) * share)))
    cuts = rng.sample(range(1, len(chosen)), min(batches - 1, len(chosen) - 1))
    folder = tmp_path_factory.mktemp("incremental")
    with Archive(folder / "a.db") as archive:
        _ingest_in_batches(archive, chosen, cuts)
        assert archive.check() == {}


@pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis
def test_both_languages_one_page_at_a_time_in_time_order_equals_the_reference(tmp_path: Path) -> None:
    corpus = sorted(replica_snapshots(("en", "ru")), key=lambda s: (s.observed_at, s.url))
    with Archive(tmp_path / "a.db") as archive:
        for snapshot in corpus[::3]:  # every third page, one refresh each: the crawl's pattern
            archive.ingest([snapshot], workers=1)
        archive.ingest(corpus, workers=1)
        assert archive.check() == {}
        stats = archive.stats()
    assert stats["conflicts"] >= 2 and stats["block_versions"] >= 6


@pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis
def test_with_every_shared_band_key_hot_the_archive_still_equals_the_reference(tmp_path: Path, monkeypatch) -> None:
    """Band keys past ``HOT_BUCKET`` texts are read as groups, not texts (near-identical floods): with every key of
    two texts hot, the replica's pages one at a time, then all, and a line turning furniture (texts leave their
    groups) derive what the reference does, and the kept groups under each key are what their members give."""
    monkeypatch.setattr(stage_texts, "HOT_BUCKET", 1)
    corpus = sorted(replica_snapshots(("en", "ru")), key=lambda s: (s.observed_at, s.url))
    with Archive(tmp_path / "a.db") as archive:
        for snapshot in corpus[::4]:
            archive.ingest([snapshot], workers=1)
        archive.ingest(corpus, workers=1)
        for page in pages_with_contacts()[:2]:
            archive.ingest([page], workers=1)
        assert archive.check() == {}
        kept, counted = hot_groups_as_counted(archive.db.conn)
    assert kept == counted and len({key for _, key, _, _ in kept}) >= 50


def test_a_line_that_becomes_furniture_rederives_the_pages_that_carry_it(tmp_path: Path) -> None:
    shared, pages = CONTACTS, pages_with_contacts()
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(pages[:1], workers=1)  # one article: the contacts line is part of it
        first = archive.db.execute("SELECT text FROM article_versions").fetchone()[0]
        archive.ingest(pages[1:2], workers=1)  # a second article repeats it: it is furniture now
        texts = [t for (t,) in archive.db.execute("SELECT text FROM article_versions")]
        assert archive.check() == {}
    assert shared[1] in first and all(shared[1] not in t for t in texts) and len(texts) == 2


@pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis
def test_a_big_import_derived_in_windows_equals_the_reference(tmp_path: Path, monkeypatch) -> None:
    from dedupe.archive import derivation

    monkeypatch.setattr(derivation, "WINDOW", 7)  # windows of 7 snapshots: memory stays bounded on a big import
    corpus = list(replica_snapshots(("en",)))
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(corpus, workers=1)
        assert archive.check() == {}
        assert archive.stats()["conflicts"] >= 1


def _first_month() -> list[RawSnapshot]:
    return [s for s in replica_snapshots(("en",)) if s.observed_at.startswith("2024-01")]


def _seen_again(archive: Archive, pages: list[RawSnapshot], url: str) -> None:
    """The page of ``url`` observed again a day later: its article is touched, nothing else changes."""
    again = next(s for s in pages if s.url == url)
    archive.ingest([dataclasses.replace(again, observed_at="2024-01-02T00:00:00Z")], workers=1)


def test_an_article_version_missing_its_row_is_rebuilt_not_left_out(tmp_path: Path) -> None:
    # The engine keeps no article text: a version already written is updated without its text. Were its row
    # gone (a hand edit, or a bug), the update would find nothing; the refresh rebuilds instead of losing it.
    first = _first_month()
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(first, workers=1)
        conn = archive.db.conn
        version_id, url = conn.execute(
            "SELECT av.id, a.url FROM article_versions av JOIN articles a ON a.id = av.article_id "
            "ORDER BY av.id LIMIT 1"
        ).fetchone()
        with conn:
            conn.execute("DELETE FROM content_articles WHERE article_version_id = ?", [version_id])
            conn.execute("DELETE FROM article_versions WHERE id = ?", [version_id])
        _seen_again(archive, first, url)
        assert conn.execute("SELECT 1 FROM article_versions WHERE id = ?", [version_id]).fetchone() == (1,)
        assert archive.check() == {}


def test_an_article_missing_its_row_is_written_again_when_its_page_is_seen_again(tmp_path: Path) -> None:
    # updated in place, an article whose row is gone (a hand edit) gets it back, as a rewrite gave it
    first = _first_month()
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(first, workers=1)
        conn = archive.db.conn
        pid, url = conn.execute("SELECT id, url FROM articles ORDER BY id LIMIT 1").fetchone()
        conn.execute("PRAGMA foreign_keys = OFF")  # a hand edit that leaves its versions pointing at it
        with conn:
            conn.execute("DELETE FROM articles WHERE id = ?", [pid])
        conn.execute("PRAGMA foreign_keys = ON")
        _seen_again(archive, first, url)
        assert conn.execute("SELECT url FROM articles WHERE id = ?", [pid]).fetchone() == (url,)
        assert archive.check() == {}


@pytest.mark.parametrize(("share", "refreshed_at"), [(0.25, [4, 16, 28, 40]), (1.0, [4, 16, 40])])
def test_an_import_with_workers_derives_between_batches_while_they_analyse(
    tmp_path: Path, monkeypatch, share: float, refreshed_at: list[int]
) -> None:
    """Two workers: stored batches are derived while the workers analyse the next one (the derivation
    is not all left for the end), once a share of what is derived is new (so a big import does not pay
    a refresh's archive-sized steps every batch), and the archive equals the reference."""
    import dedupe.archive
    from dedupe.archive import observations
    from dedupe.archive.derivation import DerivedRecords

    monkeypatch.setattr(observations, "PARALLEL_MIN", 4)
    monkeypatch.setattr(dedupe.archive, "DERIVE_BETWEEN_MIN", 4)
    monkeypatch.setattr(dedupe.archive, "DERIVE_BETWEEN_SHARE", share)
    stored_at_refresh: list[int] = []
    refresh = DerivedRecords.refresh

    def counting_refresh(self: DerivedRecords, force: bool = False) -> bool:
        stored_at_refresh.append(self.db.execute("SELECT count(*) FROM snapshots").fetchone()[0])
        return refresh(self, force)

    monkeypatch.setattr(DerivedRecords, "refresh", counting_refresh)
    corpus = [s for s in replica_snapshots(("en",)) if "/events/" in s.url][:40]
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(corpus, workers=2, size=12, first_batch=4)
        assert archive.check() == {}
        assert archive.stats()["article_versions"] >= 10
    assert stored_at_refresh[: len(refreshed_at)] == refreshed_at


def test_flush_stores_what_arrived_without_waiting_for_a_batch_to_fill(tmp_path: Path) -> None:
    """A crawl's stream: ``FLUSH`` when its queue runs dry stores the pages so far at once (one transaction),
    so their results reach the crawl while the next pages are still being fetched."""
    from dedupe.archive import FLUSH

    corpus = [s for s in replica_snapshots(("en",)) if "/events/" in s.url][:5]
    told: list[tuple[str, str]] = []
    counted_before: list[int] = []

    def stream():
        yield from corpus[:2]
        yield FLUSH
        counted_before.append(len(told))  # when the third page is asked for
        yield from corpus[2:]

    with Archive(tmp_path / "a.db") as archive:
        report = archive.ingest(
            stream(), workers=1, listener=lambda item, result: told.append((item.url, result.status))
        )
        assert archive.check() == {}
    assert counted_before == [2] and [url for url, _ in told] == [s.url for s in corpus]
    assert {status for _, status in told} == {"new"} and report.added == 5


@pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis
def test_an_article_whose_pages_are_seen_again_is_updated_in_place(tmp_path: Path) -> None:
    # A weekly crawl that finds nothing new touches every article: its counts and last_seen move, nothing else.
    # The record is updated where it is (no delete and insert, no signature read for its versions'
    # similarities), and equals what the reference derives.
    corpus = sorted(replica_snapshots(("en",)), key=lambda s: (s.observed_at, s.url))
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(corpus, workers=1)
        conn = archive.db.conn
        pid, url, snapshots, versions = conn.execute(
            "SELECT id, url, snapshots, versions FROM articles WHERE versions > 1 ORDER BY id LIMIT 1"
        ).fetchone()
        latest = max((s for s in corpus if s.url == url), key=lambda s: s.observed_at)
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        try:
            archive.ingest([dataclasses.replace(latest, observed_at="2030-01-01T00:00:00Z")], workers=1)
        finally:
            conn.set_trace_callback(None)
        assert not [s for s in statements if REWRITES_ARTICLES.match(s)]
        assert not [s for s in statements if "signature FROM derive_texts" in s]
        assert conn.execute("SELECT snapshots, versions, last_seen FROM articles WHERE id = ?", [pid]).fetchone() == (
            snapshots + 1,
            versions,
            "2030-01-01T00:00:00Z",
        )
        # a new content of a text it has (other bytes around the same article): a new snapshot, the same versions
        other = dataclasses.replace(latest, observed_at="2030-01-08T00:00:00Z", body=latest.body + b"<!-- -->")
        statements.clear()
        conn.set_trace_callback(statements.append)
        try:
            archive.ingest([other], workers=1)
        finally:
            conn.set_trace_callback(None)
        assert not [s for s in statements if REWRITES_ARTICLES.match(s)]
        assert conn.execute("SELECT snapshots, versions FROM articles WHERE id = ?", [pid]).fetchone() == (
            snapshots + 2,
            versions,
        )
        assert archive.check() == {}
