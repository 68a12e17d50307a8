"""dedupe.minhash: datasketch-reproducible signatures (poly64 and sha1 hashing), BLOBs, LSH
parameters; and the in-memory clustering over them that the benchmark uses (bench.clustering)."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:  # run from anywhere, even before the package is installed
    sys.path.insert(0, str(ROOT))

from bench.clustering import find_clusters, find_pairs  # noqa: E402
from dedupe.blocks import ARTICLE_CONFIG, LINE_BAND_THRESHOLD, LINE_CONFIG  # noqa: E402
from dedupe.minhash import (  # noqa: E402
    CLUSTER_WEIGHTS,
    KEY_SHIFT,
    KNOWN_OPTIMAL_PARAMS,
    MinhashConfig,
    band_keys,
    compute_optimal_param,
    compute_signature,
    compute_signatures,
    deserialize,
    estimate_jaccard,
    hash_function,
    optimal_param,
    poly64_hash32,
    poly64_hash64,
    row_hash,
    serialize,
    shingles,
    to_lean,
)

CFG = MinhashConfig()  # the default: poly64 hashing
SHA1 = MinhashConfig(hashing="sha1")  # datasketch's own default hash function
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
    """What datasketch itself computes for the same shingles (its default hashfunc for sha1)."""
    hashfunc = None if config.hashing == "sha1" else hash_function(config)
    m = MinHash(num_perm=config.num_perm, seed=config.seed, scheme=config.scheme, hashfunc=hashfunc)
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
    assert CFG.hashing == "poly64"
    assert str(CFG) == "minhash:perm=128,unit=word,ngram=5,seed=1,t=0.8,hash=poly64"
    # sha1 names are the names written before poly64 existed: stored sha1 signatures keep theirs
    assert str(SHA1) == "minhash:perm=128,unit=word,ngram=5,seed=1,t=0.8"
    custom = MinhashConfig(num_perm=64, ngram=3, unit="char", seed=7, threshold=0.75, hashing="sha1")
    assert str(custom) == "minhash:perm=64,unit=char,ngram=3,seed=7,t=0.75"
    assert str(MinhashConfig(scheme="legacy", hashing="sha1")).endswith(",t=0.8,scheme=legacy")
    assert str(MinhashConfig(scheme="legacy")).endswith(",t=0.8,scheme=legacy,hash=poly64")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"unit": "token"},
        {"ngram": 0},
        {"num_perm": 1},
        {"threshold": 0.0},
        {"threshold": 1.5},
        {"scheme": "x"},
        {"hashing": "md5"},
    ],
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


SIGNATURE_CONFIGS = [
    MinhashConfig(hashing="sha1"),
    MinhashConfig(num_perm=64, ngram=3, seed=42, hashing="sha1"),
    MinhashConfig(num_perm=32, ngram=1, hashing="sha1"),
    MinhashConfig(num_perm=48, ngram=4, unit="char", seed=3, hashing="sha1"),
    MinhashConfig(num_perm=16, ngram=2, scheme="legacy", hashing="sha1"),
    MinhashConfig(num_perm=16, ngram=2, scheme="affine64", hashing="sha1"),
    CFG,
    MinhashConfig(num_perm=64, ngram=3, seed=42),
    MinhashConfig(num_perm=32, ngram=1),
    MinhashConfig(num_perm=48, ngram=4, unit="char", seed=3),
    MinhashConfig(num_perm=128, ngram=4, unit="char", threshold=0.5),  # dedupe.blocks' line config
    MinhashConfig(num_perm=16, ngram=2, scheme="legacy"),
    MinhashConfig(num_perm=16, ngram=2, scheme="affine64"),
]


@pytest.mark.parametrize("config", SIGNATURE_CONFIGS, ids=str)
def test_signatures_bit_identical_to_datasketch(config):
    """sha1: datasketch's defaults; poly64: datasketch with hashfunc=hash_function(config)."""
    rnd = random.Random(config.num_perm)
    texts = EDGE_CASES + [" ".join(words(rnd, rnd.randint(1, 300))) for _ in range(40)] + EDGE_CASES
    batch = compute_signatures(texts, config)
    assert batch.shape == (len(texts), config.num_perm)
    for text, row in zip(texts, batch):
        expected = datasketch_values(text, config)
        single = compute_signature(text, config)
        assert single.dtype == expected.dtype
        np.testing.assert_array_equal(single, expected, err_msg=repr(text))
        np.testing.assert_array_equal(row, expected, err_msg=repr(text))


