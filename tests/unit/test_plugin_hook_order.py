"""The plugin's error answers win over another plugin's that answers every error, whatever their order.

Datasette takes the first ``handle_exception`` answer and pluggy asks the plugin registered last first: an
error-reporting plugin installed beside this one (registered after it by its entry point) would otherwise answer
the plugin's own errors with its generic page."""

from __future__ import annotations

import asyncio
import types
from pathlib import Path

import pytest
from datasette import hookimpl
from datasette.utils.asgi import Response

from dedupe.archive import Archive


@hookimpl
def _answer_every_error(datasette, request, exception):  # noqa: ANN001, ANN202 - pluggy's signature
    return Response.text("generic error page", status=500)


def answers_every_error() -> types.ModuleType:
    """A plugin (Datasette's plugins are modules) that answers every error with its own page, as a reporter might."""
    plugin = types.ModuleType("answers_every_error")
    plugin.handle_exception = _answer_every_error
    return plugin


@pytest.fixture
def other_plugin_registered_last():
    from datasette.plugins import pm

    from datasette_pa_archive.serving import register_plugin

    register_plugin()
    plugin = answers_every_error()
    pm.register(plugin, name="answers-every-error")
    try:
        yield
    finally:
        pm.unregister(plugin)


def test_the_plugins_sentences_are_answered_before_another_plugins_generic_page(
    tmp_path: Path, other_plugin_registered_last: None
) -> None:
    from datasette.app import Datasette

    db = tmp_path / "archive.db"
    Archive(db).close()
    datasette = Datasette([str(db)])

    async def run() -> list:
        return [
            await datasette.client.get("/-/conflicts?delegation=Narnia"),
            await datasette.client.get("/-/diff.json?a=s1&b=s99999"),
        ]

    conflicts, diff = asyncio.run(run())
    assert conflicts.status_code == 404 and "No delegation called" in conflicts.text
    assert diff.status_code in (400, 404) and "generic error page" not in diff.text
