"""How ``servicetrail serve`` runs uvicorn: with a deadline for each request's head.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive`` only until the next byte
arrives, and a fresh connection has no deadline at all: a client that trickles a header line a byte
at a time holds a connection (and its memory) for as long as it likes, and a few hundred such
clients exhaust the server. Here every connection must deliver a complete request head within
``header_timeout`` seconds of being opened, and again after each response; otherwise it is closed.

Before serving, the garbage collector is tuned for a long-lived server (``tune_collector``).
"""

from __future__ import annotations

import asyncio
from typing import Any


YOUNG_COLLECTION_EVERY = 20_000  # allocations (CPython's default: 700); see ``tune_collector``


def with_header_timeout(base: type[asyncio.Protocol], seconds: float) -> type[asyncio.Protocol]:
    """``base`` (uvicorn's h11 or httptools protocol) with the head deadline of the module docstring.

    Both protocols create ``self.cycle`` when a request's head is complete, so "no new cycle since
    the deadline was armed, and none in progress" means the head did not arrive in time."""

    class HeaderDeadline(base):  # type: ignore[misc, valid-type]
        _head_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm_head_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm_head_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
            super().connection_lost(exc)

        def _arm_head_deadline(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
            armed_during = self.cycle

            def expire() -> None:
                waiting = self.cycle is armed_during and (self.cycle is None or self.cycle.response_complete)
                if waiting and not self.transport.is_closing():
                    self.transport.close()

            self._head_deadline = self.loop.call_later(seconds, expire)

    HeaderDeadline.__name__ = f"HeaderDeadline{base.__name__}"
    return HeaderDeadline


def http_protocol(header_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's default HTTP/1.1 protocol (httptools when installed, else h11) with the deadline."""
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    return with_header_timeout(AutoHTTPProtocol, header_timeout)


def tune_collector() -> None:
    """Before serving: the objects of start-up (modules, routes, schemas: a few hundred thousand, alive
    for the process's life) leave the collector's generations (``gc.freeze``), and young collections
    run every 20,000 allocations instead of 700. A request allocates a few hundred short-lived
    containers; with the defaults a young collection ran every few requests and each full one walked
    every start-up object again (profiled: about a tenth of the event loop's CPU, and pauses in the tail)."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, 20, 20)
