"""The analyst's benchmark: every page and read command an analyst reaches, timed on one archive.

    python -m bench.analyst --db /tmp/scale/scale-1000000.db [--json]

Pages are served in this process by Datasette with the plugin and the metadata ``pa-archive serve``
uses, at Datasette's default ``sql_time_limit_ms`` (1 s), and timed as the server spends them
(request in, response out; no network). Commands are timed as a user meets them: a fresh
``pa-archive`` process each, wall time with start-up. A page answering an error (a 500, a 400
"query took too long") counts as failed, whatever its time. Reported slowest first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from datasette_pa_archive.serving import DEFAULT_SETTINGS

RUNS = 3  # each item is timed this many times; the median is reported


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def _sample(db: Path) -> dict[str, Any]:
    """Ids and names the pages and commands are asked about, taken from the archive itself."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        one = lambda sql: (conn.execute(sql).fetchone() or [None])[0]  # noqa: E731
        return {
            "snapshot": one("SELECT max(id) FROM observations"),
            "url": one("SELECT url FROM snapshots ORDER BY id DESC LIMIT 1"),
            "delegations": [r[0] for r in conn.execute("SELECT DISTINCT delegation FROM facts ORDER BY 1")],
            "block_versions": [r[0] for r in conn.execute("SELECT id FROM block_versions ORDER BY first_seen LIMIT 2")],
            "as_of": one("SELECT max(observed_at) FROM snapshots"),
            "word": "assembly",
        }
    finally:
        conn.close()


def pages(sample: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, path) of every plugin page, canned query, the big tables and the feed."""
    from datasette_pa_archive.metadata import canned_queries

    found = [
        ("index", "/"),
        ("database page", "/archive"),
        ("/-/conflicts", "/-/conflicts"),
        ("/-/timeline", "/-/timeline"),
        ("/-/calendar", "/-/calendar"),
        ("/-/calendar?url", "/-/calendar?url=" + quote(sample["url"] or "", safe="")),
        ("/-/snapshot", f"/-/snapshot/{sample['snapshot']}"),
        ("/-/roster", "/-/roster"),
        ("/-/parity", "/-/parity"),
    ]
    found += [(f"/-/timeline?delegation={d}", f"/-/timeline?delegation={quote(d)}") for d in sample["delegations"]]
    if len(sample["block_versions"]) == 2:
        a, b = sample["block_versions"]
        found.append(("/-/diff", f"/-/diff?a={a}&b={b}"))
    params = {"url": sample["url"], "q": sample["word"], "id": (sample["block_versions"] or [""])[0]}
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    for name in canned_queries():
        found.append((f"query {name}", f"/archive/{name}?{query}"))
    for table in ("snapshots", "facts", "article_versions", "fact_periods", "url_runs"):
        found.append((f"table {table}", f"/archive/{table}"))
    # the search box of article_versions (datasette_pa_archive.table_search): a word, and a phrase most texts hold
    found.append(("table article_versions?_search", f"/archive/article_versions?_search={quote(sample['word'])}"))
    phrase = quote('"collective security"')
    found.append(("table article_versions?_search phrase", f"/archive/article_versions?_search={phrase}"))
    found.append(("atom feed", "/archive/fact_changes.atom"))
    return found


def _settings() -> dict[str, Any]:
    """``pa-archive serve``'s settings (command-line strings) as Datasette takes them in Python."""
    typed = {"on": True, "off": False}
    return {k: int(v) if v.isdigit() else typed.get(v, v) for k, v in DEFAULT_SETTINGS}


def time_pages(db: Path, sample: dict[str, Any], runs: int = RUNS) -> dict[str, dict[str, Any]]:
    from datasette.app import Datasette

    from datasette_pa_archive import metadata
    from datasette_pa_archive.serving import check_archive, register_plugin

    register_plugin()
    tables = check_archive(db)
    datasette = Datasette(
        [str(db)], metadata=metadata.metadata(db.stem, tables), settings=_settings()
    )  # sql_time_limit_ms stays at Datasette's default (1 s)

    async def fetch() -> dict[str, dict[str, Any]]:
        found = {}
        for name, path in pages(sample):
            path = path.replace("/archive", f"/{db.stem}", 1) if path.startswith("/archive") else path
            times, status = [], None
            for _ in range(runs):
                started = time.perf_counter()
                response = await datasette.client.get(path)
                times.append(time.perf_counter() - started)
                status = response.status_code
            found[name] = {"s": round(_median(times), 3), "status": status, "ok": status == 200}
        return found

    return asyncio.run(fetch())


