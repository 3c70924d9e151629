"""The vault: one AES-256-GCM key per customer, kept in the state store (never in the event log).

Sealing uses the customer id as associated data, so a sealed value cannot be moved to another
customer. Erasing deletes the key and records who erased it and when; every sealed value of that
customer, in every stored event, topic and projection, is unreadable from then on.
"""

from __future__ import annotations

import base64
import os
import threading

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from domain.values import Sealed
from projections.store import StateStore, Transaction


class Vault:
    def __init__(self, store: StateStore):
        self.store = store
        self._lock = threading.Lock()
        with store.transaction() as tx:
            self.setup(tx)

    @staticmethod
    def setup(tx: Transaction) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS customer_keys (customer_id TEXT PRIMARY KEY, key_b64 TEXT NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS customer_erasures (customer_id TEXT PRIMARY KEY, "
                   "erased_at TEXT NOT NULL, erased_by TEXT NOT NULL)")

    def _key(self, owner: str, *, create: bool) -> bytes | None:
        with self.store.transaction() as tx:
            rows = tx.fetchall("SELECT key_b64 FROM customer_keys WHERE customer_id = ?", (owner,))
            if rows:
                return base64.b64decode(rows[0][0])
            if not create:
                return None
            if tx.fetchall("SELECT 1 FROM customer_erasures WHERE customer_id = ?", (owner,)):
                # A returning customer after erasure starts afresh with a new key.
                tx.execute("DELETE FROM customer_erasures WHERE customer_id = ?", (owner,))
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

    def erase(self, owner: str, *, actor: str, at: str) -> bool:
        """Deletes the customer's key; returns False when there was none."""
        with self.store.transaction() as tx:
            existed = bool(tx.fetchall("SELECT 1 FROM customer_keys WHERE customer_id = ?", (owner,)))
            tx.execute("DELETE FROM customer_keys WHERE customer_id = ?", (owner,))
            tx.execute("INSERT INTO customer_erasures (customer_id, erased_at, erased_by) VALUES (?, ?, ?) "
                       "ON CONFLICT (customer_id) DO UPDATE SET erased_at = excluded.erased_at, "
                       "erased_by = excluded.erased_by", (owner, at, actor))
        return existed

    def erased(self, owner: str) -> dict | None:
        with self.store.transaction() as tx:
            rows = tx.fetchall("SELECT erased_at, erased_by FROM customer_erasures WHERE customer_id = ?", (owner,))
        return {"erased_at": rows[0][0], "erased_by": rows[0][1]} if rows else None
