"""The reference derivation: every derived table computed from the whole set of observations in
memory (``dedupe.blocks.derive``), as the archive did before it derived incrementally.

``pa-archive check`` writes this into a copy of the archive and compares it, table by table,
with what the incremental refreshes (``dedupe.archive.incremental``) built.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

import numpy as np
from sqlite_utils import Database

from .. import schema
from ..blocks import ARTICLE_CONFIG, Derivation, PageLines, derive, version_public_id
from ..facts import extract_facts
from ..language import detect_language
from ..minhash import compute_signatures, estimate_jaccard
from ..pages import article_status
from ..storage import Codec, text_hash
from ..variants import assign_slots, compare_versions


def load_pages(db: Database) -> list[PageLines]:
    """Every analysed content as the cross-page step sees it."""
    rows = db.execute(
        """SELECT p.content_sha256, p.structured, p.lines, p.lines_compression,
                  max(coalesce(s.page_type, 'article') = 'article') AS has_article
           FROM pages p JOIN snapshots s ON s.content_sha256 = p.content_sha256
           GROUP BY p.content_sha256"""
    ).fetchall()
    codec = Codec(db)
    # The same line (a delegation block's, a menu's) stands on most pages: one tuple for all of them keeps
    # a million observations' lines in a fraction of the memory (the reference holds every page at once).
    canonical: dict[tuple, tuple] = {}
    return [
        PageLines(
            key=sha,
            structured=bool(structured),
            lines=[canonical.setdefault(line, line) for line in codec.unpack_lines(lines, method, sha)],
            has_article=bool(art),
        )
        for sha, structured, lines, method, art in rows
    ]


def article_signatures(texts: Sequence[str]) -> np.ndarray:
    return compute_signatures(list(texts), ARTICLE_CONFIG)


def write_reference(db: Database) -> None:
    """Replace every derived table with the reference derivation (inside the caller's transaction)."""
    pages = load_pages(db)
    derivation = derive(pages, article_signatures)
    for table in schema.DERIVED_TABLES:
        db.execute(f"DELETE FROM [{table}]")  # fixed names from schema.DERIVED_TABLES
    _Writer(db, pages, derivation, article_signatures).write()


class _Writer:
    """Turns one ``Derivation`` into rows of the derived tables."""

    def __init__(
        self,
        db: Database,
        pages: list[PageLines],
        derivation: Derivation,
        signatures: Callable[[Sequence[str]], np.ndarray],
    ) -> None:
        self.db = db
        self._page_ids: dict[str, int] | None = None  # content hash -> pages.rowid, read when first asked
        self.signatures = signatures  # Archive._signatures: cached, one batched lookup
        self.pages = {p.key: p for p in pages}
        self.d = derivation
        self.seen: dict[str, tuple[int, str, str]] = {}
        self.first_url: dict[str, str] = {}
        for sha, count, first, last, url in db.execute(
            "SELECT content_sha256, count(*), min(observed_at), max(observed_at), min(url) FROM snapshots "
            "WHERE content_sha256 IS NOT NULL GROUP BY content_sha256"
        ):
            self.seen[sha] = (count, first, last)
            self.first_url[sha] = url
        self.meta = {
            sha: (title, published)
            for sha, title, published in db.execute("SELECT content_sha256, title, published FROM pages")
        }

    def _order(self, keys: Iterable[str], text: str) -> tuple[str, str, str]:
        """Sort key of a version: first seen, then the smallest URL, then its hash (never arrival order)."""
        keys = [k for k in keys if k in self.seen]
        return min(self.seen[k][1] for k in keys), min(self.first_url[k] for k in keys), text_hash(text)

    def _span(self, keys: Iterable[str]) -> tuple[int, str, str]:
        spans = [self.seen[k] for k in keys if k in self.seen]
        return sum(s[0] for s in spans), min(s[1] for s in spans), max(s[2] for s in spans)

    def write(self) -> None:
        self._write_articles()
        self._write_blocks()

    def _write_articles(self) -> None:
        members: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for key, group in self.d.article_group.items():
            if key in self.seen:
                members[group][self.d.article_text[key]].append(key)
        latest = dict(  # each URL's newest observation's status ('removed': dedupe.pages.says_removed)
            self.db.execute(
                "SELECT url, status FROM (SELECT url, status, row_number() OVER "
                "(PARTITION BY url ORDER BY observed_at DESC, id DESC) AS newest FROM snapshots) WHERE newest = 1"
            )
        )
        url_of = {
            sha: url
            for sha, url in self.db.execute(
                "SELECT content_sha256, url FROM snapshots WHERE content_sha256 IS NOT NULL ORDER BY observed_at, id"
            )
        }
        articles = []
        for versions in members.values():
            spans = {text: self._span(keys) for text, keys in versions.items()}
            ordered = sorted(versions, key=lambda t: self._order(versions[t], t))
            articles.append((self._order(versions[ordered[0]], ordered[0]), ordered, versions, spans))
        articles.sort()
        edited = [text for _, ordered, _, _ in articles if len(ordered) > 1 for text in ordered]
        signature_of = dict(zip(edited, self.signatures(edited))) if edited else {}  # only to compare versions
        article_rows, version_rows, link_rows = [], [], []
        for article_id, (_, ordered, versions, spans) in enumerate(articles, start=1):
            previous_sig = None
            titles = []
            for number, text in enumerate(ordered, start=1):
                keys = versions[text]
                count, first, last = spans[text]
                title = next((self.meta[k][0] for k in keys if self.meta[k][0]), None)
                published = next((self.meta[k][1] for k in keys if self.meta[k][1]), None)
                titles.append(title)
                sig = signature_of.get(text)
                version_id = "av-" + text_hash(text)[:12]
                version_rows.append(
                    {
                        "id": version_id,
                        "article_id": article_id,
                        "version": number,
                        "title": title,
                        "published": published,
                        "text": text,
                        "snapshots": count,
                        "first_seen": first,
                        "last_seen": last,
                        "similarity_to_previous": None
                        if previous_sig is None
                        else round(estimate_jaccard(previous_sig, sig), 3),
                    }
                )
                link_rows += [{"page_id": self._page_id(k), "article_version_id": version_id} for k in keys]
                previous_sig = sig
            all_keys = [k for keys in versions.values() for k in keys]
            count, first, last = self._span(all_keys)
            url = max(all_keys, key=lambda k: self.seen[k][2])
            url = url_of.get(url)
            status = article_status(latest.get(url))
            article_rows.append(
                {
                    "id": article_id,
                    "title": next((t for t in reversed(titles) if t), None),
                    "url": url,
                    "status": status,
                    "versions": len(ordered),
                    "snapshots": count,
                    "first_seen": first,
                    "last_seen": last,
                }
            )
        self.db["articles"].insert_all(article_rows)
        self.db["article_versions"].insert_all(version_rows)
        self.db["content_articles"].insert_all(link_rows)

    def _page_id(self, sha: str) -> int:
        """A content's row in ``pages``: what ``content_blocks`` and ``content_articles`` name it by (m023)."""
        if self._page_ids is None:
            self._page_ids = dict(self.db.execute("SELECT content_sha256, rowid FROM pages").fetchall())
        return self._page_ids[sha]

    def _write_blocks(self) -> None:
        occurrences: dict[int, dict[tuple[str, ...], list[str]]] = defaultdict(lambda: defaultdict(list))
        labels_of: dict[tuple[str, ...], list[int]] = {}
        for key, runs in self.d.runs.items():
            if key not in self.seen:
                continue
            page = self.pages[key]
            for run in runs:
                lines = tuple(page.lines[i][0] for i in run.lines)
                occurrences[run.block][lines].append(key)
                labels_of[lines] = [self.d.line_label[t] for t in lines]
        blocks = []
        for versions in occurrences.values():
            spans = {lines: self._span(keys) for lines, keys in versions.items()}
            ordered = sorted(versions, key=lambda v: self._order(versions[v], "\n".join(v)))
            blocks.append((self._order(versions[ordered[0]], "\n".join(ordered[0])), ordered, versions, spans))
        blocks.sort()
        block_rows, version_rows, line_rows, change_rows, link_rows, fact_rows = [], [], [], [], [], []
        for block_id, (_, ordered, versions, spans) in enumerate(blocks, start=1):
            slots = assign_slots([labels_of[v] for v in ordered], [list(v) for v in ordered])
            commonest = max(ordered, key=lambda v: spans[v][0])
            all_keys = [k for keys in versions.values() for k in keys]
            count, first, last = self._span(all_keys)
            block_rows.append(
                {
                    "id": block_id,
                    "name": commonest[0][:80],
                    "versions": len(ordered),
                    "snapshots": count,
                    "first_seen": first,
                    "last_seen": last,
                }
            )
            previous = None
            for number, (lines, line_slots) in enumerate(zip(ordered, slots), start=1):
                text = "\n".join(lines)
                version_id = version_public_id(text_hash(text))
                n, vfirst, vlast = spans[lines]
                version_rows.append(
                    {
                        "id": version_id,
                        "block_id": block_id,
                        "version": number,
                        "language": detect_language(text),
                        "text": text,
                        "line_count": len(lines),
                        "snapshots": n,
                        "first_seen": vfirst,
                        "last_seen": vlast,
                    }
                )
                line_rows += [
                    {"block_version_id": version_id, "line_no": i, "slot": s, "text": t}
                    for i, (t, s) in enumerate(zip(lines, line_slots))
                ]
                link_rows += [
                    {"page_id": self._page_id(k), "block_version_id": version_id} for k in set(versions[lines])
                ]
                facts = extract_facts(lines)  # once per version: the changes below reuse them
                fact_rows += [
                    {
                        "block_version_id": version_id,
                        "delegation": f.delegation,
                        "field": f.field,
                        "value": f.value,
                        "line_no": f.line_no,
                    }
                    for f in facts
                ]
                if previous is not None:
                    prev_id, prev_lines, prev_slots, prev_facts = previous
                    change_rows += [
                        {
                            "block_version_id": version_id,
                            "previous_version_id": prev_id,
                            "slot": c.slot,
                            "kind": c.kind,
                            "old_text": c.old_text,
                            "new_text": c.new_text,
                            "detail": c.detail,
                        }
                        for c in compare_versions(prev_lines, prev_slots, lines, line_slots, prev_facts, facts)
                    ]
                previous = (version_id, lines, line_slots, facts)
        self.db["blocks"].insert_all(block_rows)
        self.db["block_versions"].insert_all(version_rows)
        self.db["block_version_lines"].insert_all(line_rows)
        self.db["block_line_changes"].insert_all(change_rows)
        self.db["content_blocks"].insert_all(link_rows, ignore=True)
        self.db["facts"].insert_all(fact_rows)
