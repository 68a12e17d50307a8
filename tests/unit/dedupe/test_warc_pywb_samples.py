"""Files other tools wrote (pywb's sample archive: wget, wpull, ARC, revisits, URI-agnostic revisits)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedupe.sources import SourceError
from dedupe.webarchive.warc import ReadSummary, detect, read_web_archive

SAMPLES = Path(__file__).parents[2] / "fixtures" / "pywb-sample-archive"
# file -> (observations, revisits, bad records): what each holds, read by hand
EXPECTED = {
    "dupes.warc.gz": (3, 2, 0),  # 7 revisits of CSS, scripts, images and fonts: skipped, as not HTML
    "example-bad.warc.gz.bad": (2, 1, 0),
    "example-extra.warc": (3, 2, 0),
    "example-url-agnostic-orig.warc.gz": (1, 0, 0),
    "example-url-agnostic-revisit.warc.gz": (1, 1, 0),
    "example-wget-1-14.warc.gz": (1, 0, 0),
    "example-wpull.warc.gz": (1, 0, 0),
    "example.arc": (1, 0, 0),
    "example.arc.gz": (1, 0, 0),
    "example.warc": (2, 1, 0),  # its Content-Length is 3 bytes short: a note, nothing lost
    "example.warc.gz": (2, 1, 0),
    "missing-status-text.warc": (0, 0, 0),  # a 302 with "\r\r\n" line ends: skipped, not an error
    "bad.arc": (0, 0, 1),  # lengths of -1 and "abc": one line, no traceback
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_is_read_with_what_it_holds(name: str) -> None:
    path = SAMPLES / name
    assert detect(path) in ("warc", "arc")
    summaries: list[ReadSummary] = []
    items = list(read_web_archive(path, summaries))
    errors = [i for i in items if isinstance(i, SourceError)]
    summary = summaries[0]
    assert (summary.observations, summary.revisits, summary.errors) == EXPECTED[name]
    assert len(errors) == summary.errors and all("@" in e.where and "\n" not in e.message for e in errors)


def test_a_uri_agnostic_revisit_finds_its_payload_when_both_files_are_one_stream(tmp_path: Path) -> None:
    both = tmp_path / "both.warc.gz"
    both.write_bytes(
        (SAMPLES / "example-url-agnostic-orig.warc.gz").read_bytes()
        + (SAMPLES / "example-url-agnostic-revisit.warc.gz").read_bytes()
    )
    items = [i for i in read_web_archive(both) if not isinstance(i, SourceError)]
    assert len(items) == 2 and items[0].url != items[1].url
    assert items[1].body == items[0].body and items[1].http_status == 200
