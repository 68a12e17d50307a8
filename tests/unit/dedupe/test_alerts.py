"""dedupe.analysis.alerts: what changed between two states of an archive, and the one message about it."""

from __future__ import annotations

from dedupe.analysis import alerts

KEY = ("en", "Kyrgyzstan", "seats_total")
CONFLICT = {"language": "en", "delegation": "Kyrgyzstan", "field": "seats_total"}
CONFLICT["values"] = [{"value": "7"}, {"value": "6"}]


def state(value: str, conflict: bool = False, versions: tuple[str, ...] = ("bv-1",)) -> alerts.FactState:
    return alerts.FactState(
        facts={KEY: value, ("en", "Belarus", "website.house"): "http://house.gov.by/"},
        fact_versions={KEY: versions[-1]},
        conflicts={
            KEY: {
                "language": "en",
                "delegation": "Kyrgyzstan",
                "field": "seats_total",
                "values": [{"value": "7"}, {"value": "6"}],
            }
        }
        if conflict
        else {},
        block_versions={
            v: {"id": v, "block_id": 1, "version": i + 1, "block": "Delegation", "changes": []}
            for i, v in enumerate(versions)
        },
    )


def test_nothing_changed_means_no_message() -> None:
    changes = alerts.changes_between(state("7"), state("7"))
    assert not changes and alerts.message(changes) is None
    assert alerts.notify(["json://127.0.0.1:9/x"], state("7"), state("7")) == {
        "sent": False,
        "title": None,
        "errors": [],
    }


def test_a_changed_fact_and_a_new_conflict_make_one_message_with_links() -> None:
    changes = alerts.changes_between(state("7"), state("6", conflict=True, versions=("bv-1", "bv-2")))
    assert [(c["field"], c["old"], c["new"]) for c in changes.changed_facts] == [("seats_total", "7", "6")]
    assert [alerts.conflict_values(c) for c in changes.new_conflicts] == [["7", "6"]]
    assert [v["id"] for v in changes.new_block_versions] == ["bv-2"]
    msg = alerts.message(changes, "crawl run 3", "http://127.0.0.1:8001/", "archive")
    assert msg.title.startswith("pa-archive crawl run 3: Kyrgyzstan seats_total 7 → 6")
    assert "http://127.0.0.1:8001/-/diff?a=bv-1&b=bv-2&database=archive" in msg.body
    assert msg.body.splitlines()[-1] == (  # the final links name the database too
        "All changes: http://127.0.0.1:8001/archive/fact_changes · conflicts: "
        "http://127.0.0.1:8001/-/conflicts?database=archive"
    )


def test_sections_without_a_title_of_their_own_are_counted_in_it_and_long_lists_cut() -> None:
    variants = [{"id": f"bv-{n}", "block_id": 1, "version": 1, "block": "Delegation", "changes": []} for n in range(22)]
    removed = [{"title": "", "url": "https://pacsto.org/events/gone"}]
    msg = alerts.message(alerts.FactChanges(new_block_versions=variants, removed_articles=removed))
    assert msg.title == "pa-archive: 22 new block variant(s); 1 article(s) removed"
    assert "  ... and 2 more new block variants" in msg.body.splitlines()
    assert "  (untitled) [https://pacsto.org/events/gone]" in msg.body.splitlines()
    assert "http" not in msg.title and "/-/diff" not in msg.body  # no Datasette address: no links
    # a new variant is counted in the title only when nothing before it is named there
    fact = {"delegation": "Russia", "field": "seats_total", "language": "en", "old": "22", "new": ""}
    fact |= {"old_block_version": "bv-1", "new_block_version": "bv-2"}
    msg = alerts.message(alerts.FactChanges(changed_facts=[fact], new_block_versions=variants[:1]))
    assert msg.title == "pa-archive: Russia seats_total 22 → (empty)"


def test_differences_of_the_sites_by_people_or_by_value() -> None:
    people = {"delegation": "Belarus", "field": "members", "only_en": ["Ivan Petrov"], "only_ru": []}
    seats = {"delegation": "Belarus", "field": "seats_total", "en": [], "ru": [11]}
    msg = alerts.message(alerts.FactChanges(parity_differences=[people, seats]), datasette_url="http://127.0.0.1:8001")
    lines = msg.body.splitlines()
    assert "  Belarus members: only en: Ivan Petrov; only ru: -" in lines
    assert "  Belarus seats_total: en (not stated) vs ru 11" in lines
    assert msg.title == "pa-archive: en/ru differ on Belarus members; en/ru differ on Belarus seats_total"


def test_facts_stated_for_the_first_time_are_counted_not_listed() -> None:
    changes = alerts.changes_between(alerts.FactState(), state("7"))
    assert changes.first_stated == 2 and changes.changed_facts == []


def test_a_failed_delivery_is_one_sentence_without_secrets() -> None:
    msg = alerts.Message("t", "b")
    (error,) = alerts.deliver(["json://user:secret@127.0.0.1:9/hook"], msg)
    assert error.startswith("notification to json://127.0.0.1:9/… failed") and "secret" not in error
    (error,) = alerts.deliver(["nonsense://x"], msg)
    assert "not an Apprise URL" in error


def test_a_failed_delivery_says_why_in_apprises_words() -> None:
    """'it was not delivered' gave an operator nothing to act on: the sentence carries what Apprise warned of
    (a connection refused here; an HTTP status from a server that answers), its secrets kept out."""
    import socket

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (error,) = alerts.deliver([f"json://user:s3cret@127.0.0.1:{port}/hook"], alerts.Message("t", "b"))
    assert "Connection error" in error and "s3cret" not in error and "not delivered" not in error, error
