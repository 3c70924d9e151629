"""The batched import (issue 16: bulk reads, rows checked in memory, one save per batch) appends
exactly what the row-by-row path appends, row for row; a refused row leaves its batch to land; a
second import writes nothing. The oracle is the path imports took before: every row its own unit of
work, every ticket and idempotency record read from the store with ``repository.get``."""

from __future__ import annotations

import csv
import itertools
from datetime import datetime, timezone
from pathlib import Path

import pytest

from api.bootstrap import bootstrap
from api.settings import Settings
from consumers.importers import FORMATS
from consumers.importers.base import ImportReport, RowError, run_import, step_error
from domain import commands as c
from domain.application import ServiceTrail, ticket_id_for_key
from domain.errors import DomainError, TicketNotFoundError
from domain.values import Status
from pydantic import ValidationError
from tests.fakes import FakeClock
from tests.support.data import data_file

ROWS = 300


def import_row_by_row(app: ServiceTrail, rows, *, actor: str) -> ImportReport:
    """The oracle: one row at a time, nothing read in bulk, nothing planned ahead."""
    report = ImportReport()
    for row in rows:
        report.rows += 1
        if row.error is not None:
            report.rejected.append((row.line, row.error.column, row.error.reason, row.raw))
            continue
        try:
            ticket = app.get_ticket(row.ticket_id)
        except TicketNotFoundError:
            ticket = None
        if ticket is not None and not row.stateless and row.occurred_at < ticket.last_occurred_at:
            report.already_imported += 1
            continue
        new_events = False
        try:
            steps = row.plan(ticket)
            if not steps:
                report.unchanged += 1
                continue
            with app.batch(), app.savepoint(row.ticket_id):
                for step in steps:
                    outcome = app.handle(step.command, c.CommandContext(actor=actor, idempotency_key=step.key))
                    new_events = new_events or not outcome.replayed
        except RowError as error:
            report.rejected.append((row.line, error.column, error.reason, row.raw))
            continue
        except (DomainError, ValidationError) as refused:
            report.rejected.append((row.line, *step_error(refused), row.raw))
            continue
        if new_events:
            report.imported += 1
        else:
            report.already_imported += 1
    report.events = app.event_count()
    return report


def streams(app: ServiceTrail) -> dict:
    """Every aggregate's stored events (id, version, topic, state bytes), by aggregate."""
    found: dict = {}
    position = 0
    while page := app.recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False):
        for n in page:
            found.setdefault(n.originator_id, []).append((n.originator_version, n.topic, bytes(n.state)))
        position = page[-1].id
    return found


def fresh(url: str) -> ServiceTrail:
    return bootstrap(Settings(store_url=url, secret_key="test-server-secret"), clock=FakeClock())


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


NYC_HEADER = ["unique_key", "account", "opendate", "closedate", "complaint_type", "descriptor", "zip", "borough",
              "city", "council_dist", "community_board"]
BAD_NYC = [
    ["K1", "NYCC01", "2020-01-02", "2020-01-05", "Housing", "Heat", "10001", "Manhattan", "", "NYCC03", ""],
    ["K2", "NYCC01", "2020-13-40", "", "Housing", "", "", "", "", "", ""],
    ["K3", "NYCC01", "2020-01-02", "2019-12-01", "Housing", "", "", "", "", "", ""],  # closed before opened
    ["K4", "NYCC01", "2020-01-02", "", "", "", "", "", "", "", ""],
    ["K1", "NYCC01", "2020-01-02", "2020-01-05", "Housing", "Heat", "", "", "", "", ""],  # same id, other data
    ["K5", "NYCC01", "2020-01-03", "", "x" * 300, "", "", "", "", "", ""],
    ["K6", "NYCC02", "2020-01-04", "", "Parks", "Trees", "", "Queens", "", "", ""],
]


def sources(tmp_path: Path) -> list[tuple[str, Path, int | None]]:
    found = [(fmt, path, ROWS) for fmt in FORMATS if (path := data_file(fmt)) is not None]
    return [*found, ("nyc-council", _write(tmp_path / "bad.csv", NYC_HEADER, BAD_NYC), None)]


