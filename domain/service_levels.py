"""Service levels: SLA and OLA policies, the escalation chain, and the deadlines they set.

A policy file (TOML) names calendars, SLA targets matched by priority / customer tier / category /
channel (first match wins), OLA targets per department, and which escalation level each breach
kind goes to. ``deadlines(row, policy, now)`` derives every deadline of a ticket from its
read-model row alone, so the watcher, the ticket query and the KPIs agree and replays repeat.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from domain.calendar import Calendar
from domain.ticket_history import Interaction, Pause, Reopen, SlaNotice, TicketHistory, Transfer


class PolicyError(ValueError):
    """The policy file is invalid; the message names the offending key (``field``)."""

    def __init__(self, detail: str, field: str = "policy"):
        super().__init__(detail)
        self.field = field


class SlaTarget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    priority: str | None = None
    tier: str | None = None
    category: str | None = None
    channel: str | None = None
    calendar: str = "24x7"
    first_response_minutes: float | None = Field(default=None, gt=0)
    next_response_minutes: float | None = Field(default=None, gt=0)
    resolution_minutes: float | None = Field(default=None, gt=0)
    warning_at: float = Field(default=0.8, gt=0, lt=1, description="Warn when this share of the target is used.")

    def matches(self, facts: dict[str, Any]) -> bool:
        return all(getattr(self, key) in (None, facts.get(key)) for key in ("priority", "tier", "category", "channel"))


class OlaTarget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    calendar: str = "24x7"
    minutes: float = Field(gt=0)
    warning_at: float = Field(default=0.8, gt=0, lt=1)


class EscalationChain(BaseModel):
    """Which level each breach goes to: 1 team lead, 2 department manager, 3 senior management."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    first_response: int = Field(default=1, ge=1, le=3)
    next_response: int = Field(default=1, ge=1, le=3)
    resolution: int = Field(default=2, ge=1, le=3)
    ola: int = Field(default=2, ge=1, le=3)
    complaint_major: int = Field(default=3, ge=1, le=3)
    complaint_general: int = Field(default=2, ge=1, le=3)

    def for_kind(self, kind: str) -> int:
        return self.ola if kind.startswith("ola:") else getattr(self, kind)

    def for_complaint(self, severity: str | None) -> int | None:
        return {"major": self.complaint_major, "general": self.complaint_general}.get(severity or "")


DEFAULT_SLA = [
    SlaTarget(tier="vip", calendar="24x7", first_response_minutes=30, next_response_minutes=120, resolution_minutes=480),
    SlaTarget(priority="P1", calendar="24x7", first_response_minutes=60, next_response_minutes=240, resolution_minutes=480),
    SlaTarget(priority="P2", calendar="business", first_response_minutes=240, next_response_minutes=480,
              resolution_minutes=1440),
    SlaTarget(priority="P3", calendar="business", first_response_minutes=480, resolution_minutes=2880),
    SlaTarget(calendar="business", first_response_minutes=960, resolution_minutes=5760),
]


class ServicePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    calendars: dict[str, Calendar] = Field(default_factory=lambda: {
        "24x7": Calendar(always_open=True), "business": Calendar()})
    sla: tuple[SlaTarget, ...] = tuple(DEFAULT_SLA)
    ola: dict[str, OlaTarget] = Field(default_factory=dict)
    escalation: EscalationChain = EscalationChain()

    @model_validator(mode="after")
    def _calendars_exist(self) -> ServicePolicy:
        for index, target in enumerate(self.sla):
            if target.calendar not in self.calendars:
                raise ValueError(f"sla[{index}].calendar: no calendar named {target.calendar!r}")
        for department, target in self.ola.items():
            if target.calendar not in self.calendars:
                raise ValueError(f"ola.{department}.calendar: no calendar named {target.calendar!r}")
        return self

    def sla_for(self, facts: dict[str, Any]) -> SlaTarget | None:
        """The first target matching the facts (memoised per policy: the projector asks at every
        version of every ticket, and the targets are few)."""
        memo = _target_memo(self)
        key = (facts.get("priority"), facts.get("tier"), facts.get("category"), facts.get("channel"))
        found = memo.get(key, _UNMATCHED)
        if found is _UNMATCHED:
            if len(memo) > 10_000:
                memo.clear()
            found = memo[key] = next((target for target in self.sla if target.matches(facts)), None)
        return found


_UNMATCHED = object()
_TARGET_MEMOS: dict[int, tuple[ServicePolicy, dict[tuple, SlaTarget | None]]] = {}


