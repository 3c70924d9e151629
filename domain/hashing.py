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

GENESIS_HASH = "0" * 64


class NonCanonicalValueError(ValueError):
    """A document holds a value canonical JSON cannot encode (an infinite number or NaN): no hash
    over it could ever be recomputed from the stored or exported JSON, so none is made."""


def canonical_bytes(document: dict[str, Any]) -> bytes:
    try:
        text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as refused:
        raise NonCanonicalValueError(f"cannot hash a non-finite number (infinity or NaN): {refused}") from None
    return text.encode("utf-8")


def chain_hash(public_document: dict[str, Any]) -> str:
    """The hash of one event, given its public JSON form (a ``hash`` key is ignored)."""
    body = {key: value for key, value in public_document.items() if key != "hash"}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()
