"""The agent's desk for outbound calls: the disposition of a callback's or campaign contact's call, through the one
write path (``disposition.py`` says what each code means).

A disposition is due for the latest attempt an agent talked on (the dialer recorded it ``connected``, with that
agent), or for a callback task the agent holds and calls by hand (accepted, no attempt recorded yet: the disposition
records it). Only that agent may set it, or a user holding ``outbound.supervise`` for them; once set it is final
for that attempt. The disposition is stored (``dispositions``), the callback or contact changes as the retry policy
says, and the write is audited and announced after commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.access import Actor, can
from infolinia.errors import Conflict, Forbidden, Invalid
from infolinia.outbound.actions import Written, next_step, record_attempt, request_callback, stop_calling
from infolinia.outbound.disposition import DispositionError, later_at, outcome_of
from infolinia.outbound.promise import Outcome
from infolinia.outbound.targets import settle
from infolinia.schemas import CallbackAttemptIn, CallbackIn, DispositionIn
from infolinia.store.models import Callback, Campaign, CampaignContact, Customer, Disposition, RoutingTask, Tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx

__all__ = ["Disposed", "dispose_callback", "dispose_contact"]

#: what lets a user set the disposition of another agent's call
SUPERVISE = "outbound.supervise"


@dataclass
class Disposed:
    """What a disposition wrote: its row, the status it left, and the routing work for after the commit."""

    row: Disposition
    status: str
    route: list[RoutingTask] = field(default_factory=list)
    withdraw: list[int] = field(default_factory=list)


def _holder_check(actor: Actor, holder: int | None) -> None:
    if holder is None or (actor.user_id != holder and not can(actor, SUPERVISE)):
        raise Forbidden("only the agent who handled the call, or a supervisor, sets its disposition")


async def dispose_callback(
    tx: Tx, tenant: Tenant, actor: Actor, callback: Callback, data: DispositionIn, now: datetime | None = None
) -> Disposed:
    now = now or utcnow()
    s = tx.session
    task = None if callback.routing_task_id is None else await s.get(RoutingTask, callback.routing_task_id)
    held_open = callback.status == "scheduled" and task is not None and task.state == "assigned"
    if held_open:  # called by hand: the disposition records the attempt
        assert task is not None
        holder = task.agent_id
    elif callback.last_agent_id is not None and callback.disposition is None and callback.last_outcome == "connected":
        holder = callback.last_agent_id
    else:
        raise Conflict(f"no call of callback {callback.id} awaits a disposition", code="no_call_to_dispose")
    _holder_check(actor, holder)
    zone = await _zone(s, tenant, callback.customer_id, None)
    later = _later(data, now, zone)
    outcome = Outcome(outcome_of(data.code))
    done = Disposed(Disposition(), "")
    if held_open:
        body = CallbackAttemptIn(outcome=outcome.value, started_at=task.assigned_at if task else None, note=data.note)
        written = await record_attempt(tx, tenant, callback, body, holder)
        done.route += [written.route] if written.route else []
        done.withdraw += [written.withdraw] if written.withdraw else []
    elif outcome is not Outcome.CONNECTED:  # the dialer recorded a connected call: the agent says otherwise
        callback.last_outcome = outcome.value
        route = await next_step(tx, tenant, callback, outcome, now, note=data.note)
        done.route += [route] if route else []
    callback.disposition = data.code
    follow_up = None
    if later is not None:
        follow_up = await _callback_later(
            tx, tenant, callback.queue_id, callback.number, callback.customer_id, callback.reason, later,
            holder if data.personal else None, callback.language, done,
        )  # fmt: skip
    done.row = await _store(
        tx, tenant, holder, actor, data, callback.attempts, later, follow_up, callback_id=callback.id
    )
    done.status = callback.status
    tx.audit(tenant.id, "callback.disposed", "callback", callback.id, code=data.code, status=callback.status)
    tx.emit("callback.updated", tenant.id, id=callback.id, status=callback.status, outcome=callback.last_outcome)
    return done


async def dispose_contact(
    tx: Tx,
    tenant: Tenant,
    actor: Actor,
    campaign: Campaign,
    contact: CampaignContact,
    data: DispositionIn,
    now: datetime | None = None,
) -> Disposed:
    now = now or utcnow()
    if contact.last_agent_id is None or contact.disposition is not None or contact.last_outcome != "connected":
        raise Conflict(f"no call of contact {contact.id} awaits a disposition", code="no_call_to_dispose")
    holder = contact.last_agent_id
    _holder_check(actor, holder)
    zone = await _zone(tx.session, tenant, contact.customer_id, contact.timezone)
    later = _later(data, now, zone)
    outcome = outcome_of(data.code)
    done = Disposed(Disposition(), "")
    if outcome != "connected":
        settle(contact, outcome)
        if outcome == "stop":
            await stop_calling(
                tx, tenant.id, contact.customer_id, contact.number, f"campaign {campaign.name}", data.note
            )
    elif data.code in ("not_interested", "later"):
        contact.last_outcome = data.code  # a talk that ends the contact's calls, with its reason
    contact.disposition = data.code
    follow_up = None
    if later is not None:
        reason = f"campaign {campaign.name}: asked to be called back"
        follow_up = await _callback_later(
            tx, tenant, campaign.queue_id, contact.number, contact.customer_id, reason, later,
            holder if data.personal else None, None, done,
        )  # fmt: skip
    done.row = await _store(tx, tenant, holder, actor, data, contact.attempts, later, follow_up, contact_id=contact.id)
    done.status = contact.status
    tx.audit(tenant.id, "campaign.contact_disposed", "campaign", campaign.id, contact=contact.id, code=data.code)
    tx.emit("campaign.updated", tenant.id, id=campaign.id, fields=["contacts"])
    return done


# --- helpers -------------------------------------------------------------------------------------------------


def _later(data: DispositionIn, now: datetime, zone: str) -> datetime | None:
    if data.code != "later":
        return None
    assert data.time is not None  # the schema requires it
    try:
        return later_at(now, data.time, zone, data.date)
    except DispositionError as exc:
        raise Invalid(str(exc), code="invalid_time", details={"field": "time"}) from exc


async def _zone(s: AsyncSession, tenant: Tenant, customer_id: int | None, own: str | None) -> str:
    """Whose clock "later at HH:MM" is read on: the contact's own zone, else the customer's, else the tenant's."""
    customer = None if customer_id is None else await s.get(Customer, customer_id)
    return own or (customer.timezone if customer is not None else None) or tenant.timezone


async def _callback_later(
    tx: Tx,
    tenant: Tenant,
    queue_id: int,
    number: str,
    customer_id: int | None,
    reason: str | None,
    at: datetime,
    personal_agent_id: int | None,
    language: str | None,
    done: Disposed,
) -> int:
    body = CallbackIn(
        queue_id=queue_id, number=number, customer_id=customer_id, reason=reason, at=at,
        personal_agent_id=personal_agent_id, language=language,
    )  # fmt: skip
    written: Written = await request_callback(tx, tenant, body, source="agent")
    done.route += [written.route] if written.route else []
    return written.callback.id


async def _store(
    tx: Tx,
    tenant: Tenant,
    holder: int | None,
    actor: Actor,
    data: DispositionIn,
    attempt: int,
    later: datetime | None,
    follow_up: int | None,
    *,
    callback_id: int | None = None,
    contact_id: int | None = None,
) -> Disposition:
    row = Disposition(
        tenant_id=tenant.id, callback_id=callback_id, contact_id=contact_id, agent_id=holder, set_by_id=actor.user_id,
        code=data.code, attempt=attempt, later_at=later, follow_up_callback_id=follow_up, note=data.note,
    )  # fmt: skip
    tx.session.add(row)
    await tx.session.flush()
    return row
