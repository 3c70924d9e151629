"""The ``servicetrail`` command: settings errors are one clear line; ``serve`` really serves."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.postgres import free_port

SERVICETRAIL = [sys.executable, "-m", "api.cli"]
ROOT = Path(__file__).resolve().parents[2]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    import os

    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([*SERVICETRAIL, *args], capture_output=True, text=True, env=full_env,
                          cwd=cwd, timeout=60)


def test_a_bad_environment_setting_stops_with_one_line_naming_it():
    result = run_cli("serve", env={"SERVICETRAIL_PORT": "eighty"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "servicetrail: invalid setting SERVICETRAIL_PORT: "
        "Input should be a valid integer, unable to parse string as an integer"
    ]


def test_a_bad_flag_value_names_the_flag():
    result = run_cli("serve", "--store-url", "mysql://db/x")
    assert result.returncode == 2
    assert "invalid setting flag --store-url" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_answers_on_the_embedded_default_and_prints_an_admin_key_once(tmp_path):
    import os
    import re

    port = free_port()
    output = tmp_path / "serve.log"

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [*SERVICETRAIL, "serve", "--port", str(port)], cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=output.open("w"), stderr=subprocess.STDOUT,
        )

    def wait_healthy(process: subprocess.Popen) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    assert json.load(response) == {"status": "ok"}
                    return
            except OSError:
                assert process.poll() is None, output.read_text()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.2)

    process = start()
    try:
        wait_healthy(process)
        keys = re.findall(r"st_[0-9a-f]{12}_[A-Za-z0-9_-]+", output.read_text())
        assert len(keys) == 1, "the first start prints one admin key"
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/tickets", method="POST",
            data=json.dumps({"customer_id": "c", "channel": "web", "category": "x", "subject": "y"}).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {keys[0]}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 201
        assert (tmp_path / ".servicetrail" / "servicetrail.db").exists()
        assert oct((tmp_path / ".servicetrail" / "secret.key").stat().st_mode & 0o777) == "0o600"
    finally:
        process.terminate()
        process.wait(timeout=10)
    process = start()
    try:
        wait_healthy(process)
        assert len(re.findall(r"st_[0-9a-f]{12}_", output.read_text())) == 0, "not printed again"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_staffing_answers_the_worked_example():
    result = run_cli("staffing", "--calls", "100", "--interval", "30m", "--aht", "180",
                     "--service-level", "0.8", "--answer-seconds", "20")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["agents"] == 14 and answer["traffic_erlangs"] == 10.0
    bad = run_cli("staffing", "--calls", "100", "--aht", "180", "--interval", "soon")
    assert bad.returncode == 2 and "--interval" in bad.stderr
