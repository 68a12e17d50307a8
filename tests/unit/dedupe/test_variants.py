"""Block variants line by line: slots and the names of changes."""

from __future__ import annotations

from dedupe.variants import assign_slots, classify, compare_versions
from tests.conftest import seed_block, seed_files


def test_slots_follow_line_clusters_and_new_lines_get_new_slots() -> None:
    assert assign_slots([[10, 11, 12], [10, 12], [10, 13, 11, 12]]) == [[0, 1, 2], [0, 2], [0, 3, 1, 2]]


def test_repeated_labels_take_successive_slots() -> None:
    assert assign_slots([[5, 5, 6], [5, 5, 6]]) == [[0, 1, 2], [0, 1, 2]]


def test_kinds_of_change_are_named_by_facts() -> None:
    k = ("Kyrgyzstan", "seats_total")
    assert classify({k: "7"}, {k: "6"}) == ("conflict", "Kyrgyzstan seats_total: 7 → 6")
    assert classify({k: "http://x/"}, {k: ""})[0] == "missing"
    assert classify({k: ""}, {k: "http://x/"})[0] == "filled"
    assert classify({k: "12"}, {k: "12"})[0] == "reworded"
    assert classify({}, {})[0] == "changed"


def test_seed_variants_compare_as_the_site_notes_say() -> None:
    a, b, c = (seed_block(seed_files()[i]) for i in (0, 1, 3))
    slots = list(range(12))
    kinds_ab = {change.kind for change in compare_versions(a, slots, b, slots)}
    assert kinds_ab == {"conflict", "missing"}
    changes_bc = compare_versions(b, slots, c, slots)
    assert {ch.kind for ch in changes_bc} == {"filled", "reworded"}
    assert next(ch for ch in changes_bc if ch.kind == "reworded").slot == 9
