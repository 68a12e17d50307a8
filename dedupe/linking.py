"""Connected components of an LSH candidate graph, built one row at a time with bounded work.

The line and title clusters (``dedupe.blocks.cluster_lines`` for the reference derivation, the
archive's incremental engine for refreshes) are the connected components of one graph: two rows
are joined when they share a band key, their estimated Jaccard reaches a floor and an exact test
confirms them. The edge depends on the pair alone, which is what lets the two engines agree.

Finding *components* does not need every edge, only one per pair of components, and that is
what bounds the work here. Each bucket (band key) keeps its members grouped by component; a new
row skips a group it already belongs to, and scans any other group only until one member
confirms. A page of 20,000 near-identical lines ("Line 000123 of the resolution on item 4567.")
then costs a few comparisons per line and band instead of one per earlier line (the old
pairwise loop: 323 s at 20k lines, quadratic). The components are exactly those of the full
graph, so nothing derived changes and ``pa-archive check`` still compares like with like.

A bucket keeps its large groups (a component with SCAN members or more in it) apart from a
flat list of the rest, so a bucket of many small components (lines that share a band but are
not alike: 20,000 lines of 8 words from a vocabulary of 19) costs one numpy estimate over the
flat list and Python work only for the members that pass it. What stays proportional to a
bucket's size is that numpy estimate; the work is counted (``estimated``, ``confirmed``) so
tests bound it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

import numpy as np

from .minhash import estimates_against

SCAN = 64  # members of one group estimated at once (one numpy comparison)
GROUP = 8  # a component with this many members in a bucket gets a group of its own there
SHINGLE_CACHE = 4096  # lines' shingle sets kept for exact tests (a line is tested about once when it joins)


class Components:
    """Union-find whose representative is always the smallest member: labels never depend on order.
    Members are anything ordered (ints here; the incremental engine also mixes in tuples)."""

    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        parent = self.parent
        up = parent.get(x, x)
        if up == x:  # a root (or a member never joined): most calls
            return x
        while up != x:
            grand = parent.get(up, up)
            parent[x] = grand
            x, up = up, grand
        return x

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def shared_keys(keys: np.ndarray) -> set[int]:
    """The band keys that occur more than once in ``keys`` ((rows, bands)): only those can give a
    candidate, so a row's other keys need no bucket at all (most keys of most lines)."""
    values, counts = np.unique(keys.reshape(-1), return_counts=True)
    return set(values[counts > 1].tolist())


class _Bucket:
    """One band key's members: large groups by component root, and the rest in one flat list."""

    __slots__ = ("groups", "small", "small_nodes", "compact_at")

    def __init__(self) -> None:
        self.groups: dict[Hashable, list[int]] = {}  # root (when filed) -> members; GROUP or more each
        self.small: list[int] = []  # members of the other components
        self.small_nodes: list[Hashable] = []  # their nodes when filed (resolved with find when needed)
        self.compact_at = SCAN  # regroup ``small`` when it grows past this


