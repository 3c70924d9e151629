"""Name-based ids (RFC 4122 version 5), made faster than ``uuid.uuid5`` for the hot paths.

An import derives several ids per source row (the ticket's, each event's, each idempotency
record's); ``uuid.uuid5`` on Python 3.11 spends most of its time building the ``UUID`` through
its checking constructor. This builds the same value (same SHA-1, same version and variant bits)
and sets it directly; ``tests/unit/test_uuids.py`` pins the equality with ``uuid.uuid5``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from uuid import UUID, SafeUUID

_VERSION_5 = ~(0xC000 << 48) & ~(0xF000 << 64)
_BITS = (0x8000 << 48) | (5 << 76)
_new = object.__new__
_set = object.__setattr__
_sha1 = hashlib.sha1
_unknown = SafeUUID.unknown


def uuid5_in(namespace: UUID) -> Callable[[str], UUID]:
    """``lambda name: uuid.uuid5(namespace, name)``, faster."""
    prefix = namespace.bytes

    def uuid5(name: str) -> UUID:
        digest = _sha1(prefix + name.encode("utf-8"), usedforsecurity=False).digest()
        made = _new(UUID)
        _set(made, "int", (int.from_bytes(digest[:16], "big") & _VERSION_5) | _BITS)
        _set(made, "is_safe", _unknown)
        return made

    return uuid5
