"""docker-compose.yml stays true to the code: every command is a CLI command with real options,
and every SERVICETRAIL_* variable is a real setting with a valid value."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
import yaml

from api.cli import cli
from api.settings import ENV_PREFIX, Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def servicetrail_services() -> dict[str, dict]:
    return {name: spec for name, spec in compose()["services"].items() if "command" in spec}


def test_every_service_runs_a_real_cli_command_with_real_options():
    group = typer.main.get_command(cli)
    services = servicetrail_services()
    assert {"api", "relay", "projector", "ingestor", "watcher"} <= set(services)
    for name, spec in services.items():
        args = list(spec["command"])
        context = group.make_context("servicetrail", list(args), resilient_parsing=False)
        subcommand_name, subcommand, rest = group.resolve_command(context, args)
        assert subcommand is not None, f"{name}: no command {args[0]}"
        subcommand.make_context(subcommand_name, rest)  # raises a usage error on a bad option


def test_every_setting_passed_is_a_real_setting_with_a_valid_value():
    fields = set(Settings.model_fields)
    for name, spec in servicetrail_services().items():
        environment = spec.get("environment", {})
        assert environment, f"{name} passes no settings"
        values = {}
        for variable, value in environment.items():
            assert variable.startswith(ENV_PREFIX), f"{name}: {variable} is not a servicetrail setting"
            field = variable.removeprefix(ENV_PREFIX).lower()
            assert field in fields, f"{name}: {variable} is not a setting"
            values[field] = value
        Settings(**values)  # validates every value


def test_the_image_used_by_compose_exists():
    dockerfile = ROOT / compose()["x-servicetrail"]["build"]["dockerfile"]
    assert dockerfile.exists()
    assert 'ENTRYPOINT ["servicetrail"]' in dockerfile.read_text()


def test_unknown_options_are_detected():
    group = typer.main.get_command(cli)
    context = group.make_context("servicetrail", ["relay", "--nope"])
    _, subcommand, rest = group.resolve_command(context, ["relay", "--nope"])
    with pytest.raises(Exception, match="No such option"):
        subcommand.make_context("relay", rest)
