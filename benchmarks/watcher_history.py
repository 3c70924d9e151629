"""The SLA watcher following an imported history from position 0, beside a bare read of the same
log: the rate (events/s) and what it appended (nothing: an imported history is facts, not
actions; README "Facts versus actions").

``python -m benchmarks watcher-history`` imports the first rows of the NYC council cases (40,000
by default) into a fresh store; ``python -m benchmarks.watcher_history --store-url URL`` measures
an existing store instead (e.g. one filled by ``servicetrail import`` of the whole file). The
watcher's clock is a year after now, so every deadline of the history is long due when it is
judged; whatever it appends to the store is reported (it should be nothing)."""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from api.bootstrap import bootstrap
from api.settings import Settings
from benchmarks.common import Result
from consumers.sla_watcher import SlaWatcher


def measure(services, repeats: int = 3) -> dict:
    """Bare reads and watcher runs alternate (``repeats`` each, medians), so that neither gets the
    warmer cache."""
    source, head = services.embedded_source(), services.app.event_count()
    year_later = services.clock() + timedelta(days=365)  # every deadline of the history is long past
    grace = timedelta(seconds=services.settings.sla_action_grace_seconds)
    bare, follow, read, watcher = [], [], 0, None
    for _ in range(repeats):
        started, read, positions = time.perf_counter(), 0, {}
        while deliveries := source.poll(positions, 5000):
            read += len(deliveries)
            positions["log"] = deliveries[-1].position
        bare.append(read / (time.perf_counter() - started))
        watcher = SlaWatcher(services.app, source, services.policy, lambda: year_later, grace=grace)
        started = time.perf_counter()
        followed = watcher.run_until_caught_up()
        follow.append(followed / (time.perf_counter() - started))
        watcher.run_until_caught_up()
    return {"events": read, "bare": statistics.median(bare), "follow": statistics.median(follow),
            "appended": services.app.event_count() - head, "actions": watcher.actions_taken,
            "open_tickets_kept": len(watcher.rows)}


def run(events: int = 40_000, repeats: int = 3, store_url: str | None = None) -> list[Result]:
    """``events``: NYC rows to import when no store is given (``--quick`` passes 20,000)."""
    if store_url is None:
        from consumers.importers import FORMATS
        from consumers.importers.base import run_import
        from tests.support.data import data_file

        folder = Path(tempfile.mkdtemp(prefix="servicetrail-watch-history-"))
        services = bootstrap(Settings(store_url=f"sqlite:///{folder / 'e.db'}",
                                      state_store_url=f"sqlite:///{folder / 's.db'}"))
        rows = itertools.islice(FORMATS["nyc-council"](data_file("nyc-council")), events)
        run_import(services.app, rows, actor="import:nyc-council")
    else:
        folder = Path(tempfile.mkdtemp(prefix="servicetrail-watch-history-"))
        services = bootstrap(Settings(store_url=store_url, state_store_url=f"sqlite:///{folder / 's.db'}"))
    try:
        figures = measure(services, max(1, repeats))
    finally:
        services.close()
    print(f"   {figures}")
    return [Result(f"SLA watcher follows an imported history from 0 ({figures['events']:,} events)",
                   figures["follow"], figures["bare"], "events/s", "≥ 0.5 of a bare read, appends nothing",
                   figures["follow"] >= 0.5 * figures["bare"] and figures["appended"] == 0,
                   f"appended {figures['appended']} events; open tickets kept {figures['open_tickets_kept']:,}")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.watcher_history", description=__doc__)
    parser.add_argument("--store-url", help="an existing store (default: import NYC rows into a fresh one)")
    parser.add_argument("--rows", type=int, default=40_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    for result in run(events=args.rows, repeats=args.repeats, store_url=args.store_url):
        print(f"{result.benchmark}: {result.figure:,.0f} {result.unit} vs bare read {result.baseline:,.0f} "
              f"(ratio {result.ratio:.2f}); {result.note}; target met: {result.passed}")
