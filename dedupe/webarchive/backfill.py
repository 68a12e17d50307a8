"""Backfill the archive from a web archive: any CDX server that speaks the Wayback Machine's API.

Why: the history analysts ask about (when did the Kyrgyz seat count change, and back?) is
older than the first crawl; the Wayback Machine and other web archives hold it. A capture is
listed by the CDX API (``output=json``, ``fl``, ``filter=statuscode:200``, ``collapse=digest``,
``from``/``to``, ``limit`` with ``showResumeKey``/``resumeKey``), fetched in its original form
(the ``id_`` replay URL) and ingested like a crawled page, dated by the capture's timestamp.

Polite and resumable: one request at a time, ``delay`` seconds apart (1 s by default for
web.archive.org), retries with exponential backoff on 429, 5xx and network errors (honouring
Retry-After), and a capture already archived (same URL and capture time from a backfill) is
never fetched again, so an interrupted backfill picks up where it stopped.

Replay URLs: a CDX API at ``<base>/cdx/search/cdx`` replays at ``<base>/web/<ts>id_/<url>``
(the Wayback Machine), one at ``<base>/<coll>/cdx`` at ``<base>/<coll>/<ts>id_/<url>`` (pywb).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..document import PRIVATE_HEADERS, WIRE_HEADERS, RawSnapshot
from ..headers import Headers, charset_of
from ..pages import page_kind
from ..sources import SourceError, check_url
from . import history
from .polite_http import Client
from .warc_records import HTML_TYPES
from .warc_stream import warc_date

FIELDS = ("timestamp", "original", "mimetype", "statuscode", "digest")
PYWB_FIELDS = ("timestamp", "url", "mime", "status", "digest")  # pywb's names for the same fields
RECORD_FIELDS = ("filename", "offset", "length")  # where a Common Crawl-layout index says each record is
FIELD_ALIASES = {"url": "original", "mime": "mimetype", "status": "statuscode"}  # pywb's JSON names
# The letters of a CDX legend line (archive.org's CDX file format) this reader uses, as the CDX API names them.
CDX_LETTERS = {
    "N": "urlkey",
    "A": "urlkey",
    "b": "timestamp",
    "a": "original",
    "m": "mimetype",
    "s": "statuscode",
    "k": "digest",
    "S": "length",
    "V": "offset",
    "g": "filename",
}
_CDX_LEGEND = re.compile(r"CDX(?: [A-Za-z])+")
# A record's offset and length: ASCII digits ('²' passes str.isdigit, then int() raised out of a backfill), 18 at most.
_BYTE_COUNT = re.compile(r"[0-9]{1,18} [0-9]{1,18}")
PAGE_SIZE = 5000
MAX_PAGES = 1000  # CDX pages per query: a bound, never reached by the site's few thousand URLs
BATCH = 10  # captures fetched, then stored in one ingest: a killed backfill loses at most this many fetches
MAX_CDX_BYTES = 50 * 2**20  # one CDX answer (5,000 rows are ~1 MB)
# headers of the replay, not of the capture (pywb and the Wayback Machine add them)
REPLAY_HEADERS = (
    WIRE_HEADERS
    | PRIVATE_HEADERS
    | {
        "memento-datetime",
        "link",
        "content-location",
        "date",
        "server",
        "x-archive-src",
        "x-archive-guessed-content-type",
        "x-archive-guessed-charset",
        "preference-applied",
        "cache-control",
        "x-ts",
        "x-location",
        "server-timing",
    }
)
REPLAY_TIMESTAMP = re.compile(r"/(\d{14})id_/")


class BackfillError(Exception):
    """The CDX server cannot be used (one sentence, for the user)."""


@dataclass(frozen=True)
class Capture:
    """One CDX row: a URL captured at a moment, with its payload digest."""

    timestamp: str
    original: str
    mimetype: str = ""
    statuscode: str = ""
    digest: str = ""
    # where the bytes are when not at a replay prefix: a WARC file's URL, offset and length (Common
    # Crawl's index), or a memento URI (a TimeMap)
    filename: str = ""
    offset: str = ""
    length: str = ""
    memento: str = ""

    def address(self, prefix: str) -> str:
        """Where this capture is fetched from (also its ``origin``): the memento, the WARC record, or the replay."""
        if self.memento:
            return self.memento
        if self.filename:
            return f"{prefix.rstrip('/')}/{self.filename.lstrip('/')}@{self.offset}"
        return replay_url(prefix, self)

    @property
    def is_page(self) -> bool:
        """HTML or text by its CDX mimetype (unknown counts as a page): images, CSS and scripts are never fetched."""
        mime = self.mimetype.split(";")[0].strip().lower()
        return mime in ("", "-", "unk", "warc/revisit") or mime in HTML_TYPES

    @property
    def year(self) -> str:
        return self.timestamp[:4]

    @property
    def observed_at(self) -> str | None:
        return warc_date(self.timestamp)


@dataclass
class YearSummary:
    """One year of a backfill: captures listed and what they brought."""

    year: str
    captures: int = 0
    not_html: int = 0
    archived_before: int = 0
    fetched: int = 0
    failed: int = 0
    new_contents: int = 0
    new_block_versions: int = 0
    conflicts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ----------------------------------------------------------------------------- addresses


def replay_prefix_for(cdx_api: str) -> str:
    """Where a CDX API's captures replay (see the module's doc); ValueError when not recognised."""
    parts = urllib.parse.urlsplit(cdx_api)
    path = parts.path.rstrip("/")
    if path.endswith("/cdx/search/cdx"):
        path = path[: -len("/cdx/search/cdx")] + "/web"
    elif path.endswith("/cdx"):
        path = path[: -len("/cdx")]
    else:
        raise ValueError(f"cannot tell where {cdx_api} replays its captures")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def replay_url(prefix: str, capture: Capture) -> str:
    """The capture's original bytes: ``<prefix>/<timestamp>id_/<url>``."""
    return f"{prefix.rstrip('/')}/{capture.timestamp}id_/{capture.original}"


