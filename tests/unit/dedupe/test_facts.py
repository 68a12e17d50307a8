"""dedupe.facts: delegation block lines -> (delegation, field, value, line_no), EN and RU."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # run from anywhere, even before the package is installed
    sys.path.insert(0, str(ROOT))

from dedupe.facts import Fact, extract_facts  # noqa: E402

SEEDS = ROOT / "dedupe" / "seeds"
RU_DATA = ROOT / "replica" / "data"
BLOCK_LINES = 12


def seed_lines(prefix: str) -> list[str]:
    (path,) = SEEDS.glob(f"{prefix}_*.txt")
    return path.read_text(encoding="utf-8").splitlines()


def seed_block(prefix: str) -> list[str]:
    return seed_lines(prefix)[:BLOCK_LINES]


def ru_block(variant: str) -> list[str]:
    return (RU_DATA / f"block_ru_{variant}.txt").read_text(encoding="utf-8").splitlines()


def rows(facts: list[Fact]) -> list[tuple[str, str, str, int]]:
    return [(f.delegation, f.field, f.value, f.line_no) for f in facts]


def by_key(facts: list[Fact]) -> dict[tuple[str, str], str]:
    return {(f.delegation, f.field): f.value for f in facts}


SEED_000 = [
    ("Belarus", "seats_total", "11", 0),
    ("Belarus", "seats.house_of_representatives", "7", 0),
    ("Belarus", "seats.council_of_the_republic", "4", 0),
    ("Belarus", "plenipotentiary", "Viktor Kogut", 1),
    ("Belarus", "website.house_of_representatives", "http://house.gov.by/en/", 2),
    ("Belarus", "website.council_of_the_republic", "http://www.sovrep.gov.by/ru/", 3),
    ("Kazakhstan", "seats_total", "16", 4),
    ("Kazakhstan", "seats.mazhilis", "8", 4),
    ("Kazakhstan", "seats.senate", "8", 4),
    ("Kazakhstan", "plenipotentiary", "Viktor Rogalev", 5),
    ("Kyrgyzstan", "seats_total", "7", 6),
    ("Kyrgyzstan", "plenipotentiary", "Shabdanbek Alishev", 7),
    ("Kyrgyzstan", "website.supreme_council", "http://www.kenesh.kg/", 8),
    ("Russia", "seats_total", "22", 9),
    ("Russia", "seats.state_duma", "10", 9),
    ("Russia", "seats.federation_council", "12", 9),
    ("Russia", "plenipotentiary", "Mikhail Krotov", 10),
    ("Tajikistan", "seats_total", "12", 11),
    ("Tajikistan", "seats.national_assembly", "6", 11),
    ("Tajikistan", "seats.assembly_of_representatives", "6", 11),
]

RU_A = [
    ("Belarus", "seats_total", "11", 0),
    ("Belarus", "seats.house_of_representatives", "7", 0),
    ("Belarus", "seats.council_of_the_republic", "4", 0),
    ("Belarus", "plenipotentiary", "Виктор Когут", 1),
    ("Belarus", "website.house_of_representatives", "http://house.gov.by/", 2),
    ("Belarus", "website.council_of_the_republic", "http://www.sovrep.gov.by/", 3),
    ("Kazakhstan", "seats_total", "16", 4),
    ("Kazakhstan", "seats.mazhilis", "8", 4),
    ("Kazakhstan", "seats.senate", "8", 4),
    ("Kazakhstan", "plenipotentiary", "Виктор Рогалев", 5),
    ("Kyrgyzstan", "seats_total", "7", 6),
    ("Kyrgyzstan", "plenipotentiary", "Шабданбек Алишев", 7),
    ("Kyrgyzstan", "website.supreme_council", "http://www.kenesh.kg/", 8),
    ("Russia", "seats_total", "22", 9),
    ("Russia", "seats.state_duma", "10", 9),
    ("Russia", "seats.federation_council", "12", 9),
    ("Russia", "plenipotentiary", "Михаил Кротов", 10),
    ("Tajikistan", "seats_total", "12", 11),
    ("Tajikistan", "seats.national_assembly", "6", 11),
    ("Tajikistan", "seats.assembly_of_representatives", "6", 11),
]

# B: Kyrgyz 6 seats, every website line empty after its colon.
RU_B = [
    ("Belarus", "seats_total", "11", 0),
    ("Belarus", "seats.house_of_representatives", "7", 0),
    ("Belarus", "seats.council_of_the_republic", "4", 0),
    ("Belarus", "plenipotentiary", "Виктор Когут", 1),
    ("Belarus", "website.house_of_representatives", "", 2),
    ("Belarus", "website.council_of_the_republic", "", 3),
    ("Kazakhstan", "seats_total", "16", 4),
    ("Kazakhstan", "seats.mazhilis", "8", 4),
    ("Kazakhstan", "seats.senate", "8", 4),
    ("Kazakhstan", "plenipotentiary", "Виктор Рогалев", 5),
    ("Kyrgyzstan", "seats_total", "6", 6),
    ("Kyrgyzstan", "plenipotentiary", "Шабданбек Алишев", 7),
    ("Kyrgyzstan", "website.supreme_council", "", 8),
    ("Russia", "seats_total", "22", 9),
    ("Russia", "seats.state_duma", "10", 9),
    ("Russia", "seats.federation_council", "12", 9),
    ("Russia", "plenipotentiary", "Михаил Кротов", 10),
    ("Tajikistan", "seats_total", "12", 11),
    ("Tajikistan", "seats.national_assembly", "6", 11),
    ("Tajikistan", "seats.assembly_of_representatives", "6", 11),
]

# C: Kyrgyz 6 seats, URLs, Russian line reworded ("представлена ... 12 сенаторами").
RU_C = [
    ("Belarus", "seats_total", "11", 0),
    ("Belarus", "seats.house_of_representatives", "7", 0),
    ("Belarus", "seats.council_of_the_republic", "4", 0),
    ("Belarus", "plenipotentiary", "Виктор Когут", 1),
    ("Belarus", "website.house_of_representatives", "http://house.gov.by/", 2),
    ("Belarus", "website.council_of_the_republic", "http://www.sovrep.gov.by/", 3),
    ("Kazakhstan", "seats_total", "16", 4),
    ("Kazakhstan", "seats.mazhilis", "8", 4),
    ("Kazakhstan", "seats.senate", "8", 4),
    ("Kazakhstan", "plenipotentiary", "Виктор Рогалев", 5),
    ("Kyrgyzstan", "seats_total", "6", 6),
    ("Kyrgyzstan", "plenipotentiary", "Шабданбек Алишев", 7),
    ("Kyrgyzstan", "website.supreme_council", "http://www.kenesh.kg/", 8),
    ("Russia", "seats_total", "22", 9),
    ("Russia", "seats.state_duma", "10", 9),
    ("Russia", "seats.federation_council", "12", 9),
    ("Russia", "plenipotentiary", "Михаил Кротов", 10),
    ("Tajikistan", "seats_total", "12", 11),
    ("Tajikistan", "seats.national_assembly", "6", 11),
    ("Tajikistan", "seats.assembly_of_representatives", "6", 11),
]

RUSSIA_SEATS = [
    ("Russia", "seats_total", "22", 0),
    ("Russia", "seats.state_duma", "10", 0),
    ("Russia", "seats.federation_council", "12", 0),
]


# ------------------------------------------------------------------ exact output


def test_fact_is_a_frozen_dataclass_with_the_agreed_fields():
    assert [f.name for f in dataclasses.fields(Fact)] == ["delegation", "field", "value", "line_no"]
    fact = Fact("Russia", "seats_total", "22", 9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fact.value = "23"  # type: ignore[misc]


def test_seed_000_block_gives_exactly_these_facts():
    facts = extract_facts(seed_block("000"))
    assert all(isinstance(f, Fact) for f in facts)
    assert rows(facts) == SEED_000


@pytest.mark.parametrize(("variant", "expected"), [("a", RU_A), ("b", RU_B), ("c", RU_C)])
def test_russian_block_variants_give_exactly_these_facts(variant, expected):
    assert rows(extract_facts(ru_block(variant))) == expected


def test_english_seeds_all_parse_to_the_same_twenty_keys():
    keys = {
        p: [(f.delegation, f.field) for f in extract_facts(seed_block(p))] for p in ("000", "001", "002", "003", "004")
    }
    expected = [(d, f) for d, f, _, _ in SEED_000]
    assert all(k == expected for k in keys.values()), keys


# ------------------------------------------------------------------ the kinds of change


def test_kyrgyz_seats_7_versus_6_is_the_only_seat_difference():
    seven, six = by_key(extract_facts(seed_block("000"))), by_key(extract_facts(seed_block("001")))
    assert seven[("Kyrgyzstan", "seats_total")] == "7"
    assert six[("Kyrgyzstan", "seats_total")] == "6"
    seat_diffs = {k for k in seven if k[1].startswith("seats") and seven[k] != six[k]}
    assert seat_diffs == {("Kyrgyzstan", "seats_total")}


@pytest.mark.parametrize("prefix", ["001", "004"])
def test_empty_website_lines_are_missing_values_not_absent_facts(prefix):
    facts = by_key(extract_facts(seed_block(prefix)))
    websites = {k: v for k, v in facts.items() if k[1].startswith("website.")}
    assert websites == {
        ("Belarus", "website.house_of_representatives"): "",
        ("Belarus", "website.council_of_the_republic"): "",
        ("Kyrgyzstan", "website.supreme_council"): "",
    }


def test_seed_002_states_the_same_facts_as_000():
    assert rows(extract_facts(seed_block("002"))) == SEED_000


def test_english_russian_rewording_gives_the_same_facts_as_000():
    line_000, line_003 = seed_block("000")[9], seed_block("003")[9]
    assert "12 members of the Federation Council" in line_000
    assert "12 senators" in line_003 and line_000 != line_003
    assert rows(extract_facts([line_003])) == rows(extract_facts([line_000])) == RUSSIA_SEATS


def test_seed_003_differs_from_000_only_in_kyrgyz_seats():
    a, b = by_key(extract_facts(seed_block("000"))), by_key(extract_facts(seed_block("003")))
    assert a.keys() == b.keys()
    assert {k for k in a if a[k] != b[k]} == {("Kyrgyzstan", "seats_total")}


def test_russian_rewording_senators_equals_members_of_the_federation_council():
    a, c = ru_block("a")[9], ru_block("c")[9]
    assert "12 членов Совета Федерации" in a and "12 сенаторами" in c
    assert rows(extract_facts([a])) == rows(extract_facts([c])) == RUSSIA_SEATS


def test_english_and_russian_variant_a_agree_on_keys_and_numbers():
    en, ru = extract_facts(seed_block("000")), extract_facts(ru_block("a"))
    assert [(f.delegation, f.field) for f in en] == [(f.delegation, f.field) for f in ru]
    numeric = lambda facts: {(f.delegation, f.field): f.value for f in facts if f.value.isdigit()}  # noqa: E731
    assert numeric(en) == numeric(ru)
    assert len(numeric(en)) == 13
    assert (
        by_key(en)[("Kyrgyzstan", "website.supreme_council")] == by_key(ru)[("Kyrgyzstan", "website.supreme_council")]
    )


def test_russian_b_versus_a_pairs_missing_websites_and_the_kyrgyz_conflict():
    a, b = by_key(extract_facts(ru_block("a"))), by_key(extract_facts(ru_block("b")))
    assert a.keys() == b.keys()
    changed = {k: (a[k], b[k]) for k in a if a[k] != b[k]}
    assert changed == {
        ("Belarus", "website.house_of_representatives"): ("http://house.gov.by/", ""),
        ("Belarus", "website.council_of_the_republic"): ("http://www.sovrep.gov.by/", ""),
        ("Kyrgyzstan", "seats_total"): ("7", "6"),
        ("Kyrgyzstan", "website.supreme_council"): ("http://www.kenesh.kg/", ""),
    }


# ------------------------------------------------------------------ attribution


def test_plenipotentiary_lines_mentioning_the_assembly_stay_with_their_delegation():
    block = seed_block("000")
    assert rows(extract_facts([block[10]])) == [("Russia", "plenipotentiary", "Mikhail Krotov", 0)]
    assert rows(extract_facts([block[5]])) == [("Kazakhstan", "plenipotentiary", "Viktor Rogalev", 0)]


def test_lines_naming_no_country_take_the_last_delegation_line():
    lines = [
        "Delegation of the Supreme Council of the Kyrgyz Republic to the CSTO PA consists of 6 deputies.",
        "Plenipotentiary representative: Shabdanbek Alishev",
        "Website: http://www.kenesh.kg/",
    ]
    assert rows(extract_facts(lines)) == [
        ("Kyrgyzstan", "seats_total", "6", 0),
        ("Kyrgyzstan", "plenipotentiary", "Shabdanbek Alishev", 1),
        ("Kyrgyzstan", "website.supreme_council", "http://www.kenesh.kg/", 2),
    ]


def test_a_line_naming_one_country_belongs_to_it_whatever_came_before():
    block = seed_block("000")
    lines = [block[9], block[8], block[10]]  # Russia seats, Kyrgyz website, Russia plenipotentiary
    assert [(f.delegation, f.field) for f in extract_facts(lines)][-2:] == [
        ("Kyrgyzstan", "website.supreme_council"),
        ("Russia", "plenipotentiary"),
    ]


def test_a_delegation_line_naming_only_a_chamber_is_attributed_by_the_chamber():
    lines = ["Делегация Жогорку Кенеша в ПА ОДКБ состоит из 6 депутатов.", "Сайт:"]
    assert rows(extract_facts(lines)) == [
        ("Kyrgyzstan", "seats_total", "6", 0),
        ("Kyrgyzstan", "website.supreme_council", "", 1),
    ]
    # "National Assembly" belongs to Belarus, Tajikistan and Armenia alike: no guess
    assert extract_facts(["Delegation of the National Assembly to the CSTO PA consists of 6 deputies."]) == []


def test_whitespace_and_dashes_are_normalised_in_values():
    line = "\u00a0Plenipotentiary  representative of the Republic of Belarus\u00a0\u2014\u00a0Viktor \u00a0 Kogut "
    assert rows(extract_facts([line])) == [("Belarus", "plenipotentiary", "Viktor Kogut", 0)]


def test_line_numbers_index_the_input_including_blank_lines():
    block = seed_block("000")
    spaced = [""] + [x for line in block for x in (line, "   ")]
    facts = extract_facts(spaced)
    assert [(d, f, v) for d, f, v, _ in rows(facts)] == [(d, f, v) for d, f, v, _ in SEED_000]
    assert [f.line_no for f in facts] == [1 + 2 * n for *_, n in SEED_000]


# ------------------------------------------------------------------ tolerated wording


@pytest.mark.parametrize(
    "line",
    [
        "Делегация Федерального Собрания Российской Федерации в ПА ОДКБ состоит из 10 депутатов "
        "Государственной Думы и 12 сенаторов Российской Федерации.",
        "Делегация Федерального Собрания Российской Федерации представлена 10 депутатами "
        "Государственной Думы и 12 членами Совета Федерации.",
        "Делегация Федерального Собрания Российской Федерации — 10 депутатов Государственной Думы, "
        "12 членов Совета Федерации",
        "Делегация  Федерального\u00a0Собрания Российской Федерации в Парламентской Ассамблее ОДКБ: "
        "10 депутатов Государственной Думы и 12 сенаторов.",
        "Delegation of the Federal Assembly of the Russian Federation to the CSTO PA comprises 10 "
        "deputies of the State Duma and 12 members of the Council of the Federation.",
    ],
)
def test_russian_delegation_wordings_give_the_same_seats(line):
    assert rows(extract_facts([line])) == RUSSIA_SEATS


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("Полномочный представитель Федерального Собрания Российской Федерации — Михаил Кротов", "Михаил Кротов"),
        (
            "Полномочный представитель Федерального Собрания Российской Федерации - заместитель "
            "Ответственного секретаря ПА ОДКБ: Михаил Кротов.",
            "Михаил Кротов",
        ),
        (
            "Plenipotentiary representative of the Federal Assembly of the Russian Federation \u2013 Mikhail Krotov",
            "Mikhail Krotov",
        ),
        ("Plenipotentiary representative of the Federal Assembly of the Russian Federation:", ""),
        (
            "Plenipotentiary representative of the Russian Federation: deputy Executive Secretary: Mikhail Krotov",
            "Mikhail Krotov",
        ),
    ],
)
def test_plenipotentiary_name_after_last_colon_or_dash(line, name):
    assert rows(extract_facts([line])) == [("Russia", "plenipotentiary", name, 0)]


def test_website_without_colon_or_url():
    lines = [
        "Сайт Жогорку Кенеша Кыргызской Республики http://www.kenesh.kg/",
        "Сайт Жогорку Кенеша Кыргызской Республики",
    ]
    assert rows(extract_facts(lines)) == [
        ("Kyrgyzstan", "website.supreme_council", "http://www.kenesh.kg/", 0),
        ("Kyrgyzstan", "website.supreme_council", "", 1),
    ]


# ------------------------------------------------------------------ what is not a fact


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_article_lines_of_the_seeds_state_no_facts(prefix):
    lines = seed_lines(prefix)
    body = lines[BLOCK_LINES:]
    assert any("Kazakh" in x or "State Duma" in x or "Belarus" in x for x in body)
    assert extract_facts(body) == []
    # block + article: the article adds nothing and does not shift the block's facts
    assert extract_facts(lines) == extract_facts(lines[:BLOCK_LINES])


@pytest.mark.parametrize(
    "line",
    [
        "Vyacheslav Volodin, Chairman of the State Duma of the Federal Assembly of the Russian Federation",
        "Erlan Koshanov, Chairman of the Mazhilis of the Parliament of the Republic of Kazakhstan, met 12 deputies.",
        "Umakhan Umakhanov, a deputy of the State Duma, noted 10 deputies of the State Duma took part.",
        "Delegation of the State Duma visited Kazakhstan with 5 deputies.",
        "Delegation of the CSTO PA consisting of 12 members observed the election in Kazakhstan.",
        "28 model legislative acts were adopted by the CSTO commissions from 2021 to 2024.",
        "Председатель Государственной Думы Вячеслав Володин встретился с 10 депутатами Мажилиса.",
    ],
)
def test_article_sentences_give_no_seat_facts(line):
    assert [f for f in extract_facts([line]) if f.field.startswith("seats")] == []


@pytest.mark.parametrize(
    "lines",
    [
        [],
        [""],
        ["", "   ", "\u00a0", "\ufeff"],
        None,
        [None, 3, b"\xff\xfe", 4.5],
        ["Delegation", "Website:", "Plenipotentiary:", ":", "- -", "Делегация 99999999999999999999 депутатов"],
        ["Delegation of the Russian Federation consists of " + "9" * 5000 + " deputies."],
        ["\x00\x01\x02", "\ud800", "日本語のテキスト", "🙂" * 100],
        "Delegation of the Supreme Council of the Kyrgyz Republic to the CSTO PA consists of 7 deputies.",
    ],
)
def test_odd_input_does_not_raise(lines):
    facts = extract_facts(lines)
    assert isinstance(facts, list)
    assert all(isinstance(f, Fact) for f in facts)


def test_a_whole_text_is_split_into_lines():
    assert rows(extract_facts("\n".join(seed_block("000")))) == SEED_000


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=15))
def test_random_text_never_raises_and_facts_are_well_formed(lines):
    for f in extract_facts(lines):
        assert f.delegation in {"Belarus", "Kazakhstan", "Kyrgyzstan", "Russia", "Tajikistan", "Armenia"}
        assert 0 <= f.line_no < len(lines)
        assert f.field == "seats_total" or f.field == "plenipotentiary" or f.field.split(".")[0] in {"seats", "website"}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_block_lines_mixed_with_random_text_never_raise(data):
    block = seed_block("000") + ru_block("c")
    lines = data.draw(st.lists(st.one_of(st.sampled_from(block), st.text(max_size=80)), max_size=30))
    extract_facts(lines)
