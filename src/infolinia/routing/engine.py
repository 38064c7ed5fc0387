"""The routing engine: a pure, deterministic state machine. Every public method takes ``now`` (seconds, never
decreasing), first fires the timers that fell due before it, applies the change, and then makes every offer that
became possible. Decisions and state changes are appended to ``events`` with their reasons.

Indexes, per queue: one sorted list per requirement class (tasks needing the same skills, language and channel),
the heads of those classes in order per channel, and per channel the agents who could be offered a contact of it
now, by idle time. A free agent looks, for each channel it has room for and that has tasks lined up, at the class
heads of its queues in order and takes the first it qualifies for; a new task looks only at the agents who could
take a contact of its channel, in the queue's strategy order. Neither scans all waiting tasks or all agents. Whether
an agent qualifies is one AND of bit masks (``Requirement.mask``, ``abilities``); the idle lists carry each agent's
abilities, so a search reads only the agent it picks. Sets of channels are bits too. A position is the sum over the
queue's classes of the tasks ahead (a bisection each), computed when asked rather than kept up to date on every
change.

The idle lists follow the agents lazily: a change marks the agent, and the lists are brought in line when a task
next looks for an agent (``_sync``). Under load an agent is usually freed, offered a task and given the same room
back before that, and then its entries never move.

Timers fire in the order (due time, arming number) from a heap. Most are armed a constant offset after a time
that does not go back (an offer's time-out, wrap-up, overflow steps), so they fall due in the order they are armed:
they wait in one first-in first-out lane per kind and offset, and the heap holds only the first of each lane.

The sorted lists are plain Python lists kept in order with ``bisect``: the class lists are short and grow at the
end (the newest task of its priority), so inserting and removing cost a C-level memory move, cheaper than a
balanced tree's bookkeeping until a single class holds hundreds of thousands of tasks.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Callable
from heapq import heapify, heappop, heappush
from typing import Any

from infolinia.routing.model import (
    EXCLUSIVE,
    LIVE,
    AgentSpec,
    AgentState,
    Channel,
    Event,
    Presence,
    QueueSpec,
    Requirement,
    Strategy,
    TaskSpec,
    TaskState,
    abilities,
)

WINDOW_S = 1800.0  # "last 30 minutes" statistics
Key = tuple[float, ...]  # a waiting task's place in its queue: unique, as it ends with the arrival number
# The sorted lists hold flat tuples that start with a key's fields, so that comparing two entries compares floats
# (never past the key, which is unique) and the key alone bisects to an entry's place:
Entry = tuple[Any, ...]  # (*key, task): a task in its requirement class's list
Head = tuple[Any, ...]  # (*key, requirement mask, task): the first task of a class, in its queue's heads
Idle = tuple[float, int, int]  # (idle since, agent id, its abilities): one entry of a queue's idle list
# (due at, arming number, kind, task or agent id, version, the lane it queues in or None): see Engine._timer
Timer = tuple[float, int, str, int, int, "deque[Any] | None"]

# Enum members the hot paths test against, looked up once: reading ``TaskState.WAITING`` goes through the enum's
# metaclass and costs several times a global lookup.
_SCHEDULED, _WAITING, _DONE = TaskState.SCHEDULED, TaskState.WAITING, TaskState.DONE
_RESERVED, _ASSIGNED = TaskState.RESERVED, TaskState.ASSIGNED
_READY = Presence.READY
_LONGEST_IDLE, _MOST_SKILLED, _LEAST_OCCUPIED = Strategy.LONGEST_IDLE, Strategy.MOST_SKILLED, Strategy.LEAST_OCCUPIED
_STRATEGY_REASON = {s: s.value for s in Strategy}  # the reason an offer by each strategy gives


def _discard(ordered: list[Any], item: Any) -> None:
    """Remove ``item`` from a sorted list (it must be there)."""
    del ordered[bisect_left(ordered, item)]


class RoutingError(ValueError):
    """A call the engine refuses (unknown ids, wrong tenant, a state that does not allow it)."""


_NO_ONE: frozenset[int] = frozenset()
_requirement = Requirement.of  # bound once: calling a classmethod through the class binds it anew on every call

# Sets of channels are kept as bits, one per channel: an agent's room, what it can be offered, the channels with
# tasks lined up in a queue. Testing, combining and comparing them costs an integer operation, and
# ``channels_of(bits)`` lists the channels of a set from a table.
_BIT = {ch: 1 << i for i, ch in enumerate(Channel)}
_CHANNELS = [tuple(ch for ch in Channel if bits & _BIT[ch]) for bits in range(1 << len(Channel))]
_WRITTEN = sum(bit for ch, bit in _BIT.items() if ch not in EXCLUSIVE)


def channels_of(bits: int) -> tuple[Channel, ...]:
    """The channels of a set of channels kept as bits."""
    return _CHANNELS[bits]


class _Task:
    __slots__ = (
        "accepted_at", "agent", "channel", "declined", "enq", "id", "key", "offer_version", "personal", "priority",
        "queue_id", "req", "seq", "spec", "state", "tenant_id",
    )  # fmt: skip

    def __init__(self, spec: TaskSpec, seq: int) -> None:
        self.spec = spec
        self.id = spec.id
        self.tenant_id = spec.tenant_id
        self.queue_id = spec.queue_id
        self.channel = spec.channel
        self.req = _requirement(spec.channel, spec.skills, spec.language)
        self.priority = spec.priority
        self.enq = spec.enqueued_at
        self.seq = seq
        self.state = _SCHEDULED
        self.key: Key = ()
        self.agent: int | None = None
        self.declined: set[int] | frozenset[int] = _NO_ONE  # agents who turned it down (a set once one has)
        self.offer_version = 0
        self.accepted_at = 0.0
        self.personal = False  # waiting for its preferred agent only


def every_channel(spec: AgentSpec) -> int:
    """The channels an agent with no work at all can be offered, as bits."""
    return sum(_BIT[ch] for ch, room in spec.capacity.items() if room > 0)


class _Agent:
    __slots__ = (
        "abilities", "capacity", "channels", "every", "id", "idle_entry", "idle_since", "listed", "load",
        "load_exclusive", "load_total", "personal", "presence", "reason", "reserved", "room", "served", "slots", "spec",
        "tenant_id", "wrapup_version",
    )  # fmt: skip

    def __init__(self, spec: AgentSpec, now: float) -> None:
        self.id = spec.id
        self.tenant_id = spec.tenant_id
        self.presence = Presence.OFFLINE
        self.reason = ""
        self.load: dict[Channel, int] = dict.fromkeys(Channel, 0)
        self.load_total = 0
        self.load_exclusive = 0
        self.reserved: int | None = None
        self.idle_since = now
        self.channels = 0  # bits of the channels it could be offered a contact of, now
        # what its queues' idle lists hold of it (Engine._sync): under which channels (bits), and the entry
        self.listed = 0
        self.idle_entry: Idle = (now, spec.id, 0)
        self.served: list[_Queue] = []  # the queues of spec.queues (Engine.set_agent)
        self.personal: dict[int, _Task] = {}
        self.wrapup_version = 0
        self.configure(spec)

    def configure(self, spec: AgentSpec) -> None:
        """Take on a (new) spec: skills, languages and capacities."""
        self.spec = spec
        self.abilities = abilities(spec.skills, spec.languages)
        self.every = every_channel(spec)
        self.capacity = {ch: spec.capacity.get(ch, 0) for ch in Channel}
        self.slots = max(1, sum(spec.capacity.values()))  # for "least occupied"
        load = self.load
        # bits of the channels whose load is below capacity (hold keeps it up to date)
        self.room = sum(_BIT[ch] for ch, capacity in self.capacity.items() if load[ch] < capacity)

    def qualifies(self, req: Requirement) -> bool:
        return req.mask & self.abilities == req.mask

    def hold(self, channel: Channel, change: int) -> None:
        """Count a contact of ``channel`` taken on (1) or finished (-1)."""
        held = self.load[channel] + change
        self.load[channel] = held
        self.load_total += change
        if channel in EXCLUSIVE:
            self.load_exclusive += change
        if held < self.capacity[channel]:
            self.room |= _BIT[channel]
        else:
            self.room &= ~_BIT[channel]

    def can_take(self, channel: Channel) -> bool:
        if self.load[channel] >= self.capacity[channel]:
            return False
        if self.spec.voice_exclusive:
            if channel in EXCLUSIVE:
                return self.load_total == 0
            return self.load_exclusive == 0
        return True

    def offerable(self) -> int:
        """The channels it could be offered a contact of now (``can_take``, when ready and not reserved), as bits."""
        if self.presence is not _READY or self.reserved is not None:
            return 0
        if self.load_total == 0:
            return self.every
        if self.spec.voice_exclusive:
            return 0 if self.load_exclusive else self.room & _WRITTEN
        return self.room

    def state(self) -> AgentState:
        if self.presence is Presence.OFFLINE:
            return AgentState.OFFLINE
        if self.presence is Presence.BREAK:
            return AgentState.BREAK
        if self.presence is Presence.WRAPUP:
            return AgentState.WRAPUP
        if self.reserved is not None:
            return AgentState.RESERVED
        return AgentState.BUSY if self.load_total else AgentState.AVAILABLE


class _QueueStats:
    __slots__ = (
        "abandoned",
        "abandoned_short",
        "answered",
        "answered_in_sl",
        "exited",
        "offered",
        "recent",
        "to_callback",
        "wait_sum",
    )

    def __init__(self) -> None:
        self.offered = self.answered = self.answered_in_sl = self.abandoned = self.abandoned_short = self.exited = 0
        self.to_callback = 0  # waiting contacts that asked to be called back instead (keeping their place)
        self.wait_sum = 0.0
        self.recent: deque[tuple[float, str, float]] = deque()  # (at, "answered"|"abandoned", wait)

    def note(self, at: float, kind: str, wait: float) -> None:
        recent = self.recent
        recent.append((at, kind, wait))
        while recent[0][0] < at - WINDOW_S:
            recent.popleft()


class _Queue:
    __slots__ = ("aht", "classes", "heads", "idle", "lined_up", "members", "rr_last", "spec", "stats", "waiting")

    def __init__(self, spec: QueueSpec) -> None:
        self.spec = spec
        self.classes: dict[Requirement, list[Entry]] = {}  # the waiting tasks of each class, sorted
        self.heads: dict[Channel, list[Head]] = {ch: [] for ch in Channel}  # the classes' first tasks, per channel
        self.lined_up = 0  # bits of the channels whose heads are not empty
        self.waiting: dict[int, float] = {}  # task id -> enqueued at, for tasks not yet answered
        # per channel, the member agents who could be offered a contact of it now, sorted: longest idle first
        self.idle: dict[Channel, list[Idle]] = {ch: [] for ch in Channel}
        self.members: dict[int, _Agent] = {}
        self.rr_last = -1
        self.aht = spec.default_handle_s
        self.stats = _QueueStats()

    def key(self, t: _Task) -> Key:
        if self.spec.aging_s:
            return (t.enq - t.priority * self.spec.aging_s, float(t.seq))
        return (float(-t.priority), t.enq, float(t.seq))

    def score(self, t: _Task, now: float) -> tuple[float, float, int]:
        """Comparable across queues: higher is served first (effective priority, then age, then arrival)."""
        aged = t.priority + (now - t.enq) / self.spec.aging_s if self.spec.aging_s else float(t.priority)
        return (aged, -t.enq, -t.seq)


class Engine:
    def __init__(self, clock: Callable[[], float] | None = None) -> None:
        self.clock = clock
        self.now = float("-inf")
        self.queues: dict[int, _Queue] = {}
        self.agents: dict[int, _Agent] = {}
        self.tasks: dict[int, _Task] = {}
        self.events: list[Event] = []
        self._timers: list[Timer] = []  # a heap: the timers outside lanes, and the first of each lane
        self._lanes: dict[tuple[str, float], deque[Timer]] = {}  # (kind, offset) -> timers in the order they fall due
        self._dirty: dict[int, _Agent] = {}
        self._seq = 0
        self._timer_seq = 0
        self.decisions = 0  # routing decisions taken (offers made, or a search that found nobody)

    # --- configuration ----------------------------------------------------------------------------------------

    def set_queue(self, spec: QueueSpec, now: float | None = None) -> None:
        now = self._advance(now)
        old = self.queues.get(spec.id)
        if old is not None and old.spec.tenant_id != spec.tenant_id:
            raise RoutingError(f"queue {spec.id} belongs to tenant {old.spec.tenant_id}")
        for step in spec.overflow:
            target = self.queues.get(step.to_queue) if step.to_queue is not None else None
            if step.to_queue is not None and (target is None or target.spec.tenant_id != spec.tenant_id):
                raise RoutingError(f"overflow of queue {spec.id} to unknown queue {step.to_queue}")
        if old is None:
            self.queues[spec.id] = _Queue(spec)
            self._log(now, "queue_updated", queue=spec.id, reason="added")
            return
        waiting = [entry[-1] for entry in sorted(e for line in old.classes.values() for e in line)]
        for t in waiting:
            self._remove(t)
        old.spec = spec
        for t in waiting:
            self._insert(t)
        self._log(now, "queue_updated", queue=spec.id)
        for t in waiting:
            self._route_task(t, now)

    def set_agent(self, spec: AgentSpec, now: float | None = None) -> None:
        now = self._advance(now)
        for qid in spec.queues:
            q = self.queues.get(qid)
            if q is None or q.spec.tenant_id != spec.tenant_id:
                raise RoutingError(f"agent {spec.id}: no queue {qid} in tenant {spec.tenant_id}")
        a = self.agents.get(spec.id)
        if a is None:
            a = self.agents[spec.id] = _Agent(spec, now)
        elif a.tenant_id != spec.tenant_id:
            raise RoutingError(f"agent {spec.id} belongs to tenant {a.tenant_id}")
        else:
            a.channels = 0
            self._dirty[a.id] = a
            self._sync()
            for qid in a.spec.queues:
                self.queues[qid].members.pop(a.id, None)
            a.configure(spec)
        for qid in sorted(spec.queues):
            self.queues[qid].members[a.id] = a
        a.served = [self.queues[qid] for qid in spec.queues]
        self._refresh(a)
        self._log(now, "agent_updated", agent=a.id)
        self._route_agent(a, now)

    # --- agents -----------------------------------------------------------------------------------------------

    def set_presence(self, agent_id: int, presence: Presence, now: float | None = None, reason: str = "") -> None:
        now = self._advance(now)
        a = self._agent(agent_id)
        if presence is Presence.OFFLINE and (a.load_total or a.reserved is not None):
            raise RoutingError(f"agent {agent_id} still has work; finish it before going offline")
        if presence is Presence.WRAPUP:
            raise RoutingError("wrap-up is set by the engine after a call")
        if a.reserved is not None and presence is not Presence.READY:
            self._return(self.tasks[a.reserved], now, "agent left ready", presence, reason)
        was = a.state()
        if presence is Presence.READY and a.presence is not Presence.READY and a.load_total == 0:
            a.idle_since = now
        a.presence, a.reason = presence, reason
        a.wrapup_version += 1
        self._refresh(a)
        self._log(now, "agent_state", agent=a.id, reason=reason, data={"from": was.value, "to": a.state().value})
        self._route_agent(a, now)

    def end_wrapup(self, agent_id: int, now: float | None = None) -> None:
        now = self._advance(now)
        a = self._agent(agent_id)
        if a.presence is Presence.WRAPUP:
            self._finish_wrapup(a, now, "agent ended wrap-up")

    # --- tasks ------------------------------------------------------------------------------------------------

    def add_task(self, spec: TaskSpec, now: float | None = None) -> None:
        now = self._advance(now)
        q = self._new_task_queue(spec)
        rules = q.spec
        if rules.is_open is not None and spec.channel in LIVE and not rules.is_open(now):
            self._log(now, "task_exited", task=spec.id, queue=rules.id, reason="closed",
                      data={"action": rules.closed_action})  # fmt: skip
            return
        self._seq += 1
        t = _Task(spec, self._seq)
        tid, enq = t.id, t.enq
        self.tasks[tid] = t
        q.stats.offered += 1
        q.waiting[tid] = enq
        for i, step in enumerate(rules.overflow):
            self._timer(enq + step.after_s, "overflow", tid, i, step.after_s)
        if rules.max_wait_s is not None:
            self._timer(enq + rules.max_wait_s, "max_wait", tid, 0, rules.max_wait_s)
        if spec.not_before is not None and spec.not_before > now:
            self._timer(spec.not_before, "due", t.id, 0)
            self._log(now, "task_scheduled", task=t.id, queue=q.spec.id, data={"not_before": spec.not_before})
            return
        self._enqueue(t, now)

    def cancel_task(self, task_id: int, now: float | None = None, reason: str = "abandoned") -> None:
        """The contact went away (caller hung up, chat closed) or was withdrawn. Reason ``callback``: the caller
        asked to be called back instead of waiting (a callback task takes its place): not an abandoned contact,
        counted as ``to_callback`` and logged as ``task_exited`` with action ``callback``. Reason ``withdrawn``: taken
        back by whoever made the task (a callback cancelled, or attempted outside the engine): counted nowhere,
        logged as ``task_exited`` with action ``withdrawn``."""
        now = self._advance(now)
        t = self._task(task_id)
        if t.state is TaskState.ASSIGNED:
            self.complete(task_id, now)
            return
        q = self.queues[t.queue_id]
        if t.state is TaskState.RESERVED:
            a = self.agents[t.agent]  # type: ignore[index]
            a.reserved = None
            self._refresh(a)
        elif t.state is TaskState.WAITING:
            self._detach(t)
        wait = now - t.enq
        stats = q.stats
        self._forget(t)
        if reason == "callback":
            stats.to_callback += 1
            self._log(now, "task_exited", task=t.id, agent=t.agent, queue=q.spec.id, reason="callback requested",
                      data={"wait": wait, "action": "callback"})  # fmt: skip
        elif reason == "withdrawn":  # taken back by who made it (a callback cancelled or handled elsewhere)
            self._log(now, "task_exited", task=t.id, agent=t.agent, queue=q.spec.id, reason="withdrawn",
                      data={"wait": wait, "action": "withdrawn"})  # fmt: skip
        else:
            stats.abandoned += 1
            if wait < q.spec.short_abandon_s:
                stats.abandoned_short += 1
            else:
                stats.note(now, "abandoned", wait)
            self._log(now, "task_abandoned", task=t.id, agent=t.agent, queue=q.spec.id, reason=reason,
                      data={"wait": wait})  # fmt: skip
        if t.agent is not None and t.agent in self.agents:
            self._route_agent(self.agents[t.agent], now)

    def accept(self, task_id: int, now: float | None = None) -> None:
        now = self._advance(now)
        t = self._task(task_id)
        if t.state is not _RESERVED or t.agent is None:
            raise RoutingError(f"task {task_id} is not offered to anyone")
        self._disarm_offer(t)
        a = self.agents[t.agent]
        a.reserved = None
        a.hold(t.channel, 1)
        t.state = _ASSIGNED
        t.accepted_at = now
        q = self.queues[t.queue_id]
        wait = now - t.enq
        stats = q.stats
        stats.answered += 1
        stats.wait_sum += wait
        if wait <= q.spec.sl_seconds:
            stats.answered_in_sl += 1
        stats.note(now, "answered", wait)
        q.waiting.pop(t.id, None)
        self._refresh(a)
        self.events.append(Event(now, "offer_accepted", t.id, a.id, t.queue_id, "", {"wait": wait}))
        self._route_agent(a, now)

    def decline(self, task_id: int, now: float | None = None, reason: str = "declined") -> None:
        now = self._advance(now)
        t = self._task(task_id)
        if t.state is not TaskState.RESERVED:
            raise RoutingError(f"task {task_id} is not offered to anyone")
        q = self.queues[t.queue_id]
        self._return(t, now, reason, q.spec.missed_offer_presence, "missed offer")

    def complete(self, task_id: int, now: float | None = None) -> None:
        """The agent finished the contact (hung up, closed the chat, answered the e-mail)."""
        now = self._advance(now)
        t = self._task(task_id)
        if t.state is not _ASSIGNED or t.agent is None:
            raise RoutingError(f"task {task_id} is not assigned")
        a = self.agents[t.agent]
        a.hold(t.channel, -1)
        q = self.queues[t.queue_id]
        q.aht += (now - t.accepted_at - q.aht) * 0.1  # moving average of handle time
        self._forget(t)
        self.events.append(Event(now, "task_completed", t.id, a.id, t.queue_id))
        if q.spec.wrapup_s > 0 and t.channel in EXCLUSIVE and a.presence is _READY:
            a.presence, a.reason = Presence.WRAPUP, "after call"
            a.wrapup_version += 1
            self._timer(now + q.spec.wrapup_s, "wrapup", a.id, a.wrapup_version, q.spec.wrapup_s)
            self._log(now, "agent_state", agent=a.id, reason="after call", data={"to": AgentState.WRAPUP.value})
        elif a.load_total == 0:
            a.idle_since = now
        self._refresh(a)
        self._route_agent(a, now)

    def tick(self, now: float | None = None) -> None:
        """Fire every timer due by ``now`` (offer time-outs, overflow, maximum wait, scheduled tasks, wrap-up)."""
        self._advance(now)

    def update_queue(self, spec: QueueSpec, now: float | None = None) -> None:
        """``set_queue``, and the tasks that entered through this queue follow its new overflow steps and maximum
        wait: when those changed, their timers are armed again from each task's enqueue time, and what is already
        due fires at ``now``. (A step that already widened a task's requirement is not undone.)"""
        now = self._advance(now)
        old = self.queues[spec.id].spec if spec.id in self.queues else None
        self.set_queue(spec, now)
        if old is None:
            return
        kinds = {"overflow"} if spec.overflow != old.overflow else set()
        if spec.max_wait_s != old.max_wait_s:
            kinds.add("max_wait")
        # assigned tasks too: one can wait again (remove_agent), and its timers must then index the new steps
        entered = {t.id: t for t in self.tasks.values() if t.spec.queue_id == spec.id}
        if not kinds or not entered:
            return
        armed = [timer for timer in self._timers if timer[5] is None]
        armed += [timer for lane in self._lanes.values() for timer in lane]
        self._lanes.clear()  # what stays armed goes to the heap, in the same order (due time, arming number)
        self._timers = [(*timer[:5], None) for timer in armed if timer[2] not in kinds or timer[3] not in entered]
        heapify(self._timers)
        for t in entered.values():
            if "overflow" in kinds:
                for i, step in enumerate(spec.overflow):
                    self._timer(max(now, t.enq + step.after_s), "overflow", t.id, i)
            if "max_wait" in kinds and spec.max_wait_s is not None:
                self._timer(max(now, t.enq + spec.max_wait_s), "max_wait", t.id, 0)
        self._advance(now)

    def restore_assigned(self, spec: TaskSpec, agent_id: int, accepted_at: float, now: float | None = None) -> None:
        """Put a task that was assigned before a restart straight back on its agent: the agent's load counts it
        (its room is taken), the queue's statistics do not count it again (it was offered and answered before),
        and it has no timers (an assigned task neither overflows nor times out)."""
        now = self._advance(now)
        q = self._new_task_queue(spec)
        a = self._agent(agent_id)
        if a.tenant_id != spec.tenant_id:
            raise RoutingError(f"task {spec.id}: agent {agent_id} is not in tenant {spec.tenant_id}")
        self._seq += 1
        t = _Task(spec, self._seq)
        t.state, t.agent, t.accepted_at = TaskState.ASSIGNED, a.id, min(accepted_at, now)
        self.tasks[t.id] = t
        a.hold(t.channel, 1)
        self._refresh(a)
        self._log(now, "task_restored", task=t.id, agent=a.id, queue=q.spec.id, reason="assigned before restart")

    def remove_agent(self, agent_id: int, now: float | None = None, reason: str = "removed") -> None:
        """Take an agent out of the engine (its account was deactivated). Nothing it held is lost: its offer, the
        contacts assigned to it and those waiting for it as their preferred agent all wait again in their original
        places, and are routed to other agents at once, most urgent first."""
        now = self._advance(now)
        a = self._agent(agent_id)
        was = a.state()
        held = [t for t in self.tasks.values() if t.agent == a.id and t.state is not TaskState.WAITING]
        held += [t for t in a.personal.values() if t.state is TaskState.WAITING]
        a.presence, a.reason, a.reserved, a.channels = Presence.OFFLINE, reason, None, 0
        a.personal.clear()
        self._dirty[a.id] = a
        self._sync()  # out of its queues' idle lists
        for qid in a.spec.queues:
            self.queues[qid].members.pop(a.id, None)
        del self.agents[a.id]
        if was is not AgentState.OFFLINE:
            self._log(now, "agent_state", agent=a.id, reason=reason, data={"from": was.value, "to": "offline"})
        self._log(now, "agent_removed", agent=a.id, reason=reason)
        for t in held:
            if t.state is not TaskState.WAITING:
                offered = t.state is TaskState.RESERVED
                t.state, t.agent = TaskState.WAITING, None
                self.queues[t.queue_id].waiting[t.id] = t.enq
                if offered:
                    self._log(now, "offer_returned", task=t.id, agent=a.id, queue=t.queue_id, reason=reason)
                else:
                    self._log(now, "task_requeued", task=t.id, agent=a.id, queue=t.queue_id, reason=reason)
            else:  # it waited for this agent only: now for anyone
                self._log(now, "preferred_fallback", task=t.id, agent=a.id, queue=t.queue_id, reason=reason)
            t.personal = False
            self._insert(t)
        for t in sorted(held, key=lambda t: self.queues[t.queue_id].score(t, now), reverse=True):
            self._route_task(t, now)

    # --- queries ----------------------------------------------------------------------------------------------

    def task_state(self, task_id: int) -> TaskState:
        t = self.tasks.get(task_id)
        return TaskState.DONE if t is None else t.state

    def task_agent(self, task_id: int) -> int | None:
        t = self.tasks.get(task_id)
        return None if t is None else t.agent

    def agent_state(self, agent_id: int) -> AgentState:
        return self._agent(agent_id).state()

    def position(self, task_id: int) -> int | None:
        """0 = next to be served in its queue; None when not waiting (scheduled, offered, assigned, gone)."""
        t = self.tasks.get(task_id)
        if t is None or t.state is not TaskState.WAITING:
            return None
        if t.personal:
            return 0
        key = t.key
        return sum(bisect_left(line, key) for line in self.queues[t.queue_id].classes.values())

    def estimated_wait(self, task_id: int) -> float | None:
        """Seconds until an agent is expected: (position + 1) x average handle time / agents logged in."""
        pos = self.position(task_id)
        if pos is None:
            return None
        q = self.queues[self.tasks[task_id].queue_id]
        staffed = sum(1 for a in q.members.values() if a.presence is not Presence.OFFLINE)
        return (pos + 1) * q.aht / max(1, staffed)

    def agents_by_state(self, queue_id: int) -> dict[str, int]:
        """How many of the queue's agents are in each state now (read only: the clock is not moved)."""
        by_state = dict.fromkeys((st.value for st in AgentState), 0)
        for a in self.queues[queue_id].members.values():
            by_state[a.state().value] += 1
        return by_state

    def queue_stats(self, queue_id: int, now: float | None = None) -> dict[str, Any]:
        now = self._advance(now)
        q = self.queues[queue_id]
        s = q.stats
        recent = s.recent
        while recent and recent[0][0] < now - WINDOW_S:
            recent.popleft()
        r_answered = [w for _, kind, w in recent if kind == "answered"]
        r_abandoned = sum(1 for _, kind, _w in recent if kind == "abandoned")
        by_state = self.agents_by_state(queue_id)
        counted = s.answered + s.abandoned - s.abandoned_short
        return {
            "queue": queue_id,
            "waiting": len(q.waiting),
            "longest_wait_s": max((now - e for e in q.waiting.values()), default=0.0),
            "offered": s.offered,
            "answered": s.answered,
            "abandoned": s.abandoned,
            "to_callback": s.to_callback,
            "service_level": s.answered_in_sl / counted if counted else None,
            "asa_s": s.wait_sum / s.answered if s.answered else None,
            "service_level_30m": (
                sum(1 for w in r_answered if w <= q.spec.sl_seconds) / (len(r_answered) + r_abandoned)
                if r_answered or r_abandoned
                else None
            ),
            "agents": by_state,
        }

    def drain(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    # --- internals: time --------------------------------------------------------------------------------------

    def _advance(self, now: float | None) -> float:
        if now is None:
            if self.clock is None:
                raise RoutingError("no time given and no clock")
            now = self.clock()
        if now < self.now:
            raise RoutingError(f"time went backwards: {now} < {self.now}")
        timers = self._timers
        while timers and timers[0][0] <= now:
            at, _, kind, ident, version, lane = heappop(timers)
            if lane is not None:  # the first of its lane: the next one takes its place in the heap
                lane.popleft()
                if lane:
                    heappush(timers, lane[0])
            if at > self.now:
                self.now = at
            self._fire(kind, ident, version, at)
        self.now = now
        return now

    def _timer(self, at: float, kind: str, ident: int, version: int, offset: float | None = None) -> None:
        """Arm a timer. Timers fire in the order (due time, arming number). Those set ``offset`` seconds after a
        time that does not go back (an offer's time-out, wrap-up, the overflow steps of tasks entered in order) fall
        due in the order they are armed: they queue in a lane per (kind, offset), and only the first of each lane
        is in the heap, which stays small. One that would fall due before the last of its lane goes to the heap."""
        self._timer_seq += 1
        if offset is not None:
            lane = self._lanes.get((kind, offset))
            if lane:
                if at >= lane[-1][0]:
                    lane.append((at, self._timer_seq, kind, ident, version, lane))
                    return
            else:  # it opens the lane, and stands for it in the heap
                if lane is None:
                    lane = self._lanes[(kind, offset)] = deque()
                timer: Timer = (at, self._timer_seq, kind, ident, version, lane)
                lane.append(timer)
                heappush(self._timers, timer)
                return
        heappush(self._timers, (at, self._timer_seq, kind, ident, version, None))

    def _disarm_offer(self, t: _Task) -> None:
        """Drop the time-out of ``t``'s offer when it is the newest timer of its lane (an offer answered soon after
        it was made, the usual case): it could only have fired to find the offer answered. Older ones stay and fire
        as no-ops; the first of a lane always stays (it stands for the lane in the heap)."""
        lane = self._lanes.get(("offer", self.queues[t.queue_id].spec.offer_timeout_s))
        if lane is not None and len(lane) > 1:
            newest = lane[-1]
            if newest[3] == t.id and newest[4] == t.offer_version:  # (due at, number, kind, task id, version, lane)
                lane.pop()

    def _fire(self, kind: str, ident: int, version: int, now: float) -> None:
        if kind == "wrapup":
            a = self.agents.get(ident)
            if a is not None and a.presence is Presence.WRAPUP and a.wrapup_version == version:
                self._finish_wrapup(a, now, "wrap-up time over")
            return
        t = self.tasks.get(ident)
        if t is None:
            return
        if kind == "offer":
            if t.state is _RESERVED and t.offer_version == version:
                q = self.queues[t.queue_id]
                self._return(t, now, "offer timed out", q.spec.missed_offer_presence, "missed offer")
        elif kind == "due":
            if t.state is TaskState.SCHEDULED:
                self._enqueue(t, now)
        elif kind == "preferred":
            if t.state is TaskState.WAITING and t.personal:
                self._detach(t)
                t.personal = False
                self._insert(t)
                self._log(now, "preferred_fallback", task=t.id, agent=t.spec.preferred_agent, queue=t.queue_id,
                          reason="preferred agent did not take it in time")  # fmt: skip
                self._route_task(t, now)
        elif kind == "overflow":
            self._overflow(t, version, now)
        elif kind == "max_wait" and t.state in (TaskState.WAITING, TaskState.SCHEDULED):
            q = self.queues[t.queue_id]
            if t.state is TaskState.WAITING:
                self._detach(t)
            q.stats.exited += 1
            self._forget(t)
            self._log(now, "task_exited", task=t.id, queue=q.spec.id, reason="maximum wait",
                      data={"action": q.spec.max_wait_action, "wait": now - t.enq})  # fmt: skip

    def _overflow(self, t: _Task, step_index: int, now: float) -> None:
        if t.state not in (_WAITING, _RESERVED, _SCHEDULED):
            return
        origin = self.queues[t.spec.queue_id]
        step = origin.spec.overflow[step_index]
        in_general = t.state is _WAITING and not t.personal
        if in_general:
            self._remove(t)
        before = (t.queue_id, t.req)
        t.req = t.req.widened(step.levels, step.any_language)
        if step.to_queue is not None and step.to_queue != t.queue_id:
            old = self.queues[t.queue_id]
            old.waiting.pop(t.id, None)
            t.queue_id = step.to_queue
            self.queues[t.queue_id].waiting[t.id] = t.enq
        if in_general:
            self._insert(t)
        self._log(now, "overflow", task=t.id, queue=t.queue_id, reason=f"waited {step.after_s:g} s",
                  data={"step": step_index, "from_queue": before[0], "skills": dict(t.req.skills),
                        "language": t.req.language})  # fmt: skip
        if in_general:
            self._route_task(t, now)

    # --- internals: indexes -----------------------------------------------------------------------------------

    def _enqueue(self, t: _Task, now: float) -> None:
        t.state = _WAITING
        wanted = t.spec.preferred_agent
        preferred = self.agents.get(wanted) if wanted is not None else None
        until = t.spec.preferred_until
        if preferred is not None and preferred.tenant_id == t.tenant_id and (until is None or until > now):
            t.personal = True
            preferred.personal[t.id] = t
            if until is not None:
                self._timer(until, "preferred", t.id, 0)
        else:
            self._insert(t)
        data = {"priority": t.priority, "personal_for": wanted if t.personal else None}
        self.events.append(Event(now, "task_queued", t.id, None, t.queue_id, "", data))
        self._route_task(t, now)

    def _insert(self, t: _Task) -> None:
        q = self.queues[t.queue_id]
        t.key = key = q.key(t)
        req = t.req
        line = q.classes.get(req)
        if line is None:
            line = q.classes[req] = []
        if not line:
            heads = q.heads[t.channel]
            if not heads:
                q.lined_up |= _BIT[t.channel]
            insort(heads, (*key, req.mask, t))
            line.append((*key, t))
        elif key < line[0]:
            heads = q.heads[t.channel]
            del heads[bisect_left(heads, line[0][-1].key)]
            insort(heads, (*key, req.mask, t))
            line.insert(0, (*key, t))
        elif key > line[-1]:
            line.append((*key, t))  # the usual case: the newest task of its priority
        else:
            insort(line, (*key, t))

    def _remove(self, t: _Task) -> None:
        q = self.queues[t.queue_id]
        req = t.req
        line = q.classes[req]
        if line[0][-1] is t:
            heads = q.heads[t.channel]
            i = bisect_left(heads, t.key)
            del heads[i], line[0]
            if line:  # the class's next task heads it; it sorts after the one removed, never before
                first = line[0][-1]
                insort(heads, (*first.key, req.mask, first), i)
            elif not heads:
                q.lined_up &= ~_BIT[t.channel]
        else:
            del line[bisect_left(line, t.key)]

    def _detach(self, t: _Task) -> None:
        """Take a waiting task out of whichever index holds it."""
        if t.personal:
            a = self.agents.get(t.spec.preferred_agent)  # type: ignore[arg-type]
            if a is not None:
                a.personal.pop(t.id, None)
        else:
            self._remove(t)

    def _forget(self, t: _Task) -> None:
        t.state = _DONE
        self.queues[t.queue_id].waiting.pop(t.id, None)
        del self.tasks[t.id]

    def _refresh(self, a: _Agent) -> None:
        """Recompute what ``a`` can be offered now; the per-channel lists follow at the next ``_sync``."""
        a.channels = a.offerable()
        self._dirty[a.id] = a

    def _sync(self) -> None:
        """Bring the idle lists in line with the agents that changed. Deferred until a task looks for an agent, so
        an agent freed and at once given a new offer (the common case under load) never touches the lists, nor does
        one whose offer is accepted with the same room left as before it."""
        dirty = self._dirty
        while dirty:
            _, a = dirty.popitem()
            channels, listed = a.channels, a.listed
            if not (channels or listed):
                continue  # in no list, before or after (its entry is only read while it is listed)
            old = a.idle_entry
            entry = (a.idle_since, a.id, a.abilities)
            if entry == old:
                if channels == listed:
                    continue
                drop, add = _CHANNELS[listed & ~channels], _CHANNELS[channels & ~listed]
            else:
                drop, add = _CHANNELS[listed], _CHANNELS[channels]
            for q in a.served:
                idle = q.idle
                for ch in drop:
                    _discard(idle[ch], old)
                for ch in add:
                    insort(idle[ch], entry)
            a.listed, a.idle_entry = channels, entry

    # --- internals: decisions ---------------------------------------------------------------------------------

    def _route_task(self, t: _Task, now: float) -> None:
        """A task became routable: offer it to the best agent free for it, if any."""
        if t.state is not _WAITING:
            return
        self.decisions += 1
        if t.personal:
            a = self.agents[t.spec.preferred_agent]  # type: ignore[index]
            if self._eligible(a, t):
                self._offer(t, a, now, "preferred agent")
            return
        q = self.queues[t.queue_id]
        if self._dirty:
            self._sync()
        idle = q.idle[t.channel]
        if not idle:
            return
        best = self._pick_agent(q, t, idle)
        if best is not None:
            self._offer(t, best, now, _STRATEGY_REASON[q.spec.strategy])

    def _eligible(self, a: _Agent, t: _Task) -> bool:
        return bool(a.channels & _BIT[t.channel]) and a.qualifies(t.req) and a.id not in t.declined

    def _pick_agent(self, q: _Queue, t: _Task, idle: list[Idle]) -> _Agent | None:
        """The agent of ``idle`` (the queue's idle list for ``t``'s channel) that the queue's strategy picks. The
        list is in (idle since, agent id) order, which breaks the ties of every strategy: of agents equal by its
        measure, the longest idle (then the lowest id) is picked, the first one met."""
        mask, declined = t.req.mask, t.declined
        strategy = q.spec.strategy
        if strategy is _LONGEST_IDLE:
            for _, aid, able in idle:
                if mask & able == mask and aid not in declined:
                    return self.agents[aid]
            return None
        ids = [aid for _, aid, able in idle if mask & able == mask and aid not in declined]
        if not ids:
            return None
        if strategy is _MOST_SKILLED:  # the highest sum of the levels of the skills the task needs
            names = [name for name, _ in t.req.skills]
            best, most = None, 0
            for aid in ids:
                a = self.agents[aid]
                skills, level = a.spec.skills, 0
                for name in names:
                    level += skills.get(name, 0)
                if best is None or level > most:
                    best, most = a, level
            return best
        if strategy is _LEAST_OCCUPIED:
            return min((self.agents[aid] for aid in ids), key=lambda a: a.load_total / a.slots)
        chosen = min([aid for aid in ids if aid > q.rr_last] or ids)  # round robin: the next id after the last one
        q.rr_last = chosen
        return self.agents[chosen]

    def _route_agent(self, a: _Agent, now: float) -> None:
        """An agent became free (or freer): offer it the most urgent task it can take, if any. Urgency is
        ``_Queue.score``, compared here field by field without building the tuples."""
        channels = a.channels
        if not channels:
            return
        self.decisions += 1
        best: _Task | None = None
        best_score: tuple[float, float, int] | None = None
        for t in a.personal.values():
            if t.state is _WAITING and self._eligible(a, t):
                score = self.queues[t.queue_id].score(t, now)
                if best_score is None or score > best_score:
                    best, best_score = t, score
        best_aged = 0.0 if best_score is None else best_score[0]
        able, aid = a.abilities, a.id
        for q in a.served:
            for channel in _CHANNELS[channels & q.lined_up]:
                heads = q.heads[channel]
                for head in heads:  # in order: the first class the agent qualifies for holds the best task
                    mask = head[-2]
                    if mask & able == mask:
                        t = head[-1]
                        if t.declined and aid in t.declined:  # the agent said no to it before: it looks further
                            found = self._first_for(a, q, heads)
                            if found is None:
                                break
                            t = found
                        aging = q.spec.aging_s
                        aged = t.priority + (now - t.enq) / aging if aging else t.priority
                        if best is None or aged > best_aged:
                            best, best_aged = t, aged
                        elif aged == best_aged and (t.enq < best.enq or (t.enq == best.enq and t.seq < best.seq)):
                            best = t  # as urgent: the older, then the earlier arrival
                        break
        if best is not None:
            self._offer(best, a, now, "most urgent task the agent can take")

    def _first_for(self, a: _Agent, q: _Queue, heads: list[Head]) -> _Task | None:
        """The first task in ``heads``' order that ``a`` qualifies for and has not turned down before."""
        able = a.abilities
        found: _Task | None = None
        for head in heads:
            mask = head[-2]
            t: _Task = head[-1]
            if found is not None and t.key >= found.key:
                break
            if mask & able != mask:
                continue
            if not t.declined or a.id not in t.declined:
                return t
            later = self._first_not_declined(q.classes[t.req], a.id)  # a later task of the class, maybe
            if later is not None and (found is None or later.key < found.key):
                found = later
        return found

    def _first_not_declined(self, line: list[Entry], agent_id: int) -> _Task | None:
        for entry in line:
            t: _Task = entry[-1]
            if agent_id not in t.declined:
                return t
        return None

    def _offer(self, t: _Task, a: _Agent, now: float, reason: str) -> None:
        if t.tenant_id != a.tenant_id:  # the indexes make this impossible; refuse loudly if they ever did not
            raise AssertionError(f"cross-tenant offer of task {t.id} to agent {a.id}")
        self._detach(t)
        t.state = _RESERVED
        t.agent = aid = a.id
        t.offer_version += 1
        a.reserved = tid = t.id
        a.channels = 0  # a reserved agent is offered nothing more
        self._dirty[aid] = a
        timeout = self.queues[t.queue_id].spec.offer_timeout_s
        expires = now + timeout
        self._timer(expires, "offer", tid, t.offer_version, timeout)
        self.events.append(Event(now, "offer", tid, aid, t.queue_id, reason, {"expires_at": expires}))

    def _return(self, t: _Task, now: float, why: str, presence: Presence, presence_reason: str) -> None:
        """An offer was declined or timed out: the task goes back to its place, the agent per the queue's rule."""
        a = self.agents[t.agent]  # type: ignore[index]
        a.reserved = None
        t.declined = t.declined | {a.id}
        t.state = TaskState.WAITING
        t.agent = None
        if t.personal and t.spec.preferred_agent in self.agents:
            self.agents[t.spec.preferred_agent].personal[t.id] = t
        else:
            t.personal = False
            self._insert(t)
        self._log(now, "offer_returned", task=t.id, agent=a.id, queue=t.queue_id, reason=why)
        if a.presence is Presence.READY and presence is not Presence.READY:
            was = a.state()
            a.presence, a.reason = presence, presence_reason
            self._log(now, "agent_state", agent=a.id, reason=presence_reason,
                      data={"from": was.value, "to": a.state().value})  # fmt: skip
        self._refresh(a)
        self._route_task(t, now)
        self._route_agent(a, now)

    def _finish_wrapup(self, a: _Agent, now: float, reason: str) -> None:
        a.presence, a.reason = Presence.READY, ""
        if a.load_total == 0:
            a.idle_since = now
        self._refresh(a)
        self._log(now, "agent_state", agent=a.id, reason=reason, data={"from": "wrapup", "to": a.state().value})
        self._route_agent(a, now)

    # --- internals: misc --------------------------------------------------------------------------------------

    def _agent(self, agent_id: int) -> _Agent:
        a = self.agents.get(agent_id)
        if a is None:
            raise RoutingError(f"no agent {agent_id}")
        return a

    def _new_task_queue(self, spec: TaskSpec) -> _Queue:
        """The queue a new task enters, after checking the task is new and the queue is of its tenant."""
        if spec.id in self.tasks:
            raise RoutingError(f"task {spec.id} is already in the engine")
        q = self.queues.get(spec.queue_id)
        if q is None or q.spec.tenant_id != spec.tenant_id:
            raise RoutingError(f"task {spec.id}: no queue {spec.queue_id} in tenant {spec.tenant_id}")
        return q

    def _task(self, task_id: int) -> _Task:
        t = self.tasks.get(task_id)
        if t is None:
            raise RoutingError(f"no task {task_id} in the engine")
        return t

    def _log(self, at: float, kind: str, **fields: Any) -> None:
        self.events.append(Event(at, kind, **fields))
