"""The consumers the wired services build: projectors, relay, ingestor, deadline watcher and audit
checkpointer, each from settings. Kafka clients are created only when a consumer that needs them
is built (the adapters in ``consumers.kafka`` create them)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from consumers.runtime import ConsumerRuntime, Handler
from consumers.sources import EmbeddedLogSource, Source
from projections.arrivals import ArrivalsProjection
from projections.audit import AuditCheckpointer
from projections.ticket_state.store import TicketStateProjection

if TYPE_CHECKING:
    from collections.abc import Iterator

    from api.settings import Settings
    from domain.application import Clock, ServiceTrail
    from domain.service_levels import ServicePolicy
    from projections.store import StateStore


CATCH_UP_BATCH = 5000  # events per transaction of a projector behind the embedded log (``ConsumerRuntime``)


def projection_handlers(policy: ServicePolicy | None = None, zone: str = "UTC") -> list[Handler]:
    """Every read model the projector maintains (ticket state judges SLA facts with ``policy`` and
    rolls its facts up per day and month of ``zone``)."""
    return [TicketStateProjection(policy=policy, zone=zone), ArrivalsProjection()]


class ConsumerFactories:
    """The consumer-building half of the wired services (a part of ``api.bootstrap.Services``)."""

    settings: Settings
    app: ServiceTrail
    clock: Clock
    state: StateStore
    policy: ServicePolicy

    def handlers(self) -> list[Handler]:
        return projection_handlers(self.policy, self.settings.timezone)

    def log_events(self, page: int = 1000) -> Iterator[dict[str, Any]]:
        """Every ticket event of the store (public JSON documents), in global log order."""
        source = self.embedded_source()
        positions: dict[str, int] = {}
        while deliveries := source.poll(positions, page):
            for delivery in deliveries:
                if delivery.event is not None:
                    yield delivery.event
            positions["log"] = deliveries[-1].position

    def watcher(self):
        from consumers.sla_watcher import SlaWatcher

        return self._lingering(SlaWatcher(self.app, self.embedded_source(), self.policy, self.clock,
                                          grace=timedelta(seconds=self.settings.sla_action_grace_seconds),
                                          idle_sleep=self.settings.poll_interval_ms / 1000))

    def checkpointer(self) -> ConsumerRuntime:
        return self._lingering(ConsumerRuntime(AuditCheckpointer(self.settings.audit_checkpoint_interval),
                                               self.embedded_source(), self.state,
                                               idle_sleep=self.settings.poll_interval_ms / 1000))

    def _lingering(self, consumer: Any) -> Any:
        """A consumer of the embedded log batches a steady stream (``PollingLoop.linger``): polled at
        once after each command, it would spend a transaction and a commit on every event."""
        consumer.linger = self.settings.consumer_linger_ms / 1000
        return consumer

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
        runtime = ConsumerRuntime(handler, chosen, self.state, idle_sleep=self.settings.poll_interval_ms / 1000,
                                  catch_up_batch_size=None if use_kafka else CATCH_UP_BATCH)
        return runtime if use_kafka else self._lingering(runtime)

    def relay(self, **producer_overrides: Any):
        from consumers.kafka import idempotent_producer
        from consumers.relay import Relay

        self.ensure_topics()
        producer = idempotent_producer(self._bootstrap(), **producer_overrides)
        return Relay(self.app.recorder, self.app.mapper, producer, self.state,
                     self.settings.events_topic, batch_size=self.settings.relay_batch_size,
                     idle_sleep=self.settings.poll_interval_ms / 1000)

    def ingestor(self):
        from consumers.ingestor import Ingestor
        from consumers.kafka import idempotent_producer, inbound_consumer

        self.ensure_topics()
        consumer = inbound_consumer(self._bootstrap(), self.settings.inbound_topic,
                                    f"{self.settings.consumer_group_prefix}-ingestor",
                                    session_timeout_ms=self.settings.consumer_session_timeout_ms,
                                    instance_id=self.settings.consumer_instance_id)
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
