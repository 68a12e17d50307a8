"""``blocks.Components``: the union-find both derivations label clusters and blocks with. Its labels must not
depend on the order unions arrive in (the incremental engine and the reference union in different orders)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from dedupe.blocks import Components


def labels(pairs: list[tuple[int, int]], members: range) -> dict[int, int]:
    found = Components()
    for a, b in pairs:
        found.union(a, b)
    return {m: found.find(m) for m in members}


def test_the_representative_is_the_smallest_member() -> None:
    found = Components()
    found.union(7, 3)
    found.union(9, 7)
    found.union(5, 12)
    assert {found.find(x) for x in (3, 7, 9)} == {3} and {found.find(x) for x in (5, 12)} == {5}
    assert found.find(42) == 42  # a member never united is its own component


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=60), st.integers(0, 1000))
def test_labels_do_not_depend_on_the_order_of_unions(pairs: list[tuple[int, int]], seed: int) -> None:
    shuffled = [(b, a) if random.Random(seed + i).random() < 0.5 else (a, b) for i, (a, b) in enumerate(pairs)]
    random.Random(seed).shuffle(shuffled)
    assert labels(pairs, range(31)) == labels(shuffled, range(31))


def test_mixed_members_keep_their_order() -> None:
    found = Components()
    found.union((1, "a"), (0, "b"))
    assert found.find((1, "a")) == (0, "b")
