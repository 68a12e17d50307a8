"""How a failed download is named: the connection failures (the host did not answer at all), by exception class.

A module of its own, importing nothing of Twisted or Scrapy: the spider names its failures from it, and importing
the middlewares (which import ``twisted.internet.reactor``) while the spider module loads would install Twisted's
default reactor before Scrapy installs the asyncio one it is configured for.
"""

from __future__ import annotations

# Connection-level failures: the host did not answer at all (an HTTP error is an answer). By class name, as
# Scrapy >= 2.14 raises its own classes (DownloadConnectionRefusedError...) where Twisted's were seen before.
CONNECT_FAILURES = {
    "DownloadConnectionRefusedError": "connection refused",
    "ConnectionRefusedError": "connection refused",
    "DownloadTimeoutError": "timed out",
    "TimeoutError": "timed out",
    "TCPTimedOutError": "timed out",
    "CannotResolveHostError": "DNS lookup failed",
    "DNSLookupError": "DNS lookup failed",
    "NoRouteError": "no route to host",
    "ConnectError": "cannot connect",
}


def connect_failure(exception: BaseException) -> str | None:
    """What kind of connection failure ``exception`` is ("connection refused"...), None for anything else."""
    for cls in type(exception).__mro__:
        if cls.__name__ in CONNECT_FAILURES:
            return CONNECT_FAILURES[cls.__name__]
    return None
