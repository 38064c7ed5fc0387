"""Staffing: the fewest agents on the phones that meet a target, per interval, then shrinkage on top.

The target is a service level (share of calls answered within ``target_s``; Erlang A: answered *and* within it),
optionally a maximum ASA and a maximum occupancy. Every measure is monotone in the number of agents, so each
interval's requirement is found by a bracketing search that starts from square-root staffing
(``a + beta * sqrt(a)``) and evaluates all intervals of a day at once with the vectorised formulas of ``erlang``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import special

from infolinia.wfm.erlang import Floats, Performance, erlang_a_arrays, erlang_c_arrays, log_erlang_b

__all__ = [
    "MAX_AGENTS",
    "DayPlan",
    "Requirement",
    "StaffingError",
    "Target",
    "plan_day",
    "requirement_dict",
    "staff_day",
    "staff_interval",
    "with_shrinkage",
]

#: no interval is staffed above this many agents (the target is refused as unreachable instead)
MAX_AGENTS = 1_000_000
#: Erlang A sums over queue lengths up to about the arrivals within one mean patience: at most this many (10,000
#: agents with a 3-minute AHT, callers waiting an hour on average, are 200,000)
MAX_PATIENCE_ARRIVALS = 250_000
Ints = NDArray[np.int64]


class StaffingError(ValueError):
    """A target that no number of agents up to ``MAX_AGENTS`` meets, or a model too large to evaluate."""

    def __init__(self, message: str, code: str = "unreachable_target") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Target:
    service_level: float  # share of calls answered within target_s, in [0, 1)
    target_s: float
    max_occupancy: float = 1.0
    max_asa_s: float | None = None
    patience_s: float | None = None  # Erlang A when given, else Erlang C
    shrinkage: float = 0.0  # share of paid time off the phones, in [0, 1)


@dataclass(frozen=True)
class Requirement:
    """One interval: ``on_phones`` agents give ``performance``; ``agents`` is that grossed up for shrinkage."""

    calls: float
    aht_s: float
    agents: int
    on_phones: int
    performance: Performance


def with_shrinkage(on_phones: Ints, shrinkage: float) -> Ints:
    """Agents to schedule so that ``on_phones`` remain after ``shrinkage`` (rounded up; exact multiples stay)."""
    if shrinkage <= 0:
        return on_phones
    gross = on_phones / (1.0 - shrinkage)
    return np.ceil(gross - 1e-9 * np.maximum(gross, 1.0)).astype(np.int64)


def _measure(agents: Floats, load: Floats, aht: Floats, target: Target) -> dict[str, Floats]:
    if target.patience_s is None:
        return erlang_c_arrays(agents, load, aht, target.target_s)
    return erlang_a_arrays(agents, load, aht, target.patience_s, target.target_s)


def _meets(m: dict[str, Floats], target: Target) -> NDArray[np.bool_]:
    ok = (m["service_level"] >= target.service_level) & (m["occupancy"] <= target.max_occupancy + 1e-12)
    if target.max_asa_s is not None:
        ok &= m["asa_s"] <= target.max_asa_s
    return ok


def _floor(load: Floats, target: Target) -> Floats:
    """A lower bound of the agents each interval needs. Erlang C needs n > a, and the maximum occupancy a/n caps
    from below; Erlang A: answered calls are at most n/a of all (n agents serve at most n mu), so SL <= n/a."""
    if target.patience_s is not None:
        return np.maximum(np.ceil(target.service_level * load), 1.0)
    floor = np.floor(load) + 1.0
    if target.max_occupancy < 1.0:
        floor = np.maximum(floor, np.ceil(load / target.max_occupancy - 1e-12))
    return floor


def _on_phones(load: Floats, aht: Floats, target: Target) -> tuple[Ints, dict[str, Floats] | None]:
    """The least agents meeting ``target`` for each interval (0 where no calls come), with their measures when
    they came with the answer (Erlang C)."""
    busy = load > 0
    if load.size and load.max() >= MAX_AGENTS:
        raise StaffingError(f"an interval's load needs more than {MAX_AGENTS} agents")
    floor = _floor(load, target)
    if target.patience_s is None and busy.any():
        found = _erlang_c_day(load, aht, floor, busy, target)
        if found is not None:
            return found
    lo = np.maximum(floor - 1.0, 0.0)  # known not to meet the target (or below every candidate)
    hi = np.maximum(np.ceil(load + 1.5 * np.sqrt(load)) + 1.0, floor)  # square-root staffing guess
    met = ~busy | _meets(_measure(hi, load, aht, target), target)
    while not np.all(met):
        step = np.maximum(hi - lo, 1.0)
        lo = np.where(met, lo, hi)
        hi = np.where(met, hi, hi + 2.0 * step)
        if np.any(hi > MAX_AGENTS):
            raise StaffingError(f"the target needs more than {MAX_AGENTS} agents in an interval")
        met = ~busy | _meets(_measure(hi, load, aht, target), target)
    while True:
        open_ = busy & (hi - lo > 1.0)
        if not np.any(open_):
            break
        mid = np.where(open_, np.floor((lo + hi) / 2.0), hi)
        ok = _meets(_measure(mid, load, aht, target), target)
        hi = np.where(open_ & ok, mid, hi)
        lo = np.where(open_ & ~ok, mid, lo)
    return np.where(busy, hi, 0.0).astype(np.int64), None


def _erlang_c_day(
    load: Floats, aht: Floats, floor: Floats, busy: NDArray[np.bool_], target: Target
) -> tuple[Ints, dict[str, Floats]] | None:
    """Erlang C staffing of the intervals with calls by windows of candidates above the bound (a narrow one first:
    most intervals need less than sqrt(load) above it; then a wide one for those it missed), with the measures of
    each answer; None when some interval needs more than the wide window holds (the general search then)."""
    idx = np.flatnonzero(busy)
    a, h, f = load[idx], aht[idx], floor[idx]
    found, window = _erlang_c_window(a, h, f, target, 1.0, 4.0)
    if not found.all():
        miss = ~found
        found[miss], wide = _erlang_c_window(a[miss], h[miss], f[miss], target, 4.0, 12.0)
        if not found.all():
            return None
        for part, value in zip(window, wide, strict=True):  # fancy-indexed: arrays of their own
            part[miss] = value
    n, c, gap = window
    size = load.size
    agents, p_wait, sl, asa, occupancy, p_abandon = np.zeros((6, size))
    sl[:] = 1.0
    agents[idx], p_wait[idx], occupancy[idx] = n, c, a / n
    sl[idx] = 1.0 - c * np.exp(-gap * (target.target_s / h))
    asa[idx] = c * h / gap
    measures = {"p_wait": p_wait, "service_level": sl, "asa_s": asa, "p_abandon": p_abandon,
                "occupancy": occupancy}  # fmt: skip
    return agents.astype(np.int64), measures


def _log_b_at(n: Floats, a: Floats) -> Floats:
    """``erlang.log_erlang_b`` for positive loads, its closed form without the edge handling when that holds
    (called where a log of 0 is allowed: ``np.errstate(divide="ignore")``)."""
    cdf = special.pdtr(n, a)
    fast: Floats = special.xlogy(n, a) - a - special.gammaln(n + 1) - np.log(cdf)
    if (cdf > 1e-280).all():
        return np.minimum(fast, 0.0)
    return log_erlang_b(n, a)


def _erlang_c_window(
    load: Floats, aht: Floats, floor: Floats, target: Target, spread: float, extra: float
) -> tuple[NDArray[np.bool_], tuple[Floats, Floats, Floats]]:
    """Erlang C for every interval at ``floor .. floor + K - 1`` agents in one pass (``K = spread sqrt(load) +
    extra``): Erlang B at ``floor`` in closed form, then along the row by the linear recurrence of its inverse,
    ``1/B(n) = 1 + (n/a) / B(n-1)``, as cumulative products (an overflow there means B below 1e-308: taken as 0).
    Returns which intervals the window holds the answer for, and that answer: agents, probability of waiting
    (Erlang C) and agents above the load."""
    width = int(np.ceil(spread * np.sqrt(float(load.max())) + extra))
    a = load[:, None]  # every load here is positive, and the bound keeps a/n within the maximum occupancy
    n = floor[:, None] + np.arange(width, dtype=np.float64)[None, :]
    with np.errstate(over="ignore", divide="ignore"):
        ratio = n / a
        ratio[:, 0] = 1.0
        growth = np.cumprod(ratio, axis=1)  # prod_{j=1..k} (n0+j)/a
        steps = 1.0 / growth
        steps[:, 0] = np.exp(-_log_b_at(floor, load))  # 1/B at the bound
        b = 1.0 / (growth * np.cumsum(steps, axis=1))  # 1/B(n0+k) = growth_k (1/B(n0) + sum_j 1/growth_j)
        gap = n - a
        c = b / (1.0 - (a / n) * (1.0 - b))
        ok = c * np.exp(-gap * (target.target_s / aht)[:, None]) <= 1.0 - target.service_level
        if target.max_asa_s is not None:
            ok &= c * aht[:, None] / gap <= target.max_asa_s
    first = ok.argmax(axis=1)
    rows = np.arange(load.size)
    found: NDArray[np.bool_] = np.asarray(ok.any(axis=1), dtype=np.bool_)
    return found, (n[rows, first], c[rows, first], gap[rows, first])


def _check(target: Target) -> None:
    if not 0.0 <= target.service_level < 1.0:
        raise StaffingError("the service level target must be at least 0 and below 1")
    if not 0.0 <= target.shrinkage < 1.0:
        raise StaffingError("shrinkage must be at least 0 and below 1")
    if not 0.0 < target.max_occupancy <= 1.0:
        raise StaffingError("the maximum occupancy must be above 0 and at most 1")


@dataclass(frozen=True)
class DayPlan:
    """A day's requirement as arrays (one entry per interval): the form for large days and further arithmetic."""

    calls: Floats
    aht_s: Floats
    load: Floats
    on_phones: Ints
    agents: Ints  # shrinkage included
    measures: dict[str, Floats]  # p_wait, service_level, asa_s, p_abandon, occupancy of the agents on the phones


