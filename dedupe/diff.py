"""Differences between two texts: unified, word-level, side by side and structured.

The same word-level opcodes feed the terminal output here and the Datasette diff page,
so a "7 → 6" is highlighted the same way everywhere.
"""

from __future__ import annotations

import difflib
import re
import shutil
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


def changed_line_pairs(a: str, b: str) -> list[tuple[str | None, str | None]]:
    """Pairs of lines that differ, aligned by difflib (None where a line was added or removed)."""
    la, lb = a.splitlines(), b.splitlines()
    pairs: list[tuple[str | None, str | None]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        old, new = la[i1:i2], lb[j1:j2]
        for k in range(max(len(old), len(new))):
            pairs.append((old[k] if k < len(old) else None, new[k] if k < len(new) else None))
    return pairs


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
    la, lb = a.splitlines(), b.splitlines()
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes():
        old, new = la[i1:i2], lb[j1:j2]
        mark = {"equal": " ", "replace": "|", "delete": "<", "insert": ">"}[tag]
        for k in range(max(len(old), len(new))):
            left = old[k] if k < len(old) else ""
            right = new[k] if k < len(new) else ""
            left = left if len(left) <= col else left[: col - 1] + "…"
            rows.append(f"{left:<{col}} {mark} {right[:col]}")
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
