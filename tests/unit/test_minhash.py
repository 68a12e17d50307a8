"""dedupe.minhash: datasketch-identical signatures, BLOBs, LSH parameters and clustering."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run from anywhere, even before the package is installed
    sys.path.insert(0, str(ROOT))

from dedupe.minhash import (  # noqa: E402
    LSHIndex,
    MinhashConfig,
    compute_signature,
    compute_signatures,
    deserialize,
    estimate_jaccard,
    find_clusters,
    find_pairs,
    optimal_param,
    serialize,
    shingles,
    to_lean,
)

CFG = MinhashConfig()
_LETTERS = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяabcdefghijklmnopqrstuvwxyz"
VOCAB = sorted({"".join(random.Random(k).choices(_LETTERS, k=1 + k % 9)) for k in range(3000)})


def words(rnd: random.Random, count: int) -> list[str]:
    """Random words from a mixed Cyrillic/Latin vocabulary."""
    return rnd.choices(VOCAB, k=count)


def edited(text: str, rnd: random.Random, width: int) -> str:
    """Replace one contiguous run of `width` words: a planted near-duplicate."""
    tokens = text.split()
    start = rnd.randrange(len(tokens) - width)
    tokens[start : start + width] = words(rnd, width)
    return " ".join(tokens)


def datasketch_values(text: str, config: MinhashConfig) -> np.ndarray:
    """What datasketch itself computes for the same shingles."""
    m = MinHash(num_perm=config.num_perm, seed=config.seed, scheme=config.scheme)
    m.update_batch(shingles(text, config))
    return m.hashvalues


def partition(labels: list[int], ids: list[int] | None = None) -> set[frozenset[int]]:
    """Clusters as a set of sets of ids (row indices unless ids maps rows back)."""
    ids = ids if ids is not None else list(range(len(labels)))
    groups: dict[int, set[int]] = {}
    for row, label in enumerate(labels):
        groups.setdefault(label, set()).add(ids[row])
    return {frozenset(g) for g in groups.values()}


EDGE_CASES = [
    "",
    " \t\n ",
    "one",
    "Два слова",
    "four words only here",
    "exactly five words in here",
    "Привет,  МИР!\u00a0Ёлка\tи\nещё  раз — привет, мир!",
    "repeat repeat repeat repeat repeat repeat repeat repeat",
    "日本語のテキスト と 絵文字 😀 も 混ぜる",
]


# ---------------------------------------------------------------- config and shingles


def test_config_str_names_the_recipe():
    assert str(CFG) == "minhash:perm=128,unit=word,ngram=5,seed=1,t=0.8"
    custom = MinhashConfig(num_perm=64, ngram=3, unit="char", seed=7, threshold=0.75)
    assert str(custom) == "minhash:perm=64,unit=char,ngram=3,seed=7,t=0.75"
    assert str(MinhashConfig(scheme="legacy")).endswith(",scheme=legacy")


@pytest.mark.parametrize(
    "kwargs", [{"unit": "token"}, {"ngram": 0}, {"num_perm": 1}, {"threshold": 0.0}, {"threshold": 1.5}, {"scheme": "x"}]
)
def test_config_rejects_invalid_values(kwargs):
    with pytest.raises(ValueError):
        MinhashConfig(**kwargs)


def test_word_shingles_are_normalised_distinct_utf8():
    cfg = MinhashConfig(ngram=2)
    assert shingles("Hello  World\u00a0foo\n", cfg) == [b"hello world", b"world foo"]
    assert shingles("a b a b a b", cfg) == [b"a b", b"b a"]  # distinct, first-seen order
    assert shingles("Ёж  Бежит", cfg) == ["ёж бежит".encode()]


def test_char_shingles_count_characters_not_bytes():
    cfg = MinhashConfig(ngram=3, unit="char")
    assert shingles("AbC  d", cfg) == [b"abc", b"bc ", b"c d"]
    assert shingles("Дом", MinhashConfig(ngram=2, unit="char")) == ["до".encode(), "ом".encode()]


def test_short_and_empty_texts():
    assert shingles("Short  TEXT", CFG) == [b"short text"]  # fewer words than one 5-gram
    assert shingles("ab", MinhashConfig(ngram=5, unit="char")) == [b"ab"]
    assert shingles("", CFG) == []
    assert shingles(" \n\t", CFG) == []


# ---------------------------------------------------------------- signatures


@pytest.mark.parametrize(
    "config",
    [
        CFG,
        MinhashConfig(num_perm=64, ngram=3, seed=42),
        MinhashConfig(num_perm=32, ngram=1),
        MinhashConfig(num_perm=48, ngram=4, unit="char", seed=3),
        MinhashConfig(num_perm=16, ngram=2, scheme="legacy"),
        MinhashConfig(num_perm=16, ngram=2, scheme="affine64"),
    ],
    ids=str,
)
def test_signatures_bit_identical_to_datasketch(config):
    rnd = random.Random(config.num_perm)
    texts = EDGE_CASES + [" ".join(words(rnd, rnd.randint(1, 300))) for _ in range(40)]
    batch = compute_signatures(texts, config)
    assert batch.shape == (len(texts), config.num_perm)
    for text, row in zip(texts, batch):
        expected = datasketch_values(text, config)
        single = compute_signature(text, config)
        assert single.dtype == expected.dtype
        np.testing.assert_array_equal(single, expected, err_msg=repr(text))
        np.testing.assert_array_equal(row, expected, err_msg=repr(text))


def test_default_signature_matches_datasketch_defaults_on_long_text():
    text = " ".join(words(random.Random(5), 5000))  # more shingles than one internal block
    m = MinHash()  # datasketch defaults: 128 perms, seed 1, affine32
    m.update_batch(shingles(text, CFG))
    np.testing.assert_array_equal(compute_signature(text, CFG), m.hashvalues)


def test_empty_text_has_the_empty_minhash():
    signature = compute_signature("", CFG)
    assert signature.dtype == np.uint32
    np.testing.assert_array_equal(signature, MinHash(num_perm=128).hashvalues)
    assert compute_signatures([], CFG).shape == (0, 128)


def test_signature_depends_on_seed_and_text():
    a = compute_signature("the quick brown fox jumps over the lazy dog", CFG)
    assert not np.array_equal(a, compute_signature("the quick brown fox jumps over the lazy cat", CFG))
    assert not np.array_equal(a, compute_signature("the quick brown fox jumps over the lazy dog", MinhashConfig(seed=2)))
    np.testing.assert_array_equal(a, compute_signature("The  QUICK brown fox jumps over the lazy dog", CFG))


# ---------------------------------------------------------------- BLOBs


def test_serialize_round_trip_is_readable_by_datasketch():
    text = "Парламентская Ассамблея ОДКБ провела пленарное заседание в Москве"
    signature = compute_signature(text, CFG)
    blob = serialize(signature, CFG)
    assert isinstance(blob, bytes)
    restored = deserialize(blob)
    assert restored.dtype == signature.dtype
    np.testing.assert_array_equal(restored, signature)

    lean = LeanMinHash.deserialize(blob)
    assert lean.seed == CFG.seed and lean.scheme == "affine32"
    np.testing.assert_array_equal(lean.hashvalues, signature)
    m = MinHash()
    m.update_batch(shingles(text, CFG))
    assert lean == LeanMinHash(m)
    buf = bytearray(LeanMinHash(m).bytesize())
    LeanMinHash(m).serialize(buf)
    assert blob == bytes(buf)  # byte-for-byte datasketch's own format


def test_legacy_scheme_round_trip():
    cfg = MinhashConfig(num_perm=16, scheme="legacy")
    signature = compute_signature("a b c d e f g", cfg)
    restored = deserialize(serialize(signature, cfg))
    assert restored.dtype == np.uint64
    np.testing.assert_array_equal(restored, signature)


def test_to_lean_agrees_with_estimate():
    a = compute_signature("one two three four five six seven eight", CFG)
    b = compute_signature("one two three four five six seven nine", CFG)
    assert to_lean(a, CFG).jaccard(to_lean(b, CFG)) == estimate_jaccard(a, b)


# ---------------------------------------------------------------- Jaccard estimate


def test_estimate_jaccard_tracks_true_jaccard():
    cfg = MinhashConfig(num_perm=256, ngram=1)
    errors = []
    for k, true_j in enumerate([0.1, 0.25, 0.5, 0.75, 0.9] * 4):
        union = 400
        shared = round(true_j * union)
        only = (union - shared) // 2
        tokens = [f"t{k}_{i}" for i in range(shared + 2 * only)]
        a = " ".join(tokens[: shared + only])
        b = " ".join(tokens[:shared] + tokens[shared + only :])
        exact = shared / (shared + 2 * only)
        estimate = estimate_jaccard(compute_signature(a, cfg), compute_signature(b, cfg))
        # one estimate has sd sqrt(J(1-J)/256) <= 0.031: 4 sd
        assert abs(estimate - exact) < 0.125, (exact, estimate)
        errors.append(abs(estimate - exact))
    assert np.mean(errors) < 0.04  # mean |error| of 20 estimates is ~0.8 sd ~ 0.02


def test_estimate_jaccard_edges():
    a = compute_signature("alpha beta gamma delta epsilon zeta", CFG)
    assert estimate_jaccard(a, a) == 1.0
    assert estimate_jaccard(a, compute_signature("completely other words in this text here", CFG)) < 0.1
    with pytest.raises(ValueError):
        estimate_jaccard(a, a[:64])


# ---------------------------------------------------------------- LSH parameters


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
@pytest.mark.parametrize("num_perm", [64, 128])
def test_optimal_param_matches_datasketch(threshold, num_perm):
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert optimal_param(threshold, num_perm) == (lsh.b, lsh.r)


def test_optimal_param_is_sane():
    bands, rows = optimal_param(0.8, 128)
    assert bands * rows <= 128 and bands >= 2 and rows >= 2
    assert optimal_param(0.8, 128, 0.2, 0.8)[0] > bands  # favouring recall -> more, shorter bands
    assert optimal_param(0.5, 128)[1] < optimal_param(0.9, 128)[1]  # higher threshold -> longer bands


# ---------------------------------------------------------------- clustering


def planted_corpus(seed: int = 0) -> tuple[list[str], list[int]]:
    """25 families of a base text and 1-3 near-duplicates (J ~0.9), plus 40 unrelated texts."""
    rnd = random.Random(seed)
    texts, family = [], []
    for f in range(25):
        base = " ".join(words(rnd, rnd.randint(120, 250)))
        texts.append(base)
        family.append(f)
        for _ in range(rnd.randint(1, 3)):
            texts.append(edited(base, rnd, width=3))
            family.append(f)
    for f in range(25, 65):
        texts.append(" ".join(words(rnd, rnd.randint(120, 250))))
        family.append(f)
    return texts, family


def test_find_clusters_recovers_planted_near_duplicates():
    texts, family = planted_corpus()
    labels = find_clusters(compute_signatures(texts, CFG), CFG.threshold)
    assert partition(labels) == partition(family)
    assert all(label == min(r for r, l in enumerate(labels) if l == label) for label in labels)


def test_find_clusters_is_independent_of_row_order():
    texts, _ = planted_corpus(seed=1)
    signatures = compute_signatures(texts, CFG)
    expected = partition(find_clusters(signatures, CFG.threshold))
    for seed in range(3):
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        labels = find_clusters(signatures[order], CFG.threshold)
        assert partition(labels, ids=order) == expected
        assert labels[0] == 0 and labels == [min(r for r, l in enumerate(labels) if l == x) for x in labels]


def synthetic_rows(seed: int = 0) -> np.ndarray:
    """Hand-built signatures: 0~1 and 1~2 share 108/128 values, 0~2 only 88; 3 shares 0's first 40."""
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, 2**32, size=(5, 128), dtype=np.uint64).astype(np.uint32)
    rows[1] = rows[0]
    rows[1, 0:20] = rng.integers(0, 2**32, 20, dtype=np.uint64)
    rows[2] = rows[1]
    rows[2, 20:40] = rng.integers(0, 2**32, 20, dtype=np.uint64)
    rows[3, 0:40] = rows[0, 0:40]  # a full shared band: a candidate that must fail verification
    return rows


