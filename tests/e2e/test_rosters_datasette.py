"""Datasette's roster and parity pages (in-process, read-only): members per site with since, who joined and
left with evidence snapshots and diffs, the English/Russian differences; archived names only escaped."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dedupe.archive import Archive
from dedupe.document import RawSnapshot
from tests.replica_corpus import country_snapshots, replica_snapshots

PLANTED = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ds") / "archive.db"
    corpus = [s for s in replica_snapshots(("en", "ru")) if "/events?" in s.url] + list(country_snapshots())
    planted = "\n".join(
        [
            "Delegation of the Supreme Council of the Kyrgyz Republic to the CSTO PA consists of 3 deputies.",
            "Ivan Petrov, Anna Ivanova, Oleg Sidorov.",
            f"Plenipotentiary Representative of the Supreme Council of the Kyrgyz Republic: {PLANTED}",
        ]
    )
    corpus.append(RawSnapshot("https://pacsto.org/countries/planted", "2023-06-01T00:00:00Z", planted.encode()))
    with Archive(path) as archive:
        archive.ingest(sorted(corpus, key=lambda s: s.observed_at), workers=1)
    return path


def get(path: Path, url: str) -> tuple[int, str, object]:
    from datasette.app import Datasette

    async def fetch():
        ds = Datasette([str(path)], immutables=[])
        response = await ds.client.get(url)
        return response.status_code, response.text, response

    return asyncio.run(fetch())


def test_roster_page_shows_members_changes_with_evidence_and_diffs(archive_path: Path) -> None:
    status, html, response = get(archive_path, "/-/roster?delegation=Belarus")
    assert status == 200 and "Content-Security-Policy" in response.headers
    assert "Belarus (en): 11 members" in html and "Belarus (ru): 11 members" in html
    assert "left: Alexander Vorobyov" in html and "joined: Oleg Morozov" in html
    assert "/-/diff?a=s" in html and "/-/snapshot/" in html  # evidence: both snapshots and their diff
    assert "Former members" in html and "2024-03-01" in html


def test_roster_json_and_as_of(archive_path: Path) -> None:
    status, _, response = get(archive_path, "/-/roster.json?delegation=kyrgyzstan&as_of=2024-01-15")
    data = response.json()
    assert status == 200
    en = [r for r in data["rosters"] if r["language"] == "en" and "kyrgyz-republic" in r["url"]]
    assert len(en[0]["members"]) == 7


def test_parity_page_lists_the_differences_of_the_sites(archive_path: Path) -> None:
    status, html, _ = get(archive_path, "/-/parity?as_of=2024-03-15")
    assert status == 200
    assert "Kazakhstan" in html and "seats.senate" in html and "differ" in html
    status, _, response = get(archive_path, "/-/parity.json?as_of=2024-02-15")
    fields = response.json()
    assert {"delegation", "field", "en", "ru", "agree"} <= set(fields[0])
    assert any(f["delegation"] == "Belarus" and f["field"] == "members" and not f["agree"] for f in fields)


@pytest.mark.parametrize("as_of", ["2024-13-45", "2024-02-30", "yesterday"])
def test_parity_json_says_a_date_it_cannot_read(archive_path: Path, as_of: str) -> None:
    """It answered 200 with [], which reads as "no fields": a 400 with the sentence the HTML page shows."""
    status, _, response = get(archive_path, f"/-/parity.json?as_of={as_of}")
    assert status == 400 and response.json()["ok"] is False and as_of in response.json()["error"]


def test_archived_names_are_escaped(archive_path: Path) -> None:
    status, html, _ = get(archive_path, "/-/roster?delegation=Kyrgyzstan&as_of=2023-06-02")
    assert status == 200
    assert PLANTED not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_unknown_delegation_is_a_404_with_a_sentence(archive_path: Path) -> None:
    status, html, _ = get(archive_path, "/-/roster?delegation=Atlantis")
    assert status == 404 and "No delegation called &#39;Atlantis&#39; in this archive" in html
    status, _, response = get(archive_path, "/-/roster.json?delegation=Atlantis")  # it answered 200 and "error"
    assert status == 404 and response.json()["ok"] is False and "Atlantis" in response.json()["error"]


def test_an_archive_of_an_older_version_gets_a_sentence_not_an_error(tmp_path: Path) -> None:
    import sqlite3

    from dedupe.schema import ROSTER_TABLES

    path = tmp_path / "old.db"
    Archive(path).close()
    conn = sqlite3.connect(path)
    for table in ROSTER_TABLES:  # as an archive made before rosters, opened read-only, looks
        conn.execute(f"DROP TABLE [{table}]")
    conn.commit()
    conn.close()
    status, html, _ = get(path, "/-/roster")  # what the page reads is not in it: a 404 that says what to do
    assert status == 404 and "made by an older version" in html
