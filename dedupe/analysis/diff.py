"""Differences between two texts: unified, word-level, side by side, structured, and the page's rows.

The same word-level opcodes feed the terminal output here and the Datasette diff page
(``datasette_pa_archive.diff_page``), so a "7 → 6" is highlighted the same way everywhere. Texts
too costly for word-level work get a plain line diff (``too_large_for_words``, ``too_many_words``,
``plain_line_diff``); texts no one should compare raise ``DiffTooLarge`` (``check_comparable``).
"""

from __future__ import annotations

import difflib
import itertools
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

TOKEN = re.compile(r"\s+|[^\s]+")  # a word or a run of whitespace: word diffs re-join exactly
# difflib's line matcher (autojunk off, so repeated lines are matched too) does work in proportion to
# the pairs of equal lines it can match, a's line i with b's line j: a few hundred for two versions of an
# article, 8 million for two 4,000-line texts of two lines repeated at random (2 s a pass). Beyond this
# budget (~0.5 s a pass) the texts are refused with one sentence instead of occupying a process.
MAX_LINE_PAIRS = 2_000_000
# The diff page runs difflib outside Datasette's SQL time limit: beyond these it is a plain line diff
# (common start and end, one aligned middle), without word-level highlights.
MAX_DIFF_BYTES = 5_000_000  # of either text, UTF-8: larger texts are refused, before any matching
MAX_WORD_DIFF_BYTES = 200_000  # of either text, UTF-8
MAX_WORD_DIFF_LINES = 5_000  # of either text
MAX_WORD_DIFF_LINE_CHARS = 5_000  # of any one line
MAX_WORD_WORK = 4_000_000  # sum over changed line pairs of words(old) x words(new): difflib's cost, ~1 s
MAX_ALIGNED_LINES = 20_000  # a plain diff's middle longer than this is shown as removed, then added
# The diff page's line matching is bounded in work, not only in size: difflib recurses into the gaps
# between the matches it finds, and texts whose matches are all short (two 1.1 MB texts with every
# pair of lines swapped: 20,000 gaps) cost it a scan of each gap, quadratic (64 s on one request).
# ``BudgetedMatcher`` counts that scanning (lines scanned plus candidate matches visited) and stops at
# this budget (~0.5 s of difflib): the page then shows the changed region as removed, then added.
MAX_MATCH_WORK = 2_000_000
CONTEXT_LINES = 3  # equal rows kept around each change by ``collapse``

# ANSI styles for a terminal: the codes click.style writes for these, without importing click here
_GREEN, _RED, _BOLD, _STRIKE, _RESET = "\x1b[32m", "\x1b[31m", "\x1b[1m", "\x1b[9m", "\x1b[0m"


class DiffTooLarge(ValueError):
    """Two texts too costly to align line by line (one sentence)."""


class MatchBudgetExceeded(Exception):
    """The line matcher reached its work budget (``BudgetedMatcher``)."""


class BudgetedMatcher(difflib.SequenceMatcher):
    """difflib's SequenceMatcher that raises MatchBudgetExceeded once its matching has cost ``budget``.

    The work of one ``find_longest_match(alo, ahi, blo, bhi)`` is the lines of a it scans (ahi - alo)
    plus, for each, the positions in b of its line (difflib's ``b2j`` lists, which it walks): counted in
    O(1) per call from a prefix sum, so counting costs nothing next to the matching itself."""

    def __init__(self, a: list[str], b: list[str], budget: int, autojunk: bool = True) -> None:
        self.budget, self.work = budget, 0
        super().__init__(None, a, b, autojunk=autojunk)
        occurrences = [len(self.b2j.get(line, ())) + 1 for line in a]
        self._cost = [0, *itertools.accumulate(occurrences)]

    def find_longest_match(self, alo: int = 0, ahi: int | None = None, blo: int = 0, bhi: int | None = None):
        ahi = len(self.a) if ahi is None else ahi
        bhi = len(self.b) if bhi is None else bhi
        self.work += self._cost[ahi] - self._cost[alo] + (bhi - blo)
        if self.work > self.budget:
            raise MatchBudgetExceeded(f"line matching stopped after {self.work:,} steps (budget {self.budget:,})")
        return super().find_longest_match(alo, ahi, blo, bhi)


