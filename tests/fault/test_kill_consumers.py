"""The projector (with the audit checkpointer) and the SLA watcher killed with SIGKILL at random
moments, many times, during a sustained load of commands: at the end the projections equal a
rebuild, every accepted command is in the store once, the audit verifies, and no breach was
escalated twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from api.bootstrap import bootstrap, projection_handlers
from api.settings import Settings
from domain import commands as c
from projections.ticket_state.store import read_all
from tests.e2e.test_cli import ROOT

POLICY = """
[[sla]]
calendar = "24x7"
first_response_minutes = 1
resolution_minutes = 3
"""


@pytest.mark.slow
def test_consumers_killed_at_random_lose_nothing_and_escalate_once(tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    settings = dict(store_url=f"sqlite:///{tmp_path / 'events.db'}", state_store_url=f"sqlite:///{tmp_path / 'state.db'}",
                    policy_file=policy, poll_interval_ms=20, sla_action_grace_seconds=1)
    services = bootstrap(Settings(**settings))
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           **{f"SERVICETRAIL_{k.upper()}": str(v) for k, v in settings.items()}}
    commands = {"project": [sys.executable, "-m", "api.cli", "project", "--source", "embedded"],
                "watch": [sys.executable, "-m", "api.cli", "watch"]}
    processes = {name: subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for name, argv in commands.items()}
    rng, kills, accepted, stop = random.Random(5), Counter(), [], threading.Event()

    def load() -> None:
        n = 0
        while not stop.is_set() and n < 300:
            n += 1
            past = datetime.now(timezone.utc) - timedelta(seconds=58)  # first response due in 2 s, live
            outcome = services.app.open_ticket(c.OpenTicket(customer_id=f"c{n}", channel="chat", category="x",
                                                            subject="s", occurred_at=past))
            accepted.append(outcome.ticket_id)
            if n % 3 == 0:
                services.app.record_interaction(c.RecordInteraction(
                    ticket_id=outcome.ticket_id, channel="chat", direction="inbound", author="customer"))
            time.sleep(0.01)

    try:
        writer = threading.Thread(target=load)
        writer.start()
        deadline = time.monotonic() + 60
        while writer.is_alive() and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.2, 0.8))
            name = rng.choice(sorted(processes))
            processes[name].send_signal(signal.SIGKILL)
            processes[name].wait()
            kills[name] += 1
            processes[name] = subprocess.Popen(commands[name], env=env, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.DEVNULL)
        stop.set()
        writer.join()
        acted = time.monotonic() + 60  # the last ticket falls due after the load: let the watcher act on it
        while time.monotonic() < acted and not {"ticket.sla_breached", "ticket.escalated"} <= {
                e.type for e in services.app.ticket_events(accepted[-1])}:
            time.sleep(0.2)
        head, caught_up = services.app.event_count(), time.monotonic() + 90
        while time.monotonic() < caught_up:  # let the last incarnations catch up (slow on a busy machine)
            with services.state.transaction() as tx:
                if all(tx.positions(h.name).get("log", 0) >= head for h in projection_handlers()):
                    break
            time.sleep(0.2)
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)

    with services.state.transaction() as tx:
        live = read_all(tx)
    rebuilt_store = bootstrap(Settings(store_url=settings["store_url"], state_store_url=f"sqlite:///{tmp_path / 'r.db'}"))
    for handler in projection_handlers():
        rebuilt_store.projector(handler, source="embedded").run_until_caught_up()
    with rebuilt_store.state.transaction() as tx:
        rebuilt = read_all(tx)
    rebuilt_store.close()
    assert kills["project"] >= 2 and kills["watch"] >= 2, kills
    assert len(accepted) == len(set(accepted)) and set(map(str, accepted)) <= set(rebuilt)
    assert live == rebuilt, "projections equal a rebuild after every kill"
    escalations = Counter()
    for ticket_id in accepted:
        for event in services.app.ticket_events(ticket_id):
            if event.type in ("ticket.escalated", "ticket.sla_breached"):
                escalations[(ticket_id, event.type, event.deadline)] += 1
    assert escalations and max(escalations.values()) == 1, "no breach recorded or escalated twice"
    assert services.verify_log()["intact"]
    print(f"kills {dict(kills)}; {len(accepted)} tickets; {sum(escalations.values())} breach/escalation events")
    services.close()
