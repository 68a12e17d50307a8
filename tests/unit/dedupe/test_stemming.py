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
