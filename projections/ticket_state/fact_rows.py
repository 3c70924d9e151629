"""What each measure counts, as narrow rows: the facts of one ticket version.

The KPIs, the agent evaluation and the backlog of DOMAIN.md count *facts*: a ticket opened, a
resolution, a survey, an assignment, a deadline missed, a ticket open. ``facts_of(row, judge)``
lists them for one version of a ticket, each under a key that names it within the ticket
(``resolved``, ``reopen#2``, ``deadline:first_response#0`` …), with the dimensions a query groups
by and the values it aggregates. The projector stores each fact as a row valid from the version
that first gave it until the version that changed or dropped it, on both time axes
(``projections.ticket_state.store``), so a query for any moment selects the facts in its window
with one indexed predicate instead of reading whole ticket rows.

The definitions themselves stay in ``projections.measures`` and ``projections.agent_performance``
(over whole rows: the slow, obviously correct path the tests compare against); this module only
says which fact of a row each of them counts, and the property tests hold the two paths equal.
"""

from __future__ import annotations

from typing import NamedTuple

from projections import measures as m
from projections.local_periods import UTC, Calendar
from projections.ticket_state.facts import SlaFacts, deadline_kind
from projections.ticket_state.fold import TicketRow

# flags of an ``opened`` fact
ESCALATED, COMPLAINT, BOT, BOT_DEFLECTED = 1, 2, 4, 8
# flags of a ``resolved`` fact
FCR, WITHIN_SLA = 1, 2
# flag of a ``deadline`` fact: already missed (met late); without it the deadline is still running
# and counts as missed once it falls due before the instant the answer describes
MISSED = 1

KINDS = ("opened", "resolved", "survey", "resolution", "reopen", "assigned", "handled", "first_response",
         "escalation", "complaint", "deadline", "open")


class Fact(NamedTuple):
    """One fact of a ticket version. ``at`` is the business instant that places it in a window
    (for ``deadline``: when it fell due; for ``open``: the opening)."""

    kind: str
    at: str
    agent: str | None
    channel: str | None
    category: str | None
    team: str | None
    priority: str | None
    region: str | None
    seconds: float | None = None
    business_seconds: float | None = None
    handle_seconds: float | None = None
    flags: int = 0
    csat: int | None = None
    nps: int | None = None
    detail: str | None = None


COLUMNS = Fact._fields


def facts_of(row: TicketRow, judge: SlaFacts | None, calendar: Calendar = UTC) -> dict[str, Fact]:
    """Every fact of this version of the ticket, by key. ``calendar`` places the ``handled``
    facts: one per agent and local month the ticket was assigned to that agent in (at the first
    such assignment), so that a month's "tickets handled" is a count, not a distinct count. The
    projector asks at every version of every ticket, so facts are built as plain tuples
    (positional, in ``Fact``'s field order)."""
    dims = (row.channel, row.category, row.team, row.priority, row.region)
    found: dict[str, Fact] = {}
    first_response = row.first_response_at
    frt = frt_business = None
    if first_response is not None:
        frt, frt_business = m.first_response_seconds(row), row.first_response_business_seconds
    resolved = row.resolved_at is not None
    flags = ((ESCALATED if row.escalation_count else 0) | (COMPLAINT if m.is_complaint(row) else 0)
             | (BOT if row.channel == "bot" else 0) | (BOT_DEFLECTED if m.is_bot_deflected(row) else 0))
    found["opened"] = _new(Fact, ("opened", row.opened_at, None, *dims, frt, frt_business, None, flags,
                                  None, None, None))
    if row.is_open:
        found["open"] = _new(Fact, ("open", row.opened_at, None, *dims, *_NO_VALUES))
    if resolved:
        found["resolved"] = _new(Fact, (
            "resolved", row.resolved_at, row.resolved_by, *dims, m.resolution_seconds(row),
            row.resolution_business_seconds, row.handle_seconds if m.has_handle_time(row) else None,
            (FCR if m.is_fcr(row) else 0) | (WITHIN_SLA if m.within_sla(row) else 0), None, None, None))
    if row.surveyed_at is not None:
        found["survey"] = _new(Fact, ("survey", row.surveyed_at, row.evaluated_agent_id, *dims, None, None, None, 0,
                                      row.csat, row.nps, None))
    if row.first_responder and first_response is not None:
        found["first_response"] = _new(Fact, ("first_response", first_response, row.first_responder, *dims, frt,
                                              frt_business, None, 0, None, None, None))
    # Histories are unpacked into the fields of ``domain.ticket_history``'s named tuples, in their
    # order (``UNPACKED``, held to them by a test): a named tuple per item (``_make``) cost more
    # than the facts built from it, and this runs at every version of every ticket.
    for number, (at, _resolver) in enumerate(row.resolutions):
        found[f"resolution#{number}"] = _new(Fact, ("resolution", at, None, *dims, *_NO_VALUES))
    for number, (at, undone_resolver) in enumerate(row.reopens):
        found[f"reopen#{number}"] = _new(Fact, ("reopen", at, undone_resolver, *dims, *_NO_VALUES))
    handled: dict[tuple[str, str], str] = {}
    for number, (agent_id, at) in enumerate(row.assignments):
        found[f"assigned#{number}"] = _new(Fact, ("assigned", at, agent_id, *dims, *_NO_VALUES))
        if not agent_id:
            continue
        month = (agent_id, calendar.periods(at)[1])
        if month not in handled or at < handled[month]:
            handled[month] = at
    for (agent, month), at in handled.items():
        found[f"handled:{agent}:{month}"] = _new(Fact, ("handled", at, agent, *dims, None, None, None, 0, None, None,
                                                        month))
    for number, (_level, at, _automatic, version, _reason, _deadline) in enumerate(row.escalations):
        found[f"escalation#{number}"] = _new(Fact, ("escalation", at, m.assignee_at(row, at, version), *dims,
                                                    *_NO_VALUES))
    if row.complaint_at is not None:
        found["complaint"] = _new(Fact, ("complaint", row.complaint_at,
                                         m.assignee_at(row, row.complaint_at, row.complaint_version or 1), *dims,
                                         *_NO_VALUES))
    if judge is not None:
        for key, due, missed in judge.deadline_outcomes(row):
            found["deadline:" + key] = _new(Fact, ("deadline", due, None, *dims, None, None, None,
                                                   MISSED if missed else 0, None, None, deadline_kind(key)))
    return found


_new = tuple.__new__
# The histories ``facts_of`` unpacks by position, and the fields it expects, in order
# (``tests/unit/test_history_unpacking.py`` holds them equal to the named tuples').
UNPACKED = {"resolutions": ("at", "resolver"), "reopens": ("at", "undone_resolver"), "assignments": ("agent_id", "at"),
            "escalations": ("to_level", "at", "automatic", "version", "reason", "deadline")}
_NO_VALUES = (None, None, None, 0, None, None, None)  # seconds … detail of a fact without values
