"""Differences between two texts: unified, word-level, side by side and structured.

The same word-level opcodes feed the terminal output here and the Datasette diff page,
so a "7 → 6" is highlighted the same way everywhere.
"""

from __future__ import annotations

import difflib
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import click

_TOKEN = re.compile(r"\s+|[^\s]+")
# difflib's line matcher (autojunk off, so repeated lines are matched too) does work in proportion to
# the pairs of equal lines it can match, a's line i with b's line j: a few hundred for two versions of an
# article, 8 million for two 4,000-line texts of two lines repeated at random (2 s a pass). Beyond this
# budget (~0.5 s a pass) the texts are refused with one sentence instead of occupying a process.
MAX_LINE_PAIRS = 2_000_000


class DiffTooLarge(ValueError):
    """Two texts too costly to align line by line (one sentence)."""


def equal_line_pairs(la: list[str], lb: list[str]) -> int:
    """How many (i, j) have la[i] == lb[j]: the line matcher's cost, counted in linear time."""
    counts = Counter(lb)
    return sum(counts.get(line, 0) for line in la)


def check_alignable(la: list[str], lb: list[str]) -> None:
    """DiffTooLarge when aligning these lines would cost more than MAX_LINE_PAIRS: asked before any matching."""
    pairs = equal_line_pairs(la, lb)
    if pairs > MAX_LINE_PAIRS:
        raise DiffTooLarge(f"The texts repeat the same lines too often to be aligned ({pairs:,} pairs of equal "
                           f"lines, more than {MAX_LINE_PAIRS:,}).")


def line_opcodes(la: list[str], lb: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes from lines ``la`` to ``lb``: the one line matcher of every diff view, bounded by
    MAX_LINE_PAIRS."""
    check_alignable(la, lb)
    return difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes()


@dataclass(frozen=True)
class WordOp:
    """One run of words: 'equal', 'delete', 'insert' (a replace is a delete then an insert)."""

    op: str
    text: str


def unified(a: str, b: str, a_name: str, b_name: str, color: bool = False) -> str:
    """Classic line diff (``diff -u``); DiffTooLarge for texts beyond the line matcher's budget."""
    check_alignable(a.splitlines(), b.splitlines())
    lines = difflib.unified_diff(a.splitlines(), b.splitlines(), a_name, b_name, lineterm="", n=2)
    out = []
    for line in lines:
        if color and line.startswith("+") and not line.startswith("+++"):
            line = click.style(line, fg="green")
        elif color and line.startswith("-") and not line.startswith("---"):
            line = click.style(line, fg="red")
        out.append(line)
    return "\n".join(out)


def word_ops(a: str, b: str) -> list[WordOp]:
    """Word-level edit script from ``a`` to ``b`` (whitespace kept, so it re-joins exactly)."""
    ta, tb = _TOKEN.findall(a), _TOKEN.findall(b)
    ops: list[WordOp] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if tag == "equal":
            ops.append(WordOp("equal", "".join(ta[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            ops.append(WordOp("delete", "".join(ta[i1:i2])))
        if tag in ("insert", "replace"):
            ops.append(WordOp("insert", "".join(tb[j1:j2])))
    return ops


@dataclass(frozen=True)
class LineRow:
    """One row of a two-column diff: the opcode it came from, 1-based line numbers, both lines."""

    tag: str  # difflib's 'equal', 'replace', 'delete' or 'insert'
    ln_a: int | None
    ln_b: int | None
    old: str | None
    new: str | None


def aligned_rows(la: list[str], lb: list[str], opcodes: list[tuple] | None = None) -> Iterator[LineRow]:
    """Lines of a and b paired row by row (None where one side has no line): every diff view's base."""
    if opcodes is None:
        opcodes = line_opcodes(la, lb)
    for tag, i1, i2, j1, j2 in opcodes:
        for k in range(max(i2 - i1, j2 - j1)):
            old = la[i1 + k] if k < i2 - i1 else None
            new = lb[j1 + k] if k < j2 - j1 else None
            yield LineRow(tag, i1 + k + 1 if old is not None else None, j1 + k + 1 if new is not None else None, old, new)


def changed_line_pairs(a: str, b: str) -> list[tuple[str | None, str | None]]:
    """Pairs of lines that differ, aligned by difflib (None where a line was added or removed)."""
    return [(row.old, row.new) for row in aligned_rows(a.splitlines(), b.splitlines()) if row.tag != "equal"]


def words(a: str, b: str, color: bool = False) -> str:
    """Changed lines with word-level marks: [-removed-]{+added+} (or colours on a terminal)."""
    out = []
    for old, new in changed_line_pairs(a, b):
        parts = []
        for op in word_ops(old or "", new or ""):
            if op.op == "equal":
                parts.append(op.text)
            elif op.op == "delete":
                parts.append(click.style(op.text, fg="red", strikethrough=True) if color else f"[-{op.text}-]")
            else:
                parts.append(click.style(op.text, fg="green", bold=True) if color else f"{{+{op.text}+}}")
        out.append("".join(parts))
    return "\n".join(out)


def side_by_side(a: str, b: str, a_name: str, b_name: str, width: int | None = None) -> str:
    """Two columns, changed rows marked with '|', '<' or '>' like ``diff -y``."""
    width = width or shutil.get_terminal_size((160, 24)).columns
    col = max(20, (width - 3) // 2)
    rows = [f"{a_name[:col]:<{col}} | {b_name[:col]}"]
    marks = {"equal": " ", "replace": "|", "delete": "<", "insert": ">"}
    for row in aligned_rows(a.splitlines(), b.splitlines()):
        left, right = row.old or "", row.new or ""
        left = left if len(left) <= col else left[: col - 1] + "…"
        rows.append(f"{left:<{col}} {marks[row.tag]} {right[:col]}")
    return "\n".join(rows)


def structured(a: str, b: str, a_id: str, b_id: str, opcodes: list[tuple] | None = None) -> dict[str, Any]:
    """JSON-ready diff: the changed line pairs, each with its word operations (one pass of the line matcher,
    or the caller's ``opcodes``: the similarity is difflib's ratio, 2 x matched lines / all lines, read from them)."""
    la, lb = a.splitlines(), b.splitlines()
    if opcodes is None:
        opcodes = line_opcodes(la, lb)
    changes = []
    for row in aligned_rows(la, lb, opcodes):
        if row.tag == "equal":
            continue
        old, new = row.old, row.new
        changes.append({
            "old": old, "new": new,
            "words": [{"op": op.op, "text": op.text} for op in word_ops(old or "", new or "") if op.text.strip() or op.op == "equal"],
        })
    matched = sum(i2 - i1 for tag, i1, i2, _, _ in opcodes if tag == "equal")
    similarity = 2 * matched / (len(la) + len(lb)) if la or lb else 1.0
    return {"a": a_id, "b": b_id, "identical": a == b, "line_similarity": round(similarity, 4), "changes": changes}
