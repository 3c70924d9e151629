"""Request guards and the access log: body size (413), rate per key (429), and one log line per
request that carries no query string, header or body (so no key or personal data reaches logs).

The logged path cannot forge a line: it is the matched route's template with its parameters
percent-encoded again (or, for a path no route matched, the raw path as the client sent it, still
encoded), with any control character escaped. Path parameters that are personal data (a customer's
id is often an e-mail address) are logged as their placeholder, ``{customer_id}``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
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


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, per_minute: int):
        self.app = app
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
            access_log.info("%s %s %s %.1fms", printable(scope["method"]), loggable_path(scope), status["code"],
                            (time.perf_counter() - started) * 1000)

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
