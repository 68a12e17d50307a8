"""End to end: the replica's three epochs as WARCs, imported, served by a real pywb, backfilled, exported.

The WARCs are what a web archive would hold of pacsto.org: the replica (127.0.0.1) fetched at
each epoch, recorded under the site's real URLs and dated years apart (2016, 2019, 2023). One
``wayback`` (pywb) runs on a free port of 127.0.0.1 for the module and is always stopped.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from parsel import Selector

from replica import EPOCH_CHANGES, ReplicaServer
from tests.support import shared
from tests.warcs import WarcBuilder

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SITE = "https://pacsto.org"
DATES = {1: datetime(2016, 3, 1, 10, 0), 2: datetime(2019, 6, 1, 10, 0), 3: datetime(2023, 9, 1, 10, 0)}
EDITED = EPOCH_CHANGES["en"][2]["edited"][0]
REMOVED = EPOCH_CHANGES["en"][3]["removed"][0]
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def fetch(url: str) -> tuple[int, bytes]:
    assert url.startswith("http://127.0.0.1:"), url
    try:
        with _OPENER.open(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


def pa_archive(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pa-archive"), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def query(db: Path, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()


def delegation_block(db: Path) -> list[dict[str, Any]]:
    """The English delegation block's versions, oldest first."""
    return query(
        db,
        "SELECT id, version, first_seen, last_seen, snapshots FROM block_versions "
        "WHERE text LIKE 'Delegation of the National Assembly of the Republic of Belarus%' ORDER BY version",
    )


