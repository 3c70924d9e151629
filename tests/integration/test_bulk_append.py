"""The bulk append an import batch is saved with (``consumers.importers.bulk_write``: SQLite
``executemany``, PostgreSQL ``COPY``), on each store: the batch lands whole or not at all, its
notification ids are the log's next positions in order (what the projectors and the Kafka relay
follow), it stores the bytes ``save`` would store, and a re-import through it writes nothing."""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from uuid import NAMESPACE_URL, uuid5

import pytest
from eventsourcing.persistence import IntegrityError

from api.bootstrap import projection_handlers
from consumers.importers import FORMATS
from consumers.importers.base import run_import
from consumers.importers.bulk_write import append_aggregates
from domain import commands as c
from domain.ticket import Ticket
from domain.values import Stamp
from tests.support.data import data_file

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def _opened(clock, count: int, start: int = 0) -> list[Ticket]:
    """``count`` new tickets, their ids and contents given by their numbers (the same numbers, the
    same events: all are stamped with the clock's start)."""
    at = Stamp(START, START, "test")
    return [Ticket.open(uuid5(NAMESPACE_URL, f"bulk/{n}"), at, customer_id=f"c{n}", channel=None,
                        category="billing", subject="s") for n in range(start, start + count)]


def _log(app) -> list:
    found, position = [], 0
    while page := app.recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False):
        found.extend(page)
        position = page[-1].id
    return found


def test_a_bulk_append_takes_the_next_log_positions_in_order(services, clock):
    app = services.app
    app.handle(c.OpenTicket(customer_id="before", channel="web", category="billing", subject="s"))
    head = app.recorder.max_notification_id()
    tickets = _opened(clock, 50)
    for ticket in tickets[:10]:  # some aggregates with more than one event
        ticket.resolve(Stamp(clock(), clock(), "test"), code="ok", summary="done")
    expected = [(e.originator_id, e.originator_version) for t in tickets for e in t._pending_events]
    ids = append_aggregates(app, tickets)
    assert list(ids) == list(range(head + 1, head + 1 + len(expected)))
    logged = _log(app)[-len(expected):]
    assert [n.id for n in logged] == list(ids)
    assert [(n.originator_id, n.originator_version) for n in logged] == expected
    assert app.recorder.max_notification_id() == ids[-1]
    assert app.get_ticket(tickets[0].id).status.value == "resolved"


def test_a_bulk_append_stores_the_bytes_save_stores(services, clock, tmp_path):
    from api.bootstrap import bootstrap
    from api.settings import Settings

    other = bootstrap(Settings(store_url=f"sqlite:///{tmp_path / 'saved.db'}", secret_key="test-server-secret"),
                      clock=clock)
    try:
        append_aggregates(services.app, _opened(clock, 5))
        other.app.save(*_opened(clock, 5))
        assert [(n.originator_id, n.originator_version, n.topic, bytes(n.state)) for n in _log(services.app)] == \
            [(n.originator_id, n.originator_version, n.topic, bytes(n.state)) for n in _log(other.app)]
    finally:
        other.close()


def test_a_batch_with_one_conflicting_event_writes_nothing(services, clock, store_url):
    app = services.app
    append_aggregates(app, _opened(clock, 3))
    before, head = app.event_count(), app.recorder.max_notification_id()
    batch = _opened(clock, 20, start=3) + _opened(clock, 1, start=1)  # ticket 1's first version is stored
    with pytest.raises(IntegrityError):
        append_aggregates(app, batch)
    assert app.event_count() == before and app.recorder.max_notification_id() == head
    more = append_aggregates(app, _opened(clock, 20, start=3))  # and the same batch without it lands
    assert list(more) == list(range(more[0], more[0] + 20)) and more[0] > head
    if store_url.startswith("sqlite"):  # (a PostgreSQL sequence is not rolled back: ids after a gap)
        assert more[0] == head + 1


@pytest.mark.skipif(data_file("nyc-council") is None, reason="the NYC council file is not here")
def test_the_projectors_read_every_event_of_a_bulk_import_and_a_reimport_writes_nothing(services):
    def rows():
        return itertools.islice(FORMATS["nyc-council"](data_file("nyc-council")), 450)

    report = run_import(services.app, rows(), actor="import:nyc-council", batch_rows=100)
    assert report.events == services.app.event_count() > 0
    head = services.app.recorder.max_notification_id()
    assert [n.id for n in _log(services.app)] == list(range(1, head + 1))  # contiguous, from the start
    for handler in projection_handlers():
        runtime = services.projector(handler, source="embedded")
        runtime.run_until_caught_up()
        assert runtime.positions == {"log": head}, handler.name
    with services.state.transaction() as tx:
        assert tx.fetchall("SELECT count(*) FROM arrivals")[0][0] == report.imported
    again = run_import(services.app, rows(), actor="import:nyc-council", batch_rows=100)
    assert again.events == 0 and services.app.recorder.max_notification_id() == head
    assert services.verify_log()["intact"]
