"""The crawl commands (crawl, runs, demo) without a crawl started: help, refusals in one sentence, listings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crawler.runs import CrawlRun
from dedupe.archive import Archive
from tests.support.cli import one_sentence_error
from tests.support.crawl import ARTICLES, BASE, snap


def test_commands_have_help_with_an_example() -> None:
    from click.testing import CliRunner

    from cli import crawl, demo, replica, runs

    for command in (crawl, runs, replica, demo):
        result = CliRunner().invoke(command, ["--help"])
        assert result.exit_code == 0 and "Example:" in result.output, command.name


def test_crawl_rejects_bad_start_urls_and_settings(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import crawl

    db = tmp_path / "a.db"
    result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", "file:///etc/passwd"])
    assert result.exit_code == 2 and "not an http(s) URL" in one_sentence_error(result)
    result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", "https://pacsto.org:99999/events"])
    assert result.exit_code == 2 and "no valid port" in one_sentence_error(result)
    result = CliRunner().invoke(crawl, ["--db", str(db), "-s", "DOWNLOAD_DELAY"])
    assert result.exit_code == 2 and "NAME=VALUE" in one_sentence_error(result)
    for setting, expected in (
        ("CALENDAR_EARLIEST=bad", "CALENDAR_EARLIEST must be a month as YYYY-MM"),
        ("CALENDAR_EARLIEST=2013-13", "CALENDAR_EARLIEST must be a month"),
        ("LISTING_MAX_PAGES=many", "LISTING_MAX_PAGES must be a whole number"),
        ("DOWNLOAD_DELAY=-1", "DOWNLOAD_DELAY must be a number of at least 0"),
        ("ROBOTSTXT_OBEY=perhaps", "ROBOTSTXT_OBEY must be true or false"),
        ("ARCHIVE_WRITER=thread", "ARCHIVE_WRITER must be one of process, inline"),
    ):
        result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", f"{BASE}/events", "-s", setting])
        assert result.exit_code == 2 and expected in one_sentence_error(result), setting
    assert not db.exists() and not Path(f"{db}.lock").exists()  # refused up front: nothing locked or created


def test_crawl_refuses_an_archive_path_it_cannot_write_in_one_sentence(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import crawl
    from dedupe.archive import ArchiveError

    missing = tmp_path / "typo" / "archive.db"
    result = CliRunner().invoke(crawl, ["--db", str(missing), "--start-url", f"{BASE}/events"])
    assert result.exit_code == 2 and "does not exist" in one_sentence_error(result)
    assert not missing.parent.exists()  # no folder made for a mistyped path
    with pytest.raises(ArchiveError, match="does not exist"):
        CrawlRun(missing, [f"{BASE}/events"]).begin()  # `scrapy crawl -s ARCHIVE_DB=...` reaches the lock directly
    assert not missing.parent.exists()
    result = CliRunner().invoke(crawl, ["--db", "/proc/pa-archive-test.db", "--start-url", f"{BASE}/events"])
    assert result.exit_code == 1 and "/proc/pa-archive-test.db" in one_sentence_error(result)


def test_runs_limit_is_at_least_one(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import runs

    CrawlRun(tmp_path / "a.db", [f"{BASE}/events"]).begin().finish("finished")
    for bad in ("0", "-3"):
        result = CliRunner().invoke(runs, ["--db", str(tmp_path / "a.db"), "--limit", bad])
        assert result.exit_code == 2 and "--limit" in result.output
    assert CliRunner().invoke(runs, ["--db", str(tmp_path / "a.db"), "--limit", "1"]).exit_code == 0


def test_demo_replaces_only_an_archive_it_made(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import demo
    from crawler.process import is_demo_archive, prepare_demo_archive

    mine = tmp_path / "demo.db"
    prepare_demo_archive(str(mine), force=False)  # a new file: made and marked
    assert is_demo_archive(mine)
    prepare_demo_archive(str(mine), force=False)  # the demo's own: replaced
    assert is_demo_archive(mine)
    precious = tmp_path / "archive.db"
    with Archive(precious) as archive:
        archive.add(snap(ARTICLES[0], "2025-10-20T09:00:00Z"))
    Path(f"{precious}-wal").write_bytes(b"")  # what a crawl may leave next to it
    notes = tmp_path / "notes.txt"
    notes.write_text("not an archive at all")
    for target in (precious, notes):
        result = CliRunner().invoke(demo, ["--db", str(target)])
        assert result.exit_code == 2 and "is not an archive the demo made" in one_sentence_error(result)
    assert notes.read_text() == "not an archive at all" and Path(f"{precious}-wal").exists()
    with Archive(precious) as archive:
        assert archive.query("SELECT count(*) AS n FROM snapshots")[0]["n"] == 1
    assert not is_demo_archive(precious) and not is_demo_archive(notes)
    prepare_demo_archive(str(precious), force=True)  # --force: replaced
    assert is_demo_archive(precious)
    with Archive(precious) as archive:
        assert archive.query("SELECT count(*) AS n FROM snapshots")[0]["n"] == 0


def test_runs_lists_runs_as_text_and_json(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import runs

    db = tmp_path / "a.db"
    run = CrawlRun(db, [f"{BASE}/events"]).begin()
    run.counts.pages_fetched, run.counts.new = 2, 2
    run.counts.add("failed", f"{BASE}/events/x", "timed out (after 3 retries)")
    run.finish("finished")
    text = CliRunner().invoke(runs, ["--db", str(db)])
    assert text.exit_code == 0
    assert "Crawl run 1 finished" in text.output and "failed: http://127.0.0.1:8000/events/x: timed out" in text.output
    data = json.loads(CliRunner().invoke(runs, ["--db", str(db), "--json"]).output)
    assert data[0]["status"] == "finished" and data[0]["errors"][0]["error"] == "timed out (after 3 retries)"


def test_crawl_takes_revisit_after_as_a_flag_a_setting_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from click.testing import CliRunner

    from cli import crawl
    from crawler import settings as module
    from crawler.process import crawl_settings

    assert crawl_settings(None, None, (), None, False).get("REVISIT_AFTER") == "7d"
    assert crawl_settings(None, None, ("REVISIT_AFTER=1d",), None, False, "0").get("REVISIT_AFTER") == "0"  # flag wins
    monkeypatch.setenv("PA_REVISIT_AFTER", "12h")
    try:
        importlib.reload(module)
        assert module.REVISIT_AFTER == "12h"
        monkeypatch.setenv("PA_REVISIT_AFTER", "0")
        importlib.reload(module)
        assert module.REVISIT_AFTER == 0
    finally:
        monkeypatch.undo()
        importlib.reload(module)
    db = tmp_path / "a.db"
    result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", f"{BASE}/events", "--revisit-after", "weekly"])
    assert result.exit_code == 2 and "--revisit-after must be a duration such as 7d" in one_sentence_error(result)
    result = CliRunner().invoke(crawl, ["--db", str(db), "--start-url", f"{BASE}/events", "-s", "REVISIT_AFTER=-2h"])
    assert result.exit_code == 2 and "REVISIT_AFTER must be a" in one_sentence_error(result)
    assert not db.exists()
    help_text = CliRunner().invoke(crawl, ["--help"]).output
    assert "--revisit-after" in help_text and "--revisit-after 0" in help_text


KILLED_CRAWL = """
import os, signal, sys
from crawler.pipelines import ArchiveWriter
from crawler.runs import CrawlRun
from tests.support.crawl import ARTICLES, BASE, snap
run = CrawlRun(sys.argv[1], [f"{BASE}/events"]).begin()
writer = ArchiveWriter(sys.argv[1])
for i, path in enumerate(ARTICLES[:3]):
    writer.store(snap(path, f"2025-10-20T09:00:0{i}Z", origin=run.origin))
