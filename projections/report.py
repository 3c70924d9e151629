"""The service manager's monthly report (数据报告): every figure of one period from the read side.

One read view (one moment: now, or as of T as known at K) answers the whole report, so its figures
agree with each other and with the API's for the same moment. Each figure reads the narrowest
thing that carries it:
- every KPI of a period is the KPI query's (``queries.kpi_report``: fact rows at the view's
  moment): the month's and the previous month's, those per category and priority, and each of the
  12 months of the trend (the trend leaves the backlog out: it is a count at one instant, not a
  measure of a month); the agent table is the leaderboard's (``queries.evaluation_facts``);
- SLA compliance per priority: the ``resolved`` fact rows of the month counted by the database
  (their within-SLA flag is ``measures.within_sla``; ``sla_by`` over rows is the definition);
- what no fact row carries is read from the rows of the month's tickets (``queries.rows_touching``
  over the month), as only the fields the tables count (``rows_of_month``: the database extracts
  them from the stored documents): per deadline kind, the deadlines of the tickets resolved in the
  month (SLA facts) that were due, and those met after they were due; SLA compliance per customer
  tier (``measures.within_sla`` over the tickets resolved in the month; now counted by the
  database from ``ticket_sla_inputs``, at another moment from the rows);
- escalations per level and trigger (the SLA watcher's, ``automatic``, or a person's), by the
  business time they occurred, and per level and reason (``escalations_by_reason``); complaints:
  tickets that became complaints in the month, by severity, category, remedy and root cause (the
  last two known once a ticket is resolved);
- hotspots of the month and the next month's forecast (all contacts, and per category, from one read
  of the arrivals): ``projections.planning`` as of the month's end;
- findings: the rules below (``FINDING_RULES``), each a pure function of the figures, each finding
  with the numbers that triggered it. No text is invented: a finding is a rule name and numbers,
  and the renderer words it from the message catalogue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from domain.ticket_history import Escalation
from projections import agent_performance, measures
from projections.moment import InvalidQuery, period_bounds
from projections.queries import evaluation_facts, kpi_report
from projections.read_side import ReadView, RowFilter
from projections.ticket_state.fact_rows import WITHIN_SLA
from projections.ticket_state.facts import deadline_kind, met_late
from projections.ticket_state.fold import TicketRow, iso

TREND_MONTHS = 12
# The thresholds of the finding rules (stated in the report and the README).
FCR_DROP_POINTS = 5.0         # a category's FCR fell by at least this many percentage points …
FCR_MIN_RESOLVED = 20         # … with at least this many resolved tickets in both months
REOPEN_FACTOR = 2.0           # an agent's reopen rate at least this many times the team's …
REOPEN_MIN_RESOLVED = 10      # … over at least this many of the agent's resolutions …
REOPEN_MIN_REOPENS = 3        # … and at least this many reopens
SLA_MIN_RESOLVED = 10         # a priority is judged against the compliance target from this many resolved tickets
TOP_ROOT_CAUSES = 3
REASONS_PER_LEVEL = 10        # the escalation table lists this many reasons of people per level
# The fields of a ticket row the tables over the month's tickets read (SLA per tier and deadline
# kind, root causes, escalations, complaints, and the rules they apply: ``measures.within_sla``,
# ``measures.is_fcr``, ``measures.is_complaint``): only these are read from the stored rows.
ROW_FIELDS = ("resolved_at", "priority", "customer_tier", "deadline_facts", "category", "root_cause",
              "inbound_count", "transfer_count", "escalation_count", "reopen_count", "escalations",
              "complaint_at", "severity", "remedy")
NONE = "(none)"
OTHER_REASONS = "(other reasons)"


# ------------------------------------------------------------------------------- periods
def month_of(period: str) -> date:
    if len(period) != 7:
        raise InvalidQuery("period", "the monthly report's period must be a month, YYYY-MM")
    period_bounds(period)  # validates
    year, month = (int(p) for p in period.split("-"))
    if not 1971 <= year <= 9998:  # the trend's twelve months and the next month's forecast must be dates
        raise InvalidQuery("period", "the monthly report's period must lie between 1971-01 and 9998-12")
    return date(year, month, 1)


def shift(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_bounds(month: date, zone: tzinfo) -> tuple[datetime, datetime]:
    return period_bounds(label(month), zone)


def label(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


# ------------------------------------------------------------------------- small tables
def escalations_by_level(rows: Iterable[TicketRow], lo: str, hi: str) -> list[dict[str, Any]]:
    """Escalations that occurred in ``[lo, hi)`` per level to which they went, by trigger."""
    counts: dict[int, Counter] = {}
    for row in rows:
        for escalation in map(Escalation._make, row.escalations):
            if measures.within(escalation.at, lo, hi):
                trigger = "automatic" if escalation.automatic else "manual"
                counts.setdefault(escalation.to_level, Counter())[trigger] += 1
    return [{"level": level, "automatic": c["automatic"], "manual": c["manual"],
             "total": c["automatic"] + c["manual"]} for level, c in sorted(counts.items())]


def escalations_by_reason(rows: Iterable[TicketRow], lo: str, hi: str) -> list[dict[str, Any]]:
    """Escalations that occurred in ``[lo, hi)`` per level and reason. The SLA watcher's are grouped
    by what it escalated for: the kind of the deadline breached (``deadline_kind``), or a complaint
    routed by its severity (no deadline; its recorded reason names the severity); a person's by the
    reason as written (trimmed). Per level the REASONS_PER_LEVEL most frequent reasons of people
    are listed and the rest counted together as OTHER_REASONS. The watcher's reason text is not the
    key: it is a sentence built from the deadline kind or the severity, which the report words itself."""
    counted: Counter = Counter()
    for row in rows:
        for level, at, automatic, _version, reason, deadline in map(Escalation._make, row.escalations):
            if not measures.within(at, lo, hi):
                continue
            if automatic:
                kind = deadline_kind(deadline) if deadline else None
                counted[(level, "automatic", kind, None)] += 1
            else:
                counted[(level, "manual", None, (reason or NONE).strip())] += 1
    out: list[dict[str, Any]] = []
    for level in sorted({key[0] for key in counted}):
        automatic = sorted(((k, n) for k, n in counted.items() if k[0] == level and k[1] == "automatic"),
                           key=lambda item: (-item[1], str(item[0][2]), str(item[0][3])))
        manual = sorted(((k, n) for k, n in counted.items() if k[0] == level and k[1] == "manual"),
                        key=lambda item: (-item[1], item[0][3]))
        rest = sum(n for _k, n in manual[REASONS_PER_LEVEL:])
        listed = automatic + manual[:REASONS_PER_LEVEL] + (
            [((level, "manual", None, OTHER_REASONS), rest)] if rest else [])
        out.extend({"level": level, "trigger": trigger, "deadline_kind": kind, "reason": reason, "escalations": n}
                   for (level, trigger, kind, reason), n in listed)
    return out


COMPLAINT_DIMENSIONS = ("severity", "category", "remedy", "root_cause")


def complaints_by(rows: Iterable[TicketRow], lo: str, hi: str) -> dict[str, list[dict[str, Any]]]:
    """Tickets that became complaints in ``[lo, hi)``, counted per value of each dimension (most first)."""
    complaints = [r for r in rows if measures.is_complaint(r) and measures.within(r.complaint_at, lo, hi)]
    out = {}
    for dimension in COMPLAINT_DIMENSIONS:
        counted = Counter(str(getattr(r, dimension) or NONE) for r in complaints)
        out[dimension] = [{"value": value, "complaints": n}
                          for value, n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))]
    return out


def sla_by(rows: Iterable[TicketRow], lo: str, hi: str, dimension: str) -> list[dict[str, Any]]:
    """SLA compliance (``measures.within_sla``) of the tickets resolved in ``[lo, hi)`` per value of ``dimension``."""
    groups: dict[str, list[TicketRow]] = {}
    for row in rows:
        if measures.within(row.resolved_at, lo, hi):
            groups.setdefault(measures.group_of(row, dimension), []).append(row)
    return [compliance_entry(dimension, value, len(resolved), sum(1 for r in resolved if measures.within_sla(r)))
            for value, resolved in sorted(groups.items())]


def sla_by_tier(view: ReadView, rows: Iterable[TicketRow], lo: str, hi: str) -> list[dict[str, Any]]:
    """``sla_by(rows, lo, hi, "customer_tier")``. Now (a live view) counted by the database, as the
    what-if does, from ``ticket_sla_inputs``: one row per resolved ticket with its tier and the
    deadlines it missed (``missed_deadlines``, empty when within SLA: ``measures.within_sla``),
    written with its row in the same transaction; at another moment, from the rows."""
    if not view.moment.is_live:
        return sla_by(rows, lo, hi, "customer_tier")
    resolved: Counter = Counter()
    within: Counter = Counter()
    for tier, number, met in view.tx.fetchall(
            "SELECT tier, count(*), sum(CASE WHEN missed = '' THEN 1 ELSE 0 END) FROM ticket_sla_inputs "
            "WHERE resolved_at >= ? AND resolved_at < ? GROUP BY tier", (lo, hi)):
        resolved[str(tier or NONE)] += number
        within[str(tier or NONE)] += met
    return [compliance_entry("customer_tier", value, number, within[value]) for value, number in sorted(resolved.items())]


def compliance_entry(dimension: str, value: str, resolved: int, within: int) -> dict[str, Any]:
    return {dimension: value, "resolved": resolved, "within_sla": within,
            "sla_compliance": measures.ratio(within, resolved)}


def sla_by_priority(view: ReadView, lo: str, hi: str) -> list[dict[str, Any]]:
    """``sla_by(rows, lo, hi, "priority")`` counted by the database: the ``resolved`` fact rows of
    ``[lo, hi)`` at the view's moment, whose WITHIN_SLA flag is ``measures.within_sla`` of the
    ticket (``projections.ticket_state.fact_rows``), per priority."""
    selection = view.select_facts(
        f"priority, count(*), sum(CASE WHEN (flags & {WITHIN_SLA}) <> 0 THEN 1 ELSE 0 END)", ("resolved",), lo, hi,
        group_by="priority")
    resolved: Counter = Counter()
    within: Counter = Counter()
    for priority, number, met in selection.rows:
        resolved[str(priority or NONE)] += number
        within[str(priority or NONE)] += met
    for _ticket, fact in selection.folded:
        resolved[str(fact.priority or NONE)] += 1
        within[str(fact.priority or NONE)] += bool(fact.flags & WITHIN_SLA)
    return [compliance_entry("priority", value, number, within[value]) for value, number in sorted(resolved.items())]


def sla_by_deadline_kind(rows: Iterable[TicketRow], lo: str, hi: str) -> list[dict[str, Any]]:
    """Per deadline kind, over the tickets resolved in ``[lo, hi)``: deadlines that had a due time,
    those met after it (missed), and the share met in time. Deadlines are gathered by key
    (``first_response#0`` …, few distinct) and the keys' counts summed per kind at the end."""
    due_keys: list[str] = []
    missed_keys: list[str] = []
    for row in rows:
        if row.deadline_facts and measures.within(row.resolved_at, lo, hi):
            # each fact is a DeadlineFact (deadline, due_at, met_at)
            due_keys += [deadline for deadline, due_at, _met_at in row.deadline_facts if due_at is not None]
            missed_keys += [key for key, _ in met_late(row.deadline_facts)]
    return kind_table(per_kind(Counter(due_keys)), per_kind(Counter(missed_keys)))


def per_kind(by_key: Counter) -> Counter:
    """Counts per deadline key summed per deadline kind (``deadline_kind``)."""
    kinds: Counter = Counter()
    for key, number in by_key.items():
        kinds[deadline_kind(key)] += number
    return kinds


def kind_table(due: Counter, missed: Counter) -> list[dict[str, Any]]:
    return [{"kind": kind, "deadlines": n, "missed": missed[kind], "met_in_time_rate": measures.ratio(n - missed[kind], n)}
            for kind, n in sorted(due.items())]


def all_kinds(tables: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Deadlines per kind over several disjoint groups of tickets (the per-priority tables): their sum."""
    due, missed = Counter(), Counter()
    for table in tables:
        for entry in table:
            due[entry["kind"]] += entry["deadlines"]
            missed[entry["kind"]] += entry["missed"]
    return kind_table(due, missed)


def root_causes(rows: Iterable[TicketRow], lo: str, hi: str, category: str, top: int = TOP_ROOT_CAUSES
                ) -> list[dict[str, Any]]:
    """The most frequent root causes of the category's tickets resolved in ``[lo, hi)`` that were not FCR."""
    counted = Counter(str(r.root_cause or NONE) for r in rows
                      if r.category == category and measures.within(r.resolved_at, lo, hi) and not measures.is_fcr(r))
    return [{"root_cause": cause, "tickets": n}
            for cause, n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:top]]


def rows_of_month(view: ReadView, lo: str, hi: str) -> list[TicketRow]:
    """The rows of ``queries.rows_touching`` over ``[lo, hi)`` (every ticket opened before its end
    with an event at or after its start) with only ``ROW_FIELDS`` read: the database extracts them
    from the stored documents, instead of Python decoding every field and history of every row."""
    return view.rows(RowFilter(opened_before=hi, active_since=lo), fields=ROW_FIELDS)


# ------------------------------------------------------------------------------ findings
def fcr_drop(by_category: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]],
             causes: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rule ``fcr_drop``: the category whose FCR rate fell most against the previous month, when it fell
    by at least FCR_DROP_POINTS points with at least FCR_MIN_RESOLVED resolved tickets in both months;
    with the category's top root causes of non-FCR resolutions."""
    drops = []
    for category, now in by_category.items():
        then = before.get(category)
        if not then or now["fcr_rate"] is None or then["fcr_rate"] is None:
            continue
        if now["resolved"] < FCR_MIN_RESOLVED or then["resolved"] < FCR_MIN_RESOLVED:
            continue
        points = 100 * (now["fcr_rate"] - then["fcr_rate"])
        if points <= -FCR_DROP_POINTS:
            drops.append((points, category, now, then))
    if not drops:
        return []
    points, category, now, then = min(drops, key=lambda d: (d[0], d[1]))
    return [{"rule": "fcr_drop", "subject": category,
             "figures": {"fcr_rate": now["fcr_rate"], "previous_fcr_rate": then["fcr_rate"],
                         "change_points": round(points, 2), "resolved": now["resolved"],
                         "previous_resolved": then["resolved"]},
             "root_causes": causes.get(category, [])}]


