"""The service layer: one use case per command, over the eventsourcing Application.

Every ticket use case is: load the ticket, call one method on it, save; ``domain.execution`` runs
it under per-ticket locks, retries and idempotency, and reads the clock once per command (the
domain only receives instants). Bulk writers (imports, the demo) run the same use cases inside
``batch()``, the unit of work of ``domain.unit_of_work``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any, ClassVar, Protocol
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain import commands
from domain.commands import CommandContext
from domain.errors import AgentNotFoundError, InvalidCommandError, NoAgentAvailableError, TicketNotFoundError, \
    VersionConflictError
from domain.events import TicketEvent
from domain.execution import Clock, CommandExecution, LifecycleRules, Outcome
from domain.privacy import PersonalDataErasure, erasure_id
from domain.sla_policies import PolicyAdoption, PolicyVersion, adoption_id
from domain.roster import Agent, Profile, agent_aggregate_id
from domain.routing import Candidate, choose
from domain.serialization import PydanticMapper
from domain.ticket import Ticket
from domain.uuids import uuid5_in
from domain.values import Sealed, Stamp

__all__ = ["Clock", "LifecycleRules", "Outcome", "ServiceTrail", "TICKET_ID_NAMESPACE", "Vault", "ticket_id_for_key"]

TICKET_ID_NAMESPACE = UUID("3b8f0a9e-2c71-5d4e-8f60-9a1b2c3d4e5f")


class Vault(Protocol):
    """Seals personal data under a per-customer key, so that erasing the key erases the data."""

    def seal(self, owner: str, plaintext: bytes) -> Sealed: ...

    def unseal(self, sealed: Sealed) -> bytes | None: ...

    def erase(self, owner: str) -> bool:
        """Deletes the owner's key; False when there was none."""


_ticket_uuid5 = uuid5_in(TICKET_ID_NAMESPACE)


@lru_cache(maxsize=1 << 16)  # an import asks for each key's ticket several times in a row
def ticket_id_for_key(idempotency_key: str) -> UUID:
    """The id of the ticket opened under an idempotency key: a retried opening finds its ticket."""
    return _ticket_uuid5(idempotency_key)


