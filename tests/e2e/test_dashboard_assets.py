"""What the dashboard page loads is served by the app itself (it works offline): its script, the
vendored Apache ECharts at its pinned version with the licence, and its words per language with the
organisation's time zone; nothing else under /static, and a wrong language is a problem naming it."""

from __future__ import annotations

import glob
import re
import tomllib
from pathlib import Path

from fastapi.testclient import TestClient

from api.bootstrap import bootstrap
from api.http import create_app
from api.routes.dashboard import ECHARTS_VERSION, STATIC
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "api/static/vendor" / f"echarts-{ECHARTS_VERSION}"


def test_the_page_loads_only_files_the_app_serves(client):
    page = client.get("/", headers={"Authorization": ""}).text
    sources = set(re.findall(r'(?:src|href)="(/static/[^"]+)"', page))
    assert sources == {"/static/dashboard.js", f"/static/echarts-{ECHARTS_VERSION}.min.js",
                       f"/static/echarts-{ECHARTS_VERSION}.LICENSE.txt"}
    anonymous = TestClient(client.app)
    for source in sources:
        response = anonymous.get(source)
        assert response.status_code == 200, source
    library = anonymous.get(f"/static/echarts-{ECHARTS_VERSION}.min.js")
    assert library.content == (VENDORED / "echarts.min.js").read_bytes()
    assert library.headers["content-type"].startswith("text/javascript")
    assert "immutable" in library.headers["cache-control"]
    assert "Apache License" in anonymous.get(f"/static/echarts-{ECHARTS_VERSION}.LICENSE.txt").text


def test_a_file_not_in_the_list_is_not_served(client):
    for name in ("pyproject.toml", "..%2Fdashboard.py", "vendor"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_the_vendored_library_is_package_data():
    """``pip install`` (and so ``make run`` from a clean clone) ships every file the page loads."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packaged = {Path(found).as_posix() for pattern in config["tool"]["setuptools"]["package-data"]["api"]
                for found in glob.glob(pattern, root_dir=ROOT / "api")}
    assert {f"static/{path}" for path, _ in STATIC.values()} <= packaged
    assert {"static/dashboard.html", f"static/vendor/echarts-{ECHARTS_VERSION}/LICENSE"} <= packaged


def test_the_words_come_in_the_asked_language_with_the_settings_time_zone(tmp_path):
    services = bootstrap(Settings(store_url=f"sqlite:///{tmp_path / 'events.db'}", secret_key="s",
                                  timezone="Asia/Shanghai"))
    try:
        with TestClient(create_app(services, run_consumers=False)) as anonymous:
            chinese = anonymous.get("/dashboard/i18n.json", params={"lang": "zh-CN"}).json()
            english = anonymous.get("/dashboard/i18n.json", params={"lang": "en"}).json()
            wrong = anonymous.get("/dashboard/i18n.json", params={"lang": "fr"})
    finally:
        services.close()
    assert chinese["timezone"] == english["timezone"] == "Asia/Shanghai"
    assert chinese["languages"] == english["languages"] == ["zh-CN", "en"]
    assert chinese["messages"]["Headline KPIs"] == "关键指标"
    assert english["messages"] == {}  # the message ids are the English text
    assert wrong.status_code == 422 and wrong.headers["content-type"] == "application/problem+json"
    assert "lang" in wrong.text
