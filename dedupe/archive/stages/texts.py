"""Stage 2: article texts and their near-duplicate groups, in three spaces.

``raw`` holds titled pages' texts before any furniture is taken out, ``s0`` the texts after round 0's
furniture and ``s1`` the final article texts. Each text is stored once (``derive_texts``, with its
MinHash signature and band keys) by its key, not verbatim: groups are made of signatures and band keys
alone, and an article version's text is written from the text the page gave when it first appears
(``Touched.article_texts``), then read from ``article_versions``. Once a version holds a text, the text's
stored signature is dropped (m040, ``release_held_signatures``) and computed again from the version's text when
the text meets another (``signatures``). A group is labelled by its smallest
text id. A text joins groups by band lookups confirmed by the estimated Jaccard (``blocks.texts_alike``);
a text that leaves a space (furniture grew) re-splits only the group it left.

A band key held by more than ``HOT_BUCKET`` texts (near-identical texts: a notice with a number changed) is hot: its
groups are kept per space (``derive_hot_text_groups``), and a text holding it meets those groups, and in each the
first member alike it that shares a key, not every text under the key (that cost the square of their number)."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ...blocks import ARTICLE_CONFIG, Components, article_text, texts_alike
from ...minhash import band_keys, compute_signatures, deserialize, serialize
from . import sql
from .model import Moves, Page, text_key
from .pages import NeedsRebuild

PAIRS_CHUNK = 5_000  # (band key, text) pairs per neighbour query
# texts under one band key past which its groups are kept per space: a new text then reads the groups (a handful)
# instead of the texts (all of them); ordinary keys hold 1-30 texts even at a million observations
HOT_BUCKET = 64
MEMBER_PROBE = 8  # members of a met group tried first for one alike (near-identical texts: the first is)
HELD_SIGNATURE_CACHE = 8_192  # signatures of held texts computed again, kept by key (~0.7 KB each: ~6 MB)
_held_signature_cache: dict[bytes, np.ndarray] = {}
# the texts a refresh added, by key: their text and stored signature. Their rows are written without it, and
# ``store_new_signatures`` writes it at the refresh's end for those no article version then holds: a signature
# written and dropped in one refresh would leave its table's pages a quarter full
_new_texts: dict[bytes, tuple[str, bytes]] = {}


def signature_blob(text: str) -> bytes:
    """An article text's signature as ``derive_texts`` stores it (``pa_text_signature`` in SQL)."""
    return serialize(compute_signatures([text], ARTICLE_CONFIG)[0], ARTICLE_CONFIG)


def _remember(keys: Iterable[bytes], sigs: Iterable[np.ndarray]) -> None:
    """Keep computed signatures of texts by key for ``signatures`` (the cache is emptied whole when full)."""
    kept = list(zip(keys, sigs))
    if len(_held_signature_cache) + len(kept) > HELD_SIGNATURE_CACHE:
        _held_signature_cache.clear()
    if len(kept) <= HELD_SIGNATURE_CACHE:
        _held_signature_cache.update(kept)


def begin_refresh() -> None:
    """Forget the texts of an earlier refresh (one rolled back left them)."""
    _new_texts.clear()


def store_new_signatures(conn: sqlite3.Connection) -> None:
    """At a refresh's end: the signatures of the texts it added that no article version holds (a text before
    furniture, a page that is no article), in their rows; a held text's stays computed from its version."""
    conn.executemany(sql.STORE_NEW_SIGNATURE, [(blob, key, text) for key, (text, blob) in _new_texts.items()])
    _remember(list(_new_texts), [deserialize(blob) for _, blob in _new_texts.values()])  # the next batches meet them
    _new_texts.clear()


def text_ids(conn: sqlite3.Connection, texts: Iterable[str]) -> dict[str, int]:
    """Ids of article texts, with their key, signature and band keys stored once (not the text: nothing
    the engine asks of a text needs more than its signature)."""
    by_hash = {text_key(t): t for t in texts if t}
    ids: dict[str, int] = {}

    def look_up(hashes: list[bytes]) -> None:
        for chunk in sql.chunks(hashes):
            for text_id, h in conn.execute(sql.in_list(sql.TEXT_IDS, chunk), list(chunk)):
                ids[by_hash[h]] = text_id

    look_up(list(by_hash))
    missing = [h for h, text in by_hash.items() if text not in ids]
    if missing:
        sig = compute_signatures([by_hash[h] for h in missing], ARTICLE_CONFIG)
        keys = band_keys(sig, ARTICLE_CONFIG.threshold)
        conn.executemany(sql.INSERT_TEXT, [(h,) for h in missing])  # the signature at the end, if not held
        for row, h in enumerate(missing):
            _new_texts[h] = (by_hash[h], serialize(sig[row], ARTICLE_CONFIG))
        look_up(missing)  # ids in this order, as one by one
        conn.executemany(
            sql.INSERT_TEXT_BAND,
            [(k, ids[by_hash[h]]) for row, h in enumerate(missing) for k in set(keys[row].tolist())],
        )
        _heat(conn, set(keys.reshape(-1).tolist()))
    return ids


