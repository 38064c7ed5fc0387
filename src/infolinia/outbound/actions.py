"""Callbacks through the one write path: requested, attempted, cancelled, and promises found broken.

A callback and the routing task of its next attempt are written in one transaction; the caller routes the task
after the commit (``RoutingService.route``), and a restart finds both rows if it came first. So a callback is
never only in memory, and never waits twice: a retry closes the old task before it makes the new one.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.customers.actions import customer_by_phone, record_consent
from infolinia.customers.identities import InvalidIdentity, normalize_phone
from infolinia.customers.windows import ContactWindow, stored
from infolinia.errors import Conflict, Invalid
from infolinia.events import EventBus
from infolinia.outbound.policy import CallbackPolicy, PolicyError
from infolinia.outbound.promise import Outcome, Promise, PromiseError, after_attempt, promise
from infolinia.schemas import CallbackAttemptIn, CallbackIn, ConsentIn
from infolinia.store.db import Database
from infolinia.store.models import (
    Callback,
    CampaignContact,
    ConsentPurpose,
    Customer,
    DoNotCall,
    RoutingTask,
    Tenant,
)
from infolinia.store.types import utcnow
from infolinia.store.uow import SYSTEM, Tx, write

log = logging.getLogger(__name__)

SOURCES = frozenset({"keep_place", "ivr", "max_wait", "web", "agent", "api"})
OPEN_TASK_STATES = ("scheduled", "waiting", "reserved", "assigned")


@dataclass(frozen=True)
class Written:
    """What an action wrote: the callback, the task to route after commit (a new attempt), the task to withdraw
    from the engine (the one that was open)."""

    callback: Callback
    route: RoutingTask | None = None
    withdraw: int | None = None


def policy_of(tenant: Tenant) -> CallbackPolicy:
    try:
        return CallbackPolicy.from_json(tenant.callback_policy or None)
    except PolicyError:  # validated on save; a row edited by hand falls back to the defaults
        return CallbackPolicy()


async def request_callback(
    tx: Tx,
    tenant: Tenant,
    data: CallbackIn,
    *,
    source: str,
    now: datetime | None = None,
    enqueued_at: datetime | None = None,
    interaction_id: int | None = None,
) -> Written:
    """A new callback and the task of its first attempt. ``enqueued_at``: the place in line it keeps (a caller who
    left a queue keeping their place); by default its earliest start. The caller checks that the queue, customer
    and agent are the tenant's."""
    if source not in SOURCES:
        raise ValueError(f"unknown callback source {source!r}")
    now = now or utcnow()
    policy = policy_of(tenant)
    try:
        number = normalize_phone(data.number, tenant.country)
    except InvalidIdentity as exc:
        raise Invalid(str(exc), code="invalid_number", details={"field": "number"}) from exc
    try:
        promised = promise(policy, now, data.at, timezone=tenant.timezone)
    except PromiseError as exc:
        raise Invalid(str(exc), code="invalid_time", details={"field": "at"}) from exc
    customer_id = data.customer_id or await customer_by_phone(tx.session, tenant.id, number)
    personal_until = promised.due + timedelta(minutes=policy.personal_wait_minutes) if data.personal_agent_id else None
    callback = Callback(
        tenant_id=tenant.id, queue_id=data.queue_id, customer_id=customer_id, number=number, reason=data.reason,
        source=source, language=data.language, priority=data.priority, requested_at=now, due_at=promised.due,
        not_before=promised.not_before, keep_by=promised.keep_by, personal_agent_id=data.personal_agent_id,
        personal_until=personal_until, status="scheduled", attempts=0, next_attempt_at=promised.not_before,
        interaction_id=interaction_id,
    )  # fmt: skip
    task = _task(callback, promised.not_before, now, enqueued_at or promised.not_before, personal_until)
    tx.session.add(task)
    await tx.session.flush()
    callback.routing_task_id = task.id
    tx.session.add(callback)
    await tx.session.flush()
    tx.audit(tenant.id, "callback.requested", "callback", callback.id, source=source, scheduled=data.at is not None)
    tx.emit("callback.requested", tenant.id, id=callback.id, queue_id=callback.queue_id, source=source)
    return Written(callback, route=task)


