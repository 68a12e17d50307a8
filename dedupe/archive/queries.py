"""The reading part of the archive: references, history, the stored pages, and the queries the CLI,
the crawler and Datasette ask of the archive. Nothing here writes."""

from __future__ import annotations

import re
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from .. import queries
from ..storage import Codec
from .base import NEWEST_CONTENT_SNAPSHOT_SQL, NEWEST_SNAPSHOT_SQL, ArchiveError
from .evidence import conflict_evidence, missing_evidence, pages_stating


class ArchiveQueries:
    """The reading part of an archive: stats, conflicts, search, history, references, stored pages."""

    def __init__(self, db: Database, codec: Codec) -> None:
        self.db = db
        self.codec = codec

    # --- queries ----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Rows of the main tables (no conflicts, no bytes): cheap enough to ask around every batch."""
        return {name: self.db.execute(sql).fetchone()[0] for name, sql in queries.COUNT_SQL.items()}

    def new_version_snapshots(self) -> int:
        """Snapshots that brought their URL a new content: the work of ``compact``'s second phase."""
        return self.db.execute(queries.NEW_VERSION_SNAPSHOTS_SQL).fetchone()[0]

    def stats(self) -> dict[str, int]:
        return {name: self.db.execute(sql).fetchone()[0] for name, sql in queries.STATS_SQL.items()}

    def query(self, sql: str, params: dict[str, Any] | Sequence[Any] = ()) -> list[dict[str, Any]]:
        cursor = self.db.execute(sql, params)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    def conflicts(self, evidence: bool = True) -> list[dict[str, Any]]:
        """One record per conflicting (delegation, field) of one language, values by snapshot count; with
        ``evidence`` the block versions, pages and changes of each (``dedupe.archive.evidence``)."""
        return conflict_evidence(self.db.conn, evidence=evidence)

    def contradictions(self, origin: str) -> list[dict[str, Any]]:
        """Facts the pages of one origin (a crawl run, 'crawl:<id>') stated with different non-empty values:
        {delegation, field, language, values: [{value, pages, example_url}]}."""
        grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for row in self.query(queries.ORIGIN_FACTS_SQL, {"origin": origin}):
            grouped[(row["delegation"], row["field"], row["language"])].append(
                {k: row[k] for k in ("value", "pages", "example_url")}
            )
        return [
            {"delegation": d, "field": f, "language": lang, "values": values}
            for (d, f, lang), values in grouped.items()
            if len(values) > 1
        ]

    def fact_periods(self, delegation: str = "") -> list[dict[str, Any]]:
        """Each run of one value of each (language, delegation, field) through time (any case of delegation)."""
        return self.query(queries.FACT_PERIODS_SQL, {"delegation": self.delegation_name(delegation)})

    def delegation_name(self, name: str) -> str:
        """The archive's spelling of a delegation named in any case ('' stays ''); ArchiveError when unknown."""
        if not name:
            return ""
        known = [row[0] for row in self.db.execute(queries.DELEGATIONS_SQL)]
        for candidate in known:
            if candidate.casefold() == name.strip().casefold():
                return candidate
        raise ArchiveError(f"no delegation is called {name!r} (known: {', '.join(known) or 'none yet'})")

    def facts_as_of(self, when: str | None = None, delegation: str = "") -> dict[str, Any]:
        """What the site stated at ``when`` (an ISO date or time, UTC; default: now): each page as its latest
        observation at or before it showed it, per (language, delegation, field) its values with their page
        counts; ``contradiction`` when pages of that moment state different non-empty values.

        Each value has ``pages``, ``since`` (also ``first_observed``: the earliest time one of those pages
        began stating it without a break), ``last_observed`` (the latest observation of them, up to
        ``when``), an ``example_url`` and its ``block_versions``."""
        until = as_of_bound(when)
        name = self.delegation_name(delegation)
        facts: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
        languages: dict[str, str] = {}
        for bv, lang, d, f, v in self.db.execute(
            "SELECT bv.id, bv.language, f.delegation, f.field, f.value FROM facts f "
            "JOIN block_versions bv ON bv.id = f.block_version_id"
        ):
            facts[bv].add((d, f, v))
            languages[bv] = lang
        values: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        for group in self.query(queries.FACTS_AS_OF_SQL, {"until": until}):
            stated: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
            for bv in group["block_versions"].split(","):
                for d, f, v in facts.get(bv, ()):
                    if not name or d == name:
                        stated[(languages[bv], d, f, v)].add(bv)
            for key, bvs in stated.items():
                value = values.setdefault(
                    key,
                    {"value": key[3], "pages": 0, "since": group["since"], "last_observed": group["last_observed"],
                     "example_url": group["example_url"], "block_versions": set()},
                )  # fmt: skip
                value["pages"] += group["pages"]
                value["since"] = min(value["since"], group["since"])
                value["last_observed"] = max(value["last_observed"], group["last_observed"])
                value["example_url"] = min(value["example_url"], group["example_url"])
                value["block_versions"] |= bvs
        grouped: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for (lang, d, f, _), value in sorted(values.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
            value["first_observed"] = value["since"]
            value["block_versions"] = sorted(value["block_versions"])
            grouped[(d, f, lang)].append(value)
        facts_out = [
            {
                "delegation": d,
                "field": f,
                "language": lang,
                "values": sorted(vals, key=lambda v: (-v["pages"], v["value"])),
                "contradiction": len({v["value"] for v in vals if v["value"] != ""}) > 1,
            }
            for (d, f, lang), vals in grouped.items()
        ]
        return {"as_of": until, "facts": facts_out}

    def missing_values(self, evidence: bool = True) -> list[dict[str, Any]]:
        """Values present as a line but empty, with the pages they are empty on (``evidence``)."""
        return missing_evidence(self.db.conn, evidence=evidence)

    def search(self, query: str) -> list[dict[str, Any]]:
        """Full-text search (FTS5 syntax) over article titles and texts in word forms (stems), best first."""
        from ..stemming import unreadable

        reason = unreadable(query)  # '*', 'OR OR', '', '"unclosed': SQLite's words are no help to a reader
        if reason is not None:
            raise ArchiveError(f"cannot search for {query!r}: {reason}")
        try:
            return self.query(queries.SEARCH_SQL, {"q": query})
        except sqlite3.OperationalError as exc:
            raise ArchiveError(f"cannot search for {query!r}: {exc}") from None

    def block_versions(self, block_id: int | None = None) -> list[dict[str, Any]]:
        """Every block version (or those of one block), blocks that state facts (the delegation block) first.

        Each lists its line changes, the distinct pages it was seen on (``seen_in``, oldest first, at most
        URLS_LISTED; ``seen_in_total`` counts them) and ``furniture``: its block states no fact (a menu, a footer)."""
        versions = self.query(queries.BLOCK_VERSIONS_SQL)
        if block_id is not None:
            versions = [v for v in versions if v["block_id"] == block_id]
        with_facts = {row[0] for row in self.db.execute(queries.BLOCKS_WITH_FACTS_SQL)}
        changes = defaultdict(list)
        for row in self.query(queries.BLOCK_CHANGES_SQL):
            changes[row["block_version_id"]].append(row)
        members: dict[str, list[str]] = {}
        totals: dict[str, int] = {}
        for row in versions:
            urls, totals[row["version_id"]] = pages_stating(self.db.conn, [row["version_id"]])
            members[row["version_id"]] = [_short_name(url) for url in urls]
        for row in versions:
            row["furniture"] = row["block_id"] not in with_facts
            row["changes"] = changes.get(row["version_id"], [])
            row["seen_in"] = members.get(row["version_id"], [])
            row["seen_in_total"] = totals.get(row["version_id"], 0)
        versions.sort(key=lambda v: (v["furniture"], v["block_id"], v["version"]))
        return versions

    def resolve(self, ref: str) -> Ref:
        """What ``ref`` names (see REF_HELP)."""
        return _resolve(self.db, ref)

    def resolve_version(self, ref: str) -> Ref:
        """What ``ref`` names, an article or a block standing for its latest version (labelled 'a3 (av-...)')."""
        found = _resolve(self.db, ref)
        if found.kind not in ("article", "block"):
            return found
        latest = self.latest_version(found)
        if latest is None:
            raise ArchiveError(f"{found.label} has no version yet")
        return Ref(latest.kind, latest.id, f"{ref.strip()} ({latest.id})")

    def text_of(self, ref: Ref) -> str:
        """The text a diff compares: a snapshot's page, a version's text."""
        if ref.kind == "snapshot":
            row = self.db.execute("SELECT content_sha256, http_status FROM snapshots WHERE id = ?", [ref.id]).fetchone()
            if row[0] is None:
                raise ArchiveError(f"snapshot {ref.id} has no content (HTTP {row[1]})")
            return self.content_text(row[0])
        if ref.kind in ("article", "block"):  # a3, b1: the latest version, as on the diff page
            latest = self.latest_version(ref)
            if latest is None:
                raise ArchiveError(f"{ref.label} has no version yet")
            ref = latest
        table = {"article_version": "article_versions", "block_version": "block_versions"}[ref.kind]
        return self.db.execute(f"SELECT text FROM [{table}] WHERE id = ?", [ref.id]).fetchone()[0]

    def history(self, ref: Ref) -> dict[str, Any]:
        """Every version of the article or block ``ref`` belongs to, oldest first."""
        if ref.kind in ("snapshot", "article_version"):
            sql = (
                (
                    "SELECT av.article_id FROM snapshots s JOIN pages cp ON cp.content_sha256 = s.content_sha256 "
                    "JOIN content_articles ca ON ca.page_id = cp.rowid "
                    "JOIN article_versions av ON av.id = ca.article_version_id WHERE s.id = ?"
                )
                if ref.kind == "snapshot"
                else "SELECT article_id FROM article_versions WHERE id = ?"
            )
            row = self.db.execute(sql, [ref.id]).fetchone()
            if row is None:
                return self._url_history(ref)
            ref = Ref("article", str(row[0]), f"article {row[0]}")
        if ref.kind == "block_version":
            row = self.db.execute("SELECT block_id FROM block_versions WHERE id = ?", [ref.id]).fetchone()
            ref = Ref("block", str(row[0]), f"block {row[0]}")
        if ref.kind == "article":
            head = self.query("SELECT * FROM articles WHERE id = ?", [ref.id])[0]
            versions = self.query(
                "SELECT id, version, title, published, similarity_to_previous, snapshots, first_seen, last_seen, text "
                "FROM article_versions WHERE article_id = ? ORDER BY version",
                [ref.id],
            )
            for version in versions:
                version["seen_as"] = [
                    r["url"]
                    for r in self.query(
                        "SELECT DISTINCT s.url FROM content_articles ca JOIN pages cp ON cp.rowid = ca.page_id "
                        "JOIN snapshots s ON s.content_sha256 = cp.content_sha256 "
                        "WHERE ca.article_version_id = ? ORDER BY s.url",
                        [version["id"]],
                    )
                ]
            return {"kind": "article", "article": head, "versions": versions}
        head = self.query("SELECT * FROM blocks WHERE id = ?", [ref.id])[0]
        versions = self.block_versions(int(ref.id))
        return {"kind": "block", "block": head, "versions": versions}

    def state(self, key: str) -> str | None:
        """One value of ``archive_state`` (None when unset)."""
        row = self.db.execute(queries.ARCHIVE_STATE_VALUE_SQL, [key]).fetchone()
        return row[0] if row else None

    def block_of_version(self, version_id: str) -> int:
        """The block a block version belongs to."""
        return self.db.execute("SELECT block_id FROM block_versions WHERE id = ?", [version_id]).fetchone()[0]

    def first_conflict_change(self) -> dict[str, Any] | None:
        """The first block-line change that is a conflict of facts (the demo shows its word diff), or None."""
        found = self.query(queries.FIRST_CONFLICT_CHANGE_SQL)
        return found[0] if found else None

    # --- stored pages ----------------------------------------------------------------

    def content_text(self, sha: str) -> str:
        """The decoded page text of one stored content (its lines, in order)."""
        row = self.db.execute(queries.PAGE_LINES_SQL, [sha]).fetchone()
        if not row:
            raise ArchiveError(f"no content {sha}")
        return "\n".join(line[0] for line in self.codec.unpack_lines(*row, sha))

    def raw_content(self, sha: str) -> bytes:
        """The bytes of one stored content, as fetched or imported."""
        return self._content(sha)[0]

    def _content(self, sha: str) -> tuple[bytes, str | None]:
        row = self.db.execute("SELECT body, compression, encoding FROM contents WHERE sha256 = ?", [sha]).fetchone()
        if not row:
            raise ArchiveError(f"no content {sha}")
        return self.codec.decompress(row[0], row[1]), row[2]

    def has_content(self, url: str) -> bool:
        """Whether the URL ever had content (a new content of a known URL is a change, not a new page)."""
        return self.db.execute(queries.CRAWL_URL_KNOWN_SQL, {"url": url}).fetchone() is not None

    def last_validators(self, url: str) -> tuple[str | None, str | None]:
        """ETag and Last-Modified of the URL's newest stored content (for conditional requests)."""
        row = self.db.execute(NEWEST_CONTENT_SNAPSHOT_SQL, {"url": url}).fetchone()
        return (row[2], row[3]) if row else (None, None)

    def last_content(self, url: str) -> tuple[bytes, str | None] | None:
        """The URL's newest stored body and the charset it was decoded with (a 304 answer is parsed from it)."""
        row = self.db.execute(NEWEST_CONTENT_SNAPSHOT_SQL, {"url": url}).fetchone()
        return self._content(row[1]) if row else None

    def crawled_urls(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Per URL the crawls observed, its newest observation that was not a failure (200, 304, 404, 410:
        the page was seen) and its newest failure: what the revisit policy knows."""
        return self.query(queries.CRAWL_LAST_SEEN_SQL), self.query(queries.CRAWL_LAST_FAILED_SQL)

    # --- version navigation -------------------------------------------------------------

    def latest_version(self, ref: Ref) -> Ref | None:
        """An article or a block stands for its latest version (None when it has none); other refs for themselves."""
        if ref.kind not in ("article", "block"):
            return ref
        sql = queries.LATEST_ARTICLE_VERSION_SQL if ref.kind == "article" else queries.LATEST_BLOCK_VERSION_SQL
        row = self.db.execute(sql, [ref.id]).fetchone()
        return Ref(f"{ref.kind}_version", row[0], row[0]) if row else None

    def previous_version(self, ref: Ref) -> Ref | None:
        """The version before ``ref`` (for a snapshot, the URL's previous snapshot with content), or None."""
        sql = {
            "article_version": queries.PREVIOUS_ARTICLE_VERSION_SQL,
            "block_version": queries.PREVIOUS_BLOCK_VERSION_SQL,
            "snapshot": queries.PREVIOUS_SNAPSHOT_SQL,
        }.get(ref.kind)
        row = self.db.execute(sql, [ref.id]).fetchone() if sql else None
        if row is None:
            return None
        return (
            Ref("snapshot", str(row[0]), f"snapshot {row[0]}")
            if ref.kind == "snapshot"
            else Ref(ref.kind, row[0], row[0])
        )

    def sibling_versions(self, ref: Ref) -> list[dict[str, Any]]:
        """Every version of the same article or block as ``ref`` ({id, version, first_seen}), oldest first."""
        sql = {
            "article_version": queries.ARTICLE_VERSION_SIBLINGS_SQL,
            "block_version": queries.BLOCK_VERSION_SIBLINGS_SQL,
        }.get(ref.kind)
        if sql is None:
            return []
        return [{"id": r[0], "version": r[1], "first_seen": r[2]} for r in self.db.execute(sql, [ref.id]).fetchall()]

    def _url_history(self, ref: Ref) -> dict[str, Any]:
        url = self.db.execute("SELECT url FROM snapshots WHERE id = ?", [ref.id]).fetchone()[0]
        return {"kind": "url", "url": url, "snapshots": self.query(queries.URL_VERSIONS_SQL, {"url": url})}


@dataclass(frozen=True)
class Ref:
    """A thing a user named: kind is 'snapshot', 'article', 'block', 'article_version' or 'block_version'."""

    kind: str
    id: str
    label: str


REF_HELP = (
    "a snapshot (12 or s12), an article (a3), a block (b1), an article version (av-1a2b...), "
    "a block version (bv-3c4d...; a unique prefix is enough), or a URL or file path"
)


def _resolve(db: Database, ref: str) -> Ref:
    """Parse a user's reference; raise ArchiveError with a sentence when it names nothing."""
    ref = ref.strip()
    if "\x00" in ref or any("\ud800" <= c <= "\udfff" for c in ref):  # a NUL, or a byte of a non-UTF-8 argument
        raise ArchiveError(f"{ref.encode('utf-8', 'backslashreplace').decode()!r} is not a reference ({REF_HELP})")
    return _resolve_id(db, ref) or _resolve_url(db, ref)


def _resolve_id(db: Database, ref: str) -> Ref | None:
    """A snapshot, article, block or version named by its id (None: ``ref`` has no id's form)."""
    if re.fullmatch(r"s?\d+", ref):
        sid = ref.lstrip("s")
        if db.execute("SELECT 1 FROM snapshots WHERE id = ?", [sid]).fetchone():
            return Ref("snapshot", sid, f"snapshot {sid}")
        raise ArchiveError(f"there is no snapshot {sid}")
    for prefix, kind, table in (("a", "article", "articles"), ("b", "block", "blocks")):
        if re.fullmatch(prefix + r"\d+", ref):
            if db.execute(f"SELECT 1 FROM [{table}] WHERE id = ?", [ref[1:]]).fetchone():
                return Ref(kind, ref[1:], f"{kind} {ref[1:]}")
            raise ArchiveError(f"there is no {kind} {ref[1:]}")
    for prefix, kind, table in (
        ("av-", "article_version", "article_versions"),
        ("bv-", "block_version", "block_versions"),
    ):
        if ref.lower().startswith(prefix):
            # a prefix of the id (lowercase hex), by the primary key's range: no LIKE, whose '%' and '_' in a
            # typed reference would match other ids
            start = ref.lower()
            rows = db.execute(
                f"SELECT id FROM [{table}] WHERE id >= ? AND id < ? LIMIT 2", [start, start + "\U0010ffff"]
            ).fetchall()
            if len(rows) == 1:
                return Ref(kind, rows[0][0], rows[0][0])
            what = kind.replace("_", " ")
            raise ArchiveError(
                f"{ref} names more than one {what}: give more of its digits" if rows else f"there is no {what} {ref}"
            )
    return None


def _resolve_url(db: Database, ref: str) -> Ref:
    """The newest snapshot of a URL, a file path, or a URL ending in ``/ref``."""
    url = ref
    if "://" not in ref and (Path(ref).exists() or "/" in ref or "." in ref):
        url = Path(ref).resolve().as_uri()
    row = db.execute(NEWEST_SNAPSHOT_SQL, {"url": url}).fetchone()
    if row is None:
        row = db.execute(
            "SELECT id FROM snapshots WHERE substr(url, -length(?) - 1) = '/' || ? "
            "ORDER BY observed_at DESC, id DESC LIMIT 1",
            [ref, ref],
        ).fetchone()
    if row is None:
        raise ArchiveError(f"nothing in the archive is called {ref!r} ({REF_HELP})")
    return Ref("snapshot", str(row[0]), ref)


def _short_name(url: str) -> str:
    """A file name for imported files, the URL for fetched pages: what a person recognises."""
    return url.rsplit("/", 1)[-1] if url.startswith("file:") else url


def as_of_bound(when: str | None, what: str = "as of") -> str:
    """The last second ``when`` covers, in the archive's one time format (``2024-05-31T23:59:59Z`` for
    ``2024-05``); None or blank: now. It reads what the command line's ``--as-of`` reads
    (``timestamps.parse_bound``: a year, a month, a day, an ISO time or 14 digits, from 1991 to tomorrow), so
    the web pages and the commands take the same dates and refuse the rest with the same sentence."""
    from datetime import datetime, timezone

    from ..document import utc_iso
    from ..timestamps import TimestampError, parse_bound

    if when is None or not when.strip():
        return utc_iso(datetime.now(timezone.utc))
    try:
        return parse_bound(when, what, end=True)
    except TimestampError as exc:
        raise ArchiveError(str(exc)) from None