def _heat(conn: sqlite3.Connection, keys: set[int]) -> None:
    """Make hot those of ``keys`` that now hold more than ``HOT_BUCKET`` texts: their groups in every space, as
    ``derive_groups`` has them now, counted into ``derive_hot_text_groups`` (kept from then on by every change of a
    member's group). A key not yet hot holds at most ``HOT_BUCKET`` texts plus the batch's, so this reads little."""
    cold = sorted(keys - hot_keys(conn, keys))
    if not cold:
        return
    for key in [k for (k,) in conn.execute(sql.CROWDED_KEYS, [json.dumps(cold), HOT_BUCKET])]:
        conn.execute(sql.INSERT_HOT_KEY, [key])
        conn.execute(sql.HOT_GROUPS_OF_KEY, [key])


def hot_keys(conn: sqlite3.Connection, keys: Iterable[int]) -> set[int]:
    """Which of these band keys are hot (held by more than ``HOT_BUCKET`` texts once)."""
    found: set[int] = set()
    keys = sorted(set(keys))
    for lo in range(0, len(keys), PAIRS_CHUNK):
        found.update(k for (k,) in conn.execute(sql.HOT_KEYS_AMONG, [json.dumps(keys[lo : lo + PAIRS_CHUNK])]))
    return found


def _count_hot(
    conn: sqlite3.Connection, space: str, changes: list[tuple[int, int | None, int | None]], keys: dict[int, set[int]]
) -> None:
    """Count members out of and into groups under their hot keys: ``changes`` holds (text, group it left or None,
    group it joined or None); ``keys`` each text's band keys."""
    hot = hot_keys(conn, {k for text_id, _, _ in changes for k in keys[text_id]})
    if not hot:
        return
    out = [(space, k, left, -1) for t, left, _ in changes if left is not None for k in sorted(keys[t] & hot)]
    conn.executemany(sql.HOT_COUNT, out)
    conn.executemany(sql.HOT_EMPTIED, [row[:3] for row in out])
    conn.executemany(
        sql.HOT_COUNT, [(space, k, joined, 1) for t, _, joined in changes if joined is not None for k in keys[t] & hot]
    )


def _any_hot(conn: sqlite3.Connection) -> bool:
    return bool(conn.execute(sql.ANY_HOT_KEY).fetchone()[0])


def signatures(conn: sqlite3.Connection, ids: Iterable[int]) -> dict[int, np.ndarray]:
    """The MinHash signatures of these texts: as stored; for a text added in this refresh, as computed; for a
    text its article version holds (signature NULL, m040), computed again from the version's text (~0.2 ms;
    kept by key for the next batches)."""
    out: dict[int, np.ndarray] = {}
    held: list[int] = []
    for chunk in sql.chunks(list(set(ids))):
        for text_id, key, blob in conn.execute(sql.in_list(sql.TEXT_SIGNATURES, chunk), list(chunk)):
            if blob is not None:
                out[text_id] = deserialize(blob)
            elif (added := _new_texts.get(key)) is not None:
                out[text_id] = deserialize(added[1])
            elif (kept := _held_signature_cache.get(key)) is not None:
                out[text_id] = kept
            else:
                held.append(text_id)
    if held:
        out.update(_held_signatures(conn, held))
    return out


def _held_signatures(conn: sqlite3.Connection, ids: list[int]) -> dict[int, np.ndarray]:
    """Signatures of texts held by their article versions, computed from the versions' texts. A text whose version
    is gone or holds another text (the triggers put a signature back first: only a hand edit without them) is
    a state the engine did not leave, so everything is derived again."""
    found: dict[int, tuple[bytes, str]] = {}
    for chunk in sql.chunks(ids):
        for text_id, key, text in conn.execute(sql.in_list(sql.HELD_TEXTS, chunk), list(chunk)):
            if text is None or text_key(text) != key:
                raise NeedsRebuild(f"article text {text_id} has no signature and no article version holding it")
            found[text_id] = (key, text)
    order = sorted(found)
    computed = compute_signatures([found[t][1] for t in order], ARTICLE_CONFIG)
    # as stored and read back: the dtype ``deserialize`` gives
    sigs = [deserialize(serialize(computed[row], ARTICLE_CONFIG)) for row in range(len(order))]
    _remember((found[t][0] for t in order), sigs)
    return dict(zip(order, sigs))


