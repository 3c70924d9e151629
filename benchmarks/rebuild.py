"""Rebuild of all projections from a large embedded log, beside the bare cost of reading and
decoding the same log, in the same child process; peak RSS as the log grows.

Targets: rebuild ≥ 50 % of bare read+decode, ≥ 100,000 events/s on the embedded store, and peak
memory that stays bounded (does not grow with the log). Each measurement runs in a fresh child
process so that its peak RSS is its own. The rebuild rate is the log's events per second of
rebuilding every projection (until 2026-11-28 it summed each projection's pass over the log,
which counted every event once per projection).
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
started = time.perf_counter()
total = rebuild_all(services.handlers(), lambda h: services.projector(h, source="embedded"))
seconds = time.perf_counter() - started
services.close()
# log events per second with every projection rebuilt (one pass over the log: consumers.rebuild)
print(json.dumps({"events": decoded, "bare_rate": bare, "rebuild_rate": total / seconds,
                  "peak_rss_mb": int(next(line.split()[1] for line in open("/proc/self/status")
                                          if line.startswith("VmHWM:"))) / 1024}))
"""


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
    largest = rows[-1]
    rss = ", ".join(f"{r['events'] // 1000}k: {r['peak_rss_mb']:.0f} MB" for r in rows)
    bounded = rows[-1]["peak_rss_mb"] <= 1.5 * rows[0]["peak_rss_mb"]
    return [
        Result(f"rebuild all projections ({largest['events']:,} events, SQLite)", largest["rebuild_rate"],
               largest["bare_rate"], "events/s", "≥ 50 % of bare read+decode and ≥ 100,000 events/s",
               largest["rebuild_rate"] >= max(0.5 * largest["bare_rate"], 100_000), f"peak RSS {rss}"),
        Result("rebuild peak RSS, largest vs smallest log", rows[-1]["peak_rss_mb"], rows[0]["peak_rss_mb"], "MB",
               "bounded (≤ 1.5× as the log grows 4×)", bounded, rss),
    ]
