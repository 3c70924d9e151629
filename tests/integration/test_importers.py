"""The importers on the real shared data sets (a prefix of each file) and on deliberately bad rows:
every row is imported, rejected with its field and reason, or counted as changing nothing; a
second import writes nothing; a refused row leaves nothing behind."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from api.bootstrap import projection_handlers
from consumers.importers import FORMATS, nyc_council
from consumers.importers.base import run_import, write_rejects
from domain.application import ticket_id_for_key
from domain.errors import TicketNotFoundError
from domain.values import Status

from tests.support.data import data_file

FILES = {fmt: data_file(fmt) for fmt in FORMATS}
ROWS = 500  # the excerpt in tests/data holds 600 rows


def needs(fmt: str):
    return pytest.mark.skipif(FILES[fmt] is None, reason=f"the {fmt} data set is not present")


def _import(services, fmt: str, path: Path, rows: int | None = None):
    source = FORMATS[fmt](path)
    return run_import(services.app, itertools.islice(source, rows) if rows else source, actor=f"import:{fmt}")


@pytest.mark.parametrize("fmt", [pytest.param(fmt, marks=needs(fmt)) for fmt in FORMATS])
def test_a_real_export_imports_and_a_second_import_adds_nothing(services, fmt):
    first = _import(services, fmt, FILES[fmt], rows=ROWS)
    assert first.rows == ROWS
    assert first.imported + first.unchanged + len(first.rejected) + first.already_imported == ROWS
    assert first.imported > ROWS * 0.6 and first.events > first.imported
    for _line, field, reason, raw in first.rejected:
        assert field and reason and raw
    events = services.app.event_count()
    second = _import(services, fmt, FILES[fmt], rows=ROWS)
    assert second.imported == 0 and second.events == 0 and services.app.event_count() == events
    assert services.verify_log()["intact"]


@needs("nyc-council")
def test_nyc_cases_become_tickets_with_their_dates_slices_and_closure(services, tmp_path):
    path = FILES["nyc-council"]
    with path.open(newline="") as handle:
        rows = list(itertools.islice(csv.DictReader(handle), 500))
    report = _import(services, "nyc-council", path, rows=500)
    closed = [r for r in rows if r["closedate"] and r["complaint_type"]]
    sample = closed[0]
    ticket = services.app.get_ticket(ticket_id_for_key(f"import:nyc-council:{sample['unique_key']}:open"))
    assert ticket.status == Status.CLOSED and ticket.channel is None
    assert ticket.category == sample["complaint_type"] and ticket.department == sample["account"]
    assert ticket.opened_at == nyc_council.midnight(nyc_council.parse(sample).opened_on)
    expected = sum(1 for r in rows if r["complaint_type"])
    for handler in projection_handlers():
        services.projector(handler, source="embedded").run_until_caught_up()
    with services.state.transaction() as tx:
        assert tx.fetchall("SELECT count(*) FROM arrivals")[0][0] == report.imported == expected - sum(
            1 for line, *_ in report.rejected if rows[line - 2]["complaint_type"])


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


NYC_HEADER = ["unique_key", "account", "opendate", "closedate", "complaint_type", "descriptor", "zip", "borough",
              "city", "council_dist", "community_board"]


def test_bad_rows_are_rejected_with_field_and_reason_and_leave_nothing_behind(services, tmp_path):
    path = _write(tmp_path / "cases.csv", NYC_HEADER, [
        ["K1", "NYCC01", "2020-01-02", "2020-01-05", "Housing", "Heat", "10001", "Manhattan", "", "NYCC03", ""],
        ["K2", "NYCC01", "2020-13-40", "", "Housing", "", "", "", "", "", ""],
        ["K3", "NYCC01", "2020-01-02", "2019-12-01", "Housing", "", "", "", "", "", ""],  # closed before opened
        ["K4", "NYCC01", "2020-01-02", "", "", "", "", "", "", "", ""],
        ["K1", "NYCC01", "2020-01-02", "2020-01-05", "Housing", "Heat", "", "", "", "", ""],  # same id, other data
        ["K5", "NYCC01", "2020-01-03", "", "x" * 300, "", "", "", "", "", ""],
    ])
    report = _import(services, "nyc-council", path)
    reasons = {line: (field, reason) for line, field, reason, _ in report.rejected}
    assert report.imported == 1 and set(reasons) == {3, 4, 5, 6, 7}
    assert reasons[3][0] == "opendate" and "not a date" in reasons[3][1]
    assert reasons[4][0] == "occurred_at" and "before the ticket was opened" in reasons[4][1]
    assert reasons[5] == ("complaint_type", "is empty: a case needs a category")
    assert reasons[6][0] == "id" and "different content" in reasons[6][1]
    assert reasons[7][0] == "category"
    with pytest.raises(TicketNotFoundError):  # K3's opening was undone with its refused closure
        services.app.get_ticket(ticket_id_for_key("import:nyc-council:K3:open"))
    write_rejects(tmp_path / "rejects.csv", report)
    with (tmp_path / "rejects.csv").open() as handle:
        written = list(csv.DictReader(handle))
    assert [int(r["line"]) for r in written] == [3, 4, 5, 6, 7] and written[0]["unique_key"] == "K2"


def test_a_file_of_the_wrong_format_is_refused_before_anything_is_written(services, tmp_path):
    from consumers.importers.base import RowError

    path = _write(tmp_path / "other.csv", ["a", "b"], [["1", "2"]])
    for fmt in FORMATS:
        with pytest.raises(RowError, match="missing column"):
            _import(services, fmt, path)
    assert services.app.event_count() == 0


def test_bpi_status_changes_map_to_lifecycle_events(services, tmp_path):
    header = ["case_id", "timestamp", "status", "sub_status", "impact", "product", "org_group", "org_resource",
              "org_role", "organization_involved", "resource_country", "organization_country"]
    rows = [
        ["C1", "2012-04-01T10:00:00+02:00", "Queued", "Awaiting Assignment", "Medium", "PROD1", "G1", "Ann", "", "", "Sweden", "se"],
        ["C1", "2012-04-01T10:05:00+02:00", "Accepted", "In Progress", "Medium", "PROD1", "G1", "Ann", "", "", "Sweden", "se"],
        ["C1", "2012-04-01T10:06:00+02:00", "Accepted", "In Progress", "Medium", "PROD1", "G1", "Ann", "", "", "Sweden", "se"],
        ["C1", "2012-04-01T11:00:00+02:00", "Accepted", "Wait - User", "High", "PROD1", "G1", "Ann", "", "", "Sweden", "se"],
        ["C1", "2012-04-02T09:00:00+02:00", "Queued", "Awaiting Assignment", "High", "PROD1", "G2", "Bob", "", "", "India", "in"],
        ["C1", "2012-04-02T09:30:00+02:00", "Accepted", "In Progress", "High", "PROD1", "G2", "Bob", "", "", "India", "in"],
        ["C1", "2012-04-03T09:00:00+02:00", "Completed", "Resolved", "High", "PROD1", "G2", "Bob", "", "", "India", "in"],
        ["C1", "2012-04-03T10:00:00+02:00", "Completed", "Closed", "High", "PROD1", "G2", "Bob", "", "", "India", "in"],
    ]
    report = _import(services, "bpi2013", _write(tmp_path / "bpi.csv", header, rows))
    assert report.rejected == [] and report.unchanged == 1
    events = services.app.ticket_events(ticket_id_for_key("import:bpi2013:C1:open"))
    assert [e.TYPE.removeprefix("ticket.") for e in events] == [
        "opened", "assigned", "triaged", "waiting_on_customer", "resumed", "transferred", "assigned", "resolved",
        "closed"]
    assert events[0].priority == "P3" and events[2].priority == "P2" and events[5].to_department == "G2"


def test_the_rejects_file_cannot_carry_a_spreadsheet_formula(tmp_path):
    from consumers.importers.base import ImportReport

    report = ImportReport(rejected=[(2, "opendate", "is empty", {"unique_key": "=HYPERLINK(\"http://x\")",
                                                                "descriptor": "+1", "borough": "-2",
                                                                "zip": "@SUM(A1)", "account": "plain"})])
    write_rejects(tmp_path / "rejects.csv", report)
    with (tmp_path / "rejects.csv").open(newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["unique_key"] == "'=HYPERLINK(\"http://x\")"
    assert (row["descriptor"], row["borough"], row["zip"], row["account"]) == ("'+1", "'-2", "'@SUM(A1)", "plain")
