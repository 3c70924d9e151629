"""The FastAPI application: routes, problem handlers, the services it was given, and (on the
embedded default) the consumers it runs in background threads for its lifetime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from api.auth import authorize
from api.bootstrap import Services
from api.command_route import CommandRoute, CommandShortcut
from api.middleware import RateLimiter, RequestGuard
from api.lifecycle import BackgroundConsumers
from api.metrics import Metrics
from api.problems import install_problem_handlers
from api.routes import (agents, audit, dashboard, events, health, keys, metrics, planning, policies, queries, reports,
                        tickets)


def create_app(services: Services, *, run_consumers: bool | None = None) -> FastAPI:
    if run_consumers is None:
        run_consumers = services.settings.consumers == "in-process"

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        background = BackgroundConsumers(services.in_process_consumers() if run_consumers else [])
        services.running = background.consumers
        background.start()
        try:
            yield
        finally:
            background.stop()
            services.running = []

    app = FastAPI(
        title="servicetrail",
        version="0.1.0",
        description="Event-sourced service-quality backend: tickets, SLAs, KPIs, audit.",
        lifespan=lifespan,
        dependencies=[Depends(authorize)],
    )
    app.state.services = services
    # the blocking use cases of command routes (api.command_route); as many threads as AnyIO's pool
    app.state.command_threads = ThreadPoolExecutor(max_workers=40, thread_name_prefix="command")
    app.state.rate_limiter = RateLimiter(services.settings.rate_limit_per_minute)
    app.state.metrics = Metrics(services)
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(dashboard.router)
    app.include_router(agents.router)
    app.include_router(queries.router)
    app.include_router(planning.router)
    app.include_router(tickets.router)
    app.include_router(events.router)
    app.include_router(keys.router)
    app.include_router(audit.router)
    app.include_router(reports.router)
    app.include_router(policies.router)
    # inside the guard (added first): commands skip the router, still logged, measured and size-limited
    app.add_middleware(CommandShortcut, routes=[r for r in tickets.router.routes if isinstance(r, CommandRoute)])
    app.add_middleware(RequestGuard, max_body_bytes=services.settings.max_body_bytes, metrics=app.state.metrics)
    return app
