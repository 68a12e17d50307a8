"""Bytes -> text -> lines with roles: decoding, HTML-vs-text detection, trafilatura extraction.

Nothing here knows about other pages: deciding which lines are furniture needs repetition
across snapshots and happens in ``dedupe.blocks``.
"""

from __future__ import annotations

import codecs
import re
from datetime import date
from html import unescape

import dateparser
import trafilatura
from htmldate import find_date
from lxml import etree
from lxml import html as lxml_html
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
from trafilatura.utils import line_processing, load_html

from .document import (
    EXTRACTOR_VERSION,  # noqa: F401 - kept importable from here
    InputError,
    PageAnalysis,
    Role,
)

_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|section|header)\b",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TAGS = re.compile(rb"</(?:p|div|body|html|article|section|span|a|li|h[1-6])>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF")
_SINGLE_BYTE_CHARSETS = {"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15", "cp1251", "koi8-r", "cp866"}

BLOCK_TAGS = {
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "dd",
    "details",
    "dialog",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "td",
    "th",
    "tr",
    "ul",
    "br",
}
SKIP_TAGS = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object", "button", "select"}

_DATE_LINE = re.compile(r"^\W*\d{1,2}[\s./-]+\w+[\s./-]+\d{4}\W*$|^\W*\w+\s+\d{1,2},?\s+\d{4}\W*$|^\d{4}-\d{2}-\d{2}$")
MIN_YEAR, MAX_YEAR = 1990, 2100  # fixed bounds: the same bytes must get the same roles on any day
_DATEPARSER_SETTINGS = {
    "STRICT_PARSING": True,
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PREFER_LOCALE_DATE_ORDER": False,
}
# The site's own date forms, read without dateparser (~3 ms a call): "4 June 2022", "4 июня 2022",
# "June 4, 2022", "2022-06-04". Anything else (abbreviations, other separators) goes to dateparser.
_MONTH_NUMBER = {
    name: number
    for names in (
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        (
            "января",
            "февраля",
            "марта",
            "апреля",
            "мая",
            "июня",
            "июля",
            "августа",
            "сентября",
            "октября",
            "ноября",
            "декабря",
        ),
    )
    for number, name in enumerate(names, start=1)
}
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2}) ([^\W\d_]+) (\d{4})")
_MONTH_DAY_YEAR = re.compile(r"([^\W\d_]+) (\d{1,2}),? (\d{4})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_LATIN_BYTES = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))
_CYRILLIC_LEAD_BYTES = b"\xd0\xd1\xd2\xd3"  # UTF-8 lead bytes of exactly U+0400..U+04FF
_BINARY_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f]")  # ord < 32 except \t \n \f \r


def detect_kind(raw: bytes) -> str:
    """'html' when the bytes look like markup, else 'text' (decided by content, not name)."""
    head = raw[:4096].lstrip(codecs.BOM_UTF8)
    if _HTML_START.match(head) or len(_HTML_TAGS.findall(raw[:65536])) >= 3:
        return "html"
    return "text"


