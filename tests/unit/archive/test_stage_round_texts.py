"""A round's article texts alone: with the round's furniture, pages get their texts and block runs."""

from __future__ import annotations

import sqlite3

from dedupe.archive.stages.evidence import set_evidence, update_furniture
from dedupe.archive.stages.model import ROUND_0, ROUND_1, Touched, text_key
from dedupe.archive.stages.round_texts import rederive_texts
from tests.unit.archive.stage_pages import derive_lines, lines_of


def test_the_final_round_gives_texts_groups_and_the_runs_of_the_furniture(stage_conn: sqlite3.Connection) -> None:
    fake = derive_lines(
        stage_conn,
        {1: lines_of("Session in Minsk", "Deputies met in Minsk."), 2: lines_of("Observers in Bishkek", "They saw.")},
    )
    touched = Touched()
    flipped: set[int] = set()
    for r in (ROUND_0, ROUND_1):
        changed = set_evidence(stage_conn, r, {1, 2})
        flipped = update_furniture(stage_conn, fake, r, changed, set(), also=flipped).flipped
        texts = rederive_texts(stage_conn, fake, r, {1, 2}, touched)
        assert texts.emptiness == {1, 2}  # both pages got a text in this round's space
        assert len(texts.moves) == 2
    assert texts.runs == [(1, [[0, 1]]), (2, [[0, 1]])]  # the two header lines: one block on each page
    rows = stage_conn.execute(
        "SELECT t.id, t.hash FROM derive_pages p JOIN derive_texts t ON t.id = p.text1_id ORDER BY p.page_id"
    ).fetchall()
    assert [h for _, h in rows] == [text_key("Deputies met in Minsk."), text_key("They saw.")]
    # the state keeps keys only: the texts travel to the record writer, which writes the article versions
    assert touched.article_texts == {rows[0][0]: "Deputies met in Minsk.", rows[1][0]: "They saw."}
    groups = {g for (g,) in stage_conn.execute("SELECT grp FROM derive_groups WHERE space = 's1'")}
    assert touched.articles == groups and len(groups) == 2


def test_an_earlier_round_leaves_articles_and_runs_alone(stage_conn: sqlite3.Connection) -> None:
    fake = derive_lines(stage_conn, {1: lines_of("Session in Minsk", "Deputies met in Minsk.")})
    touched = Touched()
    texts = rederive_texts(stage_conn, fake, ROUND_0, {1}, touched)
    assert texts.runs == [] and touched.articles == set() and touched.article_texts == {}
    assert stage_conn.execute("SELECT text0_id IS NOT NULL, text1_id FROM derive_pages").fetchone() == (1, None)
