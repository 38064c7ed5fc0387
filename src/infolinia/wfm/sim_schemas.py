"""Center descriptions and scheduling rules as they come in (API bodies, CLI files), with the bounds that keep one
request's work finite, and their conversion to the simulation's and the scheduler's own types."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from infolinia.routing.model import MAX_LEVEL, Strategy
from infolinia.schemas import Input, Output
from infolinia.wfm.distributions import MAX_CV, HandleTime
from infolinia.wfm.multiskill import AgentGroup, MultiSkillCenter, QueueModel
from infolinia.wfm.schedule import AgentRules, BreakRule, ScheduleProblem, ShiftTemplate
from infolinia.wfm.simulate import SingleSkillCenter

MAX_INTERVALS = 672  # a week of quarter-hours
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Seconds = Annotated[float, Field(ge=0, le=7 * 86400, allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, le=7 * 86400, allow_inf_nan=False)]
Level = Annotated[int, Field(ge=1, le=MAX_LEVEL)]
Count = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
HeadCount = Annotated[int, Field(ge=0, le=10_000)]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]


class HandleIn(Input):
    kind: Literal["exponential", "lognormal", "empirical"] = "exponential"
    mean_s: Positive = 180.0
    sd_s: Seconds = 0.0
    samples: list[Seconds] = Field(default_factory=list, max_length=100_000)

    @model_validator(mode="after")
    def _complete(self) -> HandleIn:
        if self.kind == "lognormal" and not 0 < self.sd_s <= MAX_CV * self.mean_s:
            raise ValueError(f"a lognormal handle time needs 0 < sd_s <= {MAX_CV:g} x mean_s")
        if self.kind == "empirical" and not self.samples:
            raise ValueError("an empirical handle time needs samples")
        return self

    def model(self) -> HandleTime:
        return HandleTime(self.kind, self.mean_s, self.sd_s, tuple(self.samples))


class QueueIn(Input):
    name: Name
    calls: list[Count] = Field(min_length=1, max_length=MAX_INTERVALS)  # expected per interval
    handle: HandleIn = Field(default_factory=HandleIn)
    patience_s: Positive | None = None
    skills: dict[Name, Level] = Field(default_factory=dict, max_length=20)
    language: Language | None = None
    priority: int = Field(default=0, ge=-100, le=100)
    strategy: Strategy = Strategy.LONGEST_IDLE
    sl_seconds: Seconds = 20.0
    short_abandon_s: Seconds = 5.0
    wrapup_s: Seconds = 0.0
    callback_share: float = Field(default=0.0, ge=0, le=1)
    callback_delay_s: Seconds = 0.0


class GroupIn(Input):
    name: Name
    agents: list[HeadCount] | HeadCount  # per interval, or the same in every interval
    skills: dict[Name, Level] = Field(default_factory=dict, max_length=20)
    languages: list[Language] = Field(default_factory=list, max_length=10)
    queues: list[Name] = Field(default_factory=list, max_length=50)  # none: every queue


class CenterIn(Input):
    """A center: queues with their expected contacts per interval, agent groups with their head counts."""

    interval_minutes: int = Field(default=30, ge=1, le=1440)
    queues: list[QueueIn] = Field(min_length=1, max_length=50)
    groups: list[GroupIn] = Field(min_length=1, max_length=100)
    seed: int = Field(default=0, ge=0, le=2**32 - 1)
    #: ``fast``: the single-skill path (one queue, one group, no skills); ``routing``: through the routing engine;
    #: ``auto``: the fast path when the center allows it
    engine: Literal["auto", "fast", "routing"] = "auto"

    @model_validator(mode="after")
    def _consistent(self) -> CenterIn:
        n = len(self.queues[0].calls)
        if any(len(q.calls) != n for q in self.queues):
            raise ValueError("every queue needs the same number of intervals")
        for g in self.groups:
            if isinstance(g.agents, list) and len(g.agents) != n:
                raise ValueError(f"group {g.name!r}: one head count per interval ({n})")
            unknown = set(g.queues) - {q.name for q in self.queues}
            if unknown:
                raise ValueError(f"group {g.name!r}: no queue named {sorted(unknown)[0]!r}")
        if self.engine == "fast" and not self.single_skill:
            raise ValueError("the fast path takes one queue and one group, without skills or languages")
        return self

    @property
    def intervals(self) -> int:
        return len(self.queues[0].calls)

    @property
    def single_skill(self) -> bool:
        q, _g = self.queues[0], self.groups[0]
        return (len(self.queues), len(self.groups)) == (1, 1) and not (q.skills or q.language or q.wrapup_s)

    @property
    def expected_calls(self) -> float:
        return float(sum(sum(q.calls) for q in self.queues))

    def heads(self, g: GroupIn) -> tuple[int, ...]:
        return tuple(g.agents) if isinstance(g.agents, list) else (g.agents,) * self.intervals

    def uses_fast_path(self) -> bool:
        return self.engine == "fast" or (self.engine == "auto" and self.single_skill)

    def single(self) -> SingleSkillCenter:
        q = self.queues[0]
        return SingleSkillCenter(tuple(q.calls), self.heads(self.groups[0]), q.handle.model(), q.patience_s,
                                 self.interval_minutes * 60.0, q.sl_seconds, q.short_abandon_s, q.callback_share,
                                 q.callback_delay_s)  # fmt: skip

    def multi(self) -> MultiSkillCenter:
        names = tuple(q.name for q in self.queues)
        queues = tuple(
            QueueModel(
                q.name,
                tuple(q.calls),
                q.handle.model(),
                q.patience_s,
                dict(q.skills),
                q.language,
                q.priority,
                q.strategy,
                q.sl_seconds,
                q.short_abandon_s,
                q.wrapup_s,
                q.callback_share,
                q.callback_delay_s,
            )
            for q in self.queues
        )
        groups = tuple(
            AgentGroup(g.name, self.heads(g), dict(g.skills), frozenset(g.languages), tuple(g.queues) or names)
            for g in self.groups
        )
        return MultiSkillCenter(queues, groups, self.interval_minutes * 60.0)


class KpisOut(Output):
    offered: int
    answered: int
    abandoned: int
    abandoned_short: int
    answered_in_sl: int
    handled: int
    callbacks_requested: int
    callbacks_served: int
    wait_sum_s: float
    handle_sum_s: float
    callback_delay_sum_s: float
    busy_s: float
    staffed_s: float
    service_level: float | None
    asa_s: float | None
    aht_s: float | None
    occupancy: float | None
    p_abandon: float | None


class SimulationOut(Output):
    engine: Literal["fast", "routing"]
    seed: int
    interval_s: float
    elapsed_s: float
    overall: KpisOut
    intervals: list[KpisOut]
    by_queue: dict[str, KpisOut]


def simulation_out(engine: Literal["fast", "routing"], result: Any) -> SimulationOut:
    data = result.as_dict()
    return SimulationOut(engine=engine, elapsed_s=result.elapsed_s, **data)


# --- scheduling ---------------------------------------------------------------------------------------------------

Interval = Annotated[int, Field(ge=0, le=MAX_INTERVALS)]
Hours = Annotated[float, Field(ge=0, le=24 * 7, allow_inf_nan=False)]
Money = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]


class BreakIn(Input):
    length: int = Field(ge=1, le=MAX_INTERVALS)  # intervals
    earliest: Interval  # intervals after the shift's start
    latest: Interval


class TemplateIn(Input):
    name: Name
    length: int = Field(ge=1, le=MAX_INTERVALS)  # intervals
    starts: list[Interval] = Field(min_length=1, max_length=MAX_INTERVALS)
    breaks: list[BreakIn] = Field(default_factory=list, max_length=5)
    cost: Money | None = None


class AgentIn(Input):
    name: Name
    min_hours: Hours = 0.0
    max_hours: Hours | None = None
    cost_per_hour: Money = 1.0
    available: list[bool] | None = Field(default=None, max_length=MAX_INTERVALS)
    templates: list[Name] | None = Field(default=None, max_length=50)


class ScheduleRulesIn(Input):
    """Everything but the requirement: what the CLI reads from a rules file."""

    interval_minutes: int = Field(default=30, ge=1, le=1440)
    templates: list[TemplateIn] = Field(min_length=1, max_length=50)
    agents: list[AgentIn] = Field(min_length=1, max_length=500)
    under_penalty: Money = 100.0
    time_limit_s: float = Field(default=10.0, gt=0, le=3600, allow_inf_nan=False)

    def problem(self, requirement: list[int]) -> ScheduleProblem:
        return ScheduleProblem(
            tuple(requirement),
            tuple(ShiftTemplate(t.name, t.length, tuple(t.starts),
                                tuple(BreakRule(b.length, b.earliest, b.latest) for b in t.breaks), t.cost)
                  for t in self.templates),
            tuple(AgentRules(a.name, a.min_hours, a.max_hours, a.cost_per_hour,
                             None if a.available is None else tuple(a.available),
                             None if a.templates is None else tuple(a.templates))
                  for a in self.agents),
            self.interval_minutes,
            self.under_penalty,
        )  # fmt: skip

    def size(self) -> int:
        """Booleans the model will have, at most: a shift per (agent, template, start), a break per placement."""
        per_agent = sum(len(t.starts) * (1 + sum(b.latest - b.earliest + 1 for b in t.breaks)) for t in self.templates)
        return per_agent * len(self.agents)


class ScheduleIn(ScheduleRulesIn):
    requirement: list[Annotated[int, Field(ge=0, le=100_000)]] = Field(min_length=1, max_length=MAX_INTERVALS)

    @field_validator("time_limit_s")
    @classmethod
    def _short(cls, value: float) -> float:
        if value > 30 or not math.isfinite(value):
            raise ValueError("at most 30 seconds through the API")
        return value


class ShiftOut(Output):
    template: str
    start: int
    end: int
    breaks: list[list[int]]


class ScheduleOut(Output):
    status: Literal["optimal", "feasible"]
    cost: float
    shift_cost: float
    bound: float
    wall_s: float
    coverage: list[int]
    short: list[int]
    agents: dict[str, list[ShiftOut]]