class BandLinker:
    """Rows of ``signatures`` joined into components (``components``) as they are added.

    ``seed`` puts a row that is already clustered (an archive line with its cluster) into a
    bucket under its component's node, without looking for edges: rows seeded under one node
    are connected by definition. ``add`` links a new row to every component it has an edge to,
    then puts it in its buckets. Adding rows in any order gives the same components.
    """

    def __init__(
        self,
        signatures: np.ndarray,
        min_estimate: float,
        confirm: Callable[[int, int], bool],
        components: Components | None = None,
    ) -> None:
        self.signatures = signatures
        self.min_estimate = min_estimate
        self.confirm = confirm
        self.components = components if components is not None else Components()
        # a bucket of one member is that member, (row, node): most band keys are never shared
        self.buckets: dict[int, _Bucket | tuple[int, Hashable]] = {}
        self.estimated = 0  # signature comparisons made (the work the tests bound)
        self.confirmed = 0  # calls of ``confirm``

    def seed(self, key: int, row: int, node: Hashable) -> None:
        """An already-clustered row in bucket ``key``, in the component of ``node``."""
        bucket = self._bucket(key)
        if bucket is None:
            self.buckets[key] = (row, node)
        else:
            self._file(bucket, row, node, self.components.find(node))

    def _bucket(self, key: int) -> _Bucket | None:
        """The bucket of ``key`` (a lone member becomes a bucket holding it); None when it is empty."""
        bucket = self.buckets.get(key)
        if bucket is None or isinstance(bucket, _Bucket):
            return bucket
        alone = _Bucket()
        alone.small.append(bucket[0])
        alone.small_nodes.append(bucket[1])
        self.buckets[key] = alone
        return alone

    def add(self, row: int, keys: Iterable[int], node: Hashable) -> None:
        """Join ``node`` (the new row's) to every component that has a confirmed edge to ``row``.

        This runs once per line, over its 31 buckets, so it is written for the common cases: empty
        buckets, and one large group that the row joins or already belongs to. The flat lists of all
        the row's buckets are estimated in one numpy comparison."""
        find = self.components.find
        tried: set[int] = set()  # members already confirmed against (a pair is tested once)
        buckets: list[_Bucket] = []
        empty: list[int] = []
        for key in dict.fromkeys(keys):
            bucket = self._bucket(key)
            if bucket is None:
                empty.append(key)
            else:
                buckets.append(bucket)
        mine = find(node)
        for bucket in buckets:
            if bucket.groups:
                for root, members in list(bucket.groups.items()):
                    if find(root) != mine and self._scan(row, node, root, members, tried):
                        mine = find(node)
        if any(bucket.small for bucket in buckets):
            self._scan_small(row, node, [bucket for bucket in buckets if bucket.small], tried)
            mine = find(node)
        for bucket in buckets:
            self._file(bucket, row, node, mine)
        for key in empty:
            self.buckets[key] = (row, node)

    def _file(self, bucket: _Bucket, row: int, node: Hashable, root: Hashable) -> None:
        """Put a row (of component ``root``) in a bucket: in its component's large group if the bucket
        has one, else in the flat list (regrouped when it has doubled, so a growing component becomes a
        large group)."""
        if bucket.groups:
            find = self.components.find
            members = bucket.groups.get(root)
            if members is not None:
                members.append(row)
                return
            for group_root, members in bucket.groups.items():
                if find(group_root) == root:
                    members.append(row)
                    return
        bucket.small.append(row)
        bucket.small_nodes.append(node)
        if len(bucket.small) >= bucket.compact_at:
            self._regroup(bucket)

    def _regroup(self, bucket: _Bucket) -> None:
        """Group the flat list and the large groups by current root; groups of GROUP members or
        more become large groups. Runs when the flat list doubles, or when a scan found it stale
        (GROUP of its members in the scanning row's component): O(1) amortised per member."""
        find = self.components.find
        by_root: dict[Hashable, list[int]] = {}
        for root, members in bucket.groups.items():
            by_root.setdefault(find(root), []).extend(members)
        nodes: dict[Hashable, list[tuple[int, Hashable]]] = {}
        for row, node in zip(bucket.small, bucket.small_nodes):
            nodes.setdefault(find(node), []).append((row, node))
        bucket.small, bucket.small_nodes = [], []
        for root, rows in nodes.items():
            if root in by_root or len(rows) >= GROUP:
                by_root.setdefault(root, []).extend(r for r, _ in rows)
            else:
                bucket.small.extend(r for r, _ in rows)
                bucket.small_nodes.extend(n for _, n in rows)
        bucket.groups = by_root
        bucket.compact_at = max(SCAN, 2 * len(bucket.small))

    def _scan(self, row: int, node: Hashable, root: Hashable, members: list[int], tried: set[int]) -> bool:
        """Scan one large group, SCAN members at a time, until a member passes the estimate and
        ``confirm``; join on the first."""
        signature = self.signatures[row]
        for lo in range(0, len(members), SCAN):
            chunk = members[lo : lo + SCAN]
            self.estimated += len(chunk)
            for index in np.flatnonzero(estimates_against(signature, self.signatures[chunk]) >= self.min_estimate):
                other = chunk[index]
                if other in tried:
                    continue
                tried.add(other)
                self.confirmed += 1
                if self.confirm(row, other):
                    self.components.union(node, root)
                    return True
        return False

    def _scan_small(self, row: int, node: Hashable, buckets: list[_Bucket], tried: set[int]) -> None:
        """The flat lists of the row's buckets at once: one estimate each, then ``confirm`` in order for
        the members that pass and whose component has not joined the row's meanwhile. A list found
        holding GROUP members of the row's own component is regrouped for the rows to come."""
        find = self.components.find
        members: list[int] = []
        nodes: list[Hashable] = []
        owners: list[int] = []
        for index, bucket in enumerate(buckets):
            members += bucket.small
            nodes += bucket.small_nodes
            owners += [index] * len(bucket.small)
        self.estimated += len(members)
        estimates = estimates_against(self.signatures[row], self.signatures[members])
        mine = find(node)
        same: dict[int, int] = {}
        for index in np.flatnonzero(estimates >= self.min_estimate).tolist():
            other = members[index]
            if find(nodes[index]) == mine:
                same[owners[index]] = same.get(owners[index], 0) + 1
                continue
            if other in tried:
                continue
            tried.add(other)
            self.confirmed += 1
            if self.confirm(row, other):
                self.components.union(node, nodes[index])
                mine = find(node)
        for index, count in same.items():
            if count >= GROUP:
                self._regroup(buckets[index])


def connect_by_bands(
    keys: np.ndarray,
    confirm: Callable[[int, int], bool],
    signatures: np.ndarray | None = None,
    min_estimate: float = 0.0,
) -> list[int]:
    """Per row, the smallest row of its connected component in the graph of pairs that share a
    band key (``band_keys``), whose estimated Jaccard reaches ``min_estimate`` (when signatures
    are given) and that pass ``confirm``.

    Unlike ``find_clusters`` (which compares a row with a window of its bucket), an edge here
    depends on the pair alone, so an index that adds rows one at a time and looks their keys up
    finds exactly the same components: this is what lets the archive derive incrementally.
    Rows are added one at a time to a ``BandLinker`` (the incremental engine uses the same
    one), which compares a row with a bucket's components, not with each earlier member:
    ``confirm`` runs only for pairs that pass the estimate and are not yet connected."""
    n = keys.shape[0]
    if signatures is None:
        signatures, min_estimate = np.zeros((n, 1), dtype=np.uint8), 0.0
    linker = BandLinker(signatures, min_estimate, confirm)
    shared = shared_keys(keys)
    for row in range(n):
        linker.add(row, [key for key in keys[row].tolist() if key in shared], row)
    return [linker.components.find(row) for row in range(n)]
