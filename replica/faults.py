"""Faults the replica can be asked to show, each on its own URL (linked only when enabled).

=================  ==========================================  =====================================
fault              URL                                         behaviour
=================  ==========================================  =====================================
flaky500           /events/fault-flaky-500                     500 on the first request (per server),
                                                               then 200 with an article
slow               /events/fault-slow-response                 200 after ``slow_seconds`` (other
                                                               requests are not held up)
truncated          /events/fault-truncated-body                Content-Length of the whole page, only
                                                               half of it sent, connection closed
wrong_charset      /events/fault-wrong-charset                 a Russian page, body in UTF-8, the HTTP
                                                               header says ``charset=iso-8859-1`` and
                                                               there is no ``<meta charset>``
redirect_loop      /loop/a                                     302 -> /loop/b, 302 -> /loop/a, ...
offsite_redirect   /events/fault-offsite-redirect              302 -> http://example.invalid/events/moved
calendar_trap      /events?month=M&year=YYYY (newest month)    every month listing links the previous
                                                               month forever, before 2013-07-11 and
                                                               past year 0; a month with no news shows
                                                               the newest article pinned, never empty
=================  ==========================================  =====================================

All but ``calendar_trap`` are linked from listing page 1 (``section.announcements``, outside
``div.events__content``); the calendar trap from a ``div.calendar`` on listing page 1. Fault
pages are never listed among the news items nor in sitemap.xml.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

FAULTS = ("flaky500", "slow", "truncated", "wrong_charset", "redirect_loop", "offsite_redirect", "calendar_trap")

FAULT_PATHS = {
    "flaky500": "/events/fault-flaky-500",
    "slow": "/events/fault-slow-response",
    "truncated": "/events/fault-truncated-body",
    "wrong_charset": "/events/fault-wrong-charset",
    "redirect_loop": "/loop/a",
    "offsite_redirect": "/events/fault-offsite-redirect",
}
# Fault pages that serve an article, and which generated fault body each one uses.
FAULT_ARTICLES = {"flaky500": 0, "slow": 1, "truncated": 2, "wrong_charset": 3}
LOOP = {"/loop/a": "/loop/b", "/loop/b": "/loop/a"}
OFFSITE_LOCATION = "http://example.invalid/events/moved"
WRONG_CHARSET_DECLARED = "iso-8859-1"

LINK_TEXT = {
    "en": {
        "flaky500": "Plenary session materials",
        "slow": "Live broadcast of the session",
        "truncated": "Full text of the report",
        "wrong_charset": "Russian version of the statement",
        "redirect_loop": "Photo gallery",
        "offsite_redirect": "Partner news",
    },
    "ru": {
        "flaky500": "Материалы пленарного заседания",
        "slow": "Трансляция заседания",
        "truncated": "Полный текст доклада",
        "wrong_charset": "Текст заявления",
        "redirect_loop": "Фотогалерея",
        "offsite_redirect": "Новости партнеров",
    },
}


def parse_faults(spec: str | Iterable[str] | None) -> frozenset[str]:
    """Fault names from "slow,flaky500" or an iterable; unknown names raise ValueError."""
    if spec is None:
        return frozenset()
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    chosen = frozenset(name.strip() for name in names if name and name.strip())
    unknown = sorted(chosen - set(FAULTS))
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; choose from {', '.join(FAULTS)}")
    return chosen


class FirstTimeTracker:
    """Thread-safe: ``first(key)`` is True once per key (the flaky page's 500)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def first(self, key: str) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True
