"""Processes that move events: relay (store → Kafka), projector (log → read models), ingestor
(channel topic → commands). Each runs in-process or alone (``servicetrail relay|project|ingest``)."""
