"""The HTTP API under load, from a separate load-generator process (``benchmarks.loadgen``), beside a
trivial endpoint of the same server (``GET /health``: same process, middleware and settings).

- commands: ``POST /v1/tickets`` (with an Idempotency-Key, as integrations send it) at fixed offered
  loads of 100, 300 and 1,000 requests/s, open loop, p50/p99 from the instant each request was due;
  and the maximum throughput (closed loop, 16 connections) beside the trivial endpoint's;
- queries: a ticket, the month's leaderboard and the month's KPIs over a store of 100,000 tickets
  opened in one month, one connection, p50/p99, beside the trivial endpoint.

The server runs the embedded default (SQLite, in-process projector, checkpointer and SLA watcher)
with the per-key rate limit off (``SERVICETRAIL_RATE_LIMIT_PER_MINUTE=0``): the limit is a policy,
not a capacity.
"""

from __future__ import annotations

import json
import os
import random
import re
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
def server(folder: Path, role: str = "admin"):
    """A ``servicetrail serve`` process on a fresh port; yields (port, key)."""
    url = f"sqlite:///{folder / 'events.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SERVICETRAIL_RATE_LIMIT_PER_MINUTE": "0",
           "SERVICETRAIL_LOG_LEVEL": "warning", "SERVICETRAIL_STORE_URL": url}
    created = subprocess.run([*SERVICETRAIL, "keys", "create", "--role", role, "--principal", "bench"], env=env,
                             capture_output=True, text=True, check=True)
    key = re.search(r"st_[0-9a-f]{12}_[A-Za-z0-9_-]+", created.stdout).group(0)
    port = free_port()
    log = (folder / "serve.log").open("w")
    process = subprocess.Popen([*SERVICETRAIL, "serve", "--port", str(port)], env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "serve.log").read_text()) from None
            time.sleep(0.2)
    try:
        yield port, key
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


def _commands(seconds: float, quick: bool) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory(prefix="servicetrail-http-") as folder, server(Path(folder)) as (port, key):
        load(port, key, "health", connections=4, seconds=2)  # warm-up
        trivial = load(port, key, "health", seconds=seconds)
        commands = load(port, key, "open", seconds=seconds)
        print(f"   max throughput: POST /v1/tickets {commands['throughput_per_second']:,.0f}/s, "
              f"GET /health {trivial['throughput_per_second']:,.0f}/s")
        results.append(Result("HTTP commands: max throughput (POST /v1/tickets, 16 connections)",
                              commands["throughput_per_second"], trivial["throughput_per_second"], "req/s",
                              "≥ 0.40 of the trivial endpoint",
                              commands["throughput_per_second"] >= 0.4 * trivial["throughput_per_second"]))
        for rate in (100, 300) if quick else (100, 300, 1000):
            measured = load(port, key, "open", rate=rate, seconds=seconds)
            baseline = load(port, key, "health", rate=rate, seconds=seconds)
            ok = measured["answered_ok"] / max(1, int(rate * seconds))
            print(f"   {rate} req/s offered: achieved {measured['throughput_per_second']:,.0f}/s, "
                  f"p50 {measured['p50_ms']:.1f} ms, p99 {measured['p99_ms']:.1f} ms (trivial p99 "
                  f"{baseline['p99_ms']:.1f} ms), {ok:.1%} answered 2xx, statuses {measured['statuses']}")
            results.append(Result(f"HTTP commands at {rate} req/s offered: p99 latency", measured["p99_ms"],
                                  baseline["p99_ms"], "ms", "p99 < 50 ms at 300 req/s" if rate == 300 else "reported",
                                  measured["p99_ms"] < 50 and ok > 0.99 if rate == 300 else None,
                                  f"p50 {measured['p50_ms']:.1f} ms, achieved "
                                  f"{measured['throughput_per_second']:.0f}/s"))
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


def run(events: int | None = None, repeats: int = 1) -> list[Result]:
    quick = events is not None
    return [*_commands(4 if quick else 8, quick), *_queries(10_000 if quick else 100_000, 5 if quick else 10)]
