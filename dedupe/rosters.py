"""A page's lines -> the delegation rosters it lists: members, their position and chamber, the seats
and the plenipotentiary the page states next to them.

A roster is found by its shape (shared/site.md, country pages), never by a URL or a class name:
one line of three or more names separated by commas and ended by a full stop, after a
"Delegation of ... consists of ..." sentence (which says whose roster it is and the seats per
chamber). After it come the plenipotentiary line and the website lines, then a biography per
member: a line naming the member (in any order, with a patronymic: matched through
``dedupe.people.name_key``), the position when there is one, the chamber, then the career
("Born on ...", "In 2008 he graduated ...").

Nothing here knows other pages or time: versions and membership periods are
``dedupe.archive.rosters``'s.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from .facts import DELEGATION_HEAD, PLENIPOTENTIARY_HEAD, _body, extract_facts, normalise_line
from .people import name_key

__all__ = ["Member", "Roster", "extract_rosters", "is_roster_line", "may_state_a_roster"]

# A roster line inside a page's stored lines (JSON, non-ASCII kept): three or more capitalised
# comma-separated parts ending in a full stop. Lets the derivation skip decoding the JSON of a page
# without one; no part can hold a comma or a quote, so the regex never backtracks far.
_ROSTER_IN_JSON = re.compile(r'\["(?:[A-ZА-ЯЁ][^",\]]*, ){2,}[A-ZА-ЯЁ][^",\]]*\.",')

_NAME_WORD = r"[A-ZА-ЯЁ][\w'’.-]*"
_NAME = re.compile(rf"^{_NAME_WORD}(?:\s+{_NAME_WORD}){{1,3}}$")
_CAREER = re.compile(r"^(?:born|in\s+\d{4}|from\s+\d{4}|since\s+\d{4}|родил|в\s+\d{4}|с\s+\d{4})", re.I)
MIN_MEMBERS = 3  # a comma-separated line of fewer names is a sentence, not a roster
SENTENCE_BEFORE = 3  # lines the delegation sentence may sit above the roster line
HEADER_LINES = 3  # lines of a biography before its career: position and chamber


@dataclass(frozen=True)
class Member:
    """One listed member: the roster's spelling, the biography's (often with a patronymic), and what
    the biography states (position, chamber slug of ``dedupe.facts.BODIES``; "" when not stated)."""

    name: str
    full_name: str = ""
    position: str = ""
    chamber: str = ""

    @property
    def key(self) -> str:
        return name_key(self.name)


@dataclass(frozen=True)
class Roster:
    """One delegation's roster as one page states it, in that page's language."""

    delegation: str  # English country name, as in dedupe.facts
    language: str  # 'en' or 'ru': by the script of the names
    seats: dict[str, str] = field(default_factory=dict)  # seats_total / seats.<chamber> -> count
    plenipotentiary: str = ""
    members: tuple[Member, ...] = ()

    def canonical(self) -> str:
        """Canonical JSON of everything the roster states: equal rosters, equal text."""
        data = asdict(self)
        data["members"] = [asdict(m) for m in self.members]
        return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @property
    def version_id(self) -> str:
        """'rv-' + hash of the canonical JSON: one id per distinct roster, whatever page states it."""
        return "rv-" + hashlib.sha256(self.canonical().encode("utf-8")).hexdigest()[:16]


def _names(text: str) -> list[str] | None:
    """The names of a roster line, or None when the line is not one."""
    if not text.endswith(".") or text.count(",") < MIN_MEMBERS - 1:
        return None
    names = [" ".join(part.split()) for part in text[:-1].split(",")]
    if len(names) < MIN_MEMBERS or not all(_NAME.match(name) for name in names):
        return None
    return names


def _maybe_roster(line: object) -> bool:
    """A cheap test before normalising: two commas or more, and a full stop at the end."""
    return isinstance(line, str) and line.count(",") >= MIN_MEMBERS - 1 and line.rstrip().endswith(".")


def is_roster_line(line: str) -> bool:
    """True for a line of three or more comma-separated names ended by a full stop."""
    return _names(normalise_line(line)) is not None


def may_state_a_roster(lines_json: str) -> bool:
    """False when a page's stored lines (``pages.lines``) hold no line shaped like a roster."""
    return _ROSTER_IN_JSON.search(lines_json) is not None


def _language(names: list[str]) -> str:
    cyrillic = sum(1 for name in names for ch in name if "\u0400" <= ch <= "\u04ff")
    return "ru" if cyrillic else "en"


def extract_rosters(lines: Sequence[str]) -> list[Roster]:
    """Every roster the lines of one page state (usually none, or one on a country page)."""
    raw = list(lines)
    candidates = [i for i, line in enumerate(raw) if _maybe_roster(line)]
    if not candidates:  # most pages: no line is even shaped like a roster, nothing is normalised
        return []
    texts = [normalise_line(line) for line in raw]
    found = []
    for at in candidates:
        text = texts[at]
        names = _names(text)
        if names is None:
            continue
        sentence = next(
            (i for i in range(at - 1, max(-1, at - 1 - SENTENCE_BEFORE), -1) if DELEGATION_HEAD.match(texts[i])), None
        )
        if sentence is None:
            continue
        head = [texts[sentence]]
        facts = extract_facts(head)
        if not facts:
            continue
        delegation = facts[0].delegation
        found.append(_roster(delegation, _language(names), names, facts, texts, at))
    return found


def _roster(delegation: str, language: str, names: list[str], facts: list, texts: list[str], at: int) -> Roster:
    seats = {f.field: f.value for f in facts if f.field.startswith("seats")}
    keys = {name_key(name): name for name in names}
    plenipotentiary = ""
    bios: dict[str, tuple[str, str, str]] = {}
    i = at + 1
    while i < len(texts):
        text = texts[i]
        if not plenipotentiary and PLENIPOTENTIARY_HEAD.match(text):
            plenipotentiary = _after_colon(text)
        key = name_key(text) if _NAME.match(text) else ""
        if key in keys and key not in bios:
            header: list[str] = []
            j = i + 1
            while j < len(texts) and len(header) < HEADER_LINES and not _CAREER.match(texts[j]):
                if _NAME.match(texts[j]) and name_key(texts[j]) in keys:
                    break
                header.append(texts[j])
                j += 1
            chamber = _body(delegation, header[-1], chambers_only=False) if header else None
            position = "; ".join(header[:-1]) if chamber else "; ".join(header)
            bios[key] = (text, position, chamber or "")
            i = j
            continue
        if _names(text) is not None or DELEGATION_HEAD.match(text) and bios:
            break  # the next roster, or another delegation's sentence
        i += 1
    members = []
    for name in names:
        full, position, chamber = bios.get(name_key(name), ("", "", ""))
        members.append(Member(name, full if full != name else "", position, chamber))
    return Roster(delegation, language, seats, plenipotentiary, tuple(members))


def _after_colon(text: str) -> str:
    return text.rsplit(":", 1)[1].strip().rstrip(".;,").strip() if ":" in text else ""
