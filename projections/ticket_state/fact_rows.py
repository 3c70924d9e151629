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

from domain.ticket_history import Assignment, Escalation, Reopen, Resolution
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
    such assignment), so that a month's "tickets handled" is a count, not a distinct count."""
    dims = (row.channel, row.category, row.team, row.priority, row.region)

    def fact(kind: str, at: str, agent: str | None = None, **values) -> Fact:
        return Fact(kind, at, agent, *dims, **values)

    found: dict[str, Fact] = {}
    responded = row.first_response_at is not None
    flags = ((ESCALATED if row.escalation_count else 0) | (COMPLAINT if m.is_complaint(row) else 0)
             | (BOT if row.channel == "bot" else 0) | (BOT_DEFLECTED if m.is_bot_deflected(row) else 0))
    found["opened"] = fact("opened", row.opened_at, seconds=m.first_response_seconds(row) if responded else None,
                           business_seconds=row.first_response_business_seconds if responded else None, flags=flags)
    if row.is_open:
        found["open"] = fact("open", row.opened_at)
    if row.resolved_at is not None:
        found["resolved"] = fact(
            "resolved", row.resolved_at, row.resolved_by, seconds=m.resolution_seconds(row),
            business_seconds=row.resolution_business_seconds,
            handle_seconds=row.handle_seconds if m.has_handle_time(row) else None,
            flags=(FCR if m.is_fcr(row) else 0) | (WITHIN_SLA if m.within_sla(row) else 0))
    if row.surveyed_at is not None:
        found["survey"] = fact("survey", row.surveyed_at, row.evaluated_agent_id, csat=row.csat, nps=row.nps)
    if row.first_responder and responded:
        found["first_response"] = fact("first_response", row.first_response_at, row.first_responder,
                                       seconds=m.first_response_seconds(row),
                                       business_seconds=row.first_response_business_seconds)
    for number, resolution in enumerate(map(Resolution._make, row.resolutions)):
        found[f"resolution#{number}"] = fact("resolution", resolution.at)
    for number, reopen in enumerate(map(Reopen._make, row.reopens)):
        found[f"reopen#{number}"] = fact("reopen", reopen.at, reopen.undone_resolver)
    for number, assignment in enumerate(map(Assignment._make, row.assignments)):
        found[f"assigned#{number}"] = fact("assigned", assignment.at, assignment.agent_id)
    handled: dict[tuple[str, str], str] = {}
    for assignment in map(Assignment._make, row.assignments):
        if not assignment.agent_id:
            continue
        month = (assignment.agent_id, calendar.periods(assignment.at)[1])
        if month not in handled or assignment.at < handled[month]:
            handled[month] = assignment.at
    for (agent, month), at in handled.items():
        found[f"handled:{agent}:{month}"] = fact("handled", at, agent, detail=month)
    for number, escalation in enumerate(map(Escalation._make, row.escalations)):
        found[f"escalation#{number}"] = fact("escalation", escalation.at,
                                             m.assignee_at(row, escalation.at, escalation.version))
    if row.complaint_at is not None:
        found["complaint"] = fact("complaint", row.complaint_at,
                                  m.assignee_at(row, row.complaint_at, row.complaint_version or 1))
    if judge is not None:
        for key, due, missed in judge.deadline_outcomes(row):
            found[f"deadline:{key}"] = fact("deadline", due, flags=MISSED if missed else 0,
                                            detail=deadline_kind(key))
    return found
