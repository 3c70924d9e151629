"""The audit trail of the store: every stored ticket event as its bytes decode, and the check of
every hash chain and checkpoint against them (``audit verify``, ``GET /v1/audit/verify``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from projections.audit import StoredEntry, Witness, verify

if TYPE_CHECKING:
    from domain.application import ServiceTrail
    from projections.store import StateStore


class AuditTrail:
    """The auditing half of the wired services (a part of ``api.bootstrap.Services``)."""

    app: ServiceTrail
    state: StateStore

    def stored_entries(self, page: int = 2000) -> Iterator[StoredEntry]:
        """Every stored ticket event exactly as its bytes decode (no validation: tampering shows)."""
        from consumers.sources import is_published_event, stored_document

        position = 0
        while notifications := self.app.recorder.select_notifications(
                start=position, limit=page, inclusive_of_start=False):
            for n in notifications:
                if is_published_event(n):
                    try:
                        doc = stored_document(self.app.mapper, n.state)
                        yield StoredEntry(n.id, str(n.originator_id), n.originator_version, doc)
                    except Exception as undecodable:  # any decoding failure is a finding, not a crash
                        yield StoredEntry(n.id, str(n.originator_id), n.originator_version, None,
                                          f"{type(undecodable).__name__}: {undecodable}")
            position = notifications[-1].id

    def verify_log(self, entries: Iterator[StoredEntry] | None = None) -> dict[str, Any]:
        with self.state.transaction() as tx:
            witness = Witness.read(tx)
        return verify(entries if entries is not None else self.stored_entries(), witness).as_dict()
