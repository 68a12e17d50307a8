"""Public ids as ranks by first appearance: ``a1`` is the article first seen, ``b1`` the first block.

When a refresh rewrites some records, only the ids between the smallest and the largest sort key that
changed move (none when a record is appended at the end or keeps its key), so a touch costs what it
changed, not the table's size."""

from __future__ import annotations

import sqlite3
from collections import Counter

from .sql import RankSql

TOP_KEY = b"\xff"  # above every sort key (UTF-8 never has this byte)


def _same_keys(old: dict[int, tuple[bytes, int]], new: dict[int, bytes]) -> dict[int, int]:
    """The same keys: the same ranks, in key order."""
    free = sorted(old.values())
    by_key = sorted(new.items(), key=lambda item: (item[1], item[0]))
    return {lab: pid for (lab, _), (_, pid) in zip(by_key, free)}


def _move_ids(conn: sqlite3.Connection, statements: RankSql, moves: list[tuple[int, int, int]]) -> None:
    """Give records new ids through negative ones, so that no two rows ever share an id. Within a step
    the order of the rows does not matter (every id a step writes is free: negative ones first, then
    the ranks those left), so each statement runs once over all the moves (a 3,000-page import of
    pages out of time order made 31,000 single updates here)."""
    for step in (((pid, -rank) for _, pid, rank in moves), ((-rank, rank) for _, _, rank in moves)):
        pairs = [(dst, src) for src, dst in step]
        conn.executemany(statements.move_id, pairs)
        conn.executemany(statements.move_child, pairs)
    conn.executemany(statements.set_public_id, [(rank, lab) for lab, _, rank in moves])


def renumber(
    conn: sqlite3.Connection, statements: RankSql, old: dict[int, tuple[bytes, int]], new: dict[int, bytes]
) -> dict[int, int]:
    """Public ids as ranks by sort key: ``old`` label -> (key, id) removed, ``new`` label -> key added.
    Returns label -> id for the new ones, and moves the ids of the others whose rank changed."""
    old_keys = Counter(key for key, _ in old.values())
    new_keys = Counter(new.values())
    differing = (old_keys - new_keys) + (new_keys - old_keys)
    if not differing:
        return _same_keys(old, new)
    assigned: dict[int, int] = {}
    low = min(differing)
    # rows above every changed key keep their rank unless the number of records changed
    high = max([*old_keys, *new_keys]) if len(old) == len(new) else TOP_KEY
    # ids are ranks: the rows below ``low`` are exactly ids 1..below, whichever were removed
    last_kept = conn.execute(statements.last_below, [low]).fetchone()
    below = max([last_kept[0] if last_kept else 0] + [pid for key, pid in old.values() if key < low])
    kept_below = below - sum(1 for key, _ in old.values() if key < low)
    same_below = sorted((key, pid) for key, pid in old.values() if key < low)  # affected, key unchanged
    new_below = sorted((key, lab) for lab, key in new.items() if key < low)
    for (_, lab), (_, pid) in zip(new_below, same_below):
        assigned[lab] = pid
    shifted = conn.execute(statements.between, [low, high]).fetchall()
    combined = sorted(
        [(key, lab, pid) for lab, key, pid in shifted] + [(key, lab, None) for lab, key in new.items() if key >= low]
    )
    moves = []
    for rank, (_, lab, pid) in enumerate(combined, start=kept_below + len(new_below) + 1):
        if pid is None:
            assigned[lab] = rank
        elif pid != rank:
            moves.append((lab, pid, rank))
    if moves:
        _move_ids(conn, statements, moves)
    return assigned
