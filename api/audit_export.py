"""The auditor's export: events (public form, with position and hashes) as JSON lines or CSV.

Offline verification needs nothing but the export: ``tools/verify_export.py`` (standard library
only) recomputes every hash and link; the README gives the procedure.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from uuid import UUID

CSV_COLUMNS = ["position", "ticket_id", "version", "type", "schema_version", "occurred_at", "recorded_at",
               "actor", "prev_hash", "hash", "event_json"]


def selected(services, ticket: UUID | None, start: datetime | None, end: datetime | None) -> Iterator[dict]:
    from projections.ticket_state.fold import instant, iso

    lo, hi = (iso(start) if start else None), (iso(end) if end else None)
    if ticket is not None:
        for event in services.app.ticket_events(ticket):
            yield event.public_dict()
        return
    for event in services.log_events():
        occurred = instant(event["occurred_at"])
        if (lo is None or occurred >= lo) and (hi is None or occurred < hi):
            yield event


def export_lines(services, ticket: UUID | None, start: datetime | None, end: datetime | None,
                 fmt: str) -> Iterator[str]:
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield buffer.getvalue()
    for event in selected(services, ticket, start, end):
        public = {k: v for k, v in event.items() if not k.startswith("_")}
        if fmt == "jsonl":
            yield json.dumps(public, sort_keys=True, ensure_ascii=False) + "\n"
        else:
            buffer = io.StringIO()
            csv.writer(buffer).writerow([event.get("_position", ""), *(public[c] for c in CSV_COLUMNS[1:-1]),
                                         json.dumps(public, sort_keys=True, ensure_ascii=False)])
            yield buffer.getvalue()
