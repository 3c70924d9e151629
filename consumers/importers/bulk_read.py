"""Many aggregates read in one query: what an import batch knows before it runs its commands
(``ServiceTrail.prefetch``).

``repository.get`` is one query per aggregate (and on a fresh import almost every one finds
nothing). ``stored_events_of`` asks the store once for every event of many aggregates, with each
store's own statement (SQLite ``IN``, PostgreSQL ``= ANY``); a store it does not know (POPO) is
asked aggregate by aggregate, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import AggregateRecorder, StoredEvent

SQLITE_CHUNK = 900  # below SQLite's oldest limit on bound parameters (999)


def stored_events_of(recorder: AggregateRecorder, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
    """Every stored event of the given aggregates, by id, in version order (absent ids are left out)."""
    if not ids:
        return {}
    from eventsourcing.sqlite import SQLiteAggregateRecorder

    if isinstance(recorder, SQLiteAggregateRecorder) and recorder.datastore.originator_id_type == "uuid":
        return _sqlite(recorder, ids)
    try:
        from eventsourcing.postgres import PostgresAggregateRecorder
    except ImportError:  # pragma: no cover - psycopg not installed
        PostgresAggregateRecorder = None  # type: ignore[assignment,misc]  # noqa: N806
    if PostgresAggregateRecorder is not None and isinstance(recorder, PostgresAggregateRecorder):
        return _postgres(recorder, ids)
    found: dict[UUID, list[StoredEvent]] = {}
    for aggregate_id in ids:
        if events := list(recorder.select_events(aggregate_id)):
            found[aggregate_id] = events
    return found


def _sqlite(recorder, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
    found: dict[UUID, list[StoredEvent]] = {}
    by_hex = {aggregate_id.hex: aggregate_id for aggregate_id in ids}
    hexes = list(by_hex)
    with recorder.datastore.transaction(commit=False) as cursor:
        for start in range(0, len(hexes), SQLITE_CHUNK):
            chunk = hexes[start:start + SQLITE_CHUNK]
            cursor.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {recorder.events_table_name} "
                f"WHERE originator_id IN ({','.join('?' * len(chunk))}) ORDER BY originator_id, originator_version",
                chunk)
            for row in cursor.fetchall():
                aggregate_id = by_hex.get(row["originator_id"]) or UUID(row["originator_id"])
                found.setdefault(aggregate_id, []).append(StoredEvent(
                    originator_id=aggregate_id, originator_version=row["originator_version"], topic=row["topic"],
                    state=row["state"]))
    return found


def _postgres(recorder, ids: Sequence[UUID]) -> dict[UUID, list[StoredEvent]]:
    from psycopg.sql import SQL, Identifier

    statement = SQL(
        "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
        "WHERE originator_id = ANY(%s) ORDER BY originator_id, originator_version"
    ).format(schema=Identifier(recorder.datastore.schema), table=Identifier(recorder.events_table_name))
    found: dict[UUID, list[StoredEvent]] = {}
    with recorder.datastore.get_connection() as connection, connection.cursor() as cursor:
        cursor.execute(statement, (list(ids),))
        for row in cursor.fetchall():
            found.setdefault(row["originator_id"], []).append(StoredEvent(
                originator_id=row["originator_id"], originator_version=row["originator_version"],
                topic=row["topic"], state=bytes(row["state"])))
    return found
