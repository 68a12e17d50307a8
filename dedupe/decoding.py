"""Bytes -> text: whether content is HTML or plain text, and which charset reads it.

Why a module of its own: archived pages are hostile input. Their declared charsets are often
wrong (a server's default header, a page labelled UTF-8 holding windows-1252 bytes), so the best
evidence decides, as browsers do, and a decoding that reads as mojibake is never stored
(``decode_why`` says which evidence won, and why the bytes are refused when nothing reads them).
"""

from __future__ import annotations

import codecs
import re

import webencodings

from .document import InputError

_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|section|header)\b",
    re.IGNORECASE | re.DOTALL,
)
_HTML_TAGS = re.compile(rb"</(?:p|div|body|html|article|section|span|a|li|h[1-6])>", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"\x7fELF")
_SINGLE_BYTE_CHARSETS = {"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15", "cp1251", "koi8-r", "cp866"}

_BINARY_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f]")  # ord < 32 except \t \n \f \r
# the same as bytes, but ESC (ISO-2022-JP switches with it), deleted by ``bytes.translate`` to count them: 6 us
# for a page's first 8 KB, against 37 us for a regex's findall (it runs on every page)
_BINARY_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\x0c\r\x1b")
_STRAY_NULS = 8  # lone NUL bytes in a page's first 8 KB that are typos, not binary content (read as U+FFFD)


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
    (an unknown name, a NUL in it, 'undefined', or a bytes codec such as 'base64' or 'zlib') or that no browser
    decodes a page in (a label outside the WHATWG Encoding Standard's, e.g. UTF-7, whose '+ADw-' is a '<')."""
    if not charset:
        return None
    label = charset.strip().strip("'\"")
    if webencodings.lookup(label) is None:
        return None
    try:
        info = codecs.lookup(label)
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
    _refuse_unusable(raw)
    found = _by_byte_order_mark(raw, kind_hint)
    if found is not None:
        return found
    kind = kind_hint or detect_kind(raw)
    meta = _canonical(_declared_html_charset(raw)) if kind == "html" else None
    declared = _Declared(_canonical(declared_charset), meta)
    try:
        utf8: str | None = raw.decode("utf-8", "strict")
        utf8_error = None
    except UnicodeDecodeError as exc:
        utf8, utf8_error = None, exc
    if utf8 is not None and declared.allows_utf8(raw):
        return _checked(utf8, kind), kind, "utf-8", declared.why_utf8()
    found, problems = _by_declared_charsets(raw, kind, declared, utf8_error)
    if found is None and "utf-8" in declared.charsets and utf8 is None:
        found = _mostly_utf8(raw, kind)
    if found is None and (declared.charsets or (utf8_error is not None and not _damaged_utf8(raw))):
        found = _by_detection(raw, kind, declared)  # nothing declared (or nothing usable): browsers guess too
    if found is not None:
        return found
    raise _refusal(problems, utf8_error, len(raw))


Decoded = tuple[str, str, str, str]  # text, kind, encoding, why that encoding


def _refuse_unusable(raw: bytes) -> None:
    """Empty or binary content is refused before any charset is tried."""
    if not raw or not raw.strip():
        raise InputError("empty content")
    if raw.startswith(_UTF16_BOMS):
        return
    head = raw[:8192]
    stray_nuls = head.count(b"\x00") <= _STRAY_NULS and b"\x00\x00" not in head  # a typo's, each on its own
    controls = len(head) - len(head.translate(None, _BINARY_CONTROL_BYTES))
    if raw.startswith(_BINARY_MAGIC) or not stray_nuls or controls > max(8, len(head) // 50):
        raise InputError("binary content (not text or HTML)")


def _by_byte_order_mark(raw: bytes, kind_hint: str | None) -> Decoded | None:
    """A BOM's charset, when the bytes after it decode in it (otherwise the declarations decide)."""
    for bom, codec in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw[len(bom) :].decode(codec, "strict")
            except UnicodeDecodeError:
                return None
            kind = kind_hint or detect_kind(text.encode("utf-8"))
            return _checked(text, kind), kind, codecs.lookup(codec).name, "byte order mark"
    return None


class _Declared:
    """The charsets a page declares: its ``<meta>`` first (it wins when the two disagree), then HTTP's."""

    def __init__(self, header: str | None, meta: str | None) -> None:
        self.header, self.meta = header, meta
        self.charsets = [c for c in dict.fromkeys((meta, header) if meta != header else (header,)) if c]

    def allows_utf8(self, raw: bytes) -> bool:
        """Valid UTF-8 is read as UTF-8 when nothing else is declared, or only single-byte charsets that
        its non-ASCII bytes cannot be (UTF-8 validity is near-proof)."""
        declared = self.charsets
        return not declared or "utf-8" in declared or (set(declared) <= _SINGLE_BYTE_CHARSETS and not raw.isascii())

    def why_utf8(self) -> str:
        if not self.charsets:
            return "valid UTF-8 (nothing declared)"
        if "utf-8" in self.charsets:
            return "<meta> charset" if self.meta == "utf-8" else "HTTP charset"
        return f"valid UTF-8 (the declared {self.charsets[0]} is not what it holds)"


def _by_declared_charsets(
    raw: bytes, kind: str, declared: _Declared, utf8_error: UnicodeDecodeError | None
) -> tuple[Decoded | None, list[str]]:
    """The first declared charset that decodes the bytes into text that is not mojibake; else why each failed."""
    problems = []
    for charset in declared.charsets:
        if charset == "utf-8":
            start = utf8_error.start if utf8_error is not None else 0
            problems.append(f"not valid UTF-8 (byte {start}), its declared charset")
            continue
        try:
            text = raw.decode(charset, "strict")
        except UnicodeError:  # UnicodeDecodeError, or a codec's own complaint (utf-16 with an odd length...)
            problems.append(f"cannot be decoded as its declared charset {charset}")
            continue
        garbled = garbling(text)
        if garbled is None:
            source = "<meta> charset" if charset == declared.meta else "HTTP charset"
            return (_checked(text, kind), kind, charset, source), problems
        problems.append(f"garbled when decoded as its declared charset {charset}: {garbled}{_likely(raw, charset)}")
    return None, problems


def _mostly_utf8(raw: bytes, kind: str) -> Decoded | None:
    """Declared UTF-8 with a few stray bytes (a pasted windows-1252 quote): replaced, as a browser shows it."""
    replaced = raw.decode("utf-8", "replace")
    bad = replaced.count("\ufffd")
    if any(ord(ch) > 127 and ch != "\ufffd" for ch in replaced) and bad <= max(3, len(raw) // 1000):
        why = f"HTTP/<meta> charset UTF-8, {bad} invalid byte(s) replaced with U+FFFD as browsers do"
        return _checked(replaced, kind), kind, "utf-8", why
    return None


def _damaged_utf8(raw: bytes) -> bool:
    """UTF-8 with a few bad bytes (cut short, or a stray byte): most of its non-ASCII characters decode. Refused
    when nothing is declared, rather than read as a single-byte charset, which would make mojibake of the rest."""
    replaced = raw[:65536].decode("utf-8", "replace")
    bad = replaced.count("\ufffd")
    non_ascii = len(replaced) - len(replaced.encode("ascii", "ignore"))
    return non_ascii - bad >= bad


def _by_detection(raw: bytes, kind: str, declared: _Declared) -> Decoded | None:
    """A detected charset, when what is declared does not decode cleanly."""
    found = _detected(raw)
    if found is None:
        return None
    text, charset = found
    why = (
        f"declared {declared.charsets[0]} does not decode cleanly"
        if declared.charsets
        else "no usable charset declared"
    )
    return _checked(text, kind), kind, charset, f"detected ({why})"


def _refusal(problems: list[str], utf8_error: UnicodeDecodeError | None, size: int) -> InputError:
    """Why nothing read the bytes as text: the declared charsets' problems, else where UTF-8 failed."""
    if problems:
        return InputError(problems[-1] if len(problems) == 1 else f"{problems[0]}; {problems[1]}")
    where = utf8_error.start if utf8_error is not None else 0
    if where >= size - 3:
        return InputError("truncated: the content ends inside a UTF-8 character")
    return InputError(f"not valid UTF-8 (byte {where}) and no charset declared")


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
    readable: list[tuple[int, int, str]] = []  # (mojibake words, order, charset): no text held (a page is 16 MB)
    for order, name in enumerate(dict.fromkeys(_canonical(c) for c in candidates)):
        if name is None or name == "utf-8":
            continue
        try:
            text = raw.decode(name, "strict")
        except (UnicodeError, LookupError):
            continue
        if garbling(text) is None and not _ANY_CONTROLS.search(text[:65536]):
            readable.append((_mojibake_words(text), order, name))
    if not readable:
        return None
    _, _, name = min(readable)  # a short page is too short for ``garbling``: the fewest telltale words win
    return raw.decode(name, "strict"), name


_LETTERS = re.compile(r"[^\W\d_]{2,}")


def _mojibake_words(text: str) -> int:
    """Words (2+ letters) that only a wrong single-byte charset makes: all in Latin-1's accented letters
    ('Ñîâåò', cp1251 read as cp1252), or Cyrillic with a capital after a lowercase letter ('сОВЕТ': koi8-r and
    cp1251 read as each other). ``garbling`` needs several longer words before it calls a text mojibake; this
    count only ranks the charsets that read a page when nothing declared decodes it."""
    words = _LETTERS.findall(_TAGS.sub(" ", text[:65536]))
    return sum(1 for w in words if _LATIN1_LETTERS.match(w) or (_CYRILLIC_WORD.match(w) and _MIXED_CASE.search(w)))


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
    transfer was cut is known from its length, digest or data loss (the crawl, ``dedupe.webarchive.warc``)."""
    sample = text[:8192]
    controls = len(_BINARY_CONTROLS.findall(sample))
    if controls > max(8, len(sample) // 50):
        raise InputError("binary content (too many control characters)")
    return text.replace("\x00", "\ufffd")  # as an HTML parser reads a NUL (lxml refuses one)
