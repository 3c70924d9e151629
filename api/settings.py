"""All configuration, in one validated place: flags, then ``SERVICETRAIL_*`` variables, then defaults.

Nothing else reads the environment; eventsourcing's own ``env`` is derived from here.
"""

from __future__ import annotations

import re

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError

from api.policy_files import holiday_calendar, read_policy

if TYPE_CHECKING:
    from domain.service_levels import ServicePolicy

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
    state_store_url: str | None = Field(
        default=None,
        description="Where read models and consumer positions live; default: projections.db beside "
        "a SQLite event store, or the event store's PostgreSQL database.",
    )
    vault_url: str | None = Field(
        default=None,
        description="Where customers' personal-data keys live (back it up with the event store; no "
        "rebuild touches it); default: vault.db beside a SQLite event store, or the event store's "
        "PostgreSQL database (its own tables).",
    )
    kafka_bootstrap: str | None = Field(
        default=None, description="Kafka bootstrap servers (host:port,…); unset = embedded log."
    )
    events_topic: str = Field(default="servicetrail.events", min_length=1)
    inbound_topic: str = Field(default="servicetrail.inbound", min_length=1)
    inbound_dlq_topic: str = Field(default="servicetrail.inbound.dlq", min_length=1)
    topic_partitions: int = Field(default=6, ge=1, le=1000)
    topic_replication: int = Field(default=1, ge=1, le=10)
    consumer_group_prefix: str = Field(default="servicetrail", min_length=1)
    consumer_session_timeout_ms: int = Field(
        default=6000, ge=1000, le=300_000,
        description="Kafka consumer groups' session timeout: how long a member that died without leaving "
        "(SIGKILL, a lost host) keeps its partitions; a restarted consumer resumes after at most this.")
    consumer_instance_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9._-]{1,200}$",
        description="Kafka static group membership: a name stable across restarts and unique among the "
        "running processes (e.g. a StatefulSet pod name); a restarted process takes its partitions back "
        "at once. Unset: dynamic membership.")
    consumers: Literal["in-process", "none"] = Field(
        default="in-process",
        description="in-process: serve also runs the relay (with Kafka), projector and ingestor "
        "(with Kafka) in threads; none: run them as their own processes.",
    )
    workers: int = Field(
        default=1, ge=1, le=64,
        description="API processes serving the port (serve --workers); above 1 the consumers run in a process "
                    "of their own (see api/workers.py).")
    projector_source: Literal["auto", "embedded", "kafka"] = Field(
        default="auto", description="Where the projector reads: auto = Kafka when configured."
    )
    store_timeout_seconds: int = Field(
        default=5, ge=1, le=300,
        description="How long a request waits for an unreachable PostgreSQL store before a 503.")
    poll_interval_ms: int = Field(default=100, ge=1, le=60_000)
    consumer_linger_ms: int = Field(
        default=50, ge=0, le=10_000,
        description="How long an embedded-log consumer that caught up waits before its next batch, so that a steady "
                    "stream is handled in batches (0 = at once).")
    sla_action_grace_seconds: float = Field(
        default=60, ge=0, le=86_400,
        description="Channel delay the SLA watcher allows for: it judges each warning or due time this long after "
                    "it fell due (so buffered, back-dated events can arrive first), and never acts on one that was "
                    "already past by more than this when the ticket's opening was recorded.")
    relay_batch_size: int = Field(default=2000, ge=1, le=100_000)
    score_weights: dict[str, float] = Field(
        default={"fcr": 0.25, "csat": 0.25, "nps": 0.1, "speed": 0.2, "escalations": 0.1, "reopens": 0.1},
        description="Weights of the agent composite score (JSON object); parts: fcr, csat, nps, "
        "speed, escalations, reopens.",
    )

    @field_validator("workers")
    @classmethod
    def _workers_share_the_stores(cls, workers: int, info) -> int:
        """Several processes need stores they all see: an in-memory SQLite database is private to
        the process that opens it (each worker would have its own, empty one)."""
        if workers > 1:
            for name in ("store_url", "state_store_url", "vault_url"):
                url = info.data.get(name)
                if url and in_memory_sqlite(url):
                    raise ValueError(f"several workers cannot share the in-memory SQLite database of "
                                     f"{ENV_PREFIX}{name.upper()}; use a file (sqlite:///path.db) or PostgreSQL")
        return workers

    @field_validator("score_weights")
    @classmethod
    def _known_parts(cls, weights: dict[str, float]) -> dict[str, float]:
        known = {"fcr", "csat", "nps", "speed", "escalations", "reopens", "sla"}
        unknown = set(weights) - known
        if unknown:
            raise ValueError(f"unknown score parts {sorted(unknown)}; known: {sorted(known)}")
        if any(w < 0 for w in weights.values()) or not any(weights.values()):
            raise ValueError("weights must be non-negative and not all zero")
        return weights
    sla_compliance_target: float = Field(
        default=0.9, gt=0, le=1, allow_inf_nan=False,
        description="The share of resolved tickets within SLA the organisation aims at, per priority; the monthly "
                    "report states each priority against it and finds those below it.")
    max_future_skew_seconds: float = Field(
        default=300, ge=0, description="How far ahead of the server clock occurred_at may be."
    )
    reopen_window_days: float = Field(
        default=7, gt=0, description="How long after resolution a customer may reopen a ticket."
    )
    log_level: str = Field(default="info", pattern="^(critical|error|warning|info|debug)$")
    secret_key: SecretStr | None = Field(
        default=None,
        description="Server secret for hashing API keys (HMAC); default with SQLite: generated once "
        "into secret.key beside the store; required with PostgreSQL.",
    )
    policy_file: Path | None = Field(
        default=None, description="SLA/OLA policies, calendars and escalation chain (TOML); default: built in.")
    audit_checkpoint_interval: int = Field(default=1000, ge=1, le=1_000_000,
                                           description="Events between two audit checkpoints.")
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="Largest request body accepted (413 above).")
    rate_limit_per_minute: int = Field(default=6000, ge=0, description="Requests per minute per key, and per client "
                                       "address for requests without a valid key (0 = unlimited).")
    header_timeout_seconds: float = Field(default=10, gt=0, le=300, allow_inf_nan=False,
                                          description="A connection must send a complete request head within "
                                          "this time (of opening, or of the previous response), else it is closed.")
    timezone: str = Field(default="UTC", description="Time zone of the days and hours that hotspots, forecasts and "
                                                     "staffing count in (IANA name, e.g. Europe/Berlin).")
    data_dir: Path | None = Field(default=None, description="Folder of the shared data sets that `demo --from-data` "
                                                          "replays (default: shared/data beside the checkout).")
    holidays: str | None = Field(default=None, description="Public holidays that forecasts treat as special days: "
                                                           "a country code, optionally with subdivision (US-NY, DE-BY).")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        from domain.calendar import known_zone

        return known_zone(name)

    @field_validator("holidays")
    @classmethod
    def _known_holidays(cls, code: str | None) -> str | None:
        if not code:
            return None
        holiday_calendar(code, 2000)
        return code

    @field_validator("store_url", "state_store_url", "vault_url")
    @classmethod
    def _known_store(cls, url: str | None) -> str | None:
        if url is None:
            return None
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

    @field_validator("policy_file")
    @classmethod
    def _valid_policy(cls, path: Path | None) -> Path | None:
        if path is None:
            return None
        from domain.service_levels import PolicyError

        try:
            read_policy(path)
        except OSError as unreadable:
            raise ValueError(f"cannot read {path}: {unreadable.strerror}") from None
        except PolicyError as bad:
            raise ValueError(f"{path}: {bad}") from None
        return path

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

    @property
    def consumer_store_url(self) -> str:
        if self.state_store_url:
            return self.state_store_url
        path = self.sqlite_path
        if path is not None:
            return f"sqlite:///{path.parent / 'projections.db'}"
        return self.store_url

    @property
    def vault_store_url(self) -> str:
        """The vault's own store: never the disposable read-model database of a SQLite deployment."""
        if self.vault_url:
            return self.vault_url
        path = self.sqlite_path
        if path is not None:
            return f"sqlite:///{path.parent / 'vault.db'}"
        return self.store_url

    @property
    def uses_kafka_source(self) -> bool:
        if self.projector_source == "auto":
            return self.kafka_bootstrap is not None
        return self.projector_source == "kafka"

    def redacted_store_url(self, url: str | None = None) -> str:
        """A store URL without its password, safe for logs."""
        url = url or self.store_url
        parts = urlsplit(url)
        if parts.password is None:
            return url
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
            "POSTGRES_CONNECT_TIMEOUT": str(self.store_timeout_seconds),
        }
        schema = parse_qs(parts.query).get("schema")
        if schema:
            env["POSTGRES_SCHEMA"] = schema[0]
        return env


def in_memory_sqlite(url: str) -> bool:
    """Whether a store URL names an in-memory SQLite database (private to one process)."""
    return url.startswith("sqlite") and (":memory:" in url or "mode=memory" in url)


def load_settings(**overrides: object) -> Settings:
    """Settings from flags (``overrides``, ``None`` meaning "not given"), env and defaults.

    Raises ``SettingsError`` with one line naming the first bad setting.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except SourceError as unparsable:  # a structured setting (a JSON object) that is not JSON at all
        named = re.search(r'field "(\w+)"', str(unparsable))
        name = named.group(1) if named else "settings"
        raise SettingsError(f"invalid setting {ENV_PREFIX}{name.upper()}: not valid JSON "
                            f"(e.g. {ENV_PREFIX}{name.upper()}='{{\"fcr\": 0.5, \"csat\": 0.5}}')") from None
    except ValidationError as invalid:
        error = invalid.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "settings"
        source = "flag --" + name.replace("_", "-") if name in given else ENV_PREFIX + name.upper()
        raise SettingsError(f"invalid setting {source}: {error['msg']}") from None
