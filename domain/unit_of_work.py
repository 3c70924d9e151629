"""The unit of work of the write side: ``batch()``, ``prefetch()`` and ``savepoint()``.

Bulk writers (imports, the demo) run the ordinary use cases inside ``batch()``: a unit of work that
keeps the changed aggregates in memory and saves them all in one transaction at the end, which is
what makes the event store fast (one commit per batch, not per command). ``prefetch()`` reads the
batch's aggregates in one query instead of one per command, and ``savepoint()`` undoes one source
row's commands inside a batch, in memory, when any of them is refused, so a row is written whole or
not at all and the rest of the batch is still saved. Outside a batch, ``save`` saves at once.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent

from domain.group_commit import GroupCommit

ReadEvents = Callable[[list[UUID]], dict[UUID, list[Any]]]  # ids → their stored events, in version order
SaveAll = Callable[[list[Any]], Any]  # saves the pending events of these aggregates in one transaction


class _UnitOfWork:
    """Aggregates changed by the commands of one batch, by id, not saved yet; and aggregates read
    in bulk before the batch's commands ran (``None``: not in the store)."""

    def __init__(self) -> None:
        self.pending: dict[UUID, Any] = {}
        self.journal: list[UUID] = []  # ids in the order they entered ``pending`` (what a savepoint undoes)
        self.known: dict[UUID, Any] = {}


