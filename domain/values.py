"""Value types of the service-quality domain (the words of DOMAIN.md)."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"
    WEB = "web"
    MESSAGING = "messaging"  # WeChat, WhatsApp and other messaging apps
    SOCIAL = "social"
    BOT = "bot"


class Priority(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"


class Severity(StrEnum):
    """Only complaints carry a severity; it decides where the complaint is routed."""

    MAJOR = "major"
    GENERAL = "general"


class ServiceType(StrEnum):
    PAID = "paid"
    WARRANTY = "warranty"
    CONTRACT = "contract"


class CustomerTier(StrEnum):
    STANDARD = "standard"
    PREMIUM = "premium"
    VIP = "vip"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Author(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"


class Remedy(StrEnum):
    REPLACEMENT = "replacement"
    EXTRA_SERVICE = "extra_service"
    COMPENSATION = "compensation"
    PROCESS_FIX = "process_fix"


class Status(StrEnum):
    OPENED = "opened"
    TRIAGED = "triaged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    TRANSFERRED = "transferred"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"


OPEN_STATUSES = frozenset(Status) - {Status.RESOLVED, Status.CLOSED}

# Escalation levels of the chain: 1 team lead, 2 department manager, 3 senior management.
ESCALATION_LEVELS = {1: "team_lead", 2: "department_manager", 3: "senior_management"}
HIGHEST_ESCALATION_LEVEL = max(ESCALATION_LEVELS)


def _as_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def _supported(moment: datetime) -> datetime:
    # Aware instants compare as UTC whatever their offsets: no conversion needed (nor its overflow).
    if not SUPPORTED_FROM <= moment <= SUPPORTED_TO:
        raise ValueError("instants must lie between 1970 and 9000")
    return moment


SUPPORTED_FROM = datetime(1970, 1, 1, tzinfo=timezone.utc)
SUPPORTED_TO = datetime(9000, 1, 1, tzinfo=timezone.utc)

# Every instant in an event is stored in UTC, so its canonical text (and hash) never depends on
# the offset the caller happened to use.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_supported), AfterValidator(_as_utc)]


NUL_REFUSED = "must not contain NUL characters"


def holds_nul(value: Any) -> bool:
    """Whether a text (or any text inside a tuple, list, dict or model) holds a NUL character.

    NUL ends strings in C, logs and many terminals and databases (PostgreSQL refuses it in text), so a
    stored NUL is unreadable or truncated downstream: it is refused on arrival, like a bad field."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, (tuple, list, set, frozenset)):
        return any(holds_nul(item) for item in value)
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, BaseModel):
        return any(holds_nul(getattr(value, name)) for name in type(value).model_fields)
    return False


def non_finite(value: Any) -> bool:
    """Whether a number is infinite or NaN: JSON cannot carry it (the canonical hash refuses it)."""
    return isinstance(value, float) and not math.isfinite(value)


_UNPRINTABLE = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}
_UNPRINTABLE.update({0x2028: "\\u2028", 0x2029: "\\u2029"})


def printable(text: str) -> str:
    """``text`` on one line with every control character escaped (``\\n`` → ``\\x0a``): what goes
    into a log line from outside cannot start a line of its own or hide in a NUL."""
    return text.translate(_UNPRINTABLE)


def _path_safe(identifier: str) -> str:
    if "/" in identifier:
        raise ValueError("must not contain '/': the id appears in URL paths (/v1/customers/{id}/…) and "
                         "could never be read there")
    if identifier in (".", ".."):
        raise ValueError("must not be '.' or '..': clients drop such path segments")
    return identifier


# Ids that appear as a segment of a URL path (customers' and agents' ids).
PathSafeId = Annotated[str, AfterValidator(_path_safe)]


class Stamp:
    """When and by whom a command acts: business time, transaction time and actor.

    Supplied by the caller (the service layer reads the clock, the domain never does).
    """

    __slots__ = ("occurred_at", "recorded_at", "actor")

    def __init__(self, occurred_at: datetime, recorded_at: datetime, actor: str):
        self.occurred_at = _as_utc(occurred_at)
        self.recorded_at = _as_utc(recorded_at)
        self.actor = actor

    def __repr__(self) -> str:
        return f"Stamp({self.occurred_at.isoformat()}, {self.recorded_at.isoformat()}, {self.actor!r})"


class CustomerContact(BaseModel):
    """Personal contact details: never stored in clear (see ``Sealed``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    address: str | None = Field(default=None, max_length=500)


class Sealed(BaseModel):
    """Data encrypted under one customer's key (AES-256-GCM). Erasing the customer deletes the key:
    the event, its hash and the chain stay intact; the content becomes unreadable everywhere."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    key_owner: str = Field(description="The customer whose key sealed this.")
    nonce: str = Field(description="Base64 of the 96-bit nonce.")
    ciphertext: str = Field(description="Base64 of ciphertext and tag.")
