"""Write what the archive keeps as WARC/1.1 (+ CDXJ, + WACZ) that web-archive tools replay.

Why: pywb, Browsertrix's ReplayWeb.page and every Wayback install read WARC, not archive.db.
The archive stores each content once and every observation of it, which maps onto WARC's own
deduplication:

- the first observation of a content (in the exported range) is a ``response`` record with the
  raw bytes and the headers as fetched (hop-by-hop and encoding headers rewritten to match the
  stored, decoded body; Set-Cookie never stored);
- each later observation of the same content is a ``revisit`` (profile
  identical-payload-digest, WARC-Refers-To-Target-URI and -Date naming that response);
- a 304 is a ``revisit`` with profile server-not-modified;
- a removed page (a 404/410, an article's permanent redirect away) is a ``response`` with that status, its
  ``Location`` if it had one, and no body;
- each of those is followed by a ``metadata`` record (WARC-Concurrent-To) carrying what the
  archive derived from it: the article version (id and text), the block versions and facts, as
  JSON in a ``pa-archive-derived`` field of an application/warc-fields block.

Observations of non-HTTP URLs (imported files) and failed fetches have nothing to replay and
are counted as skipped.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from dedupe.archive import Archive
from dedupe.document import PRIVATE_HEADERS, REMOVED_STATUSES, WIRE_HEADERS, strip_userinfo

REVISIT_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
REVISIT_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# headers that described the bytes on the wire, not the decoded body the archive keeps
REWRITTEN_HEADERS = WIRE_HEADERS | PRIVATE_HEADERS

SNAPSHOTS_SQL = """
SELECT s.id, s.url, s.observed_at, s.http_status, s.headers, s.content_sha256, s.status,
       c.kind, c.encoding
FROM snapshots s LEFT JOIN contents c ON c.sha256 = s.content_sha256
WHERE substr(s.url, 1, length(:prefix)) = :prefix AND s.observed_at >= :since
ORDER BY s.observed_at, s.id
"""
FIRST_HEADERS_SQL = """
SELECT headers, http_status FROM snapshots WHERE content_sha256 = :sha AND headers IS NOT NULL
ORDER BY observed_at, id LIMIT 1
"""
ARTICLE_SQL = """
SELECT av.id, av.article_id, av.version, av.title, av.published, av.text
FROM content_articles ca JOIN article_versions av ON av.id = ca.article_version_id
WHERE ca.page_id = (SELECT rowid FROM pages WHERE content_sha256 = :sha)
"""
BLOCKS_SQL = """
SELECT bv.id, bv.block_id, bv.version, bv.language FROM content_blocks cb
JOIN block_versions bv ON bv.id = cb.block_version_id
WHERE cb.page_id = (SELECT rowid FROM pages WHERE content_sha256 = :sha) ORDER BY bv.block_id
"""
FACTS_SQL = """
SELECT f.block_version_id, f.delegation, f.field, f.value FROM content_blocks cb
JOIN facts f ON f.block_version_id = cb.block_version_id
WHERE cb.page_id = (SELECT rowid FROM pages WHERE content_sha256 = :sha)
ORDER BY f.block_version_id, f.line_no, f.field
"""


@dataclass
class ExportReport:
    """What one export wrote, by record type, and the files it made."""

    warc: str
    cdxj: str | None = None
    wacz: str | None = None
    responses: int = 0
    revisits: int = 0
    not_modified: int = 0
    removed: int = 0
    metadata: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def warc_date(observed_at: str) -> str:
    """The archive's ISO UTC time as a WARC-Date (already the same form: YYYY-MM-DDThh:mm:ssZ)."""
    return observed_at if observed_at.endswith("Z") else observed_at + "Z"


def count_snapshots(archive: Archive, url_prefix: str = "", since: str = "") -> int:
    """How many observations an export with these filters reads (for a progress bar)."""
    rows = archive.query(f"SELECT count(*) AS n FROM ({SNAPSHOTS_SQL})", {"prefix": url_prefix, "since": since})
    return rows[0]["n"]


class ExportError(ValueError):
    """An output the export must not write (one sentence for the user)."""


ARCHIVE_COMPANIONS = ("", "-wal", "-shm", "-journal", ".lock")  # the archive's own files