def default_delay(cdx_api: str) -> float:
    """1 s between requests to web.archive.org (its own guidance), none elsewhere."""
    host = urllib.parse.urlsplit(cdx_api).hostname or ""
    return 1.0 if host == "archive.org" or host.endswith(".archive.org") else 0.0


# ----------------------------------------------------------------------------- the CDX API


def parse_cdx(body: bytes) -> tuple[list[dict[str, str]], str | None]:
    """Rows and the resume key of one CDX answer: the Wayback Machine's JSON, pywb's JSON lines, CDXJ or CDX text.

    The Wayback Machine answers one JSON array: a header row, the rows, then (with
    showResumeKey) an empty row and the key. pywb answers one JSON object a line. A CDXJ line (pywb's and Common
    Crawl's index files) is ``urlkey timestamp {json}``. A plain CDX line is ``urlkey timestamp original mimetype
    statuscode digest ...``, or the fields its legend line names (`` CDX N b a m s k r M S V g``). Anything else
    (valid JSON of another shape included) is a ValueError of one sentence."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return [], None
    try:
        if text.startswith("["):
            return _cdx_table(json.loads(text))
        if text.startswith("{"):
            return [_json_row(json.loads(line)) for line in text.splitlines() if line.strip()], None
        return _cdx_lines(text), None
    except RecursionError:
        raise ValueError("the CDX answer is nested too deeply") from None


def _json_row(record: object, **row: str) -> dict[str, str]:
    """One JSON object of a CDX answer (pywb's or a CDXJ line's) as a row, pywb's field names as the Wayback
    Machine's."""
    if not isinstance(record, dict):
        raise ValueError("a CDX JSON line is not an object")
    return {**row, **{FIELD_ALIASES.get(str(k), str(k)): _text(v) for k, v in record.items()}}


