"""The dashboard's queries on an existing store, live and at 20 random moments: the read-side
benchmark's loop pointed at a store you have (the report benchmark's 1,000,000 events, or the NYC
council file after ``servicetrail import``).

``python -m benchmarks.store_queries DIR MONTH`` opens ``DIR/events.db`` and ``DIR/state.db``,
catches every projection up first (it prints how long that took), then times, for the local month
``MONTH`` (``YYYY-MM``), the KPIs with and without ``group_by=channel``, the leaderboard, the
performance of the agent who handled most tickets that month and a ticket list page: 5 times live
and once at each of 20 moments, 10 ``as_of`` drawn across the store's business history and 10
``known_at`` across its record history (seeded, so two runs ask the same moments). Prints the
median and p99 of each, in wall time and in the process's CPU time (on a shared machine the
wall time moves with the load; the load average is printed last); the targets (issue "The read side at real scale") are p99 < 50 ms live and
< 200 ms at the moments."""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="folder with events.db and state.db")
    parser.add_argument("month", help="the local month asked about, YYYY-MM")
    args = parser.parse_args()

    from api.bootstrap import bootstrap
    from api.settings import Settings
    from projections import queries
    from projections.moment import period_bounds

    services = bootstrap(Settings(store_url=f"sqlite:///{args.directory / 'events.db'}",
                                  state_store_url=f"sqlite:///{args.directory / 'state.db'}"))
    started = time.perf_counter()
    caught = sum(services.projector(h, source="embedded").run_until_caught_up() for h in services.handlers())
    print(f"catch-up: {caught:,} deliveries in {time.perf_counter() - started:.1f} s", flush=True)
    start, end = period_bounds(args.month, timezone.utc)
    weights = services.settings.score_weights

    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    with services.state.read() as tx:
        first, last = tx.fetchall("SELECT min(opened_at), max(activity_at) FROM ticket_state")[0]
        recorded_first, recorded_last = tx.fetchall("SELECT min(recorded_at), max(recorded_at) FROM ticket_versions")[0]
        agent = (tx.fetchall("SELECT agent FROM ticket_facts WHERE kind = 'handled' AND detail = ? AND agent IS NOT NULL "
                             "GROUP BY agent ORDER BY count(*) DESC LIMIT 1", (args.month,)) or [("nobody",)])[0][0]
    print(f"business history {first} .. {last}; recorded {recorded_first} .. {recorded_last}; agent {agent}", flush=True)
    rng = random.Random(5)
    moments = [(parse(first) + (parse(last) - parse(first)) * rng.random(), None) for _ in range(10)]
    moments += [(None, parse(recorded_first) + (parse(recorded_last) - parse(recorded_first)) * rng.random())
                for _ in range(10)]
    asked = {
        "KPIs": lambda view: queries.kpi_report(view, start, end, None, end),
        "KPIs by channel": lambda view: queries.kpi_report(view, start, end, "channel", end),
        "leaderboard": lambda view: queries.leaderboard(view, args.month, weights),
        "agent performance": lambda view: queries.agent_report(view, agent, args.month, weights),
        "ticket list page": lambda view: queries.list_tickets(view, limit=50),
    }

    cpu: list[float] = []

    def timed(query, as_of=None, known_at=None) -> float:
        began, began_cpu = time.perf_counter(), time.process_time()
        with services.read(as_of, known_at) as view:
            query(view)
        cpu.append((time.process_time() - began_cpu) * 1000)
        return (time.perf_counter() - began) * 1000

    for name, query in asked.items():
        live = [timed(query) for _ in range(5)]
        live_cpu = cpu[-5:]
        at = [timed(query, *moment) for moment in moments]
        at_cpu = cpu[-20:]
        print(f"{name}: live median {statistics.median(live):.1f} p99 {p99(live):.1f} ms; 20 moments median "
              f"{statistics.median(at):.1f} p99 {p99(at):.1f} ms (as_of p99 {p99(at[:10]):.1f}, "
              f"known_at p99 {p99(at[10:]):.1f}); CPU: live p99 {p99(live_cpu):.1f}, moments median "
              f"{statistics.median(at_cpu):.1f} p99 {p99(at_cpu):.1f} ms", flush=True)
    print(f"load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}", flush=True)
    services.close()


if __name__ == "__main__":
    main()
