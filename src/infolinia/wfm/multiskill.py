"""Discrete-event simulation of a multi-skill center through the real routing engine (``routing.engine.Engine``).

The engine is pure and takes the time with every call, so the simulation owns the clock: a heap of what happens
next (a contact's patience runs out, an agent finishes a contact, a staffing change, an engine timer falling due)
and the contacts' arrivals in order. At each moment it tells the engine what happened (``add_task``,
``cancel_task``, ``complete``, ``set_presence``, ``tick``) and answers every offer the engine makes at once
(``accept``): simulated agents always pick up. Routing itself — which agent gets which contact, skills, languages,
priorities, the queue's strategy, wrap-up, scheduled callbacks — is the engine's, not re-implemented here.

Agents of a group are numbered; agent k of a group is on duty (ready) in the intervals whose head count for the
group exceeds k, and goes on break (finishing the contact in hand) when it does not. After the last interval the
last head counts stay, so the contacts still waiting are served.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from heapq import heappop, heappush

import numpy as np

from infolinia.routing.engine import Engine
from infolinia.routing.model import AgentSpec, Channel, Presence, QueueSpec, Strategy, TaskSpec, TaskState
from infolinia.wfm.distributions import HandleTime, SimulationError, arrivals, patience
from infolinia.wfm.kpis import Kpis, busy_per_interval, from_columns
from infolinia.wfm.simulate import CALLBACK_DRAWS, SimulationResult, SimulationTooLong, SingleSkillCenter

TENANT = 1
_CHECK_EVERY = 1 << 13

# what the simulation's own heap holds: (at, number, kind, who)
_ABANDON, _COMPLETE, _TICK, _STAFF = 0, 1, 2, 3

# outcome of a contact
_OPEN, _ANSWERED, _ABANDONED, _TO_CALLBACK = 0, 1, 2, 3


@dataclass(frozen=True)
class QueueModel:
    name: str
    calls: tuple[float, ...]  # expected contacts per interval
    handle: HandleTime = field(default_factory=HandleTime)
    patience_s: float | None = None
    skills: Mapping[str, int] = field(default_factory=dict)  # what its contacts need (skill -> minimum level)
    language: str | None = None
    priority: int = 0
    strategy: Strategy = Strategy.LONGEST_IDLE
    sl_seconds: float = 20.0
    short_abandon_s: float = 5.0
    wrapup_s: float = 0.0
    callback_share: float = 0.0
    callback_delay_s: float = 0.0


@dataclass(frozen=True)
class AgentGroup:
    name: str
    agents: tuple[int, ...]  # head count per interval
    skills: Mapping[str, int] = field(default_factory=dict)
    languages: frozenset[str] = frozenset()
    queues: tuple[str, ...] = ()  # names of the queues it serves


@dataclass(frozen=True)
class MultiSkillCenter:
    queues: tuple[QueueModel, ...]
    groups: tuple[AgentGroup, ...]
    interval_s: float = 1800.0

    def __post_init__(self) -> None:
        if not self.queues or not self.groups:
            raise SimulationError("a center needs at least one queue and one agent group")
        n = len(self.queues[0].calls)
        names = [q.name for q in self.queues]
        if len(set(names)) != len(names):
            raise SimulationError("queue names must differ")
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise SimulationError("interval_s must be positive")
        for q in self.queues:
            if len(q.calls) != n or n == 0:
                raise SimulationError(f"queue {q.name!r}: every queue needs the same number of intervals (> 0)")
            if any(not math.isfinite(c) or c < 0 for c in q.calls):
                raise SimulationError(f"queue {q.name!r}: expected calls must be finite and not negative")
            if q.patience_s is not None and not (math.isfinite(q.patience_s) and q.patience_s > 0):
                raise SimulationError(f"queue {q.name!r}: patience_s must be positive (or none)")
            if not 0.0 <= q.callback_share <= 1.0:
                raise SimulationError(f"queue {q.name!r}: callback_share is between 0 and 1")
            for name in ("sl_seconds", "short_abandon_s", "wrapup_s", "callback_delay_s"):
                value = getattr(q, name)
                if not (math.isfinite(value) and value >= 0):
                    raise SimulationError(f"queue {q.name!r}: {name} must be seconds, not negative")
        for g in self.groups:
            if len(g.agents) != n or any(a < 0 for a in g.agents):
                raise SimulationError(f"group {g.name!r}: one head count (not negative) per interval")
            unknown = set(g.queues) - set(names)
            if unknown:
                raise SimulationError(f"group {g.name!r}: no queue named {sorted(unknown)[0]!r}")

    @property
    def intervals(self) -> int:
        return len(self.queues[0].calls)

    @property
    def expected_calls(self) -> float:
        return float(sum(sum(q.calls) for q in self.queues))

    @staticmethod
    def from_single(center: SingleSkillCenter) -> MultiSkillCenter:
        """The same center as one queue and one group, for the routing engine."""
        queue = QueueModel("main", center.calls, center.handle, center.patience_s, sl_seconds=center.sl_seconds,
                           short_abandon_s=center.short_abandon_s, callback_share=center.callback_share,
                           callback_delay_s=center.callback_delay_s)  # fmt: skip
        return MultiSkillCenter((queue,), (AgentGroup("agents", center.agents, queues=("main",)),), center.interval_s)


class _Run:
    """One simulation run: the engine, the clock's heap and what each contact went through."""

    def __init__(self, center: MultiSkillCenter, seed: int, deadline: float | None) -> None:
        self.center = center
        self.deadline = deadline
        rng = self.rng = np.random.default_rng(seed)
        self.engine = Engine()
        per_queue = []
        for qi, q in enumerate(center.queues):
            arr = arrivals(rng, q.calls, center.interval_s)
            n = len(arr)
            per_queue.append((arr, np.full(n, qi), patience(rng, q.patience_s, n), q.handle.draw(rng, n),
                              rng.random(n) < q.callback_share))  # fmt: skip
        order = np.argsort(np.concatenate([p[0] for p in per_queue]), kind="stable")
        self.arrival, self.queue, self.patience, self.handle, self.wants_callback = (
            np.concatenate([p[i] for p in per_queue])[order] for i in range(5)
        )
        n = self.n = len(self.arrival)
        # per contact while running (lists: cheaper to index from Python than arrays)
        self.wait: list[float] = [0.0] * n
        self.outcome: list[int] = [_OPEN] * n
        self.arrival_list: list[float] = self.arrival.tolist()
        self.handle_list: list[float] = self.handle.tolist()
        self.heap: list[tuple[float, int, int, int]] = []
        self.seq = 0
        # callbacks: task id (from n on) -> (request time, queue); then (start, handle) when served
        self.callback_of: dict[int, tuple[float, int]] = {}
        self.callbacks_asked = 0
        self.callbacks_served: list[tuple[int, float, float, float]] = []  # (queue, requested, start, handle)
        self.serving: dict[int, int] = {}  # callback task id -> queue, while an agent handles it
        self.pool: dict[int, list[float]] = {}
        self.specs: list[QueueSpec] = []
        self.agent_ids: list[list[int]] = []

    def push(self, at: float, kind: int, who: int) -> None:
        self.seq += 1
        heappush(self.heap, (at, self.seq, kind, who))

    def setup(self) -> None:
        center, engine = self.center, self.engine
        qid = {q.name: i + 1 for i, q in enumerate(center.queues)}
        for q in center.queues:
            spec = QueueSpec(qid[q.name], TENANT, q.name, sl_seconds=q.sl_seconds, strategy=q.strategy,
                             short_abandon_s=q.short_abandon_s, wrapup_s=q.wrapup_s,
                             default_handle_s=q.handle.mean)  # fmt: skip
            self.specs.append(spec)
            engine.set_queue(spec, 0.0)
        next_id = 1
        capacity = {Channel.VOICE: 1, Channel.CALLBACK: 1}
        for g in center.groups:
            ids = list(range(next_id, next_id + max(g.agents)))
            next_id += len(ids)
            self.agent_ids.append(ids)
            for aid in ids:
                engine.set_agent(AgentSpec(aid, TENANT, dict(g.skills), g.languages,
                                           frozenset(qid[name] for name in g.queues), capacity), 0.0)  # fmt: skip
        for i in range(center.intervals):
            self.push(i * center.interval_s, _STAFF, i)

    def staff(self, i: int, now: float) -> None:
        engine = self.engine
        for g, ids in zip(self.center.groups, self.agent_ids, strict=True):
            on = g.agents[i]
            before = g.agents[i - 1] if i else 0
            for k in range(min(on, before), max(on, before)):
                engine.set_presence(ids[k], Presence.READY if k < on else Presence.BREAK, now)

    def answer_offers(self, now: float) -> None:
        """Accept every offer the engine made; the contacts' handling ends later."""
        events = self.engine.events
        accept, outcome, wait, arrival, handle, n = self.engine.accept, self.outcome, self.wait, self.arrival_list, \
            self.handle_list, self.n  # fmt: skip
        while events:
            offers = [ev for ev in events if ev.kind == "offer"]
            events.clear()
            for ev in offers:
                tid: int = ev.task  # type: ignore[assignment]
                accept(tid, now)
                if tid < n:
                    outcome[tid] = _ANSWERED
                    wait[tid] = now - arrival[tid]
                    took = handle[tid]
                else:
                    requested, qi = self.callback_of.pop(tid)
                    self.serving[tid] = qi
                    took = self.draw(qi)
                    self.callbacks_served.append((qi, requested, now, took))
                self.seq += 1
                heappush(self.heap, (now + took, self.seq, _COMPLETE, tid))

    def draw(self, qi: int) -> float:
        pool = self.pool.get(qi)
        if not pool:
            pool = self.pool[qi] = self.center.queues[qi].handle.draw(self.rng, CALLBACK_DRAWS).tolist()
        return pool.pop()

    def happen(self, at: float, kind: int, who: int) -> None:
        engine = self.engine
        if kind == _COMPLETE:
            engine.complete(who, at)
            wrapup = self.center.queues[self.queue_of(who)].wrapup_s
            self.serving.pop(who, None)
            if wrapup > 0:
                self.push(at + wrapup, _TICK, 0)
        elif kind == _ABANDON:
            if self.outcome[who] != _OPEN or engine.task_state(who) is not TaskState.WAITING:
                return  # answered meanwhile
            if self.wants_callback[who]:
                qi = int(self.queue[who])
                engine.cancel_task(who, at, reason="callback")
                self.outcome[who] = _TO_CALLBACK
                self.wait[who] = at - self.arrival_list[who]
                q = self.center.queues[qi]
                tid = self.n + self.callbacks_asked
                self.callbacks_asked += 1
                self.callback_of[tid] = (at, qi)
                due = at + q.callback_delay_s
                # it joins the line when it falls due (``enqueued_at``), as the fast path has it
                engine.add_task(TaskSpec(tid, TENANT, qi + 1, Channel.CALLBACK, due, dict(q.skills), q.language,
                                         q.priority, not_before=due), at)  # fmt: skip
                if due > at:
                    self.push(due, _TICK, 0)
            else:
                engine.cancel_task(who, at)
                self.outcome[who] = _ABANDONED
                self.wait[who] = at - self.arrival_list[who]
        elif kind == _TICK:
            engine.tick(at)
        else:
            self.staff(who, at)
        self.answer_offers(at)

    def queue_of(self, tid: int) -> int:
        if tid < self.n:
            return int(self.queue[tid])
        return self.serving[tid]

    def run(self) -> None:
        self.setup()
        engine, heap = self.engine, self.heap
        queues = self.center.queues
        specs = [(q.skills, q.language, q.priority) for q in queues]
        arrival, queue, pat = self.arrival.tolist(), self.queue.tolist(), self.patience.tolist()
        happen, answer, outcome = self.happen, self.answer_offers, self.outcome
        complete, add_task, voice = engine.complete, engine.add_task, Channel.VOICE
        plain = [q.wrapup_s == 0 for q in queues]  # queues whose contacts' completion needs nothing more
        for tid in range(self.n):
            a = arrival[tid]
            while heap and heap[0][0] <= a:
                at, _, kind, who = heappop(heap)
                if kind == _COMPLETE and who < self.n and plain[queue[who]]:
                    complete(who, at)
                    answer(at)
                else:
                    happen(at, kind, who)
            qi = queue[tid]
            skills, language, priority = specs[qi]
            add_task(TaskSpec(tid, TENANT, qi + 1, voice, a, skills, language, priority), a)
            answer(a)
            if outcome[tid] == _OPEN and pat[tid] != math.inf:
                self.seq += 1
                heappush(heap, (a + pat[tid], self.seq, _ABANDON, tid))
            if self.deadline is not None and not tid % _CHECK_EVERY and time.perf_counter() > self.deadline:
                raise SimulationTooLong(f"the simulation ran past its time limit after {tid} contacts")
        while heap:
            at, _, kind, who = heappop(heap)
            happen(at, kind, who)
            if self.deadline is not None and not self.seq % _CHECK_EVERY and time.perf_counter() > self.deadline:
                raise SimulationTooLong("the simulation ran past its time limit draining the queues")


