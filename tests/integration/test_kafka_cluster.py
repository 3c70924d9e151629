"""The broker fixture also runs a 3-broker KRaft cluster (replication 3, min.insync.replicas 2) for
fault tests: with one broker stopped, acknowledged writes still succeed and nothing is lost."""

from __future__ import annotations

import pytest
from kafka import KafkaAdminClient, KafkaProducer

from tests.support.kafka import new_cluster
from tests.support.topics import read_topic


@pytest.mark.slow
def test_a_three_broker_cluster_survives_one_broker_down():
    cluster = new_cluster(3)
    try:
        cluster.start()
        admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap)
        admin.create_topics({"replicated": {"num_partitions": 3, "replication_factor": 3,
                                            "configs": {"min.insync.replicas": "2"}}})
        admin.close()
        producer = KafkaProducer(bootstrap_servers=cluster.bootstrap, acks="all", enable_idempotence=True)
        for n in range(50):
            producer.send("replicated", key=str(n % 5).encode(), value=f"before-{n}".encode()).get(timeout=30)
        cluster.stop_node(cluster.nodes[2])
        for n in range(50):
            producer.send("replicated", key=str(n % 5).encode(), value=f"during-{n}".encode()).get(timeout=60)
        producer.close()
        values = {r.value.decode() for r in read_topic(cluster.bootstrap, "replicated", timeout=60)}
        assert len(values) == 100
    finally:
        cluster.stop()
