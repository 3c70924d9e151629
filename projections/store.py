"""The state store of every consumer: one SQL adapter (SQLite or PostgreSQL) and the tables all
consumers share.

A consumer's effects and its bookkeeping are written in **one transaction**:
- ``tracking``: the last position processed, per consumer and stream (the embedded log, or one
  Kafka topic-partition). Forward-only: a position never moves back except by ``reset``.
- ``applied_versions``: the last event version applied per consumer and ticket, so a republished
  event (a relay restart) is recognised and skipped even though it arrives at a new offset.
- ``dead_letters``: events a consumer could not decode, with the reason; they never block it.
A crash anywhere before commit leaves no trace; after commit, the work is never redone.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from projections.distribution import SQL_FUNCTIONS

WRITER_CACHE_KIB = 65536  # page cache of a connection that writes (SQLite), per connection

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS tracking (
        consumer TEXT NOT NULL, stream TEXT NOT NULL, position BIGINT NOT NULL,
        PRIMARY KEY (consumer, stream))""",
    """CREATE TABLE IF NOT EXISTS applied_versions (
        consumer TEXT NOT NULL, ticket_id TEXT NOT NULL, version INTEGER NOT NULL,
        PRIMARY KEY (consumer, ticket_id))""",
    """CREATE TABLE IF NOT EXISTS dead_letters (
        consumer TEXT NOT NULL, stream TEXT NOT NULL, position BIGINT NOT NULL,
        reason TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (consumer, stream, position))""",
]


def psycopg_isolation():
    from psycopg import IsolationLevel

    return IsolationLevel


def _with_functions(connection: sqlite3.Connection) -> sqlite3.Connection:
    """The SQL functions the read side's queries call (``distribution.SQL_FUNCTIONS``)."""
    for name, function in SQL_FUNCTIONS.items():
        connection.create_function(name, 1, lambda value, f=function: None if value is None else f(value),
                                   deterministic=True)
    return connection


def private_directory(directory: Path) -> None:
    """Creates ``directory`` (and missing parents) readable by the owner only (0700); an existing
    one keeps its mode (it may be shared on purpose)."""
    if not directory.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """Creates an absent store file empty and readable by the owner only (0600), in a private
    directory when that is created too. SQLite gives its -wal and -shm files the database file's
    mode, so they are private as well. An existing file is left as it is."""
    private_directory(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass


class Transaction:
    """One open database transaction; SQL is written with ``?`` placeholders for both engines."""

    def __init__(self, cursor: Any, dialect: str):
        self.cursor = cursor
        self.dialect = dialect

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.dialect == "postgres" else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Transaction:
        self.cursor.execute(self._sql(sql), params)
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            self.cursor.executemany(self._sql(sql), rows)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        self.cursor.execute(self._sql(sql), params)
        return list(self.cursor.fetchall())

    def fetch_in(self, sql: str, values: Sequence[Any], *prefix: Any, chunk: int = 500) -> list[tuple]:
        """Runs ``sql`` (ending in ``IN ({})``) over ``values`` in chunks."""
        rows: list[tuple] = []
        for start in range(0, len(values), chunk):
            part = values[start:start + chunk]
            marks = ",".join("?" * len(part))
            rows.extend(self.fetchall(sql.format(marks), (*prefix, *part)))
        return rows

    # -------------------------------------------------------------- consumer bookkeeping
    def lock_streams(self, consumer: str, streams: Iterable[str]) -> None:
        """Serialises the transactions of one consumer's members on the same streams (a consumer
        group mid-rebalance may briefly deliver one partition to two members). SQLite's
        ``BEGIN IMMEDIATE`` already serialises every writer."""
        if self.dialect == "postgres":
            for stream in sorted(set(streams)):
                self.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (f"{consumer}/{stream}",))

    def positions(self, consumer: str) -> dict[str, int]:
        rows = self.fetchall("SELECT stream, position FROM tracking WHERE consumer = ?", (consumer,))
        return {stream: position for stream, position in rows}

    def advance(self, consumer: str, positions: dict[str, int]) -> None:
        self.executemany(
            "INSERT INTO tracking (consumer, stream, position) VALUES (?, ?, ?) "
            "ON CONFLICT (consumer, stream) DO UPDATE SET position = excluded.position "
            "WHERE tracking.position < excluded.position",
            [(consumer, stream, position) for stream, position in positions.items()],
        )

    def applied_versions(self, consumer: str, ticket_ids: Sequence[str]) -> dict[str, int]:
        rows = self.fetch_in(
            "SELECT ticket_id, version FROM applied_versions WHERE consumer = ? AND ticket_id IN ({})",
            list(ticket_ids), consumer,
        )
        return {ticket_id: version for ticket_id, version in rows}

    def record_versions(self, consumer: str, versions: dict[str, int]) -> None:
        self.executemany(
            "INSERT INTO applied_versions (consumer, ticket_id, version) VALUES (?, ?, ?) "
            "ON CONFLICT (consumer, ticket_id) DO UPDATE SET version = excluded.version",
            [(consumer, ticket_id, version) for ticket_id, version in versions.items()],
        )

    def dead_letter(self, consumer: str, stream: str, position: int, reason: str, payload: str) -> None:
        self.execute(
            "INSERT INTO dead_letters (consumer, stream, position, reason, payload) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (consumer, stream, position) DO NOTHING",
            (consumer, stream, position, reason, payload),
        )

    def rename_consumer(self, old: str, new: str) -> None:
        """Gives ``old``'s bookkeeping to ``new`` (whose own is dropped): the swap after a rebuild."""
        self.forget(new)
        for table in ("tracking", "applied_versions", "dead_letters"):
            self.execute(f"UPDATE {table} SET consumer = ? WHERE consumer = ?", (new, old))

    def copy_consumer(self, source: str, target: str) -> None:
        """Gives ``target`` (whose own is dropped) a copy of ``source``'s bookkeeping: each
        projection rebuilt in one pass (``consumers.rebuild.rebuild_all``) takes the pass's."""
        self.forget(target)
        for table, columns in (("tracking", "stream, position"), ("applied_versions", "ticket_id, version"),
                               ("dead_letters", "stream, position, reason, payload")):
            self.execute(f"INSERT INTO {table} (consumer, {columns}) "  # noqa: S608
                         f"SELECT ?, {columns} FROM {table} WHERE consumer = ?", (target, source))

    def forget(self, consumer: str) -> None:
        """Drops a consumer's bookkeeping (a rebuild starts over from position zero)."""
        for table in ("tracking", "applied_versions", "dead_letters"):
            self.execute(f"DELETE FROM {table} WHERE consumer = ?", (consumer,))


