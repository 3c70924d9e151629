"""Rebuild of all projections from a large embedded log, beside the bare cost of reading and
decoding the same log, in the same child process; peak RSS as the log grows.

Targets: rebuild ≥ 50 % of bare read+decode, ≥ 100,000 events/s on the embedded store, and peak
memory that stays bounded (does not grow with the log). Each measurement runs in a fresh child
process so that its peak RSS is its own. The rebuild rate is the log's events per second of
rebuilding every projection (until 2026-11-28 it summed each projection's pass over the log,
which counted every event once per projection); since then one pass rebuilds them all
(``consumers.rebuild.rebuild_all``). Beside it: the rate in the child's own CPU time (the machine
is shared), and the rates of the parts no rebuild can skip, each alone (``PARTS``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import Result

# Peak memory of the child's own address space (VmHWM). Not ru_maxrss: Linux keeps that across
# execve, so a child started by a large parent would report the parent's size.
CHILD = """
import json, sys, time
from api.bootstrap import bootstrap
from api.settings import Settings
from consumers.rebuild import rebuild_all
store, state = sys.argv[1], sys.argv[2]
services = bootstrap(Settings(store_url=f"sqlite:///{store}", state_store_url=f"sqlite:///{state}"))
recorder, mapper = services.app.recorder, services.app.mapper
from domain.serialization import decode_event
started = time.perf_counter(); position = 0; decoded = 0
while page := recorder.select_notifications(start=position, limit=2000, inclusive_of_start=False):
    for n in page:
        decode_event(n.topic, mapper.decrypt_and_decompress(n.state)); decoded += 1
    position = page[-1].id
bare = decoded / (time.perf_counter() - started)
started, cpu = time.perf_counter(), time.process_time()
total = rebuild_all(services.handlers(), lambda h: services.projector(h, source="embedded"))
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
services.close()
# log events per second with every projection rebuilt (one pass over the log: consumers.rebuild)
print(json.dumps({"events": decoded, "bare_rate": bare, "rebuild_rate": total / seconds,
                  "rebuild_cpu_rate": total / cpu,
                  "peak_rss_mb": int(next(line.split()[1] for line in open("/proc/self/status")
                                          if line.startswith("VmHWM:"))) / 1024}))
"""

# The parts no rebuild can skip, each alone on the first ``PART_EVENTS`` events of the same log
# (a rate per event, so a prefix stands for the whole): the projector's own read + decode of the
# event table (``log_page``, decrypt, decompress, orjson, public names, upcast); the fold with the
# SLA judge; the facts of every version; and writing the version and fact rows into unindexed
# tables, committed every 5,000 events. Beside them (since 2026-11-28 09:00): the facts' opening and
# closing between versions with their roll-up deltas (``FactChanges.follow``, the facts included),
# and the roll-up cells expanded from them. What a rebuild does beyond these: writing the roll-ups,
# current rows, SLA inputs, closing superseded versions and facts, arrivals, the swap's index builds.
PART_EVENTS = 200_000
PARTS = """
import json, sys, time
from zoneinfo import ZoneInfo
from api.bootstrap import bootstrap
from api.settings import Settings
from consumers.sources import EmbeddedLogSource
from domain.sla_policies import PolicyBook
from projections.local_periods import Calendar
from projections.store import StateStore
from projections.ticket_state.fact_rows import facts_of
from projections.ticket_state.facts import SlaFacts
from projections.ticket_state.fold import versions
from projections.ticket_state.rollups import RollupChanges
from projections.ticket_state.store import FACT_ROW_COLUMNS, VERSION_COLUMNS, FactChanges, TicketStateProjection, _row_values
store, state, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
services = bootstrap(Settings(store_url=f"sqlite:///{store}", state_store_url="sqlite:///:memory:"))
source = EmbeddedLogSource(services.app.recorder, services.app.mapper)
rates, pages, position, events = {}, [], 0, 0
started = time.perf_counter()
while events < limit and (deliveries := source.poll({"log": position}, 5000)):
    pages.append([d.event for d in deliveries if d.event is not None and "policy_id" not in d.event])
    position, events = deliveries[-1].position, events + len(deliveries)
rates["read_decode"] = events / (time.perf_counter() - started)
judge, calendar = SlaFacts(PolicyBook(services.policy)), Calendar(ZoneInfo(services.settings.timezone))
rows, folded = {}, []
started = time.perf_counter()
for page in pages:
    by_ticket = {}
    for event in page:
        by_ticket.setdefault(event["ticket_id"], []).append(event)
    batch = []
    for ticket_id, ticket_events in by_ticket.items():
        found = versions(rows.pop(ticket_id, None), ticket_events, judge)
        rows[ticket_id] = found[-1]
        batch.append((ticket_id, found))
    folded.append(batch)
    if len(rows) > 20_000:
        rows.clear()  # bounded, as the projector's memos (a few tickets then start mid-way: skipped)
rates["fold_judge"] = events / (time.perf_counter() - started)
started = time.perf_counter()
for batch in folded:
    for ticket_id, found in batch:
        for row in found:
            facts_of(row, judge, calendar)
rates["facts"] = events / (time.perf_counter() - started)
writes, follow_seconds, expand_seconds = [], 0.0, 0.0
for batch in folded:
    changes, version_rows = FactChanges(RollupChanges(calendar)), []
    started = time.perf_counter()
    for ticket_id, found in batch:
        changes.follow(ticket_id, None, found, judge, calendar)
    follow_seconds += time.perf_counter() - started
    started = time.perf_counter()
    changes.rollups.cells
    expand_seconds += time.perf_counter() - started
    for ticket_id, found in batch:
        for row, following in zip(found, [*found[1:], None]):
            version_rows.append((ticket_id, row.version, row.last_occurred_at, row.last_recorded_at,
                                 None if following is None else following.last_occurred_at,
                                 None if following is None else following.last_recorded_at, *_row_values(row)))
    writes.append((version_rows, changes.opened))
