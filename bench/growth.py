"""What a page costs as the archive grows: import N synthetic article pages, then add one more.

    python -m bench.growth --sizes 1000,20000 [--json]

For each archive size N (pages of ``bench.synthetic_site``, each a ~10 KB article page with the
delegation block), in a fresh archive: the import of N pages through ``Archive.ingest`` (the
path of ``pa-archive import`` and of the crawler's writer), then three single-page additions,
each a separate ``ingest`` + refresh as one crawled page: a new article (median of 5); a
re-observation of an existing page whose block shows a new seat count; a re-observation with
nothing new (a 304; median of 5).
``add_one_flatness`` = seconds to add one new article at the largest size / at the smallest;
``import_flatness`` = per-page import time at the largest size / at the smallest.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.synthetic_site import SyntheticSite
from dedupe import schema
from dedupe.archive import Archive
from dedupe.document import RawSnapshot

BASE = "https://pacsto.org"
SEAT_LINE = "consists of 7 deputies"
ADDED = 5  # new articles (and 304s) added one at a time; the median is reported


def _snapshot(url: str, body: bytes | None, when: str, status: int = 200) -> RawSnapshot:
    return RawSnapshot(
        url,
        when,
        body,
        source="crawl",
        http_status=status,
        page_type="article",
        declared_charset="utf-8" if body else None,
    )


def measure(size: int, work: Path, say=lambda message: None) -> dict:
    """Import ``size`` pages into a fresh archive, then add one page three ways; seconds of each."""
    site = SyntheticSite(pages=size + ADDED)
    articles = list(reversed(site.articles))  # oldest first, as a crawl of the site's history finds them
    snaps = [
        _snapshot(BASE + a.path, site.page_html(a), f"2025-01-01T00:00:{i % 60:02d}Z")
        for i, a in enumerate(articles[:size])
    ]
    db = work / f"growth-{size}.db"
    with Archive(db) as archive:
        started = time.perf_counter()
        archive.ingest(snaps)
        import_s = time.perf_counter() - started
        say(f"{size} pages imported in {import_s:.1f} s")
        results = {
            "pages": size,
            "import_s": round(import_s, 2),
            "import_ms_per_page": round(1000 * import_s / size, 3),
        }
        changed_body = site.page_html(articles[size // 2])
        if SEAT_LINE.encode() in changed_body:
            changed_body = changed_body.replace(SEAT_LINE.encode(), b"consists of 6 deputies")
        else:
            changed_body = changed_body.replace(b"</main>", b"<p>One more sentence of the page.</p></main>")
        additions = {
            "add_new_article_s": [
                _snapshot(BASE + new.path, site.page_html(new), f"2025-02-01T00:00:0{i}Z")
                for i, new in enumerate(articles[size : size + ADDED])
            ],
            "add_changed_block_s": [_snapshot(BASE + articles[size // 2].path, changed_body, "2025-02-01T00:01:00Z")],
            "add_not_modified_s": [
                _snapshot(BASE + articles[size // 3 + i].path, None, f"2025-02-01T00:02:0{i}Z", status=304)
                for i in range(ADDED)
            ],
        }
        for name, snaps in additions.items():
            seconds = []
            for snap in snaps:  # each page alone: one ingest and its refresh, as a crawl's writer stores it
                started = time.perf_counter()
                archive.ingest([snap], workers=1)
                seconds.append(time.perf_counter() - started)
            results[name] = round(statistics.median(seconds), 4)
        results["stats"] = archive.stats()
    results["db_mb"] = round(sum(p.stat().st_size for p in work.glob(f"growth-{size}.db*")) / 1e6, 1)
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000", help="archive sizes in pages, comma-separated")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--workdir", type=Path, help="keep the archives here (default: a temp dir)")
    parser.add_argument(
        "--page-size",
        type=int,
        choices=(4096, 8192, 16384),
        help=f"SQLite page size of the archives made (default: the archive's, {schema.PAGE_SIZE}); to compare",
    )
    args = parser.parse_args(argv)
    if args.page_size:
        schema.PAGE_SIZE = args.page_size  # read when a new archive's file is first written
    sizes = sorted(int(s) for s in args.sizes.split(","))
    with tempfile.TemporaryDirectory(prefix="pa-growth-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        rows = [measure(size, work, say=lambda m: print(m, file=sys.stderr)) for size in sizes]
    small, large = rows[0], rows[-1]
    summary = {
        "growth": rows,
        "add_one_flatness": round(large["add_new_article_s"] / small["add_new_article_s"], 2),
        "add_changed_block_flatness": round(large["add_changed_block_s"] / small["add_changed_block_s"], 2),
        "import_flatness": round(large["import_ms_per_page"] / small["import_ms_per_page"], 2),
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print("| pages | import (s) | ms/page | add new article (s) | add changed block (s) | add 304 (s) | MB |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in rows:
            print(
                f"| {r['pages']:,} | {r['import_s']} | {r['import_ms_per_page']} | {r['add_new_article_s']} | "
                f"{r['add_changed_block_s']} | {r['add_not_modified_s']} | {r['db_mb']} |"
            )
        print(
            f"add_one_flatness {summary['add_one_flatness']} (goal <= 1.5), "
            f"import_flatness {summary['import_flatness']} (goal <= 1.25)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
