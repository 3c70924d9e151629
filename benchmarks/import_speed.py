"""Import at the store's speed: ``servicetrail import`` of NYC council cases beside a bare batched
append of the same events, on SQLite and on PostgreSQL, in the same run.

- **import**: ``import_source`` (what ``servicetrail import`` runs) over the first N rows of the
  shared NYC file (default: all of it) into a fresh store: CSV parsing, every row's commands through
  the service layer (validation, idempotency keys and records, hash chain, lifecycle rules) in
  ``--workers`` processes sharded by ticket (default: one per core; 0: in this process), each batch
  saved in one transaction by the store's bulk append (``consumers.importers.bulk_write``) in this
  process. CPU seconds are this process's and, apart, the workers'.
  Figure: events appended per second, end to end.
- **bare bulk append** (the baseline of the ratio): the very events the import appended, read back
  (not timed), and appended into another fresh store in chunks of the import's batch size by the
  store's fastest plain path (timed: the mapper's serialisation of each event, one ``executemany``
  on SQLite or one ``COPY`` on PostgreSQL, the commit: ``bulk_write.append_events``, the import's own
  append, page cache included). No importer, no commands, no checks. (The events read back carry no
  kept stored JSON: the bare append serialises each one, as the import did once while hashing it.)
- **bare ``app.save``** (reported beside it, the baseline before the bulk append existed): the same
  chunks as aggregates with their events pending, saved with ``app.save(*aggregates)`` (at most
  1,000 aggregates per call) into a third fresh store (the library's ``EventStore``: one
  ``execute`` per row on SQLite, one ``unnest`` insert on PostgreSQL).

The target (issue 16) is a ratio of at least 0.5 of the bare bulk append, and the whole file in
under 60 s. ``python -m benchmarks import`` (whole file) or ``python -m benchmarks.import_speed --rows N``.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.common import Result

# CPU seconds of this process per timed part of the last measurement (the machine is shared: wall
# time includes waiting for a core, CPU time does not).
CPU: dict[str, float] = {}


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _import(app, path: Path, rows: int | None, workers: int) -> tuple[int, float, int]:
    from consumers.importers import FORMATS
    from consumers.importers.parallel import import_source

    def source():
        read = FORMATS["nyc-council"](path)
        return itertools.islice(read, rows) if rows else read

    started, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    report = import_source(app, source, actor="import:nyc-council", workers=workers)
    seconds = time.perf_counter() - started
    CPU["import"] = time.process_time() - cpu
    if report.worker_cpu_seconds:
        CPU[f"import's {workers} workers"] = _children_cpu() - children
        CPU["the busiest worker"] = max(report.worker_cpu_seconds)
    return report.events, seconds, report.rows


def _chunks(app, events_per_chunk: int) -> Iterator[list[Any]]:
    """The stored events of ``app`` as aggregates with their events pending, about
    ``events_per_chunk`` events at a time (a chunk ends only where an aggregate starts: each NYC
    aggregate's events were appended by one import batch, so none spans two chunks)."""
    to_domain_event, position = app.mapper.to_domain_event, 0
    aggregates: dict[Any, Any] = {}
    count = 0
    while page := app.recorder.select_notifications(start=position, limit=5000, inclusive_of_start=False):
        for notification in page:
            event = to_domain_event(notification)
            if count >= events_per_chunk and event.originator_version == 1:
                yield list(aggregates.values())
                aggregates, count = {}, 0
            aggregate = aggregates.get(event.originator_id)
            aggregate = event.mutate(aggregate)
            aggregate._pending_events.append(event)
            aggregates[event.originator_id] = aggregate
            count += 1
        position = page[-1].id
    if aggregates:
        yield list(aggregates.values())


def _bare(source_app, target_app, events_per_chunk: int) -> tuple[int, float]:
    """The same events appended by the store's bulk path, chunk by chunk; (events, seconds)."""
    from consumers.importers.bulk_write import append_events

    seconds = cpu = 0.0
    for aggregates in _chunks(source_app, events_per_chunk):
        events = [event for aggregate in aggregates for event in aggregate.collect_events()]
        started, cpu_started = time.perf_counter(), time.process_time()
        append_events(target_app, events)
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    CPU["bare bulk append"] = cpu
    return target_app.event_count(), seconds


# At most this many aggregates per ``app.save`` of the reference: on PostgreSQL the library's insert
# (psycopg pipeline mode) stalled for minutes on one save of ~10,000 events (the server waiting to
# read the rest of the statement, the client waiting for its result), on 2026-11-28.
SAVE_AGGREGATES = 1000


def _bare_save(source_app, target_app, events_per_chunk: int) -> tuple[int, float]:
    """The same events saved with ``app.save`` of their aggregates (``SAVE_AGGREGATES`` at a time),
    chunk by chunk; (events, seconds)."""
    seconds = cpu = 0.0
    for aggregates in _chunks(source_app, events_per_chunk):
        started, cpu_started = time.perf_counter(), time.process_time()
        for start in range(0, len(aggregates), SAVE_AGGREGATES):
            target_app.save(*aggregates[start:start + SAVE_AGGREGATES])
        seconds += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    CPU["bare app.save"] = cpu
    return target_app.event_count(), seconds


def _measure(store: str, new_url: Callable[[], str], rows: int | None, workers: int) -> list[Result]:
    from api.bootstrap import bootstrap
    from api.settings import Settings
    from consumers.importers.base import BATCH_ROWS
    from tests.support.data import data_file

    path = data_file("nyc-council")
    assert path is not None, "the NYC council file is not here"
    imported = bootstrap(Settings(store_url=new_url(), secret_key="bench"))
    bare = bootstrap(Settings(store_url=new_url(), secret_key="bench"))
    saved = bootstrap(Settings(store_url=new_url(), secret_key="bench"))
    try:
        CPU.clear()
        events, seconds, read = _import(imported.app, path, rows, workers)
        print(f"   {store}: import of {read:,} rows, {events:,} events ({workers} worker processes): {seconds:.1f} s, "
              f"CPU {', '.join(f'{part} {cpu:.1f} s' for part, cpu in CPU.items())}", flush=True)
        batches = max(1, -(-read // BATCH_ROWS))
        appended, bare_seconds = _bare(imported.app, bare.app, max(1, events // batches))
        saved_events, save_seconds = _bare_save(imported.app, saved.app, max(1, events // batches))
    finally:
        imported.close()
        bare.close()
        saved.close()
    assert appended == saved_events == events, f"the bare appends wrote {appended} and {saved_events} events, " \
                                               f"the import {events}"
    ours, baseline, by_save = events / seconds, events / bare_seconds, events / save_seconds
    print(f"   {store}: {read:,} rows → {events:,} events; import {seconds:.1f} s ({ours:,.0f} events/s, "
          f"{read / seconds:,.0f} rows/s); bare bulk append {bare_seconds:.1f} s ({baseline:,.0f} events/s); "
          f"bare app.save {save_seconds:.1f} s ({by_save:,.0f} events/s, import ratio {ours / by_save:.2f}); "
          f"CPU s of this process: {', '.join(f'{part} {cpu:.1f}' for part, cpu in CPU.items())}", flush=True)
    results = [Result(f"import, {store}: {read:,} NYC rows ({events:,} events), {workers} workers", ours, baseline,
                      "events/s",
                      "≥ 0.5 of a bare bulk append", ours >= 0.5 * baseline,
                      f"import {seconds:.1f} s, bare bulk append {bare_seconds:.1f} s; bare app.save "
                      f"{save_seconds:.1f} s ({by_save:,.0f} events/s, ratio {ours / by_save:.2f}); CPU s: "
                      + ", ".join(f"{part} {cpu:.1f}" for part, cpu in CPU.items()))]
    if rows is None:
        results.append(Result(f"import, {store}: the whole NYC file, seconds", seconds, 60.0, "s", "< 60 s",
                              seconds < 60))
    return results


def run(events: int | None = None, repeats: int = 1, rows: int | None = None,
        stores: tuple[str, ...] = ("sqlite", "postgres"), workers: int | None = None) -> list[Result]:
    """``events`` (from ``--quick``) or ``rows``: NYC rows to import (default: the whole file).
    ``repeats`` is ignored: one pass over the file is already long and each pass needs fresh stores.
    ``workers``: the import's worker processes (default: the CLI's, one per core; 0: one process)."""
    from consumers.importers.parallel import default_workers

    rows = rows or events
    workers = default_workers() if workers is None else workers
    results: list[Result] = []
    counter = itertools.count()
    with tempfile.TemporaryDirectory(prefix="servicetrail-import-") as folder:
        if "sqlite" in stores:
            results += _measure("SQLite", lambda: f"sqlite:///{Path(folder) / f'run{next(counter)}.db'}", rows, workers)
    if "postgres" not in stores:
        return results
    from tests.support.postgres import start_cluster

    cluster = start_cluster()
    try:
        import psycopg

        def postgres_url() -> str:
            schema = f"import{next(counter)}"
            with psycopg.connect(cluster.url, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            return f"{cluster.url}?schema={schema}"

        results += _measure("PostgreSQL", postgres_url, rows, workers)
    finally:
        cluster.stop()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.import_speed", description=__doc__)
    parser.add_argument("--rows", type=int, help="NYC rows to import (default: the whole file)")
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workers", type=int, help="the import's worker processes (default: one per core; 0: the "
                                                    "import in one process)")
    args = parser.parse_args()
    chosen = ("sqlite", "postgres") if args.store == "both" else (args.store,)
    for result in run(rows=args.rows, stores=chosen, workers=args.workers):
        print(f"{result.benchmark}: {result.figure:,.1f} vs {result.baseline:,.1f} {result.unit} "
              f"(ratio {result.ratio:.2f}, target {result.target}: {'met' if result.passed else 'not met'})")
