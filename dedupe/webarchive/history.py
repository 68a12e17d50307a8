"""More sources of history for ``backfill``: Common Crawl-layout indexes and any Memento TimeMap.

Why: the Wayback Machine is not the only web archive that holds the site. Common Crawl
publishes a CDX index (pywb's JSON lines) whose rows say which WARC file holds each capture, at
which offset and length; the record is fetched with one HTTP Range request and read by the same
WARC reader as an import (``dedupe.webarchive.warc``), bounded the same way. Other public archives
(arquivo.pt, the UK Web Archive, archive.today, the Library of Congress, pywb installs) answer
Memento TimeMaps (RFC 7089): a list of mementos with their datetimes; each is fetched in its
original form (Wayback-style URIs get the ``id_`` flag) and dated by its datetime.

Captures several archives hold are one observation: a capture is keyed by URL and time, so the
second archive's copy of a moment already stored is never fetched.
"""

from __future__ import annotations

import io
import re
from email.utils import parsedate_to_datetime

from ..document import RawSnapshot, SourceError, utc_iso
from ..pages import page_kind
from .warc import read_stream

MAX_TIMEMAP_BYTES = 20 * 2**20
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[\w.*-]+\s*=\s*(?:\"[^\"]*\"|[^;,\s]*))*)")
_PARAM = re.compile(r";\s*([\w.*-]+)\s*=\s*(?:\"([^\"]*)\"|([^;,\s]*))")
_WAYBACK_TS = re.compile(r"/(\d{14})(?:[a-z]{2}_)?/")


def fetch_warc_record(client, prefix: str, capture, url: str) -> RawSnapshot | SourceError:
    """The capture's WARC record, fetched by a Range request from ``<prefix>/<filename>``, as an observation."""
    address = capture.address(prefix)
    warc_url = f"{prefix.rstrip('/')}/{capture.filename.lstrip('/')}"
    offset, length = int(capture.offset), int(capture.length)
    if length <= 0 or length > client.cap + 1024 * 1024:
        return SourceError(address, f"the index gives a record length of {length} bytes")
    try:
        status, _, data, _ = client.get(
            warc_url, cap=length, headers={"Range": f"bytes={offset}-{offset + length - 1}"}
        )
    except OSError as exc:
        return SourceError(address, str(exc))
    if status != 206 and len(data) != length:
        return SourceError(address, f"the server ignored the Range request (HTTP {status}, {len(data)} bytes)")
    for item in read_stream(io.BytesIO(data), address, "backfill", None, client.cap):
        if isinstance(item, SourceError):
            return SourceError(address, item.message)
        if item.url != url:
            return SourceError(address, f"the record is of {item.url}, not of {url}")
        item.page_type = item.page_type or page_kind(url, item.body)
        return item
    return SourceError(address, "the range holds no HTML capture of the URL")


def parse_link_format(text: str) -> list[tuple[str, dict[str, str]]]:
    """(URI, parameters) of each link of an RFC 6690 / RFC 7089 link-format document."""
    links = []
    for match in _LINK.finditer(text):
        params = {
            m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
            for m in _PARAM.finditer(match.group(2))
        }
        links.append((match.group(1).strip(), params))
    return links


def raw_memento(uri: str) -> str:
    """A Wayback-style memento URI with the ``id_`` flag (the original bytes, not the replay's rewrite)."""
    return _WAYBACK_TS.sub(lambda m: f"/{m.group(1)}id_/", uri, count=1)


def timemap_mementos(client, timemap_base: str, url: str) -> list[tuple[str, str, str]]:
    """(original URL, 14-digit timestamp, raw memento URI) of each memento a TimeMap (``<timemap_base><url>``)
    lists; OSError when it cannot be fetched, ValueError (one sentence) when it is not a TimeMap."""
    address = f"{timemap_base}{url}"
    _, _, body, _ = client.get(address, MAX_TIMEMAP_BYTES)
    text = body.decode("utf-8", "replace")
    if "rel=" not in text:
        raise ValueError(f"{address} did not answer a link-format TimeMap.")
    links = parse_link_format(text)
    original = next((uri for uri, p in links if "original" in p.get("rel", "").split() and uri), url)
    found = []
    for uri, params in links:
        if "memento" not in params.get("rel", "").split() or not uri.lower().startswith(("http://", "https://")):
            continue
        try:
            moment = parsedate_to_datetime(params.get("datetime", ""))
        except (TypeError, ValueError, IndexError):
            continue
        if moment is None:
            continue
        stamp = "".join(ch for ch in utc_iso(moment) if ch.isdigit())[:14]
        found.append((original, stamp, raw_memento(uri)))
    return found
