"""English against Russian: for each delegation and field, what pacsto.org and paodkb.org stated at
one moment, and whether they agree.

Each site's statements at ``when`` are its pages by their latest observation at or before it: the
delegation block's facts (``Archive.facts_as_of``) and the country pages' rosters
(``dedupe.analysis.delegations.rosters_as_of``). Fields: ``seats_total``, ``seats.<chamber>``,
``plenipotentiary`` and ``members``. They are compared by meaning: numbers as numbers, names
through ``dedupe.people`` identities (any script, any order, patronymics ignored). A field one
site states and the other does not is reported too (``agree`` false, ``status`` "one site only"),
for delegations both sites state something about.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..people import name_key
from .delegations import delegation_name, rosters_as_of

__all__ = ["parity", "differences"]

LANGS = ("en", "ru")
FIELD_ORDER = {"seats_total": 0, "plenipotentiary": 2, "members": 3}  # seats.<chamber>: 1


def _side() -> dict[str, Any]:
    return {"values": [], "urls": [], "sources": []}


def _field_rank(name: str) -> tuple[int, str]:
    return (FIELD_ORDER.get(name, 1), name)


def parity(archive: Any, when: str | None = None, delegation: str = "") -> dict[str, Any]:
    """``{"as_of", "fields": [{"delegation", "field", "en", "ru", "agree", "status", ...}]}``: each side's
    ``values`` (numbers, or names), ``urls`` and ``sources`` (block variants and roster versions)."""
    delegation = delegation_name(archive, delegation)
    facts = archive.facts_as_of(when, delegation)
    sides: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(lambda: {lang: _side() for lang in LANGS})
    for fact in facts["facts"]:
        name, lang = fact["field"], fact["language"]
        if lang not in LANGS or not (name.startswith("seats") or name == "plenipotentiary"):
            continue
        side = sides[(fact["delegation"], name)][lang]
        for value in fact["values"]:
            if value["value"] == "":
                continue
            side["sources"].append(
                {
                    "from": "block",
                    "value": value["value"],
                    "pages": value["pages"],
                    "url": value["example_url"],
                    "block_versions": value["block_versions"],
                }
            )
    for roster in rosters_as_of(archive, facts["as_of"], delegation)["rosters"]:
        if roster["language"] not in LANGS:
            continue
        source = {
            "from": "roster",
            "url": roster["url"],
            "snapshot_id": roster["snapshot_id"],
            "roster_version": roster["roster_version"],
        }
        stated = dict(roster["seats"])
        if roster["plenipotentiary"]:
            stated["plenipotentiary"] = roster["plenipotentiary"]
        for name, value in stated.items():
            sides[(roster["delegation"], name)][roster["language"]]["sources"].append({**source, "value": value})
        members = [m["name"] for m in roster["members"]]
        sides[(roster["delegation"], "members")][roster["language"]]["sources"].append({**source, "value": members})
    stating = defaultdict(set)  # delegation -> languages that state anything about it
    for (d, _), by_lang in sides.items():
        stating[d].update(lang for lang in LANGS if by_lang[lang]["sources"])
    fields = []
    for (d, name), by_lang in sorted(sides.items(), key=lambda item: (item[0][0], _field_rank(item[0][1]))):
        if stating[d] != set(LANGS):
            continue  # one site says nothing at all about this delegation: nothing to compare
        fields.append(_compare(d, name, by_lang))
    return {"as_of": facts["as_of"], "fields": fields}


def _compare(delegation: str, name: str, by_lang: dict[str, dict[str, Any]]) -> dict[str, Any]:
    keys: dict[str, set] = {}
    for lang in LANGS:
        side = by_lang[lang]
        side["urls"] = sorted({s["url"] for s in side["sources"] if s.get("url")})
        if name == "members":
            listed: dict[str, str] = {}
            for s in side["sources"]:
                for member in s["value"]:
                    listed.setdefault(name_key(member), member)
            side["values"] = list(listed.values())
            keys[lang] = set(listed)
        elif name == "plenipotentiary":
            named: dict[str, str] = {}
            for s in side["sources"]:
                named.setdefault(name_key(s["value"]), s["value"])
            side["values"] = sorted(named.values())
            keys[lang] = set(named)
        else:
            numbers = {int(s["value"]) for s in side["sources"] if str(s["value"]).isdigit()}
            side["values"] = sorted(numbers)
            keys[lang] = numbers
    both = all(keys[lang] for lang in LANGS)
    agree = both and keys["en"] == keys["ru"]
    record: dict[str, Any] = {
        "delegation": delegation,
        "field": name,
        "en": by_lang["en"],
        "ru": by_lang["ru"],
        "agree": agree,
        "status": "agree" if agree else "differ" if both else "one site only",
    }
    if name == "members" and both and not agree:
        record["only_en"] = [v for v in by_lang["en"]["values"] if name_key(v) not in keys["ru"]]
        record["only_ru"] = [v for v in by_lang["ru"]["values"] if name_key(v) not in keys["en"]]
    return record


def differences(archive: Any, when: str | None = None) -> list[dict[str, Any]]:
    """The fields the two sites disagree on (or only one states) at ``when``."""
    return [f for f in parity(archive, when)["fields"] if not f["agree"]]