def release_held_signatures(conn: sqlite3.Connection, texts: Iterable[str]) -> None:
    """Drop the stored signatures of these texts, written with their article versions in this refresh (where the
    version holds the very text: two texts whose keys share 12 hex digits share a version id): ``signatures``
    computes them again from ``article_versions.text`` (m040: ~530 B a text)."""
    conn.executemany(sql.RELEASE_SIGNATURE, [(text_key(t), t) for t in texts])


def group_of(conn: sqlite3.Connection, space: str, text_id: int | None) -> int | None:
    """The group of a text in a space (None: no text, or not in the space)."""
    if text_id is None:
        return None
    row = conn.execute(sql.GROUP_OF, [space, text_id]).fetchone()
    return row[0] if row else None


def _keys_of(sigs: dict[int, np.ndarray]) -> dict[int, set[int]]:
    """Each text's band keys, from its signature: what ``text_ids`` stored in ``derive_text_bands`` for it,
    computed again (microseconds) rather than read by text id, which would take an index on the text id
    (45 MB at a million observations; m022)."""
    ids = sorted(sigs)
    if not ids:
        return {}
    keys = band_keys(np.stack([sigs[t] for t in ids]), ARTICLE_CONFIG.threshold)
    return {t: set(keys[row].tolist()) for row, t in enumerate(ids)}


def _neighbours(
    conn: sqlite3.Connection, space: str, keys: dict[int, set[int]], hot: set[int]
) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    """What each joining text (``keys``: its band keys) meets in the space: the texts sharing one of its ordinary
    keys, one query per chunk of (band key, text) pairs (a text sharing several keys found once); and the groups
    other than the joining texts' own under its ``hot`` keys (``derive_hot_text_groups``), members not read."""
    texts: dict[int, set[int]] = defaultdict(set)
    pairs = [[key, text_id] for text_id, ks in keys.items() for key in sorted(ks - hot)]
    for lo in range(0, len(pairs), PAIRS_CHUNK):
        for text_id, other in conn.execute(sql.KEY_NEIGHBOURS, [json.dumps(pairs[lo : lo + PAIRS_CHUNK]), space]):
            texts[text_id].add(other)
    under: dict[int, set[int]] = defaultdict(set)  # hot key -> its groups; read once a key, not once a text
    held = sorted({k for ks in keys.values() for k in ks} & hot)
    for lo in range(0, len(held), PAIRS_CHUNK):
        chunk = json.dumps(held[lo : lo + PAIRS_CHUNK])
        for key, grp in conn.execute(sql.HOT_NEIGHBOURS, [chunk, space, json.dumps(sorted(keys))]):
            under[key].add(grp)
    groups = {text_id: set().union(*(under[k] for k in ks & hot)) for text_id, ks in keys.items()}
    return texts, groups


def _union_alike(
    texts: list[int],
    keys: dict[int, set[int]],
    sigs: dict[int, np.ndarray],
    uf: Components,
    among: set[int] | None = None,
) -> None:
    """Union the texts (each its own label in ``uf``, or already joined there) alike one another that share a band
    key (one of ``among``, if given), in memory. Under each key a text is compared with each component the key's
    earlier texts make until one of its members is alike: every alike pair sharing a key ends in one component, as
    comparing every pair would leave it, but near-identical texts cost about one comparison each, not the square of
    their number."""
    buckets: dict[int, list[int]] = defaultdict(list)
    for text_id in sorted(texts):
        for key in keys[text_id] if among is None else keys[text_id] & among:
            buckets[key].append(text_id)
    for key in sorted(buckets):
        seen: dict[int, list[int]] = {}  # component (its label now) -> the bucket's texts in it so far
        for text_id in buckets[key]:
            for label in list(seen):  # components merged since: one entry, the longer list kept
                now = uf.find(label)
                if now != label:
                    moved, kept = sorted((seen.pop(label), seen.pop(now, [])), key=len)
                    kept.extend(moved)
                    seen[now] = kept
            for label in sorted(seen):
                mine = uf.find(text_id)
                if uf.find(label) != mine and any(texts_alike(sigs[text_id], sigs[m]) for m in seen[label]):
                    uf.union(mine, label)
            seen.setdefault(uf.find(text_id), []).append(text_id)


