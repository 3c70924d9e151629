"""The ``servicetrail`` command line. Each command loads settings, bootstraps, and does one job.

By job: ``serving`` (serve), ``data`` (import, demo, replay, rebuild, report), ``planning``
(forecast, staffing, sla what-if), ``consumers`` (relay, project, ingest, watch) and ``admin``
(keys, customers, audit, schema); ``common`` holds what they share."""

from __future__ import annotations

import sys

# Each module registers its commands; this order is their order in --help.
from api.cli import serving, data, planning, consumers, admin  # noqa: F401,I001
from api.cli.app import cli

__all__ = ["cli", "main"]


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
