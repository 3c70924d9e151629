"""The consumers, each as its own process: relay, projector, ingestor and deadline watcher."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from api.cli.app import cli
from api.cli.common import (
    Kafka, PolicyFile, StoreUrl, chosen, fail, opened, run_until_signalled, settings_or_exit,
)


def _kafka_process(store_url: str | None, kafka_bootstrap: str | None, name: str, build, describe) -> None:
    """Runs one Kafka-bound consumer as its own process until SIGINT/SIGTERM."""
    settings = settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap)
    if not settings.kafka_bootstrap:
        fail(f"{name} needs SERVICETRAIL_KAFKA_BOOTSTRAP (or --kafka)")
    with opened(settings) as services:
        typer.echo(f"servicetrail: {describe(settings)}")
        run_until_signalled([build(services)])


@cli.command()
def relay(store_url: StoreUrl = None, kafka_bootstrap: Kafka = None) -> None:
    """Publish every stored event to the Kafka events topic (at-least-once, in order)."""
    _kafka_process(store_url, kafka_bootstrap, "relay", lambda services: services.relay(),
                   lambda s: f"relaying {s.redacted_store_url()} → {s.events_topic}")


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

    settings = settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap, projector_source=source)
    chosen(projection_handlers(), names)  # an unknown name fails before anything opens
    with opened(settings) as services:
        handlers = chosen(services.handlers(), names)  # with the settings' policy and time zone
        typer.echo(f"servicetrail: projecting {', '.join(h.name for h in handlers)} "
                   f"from {'kafka' if settings.uses_kafka_source else 'the embedded log'}")
        run_until_signalled([*(services.projector(handler) for handler in handlers), services.checkpointer()])


@cli.command()
def ingest(store_url: StoreUrl = None, kafka_bootstrap: Kafka = None) -> None:
    """Turn messages of the inbound topic into commands; rejects go to the DLQ topic."""
    _kafka_process(store_url, kafka_bootstrap, "ingest", lambda services: services.ingestor(),
                   lambda s: f"ingesting {s.inbound_topic} (rejects → {s.inbound_dlq_topic})")


@cli.command()
def watch(store_url: StoreUrl = None, policy_file: PolicyFile = None) -> None:
    """Watch every open deadline: warnings, breaches and escalations, on the wall clock."""
    settings = settings_or_exit(store_url=store_url, policy_file=policy_file)
    with opened(settings) as services:
        typer.echo(f"servicetrail: watching deadlines ({settings.policy_file or 'built-in policy'})")
        run_until_signalled([services.watcher()])