def _cdx_lines(text: str) -> list[dict[str, str]]:
    """CDXJ or CDX text lines as rows; a legend line (`` CDX N b a ...``) names the fields of the lines after it, and
    ipwb's ``!context``/``!meta`` lines are read past."""
    rows: list[dict[str, str]] = []
    names: tuple[str, ...] = ("urlkey", *FIELDS)
    for line in text.splitlines():
        fields, parts = line.split(maxsplit=2), line.split()
        if _CDX_LEGEND.fullmatch(line.strip()):
            names = tuple(CDX_LETTERS.get(letter, letter) for letter in parts[1:])
        elif line.startswith("!") or not parts:
            continue
        elif len(fields) == 3 and re.fullmatch(r"\d{4,14}", fields[1]) and fields[2].startswith("{"):
            rows.append(_json_row(json.loads(fields[2]), urlkey=fields[0], timestamp=fields[1]))
        elif _dated(parts, names.index("timestamp") if "timestamp" in names else 1):
            rows.append(dict(zip(names, parts)))
        else:
            raise ValueError("a CDX line has no timestamp and URL")
    return rows


def _dated(parts: list[str], at: int) -> bool:
    """Whether a CDX line's fields have a timestamp at ``at`` (and a URL beside it)."""
    return len(parts) >= 3 and len(parts) > at and bool(re.fullmatch(r"\d{4,14}", parts[at]))


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, (list, dict)) else str(value)


def _cdx_table(table: object) -> tuple[list[dict[str, str]], str | None]:
    if not isinstance(table, list):
        raise ValueError("the CDX answer is not a table")
    if not table:
        return [], None
    header = table[0]
    if not isinstance(header, list) or not all(isinstance(name, str) for name in header):
        raise ValueError("the CDX answer's first row is not a list of field names")
    rows: list[dict[str, str]] = []
    resume = None
    for index, row in enumerate(table[1:], start=1):
        if not isinstance(row, list):
            raise ValueError("a CDX row is not a list")
        if not row:  # the resume key follows the empty row
            rest = table[index + 1 :]
            key = rest[0][0] if rest and isinstance(rest[0], list) and rest[0] else None
            resume = key if isinstance(key, str) and key else None
            break
        rows.append({FIELD_ALIASES.get(k, k): _text(v) for k, v in zip(header, row)})
    return rows, resume


def matches(pattern: str, url: str) -> bool:
    """Whether ``url`` is what a CDX query for ``pattern`` asked for: an http(s) URL on the pattern's host
    (``www.`` or not, any port), equal to it, or starting with it when the pattern ends in ``*``."""
    wanted, found = _comparable(pattern.rstrip("*")), _comparable(url)
    if wanted is None or found is None or found[0] != wanted[0]:
        return False
    if pattern.endswith("*"):
        return found[1].startswith(wanted[1])
    return found[1].rstrip("/") == wanted[1].rstrip("/")


def _comparable(url: str) -> tuple[str, str] | None:
    """(host without www., path?query) of an http(s) URL or a scheme-less pattern; None for anything else."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urllib.parse.urlsplit(text)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    return host.removeprefix("www."), (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def list_captures(
    client: Client,
    cdx_api: str,
    pattern: str,
    since: str = "",
    until: str = "",
    page_size: int = PAGE_SIZE,
    records: bool = False,
) -> Iterator[Capture]:
    """Every 200 capture of ``pattern`` (a URL, or a prefix ending in ``*``), a digest's repeats collapsed.

    Pages follow ``resumeKey`` when the server gives one; a server without it (pywb) answers a
    query whole, so a full page without a key is taken as complete."""
    params = _cdx_params(cdx_api, pattern, since, until, page_size, records)
    last: dict[str, str] = {}  # URL -> digest of its previous capture (collapse=digest, client side too)
    for _ in range(MAX_PAGES):
        rows, resume = _cdx_page(client, cdx_api, params)
        if rows and "original" not in rows[0] and "fl" in params:
            del params["fl"]  # a server that names the fields otherwise: ask for all of them instead
            continue
        yield from _new_captures(rows, pattern, records, last)
        if not resume:
            return
        params["resumeKey"] = resume
    raise BackfillError(f"more than {MAX_PAGES} pages of captures: narrow the pattern or the dates")


def _cdx_params(cdx_api: str, pattern: str, since: str, until: str, page_size: int, records: bool) -> dict[str, str]:
    """The first page's query: the Wayback Machine and pywb name the same fields differently."""
    wayback = urllib.parse.urlsplit(cdx_api).path.rstrip("/").endswith("/cdx/search/cdx")
    params: dict[str, str] = {
        "url": pattern,
        "output": "json",
        "fl": ",".join((FIELDS if wayback else PYWB_FIELDS) + (RECORD_FIELDS if records else ())),
        "filter": "statuscode:200",
        "collapse": "digest",
        "limit": str(page_size),
        "showResumeKey": "true",
    }
    if since:
        params["from"] = since
    if until:
        params["to"] = until
    return params


