"""``servicetrail keys`` and ``servicetrail customers erase`` as an administrator runs them."""

from __future__ import annotations

import json
import re

from tests.e2e.test_cli import run_cli


def test_keys_are_created_listed_and_revoked(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.db'}"
    created = run_cli("keys", "create", "--role", "auditor", "--principal", "kim", "--label", "audit 2026",
                      "--store-url", url)
    assert created.returncode == 0, created.stderr
    key_id = re.search(r"key ([0-9a-f]{12}) \(auditor:kim\)", created.stdout).group(1)
    assert re.search(rf"st_{key_id}_\S+", created.stdout), "the key is printed once, at creation"
    listed = [json.loads(line) for line in run_cli("keys", "list", "--store-url", url).stdout.splitlines()]
    assert [(k["key_id"], k["role"], k["revoked_at"]) for k in listed] == [(key_id, "auditor", None)]
    assert "st_" not in json.dumps(listed), "listing never shows a secret"
    assert run_cli("keys", "revoke", key_id, "--store-url", url).returncode == 0
    again = run_cli("keys", "revoke", key_id, "--store-url", url)
    assert again.returncode == 1 and "already revoked" in again.stderr
    assert run_cli("keys", "revoke", "000000000000", "--store-url", url).returncode == 1
    listed = [json.loads(line) for line in run_cli("keys", "list", "--store-url", url).stdout.splitlines()]
    assert listed[0]["revoked_at"] is not None


def test_customers_erase(tmp_path):
    url = f"sqlite:///{tmp_path / 'events.db'}"
    result = run_cli("customers", "erase", "cust-1", "--store-url", url)
    assert result.returncode == 0 and "erased the personal data of cust-1 (none was stored)" in result.stdout
