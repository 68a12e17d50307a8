"""MinHash signatures and LSH near-duplicate clustering for archived page texts.

Every signature is a datasketch 2.0 MinHash: ``datasketch.MinHash(num_perm, seed, scheme,
hashfunc=hash_function(config)).update_batch(shingles(text, config))`` gives the same hash
values, so stored BLOBs are ``LeanMinHash`` BLOBs that datasketch reads, compares and indexes.
Only the input hash of a shingle differs between the two ``MinhashConfig.hashing`` modes:

* ``"poly64"`` (the default): the polynomial ``sum((code point_j + 1) * P**(len - j)) mod 2**64``
  over the shingle's characters (``P`` = 2**64 / golden ratio), put through the MurmurHash3
  64-bit finaliser; the top 32 bits (all 64 for ``affine64``) are the input hash
  (:func:`poly64_hash32` / :func:`poly64_hash64`). Being polynomial, the hashes of all shingles
  of a whole batch of texts come from one prefix sum over their concatenated normalised code
  points, ``H[s:e] = P**e * (C[e] - C[s])`` with ``C[k] = sum((c_j + 1) * P**-j, j < k)``, and
  the normalisation (lower-case, whitespace runs -> one space) is vectorised too: no Python
  work per shingle, word or character.
* ``"sha1"``: datasketch's own default ``sha1_hash32``/``sha1_hash64`` (one hashlib SHA-1 per
  shingle), i.e. bit-identical to ``MinHash(num_perm, seed).update_batch(shingles)``; kept for
  signatures that must match ones datasketch computed with its defaults.

Either way the permutation (datasketch's ``fmix`` pre-mix, then ``a*h + b``) and the min run
vectorised with numpy over blocks of shingles. The estimate is a MinHash estimate with a
well-mixed input hash in both modes, so its error is the same (see the unit tests and the
bench's MAE on pairs of known overlap).

LSH: :func:`band_keys` gives each signature one bucket key per band, with bands and rows from
the threshold (:func:`optimal_param`, datasketch's formula). The archive stores those keys in
SQLite (``derive_*_bands``), asks for the rows that share one, and confirms each candidate with
:func:`estimates_against` (``dedupe.blocks``, ``dedupe.archive.incremental``): memory stays a few
bytes per row, where a ``datasketch.MinHashLSH`` index costs ~7 KB a document. The in-memory
clustering of a whole signature matrix that the benchmark and the tests use is ``bench.clustering``.
"""

from __future__ import annotations

import functools
import hashlib
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from datasketch import LeanMinHash

# datasketch (which imports its LSH, Redis and aiohttp storage) and scipy are imported where they are
# used, not with this module: together 0.6 s that every ``pa-archive`` command and every crawl's writer
# paid on start, even a re-crawl that stores one 304 and derives no signature (1.3 s in all).

__all__ = [
    "CLUSTER_WEIGHTS",
    "MinhashConfig",
    "as_signature_matrix",
    "compute_signature",
    "compute_signatures",
    "deserialize",
    "band_keys",
    "estimate_jaccard",
    "estimates_against",
    "hash_function",
    "optimal_param",
    "poly64_hash32",
    "poly64_hash64",
    "row_hash",
    "serialize",
    "shingles",
    "to_lean",
]

UNITS = ("word", "char")
SCHEMES = ("affine32", "affine64", "legacy")  # datasketch 2.0 permutation schemes
DEFAULT_SCHEME = "affine32"  # datasketch 2.0's default
HASHINGS = ("poly64", "sha1")  # input hash of a shingle (see the module docstring)
DEFAULT_HASHING = "poly64"

# LSH weights (false positive, false negative) of band_keys. Every candidate is verified by
# estimated Jaccard, so a false-positive candidate only costs one cheap comparison while a false
# negative is a missed duplicate: lean towards recall.
CLUSTER_WEIGHTS = (0.2, 0.8)

_MERSENNE_PRIME = np.uint64((1 << 61) - 1)
_LEGACY_MAX_HASH = np.uint64((1 << 32) - 1)
_FMIX = {
    32: (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16)),
    64: (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(33), np.uint64(0xC4CEB9FE1A85EC53), np.uint64(33)),
}
_SHINGLE_BLOCK = 4096  # shingles permuted at once: bounds the (num_perm, block) temporary
_sha1 = hashlib.sha1
_sha1_digest = type(hashlib.sha1()).digest