class ServiceTrail(CommandExecution):
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
        super().__init__(env, clock=clock, rules=rules, pause=pause)
        self.new_ticket_id = new_ticket_id
        self.vault = vault
        self.open_load = open_load  # open tickets per agent (from the read side), for routing
        self._roster: dict[UUID, Agent] = {}  # agents by id, in registration order (see ``agents``)
        self._roster_position = 0
        self._roster_lock = threading.Lock()

    # ------------------------------------------------------------------------- use cases
    def handle(self, command: commands.Command, context: CommandContext = CommandContext()) -> Outcome:
        handler: Callable[[Any, CommandContext], Outcome] = getattr(self, command.handler_name())
        return handler(command, context)

    def open_ticket(self, cmd: commands.OpenTicket, ctx: CommandContext = CommandContext()) -> Outcome:
        ticket_id = ticket_id_for_key(ctx.idempotency_key) if ctx.idempotency_key else self.new_ticket_id()
        details = cmd.model_dump(exclude={"occurred_at", "contact"})
        if cmd.contact is not None:
            if self.vault is None:
                raise InvalidCommandError("contact", "this deployment has no vault for personal data")
            details["contact"] = self.vault.seal(cmd.customer_id, cmd.contact.model_dump_json().encode())
        return self._run_exclusively(cmd, ctx, None, lambda _, at: Ticket.open(ticket_id, at, **details),
                                     lock_on=ticket_id)

    def triage_ticket(self, cmd: commands.TriageTicket, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.triage(
            at, priority=cmd.priority, category=cmd.category, sub_category=cmd.sub_category,
            severity=cmd.severity))

    def assign_ticket(self, cmd: commands.AssignTicket, ctx: CommandContext = CommandContext()) -> Outcome:
        if cmd.agent_id is not None:
            return self._act_on_ticket(cmd, ctx, lambda t, at: t.assign(at, agent_id=cmd.agent_id, team=cmd.team))

        def routed(ticket: Ticket, at: Stamp) -> None:
            choice = choose(category=ticket.category, language=ticket.language, customer_id=ticket.customer_id,
                            tier=str(ticket.customer_tier), candidates=self.candidates())
            if choice is None:
                raise NoAgentAvailableError(f"no available agent is skilled in {ticket.category!r}")
            ticket.route(at, agent_id=choice.agent_id, team=cmd.team or choice.team, reason=choice.reason)

        return self._act_on_ticket(cmd, ctx, routed)

    # -------------------------------------------------------------------------------- roster
    def register_agent(self, cmd: commands.RegisterAgent, ctx: CommandContext = CommandContext()) -> Agent:
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

    def set_availability(self, cmd: commands.SetAvailability, ctx: CommandContext = CommandContext()) -> Agent:
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

    def transfer_ticket(self, cmd: commands.TransferTicket, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.transfer(at, department=cmd.department, reason=cmd.reason))

    def record_interaction(
        self, cmd: commands.RecordInteraction, ctx: CommandContext = CommandContext()
    ) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.record_interaction(
            at, channel=cmd.channel, direction=cmd.direction, author=cmd.author,
            agent_id=cmd.agent_id, body=cmd.body if cmd.body is not None else cmd.summary,
            duration_seconds=cmd.duration_seconds))

    def wait_on_customer(self, cmd: commands.WaitOnCustomer, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.wait_on_customer(at, reason=cmd.reason))

    def resume_ticket(self, cmd: commands.ResumeTicket, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.resume(at, reason=cmd.reason))

    def escalate_ticket(self, cmd: commands.EscalateTicket, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.escalate(at, reason=cmd.reason, level=cmd.level))

    def resolve_ticket(self, cmd: commands.ResolveTicket, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.resolve(
            at, code=cmd.code, summary=cmd.summary, remedy=cmd.remedy, root_cause=cmd.root_cause))

    def reopen_ticket(self, cmd: commands.ReopenTicket, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.reopen(
            at, reason=cmd.reason, window=self.rules.reopen_window))

    def close_ticket(self, cmd: commands.CloseTicket, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.close(at, reason=cmd.reason))

    def record_survey(self, cmd: commands.RecordSurvey, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.survey(
            at, csat=cmd.csat, nps=cmd.nps, comment=cmd.comment,
            evaluated_agent_id=cmd.evaluated_agent_id))

    def record_sla_warning(self, cmd: commands.RecordSlaWarning, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.record_sla_warning(
            at, deadline=cmd.deadline, due_at=cmd.due_at))

    def record_sla_breach(self, cmd: commands.RecordSlaBreach, ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.record_sla_breach(
            at, deadline=cmd.deadline, due_at=cmd.due_at))

    def escalate_automatically(self, cmd: commands.EscalateAutomatically,
                               ctx: CommandContext = CommandContext()) -> Outcome:
        return self._act_on_ticket(cmd, ctx, lambda t, at: t.escalate(
            at, reason=cmd.reason, level=cmd.level, automatic=True, deadline=cmd.deadline))

    # ------------------------------------------------------------------------- personal data
    def erase_personal_data(self, cmd: commands.ErasePersonalData,
                            ctx: CommandContext = CommandContext()) -> PersonalDataErasure:
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

    def adopt_sla_policy(self, cmd: commands.AdoptSlaPolicy, ctx: CommandContext = CommandContext()) -> PolicyAdoption:
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
    def ticket_events(self, ticket_id: UUID) -> list[TicketEvent]:
        found = list(self.repository.event_store.get(ticket_id))
        if not found or not isinstance(found[0], TicketEvent):
            raise TicketNotFoundError(f"no ticket {ticket_id}")
        return found

    def event_count(self) -> int:
        """Global position of the last recorded event (0 when empty)."""
        return self.recorder.max_notification_id() or 0
