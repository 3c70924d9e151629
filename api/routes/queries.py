"""Dashboards' and auditors' queries. Every one accepts ``as_of`` (business time) and
``known_at`` (transaction time); without them it reads the live read models."""

from datetime import timedelta
from typing import Annotated, Any, Literal

from api.body import StrictJsonRoute
from fastapi import APIRouter, Query

from domain.values import UtcDatetime
from api.dependencies import InjectedServices
from api.auth import CurrentCaller, queue_of
from api.problems import ResourceNotFoundError, echoed
from domain.values import Priority
from projections import queries
from projections.moment import parse_bound, required_bound

# What ``status=`` may name: a status of the ticket-state read model, or "open" for every open one.
StatusFilter = Literal[queries.LISTABLE_STATUSES]  # type: ignore[valid-type]
PriorityFilter = Literal[tuple(p.value for p in Priority)]  # type: ignore[valid-type]

router = APIRouter(prefix="/v1", tags=["read models"], route_class=StrictJsonRoute)

AsOf = Annotated[UtcDatetime | None, Query(description="Business time: events that occurred at or before it.")]
KnownAt = Annotated[UtcDatetime | None, Query(description="Transaction time: events recorded at or before it.")]


Bound = Annotated[str | None, Query(description="An instant with its offset, or a date (that day's midnight in "
                                                 "the organisation's time zone, SERVICETRAIL_TIMEZONE).")]


@router.get("/tickets")
def list_tickets(
    services: InjectedServices, as_of: AsOf = None, known_at: KnownAt = None,
    status: Annotated[StatusFilter | None, Query(description="A status, or 'open' for every open one.")] = None,
    agent_id: str | None = None, priority: PriorityFilter | None = None,
    breached: Annotated[bool | None, Query(description="Only tickets with (true) or without (false) an SLA breach "
                                                       "(a breach notice, or a deadline met late).")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50, cursor: str | None = None,
    caller: CurrentCaller = None,
) -> dict[str, Any]:
    """Tickets newest first, with filters and cursor pagination. A queue-scoped caller (an agent)
    sees its own queue whatever the parameters say."""
    agent_id = queue_of(caller, agent_id)
    with services.read(as_of, known_at) as view:
        page = queries.list_tickets(view, status=status, agent_id=agent_id, priority=priority, breached=breached,
                                    limit=limit, cursor=cursor)
    services.reveal(page["tickets"])
    return page


@router.get("/sla/risk")
def sla_risk(
    services: InjectedServices, as_of: AsOf = None, known_at: KnownAt = None,
    within_minutes: Annotated[int, Query(ge=0, le=7 * 24 * 60, description="Due within this many minutes.")] = 60,
) -> dict[str, Any]:
    """Open tickets with a breached or soon-due deadline, by escalation level, soonest first."""
    from domain.service_levels import at_risk

    moment = services.instant(as_of, known_at)
    with services.read(as_of, known_at) as view:
        risky = at_risk(queries.open_rows(view), view.judge.policy_of, moment, timedelta(minutes=within_minutes))
    return {"at": moment.isoformat(), "within_minutes": within_minutes,
            "breached": [e for e in risky if e["breached"]], "about_to_breach": [e for e in risky if not e["breached"]]}


@router.get("/sla/what-if")
def sla_what_if(
    services: InjectedServices,
    policy: Annotated[str, Query(max_length=50_000, description="The proposed policy as TOML text (the format of "
                                 "SERVICETRAIL_POLICY_FILE), URL-encoded.")],
    from_: Annotated[str, Query(alias="from", description="Window start: an instant, or a date (local midnight).")],
    to: Annotated[str, Query(description="Window end, exclusive: an instant or a date.")],
    as_of: AsOf = None, known_at: KnownAt = None,
) -> dict[str, Any]:
    """The SLA compliance a proposed policy would have given to the tickets resolved in [from, to),
    per priority, tier and deadline kind, beside the policy in force; nothing is written."""
    from api.policy_files import parse_policy
    from domain.service_levels import PolicyError
    from projections.what_if import what_if

    try:
        proposed = parse_policy(policy)
    except PolicyError as bad:
        raise queries.InvalidQuery("policy", str(bad)) from None
    start, end = required_bound("from", from_, services.zone), required_bound("to", to, services.zone)
    with services.read(as_of, known_at) as view:
        return what_if(view, start, end, proposed)


@router.get("/kpis")
def kpis(
    services: InjectedServices, as_of: AsOf = None, known_at: KnownAt = None,
    from_: Annotated[str | None, Query(alias="from", description="Start (default: to − 30 days). An instant with "
                                       "its offset, or a date: local midnight (SERVICETRAIL_TIMEZONE).")] = None,
    to: Annotated[str | None, Query(description="End, exclusive (default: as_of, else known_at, else now). An "
                                    "instant or a date, as for from.")] = None,
    group_by: Annotated[str | None, Query(description="channel, category, team, priority or region.")] = None,
) -> dict[str, Any]:
    """Every KPI of the service over [from, to), optionally per group; backlog at the window's end."""
    zone = services.zone
    return services.kpis(as_of, known_at, parse_bound("from", from_, zone), parse_bound("to", to, zone), group_by)


@router.get("/agents/leaderboard")
def leaderboard(
    services: InjectedServices, period: Annotated[str, Query(description="YYYY-MM, YYYY-Www or YYYY-MM-DD, in the "
                                                   "organisation's time zone.")],
    as_of: AsOf = None, known_at: KnownAt = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    with services.read(as_of, known_at) as view:
        return queries.leaderboard(view, period, services.settings.score_weights, limit, services.zone)


@router.get("/agents/{agent_id}/performance")
def agent_performance(
    services: InjectedServices, agent_id: str,
    period: Annotated[str, Query(description="YYYY-MM, YYYY-Www or YYYY-MM-DD, in "
                                                                 "the organisation's time zone.")],
    as_of: AsOf = None, known_at: KnownAt = None,
) -> dict[str, Any]:
    with services.read(as_of, known_at) as view:
        return queries.agent_report(view, agent_id, period, services.settings.score_weights, services.zone)


@router.get("/customers/{customer_id}/history")
def customer_history(services: InjectedServices, customer_id: str, as_of: AsOf = None,
                     known_at: KnownAt = None) -> dict[str, Any]:
    with services.read(as_of, known_at) as view:
        report = queries.customer_report(view, customer_id)
    if report is None:
        raise ResourceNotFoundError(f"no customer {echoed(customer_id)} (at that moment)")
    if report["contact"]:
        report["contact"] = services.reveal([{"contact": report["contact"]}])[0]["contact"]
    return report


@router.delete("/customers/{customer_id}/personal-data")
def erase_personal_data(services: InjectedServices, customer_id: str, caller: CurrentCaller) -> dict[str, Any]:
    """Erases the customer's personal data everywhere by deleting their key; history keeps its shape,
    and the erasure itself becomes an event of the log (``customer.personal_data_erased``)."""
    from domain.commands import CommandContext, ErasePersonalData

    erasure = services.app.erase_personal_data(ErasePersonalData(customer_id=customer_id),
                                               CommandContext(actor=caller.actor if caller else "admin"))
    return {"erased": True, **erasure.describe()}
