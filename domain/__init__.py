"""The service-quality domain: tickets, their lifecycle rules and their events.

Pure Python, pydantic and ``eventsourcing.domain``: no I/O, no clock reads, no chance.
"""
