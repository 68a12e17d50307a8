"""trafilatura's ``fast=True`` against the call the archive makes: CPU per page, and on which pages the body
text differs (the lean-archive issue: adopt it only where the stored text stays the same).

    python -m bench.trafilatura_fast [--pages 1000] [--json]

Three sets of pages: the benchmark's synthetic site, the replica of both languages and epochs, and the
saved pages of the real sites (``tests/fixtures/site``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura
from trafilatura.utils import load_html

from bench.synthetic_site import SyntheticSite
from dedupe.extract import BODY_OPTIONS
from tests.replica_corpus import replica_snapshots

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "site"


def body_text(markup: str, fast: bool) -> str | None:
    """The body as ``dedupe.extract._extract_article`` asks trafilatura for it, with or without ``fast``."""
    tree = load_html(markup)
    if tree is None:
        return None
    doc = trafilatura.bare_extraction(tree, **BODY_OPTIONS, fast=fast)
    return None if doc is None else doc.text


def _cpu_ms(pages: list[str], extract: Callable[[str], object], rounds: int = 2) -> float:
    started = time.process_time()
    for _ in range(rounds):
        for markup in pages:
            extract(markup)
    return 1000 * (time.process_time() - started) / (rounds * max(1, len(pages)))


def measure(pages: int) -> dict[str, dict]:
    site = SyntheticSite(pages)
    sets = {
        "synthetic": [site.page_html(a).decode() for a in site.articles],
        "replica": [s.body.decode("utf-8", "replace") for s in replica_snapshots(("en", "ru")) if s.body],
        "real": [p.read_text(encoding="utf-8", errors="replace") for p in sorted(FIXTURES.glob("*.html"))],
    }
    out = {}
    for name, markups in sets.items():
        default = _cpu_ms(markups, lambda m: body_text(m, False))
        fast = _cpu_ms(markups, lambda m: body_text(m, True))
        differ = sum(body_text(m, False) != body_text(m, True) for m in markups)
        out[name] = {
            "pages": len(markups),
            "differ": differ,
            "default_ms": round(default, 2),
            "fast_ms": round(fast, 2),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trafilatura_fast", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="articles of the synthetic site")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    results = measure(args.pages)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for name, r in results.items():
            print(
                f"{name}: {r['pages']} pages, body differs on {r['differ']}; CPU ms a page "
                f"{r['default_ms']} default, {r['fast_ms']} fast"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
