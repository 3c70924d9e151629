"""Composition root: builds the application, the state store and every consumer from settings.

Nothing connects at import time; the server, the CLI and the tests all call ``bootstrap`` (tests
with their own clock or settings). Kafka clients are created only when a consumer that needs
them is built.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from api.keys import KeyService, load_server_secret
from api.settings import Settings, read_policy
from api.vault import Vault, drop_legacy_erasures, legacy_erasures
from consumers.runtime import ConsumerRuntime, Handler
from consumers.sources import EmbeddedLogSource, Source
from domain.application import Clock, LifecycleRules, ServiceTrail
from domain.service_levels import ServicePolicy
from domain.sla_policies import PolicyBook
from projections.audit import AuditCheckpointer, StoredEntry, Witness, verify
from projections.arrivals import ArrivalsProjection
from projections.collection import collection_paused
from projections.moment import Moment
from projections.read_side import ReadView
from projections.store import StateStore, private_file
from projections.ticket_state.facts import SlaFacts
from projections.ticket_state.store import TicketStateProjection

if TYPE_CHECKING:
    from projections.planning import Planning


def system_clock() -> datetime:
    """The only clock read of the write side."""
    return datetime.now(timezone.utc)


def projection_handlers(policy: ServicePolicy | None = None) -> list[Handler]:
    """Every read model the projector maintains (ticket state judges SLA facts with ``policy``)."""
    return [TicketStateProjection(policy=policy), ArrivalsProjection()]


@dataclass
class Services:
    settings: Settings
    app: ServiceTrail
    clock: Clock
    state: StateStore
    keys: KeyService
    vault: Vault
    policy: ServicePolicy  # the settings file's (version 0): in force until the log holds a version
    running: list[Any] = field(default_factory=list)
    _policy_versions: dict[int, Any] = field(default_factory=dict)

    # ---------------------------------------------------------------------------- reading
    def log_events(self, page: int = 1000) -> Iterator[dict[str, Any]]:
        """Every ticket event of the store (public JSON documents), in global log order."""
        source = self.embedded_source()
        positions: dict[str, int] = {}
        while deliveries := source.poll(positions, page):
            for delivery in deliveries:
                if delivery.event is not None:
                    yield delivery.event
            positions["log"] = deliveries[-1].position

    @contextmanager
    def read(self, as_of: datetime | None = None, known_at: datetime | None = None) -> Iterator[ReadView]:
        """The read side at a moment (now, or as of T as known at K), from indexed state."""
        from uuid import UUID

        with collection_paused(), self.state.read() as tx:
            yield ReadView(tx, Moment(as_of, known_at), lambda ticket: self.app.ticket_events(UUID(ticket)),
                           SlaFacts(self.policy_book(tx)))

    def policy_book(self, tx: Any = None) -> PolicyBook:
        """Every policy version as the read side has applied it (each ticket row names its own)."""
        from projections.ticket_state.store import read_policy_book

        if tx is None:
            with self.state.read() as tx:
                return read_policy_book(tx, self.policy, known=self._policy_versions)
        return read_policy_book(tx, self.policy, known=self._policy_versions)

    def handlers(self) -> list[Handler]:
        return projection_handlers(self.policy)

    @property
    def zone(self):
        """The organisation's time zone: its days, weeks and months (``SERVICETRAIL_TIMEZONE``)."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.timezone)

    @property
    def planning(self) -> Planning:
        """Time zone and holiday calendar of hotspots, forecasts and staffing (from settings)."""
        from zoneinfo import ZoneInfo

        from api.settings import holiday_calendar
        from projections.planning import Planning  # numpy and scipy: only for the processes that plan

        code = self.settings.holidays
        return Planning(ZoneInfo(self.settings.timezone),
                        lambda first, last: holiday_calendar(code, *range(first, last + 1)) if code else frozenset())

    # ------------------------------------------------------------------------------ audit
    def stored_entries(self, page: int = 2000) -> Iterator[StoredEntry]:
        """Every stored ticket event exactly as its bytes decode (no validation: tampering shows)."""
        from consumers.sources import is_published_event, stored_document

        position = 0
        while notifications := self.app.recorder.select_notifications(
                start=position, limit=page, inclusive_of_start=False):
            for n in notifications:
                if is_published_event(n):
                    try:
                        doc = stored_document(self.app.mapper, n.state)
                        yield StoredEntry(n.id, str(n.originator_id), n.originator_version, doc)
                    except Exception as undecodable:  # any decoding failure is a finding, not a crash
                        yield StoredEntry(n.id, str(n.originator_id), n.originator_version, None,
                                          f"{type(undecodable).__name__}: {undecodable}")
            position = notifications[-1].id

    def verify_log(self, entries: Iterator[StoredEntry] | None = None) -> dict[str, Any]:
        with self.state.transaction() as tx:
            witness = Witness.read(tx)
        return verify(entries if entries is not None else self.stored_entries(), witness).as_dict()

    def watcher(self):
        from consumers.sla_watcher import SlaWatcher

        return SlaWatcher(self.app, self.embedded_source(), self.policy, self.clock,
                          grace=timedelta(seconds=self.settings.sla_action_grace_seconds),
                          idle_sleep=self.settings.poll_interval_ms / 1000)

    def checkpointer(self) -> ConsumerRuntime:
        return ConsumerRuntime(AuditCheckpointer(self.settings.audit_checkpoint_interval), self.embedded_source(),
                               self.state, idle_sleep=self.settings.poll_interval_ms / 1000)

    # ------------------------------------------------------------------------- consumers
    def embedded_source(self) -> EmbeddedLogSource:
        return EmbeddedLogSource(self.app.recorder, self.app.mapper)

    def kafka_source(self, handler_name: str) -> Source:
        from consumers.kafka import KafkaEventSource

        self.ensure_topics()
        group = f"{self.settings.consumer_group_prefix}-{handler_name}"
        return KafkaEventSource(self._bootstrap(), self.settings.events_topic, group,
                                session_timeout_ms=self.settings.consumer_session_timeout_ms,
                                instance_id=self.settings.consumer_instance_id)

    def projector(self, handler: Handler, *, source: str | None = None) -> ConsumerRuntime:
        use_kafka = self.settings.uses_kafka_source if source is None else source == "kafka"
        chosen = self.kafka_source(handler.name) if use_kafka else self.embedded_source()
        return ConsumerRuntime(handler, chosen, self.state,
                               idle_sleep=self.settings.poll_interval_ms / 1000)

    def relay(self, **producer_overrides: Any):
        from consumers.kafka import idempotent_producer
        from consumers.relay import Relay

        self.ensure_topics()
        producer = idempotent_producer(self._bootstrap(), **producer_overrides)
        return Relay(self.app.recorder, self.app.mapper, producer, self.state,
                     self.settings.events_topic, batch_size=self.settings.relay_batch_size,
                     idle_sleep=self.settings.poll_interval_ms / 1000)

    def ingestor(self):
        from kafka import KafkaConsumer

        from consumers.ingestor import Ingestor
        from consumers.kafka import group_membership, idempotent_producer

        self.ensure_topics()
        group = f"{self.settings.consumer_group_prefix}-ingestor"
        membership = group_membership(group, session_timeout_ms=self.settings.consumer_session_timeout_ms,
                                      instance_id=self.settings.consumer_instance_id)
        consumer = KafkaConsumer(
            self.settings.inbound_topic, bootstrap_servers=self._bootstrap(), **membership,
            enable_auto_commit=False, auto_offset_reset="earliest",
        )
        producer = idempotent_producer(self._bootstrap(), client_id="servicetrail-ingestor-dlq")
        return Ingestor(self.app, consumer, producer, self.settings.inbound_dlq_topic)

    def ensure_topics(self) -> None:
        from consumers.kafka import TopicSpec, ensure_topics

        s = self.settings
        kept = {"retention.ms": "-1", "min.insync.replicas": str(max(1, min(2, s.topic_replication - 1)))}
        ensure_topics(self._bootstrap(), [
            TopicSpec(s.events_topic, s.topic_partitions, s.topic_replication, kept),
            TopicSpec(s.inbound_topic, s.topic_partitions, s.topic_replication, {}),
            TopicSpec(s.inbound_dlq_topic, s.topic_partitions, s.topic_replication, kept),
        ])

    def _bootstrap(self) -> str:
        if not self.settings.kafka_bootstrap:
            raise RuntimeError("SERVICETRAIL_KAFKA_BOOTSTRAP is not set: this consumer needs Kafka")
        return self.settings.kafka_bootstrap

    def in_process_consumers(self) -> list[Any]:
        """What ``serve`` runs in threads by default: the projector, plus relay and ingestor with Kafka."""
        consumers: list[Any] = [self.projector(handler) for handler in self.handlers()]
        consumers.extend([self.checkpointer(), self.watcher()])
        if self.settings.kafka_bootstrap:
            consumers[:0] = [self.relay(), self.ingestor()]
        return consumers

    def deadline_state(self, row: Any, at: datetime | None = None) -> list[dict[str, Any]]:
        """Each deadline of the ticket at ``at`` (default now): due, remaining business time, paused, breached."""
        from domain.service_levels import calendar_of, deadlines

        moment = at or self.clock()
        policy = self.policy_book()[getattr(row, "policy_version", 0)]
        return [d.describe(moment, calendar_of(d, policy)) for d in deadlines(row, policy)]

    def reveal(self, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replaces sealed contact details by their plaintext, or by ``{"erased": true}``."""
        import json

        for document in documents:
            sealed = document.get("contact")
            if isinstance(sealed, dict) and "ciphertext" in sealed:
                plaintext = self.vault.unseal(sealed)
                document["contact"] = json.loads(plaintext) if plaintext is not None else {"erased": True}
        return documents

    def close(self) -> None:
        for consumer in self.running:
            consumer.stop()
        self.app.close()
        self.state.close()
        if self.vault.store is not self.state:
            self.vault.store.close()


def open_load(state: StateStore) -> dict[str, int]:
    """Open tickets per assignee, from the ticket-state read model (routing's "least load")."""
    from projections.ticket_state.fold import OPEN_STATUSES

    marks = ",".join("?" * len(OPEN_STATUSES))
    with state.transaction() as tx:
        rows = tx.fetchall(f"SELECT assignee_id, COUNT(*) FROM ticket_state WHERE status IN ({marks}) "
                           "AND assignee_id IS NOT NULL GROUP BY assignee_id", tuple(sorted(OPEN_STATUSES)))
    return {agent: count for agent, count in rows}


def adopt_legacy_erasures(app: ServiceTrail, state: StateStore) -> int:
    """Turns the erasure table of earlier versions (one row per customer, in the state store) into
    ``customer.personal_data_erased`` events, then drops it. Rows already recorded (an interrupted
    earlier start) are not recorded twice."""
    rows = legacy_erasures(state)
    moved = 0
    for customer_id, erased_at, erased_by in rows:
        at = datetime.fromisoformat(erased_at)
        if any(e.erased_at == at and e.erased_by == erased_by for e in app.erasures_of(customer_id)):
            continue
        app.record_erasure(customer_id, had_personal_data=None, actor=erased_by, at=at)
        moved += 1
    drop_legacy_erasures(state)
    return moved


def bootstrap(settings: Settings, *, clock: Clock | None = None) -> Services:
    clock = clock or system_clock
    policy = read_policy(settings.policy_file) if settings.policy_file else ServicePolicy()
    path = settings.sqlite_path
    if path is not None:
        private_file(path)  # the event store: 0600 in a 0700 directory when this creates them
    rules = LifecycleRules(
        max_future_skew=settings.max_future_skew, reopen_window=settings.reopen_window
    )
    state = StateStore(settings.consumer_store_url)
    vault_url = settings.vault_store_url
    vault = Vault(state if vault_url == state.url else StateStore(vault_url))
    vault.adopt_keys(state)  # keys of earlier versions, kept in the state store, move to the vault
    app = ServiceTrail(settings.eventsourcing_env(), clock=clock, rules=rules, vault=vault,
                       open_load=lambda: open_load(state))
    adopt_legacy_erasures(app, state)
    with state.transaction() as tx:  # readers find every table even before a projector ran
        for handler in [*projection_handlers(policy), AuditCheckpointer()]:
            handler.setup(tx)
    secret = load_server_secret(
        settings.secret_key.get_secret_value() if settings.secret_key else None,
        None if path is None else path.parent / "secret.key",
    )
    return Services(settings=settings, app=app, clock=clock, state=state, keys=KeyService(app, secret),
                    vault=vault, policy=policy)
