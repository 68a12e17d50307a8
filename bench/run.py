"""The benchmark: where the time goes, against the issue's goals, in one run.

    python -m bench.run                              # 1k pages, dedupe at 100k snapshots
    python -m bench.run --pages 10000 --scale 100000,1000000 --json
    python -m bench.run --pages 60 --scale 2000 --minhash-docs 20 --out /tmp/smoke.json

It builds a synthetic site of ``--pages`` articles (``bench.synthetic_site``: the replica's
templates, 7-12 KB pages) on 127.0.0.1 and measures, each ratio against a baseline taken in
the same run:

1. crawl: the bare ``pacsto`` spider vs ``pa-archive crawl`` into a fresh archive (pages/s);
2. re-crawl of the unchanged site vs the first crawl (seconds), and the bytes it added: the
   default revisit policy (``REVISIT_AFTER``, 7 days: listing page 1 and nothing due), and for
   reference the full revisit a run with ``--revisit-after 0`` (or one a week later) makes;
3. import of the article pages as files vs trafilatura ``extract`` alone on the same files;
4. MinHash: the project's signatures vs datasketch's per-shingle ``update`` (``bench.minhash_bench``);
5. scale: dedupe of ``--scale`` synthetic snapshots (``bench.minhash_bench.bench_scale``);
6. storage: archive bytes per snapshot, raw HTML compression ratio, and where the bytes go: bytes per
   page by table (dbstat; indexes and full-text shadow tables counted with their table) after the
   first crawl and, with ``--archive-scale``, for the scale run's archive.

CPU ms per page by stage, for the crawl and the import, adding up to the whole CPU: ``fetch`` (the
crawler process; for the import, reading the files), then the archive's ``analyse``, ``store``,
``derive`` and ``index`` (``dedupe.archive.observations.StageClock``; in the crawl, the writer
process's, ``bench.crawl_child.instrument_writer``) and ``other`` (what no stage names: queues, the
per-page questions outside ``Archive.add``).
``python -m bench.run --bytes-by-table ARCHIVE`` prints one archive's bytes by table as JSON.

Crawls, imports and scale runs each run in a fresh process. It prints one Markdown table
(``--json``: one JSON object instead) and writes the JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable from anywhere in the checkout
    sys.path.insert(0, str(ROOT))

DEFAULT_OUT = ROOT / "bench" / "results" / "latest.json"
DEFAULT_SCALE = (100_000,)

# key -> (comparison, target, what the issue asks)
GOALS: dict[str, tuple[str, float, str]] = {
    "crawl_vs_bare": (">=", 0.8, "full crawl >= 0.8x the bare spider's pages/s"),
    "recrawl_speedup": (">=", 10.0, "re-crawl of the unchanged site >= 10x faster than the first crawl"),
    "recrawl_bytes_per_page": ("<", 1024.0, "re-crawl adds < 1 KB per page of the site"),
    "import_vs_trafilatura": (">=", 0.75, "import >= 0.75x trafilatura extract's pages/s"),
    "minhash_speedup": (">=", 30.0, "MinHash >= 30x datasketch's per-shingle update"),
    "compression_ratio": (">=", 8.0, "raw HTML stored at >= 8x compression"),
    "archive_vs_raw_html_first_crawl": ("<=", 1.0, "the archive after the first crawl <= the raw HTML it holds"),
    "add_one_flatness": (
        "<=",
        1.5,
        "adding one article to the largest archive costs <= 1.5x adding it to the smallest",
    ),
    "import_flatness": ("<=", 1.25, "per-page import time at the largest size <= 1.25x at the smallest"),
}
SCALE_GOAL = {"size": 1_000_000, "seconds": 1800.0, "peak_rss_mb": 3072.0, "precision": 0.95, "recall": 0.95}


@dataclass
class BenchConfig:
    """What one benchmark run does."""

    pages: int = 1000
    scale: tuple[int, ...] = DEFAULT_SCALE
    minhash_docs: int = 200
    repeat: int = 2  # interleaved rounds of the in-process import comparison (best of)
    lang: str = "en"
    growth: tuple[int, ...] = (1000, 20000)  # archive sizes of bench.growth (add one page, import flatness)
    archive_scale: int = 0  # observations for bench.archive_scale (0: not run; 1,000,000 is the goal's size)
    workdir: Path | None = None  # kept when given (archives and pages to inspect), else a temp dir
    log: Any = field(default=None, repr=False)  # callable(str) for progress lines


# --------------------------------------------------------------------------- helpers


def _env() -> dict[str, str]:
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in paths if p)}


def _child(args: Sequence[str], timeout: float) -> dict:
    """Run ``python -m <args>`` from the checkout; its last stdout line is a JSON object."""
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=timeout
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise RuntimeError(f"`python -m {' '.join(args)}` failed (exit {done.returncode}):\n{tail}")
    return json.loads(lines[-1])


def _db_bytes(path: Path) -> int:
    """Size of an archive on disk with its write-ahead log folded in."""
    con = sqlite3.connect(path)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.suffix != ".lock")


def _payload_bytes(path: Path) -> int | None:
    """Bytes of data in the archive (dbstat payload of every table and index), or None without dbstat:
    unlike the file's size it does not move by whole pages, nor with free pages a rewrite left behind."""
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT coalesce(sum(payload), 0) FROM dbstat").fetchone()[0]
    except sqlite3.Error:
        return None
    finally:
        con.close()


