"""The vault: one AES-256-GCM key per customer, kept in a store of its own (never in the event log,
never beside the read models).

The vault is as precious as the event store: lose it and every customer's contact details are
gone for good. So it does not live in the state store, which ``rebuild`` rewrites and an operator
may delete to rebuild from scratch: by default it is ``vault.db`` beside a SQLite event store, or
its own table in the event store's PostgreSQL database (``SERVICETRAIL_VAULT_URL`` overrides
both). Back it up with the event store. Keys found in the old place (the state store's
``customer_keys`` table) are moved here on start.

Sealing uses the customer id as associated data, so a sealed value cannot be moved to another
customer. Erasing deletes the key: every sealed value of that customer, in every stored event,
topic and projection, is unreadable from then on. Who erased and when is not kept here but in the
event log (``customer.personal_data_erased``, see ``domain/privacy.py``).
"""

from __future__ import annotations

import base64
import os
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.values import Sealed
from projections.store import StateStore, Transaction

if TYPE_CHECKING:
    from domain.application import ServiceTrail

KEYS_TABLE = "CREATE TABLE IF NOT EXISTS customer_keys (customer_id TEXT PRIMARY KEY, key_b64 TEXT NOT NULL)"


class Vault:
    def __init__(self, store: StateStore):
        self.store = store
        with store.transaction() as tx:
            tx.execute(KEYS_TABLE)

    def _key(self, owner: str, *, create: bool) -> bytes | None:
        with self.store.transaction() as tx:
            rows = tx.fetchall("SELECT key_b64 FROM customer_keys WHERE customer_id = ?", (owner,))
            if rows:
                return base64.b64decode(rows[0][0])
            if not create:
                return None
            # A returning customer after erasure starts afresh with a new key; the erasure stays in the log.
            key = AESGCM.generate_key(bit_length=256)
            tx.execute("INSERT INTO customer_keys (customer_id, key_b64) VALUES (?, ?) "
                       "ON CONFLICT (customer_id) DO NOTHING", (owner, base64.b64encode(key).decode()))
            stored = tx.fetchall("SELECT key_b64 FROM customer_keys WHERE customer_id = ?", (owner,))
            return base64.b64decode(stored[0][0])

    def seal(self, owner: str, plaintext: bytes) -> Sealed:
        key = self._key(owner, create=True)
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, owner.encode())
        return Sealed(key_owner=owner, nonce=base64.b64encode(nonce).decode(),
                      ciphertext=base64.b64encode(ciphertext).decode())

    def unseal(self, sealed: Sealed | dict) -> bytes | None:
        sealed = sealed if isinstance(sealed, Sealed) else Sealed.model_validate(sealed)
        key = self._key(sealed.key_owner, create=False)
        if key is None:
            return None
        try:
            return AESGCM(key).decrypt(base64.b64decode(sealed.nonce), base64.b64decode(sealed.ciphertext),
                                       sealed.key_owner.encode())
        except (InvalidTag, ValueError):
            return None

    def erase(self, owner: str) -> bool:
        """Deletes the customer's key; returns False when there was none."""
        with self.store.transaction() as tx:
            existed = bool(tx.fetchall("SELECT 1 FROM customer_keys WHERE customer_id = ?", (owner,)))
            tx.execute("DELETE FROM customer_keys WHERE customer_id = ?", (owner,))
        return existed

    def adopt_keys(self, old: StateStore) -> int:
        """Moves keys from the state store (where earlier versions kept them) into this vault.

        Copied first, committed, then deleted from the old place: a crash in between leaves both
        copies, and the next start finishes the move (a key already here wins). Returns how many
        keys were moved."""
        if old.url == self.store.url:
            return 0
        with old.transaction() as tx:
            if not _has_table(tx, old.dialect, "customer_keys"):
                return 0
            rows = tx.fetchall("SELECT customer_id, key_b64 FROM customer_keys")
        with self.store.transaction() as tx:
            tx.executemany("INSERT INTO customer_keys (customer_id, key_b64) VALUES (?, ?) "
                           "ON CONFLICT (customer_id) DO NOTHING", rows)
        with old.transaction() as tx:
            tx.execute("DROP TABLE customer_keys")
        return len(rows)


def legacy_erasures(store: StateStore) -> list[tuple[str, str, str]]:
    """(customer id, erased at, erased by) of the erasure table earlier versions kept."""
    with store.transaction() as tx:
        if not _has_table(tx, store.dialect, "customer_erasures"):
            return []
        return tx.fetchall("SELECT customer_id, erased_at, erased_by FROM customer_erasures ORDER BY erased_at")


def drop_legacy_erasures(store: StateStore) -> None:
    with store.transaction() as tx:
        tx.execute("DROP TABLE IF EXISTS customer_erasures")


def adopt_legacy_erasures(app: ServiceTrail, state: StateStore) -> int:
    """Turns the erasure table of earlier versions (one row per customer, in the state store) into
    ``customer.personal_data_erased`` events, then drops it. Rows already recorded (an interrupted
    earlier start) are not recorded twice."""
    rows = legacy_erasures(state)
    moved = 0
    for customer_id, erased_at, erased_by in rows:
        at = datetime.fromisoformat(erased_at)
        if any(e.erased_at == at and e.erased_by == erased_by for e in app.erasures_of(customer_id)):
            continue
        app.record_erasure(customer_id, had_personal_data=None, actor=erased_by, at=at)
        moved += 1
    drop_legacy_erasures(state)
    return moved


def _has_table(tx: Transaction, dialect: str, name: str) -> bool:
    if dialect == "sqlite":
        return bool(tx.fetchall("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))
    return bool(tx.fetchall("SELECT to_regclass(?)", (name,))[0][0])
