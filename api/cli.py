"""The ``servicetrail`` command line. Each command loads settings, bootstraps, and does one job."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from api.settings import Settings, SettingsError, load_settings
from domain.access import Role

if TYPE_CHECKING:
    from pathlib import Path

    from api.bootstrap import Services
    from consumers.importers.base import ImportReport

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


@contextmanager
def _services(settings: Settings, *, existing: bool = False) -> Iterator[Services]:
    """The wired services for one command, closed however the command ends. ``existing``: the
    command only reads or changes what a store holds, so a SQLite store that is not there is a
    mistyped path (one clear line), never a new, empty store created in its place."""
    from api.bootstrap import bootstrap

    path = settings.sqlite_path
    if existing and path is not None and not path.is_file():
        typer.echo(f"servicetrail: no store at {path} (check --store-url / SERVICETRAIL_STORE_URL); "
                   "this command does not create one", err=True)
        raise typer.Exit(code=2)
    try:
        services = bootstrap(settings)
    except Exception as failure:
        typer.echo(f"servicetrail: cannot open the store {settings.redacted_store_url()}: {failure}", err=True)
        raise typer.Exit(code=1) from None
    try:
        yield services
    finally:
        services.close()


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
    policy_file: Annotated[Optional[str], typer.Option(help="Policy TOML [env SERVICETRAIL_POLICY_FILE].")] = None,
) -> None:
    """Serve the API; on the embedded default the projector runs in-process too."""
    import uvicorn

    from api.http import create_app
    from api.server import http_protocol

    settings = _settings_or_exit(host=host, port=port, store_url=store_url,
                                 kafka_bootstrap=kafka_bootstrap, consumers=consumers, policy_file=policy_file)
    with _services(settings) as services:
        typer.echo(f"servicetrail: store {settings.redacted_store_url()}")
        if settings.kafka_bootstrap:
            typer.echo(f"servicetrail: kafka {settings.kafka_bootstrap} (topic {settings.events_topic})")
        if not services.keys.any_exist():
            text, _ = services.keys.create(Role.ADMIN, "admin", label="first start", actor="servicetrail")
            typer.echo(f"servicetrail: first start: admin API key (shown once, keep it safe):\n\n    {text}\n")
        typer.echo(f"servicetrail: serving on http://{settings.host}:{settings.port}  (API docs at /docs)")
        uvicorn.run(create_app(services), host=settings.host, port=settings.port,
                    log_level=settings.log_level, access_log=False,
                    http=http_protocol(settings.header_timeout_seconds))


@cli.command()
def demo(
    tickets: Annotated[int, typer.Option(min=0, max=200_000, help="Tickets to generate in a fresh store.")] = 3000,
    seed: Annotated[int, typer.Option(help="Same seed, same month.")] = 7,
    host: Annotated[Optional[str], typer.Option(help="Listen address [env SERVICETRAIL_HOST].")] = None,
    port: Annotated[Optional[int], typer.Option(help="Listen port [env SERVICETRAIL_PORT].")] = None,
    store_url: StoreUrl = None,
    serve_after: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the dashboard afterwards.")] = True,
    from_data: Annotated[Optional[str], typer.Option(
        "--from-data", help="Replay a real data set through the importer instead: nyc-council, bpi2013 or "
                            "helpdesk-log.")] = None,
    data_dir: Annotated[Optional[str], typer.Option(
        help="Folder of the shared data sets [env SERVICETRAIL_DATA_DIR; default: shared/data beside the "
             "checkout or the current folder].")] = None,
    rows: Annotated[int, typer.Option(min=1, help="With --from-data: replay the most recent N rows.")] = 40_000,
) -> None:
    """Fill a fresh store with a realistic month of service traffic (or a real data set), then serve it."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from api.demo import generate

    settings = _settings_or_exit(store_url=store_url, host=host, port=port)
    with _services(settings) as services:
        if services.app.event_count() > 0:
            typer.echo("servicetrail: the store already holds events; serving it as it is")
        elif from_data:
            _replay_data_set(services, from_data, data_dir, rows, settings)
        else:
            started = time.perf_counter()
            with Progress(TextColumn("demo month"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}")) as bar:
                task = bar.add_task("demo", total=tickets, rate="")

                def advance(done: int) -> None:
                    rate = services.app.event_count() / max(time.perf_counter() - started, 1e-9)
                    bar.update(task, completed=done, rate=f"{rate:,.0f} events/s")

                written = generate(services.app, tickets=tickets, seed=seed, now=services.clock(), progress=advance)
            typer.echo(f"servicetrail: demo wrote {written:,} events in {time.perf_counter() - started:.1f}s")
    if serve_after:
        serve(host=host, port=port, store_url=store_url, kafka_bootstrap=None, consumers=None, policy_file=None)


def _replay_data_set(services: Services, name: str, data_dir: str | None, rows: int, settings: Settings) -> None:
    """The demo's ``--from-data``: the last ``rows`` rows of a shared data set, through the importer."""
    import json
    from pathlib import Path

    from consumers.importers import FORMATS, SHARED_FILES

    if name not in FORMATS:
        typer.echo(f"servicetrail: --from-data must be one of {', '.join(FORMATS)}, not {name!r}", err=True)
        raise typer.Exit(code=2)
    given = data_dir or settings.data_dir
    candidates = [Path(given)] if given else [Path.cwd() / "shared" / "data", Path.cwd().parent / "shared" / "data",
                                              Path(__file__).resolve().parents[2] / "shared" / "data"]
    found = next((folder / SHARED_FILES[name] for folder in candidates if (folder / SHARED_FILES[name]).is_file()),
                 None)
    if found is None:
        typer.echo(f"servicetrail: {SHARED_FILES[name]} not found under {', '.join(map(str, candidates))}; "
                   "give --data-dir", err=True)
        raise typer.Exit(code=2)
    report, seconds = _import_with_progress(services, name, found, last=rows)
    typer.echo(json.dumps({**report.as_dict(), "seconds": seconds}))
    _catch_up(services)
    with services.state.read() as tx:
        latest = tx.fetchall("SELECT max(opened_at) FROM arrivals")[0][0]
    if latest:
        typer.echo(f"servicetrail: the data end at {latest[:10]}; the dashboard as of then: "
                   f"http://{settings.host}:{settings.port}/?as_of={latest[:10]}T23:59:59Z")


def _import_with_progress(services: Services, source_format: str, path: Path, *, first: int | None = None,
                          last: int | None = None) -> tuple[ImportReport, float]:
    """Runs an importer over ``path`` (only its first or last N rows) with a progress bar: rows/s,
    events/s and the time left."""
    import itertools
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from consumers.importers import FORMATS
    from consumers.importers.base import run_import

    with path.open("rb") as handle:
        total = max(sum(1 for _ in handle) - 1, 0)
    skip = max(total - last, 0) if last else 0
    stop = min(total, first) if first else total
    started, before = time.perf_counter(), services.app.event_count()
    with Progress(TextColumn(f"import {path.name}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn()) as bar:
        task = bar.add_task("import", total=stop - skip, rate="")

        def advance(done: int) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            events = services.app.event_count() - before
            bar.update(task, completed=done, rate=f"{done / elapsed:,.0f} rows/s, {events / elapsed:,.0f} events/s")

        rows = itertools.islice(FORMATS[source_format](path), skip, stop)
        report = run_import(services.app, rows, actor=f"import:{source_format}", progress=advance)
    return report, round(time.perf_counter() - started, 1)


@cli.command("import")
def import_(
    file: Annotated[str, typer.Argument(help="The CSV export to import.")],
    source_format: Annotated[str, typer.Option("--format", help="nyc-council | bpi2013 | helpdesk-log")],
    store_url: StoreUrl = None,
    rejects: Annotated[Optional[str], typer.Option(
        help="Where rejected rows go (CSV: line, field, reason, row) [default: FILE.rejects.csv beside the input, "
             "or in the current folder when that is read-only].")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Import only the first N rows.")] = None,
) -> None:
    """Turn a real service-request export into events, through the normal command path.

    Idempotent by the source's own ids: importing the same file again adds nothing."""
    import json
    import os
    from collections import Counter
    from pathlib import Path

    from consumers.importers import FORMATS
    from consumers.importers.base import RowError, write_rejects

    if source_format not in FORMATS:
        typer.echo(f"servicetrail: --format must be one of {', '.join(FORMATS)}, not {source_format!r}", err=True)
        raise typer.Exit(code=2)
    path = Path(file)
    if not path.is_file():
        typer.echo(f"servicetrail: {file}: no such file", err=True)
        raise typer.Exit(code=2)
    rejects_path = Path(rejects) if rejects else path.with_name(path.name + ".rejects.csv")
    if not rejects and not (os.access(path.parent, os.W_OK) and path.parent.stat().st_mode & 0o200):
        rejects_path = Path.cwd() / (path.name + ".rejects.csv")
    settings = _settings_or_exit(store_url=store_url)
    with _services(settings) as services:
        try:
            report, seconds = _import_with_progress(services, source_format, path, first=limit)
        except RowError as bad:
            typer.echo(f"servicetrail: {file}: {bad}", err=True)
            raise typer.Exit(code=2) from None
        summary = {**report.as_dict(), "seconds": seconds}
        if report.rejected:
            write_rejects(rejects_path, report)
            summary["rejects_file"] = str(rejects_path)
            reasons = Counter(f"{column}: {reason}" for _, column, reason, _ in report.rejected)
            summary["top_reject_reasons"] = dict(reasons.most_common(5))
        typer.echo(json.dumps(summary, indent=2))


@cli.command()
def staffing(
    calls: Annotated[float, typer.Option("--calls", min=0, help="Contacts expected in the interval.")],
    aht: Annotated[float, typer.Option("--aht", min=1, help="Average handle time, seconds.")],
    interval: Annotated[str, typer.Option(help="Interval length: 30m, 1h, 900s.")] = "30m",
    service_level: Annotated[float, typer.Option("--service-level", min=0.01, max=0.99)] = 0.8,
    answer_seconds: Annotated[float, typer.Option("--answer-seconds", min=0)] = 20,
    patience: Annotated[Optional[float], typer.Option(
        "--patience", min=0.001, help="Mean patience of waiting callers, seconds: Erlang A instead of C.")] = None,
) -> None:
    """Agents needed for an interval by Erlang C (or Erlang A with --patience), with service level, ASA,
    occupancy and abandonment (JSON)."""
    import json
    import re

    from domain.staffing import required_agents
    from domain.values import non_finite

    given = {"--calls": calls, "--aht": aht, "--service-level": service_level, "--answer-seconds": answer_seconds,
             "--patience": patience}
    bad = next((flag for flag, value in given.items() if non_finite(value)), None)
    if bad:  # nan passes every range check (all comparisons with it are false)
        typer.echo(f"servicetrail: {bad} must be a finite number", err=True)
        raise typer.Exit(code=2)
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh]?)", interval.strip())
    if not match:
        typer.echo("servicetrail: --interval must look like 30m, 1h or 900s", err=True)
        raise typer.Exit(code=2)
    seconds = float(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]
    result = required_agents(contacts=calls, interval_seconds=seconds, aht_seconds=aht,
                             service_level=service_level, answer_seconds=answer_seconds, patience_seconds=patience)
    typer.echo(json.dumps({**result.as_dict(), "model": "erlang-a" if patience else "erlang-c"}, indent=2))


@cli.command()
def forecast(
    group_by: Annotated[str, typer.Option("--group-by", help="Dimension or pair: category, region, category,region …")
                        ] = "category",
    horizon: Annotated[int, typer.Option(min=1, help="Periods ahead.")] = 28,
    freq: Annotated[str, typer.Option(help="D (daily) or H (hourly).")] = "D",
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Forecast from the arrivals that occurred by T "
                                                                  "(default: now).")] = None,
    known_at: Annotated[Optional[str], typer.Option("--known-at", help="…and were recorded by T2.")] = None,
    measure: Annotated[str, typer.Option(help="contacts or complaints.")] = "contacts",
    top: Annotated[int, typer.Option(min=1, max=1000, help="The largest slices.")] = 20,
    only: Annotated[Optional[str], typer.Option("--slice", help="Only this slice: its values in --group-by order "
                                                                  "(billing, or billing,north).")] = None,
    output_format: Annotated[str, typer.Option("--format", help="json or table.")] = "json",
    store_url: StoreUrl = None,
) -> None:
    """Forecast arrivals per slice with 90 % intervals and each slice's backtest accuracy."""
    import json

    from projections.moment import Moment
    from projections.planning import forecast_report
    from projections.queries import InvalidQuery

    if output_format not in ("json", "table"):
        typer.echo("servicetrail: --format must be json or table", err=True)
        raise typer.Exit(code=2)
    moment, known = _instant("--as-of", as_of), _instant("--known-at", known_at)
    settings = _settings_or_exit(store_url=store_url)
    with _services(settings, existing=True) as services:
        _catch_up(services)
        try:
            with services.read() as view:
                report = forecast_report(view, services.planning, group_by=group_by, horizon=horizon, freq=freq.upper(),
                                         as_of=Moment(moment, known).instant(services.clock()), known_at=known, measure=measure, top=top,
                                         only=only)
        except InvalidQuery as bad:
            typer.echo(f"servicetrail: --{bad.field.replace('_', '-')}: {bad}", err=True)
            raise typer.Exit(code=2) from None
    if output_format == "json":
        typer.echo(json.dumps(report, indent=2))
        return
    for entry in report["slices"]:
        accuracy = entry["accuracy"] or {}
        typer.echo(f"{' / '.join(str(v) for v in entry['slice'].values())}  (relative MAE "
                   f"{accuracy.get('relative_mae')}, MASE {accuracy.get('mase')}, WAPE {accuracy.get('wape')})")
        for period in entry["periods"]:
            typer.echo(f"  {period['start']}  {period['point']:>6.0f}  [{period['lower']:.0f}, {period['upper']:.0f}]")


