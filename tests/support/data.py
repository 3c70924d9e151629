"""Where the tests find the real data sets: ``SERVICETRAIL_DATA_DIR``, the shared folder beside the
checkout, or the excerpt in ``tests/data`` (NYC council cases only)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXCERPT = ROOT / "tests" / "data"
FILES = {
    "nyc-council": "nyc_council_constituent_services/constituent_cases.csv",
    "bpi2013": "bpi2013_volvo_it_incidents/incident_events.csv",
    "helpdesk-log": "helpdesk_ticket_events/helpdesk_events.csv",
}


def data_file(fmt: str) -> Path | None:
    """The fullest copy of a format's file that is here, or None."""
    folders = [Path(os.environ["SERVICETRAIL_DATA_DIR"])] if os.environ.get("SERVICETRAIL_DATA_DIR") else []
    folders += [ROOT.parent / "shared" / "data", EXCERPT]
    return next((folder / FILES[fmt] for folder in folders if (folder / FILES[fmt]).is_file()), None)
