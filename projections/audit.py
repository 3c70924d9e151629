"""Tamper evidence: the checkpointer that witnesses the log, and the verifier that re-checks it.

Three things are checked, so that any edit of the stored log is found and located:
- each event's ``hash`` is the SHA-256 of its canonical public form (an edited payload fails);
- each event's ``prev_hash`` is the hash of the previous version of its ticket, and versions are
  contiguous (a deleted, swapped or rewritten event breaks its successor's link);
- what the checkpointer witnessed: a running digest over the whole log (checkpoints every N
  events) and each ticket's head (version, hash, position). A removed or reordered event between
  tickets, or a rewritten last event, disagrees with those.
The checkpointer's tables live in the state store, apart from the event store they witness.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from domain.hashing import GENESIS_HASH, chain_hash
from domain.serialization import stream_of
from projections.store import Transaction

POSITION = "_position"


def public_part(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if not key.startswith("_")}


def step(digest: str, position: int, event_hash: str) -> str:
    return hashlib.sha256(f"{digest}:{position}:{event_hash}".encode()).hexdigest()


class AuditCheckpointer:
    """A consumer handler (embedded log only) that witnesses every ticket event."""

    name = "audit_checkpoints"

    def __init__(self, interval: int = 1000):
        self.interval = interval

    def setup(self, tx: Transaction) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS audit_chain (id INTEGER PRIMARY KEY, position BIGINT NOT NULL, "
                   "events BIGINT NOT NULL, digest TEXT NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS audit_checkpoints (position BIGINT PRIMARY KEY, "
                   "events BIGINT NOT NULL, digest TEXT NOT NULL)")
        tx.execute("CREATE TABLE IF NOT EXISTS audit_heads (ticket_id TEXT PRIMARY KEY, version INTEGER NOT NULL, "
                   "hash TEXT NOT NULL, position BIGINT NOT NULL)")

    def handle(self, tx: Transaction, events: list[dict[str, Any]]) -> None:
        rows = tx.fetchall("SELECT position, events, digest FROM audit_chain WHERE id = 1")
        position, count, digest = rows[0] if rows else (0, 0, GENESIS_HASH)
        last_checkpoint = count - count % self.interval
        heads: dict[str, tuple[int, str, int]] = {}
        checkpoints = []
        for event in events:
            position = event[POSITION]
            digest = step(digest, position, event["hash"])
            count += 1
            heads[stream_of(event)] = (event["version"], event["hash"], position)
            if count - last_checkpoint >= self.interval:
                checkpoints.append((position, count, digest))
                last_checkpoint = count
        tx.execute("INSERT INTO audit_chain (id, position, events, digest) VALUES (1, ?, ?, ?) "
                   "ON CONFLICT (id) DO UPDATE SET position = excluded.position, events = excluded.events, "
                   "digest = excluded.digest", (position, count, digest))
        tx.executemany("INSERT INTO audit_checkpoints (position, events, digest) VALUES (?, ?, ?) "
                       "ON CONFLICT (position) DO NOTHING", checkpoints)
        tx.executemany("INSERT INTO audit_heads (ticket_id, version, hash, position) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (ticket_id) DO UPDATE SET version = excluded.version, hash = excluded.hash, "
                       "position = excluded.position", [(t, *head) for t, head in heads.items()])

    def reset(self, tx: Transaction) -> None:
        for table in ("audit_chain", "audit_checkpoints", "audit_heads"):
            tx.execute(f"DELETE FROM {table}")


@dataclass
class Witness:
    """What the checkpointer recorded: checkpoints by position, the chain head and ticket heads."""

    checkpoints: dict[int, str] = field(default_factory=dict)
    head: tuple[int, str] | None = None
    heads: dict[str, tuple[int, str, int]] = field(default_factory=dict)

    @classmethod
    def read(cls, tx: Transaction) -> Witness:
        AuditCheckpointer().setup(tx)
        chain = tx.fetchall("SELECT position, digest FROM audit_chain WHERE id = 1")
        return cls(
            checkpoints={p: d for p, _, d in tx.fetchall("SELECT position, events, digest FROM audit_checkpoints")},
            head=(chain[0][0], chain[0][1]) if chain else None,
            heads={t: (v, h, p) for t, v, h, p in tx.fetchall("SELECT ticket_id, version, hash, position FROM audit_heads")},
        )


@dataclass
class Broken:
    problem: str
    position: int | None = None
    ticket_id: str | None = None
    version: int | None = None
    expected: str | None = None
    found: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None}


@dataclass
class Report:
    intact: bool
    events: int
    tickets: int
    checkpoints_checked: int
    broken: Broken | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"intact": self.intact, "events": self.events, "tickets": self.tickets,
                "checkpoints_checked": self.checkpoints_checked,
                "first_broken": self.broken.as_dict() if self.broken else None}


@dataclass
class StoredEntry:
    """One ticket event as read from the store: where it sits, and its document or why not."""

    position: int
    ticket_id: str
    version: int
    document: dict[str, Any] | None
    error: str | None = None


def verify(entries: Iterable[StoredEntry], witness: Witness) -> Report:
    """Re-checks every hash and link in log order, then what the checkpointer witnessed."""
    last: dict[str, tuple[int, str]] = {}
    digest, count, checked = GENESIS_HASH, 0, 0
    position = 0
    # A digest mismatch says "something before here"; keep scanning for a finding that names the
    # event (a ticket head), and fall back to the mismatch.
    mismatch: Broken | None = None

    def report(broken: Broken | None) -> Report:
        return Report(broken is None, count, len(last), checked, broken)

    for entry in entries:
        position = entry.position
        if entry.document is None:
            return report(Broken("undecodable", entry.position, entry.ticket_id, entry.version, found=entry.error))
        doc = entry.document
        if (doc.get("ticket_id") or doc.get("policy_id"), doc.get("version")) != (entry.ticket_id, entry.version):
            return report(Broken("event stored under another ticket or version", entry.position, entry.ticket_id,
                                 entry.version, expected=f"{entry.ticket_id} v{entry.version}",
                                 found=f"{doc.get('ticket_id') or doc.get('policy_id')} v{doc.get('version')}"))
        expected_hash = chain_hash(public_part(doc))
        if doc.get("hash") != expected_hash:
            return report(Broken("hash does not match the event's content", entry.position, entry.ticket_id,
                                 entry.version, expected=expected_hash, found=doc.get("hash")))
        previous_version, previous_hash = last.get(entry.ticket_id, (0, GENESIS_HASH))
        if entry.version != previous_version + 1:
            return report(Broken(f"version {previous_version + 1} of the ticket is missing or out of order",
                                 entry.position, entry.ticket_id, previous_version + 1,
                                 expected=str(previous_version + 1), found=str(entry.version)))
        if doc.get("prev_hash") != previous_hash:
            return report(Broken("previous event of the ticket was altered (its hash no longer links)",
                                 entry.position, entry.ticket_id, previous_version,
                                 expected=doc.get("prev_hash"), found=previous_hash))
        last[entry.ticket_id] = (entry.version, doc["hash"])
        digest = step(digest, entry.position, doc["hash"])
        count += 1
        witnessed = witness.checkpoints.get(entry.position)
        if witness.head and entry.position == witness.head[0]:
            witnessed = witness.head[1]
        if witnessed is not None:
            checked += 1
            if witnessed != digest and mismatch is None:
                mismatch = Broken("log differs from a checkpoint: an event was removed, inserted or moved "
                                  "at or before this position", entry.position, expected=witnessed, found=digest)
    for ticket_id, (version, head_hash, head_position) in sorted(witness.heads.items()):
        found_version, found_hash = last.get(ticket_id, (0, None))
        if found_version < version:
            return report(Broken("the ticket's latest witnessed events are missing", head_position, ticket_id,
                                 found_version + 1, expected=f"v{version}", found=f"v{found_version}"))
        if found_version == version and found_hash != head_hash:
            return report(Broken("the ticket's latest witnessed event was rewritten", head_position, ticket_id,
                                 version, expected=head_hash, found=found_hash))
    if mismatch is not None:
        return report(mismatch)
    missing = sorted(p for p in witness.checkpoints if p > position)
    if missing:
        return report(Broken("events witnessed by a checkpoint are missing from the end of the log", missing[0]))
    if witness.head and witness.head[0] > position:
        return report(Broken("events witnessed by the chain head are missing from the end of the log",
                             witness.head[0]))
    return report(None)
