"""The read side at scale: every dashboard query, live and at random moments on both time axes,
beside the replay that answered moments before (same store, same run); projector catch-up beside a
bare read + decode of the log; the read side's size beside the event store's.

Targets (issue "The read side at real scale"): live queries p99 < 50 ms; the same at 20 random
``as_of`` and ``known_at`` instants p99 < 200 ms; catch-up ≥ 0.5 of bare read + decode.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks.common import Result

FIRST = datetime(2026, 1, 1, tzinfo=timezone.utc)  # benchmarks.traffic opens a ticket every 7 events' minutes


def busiest_month(events: int) -> tuple[str, datetime, datetime]:
    """The calendar month holding the middle of the generated traffic (about events / 7 minutes long)."""
    middle = FIRST + timedelta(minutes=events / 7 / 2)
    start = middle.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    return start.strftime("%Y-%m"), start, end


def _timings(run, repeats: int) -> list[float]:
    found = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        found.append((time.perf_counter() - started) * 1000)
    return found


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def _bare_read(services) -> float:
    """Events/s of reading and decoding the whole log, nothing else (the floor of any consumer)."""
    from domain.serialization import decode_event

    recorder, mapper = services.app.recorder, services.app.mapper
    started, position, decoded = time.perf_counter(), 0, 0
    while page := recorder.select_notifications(start=position, limit=2000, inclusive_of_start=False):
        for n in page:
            decode_event(n.topic, mapper.decrypt_and_decompress(n.state))
            decoded += 1
        position = page[-1].id
    return decoded / (time.perf_counter() - started)


def run(events: int = 1_000_000, repeats: int = 5) -> list[Result]:
    from api.bootstrap import bootstrap
    from api.settings import Settings
    from benchmarks.traffic import fill
    from projections import queries
    from projections.time_travel import replay

    workdir = Path(tempfile.mkdtemp(prefix="servicetrail-read-side-"))
    services = bootstrap(Settings(store_url=f"sqlite:///{workdir / 'events.db'}",
                                  state_store_url=f"sqlite:///{workdir / 'state.db'}"))
    written = fill(services.app, events, seed=11)
    print(f"  log: {written:,} events", flush=True)
    bare = _bare_read(services)
    started = time.perf_counter()
    caught_up = sum(services.projector(h, source="embedded").run_until_caught_up() for h in services.handlers())
    catch_up = caught_up / len(services.handlers()) / (time.perf_counter() - started)
    print(f"  catch-up {catch_up:,.0f} events/s per projection pass; bare read+decode {bare:,.0f}/s", flush=True)
    weights = services.settings.score_weights
    month, start, end = busiest_month(written)
    agent = "agent-07"

    def one(name, as_of=None, known_at=None):
        def asked():
            with services.read(as_of, known_at) as view:
                {"kpis": lambda: queries.kpi_report(view, start, end, None, end),
                 "kpis by channel": lambda: queries.kpi_report(view, start, end, "channel", end),
                 "leaderboard": lambda: queries.leaderboard(view, month, weights),
                 "agent performance": lambda: queries.agent_report(view, agent, month, weights),
                 "ticket list page": lambda: queries.list_tickets(view, limit=50)}[name]()
        return asked

    names = ["kpis", "kpis by channel", "leaderboard", "agent performance", "ticket list page"]
    live = {name: _timings(one(name), repeats) for name in names}
    rng = random.Random(5)
    last = FIRST + timedelta(minutes=written / 7 + 14 * 24 * 60)  # the last tickets close two weeks later
    instants = [FIRST + (last - FIRST) * rng.random() for _ in range(20)]
    moments: dict[str, list[float]] = {name: [] for name in names}
    for index, instant in enumerate(instants):
        as_of, known_at = (instant, None) if index % 2 == 0 else (None, instant)
        for name in names:
            moments[name].extend(_timings(one(name, as_of, known_at), 1))
    # The baseline for moments: what answered them before, a replay of the log (once, mid-history).
    middle = instants[0]
    started = time.perf_counter()
    store = replay(services.log_events(), middle, None, policy=services.policy)
    store.close()
    replay_ms = (time.perf_counter() - started) * 1000
    sizes = {name: sum(f.stat().st_size for f in workdir.glob(f"{name}.db*")) for name in ("events", "state")}
    services.close()
    results = []
    for name in names:
        p99_live, p99_moment = _p99(live[name]), _p99(moments[name])
        print(f"  {name}: live median {statistics.median(live[name]):.0f} ms p99 {p99_live:.0f} ms; "
              f"at 20 moments median {statistics.median(moments[name]):.0f} ms p99 {p99_moment:.0f} ms", flush=True)
        results.append(Result(f"{name}, live ({written:,} events, SQLite, month {month})", p99_live, replay_ms, "ms p99",
                              "p99 < 50 ms", p99_live < 50, "baseline: one replay as of a moment (before)"))
        results.append(Result(f"{name}, 20 random as_of / known_at", p99_moment, replay_ms, "ms p99",
                              "p99 < 200 ms", p99_moment < 200, "baseline: one replay as of a moment (before)"))
    results.append(Result("projector catch-up, every projection", catch_up, bare, "events/s",
                          "≥ 0.5 of bare read + decode", catch_up >= 0.5 * bare))
    results.append(Result("read side size", sizes["state"] / 2**20, sizes["events"] / 2**20, "MB",
                          "reported beside the event store", None))
    return results
