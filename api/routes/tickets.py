"""Ticket commands and the ticket's own history: request → command → use case → response.

Each ticket command's HTTP body is its command model minus ``ticket_id`` (which comes from the
path), derived here so the two can never drift apart. The endpoints below declare what the
OpenAPI document shows; ``api.command_route.CommandRoute`` serves them (validating the body once,
as the command).
"""

from typing import Annotated, Any
from uuid import UUID

from api.body import StrictJsonRoute
from api.command_route import CommandRoute
from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, create_model

from domain.values import UtcDatetime
from api.auth import CurrentCaller
from api.dependencies import Application, Context, InjectedServices
from api.problems import ResourceNotFoundError
from domain import commands

router = APIRouter(prefix="/v1/tickets", tags=["tickets"], route_class=StrictJsonRoute)


class CommandAccepted(BaseModel):
    ticket_id: UUID
    version: int


class TicketHistory(BaseModel):
    ticket_id: UUID
    events: list[dict[str, Any]]


def body_model(command: type[commands.TicketCommand]) -> type[BaseModel]:
    fields = {
        name: (info.annotation, info)
        for name, info in command.model_fields.items()
        if name != "ticket_id"
    }
    return create_model(
        f"{command.__name__}Body",
        __config__=command.model_config,  # the command's own: extra fields and non-finite numbers refused
        __doc__=command.__doc__,
        **fields,
    )


def open_ticket(body: commands.OpenTicket, app: Application, context: Context) -> CommandAccepted:
    """Open a ticket (first contact). A complaint carries a severity."""
    raise NotImplementedError  # served by CommandRoute


open_ticket.command = commands.OpenTicket  # type: ignore[attr-defined]
router.add_api_route("", open_ticket, methods=["POST"], status_code=status.HTTP_201_CREATED,
                     response_model=CommandAccepted, route_class_override=CommandRoute)


def _add_command_route(path: str, command: type[commands.TicketCommand], summary: str) -> None:
    Body = body_model(command)

    def endpoint(ticket_id: UUID, body: Body, app: Application, context: Context,  # type: ignore[valid-type]
                 caller: CurrentCaller) -> CommandAccepted:
        raise NotImplementedError  # served by CommandRoute

    endpoint.__name__ = command.handler_name()
    endpoint.command = command  # type: ignore[attr-defined]
    router.add_api_route(
        f"/{{ticket_id}}/{path}", endpoint, methods=["POST"], response_model=CommandAccepted,
        summary=summary, name=command.handler_name(), route_class_override=CommandRoute,
    )


for _path, _command, _summary in (
    ("interactions", commands.RecordInteraction, "Record a message or call, in either direction"),
    ("triage", commands.TriageTicket, "Set or correct priority, category, severity"),
    ("assignment", commands.AssignTicket, "Assign or reassign to an agent"),
    ("transfer", commands.TransferTicket, "Hand the ticket to another department"),
    ("escalations", commands.EscalateTicket, "Escalate manually, with a reason"),
    ("wait", commands.WaitOnCustomer, "Wait on the customer (pauses the SLA clock)"),
    ("resume", commands.ResumeTicket, "Resume after waiting on the customer"),
    ("resolution", commands.ResolveTicket, "Resolve, with code and summary (complaints: remedy, root cause)"),
    ("reopen", commands.ReopenTicket, "Reopen within the reopen window"),
    ("close", commands.CloseTicket, "Close a resolved ticket"),
    ("survey", commands.RecordSurvey, "Record the satisfaction survey (CSAT 1–5, NPS 0–10)"),
):
    _add_command_route(_path, _command, _summary)


@router.get("/{ticket_id}")
def get_ticket(
    ticket_id: UUID, response: Response, services: InjectedServices,
    as_of: Annotated[UtcDatetime | None, Query(description="Business time: as it stood then.")] = None,
    known_at: Annotated[UtcDatetime | None, Query(description="Transaction time: as recorded by then.")] = None,
) -> dict[str, Any]:
    """The ticket's state, folded from its own events (so always current), or as of a moment."""
    row = services.ticket_at(ticket_id, as_of, known_at)
    if row is None:
        raise ResourceNotFoundError(f"ticket {ticket_id} did not exist at that moment")
    response.headers["ETag"] = f'"{row.version}"'
    document = services.reveal([row.as_dict()])[0]
    document["deadlines"] = services.deadline_state(row, services.instant(as_of, known_at))
    return document


@router.get("/{ticket_id}/events", response_model=TicketHistory)
def ticket_events(ticket_id: UUID, app: Application):
    """The ticket's full, ordered history, each event with its hash and the previous one's."""
    events = app.ticket_events(ticket_id)
    return TicketHistory(ticket_id=ticket_id, events=[event.public_dict() for event in events])