def _alike_member(
    conn: sqlite3.Connection, space: str, grp: int, text_id: int, keys: set[int], hot: set[int], reads: JoinReads
) -> bool:
    """Whether a member of the group other than ``text_id`` shares a band key with it and is alike it: the pair the
    reference rebuild would join them by. The group's first ``MEMBER_PROBE`` members are tried (among near-identical
    texts the first settles it; ``reads.probes``, read once a join); then the members holding one of the text's
    ``hot`` keys, the only others the text can be joined to here (those sharing an ordinary key are among
    ``_neighbours``' texts): at most the texts under those keys, what the text met before keys were hot."""
    sig = reads.of[text_id]
    probe = reads.probes[grp]  # never the text itself: its own group is not among the groups it meets
    if any(reads.keys[m] & keys and texts_alike(sig, reads.of[m]) for m in probe):
        return True
    if len(probe) < MEMBER_PROBE:  # the whole group was tried
        return False
    holders = conn.execute(sql.GROUP_MEMBERS_UNDER_KEYS, [json.dumps(sorted(keys & hot)), space, grp])
    return _any_alike(conn, sorted({m for (m,) in holders} - set(probe) - {text_id}), sig, keys)


@dataclass
class JoinReads:
    """What a join reads of texts once: signatures (``of``) and band keys by text, and the first members of each
    group met under a hot key (``probes``)."""

    of: dict[int, np.ndarray]
    keys: dict[int, set[int]]
    probes: dict[int, list[int]]


def _probes(conn: sqlite3.Connection, space: str, groups: set[int], sigs: dict[int, np.ndarray]) -> JoinReads:
    """The first ``MEMBER_PROBE`` members of each group, with their signatures and keys added to ``sigs``: among
    near-identical texts every joining text tries the same few, computed once."""
    probes = {g: [m for (m,) in conn.execute(sql.GROUP_FIRST_MEMBERS, [space, g, MEMBER_PROBE])] for g in groups}
    sigs.update(signatures(conn, {m for ms in probes.values() for m in ms} - set(sigs)))
    return JoinReads(sigs, _keys_of({m: sigs[m] for ms in probes.values() for m in ms}), probes)


def _any_alike(conn: sqlite3.Connection, members: list[int], sig: np.ndarray, keys: set[int]) -> bool:
    """Whether one of ``members`` shares one of ``keys`` and is alike the text whose signature is ``sig``."""
    sigs = signatures(conn, members)
    theirs = _keys_of(sigs)
    return any(theirs[m] & keys and texts_alike(sig, sigs[m]) for m in sorted(sigs))


def _join(
    conn: sqlite3.Connection,
    space: str,
    joining: list[int],
    sigs: dict[int, np.ndarray],
    keys: dict[int, set[int]],
    moves: Moves,
) -> None:
    """Union the groups of new members (``sigs``, ``keys``: their signatures and band keys, as ``_join_new`` read
    them) with the groups of the texts they are alike."""
    hot = hot_keys(conn, {k for ks in keys.values() for k in ks})
    candidates, met_groups = _neighbours(conn, space, keys, hot)
    sigs.update(signatures(conn, {o for c in candidates.values() for o in c} - set(sigs)))
    group: dict[int, int] = {}
    for chunk in sql.chunks(list(sigs)):
        group.update(conn.execute(sql.in_list(sql.GROUPS_OF_TEXTS, chunk), [space, *chunk]).fetchall())
    probed = _probes(conn, space, set().union(*met_groups.values()), sigs)
    uf = Components()
    for text_id in joining:
        for other in sorted(candidates[text_id]):
            a, b = uf.find(group[text_id]), uf.find(group[other])
            if a != b and texts_alike(sigs[text_id], sigs[other]):
                uf.union(a, b)
        for grp in sorted(met_groups[text_id]):
            a, b = uf.find(group[text_id]), uf.find(grp)
            if a != b and _alike_member(conn, space, grp, text_id, keys[text_id], hot, probed):
                uf.union(a, b)
    _union_alike(joining, keys, sigs, uf, among=hot)  # their own groups are not among the groups met
    relabel = {
        grp: uf.find(grp) for grp in set(group.values()) | set().union(*met_groups.values()) if uf.find(grp) != grp
    }
    for old, new in relabel.items():
        for (text_id,) in conn.execute(sql.GROUP_MEMBERS, [space, old]).fetchall():
            moves[text_id] = (moves.get(text_id, (old, old))[0], new)
        conn.execute(sql.RELABEL_GROUP, [new, space, old])
        conn.execute(sql.HOT_RELABEL, [new, space, old])
        conn.execute(sql.HOT_DROP_GROUP, [space, old])


