"""``servicetrail serve --workers N`` as a real process tree on a loopback port, and which worker
process answers a given client connection (read from the kernel's socket tables, so the server
needs no hook to tell)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from tools.kafka.broker import free_port

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"st_[0-9a-f]{12}_[A-Za-z0-9_-]+")


@dataclass
class Served:
    port: int
    key: str
    process: subprocess.Popen
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def children(self) -> dict[int, str]:
        """pid → process name (``servicetrail-api-1`` …, ``servicetrail-consumers``) of the supervisor's
        children (the spawned interpreters; the resource tracker is left out)."""
        found = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid == self.process.pid and "spawn_main" in command:
                found[int(entry.name)] = command
        return found

    def api_workers(self) -> set[int]:
        return {pid for pid in self.children() if self.listens(pid)}

    def listens(self, pid: int) -> bool:
        return self._listening_inode(pid) is not None

    def _listening_inode(self, pid: int) -> str | None:
        inodes = _socket_inodes(pid)
        for local, _remote, state, inode in _tcp_table():
            if local[1] == self.port and state == "0A" and inode in inodes:
                return inode
        return None

    def worker_of(self, connection: http.client.HTTPConnection) -> int | None:
        """The pid of the worker process holding the server side of ``connection``."""
        client_port = connection.sock.getsockname()[1]
        inode = next((inode for local, remote, state, inode in _tcp_table()
                      if local[1] == self.port and remote[1] == client_port and state == "01"), None)
        if inode is None:
            return None
        return next((pid for pid in self.children() if inode in _socket_inodes(pid)), None)

    def connect(self) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.connect()
        return connection

    def request(self, connection: http.client.HTTPConnection, method: str, path: str, body: Any = None,
                key: str | None = None, **headers: str) -> tuple[int, Any]:
        sent = {"Authorization": f"Bearer {key or self.key}", **headers}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        connection.request(method, path, body=payload, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else None)


def _tcp_table() -> Iterator[tuple[tuple[str, int], tuple[str, int], str, str]]:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            local, remote = (tuple(part.split(":")) for part in parts[1:3])
            yield (local[0], int(local[1], 16)), (remote[0], int(remote[1], 16)), parts[3], parts[9]


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                found.add(target[8:-1])
    except OSError:
        pass
    return found


@contextmanager
def serve_workers(folder: Path, store_url: str, workers: int = 2, **settings: str) -> Iterator[Served]:
    """``servicetrail serve --workers N`` on a free port; yields when every worker listens."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SERVICETRAIL_STORE_URL": store_url,
           "SERVICETRAIL_SECRET_KEY": "workers-test-secret", "SERVICETRAIL_LOG_LEVEL": "warning",
           "SERVICETRAIL_POLL_INTERVAL_MS": "20",
           **{f"SERVICETRAIL_{name.upper()}": value for name, value in settings.items()}}
    created = subprocess.run([sys.executable, "-m", "api.cli", "keys", "create", "--role", "admin",
                              "--principal", "workers-test"], env=env, capture_output=True, text=True, check=True)
    key = KEY.search(created.stdout).group(0)
    log = folder / f"serve-{port}.log"
    process = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port),
                                "--workers", str(workers)], env=env, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    served = Served(port, key, process, log, env)
    try:
        deadline = time.monotonic() + 120
        while len(served.api_workers()) < workers:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve --workers {workers} did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
