"""The dashboard in Debian's headless Chromium, on a demo store served by a real server process in
the Asia/Shanghai time zone (the browser in another): every panel shows what the API returns, in
zh-CN and in en, its charts drawn by ECharts (series data and painted pixels), the as-of slider shows
the earlier state, a command posted through the API appears live, every form control has a label,
and axe-core finds no serious violation in either language. Screenshots go to test-artifacts/ and
the README's to docs/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.test_cli import ROOT, SERVICETRAIL
from tests.support.postgres import free_port

ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs"
ZONE = "Asia/Shanghai"  # the organisation's (SERVICETRAIL_TIMEZONE); the browser runs in New York
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    port, log = free_port(), folder / "serve.log"
    process = subprocess.Popen([*SERVICETRAIL, "demo", "--tickets", "600", "--port", str(port)], cwd=folder,
                               env={**os.environ, "PYTHONPATH": str(ROOT), "SERVICETRAIL_POLL_INTERVAL_MS": "50",
                                    "SERVICETRAIL_TIMEZONE": ZONE},
                               stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    try:
        while True:
            keys = re.findall(r"st_[0-9a-f]{12}_[A-Za-z0-9_-]+", log.read_text())
            if keys:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                    break
                except OSError:
                    pass
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        while not caught_up(f"http://127.0.0.1:{port}"):  # every panel reads the whole demo month
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", keys[0]
    finally:
        process.terminate()
        process.wait(timeout=20)


def caught_up(base: str) -> bool:
    """The in-process consumers have read the log to its head (``/ready`` reports each one's lag)."""
    with urllib.request.urlopen(f"{base}/ready", timeout=5) as response:
        consumers = json.load(response).get("consumers", {})
    return bool(consumers) and all(entry.get("lag") == 0 for entry in consumers.values())


def api(base: str, key: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(base + path, method="POST" if body else "GET",
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "Chromium is installed by scripts/provision-browser.sh (make test)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run"])
        yield chromium
        chromium.close()


def open_dashboard(browser, base: str, key: str, language: str, path: str = "/"):
    """A page whose browser language is ``language`` (nothing chosen yet), the key entered, all panels loaded."""
    context = browser.new_context(locale=language, timezone_id="America/New_York",
                                  viewport={"width": 1400, "height": 1400})
    page = context.new_page()
    page.goto(base + path)
    expect(page.locator("#kpis .empty")).to_be_visible()  # the empty state says what to do
    page.fill("#api-key", key)
    page.click("#key-form button")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=20_000)
    expect(page.locator("#leaderboard")).to_be_visible(timeout=20_000)
    page.wait_for_function("document.querySelectorAll('[data-panel][role=img]').length === 3", timeout=20_000)
    return page


CHART_STATE = """() => [...document.querySelectorAll('[data-panel]')].map((el) => {
    const chart = echarts.getInstanceByDom(el);
    const canvas = el.querySelector('canvas');
    let painted = 0;
    if (canvas) {
        const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 0; i < pixels.length; i += 4) {
            if (pixels[i + 3] > 0 && (pixels[i] < 230 || pixels[i + 1] < 230 || pixels[i + 2] < 230)) painted++;
        }
    }
    return { panel: el.dataset.panel, lang: el.dataset.lang, label: el.getAttribute('aria-label') || '',
             series: chart ? chart.getOption().series.map((s) => s.data.filter((v) => v != null).length) : [],
             width: canvas ? canvas.width : 0, painted };
})"""


def assert_every_chart_drawn(page, lang: str) -> None:
    charts = page.evaluate(CHART_STATE)
    assert [c["panel"] for c in charts] == ["heat", "forecast", "staffing"]
    for chart in charts:
        assert chart["lang"] == lang, chart
        assert chart["series"] and all(n > 0 for n in chart["series"]), chart  # every series has data
        assert chart["width"] > 0 and chart["painted"] > 500, chart  # and the canvas is painted, not blank
        assert chart["label"], chart  # ECharts' aria description: a screen reader hears what it shows


def assert_no_serious_accessibility_violation(page, name: str) -> None:
    # axe-core (Deque's accessibility engine, bundled by axe-playwright-python) on the populated
    # page: labels, contrast, landmarks, names of controls, keyboard access.
    from axe_playwright_python.sync_playwright import Axe

    audit = Axe().run(page)
    (ARTIFACTS / f"{name}-axe.txt").write_text(audit.generate_report() if audit.violations_count else "none")
    serious = [v for v in audit.response["violations"] if v["impact"] in ("serious", "critical")]
    assert serious == [], audit.generate_report()


def wait_for_number(page, selector: str, attribute: str, value: float) -> None:
    """Until the element's attribute holds the number the API gave (as a number: 0 and 0.0 alike)."""
    page.wait_for_function("([selector, attribute, value]) => Number(document.querySelector(selector)"
                           "?.getAttribute(attribute)) === value", arg=[selector, attribute, value], timeout=10_000)


