"""Request bodies are read strictly (``domain.strict_json``: no duplicate keys, no non-finite
numbers, no NUL), once, before any route sees them. A refusal is a 422 naming the offending field;
the parsed document is kept on the request, so FastAPI does not parse the body a second time.
"""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from domain.strict_json import RefusedJson, strict_loads


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type")
    if not content_type:
        return True  # FastAPI reads a body without a content type as JSON
    if content_type == "application/json":  # what nearly every client sends: no header parsing
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def strict_body(request: Request) -> None:
    """Reads the body once and keeps its strictly parsed document on the request (``request._json``,
    where Starlette's ``request.json()`` finds it); a refused document is a 422 naming the field."""
    body = await request.body()
    if body and _is_json(request):
        try:
            request._json = strict_loads(body)
        except RefusedJson as refused:
            raise RequestValidationError([{"type": refused.kind, "loc": ("body", *refused.path),
                                           "msg": refused.reason, "input": None}]) from None
        except ValueError:
            pass  # not JSON (or not UTF-8) at all: FastAPI's own parse answers as it always did


class StrictJsonRoute(APIRoute):
    """Every API route of the app: its JSON body is parsed by ``strict_loads`` (see the module)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def strictly(request: Request) -> Response:
            await strict_body(request)
            return await handle(request)

        return strictly
