"""API keys: issuing, verifying, revoking. Keys look like ``st_<key id>_<secret>``; the store keeps
the key id in clear and an HMAC-SHA256 of the secret under the server's secret key."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.utils import get_topic

from domain.access import ApiKey, Role, api_key_id
from domain.application import ServiceTrail
from projections.store import private_directory

PREFIX = "st_"
CACHE_SECONDS = 5.0  # a revocation in another process is honoured within this time
MAX_CACHED = 10_000  # key ids remembered (known and unknown); expired ones are dropped beyond this


@dataclass(frozen=True)
class Caller:
    key_id: str
    role: Role
    principal: str

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.principal}"


class SecretKeyMissing(RuntimeError):
    pass


def load_server_secret(configured: str | None, fallback_file: Path | None) -> bytes:
    """The HMAC secret: configured, or (embedded default) generated once into a 0600 file."""
    if configured:
        return configured.encode()
    if fallback_file is None:
        raise SecretKeyMissing("SERVICETRAIL_SECRET_KEY is required with a PostgreSQL store")
    if not fallback_file.exists():
        private_directory(fallback_file.parent)
        descriptor = os.open(fallback_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return fallback_file.read_text().strip().encode()


class KeyService:
    def __init__(self, app: ServiceTrail, server_secret: bytes):
        self.app = app
        self._secret = server_secret
        self._cache: dict[str, tuple[float, Caller | None, str]] = {}
        self._lock = threading.Lock()

    def _digest(self, secret_part: str) -> str:
        return hmac.new(self._secret, secret_part.encode(), hashlib.sha256).hexdigest()

    def create(self, role: Role, principal: str, *, label: str | None = None, actor: str = "admin") -> tuple[str, ApiKey]:
        """Issues a key; the returned text is the only time the secret exists outside the caller."""
        key_id, secret_part = secrets.token_hex(6), secrets.token_urlsafe(32)
        key = ApiKey.create(key_id=key_id, role=role, principal=principal, digest=self._digest(secret_part),
                            label=label, actor=actor, at=self.app.clock())
        self.app.save(key)
        with self._lock:
            self._cache.pop(key_id, None)
        return f"{PREFIX}{key_id}_{secret_part}", key

    def revoke(self, key_id: str, *, actor: str, reason: str | None = None) -> ApiKey:
        key = self.get(key_id)
        key.revoke(actor=actor, at=self.app.clock(), reason=reason)
        self.app.save(key)
        with self._lock:
            self._cache.pop(key_id, None)
        return key

    def get(self, key_id: str) -> ApiKey:
        try:
            key = self.app.repository.get(api_key_id(key_id))
        except AggregateNotFoundError:
            raise KeyError(key_id) from None
        if not isinstance(key, ApiKey):
            raise KeyError(key_id)
        return key

    def all(self) -> list[ApiKey]:
        topic = get_topic(ApiKey.Created)
        found, position = [], 0
        while page := self.app.recorder.select_notifications(start=position, limit=1000, topics=(topic,),
                                                              inclusive_of_start=False):
            found.extend(self.app.repository.get(n.originator_id) for n in page)
            position = page[-1].id
        return found

    def any_exist(self) -> bool:
        return bool(self.app.recorder.select_notifications(start=1, limit=1, topics=(get_topic(ApiKey.Created),)))

    def is_cached(self, presented: str) -> bool:
        """Whether ``authenticate`` can answer from memory (no store read: fine on the event loop)."""
        if not presented.startswith(PREFIX) or presented.count("_") < 2:
            return True  # malformed: refused without a store read
        key_id = presented[len(PREFIX):].split("_", 1)[0]
        with self._lock:
            cached = self._cache.get(key_id)
        return cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS

    def authenticate(self, presented: str) -> Caller | None:
        """The caller a key stands for, or None for a malformed, unknown or revoked key.

        Known and unknown key ids alike are remembered for ``CACHE_SECONDS``: a flood of made-up
        keys costs one store read per key id and interval, and a revocation still takes effect
        within the interval in every process (at once in the revoking one)."""
        if not presented.startswith(PREFIX) or presented.count("_") < 2:
            return None
        key_id, secret_part = presented[len(PREFIX):].split("_", 1)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key_id)
        if cached and now - cached[0] < CACHE_SECONDS:
            caller, digest = cached[1], cached[2]
        else:
            try:
                key = self.get(key_id)
                caller = Caller(key.key_id, Role(key.role), key.principal) if key.active else None
                digest = key.digest
            except KeyError:
                caller, digest = None, ""
            with self._lock:
                if len(self._cache) >= MAX_CACHED:
                    self._cache = {k: v for k, v in self._cache.items() if now - v[0] < CACHE_SECONDS}
                    if len(self._cache) >= MAX_CACHED:
                        self._cache.clear()
                self._cache[key_id] = (now, caller, digest)
        if caller is None or not hmac.compare_digest(self._digest(secret_part), digest):
            return None
        return caller
