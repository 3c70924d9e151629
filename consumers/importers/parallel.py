"""An import on several cores: worker processes decide the rows, this process writes them.

Deciding a row (parsing, planning, the commands through the service layer with their validation,
idempotency records and hash chain, serialising the events) costs several times what storing its
events costs, and one Python process uses one core. Tickets are independent of each other, so the
rows are sharded by ticket: worker ``w`` of ``N`` takes the rows whose ticket id is ``w`` modulo
``N`` (a row refused before it has a ticket goes by its position), in file order, so the rows of one
ticket are decided by one process in the order of the file, exactly as a single process decides
them. Each worker reads the whole file itself (an importer's reader may keep state across rows,
such as the occurrence counts of an event log) and keeps its own rows.

A worker runs its rows in batches through the same ``_apply`` as a single-process import (bulk reads,
a savepoint per row: a row whole or not at all), but instead of saving a batch it sends the events,
serialised as the store keeps them, to this process, which appends each batch in one transaction
with the store's bulk append (``bulk_write.append_rows``) and acknowledges it. One writer: the
notification ids stay contiguous and in order, as the projectors and the relay need.

What a worker knows of its tickets: the store, for what is written, and its own batches that are
not written yet (sent, not acknowledged), kept in memory and used first. An acknowledged batch is
in the store before its acknowledgement is read, so nothing a worker decides on is stale. At most
``IN_FLIGHT`` batches of a worker are unacknowledged (memory, and back pressure on the workers).

Failure: a batch the store refuses (another writer stored one of its versions first) raises here,
as in a single-process import: the batches before it stay written, the workers are stopped, nothing
of the refused batch is written. A worker that fails sends its exception, raised here (a file
without the format's columns: ``RowError``, before anything is written).

The workers are forked from this process (they inherit the importer, the clock and the rules, and
open their own connection to the store). They have no vault: no importer sends personal contact
details; a command that did would be refused as on a deployment without one. Only where another
process can read the store while this one writes (``bulk_write.shared_between_processes``: a SQLite
file, PostgreSQL) and where processes can be forked (Linux, macOS); elsewhere the import runs in
this process.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
import queue
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from uuid import UUID

from consumers.importers.base import BATCH_ROWS, ImportReport, SourceRow, _apply, fewer_collections, run_import
from consumers.importers.bulk_write import append_rows, shared_between_processes, stored_rows
from domain.application import ServiceTrail

Source = Callable[[], Iterable[SourceRow]]  # reads the rows afresh (called once in each worker)

IN_FLIGHT = 2  # a worker's batches sent and not yet written, at most


class ImportWorkerError(RuntimeError):
    """A worker process of an import ended without finishing, or failed with an error that cannot
    travel between processes (its traceback is the message)."""


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def default_workers() -> int:
    """Worker processes an import starts unless told: one per usable core (the writer mostly waits
    for them), none on a single core (the import then runs in this process)."""
    cores = usable_cores()
    return cores if cores > 1 else 0


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def import_source(app: ServiceTrail, source: Source, *, actor: str, workers: int = 0,
                  batch_rows: int = BATCH_ROWS, progress: Callable[[int], None] | None = None) -> ImportReport:
    """Imports the rows ``source`` reads: with ``workers`` processes deciding them and this one
    writing (``workers`` ≥ 1, where the store allows it), else in this process (``run_import``)."""
    if workers >= 1 and shared_between_processes(app) and can_fork():
        return import_in_processes(app, source, actor=actor, workers=workers, batch_rows=batch_rows,
                                   progress=progress)
    return run_import(app, source(), actor=actor, batch_rows=batch_rows, progress=progress)


def import_in_processes(app: ServiceTrail, source: Source, *, actor: str, workers: int,
                        batch_rows: int = BATCH_ROWS, progress: Callable[[int], None] | None = None) -> ImportReport:
    """``workers`` forked processes decide the rows of their shards; this one appends their batches."""
    context = multiprocessing.get_context("fork")
    results: Any = context.Queue()
    acks: list[Any] = [context.Queue() for _ in range(workers)]
    processes = [context.Process(target=_work, name=f"servicetrail-import-{shard}", daemon=True,
                                 args=(app, source, shard, workers, actor, batch_rows, results, acks[shard]))
                 for shard in range(workers)]
    for process in processes:
        process.start()
    report = ImportReport()
    finished: set[int] = set()
    try:
        while len(finished) < workers:
            try:
                kind, shard, body = results.get(timeout=0.5)
            except queue.Empty:
                for shard, process in enumerate(processes):
                    if shard not in finished and process.exitcode is not None:
                        raise ImportWorkerError(f"import worker {shard} ended (exit code {process.exitcode}) "
                                                f"before it finished") from None
                continue
            if kind == "batch":
                number, rows, part = body
                append_rows(app, rows)
                _add(report, part)
                acks[shard].put(number)
                if progress:
                    progress(report.rows)
            elif kind == "done":
                finished.add(shard)
                report.worker_cpu_seconds.append(body)
            else:
                raise body
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join()
        for channel in (results, *acks):
            channel.cancel_join_thread()
            channel.close()
    return report


def _add(report: ImportReport, part: ImportReport) -> None:
    report.rows += part.rows
    report.imported += part.imported
    report.already_imported += part.already_imported
    report.unchanged += part.unchanged
    report.rejected.extend(part.rejected)
    report.events += part.events


def _work(parent: ServiceTrail, source: Source, shard: int, workers: int, actor: str, batch_rows: int,
          results: Any, acks: Any) -> None:
    """A worker process: decides the rows of its shard, batch by batch, and sends each batch's events."""
    try:
        env = dict(parent.env)
        env["CREATE_TABLE"] = "n"  # the writer's store exists; a reader creates nothing
        app = ServiceTrail(env, clock=parent.clock, rules=parent.rules, new_ticket_id=parent.new_ticket_id)
        try:
            with fewer_collections():
                _decide(app, source, shard, workers, actor, batch_rows, results, acks)
        finally:
            app.close()
        results.put(("done", shard, time.process_time()))
    except BaseException as failure:  # noqa: BLE001 - every failure goes to the writer, which raises it
        results.put(("failed", shard, _portable(failure)))


