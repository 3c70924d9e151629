"""The SLA watcher: follows the log, keeps every open deadline in a heap, and acts on the clock.

Delivery: each action (warning, breach, escalation) is applied exactly once. Actions are commands
whose idempotency keys derive from the ticket, the deadline (kind and cycle) and the level, so a
restart, a rebuild or two watchers never repeat one. Their business time (``occurred_at``) is the
moment the deadline fell due, not when the watcher noticed: the same log and the same clock give
the same events. On start the watcher folds the whole log again (its state is memory only); a
deadline already past when it learns of it fires on the next tick.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from consumers.loop import PollingLoop
from domain import commands as c
from domain.errors import DomainError
from domain.service_levels import Action, ServicePolicy, actions_due, next_check
from projections.ticket_state.fold import TicketRow, fold_batch

log = logging.getLogger("servicetrail.sla_watcher")
ACTOR = "system:sla-watcher"


class SlaWatcher(PollingLoop):
    name = "sla_watcher"

    def __init__(self, app: Any, source: Any, policy: ServicePolicy, clock: Callable[[], datetime],
                 *, batch_size: int = 5000, idle_sleep: float = 0.2):
        self.app, self.source, self.policy, self.clock = app, source, policy, clock
        self.batch_size, self.idle_sleep = batch_size, idle_sleep
        self.rows: dict[str, TicketRow] = {}
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
            if delivery.event is not None:
                by_ticket.setdefault(delivery.event["ticket_id"], []).append(delivery.event)
        for ticket_id, events in by_ticket.items():
            row = self.rows.get(ticket_id)
            events = [e for e in events if row is None or e["version"] > row.version]
            if not events or (row is None and events[0]["version"] != 1):
                continue
            row = fold_batch(row, events)
            self.rows[ticket_id] = row
            self._schedule(ticket_id)
            if ticket_id not in self._scheduled and row.status == "closed":
                del self.rows[ticket_id]  # closed is final: nothing left to watch
        return len(deliveries)

    def _schedule(self, ticket_id: str) -> None:
        row = self.rows[ticket_id]
        complaint = self.policy.escalation.for_complaint(row.severity)
        routing_pending = row.is_open and complaint is not None and complaint > row.escalation_level
        moment = self.clock() if routing_pending else next_check(row, self.policy)
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
            for action in actions_due(self.rows[ticket_id], self.policy, now):
                taken += self._apply(action)
            self._reschedule_after_acting(ticket_id, now)
        self.actions_taken += taken
        return taken

    def _reschedule_after_acting(self, ticket_id: str, now: datetime) -> None:
        """Our own events come back through the log; until then, look again after the next due time."""
        row = self.rows[ticket_id]
        if not row.is_open:
            return  # its late breaches were just recorded; the returning events retire it
        upcoming = [d for d in [next_check(row, self.policy)] if d is not None and d > now]
        if upcoming:
            self._scheduled[ticket_id] = upcoming[0]
            heapq.heappush(self._heap, (upcoming[0], ticket_id))

    def _apply(self, action: Action) -> int:
        from uuid import UUID

        ticket_id = UUID(action.ticket_id)
        if action.command == "warn":
            command: c.Command = c.RecordSlaWarning(ticket_id=ticket_id, deadline=action.deadline,
                                                    due_at=action.due_at, occurred_at=action.due_at)
        elif action.command == "breach":
            command = c.RecordSlaBreach(ticket_id=ticket_id, deadline=action.deadline, due_at=action.due_at,
                                        occurred_at=action.due_at)
        else:
            command = c.EscalateAutomatically(ticket_id=ticket_id, level=action.level, reason=action.reason,
                                              deadline=action.deadline, occurred_at=action.due_at)
        try:
            outcome = self.app.handle(command, c.CommandContext(actor=ACTOR, idempotency_key=action.key))
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