def commands(sample: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(name, argv) of every read command."""
    first = sample["delegations"][0] if sample["delegations"] else "Kyrgyzstan"
    kyrgyz = "Kyrgyzstan" if "Kyrgyzstan" in sample["delegations"] else first
    found = [
        ("conflicts", ["conflicts"]),
        ("conflicts --json", ["conflicts", "--json"]),
        ("facts --as-of", ["facts", "--as-of", (sample["as_of"] or "2026-01-01")[:10]]),
        ("facts --periods", ["facts", "--periods", "--delegation", kyrgyz]),
        ("blocks", ["blocks"]),
        ("history", ["history", "a1"]),
        ("search", ["search", sample["word"]]),
        ("stats", ["stats"]),
        ("timemap", ["timemap", sample["url"] or ""]),
        ("runs", ["runs"]),
        ("roster", ["roster"]),
        ("parity", ["parity"]),
    ]
    return found


def time_commands(db: Path, sample: dict[str, Any], runs: int = RUNS) -> dict[str, dict[str, Any]]:
    exe = shutil.which("pa-archive") or sys.executable
    prefix = [exe] if exe.endswith("pa-archive") else [sys.executable, "-m", "cli"]
    env = {**os.environ, "PA_ARCHIVE_DB": str(db), "COLUMNS": "80"}
    found = {}
    for name, argv in commands(sample):
        times, code = [], None
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run([*prefix, *argv], env=env, capture_output=True, timeout=1200)
            times.append(time.perf_counter() - started)
            code = done.returncode
        found[name] = {"s": round(_median(times), 3), "status": code, "ok": code == 0}
    return found


def measure(db: Path, say=lambda message: None, runs: int = RUNS) -> dict[str, Any]:
    """Every page and read command timed on ``db`` (refreshed first, as `serve` expects)."""
    from dedupe.archive import Archive

    started = time.perf_counter()
    with Archive(db) as archive:
        archive.refresh()
    refresh_s = time.perf_counter() - started
    say(f"analyst: archive up to date in {refresh_s:.1f} s; timing pages and commands ({runs} runs each)")
    sample = _sample(db)
    with tempfile.TemporaryDirectory(prefix="pa-analyst-") as tmp:
        link = Path(tmp) / "archive.db"  # served under the name the metadata and the canned queries use
        for suffix in ("", "-wal", "-shm"):
            if Path(str(db) + suffix).exists():
                os.symlink(Path(str(db) + suffix).resolve(), Path(str(link) + suffix))
        page_times = time_pages(link, sample, runs)
    command_times = time_commands(db, sample, runs)
    slowest_page = max(page_times.items(), key=lambda kv: kv[1]["s"])
    slowest_command = max(command_times.items(), key=lambda kv: kv[1]["s"])
    return {
        "analyst_refresh_s": round(refresh_s, 1),
        "analyst_slowest_page_s": slowest_page[1]["s"],
        "analyst_slowest_page": slowest_page[0],
        "analyst_slowest_command_s": slowest_command[1]["s"],
        "analyst_slowest_command": slowest_command[0],
        "analyst_failed": sorted(n for n, r in {**page_times, **command_times}.items() if not r["ok"]),
        "analyst_pages": page_times,
        "analyst_commands": command_times,
    }


def table(result: dict[str, Any]) -> str:
    """The items as a Markdown table, slowest first."""
    rows = [("page", n, r) for n, r in result["analyst_pages"].items()]
    rows += [("command", n, r) for n, r in result["analyst_commands"].items()]
    rows.sort(key=lambda row: -row[2]["s"])
    lines = ["| what | kind | seconds | answer |", "| --- | --- | ---: | --- |"]
    for kind, name, r in rows:
        answer = ("HTTP " if kind == "page" else "exit ") + str(r["status"])
        lines.append(f"| {name} | {kind} | {r['s']:.3f} | {answer} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.analyst", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the archive to time (e.g. bench.archive_scale's)")
    parser.add_argument("--runs", type=int, default=RUNS, help=f"timings per item, median reported (default {RUNS})")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    result = measure(args.db, say=lambda m: print(m, file=sys.stderr, flush=True), runs=args.runs)
    print(json.dumps(result, indent=2) if args.json else table(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
