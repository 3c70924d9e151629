"""The embedded default on a disk that fills up: commands fail with a problem that says so and write
nothing, reads keep working, nothing is corrupted, and service resumes without a restart when space
comes back. On a disk that turned read-only, a command refuses to start with a clear line. The disk is a small tmpfs
mounted for the test (skipped where mounting is not permitted)."""

from __future__ import annotations

import gc
import sqlite3
import subprocess

import pytest
from fastapi.testclient import TestClient

from api.bootstrap import bootstrap
from api.http import create_app
from api.settings import Settings
from domain.access import Role
from tests.e2e.test_cli import run_cli


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _remount(mount, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(mount)], check=True)


def test_a_full_then_read_only_disk_fails_cleanly_and_recovers(small_disk):
    services = bootstrap(Settings(store_url=f"sqlite:///{small_disk / 'events.db'}", secret_key="s"))
    key, _ = services.keys.create(Role.ADMIN, "admin")
    client = TestClient(create_app(services, run_consumers=False), raise_server_exceptions=False,
                        headers={"Authorization": f"Bearer {key}"})
    body = {"customer_id": "c", "channel": "web", "category": "billing", "subject": "s", "description": "x" * 2000}
    accepted, failure, before = [], None, services.app.event_count()
    for _ in range(2000):
        response = client.post("/v1/tickets", json=body)
        if response.status_code != 201:
            failure = response
            break
        accepted.append(response.json()["ticket_id"])
    assert failure is not None and accepted, "the disk filled up"
    assert failure.status_code == 507 and failure.headers["content-type"].startswith("application/problem+json")
    assert "disk is full" in failure.json()["detail"] and "nothing was written" in failure.json()["detail"]
    assert client.get(f"/v1/tickets/{accepted[-1]}").status_code == 200, "reads go on"
    assert services.app.event_count() == before + len(accepted), "the refused command wrote nothing"

    _remount(small_disk, "size=50m")
    after = client.post("/v1/tickets", json=body)
    assert after.status_code == 201, after.text
    accepted.append(after.json()["ticket_id"])

    audit = client.get("/v1/audit/verify").json()
    assert audit["intact"], audit
    client.close()
    services.close()
    del client, services
    gc.collect()  # connections the thread pool's threads held
    db = sqlite3.connect(small_disk / "events.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    db.close()

    _remount(small_disk, "ro")  # the store turned read-only: a command refuses to start on it, clearly
    listed = run_cli("keys", "list", "--store-url", f"sqlite:///{small_disk / 'events.db'}")
    assert listed.returncode == 1 and "cannot open the store" in listed.stderr and "read" in listed.stderr.lower()
    _remount(small_disk, "rw")
    listed = run_cli("keys", "list", "--store-url", f"sqlite:///{small_disk / 'events.db'}")
    assert listed.returncode == 0 and '"role": "admin"' in listed.stdout
