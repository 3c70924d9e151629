"""Composition root: builds the application, the state store and every part the server, the CLI
and the tests use, from settings. Wiring only: what each part does lives in its own module.

- ``api.reading.ReadFacade``: the read side at a moment, one ticket at a moment, KPIs, reveal, deadlines;
- ``api.consumer_factories.ConsumerFactories``: projectors, relay, ingestor, watcher, checkpointer;
- ``api.audit_trail.AuditTrail``: the stored events as their bytes decode, and their verification.

Nothing connects at import time; every caller calls ``bootstrap`` (tests with their own clock,
policy, stores or vault). Kafka clients are created only when a consumer that needs them is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from api.audit_trail import AuditTrail
from api.consumer_factories import ConsumerFactories, projection_handlers
from api.keys import KeyService, load_server_secret
from api.reading import ReadFacade
from api.policy_files import read_policy
from api.settings import Settings
from api.vault import Vault, adopt_legacy_erasures
from domain.application import Clock, LifecycleRules, ServiceTrail
from domain.service_levels import ServicePolicy
from projections.audit import AuditCheckpointer
from projections.store import StateStore, private_file
from projections.ticket_state.store import open_load

__all__ = ["Services", "bootstrap", "projection_handlers", "system_clock"]


def system_clock() -> datetime:
    """The only clock read of the write side."""
    return datetime.now(timezone.utc)


@dataclass
class Services(ReadFacade, ConsumerFactories, AuditTrail):
    """The wired parts, and what they serve: reading, consumers and audit (each in its own module)."""

    settings: Settings
    app: ServiceTrail
    clock: Clock
    state: StateStore
    keys: KeyService
    vault: Vault
    policy: ServicePolicy  # the settings file's (version 0): in force until the log holds a version
    running: list[Any] = field(default_factory=list)
    _policy_versions: dict[int, Any] = field(default_factory=dict)

    def close(self) -> None:
        for consumer in self.running:
            consumer.stop()
        self.app.close()
        self.state.close()
        if self.vault.store is not self.state:
            self.vault.store.close()


def bootstrap(settings: Settings, *, clock: Clock | None = None, policy: ServicePolicy | None = None,
              state: StateStore | None = None, vault: Vault | None = None) -> Services:
    """Every part from ``settings``; a part handed in (a test's clock, policy, state store or vault)
    is used instead of the one the settings describe."""
    clock = clock or system_clock
    if policy is None:
        policy = read_policy(settings.policy_file) if settings.policy_file else ServicePolicy()
    path = settings.sqlite_path
    if path is not None:
        private_file(path)  # the event store: 0600 in a 0700 directory when this creates them
    rules = LifecycleRules(max_future_skew=settings.max_future_skew, reopen_window=settings.reopen_window)
    state = state or StateStore(settings.consumer_store_url)
    if vault is None:
        vault_url = settings.vault_store_url
        vault = Vault(state if vault_url == state.url else StateStore(vault_url))
    vault.adopt_keys(state)  # keys of earlier versions, kept in the state store, move to the vault
    app = ServiceTrail(settings.eventsourcing_env(), clock=clock, rules=rules, vault=vault,
                       open_load=lambda: open_load(state))
    adopt_legacy_erasures(app, state)
    with state.transaction() as tx:  # readers find every table even before a projector ran
        for handler in [*projection_handlers(policy, settings.timezone), AuditCheckpointer()]:
            handler.setup(tx)
    secret = load_server_secret(
        settings.secret_key.get_secret_value() if settings.secret_key else None,
        None if path is None else path.parent / "secret.key",
    )
    return Services(settings=settings, app=app, clock=clock, state=state, keys=KeyService(app, secret),
                    vault=vault, policy=policy)
