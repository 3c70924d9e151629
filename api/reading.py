"""The read facade: what the HTTP routes, the CLI and the reports read through.

A query names a moment (now, or ``as_of`` T as ``known_at`` K) and gets the read side at that
moment: indexed read models (``read``), one ticket folded from its own events (``ticket_at``), the
KPI set of a window (``kpis``), and the presentation every reader shares (``reveal`` of sealed
contact details, ``deadline_state`` of a ticket's deadlines). One module, so a route and a command
never answer the same question two ways.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from projections import queries
from projections.arrivals import latest_opened_at
from projections.collection import collection_paused
from projections.moment import Moment, window
from projections.read_side import ReadView
from projections.ticket_state.facts import SlaFacts
from projections.ticket_state.fold import TicketRow
from projections.time_travel import ticket_at

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from api.settings import Settings
    from api.vault import Vault
    from domain.application import Clock, ServiceTrail
    from domain.service_levels import ServicePolicy
    from domain.sla_policies import PolicyBook
    from projections.planning import Planning
    from projections.store import StateStore


class ReadFacade:
    """The reading half of the wired services (a part of ``api.bootstrap.Services``)."""

    settings: Settings
    app: ServiceTrail
    clock: Clock
    state: StateStore
    vault: Vault
    policy: ServicePolicy  # the settings file's (version 0): in force until the log holds a version
    _policy_versions: dict[int, Any]  # parsed policy versions, by number (they never change)

    @contextmanager
    def read(self, as_of: datetime | None = None, known_at: datetime | None = None) -> Iterator[ReadView]:
        """The read side at a moment (now, or as of T as known at K), from indexed state."""
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

    def instant(self, as_of: datetime | None = None, known_at: datetime | None = None) -> datetime:
        """The instant a query for that moment describes: ``as_of``, else ``known_at``, else now."""
        return Moment(as_of, known_at).instant(self.clock())

    def ticket_at(self, ticket_id: UUID, as_of: datetime | None = None,
                  known_at: datetime | None = None) -> TicketRow | None:
        """One ticket's state at the moment, folded from its own events (``None``: it did not exist yet).

        One ticket folds its own events (a few dozen at most, never the log): exact at any moment
        and current even while the projector catches up."""
        return ticket_at(self.app.ticket_events(ticket_id), as_of, known_at, SlaFacts(self.policy_book()))

    def kpis(self, as_of: datetime | None = None, known_at: datetime | None = None, start: datetime | None = None,
             end: datetime | None = None, group_by: str | None = None) -> dict[str, Any]:
        """Every KPI over ``[start, end)`` at the moment (``end`` defaults to the moment's instant,
        ``start`` to 30 days before it), optionally per group."""
        now = self.clock()
        start, end = window(start, end, Moment(as_of, known_at), now)
        with self.read(as_of, known_at) as view:
            return queries.kpi_report(view, start, end, group_by, now)

    def latest_arrival(self) -> str | None:
        """When the latest ticket of the store was opened (ISO text; ``None`` when there is none)."""
        with self.state.read() as tx:
            return latest_opened_at(tx)

    @property
    def zone(self) -> ZoneInfo:
        """The organisation's time zone: its days, weeks and months (``SERVICETRAIL_TIMEZONE``)."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.timezone)

    @property
    def planning(self) -> Planning:
        """Time zone and holiday calendar of hotspots, forecasts and staffing (from settings)."""
        from zoneinfo import ZoneInfo

        from api.policy_files import holiday_calendar
        from projections.planning import Planning  # numpy and scipy: only for the processes that plan

        code = self.settings.holidays
        return Planning(ZoneInfo(self.settings.timezone),
                        lambda first, last: holiday_calendar(code, *range(first, last + 1)) if code else frozenset())

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
