"""All configuration, in one validated place: flags, then ``SERVICETRAIL_*`` variables, then defaults.

Nothing else reads the environment; eventsourcing's own ``env`` is derived from here.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENV_PREFIX = "SERVICETRAIL_"


class SettingsError(Exception):
    """A setting is invalid; the message is one line that names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    store_url: str = Field(
        default="sqlite:///.servicetrail/servicetrail.db",
        description="Event store: sqlite:///relative.db, sqlite:////absolute.db or "
        "postgresql://user:password@host:port/dbname[?schema=name].",
    )
    host: str = Field(default="127.0.0.1", description="Address the API server listens on.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port the API server listens on.")
    kafka_bootstrap: str | None = Field(
        default=None, description="Kafka bootstrap servers (host:port,…); unset = embedded log."
    )
    max_future_skew_seconds: float = Field(
        default=300, ge=0, description="How far ahead of the server clock occurred_at may be."
    )
    reopen_window_days: float = Field(
        default=7, gt=0, description="How long after resolution a customer may reopen a ticket."
    )
    log_level: str = Field(default="info", pattern="^(critical|error|warning|info|debug)$")

    @field_validator("store_url")
    @classmethod
    def _known_store(cls, url: str) -> str:
        scheme = urlsplit(url).scheme
        if scheme == "sqlite":
            if not url.startswith("sqlite:///") or url == "sqlite:///":
                raise ValueError("a SQLite URL looks like sqlite:///path/to/file.db")
        elif scheme in ("postgresql", "postgres"):
            parts = urlsplit(url)
            if not parts.hostname or not parts.path.strip("/"):
                raise ValueError("a PostgreSQL URL looks like postgresql://user:pass@host:5432/dbname")
        else:
            raise ValueError("must start with sqlite:/// or postgresql://")
        return url

    # ------------------------------------------------------------------------------ derived
    @property
    def max_future_skew(self) -> timedelta:
        return timedelta(seconds=self.max_future_skew_seconds)

    @property
    def reopen_window(self) -> timedelta:
        return timedelta(days=self.reopen_window_days)

    @property
    def sqlite_path(self) -> Path | None:
        if not self.store_url.startswith("sqlite:///"):
            return None
        return Path(self.store_url.removeprefix("sqlite:///"))

    def redacted_store_url(self) -> str:
        """The store URL without its password, safe for logs."""
        parts = urlsplit(self.store_url)
        if parts.password is None:
            return self.store_url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()

    def eventsourcing_env(self) -> dict[str, str]:
        """The persistence settings the eventsourcing library reads, derived from ``store_url``."""
        path = self.sqlite_path
        if path is not None:
            return {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(path),
                "SQLITE_LOCK_TIMEOUT": "30",
            }
        parts = urlsplit(self.store_url)
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")),
            "POSTGRES_HOST": parts.hostname or "localhost",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
        }
        schema = parse_qs(parts.query).get("schema")
        if schema:
            env["POSTGRES_SCHEMA"] = schema[0]
        return env


def load_settings(**overrides: object) -> Settings:
    """Settings from flags (``overrides``, ``None`` meaning "not given"), env and defaults.

    Raises ``SettingsError`` with one line naming the first bad setting.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "settings"
        source = "flag --" + name.replace("_", "-") if name in given else ENV_PREFIX + name.upper()
        raise SettingsError(f"invalid setting {source}: {error['msg']}") from None
