"""The dashboard in Debian's headless Chromium, on a demo store served by a real server process:
every panel shows what the API returns, the as-of slider shows the earlier state, a command posted
through the API appears live, and every form control has a label. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.e2e.test_cli import ROOT, SERVICETRAIL
from tests.support.postgres import free_port

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    port, log = free_port(), folder / "serve.log"
    process = subprocess.Popen([*SERVICETRAIL, "demo", "--tickets", "600", "--port", str(port)], cwd=folder,
                               env={**os.environ, "PYTHONPATH": str(ROOT), "SERVICETRAIL_POLL_INTERVAL_MS": "50"},
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
        yield f"http://127.0.0.1:{port}", keys[0]
    finally:
        process.terminate()
        process.wait(timeout=20)


def api(base: str, key: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(base + path, method="POST" if body else "GET",
                                     data=json.dumps(body).encode() if body else None,
                                     headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def test_the_dashboard_shows_the_api_and_updates_live(demo_server):
    assert Path(CHROMIUM).exists(), "Chromium is installed by scripts/provision-browser.sh (make test)"
    base, key = demo_server
    ARTIFACTS.mkdir(exist_ok=True)
    time.sleep(1.0)  # let the in-process projector and watcher catch up with the demo month
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(base + "/")
        expect(page.locator("#kpis .empty")).to_contain_text("API key")  # the empty state says what to do
        page.fill("#api-key", key)
        page.click("#key-form button")
        expect(page.locator("#live-status")).to_have_text("live", timeout=20_000)
        expect(page.locator("#leaderboard")).to_be_visible(timeout=20_000)
        expect(page.locator(".heat")).to_be_visible(timeout=20_000)

        volume = page.locator('[data-kpi="Volume"] .value').inner_text()
        assert int(volume) == volume_in_api(base, key)
        risk = api(base, key, "/v1/sla/risk?within_minutes=240")
        expect(page.locator("#risk h3").first).to_contain_text(f"({len(risk['breached'])})")
        period = time.strftime("%Y-%m", time.gmtime())
        best = api(base, key, f"/v1/agents/leaderboard?period={period}")["agents"][0]
        expect(page.locator("#leaderboard tbody tr").first.locator("td").first).to_have_text(best["agent_id"])
        forecast = api(base, key, "/v1/forecasts?group_by=category&horizon=14&freq=D&limit=50")["slices"]
        shown = page.locator("#forecast-slice").input_value()
        first = next(s for s in forecast if s["slice"]["category"] == shown)["periods"][0]
        expect(page.locator("[data-testid=forecast-summary]")).to_contain_text(
            f"next day: {first['point']:.0f} (90 % interval {first['lower']:.0f}–{first['upper']:.0f})")
        expect(page.locator(".chart polyline.actual")).to_have_count(1)
        other = page.locator("#forecast-slice option").nth(1).inner_text()
        page.select_option("#forecast-slice", other)
        chosen = next(s for s in forecast if s["slice"]["category"] == other)["periods"][0]
        expect(page.locator("[data-testid=forecast-summary]")).to_contain_text(f"next day: {chosen['point']:.0f} ")
        tomorrow = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 86400))
        plan = api(base, key, f"/v1/staffing?date={tomorrow}&interval=1h")
        expect(page.locator("[data-testid=staffing-summary]")).to_contain_text(f"{plan['agent_hours']:.0f} agent-hours")
        hot = api(base, key, "/v1/hotspots?group_by=category,region&window=7d")
        flagged = [s for s in hot["slices"] if s["abnormal"] or s["forecast_high"]]
        expect(page.locator("[data-testid=hotspot]")).to_have_count(len(flagged))
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

        page.locator("#risk [data-ticket]").first.click()
        expect(page.locator("[data-testid=ticket-status]")).to_be_visible()
        latest = page.locator("[data-testid=ticket-status]").inner_text()
        page.locator("#as-of").fill("0")  # the first moment of the ticket's history
        expect(page.locator("[data-testid=ticket-status]")).to_contain_text("status opened")
        assert latest != page.locator("[data-testid=ticket-status]").inner_text()
        page.screenshot(path=str(ARTIFACTS / "dashboard-ticket-as-of.png"), full_page=True)

        api(base, key, "/v1/tickets", {"customer_id": "browser", "channel": "web", "category": "billing",
                                        "subject": "live update"})
        expect(page.locator("#feed li").first).to_contain_text("opened", timeout=10_000)
        expect(page.locator('[data-kpi="Volume"] .value')).to_have_text(str(int(volume) + 1), timeout=15_000)

        unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select')]
            .filter(el => !el.labels || el.labels.length === 0).map(el => el.id || el.outerHTML)""")
        assert unlabelled == []
        # axe-core (Deque's accessibility engine, bundled by axe-playwright-python) on the populated
        # page: labels, contrast, landmarks, names of controls, keyboard access.
        from axe_playwright_python.sync_playwright import Axe

        audit = Axe().run(page)
        (ARTIFACTS / "dashboard-axe.txt").write_text(audit.generate_report() if audit.violations_count else "none")
        serious = [v for v in audit.response["violations"] if v["impact"] in ("serious", "critical")]
        assert serious == [], audit.generate_report()
        page.goto(base + "/")  # keyboard use: the key form comes first, then every control in order
        stops = []
        for _ in range(6):
            page.keyboard.press("Tab")
            stops.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        assert stops[:3] == ["api-key", "BUTTON", "range"], stops
        browser.close()


def volume_in_api(base: str, key: str) -> int:
    now = time.time()
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 30 * 86400))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    return api(base, key, f"/v1/kpis?from={start}&to={end}")["groups"]["all"]["volume"]
