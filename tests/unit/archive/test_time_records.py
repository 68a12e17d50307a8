"""The time-derived records (``dedupe.archive.time_records``): kept by every refresh, equal to the
from-scratch reference whatever the batches and their order (late older observations, flip-flops,
removals, both languages), and answering what the analyst pages and commands ask."""

from __future__ import annotations

import random
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe.archive import Archive
from dedupe.archive.time_records import TABLES, TimeRecords, reference_rows
from dedupe.document import RawSnapshot
from tests.replica_corpus import replica_snapshots

pytestmark = pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis


def _flip_flop_corpus() -> list[RawSnapshot]:
    """Both languages at the replica's three epochs, then epoch 1's pages observed again in April: the Kyrgyz
    seats go 7 -> 6 -> 7 (the block changed back), and the removed article's 404 is in epoch 3."""
    corpus = list(replica_snapshots(("en", "ru")))
    again = [
        replace(s, observed_at=s.observed_at.replace("2024-01-", "2024-04-"))
        for s in corpus
        if "2024-01-" in s.observed_at
    ]
    return corpus + again


def _periods(archive: Archive, language: str) -> list[str]:
    return [
        r["value"]
        for r in archive.query(
            "SELECT value FROM fact_periods WHERE language = ? AND delegation = 'Kyrgyzstan' AND field = 'seats_total' "
            "ORDER BY period",
            [language],
        )
    ]


@settings(
    max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(seed=st.integers(0, 10_000), batches=st.integers(1, 5))
def test_any_order_and_batching_equals_the_reference(seed: int, batches: int, tmp_path_factory) -> None:
    rng = random.Random(seed)
    corpus = _flip_flop_corpus()
    rng.shuffle(corpus)  # late older observations: a batch may hold pages older than those stored before it
    cuts = sorted(rng.sample(range(1, len(corpus)), batches - 1))
    folder = tmp_path_factory.mktemp("time")
    with Archive(folder / "a.db") as archive:
        for start, end in zip([0, *cuts], [*cuts, len(corpus)]):
            archive.ingest(corpus[start:end], workers=1)
        assert archive.check() == {}
        assert _periods(archive, "en") == ["7", "6", "7"]  # a flip-flop is three periods


def test_a_crawl_after_everything_extends_the_last_run_and_segment(tmp_path: Path) -> None:
    corpus = sorted(_flip_flop_corpus(), key=lambda s: (s.observed_at, s.url))
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(corpus[: len(corpus) // 2], workers=1)
        runs = archive.db.execute("SELECT count(*) FROM url_runs").fetchone()[0]
        newest = {s.url: s for s in corpus[: len(corpus) // 2]}  # each page as last seen
        later = [replace(s, observed_at=s.observed_at.replace("2024-", "2025-")) for s in newest.values()]
        archive.ingest(later, workers=1)  # the same pages a year on: unchanged
        assert archive.db.execute("SELECT count(*) FROM url_runs").fetchone()[0] == runs
        assert archive.check() == {}


@pytest.fixture(scope="module")
def flip_flops(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of ``_flip_flop_corpus`` in one batch, for the tests that only read it (each reads a copy)."""
    path = tmp_path_factory.mktemp("flip-flops") / "a.db"
    with Archive(path) as archive:
        archive.ingest(_flip_flop_corpus(), workers=1)
    return path


def _copy(archive: Path, tmp_path: Path) -> Path:
    """A copy of a closed archive (its one file) in ``tmp_path``."""
    return Path(shutil.copyfile(archive, tmp_path / archive.name))


def test_the_reference_builds_every_table(flip_flops: Path, tmp_path: Path) -> None:
    with Archive(_copy(flip_flops, tmp_path)) as archive:
        rows = reference_rows(archive.db.conn)
        for table in TABLES:
            assert sorted(rows[table]) == sorted(archive.db.execute(f"SELECT * FROM [{table}]").fetchall()), table
        assert {r[0] for r in rows["fact_segments"]} == {"en", "ru"}


def test_as_of_reads_each_page_at_the_moment(flip_flops: Path, tmp_path: Path) -> None:
    with Archive(_copy(flip_flops, tmp_path)) as archive:

        def kyrgyz(when: str) -> dict[str, int]:
            facts = archive.facts_as_of(when, "Kyrgyzstan")["facts"]
            found = next(f for f in facts if f["field"] == "seats_total" and f["language"] == "en")
            return {v["value"]: v["pages"] for v in found["values"]}

        first, second, back = kyrgyz("2024-01-31"), kyrgyz("2024-02-28"), kyrgyz("2024-04-30")
        assert list(first) == ["7"] and list(back) == ["7"]
        assert "6" in second
        removed = archive.db.execute(
            "SELECT count(*) FROM url_runs WHERE stating = 0 AND first_observed_at LIKE '2024-03%'"
        ).fetchone()[0]
        assert removed >= 1  # the removed article's 404 states nothing from then on


def test_a_crawl_after_everything_carries_the_running_periods_on_without_rebuilding_them(
    tmp_path: Path, monkeypatch
) -> None:
    """Every period was rebuilt from every segment at each refresh (0.66 s a language at a million
    observations, for each crawled batch); appending after everything carries on the running ones."""
    corpus = _flip_flop_corpus()
    later = sorted(  # a crawl's pages arrive in time order
        (
            replace(s, observed_at=s.observed_at.replace("2024-", "2025-"))
            for s in corpus
            if "2024-01-" in s.observed_at
        ),
        key=lambda s: s.observed_at,
    )
    rebuilt: list[str] = []
    original = TimeRecords._write_periods

    def counting(self, language: str) -> None:
        rebuilt.append(language)
        original(self, language)

    monkeypatch.setattr(TimeRecords, "_write_periods", counting)
    counts = "SELECT language, count(*) AS n FROM fact_periods GROUP BY 1"
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(corpus, workers=1)
        assert rebuilt  # the first derivation builds them
        before = {r["language"]: r["n"] for r in archive.query(counts)}
        rebuilt.clear()
        for snapshot in later:  # a crawl a year on, page by page: each refresh appends after everything
            archive.ingest([snapshot], workers=1)
        assert rebuilt == []
        assert {r["language"]: r["n"] for r in archive.query(counts)} == before  # April's values go on
        newest = archive.query("SELECT max(last_seen) AS t FROM fact_periods WHERE language = 'en'")[0]["t"]
        assert newest.startswith("2025-")  # ... into the new year
        assert archive.check() == {}
        changed = sorted(  # then epoch 2's pages: the seat count changes again, new periods start
            (
                replace(s, observed_at=s.observed_at.replace("2024-", "2026-"))
                for s in corpus
                if "2024-02-" in s.observed_at
            ),
            key=lambda s: s.observed_at,
        )
        for snapshot in changed:
            archive.ingest([snapshot], workers=1)
        assert rebuilt == []
        assert {r["language"]: r["n"] for r in archive.query(counts)}["en"] > before["en"]
        assert _periods(archive, "en") == ["7", "6", "7", "6"]
        assert archive.check() == {}
