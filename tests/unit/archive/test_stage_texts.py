"""The text stage alone: texts stored once, alike texts in one group, a group re-split when a text leaves."""

from __future__ import annotations

import random
import sqlite3

from dedupe.archive.stages import texts as stage_texts
from dedupe.archive.stages.model import text_key
from dedupe.archive.stages.texts import group_of, space_update, text_ids
from dedupe.blocks import ARTICLE_CONFIG, texts_alike
from dedupe.linking import Components
from dedupe.minhash import band_keys, compute_signatures

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


FAMILY = WORDS + " Registration number {n} of the session's record."
OTHER_FAMILY = (
    "Observers of the Assembly monitored the early parliamentary elections in the member state and reported that "
    "the vote was held in accordance with national law and international standards; polling station {n} opened "
    "on time, and the mission met the central election commission and the candidates before the count"
)


# a window sliding over 300 words: each text alike the next, the first and last not alike: one group, joined
# through members that are not its first
DRIFTING = [" ".join(f"word{w:03d}" for w in range(k * 6, k * 6 + 120)) for k in range(12)]


def _components(conn: sqlite3.Connection, space: str, texts: dict[int, str]) -> dict[int, int]:
    """The groups the reference would give the space's texts: every pair sharing a band key and alike joined,
    computed from the texts alone, labelled by their smallest id."""
    present = [t for (t,) in conn.execute("SELECT text_id FROM derive_groups WHERE space = ?", [space])]
    sigs = compute_signatures([texts[t] for t in present], ARTICLE_CONFIG)
    keys = band_keys(sigs, ARTICLE_CONFIG.threshold)
    uf = Components()
    for i, a in enumerate(present):
        for j in range(i + 1, len(present)):
            if set(keys[i].tolist()) & set(keys[j].tolist()) and texts_alike(sigs[i], sigs[j]):
                uf.union(a, present[j])
    return {t: uf.find(t) for t in present}


def hot_groups_as_counted(conn: sqlite3.Connection) -> tuple[set, set]:
    """``derive_hot_text_groups`` as kept, and as counted afresh from the members' band keys and groups."""
    kept = set(conn.execute("SELECT space, key, grp, members FROM derive_hot_text_groups"))
    counted = set(
        conn.execute(
            "SELECT g.space, b.key, g.grp, count(*) FROM derive_text_bands b "
            "JOIN derive_hot_text_keys h ON h.key = b.key JOIN derive_groups g ON g.text_id = b.text_id "
            "GROUP BY g.space, b.key, g.grp"
        )
    )
    return kept, counted


def test_near_identical_texts_meet_groups_not_each_other_and_group_as_the_reference(
    stage_conn: sqlite3.Connection, monkeypatch
) -> None:
    """Hundreds of one notice with a number changed share every band key: each new text used to meet every
    earlier one (the square of their number). Past HOT_BUCKET texts a key's groups are kept, and a new text meets
    those; the groups stay what every alike pair sharing a key gives, through joins and re-splits."""
    monkeypatch.setattr(stage_texts, "HOT_BUCKET", 4)
    met: list[int] = []
    neighbours = stage_texts._neighbours

    def counting(conn, space, keys, hot):
        texts, groups = neighbours(conn, space, keys, hot)
        met.extend(len(texts[t]) + len(groups[t]) for t in keys)
        return texts, groups

    monkeypatch.setattr(stage_texts, "_neighbours", counting)
    rng = random.Random(7)
    corpus = [FAMILY.format(n=n) for n in range(40)] + [OTHER_FAMILY.format(n=n) for n in range(25)] + [OTHER]
    corpus += DRIFTING
    rng.shuffle(corpus)
    by_id: dict[int, str] = {}
    for lo in range(0, len(corpus), 9):
        ids = text_ids(stage_conn, corpus[lo : lo + 9])
        by_id.update({i: t for t, i in ids.items()})
        space_update(stage_conn, "s1", sorted(ids.values()), [])
        assert {t: group_of(stage_conn, "s1", t) for t in by_id} == _components(stage_conn, "s1", by_id)
    assert len(set(_components(stage_conn, "s1", by_id).values())) == 4
    assert max(met[-9:]) <= 8  # the last texts met a few texts and groups, not the 40 and 25 before them
    kept, counted = hot_groups_as_counted(stage_conn)
    assert kept == counted and kept
    for gone in rng.sample(sorted(by_id), 20):  # texts leave: the groups they held together split again
        space_update(stage_conn, "s1", [], [gone])
        del by_id[gone]
        assert {t: group_of(stage_conn, "s1", t) for t in by_id} == _components(stage_conn, "s1", by_id)
    assert hot_groups_as_counted(stage_conn)[0] == hot_groups_as_counted(stage_conn)[1]


def test_a_text_alike_only_later_members_of_a_hot_group_still_joins_it(
    stage_conn: sqlite3.Connection, monkeypatch
) -> None:
    """A met group's first members are tried first; a text alike none of them but alike a later member holding its
    hot key (a drifting text: alike its neighbours, not the group's first) joins the group all the same."""
    monkeypatch.setattr(stage_texts, "HOT_BUCKET", 1)
    monkeypatch.setattr(stage_texts, "MEMBER_PROBE", 1)
    first = text_ids(stage_conn, DRIFTING[:7])
    space_update(stage_conn, "s1", sorted(first.values()), [])
    by_id = {i: t for t, i in first.items()}
    for text in DRIFTING[7:]:
        (text_id,) = text_ids(stage_conn, [text]).values()
        by_id[text_id] = text
        space_update(stage_conn, "s1", [text_id], [])
    groups = {t: group_of(stage_conn, "s1", t) for t in by_id}
    assert groups == _components(stage_conn, "s1", by_id) and set(groups.values()) == {min(by_id)}


def test_a_batch_s_band_keys_are_computed_once_per_space_where_a_key_is_hot(
    stage_conn: sqlite3.Connection, monkeypatch
) -> None:
    """While a key is hot, the texts joining a space are counted into their hot keys' groups and then joined: both
    need the texts' signatures and band keys, read once a batch and space (they were read twice)."""
    monkeypatch.setattr(stage_texts, "HOT_BUCKET", 4)
    corpus = [FAMILY.format(n=n) for n in range(12)] + [OTHER]
    by_id = {i: t for t, i in text_ids(stage_conn, corpus).items()}
    first, batch = sorted(by_id)[:8], sorted(by_id)[8:]
    reads: list[frozenset[int]] = []
    keys_of, read_signatures = stage_texts._keys_of, stage_texts.signatures
    monkeypatch.setattr(stage_texts, "_keys_of", lambda sigs: reads.append(frozenset(sigs)) or keys_of(sigs))
    monkeypatch.setattr(
        stage_texts, "signatures", lambda conn, ids: reads.append(frozenset(ids)) or read_signatures(conn, ids)
    )
    for space in ("s0", "s1"):
        space_update(stage_conn, space, first, [])
        assert stage_texts._any_hot(stage_conn)
        reads.clear()
        space_update(stage_conn, space, batch, [])
        assert reads.count(frozenset(batch)) == 2, space  # its signatures once, its band keys once
        assert {t: group_of(stage_conn, space, t) for t in by_id} == _components(stage_conn, space, by_id)
    kept, counted = hot_groups_as_counted(stage_conn)
    assert kept == counted and {space for space, *_ in kept} == {"s0", "s1"}
