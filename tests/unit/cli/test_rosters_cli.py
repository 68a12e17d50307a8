"""`pa-archive roster` and `parity` as a user runs them: 80 columns, the JSON interfaces, one-sentence errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from dedupe.archive import Archive
from tests.replica_corpus import country_snapshots, replica_snapshots
from tests.support.analysis import analyse_each_page_once


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Both sites' country pages at the three epochs, with the listings (the block's facts)."""
    path = tmp_path_factory.mktemp("cli") / "a.db"
    corpus = [s for s in replica_snapshots(("en", "ru")) if "/events?" in s.url] + list(country_snapshots())
    with Archive(path) as archive, pytest.MonkeyPatch.context() as patched:
        analyse_each_page_once(patched)  # the replica's pages as analysed before in this process
        archive.ingest(sorted(corpus, key=lambda s: s.observed_at), workers=1)
    yield str(path)


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def test_roster_lists_members_with_since_in_80_columns(db: str) -> None:
    result = run("roster", "KYRGYZSTAN", "--as-of", "2024-01-15", "--db", db)
    assert result.exit_code == 0, result.output
    assert "Kyrgyzstan (en): 7 members, roster v1" in result.output
    assert "Azamat Zhumabekov" in result.output and "since 2024-01-01" in result.output
    assert all(len(line) <= 80 for line in result.output.splitlines())


def test_roster_changes_say_who_left_and_joined_when_and_what_to_diff(db: str) -> None:
    result = run("roster", "belarus", "--changes", "--db", db)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    at = lines.index("2024-03-01 00:50  Belarus (en)")
    assert lines[at + 2].startswith("  pa-archive diff s") and lines[at + 2].endswith(" --words")
    assert lines[at + 3 : at + 5] == ["  left    Alexander Vorobyov", "  joined  Oleg Morozov"]
    data = json.loads(run("roster", "belarus", "--changes", "--json", "--db", db).output)
    assert {c["kind"] for c in data["changes"]} == {"joined", "left"}
    assert [m["name"] for m in data["memberships"] if m["left"]] == ["Alexander Vorobyov", "Воробьёв Александр"]


def test_parity_json_is_a_list_of_fields_with_both_sides(db: str) -> None:
    fields = json.loads(run("parity", "--as-of", "2024-02-15", "--json", "--db", db).output)
    assert isinstance(fields, list) and fields
    assert all({"delegation", "field", "en", "ru", "agree"} <= set(f) for f in fields)
    differ = {(f["delegation"], f["field"]) for f in fields if not f["agree"]}
    assert ("Belarus", "seats.house_of_representatives") in differ and ("Belarus", "members") in differ
    assert ("Kazakhstan", "seats.senate") not in differ  # until epoch 3
    text = run("parity", "--as-of", "2024-02-15", "--db", db).output
    assert "Belarus members: differ" in text and "  only ru: Морозов Олег" in text
    assert all(len(line) <= 80 for line in text.splitlines())


def test_an_unknown_delegation_is_one_sentence(db: str) -> None:
    result = run("roster", "atlantis", "--db", db)
    assert result.exit_code == 1 and "no delegation is called 'atlantis'" in result.output
    result = run("parity", "--delegation", "atlantis", "--db", db)
    assert result.exit_code == 1 and "no delegation is called 'atlantis'" in result.output


def test_an_archive_without_country_pages_has_no_rosters_and_nothing_to_compare(tmp_path: Path) -> None:
    path = str(tmp_path / "a.db")
    with Archive(path) as archive:
        archive.ingest([s for s in replica_snapshots(("en",)) if "/events?" in s.url], workers=1)
    assert "none: no page listing a delegation's members" in run("roster", "--db", path).output
    assert "No roster changes" in run("roster", "--changes", "--db", path).output
    assert "nothing to compare" in run("parity", "--db", path).output


def test_people_lists_every_spelling_and_shows_possible_same_persons_unmerged(tmp_path: Path) -> None:
    from dedupe.document import RawSnapshot

    pages = {
        "en": "Delegation of the Supreme Council of the Kyrgyz Republic to the CSTO PA consists of 3 deputies.\n"
        "Sergei Ivanov, Anna Petrova, Oleg Sidorov.",
        "ru": "Делегация Жогорку Кенеша Кыргызской Республики в ПА ОДКБ состоит из 3 депутатов.\n"
        "Иванова Сергей, Петрова Анна Ивановна, Сидоров Олег.",
    }
    path = str(tmp_path / "a.db")
    with Archive(path) as archive:
        archive.ingest(
            [
                RawSnapshot(f"https://{lang}.example/c", "2024-01-01T00:00:00Z", text.encode())
                for lang, text in pages.items()
            ],
            workers=1,
        )
    result = run("roster", "--people", "--db", path)
    assert result.exit_code == 0, result.output
    assert "Anna Petrova (Kyrgyzstan; en, ru)" in result.output and "Петрова Анна Ивановна" in result.output
    assert "  ? may be the same person as Sergei Ivanov" in result.output  # Ivanova: shown, not merged
    people = json.loads(run("roster", "--people", "--json", "--db", path).output)
    assert len(people) == 4 and sum(bool(p["possible_matches"]) for p in people) == 2
