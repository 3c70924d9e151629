"""Ticket state: every ticket's current status, ownership and SLA timestamps, as a fold."""

from projections.ticket_state.fold import TicketRow, fold

__all__ = ["TicketRow", "fold"]