def equal_line_pairs(la: list[str], lb: list[str]) -> int:
    """How many (i, j) have la[i] == lb[j]: the line matcher's cost, counted in linear time."""
    counts = Counter(lb)
    return sum(counts.get(line, 0) for line in la)


def check_alignable(la: list[str], lb: list[str]) -> None:
    """DiffTooLarge when aligning these lines would cost more than MAX_LINE_PAIRS: asked before any matching."""
    pairs = equal_line_pairs(la, lb)
    if pairs > MAX_LINE_PAIRS:
        raise DiffTooLarge(
            f"The texts repeat the same lines too often to be aligned ({pairs:,} pairs of equal "
            f"lines, more than {MAX_LINE_PAIRS:,})."
        )


def line_opcodes(la: list[str], lb: list[str], budget: int | None = None) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes from lines ``la`` to ``lb``: the one line matcher of every diff view, bounded by
    MAX_LINE_PAIRS; with a ``budget``, MatchBudgetExceeded once matching has cost that much."""
    check_alignable(la, lb)
    if budget is None:
        return difflib.SequenceMatcher(None, la, lb, autojunk=False).get_opcodes()
    return BudgetedMatcher(la, lb, budget, autojunk=False).get_opcodes()


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
            line = f"{_GREEN}{line}{_RESET}"
        elif color and line.startswith("-") and not line.startswith("---"):
            line = f"{_RED}{line}{_RESET}"
        out.append(line)
    return "\n".join(out)


def word_ops(a: str, b: str) -> list[WordOp]:
    """Word-level edit script from ``a`` to ``b`` (whitespace kept, so it re-joins exactly)."""
    ta, tb = TOKEN.findall(a), TOKEN.findall(b)
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
            yield LineRow(
                tag, i1 + k + 1 if old is not None else None, j1 + k + 1 if new is not None else None, old, new
            )


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
                parts.append(f"{_RED}{_STRIKE}{op.text}{_RESET}" if color else f"[-{op.text}-]")
            else:
                parts.append(f"{_GREEN}{_BOLD}{op.text}{_RESET}" if color else f"{{+{op.text}+}}")
        out.append("".join(parts))
    return "\n".join(out)


def side_by_side(a: str, b: str, a_name: str, b_name: str, width: int | None = None, marks: bool = False) -> str:
    """Two columns, changed rows marked with '|', '<' or '>' like ``diff -y``; long lines wrap within their
    column (never cut). ``width``: the terminal's, or 80 when not on one. ``marks``: word-level marks,
    [-removed-] on the left and {+added+} on the right."""
    width = width or shutil.get_terminal_size((80, 24)).columns
    col = max(20, (width - 3) // 2)
    rows = [f"{_cut(a_name, col):<{col}} | {_cut(b_name, col)}"]
    signs = {"equal": " ", "replace": "|", "delete": "<", "insert": ">"}
    for row in aligned_rows(a.splitlines(), b.splitlines()):
        left, right = row.old or "", row.new or ""
        if marks and row.tag != "equal":
            left, right = _marked_sides(left, right)
        lefts, rights = _wrap(left, col), _wrap(right, col)
        for k in range(max(len(lefts), len(rights))):
            sign = signs[row.tag] if k == 0 else " "
            cell = lefts[k] if k < len(lefts) else ""
            rows.append(f"{cell:<{col}} {sign} {rights[k] if k < len(rights) else ''}".rstrip())
    return "\n".join(rows)


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width`` characters, broken at spaces where it can be (a longer word is split)."""
    import textwrap

    return textwrap.wrap(text, width=width, break_on_hyphens=False, drop_whitespace=True) or [""]


