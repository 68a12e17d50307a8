"""People across scripts and forms: "Когут Виктор", "Viktor Kogut" and "Kogut Viktor" are one person.

A name becomes a **key**: each word transliterated to ASCII by ``anyascii`` (chosen over
``transliterate`` and ``cyrtranslit``: on the sites' names it alone gives the English site's
"Mikhail", "Sergey"-like forms and never leaves "SHabdanbek" or "Kasy'm"; see the README's
comparison), patronymics dropped ("Павлович", "-ovna"), then reduced to a consonant skeleton
that absorbs the spellings transliteration leaves apart (Sergei/Sergey, Yuri/Yuriy,
Alexander/Aleksandr, Zhomart/Jomart, Kovalyov/Kovalev, Kassymov/Kasymov), and the words sorted
so word order does not matter. Equal keys are one identity.

Keys that are close but not equal (one letter of a skeleton apart, or the same family name with
another given name of the same initial) are **ambiguous**: shown side by side by ``identities``,
never merged.
"""

from __future__ import annotations

import os.path
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from anyascii import anyascii

__all__ = ["Identity", "name_key", "name_tokens", "identities", "same_person"]

_PATRONYMIC = re.compile(r"(?:ovich|evich|ich|ovna|evna|ichna|inichna|ogly|ugli|uly|kyzy|uulu)$")
_VOWELS = set("aeiouy")
# spellings of one sound, longest first: dzh/zh/j, kh/h, ts/tz/c, x/ks, ph/f, w/v, double letters
_SOUNDS = (("shch", "sch"), ("dzh", "j"), ("zh", "j"), ("kh", "h"), ("tz", "c"), ("ts", "c"), ("x", "ks"))
_SOUNDS += (("ph", "f"), ("w", "v"), ("q", "k"))
AMBIGUITY = 3  # letters of skeleton two differing words share at their start for a possible match


def name_tokens(name: str) -> list[str]:
    """The words of a name in lower-case ASCII, patronymics dropped (a name of two words keeps both)."""
    words = [w for w in re.split(r"[\s,]+", anyascii(name or "").lower()) if w]
    words = ["".join(ch for ch in w if ch.isalnum() or ch == "-") for w in words]
    parts = [p for w in words for p in w.split("-") if p]
    if len(parts) == 3:  # "Family Given Patronymic" or "Given Patronymic Family": one patronymic at most,
        # so a family name such as Mitskevich stays
        at = 2 if _PATRONYMIC.search(parts[2]) else 1 if _PATRONYMIC.search(parts[1]) else None
        if at is not None:
            parts = parts[:at] + parts[at + 1 :]
    return parts


def _skeleton(token: str) -> str:
    """First letter, the consonants after it (doubled ones once), and whether it ends in 'a' or a vowel."""
    if token.startswith("ye"):  # Yerlan / Erlan, Yevgeny / Evgeniy
        token = token[1:]
    for old, new in _SOUNDS:
        token = token.replace(old, new)
    token = token.replace("y", "i")
    if not token:
        return ""
    head, rest = token[0], token[1:]
    consonants = [c for c in rest if c not in _VOWELS and c not in "'-"]
    collapsed = "".join(c for i, c in enumerate(consonants) if i == 0 or consonants[i - 1] != c)
    if head not in _VOWELS and collapsed.startswith(head):
        collapsed = collapsed[1:]
    end = "a" if token.endswith("a") else "v" if token[-1] in _VOWELS else ""
    return head + collapsed + end


def name_key(name: str) -> str:
    """The identity key of a name: sorted skeletons of its words ("" for no name)."""
    return " ".join(sorted(s for s in (_skeleton(t) for t in name_tokens(name)) if s))


def same_person(a: str, b: str) -> bool:
    """True when two names have one key (any script, any order, with or without patronymic)."""
    key = name_key(a)
    return bool(key) and key == name_key(b)


@dataclass
class Identity:
    """One person: the key, every spelling seen (sorted), and keys that may be the same person."""

    key: str
    spellings: list[str] = field(default_factory=list)
    possible_matches: list[str] = field(default_factory=list)  # other keys, never merged

    @property
    def name(self) -> str:
        """The spelling to show: a Latin one when there is one (shortest, so without a patronymic)."""
        latin = [s for s in self.spellings if s.isascii()]
        return min(latin or self.spellings, key=lambda s: (len(s.split()), len(s), s))

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "name": self.name,
            "spellings": self.spellings,
            "possible_matches": self.possible_matches,
        }


def _close(a: str, b: str) -> bool:
    """Two different keys that may still be one person: all words equal but one, and that one of the
    same start (Alexander/Alexei Ivanov, Ivanov/Ivanova); or one name a word longer."""
    ta, tb = a.split(), b.split()
    if abs(len(ta) - len(tb)) == 1 and min(len(ta), len(tb)) >= 2:
        return set(ta) <= set(tb) or set(tb) <= set(ta)
    if len(ta) != len(tb):
        return False
    rest_a, rest_b = sorted(set(ta) - set(tb)), sorted(set(tb) - set(ta))
    if len(rest_a) != 1 or len(rest_b) != 1:
        return False
    x, y = rest_a[0], rest_b[0]
    return len(os.path.commonprefix([x, y])) >= min(AMBIGUITY, len(x), len(y))


def identities(names: Iterable[str]) -> list[Identity]:
    """The identities of some names, sorted by key; close keys are listed in each other's
    ``possible_matches`` (pairwise: a few hundred names cost milliseconds)."""
    spellings: dict[str, set[str]] = defaultdict(set)
    for name in names:
        key = name_key(name)
        if key:
            spellings[key].add(" ".join(name.split()))
    keys = sorted(spellings)
    found = {key: Identity(key, sorted(spellings[key])) for key in keys}
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            if _close(a, b):
                found[a].possible_matches.append(b)
                found[b].possible_matches.append(a)
    return [found[key] for key in keys]
