"""Stage 5: the public records. Only the articles and blocks that contain a touched page are
rewritten (``articles``/``article_versions``, ``blocks``/``block_versions`` with their lines, changes
and facts); public ids stay ranks by first appearance (``ranks``)."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ...blocks import version_public_id
from ...facts import Fact, extract_facts
from ...language import detect_language
from ...minhash import estimate_jaccard
from ...pages import article_status
from ...variants import assign_slots, compare_versions
from ..base import order_key
from . import sql
from .model import Touched
from .pages import NeedsRebuild
from .ranks import renumber
from .texts import release_held_signatures, signatures


class ArticleMember(NamedTuple):
    """One content of an article (a row of ``sql.ARTICLE_MEMBERS``)."""

    sha: str
    text_id: int
    text_hash: str  # hex of derive_texts.hash (16 bytes of sha256): the start of storage.text_hash
    snapshots: int
    first_seen: str
    last_seen: str
    min_url: str
    newest_url: str
    title: str | None
    published: str | None


def _span(members: list[ArticleMember]) -> tuple[int, str, str]:
    return sum(m.snapshots for m in members), min(m.first_seen for m in members), max(m.last_seen for m in members)


def _order(members: list[ArticleMember]) -> str:
    return order_key(min(m.first_seen for m in members), min(m.min_url for m in members), members[0].text_hash)


@dataclass
class BuiltArticle:
    key: str
    row: tuple  # title, url, status, versions, snapshots, first_seen, last_seen
    versions: list[dict[str, Any]]
    links: list[tuple[str, str]]  # (content, article version id)


@dataclass
class VersionInfo:
    """A block version as the block's record needs it."""

    hash: str
    lines: list[str]
    labels: list[int]  # the lines' clusters
    span: tuple[int, str, str]  # snapshots, first seen, last seen
    order: str

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass
class BuiltBlock:
    key: str
    row: tuple  # name, versions, snapshots, first_seen, last_seen
    versions: list[dict[str, Any]]
    lines: list[tuple]  # block_version_lines rows
    changes: list[tuple]  # block_line_changes rows


def latest_statuses(conn: sqlite3.Connection, urls: Iterable[str | None]) -> dict[str, str | None]:
    """URL -> status of its newest snapshot ('removed' says its article was removed: ``pages.article_status``),
    one query per chunk of URLs."""
    found: dict[str, str | None] = {}
    for chunk in sql.chunks(sorted({url for url in urls if url is not None})):
        found.update(conn.execute(sql.LATEST_STATUSES, [json.dumps(list(chunk))]).fetchall())
    return found


def _every(versions: dict[int, list[ArticleMember]]) -> list[ArticleMember]:
    """An article's contents in the reference's iteration order: texts by their smallest content, contents
    by hash."""
    return [m for t in sorted(versions, key=lambda t: versions[t][0].sha) for m in versions[t]]


def _by_text(members: list[ArticleMember]) -> dict[int, list[ArticleMember]]:
    versions: dict[int, list[ArticleMember]] = {}
    for member in members:
        versions.setdefault(member.text_id, []).append(member)
    return versions


def newest_url(members: list[ArticleMember]) -> str:
    """The URL an article was last seen under (its ``articles.url``)."""
    return _last_url(_every(_by_text(members)))


def _last_url(every: list[ArticleMember]) -> str:
    """``newest_url`` of contents already in ``_every`` order (the first of the newest wins a tie)."""
    return max(every, key=lambda m: m.last_seen).newest_url


def _version_id(member: ArticleMember) -> str:
    return "av-" + member.text_hash[:12]


