"""Named domain errors. Each names the rule that refused the command."""

from __future__ import annotations


class DomainError(Exception):
    """A command was refused by a rule of the domain; nothing was recorded."""

    rule: str = "domain_rule"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class BrokenInvariantError(Exception):
    """The write side's own state breaks one of its invariants (a defect or a corrupted history,
    never a caller's mistake): the command stops and nothing is recorded."""


class TransitionNotAllowedError(DomainError):
    """The ticket's lifecycle forbids this command in the ticket's current status."""

    rule = "lifecycle_transition"


class InvalidCommandError(DomainError):
    """The command's content breaks a domain rule (a range, a required pairing of fields)."""

    rule = "invalid_command"

    def __init__(self, field: str, detail: str):
        super().__init__(detail)
        self.field = field


class ActingAsAnotherAgentError(InvalidCommandError):
    """A queue-scoped caller (an agent) named another agent as the one who acted."""

    rule = "acting_as_another_agent"


class OutsideQueueError(DomainError):
    """A queue-scoped caller (an agent) acted on a ticket that is not assigned to it."""

    rule = "outside_queue"


class OccurredInFutureError(InvalidCommandError):
    """``occurred_at`` lies further in the future than the allowed clock skew."""

    rule = "occurred_at_in_future"


class OccurredBeforeOpeningError(InvalidCommandError):
    """An event of a ticket cannot have occurred before the ticket was opened."""

    rule = "occurred_before_opening"


class TicketNotFoundError(DomainError):
    rule = "ticket_not_found"


class VersionConflictError(DomainError):
    """The caller's expected version is stale, or another writer won the race."""

    rule = "version_conflict"

    def __init__(self, detail: str, *, current_version: int | None = None):
        super().__init__(detail)
        self.current_version = current_version


class IdempotencyKeyReusedError(DomainError):
    """The same idempotency key was sent with a different command."""

    rule = "idempotency_key_reused"


class AgentNotFoundError(DomainError):
    rule = "agent_not_found"


class NoAgentAvailableError(DomainError):
    """Routing found no available agent with the skills the ticket needs."""

    rule = "no_agent_available"
