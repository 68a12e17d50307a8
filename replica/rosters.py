"""The replica's country pages: each delegation's roster, in English and Russian, at each epoch.

Shaped like the real ``/countries/<slug>`` pages (shared/site.md): the country's name, the
delegation sentence in the block's form, the roster as one line of comma-separated names ended
by a full stop, the plenipotentiary representative, the chambers' website lines (empty after the
colon), then a short biography per member (name, position when there is one, chamber, birth,
studies). English writes names given name first; Russian writes them family name first, with the
patronymic in the biographies (as paodkb.org does: "Рогалев Виктор Павлович").

What changes between epochs (both sites unless said):

* epoch 2: a Kyrgyz member leaves (7 -> 6, as the block says);
* epoch 3: a Belarusian member is replaced (the Russian site already shows the new member in
  epoch 2), a Russian senator joins in place of another, and Tajikistan's plenipotentiary changes;
* always: the Russian Belarus page states 6 + 3 seats (the English one 7 + 4), and in epoch 3 the
  Russian Kazakhstan page states 8 + 5 (the English one 8 + 8): the real sites disagree so.

Everything is deterministic (``random.Random`` with a fixed seed), so tests can pin names.
"""

from __future__ import annotations

import dataclasses
import functools
import random
from dataclasses import dataclass

SEED = 20250922
DELEGATIONS = ("Belarus", "Kazakhstan", "Kyrgyzstan", "Russia", "Tajikistan")


@dataclass(frozen=True)
class Person:
    """One member: names in both scripts (Russian with a patronymic), position, chamber key."""

    given_en: str
    family_en: str
    given_ru: str
    family_ru: str
    patronymic_ru: str
    chamber: str  # key into CHAMBERS[delegation]
    position: int  # index into POSITIONS; -1: an ordinary member
    born_year: int
    born_day: int
    born_month: int

    @property
    def en(self) -> str:
        return f"{self.given_en} {self.family_en}"

    @property
    def ru(self) -> str:
        return f"{self.family_ru} {self.given_ru}"

    @property
    def ru_full(self) -> str:
        return f"{self.family_ru} {self.given_ru} {self.patronymic_ru}"


# (key, seats, English name, Russian name) of each chamber; Kyrgyzstan's parliament has one.
CHAMBERS: dict[str, tuple[tuple[str, int, str, str], ...]] = {
    "Belarus": (
        (
            "house",
            7,
            "House of Representatives of the National Assembly of the Republic of Belarus",
            "Палаты представителей Национального собрания Республики Беларусь",
        ),
        (
            "council",
            4,
            "Council of the Republic of the National Assembly of the Republic of Belarus",
            "Совета Республики Национального собрания Республики Беларусь",
        ),
    ),
    "Kazakhstan": (
        (
            "mazhilis",
            8,
            "Mazhilis of the Parliament of the Republic of Kazakhstan",
            "Мажилиса Парламента Республики Казахстан",
        ),
        (
            "senate",
            8,
            "Senate of the Parliament of the Republic of Kazakhstan",
            "Сената Парламента Республики Казахстан",
        ),
    ),
    "Kyrgyzstan": (("kenesh", 7, "Supreme Council of the Kyrgyz Republic", "Жогорку Кенеша Кыргызской Республики"),),
    "Russia": (
        (
            "duma",
            10,
            "State Duma of the Federal Assembly of the Russian Federation",
            "Государственной Думы Федерального Собрания Российской Федерации",
        ),
        (
            "council",
            12,
            "Federation Council of the Federal Assembly of the Russian Federation",
            "Совета Федерации Федерального Собрания Российской Федерации",
        ),
    ),
    "Tajikistan": (
        (
            "milli",
            6,
            "National Assembly of the Supreme Assembly of the Republic of Tajikistan",
            "Маджлиси милли Маджлиси Оли Республики Таджикистан",
        ),
        (
            "namoyandagon",
            6,
            "Assembly of Representatives of the Supreme Assembly of the Republic of Tajikistan",
            "Маджлиси намояндагон Маджлиси Оли Республики Таджикистан",
        ),
    ),
}

