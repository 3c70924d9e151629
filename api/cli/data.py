"""The data in the store: fill it (import, demo), rebuild its read models, read it back at a
moment (replay) and report on it (the monthly report)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from api.cli.app import cli
from api.cli.common import (
    AsOf, Host, Kafka, KnownAt, Port, StoreUrl, catch_up, chosen, fail, failing_on, instant, opened, option_error,
    progress, settings_or_exit,
)
from api.cli.serving import serve

if TYPE_CHECKING:
    from api.bootstrap import Services
    from api.settings import Settings
    from consumers.importers.base import ImportReport


@cli.command()
def demo(
    tickets: Annotated[int, typer.Option(min=0, max=200_000, help="Tickets to generate in a fresh store.")] = 3000,
    seed: Annotated[int, typer.Option(help="Same seed, same month.")] = 7,
    host: Host = None,
    port: Port = None,
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

    from api.demo import generate

    settings = settings_or_exit(store_url=store_url, host=host, port=port)
    with opened(settings) as services:
        if services.app.event_count() > 0:
            typer.echo("servicetrail: the store already holds events; serving it as it is")
        elif from_data:
            _replay_data_set(services, from_data, data_dir, rows, settings)
        else:
            started = time.perf_counter()
            with progress("demo month", tickets,
                          lambda _, seconds: f"{services.app.event_count() / seconds:,.0f} events/s") as update:
                written = generate(services.app, tickets=tickets, seed=seed, now=services.clock(), progress=update)
            typer.echo(f"servicetrail: demo wrote {written:,} events in {time.perf_counter() - started:.1f}s")
    if serve_after:
        serve(host=host, port=port, store_url=store_url, kafka_bootstrap=None, consumers=None, policy_file=None)


def _replay_data_set(services: Services, name: str, data_dir: str | None, rows: int, settings: Settings) -> None:
    """The demo's ``--from-data``: the last ``rows`` rows of a shared data set, through the importer."""
    from consumers.importers import FORMATS, SHARED_FILES

    if name not in FORMATS:
        fail(f"--from-data must be one of {', '.join(FORMATS)}, not {name!r}")
    given = data_dir or settings.data_dir
    candidates = [Path(given)] if given else [Path.cwd() / "shared" / "data", Path.cwd().parent / "shared" / "data",
                                              Path(__file__).resolve().parents[3] / "shared" / "data"]
    found = next((folder / SHARED_FILES[name] for folder in candidates if (folder / SHARED_FILES[name]).is_file()),
                 None)
    if found is None:
        fail(f"{SHARED_FILES[name]} not found under {', '.join(map(str, candidates))}; give --data-dir")
    report, seconds = _import_with_progress(services, name, found, last=rows)
    typer.echo(json.dumps({**report.as_dict(), "seconds": seconds}))
    catch_up(services)
    latest = services.latest_arrival()
    if latest:
        typer.echo(f"servicetrail: the data end at {latest[:10]}; the dashboard as of then: "
                   f"http://{settings.host}:{settings.port}/?as_of={latest[:10]}T23:59:59Z")


def _import_with_progress(services: Services, source_format: str, path: Path, *, first: int | None = None,
                          last: int | None = None, workers: int | None = None) -> tuple[ImportReport, float]:
    """Runs an importer over ``path`` (only its first or last N rows) with a progress bar: rows/s,
    events/s and the time left. ``workers``: processes deciding the rows (default: one per core;
    0: all in this process)."""
    import itertools
    import time

    from consumers.importers import FORMATS
    from consumers.importers.parallel import default_workers, import_source

    with path.open("rb") as handle:
        total = max(sum(1 for _ in handle) - 1, 0)
    skip = max(total - last, 0) if last else 0
    stop = min(total, first) if first else total
    started, before = time.perf_counter(), services.app.event_count()

    def rate(done: int, seconds: float) -> str:
        return f"{done / seconds:,.0f} rows/s, {(services.app.event_count() - before) / seconds:,.0f} events/s"

    with progress(f"import {path.name}", stop - skip, rate, eta=True) as update:
        report = import_source(services.app, lambda: itertools.islice(FORMATS[source_format](path), skip, stop),
                               actor=f"import:{source_format}", progress=update,
                               workers=default_workers() if workers is None else workers)
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
    workers: Annotated[Optional[int], typer.Option(
        min=0, help="Processes deciding the rows, sharded by ticket, beside this one writing them [default: one "
                    "per core; 0: everything in this process]. In-memory stores always import in this process.")
    ] = None,
) -> None:
    """Turn a real service-request export into events, through the normal command path.

    Idempotent by the source's own ids: importing the same file again adds nothing."""
    import os
    from collections import Counter

    from consumers.importers import FORMATS
    from consumers.importers.base import RowError, write_rejects

    if source_format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}, not {source_format!r}")
    path = Path(file)
    if not path.is_file():
        fail(f"{file}: no such file")
    rejects_path = Path(rejects) if rejects else path.with_name(path.name + ".rejects.csv")
    if not rejects and not (os.access(path.parent, os.W_OK) and path.parent.stat().st_mode & 0o200):
        rejects_path = Path.cwd() / (path.name + ".rejects.csv")
    settings = settings_or_exit(store_url=store_url)
    with opened(settings) as services:
        with failing_on(RowError, message=lambda bad: f"{file}: {bad}"):
            report, seconds = _import_with_progress(services, source_format, path, first=limit, workers=workers)
        summary = {**report.as_dict(), "seconds": seconds}
        if report.rejected:
            write_rejects(rejects_path, report)
            summary["rejects_file"] = str(rejects_path)
            reasons = Counter(f"{column}: {reason}" for _, column, reason, _ in report.rejected)
            summary["top_reject_reasons"] = dict(reasons.most_common(5))
        typer.echo(json.dumps(summary, indent=2))