@dataclass(frozen=True)
class MinhashConfig:
    """Everything that determines a signature, so stored signatures can name their recipe."""

    num_perm: int = 128
    ngram: int = 5  # shingle size
    unit: str = "word"  # "word" n-grams or "char" n-grams of the normalised text
    seed: int = 1
    threshold: float = 0.8  # Jaccard threshold for near-duplicates
    scheme: str = DEFAULT_SCHEME  # datasketch permutation scheme
    hashing: str = DEFAULT_HASHING  # "poly64" (fast) or "sha1" (datasketch's default hashfunc)

    def __post_init__(self) -> None:
        """Reject configurations datasketch could not reproduce."""
        if self.num_perm < 2:
            raise ValueError(f"num_perm must be >= 2, got {self.num_perm}")
        if self.ngram < 1:
            raise ValueError(f"ngram must be >= 1, got {self.ngram}")
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}, got {self.unit!r}")
        if self.scheme not in SCHEMES:
            raise ValueError(f"scheme must be one of {SCHEMES}, got {self.scheme!r}")
        if self.hashing not in HASHINGS:
            raise ValueError(f"hashing must be one of {HASHINGS}, got {self.hashing!r}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")

    @property
    def full_name(self) -> str:
        """Every parameter, scheme and input hashing included: what a stored signature records."""
        return (
            f"minhash:perm={self.num_perm},unit={self.unit},ngram={self.ngram},seed={self.seed},"
            f"t={self.threshold:g},scheme={self.scheme},hash={self.hashing}"
        )

    def __str__(self) -> str:
        """Name how a stored signature was made: scheme only when not the default, hashing only
        when not sha1, so names written before poly64 existed still describe their (sha1) values."""
        name = f"minhash:perm={self.num_perm},unit={self.unit},ngram={self.ngram},seed={self.seed},t={self.threshold:g}"
        if self.scheme != DEFAULT_SCHEME:
            name += f",scheme={self.scheme}"
        if self.hashing != "sha1":
            name += f",hash={self.hashing}"
        return name


# ---------------------------------------------------------------- shingling


def _normalise(text: str) -> bytes:
    """Lower-case and collapse all (Unicode) whitespace to single spaces, as UTF-8."""
    return " ".join(text.lower().split()).encode("utf-8")


def _spans(text: str, config: MinhashConfig) -> tuple[bytes, list[int], list[int]]:
    """Byte offsets of every shingle in the normalised text (slicing bytes beats joining words)."""
    enc = _normalise(text)
    if not enc:
        return enc, [], []
    raw = np.frombuffer(enc, dtype=np.uint8)
    if config.unit == "word":
        gaps = np.flatnonzero(raw == 0x20)  # single spaces between words
        starts, ends = np.concatenate(([0], gaps + 1)), np.concatenate((gaps, [len(enc)]))
    else:
        starts = np.flatnonzero((raw & 0xC0) != 0x80)  # first byte of each character
        ends = np.concatenate((starts[1:], [len(enc)]))
    count = len(starts) - config.ngram + 1
    if count <= 0:
        return enc, [0], [len(enc)]
    return enc, starts[:count].tolist(), ends[config.ngram - 1 :].tolist()


def shingles(text: str, config: MinhashConfig) -> list[bytes]:
    """Distinct UTF-8 shingles in first-seen order: the set a signature summarises."""
    enc, starts, ends = _spans(text, config)
    return list(dict.fromkeys([enc[s:e] for s, e in zip(starts, ends)]))


def shingle_set(text: str, config: MinhashConfig) -> set[bytes]:
    """``shingles`` as a set, for the exact Jaccard that confirms a candidate pair (no order to keep)."""
    enc, starts, ends = _spans(text, config)
    return {enc[s:e] for s, e in zip(starts, ends)}


# ---------------------------------------------------------------- signatures


