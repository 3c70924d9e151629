"""``servicetrail sla policy load FILE`` / ``show`` / ``history``: versions of the SLA policy from
the command line."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from api.cli.common import AsOf, KnownAt, StoreUrl, fail, instant, opened, settings_or_exit


policy_cli = typer.Typer(help="Versions of the SLA policy, recorded as events.", no_args_is_help=True)


@policy_cli.command("load")
def load(
    file: Annotated[str, typer.Argument(help="The policy (TOML, the format of SERVICETRAIL_POLICY_FILE).")],
    effective_from: Annotated[Optional[str], typer.Option(
        "--effective-from", help="Tickets opened from then on use it (ISO 8601 with offset; default now).")] = None,
    reason: Annotated[Optional[str], typer.Option(help="Why it changes (recorded with it).")] = None,
    store_url: StoreUrl = None,
) -> None:
    """Record the policy in FILE as the next version (an event in the log); print it (JSON)."""
    from pathlib import Path

    from api.policies import adopt_policy_text
    from domain.errors import DomainError

    settings = settings_or_exit(store_url=store_url)
    try:
        text = Path(file).read_text()
    except OSError as unreadable:
        fail(f"FILE: cannot read {file}: {unreadable.strerror}")
    effective = instant("--effective-from", effective_from)
    with opened(settings) as services:
        try:
            version = adopt_policy_text(services, text, actor="cli", effective_from=effective, reason=reason)
        except DomainError as refused:
            fail(f"{file}: {refused.detail}")
    description = version.describe()
    description.pop("policy")
    typer.echo(json.dumps(description, indent=2))


@policy_cli.command("show")
def show(
    as_of: AsOf = None,
    known_at: KnownAt = None,
    store_url: StoreUrl = None,
) -> None:
    """Print (JSON) the policy in force at the moment (default now) as it was known then."""
    from api.policies import policy_at

    settings = settings_or_exit(store_url=store_url)
    moments = {name: instant(name, value) for name, value in (("--as-of", as_of), ("--known-at", known_at))}
    with opened(settings, existing=True) as services:
        typer.echo(json.dumps(policy_at(services, moments["--as-of"], moments["--known-at"]), indent=2))


@policy_cli.command("history")
def history(store_url: StoreUrl = None) -> None:
    """Print (JSON) every version: number, effective time, who adopted it and when."""
    from api.policies import policy_history

    settings = settings_or_exit(store_url=store_url)
    with opened(settings, existing=True) as services:
        typer.echo(json.dumps({"versions": policy_history(services)}, indent=2))
