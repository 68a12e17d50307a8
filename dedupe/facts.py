"""Delegation block text -> comparable facts, for English (pacsto.org) and Russian (paodkb.org).

Every page carries a block listing the national delegations to the CSTO PA. One version of
that block (its lines, in order) states facts such as "Kyrgyzstan has 7 seats" or "the
website of Belarus' House of Representatives is http://house.gov.by/en/". Facts use English
delegation names and English field slugs whatever the page language, so two versions of a
block (or its English and Russian twins) compare fact by fact:

* same (delegation, field), different non-empty values -> a conflict (Kyrgyz 7 vs 6 seats);
* one value "" -> a missing value, not a conflict (a website line empty after its colon);
* same facts, different text -> a rewording ("12 members of the Federation Council" vs
  "12 senators": both are ``seats.federation_council = 12``).

The parser is data driven: the tables below (countries, bodies of each parliament, line
kinds, member nouns) are where a new chamber, country or wording goes, usually as one line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Fact", "extract_facts", "normalise_line", "COUNTRIES", "BODIES"]


@dataclass(frozen=True)
class Fact:
    """One fact stated by a block version."""

    delegation: str  # English country name: "Belarus", "Kazakhstan", "Kyrgyzstan", "Russia", ...
    field: str  # "seats_total", "seats.<chamber>", "plenipotentiary", "website.<body>"
    value: str  # normalised; "" when the line is there but states no value (missing)
    line_no: int  # index into the input lines


# --------------------------------------------------------------------------- tables

_I = re.IGNORECASE | re.UNICODE

# Which delegation a line names. English and Russian spellings side by side.
COUNTRIES: tuple[tuple[str, str], ...] = (
    ("Belarus", r"\bBelarus|\bByelorussia|Беларус|Белорус"),
    ("Kazakhstan", r"\bKazakh|Казах"),
    ("Kyrgyzstan", r"\bKyrgyz|\bKirghiz|\bKirgiz|Кыргыз|Киргиз"),
    ("Russia", r"\bRussian\s+Federation|\bRussia\b|Российск\w*\s+Федераци|\bРосси[ияй]\b"),
    ("Tajikistan", r"\bTajik|\bTadzhik|Таджик"),
    ("Armenia", r"\bArmenia|Армени"),
)

# The bodies of each parliament, as named on block lines. ``chamber`` bodies carry seats
# (``seats.<slug>``); every body can own a website line (``website.<slug>``). The first
# non-chamber body is the parliament itself: the fallback for a website line naming no body.
# When a text names several bodies ("House of Representatives of the National Assembly"),
# the one named first wins.
# (slug, pattern, chamber)
BODIES: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "Belarus": (
        ("house_of_representatives", r"House\s+of\s+Representatives|Палат\w*\s+представителей", True),
        ("council_of_the_republic", r"Council\s+of\s+the\s+Republic|Совет\w*\s+Республики", True),
        ("national_assembly", r"National\s+Assembly|Национальн\w*\s+собрани\w*", False),
    ),
    "Kazakhstan": (
        ("mazhilis", r"Ma[zj]h?ilis|Мажилис", True),
        ("senate", r"\bSenat|\bСенат", True),
        ("parliament", r"Parliament|Парламент", False),
    ),
    "Kyrgyzstan": (("supreme_council", r"Supreme\s+Council|[JZ]h?ogorku\s+Kenesh|Жогорку\s+Кенеш", False),),
    "Russia": (
        ("state_duma", r"State\s+Duma|\bDuma\b|Государственн\w*\s+Дум|Госдум", True),
        (
            "federation_council",
            r"Federation\s+Council|Council\s+of\s+the\s+Federation|\bsenator|Совет\w*\s+Федерации|\bсенатор",
            True,
        ),
        ("federal_assembly", r"Federal\s+Assembly|Федеральн\w*\s+Собрани", False),
    ),
    "Tajikistan": (
        ("national_assembly", r"National\s+Assembly|Majlisi\s+Milli|Маджлиси\s+милли", True),
        (
            "assembly_of_representatives",
            r"Assembly\s+of\s+Representatives|Majlisi\s+Namoyandagon|Маджлиси\s+намояндагон",
            True,
        ),
        ("supreme_assembly", r"Supreme\s+Assembly|Majlisi\s+Oli|Маджлиси\s+Оли", False),
    ),
    "Armenia": (("national_assembly", r"National\s+Assembly|Национальн\w*\s+собрани", False),),
}

# Line kinds, recognised by how the line starts.
_LEAD = r"^[\W_]*"  # bullets, quotes, stray punctuation before the first word
DELEGATION_HEAD = re.compile(_LEAD + r"(?:(?:the\s+)?delegation\b|делегаци\w*|в\s+состав\w*\s+делегаци)", _I)
PLENIPOTENTIARY_HEAD = re.compile(_LEAD + r"(?:the\s+)?plenipotentiary\b|" + _LEAD + r"полномочн\w*\s+представител", _I)
WEBSITE_HEAD = re.compile(
    _LEAD + r"(?:the\s+)?(?:official\s+)?(?:web\s*-?\s*)?site\b|" + _LEAD + r"(?:официальн\w*\s+)?(?:веб\s*-?\s*)?сайт",
    _I,
)

# A delegation line states seats only if it also says it is about composition or names the
# Assembly (guards article sentences that merely start with "Delegation ...").
COMPOSITION = re.compile(
    r"consist|compris|compos|represented|include|made\s+up|"
    r"состоит|состав|представлен|включает|входят|"
    r"CSTO|ОДКБ|Parliamentary\s+Assembly|Парламентск\w*\s+Ассамбле|\bPA\b|\bПА\b|"
    r"[-:]\s*\d",  # "Delegation of ... - 10 deputies ..." / "...: 10 deputies ..."
    _I,
)

# "<number> <member noun>": 7 deputies / 12 members / 12 senators / 10 депутатами / 4 членов.
MEMBER_NOUNS = r"deput\w*|members?|senators?|parliamentarians?|MPs?|депутат\w*|член\w*|сенатор\w*|парламентари\w*"
SEAT_COUNT = re.compile(r"(?<!\d)(\d{1,4})\s+(?:[^\W\d_]+\s+)?(?:" + MEMBER_NOUNS + r")\b", _I)

URL = re.compile(r"(?:https?://|www\.)\S+", _I)
LABEL_COLON = re.compile(r":(?!//)")  # the colon ending a label, not the one in "http://"
SPACED_DASH = re.compile(r"\s-\s")

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"), "-")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

_COUNTRY_RES = tuple((name, re.compile(pattern, _I)) for name, pattern in COUNTRIES)
_BODY_RES = {
    delegation: tuple((slug, re.compile(pattern, _I), chamber) for slug, pattern, chamber in bodies)
    for delegation, bodies in BODIES.items()
}


# --------------------------------------------------------------------------- helpers


def normalise_line(line: object) -> str:
    """Text of one line with Unicode, dashes and whitespace normalised ("" for non-text)."""
    if isinstance(line, (bytes, bytearray)):
        line = bytes(line).decode("utf-8", errors="replace")
    if not isinstance(line, str):
        return ""
    text = unicodedata.normalize("NFKC", line).translate(_INVISIBLE).translate(_DASHES)
    return " ".join(text.split())


def _countries(text: str) -> list[tuple[int, str]]:
    """(position, delegation) of each delegation named in a text, in order of first mention."""
    return sorted((m.start(), name) for name, rx in _COUNTRY_RES if (m := rx.search(text)))


def _owner(text: str) -> tuple[int, str] | None:
    """(position, delegation) a "Delegation of ..." line is about.

    The first country named; failing that, the one delegation whose bodies the line names
    ("Делегация Жогорку Кенеша ..."), if only one delegation's bodies match.
    """
    named = _countries(text)
    if named:
        return named[0]
    found: dict[str, int] = {}
    for delegation, bodies in _BODY_RES.items():
        for _, rx, _ in bodies:
            if m := rx.search(text):
                found[delegation] = min(found.get(delegation, m.start()), m.start())
    if len(found) == 1:
        ((delegation, pos),) = found.items()
        return pos, delegation
    return None


def _body(delegation: str, text: str, *, chambers_only: bool) -> str | None:
    """Slug of the body of ``delegation`` named first in ``text``, or None."""
    best: tuple[int, str] | None = None
    for slug, rx, chamber in _BODY_RES.get(delegation, ()):
        if chambers_only and not chamber:
            continue
        m = rx.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), slug)
    return best[1] if best else None


def _parliament(delegation: str) -> str:
    """Slug of the parliament as a whole (website lines naming no body)."""
    for slug, _, chamber in BODIES.get(delegation, ()):
        if not chamber:
            return slug
    return "parliament"


def _clean_value(text: str) -> str:
    return text.strip().rstrip(".;,").strip()


def _seat_facts(delegation: str, named_at: int, text: str, line_no: int) -> list[Fact]:
    counts = list(SEAT_COUNT.finditer(text))
    if not counts or counts[0].start() < named_at:
        # the delegation's own name comes before its composition; a count before it belongs
        # to some other sentence ("a delegation of 12 members observed ... in Kazakhstan")
        return []
    per_chamber: dict[str, int] = {}
    total = 0
    for i, m in enumerate(counts):
        n = int(m.group(1))
        total += n
        end = counts[i + 1].start() if i + 1 < len(counts) else len(text)
        chamber = _body(delegation, text[m.start() : end], chambers_only=True)
        if chamber:
            per_chamber[chamber] = per_chamber.get(chamber, 0) + n
    facts = [Fact(delegation, "seats_total", str(total), line_no)]
    facts += [Fact(delegation, f"seats.{slug}", str(n), line_no) for slug, n in per_chamber.items()]
    return facts


def _plenipotentiary(text: str) -> str:
    """The name after the last colon, else after the last spaced dash, else ""."""
    if ":" in text:
        return _clean_value(text.rsplit(":", 1)[1])
    parts = SPACED_DASH.split(text)
    return _clean_value(parts[-1]) if len(parts) > 1 else ""


def _website(delegation: str, text: str) -> tuple[str, str]:
    """(body slug, URL or "") of a website line."""
    colon = LABEL_COLON.search(text)
    label, rest = (text[: colon.start()], text[colon.end() :]) if colon else (text, "")
    url = URL.search(rest) or (None if colon else URL.search(text))
    if url:
        value = url.group(0).rstrip(".,;)")
        if not colon:
            label = text[: url.start()]
    else:
        value = _clean_value(rest)
    slug = _body(delegation, label, chambers_only=False) or _parliament(delegation)
    return slug, value


def _as_lines(lines: object) -> Iterable[object]:
    if lines is None:
        return ()
    if isinstance(lines, (str, bytes, bytearray)):
        text = lines.decode("utf-8", "replace") if isinstance(lines, (bytes, bytearray)) else lines
        return text.splitlines()
    try:
        return list(lines)  # type: ignore[call-overload]
    except TypeError:
        return ()


# --------------------------------------------------------------------------- API


def extract_facts(lines: Sequence[str]) -> list[Fact]:
    """Facts stated by one block version (its lines, in order)."""
    facts: list[Fact] = []
    current: str | None = None  # delegation of the most recent "Delegation of ..." line
    for line_no, raw in enumerate(_as_lines(lines)):
        text = normalise_line(raw)
        if not text:
            continue
        if DELEGATION_HEAD.match(text):
            owner = _owner(text)
            current = owner[1] if owner else None  # never lend the previous delegation's name
            if owner and COMPOSITION.search(text):
                facts += _seat_facts(owner[1], owner[0], text, line_no)
            continue
        named = [name for _, name in _countries(text)]
        is_plenipotentiary = bool(PLENIPOTENTIARY_HEAD.match(text))
        if not is_plenipotentiary and not WEBSITE_HEAD.match(text):
            continue
        delegation = named[0] if len(named) == 1 else current or (named[0] if named else None)
        if delegation is None:
            continue
        if is_plenipotentiary:
            facts.append(Fact(delegation, "plenipotentiary", _plenipotentiary(text), line_no))
        else:
            slug, value = _website(delegation, text)
            facts.append(Fact(delegation, f"website.{slug}", value, line_no))
    return facts
