"""Search in word forms: Snowball stems for the index and the query, and snippets in the original text."""

from __future__ import annotations

import sqlite3

from dedupe.stemming import register_functions, snippet, stem_query, stem_text


def test_words_become_their_english_or_russian_stem() -> None:
    assert stem_text("Депутаты парламента; the deputies") == "депутат парламент the deputi"
    assert stem_text(None) is None


def test_a_query_keeps_fts5_syntax_with_its_words_stemmed() -> None:
    assert stem_query("депутат*") == '"депутат"*'
    assert stem_query('парламентов OR "Collective Security" NOT (peacekeeping)') == (
        '"парламент" OR "collect secur" NOT ( "peacekeep" )'
    )
    assert stem_query("") == ""


def test_the_snippet_marks_every_form_of_the_words_asked_for() -> None:
    text = "Депутаты Парламентской ассамблеи обсудили вопросы парламента."
    assert snippet(text, "парламент") == "Депутаты Парламентской ассамблеи обсудили вопросы [парламента]."
    assert snippet(text, "депутат*") == "[Депутаты] Парламентской ассамблеи обсудили вопросы парламента."


def test_the_functions_work_in_sql_over_an_fts5_table_of_stems() -> None:
    con = sqlite3.connect(":memory:")
    register_functions(con)
    con.execute("CREATE VIRTUAL TABLE t USING fts5(text)")
    con.execute("INSERT INTO t VALUES (pa_stem('Заседание депутатов парламента'))")
    found = [
        q
        for q in ("парламент", "парламентами", "депутат*", "депута*", "депутатский")
        if con.execute("SELECT count(*) FROM t WHERE t MATCH pa_stem_query(?)", [q]).fetchone()[0]
    ]
    assert found == ["парламент", "парламентами", "депутат*", "депута*"]


def test_the_c_stemmers_in_use_give_the_pure_python_snowball_stems() -> None:
    """The stemmed index is built by PyStemmer's C code (a dependency; 12x faster) through snowballstemmer.
    Its stems must be the ones snowballstemmer's own Python algorithms give, or an index built where one
    ran would not match queries stemmed where the other did: checked on every word of the real sites'
    saved pages and of the replica's texts (its words, names and block)."""
    import re
    from pathlib import Path

    import Stemmer
    from snowballstemmer import english_stemmer, russian_stemmer

    from dedupe import stemming

    assert isinstance(stemming._ENGLISH, Stemmer.Stemmer) and isinstance(stemming._RUSSIAN, Stemmer.Stemmer)
    root = Path(__file__).resolve().parents[3]
    # the replica's sources and data by their suffixes: a glob of "*.[pt][yx]*" also took the bytecode in
    # replica/__pycache__ (".pyc"), which exists once a test run's controller has compiled the project
    # (tests/conftest.py) or any interpreter wrote it, and failed the test with a UnicodeDecodeError
    replica = [path for path in (root / "replica").rglob("*") if path.suffix in (".py", ".txt") and path.is_file()]
    sources = [*(root / "tests/fixtures/site").glob("*.html"), *replica]
    words = {w.lower().replace("ё", "е") for path in sources for w in re.findall(r"\w+", path.read_text("utf-8"))}
    python = {"en": english_stemmer.EnglishStemmer(), "ru": russian_stemmer.RussianStemmer()}
    assert len(words) > 1000 and any(stemming.CYRILLIC.search(w) for w in words)
    for word in sorted(words):
        expected = python["ru" if stemming.CYRILLIC.search(word) else "en"].stemWord(word)
        assert stemming.stem_word(word) == expected, word


def test_pasted_text_is_a_query_fts5_reads_meaning_what_was_typed() -> None:
    """FTS5 refuses a phrase beside a parenthesis, two operators in a row, a leading operator and '( )': text pasted
    into the search box got an error instead of results. Each becomes the query it means."""
    import pytest

    from dedupe.stemming import unreadable

    con = sqlite3.connect(":memory:")
    register_functions(con)
    con.execute("CREATE VIRTUAL TABLE t USING fts5(text)")
    con.execute("INSERT INTO t VALUES (pa_stem('A script: alert(x) by the deputies'))")
    expected = {
        '<script>alert("X")</script>': '"script alert" AND ( "x" ) AND "script"',
        "f(x) = 2": '"f" AND ( "x" ) AND "2"',
        "deputies AND NOT script": '"deputi" NOT "script"',  # the later of two operators
        "OR deputies": '"deputi"',
        "(alert) (deputies)": '( "alert" ) AND ( "deputi" )',
        "deputies ( ) script": '"deputi" "script"',
        ") script (": '"script"',
        "((script": '( ( "script" ) )',
    }
    found = {  # what each finds in 'A script: alert(x) by the deputies'
        '<script>alert("X")</script>': 1,
        "f(x) = 2": 0,
        "deputies AND NOT script": 0,
        "OR deputies": 1,
        "(alert) (deputies)": 1,
        "deputies ( ) script": 1,
        ") script (": 1,
        "((script": 1,
    }
    for typed, query in expected.items():
        assert stem_query(typed) == query
        assert unreadable(typed) is None
        count = con.execute("SELECT count(*) FROM t WHERE t MATCH pa_stem_query(?)", [typed]).fetchone()[0]
        assert count == found[typed], typed
    assert con.execute("SELECT count(*) FROM t WHERE t MATCH pa_stem_query(?)", ["<script>alert(x)"]).fetchone()[0]
    # a NOT with nothing before it, or beside another operator: any reading could search for what was excluded
    with pytest.raises(ValueError, match="NOT needs words before it"):
        stem_query("NOT deputies")
    assert unreadable("a (NOT deputies)").startswith("NOT needs words before it in the same parentheses (a NOT b)")
    for typed in ("a NOT AND b", "a NOT OR b", "a OR NOT b", "a NOT NOT b"):
        assert unreadable(typed).startswith(f"{typed[2:-2]}: two operators in a row"), typed
    assert stem_query("a OR AND b") == '"a" AND "b"'  # no NOT in it: the later one
