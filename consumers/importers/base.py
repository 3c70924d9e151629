"""What every importer shares: source rows turned into commands, and the run that applies them.

An importer reads its file and yields one ``SourceRow`` per input row. The row's ``plan`` turns it
into commands given the ticket as it stands (so "assigned to another agent" becomes an assignment and
"same agent again" becomes nothing), each with an idempotency key made of the format, the source's
own ids and the step. A second import of the same file writes nothing: a row older than the last
event of its ticket is already in, and a row of the same instant (or of an importer whose plan does
not depend on the ticket) finds its keys used; a used key with other content is a duplicate row. The run sends the commands through
the service layer's normal use cases, many rows per transaction (``ServiceTrail.batch``): the
batch's tickets and idempotency records are read in bulk first (``ServiceTrail.prefetch``), each
row's commands run in memory inside a savepoint (a refused row is dropped whole, the rest of the
batch stays), and the batch is saved in one ``save`` of all its aggregates. Rows that cannot be parsed or that the
domain refuses are collected with the field and the reason, never dropped silently.
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from consumers.importers.bulk_read import stored_events_of
from consumers.importers.bulk_write import append_aggregates
from domain import commands
from domain.application import ServiceTrail, ticket_id_for_key
from domain.errors import DomainError, IdempotencyKeyReusedError, TicketNotFoundError
from domain.idempotency import idempotency_record_id
from domain.ticket import Ticket


class RowError(Exception):
    """A source row the importer cannot turn into commands."""

    def __init__(self, column: str, reason: str):
        super().__init__(f"{column}: {reason}")
        self.column = column
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:  # raised in an import's worker process, re-raised here
        return type(self), (self.column, self.reason)


def csv_rows(path: Path, source_format: str, columns: tuple[str, ...]
             ) -> Iterator[tuple[int, dict[str, Any], RowError | None]]:
    """(line, row, error) for each record of a CSV export. A file without the format's columns is
    refused whole (``RowError``); a record that is not valid UTF-8, holds a NUL byte or has more
    fields than the header comes back with its error, and reading goes on."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        try:
            header = reader.fieldnames or ()
        except csv.Error as bad:
            raise RowError("header", f"unreadable: {bad}") from None
        missing = [column for column in columns if column not in header]
        if missing:
            raise RowError("header", f"missing column(s) {', '.join(missing)} for format {source_format}")
        line = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as bad:
                line = reader.line_num
                yield line, {}, RowError("row", f"unreadable CSV: {bad}")
                continue
            line = reader.line_num
            if None in row:
                yield line, row, RowError("row", "has more fields than the header")
                continue
            broken = next((k for k, v in row.items() if v is not None and "\ufffd" in v), None)
            if broken is not None:
                yield line, row, RowError(broken, "is not valid UTF-8")
                continue
            yield line, row, None


def read_source(path: Path, source_format: str, columns: tuple[str, ...],
                to_row: Callable[[int, dict[str, Any]], SourceRow]) -> Iterator[SourceRow]:
    """Each CSV record as a ``SourceRow``: ``to_row`` builds it (raising ``RowError`` for a record it
    cannot read); unreadable records and refused ones come back as rejects, with the reason."""
    for line, row, error in csv_rows(path, source_format, columns):
        if error is None:
            try:
                yield to_row(line, row)
                continue
            except RowError as refused:
                error = refused
        yield SourceRow.rejected(line, row, error)


def command_key(source_format: str, source_id: str, step: str) -> str:
    return f"import:{source_format}:{source_id}:{step}"