def _portable(failure: BaseException) -> BaseException:
    """The exception itself when it can be pickled back, else its traceback as an ``ImportWorkerError``."""
    import pickle

    try:
        pickle.loads(pickle.dumps(failure))
        return failure
    except Exception:  # noqa: BLE001
        return ImportWorkerError("".join(traceback.format_exception(failure)))


def _decide(app: ServiceTrail, source: Source, shard: int, workers: int, actor: str, batch_rows: int,
            results: Any, acks: Any) -> None:
    writer = os.getppid()
    held: dict[UUID, tuple[int, Any]] = {}  # aggregates of this worker's unwritten batches: (batch, aggregate)
    written = -1  # the last batch the writer acknowledged
    number = 0
    part = ImportReport()
    pending: list[SourceRow] = []

    def copies(ids: list[UUID]) -> list[Any]:
        found = []
        for aggregate_id in ids:
            kept = held.get(aggregate_id)
            if kept is not None:
                aggregate = copy.copy(kept[1])  # the batch may change it, and refuse the change
                aggregate._pending_events = []
                found.append(aggregate)
        return found

    def send() -> None:
        nonlocal written, number, part
        while number - written - 1 >= IN_FLIGHT:  # back pressure: wait for the writer
            try:
                written = acks.get(timeout=1.0)
            except queue.Empty:
                if os.getppid() != writer:  # the writer is gone (killed): nobody will write this
                    raise ImportWorkerError("the import's writer process ended") from None
        while True:
            try:
                written = acks.get_nowait()
            except queue.Empty:
                break
        for aggregate_id in [i for i, (batch, _) in held.items() if batch <= written]:
            del held[aggregate_id]  # in the store now
        rows: list[Any] = []

        def save(_app: ServiceTrail, aggregates: list[Any]) -> list[Any]:
            events = [event for aggregate in aggregates for event in aggregate.collect_events()]
            rows.extend(stored_rows(app, events))
            for aggregate in aggregates:
                held[aggregate.id] = (number, aggregate)
            return events

        if pending:
            _apply(app, pending, actor, part, save=save, held=copies)
        results.put(("batch", shard, (number, rows, part)))
        number += 1
        part = ImportReport()
        pending.clear()

    for index, row in enumerate(source()):
        owner = (row.ticket_id.int if row.ticket_id is not None else index) % workers
        if owner != shard:
            continue
        part.rows += 1
        if row.error is not None:
            part.rejected.append((row.line, row.error.column, row.error.reason, row.raw))
            continue
        pending.append(row)
        if len(pending) >= batch_rows:
            send()
    if pending or part.rows:
        send()
