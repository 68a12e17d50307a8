"""``headers.split_varying`` and the snapshots view that joins a set with its values: the view's Date, written
from the observation's time in SQL, must be the one ``http_date`` says the writer may leave out."""

from __future__ import annotations

import random
import sqlite3
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

from dedupe import schema
from dedupe.headers import Headers, http_date, split_varying


def _view_date(conn: sqlite3.Connection, observed_at: str) -> str | None:
    """The Date the snapshots view writes for an observation at ``observed_at`` (its expression, as shipped)."""
    view = schema.SNAPSHOTS_VIEW_DDL
    start = view.index("substr('SunMon")
    end = view.index("GMT', o.observed_at)") + len("GMT', o.observed_at)")
    return conn.execute("SELECT " + view[start:end].replace("o.observed_at", "?1"), [observed_at]).fetchone()[0]


def test_the_view_writes_the_date_http_date_gives_for_every_time() -> None:
    """1990-2100, leap days and the ends of days included: the SQL expression and ``http_date`` agree."""
    conn = sqlite3.connect(":memory:")
    rng = random.Random(39)
    start = datetime(1990, 1, 1, tzinfo=timezone.utc)
    times = [start + timedelta(seconds=rng.randrange(110 * 365 * 86400)) for _ in range(3000)]
    times += [datetime(2024, 2, 29, 23, 59, 59, tzinfo=timezone.utc), datetime(2100, 12, 31, tzinfo=timezone.utc)]
    for when in times:
        observed = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert http_date(observed) == format_datetime(when, usegmt=True) == _view_date(conn, observed)


def test_http_date_only_for_the_archives_own_form_of_time() -> None:
    """Any other form (fractions, offsets, other digits) gives None: its Date is kept as the server sent it."""
    for other in (
        "2024-06-04T10:00:00.5Z",
        "2024-06-04T10:00:00+00:00",
        "2024-06-04 10:00:00",
        "",
        "٢٠٢٤-06-04T10:00:00Z",
    ):
        assert http_date(other) is None
    assert http_date("2024-02-30T10:00:00Z") is None  # no such day


def test_split_keeps_the_order_and_leaves_out_what_the_row_holds() -> None:
    headers = Headers(
        [("Date", "Tue, 04 Jun 2024 10:00:00 GMT"), ("ETag", '"x"'), ("Server", "nginx"), ("Content-Length", "9")]
    )
    split = split_varying(headers, "2024-06-04T10:00:00Z")
    assert split.set_json == '{"Date":null,"ETag":null,"Server":"nginx","Content-Length":null}'
    assert split.varying_json == '{"Content-Length":"9"}'  # the Date is the observation's time; ETag its column's
    assert (split.etag_key, split.modified_key, split.date_key) == ("ETag", "Last-Modified", "Date")
    assert split_varying(headers, "2024-06-04T10:00:01Z").varying_json == (
        '{"Date":"Tue, 04 Jun 2024 10:00:00 GMT","Content-Length":"9"}'
    )
    assert split_varying(Headers([("Bad Name", "v")])) is None  # not an HTTP token: kept whole
    assert split_varying(Headers()) is None
