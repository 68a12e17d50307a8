"""The analyst's benchmark at a small size, as `bench.archive_scale` runs it: every plugin page, canned
query, big table, the feed and every read command answer without error, and the figures are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import analyst
from bench.archive_scale import measure

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def test_every_page_and_command_answers_on_a_scale_archive(tmp_path: Path) -> None:
    built = measure(400, tmp_path, analyst=False)
    assert built["archive_scale_planted_found"]
    # where the run's time went: each week, and CPU per observation by stage (the crawl's and import's stages)
    assert len(built["archive_scale_week_seconds"]) == 10
    stages = built["archive_scale_cpu_ms_per_observation_by_stage"]
    assert set(stages) == {"fetch", "analyse", "store", "derive", "index", "other"}
    assert stages["fetch"] > 0 and stages["analyse"] > 0 and stages["derive"] > 0
    result = analyst.measure(tmp_path / "scale-400.db", runs=1)
    assert result["analyst_failed"] == []
    pages, commands = result["analyst_pages"], result["analyst_commands"]
    assert {"/-/conflicts", "/-/timeline", "database page", "query seat_counts", "table fact_periods"} <= set(pages)
    assert all(r["status"] == 200 for r in pages.values())
    assert {"conflicts", "conflicts --json", "facts --as-of", "facts --periods", "blocks", "runs"} <= set(commands)
    assert result["analyst_slowest_page_s"] == max(r["s"] for r in pages.values())
    table = analyst.table(result)
    assert table.splitlines()[2].split("|")[3].strip() == f"{max(r['s'] for r in {**pages, **commands}.values()):.3f}"