def parse_instant(text: str, column: str) -> datetime:
    """An ISO-8601 instant with its UTC offset (an event log's timestamp)."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(column, f"{text!r} is not an ISO-8601 instant") from None
    if at.tzinfo is None:
        raise RowError(column, f"{text!r} has no UTC offset")
    return at


class EventKeys:
    """Idempotency keys of an event log's rows: the case, what the row says, and its occurrence
    (identical rows are distinct events of the source, told apart by their order)."""

    def __init__(self, source_format: str):
        self.source_format = source_format
        self.seen: dict[str, int] = {}

    def row_key(self, case: str, identity: str) -> str:
        count = self.seen[f"{case}:{identity}"] = self.seen.get(f"{case}:{identity}", 0) + 1
        return command_key(self.source_format, case, f"{identity}#{count}")

    def open_key(self, case: str) -> str:
        return command_key(self.source_format, case, "open")


@dataclass(frozen=True)
class Step:
    command: commands.Command
    key: str

    @property
    def ticket_id(self) -> UUID:
        if isinstance(self.command, commands.TicketCommand):
            return self.command.ticket_id
        return ticket_id_for_key(self.key)


Plan = Callable[[Ticket | None], list[Step]]


@dataclass
class SourceRow:
    line: int
    raw: dict[str, Any]
    ticket_id: UUID | None = None
    occurred_at: datetime | None = None
    plan: Plan | None = None
    error: RowError | None = None
    stateless: bool = False  # the plan ignores the ticket: always run it, the idempotency keys decide

    @classmethod
    def rejected(cls, line: int, raw: dict[str, Any], error: RowError) -> SourceRow:
        return cls(line, raw, error=error)


@dataclass
class ImportReport:
    rows: int = 0
    imported: int = 0
    already_imported: int = 0
    unchanged: int = 0  # rows that change nothing the domain models (e.g. the same status again)
    rejected: list[tuple[int, str, str, dict[str, Any]]] = field(default_factory=list)  # line, field, reason, row
    events: int = 0
    worker_cpu_seconds: list[float] = field(default_factory=list)  # each worker process's, when there were any

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "imported": self.imported, "already_imported": self.already_imported,
                "unchanged": self.unchanged, "rejected": len(self.rejected), "events": self.events}


def step_error(error: Exception) -> tuple[str, str]:
    """(field, reason) of a refused command."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        return ".".join(str(p) for p in first["loc"]) or "row", first["msg"]
    if isinstance(error, IdempotencyKeyReusedError):
        return "id", "the source id was already imported with different content (a duplicate row)"
    return getattr(error, "field", None) or "lifecycle", str(error)


BATCH_ROWS = 2000  # rows per transaction: ~10,000 events of the NYC file per commit


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The garbage collector's youngest generation collected every 100,000 allocations instead of
    700 while an import runs (it allocates a dozen short-lived objects per command and keeps few;
    about 7% of an import's time), and back as it was afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def run_import(app: ServiceTrail, rows: Iterable[SourceRow], *, actor: str, batch_rows: int = BATCH_ROWS,
               progress: Callable[[int], None] | None = None) -> ImportReport:
    with fewer_collections():
        return _run_import(app, rows, actor=actor, batch_rows=batch_rows, progress=progress)


def _run_import(app: ServiceTrail, rows: Iterable[SourceRow], *, actor: str, batch_rows: int,
                progress: Callable[[int], None] | None) -> ImportReport:
    report = ImportReport()
    pending: list[SourceRow] = []
    for row in rows:
        report.rows += 1
        if row.error is not None:
            report.rejected.append((row.line, row.error.column, row.error.reason, row.raw))
            continue
        pending.append(row)
        if len(pending) >= batch_rows:
            _apply(app, pending, actor, report)
            pending.clear()
            if progress:
                progress(report.rows)
    if pending:
        _apply(app, pending, actor, report)
    if progress:
        progress(report.rows)
    return report


SaveBatch = Callable[[ServiceTrail, list[Any]], Sequence[Any]]  # saves a batch's aggregates; one item per event
Held = Callable[[list[UUID]], Iterable[Any]]  # copies of the aggregates among these ids the caller holds


