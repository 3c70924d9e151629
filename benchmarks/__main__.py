"""``python -m benchmarks [NAME…]``: runs the benchmarks, prints a table, writes JSON.

Every figure is measured beside its baseline in the same run; ratios and medians, not single
absolute times, because the machines are shared and noisy."""

from __future__ import annotations

import argparse
import json
import platform
import time
from datetime import datetime, timezone
from pathlib import Path

BENCHMARKS = {
    "kafka": "benchmarks.kafka_log",
    "rebuild": "benchmarks.rebuild",
    "read-side": "benchmarks.read_side",
    "watcher": "benchmarks.sla_watcher",
    "watcher-history": "benchmarks.watcher_history",
    "forecast": "benchmarks.forecast",
    "http": "benchmarks.http_load",
    "http-commands": "benchmarks.http_load:run_commands",
    "commands": "benchmarks.command_path",
    "freshness": "benchmarks.freshness",
    "report": "benchmarks.monthly_report",
    "import": "benchmarks.import_speed",
    "what-if": "benchmarks.what_if",
}


def number(value: float, digits: int = 0) -> str:
    """Large figures with separators, small ones with enough decimals to mean something."""
    if abs(value) < 10 and value != 0:
        return f"{value:.2f}"
    return f"{value:,.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    parser.add_argument("--output", default="benchmarks/results/latest.json")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one repeat (smoke run)")
    parser.add_argument("--events", type=int, help="log size for the benchmarks that generate one")
    parser.add_argument("--repeats", type=int, help="repeats of each timed step")
    args = parser.parse_args()
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    results = []
    for name in args.names or list(BENCHMARKS):
        module_name, _, function = BENCHMARKS[name].partition(":")
        module = __import__(module_name, fromlist=["run"])
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        kwargs = {"events": 20_000, "repeats": 1} if args.quick else {}
        kwargs.update({k: v for k, v in (("events", args.events), ("repeats", args.repeats)) if v is not None})
        results.extend(getattr(module, function or "run")(**kwargs))
        print(f"   ({time.perf_counter() - started:.0f}s)")
    print()
    print("| benchmark | figure | baseline (same run) | ratio | target | met |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in results:
        met = "yes" if r.passed else ("no" if r.passed is False else "–")
        print(f"| {r.benchmark} | {number(r.figure)} {r.unit} | {number(r.baseline)} {r.unit} | {number(r.ratio, 2)} "
              f"| {r.target} | {met} |")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps({
        "when": datetime.now(timezone.utc).isoformat(), "machine": platform.platform(),
        "results": [r.as_dict() for r in results]}, indent=2))
    print(f"\nwritten to {output}")


if __name__ == "__main__":
    main()
