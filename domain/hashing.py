"""The per-ticket hash chain that makes tampering with stored events detectable.

``hash = sha256(canonical JSON of the public envelope and payload, without "hash")``, where the
envelope contains ``prev_hash``, the hash of the ticket's previous event (``GENESIS_HASH`` for
the first). Canonical JSON: UTF-8, keys sorted, no insignificant white space, instants in UTC.
Anyone holding the exported events can recompute the chain with nothing but a JSON library.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

GENESIS_HASH = "0" * 64


class NonCanonicalValueError(ValueError):
    """A document holds a value canonical JSON cannot encode (an infinite number or NaN): no hash
    over it could ever be recomputed from the stored or exported JSON, so none is made."""


_I64 = range(-(2**63), 2**63)


def _plain(value: Any) -> bool:
    """Whether orjson writes ``value`` byte for byte as ``json.dumps`` does below: texts, booleans,
    null, 64-bit integers, and lists and text-keyed objects of those. Not floats: Python and orjson
    format exponents differently (1e+16 / 1e16). (Scalars are checked inline, without a call each:
    an import checks every event it hashes.)"""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            kind = type(item)
            if type(key) is str and (kind is str or item is None or kind is bool or (kind is int and item in _I64)
                                     or ((kind is dict or kind is list) and _plain(item))):
                continue
            return False
        return True
    if kind is list:
        for item in value:
            kind = type(item)
            if (kind is str or item is None or kind is bool or (kind is int and item in _I64)
                    or ((kind is dict or kind is list) and _plain(item))):
                continue
            return False
        return True
    return kind is str or kind is bool or value is None or (kind is int and value in _I64)


def canonical_bytes(document: dict[str, Any]) -> bytes:
    if _plain(document):  # the fast path (an import hashes every event); same bytes, pinned by a test
        try:
            return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError:
            pass  # e.g. a lone surrogate: json.dumps below raises as it always did
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as refused:
        raise NonCanonicalValueError(f"cannot hash a non-finite number (infinity or NaN): {refused}") from None
    return text.encode("utf-8")


def chain_hash(public_document: dict[str, Any]) -> str:
    """The hash of one event, given its public JSON form (a ``hash`` key is ignored)."""
    body = public_document
    if "hash" in body:
        body = dict(body)
        del body["hash"]
    return hashlib.sha256(canonical_bytes(body)).hexdigest()
