"""What the spider yields besides ``dedupe.document.RawSnapshot`` (one observation of a page, the record
``import`` makes too, stored as it is): one page that could not be observed."""

from __future__ import annotations

from dataclasses import dataclass

from dedupe.document import RawSnapshot


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