def simulate_multi(center: MultiSkillCenter, seed: int = 0, *, max_seconds: float | None = None) -> SimulationResult:
    """Simulate ``center`` once through the routing engine with random stream ``seed`` (same seed, same result)."""
    started = time.perf_counter()
    run = _Run(center, seed, None if max_seconds is None else started + max_seconds)
    run.run()
    result = _tally(run)
    result.engine_stats = {q.name: run.engine.queue_stats(i + 1, run.engine.now) for i, q in enumerate(center.queues)}
    result.seed = seed
    result.elapsed_s = time.perf_counter() - started
    return result


def _tally(run: _Run) -> SimulationResult:
    center = run.center
    wait, outcome = np.asarray(run.wait), np.asarray(run.outcome, dtype=np.int8)
    n_int, interval_s = center.intervals, center.interval_s
    idx = np.minimum((run.arrival // interval_s).astype(np.int64), n_int - 1)
    served = np.asarray(run.callbacks_served, dtype=np.float64).reshape(-1, 4)
    cb_queue = served[:, 0].astype(np.int64)
    cb_idx = np.minimum((served[:, 2] // interval_s).astype(np.int64), n_int - 1)
    requested = [(r, qi) for r, qi in run.callback_of.values()]
    req_times = np.asarray([r for r, _ in requested] + served[:, 1].tolist(), dtype=np.float64)
    req_queue = np.asarray([qi for _, qi in requested] + cb_queue.tolist(), dtype=np.int64)
    req_idx = np.minimum((req_times // interval_s).astype(np.int64), n_int - 1)
    answered = outcome == _ANSWERED
    starts_all = run.arrival + wait
    by_queue: dict[str, Kpis] = {}
    intervals = [Kpis() for _ in range(n_int)]
    for qi, q in enumerate(center.queues):
        mine = run.queue == qi
        cb = cb_queue == qi

        def per(mask: np.ndarray, weights: np.ndarray | None = None, where: np.ndarray = idx) -> np.ndarray:
            return np.bincount(where[mask], weights=None if weights is None else weights[mask], minlength=n_int)

        ans = mine & answered
        abandoned = mine & (outcome == _ABANDONED)
        wrap = q.wrapup_s
        busy = busy_per_interval(
            np.concatenate((starts_all[ans], served[cb, 2])),
            np.concatenate((starts_all[ans] + run.handle[ans] + wrap, served[cb, 2] + served[cb, 3] + wrap)),
            interval_s,
            n_int,
        )
        cols = {
            "offered": per(mine),
            "answered": per(ans),
            "abandoned": per(abandoned),
            "abandoned_short": per(abandoned & (wait < q.short_abandon_s)),
            "answered_in_sl": per(ans & (wait <= q.sl_seconds)),
            "wait_sum_s": per(ans, wait),
            "handle_sum_s": per(ans, run.handle) + per(cb, served[:, 3], cb_idx),
            "handled": per(ans) + per(cb, where=cb_idx),
            "callbacks_requested": per(req_queue == qi, where=req_idx),
            "callbacks_served": per(cb, where=cb_idx),
            "callback_delay_sum_s": per(cb, served[:, 2] - served[:, 1], cb_idx),
            "busy_s": busy,
        }
        parts = from_columns(cols, n_int)
        by_queue[q.name] = Kpis.total(parts)
        intervals = [a + b for a, b in zip(intervals, parts, strict=True)]
    for i in range(n_int):
        intervals[i].staffed_s = float(sum(g.agents[i] for g in center.groups)) * interval_s
    return SimulationResult(Kpis.total(intervals), intervals, interval_s, 0, by_queue=by_queue)