def _target_memo(policy: ServicePolicy) -> dict[tuple, SlaTarget | None]:
    """A policy's answers of ``sla_for``, by identity (hashing a policy model costs more than the
    matching); the entry keeps its policy alive, so an id is never reused for it."""
    entry = _TARGET_MEMOS.get(id(policy))
    if entry is None or entry[0] is not policy:
        if len(_TARGET_MEMOS) > 256:
            _TARGET_MEMOS.clear()
        entry = _TARGET_MEMOS[id(policy)] = (policy, {})
    return entry[1]


def load_policy(text: str) -> ServicePolicy:
    """Parses and validates a TOML policy; errors name the key (``sla[1].resolution_minutes: …``)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as bad:
        raise PolicyError(f"not valid TOML: {bad}") from None
    try:
        return ServicePolicy.model_validate(raw)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"]).lstrip(".")
        raise PolicyError(f"{where or 'policy'}: {error['msg']}", where or "policy") from None


# ------------------------------------------------------------------------------- deadlines
@dataclass(frozen=True)
class Deadline:
    kind: str               # first_response | next_response | resolution | ola:<department>
    cycle: int              # resolution: reopens so far; ola: transfer number; next_response: message number
    started_at: datetime
    target_seconds: float
    calendar: str
    warn_at: datetime | None   # None while paused
    due_at: datetime | None    # None while paused
    met_at: datetime | None
    paused: bool

    @property
    def key(self) -> str:
        return f"{self.kind}#{self.cycle}"

    def breached(self, now: datetime) -> bool:
        if self.met_at is not None:
            return self.due_at is not None and self.met_at > self.due_at
        return self.due_at is not None and now >= self.due_at

    def describe(self, now: datetime, calendar: Calendar) -> dict[str, Any]:
        remaining = None
        if self.due_at is not None and self.met_at is None:
            remaining = calendar.business_seconds(now, self.due_at) if now < self.due_at else \
                -calendar.business_seconds(self.due_at, now)
        return {"kind": self.kind, "cycle": self.cycle, "started_at": self.started_at.isoformat(),
                "due_at": self.due_at.isoformat() if self.due_at else None,
                "met_at": self.met_at.isoformat() if self.met_at else None,
                "paused": self.paused, "breached": self.breached(now),
                "remaining_business_seconds": remaining}


def _at(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def _deadline(kind: str, cycle: int, start: datetime, minutes: float, warning: float, calendar_name: str,
              calendar: Calendar, met: datetime | None, pauses: list[tuple[datetime, datetime | None]]) -> Deadline:
    """Due = start + target in business time, pushed back by the business time spent paused."""
    end_of_view = met
    paused_seconds, paused_now = 0.0, False
    for pause_start, pause_end in pauses:
        if pause_end is not None and pause_end <= start:
            continue
        if end_of_view is not None and pause_start >= end_of_view:
            continue
        if pause_end is None:
            paused_now = end_of_view is None
            if paused_now:
                break
            pause_end = end_of_view
        paused_seconds += calendar.business_seconds(max(pause_start, start), pause_end)
    target = minutes * 60
    if paused_now:
        return Deadline(kind, cycle, start, target, calendar_name, None, None, met, True)
    due = calendar.add_business_seconds(start, target + paused_seconds)
    warn = calendar.add_business_seconds(start, target * warning + paused_seconds)
    return Deadline(kind, cycle, start, target, calendar_name, warn, due, met, False)


def deadline_inputs(row: TicketHistory, policy: ServicePolicy) -> tuple:
    """Everything of a row that ``deadlines`` reads under ``policy``: two rows with equal inputs
    have equal deadlines under it (the read side judges every version of a ticket, and most events
    — an assignment, a message, a survey — change none of these). The messages count only when the
    row's target sets a next-response time, the transfers only when the policy has OLAs."""
    sla = policy.sla_for({"priority": row.priority, "tier": row.customer_tier, "category": row.category,
                          "channel": row.channel})
    messages = sla is not None and sla.next_response_minutes and row.first_response_at
    return (row.priority, row.customer_tier, row.category, row.channel, row.opened_at,
            tuple(map(tuple, row.paused)), row.waiting_since, row.first_response_at, row.resolved_at,
            tuple(map(tuple, row.reopens)), tuple(map(tuple, row.transfers)) if policy.ola else (),
            tuple(map(tuple, row.interactions)) if messages else ())


