"""The routing service: the pure engine fed from, and mirrored into, the database. Task rows are the durable truth;
on start the engine is rebuilt from the rows not yet done, in their original order, so a restart loses and
duplicates nothing. Offers are not durable: a task offered when the process stopped waits again in its place; a task
assigned when it stopped goes back on its agent (or, if that agent is gone, waits again in its place).

Calls are the exception: a call lives in the process that holds its SIP dialog and media, and ends with it. So an
inbound call's task (channel ``voice``) left open by a process that stopped is closed on start (``done``, outcome
``interrupted``): the caller is gone. A callback's task (channel ``callback``: an agent-first call being placed)
does not go back on its agent but waits again in its place, so the callback is still made. Their interactions that
were still open get ``ended_at`` (the restart: when the end was noticed) and ``end_reason`` ``interrupted``.

Configuration changes reach the running engine through ``reload_queues``, ``reload_tenant`` and ``reload_agents``,
called after the write that changed the rows has committed.

Every change goes through one lock (the engine is not re-entrant while the rows are written), and engine events are
published on the bus as ``routing.<kind>`` after the rows are committed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.events import EventBus
from infolinia.routing import views
from infolinia.routing.engine import Engine
from infolinia.routing.model import AgentSpec, Event, Presence, QueueSpec
from infolinia.routing.specs import read_agents, read_queues, seconds, task_spec
from infolinia.store.db import Database
from infolinia.store.models import AgentPresenceChange, AgentProfile, Interaction, Queue, RoutingTask, User
from infolinia.store.models import Channel as StoreChannel

#: row states rebuilt into the engine on load
RESTORED_STATES = ("scheduled", "waiting", "reserved", "assigned")
#: the channels whose contact is a call held by the process (its SIP dialog and media): it ends with the process
CALL_CHANNELS = (StoreChannel.VOICE, StoreChannel.CALLBACK)
#: a call that was cut by a restart: its task's outcome and its interaction's end reason
INTERRUPTED = "interrupted"
#: why an agent left the engine while the process runs
DEACTIVATED = "deactivated"
log = logging.getLogger(__name__)


class RoutingService:
    def __init__(self, db: Database, bus: EventBus | None = None, *, always_open: bool = False) -> None:
        self.db = db
        #: queues ignore business hours (``--demo-always-open``: demos and tests at any hour)
        self.always_open = always_open
        self.bus = bus
        self.engine = Engine()
        self.lock = asyncio.Lock()
        self._last = 0.0
        #: what the engine was given, so that an unchanged agent is not set again
        self.agent_specs: dict[int, AgentSpec] = {}
        #: tenant of every queue and agent the engine has known (events name a tenant even after an agent left)
        self.queue_tenants: dict[int, int] = {}
        self.agent_tenants: dict[int, int] = {}
        #: in-process consumers of the engine's decisions (the call control rings an agent on ``offer``), told
        #: after the rows are written; a listener must not block (it starts its own work)
        self.listeners: list[Callable[[list[Event]], None]] = []
        self._wrapping: dict[int, int] = {}  # agent in wrap-up -> the interaction it follows (for wrapup_ended_at)

    def _now(self, at: datetime | None) -> float:
        """Engine time never goes back, even if the wall clock does."""
        t = at.timestamp() if at is not None else time.time()
        self._last = max(self._last, t)
        return self._last

    async def load(self, now: datetime | None = None) -> int:
        """Rebuild the engine from the database; returns how many open tasks were restored."""
        async with self.lock, self.db.session() as s:
            t = self._now(now)
            self._add_queues(await read_queues(s, always_open=self.always_open), t)
            await self._sync_agents(s, t)
            rows = list(
                await s.scalars(
                    select(RoutingTask)
                    .where(RoutingTask.state.in_(RESTORED_STATES))
                    .order_by(RoutingTask.enqueued_at, RoutingTask.id)
                )
            )
            await self._end_interrupted_calls(s, t)
            for row in rows:
                if row.channel == StoreChannel.VOICE:  # the caller went with the process
                    row.state, row.outcome = "done", INTERRUPTED
                else:
                    self._restore(row, t)
            present = await s.execute(
                select(AgentProfile.user_id, AgentProfile.presence, AgentProfile.presence_reason)
                .where(AgentProfile.presence != Presence.OFFLINE.value)
                .order_by(AgentProfile.user_id)
            )
            for agent_id, presence, reason in present:  # last, so restored tasks are offered in their order
                if agent_id in self.agent_specs:
                    self.engine.set_presence(agent_id, Presence(presence), t, reason or "")
            await self._close_interrupted_wrapups(s, t)
            await s.commit()
            await self._mirror(self.engine.drain())
        return len(rows)

    async def _end_interrupted_calls(self, s: AsyncSession, t: float) -> None:
        """The calls a stopped process held, still open in the rows, ended with it."""
        for interaction in await s.scalars(
            select(Interaction).where(Interaction.channel.in_(CALL_CHANNELS), Interaction.ended_at.is_(None))
        ):
            interaction.ended_at = datetime.fromtimestamp(t, UTC)
            interaction.end_reason = INTERRUPTED

    async def _close_interrupted_wrapups(self, s: AsyncSession, t: float) -> None:
        """Wrap-up lives in the engine only: agents come back from a restart without it. The calls whose wrap-up the
        restart cut short (or that ended before the process stopped, without their end written) get
        ``wrapup_ended_at``: the end their queue's wrap-up time gives, or the restart if that is earlier."""
        now = datetime.fromtimestamp(t, UTC)
        rows = await s.execute(
            select(Interaction, Queue.wrapup_s)
            .join(Queue, Queue.id == Interaction.queue_id)
            .where(
                Interaction.channel.in_([StoreChannel.VOICE, StoreChannel.CALLBACK]),
                Interaction.agent_id.is_not(None),
                Interaction.answered_at.is_not(None),
                Interaction.ended_at > now - timedelta(days=1),
                Interaction.wrapup_ended_at.is_(None),
                Queue.wrapup_s > 0,
            )
        )
        for interaction, wrapup_s in rows:
            ended = interaction.ended_at
            assert ended is not None
            interaction.wrapup_ended_at = min(ended + timedelta(seconds=wrapup_s), max(now, ended))

    def _restore(self, row: RoutingTask, t: float) -> None:
        """An assigned task goes back on its agent if the agent can still work (active, with a profile) and it is
        not a call; otherwise, like every other open task, it waits in its original place."""
        agent = row.agent_id
        if (
            row.state == "assigned"
            and agent is not None
            and agent in self.agent_specs
            and row.channel not in CALL_CHANNELS
        ):
            accepted = seconds(row.assigned_at) or row.updated_at.timestamp()  # updated_at: rows from before 0003
            self.engine.restore_assigned(task_spec(row), agent, accepted, t)
        else:
            self.engine.add_task(task_spec(row), t)

    # --- configuration: rows -> engine --------------------------------------------------------------------------

    async def reload_queues(self, queue_ids: Collection[int], now: datetime | None = None) -> None:
        """Queues created or changed: the engine takes their rules, and the agents of their tenants the queues they
        serve now (a new queue, a queue given to another team)."""
        async with self.lock, self.db.session() as s:
            t = self._now(now)
            tenants = set(await s.scalars(select(Queue.tenant_id).where(Queue.id.in_(queue_ids))))
            await self._refresh_tenants(s, tenants, set(queue_ids), t)
            await self._mirror(self.engine.drain())

    async def reload_tenant(self, tenant_id: int, now: datetime | None = None) -> None:
        """The tenant's business hours or time zone changed: every queue of it takes them."""
        async with self.lock, self.db.session() as s:
            t = self._now(now)
            await self._refresh_tenants(s, {tenant_id}, None, t)
            await self._mirror(self.engine.drain())

    async def reload_agents(self, user_ids: Collection[int], now: datetime | None = None) -> None:
        """Agents whose profile, teams or account changed: the engine takes their new spec; one that can no longer
        work (deactivated, or without a profile) leaves the engine, its work going back to the queues."""
        async with self.lock, self.db.session() as s:
            t = self._now(now)
            tenants = set(await s.scalars(select(User.tenant_id).where(User.id.in_(user_ids))))
            await self._add_missing_queues(s, {tenant for tenant in tenants if tenant is not None}, t)
            await self._sync_agents(s, t, user_ids=set(user_ids))
            await self._mirror(self.engine.drain())

    def _add_queues(self, specs: Sequence[QueueSpec], t: float) -> None:
        """Queues new to the engine. Overflow steps are set once all of them exist (a step may name a later one)."""
        for spec in specs:
            self.engine.set_queue(replace(spec, overflow=()), t)
            self.queue_tenants[spec.id] = spec.tenant_id
        for spec in specs:
            if spec.overflow:
                self.engine.update_queue(spec, t)

    async def _add_missing_queues(self, s: AsyncSession, tenants: Collection[int], t: float) -> list[QueueSpec]:
        """Every queue of ``tenants`` into the engine (those it lacks are added); returns all their specs."""
        specs = await read_queues(s, tenant_ids=tenants, always_open=self.always_open)
        self._add_queues([spec for spec in specs if spec.id not in self.queue_tenants], t)
        return specs

    async def _refresh_tenants(
        self, s: AsyncSession, tenants: Collection[int], changed: Collection[int] | None, t: float
    ) -> None:
        """The ``changed`` queues (None: all) of ``tenants`` take their rows' rules, then the tenants' agents."""
        known = set(self.queue_tenants)
        for spec in await self._add_missing_queues(s, tenants, t):
            if spec.id in known and (changed is None or spec.id in changed):
                self.engine.update_queue(spec, t)
        await self._sync_agents(s, t, tenant_ids=tenants)

    async def _sync_agents(
        self, s: AsyncSession, t: float, *, tenant_ids: Collection[int] | None = None, user_ids: set[int] | None = None
    ) -> None:
        """The engine's agents (of ``tenant_ids``, or ``user_ids``, or all) as the rows say: a changed spec is set,
        an agent that can no longer work is removed."""
        specs = await read_agents(s, tenant_ids=tenant_ids, user_ids=user_ids)
        for spec in specs.values():
            if self.agent_specs.get(spec.id) != spec:
                self.engine.set_agent(spec, t)
                self.agent_specs[spec.id] = spec
                self.agent_tenants[spec.id] = spec.tenant_id
        in_scope = set(self.agent_specs) if user_ids is None else user_ids & set(self.agent_specs)
        if tenant_ids is not None:
            in_scope = {a for a in in_scope if self.agent_tenants[a] in tenant_ids}
        for agent_id in sorted(in_scope - set(specs)):
            self.engine.remove_agent(agent_id, t, DEACTIVATED)
            del self.agent_specs[agent_id]

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

    async def route(self, rows: Sequence[RoutingTask], now: datetime | None = None) -> None:
        """Route tasks whose rows the caller already committed (with their state: ``scheduled`` when
        ``not_before`` is later, else ``waiting``), as part of a larger write: a callback and its task are one
        transaction. Should the process stop before this, ``load`` finds the rows on the next start."""
        async with self.lock:
            t = self._now(now)
            for row in rows:
                self.engine.add_task(task_spec(row), t)
            await self._mirror(self.engine.drain())

    async def set_presence(
        self, agent_id: int, presence: Presence, reason: str = "", now: datetime | None = None
    ) -> None:
        async with self.lock:
            self.engine.set_presence(agent_id, presence, self._now(now), reason)
            await self._mirror(self.engine.drain())

    async def _call(self, method: str, *args: int, now: datetime | None = None, **options: str) -> None:
        async with self.lock:
            getattr(self.engine, method)(*args, self._now(now), **options)
            await self._mirror(self.engine.drain())

    async def accept(self, task_id: int, now: datetime | None = None) -> None:
        await self._call("accept", task_id, now=now)

    async def decline(self, task_id: int, now: datetime | None = None) -> None:
        await self._call("decline", task_id, now=now)

    async def complete(self, task_id: int, now: datetime | None = None) -> None:
        await self._call("complete", task_id, now=now)

    async def cancel(self, task_id: int, now: datetime | None = None, reason: str = "abandoned") -> None:
        """The contact went away; ``reason="callback"``: it became a callback (not counted as abandoned);
        ``reason="withdrawn"``: taken back by whoever made it (counted nowhere)."""
        await self._call("cancel_task", task_id, now=now, reason=reason)

    async def tick(self, now: datetime | None = None) -> None:
        await self._call("tick", now=now)

    async def queue_stats(self, queue_id: int, now: datetime | None = None) -> dict[str, Any] | None:
        """Live statistics of a queue (None if the engine does not have it). Reading them moves the engine's clock,
        which may fire timers: under the lock, and mirrored like any other call."""
        async with self.lock:
            if queue_id not in self.engine.queues:
                return None
            stats = self.engine.queue_stats(queue_id, self._now(now))
            await self._mirror(self.engine.drain())
            return stats

    async def run_timers(self, interval_s: float = 0.25) -> None:
        """Fire the engine's timers (offer time-outs, overflow, maximum wait, scheduled tasks) as time passes."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.tick()
            except Exception:  # a database hiccup must not stop routing; the next tick retries
                log.exception("routing tick failed")

    def tenant_of(self, ev: Event) -> int | None:
        if ev.queue is not None and ev.queue in self.queue_tenants:
            return self.queue_tenants[ev.queue]
        if ev.agent is not None:
            return self.agent_tenants.get(ev.agent)
        return None

    async def _mirror(self, events: list[Event]) -> None:
        """Write what the engine decided into the rows (one transaction), then publish it."""
        changes: dict[int, dict[str, object]] = {}
        presence: dict[int, tuple[str, str]] = {}
        completed: dict[int, int] = {}  # agent -> the task it just completed
        wrapped: dict[int, float] = {}  # agent -> when its wrap-up ended
        presence_at: dict[int, float] = {}  # agent -> when its presence last changed
        for ev in events:
            if ev.task is not None:
                change = changes.setdefault(ev.task, {})
                if ev.kind == "offer":
                    change.update(state="reserved", agent_id=ev.agent)
                elif ev.kind == "offer_returned":
                    change.update(state="waiting", agent_id=None)
                elif ev.kind == "offer_accepted":
                    change.update(state="assigned", assigned_at=datetime.fromtimestamp(ev.at, UTC))
                elif ev.kind == "task_queued":
                    change.setdefault("state", "waiting")
                    change.setdefault("agent_id", None)  # a reserved or assigned task restored as waiting
                    change.setdefault("assigned_at", None)
                elif ev.kind == "task_requeued":
                    change.update(state="waiting", agent_id=None, assigned_at=None)
                elif ev.kind == "overflow":
                    change.update(queue_id=ev.queue, skills=dict(ev.data["skills"]), language=ev.data["language"])
                elif ev.kind in ("task_completed", "task_abandoned", "task_exited"):
                    outcome = ev.kind.removeprefix("task_")
                    if ev.kind == "task_exited":
                        outcome = f"exited:{ev.data.get('action', ev.reason)}"
                    change.update(state="done", outcome=outcome)
                    if ev.kind == "task_completed" and ev.agent is not None:
                        completed[ev.agent] = ev.task
            elif ev.kind == "agent_state" and ev.agent is not None:
                if ev.data.get("from") == Presence.WRAPUP.value:
                    wrapped[ev.agent] = ev.at
                agent = self.engine.agents.get(ev.agent)
                presence[ev.agent] = (
                    (agent.presence.value, agent.reason) if agent else (Presence.OFFLINE.value, ev.reason)
                )
                presence_at[ev.agent] = ev.at
        if changes or presence:
            async with self.db.session() as s:
                for task_id, change in changes.items():
                    row = await s.get(RoutingTask, task_id)
                    if row is not None:
                        for key, value in change.items():
                            setattr(row, key, value)
                await self._note_wrapup(s, completed, wrapped)
                for agent_id, (state, reason) in presence.items():
                    profile = await s.get(AgentProfile, agent_id)
                    if profile is not None and state != Presence.WRAPUP.value:
                        if profile.presence != state:  # its history, for staffed time (reports/presence.py)
                            at = datetime.fromtimestamp(presence_at[agent_id], UTC)
                            moved = AgentPresenceChange(tenant_id=profile.tenant_id, agent_id=agent_id,
                                                         presence=state, reason=reason or None, at=at)  # fmt: skip
                            s.add(moved)
                        profile.presence, profile.presence_reason = state, reason or None
                await s.commit()
        if self.bus is not None:  # each event with the views of what it touched (routing/views.py)
            views.publish(self.bus, self.engine, events, self.tenant_of)
        for listener in self.listeners if events else ():
            try:
                listener(events)
            except Exception:  # one consumer's bug must not undo routing
                log.exception("routing listener failed")

    async def _note_wrapup(self, s: AsyncSession, completed: dict[int, int], wrapped: dict[int, float]) -> None:
        """An agent's wrap-up after a contact ends: the contact's interaction gets ``wrapup_ended_at`` (the end of
        its handle time). An agent that went into wrap-up is remembered with the interaction it follows; one that
        completed with no wrap-up (the queue has none) leaves the interaction without it."""
        for agent_id, at in wrapped.items():
            interaction_id = self._wrapping.pop(agent_id, None)
            if interaction_id is not None:
                interaction = await s.get(Interaction, interaction_id)
                if interaction is not None and interaction.wrapup_ended_at is None:
                    interaction.wrapup_ended_at = datetime.fromtimestamp(at, UTC)
        for agent_id, task_id in completed.items():
            agent = self.engine.agents.get(agent_id)
            task = await s.get(RoutingTask, task_id)
            if agent is not None and agent.presence is Presence.WRAPUP and task is not None and task.interaction_id:
                self._wrapping[agent_id] = task.interaction_id

    def position(self, task_id: int) -> int | None:
        """The waiting task's place in its queue (0 = next), None when it is not waiting."""
        return self.engine.position(task_id)

    def estimated_wait(self, task_id: int) -> float | None:
        """Seconds the waiting task is expected to wait still, None when unknown."""
        return self.engine.estimated_wait(task_id)
