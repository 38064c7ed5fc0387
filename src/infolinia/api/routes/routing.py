"""Routing: tasks waiting for agents, agents' presence, queue statistics (the live stream: ``live.py``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from infolinia.api.deps import Access, access
from infolinia.cases.actions import assign_from_task
from infolinia.errors import Conflict, Invalid
from infolinia.routing.engine import RoutingError
from infolinia.routing.model import Presence
from infolinia.routing.service import RoutingService
from infolinia.schemas import Cursor, Id, Page, PresenceIn, TaskIn, TaskOut
from infolinia.store.models import AgentProfile, Interaction, Queue, RoutingTask, User
from infolinia.store.refs import require_in_tenant
from infolinia.store.types import utcnow

router = APIRouter(tags=["routing"])


def service(a: Access) -> RoutingService:
    return a.routing


def task_view(a: Access, row: RoutingTask) -> TaskOut:
    out = TaskOut.model_validate(row)
    engine = service(a).engine
    out.position = engine.position(row.id)
    out.estimated_wait_s = engine.estimated_wait(row.id)
    return out


async def _check_links(a: Access, body: TaskIn) -> None:
    """The queue, preferred agent and interaction must exist in the caller's tenant (422 naming the field)."""
    refs = {
        "queue_id": (Queue, body.queue_id),
        "preferred_agent_id": (User, body.preferred_agent_id),
        "interaction_id": (Interaction, body.interaction_id),
    }
    await require_in_tenant(a.session, a.tenant.id, refs)


@router.post("/tasks", response_model=TaskOut, status_code=201)
async def create_task(body: TaskIn, a: Access = Depends(access("tasks.write"))) -> TaskOut:
    await _check_links(a, body)
    row = RoutingTask(tenant_id=a.tenant.id, enqueued_at=utcnow(), **body.model_dump())
    await a.session.close()  # the service writes through its own sessions
    await service(a).add_tasks([row])
    fresh = await a.session.get(RoutingTask, row.id)
    assert fresh is not None
    return task_view(a, fresh)


@router.get("/tasks", response_model=Page[TaskOut])
async def list_tasks(
    a: Access = Depends(access("tasks.read")),
    state: str | None = Query(None, pattern="^(scheduled|waiting|reserved|assigned|done)$"),
    queue_id: Id | None = None,
    limit: int = Query(100, ge=1, le=500),
    after: Cursor | None = None,
) -> Page[TaskOut]:
    query = select(RoutingTask).where(RoutingTask.tenant_id == a.tenant.id)
    if state is not None:
        query = query.where(RoutingTask.state == state)
    if queue_id is not None:
        query = query.where(RoutingTask.queue_id == queue_id)
    if after is not None:
        query = query.where(RoutingTask.id > after)
    rows = list(await a.session.scalars(query.order_by(RoutingTask.id).limit(limit)))
    return Page(items=[task_view(a, r) for r in rows], next_cursor=rows[-1].id if len(rows) == limit else None)


@router.get("/tasks/{task_id}", response_model=TaskOut)
async def get_task(task_id: int, a: Access = Depends(access("tasks.read"))) -> TaskOut:
    return task_view(a, a.obj("task_id"))


async def _refresh(a: Access, task_id: int) -> TaskOut:
    a.session.expire_all()
    row = await a.session.get(RoutingTask, task_id)
    assert row is not None
    return task_view(a, row)


@router.delete("/tasks/{task_id}", response_model=TaskOut)
async def cancel_task(task_id: int, a: Access = Depends(access("tasks.write"))) -> TaskOut:
    """The contact went away or was withdrawn."""
    if a.obj("task_id").state == "done":
        raise Conflict("the task is already done", code="task_done")
    await _engine_call(a, "cancel", task_id)
    return await _refresh(a, task_id)


async def _engine_call(a: Access, method: str, task_id: int) -> None:
    # end the request's read transaction first, so that its pooled connection is not held while the routing
    # engine's lock is awaited: a burst of accepts would otherwise take the whole pool (objects stay loaded)
    await a.session.commit()
    try:
        await getattr(service(a), method)(task_id)
    except RoutingError as exc:
        raise Conflict(str(exc), code="routing_conflict") from exc


async def _handle(a: Access, task_id: int, method: str, states: tuple[str, ...]) -> TaskOut:
    row: RoutingTask = a.obj("task_id")
    if row.agent_id != a.actor.user_id or row.state not in states:
        raise Conflict(f"task {task_id} is not {' or '.join(states)} to you", code="not_your_task")
    await _engine_call(a, method, task_id)
    return await _refresh(a, task_id)


@router.post("/tasks/{task_id}/accept", response_model=TaskOut)
async def accept_task(task_id: int, a: Access = Depends(access("tasks.handle"))) -> TaskOut:
    """Accept a task offered to oneself; a case's task (or an e-mail's, which waits for its case) makes the case one's
    own (``cases/``); a chat's opens the chat for oneself (``channels/chat``)."""
    out = await _handle(a, task_id, "accept", ("reserved",))
    row: RoutingTask = a.obj("task_id")
    if row.channel in ("case", "email"):
        async with a.write() as tx:
            await assign_from_task(tx, row, a.actor.user_id)
    elif row.channel == "chat":  # the chat opens for the agent (channels/chat)
        await a.session.close()
        await a.request.app.state.ctx.chat.accepted(row, a.actor.user_id)
    return out


@router.post("/tasks/{task_id}/decline", response_model=TaskOut)
async def decline_task(task_id: int, a: Access = Depends(access("tasks.handle"))) -> TaskOut:
    return await _handle(a, task_id, "decline", ("reserved",))


@router.post("/tasks/{task_id}/complete", response_model=TaskOut)
async def complete_task(task_id: int, a: Access = Depends(access("tasks.handle"))) -> TaskOut:
    return await _handle(a, task_id, "complete", ("assigned",))


async def _set_presence(a: Access, user_id: int, body: PresenceIn) -> dict[str, object]:
    if await a.session.get(AgentProfile, user_id) is None or user_id not in service(a).engine.agents:
        raise Invalid("this user has no agent profile", code="not_an_agent")
    await a.session.commit()  # no pooled connection held while the routing lock is awaited (see _engine_call)
    try:
        await service(a).set_presence(user_id, Presence(body.presence), body.reason)
    except RoutingError as exc:
        raise Conflict(str(exc), code="routing_conflict") from exc
    return {"user_id": user_id, "state": service(a).engine.agent_state(user_id).value}


@router.put("/me/presence")
async def set_my_presence(body: PresenceIn, a: Access = Depends(access("presence.self"))) -> dict[str, object]:
    return await _set_presence(a, a.actor.user_id, body)


@router.put("/agents/{user_id}/presence")
async def set_agent_presence(
    user_id: int, body: PresenceIn, a: Access = Depends(access("presence.manage"))
) -> dict[str, object]:
    return await _set_presence(a, user_id, body)


@router.get("/queues/{queue_id}/stats")
async def queue_stats(queue_id: int, a: Access = Depends(access("queues.read"))) -> dict[str, object]:
    await a.session.close()  # the service writes through its own sessions (timers may fire)
    stats = await service(a).queue_stats(queue_id)
    return stats if stats is not None else {"queue": queue_id, "waiting": 0, "agents": {}}
