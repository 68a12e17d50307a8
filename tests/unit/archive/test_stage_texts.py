"""The text stage alone: texts stored once, alike texts in one group, a group re-split when a text leaves."""

from __future__ import annotations

import sqlite3

from dedupe.archive.stages.model import text_key
from dedupe.archive.stages.texts import group_of, space_update, text_ids

WORDS = (
    "The Parliamentary Assembly of the Collective Security Treaty Organization held its plenary session in "
    "Saint Petersburg where the delegations discussed the harmonisation of national legislation on defence "
    "security migration and the fight against terrorism and adopted model laws and recommendations for the "
    "member states together with the budget of the Assembly for the coming year and the plan of its work"
)
TEXT = WORDS
EDITED = WORDS.replace("plenary session", "autumn plenary session")
OTHER = "A different article entirely: observers monitored the early parliamentary elections in a member state"


def test_a_text_is_stored_once_with_its_signature(stage_conn: sqlite3.Connection) -> None:
    ids = text_ids(stage_conn, [TEXT, OTHER, ""])
    assert set(ids) == {TEXT, OTHER} and text_ids(stage_conn, [OTHER]) == {OTHER: ids[OTHER]}
    bands = stage_conn.execute("SELECT count(DISTINCT text_id) FROM derive_text_bands").fetchone()[0]
    assert bands == 2
    # by its 16-byte key, not verbatim (m017): the groups need only the signature and band keys
    rows = stage_conn.execute("SELECT id, hash FROM derive_texts ORDER BY id").fetchall()
    assert rows == [(ids[TEXT], text_key(TEXT)), (ids[OTHER], text_key(OTHER))]
    assert "text" not in {row[1] for row in stage_conn.execute("PRAGMA table_info(derive_texts)")}


def test_alike_texts_share_the_smallest_id_as_group_and_an_unrelated_one_does_not(
    stage_conn: sqlite3.Connection,
) -> None:
    ids = text_ids(stage_conn, [TEXT, EDITED, OTHER])
    a, b, c = ids[TEXT], ids[EDITED], ids[OTHER]
    moves = space_update(stage_conn, "s1", [a, b, c], [])
    low = min(a, b)
    assert moves == {a: (None, low), b: (None, low), c: (None, c)}
    assert group_of(stage_conn, "s1", a) == group_of(stage_conn, "s1", b) == low
    assert group_of(stage_conn, "s0", a) is None  # spaces are apart


def test_pages_are_counted_and_the_group_a_text_leaves_is_split_again(stage_conn: sqlite3.Connection) -> None:
    ids = text_ids(stage_conn, [TEXT, EDITED])
    a, b = sorted((ids[TEXT], ids[EDITED]))
    space_update(stage_conn, "s1", [a, b, a], [])  # two pages show the first text
    assert space_update(stage_conn, "s1", [], [a]) == {}  # one page left: still a member
    assert space_update(stage_conn, "s1", [], [a]) == {a: (a, None), b: (a, b)}  # b is a group of its own now
    assert group_of(stage_conn, "s1", b) == b and group_of(stage_conn, "s1", a) is None
