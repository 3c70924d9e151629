"""Routing choices: skills first (language preferred), then least load; VIP account managers;
nobody available."""

from __future__ import annotations

from domain.routing import Candidate, choose


def agent(agent_id, skills=("billing",), languages=("en",), accounts=(), available=True, load=0, team="t"):
    return Candidate(agent_id, team, frozenset(skills), frozenset(languages), frozenset(accounts), available, load)


def pick(candidates, category="billing", language="en", customer="c1", tier="standard"):
    return choose(category=category, language=language, customer_id=customer, tier=tier, candidates=candidates)


def test_skill_beats_load():
    choice = pick([agent("idle", skills=("returns",)), agent("busy", load=9)])
    assert choice.agent_id == "busy"


def test_among_the_skilled_the_least_loaded_wins():
    assert pick([agent("a", load=3), agent("b", load=1), agent("c", load=2)]).agent_id == "b"


def test_language_match_is_preferred_over_load():
    choice = pick([agent("en", load=5), agent("pt", languages=("pt",), load=0)], language="en")
    assert choice.agent_id == "en" and "speaks en" in choice.reason


def test_ties_are_broken_by_agent_id_so_the_choice_is_deterministic():
    assert pick([agent("zed"), agent("amy")]).agent_id == "amy"


def test_a_vip_customer_gets_their_account_manager_even_when_busier():
    manager = agent("manager", skills=(), accounts=("vip-1",), load=7)
    choice = pick([agent("free"), manager], customer="vip-1", tier="vip")
    assert choice.agent_id == "manager" and "account manager" in choice.reason


def test_an_unavailable_account_manager_falls_back_to_skills():
    manager = agent("manager", accounts=("vip-1",), available=False)
    assert pick([agent("free"), manager], customer="vip-1", tier="vip").agent_id == "free"


def test_nobody_available_or_skilled_means_no_choice():
    assert pick([agent("off", available=False)]) is None
    assert pick([agent("other", skills=("returns",))]) is None
    assert pick([]) is None
