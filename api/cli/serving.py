"""Serving: the HTTP API (and, on the embedded default, its consumers in-process)."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from api.cli.app import cli
from api.cli.common import Host, Kafka, PolicyFile, Port, StoreUrl, opened, settings_or_exit
from domain.access import Role


@cli.command()
def serve(
    host: Host = None,
    port: Port = None,
    store_url: StoreUrl = None,
    kafka_bootstrap: Kafka = None,
    consumers: Annotated[
        Optional[str], typer.Option(help="in-process | none [env SERVICETRAIL_CONSUMERS].")
    ] = None,
    policy_file: PolicyFile = None,
    workers: Annotated[Optional[int], typer.Option(
        help="API processes on the port; above 1 the consumers get a process of their own [env SERVICETRAIL_WORKERS].",
    )] = None,
) -> None:
    """Serve the API; on the embedded default the projector runs in-process too."""
    import uvicorn

    from api.http import create_app
    from api.server import http_protocol, tune_collector

    settings = settings_or_exit(host=host, port=port, store_url=store_url,
                                kafka_bootstrap=kafka_bootstrap, consumers=consumers, policy_file=policy_file,
                                workers=workers)
    with opened(settings) as services:
        typer.echo(f"servicetrail: store {settings.redacted_store_url()}")
        if settings.kafka_bootstrap:
            typer.echo(f"servicetrail: kafka {settings.kafka_bootstrap} (topic {settings.events_topic})")
        if not services.keys.any_exist():
            text, _ = services.keys.create(Role.ADMIN, "admin", label="first start", actor="servicetrail")
            typer.echo(f"servicetrail: first start: admin API key (shown once, keep it safe):\n\n    {text}\n")
        typer.echo(f"servicetrail: serving on http://{settings.host}:{settings.port}  (API docs at /docs)")
        if settings.workers > 1:  # N API processes and the consumers' own: api/workers.py
            from api.workers import serve as serve_workers

            return serve_workers(settings)
        app = create_app(services)
        tune_collector()
        uvicorn.run(app, host=settings.host, port=settings.port,
                    log_level=settings.log_level, access_log=False,
                    http=http_protocol(settings.header_timeout_seconds))