@cli.command()
def rebuild(
    names: Annotated[Optional[list[str]], typer.Argument(help="Projections to rebuild (default: all).")] = None,
    store_url: StoreUrl = None,
    kafka_bootstrap: Kafka = None,
) -> None:
    """Rebuild projections from the beginning of the log, aside, then swap them in."""
    import time

    from api.bootstrap import projection_handlers
    from consumers.rebuild import rebuild_all

    settings = settings_or_exit(store_url=store_url, kafka_bootstrap=kafka_bootstrap)
    chosen(projection_handlers(), names)  # an unknown name fails before anything opens
    with opened(settings, existing=True) as services:
        handlers = chosen(services.handlers(), names)  # with the settings' policy and time zone
        head = services.app.event_count()
        named = ", ".join(handler.name for handler in handlers)
        started, done = time.perf_counter(), 0
        # one pass over the log for all of them (``consumers.rebuild.rebuild_all``)
        with progress(f"rebuild {named}", head, lambda done, seconds: f"{done / seconds:,.0f} events/s",
                      eta=True) as update:

            def advance(consumed: int) -> None:
                nonlocal done
                done += consumed
                update(done)

            total = rebuild_all(handlers, services.projector, advance)
        elapsed = time.perf_counter() - started
        typer.echo(f"servicetrail: rebuilt {named} from {total} log positions in {elapsed:.1f}s "
                   f"({total / max(elapsed, 1e-9):,.0f} events/s); swapped in")


@cli.command()
def replay(
    as_of: AsOf = None,
    known_at: KnownAt = None,
    ticket: Annotated[Optional[str], typer.Option(help="One ticket's state.")] = None,
    projection: Annotated[
        Optional[str], typer.Option(help="ticket_state (every row) or kpis (the whole KPI set).")
    ] = None,
    kpi_from: Annotated[Optional[str], typer.Option("--from", help="KPI range start (default: 30 days before).")] = None,
    store_url: StoreUrl = None,
) -> None:
    """Print (JSON) the state as it stood at --as-of (business time), as known at --known-at."""
    from uuid import UUID

    from domain.errors import DomainError

    settings = settings_or_exit(store_url=store_url)
    as_of_at, known_at_at = instant("--as-of", as_of), instant("--known-at", known_at)
    with opened(settings, existing=True) as services:
        if ticket:
            with failing_on(ValueError, DomainError, code=1,  # a malformed id, or no such ticket
                            message=lambda missing: f"no ticket {ticket}: {missing}"):
                row = services.ticket_at(UUID(ticket), as_of_at, known_at_at)
            if row is None:
                fail(f"ticket {ticket} did not exist at that moment", code=1)
            document = row.as_dict()
        elif projection in (None, "kpis"):
            document = services.kpis(as_of_at, known_at_at, start=instant("--from", kpi_from))
        elif projection == "ticket_state":
            with services.read(as_of_at, known_at_at) as view:
                document = {row.ticket_id: row.as_dict() for row in view.rows()}
        else:
            fail("--projection must be ticket_state or kpis")
        typer.echo(json.dumps(document, indent=2, sort_keys=True, default=str))


@cli.command()
def report(
    period: Annotated[str, typer.Option(help="The month, YYYY-MM, in the organisation's time zone.")],
    output: Annotated[str, typer.Option("--output", "-o", help="The file to write.")],
    report_format: Annotated[str, typer.Option("--format", help="html (one self-contained file), xlsx, pdf or json (the figures).")
                             ] = "html",
    lang: Annotated[str, typer.Option(help="zh-CN or en.")] = "zh-CN",
    as_of: AsOf = None,
    known_at: KnownAt = None,
    store_url: StoreUrl = None,
) -> None:
    """Write the monthly service report (key indicators, trends, SLA, escalations, complaints, agent
    evaluation, hotspots, forecast, findings) for a period, as it stood at --as-of / --known-at."""
    from api.reports.i18n import LANGUAGES
    from api.reports.monthly import FORMATS, compute, render
    from projections.moment import InvalidQuery

    if report_format not in FORMATS:
        fail(f"--format must be one of {', '.join(FORMATS)}")
    if lang not in LANGUAGES:
        fail(f"--lang must be one of {', '.join(LANGUAGES)}")
    settings = settings_or_exit(store_url=store_url)
    as_of_at, known_at_at = instant("--as-of", as_of), instant("--known-at", known_at)
    with opened(settings, existing=True) as services:
        with failing_on(InvalidQuery, message=option_error):
            figures = compute(services, period, as_of_at, known_at_at)
        Path(output).write_bytes(render(figures, lang, report_format))
    verification = figures["verification"]
    typer.echo(f"wrote {output} ({report_format}, {lang}): {period} at log position {verification['log_position']}; "
               f"recompute with: {verification['recompute']}")
