"""The routing service: the pure engine fed from, and mirrored into, the database. Task rows are the durable truth;
on start the engine is rebuilt from the rows not yet done, in their original order, so a restart loses and
duplicates nothing. Offers are not durable: a task offered when the process stopped waits again in its place.

Not yet here: the HTTP API, the live event stream and the timer loop inside ``serve`` (see the issue notes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from infolinia.routing.engine import Engine
from infolinia.routing.model import AgentSpec, Channel, Event, Presence, QueueSpec, Strategy, TaskSpec
from infolinia.store.db import Database
from infolinia.store.models import AgentProfile, Queue, RoutingTask, TeamMember, User
from infolinia.store.types import utcnow

OPEN_STATES = ("scheduled", "waiting", "reserved", "assigned")


def seconds(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def moment(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


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
    def __init__(self, db: Database) -> None:
        self.db = db
        self.engine = Engine()

    async def load(self, now: datetime | None = None) -> int:
        """Rebuild the engine from the database; returns how many open tasks were restored."""
        t = (now or utcnow()).timestamp()
        async with self.db.session() as s:
            queues = list(await s.scalars(select(Queue).order_by(Queue.id)))
            for q in queues:
                self.engine.set_queue(queue_spec(q), t)
            teams: dict[int, set[int]] = {}
            for member in await s.scalars(select(TeamMember)):
                teams.setdefault(member.user_id, set()).add(member.team_id)
            rows = await s.execute(
                select(User, AgentProfile).join(AgentProfile, AgentProfile.user_id == User.id).where(User.active)
            )
            for user, profile in rows:
                serves = frozenset(
                    q.id for q in queues
                    if q.tenant_id == profile.tenant_id and (q.team_id is None or q.team_id in teams.get(user.id, ()))
                )  # fmt: skip
                spec = AgentSpec(user.id, profile.tenant_id, dict(profile.skills), frozenset(profile.languages), serves)
                self.engine.set_agent(spec, t)
            tasks = list(
                await s.scalars(
                    select(RoutingTask)
                    .where(RoutingTask.state.in_(OPEN_STATES[:3]))
                    .order_by(RoutingTask.enqueued_at, RoutingTask.id)
                )
            )
            for row in tasks:
                self.engine.add_task(task_spec(row), t)
            # presence last, so restored tasks are offered in their order
            for _user, profile in await s.execute(
                select(User, AgentProfile).join(AgentProfile, AgentProfile.user_id == User.id).where(User.active)
            ):
                if profile.presence != Presence.OFFLINE.value:
                    self.engine.set_presence(
                        profile.user_id, Presence(profile.presence), t, profile.presence_reason or ""
                    )
        await self._mirror(self.engine.drain())
        return len(tasks)

    async def add_tasks(self, rows: Sequence[RoutingTask], now: datetime | None = None) -> list[int]:
        """Store new tasks (committed before the engine sees them), then route them."""
        t = (now or utcnow()).timestamp()
        async with self.db.session() as s:
            for row in rows:
                row.state = "waiting"
                s.add(row)
            await s.commit()
        for row in rows:
            self.engine.add_task(task_spec(row), t)
        await self._mirror(self.engine.drain())
        return [row.id for row in rows]

    async def set_presence(
        self, agent_id: int, presence: Presence, reason: str = "", now: datetime | None = None
    ) -> None:
        self.engine.set_presence(agent_id, presence, (now or utcnow()).timestamp(), reason)
        await self._mirror(self.engine.drain())

    async def accept(self, task_id: int, now: datetime | None = None) -> None:
        self.engine.accept(task_id, (now or utcnow()).timestamp())
        await self._mirror(self.engine.drain())

    async def complete(self, task_id: int, now: datetime | None = None) -> None:
        self.engine.complete(task_id, (now or utcnow()).timestamp())
        await self._mirror(self.engine.drain())

    async def tick(self, now: datetime | None = None) -> None:
        self.engine.tick((now or utcnow()).timestamp())
        await self._mirror(self.engine.drain())

    async def _mirror(self, events: Iterable[Event]) -> None:
        """Write what the engine decided into the rows (one transaction per batch of events)."""
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
        if not changes and not presence:
            return
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