def test_sha1_signature_matches_datasketch_defaults_on_long_text():
    text = " ".join(words(random.Random(5), 5000))  # more shingles than one internal block
    m = MinHash()  # datasketch defaults: 128 perms, seed 1, affine32, sha1_hash32
    m.update_batch(shingles(text, SHA1))
    np.testing.assert_array_equal(compute_signature(text, SHA1), m.hashvalues)


def test_poly64_signature_matches_datasketch_on_long_text():
    text = " ".join(words(random.Random(5), 5000))
    m = MinHash(hashfunc=poly64_hash32)
    m.update_batch(shingles(text, CFG))
    np.testing.assert_array_equal(compute_signature(text, CFG), m.hashvalues)


def test_hash_function_names_the_input_hash():
    from datasketch.hashfunc import sha1_hash32, sha1_hash64

    assert hash_function(SHA1) is sha1_hash32
    assert hash_function(MinhashConfig(hashing="sha1", scheme="affine64")) is sha1_hash64
    assert hash_function(CFG) is poly64_hash32
    assert hash_function(MinhashConfig(scheme="legacy")) is poly64_hash32
    assert hash_function(MinhashConfig(scheme="affine64")) is poly64_hash64
    shingle = "ёж бежит".encode()
    assert poly64_hash32(shingle) == poly64_hash64(shingle) >> 32 < 2**32
    assert poly64_hash64(b"ab") != poly64_hash64(b"ba") and poly64_hash64(b"a") != poly64_hash64(b"\x00a")


def test_no_whitespace_beyond_the_poly64_table():
    """poly64 collapses whitespace with a table up to U+3000: str.split() must agree everywhere."""
    from dedupe.minhash import _SPACE_LIMIT

    beyond = [c for c in range(_SPACE_LIMIT + 1, sys.maxunicode + 1) if chr(c).isspace()]
    assert beyond == []


POLY_TRICKY = [
    "a\u2003b\u3000c\u00a0d\u0085e\u1680f\x1cg\x1fh\x0bi\x0cj\u2028k\u2029l\u202fm\u205fn",  # all kinds of spaces
    "\x00 \x01\x08 \x0e\x1b",  # control characters that are not whitespace
    "İstanbul ΟΔΥΣΣΕΥΣ Σ",  # lower() lengthens İ; final sigma depends on the next character
    "ΑΣ",
    "   leading and trailing   ",
    "日本語のテキスト と 絵文字 😀 も 混ぜる",
]


@pytest.mark.parametrize("unit,ngram", [("word", 1), ("word", 2), ("word", 5), ("char", 1), ("char", 4)])
def test_poly64_texts_are_independent_of_their_batch(monkeypatch, unit, ngram):
    """Many texts are hashed as one array: tiny chunks and shingle blocks split texts at every
    possible place, and no shingle or whitespace run may leak from one text into another."""
    import dedupe.minhash as module

    cfg = MinhashConfig(num_perm=16, unit=unit, ngram=ngram)
    rnd = random.Random(ngram)
    texts = POLY_TRICKY + EDGE_CASES + [" ".join(words(rnd, rnd.randint(0, 12))) for _ in range(30)]
    rnd.shuffle(texts)
    expected = np.array([datasketch_values(text, cfg) for text in texts])
    np.testing.assert_array_equal(compute_signatures(texts, cfg), expected)
    for chunk, block in [(1, 1), (7, 3), (40, 5)]:
        monkeypatch.setattr(module, "_POLY_CHUNK_CHARS", chunk)
        monkeypatch.setattr(module, "_POLY_BLOCK", block)
        np.testing.assert_array_equal(compute_signatures(texts, cfg), expected)
        np.testing.assert_array_equal(compute_signatures(texts[::-1], cfg), expected[::-1])


@pytest.mark.parametrize("config", [CFG, SHA1], ids=str)
def test_empty_text_has_the_empty_minhash(config):
    signature = compute_signature("", config)
    assert signature.dtype == np.uint32
    np.testing.assert_array_equal(signature, MinHash(num_perm=128).hashvalues)
    np.testing.assert_array_equal(compute_signature(" \n\u3000", config), signature)
    assert compute_signatures([], config).shape == (0, 128)


@pytest.mark.parametrize("config", [CFG, SHA1], ids=str)
def test_signature_depends_on_seed_and_text(config):
    a = compute_signature("the quick brown fox jumps over the lazy dog", config)
    assert not np.array_equal(a, compute_signature("the quick brown fox jumps over the lazy cat", config))
    reseeded = MinhashConfig(seed=2, hashing=config.hashing)
    assert not np.array_equal(a, compute_signature("the quick brown fox jumps over the lazy dog", reseeded))
    np.testing.assert_array_equal(a, compute_signature("The  QUICK brown fox jumps over the lazy dog", config))


