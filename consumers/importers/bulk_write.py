"""Many aggregates' new events appended in one statement: how an import batch is saved
(``ServiceTrail.batch(save=...)``), and the "bare" append the import benchmark compares it with.

``Application.save`` reaches the store through the library's ``EventStore``: a ``StoredEvent`` and
a ``Recording`` per event and, on SQLite, one ``execute`` per row (the library asks SQLite for each
row's ``lastrowid``). An import needs none of that per row: ``append_events`` serialises each event
with the application's own mapper (the bytes ``save`` would store) and hands the whole batch to the
store at once, with the recorder's own table and SQL, in one transaction:

- **SQLite**: one ``executemany`` of the recorder's ``INSERT`` statement. Notification ids are the
  table's ``rowid``: inside the transaction this connection holds the write lock, and SQLite gives
  each new row ``max(rowid) + 1``, so the batch's rows get consecutive ids in the order given; the
  last is read back after the insert (``SELECT max(rowid)``) and the others follow from it.
- **PostgreSQL**: ``COPY … FROM STDIN`` into the events table after the recorder's own
  ``LOCK TABLE … IN EXCLUSIVE MODE`` and ``NOTIFY`` (the lock is what makes notification ids
  commit in order, as the library's insert does); the ids come from the table's sequence, one
  after another in the order of the rows while the lock keeps other writers out, and the last is
  read back (``RETURNING`` is not available to ``COPY``). A failed batch still uses up its ids (a
  sequence is not rolled back): the log then has a gap, as after a failed insert of the library.
- any other store (POPO), or an application that takes snapshots, caches aggregates or reacts to
  its own saves: the ordinary ``save``.

Either the whole batch is written or none of it: a row that conflicts (an aggregate's version
already stored: another writer got there first) fails the statement, the transaction is rolled
back, and ``IntegrityError`` is raised as ``save`` raises it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.application import Application


def append_aggregates(app: Application, aggregates: Iterable[Any]) -> Sequence[int]:
    """Saves the pending events of ``aggregates`` in one transaction; their notification ids."""
    aggregates = [aggregate for aggregate in aggregates if aggregate is not None]
    if not _plain_application(app):
        recordings = app.save(*aggregates)
        return [recording.notification.id for recording in recordings]
    events = [event for aggregate in aggregates for event in aggregate.collect_events()]
    return append_events(app, events)


def append_events(app: Application, events: Sequence[Any]) -> Sequence[int]:
    """Appends domain events (already collected from their aggregates) in one transaction, through
    the fastest plain path of the application's store; their notification ids, in order."""
    if not events:
        return []
    if _bulk_store(app.recorder):
        return append_rows(app, stored_rows(app, events))
    return list(app.recorder.insert_events([app.mapper.to_stored_event(event) for event in events]) or [])


Row = tuple[str, int, str, bytes]  # originator id (32 hex digits), version, topic, state: one event as stored


def stored_rows(app: Application, events: Sequence[Any]) -> list[Row]:
    """The events as the store keeps them (the mapper's bytes: what ``save`` would store), as plain
    tuples: what an import's worker process sends to the one process that writes (cheap to pickle)."""
    stored_row = getattr(app.mapper, "stored_row", None)  # ours: the row without a StoredEvent
    if stored_row is not None:
        return [stored_row(event) for event in events]
    to_stored_event = app.mapper.to_stored_event
    rows = []
    for event in events:
        s = to_stored_event(event)
        rows.append((s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                     s.originator_version, s.topic, s.state))
    return rows


def append_rows(app: Application, rows: Sequence[Row]) -> Sequence[int]:
    """Appends stored events (``stored_rows``) in one transaction, on a store with a bulk path
    (SQLite, PostgreSQL); their notification ids, in order."""
    if not rows:
        return []
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(app.recorder, SQLiteApplicationRecorder):
        return _sqlite(app.recorder, rows)
    if not _postgres_bulk(app.recorder):
        raise TypeError(f"{type(app.recorder).__name__} has no bulk append")
    return _postgres(app.recorder, rows)


