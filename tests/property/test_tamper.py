"""Tamper evidence over random logs and random tamperings of the SQLite file: each is detected and
located (ticket, version, position), and an untouched log verifies."""

from __future__ import annotations

import json
import random
import sqlite3
import tempfile
from pathlib import Path
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.bootstrap import bootstrap
from api.settings import Settings
from domain import commands as c
from domain.errors import DomainError
from domain.hashing import chain_hash
from domain.serialization import public_document
from tests.fakes import FakeClock

COMMANDS = [
    lambda t: c.AssignTicket(ticket_id=t, agent_id="ana"),
    lambda t: c.RecordInteraction(ticket_id=t, channel="chat", direction="inbound", author="customer", body="hi"),
    lambda t: c.TriageTicket(ticket_id=t, priority="P2"),
    lambda t: c.EscalateTicket(ticket_id=t, reason="slow"),
    lambda t: c.ResolveTicket(ticket_id=t, code="ok", summary="done"),
]


def build(seed: int, tickets: int, interval: int):
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="tamper-"))
    services = bootstrap(Settings(store_url=f"sqlite:///{folder / 'events.db'}",
                                  state_store_url=f"sqlite:///{folder / 'state.db'}",
                                  audit_checkpoint_interval=interval), clock=FakeClock())
    ids = [services.app.open_ticket(c.OpenTicket(customer_id="c", channel="web", category="x", subject="s")).ticket_id
           for _ in range(tickets)]
    for _ in range(tickets * 3):
        try:
            services.app.handle(rng.choice(COMMANDS)(rng.choice(ids)))
        except DomainError:
            pass
    services.checkpointer().run_until_caught_up()
    return services, folder / "events.db"


def rows(database: Path) -> list[tuple[int, str, int, bytes]]:
    with sqlite3.connect(database) as db:
        return db.execute("SELECT rowid, originator_id, originator_version, state FROM stored_events "
                          "WHERE topic LIKE 'domain.ticket:%' ORDER BY rowid").fetchall()


def tamper(kind: str, database: Path, rng: random.Random) -> dict:
    """Edits the file and returns where the verifier must point."""
    entries = rows(database)
    rowid, ticket, version, state = rng.choice(entries)
    with sqlite3.connect(database) as db:
        if kind == "flip":
            data = bytearray(state)
            index = rng.randrange(len(data))
            data[index] ^= 1 << rng.randrange(8)
            db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (bytes(data), rowid))
            return {"position": rowid}
        if kind == "delete":
            db.execute("DELETE FROM stored_events WHERE rowid = ?", (rowid,))
            return {"ticket_id": str(UUID(ticket)), "version": version}
        if kind == "swap":
            other = rng.choice([e for e in entries if e[0] != rowid])
            db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (other[3], rowid))
            db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?", (state, other[0]))
            return {"position": min(rowid, other[0])}
        if kind == "rewrite":
            internal = json.loads(state)
            internal["actor"] = "intruder"
            internal["hash"] = chain_hash(public_document(internal))
            db.execute("UPDATE stored_events SET state = ? WHERE rowid = ?",
                       (json.dumps(internal).encode(), rowid))
            return {"ticket_id": str(UUID(ticket)), "version": version}
    raise AssertionError(kind)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), tickets=st.integers(2, 6), interval=st.integers(1, 5),
       kind=st.sampled_from(["flip", "delete", "swap", "rewrite"]))
def test_every_tampering_is_detected_and_located(seed, tickets, interval, kind):
    services, database = build(seed, tickets, interval)
    try:
        assert services.verify_log()["intact"], "an untouched log verifies"
        expected = tamper(kind, database, random.Random(seed))
        report = services.verify_log()
        assert not report["intact"], kind
        broken = report["first_broken"]
        for key, value in expected.items():
            assert broken.get(key) == value, (kind, expected, broken)
    finally:
        services.close()
