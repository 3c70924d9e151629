"""The SLA policy's versions for the CLI and the API: adopt one from TOML text, show the one in
force at a moment, list them all. The rule of which version judges a ticket is the domain's
(``domain.sla_policies``); this module only loads text (public-holiday calendars resolved, as for
the settings file) and reads the versions from the log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.commands import AdoptSlaPolicy, CommandContext
from domain.errors import InvalidCommandError
from domain.sla_policies import PolicyBook, PolicyVersion, iso


def adopt_policy_text(services: Any, text: str, *, actor: str, effective_from: datetime | None = None,
                      reason: str | None = None) -> PolicyVersion:
    """Validates the TOML (an error names the field, ``policy.sla[1].resolution_minutes``) and
    records it as the next version. Nothing is written when it is refused."""
    from api.policy_files import parse_policy
    from domain.service_levels import PolicyError

    try:
        policy = parse_policy(text)
    except PolicyError as bad:
        raise InvalidCommandError(f"policy.{bad.field}" if bad.field != "policy" else "policy", str(bad)) from None
    adoption = services.app.adopt_sla_policy(
        AdoptSlaPolicy(policy=policy, effective_from=effective_from, source=text, reason=reason),
        CommandContext(actor=actor))
    return adoption.version()


def policy_book(services: Any) -> PolicyBook:
    """Every version, from the log itself (current even while the projector catches up)."""
    return PolicyBook(services.policy, services.app.sla_policy_versions())


def policy_at(services: Any, as_of: datetime | None, known_at: datetime | None) -> dict[str, Any]:
    """The version a ticket opened at the moment (``as_of``, else ``known_at``, else now) would be
    judged by, as known at ``known_at``: the policy as it then stood."""
    instant = as_of or known_at or services.clock()
    version = policy_book(services).at(iso(instant), None if known_at is None else iso(known_at))
    return {"at": iso(instant), "known_at": None if known_at is None else iso(known_at), **version.describe()}


def policy_history(services: Any) -> list[dict[str, Any]]:
    return [{key: value for key, value in version.describe().items() if key != "policy"}
            for version in policy_book(services).history()]
