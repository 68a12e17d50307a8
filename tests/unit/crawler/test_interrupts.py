"""What the crawl says at once when it is asked to stop: the signal it got and how to force the stop."""

from __future__ import annotations

import signal
from types import SimpleNamespace

import pytest

from crawler.process import Interrupts


class Crawler:
    """Enough of a crawler: two downloads in flight (weak-referenceable, as the progress registry needs)."""

    engine = SimpleNamespace(downloader=SimpleNamespace(active={1, 2}))


def said_on_stop(signum: int, capsys: pytest.CaptureFixture[str]) -> str:
    stopped: list[bool] = []
    interrupts = Interrupts(SimpleNamespace(stop=lambda: stopped.append(True)), Crawler(), SimpleNamespace(backlog=5))
    interrupts.stop_gracefully(signum)
    assert stopped == [True]
    return capsys.readouterr().err.strip()


def test_sigterm_is_named_with_how_to_force_the_stop(capsys: pytest.CaptureFixture[str]) -> None:
    said = said_on_stop(signal.SIGTERM, capsys)
    assert said == (
        "SIGTERM received: stopping after 2 pages in flight and storing 5 fetched page(s) "
        "(send SIGTERM again, or Ctrl-C, to stop now)"
    )


def test_ctrl_c_says_ctrl_c(capsys: pytest.CaptureFixture[str]) -> None:
    said = said_on_stop(signal.SIGINT, capsys)
    assert said == "stopping after 2 pages in flight and storing 5 fetched page(s) (Ctrl-C again to stop now)"
