"""Where the monthly report's time goes: ``python -m benchmarks.report_phases DIR`` on the store that
``SERVICETRAIL_REPORT_BENCH_DIR=DIR python -m benchmarks report`` generated and kept (100,000 tickets
in 2026-02). Wall time per phase of one report (figures and zh-CN HTML) after a warm-up, by wrapping
the functions the report calls; a phase's time is its own (the time of a wrapped function it calls
counts in that function's phase: the backlog in the KPI queries, the forecasts in planning), with
the number of calls. Prints a Markdown table, so the lead can re-time each phase after a change of
the read side."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from datetime import datetime, timezone


def main(workdir: str) -> None:
    import api.reports.charts as charts
    from api.bootstrap import bootstrap
    from api.reports.monthly import compute, render
    from api.settings import Settings
    from projections import planning, queries, report

    spent: dict[str, float] = defaultdict(float)
    calls: dict[str, int] = defaultdict(int)
    children: list[float] = []  # per open wrapped call: the time spent in wrapped calls inside it

    def timed(name, function):
        def wrapper(*args, **kwargs):
            children.append(0.0)
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - started
                spent[name] += elapsed - children.pop()
                calls[name] += 1
                if children:
                    children[-1] += elapsed
        return wrapper

    report.kpi_report = timed("KPIs of periods: month, previous, groups, trend (queries.kpi_report)",
                              report.kpi_report)
    queries.backlog_counts = timed("… the backlog at each period's end (queries.backlog_counts)",
                                   queries.backlog_counts)
    report.evaluation_facts = timed("agent evaluation (queries.evaluation_facts)", report.evaluation_facts)
    report.sla_by_priority = timed("SLA per priority (resolved fact rows)", report.sla_by_priority)
    report.rows_of_month = timed("read: the month's ticket rows, the fields the tables read (report.rows_of_month)", report.rows_of_month)
    for function in ("sla_by", "sla_by_tier", "sla_by_deadline_kind", "escalations_by_level", "escalations_by_reason",
                     "complaints_by", "root_causes"):
        setattr(report, function, timed(f"tables over the rows: report.{function}", getattr(report, function)))
    report.planning_figures = timed("hotspots and forecast: the rest (projections.planning)", report.planning_figures)
    planning.hotspot_report = timed("… hotspots (planning.hotspot_report)", planning.hotspot_report)
    planning.forecast_report = timed("… forecasts, all and per category (planning.forecast_report)",
                                     planning.forecast_report)
    charts.trend_svg = timed("rendering: trend charts (matplotlib SVG)", charts.trend_svg)
    services = bootstrap(Settings(store_url=f"sqlite:///{workdir}/events.db",
                                  state_store_url=f"sqlite:///{workdir}/state.db"),
                         clock=lambda: datetime(2026, 3, 20, tzinfo=timezone.utc))
    render(compute(services, "2026-02"), "zh-CN", "html")  # warm-up: imports, caches
    spent.clear()
    calls.clear()
    started = time.perf_counter()
    figures = compute(services, "2026-02")
    computed = time.perf_counter()
    render(figures, "zh-CN", "html")
    total = time.perf_counter() - started
    charted = spent["rendering: trend charts (matplotlib SVG)"]
    spent["rendering: the rest (Jinja2, tables)"] = time.perf_counter() - computed - charted
    spent["the rest: grouping the rows, findings, verification, freeing the rows"] = total - sum(spent.values())
    print("| phase | calls | time | share |\n| --- | --- | --- | --- |")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"| {name} | {calls.get(name, '')} | {seconds:.2f} s | {100 * seconds / total:.0f} % |")
    print(f"| total | | {total:.2f} s | 100 % |")
    services.close()


if __name__ == "__main__":
    main(sys.argv[1])