def deadlines(row: TicketHistory, policy: ServicePolicy) -> list[Deadline]:
    """Every deadline of a ticket (met, running or paused), from its facts."""
    facts = {"priority": row.priority, "tier": row.customer_tier, "category": row.category, "channel": row.channel}
    pauses = [(_at(pause.start), _at(pause.end)) for pause in map(Pause._make, row.paused)]
    if row.waiting_since:
        pauses.append((_at(row.waiting_since), None))
    found: list[Deadline] = []
    sla = policy.sla_for(facts)
    if sla is not None:
        calendar = policy.calendars[sla.calendar]
        opened = _at(row.opened_at)
        if sla.first_response_minutes:
            found.append(_deadline("first_response", 0, opened, sla.first_response_minutes, sla.warning_at,
                                   sla.calendar, calendar, _at(row.first_response_at), pauses))
        if sla.resolution_minutes:
            start = _at(Reopen._make(row.reopens[-1]).at) if row.reopens else opened
            found.append(_deadline("resolution", len(row.reopens), start, sla.resolution_minutes, sla.warning_at,
                                   sla.calendar, calendar, _at(row.resolved_at), pauses))
        if sla.next_response_minutes and row.first_response_at:
            found.extend(_next_responses(row, sla, calendar, pauses))
    for number, at, department, handed_on in transfer_windows(row):
        ola = policy.ola.get(department)
        if ola is None:
            continue
        found.append(_deadline(f"ola:{department}", number, _at(at), ola.minutes, ola.warning_at, ola.calendar,
                               policy.calendars[ola.calendar], _at(handed_on), []))
    return found


def transfer_windows(row: TicketHistory) -> list[tuple[int, str, str, str | None]]:
    """(number, at, department, handed on) of each transfer: an OLA runs from the transfer to the
    next hand-off (the next transfer, else the resolution), whatever the policy."""
    transfers = [Transfer._make(transfer) for transfer in row.transfers]
    return [(number, transfer.at, transfer.to_department,
             transfers[number].at if number < len(transfers) else row.resolved_at)
            for number, transfer in enumerate(transfers, start=1)]


def next_response_windows(row: TicketHistory) -> list[tuple[int, str, str | None]]:
    """(number, start, answered at) of each wait for a next response: after the first response, each
    customer message waits for the next agent reply; one still unanswered counts while the ticket
    is unresolved. Independent of the policy, which only says whether they have a target."""
    found, waiting_since, number = [], None, 0
    for interaction in map(Interaction._make, row.interactions):
        if interaction.author == "customer" and waiting_since is None and interaction.at > row.first_response_at:
            waiting_since, number = interaction.at, number + 1
        elif interaction.author == "agent" and waiting_since is not None:
            found.append((number, waiting_since, interaction.at))
            waiting_since = None
    if waiting_since is not None and row.resolved_at is None:
        found.append((number, waiting_since, None))
    return found


def _next_responses(row: TicketHistory, sla: SlaTarget, calendar: Calendar, pauses) -> list[Deadline]:
    return [_deadline("next_response", number, _at(start), sla.next_response_minutes, sla.warning_at,
                      sla.calendar, calendar, _at(answered), pauses)
            for number, start, answered in next_response_windows(row)]


def calendar_of(deadline: Deadline, policy: ServicePolicy) -> Calendar:
    return policy.calendars[deadline.calendar]


# ------------------------------------------------------------------------- what is due now
@dataclass(frozen=True)
class Action:
    """Something the SLA watcher must do for a ticket. ``key`` makes it idempotent: it derives from
    the ticket, the deadline (kind and cycle) and the level, so reruns cannot repeat it."""

    command: str             # warn | breach | escalate
    ticket_id: str
    deadline: str | None
    due_at: datetime         # when the deadline (or warning) fell due; for complaint routing, the complaint
    level: int | None
    reason: str

    @property
    def key(self) -> str:
        return f"sla:{self.ticket_id}:{self.deadline or 'complaint'}:{self.command}" + (
            f":{self.level}" if self.level else "")


@dataclass(frozen=True)
class Known:
    """What the watcher knew of a ticket and since when (``recorded_at``, transaction time), which
    decides whether a moment of the ticket is live enough to act on.

    ``open_since``: when the opening (or the latest reopening) was recorded. ``complaint_since``:
    when the severity that makes it a complaint was recorded, if it is one."""

    open_since: datetime
    complaint_since: datetime | None = None


def actionable(moment: datetime, known: Known, grace: timedelta) -> bool:
    """Facts versus actions: a warning, breach notice or escalation is taken only for a moment that
    falls due while the system knows the ticket is open. A moment already past by more than
    ``grace`` when the ticket's opening was recorded (an import, a back-dated history) is a fact for
    the read side, never an action."""
    return moment + grace >= known.open_since


