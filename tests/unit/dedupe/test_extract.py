"""Decoding, kind detection and per-page roles: bad input is refused with a reason."""

from __future__ import annotations

import codecs

import pytest

from dedupe.decoding import decode, decode_why, detect_kind, garbling
from dedupe.document import InputError
from dedupe.extract import analyse, html_lines, parse_date_line
from tests.conftest import seed_as_html, seed_block, seed_files


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "empty"),
        (b"   \n\t ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
        (b"abc\x00def" * 20, "binary"),
        # UTF-8 with a stray byte and nothing declared: not read as a single-byte charset (mojibake of the rest)
        ("Делегация парламента".encode()[:6] + b"\xff" + "Делегация парламента".encode()[6:], "not valid UTF-8"),
        ("<html><body><p>Делегация</p></body></html>".encode()[:-1] + b"\xd0", "truncated"),
    ],
)
def test_unusable_input_is_refused_with_a_reason(raw: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        decode(raw)


def test_declared_charset_is_honoured() -> None:
    text, kind, encoding = decode("Делегация парламента".encode("cp1251"), declared_charset="windows-1251")
    assert (text, kind, encoding) == ("Делегация парламента", "text", "cp1251")


def test_utf8_body_mislabelled_as_latin1_keeps_its_cyrillic() -> None:
    body = "<html><body><p>Делегация Жогорку Кенеша</p></body></html>".encode()
    text, kind, encoding = decode(body, declared_charset="iso-8859-1")
    assert "Делегация Жогорку Кенеша" in text and kind == "html" and encoding == "utf-8"


def test_a_declared_charset_that_cannot_decode_gives_way_to_detection_and_says_so() -> None:
    text, _, encoding, why = decode_why(b"<p>caf\xe9 cr\xe8me br\xfbl\xe9e</p>", declared_charset="ascii")
    assert (text, encoding) == ("<p>café crème brûlée</p>", "cp1252") and why.startswith("detected (declared ascii")


def test_a_page_without_closing_tags_is_complete() -> None:
    text, kind, _ = decode(b"<html><head></head><body><p>the rest of the page was never closed")
    assert kind == "html" and text.endswith("never closed")


def test_a_bom_wins_over_a_misspelt_meta_charset() -> None:
    raw = codecs.BOM_UTF8 + "<html><head><meta charset=iso-8559-1></head><body>Делегация</body>".encode()
    assert decode_why(raw)[2:] == ("utf-8", "byte order mark")


def test_kind_is_told_by_content_not_name() -> None:
    assert detect_kind(b"<!DOCTYPE html><html><body></body></html>") == "html"
    assert detect_kind(b"  <div><p>a</p></div><p>b</p><p>c</p>") == "html"
    assert detect_kind(seed_files()[0].read_bytes()) == "text"
    assert detect_kind(b"Price < 5 and > 3") == "text"


def test_dates_are_recognised_only_when_a_line_is_a_date() -> None:
    assert parse_date_line("4 June 2022") == "2022-06-04"
    assert parse_date_line("02 December 2021") == "2021-12-02"
    assert parse_date_line("4 июня 2022") == "2022-06-04"
    assert parse_date_line("The election was held on January 10, 2021.") is None
    assert parse_date_line("Participation of states is voluntary.") is None


def test_text_seed_roles_title_date_body() -> None:
    path = seed_files()[1]
    page = analyse(path.read_bytes())
    roles = [role for _, role, _ in page.lines]
    assert page.kind == "text" and page.structured and page.language == "en"
    assert page.title == "Erlan Koshanov: Kazakhstan will do its utmost to enhance the influence of the CSTO"
    assert page.published == "2022-06-04"
    assert roles[:12] == ["candidate"] * 12
    assert roles[12:15] == ["title", "date", "title"]
    assert set(roles[15:]) == {"body"}


def test_seed_without_title_or_date_invents_neither() -> None:
    page = analyse(seed_files()[0].read_bytes())
    assert page.title is None and page.published is None and not page.structured
    assert {role for _, role, _ in page.lines} == {"candidate"}


def test_html_page_trafilatura_keeps_block_out_of_the_body() -> None:
    path = seed_files()[1]
    page = analyse(seed_as_html(path).encode("utf-8"))
    block = set(seed_block(path))
    body = [text for text, role, _ in page.lines if role == "body"]
    assert page.kind == "html" and page.title.startswith("Erlan Koshanov") and page.published == "2022-06-04"
    assert len(body) == 6 and not block & set(body)
    assert block <= {text for text, role, _ in page.lines if role == "candidate"}


def test_html_lines_split_by_block_elements_and_landmarks() -> None:
    lines = html_lines(
        "<html><body><nav><ul><li>Home</li><li>News</li></ul></nav>"
        "<div><p>One <b>bold</b> line</p><p>Two</p></div><script>var x='<p>no</p>'</script></body></html>"
    )
    assert [text for text, _ in lines] == ["Home", "News", "One bold line", "Two"]
    assert lines[0][1] == lines[1][1] != lines[2][1]


def test_html_without_a_date_line_gets_no_date() -> None:
    markup = (
        "<html><body><h1>Title of the page here</h1><div><p>"
        + "Some words of an article. " * 40
        + "</p><p>Copyright 2024</p></div></body></html>"
    )
    assert analyse(markup.encode()).published is None


def test_text_after_an_html_comment_is_kept() -> None:
    lines = html_lines("<html><body><p>Delegation consists of <!-- seats -->7 deputies.</p></body></html>")
    assert [text for text, _ in lines] == ["Delegation consists of 7 deputies."]


def test_control_characters_never_reach_the_lines() -> None:
    page = analyse(b"Title line here\n4 June 2022\nBody with \x1b]0;pwned\x07 escape and \x1b[2J clear.")
    assert all("\x1b" not in text and "\x07" not in text for text, _, _ in page.lines)


# --------------------------------------------------------------------------- garbled charsets

RUSSIAN_PAGE = (
    "<html><head><title>Парламентская ассамблея</title></head><body><p>Парламентская Ассамблея "
    "Организации Договора о коллективной безопасности провела заседание постоянной комиссии по "
    "вопросам обороны и безопасности.</p></body></html>"
)


@pytest.mark.parametrize(
    "served_as, written_in, sign",
    [
        ("iso-8859-1", "cp1251", "Latin-1 mojibake"),
        ("windows-1252", "cp1251", "Latin-1 mojibake"),
        ("koi8-r", "cp1251", "case of each letter swapped"),
        ("windows-1251", "koi8-r", "case of each letter swapped"),
    ],
)
def test_a_declared_charset_that_decodes_into_mojibake_gives_way_to_detection(
    served_as: str, written_in: str, sign: str
) -> None:
    """Never stored garbled: the declared charset reads as mojibake (``sign``), detection finds the real one."""
    raw = RUSSIAN_PAGE.encode(written_in)
    assert sign in garbling(raw.decode(served_as))
    text, _, encoding, why = decode_why(raw, declared_charset=served_as)
    assert "Парламентская Ассамблея" in text and encoding == codecs.lookup(written_in).name
    assert why.startswith(f"detected (declared {codecs.lookup(served_as).name}")


def test_meta_charset_wins_when_the_header_disagrees_and_it_decodes_cleanly() -> None:
    body = RUSSIAN_PAGE.replace("<head>", '<head><meta charset="windows-1251">').encode("cp1251")
    text, _, encoding = decode(body, declared_charset="iso-8859-1")
    assert encoding == "cp1251" and "Парламентская Ассамблея" in text


def test_text_in_latin_languages_is_not_mojibake() -> None:
    french = (
        "<html><body><p>Le président de la République française a été reçu à l'Élysée après une période "
        "très éprouvante pour l'économie européenne.</p></body></html>"
    )
    assert decode(french.encode("latin-1"), declared_charset="iso-8859-1")[2] == "iso8859-1"
    assert (
        garbling("ОДКБ и СНГ: ПАРЛАМЕНТСКАЯ АССАМБЛЕЯ провела заседание постоянной комиссии в Москве и Минске") is None
    )


def test_windows_1252_bytes_under_a_declared_utf8_are_read_as_a_browser_reads_them() -> None:
    text, _, encoding, why = decode_why(b"<html><body>caf\xe9 au lait</body></html>", declared_charset="utf-8")
    assert ("café" in text, encoding) == (True, "cp1252") and why.startswith("detected (declared utf-8")
    mostly = "<html><body>Делегация Кыргызстана ".encode() + b"\x93quoted\x94</body></html>"
    text, _, encoding, why = decode_why(mostly, "utf-8")
    assert "Делегация Кыргызстана" in text and encoding == "utf-8" and "replaced" in why


@pytest.mark.parametrize("charset", ["undefined", "\x00", "base64", "zlib", "hex"])
def test_a_declared_charset_that_is_no_text_encoding_is_ignored(charset: str) -> None:
    """Found by fuzzing (tests/reliability): 'undefined' raised UnicodeError, a NUL ValueError."""
    assert decode(b"plain text", declared_charset=charset) == ("plain text", "text", "utf-8")


@pytest.mark.parametrize(
    "declaration",
    [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        "\ufeff  <?xml version='1.0' encoding='windows-1251' standalone='yes'?>",
    ],
)
def test_an_xhtml_page_that_declares_its_encoding_is_read_not_refused(declaration: str) -> None:
    # lxml refuses a decoded str that declares an encoding: such pages (XHTML, common in old web archives)
    # were refused whole as "malformed HTML"
    page = (
        declaration + '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html xmlns="http://www.w3.org/1999/xhtml">'
        "<head><title>Session</title></head><body><h1>The Assembly met in Minsk</h1>"
        "<p>The Parliamentary Assembly held its plenary session, and the delegations adopted the programme.</p>"
        "<p>The Kyrgyz delegation consists of 7 deputies, the Council said in its statement.</p></body></html>"
    )
    analysis = analyse(page.encode("utf-8"), "utf-8")
    roles = {line: role for line, role, _ in analysis.lines}
    assert roles["The Assembly met in Minsk"] == "title"
    assert roles["The Kyrgyz delegation consists of 7 deputies, the Council said in its statement."] == "body"
