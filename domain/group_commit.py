"""Group commit: the saves of concurrent commands share one store transaction.

A command's CPU is about 1.7 ms here, but its commit waits for the disk (SQLite's WAL fsync, or
PostgreSQL's WAL flush under a table lock held until commit): 5–12 ms on a busy machine. One
transaction per command therefore caps a process near 1 / commit latency whatever its CPU, and
concurrent writers of one SQLite file wait for its lock in growing sleeps. Here the first thread
that saves becomes the *leader*: it commits its own save together with every save that arrived
meanwhile, and hands leadership to the next waiting save, if any. Under load many commands share
one commit; alone, a save is committed at once as before.

What stays exactly as it was:
- **atomicity per command**: a group is one transaction; if it fails because one member conflicts
  (``IntegrityError``: another process wrote that ticket's version, or an idempotency record),
  every member is saved again on its own, so each gets its own outcome and the conflicting one
  is retried by the use case on fresh state as before; any other failure (store unavailable, disk
  full) is every member's, and nothing of the group is written;
- **order**: a ticket's commands hold the ticket's lock until their save returns, so one group
  never holds two commands of the same ticket.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from eventsourcing.persistence import IntegrityError

Work = TypeVar("Work")


class _Save(Generic[Work]):
    __slots__ = ("work", "done", "lead", "result", "error")

    def __init__(self, work: Work):
        self.work = work
        self.done = threading.Event()
        self.lead = False
        self.result: Any = None
        self.error: BaseException | None = None

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


class GroupCommit(Generic[Work]):
    """``save(work)`` through ``commit(list of work) -> list of results``, grouped (see the module)."""

    def __init__(self, commit: Callable[[list[Work]], list[Any]]):
        self._commit = commit
        self._lock = threading.Lock()
        self._waiting: list[_Save[Work]] = []
        self._leading = False

    def save(self, work: Work) -> Any:
        entry = _Save(work)
        with self._lock:
            self._waiting.append(entry)
            lead = not self._leading
            self._leading = True
        if not lead:
            entry.done.wait()
            if not entry.lead:
                return self._outcome(entry)
        self._lead()
        return self._outcome(entry)

    @staticmethod
    def _outcome(entry: _Save[Work]) -> Any:
        if entry.error is not None:
            raise entry.error
        return entry.result

    def _lead(self) -> None:
        """Commits every waiting save (this thread's own among them), then passes the lead on."""
        with self._lock:
            group, self._waiting = self._waiting, []
        try:
            self._commit_group(group)
        finally:
            with self._lock:
                if self._waiting:
                    successor = self._waiting[0]
                    successor.lead = True
                    successor.done.set()
                else:
                    self._leading = False

    def _commit_group(self, group: list[_Save[Work]]) -> None:
        try:
            results = self._commit([entry.work for entry in group])
        except IntegrityError as conflict:
            if len(group) == 1:
                group[0].finish(error=conflict)
                return
            for entry in group:  # find who conflicted: each on its own
                try:
                    entry.finish(self._commit([entry.work])[0])
                except BaseException as failure:  # noqa: BLE001 - handed to that command's thread
                    entry.finish(error=failure)
            return
        except BaseException as failure:  # noqa: BLE001 - every member's, nothing of the group was written
            for entry in group:
                entry.finish(error=failure)
            return
        for entry, result in zip(group, results, strict=True):
            entry.finish(result)
