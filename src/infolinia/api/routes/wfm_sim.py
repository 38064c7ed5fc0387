"""Workforce planning (``wfm/``): simulating a described center and scheduling shifts. Both compute only (they
read and write nothing of the tenant), in a worker thread, within caps on size and time: an over-large request is
refused before any work with 422 ``too_many_calls``, ``too_many_agents`` or ``schedule_too_large``, and one that
runs past its time with 422 ``simulation_too_long`` (a schedule returns the best found by its time limit)."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Depends

from infolinia.api.deps import Access, access
from infolinia.errors import Invalid
from infolinia.wfm.distributions import SimulationError
from infolinia.wfm.multiskill import simulate_multi
from infolinia.wfm.schedule import ScheduleError, solve
from infolinia.wfm.sim_schemas import CenterIn, ScheduleIn, ScheduleOut, SimulationOut, simulation_out
from infolinia.wfm.simulate import SimulationTooLong, simulate_single

router = APIRouter(tags=["workforce planning"])

#: expected calls one request may simulate, per engine, and the seconds it may run
MAX_CALLS = {"fast": 500_000, "routing": 50_000}
MAX_SIMULATION_S = 10.0
#: agents one simulation may have (the sum over groups of their largest head count)
MAX_AGENTS = {"fast": 10_000, "routing": 5_000}
#: booleans one schedule's model may have (agents x shift starts x break placements)
MAX_SCHEDULE_SIZE = 100_000


def _simulate(center: CenterIn) -> SimulationOut:
    engine: Literal["fast", "routing"] = "fast" if center.uses_fast_path() else "routing"
    if center.expected_calls > MAX_CALLS[engine]:
        raise Invalid(
            f"at most {MAX_CALLS[engine]:,} expected calls per simulation through the {engine} engine",
            code="too_many_calls",
            details={"expected_calls": center.expected_calls, "limit": MAX_CALLS[engine]},
        )
    agents = sum(max(center.heads(g)) for g in center.groups)
    if agents > MAX_AGENTS[engine]:
        raise Invalid(
            f"at most {MAX_AGENTS[engine]:,} agents per simulation through the {engine} engine",
            code="too_many_agents",
            details={"agents": agents, "limit": MAX_AGENTS[engine]},
        )
    try:
        if engine == "fast":
            return simulation_out(engine, simulate_single(center.single(), center.seed, max_seconds=MAX_SIMULATION_S))
        return simulation_out(engine, simulate_multi(center.multi(), center.seed, max_seconds=MAX_SIMULATION_S))
    except SimulationTooLong as exc:
        raise Invalid(str(exc), code="simulation_too_long", details={"limit_s": MAX_SIMULATION_S}) from exc
    except SimulationError as exc:
        raise Invalid(str(exc), code="bad_center") from exc


@router.post("/wfm/simulate", response_model=SimulationOut)
async def simulate(body: CenterIn, a: Access = Depends(access("wfm.plan"))) -> SimulationOut:
    """Simulate the described center (seeded: the same body gives the same figures): offered, answered, abandoned,
    service level, ASA, AHT, occupancy, abandon rate and callbacks, overall, per interval and per queue. One queue
    and one group without skills take the fast path; anything else goes through the routing engine."""
    return await asyncio.to_thread(_simulate, body)


def _schedule(body: ScheduleIn) -> ScheduleOut:
    size = body.size()
    if size > MAX_SCHEDULE_SIZE:
        raise Invalid(
            f"the schedule would need {size:,} decisions; at most {MAX_SCHEDULE_SIZE:,} (fewer agents, starts or "
            "break placements)",
            code="schedule_too_large",
            details={"size": size, "limit": MAX_SCHEDULE_SIZE},
        )
    try:
        problem = body.problem(list(body.requirement))
    except ScheduleError as exc:
        raise Invalid(str(exc), code="bad_rules") from exc
    try:
        return ScheduleOut.model_validate(solve(problem, body.time_limit_s, workers=1).as_dict())
    except ScheduleError as exc:
        raise Invalid(str(exc), code="no_schedule") from exc


@router.post("/wfm/schedule", response_model=ScheduleOut)
async def schedule(body: ScheduleIn, a: Access = Depends(access("wfm.plan"))) -> ScheduleOut:
    """Shifts per agent covering ``requirement`` (agents per interval) at least cost: shift cost plus
    ``under_penalty`` per agent-interval short. ``status`` says whether the solver proved it optimal within
    ``time_limit_s`` (at most 30 s here)."""
    return await asyncio.to_thread(_schedule, body)
