"""Public ids as ranks: a record inserted by its sort key moves only the ids after it."""

from __future__ import annotations

import sqlite3

from dedupe.archive.stages.ranks import renumber
from dedupe.archive.stages.sql import ARTICLE_RANKS


def _article(conn: sqlite3.Connection, grp: int, key: bytes, pid: int) -> None:
    conn.execute(
        "INSERT INTO articles(id, title, url, status, versions, snapshots, first_seen, last_seen) "
        "VALUES (?, ?, ?, 'live', 1, 1, ?, ?)",
        [pid, f"g{grp}", f"u{grp}", key.decode(), key.decode()],
    )
    conn.execute(
        "INSERT INTO derive_article_order(grp, sort_key, public_id, url_id) VALUES (?, ?, ?, ?)", [grp, key, pid, 1]
    )


def _ids(conn: sqlite3.Connection) -> dict[int, int]:
    return dict(conn.execute("SELECT grp, public_id FROM derive_article_order").fetchall())


def test_a_record_inserted_between_two_moves_the_later_one_up(stage_conn: sqlite3.Connection) -> None:
    _article(stage_conn, 10, b"2024-01", 1)
    _article(stage_conn, 30, b"2024-03", 2)
    assigned = renumber(stage_conn, ARTICLE_RANKS, {}, {20: b"2024-02"})
    assert assigned == {20: 2} and _ids(stage_conn) == {10: 1, 30: 3}
    assert [i for (i,) in stage_conn.execute("SELECT id FROM articles ORDER BY id")] == [1, 3]


def test_appended_at_the_end_moves_nothing_and_a_rewrite_keeps_its_id(stage_conn: sqlite3.Connection) -> None:
    _article(stage_conn, 10, b"2024-01", 1)
    assert renumber(stage_conn, ARTICLE_RANKS, {}, {20: b"2024-05"}) == {20: 2}
    assert _ids(stage_conn) == {10: 1}
    stage_conn.execute("DELETE FROM derive_article_order WHERE grp = 10")  # the writer removes what it rewrites
    assert renumber(stage_conn, ARTICLE_RANKS, {10: (b"2024-01", 1)}, {10: b"2024-01"}) == {10: 1}


def test_a_removed_record_closes_the_gap(stage_conn: sqlite3.Connection) -> None:
    for grp, key, pid in ((10, b"2024-01", 1), (20, b"2024-02", 2), (30, b"2024-03", 3)):
        _article(stage_conn, grp, key, pid)
    stage_conn.execute("DELETE FROM derive_article_order WHERE grp = 20")
    stage_conn.execute("DELETE FROM articles WHERE id = 2")
    assert renumber(stage_conn, ARTICLE_RANKS, {20: (b"2024-02", 2)}, {}) == {}
    assert _ids(stage_conn) == {10: 1, 30: 2}
