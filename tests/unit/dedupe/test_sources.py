"""Reading inputs: files and JSON Lines stay within the size cap while they are read (issue 9, gap 2)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from dedupe import sources
from dedupe.document import RawSnapshot
from dedupe.sources import SourceError, bounded_lines, read_inputs


def line(text: str, n: int = 0) -> str:
    return json.dumps({"url": f"https://pacsto.org/events/a{n}", "observed_at": "2024-05-01T10:00:00Z", "text": text})


class CountingReader(io.BytesIO):
    """A file that remembers the largest piece any one read returned."""

    largest = 0

    def readline(self, size: int = -1) -> bytes:  # type: ignore[override]
        piece = super().readline(size)
        self.largest = max(self.largest, len(piece))
        return piece


def test_an_oversized_json_line_is_one_error_and_never_held_whole() -> None:
    big = line("x" * 5000, 1)
    data = "\n".join([line("first", 0), big, line("last", 2)]).encode()
    reader = CountingReader(data)
    got = list(bounded_lines(reader, limit=1000))
    assert [n for n, _ in got] == [1, 2, 3] and got[1][1] is None and got[2][1].startswith(b'{"url"')
    assert reader.largest <= 1024 * 1024 and reader.largest < len(big)  # read in bounded pieces


def test_read_jsonl_reports_a_record_over_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 2000)
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join([line("a", 0), line("y" * 3000, 1), line("b", 2)]) + "\n", encoding="utf-8")
    results = list(read_inputs([str(path)]))
    assert [type(r) for r in results] == [RawSnapshot, SourceError, RawSnapshot]
    assert str(results[1]).startswith(f"{path}:2: record is larger than")


def test_a_file_over_the_cap_is_refused_without_reading_more(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 100)
    (tmp_path / "big.html").write_bytes(b"<p>" + b"z" * 500 + b"</p>")
    (tmp_path / "small.txt").write_text("fine", encoding="utf-8")
    results = list(read_inputs([str(tmp_path)]))
    assert isinstance(results[0], SourceError) and "larger than" in results[0].message
    assert isinstance(results[1], RawSnapshot) and results[1].body == b"fine"


@pytest.mark.parametrize(
    "raw, message",
    [
        ("[" * 100_000, "nested too deeply"),
        ('{"url": "https://pacsto.org/events/x", "observed_at": 1714557600, "text": "\\ud800"}', "lone surrogate"),
    ],
)
def test_hostile_json_lines_are_one_sentence(tmp_path: Path, raw: str, message: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(raw + "\n", encoding="utf-8")
    (error,) = list(read_inputs([str(path)]))
    assert isinstance(error, SourceError) and message in error.message and "\n" not in str(error)
