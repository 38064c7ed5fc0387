"""The routing service keeps its tasks in the database: a restart restores every open task in its original order."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from infolinia import demo
from infolinia.app import Infolinia
from infolinia.outbound.actions import close_settled_tasks
from infolinia.routing.model import Presence, TaskState
from infolinia.routing.service import RoutingService
from infolinia.store import db as store
from infolinia.store.db import Database
from infolinia.store.models import Callback, Interaction, Queue, RoutingTask, Tenant, User


async def _demo(center: Infolinia | Database) -> tuple[int, list[int], int]:
    db = center if isinstance(center, Database) else center.db
    async with db.session() as s:
        tenant = await s.scalar(select(Tenant.id).where(Tenant.slug == "demo"))
        queues = list(await s.scalars(select(Queue.id).where(Queue.tenant_id == tenant).order_by(Queue.id)))
        agent = await s.scalar(select(User.id).where(User.email == "agent1@demo.test"))
    assert tenant is not None and agent is not None
    return tenant, queues[:3], agent


def order_by_queue(service: RoutingService) -> dict[int, list[int]]:
    engine = service.engine
    waiting = [t for t in engine.tasks if engine.task_state(t) is TaskState.WAITING]
    result: dict[int, list[int]] = {}
    for tid in sorted(waiting, key=lambda t: (engine.tasks[t].queue_id, engine.position(t))):
        result.setdefault(engine.tasks[tid].queue_id, []).append(tid)
    return result


@pytest.fixture
async def own_db(fresh_db_url: Callable[[], Awaitable[str]]) -> AsyncIterator[Database]:
    """A demo database of this test's own: no open task of another test's in it."""
    url = await fresh_db_url()
    await asyncio.to_thread(store.upgrade, url)
    db = Database(url)
    assert await demo.seed(db)
    yield db
    await db.dispose()


async def test_restart_restores_1000_waiting_tasks_in_order(own_db: Database) -> None:
    tenant, queues, agent = await _demo(own_db)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    first = RoutingService(own_db)
    await first.load(start)
    rng = random.Random(3)
    rows = [
        RoutingTask(
            tenant_id=tenant,
            queue_id=rng.choice(queues),
            channel=rng.choice(["callback", "email", "case"]),
            skills={},
            priority=rng.choice([0, 0, 0, 1, 2]),
            enqueued_at=start + timedelta(seconds=i // 3),
        )
        for i in range(1000)
    ]
    ids = await first.add_tasks(rows, start + timedelta(seconds=400))
    before = order_by_queue(first)
    assert sum(len(v) for v in before.values()) == 1000  # nobody is logged in: all wait

    # one agent takes one task, and is offered a second when the process stops
    await first.set_presence(agent, Presence.READY, now=start + timedelta(seconds=401))
    offered = first.engine.agents[agent].reserved
    assert offered is not None
    await first.accept(offered, start + timedelta(seconds=402))
    await first.complete(offered, start + timedelta(seconds=405))
    second_offer = first.engine.agents[agent].reserved
    assert second_offer is not None
    async with own_db.session() as s:
        assert (await s.get(RoutingTask, second_offer)).state == "reserved"  # type: ignore[union-attr]
        assert (await s.get(RoutingTask, offered)).state == "done"  # type: ignore[union-attr]

    # "restart": a new service on the same database
    again = RoutingService(own_db)
    restored = await again.load(start + timedelta(seconds=406))
    assert restored == 999
    after = order_by_queue(again)
    expected = {q: [t for t in tasks if t != offered] for q, tasks in before.items()}
    # the agent is still ready after the restart, so the most urgent task it can take is offered again at once
    reserved = again.engine.agents[agent].reserved
    assert reserved == second_offer
    expected = {q: [t for t in tasks if t != reserved] for q, tasks in expected.items()}
    assert after == expected
    async with own_db.session() as s:
        open_rows = await s.scalar(select(func.count()).where(RoutingTask.id.in_(ids), RoutingTask.state != "done"))
    assert open_rows == 999
    assert len(set(again.engine.tasks)) == 999


async def test_reading_statistics_fires_due_timers_and_writes_what_they_did(center: Infolinia) -> None:
    """Statistics move the engine's clock: an offer that timed out meanwhile is returned, and the rows say so."""
    tenant, queues, agent = await _demo(center)
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    service = RoutingService(center.db)
    await service.load(start)
    await service.add_tasks(
        [RoutingTask(tenant_id=tenant, queue_id=queues[0], channel="email", skills={}, enqueued_at=start)], start
    )
    await service.set_presence(agent, Presence.READY, now=start + timedelta(seconds=1))
    task = service.engine.agents[agent].reserved  # this one, or one left waiting by an earlier test
    assert task is not None and service.engine.task_state(task) is TaskState.RESERVED
    queue = service.engine.tasks[task].queue_id
    timeout = service.engine.queues[queue].spec.offer_timeout_s

    stats = await service.queue_stats(queue, start + timedelta(seconds=2 + timeout))
    assert stats is not None and stats["waiting"] >= 1
    assert service.engine.task_state(task) is TaskState.WAITING
    async with center.db.session() as s:
        row = await s.get(RoutingTask, task)
        assert row is not None and (row.state, row.agent_id) == ("waiting", None)
    assert await service.queue_stats(2**31 - 1) is None