@dataclass(frozen=True)
class _Permutations:
    """datasketch's permutation parameters for one (num_perm, seed, scheme)."""

    scheme: str
    width: int
    a: np.ndarray  # column vectors, shape (num_perm, 1)
    b: np.ndarray
    empty: np.ndarray  # signature of the empty set


@functools.lru_cache(maxsize=16)
def _permutations(num_perm: int, seed: int, scheme: str) -> _Permutations:
    """Draw a, b exactly as datasketch.MinHash._init_permutations does."""
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        pairs = [
            (gen.randint(1, _MERSENNE_PRIME, dtype=np.uint64), gen.randint(0, _MERSENNE_PRIME, dtype=np.uint64))
            for _ in range(num_perm)
        ]
        a, b = np.array(pairs, dtype=np.uint64).T
        empty = np.full(num_perm, _LEGACY_MAX_HASH, dtype=np.uint64)
        return _Permutations(scheme, 32, a[:, None].copy(), b[:, None].copy(), empty)
    width = 32 if scheme == "affine32" else 64
    dtype = np.uint32 if width == 32 else np.uint64
    a = gen.randint(0, 1 << (width - 1), num_perm, dtype=dtype) * dtype(2) + dtype(1)
    b = gen.randint(0, 1 << width, num_perm, dtype=dtype)
    empty = np.full(num_perm, np.iinfo(dtype).max, dtype=dtype)
    return _Permutations(scheme, width, a[:, None], b[:, None], empty)


def _config_permutations(config: MinhashConfig) -> _Permutations:
    """Permutations for a config (cached)."""
    return _permutations(config.num_perm, config.seed, config.scheme)


def _fmix(hv: np.ndarray, width: int) -> np.ndarray:
    """MurmurHash3 finaliser, datasketch's pre-mix for the affine schemes (wrapping arithmetic)."""
    s1, m1, s2, m2, s3 = _FMIX[width]
    hv = hv ^ (hv >> s1)
    hv *= m1
    hv ^= hv >> s2
    hv *= m2
    hv ^= hv >> s3
    return hv


def _input_hashes(digests: bytes, width: int) -> np.ndarray:
    """First 4 or 8 bytes of each 20-byte SHA-1 digest as little-endian ints (sha1_hash32/64)."""
    if width == 32:
        return np.frombuffer(digests, dtype="<u4")[::5].astype(np.uint32)
    rows = np.frombuffer(digests, dtype=np.uint8).reshape(-1, 20)[:, :8]
    return np.ascontiguousarray(rows).view("<u8").ravel().astype(np.uint64)


def _permuted(hv: np.ndarray, perm: _Permutations) -> np.ndarray:
    """Every permutation of every input hash, (num_perm, shingles): that layout keeps mins contiguous."""
    if perm.scheme == "legacy":
        phv = hv.astype(np.uint64) * perm.a  # uint64 wrap-around, exactly like datasketch
        phv += perm.b
        phv %= _MERSENNE_PRIME
        phv &= _LEGACY_MAX_HASH
    else:
        phv = _fmix(hv, perm.width) * perm.a
        phv += perm.b
    return phv


def _permuted_min(hv: np.ndarray, perm: _Permutations) -> np.ndarray:
    """Min over shingles of every permutation."""
    return _permuted(hv, perm).min(axis=1)


def _sha1_digests(enc: bytes, starts: list[int], ends: list[int]) -> bytes:
    """Concatenated SHA-1 digests of enc[start:end]; an all-C map chain, ~30% faster than a listcomp."""
    return b"".join(map(_sha1_digest, map(_sha1, map(enc.__getitem__, map(slice, starts, ends)))))


def _signature_of_spans(enc: bytes, starts: list[int], ends: list[int], perm: _Permutations) -> np.ndarray:
    """Signature of a document from its shingle offsets (duplicates are harmless for a min)."""
    signature = perm.empty.copy()
    for lo in range(0, len(starts), _SHINGLE_BLOCK):
        hi = lo + _SHINGLE_BLOCK
        digests = _sha1_digests(enc, starts[lo:hi], ends[lo:hi])
        np.minimum(signature, _permuted_min(_input_hashes(digests, perm.width), perm), out=signature)
    return signature


