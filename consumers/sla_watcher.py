"""The SLA watcher: follows the log, keeps every open deadline in a heap, and acts on the clock.

Facts versus actions: whether a target was met is a fact the read side derives from a ticket's own
events; warnings, breach notices and escalations are actions this watcher takes live, only for
moments that fall due while the system knows the ticket is open (``domain.service_levels.actionable``).
Each moment is judged ``grace`` after it fell due, on the facts known then, so buffered back-dated
events (an answer that occurred in time) can arrive first. An imported or back-dated history, or a
ticket no longer open, gets no action at all.

Policy versions (``policy.adopted``) are followed in the log like tickets: each ticket is judged
by the version in force when it was opened (``domain.sla_policies``), stamped when its opening is
folded, so the watcher acts on the deadlines the read side reports.

Following is cheap for closed history: a ticket whose events (in one batch) end resolved or closed
is not folded and never scheduled; closed is forgotten, resolved is remembered by id only, and a
later reopening folds its history from the store.

Delivery: each action is applied at most once. Actions are commands whose idempotency keys derive
from the ticket, the deadline (kind and cycle) and the level, so a restart, a rebuild or two
watchers never repeat one. Their business time (``occurred_at``) is the watcher's clock when it
acted, so an action never appears to precede facts recorded before it; the event's ``due_at``
keeps the moment the deadline fell due. On start the watcher follows the whole log again (its
state is memory only).
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from consumers.loop import PollingLoop
from domain import commands
from domain.errors import DomainError
from domain.service_levels import Action, Known, ServicePolicy, actions_due, next_check
from domain.sla_policies import PolicyBook, PolicyVersion
from projections.ticket_state.facts import policy_stamper
from projections.ticket_state.fold import TicketRow, fold_batch

log = logging.getLogger("servicetrail.sla_watcher")
ACTOR = "system:sla-watcher"
OPENING, CLOSING = {"ticket.opened", "ticket.reopened"}, {"ticket.resolved", "ticket.closed"}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class SlaWatcher(PollingLoop):
    name = "sla_watcher"

    def __init__(self, app: Any, source: Any, policy: ServicePolicy, clock: Callable[[], datetime],
                 *, grace: timedelta = timedelta(seconds=60), batch_size: int = 5000, idle_sleep: float = 0.2):
        self.app, self.source, self.clock = app, source, clock
        # policy versions arrive in the log; each ticket is judged by the one in force at its opening
        self.book = PolicyBook(policy)
        self._stamp = policy_stamper(self.book)
        self.grace, self.batch_size, self.idle_sleep = grace, batch_size, idle_sleep
        self.rows: dict[str, TicketRow] = {}      # open tickets, folded
        self.known: dict[str, Known] = {}         # since when each open ticket (and complaint) is known
        self.resolved: set[str] = set()           # resolved, not folded: only a reopening needs them again
        self.positions: dict[str, int] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._scheduled: dict[str, datetime] = {}
        self.actions_taken = 0
        super().__init__()

    # ------------------------------------------------------------------------ following
    def follow(self) -> int:
        """Folds the next batch of the log into the open tickets; returns positions consumed."""
        deliveries = self.source.poll(self.positions, self.batch_size)
        by_ticket: dict[str, list[dict]] = {}
        for delivery in deliveries:
            self.positions[delivery.stream] = delivery.position
            if delivery.event is None:
                continue
            if "policy_id" in delivery.event:  # before the batch's tickets: openings choose by their instants
                self.book.adopt(PolicyVersion.from_event(delivery.event))
            else:
                by_ticket.setdefault(delivery.event["ticket_id"], []).append(delivery.event)
        for ticket_id, events in by_ticket.items():
            self._follow_ticket(ticket_id, events)
        return len(deliveries)

    def _follow_ticket(self, ticket_id: str, events: list[dict]) -> None:
        row = self.rows.get(ticket_id)
        if row is not None:
            events = [e for e in events if e["version"] > row.version]
        last = next((e["type"] for e in reversed(events) if e["type"] in OPENING or e["type"] in CLOSING), None)
        if last in CLOSING:  # nothing left to act on: no fold, no schedule
            self._retire(ticket_id)
            if last == "ticket.resolved":
                self.resolved.add(ticket_id)
            return
        if row is None:
            if ticket_id in self.resolved:
                if last != "ticket.reopened":
                    return  # a survey or the like on a resolved ticket
                self.resolved.discard(ticket_id)
                events = [e.public_dict() for e in self.app.ticket_events(UUID(ticket_id))]
            elif not events or events[0]["version"] != 1:
                return  # a closed ticket, forgotten
        if not events:
            return
        self.rows[ticket_id] = fold_batch(row, events, self._stamp)
        self.known[ticket_id] = self._known(self.known.get(ticket_id), events)
        self._schedule(ticket_id)

    @staticmethod
    def _known(known: Known | None, events: list[dict]) -> Known:
        open_since = known.open_since if known else None
        complaint_since = known.complaint_since if known else None
        for event in events:
            if event["type"] in OPENING:
                open_since = _instant(event["recorded_at"])
            if complaint_since is None and event.get("severity"):
                complaint_since = _instant(event["recorded_at"])
        return Known(open_since or _instant(events[0]["recorded_at"]), complaint_since)

    def _retire(self, ticket_id: str) -> None:
        self.rows.pop(ticket_id, None)
        self.known.pop(ticket_id, None)
        self._scheduled.pop(ticket_id, None)
        self.resolved.discard(ticket_id)

    def _schedule(self, ticket_id: str) -> None:
        row = self.rows[ticket_id]
        moment = next_check(row, self.book[row.policy_version], self.known[ticket_id], self.grace)
        if moment is None:
            self._scheduled.pop(ticket_id, None)
            return
        if self._scheduled.get(ticket_id) != moment:
            self._scheduled[ticket_id] = moment
            heapq.heappush(self._heap, (moment, ticket_id))

    # ----------------------------------------------------------------------------- acting
    def tick(self) -> int:
        """Acts on every ticket whose next check is due; returns the number of actions taken."""
        now, taken = self.clock(), 0
        while self._heap and self._heap[0][0] <= now:
            moment, ticket_id = heapq.heappop(self._heap)
            if self._scheduled.get(ticket_id) != moment or ticket_id not in self.rows:
                continue  # superseded by a later schedule
            del self._scheduled[ticket_id]
            row, known = self.rows[ticket_id], self.known[ticket_id]
            policy = self.book[row.policy_version]
            for action in actions_due(row, policy, now, known, self.grace):
                taken += self._apply(action, now)
            # our own events come back through the log; until then, look again after the next moment
            upcoming = next_check(row, policy, known, self.grace)
            if upcoming is not None and upcoming > now:
                self._scheduled[ticket_id] = upcoming
                heapq.heappush(self._heap, (upcoming, ticket_id))
        self.actions_taken += taken
        return taken

    def _apply(self, action: Action, now: datetime) -> int:
        ticket_id = UUID(action.ticket_id)
        now = max(now, action.due_at)  # a complaint stamped ahead of the clock (allowed skew) is routed at its time
        if action.command == "warn":
            command: commands.Command = commands.RecordSlaWarning(ticket_id=ticket_id, deadline=action.deadline,
                                                    due_at=action.due_at, occurred_at=now)
        elif action.command == "breach":
            command = commands.RecordSlaBreach(ticket_id=ticket_id, deadline=action.deadline, due_at=action.due_at,
                                        occurred_at=now)
        else:
            command = commands.EscalateAutomatically(ticket_id=ticket_id, level=action.level, reason=action.reason,
                                              deadline=action.deadline, occurred_at=now)
        try:
            outcome = self.app.handle(command, commands.CommandContext(actor=ACTOR, idempotency_key=action.key))
        except DomainError as refused:  # the ticket moved on meanwhile (resolved, already escalated …)
            log.info("sla watcher: %s on %s not applied: %s", action.command, action.ticket_id, refused.detail)
            return 0
        return 0 if outcome.replayed else 1

    # ---------------------------------------------------------------------------- running
    def run_once(self) -> int:
        consumed = self.follow()
        return consumed + self.tick()

    def run_until_caught_up(self) -> int:
        total = 0
        while (consumed := self.follow()) > 0:
            total += consumed
        self.tick()
        return total

    def lag(self) -> int:
        head = getattr(self.source, "head", None)
        return max(0, head() - self.positions.get("log", 0)) if head else 0
