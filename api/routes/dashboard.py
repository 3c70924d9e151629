"""The dashboard: one static page and its script, no build step; it asks for an API key and keeps it
only in the browser session, then reads the same API as everyone else.

Everything it needs is served from the package, so it works offline: the page, its script, the
vendored Apache ECharts (a pinned version, with its licence) and the page's words in the chosen
language, read from the report's Babel catalogues (``api/reports/locale``) with the organisation's
time zone (``SERVICETRAIL_TIMEZONE``), so dates and hours are shown where the managers are."""

from importlib.resources import files
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import HTMLResponse, Response

from api.body import StrictJsonRoute
from api.bootstrap import Services
from api.dependencies import get_services

router = APIRouter(include_in_schema=False, route_class=StrictJsonRoute)

ECHARTS_VERSION = "6.1.0"
# The files the page loads, and nothing else: a fixed map from the URL's name to the package file,
# not a directory served by path.
STATIC = {
    "dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    f"echarts-{ECHARTS_VERSION}.min.js": (f"vendor/echarts-{ECHARTS_VERSION}/echarts.min.js",
                                          "text/javascript; charset=utf-8"),
    f"echarts-{ECHARTS_VERSION}.LICENSE.txt": (f"vendor/echarts-{ECHARTS_VERSION}/LICENSE", "text/plain; charset=utf-8"),
    f"echarts-{ECHARTS_VERSION}.NOTICE.txt": (f"vendor/echarts-{ECHARTS_VERSION}/NOTICE", "text/plain; charset=utf-8"),
}


@router.get("/", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    page = files("api").joinpath("static/dashboard.html").read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.get("/static/{name}")
def static(name: str) -> Response:
    """The page's script and the vendored library; the versioned library may be cached for good."""
    if name not in STATIC:
        raise HTTPException(404, f"no static file {name!r}")
    path, media_type = STATIC[name]
    body = files("api").joinpath("static").joinpath(path).read_bytes()
    cache = "public, max-age=31536000, immutable" if name.startswith("echarts-") else "no-cache"
    return Response(body, media_type=media_type, headers={"Cache-Control": cache})


@router.get("/dashboard/i18n.json")
def messages(services: Annotated[Services, Depends(get_services)],
             lang: Annotated[Literal["zh-CN", "en"], Query(description="The dashboard's language.")] = "en",
             ) -> dict:
    """The page's words in ``lang`` (message id: the English text → its translation) and the time zone
    its dates and hours are shown in. Public like the page itself: no figures, no personal data."""
    from api.reports.i18n import LANGUAGES, catalogue

    return {"lang": lang, "languages": list(LANGUAGES), "timezone": services.settings.timezone,
            "messages": catalogue(LANGUAGES[lang])}