PARLIAMENT = {  # (English, Russian genitive) of the parliament, for the plenipotentiary line
    "Belarus": ("the National Assembly of the Republic of Belarus", "Национального собрания Республики Беларусь"),
    "Kazakhstan": ("the Parliament of the Republic of Kazakhstan", "Парламента Республики Казахстан"),
    "Kyrgyzstan": ("the Supreme Council of the Kyrgyz Republic", "Жогорку Кенеша Кыргызской Республики"),
    "Russia": ("the Federal Assembly of the Russian Federation", "Федерального Собрания Российской Федерации"),
    "Tajikistan": ("the Supreme Assembly of the Republic of Tajikistan", "Маджлиси Оли Республики Таджикистан"),
}

POSITIONS = (  # (English, Russian) prefix before the chamber's name
    ("Chairman of the", "Председатель"),
    ("Deputy Chairman of the", "Заместитель председателя"),
    ("Chairman of the Committee on International Affairs of the", "Председатель Комитета по международным делам"),
    ("Chairman of the Committee on Defence and Security of the", "Председатель Комитета по обороне и безопасности"),
)

# (Russian, English as the English site writes it); English forms often differ from any library's
_SLAVIC_GIVEN = (
    ("Игорь", "Igor"), ("Сергей", "Sergei"), ("Андрей", "Andrei"), ("Олег", "Oleg"), ("Валерий", "Valery"),
    ("Дмитрий", "Dmitry"), ("Александр", "Alexander"), ("Николай", "Nikolai"), ("Владимир", "Vladimir"),
    ("Геннадий", "Gennady"), ("Юрий", "Yuri"), ("Павел", "Pavel"), ("Михаил", "Mikhail"), ("Виталий", "Vitaly"),
    ("Евгений", "Yevgeny"), ("Алексей", "Alexei"), ("Анатолий", "Anatoly"), ("Вадим", "Vadim"),
    ("Константин", "Konstantin"), ("Леонид", "Leonid"), ("Виктор", "Viktor"), ("Григорий", "Grigory"),
)  # fmt: skip
_SLAVIC_FAMILY = (
    ("Сергеенко", "Sergeenko"), ("Мартыненко", "Martynenko"), ("Савиных", "Savinykh"),
    ("Гайдукевич", "Gaidukevich"), ("Шипук", "Shipuk"), ("Мицкевич", "Mitskevich"), ("Кушнер", "Kushner"),
    ("Быков", "Bykov"), ("Лукьянов", "Lukyanov"), ("Карпенко", "Karpenko"), ("Жуков", "Zhukov"),
    ("Тарасов", "Tarasov"), ("Морозов", "Morozov"), ("Климов", "Klimov"), ("Широков", "Shirokov"),
    ("Воробьёв", "Vorobyov"), ("Щербаков", "Shcherbakov"), ("Хабаров", "Khabarov"), ("Зайцев", "Zaitsev"),
    ("Чернов", "Chernov"), ("Ковалёв", "Kovalyov"), ("Яковлев", "Yakovlev"), ("Соловьёв", "Solovyov"),
    ("Григорьев", "Grigoryev"), ("Фёдоров", "Fyodorov"), ("Белов", "Belov"), ("Никитин", "Nikitin"),
    ("Орлов", "Orlov"), ("Пастухов", "Pastukhov"), ("Дьяченко", "Diachenko"), ("Юдин", "Yudin"),
    ("Ульянов", "Ulyanov"), ("Голубев", "Golubev"), ("Васильев", "Vasilyev"), ("Ткачёв", "Tkachev"),
)  # fmt: skip
_PATRONYMICS = (
    "Павлович", "Викторович", "Николаевич", "Иванович", "Петрович", "Александрович", "Сергеевич",
    "Владимирович", "Михайлович", "Анатольевич", "Геннадьевич", "Юрьевич",
)  # fmt: skip
_POOLS = {
    "Kazakhstan": (
        (
            ("Ерлан", "Yerlan"), ("Нурлан", "Nurlan"), ("Асхат", "Askhat"), ("Бауыржан", "Bauyrzhan"),
            ("Серик", "Serik"), ("Мурат", "Murat"), ("Жомарт", "Jomart"), ("Даурен", "Dauren"),
            ("Ержан", "Yerzhan"), ("Кайрат", "Kairat"), ("Талгат", "Talgat"), ("Бахыт", "Bakhyt"),
            ("Аскар", "Askar"), ("Болат", "Bolat"),
        ),
        (
            ("Ашимбаев", "Ashimbayev"), ("Нуртаев", "Nurtayev"), ("Жумабаев", "Zhumabayev"),
            ("Сарсенов", "Sarsenov"), ("Абдрахманов", "Abdrakhmanov"), ("Тулеуов", "Tuleuov"),
            ("Бекетаев", "Beketayev"), ("Омаров", "Omarov"), ("Касымов", "Kassymov"), ("Мусин", "Mussin"),
            ("Ахметов", "Akhmetov"), ("Искаков", "Iskakov"), ("Жакупов", "Zhakupov"), ("Сыздыков", "Syzdykov"),
            ("Утебаев", "Utebayev"), ("Ермеков", "Yermekov"), ("Байжанов", "Baizhanov"), ("Мамин", "Mamin"),
        ),
    ),
    "Kyrgyzstan": (
        (
            ("Нурланбек", "Nurlanbek"), ("Талант", "Talant"), ("Жоомарт", "Zhoomart"), ("Бакыт", "Bakyt"),
            ("Улукбек", "Ulukbek"), ("Айбек", "Aibek"), ("Медет", "Medet"), ("Эркин", "Erkin"),
            ("Азамат", "Azamat"),
        ),
        (
            ("Шакиев", "Shakiev"), ("Мамытов", "Mamytov"), ("Токтогулов", "Toktogulov"),
            ("Жумабеков", "Zhumabekov"), ("Осмонов", "Osmonov"), ("Сатыбалдиев", "Satybaldiev"),
            ("Кочкоров", "Kochkorov"), ("Исаев", "Isaev"), ("Турдуев", "Turduev"),
        ),
    ),
    "Tajikistan": (
        (
            ("Хайёлбек", "Khayolbek"), ("Рустам", "Rustam"), ("Махмадтоир", "Makhmadtoir"),
            ("Шукурджон", "Shukurjon"), ("Абдуджаббор", "Abdujabbor"), ("Саидджафар", "Saidjafar"),
            ("Зафар", "Zafar"), ("Фарход", "Farkhod"), ("Муродали", "Murodali"), ("Джамшед", "Jamshed"),
            ("Нурали", "Nurali"), ("Исмоил", "Ismoil"), ("Бахтиёр", "Bakhtiyor"),
        ),
        (
            ("Шарипов", "Sharipov"), ("Зокиров", "Zokirov"), ("Азизов", "Azizov"), ("Раджабов", "Rajabov"),
            ("Хакимов", "Khakimov"), ("Назаров", "Nazarov"), ("Саидов", "Saidov"), ("Рахимзода", "Rakhimzoda"),
            ("Давлатов", "Davlatov"), ("Умаров", "Umarov"), ("Каримов", "Karimov"), ("Мирзоев", "Mirzoev"),
            ("Набиев", "Nabiev"),
        ),
    ),
}  # fmt: skip


