"""Composition root: builds the application and its adapters from settings. Nothing connects at
import time; tests call ``bootstrap`` with their own clock or settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from api.settings import Settings
from domain.application import Clock, LifecycleRules, ServiceTrail


def system_clock() -> datetime:
    """The only clock read of the write side."""
    return datetime.now(timezone.utc)


@dataclass
class Services:
    settings: Settings
    app: ServiceTrail
    clock: Clock

    def close(self) -> None:
        self.app.close()


def bootstrap(settings: Settings, *, clock: Clock | None = None) -> Services:
    clock = clock or system_clock
    path = settings.sqlite_path
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    rules = LifecycleRules(
        max_future_skew=settings.max_future_skew, reopen_window=settings.reopen_window
    )
    app = ServiceTrail(settings.eventsourcing_env(), clock=clock, rules=rules)
    return Services(settings=settings, app=app, clock=clock)
