"""Predictive pacing, pure: the abandon expectation against a brute-force sum, the largest safe number of calls,
and the budget that sets its target."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infolinia.outbound.pacing import AbandonBudget, AnswerRate, Floor, calls_to_place, expected_abandons


def brute(calls: int, p: float, agents: float) -> float:
    return sum(math.comb(calls, k) * p**k * (1 - p) ** (calls - k) * max(0.0, k - agents) for k in range(calls + 1))


@given(st.integers(0, 60), st.floats(0.01, 0.99), st.floats(0, 40))
def test_expected_abandons_is_the_binomial_tail(calls: int, p: float, agents: float) -> None:
    assert expected_abandons(calls, p, agents) == pytest.approx(brute(calls, p, agents), rel=1e-9, abs=1e-12)


def test_large_numbers_stay_finite() -> None:
    value = expected_abandons(5000, 0.2, 900.0)
    assert math.isfinite(value) and value > 0  # mean 1000 answered, 900 agents: about 100 left over
    assert 95 < value < 106


@settings(max_examples=200)
@given(st.integers(0, 60), st.lists(st.floats(0, 1), max_size=60), st.integers(0, 200), st.floats(0.05, 0.9),
       st.floats(0.001, 0.05))  # fmt: skip
def test_the_number_placed_is_the_largest_within_the_target(
    free: int, finishing: list[float], in_flight: int, p: float, target: float
) -> None:
    floor = Floor(free, finishing, in_flight, p)
    n = calls_to_place(floor, target)
    agents = floor.agents_soon

    def within(k: int) -> bool:
        calls = in_flight + k
        return expected_abandons(calls, p, agents) <= target * calls * p

    if n > 0:
        assert within(n)
    if n < 500 and (free > 0 or finishing):
        assert not within(n + 1)


def test_progressive_when_the_target_is_zero() -> None:
    assert calls_to_place(Floor(5, [0.9] * 10, in_flight=2, answer_rate=0.2), 0.0) == 3
    assert calls_to_place(Floor(1, [], in_flight=4, answer_rate=0.2), 0.0) == 0


def test_more_agents_or_a_lower_answer_rate_mean_more_calls() -> None:
    base = calls_to_place(Floor(10, [0.1] * 40, 0, 0.2), 0.015)
    assert calls_to_place(Floor(20, [0.1] * 30, 0, 0.2), 0.015) > base
    assert calls_to_place(Floor(10, [0.1] * 40, 0, 0.1), 0.015) > base
    assert calls_to_place(Floor(10, [0.1] * 40, 30, 0.2), 0.015) < base  # calls already ringing count
    assert calls_to_place(Floor(0, [], 0, 0.2), 0.015) == 0  # nobody to take a call


def test_the_budget_leaves_less_room_as_the_day_nears_the_cap() -> None:
    budget = AbandonBudget(cap=0.03)
    assert budget.target() == pytest.approx(0.015)  # a fresh day: half the cap
    for _ in range(100):
        budget.record(answered=True, abandoned=False)
    fresh = budget.target()
    budget.record(answered=True, abandoned=True)
    assert 0 < budget.target() < fresh
    for _ in range(2):
        budget.record(answered=True, abandoned=True)
    assert budget.rate_today == pytest.approx(3 / 103)
    assert budget.target() == 0.0  # near the cap: progressive until answered calls dilute it
    budget.new_day()
    assert budget.rate_today == 0.0 and budget.rate_30_days == pytest.approx(3 / 103)
    assert budget.target() == 0.0  # the 30 days are near the cap too


def test_the_answer_rate_starts_from_the_prior_and_follows_the_outcomes() -> None:
    rate = AnswerRate(prior=0.2, weight=20, window=100)
    assert rate.value == pytest.approx(0.2)
    for _ in range(100):
        rate.record(True)
    assert rate.value == pytest.approx((100 + 4) / 120)
    for _ in range(100):
        rate.record(False)  # the window keeps the last 100 only
    assert rate.value == pytest.approx(4 / 120)