def _catch_up(services: Services) -> None:
    """Brings the read models up to the log before a one-off report (the server keeps them live)."""
    from api.bootstrap import projection_handlers

    if services.settings.uses_kafka_source:
        return  # the projectors of a Kafka deployment own the read models
    for handler in projection_handlers():
        runtime = services.projector(handler, source="embedded")
        while runtime.run_once():
            pass


def _kafka_process(store_url: str | None, kafka_bootstrap: str | None, name: str, build, describe) -> None:
    """Runs one Kafka-bound consumer as its own process until SIGINT/SIGTERM."""
    settings = _settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap)
    if not settings.kafka_bootstrap:
        typer.echo(f"servicetrail: {name} needs SERVICETRAIL_KAFKA_BOOTSTRAP (or --kafka)", err=True)
        raise typer.Exit(code=2)
    with _services(settings) as services:
        typer.echo(f"servicetrail: {describe(settings)}")
        _run_until_signalled([build(services)])


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

    settings = _settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap, projector_source=source)
    handlers = _chosen(projection_handlers(), names)
    with _services(settings) as services:
        typer.echo(f"servicetrail: projecting {', '.join(h.name for h in handlers)} "
                   f"from {'kafka' if settings.uses_kafka_source else 'the embedded log'}")
        _run_until_signalled([*(services.projector(handler) for handler in handlers), services.checkpointer()])