def check_outputs(db_path: str | Path, outputs: list[Path]) -> None:
    """ExportError when an output resolves to the archive, its WAL, shared memory, journal or lock
    (a link or ``..`` included), or when two outputs are the same file: never overwritten by an export."""
    database = Path(db_path).resolve()
    protected = {Path(f"{database}{suffix}") for suffix in ARCHIVE_COMPANIONS}
    seen: set[Path] = set()
    for out in outputs:
        target = Path(out).resolve()
        if target in protected or (target.exists() and any(_same_file(target, p) for p in protected if p.exists())):
            raise ExportError(f"{out} is the archive's own file ({target.name}): choose another output path.")
        if target in seen:
            raise ExportError(f"{out} is named twice: choose different output paths.")
        seen.add(target)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


@contextlib.contextmanager
def atomic_output(out: Path):
    """A temporary file beside ``out``, renamed onto it only when the block succeeds: a failed or
    interrupted export leaves no partial file (and an earlier file of that name as it was)."""
    tmp = out.with_name(f".partial-{os.getpid()}-{out.name}")  # same ending: tools tell formats by it
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def export_warc(
    archive: Archive, out: Path, url_prefix: str = "", since: str = "", progress: Callable[[int], None] | None = None
) -> ExportReport:
    """Write the archive's observations (URL prefix, observed since) to ``out`` as WARC/1.1, atomically."""
    with atomic_output(out) as tmp:
        return _export_warc(archive, out, tmp, url_prefix, since, progress)


def _export_warc(
    archive: Archive, out: Path, tmp: Path, url_prefix: str, since: str, progress: Callable[[int], None] | None
) -> ExportReport:
    from warcio.warcwriter import WARCWriter

    report = ExportReport(warc=str(out))
    written: dict[str, tuple[str, str, str]] = {}  # sha -> (payload digest, url, WARC-Date) of its response
    skipped: dict[str, int] = {}
    gzipped = out.name.endswith(".gz")
    with tmp.open("wb") as handle:
        writer = WARCWriter(handle, gzip=gzipped, warc_version="WARC/1.1")
        writer.write_record(
            writer.create_warcinfo_record(
                out.name,
                {
                    "software": "pa-archive",
                    "format": "WARC File Format 1.1",
                    "description": "Observations of the CSTO PA website exported from a pa-archive archive.db",
                },
            )
        )
        rows = archive.db.execute(SNAPSHOTS_SQL, {"prefix": url_prefix, "since": since})
        columns = [d[0] for d in rows.description]
        for values in rows:
            row = dict(zip(columns, values))
            row["url"] = strip_userinfo(row["url"])  # a credential in a URL is never exported
            reason = _skip_reason(row)
            if reason:
                skipped[reason] = skipped.get(reason, 0) + 1
            else:
                record = _observation_record(writer, archive, row, written, report)
                writer.write_record(record)
                writer.write_record(_metadata_record(writer, archive, row, record))
                report.metadata += 1
            if progress is not None:
                progress(1)
    report.skipped = skipped
    return report


def _skip_reason(row: dict[str, Any]) -> str | None:
    if not row["url"].startswith(("http://", "https://")):
        return "not an HTTP URL"
    if row["content_sha256"] is None and row["status"] != "removed" and row["http_status"] not in REMOVED_STATUSES:
        return "no content (failed fetch or 304 of an unknown page)"
    return None


def _observation_record(writer, archive: Archive, row: dict[str, Any], written: dict, report: ExportReport):
    """A response for a content's first observation, else a revisit naming that response."""
    from warcio.statusandheaders import StatusAndHeaders

    date = warc_date(row["observed_at"])
    sha = row["content_sha256"]
    if sha is None:  # removed: the status, no body; a redirect's Location, which says where the page went
        report.removed += 1
        stored = json.loads(row["headers"]) if row["headers"] else {}
        moved = [("Location", str(v)) for k, v in stored.items() if k.lower() == "location"]
        http = StatusAndHeaders(
            _status_line(row["http_status"]), [*moved, ("Content-Length", "0")], protocol="HTTP/1.1"
        )
        return writer.create_warc_record(
            row["url"], "response", payload=io.BytesIO(b""), http_headers=http, warc_headers_dict={"WARC-Date": date}
        )
    headers, status = _headers_of(archive, row)
    if sha in written:
        digest, first_url, first_date = written[sha]
        not_modified = row["http_status"] == 304
        report.not_modified += not_modified
        report.revisits += not not_modified
        http = StatusAndHeaders(_status_line(304 if not_modified else status), headers, protocol="HTTP/1.1")
        record = writer.create_revisit_record(
            row["url"], digest, first_url, first_date, http_headers=http, warc_headers_dict={"WARC-Date": date}
        )
        record.rec_headers.replace_header("WARC-Profile", REVISIT_NOT_MODIFIED if not_modified else REVISIT_IDENTICAL)
        return record
    body = archive.raw_content(sha)
    headers = [(k, v) for k, v in headers if k.lower() != "content-length"] + [("Content-Length", str(len(body)))]
    http = StatusAndHeaders(_status_line(status), headers, protocol="HTTP/1.1")
    digest = payload_digest(body)
    record = writer.create_warc_record(
        row["url"],
        "response",
        payload=io.BytesIO(body),
        http_headers=http,
        warc_headers_dict={"WARC-Date": date, "WARC-Payload-Digest": digest},
    )
    written[sha] = (digest, row["url"], date)
    report.responses += 1
    return record


