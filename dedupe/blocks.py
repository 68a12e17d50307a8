"""Page furniture found by repetition: which lines are blocks, which are the article.

A line is furniture when near-duplicates of it (MinHash over character shingles, so
"7 deputies" and "6 deputies" are the same line) appear on at least two pages that are
*different articles*. Every line except the title and the date is evidence, including the
lines trafilatura put in the body: on a short page it takes the delegation block for the
article, and repetition is what corrects it.

Which pages are different articles? Two titled pages are the same article only when both
their titles (near-duplicates, so a typo fix is the same article) and their texts are alike;
weekly "Session 12 / Session 13 of the commission" pages have alike titles and different
texts. Untitled pages are grouped by their block-free text alone. That text depends on the
furniture, so the computation runs a fixed number of rounds over the whole set of pages:

1. titled pages grouped by (title, raw body text) -> furniture F0;
2. every page loses F0 -> text groups -> furniture F1 from all pages (final);
3. every page loses F1 -> final article groups (by block-free text).

Everything is a function of the *set* of pages (components of similarity graphs, sorted
inputs), so importing snapshots one by one, in any order, or as one batch gives the same
result. Runs of furniture lines (allowing short gaps for lines seen only once, such as a
brand-new delegation line) are the blocks; runs that share a line belong to one block.
Assumption, documented in the README: two pages with clearly different titles are
different articles (an article re-titled beyond recognition would lose its shared lines).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .document import Role
from .linking import SHINGLE_CACHE, Components, connect_by_bands
from .minhash import MinhashConfig, band_keys, compute_signatures, estimates_against, shingle_set

LINE_CONFIG = MinhashConfig(num_perm=128, unit="char", ngram=4, threshold=0.5, seed=1)
ARTICLE_CONFIG = MinhashConfig(num_perm=128, unit="word", ngram=3, threshold=0.6, seed=1)

MIN_RUN_LINES = 2  # a block is at least two furniture lines
MAX_GAP = 2  # lines seen once that may sit inside a block (e.g. a new delegation)

SignatureSource = Callable[[Sequence[str]], np.ndarray]


@dataclass
class PageLines:
    """The part of a page analysis the cross-page step needs."""

    key: str
    structured: bool
    lines: list[tuple[str, Role, int]]
    has_article: bool = True  # False for listings and country pages: no article, no furniture evidence


@dataclass
class Run:
    """One occurrence of a block on one page: its line indexes and its block label."""

    lines: list[int]
    block: int = -1


@dataclass
class Derivation:
    """The cross-page result: furniture, article text and group, block runs per page."""

    line_label: dict[str, int]
    furniture: set[str]
    article_text: dict[str, str] = field(default_factory=dict)
    article_group: dict[str, int] = field(default_factory=dict)
    runs: dict[str, list[Run]] = field(default_factory=dict)


LINE_CANDIDATE_SLACK = 0.1  # LSH candidates a little below the threshold, so banding never loses a pair
LINE_BAND_THRESHOLD = LINE_CONFIG.threshold - LINE_CANDIDATE_SLACK


def version_public_id(version_hash: str) -> str:
    """The public id of a block version: ``bv-`` and the start of the hash of its lines (``text_hash``),
    the same for the engine and the reference rebuild, so ids never depend on the order of arrival."""
    return "bv-" + version_hash[:12]


def line_signatures(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signatures of line texts (char 4-grams) and their LSH band keys (banded a little
    below the threshold)."""
    signatures = compute_signatures(texts, LINE_CONFIG)
    return signatures, band_keys(signatures, LINE_BAND_THRESHOLD)


LINE_SIGNATURE_CACHE = 32_768  # line texts whose signature is kept (~700 B each with a title's text: ~23 MB)
CACHED_TEXT_CHARS = 1_000  # longer lines (rare, and a hostile page's may be megabytes) are computed each time
_line_signature_cache: dict[str, np.ndarray] = {}