# ---------------------------------------------------------------- poly64 input hash

_MASK64 = (1 << 64) - 1
_POLY_BASE = 0x9E3779B97F4A7C15  # 2**64 / golden ratio, odd: small multiples stay far from 0 mod 2**64
_POLY_BASE_INV = pow(_POLY_BASE, -1, 1 << 64)
_POLY_CHUNK_CHARS = 1 << 16  # characters hashed at once: keeps the uint64 temporaries in L2 cache
_POLY_BLOCK = 8192  # shingles permuted at once (a 4 MB (num_perm, block) temporary at 128 perms)
_POLY_CACHED_POWERS = 1 << 20  # longest power tables kept between calls (16 MB)
_SPACE_LIMIT = 0x3000  # no code point above this is str.isspace() (a unit test checks all of Unicode)
_IS_SPACE = np.array([chr(c).isspace() for c in range(_SPACE_LIMIT + 1)])


def _fmix64_int(h: int) -> int:
    """MurmurHash3 64-bit finaliser on a Python int (the reference for the numpy path)."""
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _MASK64
    return h ^ (h >> 33)


def poly64_hash64(shingle: bytes) -> int:
    """The poly64 input hash of one shingle (UTF-8) for 64-bit schemes: fmix64 of the polynomial
    sum((ord(c_j) + 1) * P**(len - j)) mod 2**64 over its code points. A pure-Python reference and
    a datasketch ``hashfunc``; compute_signatures gets the same values vectorised."""
    h = 0
    for char in shingle.decode("utf-8"):  # Horner
        h = ((h + ord(char) + 1) * _POLY_BASE) & _MASK64
    return _fmix64_int(h)


def poly64_hash32(shingle: bytes) -> int:
    """The poly64 input hash for 32-bit schemes (affine32, legacy): the top 32 bits."""
    return poly64_hash64(shingle) >> 32


def hash_function(config: MinhashConfig) -> Callable[[bytes], int]:
    """The ``hashfunc`` with which datasketch.MinHash reproduces this config's signatures."""
    wide = config.scheme == "affine64"
    if config.hashing == "sha1":
        from datasketch.hashfunc import sha1_hash32, sha1_hash64

        return sha1_hash64 if wide else sha1_hash32
    return poly64_hash64 if wide else poly64_hash32


_poly_power_cache: tuple[np.ndarray, np.ndarray] = (np.ones(1, np.uint64), np.ones(1, np.uint64))


def _geometric(base: int, size: int) -> np.ndarray:
    """base**k mod 2**64 for k < size."""
    powers = np.full(size, base, dtype=np.uint64)
    powers[0] = 1
    return np.cumprod(powers, out=powers)  # uint64 products wrap mod 2**64


def _poly_powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """(P**k, P**-k) mod 2**64 for k < at least size; tables up to _POLY_CACHED_POWERS are kept."""
    global _poly_power_cache
    powers = _poly_power_cache
    if len(powers[0]) < size:
        grown = max(size, min(2 * len(powers[0]), _POLY_CACHED_POWERS), 1 << 17)
        powers = (_geometric(_POLY_BASE, grown), _geometric(_POLY_BASE_INV, grown))
        if grown <= _POLY_CACHED_POWERS:
            _poly_power_cache = powers
    return powers


def _is_space(points: np.ndarray) -> np.ndarray:
    """str.isspace() of every code point: one compare for " ", a table for the rare candidates
    (controls, U+0085..U+00A0, U+1680..U+3000; the last also holds common punctuation)."""
    space = points == 0x20
    rare = points < 0x20
    rare |= (points - np.uint32(0x85)) <= np.uint32(0xA0 - 0x85)  # wraps below 0x85
    rare |= (points - np.uint32(0x1680)) <= np.uint32(_SPACE_LIMIT - 0x1680)
    candidates = np.flatnonzero(rare)
    if len(candidates):
        space[candidates] = _IS_SPACE[points[candidates]]
    return space


