"""The HTTP API under load, from a separate load-generator process (``benchmarks.loadgen``), beside a
trivial endpoint of the same server (``GET /health``: same process, middleware and settings).

- commands: ``POST /v1/tickets`` (with an Idempotency-Key, as integrations send it): the maximum
  throughput (closed loop) beside the trivial endpoint's, for one ``serve`` process and for
  ``serve --workers N`` on PostgreSQL (N = cores); and p50/p99 at fixed offered loads (100 and
  300 requests/s, open loop, latency from the instant each request was due); medians of repeats;
- queries: a ticket, the month's leaderboard and the month's KPIs over a store of 100,000 tickets
  opened in one month, one connection, p50/p99, beside the trivial endpoint.

One process runs the embedded default (SQLite, in-process projector, checkpointer and SLA watcher);
all run with the per-key rate limit off (``SERVICETRAIL_RATE_LIMIT_PER_MINUTE=0``): the limit is a policy,
not a capacity.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

from benchmarks.common import Result
from tools.kafka.broker import free_port

ROOT = Path(__file__).resolve().parents[1]
SERVICETRAIL = [sys.executable, "-m", "api.cli"]


@contextmanager
def server(folder: Path, role: str = "admin", *, store_url: str | None = None, workers: int = 1,
           consumers: str = "in-process", with_process: bool = False):
    """A ``servicetrail serve [--workers N] [--consumers none]`` process on a fresh port; yields (port, key),
    or (port, key, process) ``with_process``."""
    url = store_url or f"sqlite:///{folder / 'events.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SERVICETRAIL_RATE_LIMIT_PER_MINUTE": "0",
           "SERVICETRAIL_LOG_LEVEL": "warning", "SERVICETRAIL_STORE_URL": url,
           "SERVICETRAIL_SECRET_KEY": "benchmark-secret", "SERVICETRAIL_CONSUMERS": consumers}
    created = subprocess.run([*SERVICETRAIL, "keys", "create", "--role", role, "--principal", "bench"], env=env,
                             capture_output=True, text=True, check=True)
    key = re.search(r"st_[0-9a-f]{12}_[A-Za-z0-9_-]+", created.stdout).group(0)
    port = free_port()
    log = (folder / f"serve-{port}.log").open("w")
    process = subprocess.Popen([*SERVICETRAIL, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(Path(log.name).read_text()) from None
            time.sleep(0.2)
    if workers > 1:
        time.sleep(3.0)  # the first worker answers; give the others time to listen too
    try:
        yield (port, key, process) if with_process else (port, key)
    finally:
        process.terminate()
        process.wait(timeout=30)


def load(port: int, key: str, scenario: str, *, rate: float | None = None, connections: int = 16,
         seconds: float = 8, **extra: str) -> dict:
    command = [sys.executable, "-m", "benchmarks.loadgen", "--port", str(port), "--key", key,
               "--scenario", scenario, "--seconds", str(seconds), "--connections", str(connections)]
    if rate:
        command += ["--rate", str(rate)]
    for name, value in extra.items():
        command += [f"--{name}", value]
    output = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ,
                                                                                      "PYTHONPATH": str(ROOT)})
    return json.loads(output.stdout)


def _wait_caught_up(port: int, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=30) as response:
            report = json.load(response)
        lags = [c.get("lag", 0) for name, c in report.get("consumers", {}).items() if name != "sla_watcher"]
        if lags and max(lags) == 0:
            return
        time.sleep(0.5)


def _max_throughput(port: int, key: str, seconds: float, repeats: int, connections: int) -> tuple[float, float]:
    """Medians of (commands/s, trivial requests/s), closed loop, measured in alternation so that
    both see the same moments of a noisy machine."""
    load(port, key, "health", connections=4, seconds=2)  # warm-up
    load(port, key, "open", connections=4, seconds=2)
    commands, trivial = [], []
    for _ in range(repeats):
        trivial.append(load(port, key, "health", connections=connections, seconds=seconds)["throughput_per_second"])
        commands.append(load(port, key, "open", connections=connections, seconds=seconds)["throughput_per_second"])
    print(f"   commands/s {[round(c) for c in commands]}, trivial/s {[round(t) for t in trivial]}")
    return statistics.median(commands), statistics.median(trivial)


def _offered(port: int, key: str, rate: int, seconds: float, repeats: int, label: str) -> Result:
    """p99 of commands at ``rate`` requests/s offered (open loop), median of repeats, beside the
    trivial endpoint's p99 at the same rate."""
    measured, baseline = [], []
    for _ in range(repeats):
        measured.append(load(port, key, "open", rate=rate, seconds=seconds))
        baseline.append(load(port, key, "health", rate=rate, seconds=seconds))
    p99 = statistics.median(m["p99_ms"] for m in measured)
    p50 = statistics.median(m["p50_ms"] for m in measured)
    ok = min(m["answered_ok"] for m in measured) / max(1, int(rate * seconds))
    trivial_p99 = statistics.median(b["p99_ms"] for b in baseline)
    print(f"   {label}, {rate} req/s offered: p50 {p50:.1f} ms, p99 {p99:.1f} ms (each run "
          f"{[round(m['p99_ms'], 1) for m in measured]}), trivial p99 {trivial_p99:.1f} ms, {ok:.1%} answered 2xx")
    target = rate == 300
    return Result(f"HTTP commands, {label}, at {rate} req/s offered (open loop): p99", p99, trivial_p99, "ms",
                  "p99 < 50 ms" if target else "reported", (p99 < 50 and ok > 0.99) if target else None,
                  f"p50 {p50:.1f} ms; median of {repeats}")