def _apply(app: ServiceTrail, rows: list[SourceRow], actor: str, report: ImportReport,
           save: SaveBatch = append_aggregates, held: Held | None = None) -> None:
    """One batch: its aggregates read in bulk, each row's commands run through the service layer in
    memory (a refused row is dropped whole by its savepoint), everything saved in one transaction
    (``save``: the store's bulk append; an import's worker process hands the batch to the process
    that writes instead). ``held``: aggregates the caller already has (a worker's own batches not
    written yet), used instead of reading the store."""
    saved = 0

    def save_batch(aggregates: list[Any]) -> None:
        nonlocal saved
        saved += len(save(app, aggregates))

    with app.batch(save=save_batch):
        planned = _prefetch(app, rows, held)
        for index, row in enumerate(rows):
            assert row.plan is not None and row.ticket_id is not None and row.occurred_at is not None
            ticket = _find(app, row.ticket_id)
            if ticket is not None and not row.stateless and row.occurred_at < ticket.last_occurred_at:
                report.already_imported += 1
                continue
            new_events = False
            try:
                steps = planned.get(index)
                if steps is None:
                    steps = row.plan(ticket)
                if not steps:
                    report.unchanged += 1
                    continue
                with app.savepoint(row.ticket_id):
                    for step in steps:
                        context = commands.CommandContext(actor=actor, idempotency_key=step.key)
                        outcome = app.handle(step.command, context)
                        new_events = new_events or not outcome.replayed
            except RowError as error:
                report.rejected.append((row.line, error.column, error.reason, row.raw))
                continue
            except (DomainError, ValidationError) as refused:
                column, reason = step_error(refused)
                report.rejected.append((row.line, column, reason, row.raw))
                continue
            if new_events:
                report.imported += 1
            else:
                report.already_imported += 1
    report.events += saved


def _prefetch(app: ServiceTrail, rows: list[SourceRow], held: Held | None = None) -> dict[int, list[Step]]:
    """Reads the batch's tickets, then the tickets and idempotency records its rows' steps will ask
    for, in two bulk reads (after taking those ``held`` has). The steps are planned against the
    tickets as they stood before the batch:
    exact for a stateless row (kept, so it is planned once), a guess for the others (planned again
    when their turn comes; a record the guess missed is read on its own, as before)."""
    def read(ids: list[UUID]) -> dict[UUID, list[Any]]:
        return stored_events_of(app.recorder, ids)

    def fetch(ids: list[UUID]) -> None:
        if held is not None:
            app.remember(held(ids))
        app.prefetch(ids, read)

    fetch([row.ticket_id for row in rows if row.ticket_id is not None])
    planned: dict[int, list[Step]] = {}
    wanted: list[UUID] = []
    for index, row in enumerate(rows):
        if row.plan is None or row.ticket_id is None:
            continue
        try:
            steps = row.plan(_find(app, row.ticket_id))
        except (RowError, DomainError, ValidationError):
            continue  # refused again, with its reason, when the row's turn comes
        if row.stateless:
            planned[index] = steps
        for step in steps:
            wanted.append(idempotency_record_id(step.key))
            wanted.append(step.ticket_id)
    fetch(wanted)
    return planned


def _find(app: ServiceTrail, ticket_id: UUID) -> Ticket | None:
    if app.known_absent(ticket_id):  # the usual case of a first import: no exception raised and caught
        return None
    try:
        return app.get_ticket(ticket_id)
    except TicketNotFoundError:
        return None


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: Any) -> Any:
    """A cell a spreadsheet will not run: text starting like a formula gets a leading ``'`` (OWASP's
    advice for CSV injection); the rejects file is opened in spreadsheets and echoes source rows."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def write_rejects(path: Path, report: ImportReport) -> None:
    """Rejected rows beside the input: line, field, reason, then the row as read (formula-safe)."""
    columns: list[str] = []
    for _, _, _, raw in report.rejected:
        columns.extend(k for k in raw if k not in columns)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["line", "field", "reason", *map(spreadsheet_safe, columns)])
        for line, column, reason, raw in sorted(report.rejected, key=lambda rejected: rejected[0]):
            writer.writerow([line, *map(spreadsheet_safe, (column, reason, *(raw.get(k, "") for k in columns)))])