def _declared_html_charset(raw: bytes) -> str | None:
    match = _META_CHARSET.search(raw[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


def _canonical(charset: str | None) -> str | None:
    """Python's name for a declared text charset, or None for one it does not know as a text encoding
    (an unknown name, a NUL in it, 'undefined', or a bytes codec such as 'base64' or 'zlib')."""
    if not charset:
        return None
    try:
        info = codecs.lookup(charset.strip().strip("'\""))
    except (LookupError, ValueError):
        return None
    if not getattr(info, "_is_text_encoding", True) or info.name == "undefined":
        return None
    return info.name


def decode(raw: bytes, declared_charset: str | None = None, kind_hint: str | None = None) -> tuple[str, str, str]:
    """Return (text, kind, encoding) or raise InputError saying why the bytes are unusable (see ``decode_why``)."""
    text, kind, encoding, _ = decode_why(raw, declared_charset, kind_hint)
    return text, kind, encoding


def decode_why(
    raw: bytes, declared_charset: str | None = None, kind_hint: str | None = None
) -> tuple[str, str, str, str]:
    """Return (text, kind, encoding, why that encoding) or raise InputError saying why the bytes are unusable.

    The best evidence decides, as browsers do: a BOM, then the declared charsets (the HTTP
    header's, and an HTML page's ``<meta charset>``, which wins when the two disagree and it
    decodes cleanly: the page's author wrote it, a server's default header often did not), then
    detection (charset-normalizer) when what is declared does not decode cleanly (pages labelled
    UTF-8 holding windows-1252 bytes, which every browser renders). A body that is valid UTF-8
    with non-ASCII bytes is read as UTF-8 even when a single-byte charset is declared (UTF-8
    validity is near-proof). A decoding that reads as mojibake (``garbling``) is never used:
    when nothing else reads as text, the content is refused, never stored garbled.
    """
    if not raw or not raw.strip():
        raise InputError("empty content")
    if raw.startswith(_BINARY_MAGIC) or b"\x00" in raw[:8192] and not raw.startswith(_UTF16_BOMS):
        raise InputError("binary content (not text or HTML)")
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom) :].decode(codec, "strict")
            except UnicodeDecodeError:
                break  # a BOM followed by bytes of another charset: the declarations decide
            kind = kind_hint or detect_kind(text.encode("utf-8"))
            return _checked(text, kind), kind, codecs.lookup(codec).name, "byte order mark"
    kind = kind_hint or detect_kind(raw)
    header = _canonical(declared_charset)
    meta = _canonical(_declared_html_charset(raw)) if kind == "html" else None
    try:
        utf8 = raw.decode("utf-8", "strict")
    except UnicodeDecodeError as exc:
        utf8 = None
        utf8_error = exc
    declared = [c for c in dict.fromkeys((meta, header) if meta != header else (header,)) if c]
    if utf8 is not None and (
        not declared or "utf-8" in declared or (set(declared) <= _SINGLE_BYTE_CHARSETS and not raw.isascii())
    ):
        if not declared:
            why = "valid UTF-8 (nothing declared)"
        elif "utf-8" in declared:
            why = "<meta> charset" if meta == "utf-8" else "HTTP charset"
        else:
            why = f"valid UTF-8 (the declared {declared[0]} is not what it holds)"
        return _checked(utf8, kind), kind, "utf-8", why
    problems = []
    for charset in declared:
        if charset == "utf-8":
            problems.append(f"not valid UTF-8 (byte {utf8_error.start}), its declared charset")
            continue
        try:
            text = raw.decode(charset, "strict")
        except UnicodeError:  # UnicodeDecodeError, or a codec's own complaint (utf-16 with an odd length...)
            problems.append(f"cannot be decoded as its declared charset {charset}")
            continue
        garbled = garbling(text)
        if garbled is None:
            source = "<meta> charset" if charset == meta else "HTTP charset"
            return _checked(text, kind), kind, charset, source
        problems.append(f"garbled when decoded as its declared charset {charset}: {garbled}{_likely(raw, charset)}")
    if "utf-8" in declared and utf8 is None:
        replaced = raw.decode("utf-8", "replace")
        bad = replaced.count("\ufffd")
        if any(ord(ch) > 127 and ch != "\ufffd" for ch in replaced) and bad <= max(3, len(raw) // 1000):
            # mostly UTF-8 with a few stray bytes (a pasted windows-1252 quote): what a browser shows
            why = f"HTTP/<meta> charset UTF-8, {bad} invalid byte(s) replaced with U+FFFD as browsers do"
            return _checked(replaced, kind), kind, "utf-8", why
    if declared:
        found = _detected(raw)
        if found is not None:
            text, charset = found
            return _checked(text, kind), kind, charset, f"detected (declared {declared[0]} does not decode cleanly)"
    if problems:
        raise InputError(problems[-1] if len(problems) == 1 else f"{problems[0]}; {problems[1]}")
    where = utf8_error.start
    if where >= len(raw) - 3:
        raise InputError("truncated: the content ends inside a UTF-8 character")
    raise InputError(f"not valid UTF-8 (byte {where}) and no charset declared")


_ANY_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")  # C0 and C1: what no detected text holds
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _detected(raw: bytes) -> tuple[str, str] | None:
    """(text, charset) by detection (charset-normalizer, then this site's likely charsets), never mojibake."""
    candidates = ["cp1252", *_GUESSES]  # the usual mislabellings first: a Western page, this site's Cyrillic
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:200_000]).best()
        if best is not None and best.encoding:
            candidates.append(best.encoding)
    except Exception:  # noqa: BLE001 - detection is a best effort
        pass
    for name in dict.fromkeys(_canonical(c) for c in candidates):
        if name is None or name == "utf-8":
            continue
        try:
            text = raw.decode(name, "strict")
        except (UnicodeError, LookupError):
            continue
        if garbling(text) is None and not _ANY_CONTROLS.search(text[:65536]):
            return text, name
    return None


