"""The pure parts of predictive dialing: the tenant's calendar day, the floor the pacer sees, the budget from counted
attempts, and the decision under it."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from infolinia.outbound.pacing import calls_to_place
from infolinia.outbound.predictive import (
    AbandonCounts,
    AbandonStats,
    AgentSeen,
    DialStats,
    abandon_view,
    budget_of,
    day_bounds,
    decide,
    floor_of,
    next_day,
)
from infolinia.routing.model import AgentState

WARSAW = "Europe/Warsaw"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_the_day_is_the_tenants_not_utcs() -> None:
    # 23:30 UTC on 7 December is 00:30 on 8 December in Warsaw: that day began at 23:00 UTC
    start, end = day_bounds(utc(2026, 12, 7, 23, 30), WARSAW)
    assert (start, end) == (utc(2026, 12, 7, 23), utc(2026, 12, 8, 23))
    # 22:59 UTC is still the 7th there
    assert day_bounds(utc(2026, 12, 7, 22, 59), WARSAW)[0] == utc(2026, 12, 6, 23)
    # and in New York 03:00 UTC on the 8th is the evening of the 7th
    assert day_bounds(utc(2026, 12, 8, 3), "America/New_York")[0] == utc(2026, 12, 7, 5)


@pytest.mark.parametrize(
    ("day", "hours"), [(utc(2026, 3, 29, 12), 23), (utc(2026, 10, 25, 12), 25), (utc(2026, 6, 1, 12), 24)]
)
def test_days_of_a_clock_change_are_shorter_or_longer(day: datetime, hours: int) -> None:
    start, end = day_bounds(day, WARSAW)
    assert end - start == timedelta(hours=hours)


def test_the_next_day_starts_at_local_midnight() -> None:
    assert next_day(utc(2026, 12, 7, 10), WARSAW) == utc(2026, 12, 7, 23)
    assert next_day(utc(2026, 3, 28, 12), WARSAW) == utc(2026, 3, 28, 23)  # still winter time at midnight
    assert next_day(utc(2026, 3, 29, 12), WARSAW) == utc(2026, 3, 29, 22)  # summer time from 02:00 on the 29th


def stats(today: tuple[int, int], month: tuple[int, int]) -> AbandonStats:
    return AbandonStats("2026-12-07", AbandonCounts(*today), AbandonCounts(*month))


def test_the_budget_comes_from_counted_attempts() -> None:
    budget = budget_of(stats((100, 1), (1000, 11)), 0.03)
    assert (budget.answered, budget.abandoned) == (100, 1)
    assert budget.rate_today == pytest.approx(0.01)
    assert budget.rate_30_days == pytest.approx(11 / 1000)  # today's counted once
    assert 0 < budget.target() < 0.015


def test_an_untouched_day_leaves_half_the_cap() -> None:
    assert budget_of(stats((0, 0), (0, 0)), 0.03).target() == pytest.approx(0.015)


@pytest.mark.parametrize(
    ("today", "month"),
    [((100, 3), (100, 3)), ((200, 6), (2000, 6)), ((10, 0), (1000, 30))],
    ids=["today at the cap", "today near the cap", "the 30 days at the cap"],
)
def test_a_used_budget_dials_one_call_per_free_agent(today: tuple[int, int], month: tuple[int, int]) -> None:
    budget = budget_of(stats(today, month), 0.03)
    assert budget.target() == 0
    floor = floor_of([AgentSeen(AgentState.AVAILABLE, True)] * 5, ringing=2, waiting=0, stats=DialStats(0.2))
    assert decide(floor, budget) == 3  # five free agents, two calls ringing: no more than one call per agent


def test_with_room_the_pacer_dials_more_than_the_free_agents() -> None:
    budget = budget_of(stats((100, 0), (100, 0)), 0.03)
    floor = floor_of([AgentSeen(AgentState.AVAILABLE, True)] * 10, ringing=0, waiting=0, stats=DialStats(0.2))
    placed = decide(floor, budget)
    assert placed > 10
    assert placed == calls_to_place(floor, budget.target())


def test_only_registered_agents_count() -> None:
    agents = [AgentSeen(AgentState.AVAILABLE, True), AgentSeen(AgentState.AVAILABLE, False)]
    agents += [
        AgentSeen(AgentState.BUSY, False),
        AgentSeen(AgentState.OFFLINE, True),
        AgentSeen(AgentState.BREAK, True),
    ]
    floor = floor_of(agents, ringing=0, waiting=0, stats=DialStats(0.2))
    assert (floor.free, tuple(floor.finishing)) == (1, ())
    nobody = floor_of([AgentSeen(AgentState.AVAILABLE, False)], ringing=0, waiting=0, stats=DialStats(0.2))
    assert decide(nobody, budget_of(stats((0, 0), (0, 0)), 0.03)) == 0


def test_busy_agents_may_be_free_by_the_answer() -> None:
    agents = [AgentSeen(AgentState.BUSY, True), AgentSeen(AgentState.WRAPUP, True), AgentSeen(AgentState.WRAPUP, True)]
    floor = floor_of(agents, ringing=1, waiting=0, stats=DialStats(0.3, ring_s=12, handle_s=120), wrapup_s=30)
    assert floor.free == 0 and floor.in_flight == 1 and floor.answer_rate == 0.3
    assert sorted(floor.finishing) == pytest.approx(sorted([1 - math.exp(-12 / 120), 0.4, 0.4]))
    no_wrapup = floor_of([AgentSeen(AgentState.WRAPUP, True)], ringing=0, waiting=0, stats=DialStats(), wrapup_s=0)
    assert tuple(no_wrapup.finishing) == (1.0,)


def test_answered_calls_waiting_take_the_free_agents_first() -> None:
    agents = [AgentSeen(AgentState.AVAILABLE, True)] * 2 + [AgentSeen(AgentState.BUSY, True)] * 3
    floor = floor_of(agents, ringing=0, waiting=3, stats=DialStats(0.2))
    assert floor.free == 0 and len(floor.finishing) == 2  # two free agents and one about to be free are taken
    exhausted = budget_of(stats((100, 3), (100, 3)), 0.03)
    assert decide(floor, exhausted) == 0


def test_the_view_rounds_the_rates() -> None:
    shown = abandon_view(stats((3, 1), (30, 1)), 0.03)
    assert shown == {
        "day": "2026-12-07", "cap": 0.03,
        "today": {"answered": 3, "abandoned": 1, "rate": 0.3333},
        "last_30_days": {"answered": 30, "abandoned": 1, "rate": 0.0333},
    }  # fmt: skip
