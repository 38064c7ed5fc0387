"""Shift scheduling: every schedule returned is checked by an independent checker (coverage, templates, breaks,
hours, availability, one shift a day, cost), and on small cases its cost is compared with brute force."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from infolinia.wfm.schedule import (
    AgentRules,
    BreakRule,
    Schedule,
    ScheduleError,
    ScheduleProblem,
    ShiftTemplate,
    solve,
)


def check(problem: ScheduleProblem, schedule: Schedule) -> None:
    """Fail unless ``schedule`` keeps every rule of ``problem`` and reports its coverage and cost truly."""
    n = len(problem.requirement)
    hour = problem.interval_minutes / 60
    templates = {t.name: t for t in problem.templates}
    cover = [0] * n
    cost = 0.0
    assert set(schedule.shifts) == {a.name for a in problem.agents}
    for agent in problem.agents:
        worked = [0] * n
        days: set[int] = set()
        paid = 0
        for s in schedule.shifts[agent.name]:
            t = templates[s.template]
            assert agent.templates is None or t.name in agent.templates
            assert s.start in t.starts and s.end == s.start + t.length <= n
            day = s.start * problem.interval_minutes // 1440
            assert day not in days, "two shifts on one day"
            days.add(day)
            assert len(s.breaks) == len(t.breaks)
            assert any(
                all(
                    b1 - b0 == rule.length and rule.earliest <= b0 - s.start <= rule.latest
                    for (b0, b1), rule in zip(s.breaks, rules, strict=True)
                )
                for rules in itertools.permutations(t.breaks)
            ), "a break outside its window"
            on_break: set[int] = set()
            for b0, b1 in s.breaks:
                for i in range(b0, b1):
                    assert i not in on_break, "two breaks at once"
                    on_break.add(i)
            for i in range(s.start, s.end):
                worked[i] += 1
                assert agent.available is None or agent.available[i], "working while unavailable"
                if i not in on_break:
                    cover[i] += 1
            paid += t.length
            cost += t.cost if t.cost is not None else agent.cost_per_hour * t.length * hour
        assert max(worked, default=0) <= 1, "two shifts at once"
        assert agent.min_hours - 1e-9 <= paid * hour
        assert agent.max_hours is None or paid * hour <= agent.max_hours + 1e-9
    short = [max(0, need - have) for need, have in zip(problem.requirement, cover, strict=True)]
    assert schedule.coverage == cover
    assert schedule.short == short
    assert schedule.cost == pytest.approx(cost + problem.under_penalty * sum(short))


def brute_force(problem: ScheduleProblem) -> float:
    """The least cost over every assignment of at most one shift (with every placement of its breaks) per agent;
    for one-day horizons."""
    n = len(problem.requirement)
    hour = problem.interval_minutes / 60
    per_agent: list[list[tuple[float, list[int]]]] = []  # (cost, intervals covered) per choice
    for agent in problem.agents:
        choices: list[tuple[float, list[int]]] = [(0.0, [])] if agent.min_hours <= 0 else []
        for t in problem.templates:
            if agent.templates is not None and t.name not in agent.templates:
                continue
            hours = t.length * hour
            if hours < agent.min_hours - 1e-9 or (agent.max_hours is not None and hours > agent.max_hours + 1e-9):
                continue
            for start in set(t.starts):
                if agent.available is not None and not all(agent.available[start : start + t.length]):
                    continue
                windows = [range(r.earliest, r.latest + 1) for r in t.breaks]
                for offsets in itertools.product(*windows):
                    off_work: list[int] = []
                    for rule, off in zip(t.breaks, offsets, strict=True):
                        off_work += range(start + off, start + off + rule.length)
                    if len(off_work) != len(set(off_work)):
                        continue
                    covered = [i for i in range(start, start + t.length) if i not in off_work]
                    price = t.cost if t.cost is not None else agent.cost_per_hour * hours
                    choices.append((price, covered))
        per_agent.append(choices)
    best = math.inf
    for combo in itertools.product(*per_agent):
        cover = [0] * n
        price = 0.0
        for c, covered in combo:
            price += c
            for i in covered:
                cover[i] += 1
        price += problem.under_penalty * sum(max(0, r - c) for r, c in zip(problem.requirement, cover, strict=True))
        best = min(best, price)
    return best


def small_problem(rng: random.Random) -> ScheduleProblem:
    n = rng.randint(8, 12)
    templates = []
    for k in range(rng.randint(1, 2)):
        length = rng.randint(3, 6)
        breaks = ()
        if length >= 4 and rng.random() < 0.6:
            earliest = rng.randint(1, length - 2)
            breaks = (BreakRule(1, earliest, rng.randint(earliest, length - 2)),)
        starts = tuple(sorted(rng.sample(range(n - length + 1), min(4, n - length + 1))))
        cost = float(rng.randint(3, 9)) if rng.random() < 0.3 else None
        templates.append(ShiftTemplate(f"t{k}", length, starts, breaks, cost))
    agents = []
    for k in range(rng.randint(2, 3)):
        available = tuple(rng.random() < 0.85 for _ in range(n)) if rng.random() < 0.5 else None
        agents.append(AgentRules(f"a{k}", min_hours=float(rng.choice([0, 0, 3])), max_hours=rng.choice([None, 6.0]),
                                 cost_per_hour=float(rng.randint(1, 3)), available=available))  # fmt: skip
    requirement = tuple(rng.randint(0, 3) for _ in range(n))
    return ScheduleProblem(requirement, tuple(templates), tuple(agents), interval_minutes=60,
                           under_penalty=float(rng.randint(2, 6)))  # fmt: skip


@pytest.mark.parametrize("seed", range(25))
def test_optimal_on_small_cases_against_brute_force(seed: int) -> None:
    problem = small_problem(random.Random(seed))
    expected = brute_force(problem)
    if expected == math.inf:
        with pytest.raises(ScheduleError):
            solve(problem, time_limit_s=10)
        return
    schedule = solve(problem, time_limit_s=10)
    check(problem, schedule)
    assert schedule.status == "optimal"
    assert schedule.cost == pytest.approx(expected)


def day_problem() -> ScheduleProblem:
    """48 half-hours, a morning peak and an afternoon peak; 8-hour shifts with a lunch break and 4-hour shifts."""
    requirement = tuple(
        0 if i < 14 or i >= 42 else 3 + round(6 * math.exp(-((i - 20) ** 2) / 18) + 4 * math.exp(-((i - 32) ** 2) / 12))
        for i in range(48)
    )
    templates = (
        ShiftTemplate("day8", 16, tuple(range(14, 27)), (BreakRule(1, 6, 10),)),
        ShiftTemplate("part4", 8, tuple(range(14, 35)), ()),
    )
    agents = tuple(
        AgentRules(
            f"agent{k}",
            min_hours=4.0 if k < 4 else 0.0,
            max_hours=8.0,
            cost_per_hour=20.0 + k % 3,
            available=tuple(not (k == 5 and i < 24) for i in range(48)),
            templates=("part4",) if k >= 14 else None,
        )
        for k in range(18)
    )
    return ScheduleProblem(requirement, templates, agents, interval_minutes=30, under_penalty=500.0)


def test_a_day_is_covered_and_every_rule_kept() -> None:
    problem = day_problem()
    schedule = solve(problem, time_limit_s=20)
    check(problem, schedule)
    assert sum(schedule.short) == 0
    assert schedule.bound <= schedule.cost + 1e-6


def test_a_week_keeps_one_shift_a_day() -> None:
    day = day_problem()
    week_req = day.requirement * 3
    templates = tuple(
        ShiftTemplate(t.name, t.length, tuple(s + 48 * d for d in range(3) for s in t.starts), t.breaks)
        for t in day.templates
    )
    agents = tuple(AgentRules(f"agent{k}", min_hours=8.0, max_hours=20.0, cost_per_hour=20.0) for k in range(14))
    problem = ScheduleProblem(week_req, templates, agents, interval_minutes=30, under_penalty=500.0)
    schedule = solve(problem, time_limit_s=10)
    check(problem, schedule)
    assert any(len(s) >= 2 for s in schedule.shifts.values())


def test_bad_rules_are_refused() -> None:
    t = ShiftTemplate("t", 4, (0,))
    with pytest.raises(ScheduleError):
        ScheduleProblem((1, 1), (t,), (AgentRules("a"),))  # the shift does not fit the horizon
    with pytest.raises(ScheduleError):
        ScheduleProblem((1,) * 4, (ShiftTemplate("t", 4, (0,), (BreakRule(2, 3, 3),)),), (AgentRules("a"),))
    with pytest.raises(ScheduleError):
        ScheduleProblem((1,) * 4, (t,), (AgentRules("a", templates=("nope",)),))
    with pytest.raises(ScheduleError):
        ScheduleProblem((1,) * 4, (t,), (AgentRules("a", min_hours=5, max_hours=3),))
    with pytest.raises(ScheduleError):  # 10 hours wanted, shifts of 2
        solve(ScheduleProblem((1,) * 4, (t,), (AgentRules("a", min_hours=10),), interval_minutes=30))
    with pytest.raises(ScheduleError):
        solve(ScheduleProblem((1,) * 4, (t,), (AgentRules("a"),)), time_limit_s=0)
