"""`pa-archive import` of files, folders and JSON Lines fed by a hostile or careless user (web archives have their
own tests): every bad input is one line saying why, nothing partial or secret is stored, a rerun adds nothing."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli

PAGE = "<html><body><article><h1>Session</h1><p>The assembly met in Minsk.</p></article></body></html>"


def run(*args: str) -> object:
    return CliRunner().invoke(cli, list(args))


def line(url: object = "https://pacsto.org/events/a", **fields: object) -> str:
    return json.dumps({"url": url, "observed_at": "2024-05-01T10:00:00Z", "html": PAGE, **fields})


def urls(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [url for (url,) in conn.execute("SELECT url FROM snapshots ORDER BY id")]


def errors(output: str) -> list[str]:
    return [text for text in output.splitlines() if text.startswith("error: ")]


def imported(tmp_path: Path, lines: list[str | bytes], name: str = "in.jsonl") -> tuple[object, Path]:
    path = tmp_path / name
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines) + b"\n")
    db = tmp_path / "a.db"
    return run("import", str(path), "--db", str(db)), db


# --- JSON Lines: the url


def test_a_url_is_stored_without_its_credentials_or_fragment(tmp_path: Path) -> None:
    result, db = imported(
        tmp_path,
        [
            line("https://admin:hunter2@pacsto.org/events/a"),
            line("https://pacsto.org/events/b#main"),
            line("https://pacsto.org/events/b"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert urls(db) == ["https://pacsto.org/events/a", "https://pacsto.org/events/b"]
    assert "hunter2" not in result.output and "Imported 2 snapshot(s)" in result.output


@pytest.mark.parametrize(
    "url, message",
    [
        ("http:///events/a", "url has no host"),
        ("https:pacsto.org/events", "url has no host"),
        ("http://", "url has no host"),
        ("https://pacsto.org/" + "a" * 10_000, "url is longer than 8,192 characters"),
        ("https://pacsto.org/" + "я" * 2000, "url is longer than 8,192 characters once percent-encoded"),
        ("https://pacsto.org:99999/events", "url is not a valid URL (port out of range 0-65535)"),
        ("https://[::1/events", "url is not a valid URL (invalid IPv6 URL)"),
    ],
)
def test_a_url_that_names_no_page_is_one_sentence(tmp_path: Path, url: str, message: str) -> None:
    result, db = imported(tmp_path, [line(url), line()])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert errors(result.output) == [f"error: {tmp_path / 'in.jsonl'}:1: {message}"]
    assert urls(db) == ["https://pacsto.org/events/a"]


def test_a_40_mb_url_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    result, db = imported(tmp_path, [line("https://pacsto.org/" + "u" * (40 * 2**20))])
    (refused,) = errors(result.output)  # refused as it is read, not once percent-encoded
    assert result.exit_code == 1 and refused.endswith(":1: url is longer than 8,192 characters"), result.output
    assert urls(db) == []


# --- JSON Lines: the other fields and the bytes


def test_a_missing_observed_at_says_it_is_missing(tmp_path: Path) -> None:
    result, db = imported(tmp_path, [json.dumps({"url": "https://pacsto.org/events/a", "html": PAGE})])
    assert errors(result.output) == [
        f"error: {tmp_path / 'in.jsonl'}:1: observed_at is missing (give it in the line, or --observed-at for the "
        "whole file)"
    ]
    again = run("import", str(tmp_path / "in.jsonl"), "--observed-at", "2024-05-01", "--db", str(db))
    assert again.exit_code == 0 and urls(db) == ["https://pacsto.org/events/a"]


def test_a_number_of_thousands_of_digits_is_one_sentence_not_pythons(tmp_path: Path) -> None:
    raw = '{"url": "https://pacsto.org/events/a", "observed_at": ' + "9" * 5000 + ', "html": "x"}'
    result, _ = imported(tmp_path, [raw, line("https://pacsto.org/events/b")])
    assert errors(result.output) == [f"error: {tmp_path / 'in.jsonl'}:1: a number in the line has more than 100 digits"]
    assert "set_int_max_str_digits" not in result.output and "Imported 1 snapshot(s)" in result.output


def test_a_utf16_file_is_one_error_naming_its_encoding(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(("\n".join([line(), line("https://pacsto.org/events/b")]) + "\n").encode("utf-16"))
    result = run("import", str(path), "--db", str(tmp_path / "a.db"))
    assert errors(result.output) == [
        f"error: {path}: file is UTF-16 or UTF-32, not UTF-8 (save it as UTF-8 to import it)"
    ]


def test_a_line_of_nul_bytes_is_not_called_invalid_utf8(tmp_path: Path) -> None:
    result, db = imported(tmp_path, [b"\x00" * 64, line()])
    assert errors(result.output) == [
        f"error: {tmp_path / 'in.jsonl'}:1: line contains NUL bytes (JSON Lines must be UTF-8 text, not UTF-16)"
    ]
    assert urls(db) == ["https://pacsto.org/events/a"]


def test_files_joined_with_cat_keep_their_byte_order_marks_and_crlf(tmp_path: Path) -> None:
    first = b"\xef\xbb\xbf" + line().encode() + b"\r\n"
    second = b"\xef\xbb\xbf" + line("https://pacsto.org/events/b").encode() + b"\r\n"
    (tmp_path / "in.jsonl").write_bytes(first + second + second)  # the last one twice: archived once
    result = run("import", str(tmp_path / "in.jsonl"), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 0, result.output
    assert "Imported 2 snapshot(s)" in result.output and "1 already archived" in result.output


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n\t\n"])
def test_a_json_lines_file_without_a_record_is_an_error(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "in.jsonl").write_bytes(content)
    result = run("import", str(tmp_path / "in.jsonl"), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 1
    assert errors(result.output) == [f"error: {tmp_path / 'in.jsonl'}: file holds no JSON Lines record (it is empty)"]


# --- files and folders


def test_a_folder_holding_the_archive_never_imports_the_archive_or_its_lock(tmp_path: Path) -> None:
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    db = folder / "archive.db"
    first = run("import", str(folder), "--db", str(db))
    assert first.exit_code == 0, first.output
    again = run("import", str(folder), "--db", str(db))
    assert again.exit_code == 0, again.output  # the archive was "binary content", its lock file a page
    assert "Imported 0 snapshot(s)" in again.output and "error:" not in again.output
    assert f"skipped: {db}: a file of the archive being imported into (not imported)" in again.output
    assert f"skipped: {db}.lock: a file of the archive being imported into (not imported)" in again.output
    assert [url.rpartition("/")[2] for url in urls(db)] == ["page.html"]


def test_a_file_name_with_control_characters_stays_on_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "new\nline.html").write_bytes(b"")
    (folder / "red\x1b[31m.html").write_text(PAGE, encoding="utf-8")
    db = tmp_path / "a.db"
    result = run("import", str(folder), "--db", str(db))
    assert errors(result.output) == [f"error: {folder}/new\\nline.html: empty content"]
    assert "\x1b" not in result.output
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT origin FROM snapshots").fetchall() == [(f"{folder}/red\\x1b[31m.html",)]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_pipes_devices_and_links_to_folders_in_a_folder_are_said_as_skipped(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    os.mkfifo(folder / "pipe.html")
    (folder / "zero.html").symlink_to("/dev/zero")
    (folder / "up").symlink_to(tmp_path)
    result = run("import", str(folder), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 0, result.output
    assert f"skipped: {folder / 'pipe.html'}: not a regular file (a pipe, a device or a socket)" in result.output
    assert f"skipped: {folder / 'zero.html'}: not a regular file (a pipe, a device or a socket)" in result.output
    assert f"skipped: {folder / 'up'}: symbolic link to a folder (not followed)" in result.output
    assert "Imported 1 snapshot(s)" in result.output
    by_glob = run("import", str(folder / "*o.html"), "--db", str(tmp_path / "b.db"))  # only zero.html matches
    assert by_glob.exit_code == 1
    assert errors(by_glob.output) == [f"error: {folder / '*o.html'}: no regular file matches this pattern"]


def test_a_modification_time_before_the_web_says_what_to_do(tmp_path: Path) -> None:
    page = tmp_path / "old.html"
    page.write_text(PAGE, encoding="utf-8")
    os.utime(page, (86400, 86400))  # 1970-01-02
    result = run("import", str(page), "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 1
    (message,) = errors(result.output)
    assert message.startswith(f"error: {page}: its modification time (1970-01-02 00:00:00 UTC) is not from 1991-01-01 ")
    assert message.endswith("; give the time the page was seen with --observed-at")
    assert run("import", str(page), "--observed-at", "2019-06-01", "--db", str(tmp_path / "a.db")).exit_code == 0


def test_a_dash_is_not_taken_for_a_missing_file(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["import", "-", "--db", str(tmp_path / "a.db")], input=line())
    assert result.exit_code == 1 and not (tmp_path / "a.db").exists()
    assert errors(result.output) == [
        "error: -: standard input cannot be imported; save it to a file and name that file"
    ]


def test_a_json_lines_file_still_being_written_is_read_as_it_was_when_opened(tmp_path: Path) -> None:
    from dedupe.sources import read_inputs

    path = tmp_path / "in.jsonl"
    path.write_text("".join(line(f"https://pacsto.org/events/{n}") + "\n" for n in range(3)), encoding="utf-8")
    read = []
    with path.open("a", encoding="utf-8") as writer:  # a scraper appending as fast as it is read
        for n, item in enumerate(read_inputs([str(path)])):
            read.append(item)
            writer.write(line(f"https://pacsto.org/events/new{n}") + '\n{"url": "https://pacsto')
            writer.flush()
    assert [item.url for item in read] == [f"https://pacsto.org/events/{n}" for n in range(3)]


def test_a_compressed_json_lines_file_says_to_decompress_it(tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "feed.jsonl"  # it was "line is not valid UTF-8"
    path.write_bytes(gzip.compress((line() + "\n").encode()))
    result = run("import", str(path), "--db", str(tmp_path / "a.db"))
    (message,) = errors(result.output)
    assert message == f"error: {path}: gzip-compressed (decompress it to import it)"


def test_a_sigterm_during_an_import_says_what_was_kept_and_leaves_a_consistent_archive(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from tests.conftest import ROOT
    from tests.support.snapshots import make_snapshots, snapshot_count

    make_snapshots(tmp_path / "in", 1500)
    db = tmp_path / "archive.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "import", str(tmp_path / "in"), "--db", str(db)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while snapshot_count(db) < 150 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        proc.terminate()  # as `kill` or a service manager: it was ended without a word
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 143, out + err
    assert "Import interrupted:" in err and "stored before it are kept" in err and "Traceback" not in err
    check = run("check", "--db", str(db))
    assert check.exit_code == 0 and "Every derived table equals a full rebuild." in check.output


def test_a_pattern_over_folders_that_link_back_does_not_follow_the_links(tmp_path: Path) -> None:
    """glob.glob's ``**`` followed links to folders: two links back to the parent made it run without end. A
    pattern reads as glob.glob did otherwise (no hidden names unless the pattern spells the dot)."""
    from dedupe.sources import pattern_matches

    pages = tmp_path / "pages"
    (pages / "2024" / ".drafts").mkdir(parents=True)
    (pages / "2024" / "a.html").write_text(PAGE)
    (pages / "2024" / ".drafts" / "b.html").write_text(PAGE)
    (pages / "2024" / "up").symlink_to("..")
    (pages / "2024" / "loop").symlink_to(tmp_path)
    assert pattern_matches(f"{pages}/**/*.html") == [pages / "2024" / "a.html"]
    assert pattern_matches(f"{pages}/2024/.drafts/*.html") == [pages / "2024" / ".drafts" / "b.html"]
    result = run("import", f"{pages}/**/*.html", "--db", str(tmp_path / "a.db"))
    assert result.exit_code == 0 and "Imported 1 snapshot(s)" in result.output, result.output