def _staff(given_en: str, family_en: str, given_ru: str, family_ru: str, patronymic_ru: str) -> Person:
    return Person(given_en, family_en, given_ru, family_ru, patronymic_ru, "", -1, 1960, 1, 1)


# The plenipotentiaries the block names (staff, not members); Tajikistan's is one of its members.
PLENIPOTENTIARIES = {
    "Belarus": _staff("Viktor", "Kogut", "Виктор", "Когут", "Владимирович"),
    "Kazakhstan": _staff("Viktor", "Rogalev", "Виктор", "Рогалев", "Павлович"),
    "Kyrgyzstan": _staff("Shabdanbek", "Alishev", "Шабданбек", "Алишев", "Токтосунович"),
    "Russia": _staff("Mikhail", "Krotov", "Михаил", "Кротов", "Васильевич"),
}

# Members who change: (delegation, chamber) -> how many extra people are drawn as newcomers.
NEWCOMERS = {"Belarus": ("house", 1), "Russia": ("council", 1), "Tajikistan": ("milli", 1)}


@dataclass(frozen=True)
class Delegation:
    """Everyone a delegation's pages ever list: the epoch-1 members, then the newcomers."""

    name: str
    members: tuple[Person, ...]
    newcomers: tuple[Person, ...]


def _pools(delegation: str) -> tuple[tuple, tuple]:
    return _POOLS.get(delegation, (_SLAVIC_GIVEN, _SLAVIC_FAMILY))


