"""HTTP headers as one case-insensitive mapping that keeps each name as it was written.

Why: HTTP names are case-insensitive (RFC 9110), and the tools that write web archives do not
agree on a spelling: browser-based capture (ArchiveWeb.page, Browsertrix) and HTTP/2 write
``content-type``, Heritrix and wget ``Content-Type``. Every reader of headers (the WARC reader,
backfill, export, the store) looks names up through this type, so no page is skipped as "not
HTML" for a lowercase name; the stored JSON keeps the spelling the source used.

``Headers`` is a ``dict`` (so ``json.dumps`` and every caller that expects a dict keep working),
keyed by the names as written, with lookups that ignore case. Repeated names are joined with
", " (RFC 9110's list form) under the first spelling seen.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any, NamedTuple


class Headers(dict):
    """A dict of header name -> value whose lookups ignore the name's case."""

    def __init__(self, items: Mapping[str, str] | Iterable[tuple[str, str]] | None = None) -> None:
        super().__init__()
        self._names: dict[str, str] = {}  # lowercased name -> the name as first written
        pairs = items.items() if isinstance(items, Mapping) else (items or ())
        for name, value in pairs:
            self.add(str(name), str(value))

    def add(self, name: str, value: str) -> None:
        """Append a value (a repeated name joins the earlier value with ', ')."""
        key = self._names.get(name.lower())
        if key is None:
            self._names[name.lower()] = name
            super().__setitem__(name, value)
        else:
            super().__setitem__(key, f"{super().__getitem__(key)}, {value}")

    def _key(self, name: object) -> object:
        return self._names.get(name.lower(), name) if isinstance(name, str) else name

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(self._key(name))

    def __setitem__(self, name: str, value: str) -> None:
        key = self._names.setdefault(name.lower(), name)
        super().__setitem__(key, value)

    def __delitem__(self, name: str) -> None:
        key = self._key(name)
        super().__delitem__(key)
        del self._names[name.lower()]

    def __contains__(self, name: object) -> bool:
        return super().__contains__(self._key(name))

    def get(self, name: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(self._key(name), default)

    def pop(self, name: str, *default: Any) -> Any:  # type: ignore[override]
        key = self._key(name)
        if super().__contains__(key):
            self._names.pop(name.lower(), None)
        return super().pop(key, *default)

    def __reduce__(self) -> tuple:  # pickled (to worker processes) as its pairs, rebuilt by __init__
        return (Headers, (list(self.items()),))

    def copy(self) -> Headers:  # type: ignore[override]
        return Headers(self.items())

    def without(self, names: Iterable[str]) -> Headers:
        """A copy without the given names (any case)."""
        drop = {n.lower() for n in names}
        return Headers((k, v) for k, v in self.items() if k.lower() not in drop)


def content_type(headers: Mapping[str, str]) -> tuple[str, str | None]:
    """(media type lowercased, charset as written or None) of a Content-Type header."""
    value = (headers if isinstance(headers, Headers) else Headers(headers)).get("Content-Type") or ""
    return media_type(value), charset_of(value)


def media_type(value: str) -> str:
    """``text/html`` of ``text/html; charset=UTF-8``."""
    return value.split(";")[0].strip().lower()


def charset_of(value: str) -> str | None:
    """The charset parameter of a Content-Type value (quotes removed), else None."""
    for part in value.split(";")[1:]:
        key, _, found = part.partition("=")
        if key.strip().lower() == "charset" and found.strip().strip("\"'"):
            return found.strip().strip("\"'")
    return None


# Response headers whose value changes from one response to the next of the same server (a time, a length, a
# validator, a request's id): an archive keeps them with each observation and the rest of a response's headers
# once, as a set (``schema.HEADER_SETS_DDL``). A header not listed only makes more sets, never a wrong record.
VARYING_HEADERS = frozenset(
    {
        "date",
        "content-length",
        "etag",
        "last-modified",
        "expires",
        "age",
        "x-request-id",
        "x-runtime",
        "cf-ray",
        "x-varnish",
        "x-timer",
        "x-amz-request-id",
        "x-amz-cf-id",
    }
)
# the two varying headers an observation keeps in their own columns (etag, last_modified): not stored twice
COLUMN_HEADERS = ("etag", "last-modified")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110's token: what a header's name is
# the form the archive stores times in (ASCII digits: SQLite's date functions read no others)
_OBSERVED_AT = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z")


class HeaderSplit(NamedTuple):
    """One response's headers as stored: its set (JSON, the varying values null), the varying values but
    ETag, Last-Modified and a Date that is the observation's time (JSON, None if none), and the set's
    spellings of those three names."""

    set_json: str
    varying_json: str | None
    etag_key: str
    modified_key: str
    date_key: str

    @property
    def digest(self) -> bytes:
        """The set's key in ``header_sets``: 16 bytes of the SHA-256 of its JSON, so that a server that sends a
        new set with every answer (a per-request header this module does not know) costs its JSON once, not
        again in a unique index of the text."""
        return hashlib.sha256(self.set_json.encode("utf-8")).digest()[:16]


def http_date(observed_at: str | None) -> str | None:
    """The IMF-fixdate (RFC 9110) of an observation time ``2024-06-04T10:00:00Z``: what the server's Date says
    when its clock and the crawler's agree to the second. The snapshots view computes the same in SQL
    (``schema.SNAPSHOTS_VIEW_DDL``); None for any other form of time, whose Date is then stored."""
    found = _OBSERVED_AT.fullmatch(observed_at or "")
    if found is None:
        return None
    try:
        when = datetime(*map(int, found.groups()), tzinfo=timezone.utc)
    except ValueError:  # no such day or time
        return None
    return format_datetime(when, usegmt=True)


def split_varying(headers: Mapping[str, str], observed_at: str | None = None) -> HeaderSplit | None:
    """``headers`` as a set shared by the responses that differ only in ``VARYING_HEADERS``, and what varies.

    A Date equal to ``http_date(observed_at)`` is not stored: the view writes it from the observation's time.
    None when a name is not an HTTP token (a hostile or broken archive): such headers are stored whole, since
    the view that joins a set with its values addresses a name in a JSON path. Once a crawled observation: the
    names as written (``Headers`` is a dict of them) are read in one pass."""
    shared: dict[str, str | None] = {}
    varying: dict[str, str] = {}
    spelled: dict[str, str] = {}
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            return None
        lowered = name.lower()
        spelled[lowered] = name
        if lowered not in VARYING_HEADERS:
            shared[name] = value
            continue
        shared[name] = None
        if lowered not in COLUMN_HEADERS and not (lowered == "date" and value == http_date(observed_at)):
            varying[name] = value
    if not shared:
        return None
    return HeaderSplit(
        json.dumps(shared, ensure_ascii=False, separators=(",", ":")),
        json.dumps(varying, ensure_ascii=False, separators=(",", ":")) if varying else None,
        spelled.get("etag", "ETag"),
        spelled.get("last-modified", "Last-Modified"),
        spelled.get("date", "Date"),
    )