def _bulk_store(recorder: Any) -> bool:
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    return isinstance(recorder, SQLiteApplicationRecorder) or _postgres_bulk(recorder)


def _postgres_bulk(recorder: Any) -> bool:
    try:
        from eventsourcing.postgres import PostgresApplicationRecorder
    except ImportError:  # pragma: no cover - psycopg not installed
        return False
    return isinstance(recorder, PostgresApplicationRecorder) and not recorder.datastore.enable_db_functions


def shared_between_processes(app: Application) -> bool:
    """Whether other processes can read this application's store while this one appends to it in
    bulk: a SQLite file (WAL: readers do not wait for the writer) or PostgreSQL, saved by the bulk
    append (a plain application). Not an in-memory store (POPO, SQLite ``:memory:``): private to one
    process."""
    if not _plain_application(app):
        return False
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    recorder = app.recorder
    if isinstance(recorder, SQLiteApplicationRecorder):
        return not recorder.datastore.pool.is_sqlite_memory_mode
    return _postgres_bulk(recorder)


def _plain_application(app: Application) -> bool:
    """Whether saving is only recording: no snapshots to take, no cache to fill, no hook of the
    application's own to call after a save (otherwise the ordinary ``save`` does all that)."""
    cls = type(app)
    return (not (app.snapshots and app.snapshotting_intervals) and not app.repository.cache
            and cls._notify is Application._notify and cls.notify is Application.notify)


# SQLite's page cache of the connection that appends in bulk, in KiB (the default is 2 MiB). The
# primary-key index of the events table grows with every aggregate, and an import's aggregate ids
# are random: each batch touches leaf pages all over the index. With 2 MiB most of them are read
# back from the operating system for every batch, and the appends slow as the store grows. 256 MiB
# holds the index of the whole NYC file (1.46M events). A cache only: no effect on what is written
# or when it is durable. It stays set on that pooled connection (filled only as pages are read).
# ``synchronous`` stays the library's FULL: in WAL mode NORMAL skips the fsync of each commit, so the
# last commits before a power loss can roll back (the store stays consistent, but events the relay
# may already have published would vanish, and a re-import would record them again with other
# timestamps and hashes). With thousands of events per commit its fsync is a small share anyway:
# NORMAL was not faster in a trial of the whole file's appends (2026-11-28).
SQLITE_BULK_CACHE_KIB = 262_144


def _sqlite(recorder: Any, rows: Sequence[Row]) -> list[int]:
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_BULK_CACHE_KIB}")
        cursor.executemany(recorder.insert_events_statement, rows)
        cursor.execute(recorder.select_max_notification_id_statement)
        last = cursor.fetchone()[0]
    return list(range(last - len(rows) + 1, last + 1))


def _postgres(recorder: Any, rows: Sequence[Row]) -> list[int]:
    from psycopg.sql import SQL, Identifier

    table = SQL("{schema}.{table}").format(schema=Identifier(recorder.datastore.schema),
                                           table=Identifier(recorder.events_table_name))
    copy = SQL("COPY {table} (originator_id, originator_version, topic, state) FROM STDIN").format(table=table)
    # The datastore's connection turns psycopg's errors into the library's (a conflict: IntegrityError).
    with recorder.datastore.get_connection() as connection, connection.transaction(), \
            connection.cursor() as cursor:
        recorder._lock_table(cursor)  # held to the commit: nobody else takes ids meanwhile
        recorder._notify_channel(cursor)
        with cursor.copy(copy) as writer:
            for row in rows:  # the id as 32 hex digits: PostgreSQL's uuid input reads it
                writer.write_row(row)
        cursor.execute(recorder.max_notification_id_statement)
        last = cursor.fetchone()["max"]
    return list(range(last - len(rows) + 1, last + 1))