writer.archive.close()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_runs_shows_a_killed_run_as_interrupted_with_what_it_stored(tmp_path: Path) -> None:
    import subprocess
    import sys

    from click.testing import CliRunner

    from cli import runs

    db = tmp_path / "a.db"
    root = Path(__file__).resolve().parents[3]
    killed = subprocess.run([sys.executable, "-c", KILLED_CRAWL, str(db)], cwd=root, timeout=60, check=False)
    assert killed.returncode == -9  # SIGKILL: its row stays 'running', its lock note names a dead pid
    text = CliRunner().invoke(runs, ["--db", str(db)])
    assert text.exit_code == 0, text.output
    assert "Crawl run 1 interrupted: 3 page(s) fetched - 3 new" in text.output
    assert "no crawl holds the archive's lock" in " ".join(text.output.split())
    (row,) = json.loads(CliRunner().invoke(runs, ["--db", str(db), "--json"]).output)
    assert (row["status"], row["recorded_status"], row["new"]) == ("interrupted", "running", 3)
    CrawlRun(db, [f"{BASE}/events"]).begin().finish("finished")  # the next crawl settles it: the same counts
    (_, old) = json.loads(CliRunner().invoke(runs, ["--db", str(db), "--json"]).output)
    assert (old["status"], old["pages_fetched"], old["new"], old["changed"]) == ("interrupted", 3, 3, 0)
    assert "recorded_status" not in old


