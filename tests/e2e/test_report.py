"""The monthly report from the API and the CLI: its figures equal the API's for the same period and
moment, its Excel sheets hold numbers, its PDF renders the headline figures in both languages."""

from __future__ import annotations

import io
import random
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from uuid import UUID

import pytest

from benchmarks.traffic import ticket_history
from tests.e2e.test_cli import run_cli
from tests.fakes import FakeClock
from tests.scenarios import scenario

NOW = datetime(2026, 4, 5, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW, tick=timedelta(0))  # the API and the report describe the same instant


def fill(services) -> None:
    """The hand-worked day (March) beside 120 generated tickets over February and March."""
    rng = random.Random(3)
    tickets = scenario()
    for n in range(120):
        start = datetime(2026, 2, 1, tzinfo=timezone.utc) + timedelta(hours=11 * n)
        tickets.append(ticket_history(rng, UUID(int=rng.getrandbits(128)), start, rng.randint(5, 8)))
    services.app.save(*tickets)
    for handler in services.handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    services.checkpointer().run_until_caught_up()


@pytest.fixture
def filled(services):
    fill(services)
    return services


def figures(client, **params):
    response = client.get("/v1/reports/monthly", params={"period": "2026-03", "format": "json", **params})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("moment", [{}, {"as_of": "2026-03-20T00:00:00Z"}, {"known_at": "2026-04-01T00:00:00Z"}])
def test_the_reports_figures_equal_the_apis_for_the_same_period_and_moment(filled, client, moment):
    report = figures(client, **moment)
    kpis = client.get("/v1/kpis", params={"from": "2026-03-01", "to": "2026-04-01", **moment}).json()
    assert report["kpis"] == kpis["groups"]["all"]  # every field of the headline KPIs
    before = client.get("/v1/kpis", params={"from": "2026-02-01", "to": "2026-03-01", **moment}).json()
    assert report["previous_kpis"] == before["groups"]["all"]
    for entry in report["headline"]:
        assert entry["value"] is None or entry["value"] == entry["value"]  # numbers, not text
    board = client.get("/v1/agents/leaderboard", params={"period": "2026-03", "limit": 1000, **moment}).json()
    assert report["agents"] == board["agents"]  # every agent, every part of the score
    by_priority = client.get("/v1/kpis", params={"from": "2026-03-01", "to": "2026-04-01", "group_by": "priority",
                                                 **moment}).json()["groups"]
    for entry in report["sla_by_priority"]:
        assert entry["sla_compliance"] == by_priority[entry["priority"]]["sla_compliance"]
    march = next(m for m in report["trend"] if m["month"] == "2026-03")
    assert march["volume"] == kpis["groups"]["all"]["volume"]
    assert march["fcr_rate"] == kpis["groups"]["all"]["fcr_rate"]
    assert len(report["trend"]) == 12 and report["trend"][-1]["month"] == "2026-03"


@pytest.mark.parametrize("moment", [{}, {"as_of": "2026-03-20T00:00:00Z"}])
def test_every_month_of_the_trend_is_the_apis_kpis_of_that_month(filled, client, moment):
    """The trend's twelve months, the two with tickets and the ten before without, each equal the
    KPI query of that month at the same moment, measure by measure."""
    from projections import report as r

    report = figures(client, **moment)
    months = [f"2025-{k:02d}" for k in range(4, 13)] + ["2026-01", "2026-02", "2026-03"]
    assert [m["month"] for m in report["trend"]] == months
    for month in report["trend"]:
        year, number = (int(p) for p in month["month"].split("-"))
        following = f"{year + number // 12}-{number % 12 + 1:02d}-01"
        kpis = client.get("/v1/kpis", params={"from": f"{month['month']}-01", "to": following, **moment}).json()
        expected = kpis["groups"]["all"]
        assert month == {"month": month["month"], **{name: r.pick(expected, path) for name, path in r.TREND}}
    assert [m["volume"] > 0 for m in report["trend"]] == [False] * 10 + [True, True]


def test_the_forecast_gives_all_contacts_then_each_category_once(filled, client):
    forecast = figures(client)["forecast"]
    names = [entry["slice"] for entry in forecast["slices"]]
    assert forecast["month"] == "2026-04" and names[0] == "all"
    assert len(names) > 2 and len(set(names)) == len(names)  # no category twice


def test_escalations_per_level_and_reason_are_the_reasons_in_the_log(filled, client):
    """A person of the hand-worked day escalated to level 3 for "major complaint": the report lists that
    reason at that level, and every level's reasons add up to its total."""
    report = figures(client)
    manual = {(e["level"], e["reason"]): e["escalations"] for e in report["escalation_reasons"] if e["trigger"] == "manual"}
    assert manual[(3, "major complaint")] >= 1
    for level in report["escalations"]:
        assert sum(e["escalations"] for e in report["escalation_reasons"] if e["level"] == level["level"]) == level["total"]
    html = client.get("/v1/reports/monthly", params={"period": "2026-03", "lang": "zh-CN"}).text
    assert "按级别和原因统计的升级" in html and "major complaint" in html


def test_the_sla_tables_equal_their_definitions_over_the_months_tickets(filled, client):
    """The report judges each ticket once and sums the per-priority deadline tables: the same tables as
    the definitions applied to the month's tickets directly."""
    from datetime import datetime, timezone

    from projections import measures, queries
    from projections import report as r

    report = figures(client)
    start, end = datetime(2026, 3, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc)
    with filled.read() as view:
        rows = queries.rows_touching(view, start, end)
    lo, hi = report["from"], report["to"]
    in_month = [row for row in rows if measures.touches(row, lo, hi)]
    assert report["sla_by_deadline_kind"] == r.sla_by_deadline_kind(in_month, lo, hi) != []
    assert report["sla_by_priority"] == r.sla_by(in_month, lo, hi, "priority")
    assert report["sla_by_tier"] == r.sla_by(in_month, lo, hi, "customer_tier")