def _cdx_page(client: Client, cdx_api: str, params: dict[str, str]) -> tuple[list[dict[str, str]], str | None]:
    """One page of rows and its resume key; a failed or unreadable answer is a BackfillError of one sentence."""
    url = f"{cdx_api}?{urllib.parse.urlencode(params)}"
    try:
        _, _, body, _ = client.get(url, MAX_CDX_BYTES)
        return parse_cdx(body)
    except OSError as exc:
        raise BackfillError(f"the CDX server failed: {exc}") from None
    except ValueError as exc:
        raise BackfillError(f"the CDX server at {cdx_api} did not answer CDX ({exc}).") from None


def _new_captures(rows: list[dict[str, str]], pattern: str, records: bool, last: dict[str, str]) -> Iterator[Capture]:
    """The usable 200 captures of a page of rows, a URL's capture with its previous one's digest left out."""
    fields = FIELDS + (RECORD_FIELDS if records else ())
    for row in rows:
        if row.get("statuscode", "200") not in ("200", "-", ""):
            continue
        capture = Capture(**{name: row.get(name, "") for name in fields})
        if not _usable(capture, pattern, records) or last.get(capture.original) == capture.digest != "":
            continue
        last[capture.original] = capture.digest
        yield capture


def _usable(capture: Capture, pattern: str, records: bool) -> bool:
    """Whether a capture can be fetched and dated, and is what the query asked for."""
    if records and not (capture.filename and _BYTE_COUNT.fullmatch(capture.offset + " " + capture.length)):
        return False  # a Common Crawl-layout row must say where its WARC record is, in numbers int() reads
    if not re.fullmatch(r"\d{4,14}", capture.timestamp) or capture.observed_at is None:
        return False  # no usable time: a capture is dated by its timestamp
    return matches(pattern, capture.original)  # never store what the query did not ask for (another host ...)


def timemap_captures(client: Client, timemap_base: str, pattern: str) -> list[Capture]:
    """The mementos a Memento TimeMap lists for ``pattern`` (a URL), as captures of that URL."""
    try:
        mementos = history.timemap_mementos(client, timemap_base, pattern.rstrip("*"))
    except OSError as exc:
        raise BackfillError(f"the TimeMap server failed: {exc}") from None
    except ValueError as exc:
        raise BackfillError(str(exc)) from None
    return [
        Capture(timestamp=stamp, original=original, memento=memento)
        for original, stamp, memento in mementos
        if matches(pattern, original) or matches(pattern.rstrip("*"), original)
    ]


# ----------------------------------------------------------------------------- fetching and ingesting


def archived_captures(archive) -> set[tuple[str, str]]:
    """(URL, observed_at) of every capture a backfill already stored, and ("", replay URL) of each (a replay
    that redirected to a nearby capture is stored under that capture's time): never fetched again."""
    rows = archive.query("SELECT DISTINCT url, observed_at, origin FROM snapshots WHERE source = 'backfill'")
    return {(r["url"], r["observed_at"]) for r in rows} | {("", r["origin"]) for r in rows if r["origin"]}


def capture_key(capture: Capture) -> tuple[str, str] | None:
    try:
        return check_url(capture.original), capture.observed_at or ""
    except ValueError:
        return None