async def record_attempt(
    tx: Tx, tenant: Tenant, callback: Callback, data: CallbackAttemptIn, agent_id: int | None = None
) -> Written:
    """An attempt and its outcome: the promise judged on the first one, then a retry's task, or the end.
    ``agent_id``: the agent on the call, who may then set its disposition (``desk.dispose``)."""
    if callback.status != "scheduled":
        raise Conflict(f"callback {callback.id} is {callback.status}", code="callback_closed")
    now = utcnow()
    started, ended = data.started_at or now, data.ended_at or now
    if ended < started:
        raise Invalid("ended_at is before started_at", details={"field": "ended_at"})
    outcome = Outcome(data.outcome)
    callback.attempts += 1
    callback.last_outcome = outcome.value
    callback.last_agent_id, callback.disposition = agent_id, None
    if callback.first_attempt_at is None:
        callback.first_attempt_at = started
        if callback.promise_kept is None:  # a broken promise found earlier stays broken
            kept = Promise(callback.not_before, callback.due_at, callback.keep_by).kept_by(started)
            callback.promise_kept = kept
    withdraw = await close_task(tx.session, callback.routing_task_id)
    route = await next_step(tx, tenant, callback, outcome, ended, later=data.later, note=data.note)
    tx.audit(tenant.id, "callback.attempted", "callback", callback.id, outcome=outcome.value, status=callback.status)
    tx.emit("callback.updated", tenant.id, id=callback.id, status=callback.status, outcome=outcome.value)
    return Written(callback, route=route, withdraw=withdraw)


async def next_step(
    tx: Tx,
    tenant: Tenant,
    callback: Callback,
    outcome: Outcome,
    ended: datetime,
    *,
    later: datetime | None = None,
    note: str | None = None,
) -> RoutingTask | None:
    """What the outcome of the callback's latest attempt (``callback.attempts``) leads to: the task of the next
    attempt (returned, to route after commit), or the end (its status); "stop" withdraws the consent."""
    windows, timezone = await _contact_windows(tx.session, tenant, callback.customer_id)
    policy = policy_of(tenant)
    try:
        step = after_attempt(
            policy, outcome, callback.attempts, ended, later=later, windows=windows, timezone=timezone,
            tenant_timezone=tenant.timezone,
        )  # fmt: skip
    except PromiseError as exc:
        raise Invalid(str(exc), code="invalid_time", details={"field": "later"}) from exc
    route = None
    if step.status == "scheduled":
        assert step.at is not None
        until = step.at + timedelta(minutes=policy.personal_wait_minutes) if callback.personal_agent_id else None
        route = _task(callback, step.at, utcnow(), step.at, until)
        tx.session.add(route)
        await tx.session.flush()
        callback.routing_task_id, callback.next_attempt_at, callback.status = route.id, step.at, "scheduled"
    else:
        callback.status, callback.next_attempt_at = step.status, None
    if outcome is Outcome.STOP:
        await stop_calling(tx, tenant.id, callback.customer_id, callback.number, f"callback {callback.id}", note)
    await tx.session.flush()
    return route


async def cancel_callback(tx: Tx, callback: Callback, reason: str) -> Written:
    if callback.status != "scheduled":
        raise Conflict(f"callback {callback.id} is {callback.status}", code="callback_closed")
    callback.status, callback.next_attempt_at = "cancelled", None
    withdraw = await close_task(tx.session, callback.routing_task_id)
    await tx.session.flush()
    tx.audit(callback.tenant_id, "callback.cancelled", "callback", callback.id, reason=reason)
    tx.emit("callback.updated", callback.tenant_id, id=callback.id, status="cancelled", outcome=None)
    return Written(callback, withdraw=withdraw)


async def mark_broken_promises(tx: Tx, now: datetime | None = None) -> list[int]:
    """Callbacks still waiting for their first attempt after ``keep_by``: their promise is broken, whatever
    happens next (live and in reports at once, not when the call finally comes)."""
    now = now or utcnow()
    rows = (
        await tx.session.execute(
            select(Callback.id, Callback.tenant_id).where(
                Callback.status == "scheduled",
                Callback.attempts == 0,
                Callback.promise_kept.is_(None),
                Callback.keep_by < now,
            )
        )
    ).all()
    if rows:
        await tx.session.execute(
            update(Callback).where(Callback.id.in_([r.id for r in rows])).values(promise_kept=False, updated_at=now)
        )
    for row in rows:
        tx.emit("callback.promise_broken", row.tenant_id, id=row.id)
    return [row.id for row in rows]


async def watch_promises(db: Database, bus: EventBus | None, interval_s: float = 15.0) -> None:
    """Forever: every ``interval_s``, mark the promises that just broke (``mark_broken_promises``)."""
    while True:
        try:
            async with write(db, bus, SYSTEM) as tx:
                broken = await mark_broken_promises(tx)
            if broken:
                log.warning("callbacks %s: promise broken (no attempt by the promised time)", broken)
        except Exception:  # a database hiccup must not stop the watch
            log.exception("checking callback promises failed")
        await asyncio.sleep(interval_s)


