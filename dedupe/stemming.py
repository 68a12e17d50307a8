"""Full-text search in word forms: English and Russian Snowball stems, as SQL functions.

The stemmed index (``article_versions_stemmed``, migrations m008 and m013) indexes every article
version's title and text as stems, kept in step by triggers that call ``pa_stem(text)``; it keeps no
copy of them: its content is the view ``article_versions_stems``, which stems on demand, and removing a
row needs the stems it was indexed with, so ``pa_stem`` must stay deterministic (a change of stemmers,
``STEMMERS``, needs the index rebuilt: ``INSERT INTO article_versions_stemmed(article_versions_stemmed)
VALUES ('rebuild')``). A query's words are
stemmed the same way by ``pa_stem_query(q)``, keeping FTS5's syntax (``"a phrase"``, ``prefix*``,
``OR``, ``AND``, ``NOT``, parentheses), so ``парламент`` finds "парламента" and ``депутат*``
finds "депутатов". ``pa_snippet(text, q)`` shows where the stems match in the original text.
``register_functions`` adds the three to a connection: every connection that writes
article_versions (the triggers need ``pa_stem``) or runs the search query must have them.
"""

from __future__ import annotations

import re
import sqlite3
import time
from functools import lru_cache

import snowballstemmer

STEMMERS = "snowball english+russian"  # what built the stemmed index
WORD = re.compile(r"\w+")
CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_ENGLISH = snowballstemmer.stemmer("english")
_RUSSIAN = snowballstemmer.stemmer("russian")
# a query: a quoted phrase, an operator or parenthesis, or a word with an optional trailing '*'
QUERY_TOKEN = re.compile(r'"[^"]*"?|\(|\)|[^\s()"]+')
OPERATORS = {"OR", "AND", "NOT"}
SNIPPET_WORDS = 12
_stemming_cpu = [0.0]  # process CPU seconds spent in stem_text: the stemmed index's share of a refresh


@lru_cache(maxsize=200_000)
def stem_word(word: str) -> str:
    """The Snowball stem of one word: Russian for Cyrillic, English otherwise; lower-cased, 'ё' as 'е'."""
    word = word.lower().replace("ё", "е")
    return (_RUSSIAN if CYRILLIC.search(word) else _ENGLISH).stemWord(word)


def stem_text(text: str | None) -> str | None:
    """Every word of ``text`` as its stem, separated by spaces (None stays None)."""
    if text is None:
        return None
    started = time.process_time()
    stems = " ".join(map(stem_word, WORD.findall(text)))
    _stemming_cpu[0] += time.process_time() - started
    return stems


def stemming_cpu_seconds() -> float:
    """Process CPU seconds this process has spent stemming texts (for the benchmark's "index" stage)."""
    return _stemming_cpu[0]


MAX_QUERY_WORDS = 32  # words read from a query (a phrase counts each of its words); the rest is ignored


def query_tokens(query: str | None) -> list[str]:
    """The query's tokens up to its first MAX_QUERY_WORDS words, still valid FTS5 once stemmed: a phrase
    that reaches the limit keeps its first words, no operator ends it and open parentheses are closed.

    Why: FTS5's work grows faster than the number of terms (20,000 words ORed: 77 s on one GET, in C,
    where Datasette's time limit cannot stop it), and no one types more than a few words."""
    out: list[str] = []
    room, depth = MAX_QUERY_WORDS, 0
    for token in QUERY_TOKEN.finditer(query or ""):
        token = token.group()
        if token in OPERATORS or token in ("(", ")"):
            depth += {"(": 1, ")": -1}.get(token, 0)
            out.append(token)
            continue
        words = WORD.findall(token)
        if not words:
            continue
        if len(words) > room:  # only a phrase has more than one word
            token = '"' + " ".join(words[:room]) + '"'
            words = words[:room]
        out.append(token)
        room -= len(words)
        if room <= 0:
            break
    while out and (out[-1] in OPERATORS or out[-1] == "("):
        depth -= out.pop() == "("
    return out + [")"] * max(0, depth)


def stem_query(query: str | None) -> str:
    """An FTS5 query with each word stemmed: phrases stay phrases, ``word*`` a prefix query; at most
    MAX_QUERY_WORDS words (``query_tokens``)."""
    if (query or "").count('"') % 2:
        raise ValueError("a quote is not closed")
    parts = []
    for token in query_tokens(query):
        if token in ("(", ")") or token in OPERATORS:
            parts.append(token)
        elif token.startswith('"'):
            words = WORD.findall(token)
            if words:
                parts.append('"' + " ".join(stem_word(w) for w in words) + '"')
        else:
            prefix = token.endswith("*")
            words = [stem_word(w) for w in WORD.findall(token)]
            if not words:
                continue
            term = '"' + " ".join(words) + '"'  # quoted: a stem is never read as FTS5 syntax
            parts.append(term + ("*" if prefix else ""))
    return " ".join(_well_formed(parts))


def _close_group(out: list[str]) -> None:
    """End the innermost open parenthesis of ``out``: without a dangling operator, and gone if it holds nothing."""
    while out[-1] in OPERATORS:
        out.pop()
    if out[-1] != "(":
        out.append(")")
        return
    out.pop()
    if out and out[-1] in OPERATORS:  # "a AND ( )": the operator lost its right side
        out.pop()


