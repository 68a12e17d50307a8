"""Sizes of the reliability suite: small in CI, larger on demand.

    pytest tests/reliability                               # CI: 5 kills of each kind, 200 fuzz examples a target
    pytest tests/reliability --reliability-runs 50         # the full fault run
    PA_FUZZ_EXAMPLES=10000 pytest tests/reliability -k fuzz  # the dedicated fuzz run

The option itself is declared in tests/conftest.py (pytest reads options from the root conftest only).
Each test prints a figure line ("reliability: ...") for the README's Reliability table (``-s`` shows them).
"""

from __future__ import annotations

import pytest


@pytest.fixture
def reliability_runs(request: pytest.FixtureRequest) -> int:
    return max(1, request.config.getoption("--reliability-runs"))