def _postgres() -> tuple[object, str] | None:
    try:
        from tests.support.postgres import PostgresUnavailable, start_cluster
    except ImportError:  # pragma: no cover - the test helpers ship with the repository
        return None
    try:
        cluster = start_cluster()
    except PostgresUnavailable as missing:
        print(f"   PostgreSQL unavailable ({missing}): the workers rows are skipped")
        return None
    return cluster, cluster.url


def _commands(seconds: float, quick: bool, repeats: int = 3, workers: int | None = None) -> list[Result]:
    """One ``serve`` process (the embedded default: SQLite, consumers in threads), ``serve --workers N``
    on SQLite (p99 at 300 requests/s only), then ``serve --workers N`` on PostgreSQL (N = cores; consumers in their own process), each against
    the trivial endpoint served the same way (same processes, same middleware)."""
    results = []
    workers = workers or os.cpu_count() or 2
    with tempfile.TemporaryDirectory(prefix="servicetrail-http-") as folder:
        with server(Path(folder)) as (port, key):
            commands, trivial = _max_throughput(port, key, seconds, repeats, 16)
            results.append(Result("HTTP POST /v1/tickets max throughput, one process (SQLite, consumers in-process; "
                                  "16 connections, closed loop)", commands, trivial, "req/s",
                                  "≥ 0.30 of the trivial endpoint", commands >= 0.30 * trivial,
                                  f"median of {repeats}"))
            for rate in (100, 300):
                results.append(_offered(port, key, rate, seconds, repeats, "one process"))
        sqlite_folder = Path(folder) / "sqlite-workers"
        sqlite_folder.mkdir()
        with server(sqlite_folder, workers=workers) as (port, key):  # the embedded default, scaled out
            results.append(_offered(port, key, 300, seconds, repeats,
                                    f"--workers {workers} on SQLite, consumers in their own process"))
        found = _postgres()
        if found is None:
            return results
        cluster, url = found
        try:
            for consumers, where in (("in-process", "consumers in their own process"),
                                     ("none", "--consumers none: consumers deployed elsewhere")):
                with server(Path(folder), store_url=url, workers=workers, consumers=consumers) as (port, key):
                    commands, trivial = _max_throughput(port, key, seconds, repeats, 32)
                    results.append(Result(f"HTTP POST /v1/tickets max throughput, --workers {workers} on PostgreSQL "
                                          f"({where}; 32 connections)", commands, trivial, "req/s",
                                          f"≥ 0.40 of the trivial endpoint with {workers} workers",
                                          commands >= 0.40 * trivial, f"median of {repeats}"))
                    results.append(_offered(port, key, 300, seconds, repeats,
                                            f"--workers {workers} on PostgreSQL, {where}"))
        finally:
            cluster.stop()  # type: ignore[attr-defined]
    return results


def _month_of_tickets(url: str, tickets: int) -> list[str]:
    from api.bootstrap import bootstrap
    from api.settings import Settings
    from benchmarks.traffic import ticket_history

    services = bootstrap(Settings(store_url=url))
    rng = random.Random(11)
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    spacing = timedelta(days=28) / tickets
    ids, pending = [], []
    for n in range(tickets):
        ticket = ticket_history(rng, UUID(int=rng.getrandbits(128)), start + spacing * n, 6)
        ids.append(str(ticket.id))
        pending.append(ticket)
        if len(pending) == 1000:
            services.app.save(*pending)
            pending.clear()
    if pending:
        services.app.save(*pending)
    services.close()
    return ids


def _queries(tickets: int, seconds: float) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory(prefix="servicetrail-queries-") as folder:
        started = time.perf_counter()
        ids = _month_of_tickets(f"sqlite:///{Path(folder) / 'events.db'}", tickets)
        print(f"   wrote {tickets:,} tickets in {time.perf_counter() - started:.0f}s", flush=True)
        with server(Path(folder)) as (port, key):
            _wait_caught_up(port)
            sample = ",".join(random.Random(3).sample(ids, 200))
            trivial = load(port, key, "health", connections=1, seconds=seconds)
            for scenario, label in (("ticket", "GET /v1/tickets/{id}"),
                                    ("leaderboard", "GET /v1/agents/leaderboard?period=2026-03"),
                                    ("kpis", "GET /v1/kpis over the month")):
                measured = load(port, key, scenario, connections=1, seconds=seconds, ids=sample, period="2026-03")
                print(f"   {label}: p50 {measured['p50_ms']:.1f} ms, p99 {measured['p99_ms']:.1f} ms "
                      f"({measured['answered_ok']} answers; trivial p99 {trivial['p99_ms']:.1f} ms)")
                results.append(Result(f"query {label}, {tickets:,} tickets: p99", measured["p99_ms"],
                                      trivial["p99_ms"], "ms", "p99 < 30 ms", measured["p99_ms"] < 30,
                                      f"p50 {measured['p50_ms']:.1f} ms"))
    return results


def run(events: int | None = None, repeats: int | None = None) -> list[Result]:
    quick = events is not None
    return [*_commands(4 if quick else 8, quick, repeats or (1 if quick else 3)),
            *_queries(10_000 if quick else 100_000, 5 if quick else 10)]


def run_commands(events: int | None = None, repeats: int | None = None) -> list[Result]:
    """Only the command rows (``python -m benchmarks http-commands``): the queries' store takes minutes."""
    quick = events is not None
    return _commands(4 if quick else 8, quick, repeats or (1 if quick else 3))
