"""STYLE rule 1: the domain and the projections read no clock, draw no randomness, and read no
environment. (Import boundaries are checked by import-linter in the test command.)"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = re.compile(r"now\(|time\.time|random|os\.environ|os\.getenv")


def test_domain_and_projections_read_no_clock_randomness_or_environment():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for folder in ("domain", "projections")
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if FORBIDDEN.search(line)
    ]
    assert offenders == []


def test_only_the_settings_module_reads_the_environment():
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("domain", "projections", "consumers", "api")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "settings.py" and re.search(r"os\.environ|os\.getenv", path.read_text())
    ]
    assert offenders == []
