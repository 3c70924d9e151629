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