def _person(rng: random.Random, delegation: str, chamber: str, used: set[str]) -> Person:
    given, family = _pools(delegation)
    for _ in range(1000):
        g, f = rng.choice(given), rng.choice(family)
        if f[0] not in used:
            used.add(f[0])
            break
    else:  # pragma: no cover - the pools are larger than any delegation
        raise AssertionError("name pool exhausted")
    return Person(
        g[1], f[1], g[0], f[0], rng.choice(_PATRONYMICS), chamber, -1,
        rng.randint(1955, 1985), rng.randint(1, 28), rng.randint(1, 12),
    )  # fmt: skip


@functools.cache
def delegations() -> dict[str, Delegation]:
    """Every delegation's people, drawn once with a fixed seed; positions given to a few."""
    rng = random.Random(SEED)
    found = {}
    for name in DELEGATIONS:
        used: set[str] = set()
        members = [_person(rng, name, key, used) for key, seats, *_ in CHAMBERS[name] for _ in range(seats)]
        for index, chamber_start in enumerate(
            [i for i, p in enumerate(members) if i == 0 or members[i - 1].chamber != p.chamber]
        ):
            members[chamber_start] = _with_position(members[chamber_start], 0 if index == 0 else 1)
        members[-1] = _with_position(members[-1], 2 + (len(members) % 2))
        extra = NEWCOMERS.get(name)
        newcomers = tuple(_person(rng, name, extra[0], used) for _ in range(extra[1])) if extra else ()
        found[name] = Delegation(name, tuple(members), newcomers)
    return found


def _with_position(person: Person, position: int) -> Person:
    return dataclasses.replace(person, position=position)


@dataclass(frozen=True)
class Roster:
    """One country page's content at one epoch in one language."""

    delegation: str
    lang: str
    seats: tuple[int, ...]  # per chamber, as the page's sentence states them
    members: tuple[Person, ...]
    plenipotentiary: Person


def roster(delegation: str, lang: str, epoch: int) -> Roster:
    """Who a country page lists, and what its sentence states, at an epoch (the changes in the docstring)."""
    d = delegations()[delegation]
    members = list(d.members)
    seats = [seats for _, seats, *_ in CHAMBERS[delegation]]
    plenipotentiary = PLENIPOTENTIARIES.get(delegation, members[1])
    if delegation == "Kyrgyzstan" and epoch >= 2:
        members.pop(3)  # a member leaves: 7 -> 6, as the block's "consists of 6 deputies"
        seats = [6]
    if delegation == "Belarus" and (epoch >= 3 or (lang == "ru" and epoch >= 2)):
        members[2] = d.newcomers[0]  # replaced; the Russian site shows it one epoch earlier
    if delegation == "Russia" and epoch >= 3:
        members[-2] = d.newcomers[0]
    if delegation == "Tajikistan" and epoch >= 3:
        members[6] = d.newcomers[0]  # the new plenipotentiary is a new member of the upper chamber
        plenipotentiary = d.newcomers[0]
    if lang == "ru" and delegation == "Belarus":
        seats = [6, 3]  # as the real paodkb.org block stated on some pages
    if lang == "ru" and delegation == "Kazakhstan" and epoch >= 3:
        seats = [8, 5]
    return Roster(delegation, lang, tuple(seats), tuple(members), plenipotentiary)


# ---------------------------------------------------------------------------- text of the page

