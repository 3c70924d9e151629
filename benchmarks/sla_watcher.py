"""The SLA watcher with 100,000 open tickets: following the log (events/s) beside the bare read of
the same log, and ticks per second with every deadline in a heap beside a scan of every open ticket
per tick (what a heap avoids), in the same run."""

from __future__ import annotations

import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

from api.bootstrap import bootstrap
from api.settings import Settings
from benchmarks.common import Result
from domain.service_levels import Known, actions_due
from domain.ticket import Ticket
from domain.values import Channel, Stamp


def run(events: int = 100_000, repeats: int = 3) -> list[Result]:
    tickets = events  # one opening per ticket: every ticket open, every deadline pending
    folder = Path(tempfile.mkdtemp(prefix="servicetrail-watch-"))
    now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    services = bootstrap(Settings(store_url=f"sqlite:///{folder / 'e.db'}",
                                  state_store_url=f"sqlite:///{folder / 's.db'}"), clock=lambda: now)
    rng = random.Random(3)
    pending = []
    for n in range(tickets):
        opened = now - timedelta(minutes=rng.randrange(0, 30))
        pending.append(Ticket.open(UUID(int=rng.getrandbits(128)), Stamp(opened, opened, "bench"),
                                   customer_id=f"c{n}", channel=Channel.EMAIL, category="x", subject="s",
                                   priority=rng.choice(["P1", "P2", "P3", "P4"])))
        if len(pending) == 1000:
            services.app.save(*pending)
            pending.clear()
    if pending:
        services.app.save(*pending)

    source = services.embedded_source()
    started, read, positions = time.perf_counter(), 0, {}
    while deliveries := source.poll(positions, 5000):
        read += len(deliveries)
        positions["log"] = deliveries[-1].position
    bare_rate = read / (time.perf_counter() - started)

    watcher = services.watcher()
    started = time.perf_counter()
    followed = watcher.run_until_caught_up()
    follow_rate = followed / (time.perf_counter() - started)
    assert len(watcher.rows) == tickets and watcher.actions_taken == 0

    ticks = 20_000
    started = time.perf_counter()
    for _ in range(ticks):
        watcher.tick()
    heap_rate = ticks / (time.perf_counter() - started)

    scans = max(1, repeats)
    started = time.perf_counter()
    for _ in range(scans):
        for row in watcher.rows.values():
            actions_due(row, services.policy, now, Known(open_since=now), watcher.grace)
    scan_rate = scans / (time.perf_counter() - started)
    services.close()
    return [
        Result(f"SLA watcher follows the log ({tickets:,} open tickets)", follow_rate, bare_rate, "events/s",
               "keeps up (reported)", None, "baseline: bare read of the same log"),
        Result(f"SLA watcher tick with {tickets:,} open deadlines (heap)", heap_rate, scan_rate, "ticks/s",
               "a heap, not a scan per tick", heap_rate > 100 * scan_rate, "baseline: one scan of every open ticket"),
    ]