def actions_due(row: TicketHistory, policy: ServicePolicy, now: datetime, known: Known,
                grace: timedelta = timedelta(0)) -> list[Action]:
    """What the watcher must do now for this ticket, judged on the facts known now.

    Each moment (warning, due time) waits ``grace`` before it is judged, so that buffered events
    that occurred before it (an answer, a resolution) can still arrive; then it is acted on only if
    it is ``actionable``, the ticket is open and the step it guards is still not recorded. A
    deadline met late, or a ticket no longer open, needs no action: that a target was missed is a
    fact the read side derives from the ticket's own events."""
    if not row.is_open:
        return []
    actions: list[Action] = []
    level = row.escalation_level
    complaint_level = policy.escalation.for_complaint(row.severity)
    if complaint_level and complaint_level > level and _routing_due(known, grace) <= now:
        actions.append(Action("escalate", row.ticket_id, None, _at(row.complaint_at or row.opened_at),
                              complaint_level, f"{row.severity} complaint routed by severity"))
        level = complaint_level
    warned = {notice.deadline for notice in map(SlaNotice._make, row.sla_warnings)}
    breached = {notice.deadline for notice in map(SlaNotice._make, row.sla_breaches)}
    for deadline in sorted(deadlines(row, policy), key=lambda d: (d.due_at or now, d.key)):
        if deadline.met_at is not None or deadline.due_at is None or deadline.key in breached:
            continue
        if now >= deadline.due_at + grace and actionable(deadline.due_at, known, grace):
            actions.append(Action("breach", row.ticket_id, deadline.key, deadline.due_at, None,
                                  f"{deadline.kind} deadline passed"))
            target = policy.escalation.for_kind(deadline.kind)
            if target > level:
                actions.append(Action("escalate", row.ticket_id, deadline.key, deadline.due_at, target,
                                      f"{deadline.kind} deadline breached"))
                level = target
        elif (deadline.key not in warned and now >= deadline.warn_at + grace
              and actionable(deadline.warn_at, known, grace)):
            actions.append(Action("warn", row.ticket_id, deadline.key, deadline.warn_at, None,
                                  f"{deadline.kind} deadline near"))
    return actions


def _routing_due(known: Known, grace: timedelta) -> datetime:
    """A complaint is routed ``grace`` after it became known, if it is still open then: routing
    reacts to learning of the complaint, so a complaint recorded already resolved is never routed."""
    return (known.complaint_since or known.open_since) + grace


def next_check(row: TicketHistory, policy: ServicePolicy, known: Known,
               grace: timedelta = timedelta(0)) -> datetime | None:
    """When this ticket next needs the watcher's attention (routing, a warning or a due time, each
    plus ``grace``), if ever: never for a ticket that is not open or whose moments are all past
    acting on."""
    if not row.is_open:
        return None
    moments = []
    complaint_level = policy.escalation.for_complaint(row.severity)
    if complaint_level and complaint_level > row.escalation_level:
        moments.append(_routing_due(known, grace))
    warned = {notice.deadline for notice in map(SlaNotice._make, row.sla_warnings)}
    breached = {notice.deadline for notice in map(SlaNotice._make, row.sla_breaches)}
    for deadline in deadlines(row, policy):
        if deadline.met_at is not None or deadline.due_at is None or deadline.key in breached:
            continue
        if deadline.key not in warned and actionable(deadline.warn_at, known, grace):
            moments.append(deadline.warn_at + grace)
        elif actionable(deadline.due_at, known, grace):
            moments.append(deadline.due_at + grace)
    return min(moments, default=None)


def at_risk(rows: list[TicketHistory], policy_of: Callable[[Any], ServicePolicy], now: datetime,
            within: timedelta) -> list[dict[str, Any]]:
    """Tickets whose soonest unmet deadline is past, or due within ``within``; soonest first.
    ``policy_of(row)``: the policy that judges the ticket (its version, ``domain.sla_policies``)."""
    found = []
    for row in rows:
        pending = [d for d in deadlines(row, policy_of(row)) if d.met_at is None and d.due_at is not None]
        soonest = min(pending, key=lambda d: d.due_at, default=None)
        if soonest is not None and soonest.due_at <= now + within:
            found.append({"ticket_id": row.ticket_id, "priority": row.priority, "assignee_id": row.assignee_id,
                          "escalation_level": row.escalation_level, "deadline": soonest.key,
                          "due_at": soonest.due_at.isoformat(), "breached": soonest.due_at <= now})
    return sorted(found, key=lambda entry: entry["due_at"])
