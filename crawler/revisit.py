"""The revisit policy: which pages a scheduled run requests again, from what the archive has seen.

A first crawl fetches everything. After that, a run requests:

* the start pages (``/events``, listing page 1) always, conditionally: they show new articles
  and carry the delegation block, so a change of the block is observed on every run;
* the next listing page only while the one before listed an article the archive does not
  have, or when that next page is itself *due* (see below): the listing is read down to the
  first page whose articles are all archived;
* a page it has never archived (new on a listing, in the sitemap, or linked), and one whose
  last attempt failed;
* an archived page once it is *due*: its last observation is older than ``REVISIT_AFTER``
  (``7d`` by default), so a page edited or removed on the site is seen within that time;
* an archived page whose sitemap ``<lastmod>`` is later than its last observation.

``REVISIT_AFTER = 0`` makes every archived page due on every run (what the crawler did before
this policy: every listing page, every article, every run). The age is measured from the
run's start with a little grace (``grace_seconds``), so that a daily run that starts a few
minutes earlier than the one a week before still counts the week as passed.

``RevisitPolicy`` holds no Scrapy object: the spider asks it questions, and ``crawler.runs``
builds it from the archive (``CrawlRun.revisit_policy``). Without an archive (the bare spider,
the unit tests) it knows no page, so everything is requested, as on a first crawl.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from dedupe.document import REMOVED_STATUSES

DEFAULT_REVISIT_AFTER = "7d"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])", re.IGNORECASE)
MAX_GRACE = 3600.0  # seconds: at most an hour early still counts as due


def parse_duration(value: Any, name: str = "REVISIT_AFTER") -> float:
    """Seconds of a duration: a number of seconds (``86400``, ``"0"``) or units (``"7d"``, ``"12h"``,
    ``"1d12h"``, ``"90m"``, ``"2w"``); ValueError naming the setting and the accepted forms."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a duration such as 7d, 12h, 30m or a number of seconds, not {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        try:
            seconds = float(text)
        except ValueError:
            parts = _DURATION.findall(text)
            if not text or not parts or "".join(f"{n}{u}" for n, u in parts) != text:
                raise ValueError(
                    f"{name} must be a duration such as 7d, 12h, 30m or a number of seconds, not {str(value)!r}"
                ) from None
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not 0 <= seconds < float("inf"):  # negative, NaN or infinite
        raise ValueError(f"{name} must be a finite duration of at least 0 seconds, not {str(value)!r}")
    return seconds


def parse_time(value: Any) -> datetime | None:
    """A UTC datetime from the archive's ISO 8601 (``2025-10-20T09:00:00Z``) or a sitemap's W3C
    datetime; a bare date (``2025-10-20``) is the *end* of that day (a page changed that day may
    have changed after it was seen). None when unreadable."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
            return day + timedelta(days=1) - timedelta(seconds=1)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class PageRecord:
    """What the archive knows of one URL's crawl history."""

    seen_at: datetime | None  # newest observation that was not a failure (200, 304, 404...), None if none
    http_status: int | None = None  # of that observation
    page_type: str | None = None
    failed_last: bool = False  # the newest observation of all was a failure
    status: str | None = None  # that observation's outcome as the archive stored it ('removed', 'new', ...)

    @property
    def removed(self) -> bool:
        """The page was last seen gone: the archive's verdict (``dedupe.pages.says_removed``: a 404/410, or an
        article's permanent redirect away), or, for a record that does not carry it, a 404/410."""
        if self.status is not None:
            return self.status == "removed"
        return self.http_status in REMOVED_STATUSES


@dataclass
class RevisitPolicy:
    """Answers "should this run request that URL?" from the archive's page records."""

    revisit_after: float = 0.0  # seconds; 0 = every archived page is due on every run
    records: Mapping[str, PageRecord] = field(default_factory=dict)
    now: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    reread: frozenset[str] = frozenset()  # stored by the interrupted run this one resumes: read again
    use_lastmod: bool = True

    @property
    def grace_seconds(self) -> float:
        """How much younger than ``revisit_after`` a page may be and still be due: a run that starts
        a little earlier than the one before (cron, a timer's random delay) keeps its rhythm."""
        return min(MAX_GRACE, self.revisit_after / 24)

    @property
    def cutoff(self) -> datetime:
        """Pages last seen before this moment are due."""
        return self.now - timedelta(seconds=max(0.0, self.revisit_after - self.grace_seconds))

    def known(self, url: str) -> bool:
        """The archive has an observation of the URL that was not a failure."""
        record = self.records.get(url)
        return record is not None and record.seen_at is not None

    def due(self, url: str) -> bool:
        """Worth requesting whatever else is known: never seen, failed last time, or seen too long ago."""
        if self.revisit_after <= 0 or url in self.reread:
            return True
        record = self.records.get(url)
        if record is None or record.seen_at is None or record.failed_last:
            return True
        return record.seen_at <= self.cutoff

    def wanted(self, url: str) -> bool:
        """A page linked from a page of this run (or named by the sitemap): request it?

        Yes when due, and when the archive last saw it removed (a page the site links again)."""
        record = self.records.get(url)
        return self.due(url) or (record is not None and record.removed)

    def changed_since_seen(self, url: str, lastmod: Any) -> bool:
        """A sitemap's ``<lastmod>`` later than the URL's last observation (a known page changed)."""
        if not self.use_lastmod:
            return False
        record = self.records.get(url)
        moment = parse_time(lastmod)
        return moment is not None and record is not None and record.seen_at is not None and moment > record.seen_at

    def revisits(self, page_types: Iterable[str] = ("article", "country")) -> Iterator[tuple[str, str | None]]:
        """Archived pages to request at the start of the run, oldest observation first: the due
        article and country pages (not those last seen removed), and any page whose last attempt
        failed (listing pages included: a listing page that failed is read again directly)."""
        kinds = set(page_types)
        chosen = []
        for url, record in self.records.items():
            failed_again = record.failed_last and (record.page_type in kinds or record.page_type == "listing")
            if failed_again or (record.page_type in kinds and not record.removed and self.due(url)):
                chosen.append((record.seen_at, url, record.page_type))
        oldest = datetime.min.replace(tzinfo=timezone.utc)
        for _, url, page_type in sorted(chosen, key=lambda c: (c[0] or oldest, c[1])):
            yield url, page_type

    def summary(self) -> dict[str, Any]:
        """For the run's statistics: the policy and how much of the archive it made due."""
        due = sum(
            1
            for url, r in self.records.items()
            if r.page_type in ("article", "country") and not r.removed and self.due(url)
        )
        return {"revisit_after_seconds": self.revisit_after, "archived_pages": len(self.records), "due_at_start": due}
