"""The line stage alone: ids once per text, near-duplicate lines in one cluster, titles apart."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedupe import blocks
from dedupe.archive import Archive
from dedupe.archive.stages import lines as lines_stage
from dedupe.archive.stages.lines import add_titles, cluster, line_ids
from dedupe.archive.stages.model import Page, page_lines_blob, page_lines_of
from dedupe.blocks import PageLines, page_title

SEVEN = "The delegation of the Kyrgyz Republic consists of 7 deputies of the Jogorku Kenesh"
SIX = "The delegation of the Kyrgyz Republic consists of 6 deputies of the Jogorku Kenesh"
OTHER = "Press service of the Parliamentary Assembly, Saint Petersburg, Shpalernaya street"


def _clusters(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT text, cluster FROM derive_lines WHERE space = 0").fetchall())


def test_a_text_has_one_id_per_space(stage_conn: sqlite3.Connection) -> None:
    first = line_ids(stage_conn, "line", [SEVEN, OTHER])
    assert line_ids(stage_conn, "line", [OTHER, SEVEN]) == first
    assert line_ids(stage_conn, "title", [SEVEN])[SEVEN] not in first.values()


def test_a_changed_seat_count_joins_the_cluster_and_an_unrelated_line_does_not(stage_conn: sqlite3.Connection) -> None:
    changes = cluster(stage_conn, "line", line_ids(stage_conn, "line", [SEVEN]))
    seven = _clusters(stage_conn)[SEVEN]
    assert changes.gained == {seven} and changes.merged == {}
    changes = cluster(stage_conn, "line", line_ids(stage_conn, "line", [SIX, OTHER]))
    found = _clusters(stage_conn)
    assert found[SIX] == seven and found[OTHER] != seven
    assert changes.gained == {seven, found[OTHER]}
    assert cluster(stage_conn, "line", line_ids(stage_conn, "line", [SIX])).gained == set()  # clustered once


def test_a_line_alike_to_two_clusters_merges_them_into_the_smaller(stage_conn: sqlite3.Connection) -> None:
    start = "The delegation of the Republic of Belarus consists of"
    left, right = start + " seven deputies of the House of Representatives", start + " four members of the Council"
    cluster(stage_conn, "line", line_ids(stage_conn, "line", [left]))
    cluster(stage_conn, "line", line_ids(stage_conn, "line", [right]))  # shingle Jaccard 0.44: not alike
    before = _clusters(stage_conn)
    assert before[left] != before[right]
    changes = cluster(stage_conn, "line", line_ids(stage_conn, "line", [start + " eleven"]))  # alike to both
    kept, absorbed = sorted((before[left], before[right]))
    assert changes.merged == {absorbed: kept} and changes.gained == {kept}
    assert set(_clusters(stage_conn).values()) == {kept}


def test_titles_cluster_apart_from_lines_and_are_set_on_their_pages(stage_conn: sqlite3.Connection) -> None:
    line_ids(stage_conn, "line", [SEVEN])
    pages = []
    for page_id, title in ((1, SEVEN), (2, SIX)):
        lines = PageLines(key=f"sha{page_id}", structured=True, lines=[(title, "title", 0), ("Body", "body", 1)])
        stage_conn.execute("INSERT INTO derive_pages(page_id, has_article) VALUES (?, 1)", [page_id])
        pages.append(Page(page_id, lines.key, lines, page_title(lines)))
    add_titles(stage_conn, pages)
    rows = stage_conn.execute(
        "SELECT p.page_id, l.space, l.cluster FROM derive_pages p JOIN derive_lines l ON l.id = p.title_id "
        "ORDER BY p.page_id"
    ).fetchall()
    assert [(page_id, space) for page_id, space, _ in rows] == [(1, 1), (2, 1)]  # space 1: titles (m041)
    assert rows[0][2] == rows[1][2]  # one title cluster for the two near-identical titles


def test_a_line_keeps_its_text_only_once_clustered(stage_conn: sqlite3.Connection) -> None:
    ids = line_ids(stage_conn, "line", [SEVEN, OTHER])  # seen in a body only: found by hash, no text
    assert stage_conn.execute("SELECT count(*) FROM derive_lines WHERE text IS NOT NULL").fetchone()[0] == 0
    cluster(stage_conn, "line", {SEVEN: ids[SEVEN]})  # seen outside a body: its shingles are needed later
    kept = stage_conn.execute("SELECT id, text FROM derive_lines WHERE text IS NOT NULL").fetchall()
    assert kept == [(ids[SEVEN], SEVEN)]
    changes = cluster(stage_conn, "line", line_ids(stage_conn, "line", [SIX]))  # confirmed against SEVEN's text
    assert changes.gained == {_clusters(stage_conn)[SEVEN]}


def _templated(count: int, seed: int) -> list[str]:
    """Titles of one pattern with free words after it: many share LSH buckets, few are alike."""
    rng = random.Random(seed)
    words = (
        "budget treaty border customs water energy youth health migration election observers labour culture "
        "science transport digital security defence terrorism drugs archive court police schools farming"
    ).split()
    return ["Commission on " + " ".join(rng.sample(words, 5)) for _ in range(count)]


def _partition(conn: sqlite3.Connection) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for text, found in conn.execute("SELECT text, cluster FROM derive_lines WHERE space = 1"):
        groups.setdefault(found, set()).add(text)
    return {frozenset(group) for group in groups.values()}


@pytest.mark.parametrize("cache", [blocks.LINE_SIGNATURE_CACHE, 0], ids=["kept", "computed-again"])
def test_titles_added_one_by_one_cluster_as_all_at_once_computing_each_signature_once(
    stage_conn: sqlite3.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: int
) -> None:
    """Existing members of a new title's buckets are estimated from their signatures, which the archive does not
    keep (m038): they are computed again from the texts it keeps. With the signatures kept in memory by text,
    adding 300 titles one by one, each meeting many of the others in its buckets, computes each title's once;
    with none kept, every member's is computed again from its stored text, and the clusters are the same."""
    titles = list(dict.fromkeys(_templated(300, seed=3)))
    members: list[int] = []
    computed: list[int] = []
    original_init, original_compute = lines_stage._Bucketed.__init__, blocks.compute_signatures

    def counting_init(self, *args) -> None:
        original_init(self, *args)
        members.append(len(self.ids))

    def counting_compute(texts, config):
        computed.append(len(texts))
        return original_compute(texts, config)

    blocks._line_signature_cache.clear()
    monkeypatch.setattr(blocks, "LINE_SIGNATURE_CACHE", cache)
    monkeypatch.setattr(lines_stage._Bucketed, "__init__", counting_init)
    monkeypatch.setattr(blocks, "compute_signatures", counting_compute)
    for title in titles:
        cluster(stage_conn, "title", line_ids(stage_conn, "title", [title]))
    one_by_one = _partition(stage_conn)
    assert sum(members) > 5 * len(titles)  # each met many others in its buckets
    if cache:
        assert sum(computed) == len(titles)  # and computed each signature once: when it joined
    else:
        assert sum(computed) == len(titles) + sum(members)  # each member's again, from the archive's text
    blocks._line_signature_cache.clear()
    stored = [t for (t,) in stage_conn.execute("SELECT text FROM derive_lines WHERE space = 1 ORDER BY id")]
    assert (blocks.stored_line_signatures(stored) == blocks.line_signatures(stored)[0]).all()
    with Archive(tmp_path / "at-once.db") as archive:
        cluster(archive.db.conn, "title", line_ids(archive.db.conn, "title", titles))
        at_once = _partition(archive.db.conn)
    assert one_by_one == at_once
    assert 1 < len(at_once) < len(titles)  # some titles joined, not all: the test has both kinds of pair


