"""The language of a text, as the site has them: English or Russian.

Apart from ``dedupe.extract`` (which loads trafilatura and htmldate) so that the engine's record stage, which
names a block version's language, does not load the extractors in a writer that only stores pages seen again.
"""

from __future__ import annotations

_LATIN_BYTES = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))
_CYRILLIC_LEAD_BYTES = b"\xd0\xd1\xd2\xd3"  # UTF-8 lead bytes of exactly U+0400..U+04FF


def detect_language(text: str) -> str:
    """'ru' when Cyrillic letters dominate, else 'en' (the site has no other languages)."""
    raw = text.encode("utf-8", "surrogatepass")  # counted as bytes: ~50x faster than per character
    cyrillic = len(raw) - len(raw.translate(None, _CYRILLIC_LEAD_BYTES))
    latin = len(raw) - len(raw.translate(None, _LATIN_BYTES))
    return "ru" if cyrillic > latin else "en"
