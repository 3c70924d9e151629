"""Projector catch-up of every projection on an existing store (e.g. the NYC council file after
``servicetrail import``), beside a bare read + decode of the same log, in the same process.

``python -m benchmarks.catch_up --store-url sqlite:///…/events.db`` projects into a fresh state
store in a temporary folder (the store's own read side is not touched) with the projector every
``serve`` runs (``services.projector``, batches of 5,000 behind the log), one projection after the
other, as ``benchmarks.read_side`` does for its generated store. Target (issue "The read side at
real scale"): catch-up ≥ 0.5 of bare read + decode on the NYC store."""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from benchmarks.common import Result
from benchmarks.read_side import _bare_read


def progress(name: str, started: float):
    """Prints the running rate every 100,000 positions (a long run stopped early still tells it)."""
    done = 0

    def batch(consumed: int) -> None:
        nonlocal done
        done += consumed
        if done % 100_000 < consumed:
            print(f"  {name}: {done:,} positions, {done / (time.perf_counter() - started):,.0f}/s since the start",
                  flush=True)
    return batch


def run(store_url: str) -> list[Result]:
    from api.bootstrap import bootstrap
    from api.settings import Settings

    folder = Path(tempfile.mkdtemp(prefix="servicetrail-catch-up-"))
    try:
        services = bootstrap(Settings(store_url=store_url, state_store_url=f"sqlite:///{folder / 'state.db'}"))
        load = os.getloadavg()[0]
        bare = _bare_read(services)
        handlers = services.handlers()
        started, cpu = time.perf_counter(), time.process_time()
        caught_up = 0
        for handler in handlers:
            runtime = services.projector(handler, source="embedded")
            runtime.on_batch = progress(handler.name, started)
            caught_up += runtime.run_until_caught_up()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        events = caught_up / len(handlers)
        services.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rate = events / seconds
    print(f"  {events:,.0f} log positions: catch-up {rate:,.0f} events/s per projection pass "
          f"({events / cpu:,.0f}/s of own CPU time); bare read+decode {bare:,.0f}/s; "
          f"load average {load:.1f} → {os.getloadavg()[0]:.1f}", flush=True)
    return [Result(f"projector catch-up, every projection ({events:,.0f} positions)", rate, bare, "events/s",
                   "≥ 0.5 of bare read + decode", rate >= 0.5 * bare,
                   f"own CPU time: {events / cpu:,.0f} events/s")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.catch_up", description=__doc__)
    parser.add_argument("--store-url", required=True)
    for result in run(parser.parse_args().store_url):
        print(result.as_dict())
