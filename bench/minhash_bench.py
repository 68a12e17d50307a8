"""MinHash speed/accuracy and near-duplicate dedupe at scale.

    python -m bench.minhash_bench [--size N] [--scale 100000,1000000] [--json]

``bench_minhash`` compares the project's vectorised signatures (the default poly64 hashing, and
the sha1 hashing that is bit-identical to datasketch's defaults) with datasketch on the same
~900-word texts; ``bench_scale`` runs the whole dedupe (exact repeats by hash, then
signatures + ``bench.clustering.find_clusters``) on n synthetic snapshots in a fresh subprocess, so each
scale reports its own peak RSS.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import hashlib
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable from anywhere, even before the package is installed
    sys.path.insert(0, str(ROOT))

from datasketch import MinHash  # noqa: E402

from bench.clustering import find_clusters  # noqa: E402
from dedupe.minhash import (  # noqa: E402
    MinhashConfig,
    compute_signatures,
    estimate_jaccard,
    hash_function,
    shingles,
)

CONFIG = MinhashConfig()  # word 5-grams, 128 perms, t=0.8, poly64 hashing: what the archive uses
SHA1_CONFIG = dataclasses.replace(CONFIG, hashing="sha1")  # bit-identical to datasketch's defaults
IDENTITY_SAMPLE = 10  # docs checked against datasketch with the (pure-Python, slow) poly64 hashfunc
VOCAB_SIZE = 30_000
PROCESSES = 2

# ---------------------------------------------------------------- synthetic words

_SYLLABLES = [c + v for c in "бвгдзклмнпрстфхцчшщж" for v in "аеиоуыэюяё"]


@functools.lru_cache(maxsize=4)
def vocabulary(size: int = VOCAB_SIZE, seed: int = 0) -> tuple[str, ...]:
    """Fixed Cyrillic pseudo-word vocabulary, so shingles exercise multi-byte UTF-8."""
    rnd = random.Random(seed)
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rnd.choices(_SYLLABLES, k=rnd.randint(1, 4)))] = None
    return tuple(words)


@functools.lru_cache(maxsize=4)
def _zipf_cdf(size: int = VOCAB_SIZE) -> np.ndarray:
    """Cumulative Zipf(1) word frequencies: common words repeat across texts, like real prose."""
    weights = 1.0 / (np.arange(size) + 10.0)
    return np.cumsum(weights) / weights.sum()


def _mix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3 64-bit finaliser: a cheap counter-based random stream."""
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def _uniform(key: int, salt: int, count: int) -> np.ndarray:
    """Deterministic floats in [0, 1) for (key, salt): no RNG object per document (37 us each)."""
    counter = np.arange(count, dtype=np.uint64) + np.uint64(salt) * np.uint64(1 << 40)
    h = _mix64(counter ^ np.uint64((key * 0x9E3779B97F4A7C15) % (1 << 64)))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def random_words(key: int, salt: int, count: int) -> np.ndarray:
    """Zipf-distributed word ids, a pure function of (key, salt)."""
    return np.searchsorted(_zipf_cdf(), _uniform(key, salt, count), side="right").astype(np.int32)


def words_text(ids: np.ndarray) -> str:
    """Render word ids as a text."""
    vocab = vocabulary()
    return " ".join([vocab[i] for i in ids.tolist()])


# ---------------------------------------------------------------- bench_minhash


def synthetic_docs(n_docs: int, words: int = 900, seed: int = 0) -> list[str]:
    """~900-word documents drawn from the fixed vocabulary with random.Random(seed)."""
    rnd = random.Random(seed)
    vocab, cdf = vocabulary(), _zipf_cdf().tolist()
    return [" ".join(rnd.choices(vocab, cum_weights=cdf, k=rnd.randint(words - 50, words + 50))) for _ in range(n_docs)]