def test_a_long_lines_signature_is_computed_not_kept() -> None:
    """The kept signatures are bounded in count and in their texts' length: a hostile page's megabyte line is
    computed each time it is met, never held."""
    blocks._line_signature_cache.clear()
    long, short = "x" * (blocks.CACHED_TEXT_CHARS + 1), "a title of an ordinary length"
    found = blocks.stored_line_signatures([long, short])
    assert (found == blocks.line_signatures([long, short])[0]).all()
    assert list(blocks._line_signature_cache) == [short]


@given(st.dictionaries(st.integers(1, 2**40), st.integers(0, 3), max_size=80))
def test_a_pages_lines_blob_gives_back_its_lines_and_kinds(kinds: dict[int, int]) -> None:
    """``derive_pages.lines``: any line ids (gaps of one byte and of several) with any kind, in id order."""
    blob = page_lines_blob(kinds)
    assert page_lines_of(blob) == sorted(kinds.items())


def test_a_pages_lines_blob_takes_a_byte_a_line_where_ids_run_on() -> None:
    """The template's small ids and a new page's consecutive own ids take a byte each; a kind that does not fit
    its bits and a blob cut inside a number are refused, not read as other lines."""
    template = dict.fromkeys(range(3, 60, 2), 3)
    own = dict.fromkeys(range(400_000, 400_020), 0)
    blob = page_lines_blob(template | own)
    assert len(blob) == len(template) + len(own) + 2  # the jump to the page's own ids: 3 bytes
    with pytest.raises(ValueError, match="does not fit"):
        page_lines_blob({5: 4})
    with pytest.raises(ValueError, match="ends inside a number"):
        page_lines_of(page_lines_blob({800_000: 1})[:-1])


def test_near_identical_titles_are_estimated_against_a_few_members_of_their_cluster(
    stage_conn: sqlite3.Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hundreds of "Notice number N of the Council's session" share every band key and one cluster: a new one is
    estimated against the cluster's first members under its keys, not all of them (which grew with the square of
    such titles), and the clusters are those of all the titles at once."""
    titles = [
        f"Notice number {n} of the Council of the Parliamentary Assembly on its regular session" for n in range(160)
    ]
    titles += [f"Observers monitored the elections in district {n} of the member state" for n in range(40)]
    random.Random(5).shuffle(titles)
    estimated: list[int] = []
    original = lines_stage.estimates_against

    def counting(signature, members):
        estimated.append(len(members))
        return original(signature, members)

    monkeypatch.setattr(lines_stage, "estimates_against", counting)
    for lo in range(0, len(titles), 20):
        cluster(stage_conn, "title", line_ids(stage_conn, "title", titles[lo : lo + 20]))
    by_batches = _partition(stage_conn)
    estimated.clear()
    cluster(
        stage_conn,
        "title",
        line_ids(
            stage_conn,
            "title",
            ["Notice number 999 of the Council of the Parliamentary Assembly on its regular session"],
        ),
    )
    assert 0 < sum(estimated) <= 40  # a few first members of its cluster, not its 160
    with Archive(tmp_path / "at-once.db") as archive:
        cluster(archive.db.conn, "title", line_ids(archive.db.conn, "title", titles))
        at_once = _partition(archive.db.conn)
    assert by_batches == at_once and len(at_once) == 2