def test_the_report_tells_how_to_recompute_it_and_recomputing_gives_the_same_figures(filled, client):
    report = figures(client)
    verification = report["verification"]
    assert verification["log_position"] == filled.app.event_count()
    assert 0 < verification["projector_position"] <= verification["log_position"]
    assert verification["audit_chain_digest"] and "--known-at 2026-04-05T00:00:00.000000Z" in verification["recompute"]
    again = figures(client, known_at=verification["computed_at"])
    assert again["kpis"] == report["kpis"] and again["agents"] == report["agents"]


def test_excel_sheets_open_with_openpyxl_and_hold_numbers(filled, client):
    import openpyxl

    report = figures(client)
    response = client.get("/v1/reports/monthly", params={"period": "2026-03", "format": "xlsx", "lang": "en"})
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert {"headline", "trend", "sla_priority", "sla_kind", "escalations", "complaints_severity", "agents",
            "hotspots", "forecast", "findings", "verification"} <= set(book.sheetnames)
    headline = {row[0]: row[1] for row in book["headline"].iter_rows(min_row=5, values_only=True)}
    assert headline["Tickets opened"] == report["kpis"]["volume"]
    assert headline["First contact resolution (FCR)"] == pytest.approx(report["kpis"]["fcr_rate"])
    assert book["headline"]["B7"].number_format == "#,##0" or isinstance(book["headline"]["B7"].value, (int, float))
    agents = list(book["agents"].iter_rows(min_row=5, values_only=True))
    assert len(agents) == len(report["agents"])
    for row, agent in zip(agents, report["agents"], strict=True):
        assert row[0] == agent["agent_id"] and row[1] == pytest.approx(agent["score"])
        assert row[3] == agent["tickets_resolved"] and isinstance(row[3], int)
    trend = list(book["trend"].iter_rows(min_row=5, values_only=True))
    assert [r[1] for r in trend] == [m["volume"] for m in report["trend"]]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (scripts/provision-fonts.sh)")
@pytest.mark.parametrize("lang, title, fcr", [("en", "Monthly service report", "First contact resolution"),
                                              ("zh-CN", "月度客服数据报告", "首次解决率")])
def test_the_pdf_renders_pages_with_the_headline_figures(filled, client, tmp_path, lang, title, fcr):
    from api.reports.i18n import Translator

    report = figures(client)
    response = client.get("/v1/reports/monthly", params={"period": "2026-03", "format": "pdf", "lang": lang})
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout
    t = Translator(lang)
    assert title in text and fcr in text
    assert t.percent(report["kpis"]["fcr_rate"]) in text
    assert t.percent(report["kpis"]["sla_compliance"]) in text
    assert f"{report['kpis']['volume']}" in text


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_the_html_report_is_one_self_contained_file_with_every_section(filled, client, lang):
    from api.reports.i18n import Translator

    response = client.get("/v1/reports/monthly", params={"period": "2026-03", "lang": lang})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<svg" in html and "<style>" in html
    assert "src=\"http" not in html and "href=\"http" not in html and "<script" not in html
    t = Translator(lang)
    for section in ("1. Key indicators", "2. Trends of the last 12 months", "5. Agent evaluation",
                    "7. Findings and suggested improvements", "9. How to verify these figures"):
        assert t(section) in html
    assert t.missing == set()


def test_a_month_that_is_not_one_is_a_problem_not_a_report(client):
    assert client.get("/v1/reports/monthly", params={"period": "2026-13"}).status_code == 422
    assert client.get("/v1/reports/monthly", params={"period": "2026-W10"}).status_code == 422
    assert client.get("/v1/reports/monthly", params={"period": "2026-03", "lang": "fr"}).status_code == 422
    # a month whose trend or next month is no date (found by the API fuzzer as a 500)
    for edge in ("0001-01", "9999-12"):
        answer = client.get("/v1/reports/monthly", params={"period": edge})
        assert answer.status_code == 422 and "period" in answer.text, answer.text


def test_managers_and_auditors_read_the_report_agents_do_not(services, client):
    from domain.access import Role

    for role, status in ((Role.MANAGER, 200), (Role.AUDITOR, 200), (Role.AGENT, 403), (Role.INTEGRATION, 403)):
        key, _ = services.keys.create(role, "someone")
        response = client.get("/v1/reports/monthly", params={"period": "2026-03", "format": "json"},
                              headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == status, role


def test_the_cli_writes_each_format_in_each_language(tmp_path):
    from api.bootstrap import bootstrap
    from api.settings import Settings

    url = f"sqlite:///{tmp_path / 'events.db'}"
    services = bootstrap(Settings(store_url=url))
    fill(services)
    services.close()
    for lang, fmt in (("zh-CN", "html"), ("en", "xlsx"), ("en", "json")):
        out = tmp_path / f"report.{fmt}"
        result = run_cli("report", "--period", "2026-03", "--lang", lang, "--format", fmt, "--output", str(out),
                         "--as-of", "2026-04-01T00:00:00Z", "--store-url", url)
        assert result.returncode == 0, result.stderr
        assert "recompute with: servicetrail report --period 2026-03 --as-of 2026-04-01T00:00:00.000000Z" in result.stdout
        assert out.stat().st_size > 1000
    assert "月度客服数据报告" in (tmp_path / "report.html").read_text()
    bad = run_cli("report", "--period", "2026-03", "--format", "doc", "--output", str(tmp_path / "x"),
                  "--store-url", url)
    assert bad.returncode == 2 and "--format must be one of" in bad.stderr
