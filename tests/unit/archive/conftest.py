"""Fixtures for the engine's tests: an empty archive's connection, and each page analysed once a process."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from dedupe.archive import Archive
from tests.support.analysis import analyse_each_page_once


@pytest.fixture
def stage_conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """The connection of a new, empty archive: every derive_* table, nothing derived."""
    with Archive(tmp_path / "stage.db") as archive:
        yield archive.db.conn


@pytest.fixture
def each_page_analysed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The archive reuses the analysis of a page stored before in this process (``tests.support.analysis``), for
    the tests of what the engine derives from analyses (order, batching, migrations), which store the replica's
    pages again and again; never for a test of analysing or of the workers that analyse."""
    analyse_each_page_once(monkeypatch)
