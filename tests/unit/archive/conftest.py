"""Fixtures for the engine's stage tests: an empty archive's connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from dedupe.archive import Archive


@pytest.fixture
def stage_conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """The connection of a new, empty archive: every derive_* table, nothing derived."""
    with Archive(tmp_path / "stage.db") as archive:
        yield archive.db.conn