def fetch_capture(client: Client, prefix: str, capture: Capture) -> RawSnapshot | SourceError:
    """The capture's original bytes as an observation dated by its timestamp."""
    address = capture.address(prefix)
    try:
        url = check_url(capture.original)
    except ValueError as exc:
        return SourceError(address, str(exc))
    if capture.filename:
        return history.fetch_warc_record(client, prefix, capture, url)
    try:
        status, headers, body, final = client.get(address)
    except OSError as exc:
        return SourceError(address, str(exc))
    kept = original_headers(headers)
    moved = REPLAY_TIMESTAMP.search(final)
    observed = warc_date(moved.group(1)) if moved else capture.observed_at
    if not observed:  # never an empty or out-of-range observed_at (dedupe.timestamps)
        return SourceError(address, f"capture timestamp {capture.timestamp[:20]!r} is not a date from 1991 to tomorrow")
    return RawSnapshot(
        url=url,
        observed_at=observed or "",
        body=body,
        source="backfill",
        origin=address,
        http_status=200,
        headers=kept,
        declared_charset=charset_of(kept.get("Content-Type") or ""),
        page_type=page_kind(url, body),
    )


def original_headers(headers: Mapping[str, str]) -> Headers:
    """The captured response's headers, names as spelled: the Wayback Machine's ``x-archive-orig-*``, else
    pywb's own minus replay headers."""
    prefix = "x-archive-orig-"
    prefixed = Headers((k[len(prefix) :], v) for k, v in headers.items() if k.lower().startswith(prefix))
    if prefixed:
        kept = prefixed.without(REPLAY_HEADERS)
        replay = Headers(headers)
        if "content-type" in replay:
            kept["content-type"] = replay["content-type"]
        return kept
    return Headers(
        (k, v) for k, v in headers.items() if k.lower() not in REPLAY_HEADERS and not k.lower().startswith("x-archive")
    )


def by_year(captures: Iterable[Capture]) -> dict[str, list[Capture]]:
    """Captures grouped by year, years in order, each in time order."""
    years: dict[str, list[Capture]] = {}
    for capture in sorted(captures, key=lambda c: (c.timestamp, c.original)):
        years.setdefault(capture.year, []).append(capture)
    return years


def plan(captures: Iterable[Capture], archived: set[tuple[str, str]]) -> dict[str, YearSummary]:
    """Per-year counts of what a backfill would fetch (for --dry-run and the progress bar)."""
    summaries: dict[str, YearSummary] = {}
    for year, found in by_year(captures).items():
        summary = summaries[year] = YearSummary(year, captures=len(found))
        pages = [c for c in found if c.is_page]
        summary.not_html = len(found) - len(pages)
        summary.archived_before = sum(capture_key(c) in archived for c in pages)
    return summaries


@dataclass
class BackfillResult:
    years: list[YearSummary] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    requests: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"years": [y.as_dict() for y in self.years], "errors": self.errors, "requests": self.requests}


def backfill(
    archive,
    client: Client,
    prefix: str,
    captures: Iterable[Capture],
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
) -> BackfillResult:
    """Fetch and store every capture not yet archived, a year at a time (oldest first), ``batch`` at a time.

    Each batch is stored (one ``ingest``) as soon as it is fetched, so a backfill killed midway has
    kept all but the batch in flight, and the rerun fetches none of what was stored. A year's
    summary says what it brought: new contents, new block versions, and the conflicts known once
    it is in."""
    result = BackfillResult()
    archived = archived_captures(archive)
    for year, found in by_year(captures).items():
        summary = YearSummary(year, captures=len(found))
        pages = [c for c in found if c.is_page]
        todo = [c for c in pages if capture_key(c) not in archived and ("", c.address(prefix)) not in archived]
        summary.not_html = len(found) - len(pages)
        summary.archived_before = len(pages) - len(todo)
        if progress is not None and len(found) > len(todo):
            progress(len(found) - len(todo))
        for start in range(0, len(todo), max(batch, 1)):
            fetched = []
            for capture in todo[start : start + max(batch, 1)]:
                fetched.append(fetch_capture(client, prefix, capture))
                if progress is not None:
                    progress(1)
            report = archive.ingest(iter(fetched))
            summary.failed += len(report.errors)
            summary.fetched += len(fetched) - len(report.errors)
            summary.new_contents += report.new_content
            summary.new_block_versions += report.as_dict()["new_block_versions"]
            result.errors += report.errors
        summary.conflicts = archive.stats()["conflicts"]  # once a year: the import itself counts only rows
        result.years.append(summary)
    result.requests = client.requests
    return result
