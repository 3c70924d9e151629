"""Ticket commands and the ticket's own history: request → command → use case → response.

Each ticket command's HTTP body is its command model minus ``ticket_id`` (which comes from the
path), derived here so the two can never drift apart.
"""

from typing import Annotated, Any
from uuid import UUID

from api.body import StrictJsonRoute
from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, create_model

from api.bootstrap import Services
from domain.values import UtcDatetime
from api.auth import CurrentCaller, require_acting_as_itself
from api.dependencies import Application, Context, get_services
from api.problems import ResourceNotFoundError
from domain import commands as c
from domain.application import Outcome
from projections.moment import Moment
from projections.ticket_state.facts import SlaFacts
from projections.time_travel import ticket_at

router = APIRouter(prefix="/v1/tickets", tags=["tickets"], route_class=StrictJsonRoute)
Wired = Annotated[Services, Depends(get_services)]


class CommandAccepted(BaseModel):
    ticket_id: UUID
    version: int


class TicketHistory(BaseModel):
    ticket_id: UUID
    events: list[dict[str, Any]]


def _accepted(outcome: Outcome, response: Response) -> CommandAccepted:
    response.headers["ETag"] = f'"{outcome.version}"'
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return CommandAccepted(ticket_id=outcome.ticket_id, version=outcome.version)


def body_model(command: type[c.TicketCommand]) -> type[BaseModel]:
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


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CommandAccepted)
def open_ticket(body: c.OpenTicket, app: Application, context: Context, response: Response):
    """Open a ticket (first contact). A complaint carries a severity."""
    outcome = app.open_ticket(body, context)
    if outcome.replayed:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/tickets/{outcome.ticket_id}"
    return _accepted(outcome, response)


def _add_command_route(path: str, command: type[c.TicketCommand], summary: str) -> None:
    Body = body_model(command)

    def endpoint(ticket_id: UUID, body: Body, app: Application, context: Context, response: Response,  # type: ignore[valid-type]
                 caller: CurrentCaller):
        cmd = command(ticket_id=ticket_id, **body.model_dump(exclude_unset=True))
        require_acting_as_itself(caller, cmd)
        return _accepted(app.handle(cmd, context), response)

    endpoint.__name__ = command.handler_name()
    router.add_api_route(
        f"/{{ticket_id}}/{path}", endpoint, methods=["POST"], response_model=CommandAccepted,
        summary=summary, name=command.handler_name(),
    )


for _path, _command, _summary in (
    ("interactions", c.RecordInteraction, "Record a message or call, in either direction"),
    ("triage", c.TriageTicket, "Set or correct priority, category, severity"),
    ("assignment", c.AssignTicket, "Assign or reassign to an agent"),
    ("transfer", c.TransferTicket, "Hand the ticket to another department"),
    ("escalations", c.EscalateTicket, "Escalate manually, with a reason"),
    ("wait", c.WaitOnCustomer, "Wait on the customer (pauses the SLA clock)"),
    ("resume", c.ResumeTicket, "Resume after waiting on the customer"),
    ("resolution", c.ResolveTicket, "Resolve, with code and summary (complaints: remedy, root cause)"),
    ("reopen", c.ReopenTicket, "Reopen within the reopen window"),
    ("close", c.CloseTicket, "Close a resolved ticket"),
    ("survey", c.RecordSurvey, "Record the satisfaction survey (CSAT 1–5, NPS 0–10)"),
):
    _add_command_route(_path, _command, _summary)


@router.get("/{ticket_id}")
def get_ticket(
    ticket_id: UUID, app: Application, response: Response, services: Wired,
    as_of: Annotated[UtcDatetime | None, Query(description="Business time: as it stood then.")] = None,
    known_at: Annotated[UtcDatetime | None, Query(description="Transaction time: as recorded by then.")] = None,
) -> dict[str, Any]:
    """The ticket's state, folded from its own events (so always current), or as of a moment."""
    # One ticket folds its own events (a few dozen at most, never the log): exact at any moment and
    # current even while the projector catches up.
    row = ticket_at(app.ticket_events(ticket_id), as_of, known_at, SlaFacts(services.policy_book()))
    if row is None:
        raise ResourceNotFoundError(f"ticket {ticket_id} did not exist at that moment")
    response.headers["ETag"] = f'"{row.version}"'
    document = services.reveal([row.as_dict()])[0]
    document["deadlines"] = services.deadline_state(row, Moment(as_of, known_at).instant(services.clock()))
    return document


@router.get("/{ticket_id}/events", response_model=TicketHistory)
def ticket_events(ticket_id: UUID, app: Application):
    """The ticket's full, ordered history, each event with its hash and the previous one's."""
    events = app.ticket_events(ticket_id)
    return TicketHistory(ticket_id=ticket_id, events=[event.public_dict() for event in events])