def article(
    conn: sqlite3.Connection,
    members: list[ArticleMember],
    texts: dict[int, str],
    known: dict[tuple[str, str], float | None] | None = None,
    statuses: dict[str, str | None] | None = None,
) -> BuiltArticle:
    """The record of one s1 group from its contents: the article, its versions in time order, its links.

    A version's text is the one a page took in this refresh (``texts``, ``Touched.article_texts``), else
    None: a version already in ``article_versions``, whose text never changes (its id is its text's hash).
    ``known``: (previous version id, version id) -> the similarity already stored for that pair (a pure
    function of the two texts), so that a page seen again reads no signature. ``statuses``: URL -> the
    status of its newest snapshot (``latest_statuses``), read here when not given."""
    versions = _by_text(members)
    ordered = sorted(versions, key=lambda t: _order(versions[t]))
    ids = {text_id: _version_id(versions[text_id][0]) for text_id in ordered}
    known = known or {}
    pairs = list(zip(ordered, ordered[1:]))
    unknown = [pair for pair in pairs if (ids[pair[0]], ids[pair[1]]) not in known]
    sigs = signatures(conn, {t for pair in unknown for t in pair}) if unknown else {}
    out, links, titles = [], [], []
    previous = None
    for number, text_id in enumerate(ordered, start=1):
        group = versions[text_id]
        count, first, last = _span(group)
        title = next((m.title for m in group if m.title), None)
        titles.append(title)
        version_id = ids[text_id]
        if previous is None:
            similarity = None
        elif (ids[previous], version_id) in known:
            similarity = known[ids[previous], version_id]
        else:
            similarity = round(estimate_jaccard(sigs[previous], sigs[text_id]), 3)
        out.append(
            {
                "id": version_id,
                "version": number,
                "title": title,
                "published": next((m.published for m in group if m.published), None),
                "text": texts.get(text_id),
                "snapshots": count,
                "first_seen": first,
                "last_seen": last,
                "similarity_to_previous": similarity,
            }
        )
        links += [(m.sha, version_id) for m in group]
        previous = text_id
    every = _every(versions)
    count, first, last = _span(every)
    url = _last_url(every)
    if statuses is None:
        statuses = latest_statuses(conn, [url])
    status = article_status(statuses.get(url))
    row = (next((t for t in reversed(titles) if t), None), url, status, len(ordered), count, first, last)
    return BuiltArticle(_order(versions[ordered[0]]), row, out, links)


def _similarities(stored: dict[str, tuple]) -> dict[tuple[str, str], float | None]:
    """(previous version id, version id) -> stored similarity, for the versions of one article."""
    number = sql.ARTICLE_VERSION_FIELDS.index("version")
    similarity = sql.ARTICLE_VERSION_FIELDS.index("similarity_to_previous")
    by_number = {fields[number]: version_id for version_id, fields in stored.items()}
    return {
        (by_number[fields[number] - 1], version_id): fields[similarity]
        for version_id, fields in stored.items()
        if fields[number] - 1 in by_number
    }


def _old_records(conn: sqlite3.Connection, statement: str, labels: list[int]) -> dict[int, tuple[str, int]]:
    old: dict[int, tuple[str, int]] = {}
    for chunk in sql.chunks(labels):
        for label, key, pid in conn.execute(sql.in_list(statement, chunk), list(chunk)):
            old[label] = (key, pid)
    return old


@dataclass
class _Updates:
    """The rows a refresh changes in articles kept in place, written together by ``RecordWriter._apply``."""

    inserted: list[list] = field(default_factory=list)  # INSERT_ARTICLE
    articles: list[list] = field(default_factory=list)  # UPDATE_ARTICLE
    urls: list[list] = field(default_factory=list)  # UPDATE_ARTICLE_ORDER_URL
    upserted: list[dict[str, Any]] = field(default_factory=list)  # versions with a text
    moved: list[dict[str, Any]] = field(default_factory=list)  # versions without
    links: list[tuple[str, str]] = field(default_factory=list)  # RELINK_CONTENT_ARTICLE