def stored_line_signatures(texts: Sequence[str]) -> np.ndarray:
    """The signatures of lines the archive clustered before, computed again from their texts (a row each, uint32):
    the archive keeps a clustered line's text, not its signature (m038: 512 B a title, a pure function of the
    text, ~11 us to compute). Those computed are kept by text (``remember_line_signatures``), so a crawl that
    meets the same titles' buckets batch after batch computes each about once."""
    found = {t: _line_signature_cache[t] for t in texts if t in _line_signature_cache}
    missing = list(dict.fromkeys(t for t in texts if t not in found))
    if missing:
        computed = compute_signatures(missing, LINE_CONFIG).astype(np.uint32)
        found.update(zip(missing, computed, strict=True))
        remember_line_signatures(missing, computed)
    if not texts:
        return np.empty((0, LINE_CONFIG.num_perm), dtype=np.uint32)
    return np.stack([found[t] for t in texts])


def remember_line_signatures(texts: Sequence[str], signatures: np.ndarray) -> None:
    """Keep these lines' signatures for ``stored_line_signatures``: those just computed for lines being clustered
    (``line_signatures``), which the next batches meet as members of their buckets, and those computed again.
    At most LINE_SIGNATURE_CACHE of lines up to CACHED_TEXT_CHARS long; the cache is emptied whole when full."""
    kept = [(t, s) for t, s in zip(texts, signatures.astype(np.uint32), strict=True) if len(t) <= CACHED_TEXT_CHARS]
    if len(_line_signature_cache) + len(kept) > LINE_SIGNATURE_CACHE:
        _line_signature_cache.clear()
    if len(kept) <= LINE_SIGNATURE_CACHE:
        _line_signature_cache.update(kept)


def lines_alike(a: set[bytes], b: set[bytes]) -> bool:
    """The exact test of two lines' shingle sets that confirms every LSH candidate pair (the union's size
    from the intersection's: a title's candidates are hundreds in a large archive, each tested)."""
    shared = len(a & b)
    return shared >= LINE_CONFIG.threshold * (len(a) + len(b) - shared)


def line_shingles(text: str) -> set[bytes]:
    """The set of a line's char 4-grams (``minhash.shingles`` as a set, built as one)."""
    return shingle_set(text, LINE_CONFIG)


def cluster_lines(texts: Sequence[str]) -> dict[str, int]:
    """Near-duplicate line clusters: label = index of the cluster's first line in sorted order.

    Lines sharing an LSH band key whose estimated Jaccard reaches LINE_BAND_THRESHOLD are
    candidates; each is confirmed by the exact Jaccard of the two lines' shingle sets (lines are
    short), because clusters are connected components and a single over-estimated pair would
    chain unrelated lines (a footer and a paragraph) together. An edge depends on the pair alone,
    so the archive's persisted index finds the same clusters.
    """
    distinct = sorted(set(texts))
    if not distinct:
        return {}

    @lru_cache(maxsize=SHINGLE_CACHE)  # bounded, as in the incremental engine
    def shingle_set(i: int) -> set[bytes]:
        return line_shingles(distinct[i])

    signatures, keys = line_signatures(distinct)
    labels = connect_by_bands(
        keys, lambda i, j: lines_alike(shingle_set(i), shingle_set(j)), signatures, LINE_BAND_THRESHOLD
    )
    return {text: label for text, label in zip(distinct, labels)}


def texts_alike(a: np.ndarray, b: np.ndarray) -> bool:
    """Two article texts are near-duplicates: estimated Jaccard at least ARTICLE_CONFIG.threshold."""
    return bool(estimates_against(a, b[None, :])[0] >= ARTICLE_CONFIG.threshold)


def group_texts(texts: dict[str, str], signatures: SignatureSource) -> dict[str, int]:
    """Near-duplicate article groups over pages with a non-empty text (label per page key)."""
    distinct = sorted({text for text in texts.values() if text})
    if not distinct:
        return {}
    sig = signatures(distinct)
    labels = connect_by_bands(
        band_keys(sig, ARTICLE_CONFIG.threshold), lambda i, j: True, sig, ARTICLE_CONFIG.threshold
    )
    by_text = {text: int(label) for text, label in zip(distinct, labels)}
    return {key: by_text[text] for key, text in texts.items() if text}