def machine_info() -> dict[str, Any]:
    """Where the numbers come from: CPUs, CPU model, memory, Python, load."""
    model = ""
    try:
        model = next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "",
        )
    except OSError:
        pass
    memory = None
    try:
        kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        )
        memory = round(kb / 1024**2, 1)
    except (OSError, StopIteration, ValueError):
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "memory_gb": memory,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# --------------------------------------------------------------------------- 1, 2, 6: crawl and storage


def bench_crawl(url: str, work: Path, repeat: int, timeout: float) -> dict[str, Any]:
    """Bare spider, first crawl into a fresh archive, re-crawl of the unchanged site with the default
    revisit policy, and a full revisit (``--revisit-after 0``) of a copy of the first crawl's archive
    (best of ``repeat`` interleaved rounds, each crawl in its own process); storage of the archive
    after the first crawl and the default re-crawl."""
    best: dict[str, dict] = {}
    for _ in range(max(1, repeat)):
        db, full_db = work / "crawl.db", work / "crawl-full-revisit.db"
        for stale in [*work.glob("crawl.db*"), *work.glob("crawl-full-revisit.db*")]:
            stale.unlink()
        rounds = {
            "bare": _child(["bench.crawl_child", "bare", url], timeout),
            "first": _child(["bench.crawl_child", "full", url, "--db", str(db)], timeout),
        }
        size_first = _db_bytes(db)  # checkpointed: the file is the whole archive
        payload_first = _payload_bytes(db)
        tables_first = bytes_by_table(db)
        shutil.copyfile(db, full_db)
        rounds["first"]["archive_bytes"] = size_first
        rounds["first"]["tables"] = tables_first
        rounds["again"] = _child(["bench.crawl_child", "full", url, "--db", str(db)], timeout)
        rounds["again"]["added_bytes"] = _db_bytes(db) - size_first
        payload_again = _payload_bytes(db)
        rounds["again"]["added_payload"] = (
            None if payload_first is None or payload_again is None else payload_again - payload_first
        )
        rounds["full"] = _child(
            ["bench.crawl_child", "full", url, "--db", str(full_db), "--revisit-after", "0"], timeout
        )
        rounds["full"]["added_bytes"] = _db_bytes(full_db) - size_first
        for name, result in rounds.items():
            if name not in best or result["seconds"] < best[name]["seconds"]:
                best[name] = result
    bare, first, again, full = best["bare"], best["first"], best["again"], best["full"]
    bare_rate = bare["pages"] / bare["seconds"]
    full_rate = first["pages"] / first["seconds"]
    site_pages = max(1, first["pages"])  # every page of the site: what the first crawl stored

    def cpu_ms(result: dict, key: str = "cpu_seconds") -> float:
        return round(1000 * result[key] / max(1, result["pages"]), 2)

    return {
        "crawl_bare_pages": bare["pages"],
        "crawl_bare_seconds": round(bare["seconds"], 2),
        "crawl_bare_pages_per_s": round(bare_rate, 1),
        "crawl_bare_cpu_ms_per_page": cpu_ms(bare),
        "crawl_pages": first["pages"],
        "crawl_seconds": round(first["seconds"], 2),
        "crawl_pages_per_s": round(full_rate, 1),
        "crawl_cpu_ms_per_page": cpu_ms(first),
        "crawl_crawler_cpu_ms_per_page": cpu_ms(first, "cpu_seconds_crawler"),
        "crawl_writer_cpu_ms_per_page": cpu_ms(first, "cpu_seconds_writer"),
        "crawl_status": first["status"],
        "crawl_vs_bare": round(full_rate / bare_rate, 3),
        # where the wall time goes: how many of the machine's cores the crawl kept busy on average (its CPU
        # seconds over its seconds), and the tail: pages still queued for the writer when the spider had
        # fetched its last, and the seconds from then to the writer's end (their analysis and the derivation
        # of the whole crawl, which the writer does at the end when it kept up: it stored a few pages at a time)
        "crawl_cores_busy": round(first["cpu_seconds"] / first["seconds"], 2),
        "crawl_writer_backlog_at_close": first.get("writer_backlog_at_close"),
        "crawl_writer_tail_seconds": first.get("writer_close_seconds"),
        # the re-crawl of the unchanged site with the default policy (REVISIT_AFTER, 7 days)
        "recrawl_revisit_after_seconds": again.get("revisit_after_seconds"),
        "recrawl_pages": again["pages"],  # observations stored (listing page 1: a 304)
        "recrawl_requests": again.get("requests"),  # every request sent, robots.txt and the sitemap included
        "recrawl_not_modified": again.get("not_modified"),
        "recrawl_not_due": again.get("not_due"),  # archived pages linked or in the sitemap, not requested
        "recrawl_seconds": round(again["seconds"], 2),
        "recrawl_cpu_seconds": round(again["cpu_seconds"], 2),
        "recrawl_speedup": round(first["seconds"] / again["seconds"], 2),
        "recrawl_bytes_added": again["added_bytes"],
        "recrawl_bytes_per_page": round(again["added_bytes"] / site_pages, 1),  # per page of the site
        "recrawl_bytes_per_request": round(again["added_bytes"] / max(1, again.get("requests") or 0), 1),
        # the data itself (dbstat payload; the file grows by whole 4 KB pages, or not at all)
        "recrawl_payload_bytes_added": again.get("added_payload"),
        # for reference: a full revisit of the unchanged site (--revisit-after 0, or a run once pages are due)
        "recrawl_full_pages": full["pages"],
        "recrawl_full_not_modified": full.get("not_modified"),
        "recrawl_full_seconds": round(full["seconds"], 2),
        "recrawl_full_cpu_ms_per_page": cpu_ms(full),
        "recrawl_full_speedup": round(first["seconds"] / full["seconds"], 2),
        "recrawl_full_bytes_per_page": round(full["added_bytes"] / site_pages, 1),
        "recrawl_row_bytes": snapshot_row_bytes(work / "crawl-full-revisit.db", "not_modified"),
        "archive_bytes_first_crawl": first["archive_bytes"],
        "archive_bytes_per_page_first_crawl": round(first["archive_bytes"] / max(1, first["pages"]), 1),
        # where they go: bytes per page of each table with its indexes (dbstat), largest first
        "archive_bytes_per_page_by_table_first_crawl": {
            name: round(size / max(1, first["pages"]), 1) for name, size in first["tables"].items()
        },
        # CPU per page by stage: fetch (the crawler process: Scrapy, the spider, the archive's middleware)
        # and the writer process's analyse, store, derive, index and other (crawl_child.instrument_writer)
        "crawl_cpu_ms_per_page_by_stage": crawl_stages(first),
        **archive_storage(work / "crawl.db"),
    }


