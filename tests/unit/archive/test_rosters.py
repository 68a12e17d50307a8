"""Rosters as versioned data: versions, membership periods and changes kept by the incremental engine,
equal to the from-scratch reference (``check``) whatever the batches and their order; parity of the
two sites at a moment; roster changes and English/Russian differences in the alerts and the feed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe import queries
from dedupe.analysis import alerts, delegations
from dedupe.analysis.parity import parity
from dedupe.archive import Archive, ArchiveError
from dedupe.document import RawSnapshot
from dedupe.schema import ROSTER_TABLES
from tests.replica_corpus import country_snapshots, replica_snapshots

pytestmark = pytest.mark.usefixtures("each_page_analysed_once")  # tests.support.analysis

EPOCH_1, EPOCH_2, EPOCH_3 = "2024-01-01", "2024-02-01", "2024-03-01"


def snapshots_of(epochs: tuple[int, ...]) -> list[RawSnapshot]:
    corpus = list(replica_snapshots(("en", "ru"))) + list(country_snapshots())
    return sorted((s for s in corpus if int(s.observed_at[6]) in epochs), key=lambda s: (s.observed_at, s.url))


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    """Both sites at the three epochs, one refresh per epoch (a crawl's pattern)."""
    with Archive(tmp_path_factory.mktemp("rosters") / "a.db") as opened:
        for epoch in (1, 2, 3):
            opened.ingest(snapshots_of((epoch,)), workers=1)
        yield opened


def changes(archive: Archive, delegation: str) -> list[tuple]:
    return [
        (c["observed_at"][:10], c["language"], c["kind"], c["old_value"], c["new_value"])
        for c in delegations.roster_changes(archive, delegation)
    ]


def test_a_member_who_left_and_one_who_joined_with_their_dates(archive: Archive) -> None:
    assert changes(archive, "kyrgyzstan") == [
        (EPOCH_2, "en", "left", "Azamat Zhumabekov", ""),
        (EPOCH_2, "en", "seats", "7", "6"),
        (EPOCH_2, "ru", "left", "Жумабеков Азамат", ""),
        (EPOCH_2, "ru", "seats", "7", "6"),
    ]
    belarus = changes(archive, "Belarus")
    assert (EPOCH_2, "ru", "joined", "", "Морозов Олег") in belarus  # the Russian site an epoch early
    assert (EPOCH_3, "en", "joined", "", "Oleg Morozov") in belarus
    assert (EPOCH_3, "en", "left", "Alexander Vorobyov", "") in belarus
    tajik = changes(archive, "tajikistan")
    assert (EPOCH_3, "en", "plenipotentiary", "Umarov Ismoil", "Saidov Abdujabbor") in tajik
    periods = {
        (m["language"], m["name"]): (m["joined"][:10], (m["left"] or "")[:10])
        for m in delegations.memberships(archive, "Belarus")
    }
    assert periods[("en", "Alexander Vorobyov")] == (EPOCH_1, EPOCH_3)
    assert periods[("en", "Oleg Morozov")] == (EPOCH_3, "")
    assert periods[("ru", "Морозов Олег")] == (EPOCH_2, "")


def test_the_roster_as_of_a_date_with_since(archive: Archive) -> None:
    (before,) = [
        r for r in delegations.rosters_as_of(archive, EPOCH_1, "kyrgyzstan")["rosters"] if r["language"] == "en"
    ]
    (after,) = [
        r for r in delegations.rosters_as_of(archive, EPOCH_3, "kyrgyzstan")["rosters"] if r["language"] == "en"
    ]
    assert len(before["members"]) == 7 and len(after["members"]) == 6 and after["version"] == 2
    assert "Azamat Zhumabekov" in [m["name"] for m in before["members"]]
    assert all(m["joined"].startswith(EPOCH_1) for m in after["members"])
    assert after["members"][0]["position"].startswith("Chairman") and after["members"][0]["chamber"]
    assert delegations.rosters_as_of(archive, "2023-12-31")["rosters"] == []  # nothing observed yet
    with pytest.raises(ArchiveError, match="no delegation is called"):
        delegations.rosters_as_of(archive, None, "Atlantis")


def test_parity_compares_numbers_as_numbers_and_names_as_people(archive: Archive) -> None:
    fields = {(f["delegation"], f["field"]): f for f in parity(archive, EPOCH_2)["fields"]}
    seats = fields[("Belarus", "seats.house_of_representatives")]
    assert seats["agree"] is False and seats["en"]["values"] == [7] and seats["ru"]["values"] == [6, 7]
    assert any(s["from"] == "block" for s in seats["ru"]["sources"])  # the Russian block says 7, its page 6
    members = fields[("Belarus", "members")]
    assert members["agree"] is False
    assert members["only_en"] == ["Alexander Vorobyov"] and members["only_ru"] == ["Морозов Олег"]
    assert fields[("Belarus", "plenipotentiary")]["agree"] is True  # "Viktor Kogut" is "Когут Виктор Владимирович"
    assert fields[("Kyrgyzstan", "members")]["agree"] is True
    assert fields[("Kazakhstan", "seats.senate")]["agree"] is True  # 8 and 8 in epoch 2 ...
    later = {(f["delegation"], f["field"]): f for f in parity(archive, EPOCH_3)["fields"]}
    assert later[("Kazakhstan", "seats.senate")]["agree"] is False  # ... 8 and 5 in epoch 3
    assert later[("Belarus", "members")]["agree"] is True  # both sites list the new member by then
    for record in later.values():
        assert {"delegation", "field", "en", "ru", "agree"} <= set(record)
        assert set(record["en"]) >= {"values", "urls"} and isinstance(record["agree"], bool)


def test_check_covers_the_roster_tables_and_rebuild_gives_the_same_rows(archive: Archive, tmp_path: Path) -> None:
    assert archive.check() == {}
    before = {t: sorted(archive.db.execute(f"SELECT * FROM [{t}]").fetchall(), key=repr) for t in ROSTER_TABLES}
    assert all(before.values()), {t: len(rows) for t, rows in before.items()}
    archive.db.execute("UPDATE roster_memberships SET left = NULL")  # a wrong row: check must see it
    assert "roster_memberships" in archive.check()
    archive.rebuild()
    after = {t: sorted(archive.db.execute(f"SELECT * FROM [{t}]").fetchall(), key=repr) for t in ROSTER_TABLES}
    assert after == before


def test_a_member_listed_again_after_leaving_has_two_periods(tmp_path: Path) -> None:
    kyrgyz = [s for s in country_snapshots(("en",)) if s.url.endswith("kyrgyz-republic")]
    epoch_1, epoch_2 = kyrgyz[0], kyrgyz[1]
    back = RawSnapshot(epoch_1.url, "2024-04-01T00:00:00Z", epoch_1.body, source="crawl", page_type="country")
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest([epoch_1, epoch_2, back], workers=1)
        periods = [
            (m["period"], m["joined"][:10], (m["left"] or "")[:10])
            for m in delegations.memberships(archive, "kyrgyzstan")
            if m["name"] == "Azamat Zhumabekov"
        ]
        assert periods == [(1, EPOCH_1, EPOCH_2), (2, "2024-04-01", "")]
        assert archive.check() == {}


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(seed=st.integers(0, 10_000), batches=st.integers(1, 5))
def test_any_order_and_batching_of_country_pages_equals_the_reference(
    seed: int, batches: int, tmp_path_factory
) -> None:
    rng = random.Random(seed)
    corpus = list(country_snapshots())
    rng.shuffle(corpus)  # older observations arrive after newer ones: periods are recomputed, not appended
    cuts = sorted(rng.sample(range(1, len(corpus)), batches - 1))
    with Archive(tmp_path_factory.mktemp("order") / "a.db") as archive:
        for start, end in zip([0, *cuts], [*cuts, len(corpus)]):
            archive.ingest(corpus[start:end], workers=1)
        assert archive.check() == {}
        assert len(archive.query("SELECT * FROM roster_changes WHERE kind = 'left'")) >= 8


def test_alerts_name_roster_changes_and_new_differences_of_the_sites(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest(snapshots_of((1,)), workers=1)
        before = alerts.read_state(archive)
        archive.ingest(snapshots_of((2,)), workers=1)
        after = alerts.read_state(archive)
    found = alerts.changes_between(before, after)
    assert ("Kyrgyzstan", "en", "left", "Azamat Zhumabekov") in {
        (c["delegation"], c["language"], c["kind"], c["old_value"]) for c in found.roster_changes
    }
    assert [(d["delegation"], d["field"]) for d in found.parity_differences] == [("Belarus", "members")]
    msg = alerts.message(found, "crawl run 2", "http://127.0.0.1:8001")
    assert msg is not None
    assert "Kyrgyzstan (en) 2024-02-01: Azamat Zhumabekov left" in msg.body
    assert "Belarus members: only en: Alexander Vorobyov; only ru: Морозов Олег" in msg.body
    assert "http://127.0.0.1:8001/-/roster?delegation=Kyrgyzstan" in msg.body
    assert alerts.changes_between(after, after).roster_changes == []  # nothing new, nothing said


def test_the_feed_has_one_entry_per_new_roster(archive: Archive) -> None:
    entries = [r for r in archive.query(queries.FACT_CHANGES_FEED_SQL) if ":roster:" in r["atom_id"]]
    titles = {r["atom_title"] for r in entries}
    assert "Roster: Kyrgyzstan (en): - Azamat Zhumabekov; seats_total 7 → 6" in titles
    assert any(t.startswith("Roster: Tajikistan (en): + Abdujabbor Saidov") for t in titles)
    assert all(r["atom_link"].startswith("/-/roster?delegation=") for r in entries)