def plan_day(calls: Sequence[float], aht_s: Sequence[float] | float, interval_s: float, target: Target) -> DayPlan:
    """Requirement per interval for ``calls`` offered per interval of ``interval_s`` seconds, as arrays."""
    _check(target)
    calls_a = np.asarray(calls, dtype=np.float64)
    if np.ndim(aht_s) == 0:
        aht = np.full(calls_a.shape, float(aht_s))  # type: ignore[arg-type]
    else:
        aht = np.broadcast_to(np.asarray(aht_s, dtype=np.float64), calls_a.shape).astype(np.float64)
    load = calls_a * aht / interval_s
    if (
        target.patience_s is not None
        and calls_a.size
        and calls_a.max() / interval_s * target.patience_s > MAX_PATIENCE_ARRIVALS
    ):
        raise StaffingError(
            f"Erlang A is evaluated for at most {MAX_PATIENCE_ARRIVALS} arrivals within one mean patience",
            code="too_large",
        )
    on_phones, m = _on_phones(load, aht, target) if calls_a.size else (np.zeros(0, dtype=np.int64), None)
    if m is None:
        m = _measure(on_phones.astype(np.float64), load, aht, target)
    return DayPlan(calls_a, aht, load, on_phones, with_shrinkage(on_phones, target.shrinkage), m)


