"""The typed records that flow through every stage: a raw observation and its analysis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from w3lib.url import safe_url_string

from .headers import Headers

Role = Literal["candidate", "title", "date", "body"]

# Version of the extraction code (``dedupe.extract``): pages analysed by another are analysed again.
# Here, not in extract.py, so that asking whether an archive is stale does not import trafilatura.
# Bump it when the analysis of pages an archive already holds changes (re-analysing costs every archive
# its whole analysis again: about 20 minutes of CPU at a million observations). Since "extract-3" the
# changes were to pages it refused or decoded as mojibake (hostile nesting, XHTML declarations, charset
# evidence); on 1,174 ordinary pages (the benchmark's 1,000, the replica's 161 contents, the saved real
# pages, the seeds) the analysis of f9bbf7b and of 2026-12-05 is identical field by field, so it stands.
EXTRACTOR_VERSION = "extract-3"

# The largest raw body the archive takes in or gives back: an imported file or JSON Lines record
# (dedupe.sources), a crawled response (DOWNLOAD_MAXSIZE may not exceed it) and a stored content once
# decompressed (dedupe.storage). One bound, so nothing stored can expand beyond what was accepted.
MAX_BODY_BYTES = 50 * 1024 * 1024


# The longest URL the archive takes in from any source (a JSON Lines record, a web archive's record; a crawl
# asks for none longer than Scrapy's URLLENGTH_LIMIT, 2,083), and the longest the Datasette pages take in
# ``?url=`` and draw as a link: one bound, so that every stored URL can be looked up and linked. 8,192 because
# no web server takes a longer request line (Apache 8,190, nginx 8 KB): a longer one was never fetched, and is
# only a hostile record's way to fill error lines, index entries and pages.
MAX_URL_CHARS = 8192


# Response headers never archived: a cookie the site sets is a credential of the crawler's session, not
# content, and stored headers are queryable by anyone who reads the archive (Datasette included).
PRIVATE_HEADERS = frozenset({"set-cookie", "set-cookie2"})

# Headers that described the bytes on the wire (framing, transfer), not the decoded body the archive keeps.
WIRE_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection", "keep-alive"})
# HTTP statuses that say a page was removed: its article is marked removed, its history kept. An article's permanent
# redirect to a page that is no article says so too: ``dedupe.pages.says_removed`` is the whole rule.
REMOVED_STATUSES = frozenset({404, 410})


def public_headers(headers: Mapping[str, str] | None) -> Headers:
    """``headers`` without PRIVATE_HEADERS (any case), as the case-insensitive ``Headers``."""
    return Headers((name, value) for name, value in (headers or {}).items() if name.lower() not in PRIVATE_HEADERS)


class InputError(ValueError):
    """Bad input (empty, binary, undecodable, truncated...): one clear sentence, no record."""


@dataclass
class RawSnapshot:
    """One observation of a URL as it arrives from an import or a crawl.

    ``body`` is the raw bytes; it is None when there is nothing to store (a 304 or a 404).
    ``kind_hint`` is 'html' or 'text' when the source knows (JSON Lines fields), else None
    and the content decides.
    """

    url: str
    observed_at: str
    body: bytes | None
    source: str = "import"
    origin: str | None = None
    http_status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    declared_charset: str | None = None
    kind_hint: str | None = None
    page_type: str | None = None
    # where in its source it was read ("file.warc.gz@1234"), for messages only: never stored (``origin`` is)
    locator: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # every source (crawl, JSON Lines, WARC...) becomes a RawSnapshot before it is stored: the one place
        # where private headers are dropped, whoever forgot to, and where names become case-insensitive
        self.headers = public_headers(self.headers)


@dataclass
class PageAnalysis:
    """What one content says, before any cross-page knowledge.

    ``lines`` are the page's text units in reading order, each (text, role, section) where
    section numbers the landmark container the line sits in (0 for plain text), with a role: ``candidate`` lines
    may be page furniture (a block) once they repeat across articles; ``title``/``date`` lines
    were recognised as such; ``body`` lines are the article as the extractor saw it.
    ``structured`` says the extractor found an article (title+date or a trafilatura body);
    unstructured pages (seed 000) have only candidates and get their article by elimination.
    """

    kind: str
    encoding: str
    text: str
    language: str
    title: str | None
    published: str | None
    structured: bool
    lines: list[tuple[str, Role, int]]
    encoding_evidence: str = ""  # why ``encoding`` was used: a BOM, a declaration, validity or detection


@dataclass(frozen=True)
class SourceError:
    """An input that could not become a snapshot, and why (one sentence)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC to the second: the one timestamp format of the archive (``dedupe.timestamps``)."""
    from .timestamps import to_iso

    return to_iso(moment)


def parse_observed_at(value: object) -> str:
    """Normalise an observed_at given in JSON (ISO 8601 string or epoch seconds); ValueError, one sentence."""
    from .timestamps import parse

    return parse(value, "observed_at")


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:password@``: a credential is never stored or exported."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, parts.query, parts.fragment))


def check_url(url: object) -> str:
    """A snapshot URL must be http(s) or file; anything else is refused, never followed."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("url must be a non-empty string")
    url = url.strip()
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in {"http", "https", "file"}:
        raise ValueError(f"url scheme {scheme or '(none)'!r} is not http, https or file")
    if any(ch in url for ch in "\x00\r\n"):
        raise ValueError("url contains control characters")
    return safe_url_string(url)
