"""The diff page's work is bounded, not only its size, and runs off the event loop and the SQL threads
(issue 20, item 4: two 1.1 MB texts with every pair of lines swapped took 64 s; three at once stalled
every page for 116 s)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from dedupe.analysis import diff as difftools
from dedupe.archive import Archive
from dedupe.document import RawSnapshot


def swapped(n: int) -> tuple[str, str]:
    """Two texts of n distinct lines, the second with every pair of lines swapped: difflib finds only
    one-line matches, and scans each gap between them."""
    la = [f"Line {i:06d} of the Assembly's resolution on item {i * 7 % 10000:04d}." for i in range(n)]
    lb = list(la)
    for i in range(0, n - 1, 2):
        lb[i], lb[i + 1] = lb[i + 1], lb[i]
    return "\n".join(la), "\n".join(lb)


def test_the_matcher_stops_at_its_budget_and_counts_what_difflib_scans() -> None:
    a, b = swapped(2500)
    matcher = difftools.BudgetedMatcher(a.splitlines(), b.splitlines(), budget=10**12)
    assert (
        matcher.get_opcodes() == difftools.difflib.SequenceMatcher(None, a.splitlines(), b.splitlines()).get_opcodes()
    )
    assert matcher.work > 4_000_000  # quadratic: n^2 / 2 and more; the page's budget is 2M
    bounded = difftools.BudgetedMatcher(a.splitlines(), b.splitlines(), budget=difftools.MAX_MATCH_WORK)
    try:
        bounded.get_opcodes()
    except difftools.MatchBudgetExceeded:
        pass
    assert difftools.MAX_MATCH_WORK < bounded.work <= difftools.MAX_MATCH_WORK + 3 * 2500  # one call more
    ordinary = difftools.BudgetedMatcher(["a", "b", "c", "d"], ["a", "x", "c", "d"], budget=100)
    assert ordinary.get_opcodes()[0] == ("equal", 0, 1, 0, 1)  # a version's edit stays far below it


def test_the_plain_diff_of_swapped_lines_costs_a_bounded_time() -> None:
    a, b = swapped(8000)  # 460 KB: a plain line diff; unbounded, its middle costs difflib ~12 s here
    start = time.perf_counter()
    rows, structured = difftools.plain_line_diff(a, b, "a", "b", "too large")
    elapsed = time.perf_counter() - start
    # the budget stopped the matching: the middle is given as removed, then added (unbounded, difflib pairs
    # every other line); the time is only a guard against a hang (the bound is the budget, not a clock)
    assert len(structured["changes"]) == 16_000
    assert elapsed < 60, elapsed
    assert {r["kind"] for r in rows} == {"deleted", "inserted"}


def test_a_text_diff_that_exceeds_the_budget_is_a_plain_diff_saying_so() -> None:
    from datasette_pa_archive.diff_page import Side, compare

    a, b = swapped(3000)  # under 200 KB: word level would be tried; difflib's line matching alone ~1.4 s
    sides = {"a": Side("s1", "snapshot", "s1", a), "b": Side("s2", "snapshot", "s2", b), "labels": ("s1", "s2")}
    start = time.perf_counter()
    data = compare({**sides, "siblings": []})
    assert "short runs" in data["plain"] and data["structured"]["word_level"] is False  # the budget said so
    assert time.perf_counter() - start < 60  # a guard against a hang only: the bound is the budget


def test_three_hostile_diffs_do_not_stall_other_pages(tmp_path: Path) -> None:
    from datasette.app import Datasette

    from datasette_pa_archive.serving import register_plugin

    a, b = swapped(5000)  # 290 KB: a plain line diff, whose middle costs difflib ~5 s unbounded
    with Archive(tmp_path / "archive.db") as archive:
        url = "https://pacsto.org/files/list.txt"
        archive.ingest(
            [
                RawSnapshot(url, "2024-01-01T00:00:00Z", a.encode(), kind_hint="text"),
                RawSnapshot(url, "2024-01-02T00:00:00Z", b.encode(), kind_hint="text"),
            ],
            workers=1,
        )
    register_plugin()
    datasette = Datasette([str(tmp_path / "archive.db")], settings={"sql_time_limit_ms": 10_000})

    async def run() -> tuple[list, float, float]:
        start = time.perf_counter()
        diffs = [asyncio.create_task(datasette.client.get("/-/diff.json?a=1&b=2")) for _ in range(3)]
        await asyncio.sleep(0.05)
        asked = time.perf_counter()
        other = await datasette.client.get("/archive/snapshots.json?_size=1")
        waited = time.perf_counter() - asked
        assert other.status_code == 200
        return [await d for d in diffs], waited, time.perf_counter() - start

    responses, waited, total = asyncio.run(run())
    print(f"other page waited {waited:.2f} s; three diffs took {total:.2f} s")
    assert [r.status_code for r in responses] == [200] * 3
    assert responses[0].json()["word_level"] is False
    # the other page is answered while the diffs still run (it does not queue behind them in the SQL threads);
    # the clock bounds are guards against the unbounded case (~5 s of CPU a diff, 116 s for three 1.1 MB ones),
    # loose enough for a slow machine (3.0 s waited and 4.1 s in all on one where trafilatura took 7.9 ms a page)
    assert waited < total and waited < 20 and total < 60, (waited, total)
