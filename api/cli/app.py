"""The ``servicetrail`` Typer application the command modules register on."""

from __future__ import annotations

import typer

cli = typer.Typer(
    name="servicetrail",
    help="Event-sourced service-quality backend.",
    no_args_is_help=True,
    add_completion=False,
)


@cli.callback()
def _root() -> None:
    """Event-sourced service-quality backend. Settings: flags, then SERVICETRAIL_* variables."""
