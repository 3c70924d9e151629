"""What every command of the ``servicetrail`` command line shares: its options, its settings and
services, the one way a command stops with an error, and the one progress bar."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn, Optional

import typer

from api.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from datetime import datetime

    from api.bootstrap import Services

StoreUrl = Annotated[Optional[str], typer.Option("--store-url", help="Event store URL [env SERVICETRAIL_STORE_URL].")]
Kafka = Annotated[
    Optional[str],
    typer.Option("--kafka-bootstrap", "--kafka", help="Kafka bootstrap servers [env SERVICETRAIL_KAFKA_BOOTSTRAP]."),
]
AsOf = Annotated[Optional[str], typer.Option("--as-of", help="Business time (ISO 8601 with offset).")]
KnownAt = Annotated[Optional[str], typer.Option("--known-at", help="Transaction time (ISO 8601).")]
Host = Annotated[Optional[str], typer.Option(help="Listen address [env SERVICETRAIL_HOST].")]
Port = Annotated[Optional[int], typer.Option(help="Listen port [env SERVICETRAIL_PORT].")]
PolicyFile = Annotated[Optional[str], typer.Option(help="Policy TOML [env SERVICETRAIL_POLICY_FILE].")]


def fail(message: str, code: int = 2) -> NoReturn:
    """Stops the command with one line on standard error: exit 2 for a bad input, 1 for a refusal."""
    typer.echo(f"servicetrail: {message}", err=True)
    raise typer.Exit(code=code)


@contextmanager
def failing_on(*errors: type[Exception], code: int = 2,
               message: Callable[[Exception], str] = str) -> Iterator[None]:
    """Turns the given errors of the block into ``fail`` (an invalid query names its option)."""
    try:
        yield
    except typer.Exit:
        raise
    except errors as bad:
        fail(message(bad), code)


def option_error(bad: Exception) -> str:
    """An ``InvalidQuery`` as the option it names: ``--as-of: …``."""
    return f"--{getattr(bad, 'field', '').replace('_', '-')}: {bad}"


def settings_or_exit(**overrides: object) -> Settings:
    try:
        settings = load_settings(**overrides)
    except SettingsError as bad:
        fail(str(bad))
    logging.basicConfig(level=settings.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    return settings


@contextmanager
def opened(settings: Settings, *, existing: bool = False) -> Iterator[Services]:
    """The wired services for one command, closed however the command ends. ``existing``: the
    command only reads or changes what a store holds, so a SQLite store that is not there is a
    mistyped path (one clear line), never a new, empty store created in its place."""
    from api.bootstrap import bootstrap

    path = settings.sqlite_path
    if existing and path is not None and not path.is_file():
        fail(f"no store at {path} (check --store-url / SERVICETRAIL_STORE_URL); this command does not create one")
    try:
        services = bootstrap(settings)
    except Exception as failure:
        fail(f"cannot open the store {settings.redacted_store_url()}: {failure}", code=1)
    try:
        yield services
    finally:
        services.close()


@contextmanager
def progress(label: str, total: int, rate: Callable[[int, float], str] | None = None, *,
             eta: bool = False, transient: bool = False) -> Iterator[Callable[[int], None]]:
    """A progress bar of ``total`` steps; yields ``update(done)``. ``rate(done, seconds)`` says how
    fast it goes (rows/s, events/s); ``eta`` adds the time left."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = [TextColumn(label), BarColumn(), MofNCompleteColumn()]
    if rate is not None:
        columns.append(TextColumn("{task.fields[rate]}"))
    if eta:
        columns.extend([TextColumn("ETA"), TimeRemainingColumn()])
    started = time.perf_counter()
    with Progress(*columns, transient=transient) as bar:
        task = bar.add_task(label, total=total, rate="")

        def update(done: int) -> None:
            shown = {} if rate is None else {"rate": rate(done, max(time.perf_counter() - started, 1e-9))}
            bar.update(task, completed=done, **shown)

        yield update


def instant(name: str, value: str | None) -> datetime | None:
    """An instant option (``--as-of``, ``--from`` …): ISO 8601 with an offset, within the supported years."""
    from datetime import datetime

    from domain.values import SUPPORTED_FROM, SUPPORTED_TO

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        fail(f"{name} must be an ISO 8601 instant with a UTC offset, e.g. 2026-03-02T09:00:00Z")
    if not SUPPORTED_FROM <= moment <= SUPPORTED_TO:  # the range every instant of the system lies in
        fail(f"{name} must lie between {SUPPORTED_FROM:%Y} and {SUPPORTED_TO:%Y}, not {value}")
    return moment


def catch_up(services: Services) -> None:
    """Brings the read models up to the log before a one-off report (the server keeps them live)."""
    if services.settings.uses_kafka_source:
        return  # the projectors of a Kafka deployment own the read models
    for handler in services.handlers():
        runtime = services.projector(handler, source="embedded")
        while runtime.run_once():
            pass


def chosen(handlers: list, names: list[str] | None) -> list:
    """The projections a command names (all when it names none)."""
    if not names:
        return handlers
    known = {handler.name: handler for handler in handlers}
    unknown = [name for name in names if name not in known]
    if unknown:
        fail(f"unknown projection(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name] for name in names]


def run_until_signalled(consumers: list) -> None:
    """Runs consumers in threads until SIGINT or SIGTERM, then stops them cleanly."""
    from api.lifecycle import BackgroundConsumers

    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    background = BackgroundConsumers(consumers)
    background.start()
    stopped.wait()
    background.stop()
