"""The revisit policy's knowledge, made by hand: a fixed now and what the archive saw of each URL when."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from crawler.revisit import PageRecord

NOW = datetime(2026, 11, 23, 3, 17, tzinfo=timezone.utc)
WEEK = 7 * 86400


def ago(**delta: float) -> datetime:
    """A moment that long before NOW."""
    return NOW - timedelta(**delta)


def seen(when: datetime | None, kind: str = "article", status: int = 200, failed_last: bool = False) -> PageRecord:
    """What the archive knows of a URL: seen at ``when`` (None: never with success), and how."""
    return PageRecord(seen_at=when, http_status=status, page_type=kind, failed_last=failed_last)
