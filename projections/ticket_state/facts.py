"""SLA facts of a ticket: whether each target was met, and FRT and TTR in business time.

Facts, not actions (README, "Facts versus actions"): whether a deadline was met follows from the
ticket's own events and the service policy, for any moment, whether or not the SLA watcher ever
sent a warning or a breach notice. The projector completes each row with them as it folds
(``fold_batch(row, events, judge=SlaFacts(policy))``), so queries for any moment read them and
never compute calendars per request.

Rules (stated in the README's measures section):
- the policy of a ticket is the version in force when it was opened (``domain.sla_policies``),
  recorded on its row at the opening (``policy_version``);
- the calendar of a ticket is the one of the SLA target its current priority, tier, category and
  channel match (first match wins); no matching target: no business-time figures, no deadlines;
- the facts are judged when the first response, a triage, a resolution or a reopen is folded;
  a reopened ticket has no deadline facts until it is resolved again;
- at resolution every deadline is closed: one still open (no first response, a customer message
  without an answer) is met by the resolution itself, which answers the customer;
- a deadline is missed when it was met after it was due; a ticket is within SLA when it was
  resolved and missed none.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import orjson

from domain.service_levels import ServicePolicy, deadline_inputs, deadlines, next_response_windows, transfer_windows
from domain.sla_policies import PolicyBook
from projections.ticket_state.fold import TicketRow, iso

REJUDGED_BY = frozenset({"ticket.triaged", "ticket.resolved", "ticket.reopened"})
# Distinct running-deadline inputs remembered: reused by the next versions of recently active
# tickets only, so a few thousand suffice; more only raised a rebuild's memory with the log.
RUNNING_MEMO = 5_000


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class SlaFacts:
    """The judge the projector and the time-travel oracle fold with.

    Given a ``PolicyBook``, each ticket is judged by its own policy version (chosen at its opening);
    given one ``ServicePolicy`` (a proposal, for what-if), every ticket is judged by that one."""

    def __init__(self, policy: ServicePolicy | PolicyBook):
        self.book = policy if isinstance(policy, PolicyBook) else None
        self.single = policy if isinstance(policy, ServicePolicy) else None
        # (policy version, deadline_inputs) -> outcomes: a ticket's running deadlines are judged
        # at every version of it, mostly from unchanged inputs
        self._running: dict[tuple, list[tuple[str, str, bool]]] = {}

    def policy_of(self, row: TicketRow) -> ServicePolicy:
        return self.single if self.single is not None else self.book[row.policy_version]

    def __call__(self, row: TicketRow, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "ticket.opened" and self.book is not None:
            stamp_policy(self.book, row)
            return
        if kind not in REJUDGED_BY and not (kind == "ticket.interaction_recorded" and event.get("first_response")):
            return
        facts = {"priority": row.priority, "tier": row.customer_tier, "category": row.category,
                 "channel": row.channel}
        policy = self.policy_of(row)
        target = policy.sla_for(facts)
        calendar = policy.calendars[target.calendar] if target is not None else None
        opened = _at(row.opened_at)
        row.first_response_business_seconds = (
            calendar.business_seconds(opened, _at(row.first_response_at))
            if calendar is not None and row.first_response_at else None)
        if row.resolved_at is None:
            row.resolution_business_seconds, row.deadline_facts = None, ()
            return
        resolved = _at(row.resolved_at)
        if calendar is not None:
            paused = sum(calendar.business_seconds(_at(a), _at(b)) for a, b in row.paused)
            row.resolution_business_seconds = max(0.0, calendar.business_seconds(opened, resolved) - paused)
        else:
            row.resolution_business_seconds = None
        row.deadline_facts = self.deadline_facts_of(row)

    def deadline_facts_of(self, row: TicketRow) -> tuple[tuple[str, str | None, str], ...]:
        """(key, due_at, met_at) of every deadline of a resolved ticket under this judge's policy."""
        resolved = _at(row.resolved_at)
        return tuple((d.key, None if d.due_at is None else iso(d.due_at), iso(d.met_at or resolved))
                     for d in deadlines(row, self.policy_of(row)))

    def deadline_outcomes(self, row: TicketRow) -> list[tuple[str, str, bool]]:
        """(key, due_at, missed) of each deadline that is or may become missed: ``missed`` when it
        was met after it was due; otherwise it is still running (an open ticket's, not met) and is
        missed once it falls due. A resolved ticket answers from its facts; an open one is judged
        from its row (its running deadlines do not depend on the moment asked about)."""
        if row.resolved_at is not None:
            return [(key, due, True) for key, due in met_late(row.deadline_facts)]
        inputs = (row.policy_version, deadline_inputs(row, self.policy_of(row)))
        found = self._running.get(inputs)
        if found is None:
            if len(self._running) > RUNNING_MEMO:
                self._running.clear()
            found = self._running[inputs] = self._running_outcomes(row)
        return found

    def _running_outcomes(self, row: TicketRow) -> list[tuple[str, str, bool]]:
        running = [(d.key, None if d.due_at is None else iso(d.due_at), None if d.met_at is None else iso(d.met_at))
                   for d in deadlines(row, self.policy_of(row))]
        return [*((key, due, True) for key, due in met_late(running)),
                *((key, due, False) for key, due, met in running if met is None and due is not None)]

    def missed_by(self, row: TicketRow, at: str) -> list[tuple[str, str]]:
        """(key, due_at) of each deadline missed by ``at``: met after it was due, or due and not
        met by then."""
        return [(key, due) for key, due, missed in self.deadline_outcomes(row) if missed or due <= at]


EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")
_MICROSECOND = timedelta(microseconds=1)


def micros(text: str | None) -> int | None:
    """A canonical instant as microseconds since the epoch (what the vectorised what-if computes in)."""
    return None if text is None else (_at(text) - EPOCH) // _MICROSECOND


SLA_INPUT_COLUMNS = ("ticket_id", "resolved_at", "priority", "tier", "category", "channel", "policy_version",
                     "opened_us", "first_response_us", "resolution_start_us", "resolved_us", "waiting_us",
                     "missed", "pauses", "waits", "transfers")


def sla_inputs(row: TicketRow) -> tuple[Any, ...]:
    """What a resolved ticket's deadlines under *any* policy depend on (``domain.service_levels.
    deadlines``), in microseconds, and the deadlines it missed under its own: one row of
    ``ticket_sla_inputs``, so that a what-if over a month reads columns, not documents. Pauses,
    next-response waits and transfers are JSON texts (null when there are none), read only when
    the proposed policy needs them."""
    waits = [[n, micros(s), micros(m)] for n, s, m in next_response_windows(row)] if row.first_response_at else []
    return (row.ticket_id, row.resolved_at, row.priority, row.customer_tier, row.category, row.channel,
            row.policy_version, micros(row.opened_at), micros(row.first_response_at),
            micros(row.reopens[-1][0] if row.reopens else row.opened_at), micros(row.resolved_at),
            micros(row.waiting_since), ",".join(missed_deadlines(row)),
            _json([[micros(a), micros(b)] for a, b in row.paused]), _json(waits),
            _json([[n, micros(at), department, micros(handed)] for n, at, department, handed in transfer_windows(row)]))


def _json(items: list) -> str | None:
    return orjson.dumps(items).decode() if items else None


def stamp_policy(book: PolicyBook, row: TicketRow) -> None:
    """Records on a just-opened row the policy version that judges it (the rule of
    ``domain.sla_policies``, from the opening's business and transaction time)."""
    row.policy_version = book.in_force(row.opened_at, row.last_recorded_at)


def policy_stamper(book: PolicyBook):
    """A fold judge that only stamps the policy version (the SLA watcher needs no facts)."""
    def stamp(row: TicketRow, event: dict[str, Any]) -> None:
        if event["type"] == "ticket.opened":
            stamp_policy(book, row)
    return stamp


Facts = Iterable[tuple[str, str | None, str | None]]


def met_late(facts: Facts) -> list[tuple[str, str]]:
    """(key, due_at) of the deadlines met after they were due: the one definition of "missed"."""
    return [(key, due) for key, due, met in facts if due is not None and met is not None and met > due]


def missed_deadlines(row: TicketRow) -> list[str]:
    """Keys of the deadlines the ticket met after they were due (judged at its resolution)."""
    return [key for key, _due in met_late(row.deadline_facts)]


def deadline_kind(key: str) -> str:
    """``first_response#0`` → ``first_response``; ``ola:billing#1`` → ``ola``."""
    return key.split("#")[0].split(":")[0]
