"""Helpdesk event log of an Italian software company (``helpdesk_events.csv``).

One row is one activity on a ticket, by one resource (the agent). The first activity of a ticket
opens it (the source has no category, channel, customer or priority: category is "helpdesk");
then, judged against the ticket as it stands:
- "Take in charge ticket" → assignment to the resource (resuming first if it waited);
- "Wait" → waiting on the customer (assigned to the resource first if nobody had it);
- work on a resolved ticket (take in charge, wait, upgrade, anomaly) → reopened first: the
  resolve → take in charge loop is a reopen (refused after the reopen window: a reject);
- "Require upgrade" → escalation one level up;
- "Create SW anomaly" → transfer to software development; "Resolve SW anomaly" → back to the help desk;
- "Resolve ticket", "VERIFIED", "RESOLVED", "INVALID", "DUPLICATE" → resolved (the code says which);
- "Closed" → closed (resolved first if needed);
- "Assign seriousness", "Insert ticket" after the first, "Schedule intervention" → nothing the domain
  records (the seriousness value itself is not in the export), counted as unchanged.
The Disco "variant" columns are computed over the whole log (they leak the future) and are ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from consumers.importers.base import EventKeys, RowError, SourceRow, Step, parse_instant, read_source
from domain import commands
from domain.application import ticket_id_for_key
from domain.ticket import Ticket
from domain.values import Status

FORMAT = "helpdesk-log"
COLUMNS = ("concept:name", "org:resource", "time:timestamp", "case:concept:name")
RESOLUTIONS = {"Resolve ticket": "resolved", "VERIFIED": "verified", "RESOLVED": "resolved", "INVALID": "invalid",
               "DUPLICATE": "duplicate"}
NO_EVENT = {"Assign seriousness", "Insert ticket", "Schedule intervention"}
KNOWN = {"Take in charge ticket", "Wait", "Require upgrade", "Create SW anomaly", "Resolve SW anomaly", "Closed",
         *RESOLUTIONS, *NO_EVENT}
REOPENING = {"Take in charge ticket", "Wait", "Require upgrade", "Create SW anomaly"}
HELPDESK, DEVELOPMENT = "helpdesk", "software-development"


def plan(activity: str, agent: str | None, case: str, row_key: str, open_key: str, at: datetime,
         ticket: Ticket | None) -> list[Step]:
    steps: list[Step] = []
    ticket_id = ticket_id_for_key(open_key)

    def add(command: commands.Command, step: str) -> None:
        steps.append(Step(command, open_key if isinstance(command, commands.OpenTicket) else f"{row_key}:{step}"))

    status = ticket.status if ticket else None
    if ticket is None:
        add(commands.OpenTicket(occurred_at=at, customer_id=f"helpdesk:{case}", channel=None, category=HELPDESK,
                         subject=f"ticket {case}", department=HELPDESK), "open")
        status = Status.OPENED
    if status == Status.CLOSED or activity in NO_EVENT:
        return steps
    if status == Status.WAITING_ON_CUSTOMER and activity != "Wait":
        add(commands.ResumeTicket(occurred_at=at, ticket_id=ticket_id, reason=activity), "resume")
        status = Status.IN_PROGRESS
    assignee = ticket.assignee_id if ticket else None
    if status == Status.RESOLVED and activity in REOPENING:
        add(commands.ReopenTicket(occurred_at=at, ticket_id=ticket_id, reason=activity), "reopen")
        status = Status.REOPENED
    if activity == "Take in charge ticket" or (activity == "Wait" and assignee is None):
        if not agent:
            raise RowError("org:resource", f"{activity!r} needs the resource who took the ticket")
        if agent != assignee:
            add(commands.AssignTicket(occurred_at=at, ticket_id=ticket_id, agent_id=agent), "assign")
    if activity == "Wait" and status != Status.WAITING_ON_CUSTOMER:
        add(commands.WaitOnCustomer(occurred_at=at, ticket_id=ticket_id, reason="wait"), "wait")
    elif activity == "Require upgrade":
        add(commands.EscalateTicket(occurred_at=at, ticket_id=ticket_id, reason="upgrade required"), "escalate")
    elif activity in ("Create SW anomaly", "Resolve SW anomaly"):
        to = DEVELOPMENT if activity == "Create SW anomaly" else HELPDESK
        if ticket is not None and ticket.department != to and status != Status.RESOLVED:
            add(commands.TransferTicket(occurred_at=at, ticket_id=ticket_id, department=to, reason=activity),
                "transfer")
    elif activity in RESOLUTIONS and status != Status.RESOLVED:
        add(commands.ResolveTicket(occurred_at=at, ticket_id=ticket_id, code=RESOLUTIONS[activity], summary=activity),
            "resolve")
    elif activity == "Closed":
        if status != Status.RESOLVED:
            add(commands.ResolveTicket(occurred_at=at, ticket_id=ticket_id, code="closed", summary="closed"), "resolve")
        add(commands.CloseTicket(occurred_at=at, ticket_id=ticket_id), "close")
    return steps


def read(path: Path) -> Iterator[SourceRow]:
    keys = EventKeys(FORMAT)

    def source_row(line: int, row: dict[str, str]) -> SourceRow:
        case = (row.get("case:concept:name") or "").strip()
        activity = (row.get("concept:name") or "").strip()
        text = (row.get("time:timestamp") or "").strip()
        if not case:
            raise RowError("case:concept:name", "is empty")
        if activity not in KNOWN:
            raise RowError("concept:name", f"unknown activity {activity!r}")
        at = parse_instant(text, "time:timestamp")
        agent = (row.get("org:resource") or "").strip() or None
        row_key = keys.row_key(case, f"{text}:{activity}:{agent}")
        open_key = keys.open_key(case)
        return SourceRow(line, row, ticket_id_for_key(open_key), at,
                         lambda ticket: plan(activity, agent, case, row_key, open_key, at, ticket))

    return read_source(path, FORMAT, COLUMNS, source_row)
