"""The import on several cores (``consumers.importers.parallel``: worker processes decide the rows
of their tickets, this process writes) appends exactly what the single-process import appends, per
ticket and to the byte; a refused row leaves nothing; a second import writes nothing; the log stays
contiguous and the projectors read every event; a worker's failure is raised here, and a file the
workers refuse writes nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from api.bootstrap import bootstrap, projection_handlers
from api.settings import Settings
from consumers.importers import FORMATS
from consumers.importers.base import RowError, run_import
from consumers.importers.parallel import ImportWorkerError, import_in_processes, import_source
from domain.application import ticket_id_for_key
from domain.errors import TicketNotFoundError
from domain.values import Status
from tests.fakes import FakeClock
from tests.integration.test_import_batches import BAD_NYC, NYC_HEADER, _write, sources, streams


def stopped_clock_services(url: str):
    """Services whose clock does not move: each process reads the same instant, so the processes'
    events carry the very timestamps (and hashes) the single process gives them."""
    return bootstrap(Settings(store_url=url, secret_key="test-server-secret"), clock=FakeClock(tick=timedelta(0)))


def _log_ids(app) -> list[int]:
    found, position = [], 0
    while page := app.recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False):
        found.extend(n.id for n in page)
        position = page[-1].id
    return found


@pytest.mark.parametrize("batch_rows", [7, 2000])
def test_worker_processes_append_what_one_process_appends_and_a_reimport_writes_nothing(store_url, tmp_path,
                                                                                       batch_rows):
    """Small batches keep several of a worker's batches unwritten while it decides the next rows of
    the same tickets (an event log's cases span many rows): it must decide on its own unwritten state."""
    for number, (fmt, path, rows) in enumerate(sources(tmp_path)):
        parallel = stopped_clock_services(store_url)
        single = stopped_clock_services(f"sqlite:///{tmp_path / f'single-{number}.db'}")
        try:
            def read():
                source = FORMATS[fmt](path)
                return itertools.islice(source, rows) if rows else source

            ours = import_in_processes(parallel.app, read, actor=f"import:{fmt}", workers=2, batch_rows=batch_rows)
            theirs = run_import(single.app, read(), actor=f"import:{fmt}", batch_rows=batch_rows)
            assert streams(parallel.app) == streams(single.app), fmt
            assert (ours.rows, ours.imported, ours.unchanged, ours.already_imported) == (
                theirs.rows, theirs.imported, theirs.unchanged, theirs.already_imported), fmt
            assert sorted(ours.rejected, key=lambda r: r[0]) == sorted(theirs.rejected, key=lambda r: r[0]), fmt
            assert ours.events == theirs.events == parallel.app.event_count()
            assert len(ours.worker_cpu_seconds) == 2 and not theirs.worker_cpu_seconds
            assert _log_ids(parallel.app) == list(range(1, ours.events + 1))  # one writer: contiguous, in order
            again = import_in_processes(parallel.app, read, actor=f"import:{fmt}", workers=2, batch_rows=batch_rows)
            assert again.events == 0 and again.imported == 0 and parallel.app.event_count() == ours.events
            assert again.already_imported + again.unchanged == ours.imported + ours.unchanged
            assert parallel.verify_log()["intact"]
        finally:
            parallel.close()
            single.close()
            if parallel.settings.sqlite_path is not None:
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{parallel.settings.sqlite_path}{suffix}").unlink(missing_ok=True)
        if not store_url.startswith("sqlite"):
            break  # one PostgreSQL schema per test: the real exports were compared on SQLite


def test_a_refused_row_leaves_nothing_and_the_projectors_read_every_event(services, tmp_path):
    path = _write(tmp_path / "cases.csv", NYC_HEADER, BAD_NYC)
    report = import_in_processes(services.app, lambda: FORMATS["nyc-council"](path), actor="import:nyc-council",
                                 workers=3, batch_rows=2)
    reasons = {line: (field, reason) for line, field, reason, _ in report.rejected}
    assert reasons[4] == ("occurred_at", "an event cannot have occurred before the ticket was opened")
    with pytest.raises(TicketNotFoundError):  # K3's opening went with its refused closure
        services.app.get_ticket(ticket_id_for_key("import:nyc-council:K3:open"))
    assert services.app.get_ticket(ticket_id_for_key("import:nyc-council:K1:open")).status == Status.CLOSED
    assert services.app.get_ticket(ticket_id_for_key("import:nyc-council:K6:open")).status == Status.OPENED
    assert report.imported == 2 and report.events == services.app.event_count() == 3 * 2 + 1 * 2
    head = services.app.recorder.max_notification_id()
    for handler in projection_handlers():
        runtime = services.projector(handler, source="embedded")
        runtime.run_until_caught_up()
        assert runtime.positions == {"log": head}, handler.name
    with services.state.transaction() as tx:
        assert tx.fetchall("SELECT count(*) FROM arrivals")[0][0] == report.imported


def test_a_file_the_workers_refuse_raises_here_and_writes_nothing(services, tmp_path):
    path = _write(tmp_path / "wrong.csv", ["case_id", "timestamp"], [["1", "2020-01-01T00:00:00+00:00"]])
    with pytest.raises(RowError, match="missing column"):
        import_in_processes(services.app, lambda: FORMATS["nyc-council"](path), actor="import:nyc-council",
                            workers=2)
    assert services.app.event_count() == 0


def test_an_in_memory_store_is_imported_in_this_process(tmp_path, monkeypatch):
    """No other process can read it: the workers are not started, the import runs here."""
    monkeypatch.chdir(tmp_path)  # the read models and the vault of an in-memory store sit in the working directory
    wired = bootstrap(Settings(store_url="sqlite:///:memory:", secret_key="test-server-secret"), clock=FakeClock())
    try:
        path = _write(tmp_path / "cases.csv", NYC_HEADER, BAD_NYC)
        report = import_source(wired.app, lambda: FORMATS["nyc-council"](path), actor="import:nyc-council",
                               workers=2)
        assert report.imported == 2 and wired.app.event_count() == report.events == 8
    finally:
        wired.close()


def test_a_worker_that_dies_stops_the_import_with_its_exit_code(services, tmp_path):
    """A worker killed mid-import (here it exits while reading its rows) is noticed: the import
    raises instead of waiting for it, and the other workers are stopped."""
    import os

    path = _write(tmp_path / "cases.csv", NYC_HEADER, BAD_NYC)
    writer = os.getpid()

    def dying_source():
        for index, row in enumerate(FORMATS["nyc-council"](path)):
            if index == 3 and os.getpid() != writer:
                os._exit(3)
            yield row

    with pytest.raises(ImportWorkerError, match=r"ended \(exit code 3\)"):
        import_in_processes(services.app, dying_source, actor="import:nyc-council", workers=2, batch_rows=2)