# Mojibake: text decoded with the wrong single-byte charset still decodes, but its words are not words.
_WORD = re.compile(r"[^\W\d_]{5,}")
_LATIN1_LETTERS = re.compile("^[\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]+$")  # À..ÿ without × ÷
_CYRILLIC_WORD = re.compile("^[\u0400-\u04ff]+$")
_MIXED_CASE = re.compile("[\u0430-\u045f][\u0400-\u042f]")  # a lowercase Cyrillic letter, then a capital
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
MOJIBAKE_MIN_WORDS = 3  # fewer garbled words than this is no evidence
MOJIBAKE_SHARE = 0.2  # of the words of 5+ letters
_GUESSES = ("cp1251", "koi8-r", "utf-8")  # what a garbled page of this site most likely is


def garbling(text: str) -> str | None:
    """Why ``text`` reads as mojibake (one clause), or None when it reads as text.

    Two signatures, each needing several words of 5+ letters and a fifth of them: words made
    only of Latin-1 letters À..ÿ ('Ïàðëàìåíòñêàÿ': cp1251 read as iso-8859-1 or windows-1252;
    no language writes whole words in accented letters), and Cyrillic words in upper case or
    with a capital after a lowercase letter ('пАРЛАМЕНТ': cp1251 and koi8-r read as each other,
    which swaps the case of every letter).
    """
    words = _WORD.findall(_TAGS.sub(" ", text[:65536]))
    if len(words) < MOJIBAKE_MIN_WORDS:
        return None
    latin1 = [w for w in words if _LATIN1_LETTERS.match(w)]
    if len(latin1) >= MOJIBAKE_MIN_WORDS and len(latin1) >= MOJIBAKE_SHARE * len(words):
        return f"words such as {latin1[0][:20]!r} are Latin-1 mojibake"
    cyrillic = [w for w in words if _CYRILLIC_WORD.match(w)]
    swapped = [w for w in cyrillic if w.isupper() or _MIXED_CASE.search(w)]
    if (
        len(swapped) >= MOJIBAKE_MIN_WORDS
        and len(swapped) > 0.5 * len(cyrillic)
        and len(cyrillic) >= MOJIBAKE_SHARE * len(words)
    ):
        return f"words such as {swapped[0][:20]!r} have the case of each letter swapped"
    return None


def _likely(raw: bytes, wrong: str) -> str:
    """' (it reads as windows-1251)' when another of the likely charsets decodes it as text, else ''."""
    for guess in _GUESSES:
        if guess == wrong:
            continue
        try:
            text = raw.decode(guess, "strict")
        except UnicodeDecodeError:
            continue
        if garbling(text) is None:
            return f" (it reads as {codecs.lookup(guess).name})"
    return ""


