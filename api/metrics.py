"""Prometheus metrics of one server process (``GET /metrics``, text exposition format).

What an operator's dashboards and alerts read instead of polling ``/ready``:
- ``servicetrail_http_request_duration_seconds{route,method,status}``: a histogram per route
  *template* (``/v1/tickets/{ticket_id}``), never the raw path, so ids and customer e-mail
  addresses never become label values and the number of series stays bounded;
- per running consumer: ``servicetrail_consumer_lag`` and ``servicetrail_consumer_failing`` with
  the type of its last error (``servicetrail_consumer_last_error_info``; the message stays in
  ``/ready``, it may be long and is not a label);
- ``servicetrail_relay_acknowledged_records_total``: records the brokers acknowledged;
- ``servicetrail_inbound_dead_lettered_total`` (the ingestor's DLQ topic) and
  ``servicetrail_dead_letters`` (rows of the state store's ``dead_letters`` table per consumer);
- ``servicetrail_store_errors_total{kind}``: requests that met an unavailable, full or read-only store.

Each app has its own registry (tests build many apps in one process). Consumer figures are read at
scrape time from the consumers themselves, so they cost nothing between scrapes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "unmatched"  # requests that matched no route (404s of unknown paths): one label value

log = logging.getLogger("servicetrail.metrics")


class ConsumerCollector(Collector):
    """Reads the running consumers' state when Prometheus scrapes."""

    def __init__(self, services: Any):
        self.services = services

    def collect(self) -> Iterator[Any]:
        lag = GaugeMetricFamily("servicetrail_consumer_lag", "Events or records the consumer is behind its source.",
                                labels=["consumer"])
        failing = GaugeMetricFamily("servicetrail_consumer_failing",
                                    "1 while the consumer's last step failed (it retries), else 0.", labels=["consumer"])
        error = InfoMetricFamily("servicetrail_consumer_last_error", "Type of the consumer's last error.",
                                 labels=["consumer"])
        acknowledged = CounterMetricFamily("servicetrail_relay_acknowledged_records",
                                           "Records of the events topic the brokers acknowledged.")
        dead_lettered = CounterMetricFamily("servicetrail_inbound_dead_lettered",
                                            "Inbound messages sent to the dead-letter topic.")
        for consumer in list(self.services.running):
            name = consumer.name
            last_error = getattr(consumer, "last_error", None)
            failing.add_metric([name], 1 if last_error else 0)
            if last_error:
                error.add_metric([name], {"error": last_error.split(":", 1)[0][:100]})
            if hasattr(consumer, "lag"):
                try:
                    lag.add_metric([name], consumer.lag())
                except Exception:  # an unreachable source: shown by servicetrail_consumer_failing / ready
                    log.debug("lag of %s unavailable", name, exc_info=True)
            if hasattr(consumer, "records_acknowledged"):
                acknowledged.add_metric([], consumer.records_acknowledged)
            if hasattr(consumer, "dead_lettered"):
                dead_lettered.add_metric([], consumer.dead_lettered)
        yield from (lag, failing, error, acknowledged, dead_lettered)
        yield self._dead_letters()

    def _dead_letters(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily("servicetrail_dead_letters", "Undecodable events set aside, per consumer.",
                                   labels=["consumer"])
        try:
            with self.services.state.transaction() as tx:
                rows = tx.fetchall("SELECT consumer, COUNT(*) FROM dead_letters GROUP BY consumer")
        except Exception:  # an unreachable store is counted by servicetrail_store_errors_total
            log.debug("dead letters unavailable", exc_info=True)
            rows = []
        for consumer, count in rows:
            family.add_metric([consumer], count)
        return family


class Metrics:
    def __init__(self, services: Any):
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Histogram(
            "servicetrail_http_request_duration_seconds", "HTTP request latency, by route template.",
            ["route", "method", "status"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
        self.store_errors = Counter("servicetrail_store_errors", "Requests that met a failing store, by kind.",
                                    ["kind"], registry=self.registry)
        self.registry.register(ConsumerCollector(services))

    def observe(self, route: str | None, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route or UNMATCHED, method, str(status)).observe(seconds)

    def store_error(self, kind: str) -> None:
        self.store_errors.labels(kind).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