def staff_day(
    calls: Sequence[float], aht_s: Sequence[float] | float, interval_s: float, target: Target
) -> list[Requirement]:
    """Requirement per interval for ``calls`` offered per interval of ``interval_s`` seconds."""
    plan = plan_day(calls, aht_s, interval_s, target)
    keys = ("p_wait", "service_level", "asa_s", "p_abandon", "occupancy")
    columns = [plan.measures[k].tolist() for k in keys]
    out = []
    rows = zip(plan.calls.tolist(), plan.aht_s.tolist(), plan.load.tolist(), plan.on_phones.tolist(),
               plan.agents.tolist(), *columns, strict=True)  # fmt: skip
    for calls_i, aht_i, load_i, on_i, agents_i, p_wait, sl, asa, p_ab, occ in rows:
        perf = Performance(on_i, load_i, p_wait, sl, asa, p_ab, occ)
        out.append(Requirement(calls_i, aht_i, agents_i, on_i, perf))
    return out


def staff_interval(calls: float, aht_s: float, interval_s: float, target: Target) -> Requirement:
    """The requirement of one interval."""
    return staff_day([calls], aht_s, interval_s, target)[0]


def requirement_dict(req: Requirement) -> dict[str, object]:
    """The contract of ``infolinia staffing --json``: ``agents`` includes shrinkage, the rest is for the agents
    on the phones."""
    out = req.performance.as_dict()
    out["agents"] = req.agents
    return out
