"""The archive's one timestamp: UTC, to the second, zero-padded ISO 8601, from 1991 to tomorrow.

Every time that enters the archive goes through ``to_iso`` (a ``datetime``) or ``parse`` (text or
epoch seconds): a crawl's clock, a file's mtime, a JSON Lines ``observed_at``, ``--observed-at``, a
WARC-Date, a CDX timestamp. Every date a person types on the command line (``--as-of``,
``--since``, ``--until``, ``--from``, ``--to``, ``--observed-at``) goes through ``parse_bound``,
so one form is accepted everywhere and one sentence refuses the rest.

Why a range: the archive orders observations by this text, and a year before 1991 (there was no
web) or after tomorrow (a clock or a forged record) would stay the URL's latest observation for
good; ``strftime("%Y")`` did not pad year 1, so ``1-01-01T00:00:00Z`` sorted after every real time.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

EARLIEST = datetime(1991, 1, 1, tzinfo=timezone.utc)  # the web's first year
FORMS = "YYYY, YYYY-MM, YYYY-MM-DD, an ISO 8601 time (2024-05-01T10:00:00Z) or a 14-digit timestamp (20240501100000)"
_DIGITS = re.compile(r"\d{4}(\d{2}){0,5}")  # YYYY[MM[DD[hh[mm[ss]]]]], as WARC and CDX write them
_YEAR_MONTH = re.compile(r"(\d{4})(?:-(\d{2}))?")


class TimestampError(ValueError):
    """A time the archive cannot keep or a date it cannot read, as one sentence."""


def latest() -> datetime:
    """The latest time accepted: now plus a day (clocks and time zones differ, a day absorbs both)."""
    return datetime.now(timezone.utc) + timedelta(days=1)


def _refusal(value: object, what: str) -> TimestampError:
    shown = str(value)[:40]
    return TimestampError(
        f"{what} {shown!r} is not a date and time from {EARLIEST:%Y-%m-%d} to {latest():%Y-%m-%d} (give {FORMS})"
    )


def to_iso(moment: datetime, what: str = "the time") -> str:
    """``moment`` (naive means UTC) as ``YYYY-MM-DDThh:mm:ssZ``; TimestampError outside 1991..tomorrow."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        moment = moment.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        raise _refusal(moment.isoformat(), what) from None
    if not EARLIEST <= moment <= latest():
        raise _refusal(moment.isoformat(), what)
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z"
    )


def _moment(value: object, end: bool) -> datetime:
    """The datetime ``value`` names: the start of the period it names, or with ``end`` its last second."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("empty")
    text = value.strip()
    if _DIGITS.fullmatch(text):  # 2024, 202405, 20240501, ... 20240501100000
        parts = [int(text[0:4])] + [int(text[i : i + 2]) for i in range(4, len(text), 2)]
        return _period(parts, end)
    match = _YEAR_MONTH.fullmatch(text)
    if match:  # 2024, 2024-05
        return _period([int(g) for g in match.groups() if g is not None], end)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return _period([int(p) for p in text.split("-")], end)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _period(parts: list[int], end: bool) -> datetime:
    """YYYY[, MM[, DD[, hh[, mm[, ss]]]]] as the first or the last second of the period they name."""
    year, month, day, hour, minute, second = (parts + [1, 1, 0, 0, 0][len(parts) - 1 :])[:6]
    start = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc)
    if not end or len(parts) == 6:
        return start
    if len(parts) == 1:
        after = start.replace(year=year + 1)
    elif len(parts) == 2:
        after = start.replace(year=year + 1, month=1) if month == 12 else start.replace(month=month + 1)
    else:
        after = start + (timedelta(days=1), timedelta(hours=1), timedelta(minutes=1))[len(parts) - 3]
    return after - timedelta(seconds=1)


def parse(value: object, what: str = "the time") -> str:
    """A time given as text (ISO 8601 at any precision, or 4 to 14 digits as in WARC and CDX) or epoch
    seconds, as the archive's ISO string; TimestampError (one sentence) for anything else."""
    try:
        return to_iso(_moment(value, end=False), what)
    except (OverflowError, OSError, ValueError):  # TimestampError included: quote what was given
        raise _refusal(value, what) from None


def parse_bound(value: str, option: str, end: bool) -> str:
    """A date option of the command line: the first second of the period it names (``--since``, ``--from``)
    or, with ``end``, its last (``--as-of``, ``--until``, ``--to``: "2024-05" means up to the end of May)."""
    try:  # a refusal quotes what was typed ('0001-01-01'), not the moment it was read as
        return to_iso(_moment(value, end), option)
    except (OverflowError, OSError, ValueError):  # TimestampError included: out of range
        raise _refusal(value, option) from None


def digits14(iso: str) -> str:
    """``2024-05-01T10:00:00Z`` as ``20240501100000`` (the form of CDX servers' ``from`` and ``to``)."""
    return re.sub(r"\D", "", iso)[:14]
