"""The service layer: one use case per command, over the eventsourcing Application.

Every use case is: load the ticket, call one method on it, save. Around that sit three guarantees:
- optimistic concurrency: a caller's ``expected_version`` must be the current version; a racing
  writer makes ``save`` fail atomically and the use case is retried on fresh state (a caller that
  pinned a version gets a conflict instead), so no accepted write is ever lost. Writers of one
  ticket inside one process queue on a lock first, so retries are only needed between processes;
- idempotency: with a key, the first outcome is stored in the same transaction as the events,
  and a repeat of the same command returns it without writing anything;
- time: the clock is read here, once per command; the domain only receives instants.

Bulk writers (imports) run the same use cases inside ``batch()``: a unit of work that keeps the
changed aggregates in memory and saves them all in one transaction at the end, which is what makes
the event store fast (one commit per batch, not per command). ``prefetch()`` reads the batch's
aggregates in one query instead of one per command, and ``savepoint()`` undoes one source row's
commands inside a batch, in memory, when any of them is refused, so a row is written whole or not
at all and the rest of the batch is still saved.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, ClassVar, NamedTuple, Protocol
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain import commands as c
from domain.errors import (
    AgentNotFoundError,
    IdempotencyKeyReusedError,
    InvalidCommandError,
    NoAgentAvailableError,
    OccurredInFutureError,
    TicketNotFoundError,
    VersionConflictError,
)
from domain.events import TicketEvent
from domain.idempotency import IdempotencyRecord, idempotency_record_id
from domain.privacy import PersonalDataErasure, erasure_id
from domain.sla_policies import PolicyAdoption, PolicyVersion, adoption_id
from domain.roster import Agent, Profile, agent_aggregate_id
from domain.routing import Candidate, choose
from domain.serialization import PydanticMapper
from domain.ticket import DEFAULT_REOPEN_WINDOW, Ticket
from domain.uuids import uuid5_in
from domain.values import Sealed, Stamp

TICKET_ID_NAMESPACE = UUID("3b8f0a9e-2c71-5d4e-8f60-9a1b2c3d4e5f")


class Vault(Protocol):
    """Seals personal data under a per-customer key, so that erasing the key erases the data."""

    def seal(self, owner: str, plaintext: bytes) -> Sealed: ...

    def unseal(self, sealed: Sealed) -> bytes | None: ...

    def erase(self, owner: str) -> bool:
        """Deletes the owner's key; False when there was none."""


class Clock(Protocol):
    """Tells the current instant (timezone-aware). Injected, so tests and replays control time."""

    def __call__(self) -> datetime: ...


@dataclass(frozen=True)
class LifecycleRules:
    """Tunable rules the service layer applies around the aggregate."""

    max_future_skew: timedelta = timedelta(minutes=5)
    reopen_window: timedelta = DEFAULT_REOPEN_WINDOW
    max_attempts: int = 20


_ticket_uuid5 = uuid5_in(TICKET_ID_NAMESPACE)


@lru_cache(maxsize=1 << 16)  # an import asks for each key's ticket several times in a row
def ticket_id_for_key(idempotency_key: str) -> UUID:
    """The id of the ticket opened under an idempotency key: a retried opening finds its ticket."""
    return _ticket_uuid5(idempotency_key)


class _UnitOfWork:
    """Aggregates changed by the commands of one batch, by id, not saved yet; and aggregates read
    in bulk before the batch's commands ran (``None``: not in the store)."""

    def __init__(self) -> None:
        self.pending: dict[UUID, Any] = {}
        self.journal: list[UUID] = []  # ids in the order they entered ``pending`` (what a savepoint undoes)
        self.known: dict[UUID, Any] = {}


ReadEvents = Callable[[list[UUID]], dict[UUID, list[Any]]]  # ids → their stored events, in version order


class Outcome(NamedTuple):
    ticket_id: UUID
    version: int
    replayed: bool = False  # True when an idempotency key returned an earlier outcome


