"""Diffs: word operations re-join exactly; each format shows the 7 → 6."""

from __future__ import annotations

import pytest

from dedupe.analysis import diff

OLD = "Delegation consists of 7 deputies.\nWebsite: http://www.kenesh.kg/\nSame line."
NEW = "Delegation consists of 6 deputies.\nWebsite:\nSame line."


def test_word_ops_rejoin_both_texts() -> None:
    ops = diff.word_ops(OLD, NEW)
    assert "".join(o.text for o in ops if o.op != "insert") == OLD
    assert "".join(o.text for o in ops if o.op != "delete") == NEW


def test_changed_line_pairs_skip_equal_lines() -> None:
    assert diff.changed_line_pairs(OLD, NEW) == [
        ("Delegation consists of 7 deputies.", "Delegation consists of 6 deputies."),
        ("Website: http://www.kenesh.kg/", "Website:"),
    ]


def test_every_format_marks_the_change() -> None:
    assert "[-7-]{+6+}" in diff.words(OLD, NEW)
    assert "-Delegation consists of 7 deputies." in diff.unified(OLD, NEW, "a", "b")
    assert " | " in diff.side_by_side(OLD, NEW, "a", "b", width=120)
    data = diff.structured(OLD, NEW, "a", "b")
    assert not data["identical"] and len(data["changes"]) == 2
    assert diff.structured(OLD, OLD, "a", "a")["changes"] == []


def test_colour_only_when_asked() -> None:
    assert "\x1b[" not in diff.words(OLD, NEW) and "\x1b[" in diff.words(OLD, NEW, color=True)


def test_aligned_rows_pair_lines_with_their_numbers() -> None:
    rows = list(diff.aligned_rows(["a", "b", "c"], ["a", "B", "c", "d"]))
    assert [(r.tag, r.ln_a, r.ln_b, r.old, r.new) for r in rows] == [
        ("equal", 1, 1, "a", "a"),
        ("replace", 2, 2, "b", "B"),
        ("equal", 3, 3, "c", "c"),
        ("insert", None, 4, None, "d"),
    ]


def test_side_by_side_marks_each_row_like_diff_y() -> None:
    out = diff.side_by_side("a\nb\nc", "a\nB\nc\nd", "old", "new", width=43).splitlines()
    assert out == [
        "old                  | new",
        "a                      a",
        "b                    | B",
        "c                      c",
        "                     > d",
    ]


# --------------------------------------------------------------------------- cost


def test_the_line_matcher_refuses_texts_beyond_its_budget_before_matching() -> None:
    import random
    import time

    from dedupe.analysis import diff as difftools

    rng = random.Random(3)
    la = [rng.choice("ab") for _ in range(4_000)]
    lb = [rng.choice("ab") for _ in range(4_000)]
    assert difftools.equal_line_pairs(la, lb) > difftools.MAX_LINE_PAIRS
    started = time.monotonic()
    for view in (
        lambda: difftools.structured("\n".join(la), "\n".join(lb), "A", "B"),
        lambda: difftools.unified("\n".join(la), "\n".join(lb), "A", "B"),
        lambda: difftools.words("\n".join(la), "\n".join(lb)),
        lambda: difftools.side_by_side("\n".join(la), "\n".join(lb), "A", "B"),
    ):
        with pytest.raises(difftools.DiffTooLarge, match="too often to be aligned"):
            view()
    assert time.monotonic() - started < 0.5
    assert difftools.equal_line_pairs(["x", "y", "x"], ["x", "x"]) == 4


def test_structured_similarity_is_difflibs_ratio() -> None:
    import difflib

    from dedupe.analysis import diff as difftools

    for a, b in (("a\nb\nc", "a\nB\nc"), ("", ""), ("x", ""), ("1\n2\n3\n4", "4\n3\n2\n1")):
        expected = round(difflib.SequenceMatcher(None, a.splitlines(), b.splitlines(), autojunk=False).ratio(), 4)
        assert difftools.structured(a, b, "A", "B")["line_similarity"] == expected