async def test_a_restart_ends_the_wrap_up_it_cut_short(center: Infolinia) -> None:
    """Wrap-up lives in the engine only. After a restart the calls whose wrap-up was cut short get the restart as
    their wrap-up end; those whose wrap-up time had passed, its end; calls of a queue without wrap-up, nothing."""
    tenant, queues, agent = await _demo(center)
    restart = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
    async with center.db.session() as s:
        with_wrapup, without = (await s.get(Queue, queues[0])), (await s.get(Queue, queues[1]))
        assert with_wrapup is not None and without is not None
        saved = (with_wrapup.wrapup_s, without.wrapup_s)
        with_wrapup.wrapup_s, without.wrapup_s = 30, 0

        def call(queue: int, ended_s_before: float, answered: bool = True) -> Interaction:
            ended = restart - timedelta(seconds=ended_s_before)
            return Interaction(
                tenant_id=tenant, channel="voice", direction="in", queue_id=queue, agent_id=agent,
                answered_at=ended - timedelta(seconds=60) if answered else None, ended_at=ended,
            )  # fmt: skip

        cut, passed, plain, missed = (
            call(queues[0], 10),
            call(queues[0], 45),
            call(queues[1], 10),
            call(queues[0], 5, False),
        )
        s.add_all([cut, passed, plain, missed])
        await s.commit()
        ids = [cut.id, passed.id, plain.id, missed.id]
    try:
        await RoutingService(center.db).load(restart)
        async with center.db.session() as s:
            ends = [(await s.get(Interaction, i)).wrapup_ended_at for i in ids]  # type: ignore[union-attr]
        assert ends == [restart, restart - timedelta(seconds=15), None, None]
    finally:
        async with center.db.session() as s:
            for queue, wrapup_s in zip(queues[:2], saved, strict=True):
                (await s.get(Queue, queue)).wrapup_s = wrapup_s  # type: ignore[union-attr]
            await s.commit()


async def test_a_restart_ends_the_calls_the_stopped_process_held(own_db: Database) -> None:
    """A call ends with the process that held it: an inbound call's task (waiting or answered) is closed as
    interrupted and its interaction ended; a callback being dialed waits again in its place (it is still to be
    made), not on its agent; other work assigned before the restart goes back on its agent."""
    tenant, queues, agent = await _demo(own_db)
    cut = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    restart = cut + timedelta(minutes=3)
    async with own_db.session() as s:
        calls = [
            Interaction(tenant_id=tenant, channel=channel, direction=direction, queue_id=queues[0], created_at=cut)
            for channel, direction in (("voice", "in"), ("voice", "in"), ("callback", "out"), ("chat", "in"))
        ]
        s.add_all(calls)
        await s.flush()
        answered, waiting, dialed, _chat = calls
        answered.agent_id, answered.answered_at = agent, cut
        rows = {
            name: RoutingTask(
                tenant_id=tenant,
                queue_id=queues[0],
                channel=channel,
                skills={},
                enqueued_at=cut,
                state=state,
                interaction_id=interaction.id if interaction else None,
                agent_id=agent if state == "assigned" else None,
                assigned_at=cut if state == "assigned" else None,
            )
            for name, channel, state, interaction in (
                ("answered", "voice", "assigned", answered),
                ("waiting", "voice", "waiting", waiting),
                ("callback", "callback", "assigned", dialed),
                ("email", "email", "assigned", None),
            )
        }
        s.add_all(rows.values())
        await s.commit()
        ids = {name: row.id for name, row in rows.items()}
        interactions = [c.id for c in calls]

    service = RoutingService(own_db)
    await service.load(restart)
    engine = service.engine
    assert ids["answered"] not in engine.tasks and ids["waiting"] not in engine.tasks
    assert engine.task_state(ids["callback"]) is TaskState.WAITING
    assert engine.task_state(ids["email"]) is TaskState.ASSIGNED and engine.tasks[ids["email"]].agent == agent
    async with own_db.session() as s:
        got = {name: await s.get(RoutingTask, task_id) for name, task_id in ids.items()}
        ends = [(i.ended_at, i.end_reason) for i in [await s.get(Interaction, n) for n in interactions] if i]
    assert [(got[n].state, got[n].outcome) for n in ("answered", "waiting")] == [("done", "interrupted")] * 2  # type: ignore[union-attr]
    assert (got["callback"].state, got["callback"].agent_id) == ("waiting", None)  # type: ignore[union-attr]
    assert [(e.replace(tzinfo=UTC) if e else None, r) for e, r in ends] == [(restart, "interrupted")] * 3 + [
        (None, None)
    ]


async def test_tasks_of_callbacks_settled_before_the_restart_are_closed_not_routed(own_db: Database) -> None:
    """A callback answered (recorded ``completed``) while its call was still up when the process stopped: its task,
    still assigned in the rows, is closed before the engine loads, so it is not offered with nothing to dial; a
    callback still to be made keeps its task."""
    tenant, queues, agent = await _demo(own_db)
    t = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    async with own_db.session() as s:
        tasks = [
            RoutingTask(tenant_id=tenant, queue_id=queues[0], channel="callback", skills={}, enqueued_at=t,
                        state=state, agent_id=agent if state == "assigned" else None)
            for state in ("assigned", "waiting")
        ]  # fmt: skip
        s.add_all(tasks)
        await s.flush()
        for task, status in zip(tasks, ("completed", "scheduled"), strict=True):
            s.add(Callback(
                tenant_id=tenant, queue_id=queues[0], number="+48600100200", source="api", requested_at=t, due_at=t,
                not_before=t, keep_by=t + timedelta(minutes=15), status=status, routing_task_id=task.id,
            ))  # fmt: skip
        await s.commit()
        answered, waiting = (task.id for task in tasks)
    assert await close_settled_tasks(own_db) == 1
    service = RoutingService(own_db)
    await service.load(t + timedelta(minutes=1))
    assert answered not in service.engine.tasks and waiting in service.engine.tasks
    async with own_db.session() as s:
        row = await s.get(RoutingTask, answered)
        assert row is not None and (row.state, row.outcome) == ("done", "exited:withdrawn")
