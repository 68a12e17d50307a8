"""The archive at scale, through the archive itself: N observations of N/10 article URLs.

    python -m bench.archive_scale --observations 1000000 [--json]

Half the URLs are English (pacsto.org), half Russian (paodkb.org), each observed 10 times a week
apart, in time order, through ``Archive.ingest`` (the path of ``import`` and of the crawler's
writer; one ingest per week of observations, as a weekly crawl would store them). Planted:

* the delegation block changes for every page at week 5 (variant "a" -> "b": the Kyrgyz seats
  7 -> 6, websites emptied), and 10% of the pages show variant "c" (the Russian rewording) in
  week 9: three block versions per language, one conflict per language;
* 2% of the pages are edited each week (one sentence changed): new versions of their articles.

Each observation carries the response headers a crawl stores (``_headers``: the server's set, with its own Date,
length and validators). Every other observation is byte-identical to the one before (~75% of all). Measured: total
seconds and peak RSS; near-duplicate article grouping precision and recall over pairs of
contents (truth: one article per URL); whether the planted block versions and conflicts were
all found; and the time of the conflicts query on the result.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from bench.synthetic_site import _filler
from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from dedupe.queries import CONFLICTS_SQL
from replica.content import block_lines
from replica.render import page
from replica.site import etag_for

HOSTS = {"en": "https://pacsto.org", "ru": "https://paodkb.org"}
WEEKS = 10
BLOCK_CHANGE_WEEK = 5
REWORDED_WEEK = 9
REWORDED_SHARE = 0.1
EDIT_SHARE = 0.02


def _article(index: int, lang: str) -> tuple[str, list[str]]:
    rng = random.Random(index * 2 + (lang == "ru"))
    title = _filler(rng, lang, rng.randint(6, 12)).rstrip(".")
    paragraphs = [
        " ".join(_filler(rng, lang, rng.randint(10, 25)) for _ in range(rng.randint(1, 3)))
        for _ in range(rng.randint(4, 9))
    ]
    return title, paragraphs


def _page(index: int, lang: str, week: int, edits: int) -> bytes:
    title, paragraphs = _article(index, lang)
    if edits:
        paragraphs[0] = f"{paragraphs[0]} Updated statement number {edits}."
    variant = "a" if week < BLOCK_CHANGE_WEEK else "b"
    if week >= REWORDED_WEEK and random.Random(index * 7 + week).random() < REWORDED_SHARE:
        variant = "c"
    main = (
        f'<h1 class="content__title content__title--h2">{html.escape(title)}</h1>'
        f'<div class="content__date">{1 + index % 28} June 2024</div><div class="wysiwyg js-wysiwyg">'
        + "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
        + "</div>"
    )
    return page(lang, title, main, block_lines(lang, variant), "header").encode("utf-8")


def _headers(body: bytes, observed: str) -> dict[str, str]:
    """The headers a crawl stores with a page, as the site's server sends them (Scrapy's spelling): the same set
    for every page but the answer's time, length and validators."""
    when = datetime.fromisoformat(observed.replace("Z", "+00:00"))
    return {
        "Content-Length": str(len(body)),
        "Server": "nginx",
        "Date": format_datetime(when, usegmt=True),
        "Content-Type": "text/html; charset=utf-8",
        "Etag": etag_for(body),
        "Last-Modified": format_datetime(when - timedelta(days=3), usegmt=True),
        "Cache-Control": "max-age=0, private, must-revalidate",
    }


