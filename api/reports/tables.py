"""The monthly report's tables and words, described once for every format: each table's columns
with the kind that says how a value is shown (HTML: words and units of the language) and stored
(Excel: a number with a format); each finding worded from its rule and numbers through the message
catalogue; the stated rules and definitions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from api.reports.i18n import Translator


# -------------------------------------------------------------------------------- tables
@dataclass
class Column:
    key: str
    title: str
    kind: str = "text"  # text | int | rate (0–1) | percent (0–100) | score | seconds | minutes | points


@dataclass
class Table:
    name: str            # stable, English: the Excel sheet's key and the HTML id
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


MEASURE_KINDS = {"volume": "int", "backlog": "int", "resolved": "int", "first_response_median": "seconds",
                 "first_response_business_median": "seconds", "resolution_median": "seconds",
                 "resolution_business_median": "seconds", "fcr_rate": "rate", "csat_percent": "percent",
                 "nps": "score", "sla_compliance": "rate", "escalation_rate": "rate", "reopen_rate": "rate",
                 "complaint_rate": "rate", "bot_deflection_rate": "rate", "average_handle_seconds": "seconds"}


def measure_names(t: Translator) -> dict[str, str]:
    return {
        "volume": t("Tickets opened"), "backlog": t("Backlog at month end"), "resolved": t("Tickets resolved"),
        "first_response_median": t("First response time, median (wall clock)"),
        "first_response_business_median": t("First response time, median (business time)"),
        "resolution_median": t("Resolution time, median (wall clock)"),
        "resolution_business_median": t("Resolution time, median (business time)"),
        "fcr_rate": t("First contact resolution (FCR)"), "csat_percent": t("CSAT (share of 4–5)"),
        "nps": t("NPS"), "sla_compliance": t("SLA compliance"), "escalation_rate": t("Escalation rate"),
        "reopen_rate": t("Reopen rate"), "complaint_rate": t("Complaint rate"),
        "bot_deflection_rate": t("Bot deflection rate"), "average_handle_seconds": t("Average handle time"),
    }


def change_kind(kind: str) -> str:
    return {"rate": "points", "percent": "points"}.get(kind, kind)


def tables(report: dict[str, Any], t: Translator) -> list[Table]:
    from projections import report as r

    names = measure_names(t)
    out = []
    headline_rows = []
    for entry in report["headline"]:
        kind = MEASURE_KINDS[entry["measure"]]
        change = entry["change"]
        if change is not None and kind == "rate":
            change = 100 * change
        headline_rows.append({"measure": names[entry["measure"]], "value": (entry["value"], kind),
                              "previous": (entry["previous"], kind), "change": (change, change_kind(kind))})
    out.append(Table("headline", t("Key indicators"), [
        Column("measure", t("Measure")), Column("value", report["period"], "mixed"),
        Column("previous", report["previous_period"], "mixed"),
        Column("change", t("Change vs previous month"), "mixed")], headline_rows,
        t("Rates change in percentage points; times in hours or minutes.")))
    out.append(Table("targets", t("Against the SLA policy's targets, per priority"), [
        Column("priority", t("Priority")), Column("calendar", t("Calendar")),
        Column("first_response_target_minutes", t("First response target"), "minutes"),
        Column("first_response_business_median_minutes", t("First response, median (business)"), "minutes"),
        Column("resolution_target_minutes", t("Resolution target"), "minutes"),
        Column("resolution_business_median_minutes", t("Resolution, median (business)"), "minutes"),
        Column("resolved", t("Resolved"), "int"), Column("sla_compliance", t("SLA compliance"), "rate"),
        Column("sla_compliance_target", t("Compliance target"), "rate")], report["targets"],
        t("Targets of the policy's SLA rule for the priority (standard tier); medians in the rule's business calendar.")))
    out.append(Table("trend", t("Last 12 months"), [
        Column("month", t("Month")), Column("volume", names["volume"], "int"),
        Column("first_response_median", names["first_response_median"], "seconds"),
        Column("first_response_business_median", names["first_response_business_median"], "seconds"),
        Column("resolution_median", names["resolution_median"], "seconds"),
        Column("resolution_business_median", names["resolution_business_median"], "seconds"),
        Column("fcr_rate", names["fcr_rate"], "rate"), Column("csat_percent", names["csat_percent"], "percent"),
        Column("nps", names["nps"], "score"), Column("sla_compliance", names["sla_compliance"], "rate")],
        report["trend"]))
    sla_columns = [Column("resolved", t("Resolved"), "int"), Column("within_sla", t("Within SLA"), "int"),
                   Column("sla_compliance", t("SLA compliance"), "rate")]
    out.append(Table("sla_priority", t("SLA compliance per priority"),
                     [Column("priority", t("Priority")), *sla_columns], report["sla_by_priority"]))
    out.append(Table("sla_tier", t("SLA compliance per customer tier"),
                     [Column("customer_tier", t("Customer tier")), *sla_columns], report["sla_by_tier"]))
    out.append(Table("sla_kind", t("Deadlines per kind"), [
        Column("kind", t("Deadline kind")), Column("deadlines", t("Deadlines due"), "int"),
        Column("missed", t("Missed"), "int"), Column("met_in_time_rate", t("Met in time"), "rate")],
        report["sla_by_deadline_kind"],
        t("Deadlines of the tickets resolved in the month; missed = met after it was due.")))
    out.append(Table("escalations", t("Escalations per level and trigger"), [
        Column("level", t("Level"), "int"), Column("automatic", t("By the SLA watcher"), "int"),
        Column("manual", t("By a person"), "int"), Column("total", t("Total"), "int")], report["escalations"],
        t("Escalations that occurred in the month, by the level they went to.")))
    triggers = {"automatic": t("By the SLA watcher"), "manual": t("By a person")}

    def reason(entry: dict[str, Any]) -> str:
        if entry["trigger"] == "manual":
            return {r.NONE: t("(no reason given)"), r.OTHER_REASONS: t("(other reasons)")}.get(entry["reason"],
                                                                                             entry["reason"])
        if entry["deadline_kind"]:
            return t("{kind} deadline breached", kind=entry["deadline_kind"])
        return t("complaint routed by its severity")

    out.append(Table("escalation_reasons", t("Escalations per level and reason"), [
        Column("level", t("Level"), "int"), Column("trigger", t("Trigger")), Column("reason", t("Reason")),
        Column("escalations", t("Escalations"), "int")],
        [{**e, "trigger": triggers[e["trigger"]], "reason": reason(e)} for e in report["escalation_reasons"]],
        t("The SLA watcher's by the deadline kind breached or complaint routing; a person's by the reason as "
          "written, the {n} most frequent per level and the rest together.", n=r.REASONS_PER_LEVEL)))
    for dimension, title, heading in (
            ("severity", t("Complaints by severity"), t("Severity")),
            ("category", t("Complaints by category"), t("Category")),
            ("remedy", t("Complaints by remedy"), t("Remedy")),
            ("root_cause", t("Complaints by root cause"), t("Root cause"))):
        out.append(Table(f"complaints_{dimension}", title, [
            Column("value", heading), Column("complaints", t("Complaints"), "int")],
            report["complaints"][dimension]))
    agent_rows = [{**a, "frt_median": a["first_response_seconds"]["median"],
                   "frt_business_median": a["first_response_business_seconds"]["median"],
                   "ttr_median": a["resolution_seconds"]["median"],
                   "csat_percent": a["csat"]["percent"], "csat_responses": a["csat"]["responses"],
                   "nps_score": a["nps"]["score"], "nps_responses": a["nps"]["responses"],
                   **{f"part_{k}": v for k, v in a["score_parts"].items()}} for a in report["agents"]]
    parts = list(report["agents"][0]["score_parts"]) if report["agents"] else []
    out.append(Table("agents", t("Agent evaluation"), [
        Column("agent_id", t("Agent")), Column("score", t("Composite score"), "score"),
        Column("tickets_handled", t("Handled"), "int"), Column("tickets_resolved", t("Resolved"), "int"),
        Column("fcr_rate", t("FCR"), "rate"), Column("frt_median", t("FRT median"), "seconds"),
        Column("frt_business_median", t("FRT median (business)"), "seconds"),
        Column("ttr_median", t("TTR median"), "seconds"),
        Column("csat_percent", t("CSAT"), "percent"), Column("csat_responses", t("CSAT surveys"), "int"),
        Column("nps_score", t("NPS"), "score"), Column("nps_responses", t("NPS surveys"), "int"),
        Column("sla_compliance", t("SLA compliance"), "rate"),
        Column("escalations_caused", t("Escalations caused"), "int"),
        Column("reopens_caused", t("Reopens caused"), "int"),
        Column("complaints_against", t("Complaints against"), "int"),
        *[Column(f"part_{p}", t("Part: {name}", name=p), "rate") for p in parts]], agent_rows,
        t("Composite score 0–100: the weighted mean of the available parts, each 0–1 (weights: {weights}).",
          weights=", ".join(f"{k} {v:g}" for k, v in report.get("weights", {}).items()))))
    hotspots = report["hotspots"]["slices"] if report["hotspots"] else []
    out.append(Table("hotspots", t("Complaint hotspots of the month, per category"), [
        Column("slice", t("Category")), Column("observed", t("Observed"), "int"),
        Column("expected", t("Expected"), "score"), Column("ratio", t("Ratio"), "score"),
        Column("q_value", t("q-value"), "score"), Column("abnormal", t("Abnormal"))],
        [{**h, "slice": "/".join(str(v) for v in h["slice"].values()),
          "abnormal": t("yes") if h["abnormal"] else t("no")} for h in hotspots],
        t("Expected from each category's own seasonal history before the month; abnormal at a false discovery rate of 5 %.")))
    forecast = report["forecast"]
    out.append(Table("forecast", t("Contacts forecast for {month}", month=forecast["month"] if forecast else "–"), [
        Column("slice", t("Slice")), Column("expected", t("Expected contacts"), "score"),
        Column("lower_daily_sum", t("Sum of daily 5 % bounds"), "score"),
        Column("upper_daily_sum", t("Sum of daily 95 % bounds"), "score"), Column("wape", t("Backtest WAPE"), "rate")],
        forecast["slices"] if forecast else [],
        t("Seasonal negative-binomial model as of the month's end; expected = sum of the daily means.")))
    return out


# ------------------------------------------------------------------------------ findings
def finding_text(finding: dict[str, Any], t: Translator) -> tuple[str, str]:
    """(what was found, the suggested improvement): fixed sentences of the catalogue, filled with the figures."""
    f, subject = finding["figures"], finding["subject"]
    if finding["rule"] == "fcr_drop":
        causes = ", ".join(f"{c['root_cause']} ({c['tickets']})" for c in finding.get("root_causes", [])) or "–"
        return (t("FCR of category {subject} fell from {before} to {now} ({points}; {resolved} resolved, "
                  "{previous_resolved} the month before). Top root causes of its tickets not resolved at first "
                  "contact: {causes}.", subject=subject, before=t.percent(f["previous_fcr_rate"]),
                  now=t.percent(f["fcr_rate"]), points=t.points(f["change_points"]), resolved=f["resolved"],
                  previous_resolved=f["previous_resolved"], causes=causes),
                t("Review the knowledge base and first-line guidance for {subject}, starting with these root causes.",
                  subject=subject))
    if finding["rule"] == "reopen_outlier":
        return (t("Agent {subject}: reopen rate {rate} ({reopens} reopens of {resolved} resolutions), {factor} times "
                  "the team's {team}.", subject=subject, rate=t.percent(f["reopen_rate"]), reopens=f["reopens_caused"],
                  resolved=f["tickets_resolved"], factor=t.number(f["factor"], 1), team=t.percent(f["team_reopen_rate"])),
                t("Review {subject}'s reopened tickets with the agent and the resolution checklist (coaching).",
                  subject=subject))
    if finding["rule"] == "sla_below_target":
        return (t("Priority {subject}: SLA compliance {compliance} below the target {target} ({missed} of {resolved} "
                  "resolved tickets missed a deadline; most missed: {kind}, {kind_missed}).", subject=subject,
                  compliance=t.percent(f["sla_compliance"]), target=t.percent(f["target"]), missed=f["missed"],
                  resolved=f["resolved"], kind=f["worst_kind"] or "–", kind_missed=f["worst_kind_missed"]),
                t("Check staffing and routing for {subject} tickets against the {kind} deadline.",
                  subject=subject, kind=f["worst_kind"] or "–"))
    if finding["rule"] == "hotspot":
        return (t("Complaints in {subject}: {observed} against {expected} expected (ratio {ratio}, q-value {q}).",
                  subject=subject, observed=f["observed"], expected=t.number(f["expected"], 1),
                  ratio=t.number(f["ratio"], 2), q=t.number(f["q_value"], 3)),
                t("Find the cause of the rise in {subject} complaints (product, process or region) and act on it.",
                  subject=subject))
    raise ValueError(f"no wording for finding rule {finding['rule']}")


def rule_statements(report: dict[str, Any], t: Translator) -> list[str]:
    from projections import report as r

    return [
        t("FCR drop: the category whose FCR fell most against the previous month, by at least {points} points, "
          "with at least {n} resolved tickets in both months.", points=r.FCR_DROP_POINTS, n=r.FCR_MIN_RESOLVED),
        t("Reopen outlier: an agent whose reopen rate is at least {factor} times the team's, over at least {n} "
          "resolutions and {k} reopens.", factor=r.REOPEN_FACTOR, n=r.REOPEN_MIN_RESOLVED, k=r.REOPEN_MIN_REOPENS),
        t("SLA below target: a priority whose SLA compliance is below {target}, over at least {n} resolved tickets.",
          target=t.percent(report["sla_compliance_target"]), n=r.SLA_MIN_RESOLVED),
        t("Hotspot: a category whose complaints in the month were abnormally high against its own seasonal "
          "expectation (false discovery rate 5 %)."),
    ]


def definitions(t: Translator) -> list[str]:
    return [
        t("Period: the calendar month in the organisation's time zone; a ticket counts when opened before the month's "
          "end with an event at or after its start (business time)."),
        t("FRT: opened → first agent reply, over tickets opened in the month that had one. TTR: opened → final "
          "resolution minus time waiting on the customer, over tickets finally resolved in the month. Both in "
          "wall-clock time and in the business time of the ticket's SLA calendar; medians are exact."),
        t("FCR: resolved with one contact, no transfer, no escalation, never reopened; rate over resolved tickets."),
        t("CSAT: share of survey answers scoring 4–5; NPS: % promoters (9–10) − % detractors (0–6); over surveys "
          "answered in the month."),
        t("SLA compliance: of the tickets resolved in the month, the share that missed no deadline (SLA facts from "
          "the ticket's own events, not the watcher's notices)."),
        t("Backlog: tickets open at the end of the month, as known at the report's moment."),
        t("Escalation, complaint rates: over tickets opened in the month; reopen rate: reopens / resolutions in "
          "the month."),
        t("Agent evaluation: each fact counts for the agent it names when it happened (assignee at that business time)."),
    ]