def test_hashings_give_different_signatures():
    text = "the quick brown fox jumps over the lazy dog"
    assert not np.array_equal(compute_signature(text, CFG), compute_signature(text, SHA1))


# ---------------------------------------------------------------- BLOBs


def test_serialize_round_trip_is_readable_by_datasketch():
    text = "Парламентская Ассамблея ОДКБ провела пленарное заседание в Москве"
    signature = compute_signature(text, SHA1)
    blob = serialize(signature, SHA1)
    assert isinstance(blob, bytes)
    restored = deserialize(blob)
    assert restored.dtype == signature.dtype
    np.testing.assert_array_equal(restored, signature)

    lean = LeanMinHash.deserialize(blob)
    assert lean.seed == SHA1.seed and lean.scheme == "affine32"
    np.testing.assert_array_equal(lean.hashvalues, signature)
    m = MinHash()
    m.update_batch(shingles(text, SHA1))
    assert lean == LeanMinHash(m)
    buf = bytearray(LeanMinHash(m).bytesize())
    LeanMinHash(m).serialize(buf)
    assert blob == bytes(buf)  # byte-for-byte datasketch's own format


def test_poly64_blobs_are_datasketch_blobs():
    text = "Парламентская Ассамблея ОДКБ провела пленарное заседание в Москве"
    other = "Парламентская Ассамблея ОДКБ провела пленарное заседание в Минске"
    signature, other_signature = compute_signature(text, CFG), compute_signature(other, CFG)
    blob = serialize(signature, CFG)
    np.testing.assert_array_equal(deserialize(blob), signature)
    lean = LeanMinHash.deserialize(blob)
    assert lean.seed == CFG.seed and lean.scheme == "affine32" and len(lean) == CFG.num_perm
    m = MinHash(hashfunc=poly64_hash32)
    m.update_batch(shingles(text, CFG))
    assert lean == LeanMinHash(m)
    buf = bytearray(LeanMinHash(m).bytesize())
    LeanMinHash(m).serialize(buf)
    assert blob == bytes(buf)
    other_lean = LeanMinHash.deserialize(serialize(other_signature, CFG))
    assert lean.jaccard(other_lean) == estimate_jaccard(signature, other_signature)


def test_legacy_scheme_round_trip():
    cfg = MinhashConfig(num_perm=16, scheme="legacy")
    signature = compute_signature("a b c d e f g", cfg)
    restored = deserialize(serialize(signature, cfg))
    assert restored.dtype == np.uint64
    np.testing.assert_array_equal(restored, signature)


@pytest.mark.parametrize("scheme", ["affine32", "affine64", "legacy"])
@pytest.mark.parametrize("num_perm", [2, 7, 128])
def test_blobs_are_byte_for_byte_datasketchs_in_every_scheme(scheme, num_perm):
    # the archive writes and reads the format itself (no datasketch import in a writer): both ways, every scheme
    cfg = MinhashConfig(num_perm=num_perm, scheme=scheme, seed=3)
    signature = compute_signature("the delegation of the Kyrgyz Republic has seven seats", cfg)
    lean = LeanMinHash(seed=cfg.seed, hashvalues=signature, scheme=scheme)
    buf = bytearray(lean.bytesize())
    lean.serialize(buf)
    assert serialize(signature, cfg) == bytes(buf)
    restored, theirs = deserialize(bytes(buf)), LeanMinHash.deserialize(bytes(buf)).hashvalues
    assert restored.dtype == theirs.dtype
    np.testing.assert_array_equal(restored, theirs)
    restored[0] = 0  # a writable array, as datasketch's


def test_a_truncated_or_unknown_blob_is_refused():
    blob = serialize(compute_signature("a b c d e f g", CFG), CFG)
    for broken in (blob[:10], blob[:-1], blob[:12] + b"\x09" + blob[13:]):
        with pytest.raises(ValueError):
            deserialize(broken)
    with pytest.raises(ValueError):
        serialize(np.array([], dtype=np.uint32), CFG)