def _checked(text: str, kind: str) -> str:
    """Reject text that is mostly control characters.

    A page without ``</html>`` is not refused: many complete pages never close it, and whether a
    transfer was cut is known from its length, digest or data loss (the crawl, ``dedupe.warc``)."""
    sample = text[:8192]
    controls = len(_BINARY_CONTROLS.findall(sample))
    if controls > max(8, len(sample) // 50):
        raise InputError("binary content (too many control characters)")
    return text


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean_line(line: str) -> str:
    """Collapse whitespace and drop control characters (an archived ESC must never reach a terminal)."""
    return " ".join(_CONTROLS.sub(" ", line).split())


def parse_date_line(line: str) -> str | None:
    """ISO date when the whole line is a date ("4 June 2022", "02 December 2021", "4 июня 2022")."""
    line = line.strip()
    if len(line) > 40 or not _DATE_LINE.match(line):
        return None
    parsed = _site_date(line)
    if parsed is None:
        found = dateparser.parse(line, languages=["en", "ru"], settings=_DATEPARSER_SETTINGS)
        parsed = found.date() if found is not None else None
    if parsed is None or not (MIN_YEAR <= parsed.year <= MAX_YEAR):
        return None
    return parsed.isoformat()


def _site_date(line: str) -> date | None:
    """The date of a line in one of the site's own forms (as dateparser reads it), else None."""
    if match := _DAY_MONTH_YEAR.fullmatch(line):
        day, month, year = match.group(1), _MONTH_NUMBER.get(match.group(2).lower()), match.group(3)
    elif match := _MONTH_DAY_YEAR.fullmatch(line):
        day, month, year = match.group(2), _MONTH_NUMBER.get(match.group(1).lower()), match.group(3)
    elif match := _ISO_DATE.fullmatch(line):
        day, month, year = match.group(3), int(match.group(2)), match.group(1)
    else:
        return None
    if month is None:
        return None
    try:
        return date(int(year), month, int(day))
    except ValueError:
        return None  # "31 June 2022": dateparser decides


def detect_language(text: str) -> str:
    """'ru' when Cyrillic letters dominate, else 'en' (the site has no other languages)."""
    raw = text.encode("utf-8", "surrogatepass")  # counted as bytes: ~50x faster than per character
    cyrillic = len(raw) - len(raw.translate(None, _CYRILLIC_LEAD_BYTES))
    latin = len(raw) - len(raw.translate(None, _LATIN_BYTES))
    return "ru" if cyrillic > latin else "en"


LANDMARK_TAGS = {"header", "nav", "main", "aside", "footer", "section", "article", "form", "ul", "ol", "table", "dl"}


def html_lines(markup: str) -> list[tuple[str, int]]:
    """The page's visible text as lines, one per block-level element, in reading order.

    Each line carries the number of its nearest landmark container (header, nav, aside,
    a list...), so a block found by repetition can be split where the page's own structure
    changes (a nav menu directly above the delegation widget is another block).
    """
    try:
        root = lxml_html.document_fromstring(markup)
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"malformed HTML ({exc})") from None
    # iterwalk never visits comments, so text after one would be lost: "7 <!--x-->deputies"
    etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)
    lines: list[tuple[str, int]] = []
    buffer: list[str] = []
    landmarks = [0]
    opened = 0

    def flush() -> None:
        text = clean_line("".join(buffer))
        buffer.clear()
        if text:
            lines.append((text, landmarks[-1]))

    skipping = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in SKIP_TAGS or not tag:
                skipping += 1
                continue
            if skipping:
                continue
            if tag in BLOCK_TAGS or tag in LANDMARK_TAGS:
                flush()
            if tag in LANDMARK_TAGS:
                opened += 1
                landmarks.append(opened)
            if element.text:
                buffer.append(element.text)
        else:
            if tag in SKIP_TAGS or not tag:
                skipping -= 1
            elif not skipping and (tag in BLOCK_TAGS or tag in LANDMARK_TAGS):
                flush()
                if tag in LANDMARK_TAGS:
                    landmarks.pop()
            if not skipping and element.tail:
                buffer.append(element.tail)
    flush()
    return lines


_DATE_PARAMS = {"extensive_search": False, "original_date": True}


def _title_and_date(tree: lxml_html.HtmlElement) -> tuple[str | None, str | None, str | None]:
    """trafilatura's metadata title, date and URL (its ``extract_metadata`` steps for those only).

    ``bare_extraction(with_metadata=True)`` also looks for the author (a deep copy of the page
    and many XPath queries: the larger part of its cost), the site name, categories, tags and
    licence, none of which the archive keeps; none of those steps changes the title or the date.
    """
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception:  # as trafilatura: a broken JSON-LD block is ignored
        pass
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, None)
    published = find_date(tree, **_DATE_PARAMS, url=metadata.url)
    return _trimmed(metadata.title), _trimmed(published), metadata.url


