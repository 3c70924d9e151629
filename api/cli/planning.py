"""Planning: forecasts, staffing, and what a proposed service-level policy would have given."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from api.cli.app import cli
from api.cli.policies import policy_cli
from api.cli.common import (
    AsOf, KnownAt, StoreUrl, catch_up, fail, failing_on, instant, opened, option_error, settings_or_exit,
)


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
    import re

    from domain.staffing import required_agents
    from domain.values import non_finite

    given = {"--calls": calls, "--aht": aht, "--service-level": service_level, "--answer-seconds": answer_seconds,
             "--patience": patience}
    bad = next((flag for flag, value in given.items() if non_finite(value)), None)
    if bad:  # nan passes every range check (all comparisons with it are false)
        fail(f"{bad} must be a finite number")
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smh]?)", interval.strip())
    if not match:
        fail("--interval must look like 30m, 1h or 900s")
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
    from projections.moment import InvalidQuery
    from projections.planning import forecast_report

    if output_format not in ("json", "table"):
        fail("--format must be json or table")
    moment, known = instant("--as-of", as_of), instant("--known-at", known_at)
    settings = settings_or_exit(store_url=store_url)
    with opened(settings, existing=True) as services:
        catch_up(services)
        with failing_on(InvalidQuery, message=option_error), services.read() as view:
            report = forecast_report(view, services.planning, group_by=group_by, horizon=horizon, freq=freq.upper(),
                                     as_of=services.instant(moment, known), known_at=known, measure=measure,
                                     top=top, only=only)
    if output_format == "json":
        typer.echo(json.dumps(report, indent=2))
        return
    for entry in report["slices"]:
        accuracy = entry["accuracy"] or {}
        typer.echo(f"{' / '.join(str(v) for v in entry['slice'].values())}  (relative MAE "
                   f"{accuracy.get('relative_mae')}, MASE {accuracy.get('mase')}, WAPE {accuracy.get('wape')})")
        for period in entry["periods"]:
            typer.echo(f"  {period['start']}  {period['point']:>6.0f}  [{period['lower']:.0f}, {period['upper']:.0f}]")


sla_cli = typer.Typer(help="Service levels: policy versions, and what a proposed policy would have given.",
                     no_args_is_help=True)
cli.add_typer(sla_cli, name="sla")
sla_cli.add_typer(policy_cli, name="policy")


@sla_cli.command("what-if")
def sla_what_if(
    policy: Annotated[str, typer.Option(help="The proposed policy (TOML, the format of SERVICETRAIL_POLICY_FILE).")],
    since: Annotated[str, typer.Option("--from", help="Window start: an instant with offset, or a date "
                                                      "(local midnight, SERVICETRAIL_TIMEZONE).")],
    until: Annotated[str, typer.Option("--to", help="Window end (exclusive), as --from.")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
    store_url: StoreUrl = None,
) -> None:
    """Print (JSON) the SLA compliance the proposed policy would have given to the tickets resolved
    in the window, beside the policy in force. Nothing is written."""
    from pathlib import Path

    from api.policy_files import parse_policy
    from domain.service_levels import PolicyError
    from projections.moment import InvalidQuery, required_bound
    from projections.what_if import what_if

    settings = settings_or_exit(store_url=store_url)
    try:
        proposed = parse_policy(Path(policy).read_text())
    except OSError as unreadable:
        fail(f"--policy: cannot read {policy}: {unreadable.strerror}")
    except PolicyError as bad:
        fail(f"--policy: {bad}")
    as_of_at, known_at_at = instant("--as-of", as_of), instant("--known-at", known_at)
    with opened(settings, existing=True) as services, failing_on(InvalidQuery, message=option_error):
        start, end = required_bound("from", since, services.zone), required_bound("to", until, services.zone)
        with services.read(as_of_at, known_at_at) as view:
            report = what_if(view, start, end, proposed)
    typer.echo(json.dumps(report, indent=2))
