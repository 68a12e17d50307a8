"""Fuzzing the input boundary with hypothesis: whatever comes in, the only exceptions that leave are the
project's one-line errors (InputError, SourceError as a value, ArchiveError, DiffTooLarge, StorageError).

CI runs ``CI_EXAMPLES`` examples a target; ``PA_FUZZ_EXAMPLES=10000`` is the dedicated run whose figures
the README's Reliability table gives.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe.analysis import diff as difftools
from dedupe.archive import Archive, ArchiveError
from dedupe.document import InputError, PageAnalysis, RawSnapshot
from dedupe.extract import analyse
from dedupe.facts import extract_facts
from dedupe.sources import SourceError, read_inputs
from tests.conftest import SEEDS, seed_block

CI_EXAMPLES = 200
EXAMPLES = int(os.environ.get("PA_FUZZ_EXAMPLES", CI_EXAMPLES))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= CI_EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)

# Pieces of the site's pages, so that examples reach the parsers' deeper paths, not only their first check.
FRAGMENTS = [
    "<!DOCTYPE html>",
    "<html>",
    "</html>",
    "<head>",
    "</head>",
    "<body>",
    "</body>",
    '<meta charset="utf-8">',
    '<meta charset="windows-1251">',
    "<title>",
    "</title>",
    "<h1 class='content__title'>",
    "</h1>",
    "<div class='content__date'>4 June 2022</div>",
    "<p>",
    "</p>",
    "<div>",
    "</div>",
    "<script>",
    "</script>",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&#x0;",
    "&nbsp;",
    "Delegation of the Kyrgyz Republic",
    "consists of 7 deputies",
    "Plenipotentiary representative:",
    "Website:",
    "Делегация",
    "4 июня 2022",
    "\x00",
    "\ufeff",
    "\r\n",
    "\n",
    " ",
    "Парламентская",
    "Ïàðëàìåíòñêàÿ",
    "<a href='/events/x?n=1'>",
    "</a>",
]
page_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=40)), max_size=60).map("".join)
page_bytes = st.one_of(
    st.binary(max_size=2000),
    page_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.tuples(page_text, st.sampled_from(["cp1251", "koi8-r", "latin-1", "utf-16"])).map(
        lambda p: p[0].encode(p[1], "replace")
    ),
)
charsets = st.one_of(
    st.none(),
    st.sampled_from(
        ["utf-8", "iso-8859-1", "windows-1251", "koi8-r", "ascii", "utf-16", "x-unknown", "", "utf-8; q=1", "UTF8"]
    ),
    st.text(max_size=12),
)


@FUZZ
@given(raw=page_bytes, charset=charsets, kind=st.sampled_from([None, "html", "text"]))
def test_fuzz_analyse(raw: bytes, charset: str | None, kind: str | None) -> None:
    try:
        result = analyse(raw, charset, kind)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert isinstance(result, PageAnalysis) and result.kind in ("html", "text")


block_lines = st.lists(
    st.one_of(
        st.sampled_from(seed_block(sorted(SEEDS.glob("*.txt"))[0])), st.text(max_size=80), st.sampled_from(FRAGMENTS)
    ),
    max_size=20,
)


@FUZZ
@given(lines=block_lines)
def test_fuzz_extract_facts(lines: list[str]) -> None:
    for fact in extract_facts(lines):
        assert fact.delegation and fact.field


texts = st.lists(
    st.one_of(st.sampled_from(["a", "b", "", "Delegation 7", "Delegation 6", "  x  "]), st.text(max_size=30)),
    max_size=40,
).map("\n".join)


@FUZZ
@given(a=texts, b=texts)
def test_fuzz_diff(a: str, b: str) -> None:
    try:
        data = difftools.structured(a, b, "A", "B")
        difftools.words(a, b)
        difftools.side_by_side(a, b, "A", "B", width=60)
        difftools.unified(a, b, "A", "B")
    except difftools.DiffTooLarge as exc:
        assert "\n" not in str(exc)
        return
    assert data["identical"] == (a == b) and 0 <= data["line_similarity"] <= 1
    # the word operations of each changed pair re-join to the two lines exactly
    for change in difftools.changed_line_pairs(a, b):
        ops = difftools.word_ops(change[0] or "", change[1] or "")
        assert "".join(o.text for o in ops if o.op != "insert") == (change[0] or "")
        assert "".join(o.text for o in ops if o.op != "delete") == (change[1] or "")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
records = st.one_of(
    st.fixed_dictionaries(
        {
            "url": st.one_of(
                st.sampled_from(
                    ["https://pacsto.org/events/x", "file:///tmp/x", "javascript:alert(1)", "http://[::1", ""]
                ),
                st.text(),
            ),
            "observed_at": st.one_of(st.text(max_size=25), st.integers(), st.floats()),
            "html": page_text,
        }
    ).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
)
jsonl = st.lists(records, max_size=8).map("\n".join)
file_names = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"), min_size=1, max_size=30
).filter(lambda n: n not in (".", ".."))


@FUZZ
@given(lines=jsonl, raw=page_bytes, name=file_names, bad_name=st.binary(min_size=1, max_size=12))
def test_fuzz_sources(lines: str, raw: bytes, name: str, bad_name: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        (base / "in.jsonl").write_bytes(lines.encode("utf-8", "surrogatepass"))
        try:
            (base / name).write_bytes(raw)
        except OSError:
            pass  # a name the file system refuses (too long in bytes)
        bad = bad_name.replace(b"/", b"_").replace(b"\x00", b"_")
        if bad not in (b".", b".."):
            try:
                Path(os.fsdecode(base.as_posix().encode() + b"/" + bad)).write_bytes(raw)
            except OSError:
                pass
        for item in read_inputs([folder, str(base / "*.none"), str(base / "missing")]):
            assert isinstance(item, (RawSnapshot, SourceError))
            if isinstance(item, SourceError):
                assert "\n" not in item.message and str(item).encode("utf-8")  # printable, one line
            else:
                item.origin.encode("utf-8")  # storable


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    archive = Archive(tmp_path_factory.mktemp("fuzz") / "a.db")
    archive.ingest(read_inputs([str(SEEDS)]))
    yield archive
    archive.close()


refs = st.one_of(
    st.text(st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]), max_size=30),
    st.from_regex(r"(s|a|b)?[0-9]{1,25}", fullmatch=True),
    st.from_regex(r"(av|bv)-[0-9a-f]{0,12}", fullmatch=True),
    st.sampled_from(["https://pacsto.org/", "file:///", "%", "_", "av-", "bv-", "a0", "s-1", "1e9"]),
)


@FUZZ
@given(ref=refs)
def test_fuzz_resolve(seeded: Archive, ref: str) -> None:
    try:
        found = seeded.resolve(ref)
        seeded.text_of(found)
    except ArchiveError as exc:
        assert str(exc) and "\n" not in str(exc)


@pytest.mark.parametrize("ref", ["/\x00", "\udcff"])
def test_a_reference_with_a_nul_or_a_lone_surrogate_is_an_archive_error(seeded: Archive, ref: str) -> None:
    with pytest.raises(ArchiveError):
        seeded.resolve(ref)
