"""Errors a client's request causes, answered quickly and quietly.

Datasette's own ``handle_exception`` prints every exception, a 404 included, as a rich traceback with its local
variables to the server's log, inside the event loop. That cost ~0.4 s of CPU for a short miss, and grew faster
than the input: a 30 KB ``?delegation=`` on ``/-/timeline`` took 9 s and 100 KB more than a minute, while every
other request waited. Datasette runs every ``handle_exception`` hook and answers with the first response, so a
plugin's own answer cannot stop the printing: the plugin turns the rich dump off (``_quiet_default``), and an error
of the server's own (a 500) is still logged by Datasette, with ``traceback.print_exc``.

A request's own error (Datasette's ``Base400``: not found, bad request, forbidden; and a sort by a column the
table does not allow, which Datasette answers with a 500) gets the same error page or JSON, its status, and the
echoed input cut short.

The plugin's pages and their ``.json`` answer a request's errors alike (``RequestError``):

* a parameter the page cannot read (a date that is not one, an id that is not a number, a value not among
  those accepted, a value longer than any it takes) or one it needs and did not get: 400 (``BadParameter``),
  a sentence naming the parameter and what it takes, the value given echoed cut to ``ECHO_CHARS``;
* a well-formed request for what is not in the archive (a delegation, snapshot, version, URL, database): 404
  (``NotThere``);
* the JSON is Datasette's own error shape, ``{"ok": false, "error": ..., "status": ..., "title": null}``, with
  the status the HTML page answers (``json_error``). A page with a form of its own (diff, calendar, roster,
  parity) shows the sentence above its form; the others Datasette's error page. Jinja escapes the echo.
"""

from __future__ import annotations

import sys
from typing import Any

from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError

MESSAGE_CHARS = 300  # of an error's sentence shown back: it may quote what the request held
ECHO_CHARS = 300  # of a value the request gave, quoted in one of the plugin's sentences
PLUGIN_MESSAGE_CHARS = 1_000  # of the plugin's own sentences: their echoes are cut already, the rest is ours


class RequestError(Base400):
    """An error of the request found by the plugin: ``message`` is one sentence, its echoes cut already."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadParameter(RequestError):
    """A parameter the page cannot read, or one it needs and did not get: HTTP 400."""

    status = 400


class NotThere(RequestError):
    """A well-formed request for what the archive does not hold: HTTP 404."""

    status = 404


def echo(value: Any) -> str:
    """A value the request gave, quoted for a sentence: at most ECHO_CHARS of it, control characters escaped."""
    text = str(value)
    return repr(text) if len(text) <= ECHO_CHARS else repr(text[:ECHO_CHARS])[:-1] + "…" + repr(text)[-1]


def param(request: Any, name: str, max_chars: int, choices: dict[str, str] | None = None) -> str:
    """The stripped value of ``?name=`` ('' when absent); BadParameter when longer than ``max_chars`` or, with
    ``choices`` (each accepted value and what it means), not one of them."""
    value = (request.args.get(name) or "").strip()
    if choices is not None and value and value not in choices:
        accepted = "; ".join(f"{key} ({meaning})" for key, meaning in choices.items())
        raise BadParameter(f"{name} {echo(value)} is not one of the values it takes: {accepted}; or leave it out.")
    if len(value) > max_chars:
        raise BadParameter(
            f"{name} is too long: {len(value):,} characters, at most {max_chars:,} (it begins {echo(value[:40])})."
        )
    return value


def json_error(message: str, status: int) -> Response:
    """A JSON error of the plugin, in Datasette's own shape (``handle_exception``), with the page's status."""
    return Response.json({"ok": False, "error": message, "status": status, "title": None}, status=status)


def _short(message: str) -> str:
    return message if len(message) <= MESSAGE_CHARS else message[:MESSAGE_CHARS] + "…"


def _quiet_default() -> None:
    """No rich traceback of every local variable from Datasette's default handler (see above). Done when an error
    is handled, not when the plugin is imported: Datasette imports its plugins while ``datasette.plugins`` is
    itself being imported, and importing the default handler's module then would register it half-made."""
    default = sys.modules.get("datasette.handle_exception")
    if default is not None and getattr(default, "rich", None) is not None:
        default.rich = None


def client_error(datasette: Any, request: Any, exception: Exception) -> Any:
    """The response to an error the request caused (None: not one, Datasette's default handles it)."""
    _quiet_default()  # Datasette's own handler runs after this one's answer is made
    if isinstance(exception, Base400):
        status, title = exception.status, None
    elif isinstance(exception, DatasetteError) and str(exception.message).startswith("Cannot sort table by"):
        status, title = 400, exception.title  # a crafted ?_sort=: the request's error, not the server's
    else:
        return None
    if isinstance(exception, RequestError):  # the plugin's own sentence: its echoes are cut already
        text = exception.message
        message = text if len(text) <= PLUGIN_MESSAGE_CHARS else text[:PLUGIN_MESSAGE_CHARS] + "…"
    else:
        message = _short(str(exception.args[0] if exception.args else exception))
    info = {"ok": False, "error": message, "status": status, "title": title}
    if request.path.split("?")[0].endswith(".json"):
        return Response.json(info, status=status)

    async def page() -> Response:
        body = await datasette.render_template(["error.html"], info, request=request)
        return Response.html(body, status=status)

    return page