def _trimmed(value: str | None) -> str | None:
    """trafilatura's ``Document.clean_and_trim`` for one field."""
    if not isinstance(value, str):
        return value
    if len(value) > 10000:
        value = value[:9999] + "…"
    return line_processing(unescape(value))


def _extract_article(markup: str) -> tuple[str | None, str | None, list[str]]:
    """trafilatura's title, publication date and body lines (date only when the page states it).

    The page is parsed once for both; the result is that of ``bare_extraction(markup,
    with_metadata=True, ...)``, whose title and date come from ``_title_and_date``.
    """
    tree = load_html(markup)
    if tree is None:
        return None, None, []
    try:
        title, published, url = _title_and_date(tree)
    except (TypeError, ValueError):  # bare_extraction gives up on these, metadata included
        return None, None, []
    doc = trafilatura.bare_extraction(
        tree,  # trafilatura copies a tree it is given
        url=url,
        with_metadata=False,
        include_comments=False,
        include_tables=False,
        include_images=False,
        deduplicate=False,
    )
    if doc is None:
        return None, None, []
    body = [clean_line(line) for line in (doc.text or "").split("\n")]
    return title or None, published or None, [line for line in body if line]


def analyse_html(markup: str, encoding: str) -> PageAnalysis:
    """Roles for an HTML page: trafilatura's article is body; the rest are candidates.

    The date is the one a line of the page states (trafilatura's guess must agree with it):
    a date is never taken from a URL or a copyright footer.
    """
    lines = html_lines(markup)
    if not lines:
        raise InputError("HTML without any text")
    title, published, body = _extract_article(markup)
    body_set = set(body)
    roled: list[tuple[str, Role, int]] = []
    page_date: str | None = None
    for line, section in lines:
        role: Role = "candidate"
        if title and line == clean_line(title):
            role = "title"
        elif line in body_set:
            role = "body"
        elif (when := parse_date_line(line)) is not None and (published is None or when == published):
            role, page_date = "date", when
        roled.append((line, role, section))
    structured = bool(body_set)
    text = "\n".join(line for line, _ in lines)
    return PageAnalysis(
        kind="html",
        encoding=encoding,
        text=text,
        language=detect_language(text),
        title=title,
        published=page_date,
        structured=structured,
        lines=roled,
    )


def analyse_text(text: str, encoding: str) -> PageAnalysis:
    """Roles for a plain-text snapshot: furniture, then title, date, title again, body.

    The first line that is wholly a date splits the page: the line before it is the title,
    a repeat of the title after it is dropped, what follows is body and what precedes the
    title is candidate furniture. Without a date line every line is a candidate and the
    title and date stay None (seed 000): nothing is invented.
    """
    lines = [clean_line(line) for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise InputError("empty content")
    date_at = next((i for i, line in enumerate(lines) if i > 0 and parse_date_line(line)), None)
    if date_at is None:
        roled: list[tuple[str, Role, int]] = [(line, "candidate", 0) for line in lines]
        return PageAnalysis("text", encoding, "\n".join(lines), detect_language(text), None, None, False, roled)
    title = lines[date_at - 1]
    roled = [(line, "candidate", 0) for line in lines[: date_at - 1]]
    roled += [(title, "title", 0), (lines[date_at], "date", 0)]
    rest = lines[date_at + 1 :]
    if rest and rest[0] == title:
        roled.append((rest.pop(0), "title", 0))
    roled += [(line, "body", 0) for line in rest]
    return PageAnalysis(
        "text", encoding, "\n".join(lines), detect_language(text), title, parse_date_line(lines[date_at]), True, roled
    )


def analyse(raw: bytes, declared_charset: str | None = None, kind_hint: str | None = None) -> PageAnalysis:
    """Decode and analyse one content; raises InputError for unusable input."""
    text, kind, encoding, why = decode_why(raw, declared_charset, kind_hint)
    page = analyse_html(text, encoding) if kind == "html" else analyse_text(text, encoding)
    page.encoding_evidence = why
    return page
