"""Arguments a user can get wrong: unreadable folder entries, empty paths, numbers out of range, broken
JSON Lines fields. Each is one line or click's usage error (exit 2), never a traceback."""

from __future__ import annotations

import json
import os
import pathlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from tests.conftest import SEEDS


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def folder_with_a_page(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.html").write_text("<p>An article about the assembly's session.</p>", encoding="utf-8")
    return folder


def imported(db: Path) -> int:
    return json.loads(run("stats", "--db", str(db), "--json").output)["snapshots"]


# --- 1. a folder entry that cannot be read is one error line; the rest is imported


def test_an_entry_that_cannot_be_examined_is_one_error_and_the_rest_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = folder_with_a_page(tmp_path)
    (folder / "proc").symlink_to(tmp_path)  # as /proc/1/cwd is for a user who may not follow it
    stat = pathlib.Path.stat

    def refuse(self: Path, *args: object, **kwargs: object) -> os.stat_result:
        if self.name == "proc":
            raise PermissionError(13, "Permission denied", str(self))
        return stat(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "stat", refuse)
    result = run("import", str(folder), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"error: {folder / 'proc'}: permission denied\n" in result.output
    assert "Imported 1 snapshot(s)" in result.output


def test_a_folder_that_cannot_be_listed_is_one_error_and_the_rest_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = folder_with_a_page(tmp_path)
    (folder / "private").mkdir()
    (folder / "private" / "b.html").write_text("<p>Never read.</p>", encoding="utf-8")
    scandir = os.scandir

    def refuse(path: object = ".") -> object:
        if os.fspath(path).endswith("private"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refuse)
    result = run("import", str(folder), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"error: {folder / 'private'}: permission denied\n" in result.output
    assert "Imported 1 snapshot(s)" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder of mode 000")
def test_a_folder_of_mode_000_is_one_error(tmp_path: Path) -> None:
    folder = folder_with_a_page(tmp_path)
    (folder / "locked").mkdir()
    (folder / "locked" / "b.html").write_text("<p>Never read.</p>", encoding="utf-8")
    (folder / "locked").chmod(0)
    try:
        result = run("import", str(folder), "--db", str(tmp_path / "a.db"))
    finally:
        (folder / "locked").chmod(0o755)
    assert result.exit_code == 1 and f"error: {folder / 'locked'}: permission denied\n" in result.output
    assert "Imported 1 snapshot(s)" in result.output


def test_a_named_input_that_cannot_be_examined_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = folder_with_a_page(tmp_path)
    stat = pathlib.Path.stat

    def refuse(self: Path, *args: object, **kwargs: object) -> os.stat_result:
        if self.name == "secret":
            raise PermissionError(13, "Permission denied", str(self))
        return stat(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "stat", refuse)
    result = run("import", str(tmp_path / "secret"), str(folder), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"error: {tmp_path / 'secret'}: permission denied\n" in result.output
    assert "Imported 1 snapshot(s)" in result.output


def test_a_dangling_link_is_reported_as_skipped_not_as_an_error(tmp_path: Path) -> None:
    folder = folder_with_a_page(tmp_path)
    (folder / "gone.html").symlink_to(tmp_path / "nowhere.html")
    (folder / "loop").symlink_to(folder / "loop")
    result = run("import", str(folder), "--db", str(tmp_path / "a.db"))
    assert f"skipped: {folder / 'gone.html'}: dangling symbolic link\n" in result.output
    assert f"error: {folder / 'loop'}: too many levels of symbolic links\n" in result.output
    assert result.exit_code == 1 and "Imported 1 snapshot(s)" in result.output
    alone = run("import", str(tmp_path / "in" / "gone.html"), "--db", str(tmp_path / "b.db"))
    assert alone.exit_code == 1 and f"error: {folder / 'gone.html'}: dangling symbolic link" in alone.output


def test_a_dangling_link_alone_does_not_fail_the_import(tmp_path: Path) -> None:
    folder = folder_with_a_page(tmp_path)
    (folder / "gone.html").symlink_to(tmp_path / "nowhere.html")
    result = run("import", str(folder), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 0, result.output
    assert "skipped: " in result.output and "error:" not in result.output
    by_glob = run("import", str(folder / "*.html"), "--db", str(tmp_path / "a.db"))
    assert by_glob.exit_code == 0 and f"skipped: {folder / 'gone.html'}: dangling symbolic link" in by_glob.output


# --- 2. an empty path is a usage error, never the current folder


@pytest.mark.parametrize(
    "args",
    [
        ["import", "", "--db", "a.db"],
        ["import", "--seeds", "--db", ""],
        ["stats", "--db", ""],
        ["runs", "--db", ""],
        ["export", "--warc", "", "--db", "a.db"],
        ["export", "--warc", "out.warc", "--wacz", "", "--db", "a.db"],
        ["crawl", "--jobdir", "", "--start-url", "http://127.0.0.1:9/events", "--db", "a.db"],
        ["demo", "--db", ""],
    ],
)
def test_an_empty_path_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "page.html").write_text("<p>A page in the current folder.</p>", encoding="utf-8")
    run("import", str(SEEDS), "--db", "a.db")
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run(*args)
    assert result.exit_code == 2 and "empty path" in result.output and "Traceback" not in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing imported, written or made
    assert imported(tmp_path / "a.db") == 5


def test_inputs_are_checked_by_the_import_not_by_click(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only an empty path is refused before the import: an input click would call unreadable is the import's to
    try and report, one line among the others."""
    folder = folder_with_a_page(tmp_path)
    access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: "a.html" not in str(path) and access(path, mode, **kw))
    result = run("import", str(folder / "a.html"), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 0 and "Imported 1 snapshot(s)" in result.output, result.output


# --- 3. numbers out of range are click's usage error


@pytest.mark.parametrize(
    "args, option",
    [
        (["runs", "99999999999999999999"], "[RUN]"),
        (["runs", "0"], "[RUN]"),
        (["runs", "--limit", "99999999999999999999"], "--limit"),
        (["runs", "--limit", "0"], "--limit"),
        (["replica", "--port", "70000"], "--port"),
        (["replica", "--port", "-1"], "--port"),
        (["replica", "--epoch", "4"], "--epoch"),
        (["replica", "--slow-seconds", "nan"], "--slow-seconds"),
        (["replica", "--slow-seconds", "-1"], "--slow-seconds"),
        (["serve", "--port", "70000"], "--port"),
        (["crawl", "--wait", "inf", "--start-url", "http://127.0.0.1:9/events"], "--wait"),
        (["crawl", "--wait", "-1", "--start-url", "http://127.0.0.1:9/events"], "--wait"),
        (["backfill", "--url", "x", "--delay", "-1"], "--delay"),
    ],
)
def test_a_number_out_of_range_is_a_usage_error(tmp_path: Path, args: list[str], option: str) -> None:
    db = tmp_path / "a.db"
    run("import", str(SEEDS), "--db", str(db))
    # the replica is given a host it refuses: a value let through must not start a server that never ends
    result = run(*args, "--db", str(db)) if args[0] != "replica" else run(*args, "--host", "256.0.0.0")
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert f"Invalid value for '{option}'" in result.output


def test_the_largest_run_id_is_looked_up(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    run("import", str(SEEDS), "--db", str(db))
    result = run("runs", str(2**63 - 1), "--db", str(db))
    assert result.exit_code == 2 and "there is no crawl run 9223372036854775807" in result.output


# --- 4. a lone surrogate names its field


@pytest.mark.parametrize("field", ["url", "observed_at", "text", "html"])
def test_a_lone_surrogate_names_its_field(tmp_path: Path, field: str) -> None:
    record = {"url": "https://pacsto.org/events/x", "observed_at": "2024-05-01T10:00:00Z"}
    record["html" if field == "html" else "text"] = "<p>Some text.</p>"
    record[field] += "\ud800"
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(record) + "\n", encoding="utf-8")  # json.dumps writes it as \ud800
    result = run("import", str(feed), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert f"feed.jsonl:1: {field}: contains a lone surrogate (invalid Unicode)\n" in result.output


# --- 5. a web archive's summary counts the pages refused after they were read


def test_a_web_archives_summary_counts_the_pages_refused_after_reading(tmp_path: Path) -> None:
    from tests.unit.dedupe.test_warc_quirks import record

    binary = b"<html><body>" + b"\x00\x01\x02" * 200 + b"</body></html>"
    first = record("https://pacsto.org/events/fine")
    warc = tmp_path / "mixed.warc"
    warc.write_bytes(first + record("https://pacsto.org/events/binary", binary))
    result = run("import", str(warc), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 1
    assert f"{warc}: 2 observation(s) (0 revisit(s)), 1 of them refused (see the errors)" in result.output
    assert f"error: {warc}@{len(first)}: https://pacsto.org/events/binary: binary content" in result.output
    assert imported(tmp_path / "a.db") == 1


# --- 6. a search FTS5 cannot read is said in words, not in SQLite's


@pytest.mark.parametrize("query", ["*", "OR OR", "", '"unclosed'])
def test_a_search_the_index_cannot_read_is_a_sentence(tmp_path: Path, query: str) -> None:
    db = tmp_path / "a.db"
    assert run("import", "--seeds", "--db", str(db)).exit_code == 0
    result = run("search", query, "--db", str(db))
    assert result.exit_code == 1 and "fts5" not in result.output
    assert f"cannot search for {query!r}: " in result.output and "the index reads words" in result.output
