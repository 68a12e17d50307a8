"""``datasette --cors`` for the plugin's pages too: a notebook or a web page on another origin can read
``/-/timeline.json``, ``/-/diff.json``, ``/-/roster.json``, ``/-/parity.json`` and their errors, as it can
Datasette's own JSON.

Why an ASGI wrapper: Datasette adds its CORS headers in its own views and error handler only; a plugin's
route, and an error answered by the plugin's ``handle_exception``, go out without them, so a browser refuses
the plugin's JSON to any other origin even with ``--cors``. The wrapper adds Datasette's own three headers
(``datasette.utils.add_cors_headers``) to a response that has none yet, never a second copy (a browser
refuses a response that names its allowed origin twice).
"""

from __future__ import annotations

from typing import Any

from datasette.utils import add_cors_headers

_ALLOW_ORIGIN = b"access-control-allow-origin"


def _cors_headers() -> list[tuple[bytes, bytes]]:
    headers: dict[str, str] = {}
    add_cors_headers(headers)
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


def with_cors(datasette: Any, app: Any) -> Any:
    """``app`` adding Datasette's CORS headers, when Datasette runs with ``--cors``, to every HTTP response
    that lacks them."""

    async def wrapped(scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or not getattr(datasette, "cors", False):
            await app(scope, receive, send)
            return

        async def send_with_cors(message: dict) -> None:
            if message.get("type") == "http.response.start":
                headers = list(message.get("headers") or [])
                if not any(name.lower() == _ALLOW_ORIGIN for name, _ in headers):
                    message = {**message, "headers": headers + _cors_headers()}
            await send(message)

        await app(scope, receive, send_with_cors)

    return wrapped
