"""Line clusters with bounded work: the same components as every pair compared, at a cost linear in
a page of near-identical lines (issue 20: 323 s for 20,000 of them, quadratic)."""

from __future__ import annotations

import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.archive import Archive
from dedupe.archive.stages import lines as line_stage
from dedupe.blocks import LINE_BAND_THRESHOLD, cluster_lines, line_shingles, line_signatures, lines_alike
from dedupe.document import RawSnapshot
from dedupe.linking import BandLinker, Components
from dedupe.minhash import estimates_against


def near_identical(n: int, seed: int = 1) -> list[str]:
    """The hostile review's page: one template, two numbers."""
    rng = random.Random(seed)
    return [f"Line {i:06d} of the Assembly's resolution on item {rng.randrange(10000):04d}." for i in range(n)]


def mixed_lines(rng: random.Random, n: int) -> list[str]:
    """Families of similar lines (a template and a few words from a small vocabulary) and strangers."""
    words = "seat deputy senate duma council mazhilis house member delegation plenipotentiary".split()
    templates = ["{} of the {} sends {} {}", "The {} and the {} of {} {}", "{} {} {} {} of the Assembly"]
    lines = set()
    while len(lines) < n:
        lines.add(rng.choice(templates).format(*(rng.choice(words) for _ in range(4))))
    return sorted(lines)


def brute_force(lines: list[str]) -> list[frozenset[str]]:
    """Components of the graph the engines promise: a shared band key, the estimate, the exact test."""
    signatures, keys = line_signatures(lines)
    sets = [line_shingles(t) for t in lines]
    uf = Components()
    for a in range(len(lines)):
        uf.find(a)
        for b in range(a + 1, len(lines)):
            if (
                set(keys[a].tolist()) & set(keys[b].tolist())
                and estimates_against(signatures[a], signatures[b][None, :])[0] >= LINE_BAND_THRESHOLD
                and lines_alike(sets[a], sets[b])
            ):
                uf.union(a, b)
    groups: dict[int, set[str]] = {}
    for i, text in enumerate(lines):
        groups.setdefault(uf.find(i), set()).add(text)
    return sorted(map(frozenset, groups.values()), key=sorted)


def partition(labels: dict[str, int]) -> list[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for text, label in labels.items():
        groups.setdefault(label, set()).add(text)
    return sorted(map(frozenset, groups.values()), key=sorted)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 120))
def test_the_components_are_those_of_every_pair_compared(seed: int, n: int) -> None:
    lines = mixed_lines(random.Random(seed), n)
    assert partition(cluster_lines(lines)) == brute_force(lines)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 120), cut=st.floats(0, 1))
def test_clustered_rows_seeded_then_new_rows_in_any_order_give_the_same_components(
    seed: int, n: int, cut: float
) -> None:
    """The incremental engine's pattern: lines already clustered enter a bucket under their cluster,
    the new ones are added one by one (in any order)."""
    rng = random.Random(seed)
    lines = mixed_lines(rng, n)
    signatures, keys = line_signatures(lines)
    sets = [line_shingles(t) for t in lines]

    def confirm(a: int, b: int) -> bool:
        return lines_alike(sets[a], sets[b])

    old = rng.sample(range(len(lines)), int(len(lines) * cut))
    first = BandLinker(signatures, LINE_BAND_THRESHOLD, confirm)
    for row in old:
        first.add(row, keys[row].tolist(), row)
    second = BandLinker(signatures, LINE_BAND_THRESHOLD, confirm)
    for row in old:
        for key in keys[row].tolist():
            second.seed(key, row, ("c", first.components.find(row)))
    new = [row for row in range(len(lines)) if row not in set(old)]
    rng.shuffle(new)
    for row in new:
        second.add(row, keys[row].tolist(), ("n", row))
    labels = {}
    for row in range(len(lines)):
        node = ("c", first.components.find(row)) if row in set(old) else ("n", row)
        labels[lines[row]] = second.components.find(node)
    assert partition(labels) == brute_force(lines)


def work(n: int) -> tuple[int, int]:
    lines = near_identical(n)
    signatures, keys = line_signatures(lines)
    sets = [line_shingles(t) for t in lines]
    linker = BandLinker(signatures, LINE_BAND_THRESHOLD, lambda a, b: lines_alike(sets[a], sets[b]))
    for row in range(n):
        linker.add(row, keys[row].tolist(), row)
    assert len({linker.components.find(row) for row in range(n)}) == 1
    return linker.estimated, linker.confirmed


def test_near_identical_lines_cost_linear_work() -> None:
    """Every earlier line of a bucket compared (the old loop) is n^2/2 estimates: 2M at 2,000 lines."""
    small, large = work(500), work(2000)
    assert large[1] <= 2000 and small[1] <= 500  # one exact test per line: the first member it meets joins it
    assert large[0] < 300 * 2000  # estimates per line stay bounded (measured: about 160)
    assert large[0] / small[0] < 6  # linear is 4, quadratic 16


def test_a_page_of_near_identical_lines_imports_with_linear_work_and_equals_the_reference(
    tmp_path: Path, monkeypatch
) -> None:
    made: list[BandLinker] = []

    class Counting(BandLinker):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(line_stage, "BandLinker", Counting)
    n = 1500
    body = "\n".join(near_identical(n)).encode()
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest([RawSnapshot("https://pacsto.org/events/x", "2024-01-01T00:00:00Z", body)], workers=1)
        estimated = sum(linker.estimated for linker in made)
        assert made and estimated < 300 * n, estimated  # pairwise: over n^2/2 = 1.1M
        clusters = archive.db.execute("SELECT count(DISTINCT cluster) FROM derive_lines WHERE space = 0")
        assert clusters.fetchone()[0] == 1
        assert archive.check() == {}
