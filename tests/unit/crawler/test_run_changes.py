"""What a crawl run changed (``dedupe.analysis.changes``), as the writer and the crawl summary report it."""

from __future__ import annotations

from pathlib import Path

from crawler.pipelines import ArchiveWriter
from dedupe.analysis.changes import delta
from dedupe.analysis.changes import read_state as archive_state
from dedupe.archive import Archive
from tests.support.crawl import ARTICLES, BASE, crawl_like, snap


def test_changes_between_two_states(tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    writer = ArchiveWriter(db)
    for i, path in enumerate(ARTICLES[:8]):
        writer.store(snap(path, f"2025-10-20T09:00:{i:02d}Z"))
    writer.archive.refresh()
    before = archive_state(writer.archive)
    writer.store(snap(ARTICLES[0], "2025-12-01T09:00:00Z", status=404))
    writer.archive.refresh()
    changes = delta(before, archive_state(writer.archive)).as_dict()
    assert [a["url"] for a in changes["removed_articles"]] == [BASE + ARTICLES[0]]
    assert changes["new_articles"] == [] and changes["changed_articles"] == []


def test_a_conflict_that_appears_in_the_second_language_later_is_new(tmp_path: Path) -> None:
    from cli import describe_changes, describe_run

    archive = Archive(tmp_path / "a.db")
    for epoch in (1, 2):
        crawl_like(archive, "en", epoch)
    archive.refresh()
    before = archive_state(archive)
    assert [(c["language"], c["delegation"], c["field"]) for c in before.conflicts.values()] == [
        ("en", "Kyrgyzstan", "seats_total")
    ]
    for epoch in (1, 2):
        crawl_like(archive, "ru", epoch)
    archive.refresh()
    changes = delta(before, archive_state(archive)).as_dict()
    assert [(c["language"], c["delegation"], c["field"]) for c in changes["new_conflicts"]] == [
        ("ru", "Kyrgyzstan", "seats_total")
    ]
    assert changes["counts"]["conflicts"] == 2 and changes["counts"]["new_conflicts"] == 1
    assert "  new conflict: Kyrgyzstan seats_total (ru): 7 vs 6" in describe_changes(
        changes
    ) or "  new conflict: Kyrgyzstan seats_total (ru): 6 vs 7" in describe_changes(changes)
    run = {
        "id": 2,
        "status": "finished",
        "pages_fetched": 1,
        "new": 0,
        "changed": 1,
        "unchanged": 0,
        "removed": 0,
        "failed": 0,
        "stats": {"changes": changes},
    }
    assert "conflicts: 2 (en 1, ru 1)" in " ".join(describe_run(run))
    archive.close()
