"""Furniture by repetition, piece by piece: line clusters, runs, furniture evidence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.blocks import LINE_CONFIG, PageLines, cluster_lines, find_furniture, find_runs, line_shingles, lines_alike
from dedupe.minhash import shingles
from tests.conftest import seed_block, seed_files

BLOCK = seed_block(seed_files()[0])
KYRGYZ_7, KYRGYZ_6 = BLOCK[6], BLOCK[6].replace("7 deputies", "6 deputies")


def test_a_changed_seat_count_is_the_same_line_and_different_lines_stay_apart() -> None:
    labels = cluster_lines([*BLOCK, KYRGYZ_6])
    assert labels[KYRGYZ_7] == labels[KYRGYZ_6]
    others = [BLOCK[i] for i in (0, 4, 9, 11)]  # the other delegations' seat lines
    assert labels[KYRGYZ_7] not in {labels[line] for line in others}
    assert labels[BLOCK[4]] != labels[BLOCK[9]]  # Kazakhstan and Russia stay apart


def test_clusters_do_not_chain_through_overestimated_pairs() -> None:
    footer = "Parliamentary Assembly of the Collective Security Treaty Organization"
    country = (
        "Kyrgyz Republic is a member state of the Collective Security Treaty Organization. "
        "Its national parliament sends a delegation to the Parliamentary Assembly."
    )
    labels = cluster_lines([footer, country, country.replace("Kyrgyz Republic", "Republic of Belarus")])
    assert labels[footer] != labels[country]


def page(key: str, lines: list[tuple[str, str, int]]) -> PageLines:
    return PageLines(key=key, structured=True, lines=lines)


def test_runs_bridge_a_line_seen_once_and_stop_at_a_landmark() -> None:
    furniture = {"a", "b", "c", "nav1", "nav2"}
    lines = [
        ("nav1", "candidate", 1),
        ("nav2", "candidate", 1),
        ("a", "candidate", 2),
        ("new line", "candidate", 2),
        ("b", "candidate", 2),
        ("c", "candidate", 2),
        ("Title", "title", 3),
        ("body", "body", 3),
    ]
    runs = find_runs(page("p", lines), furniture)
    assert [r.lines for r in runs] == [[0, 1], [2, 3, 4, 5]]


def test_a_title_that_is_furniture_stays_in_its_menu_run() -> None:
    furniture = {"Belarus", "Kazakhstan", "Kyrgyzstan"}
    lines = [("Belarus", "candidate", 1), ("Kazakhstan", "title", 1), ("Kyrgyzstan", "candidate", 1)]
    assert [r.lines for r in find_runs(page("p", lines), furniture)] == [[0, 1, 2]]


def test_single_lines_are_not_blocks() -> None:
    assert find_runs(page("p", [("a", "candidate", 1), ("x", "body", 1)]), {"a"}) == []


def test_body_lines_count_only_as_verbatim_runs_of_three() -> None:
    shared = ["Formulaic sentence one.", "Formulaic sentence two.", "Formulaic sentence three."]
    pages = [
        page("p1", [("T1", "title", 0), *[(s, "body", 0) for s in shared[:2]], ("own 1", "body", 0)]),
        page("p2", [("T2", "title", 0), *[(s, "body", 0) for s in shared[:2]], ("own 2", "body", 0)]),
    ]
    labels = cluster_lines([t for p in pages for t, _, _ in p.lines])
    groups = {"p1": 1, "p2": 2}
    assert find_furniture(pages, groups, labels) == set()  # two shared sentences: still articles
    pages = [page(p.key, [*p.lines[:3], (shared[2], "body", 0), p.lines[3]]) for p in pages]
    labels = cluster_lines([t for p in pages for t, _, _ in p.lines])
    assert find_furniture(pages, groups, labels) == set(shared)  # a swallowed block of three


def test_listing_pages_give_no_evidence() -> None:
    listing = [
        PageLines(k, True, [("Title A", "candidate", 1), ("Title B", "candidate", 1)], has_article=False)
        for k in ("l1", "l2")
    ]
    labels = cluster_lines(["Title A", "Title B"])
    assert find_furniture(listing, {}, labels) == set()


@given(st.text(max_size=40), st.text(max_size=40))
@settings(max_examples=400, deadline=None)
def test_the_exact_line_test_is_the_jaccard_of_the_shingle_sets_minhash_summarises(a: str, b: str) -> None:
    """``line_shingles`` builds its set directly and ``lines_alike`` counts the union from the intersection:
    both must stay the set MinHash summarises and the Jaccard of the two sets, or clusters would change."""
    sa, sb = line_shingles(a), line_shingles(b)
    assert sa == set(shingles(a, LINE_CONFIG)) and sb == set(shingles(b, LINE_CONFIG))
    assert lines_alike(sa, sb) == (len(sa & sb) >= LINE_CONFIG.threshold * len(sa | sb))
