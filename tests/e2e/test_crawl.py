"""End to end: the crawl command against the replica on 127.0.0.1, as a scheduler would run it.

Every crawl is a subprocess (a Twisted reactor runs once per process) with a timeout; every
replica server is stopped by its fixture. Politeness is switched off for speed (no delay, no
AutoThrottle, short timeouts), everything else is the project's default settings. The replica's
epochs are weeks apart on the site but seconds apart here, so the tests of what each epoch
changes crawl with ``REVISIT_AFTER=0`` (every archived page due, as after a week on a real
schedule); ``test_the_default_policy_...`` shows what the default policy (7 days) requests.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from replica import EPOCH_CHANGES, FAULT_PATHS, ReplicaServer, edit_details, site_state
from replica.content import fault_article
from replica.faults import FAULT_ARTICLES
from tests.support import shared

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# Concurrency 4: more is no faster (the archive writer is the bottleneck). The replica's listen backlog is
# 64, so no SYN is dropped (and retried a second later, which a short timeout would take for a slow page).
FAST = (
    "DOWNLOAD_DELAY=0",
    "AUTOTHROTTLE_ENABLED=false",
    "CONCURRENT_REQUESTS_PER_DOMAIN=4",
    "DOWNLOAD_TIMEOUT=5",
    "RETRY_BACKOFF_BASE=0.1",
    "RETRY_TIMES=1",
)
NOT_PAGES = ("/robots.txt", "/sitemap.xml")
# The epochs are seconds apart: every archived page is due on every run (as after REVISIT_AFTER on a schedule)
REVISIT_ALL = "REVISIT_AFTER=0"
# News articles (under /events/) and their versions, and all block versions
NEWS_COUNTS = """SELECT (SELECT count(*) FROM articles WHERE url LIKE '%/events/%') AS articles,
  (SELECT count(*) FROM article_versions av JOIN articles a ON a.id = av.article_id
   WHERE a.url LIKE '%/events/%') AS article_versions,
  (SELECT count(*) FROM block_versions) AS block_versions"""


def crawl(
    db: Path,
    urls: list[str],
    *settings: str,
    jobdir: Path | None = None,
    timeout: float = 120,
    extra: tuple[str, ...] = (),
) -> tuple[subprocess.CompletedProcess, dict[str, Any] | None]:
    """`pa-archive crawl --json` in a child process; its exit and its JSON summary (None if none)."""
    command = [sys.executable, "-m", "cli", "crawl", "--db", str(db), "--json", "--no-progress", *extra]
    for url in urls:
        command += ["--start-url", url]
    for setting in (*FAST, *settings):
        command += ["-s", setting]
    if jobdir is not None:
        command += ["--jobdir", str(jobdir)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    try:
        return done, json.loads(done.stdout)
    except ValueError:
        return done, None


def page_texts(db: Path, shas: list[str]) -> list[str]:
    """The stored text of each content (pages.lines is compressed: read through the archive)."""
    from dedupe.archive import Archive

    with Archive(db, create=False) as archive:
        return [archive.content_text(sha) for sha in shas]


def query(db: Path, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, params)]
    finally:
        con.close()


def pa_archive(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def page_requests(log: list[tuple[str, str, int]]) -> list[tuple[str, int]]:
    return [(path, status) for method, path, status in log if method == "GET" and path not in NOT_PAGES]


DELEGATION_FIRST_WORDS = ("Delegation", "Делегация")


def delegation_versions(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The run's new versions of the delegation block (the block whose first line names a delegation)."""
    return [
        v for v in result["stats"]["changes"]["new_block_versions"] if v["block"].startswith(DELEGATION_FIRST_WORDS)
    ]


def facts_of(db: Path) -> set[tuple[str, str, str]]:
    return {(r["delegation"], r["field"], r["value"]) for r in query(db, "SELECT delegation, field, value FROM facts")}


def conflicts_of(db: Path) -> dict[tuple[str, str, str], set[str]]:
    """(language, delegation, field) -> the competing values: facts are compared within one language."""
    found: dict[tuple[str, str, str], set[str]] = {}
    for row in query(db, "SELECT language, delegation, field, value FROM conflicts"):
        found.setdefault((row["language"], row["delegation"], row["field"]), set()).add(row["value"])
    return found


# --------------------------------------------------------------------------- epochs 1, 1, 2, 3


@pytest.fixture(scope="module")
def sites() -> Iterator[dict[str, ReplicaServer]]:
    """Both replica sites, for the module's tests that crawl them in turn (each sets the epochs it crawls)."""
    with ReplicaServer(epoch=1, lang="en") as en, ReplicaServer(epoch=1, lang="ru") as ru:
        yield {"en": en, "ru": ru}


