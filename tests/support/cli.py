"""What every command test asks of a refused command."""

from __future__ import annotations


def one_sentence_error(result) -> str:
    """The one line a refused command printed: "Error: ...", no usage text, no traceback."""
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and lines[0].endswith("."), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return lines[0]
