"""People across scripts: one key for one person in any script, word order, with or without patronymic;
close keys shown as possible matches, never merged."""

from __future__ import annotations

import pytest

from dedupe.people import identities, name_key, name_tokens, same_person
from replica import rosters


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Viktor Kogut", "Когут Виктор"),  # the seeds' Belarusian plenipotentiary, family name first in Russian
        ("Viktor Rogalev", "Рогалев Виктор Павлович"),  # with a patronymic, as paodkb.org writes it
        ("Mikhail Krotov", "Михаил Кротов"),
        ("Shabdanbek Alishev", "Алишев Шабданбек"),
        ("Kassym-Jomart Tokayev", "Касым-Жомарт Токаев"),  # doubled letters, J for Ж, -ayev
        ("Sergei Rachkov", "Рачков Сергей Николаевич"),  # Sergei / Sergey
        ("Yerlan Koshanov", "Ерлан Кошанов"),  # Ye / E
        ("Alexander Vorobyov", "Воробьёв Александр"),  # x / ks, yo / e
        ("Dmitry Mitskevich", "Мицкевич Дмитрий Анатольевич"),  # a family name ending in -evich is kept
        ("Kogut Viktor", "VIKTOR KOGUT"),  # order and capitals
    ],
)
def test_one_person_across_scripts_orders_and_patronymics(a: str, b: str) -> None:
    assert same_person(a, b), (name_key(a), name_key(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Viktor Kogut", "Viktor Rogalev"),
        ("Sergei Ivanov", "Sergei Ivanova"),  # close, but not one key: shown as a possible match
        ("Alexander Ivanov", "Alexei Ivanov"),
        ("Murat Nurtayev", "Nurlan Nurtayev"),
        ("", "Viktor Kogut"),
    ],
)
def test_different_people_have_different_keys(a: str, b: str) -> None:
    assert not same_person(a, b)


def test_the_patronymic_is_dropped_but_a_family_name_like_one_is_not() -> None:
    assert name_tokens("Рогалев Виктор Павлович") == ["rogalev", "viktor"]
    assert name_tokens("Viktor Pavlovich Rogalev") == ["viktor", "rogalev"]
    assert name_tokens("Гайдукевич Виктор Викторович") == ["gaydukevich", "viktor"]  # anyascii: й -> y
    assert name_tokens("Dmitry Mitskevich") == ["dmitry", "mitskevich"]


def test_close_names_are_shown_as_possible_matches_never_merged() -> None:
    found = {i.name: i for i in identities(["Sergei Ivanov", "Сергей Иванов", "Sergey Ivanova", "Alexei Ivanov"])}
    assert set(found) == {"Sergei Ivanov", "Sergey Ivanova", "Alexei Ivanov"}  # three people, none merged
    assert found["Sergei Ivanov"].spellings == ["Sergei Ivanov", "Сергей Иванов"]
    assert found["Sergei Ivanov"].possible_matches == [name_key("Sergey Ivanova")]
    assert found["Alexei Ivanov"].possible_matches == []  # another given name altogether


def test_every_replica_member_is_one_person_in_both_scripts_and_no_two_collide() -> None:
    everyone = [p for d in rosters.delegations().values() for p in (*d.members, *d.newcomers)]
    for person in everyone:
        keys = {name_key(person.en), name_key(person.ru), name_key(person.ru_full)}
        assert len(keys) == 1, (person.en, person.ru_full, keys)
    found = identities([name for p in everyone for name in (p.en, p.ru_full)])
    assert len(found) == len(everyone)
    assert all(len(i.spellings) == 2 and not i.possible_matches for i in found)