@pytest.fixture(scope="module")
def epochs(sites: dict[str, ReplicaServer], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both sites crawled at epochs 1, 1 again, 2 and 3 into one archive (header markup). The first crawl is
    the default policy's on an empty archive (every page new, as with REVISIT_AFTER=0): the default policy's
    test goes on from a copy of its archive, on the same sites (their URLs are in it)."""
    folder = tmp_path_factory.mktemp("epochs")
    db = folder / "archive.db"
    runs: list[dict[str, Any]] = []
    en, ru = sites["en"], sites["ru"]
    for epoch in (1, 1, 2, 3):
        en.set_epoch(epoch)
        ru.set_epoch(epoch)
        marks = len(en.request_log), len(ru.request_log)
        done, result = crawl(db, [f"{en.url}/events", f"{ru.url}/events"], *([REVISIT_ALL] if runs else []))
        assert done.returncode == 0 and result is not None, done.stderr[-2000:]
        runs.append(
            {
                "epoch": epoch,
                "result": result,
                "en": list(en.request_log[marks[0] :]),
                "ru": list(ru.request_log[marks[1] :]),
                "stats": query(db, NEWS_COUNTS)[0],
            }
        )
        if len(runs) == 1:
            shutil.copy(db, folder / "after-epoch-1.db")  # for the default policy's test
        if len(runs) == 3:
            shutil.copy(db, folder / "after-epoch-2.db")  # for the markup comparison
    urls = {"en": en.url, "ru": ru.url}
    return {
        "db": db,
        "runs": runs,
        "urls": urls,
        "after_epoch_1": folder / "after-epoch-1.db",
        "after_epoch_2": folder / "after-epoch-2.db",
    }


def test_epoch_1_fetches_every_page_once_and_archives_every_article(epochs: dict[str, Any]) -> None:
    run = epochs["runs"][0]
    db = epochs["db"]
    for lang in ("en", "ru"):
        state = site_state(lang, 1)
        fetched = Counter(path for path, _ in page_requests(run[lang]))
        assert max(fetched.values()) == 1, [p for p, n in fetched.items() if n > 1]
        pages = -(-len(state.articles) // 6)
        listings = {"/events"} | {f"/events?page={n}" for n in range(2, pages + 2)}  # up to the empty page
        assert {a.path for a in state.articles} | listings <= set(fetched)
        assert all(status == 200 for _, status in page_requests(run[lang]))
    result = run["result"]
    assert result["status"] == "finished" and result["failed"] == 0
    assert result["new"] == result["pages_fetched"] > 0 and result["changed"] == result["unchanged"] == 0
    expected = {(a.title, a.published.isoformat()) for lang in ("en", "ru") for a in site_state(lang, 1).articles}
    archived = {
        (r["title"], r["published"]) for r in query(db, "SELECT title, published FROM article_versions") if r["title"]
    }
    assert expected <= archived
    assert run["stats"]["articles"] == len(expected) == run["stats"]["article_versions"]


def test_only_news_pages_become_articles(epochs: dict[str, Any]) -> None:
    urls = [r["url"] for r in query(epochs["db"], "SELECT url FROM articles")]
    assert urls and all("/events/" in url for url in urls)


def test_epoch_1_gives_one_version_of_the_delegation_block_per_language(epochs: dict[str, Any]) -> None:
    first = {v["version_id"] for v in delegation_versions(epochs["runs"][0]["result"])}
    assert len(first) == 2
    texts = {r["id"]: r["text"] for r in query(epochs["db"], "SELECT id, text FROM block_versions")}
    assert sorted(texts[v] for v in first) == sorted(
        "\n".join(site_state(lang, 1).block_lines) for lang in ("en", "ru")
    )


def test_other_page_furniture_is_stable(epochs: dict[str, Any]) -> None:
    rows = query(
        epochs["db"],
        "SELECT b.name, count(*) AS n FROM block_versions bv JOIN blocks b ON b.id = bv.block_id GROUP BY b.id",
    )
    furniture = [r for r in rows if not r["name"].startswith(DELEGATION_FIRST_WORDS)]
    assert furniture, rows  # the menu, the footer...: there is other furniture to check
    assert all(r["n"] == 1 for r in furniture), rows


def test_the_same_epoch_again_is_all_unchanged_and_mostly_304(epochs: dict[str, Any]) -> None:
    first, again = epochs["runs"][0], epochs["runs"][1]
    result = again["result"]
    assert result["status"] == "finished"
    assert result["new"] == result["changed"] == result["removed"] == result["failed"] == 0
    assert result["unchanged"] == result["pages_fetched"] == first["result"]["pages_fetched"]
    assert again["stats"] == first["stats"]  # no new article or block versions
    statuses = [status for lang in ("en", "ru") for _, status in page_requests(again[lang])]
    assert statuses.count(304) / len(statuses) >= 0.9, Counter(statuses)
    for lang in ("en", "ru"):  # revisiting the archive's pages does not fetch a listed one twice
        assert max(Counter(path for path, _ in page_requests(again[lang])).values()) == 1
    assert result["stats"]["changes"]["new_block_versions"] == [] and result["stats"]["changes"]["new_articles"] == []


def test_epoch_2_records_the_new_block_and_the_one_edited_article(epochs: dict[str, Any]) -> None:
    db, run = epochs["db"], epochs["runs"][2]
    result, changes = run["result"], run["result"]["stats"]["changes"]
    assert result["status"] == "finished" and result["new"] == 0 and result["failed"] == 0
    assert result["changed"] == result["pages_fetched"]  # the block is on every page
    assert changes["new_articles"] == changes["removed_articles"] == []
    assert len(delegation_versions(result)) == 2  # one per language
    kinds = {c["kind"] for v in delegation_versions(result) for c in v["changes"]}
    assert {"conflict", "missing"} <= kinds  # Kyrgyz seats 7 -> 6; website lines emptied
    (slug,) = EPOCH_CHANGES["en"][2]["edited"]
    edited = f"{epochs['urls']['en']}/events/{slug}"
    assert edited in {a["url"] for a in changes["changed_articles"]}
    texts = [
        r["text"]
        for r in query(
            db,
            "SELECT av.text FROM article_versions av JOIN articles a "
            "ON a.id = av.article_id WHERE a.url = ? ORDER BY av.version",
            (edited,),
        )
    ]
    edit = edit_details("en")
    assert len(texts) == 2 and edit["old"] in texts[0] and edit["new"] in texts[1] and edit["old"] not in texts[1]


def test_epoch_2_changes_exactly_the_edited_article_on_both_sites_and_the_block(epochs: dict[str, Any]) -> None:
    db, run = epochs["db"], epochs["runs"][2]
    changes = run["result"]["stats"]["changes"]
    (slug,) = EPOCH_CHANGES["en"][2]["edited"]
    assert sorted(urlsplit(a["url"]).path for a in changes["changed_articles"]) == [f"/events/{slug}"] * 2
    for lang in ("en", "ru"):
        edit = edit_details(lang)
        url = f"{epochs['urls'][lang]}/events/{slug}"
        texts = [
            r["text"]
            for r in query(
                db,
                "SELECT av.text FROM article_versions av JOIN articles a "
                "ON a.id = av.article_id WHERE a.url = ? ORDER BY av.version",
                (url,),
            )
        ]
        assert len(texts) == 2 and edit["old"] in texts[0] and edit["new"] in texts[1] and edit["old"] not in texts[1]
    assert run["stats"]["article_versions"] == epochs["runs"][1]["stats"]["article_versions"] + 2


def test_epoch_3_records_the_removed_and_added_articles(epochs: dict[str, Any]) -> None:
    db, run = epochs["db"], epochs["runs"][3]
    result, changes = run["result"], run["result"]["stats"]["changes"]
    assert result["status"] == "finished" and result["failed"] == 0
    (removed,) = EPOCH_CHANGES["en"][3]["removed"]
    added = set(EPOCH_CHANGES["en"][3]["added"])
    assert result["removed"] == 2 and result["new"] == 4  # both sites
    assert {urlsplit(a["url"]).path for a in changes["removed_articles"]} == {f"/events/{removed}"}
    assert {urlsplit(a["url"]).path.removeprefix("/events/") for a in changes["new_articles"]} == added
    rows = query(db, "SELECT status, versions FROM articles WHERE url LIKE ?", (f"%/events/{removed}",))
    assert [r["status"] for r in rows] == ["removed", "removed"] and all(
        r["versions"] == 1 for r in rows
    )  # history kept
    assert run["stats"]["articles"] == epochs["runs"][2]["stats"]["articles"] + 4
    versions = delegation_versions(result)
    assert len(versions) == 2  # "12 senators" and the website lines back
    assert {c["kind"] for v in versions for c in v["changes"]} == {"filled", "reworded"}


def test_conflicts_show_the_kyrgyz_seats_with_the_crawl_times(epochs: dict[str, Any]) -> None:
    done = pa_archive("conflicts", "--json", "--db", str(epochs["db"]))
    assert done.returncode == 0, done.stderr
    records = [c for c in json.loads(done.stdout) if (c["delegation"], c["field"]) == ("Kyrgyzstan", "seats_total")]
    assert sorted(c["language"] for c in records) == ["en", "ru"]  # one per language
    runs = [r["result"] for r in epochs["runs"]]
    for record in records:
        values = {v["value"]: v for v in record["values"]}
        assert set(values) == {"7", "6"}
        assert runs[0]["started_at"] <= values["7"]["first_seen"] <= values["7"]["last_seen"] <= runs[1]["finished_at"]
        assert runs[2]["started_at"] <= values["6"]["first_seen"] <= runs[2]["finished_at"]
        assert runs[3]["started_at"] <= values["6"]["last_seen"] <= runs[3]["finished_at"]


def test_the_only_conflict_is_the_kyrgyz_seats(epochs: dict[str, Any]) -> None:
    # empty website lines, "12 senators" and the same names in Russian are no conflict; one per language
    assert conflicts_of(epochs["db"]) == {
        ("en", "Kyrgyzstan", "seats_total"): {"7", "6"},
        ("ru", "Kyrgyzstan", "seats_total"): {"7", "6"},
    }


def test_every_run_is_a_row(epochs: dict[str, Any]) -> None:
    rows = query(epochs["db"], "SELECT id, status, started_at, finished_at FROM crawl_runs ORDER BY id")
    assert [r["status"] for r in rows] == ["finished"] * 4
    assert all(r["started_at"] <= r["finished_at"] for r in rows)
    origins = {r["origin"] for r in query(epochs["db"], "SELECT DISTINCT origin FROM snapshots")}
    assert origins == {f"crawl:{r['id']}" for r in rows}


# --------------------------------------------------------------------------- the default revisit policy


def test_the_default_policy_rereads_the_first_listing_page_finds_new_articles_and_forces_a_full_revisit(
    epochs: dict[str, Any], sites: dict[str, ReplicaServer], tmp_path: Path
) -> None:
    """REVISIT_AFTER as shipped (7 days): a re-crawl of an unchanged site asks for listing page 1 (304),
    robots.txt and the sitemap, nothing else; a new article on page 1 and the block change on it are still
    recorded; an edit or removal deeper in waits for its page to be due, which --revisit-after 0 forces."""
    # the default policy on an empty archive (every page is new): the epochs' first crawl, on these sites
    db = Path(shutil.copy(epochs["after_epoch_1"], tmp_path / "archive.db"))
    first_pages = {lang: page_requests(epochs["runs"][0][lang]) for lang in ("en", "ru")}
    for lang in ("en", "ru"):
        assert {a.path for a in site_state(lang, 1).articles} <= {path for path, _ in first_pages[lang]}
    urls = [f"{sites['en'].url}/events", f"{sites['ru'].url}/events"]

    def run(epoch: int, *extra: str) -> tuple[dict[str, Any], dict[str, list[tuple[str, int]]], dict[str, list]]:
        for server in sites.values():
            server.set_epoch(epoch)
        marks = {lang: len(server.request_log) for lang, server in sites.items()}
        done, result = crawl(db, urls, extra=extra)
        assert done.returncode == 0 and result is not None and result["status"] == "finished", done.stderr[-2000:]
        logs = {lang: list(server.request_log[marks[lang] :]) for lang, server in sites.items()}
        return result, {lang: page_requests(log) for lang, log in logs.items()}, logs

    # the same site again: listing page 1 only (304), plus robots.txt and the sitemap
    again, pages, logs = run(1)
    for lang in ("en", "ru"):
        assert pages[lang] == [("/events", 304)], pages[lang]
        assert len(logs[lang]) <= 3, logs[lang]
    assert (again["pages_fetched"], again["unchanged"], again["new"], again["changed"], again["failed"]) == (
        2,
        2,
        0,
        0,
        0,
    )
    scrapy_stats = again["stats"]["scrapy"]
    assert scrapy_stats["pacsto/not_due"] > 0 and scrapy_stats["pacsto/revisit/due_at_start"] == 0
    assert scrapy_stats["pacsto/revisit/revisit_after_seconds"] == 7 * 86400
    assert sum(len(p) for p in first_pages.values()) >= 15 * sum(len(p) for p in pages.values())

    # epoch 3 (a new block, two new articles on page 1, one removed, epoch 2's edit): the new articles
    # and the block are found on the first page; the list is read down to the first all-archived page
    later, pages, _ = run(3)
    changes = later["stats"]["changes"]
    added = set(EPOCH_CHANGES["en"][3]["added"])
    for lang in ("en", "ru"):
        assert {path for path, _ in pages[lang]} == {"/events", "/events?page=2"} | {f"/events/{s}" for s in added}
        assert all(status == 200 for _, status in pages[lang]), pages[lang]
    assert {urlsplit(a["url"]).path.removeprefix("/events/") for a in changes["new_articles"]} == added
    assert later["new"] == 4 and len(changes["new_articles"]) == 4  # two per site
    assert len(delegation_versions(later)) == 2  # the block's new variant, one per language
    assert later["removed"] == 0 and changes["removed_articles"] == [] and changes["changed_articles"] == []

    # a full revisit, as the week's end would bring: the removal and the edit are recorded
    full, pages, _ = run(3, "--revisit-after", "0")
    changes = full["stats"]["changes"]
    (removed,) = EPOCH_CHANGES["en"][3]["removed"]
    (edited,) = EPOCH_CHANGES["en"][2]["edited"]
    assert full["removed"] == 2 and {urlsplit(a["url"]).path for a in changes["removed_articles"]} == {
        f"/events/{removed}"
    }
    assert sorted(urlsplit(a["url"]).path for a in changes["changed_articles"]) == [f"/events/{edited}"] * 2
    assert changes["new_articles"] == [] and delegation_versions(full) == []
    for lang in ("en", "ru"):
        assert {a.path for a in site_state(lang, 3).articles} <= {path for path, _ in pages[lang]}


def test_revisit_after_is_checked_before_anything_is_fetched(tmp_path: Path) -> None:
    done, result = crawl(tmp_path / "archive.db", ["http://127.0.0.1:9/events"], extra=("--revisit-after", "soon"))
    assert done.returncode == 2 and result is None
    assert "--revisit-after must be a duration such as 7d" in done.stderr
    done, result = crawl(tmp_path / "archive.db", ["http://127.0.0.1:9/events"], "REVISIT_AFTER=-1d")
    assert done.returncode == 2 and "REVISIT_AFTER must be" in done.stderr
    assert not (tmp_path / "archive.db").exists()


# --------------------------------------------------------------------------- block markup


def test_both_block_markups_give_the_same_facts(epochs: dict[str, Any], tmp_path: Path) -> None:
    db = tmp_path / "aside.db"
    with (
        ReplicaServer(epoch=1, lang="en", block_markup="aside") as en,
        ReplicaServer(epoch=1, lang="ru", block_markup="aside") as ru,
    ):
        urls = [f"{en.url}/events", f"{ru.url}/events"]
        # epoch 1 with plain `scrapy crawl` from the repository root, epoch 2 with the command
        scrapy = [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "pacsto",
            "-a",
            "start_urls=" + ",".join(urls),
            "-s",
            f"ARCHIVE_DB={db}",
            "-s",
            "LOG_LEVEL=WARNING",
        ]
        for setting in FAST:
            scrapy += ["-s", setting]
        done = subprocess.run(scrapy, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stderr[-2000:]
        en.set_epoch(2)
        ru.set_epoch(2)
        done, result = crawl(db, urls, REVISIT_ALL)
        assert done.returncode == 0 and result["status"] == "finished", done.stderr[-2000:]
    header = epochs["after_epoch_2"]
    assert facts_of(db) == facts_of(header) and len(facts_of(db)) > 20
    assert conflicts_of(db) == conflicts_of(header) and ("en", "Kyrgyzstan", "seats_total") in conflicts_of(db)
    count = "SELECT (SELECT count(*) FROM article_versions) AS a, (SELECT count(*) FROM facts) AS f"
    assert query(db, count) == query(header, count)


# --------------------------------------------------------------------------- faults


def test_faults_are_retried_or_recorded_and_the_run_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "faults.db"
    faults = ("flaky500", "slow", "truncated", "wrong_charset", "redirect_loop", "offsite_redirect", "calendar_trap")
    with ReplicaServer(epoch=1, lang="en", faults=faults, slow_seconds=4) as server:
        done, result = crawl(
            db,
            [f"{server.url}/events", f"{server.url}/loop/a"],
            "DOWNLOAD_TIMEOUT=2",
            "CALENDAR_MAX_PAGES=12",
            extra=("--log-level", "DEBUG", "--verbose"),
        )
        log = list(server.request_log)
        netloc = urlsplit(server.url).netloc
    assert done.returncode == 0 and result["status"] == "finished", done.stderr[-2000:]
    errors = {urlsplit(e["url"]).path: e["error"] for e in result["errors"] if e["url"]}
    by_path: dict[str, list[int]] = {}
    for path, status in page_requests(log):
        by_path.setdefault(path, []).append(status)
    archived = {
        urlsplit(r["url"]).path: r
        for r in query(db, "SELECT url, http_status, content_sha256 FROM snapshots WHERE content_sha256 IS NOT NULL")
    }
    recorded = {
        urlsplit(r["url"]).path: r
        for r in query(db, "SELECT url, http_status, status FROM snapshots WHERE content_sha256 IS NULL")
    }

    assert by_path[FAULT_PATHS["flaky500"]] == [500, 200] and FAULT_PATHS["flaky500"] in archived  # retried
    assert errors[FAULT_PATHS["slow"]] == "timed out (after 1 retry)" and FAULT_PATHS["slow"] not in archived
    assert "truncated" in errors[FAULT_PATHS["truncated"]] and FAULT_PATHS["truncated"] not in archived
    assert by_path[FAULT_PATHS["truncated"]] == [200, 200]  # retried, then given up
    assert "redirect loop" in errors[FAULT_PATHS["redirect_loop"]]
    assert "refused to leave the allowed hosts" in errors[FAULT_PATHS["offsite_redirect"]]
    assert result["failed"] == 4 and len(result["errors"]) == 4
    # each failure is also in the URL's history: an observation without content, status 'error'
    assert {path: (r["status"], r["http_status"]) for path, r in recorded.items()} == {
        FAULT_PATHS["slow"]: ("error", None),
        FAULT_PATHS["truncated"]: ("error", None),
        FAULT_PATHS["redirect_loop"]: ("error", 302),
        FAULT_PATHS["offsite_redirect"]: ("error", 302),
    }
    # no request left the replica: every download Scrapy logged was for it; the off-site one never reached
    # the downloader (it would have failed on DNS: example.invalid does not resolve)
    downloads = re.findall(
        r"(?:Crawled \(\d+\)|Retrying|Gave up retrying|Error downloading) <GET ([^>]+)>", done.stderr
    )
    assert len(downloads) >= len(log) - 5 and {urlsplit(url).netloc for url in downloads} == {netloc}
    assert result["stats"]["scrapy"]["pacsto/offsite_refused"] == 1 and "DNS" not in json.dumps(result["errors"])
    # Cyrillic text behind a wrong charset header arrives intact
    (wrong,) = query(
        db,
        "SELECT p.title, p.content_sha256 FROM snapshots s JOIN pages p ON p.content_sha256 = s.content_sha256 "
        "WHERE s.url LIKE ?",
        ("%" + FAULT_PATHS["wrong_charset"],),
    )
    article = fault_article(FAULT_ARTICLES["wrong_charset"], "ru", FAULT_PATHS["wrong_charset"].rsplit("/", 1)[1])
    wrong_text = page_texts(db, [wrong["content_sha256"]])[0]
    assert wrong["title"] == article.title and article.paragraphs[0] in wrong_text
    assert "Ã" not in wrong_text and "Ð" not in wrong_text
    # the calendar trap is bounded, never before the site's first news
    months = [parse_qs(urlsplit(path).query) for path in by_path if "month=" in path]
    assert 0 < len(months) <= 12
    assert all((int(q["year"][0]), int(q["month"][0])) >= (2013, 7) for q in months)
    # nothing truncated or undecodable became a version; the real news are all there
    titles = {r["title"] for r in query(db, "SELECT title FROM article_versions")}
    assert {a.title for a in site_state("en", 1).articles} <= titles
    # and nothing stored reads as mojibake (dedupe.extract.garbling): every page is text or a failure with its reason
    from dedupe.decoding import garbling

    stored = query(db, "SELECT p.content_sha256 FROM pages p JOIN snapshots s ON s.content_sha256 = p.content_sha256")
    texts = page_texts(db, [r["content_sha256"] for r in stored])
    assert stored and [garbling(text) for text in texts] == [None] * len(stored)


# --------------------------------------------------------------------------- lock, kill, resume


def wait_for(predicate: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def has_rows(db: Path, sql: str, minimum: int = 1) -> bool:
    try:
        return query(db, sql)[0]["n"] >= minimum
    except (sqlite3.Error, IndexError):
        return False


def test_a_second_concurrent_run_exits_with_the_lock_message(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with ReplicaServer(epoch=1, lang="en", faults=("slow",), slow_seconds=2) as server:
        command = [
            sys.executable,
            "-m",
            "cli",
            "crawl",
            "--db",
            str(db),
            "--json",
            "--no-progress",
            "--start-url",
            f"{server.url}/events",
        ]
        for setting in (*FAST, "RETRY_TIMES=0"):
            command += ["-s", setting]
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            assert wait_for(lambda: has_rows(db, "SELECT count(*) AS n FROM crawl_runs WHERE status = 'running'"), 30)
            done, result = crawl(db, [f"{server.url}/events"])
            assert done.returncode == 75 and result is None
            assert "another crawl is already writing archive.db" in done.stderr
            out, err = first.communicate(timeout=60)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
    assert first.returncode == 0, err[-2000:]
    assert [r["status"] for r in query(db, "SELECT status FROM crawl_runs")] == ["finished"]


def test_scrapy_crawl_on_a_locked_archive_logs_the_holder_and_closes_without_a_traceback(tmp_path: Path) -> None:
    """The Scrapyd path: `scrapy crawl` whose archive another crawl holds says so in one line and stops."""
    from dedupe.archive.lock import WriterLock

    db, jobdir = tmp_path / "archive.db", tmp_path / "job"
    holder = WriterLock(db)
    holder.acquire("crawl", {"started_at": "2026-01-02T03:04:05+00:00"})
    try:
        command = [sys.executable, "-m", "scrapy", "crawl", "pacsto", "-a", "start_url=http://127.0.0.1:9/events"]
        for setting in (*FAST, f"ARCHIVE_DB={db}", f"JOBDIR={jobdir}"):
            command += ["-s", setting]
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT)
    finally:
        holder.release()
    assert "Traceback" not in done.stderr and "Task exception" not in done.stderr, done.stderr[-3000:]
    (line,) = [line for line in done.stderr.splitlines() if "already writing" in line]
    assert f"ERROR: another crawl is already writing archive.db (pid {os.getpid()}, started 2026-01-02T03:04:05" in line
    assert "Spider closed (archive_locked)" in done.stderr and "Crawled (" not in done.stderr
    assert done.returncode == 75  # EX_TEMPFAIL, as pa-archive crawl (crawler.commands.crawl): cron can tell
    assert not (jobdir / "requests.queue").exists()  # the holder's JOBDIR queue is left alone
    assert not db.exists() or query(db, "SELECT count(*) AS n FROM crawl_runs")[0]["n"] == 0


def test_scrapy_crawl_with_a_setting_it_cannot_use_says_so_and_starts_nothing(tmp_path: Path) -> None:
    """`scrapy crawl` checks its settings as `pa-archive crawl` does: one line for each it cannot use (a value from
    a PA_ variable, as a cron job's environment gives it, names the variable), exit status 2, and no lock, row,
    request or traceback (Scrapy's retry middleware raised one on RETRY_TIMES=many)."""
    db, jobdir = tmp_path / "archive.db", tmp_path / "job"
    command = [sys.executable, "-m", "scrapy", "crawl", "pacsto", "-a", "start_url=http://127.0.0.1:9/events"]
    for setting in (f"ARCHIVE_DB={db}", f"JOBDIR={jobdir}", "RETRY_TIMES=many"):
        command += ["-s", setting]
    env = {**os.environ, "PA_DOWNLOAD_DELAY": "-1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd=ROOT, env=env)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert [line for line in done.stderr.splitlines() if line.startswith("Error")] == [
        "Error: RETRY_TIMES must be a whole number of at least 0, not 'many'.",
        "Error: DOWNLOAD_DELAY must be a number of at least 0, not '-1' (from the environment variable "
        "PA_DOWNLOAD_DELAY).",
    ]
    assert not db.exists() and not jobdir.exists()
    bad_start = [sys.executable, "-m", "scrapy", "crawl", "pacsto", "-a", "start_url=ftp://127.0.0.1/events"]
    done = subprocess.run([*bad_start, "-s", f"ARCHIVE_DB={db}"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "Error: start URL 'ftp://127.0.0.1/events' is not an http(s) URL with a host." in done.stderr
    # a run that fails (no page could be fetched: nothing listens on port 9) exits 1, as pa-archive crawl
    failing = [sys.executable, "-m", "scrapy", "crawl", "pacsto", "-a", "start_url=http://127.0.0.1:9/events"]
    for setting in (*FAST, f"ARCHIVE_DB={db}", "RETRY_TIMES=0", "SITEMAP_FOLLOW=false"):
        failing += ["-s", setting]
    done = subprocess.run(failing, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1, done.stderr[-3000:]
    assert [r["status"] for r in query(db, "SELECT status FROM crawl_runs")] == ["failed"]


class DyingSite:
    """A small site on 127.0.0.1 whose server can die mid-crawl: /events lists ``articles`` articles; with
    ``dies`` the server stops listening once it has answered /events, so every article is refused. HTTP/1.0,
    one request per connection: no kept-alive connection outlives the listening socket."""

    def __init__(self, articles: int, dies: bool, port: int = 0) -> None:
        import http.server
        import threading

        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the http.server name
                if site.dead.is_set():
                    return  # between the death and the socket's close: no answer
                path = urlsplit(self.path)
                if path.path == "/events":
                    links = "" if path.query else "".join(f'<a href="/events/article-{n}">{n}</a>' for n in site.range)
                    self.answer(200, f"<html><body><h1>News</h1>{links}</body></html>")
                    if dies and not path.query:
                        site.dead.set()
                elif path.path.startswith("/events/article-"):
                    n = path.path.rsplit("-", 1)[1]
                    text = f"The assembly met for the {n}th time and adopted a model law on cooperation. " * 5
                    self.answer(
                        200,
                        f"<html><head><title>Meeting {n}</title></head><body><article><h1>Meeting {n}"
                        f"</h1><p>{text}</p></article></body></html>",
                    )
                else:
                    self.answer(404, "<html><body>not found</body></html>")

            def answer(self, status: int, html: str) -> None:
                body = html.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.range = range(articles)
        self.dead = threading.Event()
        self.server = http.server.HTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.killer = threading.Thread(target=self._die, daemon=True)

    def _die(self) -> None:
        while not self.dead.wait(0.1):
            if self.stopped:
                return
        self.stop()

    def __enter__(self) -> DyingSite:
        self.stopped = False
        self.thread.start()
        self.killer.start()
        return self

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.server.shutdown()
            self.server.server_close()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()
        self.thread.join(timeout=5)
        self.killer.join(timeout=5)


def test_a_site_that_dies_mid_crawl_stops_the_run_soon_and_the_next_run_goes_on(tmp_path: Path) -> None:
    db, jobdir = tmp_path / "archive.db", tmp_path / "job"
    retrying = ("RETRY_TIMES=3", "RETRY_BACKOFF_BASE=0.5")  # without the breaker: 3.5 s of backoff per page left
    with DyingSite(articles=40, dies=True) as site:
        started = time.monotonic()
        done, result = crawl(db, [f"{site.url}/events"], *retrying, jobdir=jobdir, timeout=120)
        took = time.monotonic() - started
        port = site.port
    assert result is not None, done.stderr[-2000:]
    assert done.returncode == 1 and result["status"] == "interrupted"
    assert result["stats"]["finish_reason"] == "site_unreachable"
    first = result["errors"][0]["error"]  # the run's own error first: the summary shows it
    assert re.fullmatch(
        rf"127\.0\.0\.1:{port} stopped answering: 10 pages in a row could not connect \(connection refused, the last "
        r"one\) with no answer in between; the crawl stopped with \d+ request\(s\) left unfetched, which the next run "
        r"fetches",
        first,
    ), first
    assert result["failed"] < 40 and took < 30, (result["failed"], took)
    # the site is back: the next run with the same jobdir goes on, and every article ends up archived
    with DyingSite(articles=40, dies=False, port=port) as site:
        done, again = crawl(db, [f"{site.url}/events"], *retrying, jobdir=jobdir, timeout=120)
    assert again is not None and again["status"] == "finished", done.stderr[-2000:]
    assert again["resumed_from"] == result["id"]
    stored = query(
        db, "SELECT count(DISTINCT url) AS n FROM snapshots WHERE url LIKE '%/article-%' AND content_sha256 IS NOT NULL"
    )
    assert stored[0]["n"] == 40


def test_a_killed_run_resumed_with_its_jobdir_leaves_no_duplicates(tmp_path: Path) -> None:
    db, jobdir = tmp_path / "archive.db", tmp_path / "job"
    with ReplicaServer(epoch=1, lang="en") as server:
        command = [
            sys.executable,
            "-m",
            "cli",
            "crawl",
            "--db",
            str(db),
            "--json",
            "--no-progress",
            "--start-url",
            f"{server.url}/events",
            "--jobdir",
            str(jobdir),
        ]
        for setting in (*FAST, "DOWNLOAD_DELAY=0.15", "CONCURRENT_REQUESTS_PER_DOMAIN=1"):
            command += ["-s", setting]
        victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        try:
            assert wait_for(lambda: has_rows(db, "SELECT count(*) AS n FROM snapshots", 8), 60)
        finally:
            os.kill(victim.pid, signal.SIGKILL)  # the crawl only: its writer notices and exits by itself
            victim.wait()
        stored_by_victim = query(db, "SELECT count(*) AS n FROM snapshots")[0]["n"]
        done, result = crawl(db, [f"{server.url}/events"], jobdir=jobdir, extra=("--wait", "15"))
        log = list(server.request_log)
    assert done.returncode == 0 and result["status"] == "finished", done.stderr[-2000:]
    assert result["resumed_from"] == 1
    runs = query(db, "SELECT id, status FROM crawl_runs ORDER BY id")
    assert [r["status"] for r in runs] == ["interrupted", "finished"]
    snapshots = query(db, "SELECT url, count(*) AS n FROM snapshots GROUP BY url")
    assert all(r["n"] == 1 for r in snapshots), [r for r in snapshots if r["n"] > 1]
    articles = site_state("en", 1).articles
    stats = query(db, NEWS_COUNTS)[0]
    assert (stats["articles"], stats["article_versions"]) == (len(articles), len(articles))
    assert len(snapshots) >= stored_by_victim + result["pages_fetched"] - 1
    fetched = Counter(path for path, status in page_requests(log) if status == 200)
    downloaded = {path: n for path, n in fetched.items() if "/events/" in path}
    assert len(downloaded) >= len(articles)  # every article was downloaded...
    assert all(n == 1 for n in downloaded.values()), downloaded  # ...and none twice


# --------------------------------------------------------------------------- the demo


def test_demo_crawls_three_epochs_and_tells_what_changed(tmp_path_factory: pytest.TempPathFactory) -> None:
    folder, done = shared.demo(tmp_path_factory)  # `pa-archive demo`, run once for the README's test and this
    elapsed = done["seconds"]
    assert done["returncode"] == 0, done["stderr"][-2000:]
    out = done["stdout"]
    assert out.count("$ pa-archive crawl") == 3
    for expected in (
        "new article:",
        "changed article:",
        "removed article:",
        "block variant:",
        "new conflict: Kyrgyzstan seats_total (en)",
        "new conflict: Kyrgyzstan seats_total (ru)",
        "  left    Azamat Zhumabekov",  # roster changes, with dates (pa-archive roster --changes)
        "  joined  Oleg Morozov",
        "  plenipotentiary: Umarov Ismoil -> Saidov Abdujabbor",
        "Kazakhstan seats.senate: differ",  # the English and Russian sites (pa-archive parity)
    ):
        assert expected in out, expected
    assert elapsed < 60
    from crawler.process import is_demo_archive

    assert is_demo_archive(folder / "demo-archive.db")  # so the next demo may replace it, and nothing else
