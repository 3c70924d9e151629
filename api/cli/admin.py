"""Administration: API keys, customers' personal data, the audit trail and the event contract."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from api.cli.app import cli
from api.cli.common import Kafka, StoreUrl, fail, failing_on, instant, opened, progress, settings_or_exit
from domain.access import Role

keys_cli = typer.Typer(help="API keys: create, list, revoke.", no_args_is_help=True)
cli.add_typer(keys_cli, name="keys")


@keys_cli.command("create")
def keys_create(
    role: Annotated[Role, typer.Option(help="agent, manager, auditor, integration or admin.")],
    principal: Annotated[str, typer.Option(help="Who the key acts as (an agent's id for agents).")],
    label: Annotated[Optional[str], typer.Option(help="A note for whoever lists keys later.")] = None,
    store_url: StoreUrl = None,
) -> None:
    """Issue a key; it is printed once and stored only as an HMAC digest."""
    with opened(settings_or_exit(store_url=store_url)) as services:
        text, key = services.keys.create(role, principal, label=label, actor="cli")
        typer.echo(f"key {key.key_id} ({role}:{principal}):\n{text}")


@keys_cli.command("list")
def keys_list(store_url: StoreUrl = None) -> None:
    """Every key with its role, principal, creation and revocation (never the secret)."""
    with opened(settings_or_exit(store_url=store_url), existing=True) as services:
        for key in services.keys.all():
            typer.echo(json.dumps(key.describe()))


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (the part after st_).")],
                reason: Annotated[Optional[str], typer.Option()] = None, store_url: StoreUrl = None) -> None:
    """Revoke a key: it stops working within seconds in every process."""
    with opened(settings_or_exit(store_url=store_url), existing=True) as services:
        try:
            services.keys.revoke(key_id, actor="cli", reason=reason)
        except KeyError:
            fail(f"no key {key_id}", code=1)
        except Exception as refused:
            fail(str(refused), code=1)
        typer.echo(f"servicetrail: revoked key {key_id}")


audit_cli = typer.Typer(help="Tamper evidence: verify the log, export events with hashes.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")


@audit_cli.command("verify")
def audit_verify(
    from_kafka: Annotated[bool, typer.Option("--from-kafka", help="Verify the events topic instead of the store.")] = False,
    store_url: StoreUrl = None, kafka_bootstrap: Kafka = None,
) -> None:
    """Re-check every hash chain and checkpoint; exit 0 only when intact, else print the first broken event."""
    settings = settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap)
    with opened(settings, existing=not from_kafka) as services:
        if from_kafka:
            from api.kafka_audit import verify_topic

            report = verify_topic(services)
        else:
            with progress("verify", services.app.event_count(), transient=True) as update:

                def tracked():
                    for entry in services.stored_entries():
                        update(entry.position)
                        yield entry

                report = services.verify_log(tracked())
        typer.echo(json.dumps(report, indent=2))
        if not report["intact"]:
            raise typer.Exit(code=1)


@audit_cli.command("export")
def audit_export(
    ticket: Annotated[Optional[str], typer.Option(help="One ticket's events.")] = None,
    start: Annotated[Optional[str], typer.Option("--from", help="Events that occurred from (ISO 8601).")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="… until, exclusive (ISO 8601).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    output: Annotated[Optional[str], typer.Option(help="File to write (default: standard output).")] = None,
    store_url: StoreUrl = None,
) -> None:
    """Export events with their hashes; verify offline with tools/verify_export.py."""
    import sys
    from uuid import UUID

    from api.audit_export import export_lines

    if fmt not in ("jsonl", "csv"):
        fail("--format must be jsonl or csv")
    if ticket is None and start is None and end is None:
        fail("give --ticket ID or a period (--from/--to)")
    with failing_on(ValueError, message=lambda _: f"--ticket {ticket} is not a ticket id"):
        ticket_id = UUID(ticket) if ticket else None
    with opened(settings_or_exit(store_url=store_url), existing=True) as services, \
            failing_on(LookupError, code=1):
        target = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            for line in export_lines(services, ticket_id, instant("--from", start), instant("--to", end), fmt):
                target.write(line)
        finally:
            if output:
                target.close()


customers_cli = typer.Typer(help="Customers' personal data.", no_args_is_help=True)
cli.add_typer(customers_cli, name="customers")


@customers_cli.command("erase")
def customers_erase(customer_id: Annotated[str, typer.Argument(help="The customer whose personal data goes.")],
                    store_url: StoreUrl = None) -> None:
    """Erase a customer's personal data everywhere (deletes their key); events and hashes stay, and
    the erasure is recorded in the log."""
    from domain.commands import CommandContext, ErasePersonalData

    with opened(settings_or_exit(store_url=store_url)) as services:
        erasure = services.app.erase_personal_data(ErasePersonalData(customer_id=customer_id),
                                                   CommandContext(actor="cli"))
        typer.echo(f"servicetrail: erased the personal data of {customer_id}"
                   + ("" if erasure.had_personal_data else " (none was stored)"))


schema_cli = typer.Typer(help="The published event contract.", no_args_is_help=True)
cli.add_typer(schema_cli, name="schema")


@schema_cli.command("export")
def schema_export(directory: Annotated[str, typer.Argument(help="Folder to write the schemas into.")]) -> None:
    """Write JSON Schema of every event type and an AsyncAPI document of the topics."""
    from pathlib import Path

    from api.schema import export

    settings = settings_or_exit()
    written = export(Path(directory), settings.events_topic, settings.inbound_topic, settings.inbound_dlq_topic)
    typer.echo(f"servicetrail: wrote {len(written)} files to {directory}")
