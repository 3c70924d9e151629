"""What-if: the SLA compliance a proposed policy (or calendar) would have given over a past
period, beside what the policy in force gave, from the facts alone; nothing is written.

A service manager asks it before changing a target: "with a 6-hour P2 resolution target, how many
of last month's tickets would have been within SLA?" Tickets are those resolved in the window
(as they stood at the view's moment), exactly the tickets of the KPIs' SLA compliance, so the
"in force" side equals ``/v1/kpis``' ``sla_compliance`` for the same window and moment. "In
force" means each ticket's own policy version (the one in force when it was opened,
``domain.sla_policies``); "proposed" judges every ticket by the proposal.

Now (no ``as_of`` / ``known_at``) the answer is read from ``ticket_sla_inputs`` (one row of
columns per resolved ticket, indexed by resolution time) and the proposal is judged for all of
them at once (``projections.sla_vector``); at another moment the rows as they stood are judged one
by one with the definition (``SlaFacts.deadline_facts_of``). Both give the same answer (tested).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.service_levels import ServicePolicy
from projections.measures import ratio, within
from projections.moment import InvalidQuery
from projections.read_side import ReadView, RowFilter
from projections.ticket_state.facts import SlaFacts, deadline_kind, met_late
from projections.ticket_state.fold import iso

NONE = "(none)"


def _tally(priorities: list[str | None], tiers: list[str | None], within_sla: list[bool],
           breaches: dict[str, int]) -> dict[str, Any]:
    """Compliance overall, per priority and per tier (tickets aligned in the three lists); missed
    deadlines per kind."""
    def compliance(tickets: int, good: int) -> dict[str, Any]:
        return {"tickets": tickets, "sla_compliance": ratio(good, tickets)}

    def per(keys: list[str | None]) -> dict[str, Any]:
        tickets = Counter(key or NONE for key in keys)
        good = Counter(key or NONE for key, ok in zip(keys, within_sla) if ok)
        return {key: compliance(count, good[key]) for key, count in sorted(tickets.items())}

    return {**compliance(len(within_sla), sum(within_sla)), "per_priority": per(priorities), "per_tier": per(tiers),
            "breaches_per_kind": {k: v for k, v in sorted(breaches.items()) if v}}


def _kinds(keys: Iterable[str]) -> Counter:
    return Counter(deadline_kind(key) for key in keys)


def what_if(view: ReadView, start: datetime, end: datetime, proposed: ServicePolicy) -> dict[str, Any]:
    if end <= start:
        raise InvalidQuery("to", "to must be after from")
    lo, hi = iso(start), iso(end)
    sides = _from_inputs(view, lo, hi, proposed) if view.moment.is_live else _from_rows(view, lo, hi, proposed)
    return {"from": lo, "to": hi, **sides}


def _from_rows(view: ReadView, lo: str, hi: str, proposed: ServicePolicy) -> dict[str, Any]:
    """The definition: every resolved row as it stood, judged one by one."""
    resolved = [r for r in view.rows(RowFilter(opened_before=hi, active_since=lo)) if within(r.resolved_at, lo, hi)]
    judge = SlaFacts(proposed)
    sides = {}
    for side, missed_of in (("in_force", lambda r: met_late(r.deadline_facts)),
                            ("proposed", lambda r: met_late(judge.deadline_facts_of(r)))):
        missed = [[key for key, _ in missed_of(r)] for r in resolved]
        sides[side] = _tally([r.priority for r in resolved], [r.customer_tier for r in resolved],
                             [not keys for keys in missed], _kinds(key for keys in missed for key in keys))
    return sides


def _from_inputs(view: ReadView, lo: str, hi: str, proposed: ServicePolicy) -> dict[str, Any]:
    """Now: columns of ``ticket_sla_inputs``, the proposal judged for every ticket at once."""
    from projections.sla_vector import missed_kinds, select

    columns, params = select(proposed)
    rows = view.tx.fetchall(f"SELECT missed, priority, tier, {columns} FROM ticket_sla_inputs "
                            "WHERE resolved_at >= ? AND resolved_at < ?", (*params, lo, hi))
    if not rows:
        empty = _tally([], [], [], {})
        return {"in_force": empty, "proposed": empty}
    in_force, priorities, tiers = (list(column) for column in list(zip(*rows))[:3])
    missed_any, per_kind = missed_kinds([row[3:] for row in rows], proposed)
    return {
        "in_force": _tally(priorities, tiers, [not keys for keys in in_force],
                           _kinds(key for keys in in_force if keys for key in keys.split(","))),
        "proposed": _tally(priorities, tiers, (~missed_any).tolist(),
                           {kind: int(counts.sum()) for kind, counts in per_kind.items()}),
    }