def _marked_sides(old: str, new: str) -> tuple[str, str]:
    """The old line with its removed words as [-x-], the new one with its added words as {+x+}."""
    left, right = [], []
    for op in word_ops(old, new):
        if op.op == "equal":
            left.append(op.text)
            right.append(op.text)
        elif op.op == "delete":
            left.append(f"[-{op.text}-]")
        else:
            right.append(f"{{+{op.text}+}}")
    return "".join(left), "".join(right)


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
        changes.append(
            {
                "old": old,
                "new": new,
                "words": [
                    {"op": op.op, "text": op.text}
                    for op in word_ops(old or "", new or "")
                    if op.text.strip() or op.op == "equal"
                ],
            }
        )
    matched = sum(i2 - i1 for tag, i1, i2, _, _ in opcodes if tag == "equal")
    similarity = 2 * matched / (len(la) + len(lb)) if la or lb else 1.0
    return {"a": a_id, "b": b_id, "identical": a == b, "line_similarity": round(similarity, 4), "changes": changes}


# --- the diff page's rows (datasette_pa_archive.diff_page) ----------------------------------


def check_comparable(a: str, b: str) -> None:
    """DiffTooLarge (one sentence) for texts too large to compare within a web request, before any matching."""
    for name, text in (("A", a), ("B", b)):
        size = len(text.encode("utf-8", "replace"))
        if size > MAX_DIFF_BYTES:
            raise DiffTooLarge(
                f"{name} is {size:,} bytes, more than the {MAX_DIFF_BYTES:,} this page compares; use pa-archive diff."
            )
    check_alignable(a.splitlines(), b.splitlines())


def too_large_for_words(a: str, b: str) -> str | None:
    """Why these texts get a plain line diff (one sentence), or None when a word-level diff is affordable."""
    for name, text in (("A", a), ("B", b)):
        size = len(text.encode("utf-8", "replace"))
        if size > MAX_WORD_DIFF_BYTES:
            return (
                f"{name} is {size:,} bytes (more than {MAX_WORD_DIFF_BYTES:,}): this is a plain line diff, "
                "without word-level highlights."
            )
        lines = text.splitlines()
        if len(lines) > MAX_WORD_DIFF_LINES:
            return (
                f"{name} has {len(lines):,} lines (more than {MAX_WORD_DIFF_LINES:,}): this is a plain line "
                "diff, without word-level highlights."
            )
        longest = max(map(len, lines), default=0)
        if longest > MAX_WORD_DIFF_LINE_CHARS:
            return (
                f"{name} has a line of {longest:,} characters (more than {MAX_WORD_DIFF_LINE_CHARS:,}): this is "
                "a plain line diff, without word-level highlights."
            )
    return None


def too_many_words(la: list[str], lb: list[str], opcodes: list[tuple[str, int, int, int, int]]) -> str | None:
    """Why the changed line pairs are too costly to compare word by word (one sentence), or None."""
    work = 0
    for tag, i1, i2, j1, j2 in opcodes:
        if tag != "replace":
            continue  # a line only removed or only added costs nothing to compare
        for old, new in zip(la[i1:i2], lb[j1:j2]):
            work += len(TOKEN.findall(old)) * len(TOKEN.findall(new))
            if work > MAX_WORD_WORK:
                return (
                    "The changed lines hold too many words to compare word by word: this is a plain line diff, "
                    "without word-level highlights."
                )
    return None


