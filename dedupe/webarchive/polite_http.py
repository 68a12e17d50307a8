"""A polite, bounded HTTP client for web archives (CDX servers, replays, TimeMaps, Common Crawl).

Why its own: a web archive is a shared public service and a hostile input at once. So one request
at a time, ``delay`` seconds apart, retries with exponential backoff on 429 and 5xx (honouring
Retry-After), redirects followed only on the same host, loopback never sent through a proxy, and
every answer bounded: a per-read timeout, a deadline for the whole request (a server trickling a
byte every few seconds is cut off), and the body capped while it streams (``dedupe.bounded``).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from .. import bounded
from ..headers import Headers

USER_AGENT = "pa-archive/0.1 (+https://github.com/pa-archive/pa-archive; backfill from a web archive)"
RETRY_STATUSES = {429, 500, 502, 503, 504}
DEADLINE = 120.0  # seconds for one whole request (connect, headers, body), whatever the pace of its bytes


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """Follow a web archive's redirects (to the nearest capture) only on its own host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Deadline:
    """Shuts the sockets of one request when its overall time is up: a server that sends a byte every
    few seconds never times out a per-read timeout, and is stopped by this instead."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sockets: list[socket.socket] = []
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def watch(self, sock: socket.socket) -> None:
        self.sockets.append(sock)
        if self.expired:
            self._expire()

    def _expire(self) -> None:
        self.expired = True
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()


def _watched(base: type, deadline: _Deadline) -> type:
    class Connection(base):  # type: ignore[misc, valid-type]
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    return Connection


class _DeadlineHTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req):
        return self.do_open(_watched(http.client.HTTPConnection, self.deadline), req)


class _DeadlineHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req):
        return self.do_open(_watched(http.client.HTTPSConnection, self.deadline), req, context=self._context)


class Client:
    """One request at a time, ``delay`` seconds apart, with retries and backoff.

    Every answer is bounded: ``timeout`` per read, ``deadline`` seconds for the whole request
    (connect, headers, body), and ``cap`` bytes of body (the crawl's DOWNLOAD_MAXSIZE, after any
    Content-Encoding is undone, checked while it streams)."""

    def __init__(
        self,
        delay: float = 0.0,
        retries: int = 4,
        backoff: float = 2.0,
        timeout: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        deadline: float = DEADLINE,
        cap: int | None = None,
    ) -> None:
        self.delay, self.retries, self.backoff, self.timeout = delay, retries, backoff, timeout
        self.sleep, self.clock = sleep, clock
        self.deadline, self.cap = deadline, bounded.body_cap(cap)
        self.requests = 0
        self._last = 0.0

    def get(
        self, url: str, cap: int | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Headers, bytes, str]:
        """(status, headers, body, final URL) of a 2xx answer; OSError after the last retry, or at once when
        the answer is larger than the cap."""
        cap = cap or self.cap
        for attempt in range(self.retries + 1):
            wait = self._last + self.delay - self.clock()
            if wait > 0:
                self.sleep(wait)
            self._last = self.clock()
            self.requests += 1
            sent = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **(headers or {})}
            request = urllib.request.Request(url, headers=sent)
            deadline = _Deadline(self.deadline)
            handlers: list[Any] = [
                _SameHostRedirects(),
                _DeadlineHTTPHandler(deadline),
                _DeadlineHTTPSHandler(deadline),
            ]
            if _is_loopback(url):
                handlers.append(urllib.request.ProxyHandler({}))  # never send loopback requests to a proxy
            opener = urllib.request.build_opener(*handlers)
            try:
                with deadline, opener.open(request, timeout=self.timeout) as response:
                    answer = Headers(response.headers.items())
                    body = bounded.read_capped(response, cap, f"the answer of {url}")
                    codings = [c for c in (answer.get("Content-Encoding") or "").split(",") if c.strip()]
                    body = bounded.decode_content(body, codings, cap, f"the answer of {url}")
                    if deadline.expired:
                        raise TimeoutError("deadline")
                    return response.status, answer, body, response.geturl()
            except bounded.TooLarge as exc:
                raise OSError(str(exc)) from None
            except bounded.Undecodable as exc:
                raise OSError(f"the answer of {url} does not decode: {exc}") from None
            except urllib.error.HTTPError as exc:
                with exc:
                    if exc.code not in RETRY_STATUSES or attempt == self.retries:
                        raise OSError(f"HTTP {exc.code} from {url}") from None
                    retry_after = exc.headers.get("Retry-After", "")
                pause = float(retry_after) if retry_after.isdigit() else self.backoff**attempt
            except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException, OSError) as exc:
                if attempt == self.retries:
                    reason = getattr(exc, "reason", exc)
                    if deadline.expired:
                        reason = f"no complete answer within {self.deadline:g} s"
                    raise OSError(f"{url} cannot be fetched ({reason})") from None
                pause = self.backoff**attempt
            self.sleep(min(pause, 300.0))
        raise OSError(f"{url} cannot be fetched")  # not reached: the loop returns or raises
