"""Callbacks: promised calls to customers (``outbound/``). Each write commits the callback with the task of its
next attempt, then hands that task to the routing engine."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from infolinia.api.deps import Access, access
from infolinia.errors import Invalid
from infolinia.outbound import actions, desk, stats
from infolinia.schemas import (
    CallbackAttemptIn,
    CallbackCancelIn,
    CallbackIn,
    CallbackOut,
    CallbackStats,
    CallbackStatus,
    Cursor,
    DispositionIn,
    DispositionOut,
    Id,
    Page,
    UtcDatetime,
)
from infolinia.store.models import Callback, Customer, Queue, RoutingTask, User
from infolinia.store.refs import require_in_tenant
from infolinia.store.types import utcnow

router = APIRouter(tags=["callbacks"])


async def _hand_over(a: Access, written: actions.Written) -> CallbackOut:
    """After the commit: withdraw the task that was open, route the new one; the callback as it now is."""
    out = CallbackOut.model_validate(written.callback)
    await routing_after(a, [written.withdraw] if written.withdraw else [], [written.route] if written.route else [])
    return out


async def routing_after(a: Access, withdraw: list[int], route: list[RoutingTask]) -> None:
    """After a commit: the tasks closed are taken out of the routing engine (an agent's is completed), the new
    ones routed."""
    await a.session.close()  # the routing service writes through its own sessions
    for task_id in withdraw:
        await a.routing.cancel(task_id, reason="withdrawn")
    if route:
        await a.routing.route(route)


async def disposed(a: Access, done: desk.Disposed) -> DispositionOut:
    out = DispositionOut.model_validate(done.row)
    out.status = done.status
    await routing_after(a, done.withdraw, done.route)
    return out


@router.post("/callbacks", response_model=CallbackOut, status_code=201)
async def request_callback(body: CallbackIn, a: Access = Depends(access("callbacks.write"))) -> CallbackOut:
    """A callback as soon as possible, or at ``at``; personal when ``personal_agent_id`` is given."""
    refs = {
        "queue_id": (Queue, body.queue_id),
        "customer_id": (Customer, body.customer_id),
        "personal_agent_id": (User, body.personal_agent_id),
    }
    await require_in_tenant(a.session, a.tenant.id, refs)
    source = "agent" if a.actor.user_id == body.personal_agent_id else "api"
    async with a.write() as tx:
        written = await actions.request_callback(tx, a.tenant, body, source=source)
    return await _hand_over(a, written)


@router.get("/callbacks", response_model=Page[CallbackOut])
async def list_callbacks(
    a: Access = Depends(access("callbacks.read")),
    status: CallbackStatus | None = None,
    queue_id: Id | None = None,
    customer_id: Id | None = None,
    due_before: UtcDatetime | None = None,
    promise_kept: bool | None = None,
    limit: int = Query(100, ge=1, le=500),
    after: Cursor | None = None,
) -> Page[CallbackOut]:
    """The tenant's callbacks by id, filtered; ``due_before`` selects those promised for earlier."""
    query = select(Callback).where(Callback.tenant_id == a.tenant.id)
    for column, value in ((Callback.status, status), (Callback.queue_id, queue_id),
                          (Callback.customer_id, customer_id), (Callback.promise_kept, promise_kept)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    if due_before is not None:
        query = query.where(Callback.due_at < due_before)
    if after is not None:
        query = query.where(Callback.id > after)
    rows = list(await a.session.scalars(query.order_by(Callback.id).limit(limit + 1)))
    more = len(rows) > limit
    items = [CallbackOut.model_validate(row) for row in rows[:limit]]
    return Page[CallbackOut](items=items, next_cursor=items[-1].id if more else None)


@router.get("/callbacks/stats", response_model=CallbackStats)
async def callback_stats(
    a: Access = Depends(access("callbacks.read")),
    since: UtcDatetime | None = None,
    until: UtcDatetime | None = None,
    queue_id: Id | None = None,
) -> CallbackStats:
    """The callbacks promised for ``since``..``until`` (their ``due_at``; by default today in the tenant's time zone,
    up to now): how many, by status and source, and how many promises were kept."""
    now = utcnow()
    since = since or stats.today_start(now, a.tenant.timezone)
    until = until or now
    if until <= since:
        raise Invalid("until must be after since", details={"field": "until"})
    return await stats.promise_stats(a.session, a.tenant.id, since, until, queue_id)


@router.get("/callbacks/{callback_id}", response_model=CallbackOut)
async def get_callback(callback_id: int, a: Access = Depends(access("callbacks.read"))) -> CallbackOut:
    return CallbackOut.model_validate(a.obj("callback_id"))


@router.post("/callbacks/{callback_id}/attempts", response_model=CallbackOut)
async def record_attempt(
    callback_id: int, body: CallbackAttemptIn, a: Access = Depends(access("callbacks.write"))
) -> CallbackOut:
    """The outcome of a call to the customer: the callback is done, tried again later, or given up."""
    async with a.write() as tx:
        written = await actions.record_attempt(tx, a.tenant, a.obj("callback_id"), body, a.actor.user_id)
    return await _hand_over(a, written)


@router.post("/callbacks/{callback_id}/cancel", response_model=CallbackOut)
async def cancel_callback(
    callback_id: int, body: CallbackCancelIn, a: Access = Depends(access("callbacks.write"))
) -> CallbackOut:
    async with a.write() as tx:
        written = await actions.cancel_callback(tx, a.obj("callback_id"), body.reason)
    return await _hand_over(a, written)


@router.post("/callbacks/{callback_id}/disposition", response_model=DispositionOut, status_code=201)
async def dispose_callback(
    callback_id: int, body: DispositionIn, a: Access = Depends(access("callbacks.write"))
) -> DispositionOut:
    """What came of the call, set by the agent who handled it (or a supervisor): the callback is closed, tried
    again, or followed by a new one ("later"), per the retry policy."""
    async with a.write() as tx:
        done = await desk.dispose_callback(tx, a.tenant, a.actor, a.obj("callback_id"), body)
    return await disposed(a, done)
