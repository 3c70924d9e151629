"""The FastAPI application: routes, problem handlers, and the services it was given."""

from __future__ import annotations

from fastapi import FastAPI

from api.bootstrap import Services
from api.problems import install_problem_handlers
from api.routes import health, tickets


def create_app(services: Services) -> FastAPI:
    app = FastAPI(
        title="servicetrail",
        version="0.1.0",
        description="Event-sourced service-quality backend: tickets, SLAs, KPIs, audit.",
    )
    app.state.services = services
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(tickets.router)
    return app
