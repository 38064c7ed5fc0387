"""Shift scheduling with OR-Tools CP-SAT: cover a requirement of agents per interval at least cost.

The horizon is a sequence of intervals (e.g. 48 half-hours for a day, 336 for a week). A shift follows a template:
a length, the intervals it may start at, and breaks, each to be placed with its start between an earliest and a
latest offset from the shift's start. Each agent works at most one shift per day (the day a shift starts in), never
two at once, only when available for the whole shift, only templates it may work, and between its minimum and
maximum hours over the horizon. An agent on break does not count towards the cover. A shift costs the template's
fixed cost, or the agent's cost per hour times the shift's length (breaks are paid); every agent-interval left
uncovered costs ``under_penalty``. The solver minimises the total within the time limit and says whether it proved
the schedule optimal.

Model: one boolean per (agent, template, start) — the shift — and per (shift, break, offset) — where its break lies;
exactly one placement per break of a chosen shift, none otherwise. Working in interval i = shifts covering i minus
breaks covering i, at most 1 per agent; the shortfall per interval is a bounded integer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

COST_SCALE = 100  # costs are solved in hundredths


class ScheduleError(ValueError):
    """Rules that cannot be scheduled (bad sizes, references, or no schedule meets them)."""


@dataclass(frozen=True)
class BreakRule:
    length: int  # intervals
    earliest: int  # earliest start, in intervals after the shift's start
    latest: int  # latest start, likewise


@dataclass(frozen=True)
class ShiftTemplate:
    name: str
    length: int  # intervals
    starts: tuple[int, ...]  # intervals it may start at
    breaks: tuple[BreakRule, ...] = ()
    cost: float | None = None  # fixed cost of one shift; None: the agent's hourly cost times its length


@dataclass(frozen=True)
class AgentRules:
    name: str
    min_hours: float = 0.0
    max_hours: float | None = None
    cost_per_hour: float = 1.0
    available: tuple[bool, ...] | None = None  # per interval; None: always
    templates: tuple[str, ...] | None = None  # the templates it may work; None: all


@dataclass(frozen=True)
class ScheduleProblem:
    requirement: tuple[int, ...]  # agents needed per interval
    templates: tuple[ShiftTemplate, ...]
    agents: tuple[AgentRules, ...]
    interval_minutes: int = 30
    under_penalty: float = 100.0  # per agent-interval short of the requirement

    def __post_init__(self) -> None:
        n = len(self.requirement)
        if n == 0 or any(r < 0 for r in self.requirement):
            raise ScheduleError("the requirement needs one count (not negative) per interval")
        if self.interval_minutes <= 0 or 1440 % self.interval_minutes:
            raise ScheduleError("interval_minutes must divide a day (e.g. 15, 30, 60)")
        if not (math.isfinite(self.under_penalty) and self.under_penalty >= 0):
            raise ScheduleError("under_penalty must be a number, not negative")
        names = [t.name for t in self.templates]
        if not names or len(set(names)) != len(names):
            raise ScheduleError("shift templates need distinct names (and at least one)")
        for t in self.templates:
            if t.length <= 0 or any(s < 0 or s + t.length > n for s in t.starts):
                raise ScheduleError(f"template {t.name!r}: every start must leave the whole shift in the horizon")
            if t.cost is not None and not (math.isfinite(t.cost) and t.cost >= 0):
                raise ScheduleError(f"template {t.name!r}: cost must be a number, not negative")
            for b in t.breaks:
                if b.length <= 0 or b.earliest < 0 or b.latest < b.earliest or b.latest + b.length > t.length:
                    raise ScheduleError(f"template {t.name!r}: a break must lie inside the shift")
        agent_names = [a.name for a in self.agents]
        if not agent_names or len(set(agent_names)) != len(agent_names):
            raise ScheduleError("agents need distinct names (and at least one)")
        for a in self.agents:
            if a.available is not None and len(a.available) != n:
                raise ScheduleError(f"agent {a.name!r}: availability needs one value per interval")
            if a.templates is not None and set(a.templates) - set(names):
                raise ScheduleError(f"agent {a.name!r}: unknown template {sorted(set(a.templates) - set(names))[0]!r}")
            if not (math.isfinite(a.cost_per_hour) and a.cost_per_hour >= 0 and math.isfinite(a.min_hours)):
                raise ScheduleError(f"agent {a.name!r}: cost and hours must be numbers")
            if a.max_hours is not None and not (math.isfinite(a.max_hours) and a.max_hours >= a.min_hours >= 0):
                raise ScheduleError(f"agent {a.name!r}: needs 0 <= min_hours <= max_hours")

    @property
    def day_intervals(self) -> int:
        return 1440 // self.interval_minutes

    def hours(self, intervals: int) -> float:
        return intervals * self.interval_minutes / 60

    def shift_cost(self, agent: AgentRules, template: ShiftTemplate) -> float:
        return template.cost if template.cost is not None else agent.cost_per_hour * self.hours(template.length)


@dataclass(frozen=True)
class Shift:
    template: str
    start: int
    end: int  # first interval after it
    breaks: tuple[tuple[int, int], ...]  # (start, end) intervals


@dataclass
class Schedule:
    status: str  # "optimal" or "feasible" (the time limit ran out before optimality was proved)
    shifts: dict[str, list[Shift]]  # per agent, in start order
    coverage: list[int]  # agents working (not on break) per interval
    short: list[int]  # requirement not covered per interval
    cost: float  # shifts plus under-cover penalty
    shift_cost: float
    bound: float  # the best lower bound the solver proved
    wall_s: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "cost": self.cost,
            "shift_cost": self.shift_cost,
            "bound": self.bound,
            "wall_s": self.wall_s,
            "coverage": self.coverage,
            "short": self.short,
            "agents": {
                name: [
                    {"template": s.template, "start": s.start, "end": s.end, "breaks": [list(b) for b in s.breaks]}
                    for s in shifts
                ]
                for name, shifts in self.shifts.items()
            },
        }


@dataclass
class _Option:
    agent: int
    template: ShiftTemplate
    start: int
    var: cp_model.IntVar
    breaks: list[list[tuple[int, cp_model.IntVar]]] = field(default_factory=list)  # per rule: (offset, var)


def solve(problem: ScheduleProblem, time_limit_s: float = 10.0, workers: int = 2, seed: int = 0) -> Schedule:
    """The cheapest schedule found within ``time_limit_s`` seconds (see the module's description)."""
    if not (math.isfinite(time_limit_s) and time_limit_s > 0):
        raise ScheduleError("the time limit must be a positive number of seconds")
    started = time.perf_counter()
    model = cp_model.CpModel()
    n = len(problem.requirement)
    options = _options(problem, model)
    working: list[list[Any]] = [[] for _ in range(n)]  # terms of the cover per interval
    per_agent: list[list[list[Any]]] = [[[] for _ in range(n)] for _ in problem.agents]  # shifts covering, per agent
    per_agent_breaks: list[list[list[Any]]] = [[[] for _ in range(n)] for _ in problem.agents]
    per_day: dict[tuple[int, int], list[Any]] = {}
    paid: list[list[Any]] = [[] for _ in problem.agents]
    cost_terms: list[Any] = []
    for o in options:
        t = o.template
        for i in range(o.start, o.start + t.length):
            working[i].append(o.var)
            per_agent[o.agent][i].append(o.var)
        per_day.setdefault((o.agent, o.start // problem.day_intervals), []).append(o.var)
        paid[o.agent].append(t.length * o.var)
        agent = problem.agents[o.agent]
        cost_terms.append(round(problem.shift_cost(agent, t) * COST_SCALE) * o.var)
        for rule, placements in zip(t.breaks, o.breaks, strict=True):
            model.add(sum(v for _, v in placements) == o.var)  # one placement when the shift is worked
            for offset, v in placements:
                for i in range(o.start + offset, o.start + offset + rule.length):
                    working[i].append(-v)
                    per_agent_breaks[o.agent][i].append(v)
    for a, agent in enumerate(problem.agents):
        for i in range(n):
            if len(per_agent[a][i]) > 1:
                model.add_at_most_one(per_agent[a][i])
            if per_agent_breaks[a][i]:  # breaks only inside its shift, never two at once
                model.add(sum(per_agent_breaks[a][i]) <= sum(per_agent[a][i]))
        total = sum(paid[a])
        step = problem.interval_minutes / 60
        model.add(total >= math.ceil(agent.min_hours / step - 1e-9))
        if agent.max_hours is not None:
            model.add(total <= math.floor(agent.max_hours / step + 1e-9))
    for same_day in per_day.values():
        if len(same_day) > 1:
            model.add_at_most_one(same_day)
    penalty = round(problem.under_penalty * COST_SCALE)
    shorts = []
    for i, need in enumerate(problem.requirement):
        short = model.new_int_var(0, need, f"short_{i}")
        shorts.append(short)
        model.add(sum(working[i]) + short >= need)
    model.minimize(sum(cost_terms) + penalty * sum(shorts))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        if status == cp_model.INFEASIBLE:
            raise ScheduleError("no schedule meets the rules (hours, availability, templates)")
        raise ScheduleError(f"no schedule found within {time_limit_s:g} s")
    return _read(problem, solver, options, status, time.perf_counter() - started)


def _options(problem: ScheduleProblem, model: cp_model.CpModel) -> list[_Option]:
    options = []
    for a, agent in enumerate(problem.agents):
        allowed = set(agent.templates) if agent.templates is not None else None
        for t in problem.templates:
            if allowed is not None and t.name not in allowed:
                continue
            for start in sorted(set(t.starts)):
                if agent.available is not None and not all(agent.available[start : start + t.length]):
                    continue
                o = _Option(a, t, start, model.new_bool_var(f"x_{a}_{t.name}_{start}"))
                for k, rule in enumerate(t.breaks):
                    o.breaks.append(
                        [
                            (off, model.new_bool_var(f"b_{a}_{t.name}_{start}_{k}_{off}"))
                            for off in range(rule.earliest, rule.latest + 1)
                        ]
                    )
                options.append(o)
    return options


def _read(
    problem: ScheduleProblem,
    solver: cp_model.CpSolver,
    options: Sequence[_Option],
    status: Any,
    wall_s: float,
) -> Schedule:
    n = len(problem.requirement)
    shifts: dict[str, list[Shift]] = {a.name: [] for a in problem.agents}
    coverage = [0] * n
    shift_cost = 0.0
    for o in options:
        if not solver.boolean_value(o.var):
            continue
        t = o.template
        breaks = []
        for rule, placements in zip(t.breaks, o.breaks, strict=True):
            off = next(off for off, v in placements if solver.boolean_value(v))
            breaks.append((o.start + off, o.start + off + rule.length))
        agent = problem.agents[o.agent]
        shifts[agent.name].append(Shift(t.name, o.start, o.start + t.length, tuple(sorted(breaks))))
        shift_cost += problem.shift_cost(agent, t)
        for i in range(o.start, o.start + t.length):
            if not any(b0 <= i < b1 for b0, b1 in breaks):
                coverage[i] += 1
    for agent_shifts in shifts.values():
        agent_shifts.sort(key=lambda s: s.start)
    short = [max(0, need - have) for need, have in zip(problem.requirement, coverage, strict=True)]
    return Schedule(
        status="optimal" if status == cp_model.OPTIMAL else "feasible",
        shifts=shifts,
        coverage=coverage,
        short=short,
        cost=shift_cost + problem.under_penalty * sum(short),
        shift_cost=shift_cost,
        bound=solver.best_objective_bound / COST_SCALE,
        wall_s=wall_s,
    )
