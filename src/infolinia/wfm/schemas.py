"""Request and response shapes of the planning API (``/wfm``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from infolinia.schemas import Input, Output

Calls = Annotated[float, Field(ge=0, le=1e7, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=1, le=86_400, allow_inf_nan=False)]
Share = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
#: the longest day file (intervals) one request staffs
MAX_INTERVALS = 2_000


class IntervalIn(Input):
    calls: Calls
    aht_s: Seconds | None = None  # default: the request's aht_s
    start: Annotated[str, Field(max_length=40)] | None = None


class StaffingIn(Input):
    """One interval (``calls``) or a whole day (``intervals``); Erlang A when ``patience_s`` is given."""

    calls: Calls | None = None
    intervals: Annotated[list[IntervalIn], Field(min_length=1, max_length=MAX_INTERVALS)] | None = None
    interval_minutes: Annotated[float, Field(ge=1, le=1440, allow_inf_nan=False)] = 15.0
    aht_s: Seconds | None = None
    target_sl: Share = 0.8
    target_seconds: Annotated[float, Field(ge=0, le=86_400, allow_inf_nan=False)] = 20.0
    patience_s: Annotated[float, Field(ge=1, le=3_600, allow_inf_nan=False)] | None = None
    shrinkage: Share = 0.0
    max_occupancy: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = 1.0
    max_asa_s: Annotated[float, Field(ge=0, le=86_400, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _one_mode(self) -> StaffingIn:
        if (self.calls is None) == (self.intervals is None):
            raise ValueError("give either calls (one interval) or intervals (a day)")
        if self.aht_s is None and (self.intervals is None or any(i.aht_s is None for i in self.intervals)):
            raise ValueError("aht_s is required (for every interval without its own)")
        return self


class RequirementOut(Output):
    start: str | None = None
    calls: float
    agents: int  # to schedule, shrinkage included
    on_phones: int
    service_level: float
    p_wait: float
    asa_s: float | None  # None: unbounded
    occupancy: float
    p_abandon: float


class StaffingOut(Output):
    model: str  # erlang_c | erlang_a
    intervals: list[RequirementOut]
    agent_hours: float