@cli.command()
def ingest(store_url: StoreUrl = None, kafka_bootstrap: Kafka = None) -> None:
    """Turn messages of the inbound topic into commands; rejects go to the DLQ topic."""
    _kafka_process(store_url, kafka_bootstrap, "ingest", lambda services: services.ingestor(),
                   lambda s: f"ingesting {s.inbound_topic} (rejects → {s.inbound_dlq_topic})")


@cli.command()
def watch(store_url: StoreUrl = None,
          policy_file: Annotated[Optional[str], typer.Option(help="Policy TOML [env SERVICETRAIL_POLICY_FILE].")] = None,
          ) -> None:
    """Watch every open deadline: warnings, breaches and escalations, on the wall clock."""
    settings = _settings_or_exit(store_url=store_url, policy_file=policy_file)
    with _services(settings) as services:
        typer.echo(f"servicetrail: watching deadlines ({settings.policy_file or 'built-in policy'})")
        _run_until_signalled([services.watcher()])


@cli.command()
def rebuild(
    names: Annotated[Optional[list[str]], typer.Argument(help="Projections to rebuild (default: all).")] = None,
    store_url: StoreUrl = None,
    kafka_bootstrap: Kafka = None,
) -> None:
    """Rebuild projections from the beginning of the log, aside, then swap them in."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from api.bootstrap import projection_handlers
    from consumers.rebuild import rebuild as rebuild_aside

    settings = _settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap)
    handlers = _chosen(projection_handlers(), names)
    with _services(settings, existing=True) as services:
        head = services.app.event_count()
        for handler in handlers:
            started = time.perf_counter()
            with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[rate]}"), TimeRemainingColumn()) as progress:
                task = progress.add_task(f"rebuild {handler.name}", total=head, rate="")

                def advance(consumed: int) -> None:
                    done = progress.tasks[task].completed + consumed
                    rate = done / max(time.perf_counter() - started, 1e-9)
                    progress.update(task, advance=consumed, rate=f"{rate:,.0f} events/s")

                total = rebuild_aside(handler, services.projector, advance)
            elapsed = time.perf_counter() - started
            typer.echo(f"servicetrail: rebuilt {handler.name} from {total} log positions in {elapsed:.1f}s "
                       f"({total / max(elapsed, 1e-9):,.0f} events/s); swapped in")


@cli.command()
def replay(
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Business time (ISO 8601 with offset).")] = None,
    known_at: Annotated[Optional[str], typer.Option("--known-at", help="Transaction time (ISO 8601).")] = None,
    ticket: Annotated[Optional[str], typer.Option(help="One ticket's state.")] = None,
    projection: Annotated[
        Optional[str], typer.Option(help="ticket_state (every row) or kpis (the whole KPI set).")
    ] = None,
    kpi_from: Annotated[Optional[str], typer.Option("--from", help="KPI range start (default: 30 days before).")] = None,
    store_url: StoreUrl = None,
) -> None:
    """Print (JSON) the state as it stood at --as-of (business time), as known at --known-at."""
    import json
    from uuid import UUID

    from domain.errors import DomainError
    from projections import queries
    from projections.moment import window
    from projections.ticket_state.facts import SlaFacts
    from projections.time_travel import ticket_at

    settings = _settings_or_exit(store_url=store_url)
    moments = {name: _instant(name, value) for name, value in (("--as-of", as_of), ("--known-at", known_at))}
    as_of_at, known_at_at = moments["--as-of"], moments["--known-at"]
    with _services(settings, existing=True) as services:
        if ticket:
            try:
                ticket_id = UUID(ticket)
                row = ticket_at(services.app.ticket_events(ticket_id), as_of_at, known_at_at,
                                SlaFacts(services.policy_book()))
            except (ValueError, DomainError) as missing:  # a malformed id, or no such ticket
                typer.echo(f"servicetrail: no ticket {ticket}: {missing}", err=True)
                raise typer.Exit(code=1) from None
            if row is None:
                typer.echo(f"servicetrail: ticket {ticket} did not exist at that moment", err=True)
                raise typer.Exit(code=1)
            document = row.as_dict()
        else:
            with services.read(as_of_at, known_at_at) as view:
                if projection in (None, "kpis"):
                    start, end = window(_instant("--from", kpi_from), None, view.moment, services.clock())
                    document = queries.kpi_report(view, start, end, None, services.clock())
                elif projection == "ticket_state":
                    document = {row.ticket_id: row.as_dict() for row in view.rows()}
                else:
                    typer.echo("servicetrail: --projection must be ticket_state or kpis", err=True)
                    raise typer.Exit(code=2)
        typer.echo(json.dumps(document, indent=2, sort_keys=True, default=str))


@cli.command()
def report(
    period: Annotated[str, typer.Option(help="The month, YYYY-MM, in the organisation's time zone.")],
    output: Annotated[str, typer.Option("--output", "-o", help="The file to write.")],
    report_format: Annotated[str, typer.Option("--format", help="html (one self-contained file), xlsx, pdf or json (the figures).")
                             ] = "html",
    lang: Annotated[str, typer.Option(help="zh-CN or en.")] = "zh-CN",
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Business time (ISO 8601 with offset).")] = None,
    known_at: Annotated[Optional[str], typer.Option("--known-at", help="Transaction time (ISO 8601).")] = None,
    store_url: StoreUrl = None,
) -> None:
    """Write the monthly service report (key indicators, trends, SLA, escalations, complaints, agent
    evaluation, hotspots, forecast, findings) for a period, as it stood at --as-of / --known-at."""
    from pathlib import Path

    from api.reports.i18n import LANGUAGES
    from api.reports.monthly import FORMATS, compute, render
    from projections.queries import InvalidQuery

    if report_format not in FORMATS:
        typer.echo(f"servicetrail: --format must be one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(code=2)
    if lang not in LANGUAGES:
        typer.echo(f"servicetrail: --lang must be one of {', '.join(LANGUAGES)}", err=True)
        raise typer.Exit(code=2)
    settings = _settings_or_exit(store_url=store_url)
    moments = {name: _instant(name, value) for name, value in (("--as-of", as_of), ("--known-at", known_at))}
    with _services(settings, existing=True) as services:
        try:
            figures = compute(services, period, moments["--as-of"], moments["--known-at"])
        except InvalidQuery as bad:
            typer.echo(f"servicetrail: --{bad.field}: {bad}", err=True)
            raise typer.Exit(code=2) from None
        Path(output).write_bytes(render(figures, lang, report_format))
    verification = figures["verification"]
    typer.echo(f"wrote {output} ({report_format}, {lang}): {period} at log position {verification['log_position']}; "
               f"recompute with: {verification['recompute']}")


def _instant(name: str, value: str | None):
    from datetime import datetime

    from domain.values import SUPPORTED_FROM, SUPPORTED_TO

    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        typer.echo(f"servicetrail: {name} must be an ISO 8601 instant with a UTC offset, e.g. 2026-03-02T09:00:00Z",
                   err=True)
        raise typer.Exit(code=2)
    if not SUPPORTED_FROM <= moment <= SUPPORTED_TO:  # the range every instant of the system lies in
        typer.echo(f"servicetrail: {name} must lie between {SUPPORTED_FROM:%Y} and {SUPPORTED_TO:%Y}, not {value}",
                   err=True)
        raise typer.Exit(code=2)
    return moment


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
    with _services(_settings_or_exit(store_url=store_url)) as services:
        text, key = services.keys.create(role, principal, label=label, actor="cli")
        typer.echo(f"key {key.key_id} ({role}:{principal}):\n{text}")


@keys_cli.command("list")
def keys_list(store_url: StoreUrl = None) -> None:
    """Every key with its role, principal, creation and revocation (never the secret)."""
    import json

    with _services(_settings_or_exit(store_url=store_url), existing=True) as services:
        for key in services.keys.all():
            typer.echo(json.dumps(key.describe()))


@keys_cli.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (the part after st_).")],
                reason: Annotated[Optional[str], typer.Option()] = None, store_url: StoreUrl = None) -> None:
    """Revoke a key: it stops working within seconds in every process."""
    with _services(_settings_or_exit(store_url=store_url), existing=True) as services:
        try:
            services.keys.revoke(key_id, actor="cli", reason=reason)
            typer.echo(f"servicetrail: revoked key {key_id}")
        except KeyError:
            typer.echo(f"servicetrail: no key {key_id}", err=True)
            raise typer.Exit(code=1) from None
        except Exception as refused:
            typer.echo(f"servicetrail: {refused}", err=True)
            raise typer.Exit(code=1) from None


audit_cli = typer.Typer(help="Tamper evidence: verify the log, export events with hashes.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")


@audit_cli.command("verify")
def audit_verify(
    from_kafka: Annotated[bool, typer.Option("--from-kafka", help="Verify the events topic instead of the store.")] = False,
    store_url: StoreUrl = None, kafka_bootstrap: Kafka = None,
) -> None:
    """Re-check every hash chain and checkpoint; exit 0 only when intact, else print the first broken event."""
    import json

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    settings = _settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap)
    with _services(settings, existing=not from_kafka) as services:
        if from_kafka:
            from api.kafka_audit import verify_topic

            report = verify_topic(services)
        else:
            head = services.app.event_count()
            with Progress(TextColumn("verify"), BarColumn(), MofNCompleteColumn(), transient=True) as progress:
                task = progress.add_task("verify", total=head)

                def tracked():
                    for entry in services.stored_entries():
                        progress.update(task, completed=entry.position)
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
        typer.echo("servicetrail: --format must be jsonl or csv", err=True)
        raise typer.Exit(code=2)
    if ticket is None and start is None and end is None:
        typer.echo("servicetrail: give --ticket ID or a period (--from/--to)", err=True)
        raise typer.Exit(code=2)
    try:
        ticket_id = UUID(ticket) if ticket else None
    except ValueError:
        typer.echo(f"servicetrail: --ticket {ticket} is not a ticket id", err=True)
        raise typer.Exit(code=2) from None
    with _services(_settings_or_exit(store_url=store_url), existing=True) as services:
        try:
            target = open(output, "w", encoding="utf-8", newline="") if output else sys.stdout
            try:
                for line in export_lines(services, ticket_id, _instant("--from", start), _instant("--to", end), fmt):
                    target.write(line)
            finally:
                if output:
                    target.close()
        except LookupError as missing:
            typer.echo(f"servicetrail: {missing}", err=True)
            raise typer.Exit(code=1) from None


customers_cli = typer.Typer(help="Customers' personal data.", no_args_is_help=True)
cli.add_typer(customers_cli, name="customers")


@customers_cli.command("erase")
def customers_erase(customer_id: Annotated[str, typer.Argument(help="The customer whose personal data goes.")],
                    store_url: StoreUrl = None) -> None:
    """Erase a customer's personal data everywhere (deletes their key); events and hashes stay, and
    the erasure is recorded in the log."""
    from domain.commands import CommandContext, ErasePersonalData

    with _services(_settings_or_exit(store_url=store_url)) as services:
        erasure = services.app.erase_personal_data(ErasePersonalData(customer_id=customer_id),
                                                   CommandContext(actor="cli"))
        typer.echo(f"servicetrail: erased the personal data of {customer_id}"
                   + ("" if erasure.had_personal_data else " (none was stored)"))


sla_cli = typer.Typer(help="Service levels: policy versions, and what a proposed policy would have given.",
                     no_args_is_help=True)
cli.add_typer(sla_cli, name="sla")
from api.policy_cli import policy_cli  # noqa: E402 - its commands import this module's helpers lazily

sla_cli.add_typer(policy_cli, name="policy")


@sla_cli.command("what-if")
def sla_what_if(
    policy: Annotated[str, typer.Option(help="The proposed policy (TOML, the format of SERVICETRAIL_POLICY_FILE).")],
    since: Annotated[str, typer.Option("--from", help="Window start: an instant with offset, or a date "
                                                      "(local midnight, SERVICETRAIL_TIMEZONE).")],
    until: Annotated[str, typer.Option("--to", help="Window end (exclusive), as --from.")],
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="Business time (ISO 8601 with offset).")] = None,
    known_at: Annotated[Optional[str], typer.Option("--known-at", help="Transaction time (ISO 8601).")] = None,
    store_url: StoreUrl = None,
) -> None:
    """Print (JSON) the SLA compliance the proposed policy would have given to the tickets resolved
    in the window, beside the policy in force. Nothing is written."""
    import json
    from pathlib import Path

    from api.settings import parse_policy
    from domain.service_levels import PolicyError
    from projections.moment import InvalidQuery, required_bound
    from projections.what_if import what_if

    settings = _settings_or_exit(store_url=store_url)
    try:
        proposed = parse_policy(Path(policy).read_text())
    except OSError as unreadable:
        typer.echo(f"servicetrail: --policy: cannot read {policy}: {unreadable.strerror}", err=True)
        raise typer.Exit(code=2) from None
    except PolicyError as bad:
        typer.echo(f"servicetrail: --policy: {bad}", err=True)
        raise typer.Exit(code=2) from None
    moments = {name: _instant(name, value) for name, value in (("--as-of", as_of), ("--known-at", known_at))}
    with _services(settings, existing=True) as services:
        try:
            start, end = required_bound("from", since, services.zone), required_bound("to", until, services.zone)
            with services.read(moments["--as-of"], moments["--known-at"]) as view:
                report = what_if(view, start, end, proposed)
        except InvalidQuery as bad:
            typer.echo(f"servicetrail: --{bad.field}: {bad}", err=True)
            raise typer.Exit(code=2) from None
    typer.echo(json.dumps(report, indent=2))


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