def conflicts(db: Path) -> list[tuple]:
    return [
        tuple(r.values())
        for r in query(
            db,
            "SELECT delegation, field, value, snapshots, first_seen FROM conflicts ORDER BY delegation, field, value",
        )
    ]


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def warcs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One WARC per epoch: listing page 1, its articles, the edited and the removed article.

    Epoch 1's also holds what real crawls write beside responses: request records, a DNS
    record, a metadata record, an image, and a revisit of the listing an hour later."""
    folder = tmp_path_factory.mktemp("warcs")
    files, paths = [], {}
    with ReplicaServer(epoch=1, lang="en") as replica:
        for epoch, start in DATES.items():
            replica.set_epoch(epoch)
            status, listing = fetch(replica.url + "/events")
            assert status == 200
            items = Selector(text=listing.decode()).css("div.events__content > div.events__item")
            hrefs = [item.css("article a[href^='/events/']")[0].attrib["href"] for item in items]
            paths[epoch] = list(dict.fromkeys(["/events", *hrefs, f"/events/{EDITED}", f"/events/{REMOVED}"]))
            with WarcBuilder(folder / f"epoch-{epoch}.warc.gz") as warc:
                if epoch == 1:
                    warc.dns("pacsto.org", iso(start))
                for second, path in enumerate(paths[epoch]):
                    moment = iso(start + timedelta(seconds=second))
                    status, body = (200, listing) if path == "/events" else fetch(replica.url + path)
                    if epoch == 1:
                        warc.request(SITE + path, moment)
                    phrase = "200 OK" if status == 200 else f"{status} Not Found"
                    warc.response(
                        SITE + path, moment, body, status=phrase, headers=[("Set-Cookie", "_pa_session=secret")]
                    )
                if epoch == 1:
                    warc.response(
                        SITE + "/uploads/ckeditor/pictures/1/content_a.jpg",
                        iso(start),
                        b"\xff\xd8\xff\xe0JFIF",
                        content_type="image/jpeg",
                    )
                    warc.metadata(SITE + "/events", iso(start))
                    warc.revisit(SITE + "/events", iso(start + timedelta(hours=1)), SITE + "/events", iso(start))
            files.append(folder / f"epoch-{epoch}.warc.gz")
    return {"files": files, "paths": paths, "folder": folder}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def pywb(warcs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A pywb ``wayback`` on 127.0.0.1: collection 'epochs' (the three WARCs) and 'exported' (empty)."""
    root = tmp_path_factory.mktemp("pywb")
    for collection in ("epochs", "exported"):
        subprocess.run(
            [str(BIN / "wb-manager"), "init", collection], cwd=root, check=True, capture_output=True, timeout=60
        )
    subprocess.run(
        [str(BIN / "wb-manager"), "add", "epochs", *map(str, warcs["files"])],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=60,
    )
    port = free_port()
    log = (root / "wayback.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "wayback"), "-b", "127.0.0.1", "-p", str(port), "-t", "2"],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, (root / "wayback.log").read_text()
            try:
                if fetch(url + "/epochs/cdx?url=https://pacsto.org/events&output=json")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("wayback did not answer within 30 s")
        yield {"url": url, "root": root}
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


@pytest.fixture(scope="module")
def imported(warcs: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("imported") / "archive.db"
    first = pa_archive("import", *map(str, warcs["files"]), "--db", str(db), "--json")
    again = pa_archive("import", *map(str, warcs["files"]), "--db", str(db), "--json")
    return {"db": db, "first": first, "again": again}


@pytest.fixture(scope="module")
def backfilled(pywb: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("backfilled") / "archive.db"
    api = pywb["url"] + "/epochs/cdx"
    dry = pa_archive("backfill", "--cdx-api", api, "--url", f"{SITE}/*", "--dry-run", "--json", "--db", str(db))
    first = pa_archive("backfill", "--cdx-api", api, "--url", f"{SITE}/*", "--json", "--db", str(db))
    again = pa_archive("backfill", "--cdx-api", api, "--url", f"{SITE}/*", "--json", "--db", str(db))
    return {"db": db, "dry": dry, "first": first, "again": again}


# ----------------------------------------------------------------------------- import


def test_the_epochs_fetched_what_the_replica_serves(warcs: dict[str, Any]) -> None:
    assert [len(warcs["paths"][e]) for e in (1, 2, 3)] == [8, 8, 9]


def test_importing_the_epoch_warcs_takes_responses_and_revisits_and_counts_the_rest(imported: dict[str, Any]) -> None:
    done = imported["first"]
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # 8 + 8 + 9 pages (the removed article a 404 at epoch 3: no content) + epoch 1's revisit of the listing
    assert (report["added"], report["new_content"], report["seen_again"], report["errors"]) == (26, 24, 1, [])
    assert (
        "epoch-1.warc.gz: 9 observation(s) (1 revisit(s)), 11 record(s) skipped "
        "(1 dns, 1 metadata, 1 not HTML, 8 request), 0 bad record(s)" in done.stderr
    )
    again = json.loads(imported["again"].stdout)
    assert (again["added"], again["duplicates"]) == (0, 26)


def test_imported_history_dates_each_epoch_and_keeps_no_cookie(imported: dict[str, Any]) -> None:
    db = imported["db"]
    assert [(v["version"], v["first_seen"]) for v in delegation_block(db)] == [
        (1, "2016-03-01T10:00:00Z"),
        (2, "2019-06-01T10:00:00Z"),
        (3, "2023-09-01T10:00:00Z"),
    ]
    assert query(db, "SELECT count(*) AS n FROM snapshots WHERE headers LIKE '%cookie%'")[0]["n"] == 0
    removed = query(
        db,
        "SELECT observed_at, status FROM snapshots WHERE url = ? ORDER BY observed_at",
        (f"{SITE}/events/{REMOVED}",),
    )
    assert [r["status"] for r in removed] == ["new", "new", "removed"]


# ----------------------------------------------------------------------------- backfill from pywb


def test_dry_run_lists_the_captures_per_year_and_fetches_nothing(backfilled: dict[str, Any]) -> None:
    done = backfilled["dry"]
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # the 404 and the revisit are not 200 captures; the image is one, never fetched
    assert [(y["year"], y["captures"], y["not_html"], y["archived_before"]) for y in report["years"]] == [
        ("2016", 9, 1, 0),
        ("2019", 8, 0, 0),
        ("2023", 8, 0, 0),
    ]
    assert report["requests"] == 1


def test_backfill_from_pywb_dates_the_epoch_changes_at_their_captures(
    backfilled: dict[str, Any], imported: dict[str, Any]
) -> None:
    done = backfilled["first"]
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # 2016: the delegation block and three stable blocks (site name, countries, navigation); then one
    # delegation block version a year, the Kyrgyz seats conflict from 2019 on
    assert [
        (
            y["year"],
            y["captures"],
            y["fetched"],
            y["failed"],
            y["new_contents"],
            y["new_block_versions"],
            y["conflicts"],
        )
        for y in report["years"]
    ] == [("2016", 9, 8, 0, 8, 4, 0), ("2019", 8, 8, 0, 8, 1, 1), ("2023", 8, 8, 0, 8, 1, 1)]
    assert report["requests"] == 1 + 8 + 8 + 8  # one CDX query, one replay a page
    db = backfilled["db"]
    assert [(v["version"], v["first_seen"]) for v in delegation_block(db)] == [
        (1, "2016-03-01T10:00:00Z"),
        (2, "2019-06-01T10:00:00Z"),
        (3, "2023-09-01T10:00:00Z"),
    ]
    edited = query(
        db,
        "SELECT av.version, av.first_seen FROM article_versions av JOIN articles a ON a.id = av.article_id "
        "WHERE a.url LIKE ? ORDER BY av.version",
        (f"%{EDITED}",),
    )
    assert [(r["version"], r["first_seen"][:10]) for r in edited] == [(1, "2016-03-01"), (2, "2019-06-01")]
    # the Kyrgyz seats: 7 in 2016, 6 from 2019 on; the same conflicts as importing the WARCs themselves
    found = conflicts(db)
    assert [(d, f, v, first[:10]) for d, f, v, _, first in found] == [
        ("Kyrgyzstan", "seats_total", "6", "2019-06-01"),
        ("Kyrgyzstan", "seats_total", "7", "2016-03-01"),
    ]
    without_revisit = [(d, f, v, first) for d, f, v, _, first in conflicts(imported["db"])]
    assert [(d, f, v, first) for d, f, v, _, first in found] == without_revisit
    origins = query(db, "SELECT DISTINCT substr(origin, 1, instr(origin, 'id_/') + 3) AS o FROM snapshots LIMIT 1")
    assert origins[0]["o"].endswith("id_/") and "/epochs/2016" in origins[0]["o"]


def test_a_second_backfill_fetches_nothing(backfilled: dict[str, Any]) -> None:
    report = json.loads(backfilled["again"].stdout)
    assert [(y["year"], y["archived_before"], y["fetched"]) for y in report["years"]] == [
        ("2016", 8, 0),
        ("2019", 8, 0),
        ("2023", 8, 0),
    ]
    assert report["requests"] == 1  # the CDX query


# ----------------------------------------------------------------------------- export, replay, timemap


def test_export_passes_warcio_check_and_replays_in_pywb(
    imported: dict[str, Any], pywb: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "pacsto.warc.gz"
    done = pa_archive(
        "export", "--warc", str(out), "--wacz", str(tmp_path / "pacsto.wacz"), "--json", "--db", str(imported["db"])
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["responses"], report["revisits"], report["not_modified"], report["removed"], report["metadata"]) == (
        24,
        1,
        0,
        1,
        26,
    )
    assert (tmp_path / "pacsto.cdxj").read_text().count("\n") == 26  # metadata (warc-fields) is not indexed
    check = subprocess.run([str(BIN / "warcio"), "check", str(out)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    subprocess.run(
        [str(BIN / "wb-manager"), "add", "exported", str(out)],
        cwd=pywb["root"],
        check=True,
        capture_output=True,
        timeout=60,
    )

    archived = query(
        imported["db"], "SELECT content_sha256 FROM snapshots WHERE url = ? ORDER BY observed_at", (f"{SITE}/events",)
    )
    status, body = fetch(f"{pywb['url']}/exported/20160301100000id_/{SITE}/events")
    status_revisit, body_revisit = fetch(f"{pywb['url']}/exported/20160301110000id_/{SITE}/events")
    assert status == status_revisit == 200
    assert body == body_revisit and b"consists of 7 deputies" in body
    assert archived[0]["content_sha256"] == archived[1]["content_sha256"]
    status, timemap = fetch(f"{pywb['url']}/exported/timemap/link/{SITE}/events")
    assert status == 200
    assert [line.split("/exported/")[1][:14] for line in timemap.decode().splitlines() if 'rel="memento"' in line] == [
        "20160301100000",
        "20160301110000",
        "20190601100000",
        "20230901100000",
    ]


def test_timemap_lists_the_archives_copies_in_link_format(imported: dict[str, Any]) -> None:
    done = pa_archive(
        "timemap", f"{SITE}/events", "--replay-prefix", "http://127.0.0.1:8080/exported", "--db", str(imported["db"])
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f'<{SITE}/events>; rel="original",'
    assert lines[1] == (
        f'<http://127.0.0.1:8080/exported/20160301100000/{SITE}/events>; rel="first memento"; '
        'datetime="Tue, 01 Mar 2016 10:00:00 GMT",'
    )
    assert lines[-1] == (
        f'<http://127.0.0.1:8080/exported/20230901100000/{SITE}/events>; rel="last memento"; '
        'datetime="Fri, 01 Sep 2023 10:00:00 GMT"'
    )
    assert len(lines) == 5
    as_json = json.loads(pa_archive("timemap", f"{SITE}/events", "--json", "--db", str(imported["db"])).stdout)
    assert [r["status"] for r in as_json] == ["new", "seen_again", "new", "new"]
    assert as_json[0]["memento"] == f"http://127.0.0.1:8001/-/snapshot/{as_json[0]['snapshot_id']}?database=archive"


def test_the_calendar_shows_when_the_edited_article_changed(imported: dict[str, Any]) -> None:
    done = pa_archive("timemap", f"{SITE}/events/{EDITED}", "--calendar", "--json", "--db", str(imported["db"]))
    assert done.returncode == 0, done.stderr
    years = json.loads(done.stdout)
    assert {year: list(months) for year, months in years.items()} == {"2016": ["03"], "2019": ["06"], "2023": ["09"]}
    entries = [e for months in years.values() for entries in months.values() for e in entries]
    assert [e["changed"] for e in entries] == [False, True, False]
    assert entries[1]["previous_version"] == entries[0]["version"] != entries[1]["version"] == entries[2]["version"]
    text = pa_archive("timemap", f"{SITE}/events/{EDITED}", "--calendar", "--db", str(imported["db"])).stdout
    assert text.count("changed from") == 1 and text.startswith("2016  03: 1")


# ----------------------------------------------------------------------------- export then import: the identity


def derived_rows(db: Path) -> dict[str, list[tuple]]:
    """Every derived table's rows, sorted (the comparison ``pa-archive check`` makes), and the observations."""
    from tests.conftest import derived_tables

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = derived_tables(con)
        tables["snapshots"] = sorted(
            con.execute("SELECT url, observed_at, http_status, page_type, content_sha256 FROM snapshots").fetchall(),
            key=repr,
        )
        return tables
    finally:
        con.close()


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The replica's three epochs crawled into one archive (the run's shared crawl, every page due at each
    epoch: ``tests.support.shared.english_epochs``), exported as WARC and WACZ, each imported afresh."""
    folder = shared.copy_of(shared.english_epochs(tmp_path_factory)[0], tmp_path_factory.mktemp("round-trip"))
    crawled = folder / "archive.db"
    done = pa_archive(
        "export", "--db", str(crawled), "--warc", str(folder / "x.warc.gz"), "--wacz", str(folder / "x.wacz")
    )
    assert done.returncode == 0, done.stderr
    paths = {"crawled": crawled}
    for name in ("x.warc.gz", "x.wacz"):
        paths[name] = folder / f"from-{name}.db"
        done = pa_archive("import", "--db", str(paths[name]), str(folder / name), timeout=120)
        assert done.returncode == 0, done.stderr
    return paths


@pytest.mark.parametrize("exported", ["x.warc.gz", "x.wacz"])
def test_export_then_import_is_the_identity(round_trip: dict[str, Path], exported: str) -> None:
    """Listing and country pages stay what they are through a WARC (issue 18: 47 articles instead of 38)."""
    crawled, imported = derived_rows(round_trip["crawled"]), derived_rows(round_trip[exported])
    kinds = {row[3] for row in crawled["snapshots"]}
    assert {"listing", "article", "country"} <= kinds and crawled["articles"]
    for table, rows in crawled.items():
        assert imported[table] == rows, table


# ----------------------------------------------------------------------------- backfill from a Memento TimeMap


def test_backfill_from_pywbs_timemap_and_its_cdx_stores_each_moment_once(pywb: dict[str, Any], tmp_path: Path) -> None:
    """pywb answers RFC 7089 TimeMaps: the listing's mementos (three epochs and the revisit an hour after the
    first) are fetched raw (id_) and dated by their datetimes; asking the CDX API too adds no duplicate."""
    db = tmp_path / "archive.db"
    timemap = pywb["url"] + "/epochs/timemap/link/"
    done = pa_archive("backfill", "--timemap", timemap, "--url", f"{SITE}/events", "--json", "--db", str(db))
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert sum(y["fetched"] for y in result["years"]) == 4 and result["errors"] == []
    rows = query(db, "SELECT observed_at, page_type, origin FROM snapshots ORDER BY observed_at")
    assert [r["observed_at"] for r in rows] == [
        "2016-03-01T10:00:00Z",
        "2016-03-01T11:00:00Z",
        "2019-06-01T10:00:00Z",
        "2023-09-01T10:00:00Z",
    ]
    assert {r["page_type"] for r in rows} == {"listing"} and all("id_/" in r["origin"] for r in rows)
    both = pa_archive(
        "backfill",
        "--timemap",
        timemap,
        "--cdx-api",
        pywb["url"] + "/epochs/cdx",
        "--url",
        f"{SITE}/events",
        "--json",
        "--db",
        str(db),
    )
    assert both.returncode == 0, both.stderr
    assert sum(y["fetched"] for y in json.loads(both.stdout)["years"]) == 0


def test_a_revisit_too_long_is_told_and_the_records_after_it_imported_once(tmp_path: Path) -> None:
    """pywb's example.warc with its revisit's Content-Length far too long (it ran into the request after it): the
    import names the damaged record in words, reads on from the next one, and a second import adds nothing."""
    sample = (ROOT / "tests" / "fixtures" / "pywb-sample-archive" / "example.warc").read_bytes()
    path, db = tmp_path / "revisit-too-long.warc", tmp_path / "archive.db"
    path.write_bytes(sample.replace(b"Content-Length: 340", b"Content-Length: 1300", 1))
    first = pa_archive("import", str(path), "--db", str(db))
    again = pa_archive("import", str(path), "--db", str(db))
    assert first.returncode == 1 and "Traceback" not in first.stderr
    assert f"{path}@3161: record of http://example.com?example=1 is damaged" in first.stderr
    assert "runs past its end into the next record (at offset 4062)" in first.stderr
    assert "1 observation(s) (0 revisit(s)), 4 record(s) skipped (1 HTTP 302, 2 request, 1 warcinfo)" in first.stderr
    assert "Imported 1 snapshot(s)" in first.stdout and "Imported 0 snapshot(s)" in again.stdout