def candidate_positions(page: PageLines) -> list[int]:
    """Line indexes that may be furniture: all but the title and the date."""
    return [i for i, (_, role, _) in enumerate(page.lines) if role not in ("title", "date")]


def page_title(page: PageLines) -> str | None:
    """The text of the page's title line, if it has one."""
    return next((text for text, role, _ in page.lines if role == "title"), None)


MIN_BODY_RUN = 3  # verbatim body lines count as furniture only as a run this long (a swallowed block)


def page_evidence(page: PageLines) -> tuple[set[str], set[str]]:
    """What one article page says towards furniture: its candidate lines outside the extractor's
    body (counted as near-duplicate clusters) and all its candidate lines (counted verbatim)."""
    near: set[str] = set()
    exact: set[str] = set()
    for i in candidate_positions(page):
        text, role, _ = page.lines[i]
        exact.add(text)
        if role != "body":
            near.add(text)
    return near, exact


def body_runs(page: PageLines, repeated: Container[str]) -> set[str]:
    """Lines of the page in a run of at least MIN_BODY_RUN consecutive ``repeated`` lines of one
    landmark section: a block the extractor took for the article."""
    found: set[str] = set()
    run: list[str] = []
    previous = None
    for i in [*candidate_positions(page), None]:
        text = page.lines[i][0] if i is not None else None
        joined = (
            i is not None and previous is not None and i == previous + 1 and page.lines[i][2] == page.lines[previous][2]
        )
        if text is not None and text in repeated and (joined or not run):
            run.append(text)
        else:
            if len(run) >= MIN_BODY_RUN:
                found.update(run)
            run = [text] if text is not None and text in repeated else []
        previous = i
    return found


def find_furniture(pages: Sequence[PageLines], groups: dict[str, object], line_label: dict[str, int]) -> set[str]:
    """Line texts that repeat on two or more different articles.

    Lines outside the extractor's body repeat as near-duplicates (a changed seat count is
    the same line), so their whole cluster is furniture. Body lines must repeat verbatim,
    and as a run of at least MIN_BODY_RUN lines: a block the extractor took for the article
    repeats so, while articles of one site share formulaic sentences, near-duplicate or even
    verbatim, that are still part of each article.
    Pages without an article (listings) give no evidence: the titles they list move from
    one listing page to the next and would otherwise look repeated.
    """
    near: dict[int, set[object]] = defaultdict(set)
    exact: dict[str, set[object]] = defaultdict(set)
    evidence = [page for page in pages if page.has_article]
    for page in evidence:
        group = groups.get(page.key, ("page", page.key))
        page_near, page_exact = page_evidence(page)
        for text in page_exact:
            exact[text].add(group)
        for text in page_near:
            near[line_label[text]].add(group)
    labels = {label for label, where in near.items() if len(where) >= 2}
    furniture = {text for text, label in line_label.items() if label in labels}
    repeated = {text for text, where in exact.items() if len(where) >= 2}
    for page in evidence:
        furniture |= body_runs(page, repeated)
    return furniture


def find_runs(page: PageLines, furniture: set[str]) -> list[Run]:
    """Maximal runs of furniture lines, bridging short gaps of lines seen once.

    A run ends where the page's landmark container changes (see ``extract.html_lines``), and
    at a title or date that is not furniture. A title that *is* furniture stays in the run: on
    a country page the menu entry of that country is also the page's title.
    """
    runs: list[Run] = []
    current: list[int] = []
    pending: list[int] = []
    for i, (text, role, section) in enumerate(page.lines):
        contiguous = bool(current) and page.lines[current[-1]][2] == section and i == (pending or current)[-1] + 1
        if text in furniture:
            if contiguous and len(pending) <= MAX_GAP:
                current.extend(pending)
                current.append(i)
            else:
                _close(runs, current)
                current = [i]
            pending = []
        elif contiguous and role not in ("title", "date"):
            pending.append(i)
        else:
            _close(runs, current)
            current, pending = [], []
    _close(runs, current)
    return runs