def reopen_outliers(agents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rule ``reopen_outlier``: agents whose reopen rate (reopens caused / tickets resolved) is at
    least REOPEN_FACTOR times the team's (all agents of the month), over at least
    REOPEN_MIN_RESOLVED resolutions and REOPEN_MIN_REOPENS reopens."""
    resolved = sum(a["tickets_resolved"] for a in agents)
    reopens = sum(a["reopens_caused"] for a in agents)
    team = measures.ratio(reopens, resolved)
    if not team:
        return []
    found = []
    for agent in agents:
        rate = measures.ratio(agent["reopens_caused"], agent["tickets_resolved"])
        if (rate is not None and agent["tickets_resolved"] >= REOPEN_MIN_RESOLVED
                and agent["reopens_caused"] >= REOPEN_MIN_REOPENS and rate >= REOPEN_FACTOR * team):
            found.append({"rule": "reopen_outlier", "subject": agent["agent_id"],
                          "figures": {"reopen_rate": rate, "team_reopen_rate": team, "factor": round(rate / team, 2),
                                      "reopens_caused": agent["reopens_caused"],
                                      "tickets_resolved": agent["tickets_resolved"]}})
    return sorted(found, key=lambda f: (-f["figures"]["reopen_rate"], f["subject"]))


def sla_below_target(by_priority: list[dict[str, Any]], target: float,
                     kinds_by_priority: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rule ``sla_below_target``: each priority whose SLA compliance in the month is below the
    organisation's target, over at least SLA_MIN_RESOLVED resolved tickets; with the deadline kind
    missed most often."""
    found = []
    for entry in by_priority:
        compliance = entry["sla_compliance"]
        if compliance is None or entry["resolved"] < SLA_MIN_RESOLVED or compliance >= target:
            continue
        kinds = [k for k in kinds_by_priority.get(entry["priority"], []) if k["missed"]]
        worst = max(kinds, key=lambda k: (k["missed"], k["kind"]), default=None)
        found.append({"rule": "sla_below_target", "subject": entry["priority"],
                      "figures": {"sla_compliance": compliance, "target": target, "resolved": entry["resolved"],
                                  "missed": entry["resolved"] - entry["within_sla"],
                                  "worst_kind": worst["kind"] if worst else None,
                                  "worst_kind_missed": worst["missed"] if worst else 0}})
    return found


def abnormal_hotspots(hotspots: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Rule ``hotspot``: each slice the hotspot report found abnormally high in the month (negative
    binomial tail, false discovery rate 5 %)."""
    if not hotspots:
        return []
    return [{"rule": "hotspot", "subject": "/".join(str(v) for v in s["slice"].values()),
             "figures": {"observed": s["observed"], "expected": s["expected"], "ratio": s["ratio"],
                         "q_value": s["q_value"]}}
            for s in hotspots["slices"] if s["abnormal"]]


FINDING_RULES = {
    "fcr_drop": (FCR_DROP_POINTS, FCR_MIN_RESOLVED),
    "reopen_outlier": (REOPEN_FACTOR, REOPEN_MIN_RESOLVED, REOPEN_MIN_REOPENS),
    "sla_below_target": (SLA_MIN_RESOLVED,),
    "hotspot": (0.05,),
}


# -------------------------------------------------------------------------------- report
HEADLINE = (("volume", ("volume",)), ("backlog", ("backlog",)), ("resolved", ("resolved",)),
            ("first_response_median", ("first_response_seconds", "median")),
            ("first_response_business_median", ("first_response_business_seconds", "median")),
            ("resolution_median", ("resolution_seconds", "median")),
            ("resolution_business_median", ("resolution_business_seconds", "median")),
            ("fcr_rate", ("fcr_rate",)), ("csat_percent", ("csat", "percent")), ("nps", ("nps", "score")),
            ("sla_compliance", ("sla_compliance",)), ("escalation_rate", ("escalation_rate",)),
            ("reopen_rate", ("reopen_rate",)), ("complaint_rate", ("complaint_rate",)),
            ("bot_deflection_rate", ("bot_deflection_rate",)), ("average_handle_seconds", ("average_handle_seconds",)))
TREND = tuple(h for h in HEADLINE if h[0] in {"volume", "first_response_median", "first_response_business_median",
                                                "resolution_median", "resolution_business_median", "fcr_rate",
                                                "csat_percent", "nps", "sla_compliance"})


def pick(kpis: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = kpis
    for key in path:
        value = value[key]
    return value


def headline(now: dict[str, Any], before: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, path in HEADLINE:
        value, previous = pick(now, path), pick(before, path)
        change = value - previous if value is not None and previous is not None else None
        out.append({"measure": name, "value": value, "previous": previous, "change": change})
    return out


def targets(policy: Any, by_priority: dict[str, dict[str, Any]], sla: list[dict[str, Any]],
            compliance_target: float) -> list[dict[str, Any]]:
    """Per priority: the policy's targets (standard tier) beside the month's business-time medians and compliance."""
    compliance = {entry["priority"]: entry for entry in sla}
    out = []
    for priority in sorted(set(by_priority) | set(compliance)):
        target = policy.sla_for({"priority": priority, "tier": "standard"}) if priority != NONE else None
        kpis = by_priority.get(priority)
        frt = kpis["first_response_business_seconds"]["median"] if kpis else None
        ttr = kpis["resolution_business_seconds"]["median"] if kpis else None
        entry = compliance.get(priority, {})
        out.append({
            "priority": priority, "calendar": target.calendar if target else None,
            "first_response_target_minutes": target.first_response_minutes if target else None,
            "first_response_business_median_minutes": None if frt is None else frt / 60,
            "resolution_target_minutes": target.resolution_minutes if target else None,
            "resolution_business_median_minutes": None if ttr is None else ttr / 60,
            "resolved": entry.get("resolved", 0), "sla_compliance": entry.get("sla_compliance"),
            "sla_compliance_target": compliance_target,
        })
    return out


def planning_figures(view: ReadView, planning: Any, start: datetime, end: datetime, following: date,
                     zone: tzinfo, known_at: datetime | None) -> dict[str, Any]:
    """Hotspots of the month (complaints per category, the month as the window) and the forecast of
    the next month's contacts (all, and per category) as of the month's end."""
    from projections import planning as plans

    days = round((end - start) / timedelta(days=1))
    next_days = round((month_bounds(following, zone)[1] - end) / timedelta(days=1))
    out: dict[str, Any] = {"hotspots": None, "forecast": None}
    try:
        out["hotspots"] = plans.hotspot_report(view, planning, group_by="category", window=f"{days}d", as_of=end,
                                               known_at=known_at, measure="complaints", top=20)
    except InvalidQuery:
        pass  # no complaints before the month's end: no hotspots to show
    try:
        per = plans.forecast_report(view, planning, group_by="category", horizon=next_days, freq="D", as_of=end,
                                    known_at=known_at, measure="contacts", top=10, total=True)
        out["forecast"] = {"month": label(following), "days": next_days,
                           "slices": [_forecast_sum(s) for s in per["total"] + per["slices"]]}
    except InvalidQuery:
        pass
    return out


def _forecast_sum(entry: dict[str, Any]) -> dict[str, Any]:
    slice_ = entry["slice"]
    name = "/".join(str(v) for v in slice_.values()) if isinstance(slice_, dict) else "all"
    return {"slice": name or "all", "expected": round(sum(p["mean"] for p in entry["periods"]), 1),
            "lower_daily_sum": round(sum(p["lower"] for p in entry["periods"]), 1),
            "upper_daily_sum": round(sum(p["upper"] for p in entry["periods"]), 1),
            "wape": (entry.get("accuracy") or {}).get("wape")}


def monthly_report(view: ReadView, period: str, *, zone: tzinfo, weights: dict[str, float], policy: Any,
                   compliance_target: float, now: datetime, planning: Any | None = None) -> dict[str, Any]:
    """Every figure of the monthly report for ``period`` (YYYY-MM, the organisation's zone) at the view's moment."""
    month = month_of(period)
    start, end = month_bounds(month, zone)
    previous = shift(month, -1)
    p_start, p_end = month_bounds(previous, zone)
    first = shift(month, 1 - TREND_MONTHS)
    at = view.moment.instant(now)
    lo, hi = iso(start), iso(end)

    def grouped(s: datetime, e: datetime, by: str | None, backlog: bool = True) -> dict[str, Any]:
        return kpi_report(view, s, e, by, now, backlog=backlog)["groups"]

    # Every KPI of a period is the API's (``queries.kpi_report``: the fact rows at the view's
    # moment): the month's, the previous month's, those per category and priority, and each
    # month of the trend. The backlog (a count at the period's end, the costliest part of a
    # period's KPIs at a moment) is counted where the report shows it or lists its groups: the
    # headline (month and previous month) and the targets per priority (a priority with only
    # open tickets is listed); the month's is the sum of its priorities' (every open ticket has
    # one group), so it is counted once; the categories serve only the FCR rule, which needs
    # resolved tickets in both months, never a backlog.
    by_priority = grouped(start, end, "priority")
    kpis = grouped(start, end, None, backlog=False)["all"]
    kpis["backlog"] = sum(group["backlog"] for group in by_priority.values())
    previous_kpis = grouped(p_start, p_end, None)["all"]
    by_category = grouped(start, end, "category", backlog=False)
    before_category = grouped(p_start, p_end, "category", backlog=False)
    known = {label(month): kpis, label(previous): previous_kpis}
    trend = []
    for m in (shift(first, offset) for offset in range(TREND_MONTHS)):
        figures = known.get(label(m)) or grouped(*month_bounds(m, zone), None, backlog=False)["all"]
        trend.append({"month": label(m), **{name: pick(figures, path) for name, path in TREND}})
    agents = agent_performance.ranked(evaluation_facts(view, start, end), weights)
    sla_priority = sla_by_priority(view, lo, hi)
    # What no fact row carries (tiers, deadlines due, escalation levels and reasons, complaint
    # severities, remedies and root causes) is read from the rows of the month's tickets.
    in_month = rows_of_month(view, lo, hi)
    resolved = [row for row in in_month if measures.within(row.resolved_at, lo, hi)]
    per_priority: dict[str, list[TicketRow]] = {}
    for row in resolved:
        per_priority.setdefault(measures.group_of(row, "priority"), []).append(row)
    kinds_by_priority = {priority: sla_by_deadline_kind(group, lo, hi) for priority, group in per_priority.items()}
    # The FCR rule finds at most one category and shows its root causes: only that one's are counted.
    drops = fcr_drop(by_category, before_category, {})
    if drops:
        subject = drops[0]["subject"]
        drops = fcr_drop(by_category, before_category, {subject: root_causes(resolved, lo, hi, subject)})
    escalated = [row for row in in_month if row.escalations]
    plans = (planning_figures(view, planning, start, end, shift(month, 1), zone, view.moment.known_at)
             if planning is not None else {"hotspots": None, "forecast": None})
    findings = [*drops, *reopen_outliers(agents),
                *sla_below_target(sla_priority, compliance_target, kinds_by_priority),
                *abnormal_hotspots(plans["hotspots"])]
    return {
        "period": period, "previous_period": label(previous), "from": lo, "to": hi,
        "timezone": getattr(zone, "key", str(zone)),
        "moment": {"as_of": view.moment.as_of_text, "known_at": view.moment.known_at_text, "describes": iso(at)},
        "kpis": kpis, "previous_kpis": previous_kpis, "headline": headline(kpis, previous_kpis),
        "targets": targets(policy, by_priority, sla_priority, compliance_target),
        "trend": trend,
        "sla_by_priority": sla_priority,
        "sla_by_tier": sla_by_tier(view, resolved, lo, hi),
        "sla_by_deadline_kind": all_kinds(kinds_by_priority.values()),
        "escalations": escalations_by_level(escalated, lo, hi),
        "escalation_reasons": escalations_by_reason(escalated, lo, hi),
        "complaints": complaints_by((row for row in in_month if row.complaint_at is not None), lo, hi),
        "agents": agents,
        "hotspots": plans["hotspots"], "forecast": plans["forecast"],
        "findings": findings,
        "rules": {name: list(thresholds) for name, thresholds in FINDING_RULES.items()},
        "sla_compliance_target": compliance_target, "weights": dict(weights),
    }
