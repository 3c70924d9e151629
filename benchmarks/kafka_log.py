"""Relay and projector throughput through a real Kafka broker, each beside its bare baseline in
the same run: a bare kafka-python producer sending the very same records, and a bare kafka-python
consume loop reading the same topic. Targets: relay ≥ 70 % of bare, projector ≥ 50 %."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path

from kafka import KafkaConsumer, TopicPartition

from api.bootstrap import bootstrap
from api.settings import Settings
from benchmarks.common import Result, median_rate
from benchmarks.traffic import fill
from consumers.kafka import event_record, idempotent_producer
from consumers.sources import is_ticket_event, stored_document
from projections.ticket_state.store import TicketStateProjection
from tools.kafka.broker import new_cluster


def run(events: int = 50_000, repeats: int = 3) -> list[Result]:
    cluster = new_cluster(1)
    cluster.start()
    workdir = Path(tempfile.mkdtemp(prefix="servicetrail-bench-"))
    try:
        base = Settings(store_url=f"sqlite:///{workdir / 'events.db'}", kafka_bootstrap=cluster.bootstrap,
                        state_store_url=f"sqlite:///{workdir / 'state.db'}", topic_partitions=6)
        services = bootstrap(base)
        written = fill(services.app, events)
        records = [event_record(n.id, stored_document(services.app.mapper, n.state))
                   for n in services.app.recorder.select_notifications(start=1, limit=written + 10)
                   if is_ticket_event(n)]
        print(f"  log: {written} events")

        def bare_producer() -> int:
            topic = f"bare-{uuid.uuid4().hex[:6]}"
            bootstrap_topic(services, topic)
            producer = idempotent_producer(cluster.bootstrap)
            futures = [producer.send(topic, key=k, value=v, headers=h) for k, v, h in records]
            producer.flush()
            for future in futures:
                future.get(timeout=0)
            producer.close()
            return len(records)

        topics = []

        def relay() -> int:
            topic = f"relay-{uuid.uuid4().hex[:6]}"
            topics.append(topic)
            settings = Settings.model_validate({**base.model_dump(), "events_topic": topic})
            run_services = bootstrap(settings)
            with run_services.state.transaction() as tx:
                tx.forget("relay")
            relay = run_services.relay()
            count = relay.run_until_caught_up()
            relay.producer.close()
            run_services.close()
            return count

        bare_rate = median_rate(bare_producer, repeats)
        relay_rate = median_rate(relay, repeats)
        topic = topics[-1]

        def bare_consumer() -> int:
            consumer = KafkaConsumer(bootstrap_servers=cluster.bootstrap, enable_auto_commit=False,
                                     max_poll_records=2000, fetch_max_bytes=32 * 1024 * 1024,
                                     max_partition_fetch_bytes=8 * 1024 * 1024)
            partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
            ends = consumer.end_offsets(partitions)
            count = 0
            while any(consumer.position(tp) < ends[tp] for tp in partitions):
                for batch in consumer.poll(timeout_ms=500).values():
                    count += len(batch)
            consumer.close()
            return count

        def projector() -> int:
            settings = Settings.model_validate({**base.model_dump(), "events_topic": topic,
                                                "consumer_group_prefix": f"bench-{uuid.uuid4().hex[:6]}"})
            run_services = bootstrap(settings)
            runtime = run_services.projector(TicketStateProjection(), source="kafka")
            runtime.batch_size = 2000
            runtime.reset()
            count = 0
            while count < written:
                count += runtime.run_once()
            runtime.source.close()
            run_services.close()
            return count

        bare_consume_rate = median_rate(bare_consumer, repeats)
        projector_rate = median_rate(projector, repeats)
        services.close()
        return [
            Result("relay → Kafka", relay_rate, bare_rate, "events/s", "≥ 70 % of bare producer",
                   relay_rate >= 0.7 * bare_rate, f"{written} events, median of {repeats}"),
            Result("projector ← Kafka (ticket_state, SQLite)", projector_rate, bare_consume_rate, "events/s",
                   "≥ 50 % of bare consumer", projector_rate >= 0.5 * bare_consume_rate,
                   f"{written} events, median of {repeats}"),
        ]
    finally:
        cluster.stop()


def bootstrap_topic(services, topic: str) -> None:
    from consumers.kafka import TopicSpec, ensure_topics

    ensure_topics(services.settings.kafka_bootstrap, [TopicSpec(topic, services.settings.topic_partitions, 1, {})])
