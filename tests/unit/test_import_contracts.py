"""The import contracts of pyproject.toml ([tool.importlinter]) hold: the domain depends on nothing
outside itself, projections and consumers not on the API, and only the adapter modules name a
driver (kafka, psycopg, sqlite3)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