def _one_operator(first: str, second: str) -> str:
    """The one operator two in a row mean: ``a AND NOT b`` is ``a NOT b``, ``a OR AND b`` (a typo) the later;
    any other pair with a NOT (``a NOT OR b``, ``a OR NOT b``, ``a NOT NOT b``) has no meaning FTS5 could give,
    and either choice would search for what was excluded: ValueError."""
    if "NOT" not in (first, second) or (first, second) == ("AND", "NOT"):
        return second
    raise ValueError(f"{first} {second}: two operators in a row (a NOT b, a OR b)")


def _well_formed(parts: list[str]) -> list[str]:
    """The stemmed query as FTS5's grammar takes it, meaning what was typed.

    Why: FTS5 ANDs adjacent phrases but refuses a phrase beside a parenthesis (``"a" ( "b" )``), an operator with
    nothing on its left, two operators in a row or ``( )``; text pasted into the box (``<script>alert("X")</script>``,
    ``f(x) = 2``) was one of those and got an error instead of results. So: an AND where a phrase meets a
    parenthesis, one operator for two in a row (``_one_operator``), a leading AND or OR and empty or unopened
    parentheses dropped. A NOT with nothing before it cannot be kept (FTS5 has no "everything but")
    and is not dropped either, which would search for what was excluded: ValueError."""
    out: list[str] = []
    depth = 0
    for part in parts:
        operand_before = bool(out) and (out[-1] == ")" or out[-1] not in OPERATORS and out[-1] != "(")
        if part == "(":
            out += ["AND", "("] if operand_before else ["("]
            depth += 1
        elif part == ")":
            if depth:
                _close_group(out)
                depth -= 1
        elif part in OPERATORS:
            if operand_before:
                out.append(part)
            elif out and out[-1] in OPERATORS:
                out[-1] = _one_operator(out[-1], part)
            elif part == "NOT":
                where = " in the same parentheses" if out else ""
                raise ValueError(f"NOT needs words before it{where} (a NOT b)")
        else:
            out += ["AND", part] if out and out[-1] == ")" else [part]
    while out and (out[-1] in OPERATORS or out[-1] == "("):
        depth -= out.pop() == "("
    return out + [")"] * depth


SEARCH_FORMS = 'words (any of their forms), "a phrase", prefix*, OR, NOT and parentheses'


def unreadable(query: str | None) -> str | None:
    """Why the full-text index cannot read ``query``, as words ('a quote is not closed'); None when it can.

    Why here: SQLite's own words for it ("fts5: syntax error near ..." or, from the stemming function, "user-defined
    function raised exception") help no reader, and the search command and the search page must say the same.
    FTS5 itself decides, on an empty in-memory index: no archive is read."""
    try:
        stemmed = stem_query(query)
    except ValueError as exc:
        return f"{exc}; the index reads {SEARCH_FORMS}"
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
        conn.execute("SELECT rowid FROM probe WHERE probe MATCH ?", [stemmed]).fetchall()
    except sqlite3.OperationalError:
        return f"the index reads {SEARCH_FORMS}"
    finally:
        conn.close()
    return None


def _query_stems(query: str) -> tuple[set[str], tuple[str, ...]]:
    """The stems a query asks for, and its prefixes (from ``word*``)."""
    stems: set[str] = set()
    prefixes: list[str] = []
    for token in query_tokens(query):
        if token in OPERATORS or token in ("(", ")"):
            continue
        words = [stem_word(w) for w in WORD.findall(token)]
        if token.endswith("*") and words:
            prefixes.append(words[-1])
            words = words[:-1]
        stems.update(words)
    return stems, tuple(prefixes)


def snippet(text: str | None, query: str | None, words: int = SNIPPET_WORDS) -> str:
    """About ``words`` words of ``text`` around the first match of ``query``, matches in [brackets]."""
    if not text:
        return ""
    stems, prefixes = _query_stems(query or "")
    found = [
        (m.start(), m.end())
        for m in WORD.finditer(text)
        if (s := stem_word(m.group())) in stems or (prefixes and s.startswith(prefixes))
    ]
    spans = [m.span() for m in WORD.finditer(text)]
    if not spans:
        return ""
    first = next((i for i, span in enumerate(spans) if found and span == found[0]), 0)
    start = max(0, min(first - words // 3, len(spans) - words))
    chosen = spans[start : start + words]
    marked, position = [], chosen[0][0]
    hits = set(found)
    for begin, end in chosen:
        marked.append(text[position:begin])
        word = text[begin:end]
        marked.append(f"[{word}]" if (begin, end) in hits else word)
        position = end
    if start + words >= len(spans):
        marked.append(text[position:])  # the end of the text: its last punctuation too
    out = " ".join("".join(marked).split())
    return ("…" if start > 0 else "") + out + ("…" if start + words < len(spans) else "")


def _stem_query_sql(query: str | None) -> str:
    """``stem_query`` as SQL calls it: a query it cannot read becomes one FTS5 refuses (an unclosed quote), so
    the statement fails with FTS5's error, as for any other unreadable search, and no Python traceback reaches a
    server's log for a reader's typo (``unreadable`` says why in words)."""
    try:
        return stem_query(query)
    except ValueError:
        return '"'


def register_functions(conn: sqlite3.Connection) -> None:
    """Add pa_stem(text), pa_stem_query(q) and pa_snippet(text, q) to ``conn``."""
    conn.create_function("pa_stem", 1, stem_text, deterministic=True)
    conn.create_function("pa_stem_query", 1, _stem_query_sql, deterministic=True)
    conn.create_function("pa_snippet", 2, snippet, deterministic=True)
