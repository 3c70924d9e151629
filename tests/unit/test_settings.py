"""Settings: defaults, environment, flags, derived eventsourcing env, and one-line errors."""

from __future__ import annotations

import pytest

from api.settings import Settings, SettingsError, load_settings


def test_defaults_are_the_embedded_sqlite_store(monkeypatch):
    for name in ("STORE_URL", "PORT", "HOST"):
        monkeypatch.delenv(f"SERVICETRAIL_{name}", raising=False)
    settings = load_settings()
    assert settings.store_url == "sqlite:///.servicetrail/servicetrail.db"
    assert settings.eventsourcing_env()["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert settings.eventsourcing_env()["SQLITE_DBNAME"] == ".servicetrail/servicetrail.db"


def test_flags_override_environment_which_overrides_defaults(monkeypatch):
    monkeypatch.setenv("SERVICETRAIL_PORT", "9001")
    monkeypatch.setenv("SERVICETRAIL_HOST", "0.0.0.0")
    settings = load_settings(port=9002, host=None)
    assert settings.port == 9002 and settings.host == "0.0.0.0"


def test_postgres_url_becomes_eventsourcing_settings():
    env = Settings(store_url="postgresql://svc:s%40cret@db.local:6543/trail?schema=prod").eventsourcing_env()
    assert env == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres", "POSTGRES_DBNAME": "trail",
        "POSTGRES_HOST": "db.local", "POSTGRES_PORT": "6543", "POSTGRES_USER": "svc",
        "POSTGRES_PASSWORD": "s@cret", "POSTGRES_SCHEMA": "prod", "POSTGRES_CONNECT_TIMEOUT": "5",
    }


def test_redacted_store_url_hides_the_password():
    settings = Settings(store_url="postgresql://svc:hunter2@db:5432/trail")
    assert "hunter2" not in settings.redacted_store_url()
    assert settings.redacted_store_url() == "postgresql://svc:***@db:5432/trail"


@pytest.mark.parametrize(
    ("env", "overrides", "named"),
    [
        ({"SERVICETRAIL_STORE_URL": "mysql://x/y"}, {}, "SERVICETRAIL_STORE_URL"),
        ({"SERVICETRAIL_PORT": "70000"}, {}, "SERVICETRAIL_PORT"),
        ({}, {"port": 0}, "flag --port"),
        ({"SERVICETRAIL_LOG_LEVEL": "loud"}, {}, "SERVICETRAIL_LOG_LEVEL"),
        ({"SERVICETRAIL_STORE_URL": "postgresql://"}, {}, "SERVICETRAIL_STORE_URL"),
    ],
)
def test_a_bad_setting_is_one_line_naming_it(monkeypatch, env, overrides, named):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as bad:
        load_settings(**overrides)
    assert str(bad.value).startswith(f"invalid setting {named}:")
    assert "\n" not in str(bad.value)


def test_unknown_servicetrail_variables_are_ignored_not_fatal(monkeypatch):
    monkeypatch.setenv("SERVICETRAIL_TEST_POSTGRES_URL", "postgresql://x@y/z")
    assert load_settings().port >= 1


def test_a_setting_that_is_not_json_is_one_line_naming_it(monkeypatch):
    monkeypatch.setenv("SERVICETRAIL_SCORE_WEIGHTS", "not json")
    with pytest.raises(SettingsError) as bad:
        load_settings()
    assert "\n" not in str(bad.value)
    assert str(bad.value).startswith("invalid setting SERVICETRAIL_SCORE_WEIGHTS: not valid JSON")
