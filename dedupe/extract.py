"""Text -> lines with roles: trafilatura extraction, lines, dates and language (decoding: ``dedupe.decoding``).

Nothing here knows about other pages: deciding which lines are furniture needs repetition
across snapshots and happens in ``dedupe.blocks``.
"""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import dateparser
import trafilatura
import trafilatura.utils as trafilatura_utils
from htmldate import find_date
from lxml import etree
from lxml import html as lxml_html
from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
from trafilatura.utils import line_processing, load_html

from .decoding import decode_why
from .document import (
    EXTRACTOR_VERSION,  # noqa: F401 - kept importable from here
    InputError,
    PageAnalysis,
    Role,
)
from .language import detect_language

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


_XML_DECLARATION = re.compile(r"\A\s*<\?xml\b[^>]*\?>")
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


LANDMARK_TAGS = {"header", "nav", "main", "aside", "footer", "section", "article", "form", "ul", "ol", "table", "dl"}


# libxml2 stops a page at 256 levels of nesting (and a text run at 10 MB) unless asked for "huge" trees, and goes
# on without the rest: an old page's unclosed <span>s or <font>s (a few hundred of them) lost their article's end
# with no error. Both parses of a page (``html_lines`` and trafilatura's ``load_html``, whose module parser is
# replaced by the same one with ``huge_tree``) lift that to 2,048 levels; a page deeper still is refused
# (``_refuse_cut``), never stored cut. Any page within the old limits parses exactly as before.
_HUGE_TREE = {"huge_tree": True}
_LINES_PARSER = lxml_html.HTMLParser(**_HUGE_TREE)
trafilatura_utils.HTML_PARSER = lxml_html.HTMLParser(
    collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True, remove_pis=True, **_HUGE_TREE
)


def _refuse_cut(parser: lxml_html.HTMLParser) -> None:
    """InputError when the last parse stopped at one of libxml2's limits (the rest of the page would be lost)."""
    for entry in parser.error_log:
        if entry.type_name == "ERR_RESOURCE_LIMIT":
            limit = entry.message.split(", use XML_PARSE_HUGE")[0]  # libxml2's own advice is not the reader's
            raise InputError(f"the HTML parser stops inside this page ({limit}), so it is not stored cut")


def html_lines(markup: str) -> list[tuple[str, int]]:
    """The page's visible text as lines, one per block-level element, in reading order.

    Each line carries the number of its nearest landmark container (header, nav, aside,
    a list...), so a block found by repetition can be split where the page's own structure
    changes (a nav menu directly above the delegation widget is another block).
    """
    try:
        # lxml refuses a str that declares its encoding ("<?xml version='1.0' encoding='utf-8'?>", as XHTML
        # pages do): the text is decoded already, and an HTML parser ignores the declaration anyway
        root = lxml_html.document_fromstring(_XML_DECLARATION.sub("", markup, count=1), parser=_LINES_PARSER)
    except (etree.ParserError, ValueError) as exc:
        raise InputError(f"malformed HTML ({exc})") from None
    _refuse_cut(_LINES_PARSER)
    # iterwalk never visits comments, so text after one would be lost: "7 <!--x-->deputies"
    etree.strip_tags(root, etree.Comment, etree.ProcessingInstruction)
    walk = _LineWalk()
    for event, element in etree.iterwalk(root, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            walk.start(tag, element.text)
        else:
            walk.end(tag, element.tail)
    walk.flush()
    return walk.lines


class _LineWalk:
    """``html_lines``' state as it walks the tree: the text since the last block boundary, the landmark
    containers open around it, and how deep inside skipped elements (script, style...) it is."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, int]] = []
        self.buffer: list[str] = []
        self.landmarks = [0]  # the numbers of the open landmark containers (0: the page itself)
        self.opened = 0  # landmark containers met so far: each gets the next number
        self.skipping = 0

    def flush(self) -> None:
        """End the current line, if it holds any text."""
        text = clean_line("".join(self.buffer))
        self.buffer.clear()
        if text:
            self.lines.append((text, self.landmarks[-1]))

    def start(self, tag: str, text: str | None) -> None:
        if tag in SKIP_TAGS or not tag:
            self.skipping += 1
            return
        if self.skipping:
            return
        if tag in BLOCK_TAGS or tag in LANDMARK_TAGS:
            self.flush()
        if tag in LANDMARK_TAGS:
            self.opened += 1
            self.landmarks.append(self.opened)
        if text:
            self.buffer.append(text)

    def end(self, tag: str, tail: str | None) -> None:
        if tag in SKIP_TAGS or not tag:
            self.skipping -= 1
        elif not self.skipping and (tag in BLOCK_TAGS or tag in LANDMARK_TAGS):
            self.flush()
            if tag in LANDMARK_TAGS:
                self.landmarks.pop()
        if not self.skipping and tail:
            self.buffer.append(tail)


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


# How the body is asked of trafilatura (``bench.trafilatura_fast`` measures ``fast=True`` against it).
BODY_OPTIONS: dict[str, bool] = {
    "with_metadata": False,
    "include_comments": False,
    "include_tables": False,
    "include_images": False,
    "deduplicate": False,
}


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
    doc = trafilatura.bare_extraction(tree, url=url, **BODY_OPTIONS)  # trafilatura copies a tree it is given
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
