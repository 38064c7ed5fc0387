"""The naive router that bench/routing.py compares the engine with: no indexes, every decision scans everything.

Same semantics as the engine for what the benchmark exercises: tenants, queue membership, skill levels, language,
channel capacity (voice exclusive), READY presence, one pending offer per agent, overflow steps (lower levels, any
language, move queue) fired by timers, offers that the caller accepts. Agent choice is always "longest idle first"
(the engine's default strategy); task choice is the engine's urgency (priority plus aging, then age, then arrival).

- a task becomes routable (arrival, overflow): scan ALL agents for the longest-idle eligible free one;
- an agent becomes free or freer (completion, accepted offer leaving room): scan ALL waiting tasks for the most
  urgent one the agent can take.

Each such scan is one decision, counted in ``decisions`` the way the engine counts its own.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence

from infolinia.routing import AgentSpec, Channel, Event, QueueSpec, TaskSpec
from infolinia.routing.model import EXCLUSIVE

WAITING, RESERVED, ASSIGNED = "waiting", "reserved", "assigned"


class NaiveAgent:
    __slots__ = (
        "capacity", "id", "idle_since", "languages", "load", "load_exclusive", "load_total", "queues", "ready",
        "reserved", "skills", "tenant_id", "voice_exclusive",
    )  # fmt: skip

    def __init__(self, spec: AgentSpec, idle_since: float) -> None:
        self.id = spec.id
        self.tenant_id = spec.tenant_id
        self.skills = dict(spec.skills)
        self.languages = spec.languages
        self.queues = spec.queues
        self.capacity = dict(spec.capacity)
        self.voice_exclusive = spec.voice_exclusive
        self.ready = True
        self.reserved: int | None = None
        self.load: dict[Channel, int] = dict.fromkeys(Channel, 0)
        self.load_total = 0
        self.load_exclusive = 0
        self.idle_since = idle_since

    def can_take(self, channel: Channel) -> bool:
        if self.load[channel] >= self.capacity.get(channel, 0):
            return False
        if self.voice_exclusive:
            if channel in EXCLUSIVE:
                return self.load_total == 0
            return self.load_exclusive == 0
        return True

    def routable(self) -> bool:
        return self.ready and self.reserved is None and any(self.can_take(ch) for ch in Channel)


class NaiveTask:
    __slots__ = (
        "agent", "channel", "declined", "enq", "id", "language", "origin", "priority", "queue_id", "seq", "skills",
        "state", "tenant_id",
    )  # fmt: skip

    def __init__(self, spec: TaskSpec, seq: int) -> None:
        self.id = spec.id
        self.tenant_id = spec.tenant_id
        self.origin = spec.queue_id
        self.queue_id = spec.queue_id
        self.channel = spec.channel
        self.skills: tuple[tuple[str, int], ...] = tuple(sorted((k, v) for k, v in spec.skills.items() if v > 0))
        self.language = spec.language
        self.priority = spec.priority
        self.enq = spec.enqueued_at
        self.seq = seq
        self.state = WAITING
        self.agent: int | None = None
        self.declined: set[int] = set()

    def met_by(self, a: NaiveAgent) -> bool:
        if self.language is not None and self.language not in a.languages:
            return False
        skills = a.skills
        return all(skills.get(name, 0) >= level for name, level in self.skills)

    def widen(self, levels: Mapping[str, int], any_language: bool) -> None:
        merged = dict(self.skills) | dict(levels)
        self.skills = tuple(sorted((k, v) for k, v in merged.items() if v > 0))
        if any_language:
            self.language = None


class NaiveRouter:
    def __init__(self, queues: Sequence[QueueSpec], agents: Sequence[AgentSpec], ready_since: float) -> None:
        """Every agent READY (and idle) since ``ready_since``."""
        self.queues = {q.id: q for q in queues}
        self.agents = [NaiveAgent(spec, ready_since) for spec in sorted(agents, key=lambda s: s.id)]
        self.by_id = {a.id: a for a in self.agents}
        self.tasks: dict[int, NaiveTask] = {}  # every task in the router
        self.waiting: dict[int, NaiveTask] = {}  # the waiting ones, in arrival order
        self.events: list[Event] = []
        self.now = float("-inf")
        self.decisions = 0
        self._timers: list[tuple[float, int, int, int]] = []  # (at, seq, task id, overflow step)
        self._seq = 0
        self._timer_seq = 0

    def restore(self, now: float, tasks: Iterable[tuple[TaskSpec, int | None]]) -> None:
        """Load a state without routing: tasks (in arrival order) waiting (agent None) or assigned to an agent.

        Overflow steps due by ``now`` are applied to waiting tasks, later ones are set as timers.
        """
        self.now = now
        for spec, agent_id in tasks:
            self._seq += 1
            t = NaiveTask(spec, self._seq)
            self.tasks[t.id] = t
            if agent_id is None:
                self.waiting[t.id] = t
                for i, step in enumerate(self.queues[t.origin].overflow):
                    if t.enq + step.after_s <= now:
                        self._apply_overflow(t, i)
                    else:
                        self._timer(t.enq + step.after_s, t.id, i)
            else:
                a = self.by_id[agent_id]
                t.state, t.agent = ASSIGNED, a.id
                self._load(a, t.channel, +1)

    # --- the calls the benchmark makes (same signatures as the engine's) ----------------------------------------

    def add_task(self, spec: TaskSpec, now: float) -> None:
        self._advance(now)
        self._seq += 1
        t = NaiveTask(spec, self._seq)
        self.tasks[t.id] = t
        for i, step in enumerate(self.queues[t.origin].overflow):
            self._timer(t.enq + step.after_s, t.id, i)
        self.waiting[t.id] = t
        self._log(now, "task_queued", t.id, None)
        self._route_task(t, now)

    def accept(self, task_id: int, now: float) -> None:
        self._advance(now)
        t = self.tasks[task_id]
        if t.state != RESERVED or t.agent is None:
            raise ValueError(f"task {task_id} is not offered to anyone")
        a = self.by_id[t.agent]
        a.reserved = None
        self._load(a, t.channel, +1)
        t.state = ASSIGNED
        self._log(now, "offer_accepted", t.id, a.id)
        self._route_agent(a, now)

    def complete(self, task_id: int, now: float) -> None:
        self._advance(now)
        t = self.tasks.pop(task_id)
        if t.state != ASSIGNED or t.agent is None:
            raise ValueError(f"task {task_id} is not assigned")
        a = self.by_id[t.agent]
        self._load(a, t.channel, -1)
        if a.load_total == 0:
            a.idle_since = now
        self._log(now, "task_completed", t.id, a.id)
        self._route_agent(a, now)

    def drain(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    # --- decisions: full scans ----------------------------------------------------------------------------------

    def _route_task(self, t: NaiveTask, now: float) -> None:
        """Offer the task to the longest-idle eligible free agent: look at every agent."""
        self.decisions += 1
        best: NaiveAgent | None = None
        for a in self.agents:  # by id, so ties on idle time go to the lowest id
            if (
                a.tenant_id == t.tenant_id
                and t.queue_id in a.queues
                and a.ready
                and a.reserved is None
                and a.can_take(t.channel)
                and t.met_by(a)
                and a.id not in t.declined
                and (best is None or a.idle_since < best.idle_since)
            ):
                best = a
        if best is not None:
            self._offer(t, best, now)

    def _route_agent(self, a: NaiveAgent, now: float) -> None:
        """Offer the agent the most urgent waiting task it can take: look at every waiting task."""
        if not a.routable():
            return
        self.decisions += 1
        best: NaiveTask | None = None
        best_score = (0.0, 0.0, 0)
        queues = self.queues
        for t in self.waiting.values():
            if (
                t.tenant_id == a.tenant_id
                and t.queue_id in a.queues
                and a.can_take(t.channel)
                and t.met_by(a)
                and a.id not in t.declined
            ):
                aging = queues[t.queue_id].aging_s
                aged = t.priority + (now - t.enq) / aging if aging else float(t.priority)
                score = (aged, -t.enq, -t.seq)
                if best is None or score > best_score:
                    best, best_score = t, score
        if best is not None:
            self._offer(best, a, now)

    # --- internals ----------------------------------------------------------------------------------------------

    def _offer(self, t: NaiveTask, a: NaiveAgent, now: float) -> None:
        del self.waiting[t.id]
        t.state, t.agent = RESERVED, a.id
        a.reserved = t.id
        self._log(now, "offer", t.id, a.id)

    def _load(self, a: NaiveAgent, channel: Channel, delta: int) -> None:
        a.load[channel] += delta
        a.load_total += delta
        if channel in EXCLUSIVE:
            a.load_exclusive += delta

    def _advance(self, now: float) -> None:
        timers = self._timers
        while timers and timers[0][0] <= now:
            at, _, task_id, step = heapq.heappop(timers)
            t = self.tasks.get(task_id)
            if t is not None and t.state == WAITING:
                self._apply_overflow(t, step)
                self._log(at, "overflow", t.id, None)
                self._route_task(t, at)
        self.now = now

    def _apply_overflow(self, t: NaiveTask, step_index: int) -> None:
        step = self.queues[t.origin].overflow[step_index]
        t.widen(step.levels, step.any_language)
        if step.to_queue is not None:
            t.queue_id = step.to_queue

    def _timer(self, at: float, task_id: int, step: int) -> None:
        self._timer_seq += 1
        heapq.heappush(self._timers, (at, self._timer_seq, task_id, step))

    def _log(self, at: float, kind: str, task: int, agent: int | None) -> None:
        self.events.append(Event(at, kind, task=task, agent=agent))