class StateStore:
    """Connections to the consumers' database. Thread-safe: one connection per thread (SQLite),
    or a short-lived connection per transaction from a pool (PostgreSQL)."""

    def __init__(self, url: str):
        self.url = url
        parts = urlsplit(url)
        self.dialect = "sqlite" if parts.scheme == "sqlite" else "postgres"
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._memory_lock = threading.RLock()
        self._pool = None
        if self.dialect == "sqlite":
            self._path = url.removeprefix("sqlite:///")
            if self._path != ":memory:":
                private_file(Path(self._path))
        else:
            from psycopg_pool import ConnectionPool

            schema = parse_qs(parts.query).get("schema", [None])[0]
            conninfo = parts._replace(query="").geturl()
            options = {"options": f"-c search_path={schema}"} if schema else {}
            self._pool = ConnectionPool(conninfo, kwargs=options, min_size=1, max_size=8, open=True)
        with self.transaction() as tx:
            for statement in SCHEMA:
                tx.execute(statement)

    def _sqlite(self) -> sqlite3.Connection:
        if self._path == ":memory:":  # one private database, shared by the threads that use it
            if not self._connections:
                self._connections.append(_with_functions(sqlite3.connect(":memory:", isolation_level=None,
                                                                         check_same_thread=False)))
            return self._connections[0]
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = _with_functions(sqlite3.connect(self._path, timeout=30, isolation_level=None,
                                                         check_same_thread=False))
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA temp_store=MEMORY")  # GROUP BY sorts of a read stay off the disk
            self._local.connection = connection
            self._connections.append(connection)
        return connection

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        if self.dialect == "sqlite":
            # An in-memory database has one connection: its users take turns.
            with self._memory_lock if self._path == ":memory:" else nullcontext():
                cursor = self._sqlite().cursor()
                if not getattr(self._local, "writer", False):
                    # A writer's page cache holds the indexes its batches update (projector
                    # batches touch pages all over them); SQLite's default 2 MB makes every
                    # insert re-read pages. Readers (``read``) keep the default: they are many.
                    cursor.execute(f"PRAGMA cache_size=-{WRITER_CACHE_KIB}")
                    self._local.writer = True
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield Transaction(cursor, "sqlite")
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
                cursor.execute("COMMIT")
        else:
            assert self._pool is not None
            with self._pool.connection() as connection, connection.transaction():
                with connection.cursor() as cursor:
                    yield Transaction(cursor, "postgres")

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A read-only transaction on one consistent snapshot. It never takes SQLite's write lock
        (a deferred transaction reads the WAL snapshot), so a long report cannot stall the
        projector; on PostgreSQL it is REPEATABLE READ, READ ONLY."""
        if self.dialect == "sqlite":
            with self._memory_lock if self._path == ":memory:" else nullcontext():
                cursor = self._sqlite().cursor()
                cursor.execute("BEGIN DEFERRED")
                try:
                    yield Transaction(cursor, "sqlite")
                finally:
                    cursor.execute("ROLLBACK")
        else:
            assert self._pool is not None
            with self._pool.connection() as connection:
                connection.read_only = True
                connection.isolation_level = psycopg_isolation().REPEATABLE_READ
                try:
                    with connection.transaction(), connection.cursor() as cursor:
                        yield Transaction(cursor, "postgres")
                finally:
                    connection.read_only = False
                    connection.isolation_level = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        for connection in self._connections:
            connection.close()
        self._connections.clear()
        self._local = threading.local()


def is_store_unavailable(error: BaseException) -> bool:
    """Connection-level store failures (a restart, a lost connection, a locked or full disk): the
    request did not happen and may be retried, unlike a bug or a refused command."""
    import psycopg
    from eventsourcing.persistence import InterfaceError, OperationalError
    from psycopg_pool import PoolTimeout

    unavailable = (InterfaceError, OperationalError, psycopg.OperationalError, psycopg.InterfaceError,
                   sqlite3.OperationalError, PoolTimeout)
    while error is not None:
        if isinstance(error, unavailable):
            return True
        error = error.__cause__ or error.__context__
    return False
