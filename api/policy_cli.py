"""``servicetrail sla policy load FILE`` / ``show`` / ``history``: versions of the SLA policy from
the command line (kept apart from ``api.cli`` so that module stays as it is)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

policy_cli = typer.Typer(help="Versions of the SLA policy, recorded as events.", no_args_is_help=True)


@policy_cli.command("load")
def load(
    file: Annotated[str, typer.Argument(help="The policy (TOML, the format of SERVICETRAIL_POLICY_FILE).")],
    effective_from: Annotated[Optional[str], typer.Option(
        "--effective-from", help="Tickets opened from then on use it (ISO 8601 with offset; default now).")] = None,
    reason: Annotated[Optional[str], typer.Option(help="Why it changes (recorded with it).")] = None,
    store_url: Annotated[Optional[str], typer.Option(help="[env SERVICETRAIL_STORE_URL]")] = None,
) -> None:
    """Record the policy in FILE as the next version (an event in the log); print it (JSON)."""
    from pathlib import Path

    from api.cli import _instant, _services, _settings_or_exit
    from api.policies import adopt_policy_text
    from domain.errors import DomainError

    settings = _settings_or_exit(store_url=store_url)
    try:
        text = Path(file).read_text()
    except OSError as unreadable:
        typer.echo(f"servicetrail: FILE: cannot read {file}: {unreadable.strerror}", err=True)
        raise typer.Exit(code=2) from None
    effective = _instant("--effective-from", effective_from)
    with _services(settings) as services:
        try:
            version = adopt_policy_text(services, text, actor="cli", effective_from=effective, reason=reason)
        except DomainError as refused:
            typer.echo(f"servicetrail: {file}: {refused.detail}", err=True)
            raise typer.Exit(code=2) from None
    description = version.describe()
    description.pop("policy")
    typer.echo(json.dumps(description, indent=2))


@policy_cli.command("show")
def show(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Business time (ISO 8601 with offset).")] = None,
    known_at: Annotated[Optional[str], typer.Option("--known-at", help="Transaction time (ISO 8601).")] = None,
    store_url: Annotated[Optional[str], typer.Option(help="[env SERVICETRAIL_STORE_URL]")] = None,
) -> None:
    """Print (JSON) the policy in force at the moment (default now) as it was known then."""
    from api.cli import _instant, _services, _settings_or_exit
    from api.policies import policy_at

    settings = _settings_or_exit(store_url=store_url)
    moments = {name: _instant(name, value) for name, value in (("--as-of", as_of), ("--known-at", known_at))}
    with _services(settings, existing=True) as services:
        typer.echo(json.dumps(policy_at(services, moments["--as-of"], moments["--known-at"]), indent=2))


@policy_cli.command("history")
def history(store_url: Annotated[Optional[str], typer.Option(help="[env SERVICETRAIL_STORE_URL]")] = None) -> None:
    """Print (JSON) every version: number, effective time, who adopted it and when."""
    from api.cli import _services, _settings_or_exit
    from api.policies import policy_history

    settings = _settings_or_exit(store_url=store_url)
    with _services(settings, existing=True) as services:
        typer.echo(json.dumps({"versions": policy_history(services)}, indent=2))