def observations(urls: int):
    """Week by week, every URL once: (week, iterator of RawSnapshot). Pages are rendered as the
    archive reads them, so memory holds one batch, not a week; edits accumulate per URL."""
    edits: dict[tuple[str, int], int] = defaultdict(int)
    rng = random.Random(20241129)

    def week_of(week: int):
        for index in range(urls // 2):
            for lang in ("en", "ru"):
                if week and rng.random() < EDIT_SHARE:
                    edits[(lang, index)] += 1
                observed = (
                    f"2024-{1 + week // 4:02d}-{1 + 7 * (week % 4):02d}T{index // 3600 % 24:02d}:"
                    f"{index // 60 % 60:02d}:{index % 60:02d}Z"
                )
                body = _page(index, lang, week, edits[(lang, index)])
                yield RawSnapshot(
                    f"{HOSTS[lang]}/events/article-{index}",
                    observed,
                    body,
                    source="crawl",
                    http_status=200,
                    headers=_headers(body, observed),
                    page_type="article",
                    declared_charset="utf-8",
                )

    for week in range(WEEKS):
        yield week, week_of(week)


def _pairs(counts) -> int:
    return sum(n * (n - 1) // 2 for n in counts)


def grouping_quality(archive: Archive) -> tuple[float, float]:
    """Pairwise precision and recall of contents grouped into articles (truth: one article per URL)."""
    rows = archive.db.execute(
        "SELECT ca.page_id, av.article_id, min(s.url) FROM content_articles ca "
        "JOIN article_versions av ON av.id = ca.article_version_id JOIN pages p ON p.rowid = ca.page_id "
        "JOIN snapshots s ON s.content_sha256 = p.content_sha256 "
        "GROUP BY ca.page_id"
    ).fetchall()
    cells = Counter((article, url) for _, article, url in rows)
    predicted = _pairs(Counter(article for _, article, _ in rows).values())
    true = _pairs(Counter(url for _, _, url in rows).values())
    both = _pairs(cells.values())
    return (both / predicted if predicted else 1.0), (both / true if true else 1.0)


def analyst_goals(observations: int) -> tuple[float, float]:
    """The slowest page and the slowest command allowed (seconds): 1 and 1.5 at 1M observations, 0.3 and 1 at 100k
    (the real site after ten weekly crawls) and below."""
    return (1.0, 1.5) if observations > 100_000 else (0.3, 1.0)


def _cpu() -> float:
    """CPU seconds of this process and of its ended children (the ingests' analysis workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(size: int, work: Path, say=lambda message: None, analyst: bool = True) -> dict:
    from bench.run import CountedIterator

    urls = max(2, size // WEEKS)
    db = work / f"scale-{size}.db"
    started, cpu_started = time.perf_counter(), _cpu()
    week_seconds: list[float] = []
    making = 0.0  # CPU seconds spent making the observations (rendering the pages): the run's ``fetch``
    with Archive(db) as archive:
        for week, batch in observations(urls):
            week_started = time.perf_counter()
            made = CountedIterator(batch)
            archive.ingest(made)
            making += made.seconds
            week_seconds.append(round(time.perf_counter() - week_started, 1))
            say(f"week {week + 1}/{WEEKS}: {archive.counts()} after {time.perf_counter() - started:.0f} s")
        seconds = time.perf_counter() - started
        stages = {"fetch": making, **archive.stage_cpu.seconds}
        stages["other"] = max(0.0, _cpu() - cpu_started - sum(stages.values()))
        precision, recall = grouping_quality(archive)
        query_started = time.perf_counter()
        archive.query(CONFLICTS_SQL)  # the named query Datasette's conflicting_facts and the CLI share
        conflicts_s = time.perf_counter() - query_started
        evidence_started = time.perf_counter()
        found = archive.conflicts()  # with its evidence: block versions, URLs, changes (`pa-archive conflicts`)
        evidence_s = time.perf_counter() - evidence_started
        kyrgyz = sorted(
            (c["language"], sorted(v["value"] for v in c["values"]))
            for c in found
            if c["delegation"] == "Kyrgyzstan" and c["field"] == "seats_total"
        )
        delegation_versions = archive.db.execute(
            "SELECT count(*) FROM block_versions WHERE text LIKE '%Kyrgyz%' OR text LIKE '%Кыргыз%'"
        ).fetchone()[0]
        stats = archive.stats()
    result = {
        "archive_scale_observations": urls * WEEKS,
        "archive_scale_urls": urls,
        "archive_scale_s": round(seconds, 1),
        "archive_scale_week_seconds": week_seconds,
        # CPU ms per observation by stage, as the crawl's and the import's (``fetch``: making the pages)
        "archive_scale_cpu_ms_per_observation_by_stage": {
            name: round(1000 * value / (urls * WEEKS), 3) for name, value in stages.items()
        },
        "archive_scale_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "archive_scale_precision": round(precision, 4),
        "archive_scale_recall": round(recall, 4),
        "archive_scale_conflicts_query_s": round(conflicts_s, 3),
        "archive_scale_conflicts_with_evidence_s": round(evidence_s, 3),
        "archive_scale_planted_found": kyrgyz == [("en", ["6", "7"]), ("ru", ["6", "7"])] and delegation_versions >= 6,
        "archive_scale_db_mb": round(sum(p.stat().st_size for p in work.glob(f"scale-{size}.db*")) / 1e6, 1),
        "archive_scale_stats": stats,
    }
    if analyst:  # the analyst's phase: every page and read command on the archive just built
        from bench.analyst import measure as measure_analyst

        result.update(measure_analyst(db, say=say))
        page_goal, command_goal = analyst_goals(urls * WEEKS)
        result["analyst_goals_met"] = (
            not result["analyst_failed"]
            and result["analyst_slowest_page_s"] < page_goal
            and result["analyst_slowest_command_s"] < command_goal
        )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.archive_scale", description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=1_000_000, help="observations to ingest (default 1M)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--workdir", type=Path, help="keep the archive here (default: a temp dir)")
    parser.add_argument("--no-analyst", action="store_true", help="skip timing the pages and read commands after")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pa-scale-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        result = measure(
            args.observations, work, say=lambda m: print(m, file=sys.stderr, flush=True), analyst=not args.no_analyst
        )
    print(json.dumps(result, indent=None if args.json else 2))
    if not args.json and "analyst_pages" in result:
        from bench.analyst import table

        print(table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
