"""The evidence of a conflict read per block version and merged equals what one sort of every page gives."""

from __future__ import annotations

import json

import pytest

from dedupe.archive import Archive, evidence
from tests.replica_corpus import replica_snapshots
from tests.support.analysis import analyse_each_page_once

# What the merged reads must equal: every page stating any of the versions, grouped and sorted at once.
ALL_PAGES_SQL = """
SELECT url, min(first_observed_at || ' ' || printf('%012d', first_snapshot_id)) AS first
FROM block_version_urls WHERE block_version_id IN (SELECT value FROM json_each(:ids))
GROUP BY url ORDER BY first, url
"""
ALL_SNAPSHOTS_SQL = """
SELECT last_snapshot_id AS snapshot_id FROM block_version_urls
WHERE block_version_id IN (SELECT value FROM json_each(:ids))
ORDER BY last_observed_at DESC, last_snapshot_id DESC
"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("evidence") / "archive.db"
    with Archive(path) as archive:
        with pytest.MonkeyPatch.context() as patched:  # the replica's pages as analysed before in this process
            analyse_each_page_once(patched)
            archive.ingest(replica_snapshots(), workers=1)
        yield archive


def _version_sets(archive: Archive) -> list[list[str]]:
    """Every block version alone, and the versions stating each fact value together."""
    conn = archive.db.conn
    alone = [[row[0]] for row in conn.execute("SELECT id FROM block_versions ORDER BY id")]
    together = conn.execute(
        "SELECT json_group_array(DISTINCT f.block_version_id) FROM facts f "
        "JOIN block_versions bv ON bv.id = f.block_version_id GROUP BY bv.language, f.delegation, f.field, f.value"
    )
    return alone + [json.loads(row[0]) for row in together]


def test_pages_stating_lists_the_first_pages_and_counts_each_once(archive: Archive, monkeypatch) -> None:
    monkeypatch.setattr(evidence, "URLS_LISTED", 3)  # small, so that the cap cuts on the replica's pages
    conn = archive.db.conn
    sets = _version_sets(archive)
    assert any(len(ids) > 1 for ids in sets), "some value is stated by several block versions"
    cut = 0
    for ids in sets:
        every = [row[0] for row in conn.execute(ALL_PAGES_SQL, {"ids": json.dumps(ids)})]
        listed, total = evidence.pages_stating(conn, ids)
        assert listed == every[:3], ids
        assert total == len(every), ids
        cut += len(every) > 3
    assert cut, "the cap was reached for some value"


def test_newest_snapshots_are_the_newest_of_all_the_versions(archive: Archive, monkeypatch) -> None:
    monkeypatch.setattr(evidence, "URLS_LISTED", 3)
    conn = archive.db.conn
    for ids in _version_sets(archive):
        every = [row[0] for row in conn.execute(ALL_SNAPSHOTS_SQL, {"ids": json.dumps(ids)})]
        assert [r["snapshot_id"] for r in evidence.newest_snapshots(conn, ids)] == every[:3], ids
