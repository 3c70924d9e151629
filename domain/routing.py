"""Routing: the most suitable available agent for a ticket.

Order of preference: a VIP customer's dedicated account manager; otherwise agents skilled in the
ticket's category, those speaking its language first; among equals, the least open load, then the
agent id (so the choice is deterministic). Nobody available with the skill: no choice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    agent_id: str
    team: str | None
    skills: frozenset[str]
    languages: frozenset[str]
    accounts: frozenset[str]
    available: bool
    load: int


@dataclass(frozen=True)
class Choice:
    agent_id: str
    team: str | None
    reason: str


def choose(*, category: str, language: str | None, customer_id: str, tier: str,
           candidates: list[Candidate]) -> Choice | None:
    available = [c for c in candidates if c.available]
    if tier == "vip":
        dedicated = sorted((c for c in available if customer_id in c.accounts), key=lambda c: (c.load, c.agent_id))
        if dedicated:
            return Choice(dedicated[0].agent_id, dedicated[0].team, "dedicated account manager of a VIP customer")
    skilled = [c for c in available if category in c.skills]
    if not skilled:
        return None
    best = min(skilled, key=lambda c: (language is not None and language not in c.languages, c.load, c.agent_id))
    speaks = language is None or language in best.languages
    return Choice(best.agent_id, best.team,
                  f"skilled in {category}" + (f", speaks {language}" if language and speaks else "")
                  + f", least open load ({best.load})")