def _normalised_code_points(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """_normalise of every text, concatenated, as code points: (code points, text ends, word
    starts, word ends); text d is points[ends[d-1]:ends[d]], words are [start, end) spans."""
    lowered = [text.lower() for text in texts]  # per text: lower() of "Σ" depends on what follows
    lens = np.fromiter(map(len, lowered), dtype=np.int64, count=len(lowered))
    points = np.frombuffer("\n".join(lowered).encode("utf-32-le"), dtype=np.uint32)  # "\n": words never span texts
    ends = np.cumsum(lens + 1) - 1  # where each text ends (its "\n")
    letter = np.zeros(len(points) + 2, dtype=np.int8)  # padded: letter[p + 1] is "points[p] is no space"
    np.logical_not(_is_space(points), out=letter[1:-1].view(bool))
    edges = np.diff(letter)  # +1 where a word starts, -1 where one has ended
    word_start, word_end = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    keep = letter[1:-1].view(bool)  # letters, and the first space after a word followed by a word of its text
    same_text = np.searchsorted(ends, word_start[1:]) == np.searchsorted(ends, word_start[:-1])
    separators = word_end[:-1][same_text]
    keep[separators] = True
    kept = np.zeros(len(points) + 1, dtype=np.int64)  # old position -> new position
    np.cumsum(keep, out=kept[1:])
    normalised = points[keep]
    normalised[kept[separators]] = 0x20
    return normalised, kept[ends], kept[word_start], kept[word_end]


def _poly_shingles(
    ends: np.ndarray, starts: np.ndarray, stops: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shingle spans (first token's start, n-th token's stop) grouped by text, given token spans
    and text ends, and bounds such that text d owns spans bounds[d]:bounds[d+1]: the same
    shingles as _spans gives each text (repeats included), without a Python loop."""
    n_docs = len(ends)
    token_doc = np.searchsorted(ends, starts, side="right")
    count = len(starts) - n + 1
    if count > 0:
        shingle_doc, span_start, span_end = token_doc[:count], starts[:count], stops[n - 1 :]
        inside = shingle_doc == token_doc[n - 1 :]  # no shingle crosses from one text into the next
        if not inside.all():
            shingle_doc, span_start, span_end = shingle_doc[inside], span_start[inside], span_end[inside]
    else:
        shingle_doc = span_start = span_end = np.empty(0, dtype=np.int64)
    tokens = np.bincount(token_doc, minlength=n_docs)
    short = np.flatnonzero((tokens > 0) & (tokens < n))  # fewer tokens than n: the whole text
    if len(short):
        shingle_doc = np.concatenate((shingle_doc, short))
        span_start = np.concatenate((span_start, starts[np.searchsorted(token_doc, short)]))
        span_end = np.concatenate((span_end, ends[short]))
        order = np.argsort(shingle_doc, kind="stable")
        shingle_doc, span_start, span_end = shingle_doc[order], span_start[order], span_end[order]
    bounds = np.searchsorted(shingle_doc, np.arange(n_docs + 1))
    return span_start, span_end, bounds


def _poly_input_hashes(points: np.ndarray, span_start: np.ndarray, span_end: np.ndarray, width: int) -> np.ndarray:
    """poly64_hash32/64 of every span points[start:end], from one prefix sum over the code points:
    sum((c_j + 1) * P**(end - j)) = P**end * (C[end] - C[start]), C[k] = sum((c_j + 1) * P**-j, j < k)."""
    base_powers, inverse_powers = _poly_powers(len(points) + 1)
    prefix = np.zeros(len(points) + 1, dtype=np.uint64)
    coefficients = points.astype(np.uint64)
    coefficients += np.uint64(1)
    coefficients *= inverse_powers[: len(points)]
    np.cumsum(coefficients, out=prefix[1:])  # wraps mod 2**64
    hv = prefix[span_end]
    hv -= prefix[span_start]
    hv *= base_powers[span_end]
    hv = _fmix(hv, 64)
    return (hv >> np.uint64(32)).astype(np.uint32) if width == 32 else hv


def _min_per_text(hv: np.ndarray, bounds: np.ndarray, perm: _Permutations, out: np.ndarray) -> None:
    """out[d] = min(out[d], permuted min of hv[bounds[d]:bounds[d+1]]) for every text d, a block
    of shingles at a time (np.minimum.reduceat over the texts a block covers)."""
    total = len(hv)
    step = -(-total // -(-total // _POLY_BLOCK)) if total else 1  # equal blocks of <= _POLY_BLOCK
    for lo in range(0, total, step):
        hi = min(lo + step, total)
        docs = np.arange(np.searchsorted(bounds, lo, side="right") - 1, np.searchsorted(bounds, hi, side="left"))
        seg_start = np.maximum(bounds[docs], lo)
        nonempty = seg_start < np.minimum(bounds[docs + 1], hi)
        docs, seg_start = docs[nonempty], seg_start[nonempty]
        mins = np.minimum.reduceat(_permuted(hv[lo:hi], perm), seg_start - lo, axis=1)
        out[docs] = np.minimum(out[docs], mins.T)


def _poly_chunks(texts: Sequence[str]) -> list[tuple[int, int]]:
    """[lo, hi) runs of texts of about _POLY_CHUNK_CHARS characters (one long text on its own)."""
    chunks, lo, size = [], 0, 0
    for hi, text in enumerate(texts):
        if size and size + len(text) > _POLY_CHUNK_CHARS:
            chunks.append((lo, hi))
            lo, size = hi, 0
        size += len(text)
    if lo < len(texts):
        chunks.append((lo, len(texts)))
    return chunks


def _poly_signatures(texts: Sequence[str], config: MinhashConfig, perm: _Permutations) -> np.ndarray:
    """poly64 signatures of many texts, a chunk of texts at a time."""
    texts = list(texts)
    out = np.tile(perm.empty, (len(texts), 1))
    for lo, hi in _poly_chunks(texts):
        points, ends, word_start, word_end = _normalised_code_points(texts[lo:hi])
        if config.unit == "word":
            starts, stops = word_start, word_end
        else:
            starts = np.arange(len(points))
            stops = starts + 1
        span_start, span_end, bounds = _poly_shingles(ends, starts, stops, config.ngram)
        hv = _poly_input_hashes(points, span_start, span_end, perm.width)
        _min_per_text(hv, bounds, perm, out[lo:hi])
    return out


# ---------------------------------------------------------------- signatures of texts


def compute_signature(text: str, config: MinhashConfig) -> np.ndarray:
    """MinHash hash values of one text: MinHash(hashfunc=hash_function(config)).update_batch(shingles)."""
    return compute_signatures([text], config)[0]


def compute_signatures(texts: Sequence[str], config: MinhashConfig) -> np.ndarray:
    """Signatures of many texts as one (n, num_perm) array, the input band_keys takes."""
    perm = _config_permutations(config)
    if config.hashing == "poly64":
        return _poly_signatures(texts, config, perm)
    out = np.empty((len(texts), config.num_perm), dtype=perm.empty.dtype)
    for row, text in enumerate(texts):
        out[row] = _signature_of_spans(*_spans(text, config), perm)
    return out


def to_lean(signature: np.ndarray, config: MinhashConfig) -> LeanMinHash:
    """Wrap hash values as a datasketch LeanMinHash (for MinHashLSH or datasketch's jaccard)."""
    from datasketch import LeanMinHash

    return LeanMinHash(seed=config.seed, hashvalues=signature, scheme=config.scheme)


# LeanMinHash's serialized layout (datasketch 2.0, native byte order): seed (q), the number of values (i; negated
# for the affine schemes, followed by the scheme's code, B), then the values from the next aligned offset.
_SCHEME_CODES = {"affine32": 1, "affine64": 2}
_SCHEME_OF_CODE = {code: scheme for scheme, code in _SCHEME_CODES.items()}
_VALUE_FORMAT = {"legacy": "I", "affine32": "I", "affine64": "Q"}
_VALUE_WIDTH = {"I": np.dtype("=u4"), "Q": np.dtype("=u8")}
_HELD_AS = {"legacy": np.uint64, "affine32": np.uint32, "affine64": np.uint64}  # LeanMinHash.hashvalues' dtype
_HEAD = struct.calcsize("@qi")


def _values_offset(scheme: str) -> int:
    return _HEAD if scheme == "legacy" else struct.calcsize(f"@qiB0{_VALUE_FORMAT[scheme]}")


def serialize(signature: np.ndarray, config: MinhashConfig) -> bytes:
    """Stable BLOB in LeanMinHash's own format, byte for byte what ``LeanMinHash.serialize`` writes, so
    datasketch can read stored signatures. Written here (struct and numpy) rather than through datasketch,
    whose import (its LSH, Redis and aiohttp storage: 0.8-1.2 s) a crawl's writer would otherwise pay to
    store its first signature; ``tests/unit/dedupe/test_minhash.py`` compares the bytes with datasketch's."""
    values = np.asarray(signature).reshape(-1)
    scheme = config.scheme
    if scheme != "legacy" and values.size == 0:
        raise ValueError("hashvalues must not be empty")
    width = _VALUE_WIDTH[_VALUE_FORMAT[scheme]]
    if values.size and int(values.max()) > np.iinfo(width).max:
        raise ValueError(f"a hash value does not fit the {scheme} format's {width.itemsize} bytes")
    if scheme == "legacy":
        head = struct.pack("@qi", config.seed, values.size)
    else:
        head = struct.pack("@qiB", config.seed, -values.size, _SCHEME_CODES[scheme])
    return head.ljust(_values_offset(scheme), b"\0") + values.astype(width, copy=False).tobytes()


def deserialize(blob: bytes) -> np.ndarray:
    """Hash values back from a BLOB written by serialize (or by LeanMinHash.serialize), with the dtype
    ``LeanMinHash.deserialize(blob).hashvalues`` has."""
    try:
        count = struct.unpack_from("@qi", blob, 0)[1]
        scheme = "legacy"
        if count < 0:
            count, code = -count, blob[_HEAD]
            if code not in _SCHEME_OF_CODE:
                raise ValueError(f"Unknown permutation scheme code: {code}")
            scheme = _SCHEME_OF_CODE[code]
        width = _VALUE_WIDTH[_VALUE_FORMAT[scheme]]
        values = np.frombuffer(blob, dtype=width, count=count, offset=_values_offset(scheme))
    except (struct.error, IndexError) as exc:
        raise ValueError(f"not a serialized MinHash ({exc})") from None
    return values.astype(_HELD_AS[scheme])


def estimate_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Fraction of equal hash values: datasketch's MinHash.jaccard estimate."""
    if a.shape != b.shape:
        raise ValueError(f"signatures differ in shape: {a.shape} vs {b.shape}")
    return float(np.count_nonzero(a == b)) / float(a.shape[-1])


# ---------------------------------------------------------------- LSH parameters


def _false_positive_area(threshold: float, bands: int, rows: int) -> float:
    """Integral of the candidate probability below the threshold."""
    from scipy.integrate import quad

    return quad(lambda s: 1 - (1 - s ** float(rows)) ** float(bands), 0.0, threshold)[0]


def _false_negative_area(threshold: float, bands: int, rows: int) -> float:
    """Integral of the miss probability above the threshold (datasketch's exact expression)."""
    from scipy.integrate import quad

    return quad(lambda s: 1 - (1 - (1 - s ** float(rows)) ** float(bands)), threshold, 1.0)[0]


# optimal_param's answers for the thresholds the archive bands with (blocks.LINE_BAND_THRESHOLD,
# ARTICLE_CONFIG.threshold) and the benchmark's 0.8, at 128 permutations, with CLUSTER_WEIGHTS and with
# datasketch's equal weights: computing one takes about 1,400 numerical integrations and loading scipy
# (together 0.9-1.5 s, once per process that derives a signature: a crawl's writer, an import).
# ``tests/unit/dedupe/test_minhash.py`` computes each again, and asks datasketch's MinHashLSH, and compares.
KNOWN_OPTIMAL_PARAMS: dict[tuple[float, int, float, float], tuple[int, int]] = {
    (0.4, 128, 0.2, 0.8): (31, 3),
    (0.6, 128, 0.2, 0.8): (23, 5),
    (0.8, 128, 0.2, 0.8): (12, 10),
    (0.4, 128, 0.5, 0.5): (32, 4),
    (0.6, 128, 0.5, 0.5): (18, 7),
    (0.8, 128, 0.5, 0.5): (9, 13),
}


@functools.lru_cache(maxsize=64)
def optimal_param(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising weighted FP+FN areas of the LSH S-curve, as datasketch does."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold}")
    known = KNOWN_OPTIMAL_PARAMS.get((threshold, num_perm, fp_weight, fn_weight))
    if known is not None:
        return known
    return compute_optimal_param(threshold, num_perm, fp_weight, fn_weight)


def compute_optimal_param(threshold: float, num_perm: int, fp_weight: float, fn_weight: float) -> tuple[int, int]:
    """``optimal_param`` by datasketch's search: every (bands, rows) with bands * rows <= num_perm."""
    best, best_error = (0, 0), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = _false_positive_area(threshold, bands, rows)
            fn = _false_negative_area(threshold, bands, rows)
            error = fp * fp_weight + fn * fn_weight
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


# ---------------------------------------------------------------- LSH banding


def _mix64(h: np.ndarray) -> np.ndarray:
    """In-place 64-bit finaliser so band hashes spread evenly."""
    s1, m1, s2, m2, s3 = _FMIX[64]
    h ^= h >> s1
    h *= m1
    h ^= h >> s2
    h *= m2
    h ^= h >> s3
    return h


def row_hash(block: np.ndarray, salt: int | np.ndarray) -> np.ndarray:
    """One uint64 per row of a (..., k) block, over its last axis: a bucket key for LSH banding. ``salt``: an
    int, or an array broadcast against the other axes (``band_keys``: one per band, every band in one pass)."""
    # an array product wraps modulo 2**64 silently (a numpy scalar's would warn)
    salts = np.atleast_1d(np.asarray(salt, dtype=np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
    h = np.broadcast_to(salts, block.shape[:-1]).copy()
    for column in np.moveaxis(block, -1, 0):
        h ^= column.astype(np.uint64)
        _mix64(h)
    return h


def as_signature_matrix(signatures: np.ndarray, num_perm: int | None) -> np.ndarray:
    """Validate an (n, num_perm) unsigned integer matrix of signatures."""
    sig = np.asarray(signatures)
    if sig.ndim != 2 or sig.dtype.kind != "u":
        raise ValueError(f"expected an (n, num_perm) unsigned array, got shape {sig.shape} dtype {sig.dtype}")
    if num_perm is not None and sig.shape[1] != num_perm:
        raise ValueError(f"signatures have {sig.shape[1]} hash values, expected num_perm={num_perm}")
    return sig


KEY_SHIFT = 33  # band_keys: an int64 row hash shifted (arithmetically, as SQLite's >>) into [-2**30, 2**30)


def band_keys(
    signatures: np.ndarray, threshold: float, *, weights: tuple[float, float] = CLUSTER_WEIGHTS
) -> np.ndarray:
    """(n, bands) int64 LSH bucket keys at ``threshold``: two rows sharing any key are candidates.

    Each band's key is salted by the band number, so keys of different bands meet only by chance and one
    SQLite index on the key serves every band (``derive_*_bands`` tables store exactly these). A key is the
    top 31 bits of the band's ``row_hash`` (``KEY_SHIFT``, m030): SQLite stores it in 4 bytes instead of 8 (a
    band row 14 -> 10 B: 23 MB at a million observations); two bands meeting by chance only add a candidate,
    which the estimate (and for lines the exact test) judges, in the reference as in the archive."""
    sig = as_signature_matrix(signatures, None)
    bands, rows = optimal_param(threshold, sig.shape[1], *weights)
    # every band at once, salted by its number: one pass per row of a band rather than one per value of the
    # signature (110 numpy calls -> 5: most of the cost of the keys of one page)
    blocks = sig[:, : bands * rows].reshape(sig.shape[0], bands, rows)
    return row_hash(blocks, np.arange(1, bands + 1)).view(np.int64) >> KEY_SHIFT


def estimates_against(signature: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of one signature against each row of ``others`` (the one formula every
    candidate check uses, so batch and incremental clustering agree to the last bit)."""
    return np.count_nonzero(others == signature, axis=1) / float(others.shape[1])