async def stop_calling(
    tx: Tx, tenant_id: int, customer_id: int | None, number: str, where: str, note: str | None = None
) -> None:
    """ "Stop calling me", said on a call, so that no campaign calls again, from this moment on:

    - the customer's phone-marketing consent withdrawn (audited, as every consent change; none for a caller who is
      no customer);
    - the number put on the tenant's do-not-call list, which every campaign, service ones too, checks before
      every call;
    - the contacts still waiting in any of the tenant's campaigns for that number or customer closed (``stop``).
      One being called right now is stopped by the check before its customer is dialed.

    A callback the customer asks for later is still made: the list is for campaigns."""
    customer = None if customer_id is None else await tx.session.get(Customer, customer_id)
    if customer is not None and customer.erased_at is None:
        withdrawal = ConsentIn(
            purpose=ConsentPurpose.MARKETING_PHONE, granted=False, channel="voice",
            source=f"{where}: asked not to be called", note=note,
        )  # fmt: skip
        await record_consent(tx, customer, withdrawal)
    listed = await tx.session.scalar(
        select(DoNotCall).where(DoNotCall.tenant_id == tenant_id, DoNotCall.number == number)
    )
    if listed is None:
        listed = DoNotCall(tenant_id=tenant_id, number=number, reason=f"asked not to be called ({where})"[:200])
        tx.session.add(listed)
        await tx.session.flush()
        tx.audit(tenant_id, "do_not_call.added", "do_not_call", listed.id, where=where)
        tx.emit("do_not_call.changed", tenant_id, id=listed.id)
    whose = CampaignContact.number == number
    if customer_id is not None:
        whose = whose | (CampaignContact.customer_id == customer_id)
    waiting = list(
        await tx.session.scalars(
            select(CampaignContact).where(
                CampaignContact.tenant_id == tenant_id, CampaignContact.status == "pending", whose
            )
        )
    )
    for contact in waiting:
        contact.status, contact.closed_reason, contact.next_attempt_at = "closed", "stop", None
    for campaign_id in sorted({c.campaign_id for c in waiting}):
        tx.audit(tenant_id, "campaign.contact_closed", "campaign", campaign_id, reason="stop", where=where)
        tx.emit("campaign.updated", tenant_id, id=campaign_id, fields=["contacts"])
    await tx.session.flush()


# --- helpers -------------------------------------------------------------------------------------------------


def _task(
    callback: Callback, not_before: datetime, now: datetime, enqueued_at: datetime, personal_until: datetime | None
) -> RoutingTask:
    later = not_before > now
    return RoutingTask(
        tenant_id=callback.tenant_id, queue_id=callback.queue_id, channel="callback", skills={},
        language=callback.language, priority=callback.priority, enqueued_at=enqueued_at,
        not_before=not_before if later else None, preferred_agent_id=callback.personal_agent_id,
        preferred_until=personal_until, interaction_id=callback.interaction_id, callback_number=callback.number,
        state="scheduled" if later else "waiting",
    )  # fmt: skip


async def close_task(session: AsyncSession, task_id: int | None) -> int | None:
    """An open task of a callback or a campaign contact, to be withdrawn (or completed) in the engine after commit:
    its id, or None when it is not open. The row is closed here too, so a restart before the engine hears of it does
    not route it again."""
    if task_id is None:
        return None
    task = await session.get(RoutingTask, task_id)
    if task is None or task.state not in OPEN_TASK_STATES:
        return None
    task.state, task.outcome = "done", "exited:withdrawn"
    return task_id


async def _contact_windows(
    session: AsyncSession, tenant: Tenant, customer_id: int | None
) -> tuple[tuple[ContactWindow, ...], str]:
    customer = None if customer_id is None else await session.get(Customer, customer_id)
    if customer is None:
        return (), tenant.timezone
    return stored(customer.contact_windows), customer.timezone or tenant.timezone


async def close_settled_tasks(db: Database) -> int:
    """Before the routing engine is loaded: close the open tasks of callbacks and campaign contacts that are settled
    already (a callback completed or cancelled, a contact done or closed), e.g. the task of a call whose answer was
    recorded when the process stopped during the conversation. Restored, such a task would be offered with nothing
    left to dial. How many were closed."""
    async with db.session() as s:
        settled_callbacks = select(Callback.routing_task_id).where(Callback.status != "scheduled")
        settled_contacts = select(CampaignContact.routing_task_id).where(CampaignContact.status != "calling")
        open_tasks = RoutingTask.state.in_(OPEN_TASK_STATES)
        closed = await s.execute(
            update(RoutingTask)
            .where(open_tasks, RoutingTask.id.in_(settled_callbacks) | RoutingTask.id.in_(settled_contacts))
            .values(state="done", outcome="exited:withdrawn")
        )
        await s.commit()
    return int(getattr(closed, "rowcount", 0) or 0)