def test_runs_counts_what_a_live_run_has_stored_so_far(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli import runs
    from crawler.pipelines import ArchiveWriter

    db = tmp_path / "a.db"
    with Archive(db) as archive:
        archive.add(snap(ARTICLES[1], "2025-10-19T09:00:00Z", origin="import"))
    run = CrawlRun(db, [f"{BASE}/events"]).begin()  # this process holds the lock: the run is live
    try:
        writer = ArchiveWriter(str(db))
        writer.store(snap(ARTICLES[0], "2025-10-20T09:00:00Z", origin=run.origin))
        writer.store(snap(ARTICLES[1], "2025-10-20T09:00:01Z", epoch=3, origin=run.origin))
        writer.store(snap(ARTICLES[2], "2025-10-20T09:00:02Z", status=500, origin=run.origin))
        writer.archive.close()
        text = CliRunner().invoke(runs, ["--db", str(db)])
        (row,) = json.loads(CliRunner().invoke(runs, ["--db", str(db), "--json"]).output)
    finally:
        run.finish("shutdown")
    assert "Crawl run 1 running: 2 page(s) fetched - 1 new, 1 changed" in text.output and "1 failed" in text.output
    assert "still running (pid " in text.output
    assert (row["status"], row["pages_fetched"], row["new"], row["changed"], row["failed"]) == ("running", 2, 1, 1, 1)


def test_crawl_log_level_reads_pa_log_level_and_its_help_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    import crawler.process
    from cli import crawl

    seen: list[str] = []

    def settings(db_path, jobdir, overrides, log_level, *args, **kwargs):
        seen.append(log_level)
        raise crawler.process.CrawlSetupError("stop here.")

    monkeypatch.setattr(crawler.process, "crawl_settings", settings)
    for env, flags, expected in (({}, [], "WARNING"), ({"PA_LOG_LEVEL": "info"}, [], "INFO")):
        result = CliRunner().invoke(crawl, flags, env=env)
        assert result.exit_code == 2 and seen[-1].upper() == expected, (env, result.output)
    result = CliRunner().invoke(crawl, ["--log-level", "ERROR"], env={"PA_LOG_LEVEL": "INFO"})
    assert seen[-1] == "ERROR"  # the flag wins
    result = CliRunner().invoke(crawl, [], env={"PA_LOG_LEVEL": "loud"})
    assert result.exit_code == 2 and "PA_LOG_LEVEL" in result.output
    assert "env var: PA_LOG_LEVEL" in " ".join(CliRunner().invoke(crawl, ["--help"]).output.split())


def test_crawl_help_shows_the_progress_default_and_the_pa_variables() -> None:
    from click.testing import CliRunner

    from cli import crawl

    text = " ".join(CliRunner().invoke(crawl, ["--help"]).output.split())
    assert "--progress / --no-progress A progress line on stderr while crawling. [default: progress]" in text
    assert "PA_<NAME>" in text and "PA_DOWNLOAD_DELAY=2" in text and "$PA_START_URLS" in text


def test_bench_help_does_not_point_to_itself_and_its_json_goes_to_the_current_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from click.testing import CliRunner

    import cli

    calls: list[list[str]] = []
    monkeypatch.setattr(cli.subprocess, "run", lambda argv, **kw: calls.append(argv) or SimpleNamespace(returncode=0))
    text = CliRunner().invoke(cli.bench, ["--help"]).output
    assert "see `pa-archive bench --help`" not in text and "pa-archive-bench.json in the current" in text
    assert CliRunner().invoke(cli.bench, ["--pages", "10"]).exit_code == 0
    assert calls[-1][-4:] == ["--pages", "10", "--out", "pa-archive-bench.json"]
    assert CliRunner().invoke(cli.bench, ["--out", "x.json"]).exit_code == 0
    assert calls[-1][-2:] == ["--out", "x.json"]  # an --out given is kept, alone


def test_crawl_names_the_environment_variable_a_bad_setting_came_from(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "PA_DOWNLOAD_DELAY": "abc"}  # read when crawler.settings is imported: a process of its own
    args = ["crawl", "--db", str(tmp_path / "a.db"), "--start-url", "http://127.0.0.1:9/events"]
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run(
        [sys.executable, "-c", "from cli import cli; cli()", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "Error: DOWNLOAD_DELAY must be a number of at least 0, not 'abc' (from the environment variable "
        "PA_DOWNLOAD_DELAY)."
    )


def test_crawl_refuses_a_jobdir_it_cannot_write_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import tempfile

    from click.testing import CliRunner

    from cli import crawl

    db = tmp_path / "a.db"
    (tmp_path / "file").write_text("")
    args = ["--db", str(db), "--start-url", "http://127.0.0.1:9/events", "--no-progress", "--jobdir"]
    result = CliRunner().invoke(crawl, [*args, str(tmp_path / "file" / "state")])
    assert result.exit_code == 2 and f"cannot keep the crawl's state in --jobdir {tmp_path}/file/state" in (
        one_sentence_error(result)
    )

    def read_only(*a, **kw):  # what a read-only mount answers, even to root
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "ro" / "tmpabc"))

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    result = CliRunner().invoke(crawl, [*args, str(tmp_path / "ro")])
    assert result.exit_code == 2
    assert f"cannot keep the crawl's state in --jobdir {tmp_path}/ro: Read-only file system; nothing was fetched" in (
        one_sentence_error(result)
    )
    assert not db.exists()  # refused before the lock and the run's row
