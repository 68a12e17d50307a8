"""The revisit policy (``crawler.revisit``): durations, what is due, what is revisited and in what order."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from crawler.revisit import RevisitPolicy, parse_duration, parse_time
from tests.support.crawl import BASE
from tests.support.revisit import NOW, WEEK, ago, seen


@pytest.mark.parametrize(
    "value, seconds",
    [
        ("0", 0),
        (0, 0),
        ("7d", WEEK),
        ("12h", 43200),
        ("90m", 5400),
        ("45s", 45),
        ("2w", 2 * WEEK),
        ("1d12h", 129600),
        (" 1D 6H ", 108000),
        ("1.5h", 5400),
        ("3600", 3600),
        (86400.0, 86400),
    ],
)
def test_revisit_after_is_a_duration_or_seconds(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "soon", "7x", "d", "-1", "-1d", "7d later", "nan", "inf", True])
def test_revisit_after_refuses_what_is_not_a_duration(value: object) -> None:
    with pytest.raises(ValueError, match="REVISIT_AFTER must be a"):
        parse_duration(value)


def test_durations_and_times_read_back() -> None:
    assert parse_time("2025-10-20T09:00:00Z") == datetime(2025, 10, 20, 9, tzinfo=timezone.utc)
    assert parse_time("2025-10-20T11:00:00+02:00") == datetime(2025, 10, 20, 9, tzinfo=timezone.utc)
    assert parse_time("2025-10-20") == datetime(2025, 10, 20, 23, 59, 59, tzinfo=timezone.utc)  # the day's end
    assert parse_time("") is None and parse_time("last tuesday") is None and parse_time(None) is None


def test_an_archived_page_is_due_once_its_last_observation_is_older_than_revisit_after() -> None:
    records = {
        "fresh": seen(ago(days=1)),
        "old": seen(ago(days=8)),
        "almost": seen(ago(days=7, minutes=-30)),
        "early": seen(ago(days=7, hours=-2)),
        "failed": seen(ago(hours=1), failed_last=True),
        "never_ok": seen(None, failed_last=True),
        "listing": seen(ago(minutes=5), "listing"),
    }
    policy = RevisitPolicy(WEEK, records, NOW, reread=frozenset({"listing"}))
    assert policy.grace_seconds == 3600  # a daily run starting up to an hour early still counts the week
    assert {url: policy.due(url) for url in records} == {
        "fresh": False,
        "old": True,
        "almost": True,
        "early": False,
        "failed": True,
        "never_ok": True,
        "listing": True,
    }  # stored by the interrupted run being resumed: read again
    assert policy.due("never-seen") and not policy.known("never-seen") and not policy.known("never_ok")
    assert policy.known("fresh") and policy.known("failed")
    everything = RevisitPolicy(0, records, NOW)
    assert all(everything.due(url) for url in records) and everything.grace_seconds == 0
    assert RevisitPolicy(3600, records, NOW).grace_seconds == 150  # a 24th of a short interval


def test_a_removed_page_is_not_revisited_but_is_requested_if_the_site_links_it_again() -> None:
    policy = RevisitPolicy(WEEK, {"gone": seen(ago(days=30), status=404)}, NOW)
    assert policy.due("gone") and list(policy.revisits()) == []  # its history is kept; no need to ask again
    recent = RevisitPolicy(WEEK, {"gone": seen(ago(days=1), status=410)}, NOW)
    assert not recent.due("gone") and recent.wanted("gone")


def test_revisits_are_the_due_article_and_country_pages_and_failed_pages_oldest_first() -> None:
    records = {
        f"{BASE}/events/a": seen(ago(days=9)),
        f"{BASE}/events/b": seen(ago(days=30)),
        f"{BASE}/events/c": seen(ago(days=2)),
        f"{BASE}/countries/x": seen(ago(days=8), "country"),
        f"{BASE}/events/gone": seen(ago(days=40), status=404),
        f"{BASE}/events?page=4": seen(ago(days=1), "listing", failed_last=True),
        f"{BASE}/events?page=5": seen(ago(days=10), "listing"),  # due, but reached by the walk, not directly
        f"{BASE}/events/timed-out": seen(None, failed_last=True),
    }
    policy = RevisitPolicy(WEEK, records, NOW)
    assert [url.removeprefix(BASE) for url, _ in policy.revisits()] == [
        "/events/timed-out",
        "/events/b",
        "/events/a",
        "/countries/x",
        "/events?page=4",
    ]
    assert policy.summary() == {"revisit_after_seconds": WEEK, "archived_pages": 8, "due_at_start": 4}