def crawl_stages(result: dict[str, Any]) -> dict[str, float]:
    """CPU ms per page of a crawl by stage: ``fetch`` is the crawler process, the rest the writer's stages
    (without them, from a writer that did not report, the writer as a whole)."""
    pages = max(1, result["pages"])
    stages = {"fetch": result["cpu_seconds_crawler"]}
    stages.update(result.get("writer_stages") or {"writer": result["cpu_seconds_writer"]})
    return {name: round(1000 * seconds / pages, 2) for name, seconds in stages.items()}


def _archive_vs_raw_html(results: dict[str, Any]) -> float | None:
    """The first crawl's archive against the raw HTML it holds (the goal: at most 1)."""
    if not results.get("html_raw_bytes") or not results.get("archive_bytes_first_crawl"):
        return None
    return round(results["archive_bytes_first_crawl"] / results["html_raw_bytes"], 2)


def archive_storage(db: Path) -> dict[str, Any]:
    """Bytes per snapshot, raw HTML compression (dictionaries counted) and where the bytes are."""
    import zstandard

    from dedupe.storage import LEVEL

    size = _db_bytes(db)
    con = sqlite3.connect(db)
    try:
        snapshots = con.execute("SELECT count(*) FROM observations").fetchone()[0]
        raw, stored = con.execute(
            "SELECT coalesce(sum(size), 0), coalesce(sum(stored_size), 0) FROM contents WHERE kind = 'html'"
        ).fetchone()
        # the dictionaries of raw HTML (those of pages' lines are counted in the archive's size, not here)
        dictionaries = con.execute(
            "SELECT coalesce(sum(length(dict)), 0) FROM compression_dicts WHERE purpose = 'html'"
        ).fetchone()[0]
        methods = dict(  # 'zstd-ref:#<rowid>' names one content each: counted as one method
            con.execute(
                "SELECT CASE WHEN compression LIKE 'zstd-ref:%' THEN 'zstd-ref' ELSE compression END, count(*) "
                "FROM contents GROUP BY 1"
            ).fetchall()
        )
        tables = _table_bytes(con)
    finally:
        con.close()
    from dedupe.archive import Archive

    plain = zstandard.ZstdCompressor(level=LEVEL)
    with Archive(db) as archive:  # the baseline: plain zstd of the same bodies, page by page
        shas = [row[0] for row in archive.db.execute("SELECT sha256 FROM contents WHERE kind = 'html'")]
        plain_bytes = sum(len(plain.compress(archive.raw_content(sha))) for sha in shas)
    return {
        "archive_bytes": size,  # after the first crawl and the re-crawl
        "archive_snapshots": snapshots,
        "archive_bytes_per_snapshot": round(size / max(1, snapshots), 1),
        "archive_bytes_by_table": tables,  # after the re-crawl
        "html_raw_bytes": raw,
        "html_stored_bytes": stored,
        "compression_dictionary_bytes": dictionaries,
        "compression_methods": methods,
        "compression_ratio": round(raw / max(1, stored + dictionaries), 2),
        "compression_ratio_without_dictionaries": round(raw / max(1, stored), 2),
        "compression_ratio_plain_zstd": round(raw / max(1, plain_bytes), 2),
    }


