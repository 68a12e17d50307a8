"""A search of 20,000 words is read as its first MAX_QUERY_WORDS: FTS5's work on ORed terms grows faster
than their number, in C, where Datasette's time limit cannot stop it (issue 20, item 4: 77 s)."""

from __future__ import annotations

import random
import sqlite3
import time

from dedupe.stemming import MAX_QUERY_WORDS, WORD, register_functions, snippet, stem_query


def test_a_long_query_keeps_its_first_words_and_stays_valid_fts5() -> None:
    words = [f"word{i}" for i in range(20_000)]
    for query in (" ".join(words), " OR ".join(words), '"' + " ".join(words) + '"', "(a OR (" + " ".join(words)):
        stemmed = stem_query(query)
        assert 0 < len([w for w in WORD.findall(stemmed) if w not in ("OR", "AND", "NOT")]) <= MAX_QUERY_WORDS
        con = sqlite3.connect(":memory:")
        con.execute("CREATE VIRTUAL TABLE t USING fts5(text)")
        con.execute("SELECT count(*) FROM t WHERE t MATCH ?", [stemmed]).fetchone()  # no syntax error
    assert stem_query("a OR b OR") == '"a" OR "b"'  # nothing dangling once cut
    assert snippet("the word0 and word40000", " ".join(words)) == "the [word0] and word40000"


def _timed(con: sqlite3.Connection, query: str) -> float:
    start = time.perf_counter()
    con.execute(
        "SELECT count(*) FROM (SELECT rowid FROM t WHERE t MATCH pa_stem_query(?) ORDER BY rank LIMIT 50)", [query]
    ).fetchone()
    return time.perf_counter() - start


def test_the_search_of_thousands_of_words_costs_what_a_short_one_does() -> None:
    rng = random.Random(1)
    vocabulary = [f"word{i}" for i in range(3000)]
    con = sqlite3.connect(":memory:")
    register_functions(con)
    con.execute("CREATE VIRTUAL TABLE t USING fts5(text)")
    for _ in range(300):
        con.execute("INSERT INTO t VALUES (pa_stem(?))", [" ".join(rng.choices(vocabulary, k=300))])
    short = min(_timed(con, " OR ".join(rng.choices(vocabulary, k=10))) for _ in range(3))
    long = _timed(con, " OR ".join(rng.choices(vocabulary, k=8000)))  # unbounded: ~4 s here, 25 s at 20,000
    assert long < max(0.3, 40 * short), (long, short)
