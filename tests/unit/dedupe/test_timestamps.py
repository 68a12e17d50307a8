"""dedupe.timestamps: one timestamp (1991..tomorrow, zero-padded) and one date parser for every option."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import cli
from dedupe.document import parse_observed_at, utc_iso
from dedupe.timestamps import TimestampError, digits14, parse, parse_bound, to_iso
from dedupe.webarchive.warc_stream import warc_date


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024", "2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z"),
        ("2024-02", "2024-02-01T00:00:00Z", "2024-02-29T23:59:59Z"),
        ("2024-12", "2024-12-01T00:00:00Z", "2024-12-31T23:59:59Z"),
        ("2024-05-01", "2024-05-01T00:00:00Z", "2024-05-01T23:59:59Z"),
        ("2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        ("2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        ("20240501100000", "2024-05-01T10:00:00Z", "2024-05-01T10:00:00Z"),
        ("20240501", "2024-05-01T00:00:00Z", "2024-05-01T23:59:59Z"),
        ("202405", "2024-05-01T00:00:00Z", "2024-05-31T23:59:59Z"),
    ],
)
def test_every_form_names_a_period_start_and_end(text: str, start: str, end: str) -> None:
    assert parse_bound(text, "--since", end=False) == start
    assert parse_bound(text, "--until", end=True) == end


@pytest.mark.parametrize(
    "bad", ["2024-13-01", "2024-05-32", "abc", "0001-01-01", "1-01-01", "1990-12-31", "9999-12-31", "2024-5", ""]
)
def test_anything_else_is_refused_with_one_sentence(bad: str) -> None:
    with pytest.raises(TimestampError) as caught:
        parse_bound(bad, "--as-of", end=True)
    message = str(caught.value)
    assert message.startswith("--as-of ") and "\n" not in message and "from 1991-01-01 to" in message


def test_the_archive_time_is_zero_padded_and_bounded() -> None:
    assert to_iso(datetime(1991, 1, 1)) == "1991-01-01T00:00:00Z"
    with pytest.raises(TimestampError):
        utc_iso(datetime(1, 1, 1, tzinfo=timezone.utc))  # was stored as "1-01-01T00:00:00Z"
    with pytest.raises(TimestampError):
        utc_iso(datetime.now(timezone.utc) + timedelta(days=2))
    tomorrow = datetime.now(timezone.utc) + timedelta(hours=20)
    assert utc_iso(tomorrow).startswith(f"{tomorrow:%Y-%m-%d}")


def test_every_source_goes_through_it() -> None:
    assert parse_observed_at("2024-05-01T10:00:00Z") == "2024-05-01T10:00:00Z"
    assert parse_observed_at(1714557600) == "2024-05-01T10:00:00Z"
    for bad in ("0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", -62135596800):
        with pytest.raises(ValueError, match="observed_at"):
            parse_observed_at(bad)
    assert warc_date("2016-03-01T10:00:01Z") == "2016-03-01T10:00:01Z"
    assert warc_date("20160301100001") == "2016-03-01T10:00:01Z"
    assert warc_date("0001-01-01T00:00:00Z") is None and warc_date("abc") is None
    assert parse("2016") == "2016-01-01T00:00:00Z" and digits14("2016-12-31T23:59:59Z") == "20161231235959"


def test_every_date_option_accepts_the_same_forms_and_refuses_with_the_same_sentence(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    page = tmp_path / "p.html"
    page.write_text("<html><body><h1>Title</h1><p>Text of the page.</p></body></html>", encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(cli, ["import", str(page), "--db", str(db), "--observed-at", "2019-06"])
    assert ok.exit_code == 0, ok.output
    row = json.loads(runner.invoke(cli, ["history", str(page), "--db", str(db), "--json"]).output)
    assert "2019-06-01T00:00:00Z" in json.dumps(row)
    commands = [
        ["import", str(page), "--observed-at"],
        ["facts", "--as-of"],
        ["export", "--warc", str(tmp_path / "x.warc"), "--since"],
        # backfill refuses before any request (a good date would go on to ask the CDX server)
        ["backfill", "--cdx-api", "http://127.0.0.1:9/cdx", "--url", "x", "--dry-run", "--from"],
        ["backfill", "--cdx-api", "http://127.0.0.1:9/cdx", "--url", "x", "--dry-run", "--to"],
    ]
    for command in commands:
        for good in ("2024", "2024-05", "2024-05-01", "20240501") if command[0] != "backfill" else ():
            result = runner.invoke(cli, [*command, good, "--db", str(db)])
            assert "is not a date" not in result.output, (command, good, result.output)
        result = runner.invoke(cli, [*command, "2024-13-01", "--db", str(db)])
        assert result.exit_code == 2, (command, result.output)
        assert f"{command[-1]} '2024-13-01' is not a date and time from 1991-01-01 to" in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


def test_the_web_pages_as_of_reads_what_the_command_lines_as_of_reads() -> None:
    """``as_of_bound`` (the rosters' and the facts' ``as_of``, on the web pages and in the library) takes the
    forms ``--as-of`` takes, to the end of the period, and refuses the rest with the command line's sentence."""
    import pytest

    from dedupe.archive import ArchiveError
    from dedupe.archive.queries import as_of_bound
    from dedupe.timestamps import TimestampError, parse_bound

    for given in ("2024", "2024-05", "2024-05-01", "20240501", "20240501100000", "2024-05-01T10:00:00+02:00"):
        assert as_of_bound(given) == parse_bound(given, "--as-of", end=True)
    assert as_of_bound("2024-05") == "2024-05-31T23:59:59Z"
    assert as_of_bound("2024") == "2024-12-31T23:59:59Z"
    for refused in ("1990-01-01", "0001-01-01", "yesterday", "2024-13-45", "9999"):
        with pytest.raises(ArchiveError) as web:
            as_of_bound(refused)
        with pytest.raises(TimestampError) as cli:
            parse_bound(refused, "as of", end=True)
        assert str(web.value) == str(cli.value)


def test_a_refused_date_is_quoted_as_it_was_typed() -> None:
    """'0001-01-01' is refused as '0001-01-01', not as the moment it was read as ('0001-01-01T23:59:59+00:00')."""
    import pytest

    from dedupe.timestamps import TimestampError, parse, parse_bound

    for given in ("0001-01-01", "1990-05", "9999"):
        with pytest.raises(TimestampError) as bound:
            parse_bound(given, "--as-of", end=True)
        assert f"--as-of {given!r} is not" in str(bound.value)
        with pytest.raises(TimestampError) as plain:
            parse(given, "--observed-at")
        assert f"--observed-at {given!r} is not" in str(plain.value)
