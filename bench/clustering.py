"""Near-duplicate clusters of a whole signature matrix in memory: what the benchmark's dedupe at
scale (``bench.minhash_bench.bench_scale``) and the MinHash tests measure.

The archive does not cluster this way: it keeps each signature's band keys in SQLite and asks for
the rows that share one (``dedupe.minhash.band_keys``). Here the same keys are sorted in numpy
arrays instead (band hash -> sort -> neighbours in the same bucket), each candidate pair is
verified by estimated Jaccard and connected components are taken (``scipy.sparse``), which keeps
memory to a few bytes per row beyond the signatures themselves.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # runnable from anywhere in the checkout
    sys.path.insert(0, str(ROOT))

from dedupe.minhash import CLUSTER_WEIGHTS, as_signature_matrix, optimal_param, row_hash  # noqa: E402

# Each row is compared with at most this many following rows of its bucket (sorted by
# signature), so a huge bucket costs O(size) pairs instead of O(size^2).
BUCKET_WINDOW = 8
_VERIFY_BLOCK = 32768  # candidate pairs verified at once


def _candidate_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Sorted unique i*n+j (i<j) of rows sharing a band; in-bucket order is by signature so
    the result does not depend on row order."""
    n = sig.shape[0]
    tie_break = row_hash(sig, salt=bands + 1)
    keys = np.empty(0, dtype=np.int64)
    for band in range(bands):
        bucket = row_hash(sig[:, band * rows : (band + 1) * rows], salt=band + 1)
        order = np.lexsort((tie_break, bucket))
        bucket = bucket[order]
        found = []
        for distance in range(1, BUCKET_WINDOW + 1):
            same = bucket[distance:] == bucket[:-distance]
            if not same.any():
                break  # no bucket is larger than `distance`
            left, right = order[:-distance][same], order[distance:][same]
            found.append(np.minimum(left, right).astype(np.int64) * n + np.maximum(left, right))
        if found:
            keys = np.union1d(keys, np.concatenate(found))
    return keys


def _verified_edges(
    sig: np.ndarray, threshold: float, weights: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Candidate pairs from banding whose estimated Jaccard reaches the threshold: (i, j, estimate)."""
    n, num_perm = sig.shape
    bands, rows = optimal_param(threshold, num_perm, *weights)
    keys = _candidate_keys(sig, bands, rows)
    left, right, estimates = [], [], []
    for lo in range(0, len(keys), _VERIFY_BLOCK):
        block = keys[lo : lo + _VERIFY_BLOCK]
        i, j = block // n, block % n
        estimate = np.count_nonzero(sig[i] == sig[j], axis=1) / float(num_perm)
        keep = estimate >= threshold
        left.append(i[keep])
        right.append(j[keep])
        estimates.append(estimate[keep])
    if not left:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, np.empty(0, dtype=np.float64)
    return np.concatenate(left), np.concatenate(right), np.concatenate(estimates)


def find_clusters(
    signatures: np.ndarray,
    threshold: float,
    num_perm: int | None = None,
    *,
    weights: tuple[float, float] = CLUSTER_WEIGHTS,
) -> list[int]:
    """Near-duplicate clusters: per row, the smallest row index of its connected component
    in the graph of LSH candidate pairs verified by estimated Jaccard >= threshold."""
    sig = as_signature_matrix(signatures, num_perm)
    n = sig.shape[0]
    if n == 0:
        return []
    i, j, _ = _verified_edges(sig, threshold, weights)
    graph = coo_matrix((np.ones(len(i), dtype=np.int8), (i, j)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    _, first_row = np.unique(component, return_index=True)  # rows ascend, so first == smallest
    return first_row[component].tolist()


def find_pairs(
    signatures: np.ndarray, threshold: float, *, weights: tuple[float, float] = CLUSTER_WEIGHTS
) -> list[tuple[int, int, float]]:
    """Verified near-duplicate pairs (i < j, estimated Jaccard), sorted: the edges find_clusters uses."""
    sig = as_signature_matrix(signatures, None)
    i, j, estimate = _verified_edges(sig, threshold, weights)
    return list(zip(i.tolist(), j.tolist(), estimate.tolist()))
