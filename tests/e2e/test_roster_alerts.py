"""A crawl of both sites that finds a roster change and a new English/Russian difference sends them in its
one alert (a JSON webhook on 127.0.0.1; the receiver and the replicas are stopped by their fixtures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from replica import ReplicaServer

from .test_alerts import FAST, Receiver, pa_archive, receiver  # noqa: F401 - the fixture is used by name

pytestmark = pytest.mark.e2e


def crawl_both(db: Path, en: str, ru: str, *extra: str) -> None:
    args = ["crawl", "--db", str(db), "--json", "--no-progress", "--start-url", f"{en}/events"]
    args += ["--start-url", f"{ru}/events", *extra]
    for setting in FAST:
        args += ["-s", setting]
    done = pa_archive(*args)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_crawl_alerts_on_who_left_and_on_the_sites_disagreeing(tmp_path: Path, receiver: Receiver) -> None:  # noqa: F811
    db = tmp_path / "archive.db"
    with ReplicaServer(epoch=1, lang="en") as en, ReplicaServer(epoch=1, lang="ru") as ru:
        crawl_both(db, en.url, ru.url)
        en.set_epoch(2)
        ru.set_epoch(2)
        crawl_both(db, en.url, ru.url, "--notify", receiver.url, "--datasette-url", "http://127.0.0.1:8001")
    (message,) = receiver.messages
    body = message["message"]
    assert "Roster changes:" in body and ": Azamat Zhumabekov left" in body
    assert "Belarus (ru)" in body and "Морозов Олег joined" in body  # the Russian site replaced him first
    assert "English and Russian sites now differ:" in body
    assert "Belarus members: only en: Alexander Vorobyov; only ru: Морозов Олег" in body
    assert "http://127.0.0.1:8001/-/roster?delegation=Kyrgyzstan" in body
    assert "http://127.0.0.1:8001/-/parity" in body
