"""Where a command's CPU goes: the CPU time per accepted ``POST /v1/tickets`` of each process of a
``servicetrail serve`` (and, inside it, of each thread: the event loop, the use-case threads, each
in-process consumer), and of the load generator, under a steady open-loop stream.

    python -m benchmarks.http_cpu --rate 100 --seconds 15                 # one serve (SQLite)
    python -m benchmarks.http_cpu --workers 2 --store-url postgresql://…   # N workers + consumers process

CPU times are read from ``/proc`` (utime + stime of every process of the server's tree and of each
of its threads) before and after the load, so they are the processes' own, whatever else runs on
the machine. Threads are named by ``py-spy dump`` when py-spy is installed (``pip install py-spy``);
without it each process is one line. ``--profile DIR`` also records a py-spy profile of every
server process during the load (collapsed stacks, one file per process).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from benchmarks.http_load import load, server

TICKS = os.sysconf("SC_CLK_TCK")
PY_SPY = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children[int(fields[1])].append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _cpu(path: Path) -> float:
    """utime + stime in seconds from a /proc stat file."""
    fields = path.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return "?"


def _thread_names(pid: int) -> dict[int, str]:
    if PY_SPY is None:
        return {}
    dumped = subprocess.run([PY_SPY, "dump", "--pid", str(pid)], capture_output=True, text=True)
    return {int(tid): name for tid, name in re.findall(r'^Thread (\d+) \([^)]*\): "([^"]*)"', dumped.stdout, re.M)}


def _group(name: str) -> str:
    if name == "MainThread":
        return "event loop (HTTP, routing, validation, answer)"
    if name.startswith("command"):
        return "use-case threads (decide + save)"
    if name.startswith("consumer-"):
        return name.removeprefix("consumer-")
    return "other threads" if name else "unnamed threads"


def snapshot(root: int, names: dict[int, dict[int, str]], database: int | None = None) -> dict[tuple[int, str], float]:
    """CPU seconds by (process, thread group), for every process of the tree under ``root``; and
    of PostgreSQL's processes (the tree under its postmaster, ``database``) as one line."""
    usage: dict[tuple[int, str], float] = defaultdict(float)
    if database is not None:
        for pid in _descendants(database):
            try:
                usage[(database, "PostgreSQL (every backend)")] += _cpu(Path(f"/proc/{pid}/stat"))
            except OSError:
                continue
    for pid in _descendants(root):
        if pid not in names:
            names[pid] = _thread_names(pid)
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                seconds = _cpu(task / "stat")
            except OSError:
                continue
            usage[(pid, _group(names[pid].get(int(task.name), "")) if names[pid] else "process")] += seconds
    return usage


def measure(port: int, key: str, root: int, rate: float, seconds: float, profile: Path | None,
            scenario: str = "open", database: int | None = None) -> dict:
    names: dict[int, dict[int, str]] = {}
    load(port, key, scenario, rate=rate, seconds=3)  # warm-up (and every process's threads started)
    time.sleep(1.0)
    before = snapshot(root, names, database)
    recorders = []
    if profile is not None and PY_SPY is not None:
        profile.mkdir(parents=True, exist_ok=True)
        for pid in _descendants(root):
            recorders.append(subprocess.Popen(
                [PY_SPY, "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--threads",
                 "--duration", str(int(seconds) + 1), "--output", str(profile / f"{pid}.txt"), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    loadavg_before = Path("/proc/loadavg").read_text().split()[:3]
    measured = load(port, key, scenario, rate=rate, seconds=seconds)
    time.sleep(0.5)  # the consumers' last batch
    after = snapshot(root, names, database)
    for recorder in recorders:
        recorder.wait()
    accepted = max(1, measured["answered_ok"])
    rows = []
    for (pid, group), used in sorted(after.items()):
        spent = used - before.get((pid, group), 0.0)
        rows.append({"pid": pid, "process": _command_line(pid), "threads": group,
                     "cpu_ms_per_command": 1000 * spent / accepted})
    return {"rate": rate, "seconds": seconds, "accepted": measured["answered_ok"], "statuses": measured["statuses"],
            "p50_ms": measured["p50_ms"], "p99_ms": measured["p99_ms"],
            "server_cpu_ms_per_command": sum(r["cpu_ms_per_command"] for r in rows),
            "loadgen_cpu_ms_per_command": 1000 * measured["cpu_seconds"] / accepted,
            "loadavg": f"{' '.join(loadavg_before)} → {' '.join(Path('/proc/loadavg').read_text().split()[:3])}",
            "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=100, help="commands per second offered (open loop)")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--consumers", default="in-process", help="in-process | none")
    parser.add_argument("--store-url", help="default: a fresh SQLite file")
    parser.add_argument("--postgres", action="store_true",
                        help="a throwaway PostgreSQL cluster (tests.support.postgres) as the store; its CPU is counted")
    parser.add_argument("--profile", type=Path, help="folder for py-spy profiles of the server processes")
    parser.add_argument("--scenario", default="open", help="open (POST /v1/tickets) | health (the trivial endpoint)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    cluster, database, store_url = None, None, args.store_url
    if args.postgres:
        from tests.support.postgres import start_cluster

        cluster = start_cluster()
        store_url = cluster.url
        database = int((cluster.datadir / "postmaster.pid").read_text().split()[0])
    try:
        with tempfile.TemporaryDirectory(prefix="servicetrail-http-cpu-") as folder, \
                server(Path(folder), store_url=store_url, workers=args.workers, consumers=args.consumers,
                       with_process=True) as (port, key, process):
            result = measure(port, key, process.pid, args.rate, args.seconds, args.profile, args.scenario, database)
    finally:
        if cluster is not None:
            cluster.stop()
    if args.json:
        print(json.dumps(result, indent=1))
        return
    print(f"{result['accepted']} {args.scenario} requests answered 2xx in {args.seconds:.0f} s at {args.rate:.0f}/s offered "
          f"(statuses {result['statuses']}); p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms; "
          f"load average {result['loadavg']}")
    print(f"{'pid':>7}  {'CPU ms/command':>14}  threads / process")
    for row in result["rows"]:
        if row["cpu_ms_per_command"] >= 0.005:
            print(f"{row['pid']:>7}  {row['cpu_ms_per_command']:>14.3f}  {row['threads']}  ({row['process'][:60]})")
    print(f"{'':>7}  {result['server_cpu_ms_per_command']:>14.3f}  server, all processes")
    print(f"{'':>7}  {result['loadgen_cpu_ms_per_command']:>14.3f}  the load generator (its own process)")


if __name__ == "__main__":
    sys.exit(main())
