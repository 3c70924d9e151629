"""The dashboard page: one static file, no build step; it asks for an API key and keeps it only in
the browser session, then reads the same API as everyone else."""

from importlib.resources import files

from api.body import StrictJsonRoute
from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False, route_class=StrictJsonRoute)


@router.get("/", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    page = files("api").joinpath("static/dashboard.html").read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})
