"""BPI Challenge 2013, Volvo IT incident management (``incident_events.csv``).

One row is one status change of an incident. The first row of an incident opens a ticket (category =
product, priority from impact, department = support team ``org_group``, region = the agent's country);
each row then becomes what changed, judged against the ticket as it stands:
- impact changed → triage with the new priority;
- team changed → transfer to the new ``org_group`` (resuming first if the ticket waited on the user);
- "Assigned" or "In Progress" by another agent → assignment to ``org_resource``;
- "Wait - User" / "Wait - Customer" → waiting on the customer; any other status ends that wait.
  "Wait", "Wait - Vendor" and "Wait - Implementation" are not waits on the customer, so the SLA clock
  keeps running (DOMAIN.md pauses it only for the customer) and nothing is recorded;
- Completed "Resolved" or "In Call" → resolved; "Closed" or "Cancelled" → resolved if needed, closed;
- activity after a resolution → reopened (the domain refuses it after the reopen window: a reject).
The source has no channel, no customer and no interactions (so no first response).
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

FORMAT = "bpi2013"
COLUMNS = ("case_id", "timestamp", "status", "sub_status", "impact", "product", "org_group", "org_resource",
           "resource_country")
PRIORITY = {"Major": "P1", "High": "P2", "Medium": "P3", "Low": "P4"}
CUSTOMER_WAITS = {"Wait - User", "Wait - Customer"}
RESOLVING = {"Resolved", "In Call"}
CLOSING = {"Closed", "Cancelled"}


def _required(row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise RowError(column, "is empty")
    return value


def plan(row: dict[str, str], row_key: str, open_key: str, at: datetime, ticket: Ticket | None) -> list[Step]:
    sub_status = _required(row, "sub_status")
    priority = PRIORITY.get((row.get("impact") or "").strip())
    if priority is None:
        raise RowError("impact", f"{row.get('impact')!r} is not one of {', '.join(PRIORITY)}")
    group = (row.get("org_group") or "").strip() or None
    agent = (row.get("org_resource") or "").strip() or None
    steps: list[Step] = []
    ticket_id = ticket_id_for_key(open_key)

    def add(command: commands.Command, step: str) -> None:
        steps.append(Step(command, open_key if isinstance(command, commands.OpenTicket) else f"{row_key}:{step}"))

    status = ticket.status if ticket else None
    assignee = ticket.assignee_id if ticket else None
    department = ticket.department if ticket else None
    if ticket is None:
        add(commands.OpenTicket(occurred_at=at, customer_id=f"volvo-it:{row['case_id']}", channel=None,
                         category=_required(row, "product"), subject=f"incident {row['case_id']}",
                         priority=priority, department=group,
                         region=(row.get("resource_country") or "").strip() or None), "open")
        status, department = Status.OPENED, group
    elif ticket.priority != priority:
        add(commands.TriageTicket(occurred_at=at, ticket_id=ticket_id, priority=priority), "triage")
    if status == Status.CLOSED:
        return steps
    if status == Status.RESOLVED and sub_status not in RESOLVING | CLOSING:
        add(commands.ReopenTicket(occurred_at=at, ticket_id=ticket_id, reason=f"{row['status']} / {sub_status}"),
            "reopen")
        status = Status.REOPENED
    if status == Status.WAITING_ON_CUSTOMER and sub_status not in CUSTOMER_WAITS:
        add(commands.ResumeTicket(occurred_at=at, ticket_id=ticket_id, reason=sub_status), "resume")
        status = Status.IN_PROGRESS
    if sub_status in RESOLVING | CLOSING:
        if status != Status.RESOLVED:
            add(commands.ResolveTicket(occurred_at=at, ticket_id=ticket_id, code=sub_status.lower().replace(" ", "_"),
                                summary=f"{sub_status} in VINST"), "resolve")
        if sub_status in CLOSING:
            add(commands.CloseTicket(occurred_at=at, ticket_id=ticket_id, reason=sub_status), "close")
        return steps
    if group and group != department and ticket is not None:
        if status == Status.WAITING_ON_CUSTOMER:  # a hand-off ends the wait; the new team may wait again
            add(commands.ResumeTicket(occurred_at=at, ticket_id=ticket_id, reason="transferred"), "resume")
            status = Status.IN_PROGRESS
        add(commands.TransferTicket(occurred_at=at, ticket_id=ticket_id, department=group), "transfer")
        assignee = None
    if agent and agent != assignee and sub_status in {"Assigned", "In Progress"} | CUSTOMER_WAITS:
        add(commands.AssignTicket(occurred_at=at, ticket_id=ticket_id, agent_id=agent, team=group), "assign")
        assignee = agent
    if sub_status in CUSTOMER_WAITS and status != Status.WAITING_ON_CUSTOMER:
        if assignee is None:
            raise RowError("org_resource", "waiting on the user needs an agent the ticket is assigned to")
        add(commands.WaitOnCustomer(occurred_at=at, ticket_id=ticket_id, reason=sub_status), "wait")
    return steps


def read(path: Path) -> Iterator[SourceRow]:
    keys = EventKeys(FORMAT)

    def source_row(line: int, row: dict[str, str]) -> SourceRow:
        case = _required(row, "case_id")
        at = parse_instant(_required(row, "timestamp"), "timestamp")
        row_key = keys.row_key(case, f"{row['timestamp']}:{row.get('status')}/{row.get('sub_status')}:"
                                     f"{row.get('org_resource')}")
        open_key = keys.open_key(case)
        return SourceRow(line, row, ticket_id_for_key(open_key), at,
                         lambda ticket: plan(row, row_key, open_key, at, ticket))

    return read_source(path, FORMAT, COLUMNS, source_row)
