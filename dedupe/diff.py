"""Differences between two texts: unified, word-level, side by side and structured.

The same word-level opcodes feed the terminal output here and the Datasette diff page,
so a "7 → 6" is highlighted the same way everywhere.
"""

from __future__ import annotations

import difflib
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import click

_TOKEN = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class WordOp:
    """One run of words: 'equal', 'delete', 'insert' (a replace is a delete then an insert)."""

    op: str
    text: str


def unified(a: str, b: str, a_name: str, b_name: str, color: bool = False) -> str:
    """Classic line diff (``diff -u``)."""
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
        opcodes = difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes()
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


def structured(a: str, b: str, a_id: str, b_id: str) -> dict[str, Any]:
    """JSON-ready diff: the changed line pairs, each with its word operations."""
    changes = []
    for old, new in changed_line_pairs(a, b):
        changes.append({
            "old": old, "new": new,
            "words": [{"op": op.op, "text": op.text} for op in word_ops(old or "", new or "") if op.text.strip() or op.op == "equal"],
        })
    similarity = difflib.SequenceMatcher(None, a.splitlines(), b.splitlines(), autojunk=False).ratio()
    return {"a": a_id, "b": b_id, "identical": a == b, "line_similarity": round(similarity, 4), "changes": changes}
