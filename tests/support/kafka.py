"""Real Apache Kafka for tests: the broker jars from Maven Central (tools/kafka/pom.xml), run on
the machine's Java in KRaft mode. See tools/kafka/broker.py."""

from tools.kafka.broker import BrokerUnavailable, KafkaCluster, new_cluster

__all__ = ["BrokerUnavailable", "KafkaCluster", "new_cluster"]
