"""``bounded.bounded_lines``'s ``total``: a file read no further than the bytes it held when its size was taken
(a JSON Lines file a scraper is still appending to), also when that end falls inside an oversized line."""

from __future__ import annotations

import io
from pathlib import Path

from dedupe.bounded import bounded_lines


def test_total_stops_at_a_line_end_or_cuts_the_last_line() -> None:
    data = b"a\nbb\nccc\n"
    assert list(bounded_lines(io.BytesIO(data), total=5)) == [(1, b"a\n"), (2, b"bb\n")]
    assert list(bounded_lines(io.BytesIO(data), total=6)) == [(1, b"a\n"), (2, b"bb\n"), (3, b"c")]
    assert list(bounded_lines(io.BytesIO(data), total=0)) == []
    assert list(bounded_lines(io.BytesIO(data))) == list(bounded_lines(io.BytesIO(data), total=100))


def test_total_inside_an_oversized_line_ends_the_reading_there() -> None:
    handle = io.BytesIO(b"a\n" + b"x" * 100 + b"\nz\n")
    assert list(bounded_lines(handle, limit=3, total=50)) == [(1, b"a\n"), (2, None)]
    assert handle.tell() == 50  # the rest of the long line, and the line after it, were never read


def test_a_file_appended_to_while_it_is_read_is_read_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "growing.jsonl"
    path.write_bytes(b"one\ntwo\n")
    with path.open("rb") as handle:
        size = path.stat().st_size
        lines = bounded_lines(handle, total=size)
        first = next(lines)
        with path.open("ab") as writer:
            writer.write(b"three\n" * 1000)
        assert [first, *lines] == [(1, b"one\n"), (2, b"two\n")]