def known_overlap_pairs(docs: Sequence[str], seed: int = 0) -> list[tuple[str, str, float]]:
    """(text, edited text, true shingle Jaccard), with edits from none to 60% of the words."""
    rnd = random.Random(seed + 1)
    vocab = vocabulary()
    pairs = []
    for k, doc in enumerate(docs):
        words = doc.split()
        share = (k % 13) * 0.05
        edited = list(words)
        if k % 2:  # one contiguous block, like a rewritten paragraph
            start = rnd.randrange(len(words))
            width = int(share * len(words))
            edited[start : start + width] = rnd.choices(vocab, k=width)
        else:  # scattered word substitutions
            for position in rnd.sample(range(len(words)), int(share * len(words) / 5)):
                edited[position] = rnd.choice(vocab)
        other = " ".join(edited)
        a, b = set(shingles(doc, CONFIG)), set(shingles(other, CONFIG))
        pairs.append((doc, other, len(a & b) / len(a | b)))
    return pairs


def _datasketch_update(texts: Sequence[str], config: MinhashConfig) -> list[np.ndarray]:
    """Baseline: one MinHash.update call per shingle (datasketch's default sha1 hashfunc)."""
    out = []
    for text in texts:
        m = MinHash(num_perm=config.num_perm, seed=config.seed)
        for shingle in shingles(text, config):
            m.update(shingle)
        out.append(m.hashvalues)
    return out


def _datasketch_batch(texts: Sequence[str], config: MinhashConfig, hashfunc=None) -> list[np.ndarray]:
    """Baseline: datasketch's own vectorised update_batch (default sha1 hashfunc unless given)."""
    out = []
    for text in texts:
        m = MinHash(num_perm=config.num_perm, seed=config.seed, hashfunc=hashfunc)
        m.update_batch(shingles(text, config))
        out.append(m.hashvalues)
    return out


def _binomial_mae(truth: np.ndarray, num_perm: int) -> float:
    """Mean |error| an ideal MinHash would have on these true Jaccards: its estimate is
    Binomial(num_perm, J) / num_perm."""
    m = np.arange(num_perm + 1)
    log_comb = np.array([math.lgamma(num_perm + 1) - math.lgamma(k + 1) - math.lgamma(num_perm - k + 1) for k in m])
    total = 0.0
    for j in truth.tolist():
        if j in (0.0, 1.0):
            continue
        pmf = np.exp(log_comb + m * math.log(j) + (num_perm - m) * math.log1p(-j))
        total += float(pmf @ np.abs(m / num_perm - j))
    return total / len(truth)


def _sha1_only(texts: Sequence[str], config: MinhashConfig) -> None:
    """Floor: shingling plus one hashlib SHA-1 per shingle, which bit-identity requires."""
    for text in texts:
        for shingle in shingles(text, config):
            hashlib.sha1(shingle).digest()


