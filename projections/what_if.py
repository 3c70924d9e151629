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


def _tally(tickets: list[tuple[str | None, str | None, bool]], breaches: dict[str, int]) -> dict[str, Any]:
    """Compliance overall, per priority and per tier, from (priority, tier, within SLA) per
    ticket; missed deadlines per kind."""
    def compliance(within_sla: list[bool]) -> dict[str, Any]:
        return {"tickets": len(within_sla), "sla_compliance": ratio(sum(within_sla), len(within_sla))}

    by: dict[str, dict[str, list[bool]]] = {"priority": {}, "tier": {}}
    for priority, tier, within_sla in tickets:
        by["priority"].setdefault(priority or NONE, []).append(within_sla)
        by["tier"].setdefault(tier or NONE, []).append(within_sla)
    return {**compliance([t[2] for t in tickets]),
            "per_priority": {k: compliance(v) for k, v in sorted(by["priority"].items())},
            "per_tier": {k: compliance(v) for k, v in sorted(by["tier"].items())},
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
        sides[side] = _tally([(r.priority, r.customer_tier, not keys) for r, keys in zip(resolved, missed)],
                             _kinds(key for keys in missed for key in keys))
    return sides


def _from_inputs(view: ReadView, lo: str, hi: str, proposed: ServicePolicy) -> dict[str, Any]:
    """Now: columns of ``ticket_sla_inputs``, the proposal judged for every ticket at once."""
    from projections.sla_vector import COLUMNS, missed_kinds

    rows = view.tx.fetchall(f"SELECT missed, {', '.join(COLUMNS)} FROM ticket_sla_inputs "
                            "WHERE resolved_at >= ? AND resolved_at < ?", (lo, hi))
    in_force = [row[0] for row in rows]
    inputs = [row[1:] for row in rows]
    missed_any, per_kind = missed_kinds(inputs, proposed)
    return {
        "in_force": _tally([(row[1], row[2], not missed) for row, missed in zip(rows, in_force)],
                           _kinds(key for keys in in_force if keys for key in keys.split(","))),
        "proposed": _tally([(row[1], row[2], not bool(m)) for row, m in zip(rows, missed_any.tolist())],
                           {kind: int(counts.sum()) for kind, counts in per_kind.items()}),
    }