def plain_line_opcodes(
    la: list[str], lb: list[str], budget: int = MAX_MATCH_WORK
) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes for a common start and end and a middle aligned only while it is small enough
    and its matching stays within ``budget`` (else the middle is removed, then added)."""
    start = 0
    while start < len(la) and start < len(lb) and la[start] == lb[start]:
        start += 1
    end = 0
    while end < len(la) - start and end < len(lb) - start and la[-1 - end] == lb[-1 - end]:
        end += 1
    ma, mb = la[start : len(la) - end], lb[start : len(lb) - end]
    ops: list[tuple[str, int, int, int, int]] = [("equal", 0, start, 0, start)] if start else []
    middle = None
    if max(len(ma), len(mb)) <= MAX_ALIGNED_LINES:
        try:
            middle = BudgetedMatcher(ma, mb, budget).get_opcodes()
        except MatchBudgetExceeded:
            middle = None
    if middle is not None:
        for tag, i1, i2, j1, j2 in middle:
            ops.append((tag, i1 + start, i2 + start, j1 + start, j2 + start))
    else:
        if ma:
            ops.append(("delete", start, start + len(ma), start, start))
        if mb:
            ops.append(("insert", start + len(ma), start + len(ma), start, start + len(mb)))
    if end:
        ops.append(("equal", len(la) - end, len(la), len(lb) - end, len(lb)))
    return ops


def plain_line_diff(a: str, b: str, a_id: str, b_id: str, reason: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Side-by-side rows (whole lines, no word operations) and the structured diff's shape without ``words``."""
    la, lb = a.splitlines(), b.splitlines()
    rows: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    matched = 0
    for line in aligned_rows(la, lb, plain_line_opcodes(la, lb)):
        if line.tag == "equal":
            matched += 1
        else:
            changes.append({"old": line.old, "new": line.new})
        # whole lines: the row's colour marks them
        rows.append(
            _row(
                line,
                [("equal", line.old)] if line.old is not None else None,
                [("equal", line.new)] if line.new is not None else None,
            )
        )
    total = len(la) + len(lb)
    structured = {
        "a": a_id,
        "b": b_id,
        "identical": a == b,
        "line_similarity": round(2 * matched / total, 4) if total else 1.0,
        "changes": changes,
        "word_level": False,
        "note": reason,
    }
    return rows, structured


def _row(line: LineRow, left: list | None, right: list | None) -> dict[str, Any]:
    """A row of the side-by-side page: its kind, line numbers and the highlighted runs of each side."""
    if line.tag == "equal":
        kind = "equal"
    else:
        kind = (
            "changed"
            if line.old is not None and line.new is not None
            else ("deleted" if line.new is None else "inserted")
        )
    return {"kind": kind, "ln_a": line.ln_a, "ln_b": line.ln_b, "left": left, "right": right}


def side_by_side_rows(
    a: str, b: str, opcodes: list[tuple[str, int, int, int, int]] | None = None
) -> list[dict[str, Any]]:
    """Aligned rows: equal lines once on each side, changed lines paired as in
    ``changed_line_pairs`` with ``word_ops`` on each pair.

    A row is {"kind": 'equal'|'changed'|'deleted'|'inserted', "ln_a", "ln_b",
    "left": [(op, text), ...] or None, "right": [...] or None}.
    """
    rows: list[dict[str, Any]] = []
    for line in aligned_rows(a.splitlines(), b.splitlines(), opcodes):
        if line.tag == "equal":
            rows.append(_row(line, [("equal", line.old)], [("equal", line.new)]))
            continue
        ops = word_ops(line.old or "", line.new or "")
        rows.append(
            _row(
                line,
                [(op.op, op.text) for op in ops if op.op != "insert"] if line.old is not None else None,
                [(op.op, op.text) for op in ops if op.op != "delete"] if line.new is not None else None,
            )
        )
    return rows


def collapse(rows: list[dict[str, Any]], context: int = CONTEXT_LINES) -> list[dict[str, Any]]:
    """Keep ``context`` equal rows around each change; runs beyond become one 'skip' row."""
    changed = [i for i, r in enumerate(rows) if r["kind"] != "equal"]
    keep = {j for i in changed for j in range(i - context, i + context + 1)}
    out: list[dict[str, Any]] = []
    skipped = 0
    for i, row in enumerate(rows):
        if row["kind"] != "equal" or i in keep:
            if skipped:
                out.append({"kind": "skip", "count": skipped})
                skipped = 0
            out.append(row)
        else:
            skipped += 1
    if skipped:
        out.append({"kind": "skip", "count": skipped})
    return out