def test_storing_signatures_loads_neither_datasketch_nor_scipy():
    code = (
        "import sys; from dedupe.blocks import line_signatures; from dedupe.minhash import serialize, deserialize; "
        "from dedupe.blocks import LINE_CONFIG; sigs, keys = line_signatures(['one line of text', 'another line']); "
        "assert (deserialize(serialize(sigs[0], LINE_CONFIG)) == sigs[0]).all(); "
        "print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("config", [CFG, SHA1], ids=str)
def test_to_lean_agrees_with_estimate(config):
    a = compute_signature("one two three four five six seven eight", config)
    b = compute_signature("one two three four five six seven nine", config)
    assert to_lean(a, config).jaccard(to_lean(b, config)) == estimate_jaccard(a, b)


# ---------------------------------------------------------------- Jaccard estimate


@pytest.mark.parametrize("hashing", ["poly64", "sha1"])
def test_estimate_jaccard_tracks_true_jaccard(hashing):
    cfg = MinhashConfig(num_perm=256, ngram=1, hashing=hashing)
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


def known_jaccard_pairs(count: int, seed: int, config: MinhashConfig) -> list[tuple[str, str, float]]:
    """(text, edited text, exact shingle Jaccard) with edits from none to most of the words, the
    shape of the bench's pairs: scattered substitutions or one rewritten block."""
    rnd = random.Random(seed)
    pairs = []
    for k in range(count):
        tokens = words(rnd, rnd.randint(150, 400))
        edited_tokens = list(tokens)
        share = rnd.random() * 0.9
        if k % 2:
            width = int(share * len(tokens))
            start = rnd.randrange(len(tokens) - width + 1)
            edited_tokens[start : start + width] = words(rnd, width)
        else:
            for position in rnd.sample(range(len(tokens)), int(share * len(tokens) / 4)):
                edited_tokens[position] = rnd.choice(VOCAB)
        a, b = " ".join(tokens), " ".join(edited_tokens)
        sa, sb = set(shingles(a, config)), set(shingles(b, config))
        pairs.append((a, b, len(sa & sb) / len(sa | sb)))
    return pairs


def test_poly64_estimation_error_is_minhash_error():
    """Over 400 pairs of known shingle Jaccard J, a MinHash estimate with ideal hashing is
    Binomial(num_perm, J) / num_perm: poly64's standardised errors must have mean ~0 and
    variance ~1, its mean |error| must match the binomial expectation, and it must do no worse
    than datasketch's sha1 signatures of the same pairs (beyond sampling noise)."""
    k = CFG.num_perm
    pairs = known_jaccard_pairs(400, seed=11, config=CFG)
    truth = np.array([j for _, _, j in pairs])
    assert truth.min() < 0.2 and truth.max() == 1.0 and np.mean((truth > 0.05) & (truth < 0.95)) > 0.6

    def estimates(config: MinhashConfig) -> np.ndarray:
        left = compute_signatures([a for a, _, _ in pairs], config)
        right = compute_signatures([b for _, b, _ in pairs], config)
        return np.count_nonzero(left == right, axis=1) / k

    poly, sha1 = estimates(CFG), estimates(SHA1)
    inner = (truth > 0.02) & (truth < 0.98)  # where the binomial has a spread to standardise by
    z = (poly - truth)[inner] / np.sqrt(truth * (1 - truth) / k)[inner]
    n = int(inner.sum())
    assert abs(z.mean()) < 4 / math.sqrt(n)  # unbiased: 4 sd of the mean of n standard scores
    assert abs(z.var() - 1) < 4 * math.sqrt(2 / n)  # as spread as independent permutations give

    def expected_abs_error(j: float) -> float:
        return sum(math.comb(k, m) * j**m * (1 - j) ** (k - m) * abs(m / k - j) for m in range(k + 1))

    expected = np.array([expected_abs_error(j) for j in truth])
    mae_poly, mae_sha1 = np.abs(poly - truth).mean(), np.abs(sha1 - truth).mean()
    noise = np.abs(poly - truth).std() / math.sqrt(len(truth))  # sd of a mean |error|
    assert abs(mae_poly - expected.mean()) < 4 * noise
    assert mae_poly < mae_sha1 + 4 * math.sqrt(2) * noise
    assert np.all(poly[truth == 1.0] == 1.0)  # identical shingle sets: identical signatures


def test_line_edits_stay_near_duplicates_under_poly64():
    """dedupe.blocks clusters lines with char 4-grams at 0.5: a changed count is the same line."""
    line_config = MinhashConfig(num_perm=128, unit="char", ngram=4, threshold=0.5, seed=1)
    lines = [
        "consists of 7 deputies.",
        "consists of 6 deputies.",
        "The delegation consists of 12 deputies.",
        "The delegation consists of 7 deputies.",
        "Plenary session of the Assembly in St. Petersburg",
    ]
    signatures = compute_signatures(lines, line_config)
    for i, j in [(0, 1), (2, 3)]:  # exact char 4-gram Jaccard 0.67 and 0.78
        assert estimate_jaccard(signatures[i], signatures[j]) >= line_config.threshold
    assert find_clusters(signatures, line_config.threshold) == [0, 0, 0, 0, 4]


@pytest.mark.parametrize("config", [CFG, SHA1], ids=str)
def test_estimate_jaccard_edges(config):
    a = compute_signature("alpha beta gamma delta epsilon zeta", config)
    assert estimate_jaccard(a, a) == 1.0
    assert estimate_jaccard(a, compute_signature("completely other words in this text here", config)) < 0.1
    with pytest.raises(ValueError):
        estimate_jaccard(a, a[:64])


# ---------------------------------------------------------------- LSH parameters


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
@pytest.mark.parametrize("num_perm", [64, 128])
def test_optimal_param_matches_datasketch(threshold, num_perm):
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert optimal_param(threshold, num_perm) == (lsh.b, lsh.r)


@pytest.mark.parametrize("known", sorted(KNOWN_OPTIMAL_PARAMS))
def test_the_known_optimal_params_are_what_the_search_and_datasketch_find(known):
    threshold, num_perm, fp_weight, fn_weight = known
    assert compute_optimal_param(*known) == KNOWN_OPTIMAL_PARAMS[known]
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, weights=(fp_weight, fn_weight))
    assert KNOWN_OPTIMAL_PARAMS[known] == (lsh.b, lsh.r)


