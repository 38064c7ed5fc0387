"""The routing service: the pure engine fed from, and mirrored into, the database. Task rows are the durable truth;
on start the engine is rebuilt from the rows not yet done, in their original order, so a restart loses and
duplicates nothing. Offers are not durable: a task offered when the process stopped waits again in its place.

Every change goes through one lock (the engine is not re-entrant while the rows are written), and engine events are
published on the bus as ``routing.<kind>`` after the rows are committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select

from infolinia.events import EventBus
from infolinia.routing import views
from infolinia.routing.engine import Engine
from infolinia.routing.model import AgentSpec, Channel, Event, Presence, QueueSpec, Strategy, TaskSpec
from infolinia.store.db import Database
from infolinia.store.models import AgentProfile, Queue, RoutingTask, TeamMember, User

#: row states rebuilt into the engine on load (assigned tasks are not re-attached to their agents yet)
RESTORED_STATES = ("scheduled", "waiting", "reserved")
log = logging.getLogger(__name__)


def seconds(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def queue_spec(q: Queue) -> QueueSpec:
    return QueueSpec(
        q.id, q.tenant_id, q.name, sl_target=q.sl_target, sl_seconds=q.sl_seconds, strategy=Strategy(q.strategy),
        aging_s=q.aging_s, offer_timeout_s=q.offer_timeout_s, wrapup_s=q.wrapup_s, max_wait_s=q.max_wait_s,
        max_wait_action=q.max_wait_action,
    )  # fmt: skip


def task_spec(row: RoutingTask) -> TaskSpec:
    return TaskSpec(
        row.id, row.tenant_id, row.queue_id, Channel(row.channel), row.enqueued_at.timestamp(), dict(row.skills),
        row.language, row.priority, preferred_agent=row.preferred_agent_id,
        preferred_until=seconds(row.preferred_until), not_before=seconds(row.not_before),
    )  # fmt: skip


class RoutingService:
    def __init__(self, db: Database, bus: EventBus | None = None) -> None:
        self.db = db
        self.bus = bus
        self.engine = Engine()
        self.lock = asyncio.Lock()
        self._last = 0.0

    def _now(self, at: datetime | None) -> float:
        """Engine time never goes back, even if the wall clock does."""
        t = at.timestamp() if at is not None else time.time()
        self._last = max(self._last, t)
        return self._last

    async def load(self, now: datetime | None = None) -> int:
        """Rebuild the engine from the database; returns how many open tasks were restored."""
        async with self.lock, self.db.session() as s:
            t = self._now(now)
            queues = list(await s.scalars(select(Queue).order_by(Queue.id)))
            for q in queues:
                self.engine.set_queue(queue_spec(q), t)
            teams: dict[int, set[int]] = {}
            for member in await s.scalars(select(TeamMember)):
                teams.setdefault(member.user_id, set()).add(member.team_id)
            agents = list(
                await s.execute(
                    select(User, AgentProfile)
                    .join(AgentProfile, AgentProfile.user_id == User.id)
                    .where(User.active)
                    .order_by(User.id)
                )
            )
            for user, profile in agents:
                serves = frozenset(
                    q.id for q in queues
                    if q.tenant_id == profile.tenant_id and (q.team_id is None or q.team_id in teams.get(user.id, ()))
                )  # fmt: skip
                spec = AgentSpec(user.id, profile.tenant_id, dict(profile.skills), frozenset(profile.languages), serves)
                self.engine.set_agent(spec, t)
            tasks = list(
                await s.scalars(
                    select(RoutingTask)
                    .where(RoutingTask.state.in_(RESTORED_STATES))
                    .order_by(RoutingTask.enqueued_at, RoutingTask.id)
                )
            )
            for row in tasks:
                self.engine.add_task(task_spec(row), t)
            for _user, profile in agents:  # presence last, so restored tasks are offered in their order
                if profile.presence != Presence.OFFLINE.value:
                    self.engine.set_presence(
                        profile.user_id, Presence(profile.presence), t, profile.presence_reason or ""
                    )
            await self._mirror(self.engine.drain())
        return len(tasks)

    async def add_tasks(self, rows: Sequence[RoutingTask], now: datetime | None = None) -> list[int]:
        """Store new tasks (committed before the engine sees them), then route them."""
        async with self.lock:
            t = self._now(now)
            async with self.db.session() as s:
                for row in rows:
                    later = row.not_before is not None and row.not_before.timestamp() > t
                    row.state = "scheduled" if later else "waiting"
                    s.add(row)
                await s.commit()
            for row in rows:
                self.engine.add_task(task_spec(row), t)
            await self._mirror(self.engine.drain())
        return [row.id for row in rows]

    async def set_presence(
        self, agent_id: int, presence: Presence, reason: str = "", now: datetime | None = None
    ) -> None:
        async with self.lock:
            self.engine.set_presence(agent_id, presence, self._now(now), reason)
            await self._mirror(self.engine.drain())

    async def _call(self, method: str, *args: int, now: datetime | None = None) -> None:
        async with self.lock:
            getattr(self.engine, method)(*args, self._now(now))
            await self._mirror(self.engine.drain())

    async def accept(self, task_id: int, now: datetime | None = None) -> None:
        await self._call("accept", task_id, now=now)

    async def decline(self, task_id: int, now: datetime | None = None) -> None:
        await self._call("decline", task_id, now=now)

    async def complete(self, task_id: int, now: datetime | None = None) -> None:
        await self._call("complete", task_id, now=now)

    async def cancel(self, task_id: int, now: datetime | None = None) -> None:
        await self._call("cancel_task", task_id, now=now)

    async def tick(self, now: datetime | None = None) -> None:
        await self._call("tick", now=now)

    async def run_timers(self, interval_s: float = 0.25) -> None:
        """Fire the engine's timers (offer time-outs, overflow, maximum wait, scheduled tasks) as time passes."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.tick()
            except Exception:  # a database hiccup must not stop routing; the next tick retries
                log.exception("routing tick failed")

    def tenant_of(self, ev: Event) -> int | None:
        if ev.queue is not None and ev.queue in self.engine.queues:
            return self.engine.queues[ev.queue].spec.tenant_id
        if ev.agent is not None and ev.agent in self.engine.agents:
            return self.engine.agents[ev.agent].tenant_id
        return None

    async def _mirror(self, events: list[Event]) -> None:
        """Write what the engine decided into the rows (one transaction), then publish it."""
        changes: dict[int, dict[str, object]] = {}
        presence: dict[int, tuple[str, str]] = {}
        for ev in events:
            if ev.task is not None:
                change = changes.setdefault(ev.task, {})
                if ev.kind == "offer":
                    change.update(state="reserved", agent_id=ev.agent)
                elif ev.kind == "offer_returned":
                    change.update(state="waiting", agent_id=None)
                elif ev.kind == "offer_accepted":
                    change.update(state="assigned")
                elif ev.kind == "task_queued":
                    change.setdefault("state", "waiting")
                elif ev.kind == "overflow":
                    change.update(queue_id=ev.queue, skills=dict(ev.data["skills"]), language=ev.data["language"])
                elif ev.kind in ("task_completed", "task_abandoned", "task_exited"):
                    outcome = ev.kind.removeprefix("task_")
                    if ev.kind == "task_exited":
                        outcome = f"exited:{ev.data.get('action', ev.reason)}"
                    change.update(state="done", outcome=outcome)
            elif ev.kind == "agent_state" and ev.agent is not None:
                agent = self.engine.agents[ev.agent]
                presence[ev.agent] = (agent.presence.value, agent.reason)
        if changes or presence:
            async with self.db.session() as s:
                for task_id, change in changes.items():
                    row = await s.get(RoutingTask, task_id)
                    if row is not None:
                        for key, value in change.items():
                            setattr(row, key, value)
                for agent_id, (state, reason) in presence.items():
                    profile = await s.get(AgentProfile, agent_id)
                    if profile is not None and state != Presence.WRAPUP.value:
                        profile.presence, profile.presence_reason = state, reason or None
                await s.commit()
        if self.bus is not None:  # each event with the views of what it touched (routing/views.py)
            views.publish(self.bus, self.engine, events, self.tenant_of)