rates["follow"] = events / follow_seconds
rates["rollups"] = events / expand_seconds
target = StateStore(f"sqlite:///{state}")
projection = TicketStateProjection("ticket_state__parts", indexed=False)
with target.transaction() as tx:
    projection.setup(tx)
started = time.perf_counter()
for version_rows, fact_rows in writes:
    with target.transaction() as tx:
        tx.executemany(f"INSERT INTO {projection.versions_table} ({', '.join(VERSION_COLUMNS)}) "
                       f"VALUES ({', '.join('?' * len(VERSION_COLUMNS))}) ON CONFLICT DO NOTHING", version_rows)
        tx.executemany(f"INSERT INTO {projection.facts_table} ({', '.join(FACT_ROW_COLUMNS)}) "
                       f"VALUES ({', '.join('?' * len(FACT_ROW_COLUMNS))}) ON CONFLICT DO NOTHING", fact_rows)
rates["inserts"] = events / (time.perf_counter() - started)
target.close()
print(json.dumps({"events": events, **rates}))
"""


def parts(store: Path) -> dict:
    """The rates of the parts a rebuild cannot skip (``PARTS``), in a child process."""
    state = store.with_suffix(f".parts-{time.monotonic_ns()}.db")
    output = subprocess.run([sys.executable, "-c", PARTS, str(store), str(state), str(PART_EVENTS)],
                            capture_output=True, text=True, check=True)
    for path in state.parent.glob(f"{state.name}*"):
        path.unlink(missing_ok=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure(store: Path) -> dict:
    state = store.with_suffix(f".state-{time.monotonic_ns()}.db")
    output = subprocess.run([sys.executable, "-c", CHILD, str(store), str(state)], capture_output=True,
                            text=True, check=True)
    state.unlink(missing_ok=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def run(events: int = 1_000_000, repeats: int = 1) -> list[Result]:
    from api.bootstrap import bootstrap
    from api.settings import Settings
    from benchmarks.traffic import fill

    workdir = Path(tempfile.mkdtemp(prefix="servicetrail-rebuild-"))
    store = workdir / "events.db"
    services = bootstrap(Settings(store_url=f"sqlite:///{store}", state_store_url=f"sqlite:///{workdir / 's.db'}"))
    checkpoints = [events // 4, events // 2, events]
    written, rows = 0, []
    for seed, checkpoint in enumerate(checkpoints):
        started = time.perf_counter()
        written += fill(services.app, checkpoint - written, seed=seed + 1)
        print(f"  log: {written:,} events (+{time.perf_counter() - started:.0f}s to append)", flush=True)
        sample = [measure(store) for _ in range(repeats)]
        best = sorted(sample, key=lambda s: s["rebuild_rate"])[len(sample) // 2]
        rows.append(best)
        print(f"  {best['events']:,} events: bare {best['bare_rate']:,.0f}/s, rebuild {best['rebuild_rate']:,.0f}/s, "
              f"peak RSS {best['peak_rss_mb']:.0f} MB", flush=True)
    services.close()
    found = parts(store)
    print(f"  parts alone, first {found['events']:,} events: read + decode {found['read_decode']:,.0f}/s, "
          f"fold + SLA judge {found['fold_judge']:,.0f}/s, facts of every version {found['facts']:,.0f}/s, "
          f"inserts of versions and facts {found['inserts']:,.0f}/s; facts followed between versions "
          f"{found['follow']:,.0f}/s, roll-up cells expanded {found['rollups']:,.0f}/s", flush=True)
    largest = rows[-1]
    rss = ", ".join(f"{r['events'] // 1000}k: {r['peak_rss_mb']:.0f} MB" for r in rows)
    bounded = rows[-1]["peak_rss_mb"] <= 1.5 * rows[0]["peak_rss_mb"]
    return [
        Result(f"rebuild all projections ({largest['events']:,} events, SQLite)", largest["rebuild_rate"],
               largest["bare_rate"], "events/s", "≥ 50 % of bare read+decode and ≥ 100,000 events/s",
               largest["rebuild_rate"] >= max(0.5 * largest["bare_rate"], 100_000), f"peak RSS {rss}"),
        Result("rebuild peak RSS, largest vs smallest log", rows[-1]["peak_rss_mb"], rows[0]["peak_rss_mb"], "MB",
               "bounded (≤ 1.5× as the log grows 4×)", bounded, rss),
        Result("rebuild CPU rate (events per second of the child's own CPU time; the load does not count)",
               largest["rebuild_cpu_rate"], largest["bare_rate"], "events/s", "", None),
        *(Result(f"rebuild part alone: {label} (first {found['events']:,} events)", found[key], largest["bare_rate"],
                 "events/s", "what 100,000 events/s would need of every part", None)
          for key, label in (("read_decode", "projector's read + decode of the event table"),
                             ("fold_judge", "fold with the SLA judge"), ("facts", "facts of every version"),
                             ("inserts", "inserts of version and fact rows"),
                             ("follow", "facts opened and closed between versions, with roll-up deltas"),
                             ("rollups", "roll-up cells expanded from a batch's net facts")))
    ]