def shown_number(text: str) -> float:
    return float(text.replace(",", "").strip())


def local_day(offset_days: int = 0) -> str:
    return (datetime.now(ZoneInfo(ZONE)) + timedelta(days=offset_days)).date().isoformat()


def test_the_dashboard_shows_the_api_and_updates_live(demo_server, browser):
    base, key = demo_server
    time.sleep(1.0)  # let the in-process projector and watcher catch up with the demo month
    page = open_dashboard(browser, base, key, "en-US")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#kpi-title")).to_contain_text("Headline KPIs")

    volume = shown_number(page.locator('[data-kpi="volume"] .value').inner_text())
    assert volume == volume_in_api(base, key)
    risk = api(base, key, "/v1/sla/risk?within_minutes=240")
    expect(page.locator("#risk h3").first).to_contain_text(f"({len(risk['breached'])})")
    period = local_day()[:7]  # the month in the organisation's time zone
    best = api(base, key, f"/v1/agents/leaderboard?period={period}")["agents"][0]
    expect(page.locator("#leaderboard tbody tr").first.locator("td").first).to_have_text(best["agent_id"])
    forecast = api(base, key, "/v1/forecasts?group_by=category&horizon=14&freq=D&limit=50")["slices"]
    shown = page.locator("#forecast-slice").input_value()
    first = next(s for s in forecast if s["slice"]["category"] == shown)["periods"][0]
    summary = page.locator("[data-testid=forecast-summary]")
    wait_for_number(page, "[data-testid=forecast-summary]", "data-point", first["point"])
    expect(summary).to_contain_text(f"next day: {first['point']:,.0f} (90 % interval {first['lower']:,.0f}–{first['upper']:,.0f})")
    other = page.locator("#forecast-slice option").nth(1).inner_text()
    page.select_option("#forecast-slice", other)
    chosen = next(s for s in forecast if s["slice"]["category"] == other)
    wait_for_number(page, "[data-testid=forecast-summary]", "data-point", chosen["periods"][0]["point"])
    # The chart redraws after the summary (two slices may share a first forecast point): wait for it.
    page.wait_for_function(
        """(recent) => JSON.stringify(echarts.getInstanceByDom(document.getElementById('forecast-chart'))
             .getOption().series[0].data.filter((v) => v !== null)) === JSON.stringify(recent)""",
        arg=[p["count"] for p in chosen["recent"]], timeout=10_000)
    drawn = page.evaluate("echarts.getInstanceByDom(document.getElementById('forecast-chart')).getOption().series")
    assert [v for v in drawn[0]["data"] if v is not None] == [p["count"] for p in chosen["recent"]]
    assert [v for v in drawn[1]["data"] if v is not None] == [p["point"] for p in chosen["periods"]]
    plan = api(base, key, f"/v1/staffing?date={local_day(1)}&interval=1h")
    wait_for_number(page, "[data-testid=staffing-summary]", "data-agent-hours", plan["agent_hours"])
    expect(page.locator("[data-testid=staffing-summary]")).to_contain_text(f"{plan['agent_hours']:,.0f} agent-hours")
    hot = api(base, key, "/v1/hotspots?group_by=category,region&window=7d")
    flagged = [s for s in hot["slices"] if s["abnormal"] or s["forecast_high"]]
    expect(page.locator("[data-testid=hotspot]")).to_have_count(len(flagged))
    assert_every_chart_drawn(page, "en")
    page.screenshot(path=str(ARTIFACTS / "dashboard-en.png"), full_page=True)

    page.locator("#risk [data-ticket]").first.click()
    expect(page.locator("[data-testid=ticket-status]")).to_be_visible()
    latest = page.locator("[data-testid=ticket-status]").inner_text()
    page.locator("#as-of").fill("0")  # the first moment of the ticket's history
    expect(page.locator("[data-testid=ticket-status]")).to_have_attribute("data-status", "opened")
    assert latest != page.locator("[data-testid=ticket-status]").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard-ticket-as-of.png"), full_page=True)

    api(base, key, "/v1/tickets", {"customer_id": "browser", "channel": "web", "category": "billing",
                                    "subject": "live update"})
    expect(page.locator("#feed li").first).to_contain_text("opened", timeout=10_000)
    expect(page.locator('[data-kpi="volume"] .value')).to_have_text(f"{int(volume) + 1:,}", timeout=15_000)

    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select')]
        .filter(el => !el.labels || el.labels.length === 0).map(el => el.id || el.outerHTML)""")
    assert unlabelled == []
    assert_no_serious_accessibility_violation(page, "dashboard-en")
    page.goto(base + "/")  # keyboard use: the key form comes first, then every control in order
    stops = []
    for _ in range(6):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    assert stops[:4] == ["api-key", "BUTTON", "range", "lang"], stops
    page.context.close()


def test_the_dashboard_in_chinese_with_the_organisations_time_zone(demo_server, browser):
    """Chosen by the browser's language; words from the catalogue, numbers and dates in zh-CN, hours
    in Asia/Shanghai although the browser is in New York; the switch turns it to English and back."""
    base, key = demo_server
    page = open_dashboard(browser, base, key, "zh-CN")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#lang")).to_have_value("zh-CN")
    expect(page.locator("#kpi-title")).to_contain_text("关键指标")
    expect(page.locator("#risk-title")).to_have_text("SLA 风险")
    expect(page.locator("#zone")).to_have_text(f"时区：{ZONE}")
    expect(page.locator("#live-status")).to_have_text("实时")
    assert shown_number(page.locator('[data-kpi="volume"] .value').inner_text()) == volume_in_api(base, key)
    kpis = api(base, key, "/v1/kpis?from={}&to={}".format(
        *(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - d * 86400)) for d in (30, 0))))["groups"]["all"]
    if kpis["first_response_seconds"]["median"] is not None:  # durations in the catalogue's units
        expect(page.locator('[data-kpi="frt"] .value')).to_contain_text(
            "小时" if kpis["first_response_seconds"]["median"] >= 3600 else "分钟")
    expect(page.locator('[data-kpi="fcr"] .value')).to_have_text(f"{100 * kpis['fcr_rate']:.1f}%")
    expect(page.locator("#board-period")).to_contain_text("年")
    expect(page.locator("#staffing-date")).to_contain_text("年")
    expect(page.locator("[data-testid=staffing-summary]")).to_contain_text("坐席工时")
    hours = page.evaluate("echarts.getInstanceByDom(document.getElementById('staffing-chart')).getOption().xAxis[0].data")
    assert hours[:2] == ["00:00", "01:00"] and len(hours) == 24  # the plan's local day, in the settings' zone
    plan = api(base, key, f"/v1/staffing?date={local_day(1)}&interval=1h")
    wait_for_number(page, "[data-testid=staffing-summary]", "data-agent-hours", plan["agent_hours"])
    assert_every_chart_drawn(page, "zh-CN")
    heat = page.evaluate("echarts.getInstanceByDom(document.getElementById('heat-chart')).getOption().xAxis[0].data")
    assert all(day.endswith("日") for day in heat), heat  # 11月15日
    assert_no_serious_accessibility_violation(page, "dashboard-zh-CN")
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "dashboard-zh-CN.png"), full_page=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-zh-CN.png"), full_page=True)

    page.select_option("#lang", "en")  # the switch: English, remembered for the next visit
    expect(page.locator("#kpi-title")).to_contain_text("Headline KPIs")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.wait_for_function("document.getElementById('forecast-chart').dataset.lang === 'en'")
    assert_every_chart_drawn(page, "en")
    page.screenshot(path=str(DOCS / "dashboard-en.png"), full_page=True)
    page.reload()
    expect(page.locator("#lang")).to_have_value("en")
    page.select_option("#lang", "zh-CN")
    expect(page.locator("#kpi-title")).to_contain_text("关键指标")
    page.context.close()


def test_the_as_of_page_asks_every_panel_for_that_moment(demo_server, browser):
    """``/?as_of=T``: every request of every panel carries that as_of (or is the ticket's own history)."""
    base, key = demo_server
    moment = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 5 * 86400))
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1400})
    page = context.new_page()
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{base}/?as_of={moment}")
    page.fill("#api-key", key)
    page.click("#key-form button")
    page.wait_for_function("document.querySelectorAll('[data-panel][role=img]').length === 3", timeout=20_000)
    panels = [url for url in requests if "/v1/" in url and "/v1/events/stream" not in url]
    assert {url.split("?")[0].split("/v1/")[1] for url in panels} == {
        "kpis", "sla/risk", "agents/leaderboard", "arrivals", "hotspots", "forecasts", "staffing"}
    as_of = datetime.strptime(moment, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%dT%H%%3A%M%%3A%S")
    assert [url for url in panels if f"as_of={as_of}" not in url] == []
    expect(page.locator("#page-as-of")).not_to_be_empty()
    context.close()


def test_a_report_page_in_chromium(demo_server, browser):
    """The monthly HTML report, one self-contained file, rendered by Chromium (the README shows it)."""
    base, key = demo_server
    request = urllib.request.Request(f"{base}/v1/reports/monthly?period={local_day()[:7]}&lang=zh-CN&format=html",
                                     headers={"authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=120) as response:
        html = response.read().decode()
    context = browser.new_context(viewport={"width": 1100, "height": 1500}, offline=True)  # self-contained
    page = context.new_page()
    page.set_content(html)
    expect(page.locator("h1")).to_contain_text("月")
    assert page.locator("svg").count() >= 1
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "report-zh-CN.png"))
    context.close()


def volume_in_api(base: str, key: str) -> int:
    now = time.time()
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 30 * 86400))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return api(base, key, f"/v1/kpis?from={start}&to={end}")["groups"]["all"]["volume"]
