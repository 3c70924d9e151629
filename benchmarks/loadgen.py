"""A small HTTP load generator, run as its own process so that it does not share the server's
interpreter: ``python -m benchmarks.loadgen --port P --scenario open --rate 300 --seconds 10``.

Open loop (``--rate``): requests are due at fixed instants whatever the server does, and latency is
measured from the instant a request was due, so a slow server cannot hide its queueing (no
coordinated omission). Closed loop (``--connections N`` without a rate): N connections send as
fast as answers come back, which measures the maximum throughput. HTTP/1.1 keep-alive over raw
asyncio streams: the client's own cost per request stays far below the server's. Prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import statistics
import time
import uuid
from collections.abc import Callable, Iterator


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def scenario_requests(name: str, key: str, ids: list[str], period: str) -> Iterator[tuple[str, str, bytes]]:
    """(method, path, body) per request of a scenario, endlessly."""
    if name == "health":
        return itertools.repeat(("GET", "/health", b""))
    if name == "open":
        def opens() -> Iterator[tuple[str, str, bytes]]:
            for n in itertools.count():
                body = {"customer_id": f"load-{n % 5000}", "channel": "web", "category": "billing",
                        "subject": "load test", "priority": "P3"}
                yield "POST", "/v1/tickets", json.dumps(body).encode()
        return opens()
    if name == "ticket":
        return (("GET", f"/v1/tickets/{i}", b"") for i in itertools.cycle(ids))
    if name == "leaderboard":
        return itertools.repeat(("GET", f"/v1/agents/leaderboard?period={period}", b""))
    if name == "kpis":
        return itertools.repeat(("GET", f"/v1/kpis?from={period}-01T00:00:00Z", b""))
    raise SystemExit(f"unknown scenario {name}")


class Connection:
    def __init__(self, host: str, port: int, key: str):
        self.host, self.port, self.key = host, port, key
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        """Sends one request and reads its answer. A kept-alive connection the server closed while
        it was idle (uvicorn closes them after 5 s) is opened again and the request sent once more:
        that is the client's bookkeeping, not a failed request."""
        head = (f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.key}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"Idempotency-Key: {uuid.uuid4()}\r\n\r\n" if method == "POST" else
                f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.key}\r\n\r\n")
        message = head.encode() + body  # a second attempt sends the same Idempotency-Key
        reused = self.writer is not None
        try:
            return await self._exchange(message)
        except (ConnectionError, asyncio.IncompleteReadError):
            if not reused:
                raise
            self.close()
            return await self._exchange(message)

    async def _exchange(self, message: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(message)
        assert self.reader is not None
        try:
            answer = await self.reader.readuntil(b"\r\n\r\n")  # the whole head at once
        except asyncio.IncompleteReadError as closed:
            if not closed.partial:
                raise ConnectionError("server closed the connection") from None
            raise
        status = int(answer[9:12])
        found = _CONTENT_LENGTH.search(answer)
        length = int(found.group(1)) if found else 0
        payload = await self.reader.readexactly(length) if length else b""
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.reader = self.writer = None


async def open_loop(make: Callable[[], Connection], requests: Iterator[tuple[str, str, bytes]], rate: float,
                    seconds: float, on_answer: Callable[[int, bytes, float], None] | None = None) -> dict:
    idle: list[Connection] = []
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    started = time.perf_counter()
    total = int(rate * seconds)
    tasks = []

    async def one(due: float, method: str, path: str, body: bytes) -> None:
        connection = idle.pop() if idle else make()
        try:
            status, payload = await connection.request(method, path, body)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            connection.close()
            statuses[0] = statuses.get(0, 0) + 1
            return
        done = time.perf_counter()
        latencies.append(done - due)
        statuses[status] = statuses.get(status, 0) + 1
        if on_answer:
            on_answer(status, payload, done)
        idle.append(connection)

    for n, (method, path, body) in zip(range(total), requests, strict=False):
        due = started + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due, method, path, body)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    for connection in idle:
        connection.close()
    return summary(latencies, statuses, elapsed, offered=rate)


async def closed_loop(make: Callable[[], Connection], requests: Iterator[tuple[str, str, bytes]],
                      connections: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        connection = make()
        while time.perf_counter() < stop:
            method, path, body = next(requests)
            sent = time.perf_counter()
            try:
                status, _ = await connection.request(method, path, body)
            except (ConnectionError, OSError, asyncio.IncompleteReadError):
                connection.close()
                connection = make()
                statuses[0] = statuses.get(0, 0) + 1
                continue
            latencies.append(time.perf_counter() - sent)
            statuses[status] = statuses.get(status, 0) + 1
        connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return summary(latencies, statuses, time.perf_counter() - started, offered=None)


def summary(latencies: list[float], statuses: dict[int, int], elapsed: float, offered: float | None) -> dict:
    answered = sum(n for s, n in statuses.items() if 200 <= s < 300)
    return {
        "offered_per_second": offered, "answered_ok": answered, "statuses": {str(k): v for k, v in statuses.items()},
        "throughput_per_second": answered / elapsed if elapsed else 0.0,
        "p50_ms": 1000 * percentile(latencies, 0.50), "p99_ms": 1000 * percentile(latencies, 0.99),
        "mean_ms": 1000 * statistics.fmean(latencies) if latencies else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.loadgen", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", default="")
    parser.add_argument("--scenario", default="health")
    parser.add_argument("--rate", type=float, help="requests per second (open loop)")
    parser.add_argument("--connections", type=int, default=16, help="closed loop: concurrent connections")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--ids", default="", help="comma-separated ticket ids for the ticket scenario")
    parser.add_argument("--period", default="2026-03")
    parser.add_argument("--record", help="write 'ticket_id accepted_at' (wall clock) per accepted opening")
    args = parser.parse_args()
    requests = scenario_requests(args.scenario, args.key, [i for i in args.ids.split(",") if i], args.period)

    def make() -> Connection:
        return Connection(args.host, args.port, args.key)

    accepted: list[str] = []

    def remember(status: int, payload: bytes, _: float) -> None:
        if status == 201:
            accepted.append(f"{json.loads(payload)['ticket_id']} {time.time():.6f}")

    try:  # the client's own CPU per request is what the server's cores do not get: keep it small
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    cpu_started = time.process_time()
    if args.rate:
        result = asyncio.run(open_loop(make, requests, args.rate, args.seconds,
                                       on_answer=remember if args.record else None))
        if args.record:
            with open(args.record, "w") as handle:
                handle.write("\n".join(accepted))
    else:
        result = asyncio.run(closed_loop(make, requests, args.connections, args.seconds))
    result["cpu_seconds"] = time.process_time() - cpu_started  # the load generator's own share of the cores
    print(json.dumps(result))


if __name__ == "__main__":
    main()
