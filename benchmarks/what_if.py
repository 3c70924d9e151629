"""SLA what-if over a generated month: ~100,000 tickets opened in 2026-02 (``traffic.fill`` over
the month, about 1,000,000 events), projected, then ``what_if`` for the month with a proposed
policy (stricter targets on another calendar), timed beside what answered before, in the same
run: the definition, every resolved row of the month loaded and judged one by one.

Target (issue 14): what-if over a month of 100,000 tickets in < 1 s.
``python -m benchmarks what-if`` (``--quick``: 20,000 events; ``--events N`` for another size);
``python -m benchmarks.what_if --profile`` prints a cProfile of one what-if."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks.common import Result

START, END = datetime(2026, 2, 1, tzinfo=timezone.utc), datetime(2026, 3, 1, tzinfo=timezone.utc)
PROPOSED = """
[calendars.24x7]
always_open = true
[calendars.shanghai]
timezone = "Asia/Shanghai"
hours = ["08:30", "17:30"]
working_days = ["2026-02-28"]
holidays = ["2026-02-16", "2026-02-17", "2026-02-18"]

[[sla]]
tier = "vip"
calendar = "24x7"
first_response_minutes = 20
resolution_minutes = 360
[[sla]]
priority = "P1"
calendar = "24x7"
first_response_minutes = 45
next_response_minutes = 180
resolution_minutes = 360
[[sla]]
priority = "P2"
calendar = "shanghai"
first_response_minutes = 120
next_response_minutes = 240
resolution_minutes = 720
[[sla]]
calendar = "shanghai"
first_response_minutes = 480
resolution_minutes = 2880

[ola.billing]
calendar = "shanghai"
minutes = 240
"""


def prepared(events: int, workdir: Path | None = None):
    """A store holding the generated month, projected (``workdir``: one prepared before, reused)."""
    from api.bootstrap import bootstrap
    from api.settings import Settings
    from benchmarks.traffic import fill
    from projections import queries

    reused = workdir is not None
    workdir = workdir or Path(tempfile.mkdtemp(prefix="servicetrail-what-if-"))
    services = bootstrap(Settings(store_url=f"sqlite:///{workdir / 'events.db'}",
                                  state_store_url=f"sqlite:///{workdir / 'state.db'}"),
                         clock=lambda: datetime(2026, 3, 20, tzinfo=timezone.utc))
    written = services.app.event_count() if reused else fill(services.app, events, seed=11, start=START,
                                                             span=END - START - timedelta(days=2))
    for handler in services.handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    with services.read() as view:
        tickets = len(queries.rows_touching(view, START, END))
    print(f"  log: {written:,} events, {tickets:,} tickets in the month", flush=True)
    return services, written, tickets


def run(events: int = 1_000_000, repeats: int = 3, workdir: Path | None = None) -> list[Result]:
    from api.policy_files import parse_policy
    from projections.ticket_state.fold import iso
    from projections.what_if import _from_rows, what_if

    services, written, tickets = prepared(events, workdir)
    proposed = parse_policy(PROPOSED)

    def timed(work) -> float:
        started = time.perf_counter()
        work()
        return time.perf_counter() - started

    def ask():
        with services.read() as view:
            return what_if(view, START, END, proposed)

    def definition():
        with services.read() as view:
            return {"from": iso(START), "to": iso(END), **_from_rows(view, iso(START), iso(END), proposed)}

    answer = ask()
    phases = {"what_if": [], "definition": []}
    for repeat in range(repeats):
        phases["what_if"].append(timed(ask))
        if repeat == 0:  # tens of seconds: once
            started = time.perf_counter()
            assert definition() == answer, "the vectorised answer differs from the definition"
            phases["definition"].append(time.perf_counter() - started)
    services.close()
    medians = {name: statistics.median(values) for name, values in phases.items()}
    print(f"  what-if median {medians['what_if']:.2f} s over {answer['in_force']['tickets']:,} resolved tickets "
          f"(runs {', '.join(f'{t:.2f}' for t in phases['what_if'])}); the definition row by row "
          f"{medians['definition']:.2f} s, the same answer", flush=True)
    return [Result(f"SLA what-if over a month, {answer['in_force']['tickets']:,} resolved of {tickets:,} tickets "
                   f"({written:,} events, SQLite)", medians["what_if"], medians["definition"], "s", "< 1 s",
                   medians["what_if"] < 1, "baseline: the definition, row by row (what answered before)")]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.what_if", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--workdir", type=Path, help="a folder a previous run prepared (events.db, state.db)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.profile:
        import cProfile
        import pstats

        from api.policy_files import parse_policy
        from projections.what_if import what_if

        services, _, _ = prepared(args.events, args.workdir)
        proposed = parse_policy(PROPOSED)
        with services.read() as view:
            what_if(view, START, END, proposed)
        profiler = cProfile.Profile()
        with services.read() as view:
            profiler.runcall(what_if, view, START, END, proposed)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    else:
        for result in run(events=args.events, repeats=args.repeats, workdir=args.workdir):
            print(f"{result.benchmark}: {result.figure:.2f} s vs {result.baseline:.2f} s ({result.note}); "
                  f"target {result.target} met: {result.passed}")