@pytest.mark.parametrize("batch_rows", [7, 2000])
def test_the_batched_import_appends_what_the_row_by_row_path_appends(store_url, tmp_path, batch_rows):
    """Same events (to the byte, hashes and timestamps included: the clocks read alike), same report,
    and importing again writes nothing on either path."""
    other_url = f"sqlite:///{tmp_path / 'oracle.db'}"
    for fmt, path, rows in sources(tmp_path):
        batched, oracle = fresh(store_url), fresh(other_url)
        try:
            def read():
                source = FORMATS[fmt](path)
                return itertools.islice(source, rows) if rows else source

            ours = run_import(batched.app, read(), actor=f"import:{fmt}", batch_rows=batch_rows)
            theirs = import_row_by_row(oracle.app, read(), actor=f"import:{fmt}")
            assert streams(batched.app) == streams(oracle.app), fmt
            assert (ours.imported, ours.unchanged, ours.already_imported) == (
                theirs.imported, theirs.unchanged, theirs.already_imported), fmt
            assert sorted(ours.rejected, key=lambda r: r[0]) == sorted(theirs.rejected, key=lambda r: r[0]), fmt
            assert ours.events == theirs.events == batched.app.event_count()
            again = run_import(batched.app, read(), actor=f"import:{fmt}", batch_rows=batch_rows)
            assert again.events == 0 and again.imported == 0 and batched.app.event_count() == ours.events
            assert batched.verify_log()["intact"]
        finally:
            batched.close()
            oracle.close()
            for store in (batched, oracle):  # each source its own stores
                if store.settings.sqlite_path is not None:
                    for suffix in ("", "-wal", "-shm"):
                        Path(f"{store.settings.sqlite_path}{suffix}").unlink(missing_ok=True)
        if not store_url.startswith("sqlite"):
            break  # one PostgreSQL schema per test: the real exports were compared on SQLite


def test_a_refused_row_is_rejected_whole_and_the_rest_of_its_batch_lands(services, tmp_path):
    path = _write(tmp_path / "cases.csv", NYC_HEADER, BAD_NYC)
    report = run_import(services.app, FORMATS["nyc-council"](path), actor="import:nyc-council", batch_rows=100)
    reasons = {line: (field, reason) for line, field, reason, _ in report.rejected}
    assert reasons[4] == ("occurred_at", "an event cannot have occurred before the ticket was opened")
    with pytest.raises(TicketNotFoundError):  # K3's opening went with its refused closure
        services.app.get_ticket(ticket_id_for_key("import:nyc-council:K3:open"))
    assert services.app.get_ticket(ticket_id_for_key("import:nyc-council:K1:open")).status == Status.CLOSED
    assert services.app.get_ticket(ticket_id_for_key("import:nyc-council:K6:open")).status == Status.OPENED
    assert report.imported == 2 and report.events == services.app.event_count() == 3 * 2 + 1 * 2


def test_a_refused_row_leaves_a_ticket_read_in_bulk_as_it_was(services):
    """A stored ticket the batch read in bulk: a row that changes it and is then refused leaves it
    unchanged for the next rows of the batch, and nothing of the row is saved."""
    app = services.app
    opened = app.handle(c.OpenTicket(customer_id="c1", channel="web", category="billing", subject="s"))
    before = app.event_count()
    with app.batch():
        app.prefetch([opened.ticket_id])
        with pytest.raises(DomainError), app.savepoint(opened.ticket_id):
            app.handle(c.ResolveTicket(ticket_id=opened.ticket_id, code="ok", summary="done"),
                       c.CommandContext(idempotency_key="row-1:resolve"))
            app.handle(c.AssignTicket(ticket_id=opened.ticket_id, agent_id="ana",  # refused: before opening
                                      occurred_at=datetime(2001, 1, 1, tzinfo=timezone.utc)))
        assert app.get_ticket(opened.ticket_id).status == Status.OPENED
        app.handle(c.AssignTicket(ticket_id=opened.ticket_id, agent_id="ana"),
                   c.CommandContext(idempotency_key="row-2:assign"))
    events = app.ticket_events(opened.ticket_id)
    assert [e.TYPE for e in events] == ["ticket.opened", "ticket.assigned"]
    assert app.event_count() == before + 2  # the assignment and its idempotency record; nothing of row 1
