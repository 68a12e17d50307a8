"""Which transliteration library for people across scripts? anyascii, cyrtranslit and transliterate on
the names of the seeds and the replica (Russian spelling -> the English site's spelling).

    pip install cyrtranslit transliterate   # anyascii is a dependency; the other two only for this comparison
    python -m bench.transliteration [--json]

Per library: ``exact`` = names whose transliteration equals the English site's spelling word for word
(case-insensitive); ``keyed`` = names whose ``dedupe.people`` skeleton key, computed from that
library's output, equals the key of the English spelling. The seeds' pairs are the real sites'.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from dedupe.people import _skeleton
from replica import rosters

# (paodkb.org, pacsto.org): names both real sites spell (the seeds, the Russian block)
SEED_PAIRS = (
    ("Виктор Когут", "Viktor Kogut"),
    ("Виктор Рогалев", "Viktor Rogalev"),
    ("Шабданбек Алишев", "Shabdanbek Alishev"),
    ("Михаил Кротов", "Mikhail Krotov"),
    ("Касым-Жомарт Токаев", "Kassym-Jomart Tokayev"),
    ("Ерлан Кошанов", "Erlan Koshanov"),
    ("Сергей Рачков", "Sergei Rachkov"),
    ("Умахан Умаханов", "Umakhan Umakhanov"),
)


def libraries() -> dict[str, Callable[[str], str]]:
    """The libraries installed, as functions Cyrillic -> Latin."""
    found: dict[str, Callable[[str], str]] = {}
    from anyascii import anyascii

    found["anyascii"] = anyascii
    try:
        import cyrtranslit

        found["cyrtranslit"] = lambda text: cyrtranslit.to_latin(text, "ru")
    except ImportError:
        pass
    try:
        from transliterate import translit

        found["transliterate"] = lambda text: translit(text, "ru", reversed=True)
    except ImportError:
        pass
    return found


def _words(text: str) -> list[str]:
    return [w for w in text.lower().replace("-", " ").split() if w]


def _key(text: str) -> str:
    return " ".join(sorted(_skeleton("".join(ch for ch in w if ch.isalpha())) for w in _words(text)))


def pairs() -> list[tuple[str, str]]:
    people = [p for d in rosters.delegations().values() for p in (*d.members, *d.newcomers)]
    return list(SEED_PAIRS) + [(f"{p.given_ru} {p.family_ru}", p.en) for p in people]


def compare() -> dict[str, dict[str, float]]:
    """Per library and name set ("seeds", "all"): names, exact and keyed shares."""
    results = {}
    for name, to_latin in libraries().items():
        for label, data in (("seeds", list(SEED_PAIRS)), ("all", pairs())):
            exact = sum(_words(to_latin(ru)) == _words(en) for ru, en in data)
            keyed = sum(_key(to_latin(ru)) == _key(en) for ru, en in data)
            results[f"{name} ({label})"] = {
                "names": len(data),
                "exact": round(exact / len(data), 3),
                "keyed": round(keyed / len(data), 3),
            }
    return results


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = compare()
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'library (names)':<24} {'names':>5} {'exact':>6} {'keyed':>6}")
    for name, r in results.items():
        print(f"{name:<24} {r['names']:>5} {r['exact']:>6.3f} {r['keyed']:>6.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
