"""Group commit (``domain.group_commit``): concurrent saves share commits, each gets its own
outcome, a conflict is isolated to its command, any other failure is every member's."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from eventsourcing.persistence import IntegrityError

from domain.group_commit import GroupCommit


class Store:
    """Keys written at most once, one transaction at a time, each taking a while (like a disk flush)."""

    def __init__(self, fail: BaseException | None = None):
        self.rows: set[str] = set()
        self.transactions: list[list[str]] = []
        self.fail = fail
        self._lock = threading.Lock()

    def commit(self, group: list[str]) -> list[str]:
        with self._lock:
            time.sleep(0.005)
            if self.fail is not None:
                raise self.fail
            if len(set(group)) < len(group) or self.rows & set(group):
                raise IntegrityError("duplicate key")
            self.rows |= set(group)
            self.transactions.append(list(group))
            return [f"saved {key}" for key in group]


def test_concurrent_saves_share_transactions_and_each_gets_its_own_result():
    store = Store()
    commits = GroupCommit(store.commit)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(commits.save, [f"k{n}" for n in range(200)]))
    assert results == [f"saved k{n}" for n in range(200)]
    assert store.rows == {f"k{n}" for n in range(200)}
    assert len(store.transactions) < 100, "under concurrency, saves are grouped"


def test_a_lone_save_is_committed_at_once():
    store = Store()
    assert GroupCommit(store.commit).save("alone") == "saved alone"
    assert store.transactions == [["alone"]]


def test_a_conflicting_save_fails_alone_and_the_rest_of_its_group_is_written():
    store = Store()
    store.rows.add("taken")
    commits = GroupCommit(store.commit)
    keys = [f"k{n}" for n in range(40)] + ["taken"] * 3
    outcomes: dict[int, object] = {}

    def save(index: int) -> None:
        try:
            outcomes[index] = commits.save(keys[index])
        except IntegrityError as conflict:
            outcomes[index] = conflict

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(save, range(len(keys))))
    assert all(isinstance(outcomes[i], IntegrityError) for i in range(40, 43))
    assert [outcomes[i] for i in range(40)] == [f"saved k{n}" for n in range(40)]
    assert store.rows == {"taken", *keys[:40]}


def test_any_other_failure_is_every_members_and_writes_nothing():
    store = Store(fail=OSError("disk full"))
    commits = GroupCommit(store.commit)
    failures = []

    def save(key: str) -> None:
        with pytest.raises(OSError, match="disk full"):
            commits.save(key)
        failures.append(key)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(save, [f"k{n}" for n in range(24)]))
    assert len(failures) == 24 and store.rows == set()
