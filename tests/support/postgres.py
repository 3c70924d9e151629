"""A throwaway PostgreSQL cluster for the test session, from the machine's Debian package.

``initdb`` into a temporary folder, ``pg_ctl start`` on a free loopback port, trust auth, and
``pg_ctl stop`` at the end. As root, the server runs as the ``postgres`` system user (PostgreSQL
refuses to run as root). ``scripts/provision-postgres.sh`` installs the package when absent.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.kafka.broker import free_port  # one free-port helper for every test server


class PostgresUnavailable(RuntimeError):
    pass


def _bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        bindir = subprocess.run([found, "--bindir"], capture_output=True, text=True).stdout.strip()
        if (Path(bindir) / "initdb").exists():
            return Path(bindir)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found: run scripts/provision-postgres.sh (or `make test`)"
    )


@dataclass
class PostgresCluster:
    url: str
    datadir: Path
    bindir: Path
    port: int
    owner: str | None
    base: Path
    options: str = ""

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        command = list(args)
        if self.owner:
            command = ["runuser", "-u", self.owner, "--", *command]
        return subprocess.run(command, capture_output=True, text=True)

    def stop(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def restart(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "restart")

    def run_pg_ctl(self, action: str) -> None:
        """``stop`` (fast) or ``start`` the server with the options it was started with."""
        if action == "stop":
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop")
        else:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-o", self.options,
                      "-l", str(self.base / "server.log"), "-w", "start")


def start_cluster() -> PostgresCluster:
    bindir = _bindir()
    base = Path(tempfile.mkdtemp(prefix="servicetrail-pg-"))
    owner = "postgres" if os.geteuid() == 0 else None
    if owner:
        shutil.chown(base, user=owner)
    datadir, port = base / "data", free_port()
    cluster = PostgresCluster(
        url=f"postgresql://servicetrail@127.0.0.1:{port}/postgres",
        datadir=datadir, bindir=bindir, port=port, owner=owner, base=base,
    )
    init = cluster._run(
        str(bindir / "initdb"), "-D", str(datadir), "-U", "servicetrail", "--auth=trust",
        "-E", "UTF8", "--locale=C.UTF-8", "--no-sync",
    )
    if init.returncode != 0:
        raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()}")
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {base} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
    )
    cluster.options = options
    started = cluster._run(
        str(bindir / "pg_ctl"), "-D", str(datadir), "-o", options, "-l", str(base / "server.log"),
        "-w", "-t", "60", "start",
    )
    if started.returncode != 0:
        log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
        raise PostgresUnavailable(f"pg_ctl start failed: {started.stderr.strip()} {log[-2000:]}")
    return cluster
