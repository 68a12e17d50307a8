"""The evidence stage alone: a page's evidence label per round, and a line is furniture only when
it repeats on two different articles."""

from __future__ import annotations

import sqlite3

import pytest

from dedupe.archive.stages.evidence import any_furniture, set_evidence, update_furniture
from dedupe.archive.stages.model import ROUND_0, ROUND_1, line_key
from tests.unit.archive.stage_pages import HEADER, derive_lines, lines_of


def _flags(conn: sqlite3.Connection) -> dict[bytes, int]:
    """Furniture flags after round 0, by line key (a line that is not clustered keeps no text)."""
    return dict(conn.execute("SELECT hash, f0 FROM derive_lines WHERE space = 0").fetchall())


def test_the_label_names_the_title_cluster_and_the_text_group(stage_conn: sqlite3.Connection) -> None:
    derive_lines(stage_conn, {1: lines_of("Session in Minsk", "Deputies met in Minsk."), 2: [("Listing", "body", 0)]})
    stage_conn.execute("UPDATE derive_pages SET has_article = 0 WHERE page_id = 2")
    assert set_evidence(stage_conn, ROUND_0, {1, 2}) == {1}
    title_cluster, raw_group = stage_conn.execute(
        "SELECT l.cluster, g.grp FROM derive_pages p JOIN derive_lines l ON l.id = p.title_id "
        "JOIN derive_groups g ON g.space = 'raw' AND g.text_id = p.raw_id WHERE p.page_id = 1"
    ).fetchone()
    labels = dict(stage_conn.execute("SELECT page_id, ev0 FROM derive_pages").fetchall())
    assert labels == {1: f"t{title_cluster}:{raw_group}", 2: None}
    assert set_evidence(stage_conn, ROUND_0, {1, 2}) == set()  # unchanged: nothing to do
    assert set_evidence(stage_conn, ROUND_1, {1}) == {1}  # no s0 text yet: the page stands for itself
    assert stage_conn.execute("SELECT ev1 FROM derive_pages WHERE page_id = 1").fetchone()[0] == f"t{title_cluster}:p1"


@pytest.mark.parametrize("same_article", [False, True])
def test_a_header_line_is_furniture_only_on_two_different_articles(
    stage_conn: sqlite3.Connection, same_article: bool
) -> None:
    second = ("Session in Minsk", "Deputies met in Minsk.") if same_article else ("Observers in Bishkek", "They saw.")
    fake = derive_lines(stage_conn, {1: lines_of("Session in Minsk", "Deputies met in Minsk."), 2: lines_of(*second)})
    changed = set_evidence(stage_conn, ROUND_0, {1, 2})
    found = update_furniture(stage_conn, fake, ROUND_0, changed, set())
    flags = _flags(stage_conn)
    expected = 0 if same_article else 1
    assert [flags[line_key(line)] for line in HEADER] == [expected, expected]
    assert flags[line_key("Deputies met in Minsk.")] == 0
    assert found.any_flipped is not same_article and any_furniture(stage_conn, ROUND_0) is not same_article
    assert len(found.flipped) == (0 if same_article else 2)


@pytest.mark.parametrize("r", [ROUND_0, ROUND_1])
def test_a_round_names_columns_the_schema_has(stage_conn: sqlite3.Connection, r) -> None:
    pages = {row[1] for row in stage_conn.execute("PRAGMA table_info(derive_pages)")}
    lines = {row[1] for row in stage_conn.execute("PRAGMA table_info(derive_lines)")}
    assert {r.ev_column, r.text_column, r.evidence_text_column} <= pages
    assert {r.rep_column, r.flag_column} | ({r.earlier_flag_column} if r.earlier_flag_column else set()) <= lines
    spaces = {r.space, r.evidence_space}
    assert spaces <= {"raw", "s0", "s1"} and len(spaces) == 2
