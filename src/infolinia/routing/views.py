"""What clients see of the routing engine: tasks, agents and queue counters as plain views, the snapshot of one
tenant, and the ``after`` part of every ``routing.*`` event.

Events carry the views of the objects they touched *after* the engine call that produced them (every event of one
call carries the state at its end). Views are absolute, not differences, so a client that fetched a snapshot and
applies every later event in ``seq`` order ends equal to a fresh snapshot (``routing/replica.py`` does exactly that).
Positions are not carried (one task leaving moves every task behind it); ``rank`` orders the waiting tasks of a
queue instead, and a client derives positions from it the way ``snapshot()`` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict

from infolinia.events import Event as BusEvent
from infolinia.events import EventBus
from infolinia.routing.engine import Engine
from infolinia.routing.model import AgentState, Event, Presence, TaskState

V = TypeVar("V")
OpenState = Literal["scheduled", "waiting", "reserved", "assigned"]


class View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TaskView(View):
    id: int
    queue: int
    channel: str
    state: OpenState
    agent: int | None  # offered to (reserved) or handled by (assigned)
    priority: int
    personal_for: int | None  # waiting for this (preferred) agent only; its position is then 0
    rank: list[float] | None  # while waiting in its queue's line: lower is served first; None otherwise


class AgentView(View):
    id: int
    state: AgentState
    presence: Presence
    reason: str
    queues: list[int]


class QueueView(View):
    """Counters since the process started (the engine keeps them in memory)."""

    id: int
    name: str
    offered: int
    answered: int
    answered_in_sl: int
    abandoned: int
    exited: int
    to_callback: int = 0


class After(View):
    """The objects an event touched, as they are once the engine call that produced it is complete."""

    tasks: list[TaskView] = []
    done_tasks: list[int] = []  # no longer open (completed, abandoned or exited)
    agents: list[AgentView] = []
    gone_agents: list[int] = []  # taken out of routing (deactivated)
    queues: list[QueueView] = []


class SnapshotTask(TaskView):
    position: int | None  # 0 = next in its queue; None when not waiting


class SnapshotQueue(QueueView):
    waiting: int  # tasks not answered yet (scheduled, waiting or offered)
    agents: dict[str, int]  # members by state


class Snapshot(View):
    """A tenant's routing state and the bus sequence number it includes: apply the events with a higher ``seq``."""

    seq: int
    tenant_id: int
    tasks: list[SnapshotTask]
    agents: list[AgentView]
    queues: list[SnapshotQueue]


# --- reading the engine ---------------------------------------------------------------------------------------


def task_view(engine: Engine, task_id: int) -> TaskView | None:
    """The task as clients see it; None once it left the engine (done)."""
    t = engine.tasks.get(task_id)
    if t is None:
        return None
    lined_up = t.state is TaskState.WAITING and not t.personal
    return TaskView(
        id=t.id, queue=t.queue_id, channel=t.channel.value, state=t.state.value, agent=t.agent, priority=t.priority,
        personal_for=t.spec.preferred_agent if t.personal else None, rank=list(t.key) if lined_up else None,
    )  # fmt: skip


def agent_view(engine: Engine, agent_id: int) -> AgentView | None:
    a = engine.agents.get(agent_id)
    if a is None:
        return None
    return AgentView(id=a.id, state=a.state(), presence=a.presence, reason=a.reason, queues=sorted(a.spec.queues))


def queue_view(engine: Engine, queue_id: int) -> QueueView | None:
    q = engine.queues.get(queue_id)
    if q is None:
        return None
    s = q.stats
    return QueueView(
        id=queue_id, name=q.spec.name, offered=s.offered, answered=s.answered, answered_in_sl=s.answered_in_sl,
        abandoned=s.abandoned, exited=s.exited, to_callback=s.to_callback,
    )  # fmt: skip


