"""The ``servicetrail`` command line. Each command loads settings, bootstraps, and does one job."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Annotated, Optional

import typer

from api.settings import Settings, SettingsError, load_settings

cli = typer.Typer(
    name="servicetrail",
    help="Event-sourced service-quality backend.",
    no_args_is_help=True,
    add_completion=False,
)

StoreUrl = Annotated[Optional[str], typer.Option("--store-url", help="Event store URL [env SERVICETRAIL_STORE_URL].")]
Kafka = Annotated[
    Optional[str],
    typer.Option("--kafka-bootstrap", "--kafka", help="Kafka bootstrap servers [env SERVICETRAIL_KAFKA_BOOTSTRAP]."),
]


@cli.callback()
def _root() -> None:
    """Event-sourced service-quality backend. Settings: flags, then SERVICETRAIL_* variables."""


def _settings_or_exit(**overrides: object) -> Settings:
    try:
        settings = load_settings(**overrides)
    except SettingsError as bad:
        typer.echo(f"servicetrail: {bad}", err=True)
        raise typer.Exit(code=2) from None
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    return settings


def _services(settings: Settings):
    from api.bootstrap import bootstrap

    try:
        return bootstrap(settings)
    except Exception as failure:
        typer.echo(f"servicetrail: cannot open the store {settings.redacted_store_url()}: {failure}", err=True)
        raise typer.Exit(code=1) from None


def _run_until_signalled(consumers: list) -> None:
    """Runs consumers in threads until SIGINT or SIGTERM, then stops them cleanly."""
    from api.lifecycle import BackgroundConsumers

    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    background = BackgroundConsumers(consumers)
    background.start()
    stopped.wait()
    background.stop()


@cli.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Listen address [env SERVICETRAIL_HOST].")] = None,
    port: Annotated[Optional[int], typer.Option(help="Listen port [env SERVICETRAIL_PORT].")] = None,
    store_url: StoreUrl = None,
    kafka_bootstrap: Kafka = None,
    consumers: Annotated[
        Optional[str], typer.Option(help="in-process | none [env SERVICETRAIL_CONSUMERS].")
    ] = None,
) -> None:
    """Serve the API; on the embedded default the projector runs in-process too."""
    import uvicorn

    from api.http import create_app

    settings = _settings_or_exit(host=host, port=port, store_url=store_url,
                                 kafka_bootstrap=kafka_bootstrap, consumers=consumers)
    services = _services(settings)
    typer.echo(f"servicetrail: store {settings.redacted_store_url()}")
    if settings.kafka_bootstrap:
        typer.echo(f"servicetrail: kafka {settings.kafka_bootstrap} (topic {settings.events_topic})")
    typer.echo(f"servicetrail: serving on http://{settings.host}:{settings.port}  (API docs at /docs)")
    try:
        uvicorn.run(create_app(services), host=settings.host, port=settings.port,
                    log_level=settings.log_level)
    finally:
        services.close()


@cli.command()
def relay(store_url: StoreUrl = None, kafka_bootstrap: Kafka = None) -> None:
    """Publish every stored event to the Kafka events topic (at-least-once, in order)."""
    settings = _settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap)
    if not settings.kafka_bootstrap:
        typer.echo("servicetrail: relay needs SERVICETRAIL_KAFKA_BOOTSTRAP (or --kafka)", err=True)
        raise typer.Exit(code=2)
    services = _services(settings)
    typer.echo(f"servicetrail: relaying {settings.redacted_store_url()} → {settings.events_topic}")
    try:
        _run_until_signalled([services.relay()])
    finally:
        services.close()


@cli.command()
def project(
    names: Annotated[Optional[list[str]], typer.Argument(help="Projections to run (default: all).")] = None,
    source: Annotated[
        Optional[str], typer.Option(help="auto | embedded | kafka [env SERVICETRAIL_PROJECTOR_SOURCE].")
    ] = None,
    store_url: StoreUrl = None,
    kafka_bootstrap: Kafka = None,
) -> None:
    """Keep read models up to date from the log (embedded log or Kafka)."""
    from api.bootstrap import projection_handlers

    settings = _settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap, projector_source=source)
    handlers = _chosen(projection_handlers(), names)
    services = _services(settings)
    typer.echo(f"servicetrail: projecting {', '.join(h.name for h in handlers)} "
               f"from {'kafka' if settings.uses_kafka_source else 'the embedded log'}")
    try:
        _run_until_signalled([services.projector(handler) for handler in handlers])
    finally:
        services.close()


@cli.command()
def ingest(store_url: StoreUrl = None, kafka_bootstrap: Kafka = None) -> None:
    """Turn messages of the inbound topic into commands; rejects go to the DLQ topic."""
    settings = _settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap)
    if not settings.kafka_bootstrap:
        typer.echo("servicetrail: ingest needs SERVICETRAIL_KAFKA_BOOTSTRAP (or --kafka)", err=True)
        raise typer.Exit(code=2)
    services = _services(settings)
    typer.echo(f"servicetrail: ingesting {settings.inbound_topic} (rejects → {settings.inbound_dlq_topic})")
    try:
        _run_until_signalled([services.ingestor()])
    finally:
        services.close()


@cli.command()
def rebuild(
    names: Annotated[Optional[list[str]], typer.Argument(help="Projections to rebuild (default: all).")] = None,
    store_url: StoreUrl = None,
) -> None:
    """Drop projections and rebuild them from the beginning of the log, with progress."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from api.bootstrap import projection_handlers

    settings = _settings_or_exit(store_url=store_url)
    handlers = _chosen(projection_handlers(), names)
    services = _services(settings)
    try:
        head = services.app.event_count()
        for handler in handlers:
            runtime = services.projector(handler, source="embedded")
            runtime.reset()
            started = time.perf_counter()
            with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                          TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), transient=False) as progress:
                task = progress.add_task(f"rebuild {handler.name}", total=head, rate="")

                def advance(consumed: int) -> None:
                    elapsed = max(time.perf_counter() - started, 1e-9)
                    done = progress.tasks[task].completed + consumed
                    progress.update(task, advance=consumed, rate=f"{done / elapsed:,.0f} events/s")

                runtime.on_batch = advance
                total = runtime.run_until_caught_up()
            elapsed = time.perf_counter() - started
            typer.echo(f"servicetrail: rebuilt {handler.name} from {total} events in {elapsed:.1f}s "
                       f"({total / max(elapsed, 1e-9):,.0f} events/s)")
    finally:
        services.close()


schema_cli = typer.Typer(help="The published event contract.", no_args_is_help=True)
cli.add_typer(schema_cli, name="schema")


@schema_cli.command("export")
def schema_export(directory: Annotated[str, typer.Argument(help="Folder to write the schemas into.")]) -> None:
    """Write JSON Schema of every event type and an AsyncAPI document of the topics."""
    from pathlib import Path

    from api.schema import export

    settings = _settings_or_exit()
    written = export(Path(directory), settings.events_topic, settings.inbound_topic, settings.inbound_dlq_topic)
    typer.echo(f"servicetrail: wrote {len(written)} files to {directory}")


def _chosen(handlers: list, names: list[str] | None) -> list:
    if not names:
        return handlers
    known = {handler.name: handler for handler in handlers}
    unknown = [name for name in names if name not in known]
    if unknown:
        typer.echo(f"servicetrail: unknown projection(s) {', '.join(unknown)}; known: {', '.join(known)}", err=True)
        raise typer.Exit(code=2)
    return [known[name] for name in names]


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
