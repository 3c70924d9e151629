"""Where the monthly report's time goes: ``python -m benchmarks.report_phases DIR`` on the store that
``SERVICETRAIL_REPORT_BENCH_DIR=DIR python -m benchmarks report`` generated and kept (100,000 tickets
in 2026-02). Wall time per phase of one report (figures and zh-CN HTML) after a warm-up, by wrapping
the functions the report calls (a nested call counts once, in the outermost phase); prints a
Markdown table."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from datetime import datetime, timezone


def main(workdir: str) -> None:
    from api.bootstrap import bootstrap
    from api.reports.monthly import compute, render
    from api.settings import Settings
    from projections import measures, report

    spent: dict[str, float] = defaultdict(float)
    depth = [0]

    def timed(name, function):
        def wrapper(*args, **kwargs):
            if depth[0]:
                return function(*args, **kwargs)
            depth[0] += 1
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[name] += time.perf_counter() - started
                depth[0] -= 1
        return wrapper

    report.rows_touching = timed("read: the rows of the 12 months", report.rows_touching)
    report.kpi_report = timed("KPIs of the month and the previous one, with groups (fact rows)", report.kpi_report)
    measures.kpis = timed("trend KPIs of the ten earlier months (measures.kpis over rows)", measures.kpis)
    report.evaluation_facts = timed("agent evaluation (fact rows)", report.evaluation_facts)
    report.planning_figures = timed("hotspots and forecast (projections.planning)", report.planning_figures)
    services = bootstrap(Settings(store_url=f"sqlite:///{workdir}/events.db",
                                  state_store_url=f"sqlite:///{workdir}/state.db"),
                         clock=lambda: datetime(2026, 3, 20, tzinfo=timezone.utc))
    render(compute(services, "2026-02"), "zh-CN", "html")  # warm-up: imports, caches
    spent.clear()
    started = time.perf_counter()
    figures = compute(services, "2026-02")
    rendered = time.perf_counter()
    render(figures, "zh-CN", "html")
    total = time.perf_counter() - started
    spent["rendering (Jinja2, matplotlib SVG)"] = time.perf_counter() - rendered
    spent["the report's own tables, findings, verification"] = total - sum(spent.values())
    print("| phase | time | share |\n| --- | --- | --- |")
    for name, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"| {name} | {seconds:.1f} s | {100 * seconds / total:.0f} % |")
    print(f"| total | {total:.1f} s | 100 % |")
    services.close()


if __name__ == "__main__":
    main(sys.argv[1])