class ServiceTrail(Application):
    """The write side. Storage is only reached through the repository and ``save``."""

    name = "servicetrail"
    env: ClassVar[dict[str, str]] = {"MAPPER_TOPIC": get_topic(PydanticMapper)}

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        clock: Clock,
        rules: LifecycleRules = LifecycleRules(),
        new_ticket_id: Callable[[], UUID] = uuid4,
        pause: Callable[[float], None] = time.sleep,
        vault: Vault | None = None,
        open_load: Callable[[], dict[str, int]] | None = None,
    ):
        super().__init__(env)
        self.clock = clock
        self.rules = rules
        self.new_ticket_id = new_ticket_id
        self.pause = pause
        self.vault = vault
        self.open_load = open_load  # open tickets per agent (from the read side), for routing
        self._roster: dict[UUID, Agent] = {}  # agents by id, in registration order (see ``agents``)
        self._roster_position = 0
        self._roster_lock = threading.Lock()
        self._ticket_locks = tuple(threading.Lock() for _ in range(64))
        self._local = threading.local()

    # --------------------------------------------------------------------------- unit of work
    @contextmanager
    def batch(self) -> Iterator[None]:
        """Runs the commands inside it as usual but saves their aggregates together on exit."""
        if getattr(self._local, "work", None) is not None:
            raise RuntimeError("batches do not nest")
        work = self._local.work = _UnitOfWork()
        try:
            yield
            aggregates = list(work.pending.values())
        finally:
            self._local.work = None
        if aggregates:
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
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # the library's deprecated hook, kept as Application.save calls it
        return recordings

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

    # ------------------------------------------------------------------------- use cases
    def handle(self, command: c.Command, context: c.CommandContext = c.CommandContext()) -> Outcome:
        handler: Callable[[Any, c.CommandContext], Outcome] = getattr(self, command.handler_name())
        return handler(command, context)

    def open_ticket(self, cmd: c.OpenTicket, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        ticket_id = ticket_id_for_key(ctx.idempotency_key) if ctx.idempotency_key else self.new_ticket_id()
        details = cmd.model_dump(exclude={"occurred_at", "contact"})
        if cmd.contact is not None:
            if self.vault is None:
                raise InvalidCommandError("contact", "this deployment has no vault for personal data")
            details["contact"] = self.vault.seal(cmd.customer_id, cmd.contact.model_dump_json().encode())
        return self._execute(cmd, ctx, None, lambda _, at: Ticket.open(ticket_id, at, **details))

    def triage_ticket(self, cmd: c.TriageTicket, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.triage(
            at, priority=cmd.priority, category=cmd.category, sub_category=cmd.sub_category,
            severity=cmd.severity))

    def assign_ticket(self, cmd: c.AssignTicket, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        if cmd.agent_id is not None:
            return self._change(cmd, ctx, lambda t, at: t.assign(at, agent_id=cmd.agent_id, team=cmd.team))

        def routed(ticket: Ticket, at: Stamp) -> None:
            choice = choose(category=ticket.category, language=ticket.language, customer_id=ticket.customer_id,
                            tier=str(ticket.customer_tier), candidates=self.candidates())
            if choice is None:
                raise NoAgentAvailableError(f"no available agent is skilled in {ticket.category!r}")
            ticket.route(at, agent_id=choice.agent_id, team=cmd.team or choice.team, reason=choice.reason)

        return self._change(cmd, ctx, routed)

    # -------------------------------------------------------------------------------- roster
    def register_agent(self, cmd: c.RegisterAgent, ctx: c.CommandContext = c.CommandContext()) -> Agent:
        """Registers an agent, or changes the profile of a registered one."""
        profile = Profile(name=cmd.name, team=cmd.team, skills=cmd.skills, languages=cmd.languages,
                          accounts=cmd.accounts)
        at = self.clock()
        try:
            agent = self.repository.get(agent_aggregate_id(cmd.agent_id))
            agent.change_profile(profile, actor=ctx.actor, at=at)
        except AggregateNotFoundError:
            agent = Agent.register(cmd.agent_id, profile, actor=ctx.actor, at=at)
        self.save(agent)
        return agent

    def set_availability(self, cmd: c.SetAvailability, ctx: c.CommandContext = c.CommandContext()) -> Agent:
        agent = self.get_agent(cmd.agent_id)
        agent.set_availability(cmd.available, actor=ctx.actor, at=self.clock(), reason=cmd.reason)
        self.save(agent)
        return agent

    def get_agent(self, agent_id: str) -> Agent:
        try:
            return self.repository.get(agent_aggregate_id(agent_id))
        except AggregateNotFoundError:
            raise AgentNotFoundError(f"no agent {agent_id}") from None

    def agents(self) -> list[Agent]:
        """The roster, in registration order: a read model followed from the log (only the agent
        events recorded since the last call are read), not a scan of the log per assignment."""
        with self._roster_lock:
            topics = tuple(get_topic(kind) for kind in (Agent.Registered, Agent.ProfileChanged,
                                                        Agent.AvailabilityChanged))
            while page := self.recorder.select_notifications(start=self._roster_position, limit=1000,
                                                              topics=topics, inclusive_of_start=False):
                for agent_id in dict.fromkeys(n.originator_id for n in page):
                    self._roster[agent_id] = self.repository.get(agent_id)
                self._roster_position = page[-1].id
            return list(self._roster.values())

    def candidates(self) -> list[Candidate]:
        loads = self.open_load() if self.open_load else {}
        return [
            Candidate(a.agent_id, a.profile.team, frozenset(a.profile.skills), frozenset(a.profile.languages),
                      frozenset(a.profile.accounts), a.available, loads.get(a.agent_id, 0))
            for a in self.agents()
        ]

    def transfer_ticket(self, cmd: c.TransferTicket, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.transfer(at, department=cmd.department, reason=cmd.reason))

    def record_interaction(
        self, cmd: c.RecordInteraction, ctx: c.CommandContext = c.CommandContext()
    ) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.record_interaction(
            at, channel=cmd.channel, direction=cmd.direction, author=cmd.author,
            agent_id=cmd.agent_id, body=cmd.body if cmd.body is not None else cmd.summary,
            duration_seconds=cmd.duration_seconds))

    def wait_on_customer(self, cmd: c.WaitOnCustomer, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.wait_on_customer(at, reason=cmd.reason))

    def resume_ticket(self, cmd: c.ResumeTicket, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.resume(at, reason=cmd.reason))

    def escalate_ticket(self, cmd: c.EscalateTicket, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.escalate(at, reason=cmd.reason, level=cmd.level))

    def resolve_ticket(self, cmd: c.ResolveTicket, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.resolve(
            at, code=cmd.code, summary=cmd.summary, remedy=cmd.remedy, root_cause=cmd.root_cause))

    def reopen_ticket(self, cmd: c.ReopenTicket, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.reopen(
            at, reason=cmd.reason, window=self.rules.reopen_window))

    def close_ticket(self, cmd: c.CloseTicket, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.close(at, reason=cmd.reason))

    def record_survey(self, cmd: c.RecordSurvey, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.survey(
            at, csat=cmd.csat, nps=cmd.nps, comment=cmd.comment,
            evaluated_agent_id=cmd.evaluated_agent_id))

    def record_sla_warning(self, cmd: c.RecordSlaWarning, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.record_sla_warning(at, deadline=cmd.deadline, due_at=cmd.due_at))

    def record_sla_breach(self, cmd: c.RecordSlaBreach, ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.record_sla_breach(at, deadline=cmd.deadline, due_at=cmd.due_at))

    def escalate_automatically(self, cmd: c.EscalateAutomatically,
                               ctx: c.CommandContext = c.CommandContext()) -> Outcome:
        return self._change(cmd, ctx, lambda t, at: t.escalate(
            at, reason=cmd.reason, level=cmd.level, automatic=True, deadline=cmd.deadline))

    # ------------------------------------------------------------------------- personal data
    def erase_personal_data(self, cmd: c.ErasePersonalData,
                            ctx: c.CommandContext = c.CommandContext()) -> PersonalDataErasure:
        """Deletes the customer's key, then records the erasure (who, when, whether there was a key).

        The key goes first: if recording then fails, the data is erased all the same and the caller
        retries (the retry records the erasure, with ``had_personal_data`` false)."""
        if self.vault is None:
            raise InvalidCommandError("customer_id", "this deployment has no vault for personal data")
        had = self.vault.erase(cmd.customer_id)
        return self.record_erasure(cmd.customer_id, had_personal_data=had, actor=ctx.actor, at=self.clock())

    def record_erasure(self, customer_id: str, *, had_personal_data: bool | None, actor: str,
                       at: datetime) -> PersonalDataErasure:
        """Adds the customer's next erasure record (racing writers retry with the next number)."""
        for attempt in range(self.rules.max_attempts):
            number = len(self.erasures_of(customer_id)) + 1
            erasure = PersonalDataErasure.record(customer_id, number, had_personal_data=had_personal_data,
                                                 actor=actor, at=at)
            try:
                self.save(erasure)
            except IntegrityError:
                self.pause(min(0.001 * 2**attempt, 0.05))
                continue
            return erasure
        raise VersionConflictError(f"gave up recording an erasure of {customer_id} after {attempt + 1} attempts")

    def erasures_of(self, customer_id: str) -> list[PersonalDataErasure]:
        """The customer's erasures, first to last."""
        found = []
        while True:
            try:
                found.append(self.repository.get(erasure_id(customer_id, len(found) + 1)))
            except AggregateNotFoundError:
                return found

    def erasures(self) -> list[PersonalDataErasure]:
        """Every erasure of every customer, in log order."""
        topic, found, position = get_topic(PersonalDataErasure.Erased), [], 0
        while page := self.recorder.select_notifications(start=position, limit=1000, topics=(topic,),
                                                          inclusive_of_start=False):
            found.extend(self.repository.get(n.originator_id) for n in page)
            position = page[-1].id
        return found

    def adopt_sla_policy(self, cmd: c.AdoptSlaPolicy, ctx: c.CommandContext = c.CommandContext()) -> PolicyAdoption:
        """Records the next version of the service policy (racing writers retry with the next number)."""
        for attempt in range(self.rules.max_attempts):
            at = self._stamp(cmd.occurred_at, ctx.actor)
            number = len(self.sla_policy_versions()) + 1
            adoption = PolicyAdoption.adopt(number, cmd.policy, at, effective_from=cmd.effective_from,
                                            source=cmd.source, reason=cmd.reason)
            try:
                self.save(adoption)
            except IntegrityError:
                self.pause(min(0.001 * 2**attempt, 0.05))
                continue
            return adoption
        raise VersionConflictError(f"gave up adopting a policy after {attempt + 1} attempts")

    def sla_policy_versions(self) -> list[PolicyVersion]:
        """Every adopted policy version, first to last (not the settings file's, version 0)."""
        found: list[PolicyVersion] = []
        while True:
            try:
                found.append(self.repository.get(adoption_id(len(found) + 1)).version())
            except AggregateNotFoundError:
                return found

    # ----------------------------------------------------------------------------- queries
    def get_ticket(self, ticket_id: UUID, version: int | None = None) -> Ticket:
        try:
            ticket = self._load(ticket_id, version)
        except AggregateNotFoundError:
            raise TicketNotFoundError(f"no ticket {ticket_id}") from None
        if not isinstance(ticket, Ticket):
            raise TicketNotFoundError(f"no ticket {ticket_id}")
        return ticket

    def ticket_events(self, ticket_id: UUID) -> list[TicketEvent]:
        found = list(self.repository.event_store.get(ticket_id))
        if not found or not isinstance(found[0], TicketEvent):
            raise TicketNotFoundError(f"no ticket {ticket_id}")
        return found

    def event_count(self) -> int:
        """Global position of the last recorded event (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    # ---------------------------------------------------------------------------- machinery
    def _change(
        self, cmd: c.TicketCommand, ctx: c.CommandContext, act: Callable[[Ticket, Stamp], None]
    ) -> Outcome:
        def decide(ticket: Ticket | None, at: Stamp) -> Ticket:
            assert ticket is not None
            act(ticket, at)
            return ticket

        return self._execute(cmd, ctx, cmd.ticket_id, decide)

    def _execute(
        self,
        cmd: c.Command,
        ctx: c.CommandContext,
        ticket_id: UUID | None,
        decide: Callable[[Ticket | None, Stamp], Ticket],
    ) -> Outcome:
        lock = self._ticket_locks[hash(ticket_id) % len(self._ticket_locks)]
        with lock:
            return self._execute_locked(cmd, ctx, ticket_id, decide)

    def _execute_locked(
        self,
        cmd: c.Command,
        ctx: c.CommandContext,
        ticket_id: UUID | None,
        decide: Callable[[Ticket | None, Stamp], Ticket],
    ) -> Outcome:
        digest = cmd.digest() if ctx.idempotency_key else ""
        for attempt in range(self.rules.max_attempts):
            if ctx.idempotency_key:
                earlier = self._earlier_outcome(ctx.idempotency_key, type(cmd).__name__, digest)
                if earlier is not None:
                    return earlier
            at = self._stamp(cmd.occurred_at, ctx.actor)
            ticket = None
            if ticket_id is not None:
                ticket = self.get_ticket(ticket_id)
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
        work: _UnitOfWork | None = getattr(self._local, "work", None)
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
