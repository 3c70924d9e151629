"""How a use case runs: per-ticket locks, retries on a racing writer, idempotency, and the clock.

Every ticket use case is: load the ticket, call one method on it, save. Around that sit three guarantees:
- optimistic concurrency: a caller's ``expected_version`` must be the current version; a racing
  writer makes ``save`` fail atomically and the use case is retried on fresh state (a caller that
  pinned a version gets a conflict instead), so no accepted write is ever lost. Writers of one
  ticket inside one process queue on a lock first, so retries are only needed between processes;
- idempotency: with a key, the first outcome is stored in the same transaction as the events,
  and a repeat of the same command returns it without writing anything;
- time: the clock is read here, once per command; the domain only receives instants.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError

from domain import commands
from domain.commands import CommandContext
from domain.errors import (
    BrokenInvariantError,
    IdempotencyKeyReusedError,
    OccurredInFutureError,
    OutsideQueueError,
    TicketNotFoundError,
    VersionConflictError,
)
from domain.idempotency import IdempotencyRecord, idempotency_record_id
from domain.ticket import DEFAULT_REOPEN_WINDOW, Ticket
from domain.unit_of_work import BatchingApplication
from domain.values import Stamp


class Clock(Protocol):
    """Tells the current instant (timezone-aware). Injected, so tests and replays control time."""

    def __call__(self) -> datetime: ...


@dataclass(frozen=True)
class LifecycleRules:
    """Tunable rules the service layer applies around the aggregate."""

    max_future_skew: timedelta = timedelta(minutes=5)
    reopen_window: timedelta = DEFAULT_REOPEN_WINDOW
    max_attempts: int = 20


class Outcome(NamedTuple):
    ticket_id: UUID
    version: int
    replayed: bool = False  # True when an idempotency key returned an earlier outcome


# Decides a command on the loaded ticket (``None`` when opening one) and returns the ticket to save.
Decide = Callable[[Ticket | None, Stamp], Ticket]


class CommandExecution(BatchingApplication):
    """Runs a ticket use case's decision under the guarantees above."""

    def __init__(self, env: dict[str, str] | None = None, *, clock: Clock, rules: LifecycleRules = LifecycleRules(),
                 pause: Callable[[float], None] = time.sleep):
        super().__init__(env)
        self.clock = clock
        self.rules = rules
        self.pause = pause
        self._ticket_locks = tuple(threading.Lock() for _ in range(64))

    def get_ticket(self, ticket_id: UUID, version: int | None = None) -> Ticket:
        try:
            ticket = self._load(ticket_id, version)
        except AggregateNotFoundError:
            raise TicketNotFoundError(f"no ticket {ticket_id}") from None
        if not isinstance(ticket, Ticket):
            raise TicketNotFoundError(f"no ticket {ticket_id}")
        return ticket

    def _act_on_ticket(
        self, cmd: commands.TicketCommand, ctx: CommandContext, act: Callable[[Ticket, Stamp], None]
    ) -> Outcome:
        """A ticket use case: ``act`` on the loaded ticket (it records events or refuses)."""
        def decide(ticket: Ticket | None, at: Stamp) -> Ticket:
            if ticket is None:  # a ticket command always runs on a loaded ticket
                raise BrokenInvariantError(f"{type(cmd).__name__} ran without its ticket")
            act(ticket, at)
            return ticket

        return self._run_exclusively(cmd, ctx, cmd.ticket_id, decide)

    def _run_exclusively(self, cmd: commands.Command, ctx: CommandContext, ticket_id: UUID | None,
                         decide: Decide, lock_on: UUID | None = None) -> Outcome:
        """Runs the command while holding its ticket's lock: writers of one ticket queue here.
        An opening locks the ticket it opens (``lock_on``; one lock for every opening serialised
        them all, commit included); a repeat of its idempotency key derives the same ticket."""
        lock = self._ticket_locks[hash(lock_on or ticket_id) % len(self._ticket_locks)]
        with lock:
            return self._run_with_retries(cmd, ctx, ticket_id, decide)

    def _run_with_retries(self, cmd: commands.Command, ctx: CommandContext, ticket_id: UUID | None,
                          decide: Decide) -> Outcome:
        """Returns an idempotency key's earlier outcome, or stamps, loads, decides and saves; a
        racing writer in another process makes the save fail, and the command is decided again."""
        digest = cmd.digest() if ctx.idempotency_key else ""
        # An opening outside a batch does not read its idempotency record first: its ticket's id
        # derives from the key, so a repeat conflicts on save and the next attempt finds the first
        # outcome (or refuses another body), one store read less per opening. (A batch saves at
        # its end, where a conflict would fail the whole batch: there the record is read first.)
        read_first = ticket_id is not None or getattr(self._local, "work", None) is not None
        for attempt in range(self.rules.max_attempts):
            if ctx.idempotency_key and (read_first or attempt > 0):
                earlier = self._earlier_outcome(ctx.idempotency_key, type(cmd).__name__, digest)
                if earlier is not None:
                    return earlier
            at = self._stamp(cmd.occurred_at, ctx.actor)
            ticket = None
            if ticket_id is not None:
                ticket = self.get_ticket(ticket_id)
                if ctx.queue is not None and ticket.assignee_id != ctx.queue:
                    raise OutsideQueueError("agents may only act on tickets assigned to them")
                if ctx.expected_version is not None and ticket.version != ctx.expected_version:
                    raise VersionConflictError(
                        f"ticket is at version {ticket.version}, not {ctx.expected_version}",
                        current_version=ticket.version,
                    )
            ticket = decide(ticket, at)
            record = None
            if ctx.idempotency_key:
                record = IdempotencyRecord.record(
                    ctx.idempotency_key, command=type(cmd).__name__, request_digest=digest,
                    ticket_id=ticket.id, version=ticket.version, recorded_at=at.recorded_at,
                )
            try:
                self.save(ticket, record)
            except IntegrityError:
                # Another process won the race: back off briefly, then decide on fresh state.
                self.pause(min(0.001 * 2**attempt, 0.05))
                continue
            return Outcome(ticket.id, ticket.version)
        raise VersionConflictError(
            f"gave up after {self.rules.max_attempts} attempts: the ticket is being written by others"
        )

    def _earlier_outcome(self, key: str, command: str, digest: str) -> Outcome | None:
        record_id = idempotency_record_id(key)
        work = self._work
        if work is not None and record_id not in work.pending and work.known.get(record_id, False) is None:
            return None  # read in bulk and absent: the usual case of an import (no exception to raise)
        try:
            record = self._load(record_id)
        except AggregateNotFoundError:
            return None
        if record.command != command or record.request_digest != digest:
            raise IdempotencyKeyReusedError(
                f"idempotency key was first used for a different request ({record.command})"
            )
        return Outcome(record.ticket_id, record.result_version, replayed=True)

    def _stamp(self, occurred_at: datetime | None, actor: str) -> Stamp:
        current = self.clock()
        if occurred_at is not None and occurred_at > current + self.rules.max_future_skew:
            raise OccurredInFutureError(
                "occurred_at",
                f"occurred_at is more than {self.rules.max_future_skew} ahead of the server clock",
            )
        return Stamp(occurred_at or current, current, actor)
