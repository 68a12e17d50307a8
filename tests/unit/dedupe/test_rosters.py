"""Rosters from a page's lines: found by their shape, whatever the markup or language; members with the
position and chamber their biography states; the seats and plenipotentiary next to them."""

from __future__ import annotations

import pytest

from dedupe.extract import analyse
from dedupe.rosters import extract_rosters, is_roster_line
from replica import rosters as replica
from replica.render import COUNTRY_SLUGS
from replica.site import ReplicaSite


def page_lines(lang: str, path: str, epoch: int, markup: str = "header") -> list[str]:
    response = ReplicaSite(lang, markup).respond("GET", path, {}, epoch, "http://127.0.0.1")
    return [line[0] for line in analyse(response.body, "utf-8", "html").lines]


@pytest.mark.parametrize("markup", ["header", "aside"])
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_every_country_page_states_its_delegations_roster(lang: str, markup: str) -> None:
    for index, slug in enumerate(COUNTRY_SLUGS):
        delegation = replica.DELEGATIONS[index]
        (roster,) = extract_rosters(page_lines(lang, f"/countries/{slug}", 1, markup))
        expected = replica.roster(delegation, lang, 1)
        assert (roster.delegation, roster.language) == (delegation, lang)
        assert [m.name for m in roster.members] == [p.en if lang == "en" else p.ru for p in expected.members]
        assert int(roster.seats["seats_total"]) == sum(expected.seats)
        assert roster.plenipotentiary  # every country page names one, Tajikistan's too


def test_members_carry_the_position_and_chamber_of_their_biography() -> None:
    (en,) = extract_rosters(page_lines("en", "/countries/republic-of-belarus", 1))
    (ru,) = extract_rosters(page_lines("ru", "/countries/republic-of-belarus", 1))
    chairman = en.members[0]
    assert chairman.position.startswith("Chairman of the House of Representatives")
    assert chairman.chamber == "house_of_representatives"
    assert en.members[1].position == "" and en.members[1].chamber == "house_of_representatives"
    assert en.members[-1].chamber == "council_of_the_republic"
    assert ru.members[0].full_name.startswith(ru.members[0].name + " ")  # the biography adds the patronymic
    assert ru.members[0].position.startswith("Председатель Палаты представителей")


def test_the_russian_page_disagrees_with_the_english_one_as_the_real_sites_do() -> None:
    (en,) = extract_rosters(page_lines("en", "/countries/republic-of-belarus", 1))
    (ru,) = extract_rosters(page_lines("ru", "/countries/republic-of-belarus", 1))
    assert en.seats == {
        "seats_total": "11",
        "seats.house_of_representatives": "7",
        "seats.council_of_the_republic": "4",
    }
    assert ru.seats == {"seats_total": "9", "seats.house_of_representatives": "6", "seats.council_of_the_republic": "3"}
    assert [m.key for m in en.members] == [m.key for m in ru.members]  # the same people, in two scripts


def test_the_tajik_plenipotentiary_is_written_family_name_first_and_changes_in_epoch_3() -> None:
    (before,) = extract_rosters(page_lines("en", "/countries/republic-of-tajikistan", 2))
    (after,) = extract_rosters(page_lines("en", "/countries/republic-of-tajikistan", 3))
    assert before.plenipotentiary == "Umarov Ismoil" and after.plenipotentiary == "Saidov Abdujabbor"
    assert before.version_id != after.version_id


def test_pages_without_a_roster_state_none() -> None:
    articles = ReplicaSite("en")
    listing = page_lines("en", "/events", 1)
    assert extract_rosters(listing) == []
    slug = articles.respond("GET", "/events", {}, 1, "http://x").body.decode().split('href="/events/')[1].split('"')[0]
    assert extract_rosters(page_lines("en", f"/events/{slug}", 1)) == []


def test_a_roster_needs_three_names_a_full_stop_and_a_delegation_sentence_above() -> None:
    sentence = "Delegation of the Supreme Council of the Kyrgyz Republic to the CSTO PA consists of 3 deputies."
    assert is_roster_line("Ivan Petrov, Anna Ivanova, Oleg Sidorov.")
    assert not is_roster_line("Ivan Petrov, Anna Ivanova, Oleg Sidorov")  # no full stop
    assert not is_roster_line("Ivan Petrov and Anna Ivanova.")  # not comma-separated
    assert not is_roster_line("In Bishkek, on Monday, the deputies met.")  # words, not names
    assert extract_rosters(["Ivan Petrov, Anna Ivanova, Oleg Sidorov."]) == []  # whose roster? nobody says
    (roster,) = extract_rosters([sentence, "Ivan Petrov, Anna Ivanova, Oleg Sidorov."])
    assert roster.delegation == "Kyrgyzstan" and roster.seats == {"seats_total": "3"} and len(roster.members) == 3


def test_the_version_id_depends_on_what_the_roster_states_only() -> None:
    lines = page_lines("en", "/countries/kyrgyz-republic", 1)
    (a,) = extract_rosters(lines)
    (b,) = extract_rosters(page_lines("en", "/countries/kyrgyz-republic", 1, "aside"))  # other markup, same roster
    (c,) = extract_rosters(page_lines("en", "/countries/kyrgyz-republic", 2))  # a member left
    assert a.version_id == b.version_id != c.version_id and a.version_id.startswith("rv-")


def test_the_json_prefilter_never_skips_a_page_with_a_roster() -> None:
    import json

    from dedupe.rosters import may_state_a_roster

    site = ReplicaSite("ru", "aside")
    paths = [f"/countries/{slug}" for slug in COUNTRY_SLUGS] + ["/events", "/contacts"]
    slug = site.respond("GET", "/events", {}, 1, "http://x").body.decode().split('href="/events/')[1].split('"')[0]
    paths.append(f"/events/{slug}")
    for lang in ("en", "ru"):
        for path in paths:
            response = ReplicaSite(lang).respond("GET", path, {}, 3, "http://x")
            lines = analyse(response.body, "utf-8", "html").lines
            stored = json.dumps(lines, ensure_ascii=False)  # as pages.lines holds them
            assert may_state_a_roster(stored) == bool(extract_rosters([line[0] for line in lines])), (lang, path)
