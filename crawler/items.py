"""What the spider yields: one observation of a page, or one page that could not be observed."""

from __future__ import annotations

from dataclasses import dataclass, field

from dedupe.document import RawSnapshot


@dataclass
class PageSnapshot:
    """One HTTP answer for one page, as the archive will store it.

    ``body`` is the raw bytes (None for a 304, whose content is the URL's last stored one, and
    for a 404/410, which records that the page was removed).
    """

    url: str
    observed_at: str  # ISO 8601 UTC, to the second (dedupe.sources.utc_iso)
    http_status: int
    body: bytes | None
    headers: dict[str, str] = field(default_factory=dict)
    declared_charset: str | None = None  # from the Content-Type header
    page_type: str | None = None  # 'article', 'listing', 'country' or None

    def to_raw(self, origin: str) -> RawSnapshot:
        """The archive's input record (the same type `pa-archive import` produces)."""
        return RawSnapshot(
            url=self.url,
            observed_at=self.observed_at,
            body=self.body,
            source="crawl",
            origin=origin,
            http_status=self.http_status,
            headers=dict(self.headers),
            declared_charset=self.declared_charset,
            page_type=self.page_type,
        )


@dataclass
class PageFailure:
    """A page that could not be fetched (after retries), and why, in one sentence.

    The archive records it as an observation without content (status 'error'), so the URL's
    history shows the failure; the sentence goes to the run's error list.
    """

    url: str
    error: str
    page_type: str | None = None
    observed_at: str | None = None
    http_status: int | None = None  # the last HTTP status, when there was an answer

    def to_raw(self, origin: str) -> RawSnapshot:
        return RawSnapshot(
            url=self.url,
            observed_at=self.observed_at or "",
            body=None,
            source="crawl",
            origin=origin,
            http_status=self.http_status,
            page_type=self.page_type,
        )