class BatchingApplication(Application):
    """An eventsourcing ``Application`` whose ``save`` joins the current thread's batch, if any."""

    def __init__(self, env: dict[str, str] | None = None):
        super().__init__(env)
        self._local = threading.local()
        self._group_commit = GroupCommit(self._commit_together)  # concurrent saves share a transaction

    @property
    def _work(self) -> _UnitOfWork | None:
        """The current thread's batch (``None`` outside one)."""
        return getattr(self._local, "work", None)

    @contextmanager
    def batch(self, save: SaveAll | None = None) -> Iterator[None]:
        """Runs the commands inside it as usual but saves their aggregates together on exit, in one
        transaction: with ``save`` when given (an importer's bulk append of the store), else as
        ``save`` of them all would."""
        if getattr(self._local, "work", None) is not None:
            raise RuntimeError("batches do not nest")
        work = self._local.work = _UnitOfWork()
        try:
            yield
            aggregates = list(work.pending.values())
        finally:
            self._local.work = None
        if aggregates:
            if save is not None:
                save(aggregates)
            else:
                self._save_together(tuple(aggregates), {})

    def prefetch(self, aggregate_ids: Iterable[UUID], read_events: ReadEvents | None = None) -> None:
        """Inside a batch: reads the given aggregates at once, so that the batch's commands find them
        (or their absence) in memory instead of asking the store one by one. ``read_events`` is the
        store's bulk read (the importers pass one query per store; the default asks per aggregate).
        Outside a batch, or for an id already known, it does nothing."""
        work: _UnitOfWork | None = getattr(self._local, "work", None)
        if work is None:
            return
        wanted = [i for i in dict.fromkeys(aggregate_ids) if i not in work.pending and i not in work.known]
        if not wanted:
            return
        if self.snapshots is not None:  # snapshots would need their own bulk read: only learn who is absent
            found = (read_events or self._read_events_one_by_one)(wanted)
            for aggregate_id in wanted:
                work.known[aggregate_id] = self.repository.get(aggregate_id) if aggregate_id in found else None
            return
        to_domain_event = self.mapper.to_domain_event
        for aggregate_id, stored in (read_events or self._read_events_one_by_one)(wanted).items():
            aggregate = None
            for event in map(to_domain_event, stored):
                aggregate = event.mutate(aggregate)
            work.known[aggregate_id] = aggregate
        for aggregate_id in wanted:
            work.known.setdefault(aggregate_id, None)

    def remember(self, aggregates: Iterable[Any]) -> None:
        """Inside a batch: aggregates the caller holds as the store holds them, or will once the
        caller's earlier batches are written (an import's worker process: its batches are written
        by another process, after this one has moved on), so the batch's commands find them in
        memory and ``prefetch`` does not read them. The batch may change them: pass copies."""
        work: _UnitOfWork | None = getattr(self._local, "work", None)
        if work is None:
            return
        for aggregate in aggregates:
            if aggregate.id not in work.pending:
                work.known[aggregate.id] = aggregate

    def known_absent(self, aggregate_id: UUID) -> bool:
        """Inside a batch: whether the aggregate was read in bulk and is not in the store (nor added
        by the batch since). Lets a caller skip asking for it (and the not-found exception)."""
        work: _UnitOfWork | None = getattr(self._local, "work", None)
        return work is not None and aggregate_id not in work.pending and work.known.get(aggregate_id, False) is None

    def _read_events_one_by_one(self, aggregate_ids: list[UUID]) -> dict[UUID, list[Any]]:
        found = {}
        for aggregate_id in aggregate_ids:
            if events := list(self.recorder.select_events(aggregate_id)):
                found[aggregate_id] = events
        return found

    @contextmanager
    def savepoint(self, ticket_id: UUID | None) -> Iterator[None]:
        """Inside a batch: if the block raises, forget what it changed (``ticket_id`` is the ticket
        it works on; domain commands only record after all their checks, so one refused command
        leaves its ticket as it was, and this undoes the commands before it). All in memory: the
        aggregates the block added to the batch are dropped and the ticket goes back to a copy taken
        on entry, so a refused source row leaves the rest of its batch to be saved."""
        work: _UnitOfWork | None = getattr(self._local, "work", None)
        if work is None:
            yield
            return
        mark = len(work.journal)
        kept, where = None, None
        if ticket_id is not None:
            for where in (work.pending, work.known):
                kept = where.get(ticket_id)
                if kept is not None:
                    break
        snapshot = None
        if kept is not None:
            snapshot = copy.copy(kept)
            snapshot._pending_events = list(kept._pending_events)
        try:
            yield
        except BaseException:
            for added in work.journal[mark:]:
                del work.pending[added]
            del work.journal[mark:]
            if snapshot is not None and where is not None and ticket_id is not None:
                where[ticket_id] = snapshot
            raise

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        work: _UnitOfWork | None = getattr(self._local, "work", None)
        if work is None:
            return self._save_together(objs, kwargs)
        for obj in objs:
            if obj is not None:
                if obj.id not in work.pending:
                    work.journal.append(obj.id)
                work.pending[obj.id] = obj
        return []

    def _save_together(self, objs: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """``Application.save`` without its per-object ``isinstance`` checks against runtime
        protocols (on Python 3.11 each costs more than serialising the event): an object with
        ``collect_events`` is an aggregate, anything else an event. Same events, same single
        ``insert_events`` call, same snapshots and notifications."""
        processing = ProcessingEvent()
        for obj in objs:
            if obj is None:
                continue
            collect = getattr(obj, "collect_events", None)
            if collect is None:
                processing.events.append(obj)
                continue
            processing.events.extend(collect())
            processing.aggregates[obj.id] = obj
        processing.saved_kwargs.update(kwargs)
        return self._group_commit.save(processing)

    def _commit_together(self, group: list[ProcessingEvent]) -> list[Any]:
        """Records the saves of a group (``domain.group_commit``) in one transaction; each save's
        own recordings back. Same snapshots and notifications as ``Application.save``."""
        if len(group) == 1:
            processing = group[0]
        else:
            processing = ProcessingEvent()
            for member in group:
                processing.events.extend(member.events)
                processing.aggregates.update(member.aggregates)
                processing.saved_kwargs.update(member.saved_kwargs)
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # the library's deprecated hook, kept as Application.save calls it
        if len(group) == 1:
            return [recordings]
        by_event = {id(recording.domain_event): recording for recording in recordings}
        return [[by_event[id(event)] for event in member.events if id(event) in by_event] for member in group]

    def _load(self, aggregate_id: UUID, version: int | None = None) -> Any:
        work: _UnitOfWork | None = getattr(self._local, "work", None)
        if work is not None and version is None:
            if aggregate_id in work.pending:
                return work.pending[aggregate_id]
            if aggregate_id in work.known:
                known = work.known[aggregate_id]
                if known is None:
                    raise AggregateNotFoundError(aggregate_id)
                return known
        return self.repository.get(aggregate_id, version=version)
