"""Request guards and the access log: body size (413), rate per key (429), and one log line per
request that carries no query string, header or body (so no key or personal data reaches logs)."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem

access_log = logging.getLogger("servicetrail.access")


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, per_minute: int, metrics: Any = None):
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

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
            access_log.info("%s %s %s %.1fms", scope["method"], scope["path"], status["code"], elapsed * 1000)
            if self.metrics is not None:  # by route template (set by the router), never the raw path
                route = scope.get("route")
                self.metrics.observe(getattr(route, "path", None), scope["method"], status["code"], elapsed)

    def _reject(self, scope: Scope):
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return problem(413, "Request too large", f"bodies are limited to {self.max_body_bytes} bytes",
                           kind="body_too_large")
        key = headers.get(b"authorization") or headers.get(b"x-api-key")
        if key and self.per_minute and not self._take(hashlib.sha256(key).hexdigest()):
            return problem(429, "Too many requests", f"at most {self.per_minute} requests per minute per key",
                           kind="rate_limited", headers={"Retry-After": "1"})
        return None

    def _take(self, bucket_key: str) -> bool:
        """Token bucket per key: ``per_minute`` capacity, refilled continuously."""
        now = time.monotonic()
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(bucket_key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens < 1:
                self._buckets[bucket_key] = (tokens, now)
                return False
            self._buckets[bucket_key] = (tokens - 1, now)
            return True

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