def _resplit(conn: sqlite3.Connection, space: str, grp: int, moves: Moves) -> None:
    """Components of a group's remaining members (the text that left may have held it together)."""
    members = [t for (t,) in conn.execute(sql.GROUP_MEMBERS_ORDERED, [space, grp])]
    if not members:
        return
    sigs = signatures(conn, members)
    keys = _keys_of(sigs)
    uf = Components()
    _union_alike(members, keys, sigs, uf)
    for text_id in members:
        label = uf.find(text_id)  # the smallest member: the same label a fresh join gives
        if label != grp:
            moves[text_id] = (moves.get(text_id, (grp, grp))[0], label)
            conn.execute(sql.SET_MEMBER_GROUP, [label, space, text_id])
    _count_hot(conn, space, [(t, grp, uf.find(t)) for t in members if uf.find(t) != grp], keys)


def _count_joins(conn: sqlite3.Connection, space: str, added: list[int], moves: Moves) -> list[int]:
    """Count the added pages in; returns the texts new to the space (each a group of its own so far)."""
    counts = Counter(added)
    present: set[int] = set()
    for chunk in sql.chunks(list(counts)):
        present.update(t for (t,) in conn.execute(sql.in_list(sql.MEMBERS_PRESENT, chunk), [space, *chunk]))
    conn.executemany(sql.MEMBER_PAGES_JOINED, [(n, space, t) for t, n in counts.items() if t in present])
    joining = [t for t in counts if t not in present]
    conn.executemany(sql.INSERT_MEMBER, [(space, t, t, counts[t]) for t in joining])
    for text_id in joining:
        moves[text_id] = (moves.get(text_id, (None, None))[0], text_id)
    return joining


def _join_new(conn: sqlite3.Connection, space: str, joining: list[int], moves: Moves) -> None:
    """Count the texts new to the space (each its own group so far) into the groups under their hot keys, then
    join them. Their signatures and band keys are read once for both; the count is asked only while some key is
    hot (most archives have none), where it would otherwise read the hot keys of every batch's texts."""
    sigs = signatures(conn, joining)
    keys = _keys_of(sigs)
    if _any_hot(conn):
        _count_hot(conn, space, [(t, None, t) for t in joining], keys)
    _join(conn, space, sorted(joining), sigs, keys, moves)


def space_update(conn: sqlite3.Connection, space: str, added: list[int], removed: list[int]) -> Moves:
    """Count pages in and out of a text space; join added texts to groups, re-split groups that lost
    a text. Returns text id -> (old group, new group) for every member whose group changed."""
    moves: Moves = {}
    resplit: set[int] = set()
    gone: list[tuple[int, int | None, int | None]] = []
    for text_id in removed:
        grp, pages = conn.execute(sql.MEMBER, [space, text_id]).fetchone()
        if pages > 1:
            conn.execute(sql.MEMBER_PAGE_LEFT, [space, text_id])
        else:
            conn.execute(sql.DELETE_MEMBER, [space, text_id])
            moves[text_id] = (grp, None)
            resplit.add(grp)
            gone.append((text_id, grp, None))
    if gone and _any_hot(conn):
        _count_hot(conn, space, gone, _keys_of(signatures(conn, [t for t, _, _ in gone])))
    for grp in sorted(resplit):  # first the groups as the remaining texts make them, then the joins
        _resplit(conn, space, grp, moves)
    joining = _count_joins(conn, space, added, moves)
    if joining:
        _join_new(conn, space, joining, moves)
    return {t: m for t, m in moves.items() if m[0] != m[1]}


def add_raw_texts(conn: sqlite3.Connection, pages: list[Page]) -> set[int]:
    """Titled new pages' texts before any furniture, in the ``raw`` space; returns the texts that moved."""
    titled = [p for p in pages if p.title is not None]
    raw = {p.page_id: article_text(p.lines, set(), []) for p in titled}
    ids = text_ids(conn, raw.values())
    for p in titled:
        if raw[p.page_id]:
            conn.execute(sql.SET_RAW_TEXT, [ids[raw[p.page_id]], p.page_id])
    return set(space_update(conn, "raw", [ids[raw[p.page_id]] for p in titled if raw[p.page_id]], []))