def positions(tasks: Iterable[TaskView]) -> dict[int, int | None]:
    """Each task's position: its place by ``rank`` among the tasks lined up in its queue, 0 for a personal one."""
    lines: dict[int, list[tuple[list[float], int]]] = {}
    result: dict[int, int | None] = {}
    for t in tasks:
        result[t.id] = 0 if t.state == "waiting" and t.personal_for is not None else None
        if t.rank is not None:
            lines.setdefault(t.queue, []).append((t.rank, t.id))
    for line in lines.values():
        for place, (_, task_id) in enumerate(sorted(line)):
            result[task_id] = place
    return result


def queue_summary(queue: QueueView, tasks: Iterable[TaskView], agents: Iterable[AgentView]) -> SnapshotQueue:
    waiting = sum(1 for t in tasks if t.queue == queue.id and t.state != "assigned")
    by_state = dict.fromkeys((s.value for s in AgentState), 0)
    for a in agents:
        if queue.id in a.queues:
            by_state[a.state.value] += 1
    return SnapshotQueue(**queue.model_dump(), waiting=waiting, agents=by_state)


def assemble(
    seq: int, tenant_id: int, tasks: list[TaskView], agents: list[AgentView], queues: list[QueueView]
) -> Snapshot:
    """A snapshot from views, with the derived fields (positions, waiting counts, agents by state) filled in."""
    tasks = sorted(tasks, key=lambda t: t.id)
    agents = sorted(agents, key=lambda a: a.id)
    place = positions(tasks)
    return Snapshot(
        seq=seq,
        tenant_id=tenant_id,
        tasks=[SnapshotTask(**t.model_dump(), position=place[t.id]) for t in tasks],
        agents=agents,
        queues=[queue_summary(q, tasks, agents) for q in sorted(queues, key=lambda q: q.id)],
    )


def snapshot(engine: Engine, tenant_id: int, seq: int) -> Snapshot:
    """The tenant's routing state; the caller holds the routing lock, so ``seq`` and the state go together."""
    tasks = present(task_view(engine, tid) for tid, t in engine.tasks.items() if t.tenant_id == tenant_id)
    agents = present(agent_view(engine, aid) for aid, a in engine.agents.items() if a.tenant_id == tenant_id)
    queues = present(queue_view(engine, qid) for qid, q in engine.queues.items() if q.spec.tenant_id == tenant_id)
    return assemble(seq, tenant_id, tasks, agents, queues)


def present(views: Iterable[V | None]) -> list[V]:
    return [v for v in views if v is not None]


# --- publishing -----------------------------------------------------------------------------------------------


def after(engine: Engine, ev: Event, agent: int | None) -> After:
    result = After()
    if ev.task is not None:
        view = task_view(engine, ev.task)
        if view is None:
            result.done_tasks.append(ev.task)
        else:
            result.tasks.append(view)
    if ev.kind == "queue_updated" and ev.queue is not None:  # the change may re-order every task in the queue
        result.tasks = present(task_view(engine, tid) for tid, t in engine.tasks.items() if t.queue_id == ev.queue)
    if agent is not None:
        if (a := agent_view(engine, agent)) is not None:
            result.agents.append(a)
        elif ev.kind == "agent_removed":
            result.gone_agents.append(agent)
    for qid in dict.fromkeys(q for q in (ev.queue, ev.data.get("from_queue")) if q is not None):
        if (q := queue_view(engine, qid)) is not None:
            result.queues.append(q)
    return result


def publish(bus: EventBus, engine: Engine, events: list[Event], tenant_of: Callable[[Event], int | None]) -> None:
    """Publish one engine call's events as ``routing.<kind>``, each with the views of what it touched."""
    for ev in events:
        agent = ev.agent
        data = {"task": ev.task, "agent": agent, "queue": ev.queue, "reason": ev.reason, **ev.data}
        data["after"] = after(engine, ev, agent).model_dump(mode="json")
        bus.publish(BusEvent(f"routing.{ev.kind}", tenant_of(ev), data))
