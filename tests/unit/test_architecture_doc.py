"""docs/architecture.md stays true: every module or folder it names exists, and every
``module.py: name`` it points at is defined in that module."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
NAMED = re.compile(r"`((?:api|domain|projections|consumers|tools|docs|tests)/[\w/]*?(?:\.py|/)?)(?::\s*(\w+))?[`\s]")


def named_in_the_doc() -> list[tuple[str, str | None]]:
    return [(path, name) for path, name in NAMED.findall(DOC.read_text(encoding="utf-8"))]


def test_the_architecture_page_names_modules():
    assert len({path for path, _ in named_in_the_doc()}) >= 30


def test_every_module_the_architecture_page_names_exists():
    missing = sorted({path for path, _ in named_in_the_doc() if not (ROOT / path).exists()})
    assert missing == []


def test_every_name_the_architecture_page_points_at_is_defined_there():
    undefined = [
        f"{path}: {name}" for path, name in named_in_the_doc()
        if name and (ROOT / path).is_file()
        and not re.search(rf"^\s*(?:def|class)\s+{name}\b|^{name}\s*=", (ROOT / path).read_text(), re.MULTILINE)
    ]
    assert undefined == []
