"""``servicetrail serve --workers N``: N API processes on one port, the consumers in one more.

One Python process serves commands on one core at most (the interpreter's lock), and the
in-process consumers (projector, audit checkpointer, SLA watcher; relay and ingestor with Kafka)
take their share of it. With ``--workers N`` (``SERVICETRAIL_WORKERS``) this module's supervisor
starts, as fresh interpreters (``spawn``: no state, thread or connection inherited):

- N API workers, each with its own services and its own listening socket on the same port
  (``SO_REUSEPORT``: the kernel spreads new connections over the workers evenly);
- one consumers process running what ``serve`` otherwise runs in threads (none with
  ``--consumers none``: then they run as their own commands, as in the distributed mode).

A worker or the consumers process that dies is started again (at most once a second); SIGTERM or
SIGINT stops them all within the usual bound (each stops as a single ``serve`` does).

What holds across processes:
- **writes**: every process appends through the store's own concurrency control (a version
  conflict is retried on fresh state, an idempotency record is unique), so nothing relies on the
  per-process ticket locks; the log's order is the store's (PostgreSQL's table lock, SQLite's
  single writer), so the consumers process follows it exactly as before;
- **key revocation**: keys are read from the store and cached for ``api.keys.CACHE_SECONDS``
  (5 s); a revoked key is refused at once by the worker that revoked it and by every other one
  within that time;
- **rate limits**: each worker keeps buckets of ``rate_limit_per_minute // N`` (at least 1), so
  a key never gets more than its limit in total, however its connections are spread; a client
  whose connections all land on one worker is limited to that share (documented in README).

Where it is safe: PostgreSQL, and the embedded SQLite default on a local file system (WAL mode,
one writer at a time, writers wait for the lock). Refused by the settings: an in-memory SQLite
store (each process would have its own empty database).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from typing import Any

from api.settings import Settings

log = logging.getLogger("servicetrail.workers")

RESTART_AFTER_SECONDS = 1.0  # a process that dies is started again, at most this often
STOP_SECONDS = 12.0  # each process stops within 8 s (see api.lifecycle); then it is killed


def rate_limit_share(per_minute: int, workers: int) -> int:
    """Each worker's bucket size: the limit split evenly, so the sum never exceeds it (0 = off)."""
    if per_minute <= 0:
        return 0
    return max(1, per_minute // workers)


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port) shared with the other workers through SO_REUSEPORT."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def _die_with_parent() -> None:
    """Linux: this process gets SIGTERM when the supervisor dies (however it died)."""
    with contextlib.suppress(Exception):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(message)s")


def run_api_worker(settings: Settings, workers: int) -> None:
    """One API worker (a spawned process): its own services, no consumers, its own socket."""
    _die_with_parent()
    _configure_logging(settings)
    import uvicorn

    from api.bootstrap import bootstrap
    from api.http import create_app
    from api.middleware import RateLimiter
    from api.server import http_protocol, tune_collector

    sock = listening_socket(settings.host, settings.port)
    services = bootstrap(settings)
    try:
        app = create_app(services, run_consumers=False)
        app.state.rate_limiter = RateLimiter(rate_limit_share(settings.rate_limit_per_minute, workers))
        config = uvicorn.Config(app, log_level=settings.log_level, access_log=False,
                                http=http_protocol(settings.header_timeout_seconds))
        tune_collector()
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        services.close()


def run_consumers(settings: Settings) -> None:
    """The consumers process: what ``serve`` runs in threads, until SIGTERM or SIGINT."""
    _die_with_parent()
    _configure_logging(settings)
    from api.bootstrap import bootstrap
    from api.lifecycle import BackgroundConsumers

    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    services = bootstrap(settings)
    background = BackgroundConsumers(services.in_process_consumers())
    try:
        background.start()
        stopped.wait()
    finally:
        background.stop()
        services.close()


class Supervisor:
    """Starts the processes, starts again any that dies, stops them all on a signal."""

    def __init__(self, settings: Settings, workers: int):
        self.settings, self.workers = settings, workers
        self.context = multiprocessing.get_context("spawn")
        api_settings = settings.model_copy(update={"consumers": "none"})
        self.slots: list[tuple[str, Any, tuple[Any, ...]]] = [
            (f"api-{n + 1}", run_api_worker, (api_settings, workers)) for n in range(workers)]
        if settings.consumers == "in-process":
            self.slots.append(("consumers", run_consumers, (settings,)))
        self.processes: dict[str, Any] = {}
        self.started_at: dict[str, float] = {}
        self.stopping = threading.Event()

    def _start(self, name: str, target: Any, args: tuple[Any, ...]) -> None:
        process = self.context.Process(target=target, args=args, name=f"servicetrail-{name}", daemon=False)
        process.start()
        self.processes[name] = process
        self.started_at[name] = time.monotonic()

    def run(self) -> int:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.stopping.set())
        for slot in self.slots:
            self._start(*slot)
        print(f"servicetrail: {self.workers} API workers (pids "
              f"{', '.join(str(p.pid) for n, p in self.processes.items() if n.startswith('api'))})"
              + (", consumers in their own process" if "consumers" in self.processes else ", no consumers"),
              flush=True)
        while not self.stopping.wait(0.2):
            for name, target, args in self.slots:
                process = self.processes[name]
                if process.is_alive() or time.monotonic() - self.started_at[name] < RESTART_AFTER_SECONDS:
                    continue
                log.warning("%s (pid %s) exited with %s; starting it again", name, process.pid, process.exitcode)
                print(f"servicetrail: {name} exited ({process.exitcode}); starting it again", file=sys.stderr,
                      flush=True)
                self._start(name, target, args)
        return self.stop()

    def stop(self) -> int:
        for process in self.processes.values():
            if process.is_alive():
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join(2)
        return 0


def serve(settings: Settings) -> None:
    """Runs the supervisor in this process until SIGTERM or SIGINT (see the module). An in-memory
    store is refused by the settings themselves (``SERVICETRAIL_WORKERS``'s validator)."""
    # the port is checked here, once, without SO_REUSEPORT (so a port held by anyone, even another
    # supervisor, is refused): one clear line instead of N workers dying one after another
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((settings.host, settings.port))
    except OSError as taken:
        print(f"servicetrail: cannot serve on {settings.host}:{settings.port}: {taken.strerror}", file=sys.stderr)
        raise SystemExit(2) from None
    Supervisor(settings, settings.workers).run()


def app_from_environment():
    """An ASGI app for any server that imports a factory (``granian --factory``, ``uvicorn --factory``,
    ``gunicorn -k uvicorn.workers.UvicornWorker``): settings from the environment, no consumers
    (run them with ``servicetrail project`` and ``watch``, or one ``serve --workers`` consumers
    process); each process's rate limit is ``SERVICETRAIL_RATE_LIMIT_PER_MINUTE`` divided by
    ``SERVICETRAIL_WORKERS``."""
    from api.bootstrap import bootstrap
    from api.http import create_app
    from api.middleware import RateLimiter
    from api.settings import load_settings

    from api.server import tune_collector

    settings = load_settings()
    services = bootstrap(settings)
    app = create_app(services, run_consumers=False)
    app.state.rate_limiter = RateLimiter(rate_limit_share(settings.rate_limit_per_minute, settings.workers))
    tune_collector()
    return app
