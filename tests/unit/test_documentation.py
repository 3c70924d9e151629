"""Every setting and every command a user can type is documented in the README."""

from __future__ import annotations

from pathlib import Path

import typer

from api.cli import cli
from api.settings import ENV_PREFIX, Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_every_setting_is_documented():
    missing = [ENV_PREFIX + name.upper() for name in Settings.model_fields if ENV_PREFIX + name.upper() not in README]
    assert missing == []


def test_every_command_is_documented():
    group = typer.main.get_command(cli)
    names = []
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            names.extend(f"servicetrail {name} {sub}" for sub in command.commands)
        else:
            names.append(f"servicetrail {name}")
    missing = [name for name in names if name not in README]
    assert missing == []