def _best_times(runs: dict, rounds: int = 3) -> dict[str, float]:
    """Best wall seconds of each callable over interleaved rounds: this box is shared, so a load
    burst should not land on one contender only."""
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _parallel_signatures(pool: ProcessPoolExecutor, texts: Sequence[str], processes: int) -> np.ndarray:
    """compute_signatures over a warm process pool, one chunk per process."""
    step = -(-len(texts) // processes)
    chunks = [list(texts[lo : lo + step]) for lo in range(0, len(texts), step)]
    return np.concatenate(list(pool.map(compute_signatures, chunks, [CONFIG] * len(chunks))))


def _estimates(pairs: Sequence[tuple[str, str, float]], config: MinhashConfig) -> np.ndarray:
    """The project's Jaccard estimate of every pair."""
    sig_a = compute_signatures([a for a, _, _ in pairs], config)
    sig_b = compute_signatures([b for _, b, _ in pairs], config)
    return np.array([estimate_jaccard(x, y) for x, y in zip(sig_a, sig_b)])


def bench_minhash(n_docs: int = 200, seed: int = 0) -> dict:
    """docs/s of compute_signatures (poly64 hashing, and sha1) vs datasketch update / update_batch,
    whether each reproduces datasketch, and the Jaccard MAE of each on pairs of known overlap.

    ``minhash_speedup`` is the default (poly64) mode's; ``minhash_speedup_sha1`` the bit-identical
    mode's. The baseline is datasketch's per-shingle ``update`` with its default sha1 hashfunc.
    """
    docs = synthetic_docs(n_docs, seed=seed)
    project = compute_signatures(docs, CONFIG)  # also warms the permutation cache
    project_sha1 = compute_signatures(docs, SHA1_CONFIG)
    updated, batched = _datasketch_update(docs, SHA1_CONFIG), _datasketch_batch(docs, SHA1_CONFIG)
    sample = docs[:IDENTITY_SAMPLE]
    poly_reference = _datasketch_batch(sample, CONFIG, hashfunc=hash_function(CONFIG))
    with ProcessPoolExecutor(PROCESSES, mp_context=get_context("spawn")) as pool:
        parallel = _parallel_signatures(pool, docs, PROCESSES)  # starts and warms the workers
        seconds = _best_times(
            {
                "project": lambda: compute_signatures(docs, CONFIG),
                "project_sha1": lambda: compute_signatures(docs, SHA1_CONFIG),
                "project_2proc": lambda: _parallel_signatures(pool, docs, PROCESSES),
                "update": lambda: _datasketch_update(docs, SHA1_CONFIG),
                "update_batch": lambda: _datasketch_batch(docs, SHA1_CONFIG),
                "sha1_only": lambda: _sha1_only(docs, SHA1_CONFIG),
            }
        )

    pairs = known_overlap_pairs(docs, seed)
    truth = np.array([j for _, _, j in pairs])
    est_project, est_project_sha1 = _estimates(pairs, CONFIG), _estimates(pairs, SHA1_CONFIG)
    ds_a = _datasketch_batch([a for a, _, _ in pairs], SHA1_CONFIG)
    ds_b = _datasketch_batch([b for _, b, _ in pairs], SHA1_CONFIG)
    est_datasketch = np.array(
        [
            MinHash(seed=1, hashvalues=x, scheme="affine32").jaccard(MinHash(seed=1, hashvalues=y, scheme="affine32"))
            for x, y in zip(ds_a, ds_b)
        ]
    )
    words = np.mean([len(d.split()) for d in docs])
    abs_error = np.abs(est_project - truth)
    return {
        "minhash_docs": n_docs,
        "minhash_words_per_doc": round(float(words), 1),
        "minhash_config": str(CONFIG),
        "minhash_project_docs_per_s": round(n_docs / seconds["project"], 1),
        "minhash_project_sha1_docs_per_s": round(n_docs / seconds["project_sha1"], 1),
        "minhash_project_2proc_docs_per_s": round(n_docs / seconds["project_2proc"], 1),
        "minhash_datasketch_update_docs_per_s": round(n_docs / seconds["update"], 1),
        "minhash_datasketch_update_batch_docs_per_s": round(n_docs / seconds["update_batch"], 1),
        "minhash_sha1_only_docs_per_s": round(n_docs / seconds["sha1_only"], 1),
        "minhash_speedup": round(seconds["update"] / seconds["project"], 1),
        "minhash_speedup_sha1": round(seconds["update"] / seconds["project_sha1"], 1),
        "minhash_speedup_2proc": round(seconds["update"] / seconds["project_2proc"], 1),
        "minhash_speedup_vs_update_batch": round(seconds["update_batch"] / seconds["project"], 1),
        # sha1 mode == datasketch's defaults (update and update_batch), on every doc
        "minhash_bit_identical": bool(
            all(np.array_equal(p, u) and np.array_equal(p, b) for p, u, b in zip(project_sha1, updated, batched))
        ),
        # poly64 mode == datasketch MinHash(hashfunc=poly64_hash32), on a sample; and across processes
        "minhash_poly64_datasketch_identical": bool(
            all(np.array_equal(p, r) for p, r in zip(project, poly_reference)) and np.array_equal(parallel, project)
        ),
        "minhash_pairs": len(pairs),
        "minhash_mae_project": round(float(abs_error.mean()), 4),
        "minhash_mae_project_sha1": round(float(np.mean(np.abs(est_project_sha1 - truth))), 4),
        "minhash_mae_datasketch": round(float(np.mean(np.abs(est_datasketch - truth))), 4),
        "minhash_mae_ideal": round(_binomial_mae(truth, CONFIG.num_perm), 4),  # Binomial(num_perm, J) error
        "minhash_mae_noise_sd": round(float(abs_error.std() / math.sqrt(len(pairs))), 4),  # sd of an MAE
    }


# ---------------------------------------------------------------- scale corpus

DISTINCT, NEAR_DUPLICATE, EXACT_REPEAT = 0, 1, 2


@dataclass(frozen=True)
class Corpus:
    """Plan of n snapshots; any text is regenerated on demand from (kind, source), never stored."""

    kind: np.ndarray  # int8: DISTINCT, NEAR_DUPLICATE or EXACT_REPEAT
    source: np.ndarray  # int32: base of a near-duplicate, original of an exact repeat, else itself
    family: np.ndarray  # int32: the distinct text a snapshot derives from (ground truth)


def plan_corpus(n: int, seed: int = 0, repeats: float = 0.2, near: float = 0.3) -> Corpus:
    """~20% exact repeats (of another text), ~30% near-duplicates of distinct texts, rest distinct."""
    rng = np.random.default_rng(seed)
    n_repeat, n_near = int(n * repeats), int(n * near)
    n_distinct = n - n_repeat - n_near
    order = rng.permutation(n).astype(np.int32)
    distinct, near_dups, repeated = np.split(order, [n_distinct, n_distinct + n_near])
    kind = np.zeros(n, dtype=np.int8)
    kind[near_dups], kind[repeated] = NEAR_DUPLICATE, EXACT_REPEAT
    source = np.arange(n, dtype=np.int32)
    source[near_dups] = rng.choice(distinct, size=n_near)
    originals = order[: n_distinct + n_near]
    source[repeated] = rng.choice(originals, size=n_repeat)
    family = source.copy()
    family[repeated] = source[source[repeated]]  # the original's base (itself if distinct)
    return Corpus(kind, source, family)


def _base_length(key: int) -> int:
    """150-300 words: short enough for 1M texts in RAM."""
    return 150 + int(_uniform(key, 1, 1)[0] * 151)


def _edit(ids: np.ndarray, key: int) -> np.ndarray:
    """One contiguous edit of ~5% of the words (replace, delete or insert a block), like a changed
    date line, counter or paragraph between two snapshots of a page."""
    width = max(1, round(0.05 * len(ids)))
    op, where = _uniform(key, 2, 2)
    start = int(where * (len(ids) - width))
    fresh = random_words(key, 3, width)
    if op < 1 / 3:
        return np.concatenate((ids[:start], fresh, ids[start + width :]))
    if op < 2 / 3:
        return np.concatenate((ids[:start], ids[start + width :]))
    return np.concatenate((ids[:start], fresh, ids[start:]))


def doc_ids(corpus: Corpus, i: int) -> np.ndarray:
    """Word ids of snapshot i."""
    if corpus.kind[i] == EXACT_REPEAT:
        return doc_ids(corpus, int(corpus.source[i]))
    base = int(corpus.source[i])
    ids = random_words(base, 0, _base_length(base))
    return _edit(ids, i) if corpus.kind[i] == NEAR_DUPLICATE else ids


def doc_text(corpus: Corpus, i: int) -> str:
    """Text of snapshot i."""
    return words_text(doc_ids(corpus, i))


_WORKER_CORPUS: Corpus | None = None


def _init_worker(corpus: Corpus) -> None:
    """Give a pool worker the corpus plan once, instead of with every task."""
    global _WORKER_CORPUS
    _WORKER_CORPUS = corpus


def _digest_chunk(bounds: tuple[int, int]) -> tuple[bytes, float]:
    """16-byte blake2b digests of snapshots lo..hi, and the seconds spent generating texts."""
    lo, hi = bounds
    generating, digests = 0.0, []
    for i in range(lo, hi):
        start = time.perf_counter()
        text = doc_text(_WORKER_CORPUS, i)
        generating += time.perf_counter() - start
        digests.append(hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest())
    return b"".join(digests), generating


def _signature_chunk(indices: np.ndarray) -> tuple[np.ndarray, float]:
    """Signatures of the given snapshots, and the seconds spent generating their texts."""
    start = time.perf_counter()
    texts = [doc_text(_WORKER_CORPUS, int(i)) for i in indices]
    generating = time.perf_counter() - start
    return compute_signatures(texts, CONFIG), generating


def _pair_count(labels: np.ndarray) -> int:
    """Number of unordered pairs sharing a label."""
    sizes = np.unique(labels, return_counts=True)[1].astype(np.int64)
    return int((sizes * (sizes - 1) // 2).sum())


def pair_precision_recall(clusters: np.ndarray, family: np.ndarray) -> tuple[float, float]:
    """Pair-counting precision/recall of a clustering of the distinct texts against planted families.

    A pair of distinct texts is a true near-duplicate pair iff both derive from the same planted
    distinct text (that text and its ~5%-edited near-duplicates); it is found iff find_clusters puts
    both in one cluster. precision = found & true / found, recall = found & true / true.
    """
    joint = clusters.astype(np.int64) * (int(family.max()) + 1) + family
    both, found, true = _pair_count(joint), _pair_count(clusters), _pair_count(family)
    return (both / found if found else 1.0), (both / true if true else 1.0)


def _planted_jaccard(corpus: Corpus, sample: int = 2000) -> dict:
    """Exact shingle Jaccard of sampled near-duplicates vs their base: how 'near' the plants are."""
    near = np.flatnonzero(corpus.kind == NEAR_DUPLICATE)[:sample]
    if not len(near):
        return {}
    values = []
    for i in near.tolist():
        a = set(shingles(doc_text(corpus, i), CONFIG))
        b = set(shingles(doc_text(corpus, int(corpus.source[i])), CONFIG))
        values.append(len(a & b) / len(a | b))
    values = np.array(values)
    return {
        "planted_jaccard_mean": round(float(values.mean()), 3),
        "planted_jaccard_min": round(float(values.min()), 3),
        "planted_below_threshold": round(float((values < CONFIG.threshold).mean()), 4),
    }


def _chunks(n: int, size: int) -> list[tuple[int, int]]:
    """[lo, hi) bounds covering range(n)."""
    return [(lo, min(n, lo + size)) for lo in range(0, n, size)]


def _peak_rss_mb(who: int) -> float:
    """Peak resident memory in MB: this process's own (``VmHWM``), or its largest child's (ru_maxrss).

    Not ru_maxrss for this process: Linux carries it over ``exec`` from the forked copy of the parent,
    whose pages all count as resident, so a child started by a process that had grown to 700 MB (the
    benchmark after its growth step) would report 700 MB whatever it used itself."""
    if who == resource.RUSAGE_SELF:
        try:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except (OSError, ValueError, IndexError):
            pass
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KB


def _bench_scale_inline(n: int, seed: int = 0, processes: int = PROCESSES, chunk: int = 2000) -> dict:
    """The whole dedupe of n snapshots in this process (plus a worker pool); see bench_scale."""
    corpus = plan_corpus(n, seed)
    start = time.perf_counter()
    with ProcessPoolExecutor(
        processes, mp_context=get_context("spawn"), initializer=_init_worker, initargs=(corpus,)
    ) as pool:
        # 1. exact repeats: one blake2b per snapshot, keep the first snapshot of each digest
        results = list(pool.map(_digest_chunk, _chunks(n, chunk)))
        digests = np.frombuffer(b"".join(d for d, _ in results), dtype="S16")
        _, first = np.unique(digests, return_index=True)
        distinct = np.sort(first).astype(np.int32)
        del digests, results
        t_exact = time.perf_counter()
        # 2. signatures of the distinct texts only, 2 processes
        signatures = np.empty((len(distinct), CONFIG.num_perm), dtype=np.uint32)
        generating = 0.0
        pieces = [distinct[lo:hi] for lo, hi in _chunks(len(distinct), chunk)]
        row = 0
        for block, seconds in pool.map(_signature_chunk, pieces):
            signatures[row : row + len(block)] = block
            row += len(block)
            generating += seconds
    t_signatures = time.perf_counter()
    # 3. near-duplicate clusters
    clusters = np.asarray(find_clusters(signatures, CONFIG.threshold))
    t_clusters = time.perf_counter()

    precision, recall = pair_precision_recall(clusters, corpus.family[distinct])
    rss_main, rss_worker = _peak_rss_mb(resource.RUSAGE_SELF), _peak_rss_mb(resource.RUSAGE_CHILDREN)
    return {
        "size": n,
        "seconds": round(t_clusters - start, 1),
        "seconds_exact": round(t_exact - start, 1),
        "seconds_signatures": round(t_signatures - t_exact, 1),
        "seconds_clusters": round(t_clusters - t_signatures, 1),
        "text_generation_cpu_seconds": round(generating, 1),
        "peak_rss_mb": round(rss_main + processes * rss_worker, 1),
        "peak_rss_main_mb": round(rss_main, 1),
        "peak_rss_worker_mb": round(rss_worker, 1),
        "processes": processes,
        "exact_repeats": int(n - len(distinct)),
        "exact_repeats_planted": int((corpus.kind == EXACT_REPEAT).sum()),
        "distinct_texts": len(distinct),
        "clusters": int(len(np.unique(clusters))),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        **_planted_jaccard(corpus),
    }


def bench_scale(n: int, seed: int = 0, processes: int = PROCESSES) -> dict:
    """Dedupe n synthetic snapshots in a fresh subprocess, so peak RSS is this run's own.

    Reports size, seconds (wall, including regenerating the synthetic texts twice: for the
    exact-repeat hashes and for the signatures), peak_rss_mb (main process + processes x the
    largest worker's peak: an upper bound on the run's footprint), exact_repeats (found by
    blake2b; can exceed exact_repeats_planted by a few when two near-duplicates of one base happen
    to get the same deletion), and precision/recall as defined in pair_precision_recall.
    """
    command = [
        sys.executable,
        "-m",
        "bench.minhash_bench",
        "--scale-child",
        str(n),
        "--seed",
        str(seed),
        "--processes",
        str(processes),
    ]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- CLI


def _table(results: dict) -> str:
    """Two-column key/value table."""
    width = max(map(len, results))
    return "\n".join(f"{key:<{width}}  {value}" for key, value in results.items())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the MinHash benchmark and the requested scales; print a table or one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m bench.minhash_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200, help="documents for the MinHash speed/accuracy bench")
    parser.add_argument("--scale", default="", help="comma-separated snapshot counts, e.g. 100000,1000000")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--processes", type=int, default=PROCESSES)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.scale_child is not None:  # internal: one scale run inside bench_scale's subprocess
        print(json.dumps(_bench_scale_inline(args.scale_child, args.seed, args.processes)))
        return 0
    results: dict = bench_minhash(args.size, args.seed)
    if not args.json:
        print(_table(results))
    for size in [int(s) for s in args.scale.split(",") if s.strip()]:
        scale = bench_scale(size, args.seed, args.processes)
        results[f"scale_{size}"] = scale
        if not args.json:
            print(f"\nscale {size}\n" + _table(scale))
    if args.json:
        print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
