"""Pages a browser reads that the archive once refused, cut or stored garbled (found by probing with hostile input).

* unclosed inline tags nest a page deeper than libxml2's default limit of 256 levels: the page was stored without
  its end; now up to 2,048 levels are read, and a page deeper still is refused, never stored cut;
* a short windows-1251 page labelled UTF-8 was read as windows-1252 ('Ñîâåò'), too short for ``garbling``;
* a page whose charset label no browser knows (or none at all) was refused instead of detected;
* a UTF-7 label was honoured ('+ADw-script+AD4-' became a <script>), which no browser does;
* one stray NUL byte refused a whole page.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dedupe.archive import Archive
from dedupe.decoding import decode_why
from dedupe.document import InputError, RawSnapshot
from dedupe.extract import analyse

ARTICLE = (
    "<html><head><title>Deep</title></head><body><h1>Deep</h1><p>The start of the article text.</p>{}</body></html>"
)


def _page(markup: str, charset: str | None = None, encoding: str = "utf-8") -> bytes:
    head = f'<meta charset="{charset}">' if charset else ""
    return f"<html><head>{head}</head><body>{markup}</body></html>".encode(encoding)


def test_a_page_nested_hundreds_deep_by_unclosed_tags_keeps_its_end(tmp_path: Path) -> None:
    page = ARTICLE.format("<span>item " * 400 + "<p>The final words of the article.</p>").encode()
    lines = [text for text, _, _ in analyse(page).lines]
    assert lines[-1] == "The final words of the article." and lines[-2].count("item") == 400
    with Archive(tmp_path / "a.db") as archive:
        archive.ingest([RawSnapshot("https://pacsto.org/events/deep", "2024-05-01T00:00:00Z", page)], workers=1)
        (text,) = archive.db.execute("SELECT text FROM article_versions").fetchone()
    assert "The final words of the article." in text


def test_a_page_deeper_than_the_parser_reads_is_refused_not_cut() -> None:
    page = ARTICLE.format("<div>x " * 3000 + "<p>The final words.</p>").encode()
    with pytest.raises(InputError, match=r"HTML parser stops inside this page \(Excessive depth in document: 2048\)"):
        analyse(page)


def test_a_short_cyrillic_page_mislabelled_utf8_is_read_as_windows_1251() -> None:
    text, _, encoding, why = decode_why(_page("<p>Совет ПА ОДКБ</p>", "utf-8", "cp1251"))
    assert encoding == "cp1251" and "Совет ПА ОДКБ" in text and why.startswith("detected")


@pytest.mark.parametrize("label", ["x-absurd", None])
def test_an_unknown_or_missing_label_on_a_cyrillic_page_is_detected(label: str | None) -> None:
    markup = "<p>Заседание Совета Парламентской Ассамблеи ОДКБ в Минске прошло успешно</p>"
    text, _, encoding, why = decode_why(_page(markup, label, "cp1251"))
    assert encoding == "cp1251" and "Парламентской Ассамблеи" in text and why == "detected (no usable charset declared)"


def test_a_cyrillic_plain_text_without_a_label_is_read_as_windows_1251() -> None:
    text, kind, encoding, _ = decode_why("Делегация".encode("cp1251"))
    assert (text, kind, encoding) == ("Делегация", "text", "cp1251")


def test_a_western_page_without_a_label_is_still_read_as_windows_1252() -> None:
    text, _, encoding, _ = decode_why(_page("<p>Un café crème à la française, déjà très apprécié</p>", None, "cp1252"))
    assert encoding == "cp1252" and "café crème" in text


def test_a_utf7_label_is_not_honoured() -> None:
    text, _, encoding, _ = decode_why(_page("<p>+ADw-script+AD4-alert(1)+ADw-/script+AD4- hello</p>", "utf-7"))
    assert encoding == "utf-8" and "+ADw-script+AD4-" in text and "<script>" not in text


def test_a_stray_nul_byte_is_read_as_a_replacement_character_and_binary_is_still_refused() -> None:
    text, _, _, _ = decode_why(_page("<p>a normal paragraph with a stray\x00 NUL byte in it</p>"))
    assert "stray\ufffd NUL" in text and "\x00" not in text
    assert [t for t, _, _ in analyse(_page("<p>a normal paragraph with a stray\x00 NUL byte in it</p>")).lines] == [
        "a normal paragraph with a stray\ufffd NUL byte in it"
    ]
    binaries = (
        b"<html>" + b"\x00\x01" * 100 + b"</html>",
        b"<html><p>text</p>\xff\xfe\x00\x00</html>",
        bytes(range(256)) * 4,
    )
    for binary in binaries:
        with pytest.raises(InputError, match="binary content"):
            decode_why(binary)