def payload_digest(body: bytes) -> str:
    """WARC-Payload-Digest as CDX servers write it: base32 SHA-1 of the payload."""
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def _headers_of(archive: Archive, row: dict[str, Any]) -> tuple[list[tuple[str, str]], int]:
    """The HTTP headers and status to write for an observation's content.

    A 304 row keeps no headers (they repeat the stored content's): the first observation of the
    content lends its own. Content without any (an imported file) gets a Content-Type from its kind."""
    raw, status = row["headers"], row["http_status"]
    if not raw or status == 304:
        first = archive.query(FIRST_HEADERS_SQL, {"sha": row["content_sha256"]})
        if first:
            raw, status = first[0]["headers"], first[0]["http_status"] if status in (None, 304) else status
    stored = json.loads(raw) if raw else {}
    headers = [(_spelling(k), str(v)) for k, v in stored.items() if k.lower() not in REWRITTEN_HEADERS]
    if not any(k.lower() == "content-type" for k, _ in headers):
        kind = "text/html" if row["kind"] == "html" else "text/plain"
        headers.append(("Content-Type", f"{kind}; charset={row['encoding'] or 'utf-8'}"))
    return headers, status if status and status != 304 else 200


def _spelling(name: str) -> str:
    """A stored header name as written by the source; an all-lowercase one (archives before names kept their
    spelling stored them lowercased) in the usual Title-Case."""
    return "-".join(p.capitalize() for p in name.split("-")) if name.islower() else name


def _status_line(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


def _metadata_record(writer, archive: Archive, row: dict[str, Any], concurrent):
    """What the archive derived from this observation, as JSON, tied to its response or revisit."""
    sha = row["content_sha256"]
    derived: dict[str, Any] = {
        "snapshot_id": row["id"],
        "url": row["url"],
        "observed_at": row["observed_at"],
        "http_status": row["http_status"],
        "status": row["status"],
        "content_sha256": sha,
        "article_version": None,
        "block_versions": [],
        "facts": [],
    }
    if sha is not None:
        article = archive.query(ARTICLE_SQL, {"sha": sha})
        derived["article_version"] = article[0] if article else None
        derived["block_versions"] = archive.query(BLOCKS_SQL, {"sha": sha})
        derived["facts"] = archive.query(FACTS_SQL, {"sha": sha})
    # application/warc-fields (name: value lines), as Heritrix writes metadata: indexers (pywb,
    # cdxj-indexer) leave such records out, so a replay never serves them in place of the page
    lines = [f"snapshot-id: {row['id']}"]
    if derived["article_version"]:
        lines.append(f"article-version-id: {derived['article_version']['id']}")
    lines += [f"block-version-id: {b['id']}" for b in derived["block_versions"]]
    lines.append("pa-archive-derived: " + json.dumps(derived, ensure_ascii=False, separators=(",", ":")))
    payload = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    return writer.create_warc_record(
        row["url"],
        "metadata",
        payload=io.BytesIO(payload),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Date": warc_date(row["observed_at"]),
            "WARC-Concurrent-To": concurrent.rec_headers.get_header("WARC-Record-ID"),
        },
    )


def write_cdxj(warc: Path, out: Path) -> None:
    """A sorted CDXJ index of ``warc`` (pywb's and the WACZ's index format), written atomically."""
    from cdxj_indexer.main import write_cdx_index

    with atomic_output(out) as tmp:
        write_cdx_index(str(tmp), [str(warc)], {"sort": True})


def write_wacz(warc: Path, out: Path) -> None:
    """Package ``warc`` as a WACZ (its index and page list made by the ``wacz`` library)."""
    from wacz.main import main as wacz_main

    with atomic_output(out) as tmp:
        with contextlib.redirect_stdout(io.StringIO()) as said:  # the library reports on stdout
            status = wacz_main(["create", "-o", str(tmp), "--detect-pages", str(warc)])
        if status:
            raise RuntimeError(f"wacz create failed: {' '.join(said.getvalue().split())[:200]}")
