"""Each page analysed once a test process, for the tests whose subject is what the archive does with analyses.

``observations._analysed`` (trafilatura, justext, htmldate, the block lines) is a pure function of a page's bytes,
its declared charset and its kind, and most of the time of a test that stores pages: the storage, order, batching
and migration tests store the same replica and synthetic pages again and again (in every hypothesis example).
``analyse_each_page_once`` puts a cached ``_analysed`` in its place for one test: the first test of the process to
store a page analyses it, the others reuse that analysis. Not for tests of analysing itself, of who analyses
(worker processes forked during such a test inherit the cache and would not analyse) or of analysing again.
"""

from __future__ import annotations

import functools

import pytest

from dedupe.archive import observations
from dedupe.document import PageAnalysis

_ANALYSED = observations._analysed


@functools.cache
def analysed_once(body: bytes, charset: str | None, kind_hint: str | None) -> PageAnalysis:
    """``observations._analysed`` of a page, computed once a process (its InputError is raised each time)."""
    return _ANALYSED(body, charset, kind_hint)


def analyse_each_page_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the rest of the test: the archive analyses a page it was given before in this process from the cache."""
    monkeypatch.setattr(observations, "_analysed", analysed_once)
