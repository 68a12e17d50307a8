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
"""

from __future__ import annotations

import sys
from typing import Any

from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError

MESSAGE_CHARS = 300  # of an error's sentence shown back: it may quote what the request held


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
    message = _short(str(exception.args[0] if exception.args else exception))
    info = {"ok": False, "error": message, "status": status, "title": title}
    if request.path.split("?")[0].endswith(".json"):
        return Response.json(info, status=status)

    async def page() -> Response:
        body = await datasette.render_template(["error.html"], info, request=request)
        return Response.html(body, status=status)

    return page
