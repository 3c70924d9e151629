"""Request guards and the access log: body size (413), the rate limiter that ``api.auth`` applies
per authenticated key (429), and one log line per request that carries no query string, header or
body (so no key or personal data reaches logs).

The logged path cannot forge a line: it is the matched route's template with its parameters
percent-encoded again (or, for a path no route matched, the raw path as the client sent it, still
encoded), with any control character escaped. Path parameters that are personal data (a customer's
id is often an e-mail address) are logged as their placeholder, ``{customer_id}``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem
from domain.values import printable

access_log = logging.getLogger("servicetrail.access")

PERSONAL_PATH_PARAMETERS = frozenset({"customer_id"})
_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")
_CUSTOMER_PATH = re.compile(r"^(/v1/customers/).+$")


def loggable_path(scope: Scope) -> str:
    """The request's path as logs may show it: one line, percent-encoded, no personal data."""
    template = getattr(scope.get("route"), "path", None)
    if template:
        parameters = scope.get("path_params") or {}

        def filled(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in PERSONAL_PATH_PARAMETERS or name not in parameters:
                return "{" + name + "}"
            return quote(str(parameters[name]), safe="")

        path = _PARAMETER.sub(filled, template)
    else:
        raw = scope.get("raw_path") or quote(scope.get("path", "")).encode()
        path = _CUSTOMER_PATH.sub(r"\1{customer_id}…", raw.decode("ascii", "backslashreplace"))
    return printable(path)


class RateLimiter:
    """Token buckets of ``per_minute`` requests, refilled continuously (0 = unlimited).

    ``api.auth`` keys a bucket by who the caller *is*: the authenticated key's id (however the key
    was presented: ``Bearer``, ``bearer``, extra spaces, ``X-API-Key``), or the client address for
    requests without a valid key, which also spend it before any store read is made for them."""

    PRUNE_ABOVE = 10_000  # buckets; full ones are forgotten beyond this (they would start full anyway)

    def __init__(self, per_minute: int, clock=time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _tokens(self, bucket: str, now: float) -> float:
        tokens, last = self._buckets.get(bucket, (float(self.per_minute), now))
        return min(float(self.per_minute), tokens + (now - last) * self.per_minute / 60.0)

    def available(self, bucket: str) -> bool:
        """Whether ``take`` would succeed now (without spending a token)."""
        if not self.per_minute:
            return True
        with self._lock:
            return self._tokens(bucket, self._clock()) >= 1

    def take(self, bucket: str) -> bool:
        """Spends one token of ``bucket``; False when it has none left."""
        if not self.per_minute:
            return True
        now = self._clock()
        with self._lock:
            tokens = self._tokens(bucket, now)
            if len(self._buckets) > self.PRUNE_ABOVE:
                self._buckets = {key: value for key, value in self._buckets.items()
                                 if self._tokens(key, now) < self.per_minute}
            if tokens < 1:
                self._buckets[bucket] = (tokens, now)
                return False
            self._buckets[bucket] = (tokens - 1, now)
            return True


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, metrics: Any = None):
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def logged_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            rejection = self._reject(scope)
            if rejection is not None:
                await rejection(scope, receive, logged_send)
                return
            await self.app(scope, self._limited(receive), logged_send)
        except BodyTooLarge:
            await problem(413, "Request too large", f"bodies are limited to {self.max_body_bytes} bytes",
                          kind="body_too_large")(scope, receive, logged_send)
        finally:
            elapsed = time.perf_counter() - started
            if access_log.isEnabledFor(logging.INFO):  # the path is escaped only for a line that is written
                access_log.info("%s %s %s %.1fms", printable(scope["method"]), loggable_path(scope), status["code"],
                                elapsed * 1000)
            if self.metrics is not None:  # by route template (set by the router), never the raw path
                route = scope.get("route")
                self.metrics.observe(getattr(route, "path", None), scope["method"], status["code"], elapsed)

    def _reject(self, scope: Scope):
        length = next((value for name, value in scope.get("headers") or () if name == b"content-length"), None)
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return problem(413, "Request too large", f"bodies are limited to {self.max_body_bytes} bytes",
                           kind="body_too_large")
        return None

    def _limited(self, receive: Receive) -> Receive:
        seen = {"bytes": 0}

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > self.max_body_bytes:
                    raise BodyTooLarge()
            return message

        return counted


class BodyTooLarge(Exception):
    pass
