"""The ``servicetrail`` command line. Each command loads settings, bootstraps, and does one job."""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Optional

import typer

from api.settings import Settings, SettingsError, load_settings

cli = typer.Typer(
    name="servicetrail",
    help="Event-sourced service-quality backend.",
    no_args_is_help=True,
    add_completion=False,
)


@cli.callback()
def _root() -> None:
    """Event-sourced service-quality backend. Settings: flags, then SERVICETRAIL_* variables."""


def _settings_or_exit(**overrides: object) -> Settings:
    try:
        return load_settings(**overrides)
    except SettingsError as bad:
        typer.echo(f"servicetrail: {bad}", err=True)
        raise typer.Exit(code=2) from None


@cli.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Listen address [env SERVICETRAIL_HOST].")] = None,
    port: Annotated[Optional[int], typer.Option(help="Listen port [env SERVICETRAIL_PORT].")] = None,
    store_url: Annotated[
        Optional[str], typer.Option(help="Event store URL [env SERVICETRAIL_STORE_URL].")
    ] = None,
) -> None:
    """Serve the API (and, later, the dashboard) on the configured store."""
    import uvicorn

    from api.bootstrap import bootstrap
    from api.http import create_app

    settings = _settings_or_exit(host=host, port=port, store_url=store_url)
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    services = bootstrap(settings)
    typer.echo(f"servicetrail: store {settings.redacted_store_url()}")
    typer.echo(f"servicetrail: serving on http://{settings.host}:{settings.port}  (API docs at /docs)")
    try:
        uvicorn.run(create_app(services), host=settings.host, port=settings.port,
                    log_level=settings.log_level)
    finally:
        services.close()


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
