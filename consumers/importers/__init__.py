"""Importers of real service-request exports: ``servicetrail import FILE --format F``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from consumers.importers import bpi2013, helpdesk_log, nyc_council
from consumers.importers.base import SourceRow

FORMATS: dict[str, Callable[[Path], Iterator[SourceRow]]] = {
    nyc_council.FORMAT: nyc_council.read,
    bpi2013.FORMAT: bpi2013.read,
    helpdesk_log.FORMAT: helpdesk_log.read,
}
# Where each format's file lives in the shared data folder (the demo's --from-data).
SHARED_FILES = {
    nyc_council.FORMAT: "nyc_council_constituent_services/constituent_cases.csv",
    bpi2013.FORMAT: "bpi2013_volvo_it_incidents/incident_events.csv",
    helpdesk_log.FORMAT: "helpdesk_ticket_events/helpdesk_events.csv",
}