def _close(runs: list[Run], lines: list[int]) -> None:
    if len(lines) >= MIN_RUN_LINES:
        runs.append(Run(list(lines)))


def article_text(page: PageLines, furniture: set[str], runs: list[Run]) -> str:
    """The block-free article: body lines (or, unstructured, every line) outside blocks.

    Only lines inside a block run are removed: a lone sentence that repeats elsewhere is
    still part of its article.
    """
    if not page.has_article:
        return ""
    in_runs = {i for run in runs for i in run.lines}
    if page.structured:
        keep = [text for i, (text, role, _) in enumerate(page.lines) if role == "body" and i not in in_runs]
        if not keep and furniture:  # the extractor took furniture for the article: read after the title
            start = next((i for i, (_, role, _) in enumerate(page.lines) if role in ("title", "date")), 0)
            keep = [
                text
                for i, (text, role, _) in enumerate(page.lines)
                if i > start and role not in ("title", "date") and i not in in_runs and text not in furniture
            ]
    else:
        keep = [text for i, (text, _, _) in enumerate(page.lines) if i not in in_runs]
    return "\n".join(keep)


def label_blocks(runs: dict[str, list[Run]], pages: dict[str, PageLines], line_label: dict[str, int]) -> None:
    """Give runs that share a line cluster one block label (the smallest cluster label)."""
    components = Components()
    for key, page_runs in runs.items():
        for run in page_runs:
            labels = [line_label[pages[key].lines[i][0]] for i in run.lines]
            for label in labels[1:]:
                components.union(labels[0], label)
    for key, page_runs in runs.items():
        for run in page_runs:
            run.block = components.find(line_label[pages[key].lines[run.lines[0]][0]])


def evidence_groups(
    pages: Sequence[PageLines], title_label: dict[str, int], text_groups: dict[str, int]
) -> dict[str, object]:
    """Which article each page counts as when lines are counted: its title and text, or its text."""
    groups: dict[str, object] = {}
    for page in pages:
        title = page_title(page)
        if title is not None:  # an empty text makes a page like no other, never like every other
            groups[page.key] = ("title", title_label[title], text_groups.get(page.key, ("page", page.key)))
        elif page.key in text_groups:
            groups[page.key] = ("text", text_groups[page.key])
    return groups


def derive(pages: Sequence[PageLines], signatures: SignatureSource) -> Derivation:
    """Furniture, blocks and article groups for a whole set of pages (order-independent)."""
    pages = sorted(pages, key=lambda p: p.key)
    by_key = {page.key: page for page in pages}
    line_label = cluster_lines(
        [page.lines[i][0] for page in pages for i in candidate_positions(page) if page.lines[i][1] != "body"]
    )
    for page in pages:  # body-only lines (they count verbatim), titles and dates get labels of their own
        for text, _, _ in page.lines:
            line_label.setdefault(text, -1 - len(line_label))
    titles = [t for t in (page_title(p) for p in pages) if t is not None]
    title_label = cluster_lines(titles)

    titled = [p for p in pages if page_title(p) is not None]
    raw_groups = group_texts({p.key: article_text(p, set(), []) for p in titled}, signatures)
    furniture = find_furniture(titled, evidence_groups(titled, title_label, raw_groups), line_label)
    for rounds in range(2):
        runs = {page.key: find_runs(page, furniture) for page in pages}
        texts = {page.key: article_text(page, furniture, runs[page.key]) for page in pages}
        groups = group_texts(texts, signatures)
        if rounds == 0:  # furniture only grows: later rounds add evidence from untitled pages
            furniture |= find_furniture(pages, evidence_groups(pages, title_label, groups), line_label)

    label_blocks(runs, by_key, line_label)
    return Derivation(line_label=line_label, furniture=furniture, article_text=texts, article_group=groups, runs=runs)