def test_clusters_are_transitive_and_verified():
    rows = synthetic_rows()
    assert find_pairs(rows, 0.8) == [(0, 1, 108 / 128), (1, 2, 108 / 128)]
    assert find_clusters(rows, 0.8) == [0, 0, 0, 3, 4]
    assert find_clusters(rows, 0.3) == [0, 0, 0, 0, 4]  # 0~3: 40/128 = 0.31 now verifies
    assert find_clusters(rows, 0.9) == [0, 1, 2, 3, 4]


def test_big_buckets_stay_one_cluster_in_any_order():
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**32, 128, dtype=np.uint64).astype(np.uint32)
    rows = np.tile(base, (60, 1))
    rows[np.arange(60), rng.integers(0, 128, 60)] = 7  # each row differs from base in <= 1 value
    rows = np.vstack([rows, rng.integers(0, 2**32, size=(5, 128), dtype=np.uint64).astype(np.uint32)])
    labels = find_clusters(rows, 0.8)
    assert labels == [0] * 60 + [60, 61, 62, 63, 64]
    order = np.random.default_rng(4).permutation(len(rows)).tolist()
    assert partition(find_clusters(rows[order], 0.8), ids=order) == partition(labels)


def test_find_clusters_edge_cases():
    assert find_clusters(np.empty((0, 128), dtype=np.uint32), 0.8) == []
    assert find_pairs(np.empty((0, 128), dtype=np.uint32), 0.8) == []
    assert find_clusters(compute_signatures(["a b c d e f"], CFG), 0.8) == [0]
    with pytest.raises(ValueError):
        find_clusters(compute_signatures(["a b c d e f"], CFG), 0.8, num_perm=64)


# ---------------------------------------------------------------- online index


def test_lsh_index_insert_and_query():
    rnd = random.Random(9)
    base = " ".join(words(rnd, 200))
    other = " ".join(words(rnd, 200))
    index = LSHIndex(CFG)
    index.insert("base", compute_signature(base, CFG))
    index.insert("other", compute_signature(other, CFG))
    assert len(index) == 2 and "base" in index
    assert index.query(compute_signature(edited(base, rnd, 3), CFG)) == ["base"]
    assert index.query(compute_signature(" ".join(words(rnd, 200)), CFG)) == []
    index.insert("base-copy", compute_signature(base, CFG))
    assert index.query(compute_signature(base, CFG)) == ["base", "base-copy"]
    with pytest.raises(ValueError):
        index.insert("base", compute_signature(base, CFG))


def test_lsh_index_verifies_candidates():
    rows = synthetic_rows()
    index = LSHIndex(MinhashConfig(threshold=0.8))
    index.insert("zero", rows[0])
    # rows[3] shares a whole band with rows[0] (an LSH candidate) but only 31% of values
    assert index.query(rows[3]) == []
    assert index.query(rows[1]) == ["zero"]
