"""Runs Apache Kafka's own broker (KRaft mode) from the jars under tools/kafka/lib, on Java 17.

One broker for the tests and the dev script, or a cluster of N combined broker+controller nodes
(replication across them) for the fault tests. Ports are free loopback ports; storage lives in a
temporary folder that is removed on stop. Used by ``scripts/kafka-broker.sh`` and
``tests/support/kafka.py``.
"""

from __future__ import annotations

import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIB = HERE / "lib"
POM = HERE / "pom.xml"


class BrokerUnavailable(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_jars() -> None:
    """Resolves the broker's jars from Maven Central once (a few seconds with a warm ~/.m2)."""
    if any(LIB.glob("kafka_2.13-*.jar")):
        return
    if not shutil.which("mvn"):
        raise BrokerUnavailable("Maven (mvn) is needed to fetch Kafka's jars: apt-get install maven")
    result = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies"],
        capture_output=True, text=True,
    )
    if result.returncode != 0 or not any(LIB.glob("kafka_2.13-*.jar")):
        raise BrokerUnavailable(f"could not resolve Kafka's jars: {result.stdout[-2000:]}{result.stderr[-2000:]}")


def _java() -> str:
    java = shutil.which("java")
    if not java:
        raise BrokerUnavailable("Java 17+ is needed to run the Kafka broker")
    return java


@dataclass
class Node:
    node_id: int
    port: int
    controller_port: int
    workdir: Path
    process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class KafkaCluster:
    nodes: list[Node]
    base: Path
    cluster_id: str
    jvm_heap: str = "512m"
    extra_config: dict[str, str] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return ",".join(node.address for node in self.nodes)

    # ------------------------------------------------------------------------ lifecycle
    def _config(self, node: Node) -> Path:
        replication = min(3, len(self.nodes))
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)
        config = {
            "process.roles": "broker,controller",
            "node.id": str(node.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{node.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(node.workdir / "data"),
            "num.partitions": "3",
            "default.replication.factor": str(replication),
            "min.insync.replicas": str(max(1, replication - 1)),
            "offsets.topic.replication.factor": str(replication),
            "offsets.topic.num.partitions": "6",
            "transaction.state.log.replication.factor": str(replication),
            "transaction.state.log.min.isr": str(max(1, replication - 1)),
            "transaction.state.log.num.partitions": "6",
            "share.coordinator.state.topic.replication.factor": str(replication),
            "share.coordinator.state.topic.min.isr": str(max(1, replication - 1)),
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "log.flush.interval.messages": "9223372036854775807",
            **self.extra_config,
        }
        path = node.workdir / "server.properties"
        path.write_text("".join(f"{key}={value}\n" for key, value in config.items()))
        return path

    def _command(self, *args: str) -> list[str]:
        return [
            _java(), f"-Xmx{self.jvm_heap}", "-Xms128m", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={HERE / 'log4j2.properties'}",
            "-cp", f"{LIB}/*", *args,
        ]

    def format(self) -> None:
        for node in self.nodes:
            config = self._config(node)
            result = subprocess.run(
                self._command("kafka.tools.StorageTool", "format", "-t", self.cluster_id, "-c", str(config),
                              "--ignore-formatted"),
                capture_output=True, text=True,
            )
            if result.returncode != 0:
                raise BrokerUnavailable(f"formatting KRaft storage failed: {result.stdout}{result.stderr}")

    def start_node(self, node: Node) -> None:
        log = open(node.workdir / "broker.log", "ab")
        node.process = subprocess.Popen(
            self._command("kafka.Kafka", str(node.workdir / "server.properties")),
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    def stop_node(self, node: Node, *, kill: bool = False, timeout: float = 30) -> None:
        process = node.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def start(self, timeout: float = 90) -> None:
        for node in self.nodes:
            self.start_node(node)
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float = 90, nodes: list[Node] | None = None) -> None:
        """Waits until every node answers a metadata request with all brokers registered."""
        from kafka import KafkaAdminClient

        nodes = nodes or self.nodes
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            for node in nodes:
                if node.process is not None and node.process.poll() is not None:
                    raise BrokerUnavailable(f"broker {node.node_id} exited: {self.tail_log(node)}")
            try:
                admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000,
                                         bootstrap_timeout_ms=5000)
                try:
                    brokers = admin.describe_cluster().get("brokers", [])
                finally:
                    admin.close()
                if len(brokers) >= len(nodes):
                    return
            except Exception as error:  # not up yet
                last_error = error
            time.sleep(0.3)
        raise BrokerUnavailable(f"Kafka did not answer within {timeout}s: {last_error}; {self.tail_log(nodes[0])}")

    def tail_log(self, node: Node, size: int = 3000) -> str:
        path = node.workdir / "broker.log"
        return path.read_text(errors="replace")[-size:] if path.exists() else ""

    def stop(self) -> None:
        for node in self.nodes:
            self.stop_node(node)
        shutil.rmtree(self.base, ignore_errors=True)


def new_cluster_id() -> str:
    """A random KRaft cluster id that no command line can mistake for an option.

    Kafka's own ``Uuid.randomUuid`` draws again when the base64 text starts with ``-``: the storage tool's
    argument parser reads ``-t -Abc…`` as a missing value followed by an unknown option (one CI run in 64 failed so).
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def new_cluster(size: int = 1, *, base: Path | None = None, **config: str) -> KafkaCluster:
    ensure_jars()
    base = base or Path(tempfile.mkdtemp(prefix="servicetrail-kafka-"))
    nodes = []
    for node_id in range(1, size + 1):
        workdir = base / f"node-{node_id}"
        workdir.mkdir(parents=True, exist_ok=True)
        nodes.append(Node(node_id=node_id, port=free_port(), controller_port=free_port(), workdir=workdir))
    cluster = KafkaCluster(nodes=nodes, base=base, cluster_id=new_cluster_id(), extra_config=dict(config))
    cluster.format()
    return cluster


def main() -> None:
    """``python tools/kafka/broker.py [SIZE]``: start a broker (or cluster) until Ctrl-C."""
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    started = time.monotonic()
    cluster = new_cluster(size)
    try:
        cluster.start()
        print(f"kafka: {size} broker(s) ready in {time.monotonic() - started:.1f}s")
        print(f"kafka: bootstrap {cluster.bootstrap}")
        print(f"export SERVICETRAIL_KAFKA_BOOTSTRAP={cluster.bootstrap}", flush=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
