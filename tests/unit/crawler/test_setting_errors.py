"""crawler.settings.setting_errors: each kind of rule (whole numbers, numbers, flags, choices, parsed
values) says what is wrong in one sentence, and a project's defaults pass."""

from __future__ import annotations

import logging

import pytest
from scrapy.settings import Settings

import crawler.settings as project_settings


def errors_with(**values: object) -> list[str]:
    settings = Settings()
    settings.setmodule(project_settings)
    for name, value in values.items():
        settings.set(name, value)
    return project_settings.setting_errors(settings)


def test_the_project_defaults_pass() -> None:
    assert errors_with() == []


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("CONCURRENT_REQUESTS", 0, "CONCURRENT_REQUESTS must be a whole number of at least 1, not '0'."),
        ("RETRY_TIMES", "two", "RETRY_TIMES must be a whole number of at least 0, not 'two'."),
        ("DOWNLOAD_DELAY", "-1", "DOWNLOAD_DELAY must be a number of at least 0, not '-1'."),
        ("DOWNLOAD_DELAY", "nan", "DOWNLOAD_DELAY must be a number of at least 0, not 'nan'."),
        ("DOWNLOAD_TIMEOUT", "inf", "DOWNLOAD_TIMEOUT must be a number of at least 0, not 'inf'."),
        ("CRAWL_MAX_FAILED_RATIO", 1.5, "CRAWL_MAX_FAILED_RATIO must be a number between 0 and 1, not '1.5'."),
        ("RETRY_ENABLED", "perhaps", "RETRY_ENABLED must be true or false (or 1 or 0), not 'perhaps'."),
        ("ARCHIVE_WRITER", "thread", "ARCHIVE_WRITER must be one of process, inline, not 'thread'."),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, not 'loud'."),
    ],
)
def test_a_bad_value_is_one_sentence(name: str, value: object, message: str) -> None:
    assert errors_with(**{name: value}) == [message]


@pytest.mark.parametrize(
    "name, value",
    [
        ("CRAWL_MAX_FAILED_RATIO", "1"),
        ("DOWNLOAD_DELAY", "0.25"),
        ("LOG_LEVEL", logging.INFO),  # a level given as logging's number
        ("LOG_LEVEL", "info"),  # choices in any case
        ("ARCHIVE_WRITER_START", "Spawn"),
        ("RETRY_ENABLED", "0"),
        ("ARCHIVE_WRITER", ""),  # empty: the default
    ],
)
def test_good_values_pass(name: str, value: object) -> None:
    assert errors_with(**{name: value}) == []


def test_every_problem_is_named_in_the_order_of_the_rules() -> None:
    errors = errors_with(REVISIT_AFTER="weekly", LOG_LEVEL="loud", DOWNLOAD_MAXSIZE="big", CALENDAR_EARLIEST="soon")
    assert [e.split()[0] for e in errors[:2]] == ["DOWNLOAD_MAXSIZE", "LOG_LEVEL"]
    assert len(errors) == 4 and errors[-1].startswith("REVISIT_AFTER")
    assert "soon" in errors[2]


@pytest.mark.parametrize(
    "variable, value, message",
    [
        (
            "PA_DOWNLOAD_DELAY",
            "-2",
            "DOWNLOAD_DELAY must be a number of at least 0, not '-2' (from the environment variable "
            "PA_DOWNLOAD_DELAY).",
        ),
        # a misspelt yes/no is refused, not read as "no" (robots.txt must not be turned off by a typo)
        (
            "PA_ROBOTSTXT_OBEY",
            "ture",
            "ROBOTSTXT_OBEY must be true or false (or 1 or 0), not 'ture' (from the environment variable "
            "PA_ROBOTSTXT_OBEY).",
        ),
    ],
)
def test_a_bad_environment_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    import importlib

    from crawler.process import CrawlSetupError, crawl_settings

    monkeypatch.setenv(variable, value)
    try:
        importlib.reload(project_settings)
        with pytest.raises(CrawlSetupError) as raised:
            crawl_settings(None, None, (), None, progress=False)
        assert str(raised.value) == message
        # the same value typed with -s is the operator's own: no variable to name
        setting = variable.removeprefix("PA_")
        with pytest.raises(CrawlSetupError) as typed:
            crawl_settings(None, None, (f"{setting}={value}",), None, progress=False)
        assert "environment" not in str(typed.value) and f"not '{value}'" in str(typed.value)
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)


@pytest.mark.parametrize(
    "value, read",
    [("yes", True), ("OFF", False), ("1", True), ("false", False), ("null", "null"), ("[1]", "[1]"), ("", True)],
)
def test_environment_yes_and_no(monkeypatch: pytest.MonkeyPatch, value: str, read: bool) -> None:
    import importlib

    monkeypatch.setenv("PA_ROBOTSTXT_OBEY", value)
    try:
        obey = importlib.reload(project_settings).ROBOTSTXT_OBEY
        assert obey == read and type(obey) is type(read)  # what is not yes or no stays text, to be refused
        if isinstance(read, str):
            assert errors_with(ROBOTSTXT_OBEY=obey) == [
                f"ROBOTSTXT_OBEY must be true or false (or 1 or 0), not {read!r} (from the environment variable "
                "PA_ROBOTSTXT_OBEY)."
            ]
    finally:
        monkeypatch.undo()
        importlib.reload(project_settings)


def test_retry_after_max_is_a_number_of_seconds() -> None:
    assert errors_with(RETRY_AFTER_MAX="1h") == ["RETRY_AFTER_MAX must be a number of at least 0, not '1h'."]
    assert errors_with(RETRY_AFTER_MAX="120") == []
