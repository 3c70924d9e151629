"""JSON input read strictly: the one reader of untrusted JSON (HTTP bodies, the inbound topic).

Python's ``json`` accepts what no other JSON reader agrees on: a key given twice (the last one
silently wins, so a proxy, a log and the server can each read a different request), the tokens
``NaN`` and ``Infinity`` and numbers beyond the float range (``1e999`` becomes infinity, which JSON
cannot carry back out: an event holding one stores ``null`` under a hash computed over the number).
Text holding NUL is truncated or refused by C libraries, logs and PostgreSQL. ``strict_loads``
refuses each of them, naming where.
"""

from __future__ import annotations

import json
from typing import Any

from domain.values import NUL_REFUSED, holds_nul, non_finite


class RefusedJson(ValueError):
    """JSON that parses but is refused; ``path`` locates the offending value, ``kind`` names the rule."""

    def __init__(self, path: tuple[Any, ...], kind: str, reason: str):
        super().__init__(reason)
        self.path, self.kind, self.reason = path, kind, reason


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise RefusedJson((key,), "duplicate_key", f"the key {key[:100]!r} is given more than once")
        document[key] = value
    return document


def _first_unsafe(value: Any, path: tuple[Any, ...] = ()) -> RefusedJson | None:
    """The first non-finite number or NUL-holding text in a parsed document, with its path."""
    if non_finite(value):
        return RefusedJson(path, "finite_number", "Input should be a finite number (not infinity or NaN)")
    if isinstance(value, str):
        return RefusedJson(path, "no_nul", NUL_REFUSED) if holds_nul(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if holds_nul(key):
                return RefusedJson((*path, key.replace("\x00", "\\0")), "no_nul", NUL_REFUSED)
            if (found := _first_unsafe(item, (*path, key))) is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _first_unsafe(item, (*path, index))) is not None:
                return found
    return None


def strict_loads(raw: bytes | str) -> Any:
    """``json.loads`` that refuses duplicate keys, non-finite numbers and NUL characters.

    Raises ``json.JSONDecodeError`` for text that is not JSON at all, ``ValueError`` (with ``path``,
    ``kind`` and ``reason``) for JSON that is refused."""
    document = json.loads(raw, object_pairs_hook=_unique_keys)  # NaN, Infinity, 1e999: floats, found below
    refused = _first_unsafe(document)
    if refused is not None:
        raise refused
    return document
