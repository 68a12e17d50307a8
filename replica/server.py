"""The replica's HTTP server: ``http.server.ThreadingHTTPServer`` on a loopback address only.

    with ReplicaServer(epoch=1, lang="en", faults={"slow"}) as server:
        urllib.request.urlopen(server.url + "/events?page=1")
        server.set_epoch(2)

Or from a shell: ``python -m replica --epoch 2 --port 8000 --faults slow,flaky500``.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .content import EPOCHS
from .site import ReplicaSite

_QUIET_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


def loopback_host(host: str) -> str:
    """``host`` if it is a loopback IP address ("localhost" means 127.0.0.1); else ValueError."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"the replica binds only a loopback IP address, not {host!r}") from None
    if not address.is_loopback:
        raise ValueError(f"the replica binds only a loopback address, not {host}")
    return host


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:  # http.server's naming
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        replica: ReplicaServer = self.server.replica  # type: ignore[attr-defined]
        response = replica.site.respond(self.command, self.path, self.headers, replica.epoch, replica.url)
        if response.delay and replica._stopping.wait(response.delay):
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.status != 304:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if not head and response.status != 304:
            self.wfile.write(response.body[: response.send_bytes])
        if response.send_bytes is not None:
            self.close_connection = True  # the truncated page: fewer bytes than announced, then EOF

    def log_request(self, code="-", size="-") -> None:
        replica: ReplicaServer = self.server.replica  # type: ignore[attr-defined]
        status = int(code) if isinstance(code, int) else 0
        replica._record(self.command or "-", self.path if hasattr(self, "path") else "-", status)

    def log_message(self, format: str, *args) -> None:  # silent: keep the test output clean
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # listen backlog (socketserver's default is 5): a crawl opening connections faster than they are
    # accepted would see SYNs dropped and retried a second later, which a short timeout takes for a slow page
    request_queue_size = 64

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], _QUIET_ERRORS):
            super().handle_error(request, client_address)


class _Server6(_Server):
    address_family = socket.AF_INET6


class ReplicaServer:
    """A running replica of pacsto.org ("en") or paodkb.org ("ru") at one epoch (switchable).

    ``request_log`` holds ``(method, path, status)`` of every request served, in order.
    """

    def __init__(
        self,
        epoch: int = 1,
        lang: str = "en",
        block_markup: str = "header",
        faults=(),
        host: str = "127.0.0.1",
        port: int = 0,
        slow_seconds: float = 5.0,
    ):
        self.host = loopback_host(host)
        self.port = int(port)
        if epoch not in EPOCHS:
            raise ValueError(f"epoch must be one of {EPOCHS}, not {epoch!r}")
        self.site = ReplicaSite(lang=lang, block_markup=block_markup, faults=faults, slow_seconds=slow_seconds)
        self._epoch = epoch
        self.request_log: list[tuple[str, str, int]] = []
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._stop_lock = threading.Lock()  # stop() from serve_forever and from another thread at once
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ReplicaServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            raise RuntimeError("the replica server is already running")
        server_class = _Server6 if ":" in self.host else _Server
        self._stopping.clear()
        self._httpd = server_class((self.host, self.port), _Handler)
        self._httpd.replica = self  # type: ignore[attr-defined]
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"replica-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve (starting first if needed) until Ctrl-C or ``stop()`` from another thread, then stop."""
        if self._httpd is None:
            self.start()
        try:
            while not self._stopping.wait(0.5):  # a timed wait: Ctrl-C is seen within half a second, always
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving and close the socket (slow responses in flight are abandoned)."""
        with self._stop_lock:
            if self._httpd is None:
                return
            self._stopping.set()
            self._httpd.shutdown()
            self._httpd.server_close()
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._httpd = self._thread = None

    def __enter__(self) -> ReplicaServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # ------------------------------------------------------------------ state

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` (the port is known once started)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def lang(self) -> str:
        return self.site.lang

    @property
    def epoch(self) -> int:
        return self._epoch

    def set_epoch(self, epoch: int) -> None:
        """Switch the site to another epoch; the next request sees it."""
        if epoch not in EPOCHS:
            raise ValueError(f"epoch must be one of {EPOCHS}, not {epoch!r}")
        self._epoch = epoch

    def _record(self, method: str, path: str, status: int) -> None:
        with self._log_lock:
            self.request_log.append((method, path, status))
