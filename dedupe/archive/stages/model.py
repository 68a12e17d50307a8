"""The values the engine's stages pass to each other: the two furniture rounds, what a refresh
touched, one page's lines, and the furniture set as a page sees it.

Stages hand these over explicitly (the driver in ``dedupe.archive.incremental`` passes one
``Touched`` to each stage that adds to it), so what a stage reads and what it changes can be
seen from its signature."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ...blocks import PageLines

LINE_KEY_BYTES = 12  # of sha256 (m041): 96 bits, no collision among any number of lines an archive will hold
TEXT_KEY_BYTES = 16  # an article version's public id is 'av-' + the first 12 hex digits of its text's key
LINE_SPACES = {"line": 0, "title": 1}  # derive_lines.space (m041: an integer, stored in no byte of the row)


def line_key(text: str) -> bytes:
    """What ``derive_lines`` knows a line by: the first 12 bytes of its text's sha256 (a BLOB, in the table and its
    unique index; 16 before m041)."""
    return hashlib.sha256(text.encode("utf-8")).digest()[:LINE_KEY_BYTES]


def text_key(text: str) -> bytes:
    """What ``derive_texts`` knows an article text by: the first 16 bytes of its sha256 (the hex of which starts
    as ``storage.text_hash`` does, so public ids made from it are unchanged)."""
    return hashlib.sha256(text.encode("utf-8")).digest()[:TEXT_KEY_BYTES]


# text id -> (group before, group after) for every text whose group in a space changed
Moves = dict[int, tuple[int | None, int | None]]


@dataclass(frozen=True)
class Round:
    """One of the two furniture rounds, with the ``derive_*`` columns it reads and writes.

    Round 0 counts titled article pages by (title cluster, text group before any furniture); round 1
    counts every article page by (title cluster, text group after round 0's furniture) and gives the
    final article texts. Spelled out, so that grep finds every use of a column."""

    number: int  # derive_near.stage
    runs_column: str  # derive_pages: the lines of the page's body runs (derive_run_sets: line_ids_blob)
    in_runs_column: str  # derive_lines: on how many pages the line is in a body run
    ev_column: str  # derive_pages: the article a page counts as in this round
    rep_column: str  # derive_lines: repeats verbatim on two different articles
    flag_column: str  # derive_lines: furniture after this round
    text_column: str  # derive_pages: the page's text after this round's furniture
    space: str  # derive_groups.space of those texts
    evidence_text_column: str  # derive_pages: the text whose group names the page's evidence
    evidence_space: str  # derive_groups.space of that text
    needs_title: bool  # only titled pages give evidence
    earlier_flag_column: str | None  # furniture of an earlier round stays furniture
    final: bool  # its texts are the articles' texts, its runs the pages' blocks

    def sql(self, template: str, **fields: Any) -> str:
        """A statement of ``dedupe.archive.stages.sql`` with this round's column names filled in."""
        return template.format(
            ev=self.ev_column,
            rep=self.rep_column,
            flag=self.flag_column,
            text=self.text_column,
            evidence_text=self.evidence_text_column,
            stage=self.number,
            runs=self.runs_column,
            in_runs=self.in_runs_column,
            **fields,
        )


ROUND_0 = Round(
    number=0,
    runs_column="runs0_id",
    in_runs_column="in_runs0",
    ev_column="ev0",
    rep_column="rep0",
    flag_column="f0",
    text_column="text0_id",
    space="s0",
    evidence_text_column="raw_id",
    evidence_space="raw",
    needs_title=True,
    earlier_flag_column=None,
    final=False,
)
ROUND_1 = Round(
    number=1,
    runs_column="runs1_id",
    in_runs_column="in_runs1",
    ev_column="ev1",
    rep_column="rep1",
    flag_column="f1",
    text_column="text1_id",
    space="s1",
    evidence_text_column="text0_id",
    evidence_space="s0",
    needs_title=False,
    earlier_flag_column="f0",
    final=True,
)


def line_ids_blob(ids: Iterable[int]) -> bytes | None:
    """A set of line ids as stored (a ``derive_run_sets`` value, named by ``derive_pages.runs0_id``...): sorted,
    4 bytes each, little-endian; None for none. A row per (line, page) stored each id with both keys and an index."""
    ordered = sorted(ids)
    return struct.pack(f"<{len(ordered)}I", *ordered) if ordered else None


KIND_BITS = 2  # derive_page_lines.kind: NEAR (1) and CANDIDATE (2), as postings stores them
KIND_MASK = (1 << KIND_BITS) - 1


def page_lines_blob(kinds: dict[int, int]) -> bytes:
    """A page's distinct lines with their kinds (``derive_page_lines.kind``) as ``derive_pages.lines`` holds
    them: in line id order, each as the gap from the previous id shifted over its kind's two bits, an unsigned
    LEB128 varint. The template's lines have small ids and a new page's own lines consecutive ones, so most
    gaps take a byte: 55 B a page at a million observations, where 4 bytes an id and a byte a kind took 167
    (m031; m025 put the lines here: 401 B a page after the benchmark's first crawl in ``derive_page_lines``'
    index by page). The engine reads a page's lines from it, and the pages of a line from
    ``derive_page_lines`` and ``derive_line_pages``."""
    out = bytearray()
    previous = 0
    for line in sorted(kinds):
        kind = kinds[line]
        if not 0 <= kind <= KIND_MASK:
            raise ValueError(f"line kind {kind} of line {line} does not fit {KIND_BITS} bits")
        value = (line - previous) << KIND_BITS | kind
        previous = line
        while value > 0x7F:
            out.append(value & 0x7F | 0x80)
            value >>= 7
        out.append(value)
    return bytes(out)


def page_lines_of(blob: bytes | None) -> list[tuple[int, int]]:
    """The (line id, kind) pairs of a ``page_lines_blob``, in line id order."""
    pairs: list[tuple[int, int]] = []
    line = value = shift = 0
    for byte in blob or b"":
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        line += value >> KIND_BITS
        pairs.append((line, value & KIND_MASK))
        value = shift = 0
    if shift:
        raise ValueError("a page's lines blob ends inside a number")
    return pairs


def line_ids_of(blob: bytes | None) -> set[int]:
    """The line ids of a ``line_ids_blob``."""
    return set(struct.unpack(f"<{len(blob) // 4}I", blob)) if blob else set()


@dataclass
class Touched:
    """What one refresh touched, gathered by the stages and read by the record writer and the caller."""

    articles: set[int] = field(default_factory=set)  # s1 group labels (old and new)
    blocks: set[int] = field(default_factory=set)  # block labels (old and new)
    new_facts: dict[str, list] = field(default_factory=dict)  # block version hash -> facts, extracted once
    link_add: set[tuple[str, str]] = field(default_factory=set)  # (content, block version id) pairs that appeared
    link_del: set[tuple[str, str]] = field(default_factory=set)  # ... and disappeared
    recount: set[int] = field(default_factory=set)  # block versions a page left: their spans are summed again
    dropped_contents: set[str] = field(default_factory=set)  # contents of block versions dropped whole
    # s1 text id -> text, for the final texts pages took in this refresh: ``derive_texts`` keeps no texts, so
    # an article version not yet in ``article_versions`` is written from here (any other is there already)
    article_texts: dict[int, str] = field(default_factory=dict)

    @property
    def changed_contents(self) -> set[str]:
        """Contents whose block versions changed (the time-derived records re-derive their older snapshots)."""
        return {sha for sha, _ in self.link_add | self.link_del} | self.dropped_contents

    def link(self, link: tuple[str, str], added: bool) -> None:
        """A content gained (or lost) a block version; the last word of the refresh counts."""
        keep, drop = (self.link_add, self.link_del) if added else (self.link_del, self.link_add)
        keep.add(link)
        drop.discard(link)


@dataclass
class Page:
    """One analysed content as the engine sees it: its derive_pages id, hash, lines and title."""

    page_id: int
    sha: str
    lines: PageLines
    title: str | None

    @cached_property
    def text_of_key(self) -> dict[bytes, str]:
        """Its line texts by ``line_key``: the engine's state names lines by key."""
        return {line_key(text): text for text, _, _ in self.lines.lines}


class Furniture:
    """The furniture set as one page sees it: its own furniture texts, and whether any exists."""

    def __init__(self, texts: set[str], any_furniture: bool) -> None:
        self.texts = texts
        self.any = any_furniture

    def __contains__(self, text: object) -> bool:
        return text in self.texts

    def __bool__(self) -> bool:
        return self.any
