"""End-to-end freshness through Kafka: from a command's 201 to the ticket's row in the projection.

The distributed deployment on one machine, as docker-compose runs it: ``servicetrail serve
--consumers none``, ``servicetrail relay`` (event store → events topic) and ``servicetrail project``
(events topic → ``ticket_state``) as their own processes, with a real Kafka broker. Commands are
offered at a fixed rate by the separate load generator. This process polls the projection's table
every 5 ms and notes when each ticket appears. Freshness = appeared − the instant the command was
accepted (the event's ``recorded_at``, stamped by the server's clock when it committed; same
machine, same clock; ±5 ms from the polling).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

from benchmarks.common import Result
from benchmarks.http_load import ROOT, load, server
from benchmarks.loadgen import percentile


def run(events: int | None = None, repeats: int = 1) -> list[Result]:
    seconds = 5 if events is not None else 10
    return [*_freshness(100, seconds), *_freshness(300, seconds)]


def _freshness(rate: float, seconds: float) -> list[Result]:
    from tools.kafka.broker import new_cluster

    cluster = new_cluster(1)
    cluster.start()
    folder = Path(tempfile.mkdtemp(prefix="servicetrail-freshness-"))
    os.environ["SERVICETRAIL_KAFKA_BOOTSTRAP"] = cluster.bootstrap
    os.environ["SERVICETRAIL_CONSUMERS"] = "none"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SERVICETRAIL_STORE_URL": f"sqlite:///{folder / 'events.db'}",
           "SERVICETRAIL_POLL_INTERVAL_MS": "20", "SERVICETRAIL_LOG_LEVEL": "warning"}
    consumers = []
    try:
        with server(folder) as (port, key):
            for name in ("relay", "project"):
                consumers.append(subprocess.Popen([sys.executable, "-m", "api.cli", name], env=env,
                                                  stdout=(folder / f"{name}.log").open("w"), stderr=subprocess.STDOUT))
            load(port, key, "open", connections=2, seconds=3)  # warm-up: topics, consumer group, first batches
            seen: dict[str, float] = {}
            recorded: dict[str, str] = {}
            stop = threading.Event()

            def watch() -> None:
                db = sqlite3.connect(f"file:{folder / 'projections.db'}?mode=ro", uri=True)
                last = 0
                while not stop.is_set():
                    try:
                        rows = db.execute("SELECT rowid, ticket_id, opened_at "
                                          "FROM ticket_state WHERE rowid > ? ORDER BY rowid", (last,)).fetchall()
                    except sqlite3.OperationalError:
                        rows = []
                    now = time.time()
                    for rowid, ticket_id, opened_at in rows:
                        seen.setdefault(ticket_id, now)
                        recorded.setdefault(ticket_id, opened_at)
                        last = rowid
                    time.sleep(0.005)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            record = folder / "accepted.txt"
            measured = load(port, key, "open", rate=rate, seconds=seconds, record=str(record))
            deadline = time.time() + 30
            accepted = dict(line.split() for line in record.read_text().splitlines() if line)
            while time.time() < deadline and not all(t in seen for t in accepted):
                time.sleep(0.05)
            stop.set()
            watcher.join()
    finally:
        for process in consumers:
            process.terminate()
            process.wait(timeout=30)
        os.environ.pop("SERVICETRAIL_KAFKA_BOOTSTRAP", None)
        os.environ.pop("SERVICETRAIL_CONSUMERS", None)
        cluster.stop()
    # An opening without occurred_at is stamped with the server clock: opened_at = recorded_at.
    delays = [seen[t] - datetime.fromisoformat(recorded[t].replace("Z", "+00:00")).timestamp()
              for t in accepted if t in seen]
    missing = len(accepted) - len(delays)
    p50, p99 = 1000 * percentile(delays, 0.5), 1000 * percentile(delays, 0.99)
    print(f"   {len(accepted)} commands accepted at {measured['throughput_per_second']:.0f}/s offered {rate:.0f}/s "
          f"(command p99 {measured['p99_ms']:.0f} ms); visible in the projection via Kafka: p50 {p50:.0f} ms, "
          f"p99 {p99:.0f} ms, max {1000 * max(delays):.0f} ms; never visible within 30 s: {missing}")
    return [Result(f"freshness via Kafka at {rate:.0f} req/s offered: command accepted → in the projection, p99",
                   p99, statistics.median(delays) * 1000, "ms", "p99 < 500 ms (baseline column: p50)",
                   p99 < 500 and missing == 0 if rate == 300 else None,
                   f"{len(accepted)} commands accepted at {measured['throughput_per_second']:.0f}/s, "
                   f"command p99 {measured['p99_ms']:.0f} ms, {missing} never seen")]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    for result in run():
        print(result)