def test_the_thresholds_the_archive_bands_with_are_known():
    assert (LINE_BAND_THRESHOLD, LINE_CONFIG.num_perm, *CLUSTER_WEIGHTS) in KNOWN_OPTIMAL_PARAMS
    assert (ARTICLE_CONFIG.threshold, ARTICLE_CONFIG.num_perm, *CLUSTER_WEIGHTS) in KNOWN_OPTIMAL_PARAMS


def test_band_keys_are_each_bands_row_hash_as_archives_stored_them():
    """All bands are hashed at once; each key must stay the band's ``row_hash`` salted by its number, which
    is what every archive's ``derive_*_bands`` rows hold (a different key would find no stored neighbour)."""
    rng = np.random.default_rng(7)
    for n, num_perm, threshold in ((1, 128, LINE_BAND_THRESHOLD), (9, 128, ARTICLE_CONFIG.threshold), (3, 64, 0.9)):
        sig = rng.integers(0, 2**32, (n, num_perm), dtype=np.uint64).astype(np.uint32)
        bands, rows = optimal_param(threshold, num_perm, *CLUSTER_WEIGHTS)
        expected = (
            np.stack([row_hash(sig[:, b * rows : (b + 1) * rows], salt=b + 1) for b in range(bands)], axis=1).view(
                np.int64
            )
            >> KEY_SHIFT
        )
        assert np.array_equal(band_keys(sig, threshold), expected)
    assert band_keys(np.zeros((0, 128), dtype=np.uint32), 0.6).shape == (
        0,
        optimal_param(0.6, 128, *CLUSTER_WEIGHTS)[0],
    )
    # and the keys themselves, as the code before the one-pass keys computed them (archives store these)
    sig = (np.arange(128, dtype=np.uint64) * np.uint64(2654435761) % np.uint64(2**32)).astype(np.uint32)[None, :]
    before_m030 = {0.4: [7568001546169057401, 2498320440535982216, 425342683779637768]}
    before_m030[0.6] = [-7691732725601817524, -2169681899168843886, -5096513574415239139]
    for threshold, keys in before_m030.items():  # m030 keeps their top 31 bits
        assert band_keys(sig, threshold)[0, :3].tolist() == [key >> KEY_SHIFT for key in keys]
        assert all(-(2**30) <= key >> KEY_SHIFT < 2**30 for key in keys)


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


@pytest.mark.parametrize("config", [CFG, SHA1], ids=str)
def test_find_clusters_recovers_planted_near_duplicates(config):
    texts, family = planted_corpus()
    labels = find_clusters(compute_signatures(texts, config), config.threshold)
    assert partition(labels) == partition(family)
    assert all(label == min(r for r, lab in enumerate(labels) if lab == label) for label in labels)


def test_find_clusters_is_independent_of_row_order():
    texts, _ = planted_corpus(seed=1)
    signatures = compute_signatures(texts, CFG)
    expected = partition(find_clusters(signatures, CFG.threshold))
    for seed in range(3):
        order = list(range(len(texts)))
        random.Random(seed).shuffle(order)
        labels = find_clusters(signatures[order], CFG.threshold)
        assert partition(labels, ids=order) == expected
        assert labels[0] == 0 and labels == [min(r for r, lab in enumerate(labels) if lab == x) for x in labels]


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