_MONTHS_EN = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
)  # fmt: skip
_MONTHS_RU = (
    "января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
    "ноября", "декабря",
)  # fmt: skip
_UNIVERSITIES = {
    "en": ("the Belarusian State University", "the Moscow State Institute of International Relations",
           "the Al-Farabi Kazakh National University", "the Kyrgyz National University",
           "the Tajik National University"),
    "ru": ("Белорусский государственный университет", "Московский государственный институт международных отношений",
           "Казахский национальный университет имени аль-Фараби", "Кыргызский национальный университет",
           "Таджикский национальный университет"),
}  # fmt: skip


def _chamber(delegation: str, key: str) -> tuple[str, str]:
    return next((en, ru) for k, _, en, ru in CHAMBERS[delegation] if k == key)


def seats_sentence(r: Roster) -> str:
    """The delegation sentence in the block's form (never word for word a block line), with this page's seats."""
    chambers = CHAMBERS[r.delegation]
    parliament_en, parliament_ru = PARLIAMENT[r.delegation]
    if r.lang == "en":
        lead = f"The delegation of {parliament_en} to the CSTO Parliamentary Assembly consists of"
        if len(chambers) == 1:
            return f"{lead} {r.seats[0]} deputies."
        parts = [f"{n} deputies of the {chambers[i][2]}" for i, n in enumerate(r.seats)]
        return f"{lead} {' and '.join(parts)}."
    if len(chambers) == 1:
        return f"Делегация {parliament_ru} в Парламентской Ассамблее ОДКБ состоит из {r.seats[0]} депутатов."
    nouns = ("депутатов", "членов")
    parts = [f"{n} {nouns[i]} {chambers[i][3]}" for i, n in enumerate(r.seats)]
    return f"Делегация {parliament_ru} в Парламентской Ассамблее ОДКБ состоит из {' и '.join(parts)}."


def page_lines(delegation: str, lang: str, epoch: int) -> tuple[str, ...]:
    """The country page's text after its heading, one entry per paragraph."""
    r = roster(delegation, lang, epoch)
    parliament_en, parliament_ru = PARLIAMENT[delegation]
    names = [p.en if lang == "en" else p.ru for p in r.members]
    lines = [seats_sentence(r), ", ".join(names) + "."]
    plenipotentiary = r.plenipotentiary
    if lang == "en":
        # written family name first, as on the real Tajik page
        shown = (
            f"{plenipotentiary.family_en} {plenipotentiary.given_en}"
            if delegation == "Tajikistan"
            else plenipotentiary.en
        )
        lines.append(f"Plenipotentiary Representative of {parliament_en} in the CSTO PA: {shown}")
        lines += [f"Official website of the {en}:" for _, _, en, _ in CHAMBERS[delegation]]
    else:
        lines.append(f"Полномочный представитель {parliament_ru} в ПА ОДКБ: {plenipotentiary.ru_full}")
        lines += [f"Официальный сайт {ru}:" for _, _, _, ru in CHAMBERS[delegation]]
    for index, person in enumerate(r.members):
        lines += _biography(person, delegation, lang, index)
    return tuple(lines)


def _biography(person: Person, delegation: str, lang: str, index: int) -> list[str]:
    en_chamber, ru_chamber = _chamber(delegation, person.chamber)
    university = index % len(_UNIVERSITIES["en"])
    if lang == "en":
        lines = [person.en]
        if person.position >= 0:
            lines.append(f"{POSITIONS[person.position][0]} {en_chamber}")
        lines.append(f"Member of the {en_chamber}")
        lines.append(f"Born on {person.born_day} {_MONTHS_EN[person.born_month - 1]} {person.born_year}.")
        lines.append(f"In {person.born_year + 22} he graduated from {_UNIVERSITIES['en'][university]}.")
        return lines
    lines = [person.ru_full]
    if person.position >= 0:
        lines.append(f"{POSITIONS[person.position][1]} {ru_chamber}")
    lines.append(f"Член {ru_chamber}")
    lines.append(f"Родился {person.born_day} {_MONTHS_RU[person.born_month - 1]} {person.born_year} года.")
    lines.append(f"В {person.born_year + 22} году окончил {_UNIVERSITIES['ru'][university]}.")
    return lines