class RecordWriter:
    """Rewrites the public rows of the articles and blocks a refresh touched, and keeps ids ranks."""

    def __init__(self, conn: sqlite3.Connection, touched: Touched) -> None:
        self.conn = conn
        self.touched = touched
        self.written_texts: list[str] = []  # the texts of article versions written with one (m040)

    def write(self) -> None:
        self.conn.execute("PRAGMA defer_foreign_keys = ON")
        for version_id in sorted(self.touched.recount):  # a page left it: min and max cannot be taken back
            self.conn.execute(sql.RECOUNT_VERSION, [version_id, version_id])
        self.write_articles(sorted(self.touched.articles))
        self.write_blocks(sorted(self.touched.blocks))

    # --- articles

    def write_articles(self, groups: list[int]) -> None:
        """Rewrite the records of these s1 groups. An article that keeps its sort key and its versions (its
        pages seen again, or new pages of texts it has: only counts, dates and its URL move) is updated in
        place, only the rows that differ written; any other is deleted and inserted again, its public id a
        rank (``renumber``)."""
        old = _old_records(self.conn, sql.ARTICLE_ORDER, groups)
        stored = self._stored_versions([pid for _, pid in old.values()])
        members = self._members(groups)
        texts = self.touched.article_texts
        known = {pair: similarity for rows in stored.values() for pair, similarity in _similarities(rows).items()}
        statuses = latest_statuses(self.conn, (newest_url(found) for found in members.values() if found))
        built = {grp: article(self.conn, members[grp], texts, known, statuses) for grp in groups if members[grp]}
        steady = {
            grp
            for grp, record in built.items()
            if grp in old
            and record.key == old[grp][0]
            and {v["id"] for v in record.versions} == set(stored.get(old[grp][1], {}))  # a text given again: its id
        }
        rows = self._article_rows([old[grp][1] for grp in steady])
        updates = _Updates()
        for grp in sorted(steady):
            pid = old[grp][1]
            self._update_article(updates, grp, pid, built.pop(grp), stored[pid], rows.get(pid))
        self._apply(updates)
        old = {grp: found for grp, found in old.items() if grp not in steady}
        old_versions: set[str] = set()
        for grp, (_, pid) in old.items():
            old_versions.update(stored.get(pid, {}))
            self.conn.execute(sql.DETACH_ARTICLE_VERSIONS, [pid])  # until rewritten or dropped
            self.conn.execute(sql.DELETE_ARTICLE, [pid])
            self.conn.execute(sql.DELETE_ARTICLE_ORDER, [grp])
        assigned = renumber(self.conn, sql.ARTICLE_RANKS, old, {grp: r.key for grp, r in built.items()})
        new_versions: set[str] = set()
        for grp, record in built.items():
            pid = assigned[grp]
            self.conn.execute(sql.INSERT_ARTICLE, [pid, *record.row])
            self.conn.execute(sql.INSERT_ARTICLE_ORDER, [grp, record.key, pid, record.row[1]])
            for v in record.versions:
                new_versions.add(v["id"])
                self._write_version({**v, "article_id": pid})
            self.conn.executemany(sql.LINK_CONTENT_ARTICLE, record.links)
        for version_id in sorted(old_versions - new_versions):  # its texts left these articles
            self.conn.execute(sql.UNLINK_ARTICLE_VERSION, [version_id])
            self.conn.execute(sql.DELETE_ARTICLE_VERSION, [version_id])  # its text's signature put back (trigger)
        release_held_signatures(self.conn, self.written_texts)

    @staticmethod
    def _update_article(
        updates: _Updates, grp: int, pid: int, record: BuiltArticle, stored: dict[str, tuple], row: tuple | None
    ) -> None:
        """An article in place: the same id, sort key and versions; the rows whose values moved go to
        ``updates`` (``row``: its ``articles`` row as stored)."""
        if row is None:  # its row gone (a hand edit): written again, as a rewrite would
            updates.inserted.append([pid, *record.row])
        elif row != record.row:
            updates.articles.append([*record.row, pid])
            if row[1] != record.row[1]:  # its newest URL
                updates.urls.append([record.row[1], grp])
        for v in record.versions:
            if stored[v["id"]] != tuple(v[c] for c in sql.ARTICLE_VERSION_FIELDS):
                version = {**v, "article_id": pid}
                (updates.moved if version["text"] is None else updates.upserted).append(version)
        updates.links += record.links  # new contents of known versions

    def _apply(self, updates: _Updates) -> None:
        """The steady articles' changes, one executemany per statement for the whole refresh (a week's crawl
        sees every article again: one statement per article was most of the refresh)."""
        self.conn.executemany(sql.INSERT_ARTICLE, updates.inserted)
        self.conn.executemany(sql.UPDATE_ARTICLE, updates.articles)
        self.conn.executemany(sql.UPDATE_ARTICLE_ORDER_URL, updates.urls)
        self.conn.executemany(sql.UPSERT_ARTICLE_VERSION, updates.upserted)
        self.written_texts += [v["text"] for v in updates.upserted]
        self._move_versions(updates.moved)
        self.conn.executemany(sql.RELINK_CONTENT_ARTICLE, updates.links)

    def _article_rows(self, pids: list[int]) -> dict[int, tuple]:
        """article id -> its ``articles`` row as ``article`` builds it (one query per chunk of ids)."""
        rows: dict[int, tuple] = {}
        for chunk in sql.chunks(pids):
            for pid, *row in self.conn.execute(sql.in_list(sql.ARTICLE_ROWS, chunk), chunk):
                rows[pid] = tuple(row)
        return rows

    def _stored_versions(self, pids: list[int]) -> dict[int, dict[str, tuple]]:
        """article id -> version id -> its ``sql.ARTICLE_VERSION_FIELDS`` as stored."""
        stored: dict[int, dict[str, tuple]] = defaultdict(dict)
        for chunk in sql.chunks(pids):
            for pid, version_id, *fields in self.conn.execute(sql.in_list(sql.ARTICLE_VERSIONS_OF, chunk), chunk):
                stored[pid][version_id] = tuple(fields)
        return stored

    def _write_version(self, version: dict[str, Any]) -> None:
        """Insert or update one article version; without its text, the row must be there already."""
        if version["text"] is not None:
            self.conn.execute(sql.UPSERT_ARTICLE_VERSION, version)
            self.written_texts.append(version["text"])
        else:
            self._move_versions([version])

    def _move_versions(self, versions: list[dict[str, Any]]) -> None:
        """Update article versions written before (no text given): each row must be there already."""
        if self.conn.executemany(sql.MOVE_ARTICLE_VERSION, versions).rowcount == len(versions):
            return
        # every s1 text had its version written when a page first took it: the state is not the
        # engine's (or a bug); a rebuild derives every text again
        ids = [v["id"] for v in versions]
        there = set()
        for chunk in sql.chunks(ids):
            there.update(i for (i,) in self.conn.execute(sql.in_list(sql.VERSIONS_THERE, chunk), chunk))
        missing = next(i for i in ids if i not in there)
        raise NeedsRebuild(f"article version {missing} has no text: not written, and not new")

    def _members(self, groups: list[int]) -> dict[int, list[ArticleMember]]:
        """The contents of each s1 group, by content hash (one query per chunk of groups)."""
        members: dict[int, list[ArticleMember]] = defaultdict(list)
        for chunk in sql.chunks(groups):
            for grp, *row in self.conn.execute(sql.in_list(sql.ARTICLE_MEMBERS, chunk), list(chunk)):
                members[grp].append(ArticleMember(*row))
        for found in members.values():
            found.sort(key=lambda m: m.sha)
        return members

    # --- blocks

    def write_blocks(self, blocks: list[int]) -> None:
        old = _old_records(self.conn, sql.BLOCK_ORDER, blocks)
        old_versions: set[str] = set()
        for block, (_, pid) in old.items():
            old_versions.update(v for (v,) in self.conn.execute(sql.BLOCK_VERSION_IDS, [pid]))
            self.conn.execute(sql.DETACH_BLOCK_VERSIONS, [pid])  # until rewritten or dropped
            self.conn.execute(sql.DELETE_BLOCK, [pid])
            self.conn.execute(sql.DELETE_BLOCK_ORDER, [block])
        built = {block: record for block in blocks if (record := self.block(block)) is not None}
        assigned = renumber(self.conn, sql.BLOCK_RANKS, old, {b: r.key for b, r in built.items()})
        new_versions: set[str] = set()
        for block, record in built.items():
            new_versions.update(self._write_block(block, assigned[block], record))
        for version_id in sorted(old_versions - new_versions):
            linked = self.conn.execute(sql.CONTENTS_OF_BLOCK_VERSION, [version_id])
            self.touched.dropped_contents.update(sha for (sha,) in linked)
            for statement in sql.DROP_BLOCK_VERSION:
                self.conn.execute(statement, [version_id])
        self.conn.executemany(sql.UNLINK_CONTENT_BLOCK, sorted(self.touched.link_del))
        self.conn.executemany(sql.LINK_CONTENT_BLOCK, sorted(self.touched.link_add))

    def _write_block(self, block: int, pid: int, record: BuiltBlock) -> list[str]:
        """Write one block's rows; returns its version ids."""
        self.conn.execute(sql.INSERT_BLOCK, [pid, *record.row])
        self.conn.execute(sql.INSERT_BLOCK_ORDER, [block, record.key, pid])
        ids = [v["id"] for v in record.versions]
        for chunk in sql.chunks(ids):
            self.conn.execute(sql.in_list(sql.DELETE_VERSION_LINES, chunk), list(chunk))
            self.conn.execute(sql.in_list(sql.DELETE_VERSION_CHANGES, chunk), list(chunk))
        for v in record.versions:
            if not v["fresh"]:  # its text, language and facts never change: only place, number and spans
                self.conn.execute(sql.MOVE_BLOCK_VERSION, {**v, "block_id": pid})
            else:
                self.conn.execute(sql.INSERT_BLOCK_VERSION, {**v, "block_id": pid})
                self.conn.executemany(
                    sql.INSERT_FACT, [(v["id"], f.delegation, f.field, f.value, f.line_no) for f in v["facts"]]
                )
        self.conn.executemany(sql.INSERT_VERSION_LINE, record.lines)
        self.conn.executemany(sql.INSERT_LINE_CHANGE, record.changes)
        return ids

    def _version_info(self, row: tuple) -> VersionInfo:
        _, h, line_ids, lines, count, first, last, min_url = row
        ids = json.loads(line_ids)
        clusters = dict(self.conn.execute(sql.in_list(sql.LINE_CLUSTERS, ids), ids).fetchall())
        return VersionInfo(
            hash=h,
            lines=json.loads(lines),
            labels=[clusters[i] for i in ids],
            span=(count, first, last),
            order=order_key(first, min_url, h),
        )

    def _facts(self, version_id: str, item: VersionInfo, fresh: bool) -> list[Fact]:
        if fresh:  # facts extracted once, when the version first appears
            return self.touched.new_facts.get(item.hash) or extract_facts(item.lines)
        # a version already written: its facts are in the facts table
        return [Fact(*row) for row in self.conn.execute(sql.FACTS_OF_VERSION, [version_id])]

    def block(self, block: int) -> BuiltBlock | None:
        """The record of one block: its versions in time order, their lines in slots, what changed."""
        rows = self.conn.execute(sql.VERSION_ROWS_OF_BLOCK, [block]).fetchall()
        if not rows:
            return None
        ordered = sorted((self._version_info(row) for row in rows), key=lambda item: item.order)
        slots = assign_slots([item.labels for item in ordered], [item.lines for item in ordered])
        counts = [item.span[0] for item in ordered]
        commonest = ordered[counts.index(max(counts))]
        first = min(item.span[1] for item in ordered)
        row = (commonest.lines[0][:80], len(ordered), sum(counts), first, max(item.span[2] for item in ordered))
        out, line_rows, change_rows = [], [], []
        previous = None
        for number, (item, line_slots) in enumerate(zip(ordered, slots), start=1):
            version_id = version_public_id(item.hash)
            fresh = self.conn.execute(sql.BLOCK_VERSION_WRITTEN, [version_id]).fetchone() is None
            facts = self._facts(version_id, item, fresh)
            out.append(
                {
                    "id": version_id,
                    "fresh": fresh,
                    "version": number,
                    "language": detect_language(item.text) if fresh else None,
                    "text": item.text,
                    "line_count": len(item.lines),
                    "snapshots": item.span[0],
                    "first_seen": item.span[1],
                    "last_seen": item.span[2],
                    "facts": facts,
                }
            )
            line_rows += [(version_id, i, s, t) for i, (t, s) in enumerate(zip(item.lines, line_slots))]
            if previous is not None:
                prev_id, prev_lines, prev_slots, prev_facts = previous
                change_rows += [
                    (version_id, prev_id, c.slot, c.kind, c.old_text, c.new_text, c.detail)
                    for c in compare_versions(prev_lines, prev_slots, item.lines, line_slots, prev_facts, facts)
                ]
            previous = (version_id, item.lines, line_slots, facts)
        return BuiltBlock(ordered[0].order, row, out, line_rows, change_rows)
