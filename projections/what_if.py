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
from itertools import compress
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


def _tally(groups: dict[tuple[str | None, str | None], tuple[int, int]], breaches: dict[str, int]) -> dict[str, Any]:
    """Compliance overall, per priority and per tier, from (tickets, within SLA) per (priority,
    tier); missed deadlines per kind."""
    def compliance(tickets: int, good: int) -> dict[str, Any]:
        return {"tickets": tickets, "sla_compliance": ratio(good, tickets)}

    def per(position: int) -> dict[str, Any]:
        found: dict[str, list[int]] = {}
        for key, (tickets, good) in groups.items():
            counts = found.setdefault(key[position] or NONE, [0, 0])
            counts[0] += tickets
            counts[1] += good
        return {key: compliance(*counts) for key, counts in sorted(found.items())}

    return {**compliance(sum(t for t, _ in groups.values()), sum(g for _, g in groups.values())),
            "per_priority": per(0), "per_tier": per(1),
            "breaches_per_kind": {k: v for k, v in sorted(breaches.items()) if v}}


def _grouped(keys: list, within_sla: Iterable[bool]) -> dict[Any, tuple[int, int]]:
    tickets, good = Counter(keys), Counter(compress(keys, within_sla))
    return {key: (count, good[key]) for key, count in tickets.items()}


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
        sides[side] = _tally(_grouped([(r.priority, r.customer_tier) for r in resolved], [not k for k in missed]),
                             _kinds(key for keys in missed for key in keys))
    return sides


def _from_inputs(view: ReadView, lo: str, hi: str, proposed: ServicePolicy) -> dict[str, Any]:
    """Now: columns of ``ticket_sla_inputs``, the proposal judged for every ticket at once."""
    from projections.sla_vector import missed_kinds, select

    window = "resolved_at >= ? AND resolved_at < ?"
    in_force = {(priority, tier): (tickets, good) for priority, tier, tickets, good in view.tx.fetchall(
        f"SELECT priority, tier, COUNT(*), SUM(CASE WHEN missed = '' THEN 1 ELSE 0 END) FROM ticket_sla_inputs "
        f"WHERE {window} GROUP BY priority, tier", (lo, hi))}
    missed_keys = view.tx.fetchall(f"SELECT missed FROM ticket_sla_inputs WHERE {window} AND missed <> ''", (lo, hi))
    # (priority, tier) as a number the database computes (the pairs are few: those just counted)
    pairs = list(in_force)
    pair_of = "CASE " + " ".join(f"WHEN COALESCE(priority, '') = ? AND COALESCE(tier, '') = ? THEN {i}"
                                 for i in range(len(pairs))) + " END" if pairs else "0"
    pair_params = [value or "" for pair in pairs for value in pair]
    columns, params = select(proposed)
    rows = view.tx.fetchall(f"SELECT {pair_of}, {columns} FROM ticket_sla_inputs WHERE {window}",
                            (*pair_params, *params, lo, hi))
    missed_any, per_kind = missed_kinds([row[1:] for row in rows], proposed)
    proposed_groups = _grouped([row[0] for row in rows], (~missed_any).tolist())
    return {
        "in_force": _tally(in_force, _kinds(key for (keys,) in missed_keys for key in keys.split(","))),
        "proposed": _tally({pairs[i]: counts for i, counts in proposed_groups.items()},
                           {kind: int(counts.sum()) for kind, counts in per_kind.items()}),
    }
