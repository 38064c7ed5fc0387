"""Discrete-event simulation of a single-skill center (one queue, one pool of agents), served first come first
served: the fast path. Multi-skill centers go through the real routing engine instead (``wfm.multiskill``).

Contacts arrive as a non-homogeneous Poisson process (an expected count per interval), need a handle time drawn
from a distribution, and hang up when their wait would exceed their (exponential) patience. Under first come, first
served a contact's wait depends only on the contacts before it that were served, so the simulation walks the
contacts in arrival order once, keeping a heap of the times the agents become free: the earliest-free agent takes
the next contact at max(arrival, free time) unless the caller's patience ran out first, in which case the agent
stays free for the next one (an exact recursion, not an approximation). Agents work the intervals they are
staffed for (agent k is on duty while the interval's head count exceeds k) and finish the contact in hand when
their duty ends. A caller whose patience runs out may ask to be called back instead of hanging up; the callback
joins the same line ``callback_delay_s`` later and waits as long as it takes.
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush, heapreplace

import numpy as np

from infolinia.wfm.distributions import Floats, HandleTime, SimulationError, arrivals, patience
from infolinia.wfm.kpis import Kpis, busy_per_interval, from_columns

_CHECK_EVERY = 1 << 16  # contacts between two looks at the deadline
CALLBACK_DRAWS = 1024  # handle times drawn at a time for callbacks


class SimulationTooLong(SimulationError):
    """The simulation ran past the time it was given."""


@dataclass(frozen=True)
class SingleSkillCenter:
    """``calls[i]`` contacts expected and ``agents[i]`` agents on duty in interval i (each ``interval_s`` long)."""

    calls: tuple[float, ...]
    agents: tuple[int, ...]
    handle: HandleTime = field(default_factory=HandleTime)
    patience_s: float | None = None  # mean of an exponential patience; None: nobody hangs up
    interval_s: float = 1800.0
    sl_seconds: float = 20.0
    short_abandon_s: float = 5.0
    callback_share: float = 0.0  # of the callers whose patience runs out, the share asking for a callback
    callback_delay_s: float = 0.0  # from the request until the callback joins the line

    def __post_init__(self) -> None:
        if not self.calls or len(self.calls) != len(self.agents):
            raise SimulationError("calls and agents need one value per interval, the same number of intervals")
        if any(not math.isfinite(c) or c < 0 for c in self.calls):
            raise SimulationError("expected calls per interval must be finite and not negative")
        if any(a < 0 for a in self.agents):
            raise SimulationError("agents per interval cannot be negative")
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise SimulationError("interval_s must be positive")
        if self.patience_s is not None and not (math.isfinite(self.patience_s) and self.patience_s > 0):
            raise SimulationError("patience_s must be a positive number of seconds (or none)")
        if not 0.0 <= self.callback_share <= 1.0:
            raise SimulationError("callback_share is a share: between 0 and 1")
        for name in ("sl_seconds", "short_abandon_s", "callback_delay_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise SimulationError(f"{name} must be a number of seconds, not negative")

    @property
    def expected_calls(self) -> float:
        return float(sum(self.calls))


@dataclass
class CallRecord:
    """Per contact, in arrival order (kept when asked for): arrival, wait (until answered, or until the caller
    left), whether answered, handle time (0 when not answered), and whether the caller asked for a callback."""

    arrival: Floats
    wait: Floats
    answered: np.ndarray  # bool
    handle: Floats
    callback: np.ndarray  # bool


@dataclass
class SimulationResult:
    overall: Kpis
    intervals: list[Kpis]
    interval_s: float
    seed: int
    calls: CallRecord | None = None
    by_queue: dict[str, Kpis] = field(default_factory=dict)
    elapsed_s: float = 0.0
    engine_stats: dict[str, dict[str, object]] = field(default_factory=dict)  # the routing engine's own counts

    def as_dict(self) -> dict[str, object]:
        return {
            "seed": self.seed,
            "interval_s": self.interval_s,
            "overall": self.overall.as_dict(),
            "intervals": [k.as_dict() for k in self.intervals],
            "by_queue": {name: k.as_dict() for name, k in self.by_queue.items()},
        }


class _Duty:
    """When each agent is on duty: agent k works interval i when ``agents[i] > k``."""

    def __init__(self, agents: Sequence[int], interval_s: float) -> None:
        self.staff = list(agents)
        self.interval_s = interval_s
        self.last = len(agents) - 1
        self.on = [[i for i, n in enumerate(agents) if n > k] for k in range(max(agents, default=0))]

    def next_start(self, k: int, i: int) -> float | None:
        """When agent k next comes on duty at or after interval i (None: never again)."""
        on = self.on[k]
        j = bisect_left(on, i)
        return on[j] * self.interval_s if j < len(on) else None


def simulate_single(
    center: SingleSkillCenter, seed: int = 0, *, keep_calls: bool = False, max_seconds: float | None = None
) -> SimulationResult:
    """Simulate ``center`` once with random stream ``seed`` (same seed, same result)."""
    started = time.perf_counter()
    deadline = None if max_seconds is None else started + max_seconds
    rng = np.random.default_rng(seed)
    arr = arrivals(rng, center.calls, center.interval_s)
    n = len(arr)
    pat = patience(rng, center.patience_s, n)
    handle = center.handle.draw(rng, n)
    wants_callback = rng.random(n) < center.callback_share if center.callback_share > 0 else np.zeros(n, bool)
    waits, served, callbacks = _walk(center, arr, pat, handle, wants_callback, rng, deadline)
    result = _tally(center, arr, waits, served, handle, wants_callback, pat, callbacks)
    result.seed = seed
    result.elapsed_s = time.perf_counter() - started
    if keep_calls:
        answered = np.asarray(served[:n], dtype=bool)
        result.calls = CallRecord(arr, np.asarray(waits[:n]), answered, np.where(answered, handle, 0.0),
                                  ~answered & wants_callback & np.isfinite(pat))  # fmt: skip
    return result


class _Callbacks:
    """The callbacks asked for, with the handle times drawn for them, and what became of them."""

    def __init__(self, rng: np.random.Generator, handle: HandleTime) -> None:
        self.due: list[tuple[float, int]] = []  # (joins the line at, number) heap
        self.requested_at: list[float] = []
        self.delay: list[float] = []  # request to answer, per callback served
        self.spans: list[tuple[float, float]] = []  # (start, end) of the callbacks served
        self.rng, self.handle = rng, handle
        self.pool: list[float] = []

    def ask(self, at: float, joins: float) -> None:
        heappush(self.due, (joins, len(self.requested_at)))
        self.requested_at.append(at)

    def draw(self) -> float:
        if not self.pool:
            self.pool = self.handle.draw(self.rng, CALLBACK_DRAWS).tolist()
        return self.pool.pop()


def _walk(
    center: SingleSkillCenter,
    arr: Floats,
    pat: Floats,
    handle: Floats,
    wants_callback: np.ndarray,
    rng: np.random.Generator,
    deadline: float | None,
) -> tuple[list[float], list[bool], _Callbacks]:
    duty = _Duty(center.agents, center.interval_s)
    staff, interval_s, last = duty.staff, duty.interval_s, duty.last
    free: list[tuple[float, int]] = []
    for k in range(len(duty.on)):
        first = duty.next_start(k, 0)
        if first is not None:
            free.append((first, k))
    heapify(free)
    steady = len(set(staff)) == 1  # every agent on duty all the time: no duty checks
    callbacks = _Callbacks(rng, center.handle)
    delay = center.callback_delay_s
    waits: list[float] = []
    served: list[bool] = []
    push_wait, push_served = waits.append, served.append
    inf = math.inf

    def agent_at(a: float) -> tuple[float, int] | None:
        """The agent that takes a contact arriving at ``a`` first: (start, agent), or None if nobody ever can."""
        while free:
            f, k = free[0]
            start = f if f > a else a
            if steady:
                return start, k
            i = int(start // interval_s)
            if k < staff[i if i < last else last]:
                return start, k
            back = duty.next_start(k, i + 1)
            if back is None:
                heappop(free)
            else:
                heapreplace(free, (back, k))
        return None

    def serve_callbacks(until: float) -> None:
        due = callbacks.due
        while due and due[0][0] <= until:
            joins, number = heappop(due)
            got = agent_at(joins)
            if got is None:
                continue
            start, k = got
            h = callbacks.draw()
            heapreplace(free, (start + h, k))
            callbacks.delay.append(start - callbacks.requested_at[number])
            callbacks.spans.append((start, start + h))

    columns = zip(arr.tolist(), pat.tolist(), handle.tolist(), wants_callback.tolist(), strict=True)
    for count, (a, p, h, cb) in enumerate(columns, 1):
        if callbacks.due and callbacks.due[0][0] <= a:
            serve_callbacks(a)
        got = agent_at(a)
        if got is not None and got[0] - a <= p:
            start = got[0]
            heapreplace(free, (start + h, got[1]))
            push_wait(start - a)
            push_served(True)
        else:  # out of patience (or no agent will ever come, and then the wait is endless)
            push_wait(p)
            push_served(False)
            if cb and p != inf:
                callbacks.ask(a + p, a + p + delay)
        if deadline is not None and not count % _CHECK_EVERY and time.perf_counter() > deadline:
            raise SimulationTooLong(f"the simulation ran past its time limit after {count} contacts")
    serve_callbacks(inf)
    return waits, served, callbacks


def _tally(
    center: SingleSkillCenter,
    arr: Floats,
    waits_list: list[float],
    served_list: list[bool],
    handle: Floats,
    wants_callback: np.ndarray,
    pat: Floats,
    callbacks: _Callbacks,
) -> SimulationResult:
    n_int = len(center.calls)
    interval_s = center.interval_s
    waits = np.asarray(waits_list, dtype=np.float64)
    answered = np.asarray(served_list, dtype=bool)
    left = ~answered
    asked = left & wants_callback & np.isfinite(pat)
    abandoned = left & ~asked & np.isfinite(waits)  # an endless wait: nobody on duty ever again, nor hung up
    idx = np.minimum((arr // interval_s).astype(np.int64), n_int - 1)

    def per(mask: np.ndarray, weights: Floats | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(idx[mask], weights=w, minlength=n_int)

    starts = arr[answered] + waits[answered]
    ends = starts + handle[answered]
    spans = np.asarray(callbacks.spans, dtype=np.float64).reshape(-1, 2)
    busy = busy_per_interval(np.concatenate((starts, spans[:, 0])), np.concatenate((ends, spans[:, 1])),
                             interval_s, n_int)  # fmt: skip
    requested_at = np.asarray(callbacks.requested_at, dtype=np.float64)
    cb_idx = np.minimum((requested_at // interval_s).astype(np.int64), n_int - 1)
    served_cb = spans
    cb_start_idx = np.minimum((served_cb[:, 0] // interval_s).astype(np.int64), n_int - 1)
    columns = {
        "offered": np.bincount(idx, minlength=n_int),
        "answered": per(answered),
        "abandoned": per(abandoned),
        "abandoned_short": per(abandoned & (waits < center.short_abandon_s)),
        "answered_in_sl": per(answered & (waits <= center.sl_seconds)),
        "wait_sum_s": per(answered, waits),
        "handle_sum_s": per(answered, handle)
        + np.bincount(cb_start_idx, weights=served_cb[:, 1] - served_cb[:, 0], minlength=n_int),
        "handled": per(answered) + np.bincount(cb_start_idx, minlength=n_int),
        "callbacks_requested": np.bincount(cb_idx, minlength=n_int),
        "callbacks_served": np.bincount(cb_start_idx, minlength=n_int),
        "callback_delay_sum_s": np.bincount(
            cb_start_idx, weights=np.asarray(callbacks.delay, dtype=np.float64), minlength=n_int
        ),
        "busy_s": busy,
        "staffed_s": np.asarray(center.agents, dtype=np.float64) * interval_s,
    }
    intervals = from_columns(columns, n_int)
    return SimulationResult(Kpis.total(intervals), intervals, interval_s, 0)