FTS5_SHADOWS = ("_data", "_idx", "_docsize", "_config", "_content")


def _table_bytes(con: sqlite3.Connection) -> dict[str, int]:
    """Bytes on disk of each table with its indexes (dbstat pgsize), a full-text index's shadow tables
    counted as the index, largest first; {} without dbstat."""
    try:
        rows = con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        owners = dict(con.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')"))
        virtual = {n for (n,) in con.execute("SELECT name FROM sqlite_master WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")}
    except sqlite3.Error:
        return {}
    shadows = {f"{name}{suffix}": name for name in virtual for suffix in FTS5_SHADOWS}
    totals: dict[str, int] = {}
    for name, size in rows:
        table = owners.get(name, name)
        table = shadows.get(table, table)
        totals[table] = totals.get(table, 0) + size
    return dict(sorted(totals.items(), key=lambda kv: -kv[1]))


def bytes_by_table(db: Path) -> dict[str, int]:
    """``_table_bytes`` of an archive file, its write-ahead log checkpointed first."""
    _db_bytes(db)
    con = sqlite3.connect(db)
    try:
        return _table_bytes(con)
    finally:
        con.close()


def scale_storage(db: Path) -> dict[str, Any]:
    """Where the scale run's archive's bytes go: by table, per observation and per content, against the raw
    HTML it holds."""
    tables = bytes_by_table(db)
    con = sqlite3.connect(db)
    try:
        observations, contents, raw = con.execute(
            "SELECT (SELECT count(*) FROM observations), count(*), coalesce(sum(size), 0) FROM contents"
        ).fetchone()
    finally:
        con.close()
    return {
        "archive_scale_bytes": sum(tables.values()),
        "archive_scale_raw_html_bytes": raw,
        "archive_scale_bytes_by_table": tables,
        "archive_scale_bytes_per_content_by_table": {k: round(v / max(1, contents), 1) for k, v in tables.items()},
        "archive_scale_bytes_per_observation": round(sum(tables.values()) / max(1, observations), 1),
    }


def scale_compacted(db: Path) -> dict[str, Any]:
    """The scale run's archive after ``pa-archive compact`` (what an operator's scheduled compact leaves: the
    full-text indexes merged, the free pages a run leaves given back), beside the file as written; each
    against the raw HTML it holds. Run after every other measure of that archive."""
    from dedupe.archive import Archive

    started = time.perf_counter()
    with Archive(db) as archive:
        written, compacted = archive.compact()
        raw = archive.db.execute("SELECT coalesce(sum(size), 0) FROM contents").fetchone()[0]
    return {
        "archive_scale_vs_raw_html": round(written / max(1, raw), 3),
        "archive_scale_compacted_bytes": compacted,
        "archive_scale_compacted_vs_raw_html": round(compacted / max(1, raw), 3),
        "archive_scale_compact_s": round(time.perf_counter() - started, 1),
    }


def snapshot_row_bytes(db: Path, status: str) -> float | None:
    """Mean payload bytes of one snapshot row of ``status`` with its index entries (dbstat), or None."""
    con = sqlite3.connect(db)
    try:
        count = con.execute("SELECT count(*) FROM observations WHERE status = ?", [status]).fetchone()[0]
        total = con.execute("SELECT count(*) FROM observations").fetchone()[0]
        names = [  # the tables behind the snapshots view (m027), with their indexes
            r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE tbl_name IN ('observations', 'urls')")
        ]
        marks = ",".join("?" * len(names))
        payload = con.execute(f"SELECT sum(payload) FROM dbstat WHERE name IN ({marks})", names).fetchone()[0]
    except sqlite3.Error:
        return None
    finally:
        con.close()
    if not count or not total or payload is None:
        return None
    return round(payload / total, 1)  # rows are alike in size: the mean over all of them


# --------------------------------------------------------------------------- 3: import


class CountedIterator:
    """An iterator that counts the CPU seconds spent producing its items: the import's ``fetch`` stage
    (reading and decoding the input files), which happens inside ``ingest`` as it pulls them."""

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = iter(items)
        self.seconds = 0.0

    def __iter__(self) -> CountedIterator:
        return self

    def __next__(self) -> Any:
        started = time.process_time()
        try:
            return next(self.items)
        finally:
            self.seconds += time.process_time() - started


def bench_import(folder: Path, work: Path, repeat: int, timeout: float) -> dict[str, Any]:
    """``pa-archive import`` of the article files vs trafilatura ``extract`` alone (fresh process)."""
    result = _child(
        ["bench.run", "--child-import", str(folder), str(work / "import.db"), "--repeat", str(repeat)], timeout
    )
    return result


def _child_import(folder: Path, db: Path, repeat: int) -> dict[str, Any]:
    """In the child: best of ``repeat`` interleaved rounds of trafilatura alone, import, import on one core."""
    import resource

    import trafilatura

    from dedupe.archive import Archive
    from dedupe.sources import read_inputs

    files = sorted(folder.glob("*.html"))
    trafilatura.extract(files[0].read_bytes().decode("utf-8"))  # warm caches and lazy imports

    def cpu() -> float:
        own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def extract_alone() -> None:
        for path in files:
            trafilatura.extract(path.read_bytes().decode("utf-8"))

    stages: dict[int | None, dict[str, float]] = {}

    def import_with(workers: int | None) -> None:
        for stale in db.parent.glob(db.name + "*"):
            stale.unlink()
        start = cpu()
        reading = CountedIterator(read_inputs([str(folder)]))
        with Archive(db) as archive:
            report = archive.ingest(reading, workers=workers)
            stages[workers] = {"fetch": reading.seconds, **archive.stage_cpu.seconds}
        stages[workers]["other"] = max(0.0, cpu() - start - sum(stages[workers].values()))
        if report.errors or report.added != len(files):
            raise RuntimeError(f"import failed: {report.errors[:3]}")

    runs = {
        "trafilatura": extract_alone,
        "import": lambda: import_with(None),
        "import_one_core": lambda: import_with(1),
    }
    best = {name: (float("inf"), 0.0) for name in runs}
    for _ in range(max(1, repeat)):
        for name, run in runs.items():
            start_wall, start_cpu = time.perf_counter(), cpu()
            run()
            wall, used = time.perf_counter() - start_wall, cpu() - start_cpu
            if wall < best[name][0]:
                best[name] = (wall, used)
    n = len(files)
    rate = {name: n / wall for name, (wall, _) in best.items()}
    return {
        "import_pages": n,
        "trafilatura_pages_per_s": round(rate["trafilatura"], 1),
        "trafilatura_ms_per_page": round(1000 * best["trafilatura"][0] / n, 2),
        "import_pages_per_s": round(rate["import"], 1),
        "import_cpu_ms_per_page": round(1000 * best["import"][1] / n, 2),
        "import_workers": os.cpu_count(),
        "import_vs_trafilatura": round(rate["import"] / rate["trafilatura"], 3),
        "import_one_core_pages_per_s": round(rate["import_one_core"], 1),
        "import_one_core_vs_trafilatura": round(rate["import_one_core"] / rate["trafilatura"], 3),
        # CPU per page by stage (the last round of each): analyse, store, derive, index (StageClock)
        "import_cpu_ms_per_page_by_stage": {k: round(1000 * v / n, 2) for k, v in stages[None].items()},
        "import_one_core_cpu_ms_per_page_by_stage": {k: round(1000 * v / n, 2) for k, v in stages[1].items()},
    }


# --------------------------------------------------------------------------- 4, 5: MinHash and scale


def bench_minhash_and_scale(config: BenchConfig) -> dict[str, Any]:
    from bench.minhash_bench import bench_minhash, bench_scale

    results = dict(bench_minhash(config.minhash_docs))
    scale = []
    for size in config.scale:
        _say(config, f"dedupe of {size} synthetic snapshots...")
        scale.append(bench_scale(size))
    results["scale"] = scale
    return results


# --------------------------------------------------------------------------- the run


def _say(config: BenchConfig, message: str) -> None:
    if config.log is not None:
        config.log(message)


def run_bench(config: BenchConfig) -> dict[str, Any]:
    """All six measurements; one flat dict (``scale`` a list), goals judged under ``goals``."""
    from bench.synthetic_site import SyntheticServer, write_pages

    timeout = 600 + config.pages * 2.0
    results: dict[str, Any] = {"pages": config.pages, "machine": machine_info()}
    started = time.perf_counter()
    work_root = config.workdir or Path(tempfile.mkdtemp(prefix="pa-bench-"))
    work_root.mkdir(parents=True, exist_ok=True)
    try:
        _say(config, f"building a synthetic site of {config.pages} articles...")
        with SyntheticServer(config.pages, config.lang) as server:
            server.warm()
            results["site_pages"] = len(server.site.articles) + server.site.listing_count()
            sizes = sorted(len(server.site.page_html(a)) for a in server.site.articles)
            results["page_bytes_median"] = sizes[len(sizes) // 2]
            _say(config, f"crawling {server.url} (bare spider, crawl, re-crawl)...")
            results.update(bench_crawl(server.url + "/events", work_root, config.repeat, timeout))
            results["archive_vs_raw_html_first_crawl"] = _archive_vs_raw_html(results)
            folder = work_root / "pages"
            if folder.exists():
                shutil.rmtree(folder)
            write_pages(server.site, folder)
        _say(config, "importing the pages as files...")
        results.update(bench_import(folder, work_root, config.repeat, timeout))
        if config.growth:
            from bench.growth import measure

            _say(config, f"growth: import then add one page at {', '.join(map(str, config.growth))} pages...")
            rows = [measure(size, work_root) for size in sorted(config.growth)]
            results["growth"] = rows
            if len(rows) > 1:
                results["add_one_flatness"] = round(rows[-1]["add_new_article_s"] / rows[0]["add_new_article_s"], 2)
                results["import_flatness"] = round(rows[-1]["import_ms_per_page"] / rows[0]["import_ms_per_page"], 2)
        if config.archive_scale:
            from bench.archive_scale import measure as measure_scale

            _say(config, f"the archive at scale: {config.archive_scale:,} observations through the archive...")
            results.update(measure_scale(config.archive_scale, work_root, say=lambda m: _say(config, m)))
            results.update(scale_storage(work_root / f"scale-{config.archive_scale}.db"))
            _say(config, "the archive at scale, compacted...")
            results.update(scale_compacted(work_root / f"scale-{config.archive_scale}.db"))
        _say(config, f"MinHash on {config.minhash_docs} documents...")
        results.update(bench_minhash_and_scale(config))
    finally:
        if config.workdir is None:
            shutil.rmtree(work_root, ignore_errors=True)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds_total"] = round(time.perf_counter() - started, 1)
    results["goals"] = judge(results)
    return results


def judge(results: dict[str, Any]) -> dict[str, Any]:
    """Each goal: the measured value, the target and whether it is met (None when not measured)."""
    goals: dict[str, Any] = {}
    for key, (op, target, text) in GOALS.items():
        value = results.get(key)
        met = None if value is None else {">=": value >= target, "<=": value <= target, "<": value < target}[op]
        goals[key] = {"value": value, "target": f"{op} {target:g}", "met": met, "goal": text}
    project, datasketch = results.get("minhash_mae_project"), results.get("minhash_mae_datasketch")
    if project is not None and datasketch is not None:
        noise = results.get("minhash_mae_noise_sd") or 0.0
        allowed = max(0.005, 2 * noise)
        goals["minhash_mae"] = {
            "value": round(project - datasketch, 4),
            "target": f"<= {allowed:.4f} (2 sd of the MAE)",
            "met": project - datasketch <= allowed,
            "goal": "the project's signatures estimate Jaccard as well as datasketch's",
        }
    for run in results.get("scale", []):
        checks = [
            run["seconds"] < SCALE_GOAL["seconds"] * run["size"] / SCALE_GOAL["size"] or run["size"] < 1000,
            run["peak_rss_mb"] < SCALE_GOAL["peak_rss_mb"],
            run["precision"] >= SCALE_GOAL["precision"],
            run["recall"] >= SCALE_GOAL["recall"],
        ]
        goals[f"scale_{run['size']}"] = {
            "value": {k: run[k] for k in ("seconds", "peak_rss_mb", "precision", "recall")},
            "target": "1M in < 1800 s (pro rata below), RSS < 3 GB, precision and recall >= 0.95",
            "met": all(checks),
            "goal": "dedupe at scale",
        }
    return goals


# --------------------------------------------------------------------------- output


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3g}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _top(values: dict[str, float] | None, unit: str, count: int = 8) -> str:
    """The ``count`` largest of ``values`` as 'name 1,234 B, ...' (the rest summed)."""
    if not values:
        return "-"
    ranked = sorted(values.items(), key=lambda kv: -kv[1])
    shown = [f"{name} {_fmt(value)}{unit}" for name, value in ranked[:count]]
    rest = sum(value for _, value in ranked[count:])
    return ", ".join(shown + ([f"others {_fmt(rest)}{unit}"] if rest else []))


STAGE_ORDER = ("fetch", "analyse", "store", "derive", "index", "other", "writer")


def _stages(values: dict[str, float] | None) -> str:
    """CPU ms per page by stage in the order a page goes through them, then their total."""
    if not values:
        return "-"
    ordered = sorted(values.items(), key=lambda kv: STAGE_ORDER.index(kv[0]) if kv[0] in STAGE_ORDER else 99)
    parts = [f"{name} {_fmt(ms)}" for name, ms in ordered]
    return ", ".join(parts) + f" = {_fmt(round(sum(values.values()), 2))} ms"


def table(results: dict[str, Any]) -> str:
    """One Markdown table: each measurement, its baseline, the ratio and the goal."""
    r, g = results, results.get("goals", {})

    def mark(key: str) -> str:
        met = g.get(key, {}).get("met")
        return "" if met is None else ("met" if met else "**missed**")

    rows = [
        (
            "1. crawl",
            f"{_fmt(r.get('crawl_pages_per_s'))} pages/s ({_fmt(r.get('crawl_pages'))} pages in "
            f"{_fmt(r.get('crawl_seconds'))} s)",
            f"bare spider {_fmt(r.get('crawl_bare_pages_per_s'))} pages/s",
            f"{_fmt(r.get('crawl_vs_bare'))}x",
            ">= 0.8x",
            mark("crawl_vs_bare"),
        ),
        (
            "2. re-crawl (unchanged)",
            f"{_fmt(r.get('recrawl_seconds'))} s ({_fmt(r.get('recrawl_requests'))} requests, "
            f"{_fmt(r.get('recrawl_not_modified'))} x 304)",
            f"first crawl {_fmt(r.get('crawl_seconds'))} s",
            f"{_fmt(r.get('recrawl_speedup'))}x faster",
            ">= 10x",
            mark("recrawl_speedup"),
        ),
        (
            "2. re-crawl bytes",
            f"{_fmt(r.get('recrawl_bytes_per_page'))} B per page of the site "
            f"({_fmt(r.get('recrawl_bytes_per_request'))} B per request made; file growth, "
            f"{_fmt(r.get('recrawl_payload_bytes_added'))} B of data in all)",
            "",
            "",
            "< 1 KB",
            mark("recrawl_bytes_per_page"),
        ),
        (
            "2. full revisit (reference)",
            f"{_fmt(r.get('recrawl_full_seconds'))} s "
            f"({_fmt(r.get('recrawl_full_not_modified'))} x 304), "
            f"{_fmt(r.get('recrawl_full_bytes_per_page'))} B/page",
            f"first crawl {_fmt(r.get('crawl_seconds'))} s",
            f"{_fmt(r.get('recrawl_full_speedup'))}x faster",
            "",
            "",
        ),
        (
            "3. import (files)",
            f"{_fmt(r.get('import_pages_per_s'))} pages/s ({_fmt(r.get('import_workers'))} processes; "
            f"one: {_fmt(r.get('import_one_core_pages_per_s'))})",
            f"trafilatura extract {_fmt(r.get('trafilatura_pages_per_s'))} pages/s",
            f"{_fmt(r.get('import_vs_trafilatura'))}x (one: {_fmt(r.get('import_one_core_vs_trafilatura'))}x)",
            ">= 0.75x",
            mark("import_vs_trafilatura"),
        ),
        (
            "4. MinHash",
            f"{_fmt(r.get('minhash_project_docs_per_s'))} docs/s",
            f"datasketch update {_fmt(r.get('minhash_datasketch_update_docs_per_s'))} docs/s",
            f"{_fmt(r.get('minhash_speedup'))}x",
            ">= 30x",
            mark("minhash_speedup"),
        ),
        (
            "4. Jaccard MAE",
            f"{_fmt(r.get('minhash_mae_project'))}",
            f"datasketch {_fmt(r.get('minhash_mae_datasketch'))}",
            "",
            "same",
            mark("minhash_mae"),
        ),
    ]
    for run in r.get("scale", []):
        rows.append(
            (
                f"5. dedupe {run['size']:,}",
                f"{_fmt(run['seconds'])} s, {_fmt(run['peak_rss_mb'])} MB peak",
                f"P {run['precision']:.3f} / R {run['recall']:.3f}",
                "",
                "1M: < 30 min, < 3 GB, P/R >= 0.95",
                mark(f"scale_{run['size']}"),
            )
        )
    rows += [
        (
            "6. HTML compression",
            f"{_fmt(r.get('compression_ratio'))}x (dictionaries included)",
            f"plain zstd {_fmt(r.get('compression_ratio_plain_zstd'))}x",
            "",
            ">= 8x",
            mark("compression_ratio"),
        ),
        (
            "6. archive size",
            f"{_fmt(r.get('archive_bytes_per_page_first_crawl'))} B/page after the first crawl, "
            f"{_fmt(r.get('archive_bytes_per_snapshot'))} B/snapshot after the re-crawl",
            f"raw HTML {_fmt(r.get('html_raw_bytes', 0) / max(1, r.get('crawl_pages') or 1))} B/page",
            f"{_fmt(r.get('archive_vs_raw_html_first_crawl'))}x",
            "<= 1x",
            mark("archive_vs_raw_html_first_crawl"),
        ),
        (
            "6. bytes per page by table (first crawl)",
            _top(r.get("archive_bytes_per_page_by_table_first_crawl"), " B"),
            "",
            "",
            "",
            "",
        ),
        (
            "CPU per page by stage: crawl",
            _stages(r.get("crawl_cpu_ms_per_page_by_stage")),
            f"bare spider {_fmt(r.get('crawl_bare_cpu_ms_per_page'))} ms; cores busy "
            f"{_fmt(r.get('crawl_cores_busy'))}; after the spider's last page: "
            f"{_fmt(r.get('crawl_writer_tail_seconds'))} s "
            f"({_fmt(r.get('crawl_writer_backlog_at_close'))} pages queued)",
            "",
            "",
            "",
        ),
        (
            "CPU per page by stage: import",
            _stages(r.get("import_cpu_ms_per_page_by_stage")),
            f"trafilatura {_fmt(r.get('trafilatura_ms_per_page'))} ms",
            "",
            "",
            "",
        ),
        (
            "CPU per page by stage: import, one process",
            _stages(r.get("import_one_core_cpu_ms_per_page_by_stage")),
            "",
            "",
            "",
            "",
        ),
    ]
    if r.get("archive_scale_bytes_by_table"):
        rows.append(
            (
                f"6. scale archive ({_fmt(r.get('archive_scale_observations'))} observations) by table",
                f"{_fmt(r['archive_scale_bytes'] / 1e6)} MB: "
                + _top({k: v / 1e6 for k, v in r["archive_scale_bytes_by_table"].items()}, " MB"),
                f"raw HTML {_fmt(r.get('archive_scale_raw_html_bytes', 0) / 1e6)} MB",
                f"{r.get('archive_scale_vs_raw_html')}x as written; "
                f"{r.get('archive_scale_compacted_vs_raw_html')}x compacted "
                f"({_fmt(r.get('archive_scale_compacted_bytes', 0) / 1e6)} MB, {r.get('archive_scale_compact_s')} s)",
                "<= 1x",
                "",
            )
        )
    if r.get("archive_scale_cpu_ms_per_observation_by_stage"):
        rows.append(
            (
                f"CPU per observation by stage: scale ({_fmt(r.get('archive_scale_observations'))} observations)",
                _stages(r["archive_scale_cpu_ms_per_observation_by_stage"]),
                "weeks: " + ", ".join(f"{_fmt(s)} s" for s in r.get("archive_scale_week_seconds", [])),
                "",
                "",
                "",
            )
        )
    if "analyst_slowest_page_s" in r:
        rows.append(
            (
                f"7. analyst at {_fmt(r.get('archive_scale_observations'))} observations",
                f"slowest page {_fmt(r['analyst_slowest_page_s'])} s ({r['analyst_slowest_page']}), slowest command "
                f"{_fmt(r['analyst_slowest_command_s'])} s ({r['analyst_slowest_command']})",
                f"failed: {', '.join(r['analyst_failed']) or 'none'}",
                "",
                "1M: < 1 s, < 1.5 s; 100k: < 0.3 s, < 1 s",
                "" if r.get("analyst_goals_met") is None else ("met" if r["analyst_goals_met"] else "**missed**"),
            )
        )
    head = ("| measurement | value | baseline (same run) | ratio | goal | |", "| --- | --- | --- | --- | --- | --- |")
    return "\n".join(head + tuple("| " + " | ".join(row) + " |" for row in rows))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table (or JSON) and write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="articles of the synthetic site (default 1000)")
    parser.add_argument(
        "--scale",
        default=",".join(map(str, DEFAULT_SCALE)),
        help="comma-separated snapshot counts for the dedupe at scale ('' for none)",
    )
    parser.add_argument(
        "--growth",
        default="1000,20000",
        help="archive sizes for the add-one and import flatness (comma-separated; '' to skip)",
    )
    parser.add_argument(
        "--archive-scale",
        type=int,
        default=0,
        metavar="N",
        help="ingest N observations through the archive (bench.archive_scale; the goal: 1000000)",
    )
    parser.add_argument("--minhash-docs", type=int, default=200, help="documents for the MinHash comparison")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of the import comparison (best of)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file to write (default {DEFAULT_OUT})")
    parser.add_argument("--workdir", type=Path, help="keep the archives and pages here (default: a temp dir)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--child-import", nargs=2, metavar=("FOLDER", "DB"), help=argparse.SUPPRESS)
    parser.add_argument("--bytes-by-table", type=Path, metavar="ARCHIVE", help="print an archive's bytes by table")
    args = parser.parse_args(argv)
    if args.bytes_by_table:
        print(json.dumps(bytes_by_table(args.bytes_by_table), indent=2))
        return 0
    if args.child_import:
        print(json.dumps(_child_import(Path(args.child_import[0]), Path(args.child_import[1]), args.repeat)))
        return 0
    if args.pages < 1:
        parser.error("--pages must be at least 1")
    try:
        scale = tuple(int(s) for s in args.scale.split(",") if s.strip())
    except ValueError:
        parser.error(f"--scale must be comma-separated integers, not {args.scale!r}")
    log = None if args.quiet else (lambda message: print(f"[bench] {message}", file=sys.stderr, flush=True))
    config = BenchConfig(
        pages=args.pages,
        scale=scale,
        minhash_docs=args.minhash_docs,
        repeat=args.repeat,
        growth=tuple(int(x) for x in args.growth.split(",") if x.strip()),
        archive_scale=args.archive_scale,
        workdir=args.workdir,
        log=log,
    )
    results = run_bench(config)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results) if args.json else table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
