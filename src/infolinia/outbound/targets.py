"""Whom an outbound call for a routing task is for: a callback, or a campaign's contact; the check right before
the customer is dialed, and the attempt's outcome written back (``voice/calls/callback_call.py`` uses these).

A callback the customer asked for is always dialed. A campaign contact is checked again at that moment
(``campaigns.eligibility``): a consent withdrawn or a number listed while the agent's phone rang stops the call
before any INVITE reaches the customer.

A contact of a ``preview`` campaign is first shown to its agent (``show_preview``: ``preview_until`` set), who dials
it or skips it (``end_preview``); a skipped contact goes back to ``pending`` for the campaign's spacing, with no
attempt counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.events import EventBus
from infolinia.outbound.actions import close_task, next_step, policy_of, record_attempt, stop_calling
from infolinia.outbound.campaigns import eligibility
from infolinia.outbound.promise import Outcome
from infolinia.schemas import CallbackAttemptIn
from infolinia.store.db import Database
from infolinia.store.models import Callback, Campaign, CampaignContact, RoutingTask, Tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx, Who, write

__all__ = [
    "Preview", "Target", "contact_of", "end_preview", "machine_answered", "may_dial", "note_outcome", "record",
    "show_preview", "target_of",
]  # fmt: skip

DIALER = Who(None, "dialer")
#: a contact's outcome -> its status afterwards (anything else: pending, for the next attempt)
_CONTACT_END = {"connected": "done", "wrong_number": "closed", "stop": "closed"}


@dataclass(frozen=True)
class Preview:
    """A preview campaign's settings: how long the agent has to dial or skip, and what happens then."""

    timeout_s: float
    on_timeout: Literal["skip", "dial"]


@dataclass(frozen=True)
class Target:
    kind: Literal["callback", "contact"]
    id: int
    tenant_id: int
    number: str  # E.164
    customer_id: int | None
    queue_id: int
    reason: str | None
    queued_at: datetime  # when it began to wait for an agent
    preview: Preview | None = None  # a contact of a preview campaign: shown to the agent before it is dialed
    detect_machines: bool = False  # listen for an answering machine after the answer (``amd.py``)


async def target_of(session: AsyncSession, tenant_id: int, task_id: int) -> Target | None:
    """The callback (still scheduled) or the campaign contact (being called) whose task this is; None if neither."""
    callback = await session.scalar(
        select(Callback).where(
            Callback.tenant_id == tenant_id, Callback.routing_task_id == task_id, Callback.status == "scheduled"
        )
    )
    if callback is not None:
        tenant = await session.get(Tenant, tenant_id)
        detect = tenant is not None and policy_of(tenant).detect_machines
        return Target(
            "callback", callback.id, tenant_id, callback.number, callback.customer_id, callback.queue_id,
            callback.reason, callback.not_before, detect_machines=detect,
        )  # fmt: skip
    found = (
        await session.execute(
            select(CampaignContact, Campaign)
            .join(Campaign, Campaign.id == CampaignContact.campaign_id)
            .where(
                CampaignContact.tenant_id == tenant_id,
                CampaignContact.routing_task_id == task_id,
                CampaignContact.status == "calling",
            )
        )
    ).first()
    if found is None:
        return None
    contact, campaign = found
    preview = None
    if campaign.mode == "preview":
        preview = Preview(
            float(campaign.preview_timeout_s), "dial" if campaign.preview_timeout_action == "dial" else "skip"
        )
    return Target(
        "contact", contact.id, tenant_id, contact.number, contact.customer_id, campaign.queue_id,
        f"campaign {campaign.name}", contact.updated_at, preview, campaign.detect_machines,
    )  # fmt: skip


async def may_dial(db: Database, bus: EventBus | None, target: Target, now: datetime) -> str | None:
    """None when the customer may be dialed now; else why not (the contact is closed, or waits, accordingly)."""
    if target.kind == "callback":
        return None
    async with write(db, bus, DIALER) as tx:
        found = await contact_of(tx, target)
        if found is None or found[0].status != "calling":
            return "gone"
        contact, campaign, tenant = found
        verdict = await eligibility(tx.session, tenant, campaign, contact, now)
        if verdict.allowed:
            return None
        if verdict.never:
            contact.status, contact.closed_reason = "closed", verdict.reason
        else:
            contact.status, contact.next_attempt_at = "pending", verdict.at
        await _release_task(tx, contact)
        tx.audit(tenant.id, "campaign.call_stopped", "campaign", campaign.id, reason=verdict.reason)
        tx.emit("campaign.updated", tenant.id, id=campaign.id, fields=["contacts"])
        return verdict.reason


async def record(
    db: Database, bus: EventBus | None, target: Target, outcome: str, started: datetime, agent_id: int | None = None
) -> RoutingTask | None:
    """The attempt's outcome written back; the task of a retry to route, if the attempt made one. ``agent_id``:
    the agent on the call, who may then set its disposition."""
    async with write(db, bus, DIALER) as tx:
        if target.kind == "callback":
            tenant = await tx.session.get(Tenant, target.tenant_id)
            row = await tx.session.get(Callback, target.id)
            if tenant is None or row is None or row.status != "scheduled":
                return None
            body = CallbackAttemptIn.model_validate({"outcome": outcome, "started_at": started})
            return (await record_attempt(tx, tenant, row, body, agent_id)).route
        found = await contact_of(tx, target)
        if found is not None:
            await note_outcome(tx, *found, outcome, started, agent_id)
        return None


async def note_outcome(
    tx: Tx,
    contact: CampaignContact,
    campaign: Campaign,
    tenant: Tenant,
    outcome: str,
    started: datetime,
    agent_id: int | None = None,
) -> None:
    """A campaign contact's attempt written to it (its task closed): ``connected`` makes it done, ``wrong_number``
    and ``stop`` close it, anything else leaves it for the next attempt; ``agent_id``: who took the call."""
    contact.attempts += 1
    contact.last_attempt_at, contact.last_agent_id, contact.disposition = started, agent_id, None
    contact.preview_until = None
    settle(contact, outcome)
    await _release_task(tx, contact)
    if outcome == "stop":
        await stop_calling(tx, tenant.id, contact.customer_id, contact.number, f"campaign {campaign.name}")
    tx.audit(tenant.id, "campaign.attempted", "campaign", campaign.id, outcome=outcome, status=contact.status)
    tx.emit("campaign.updated", tenant.id, id=campaign.id, fields=["contacts"])


def settle(contact: CampaignContact, outcome: str) -> None:
    """The contact after an attempt with ``outcome``: done, closed, or pending for the next attempt."""
    contact.last_outcome = outcome
    contact.status = _CONTACT_END.get(outcome, "pending")
    contact.closed_reason = outcome if contact.status == "closed" else None
    contact.next_attempt_at = None  # the spacing from last_attempt_at decides


async def machine_answered(db: Database, bus: EventBus | None, target: Target) -> RoutingTask | None:
    """An answering machine took the call recorded ``connected`` at the answer: the attempt becomes ``voicemail``
    unless the agent has set a disposition meanwhile. A contact waits for its next attempt; a callback gets the task
    of its next attempt (per the tenant's retry policy), returned for the caller to route after the commit."""
    async with write(db, bus, DIALER) as tx:
        if target.kind == "callback":
            return await _machine_took_callback(tx, target)
        found = await contact_of(tx, target)
        if found is None:
            return None
        contact, campaign, tenant = found
        if contact.last_outcome != "connected" or contact.disposition is not None:
            return None
        settle(contact, "voicemail")
        tx.audit(tenant.id, "campaign.attempted", "campaign", campaign.id, outcome="voicemail", status=contact.status,
                 detected="machine")  # fmt: skip
        tx.emit("campaign.updated", tenant.id, id=campaign.id, fields=["contacts"])
        return None


async def _machine_took_callback(tx: Tx, target: Target) -> RoutingTask | None:
    callback = await tx.session.get(Callback, target.id)
    tenant = await tx.session.get(Tenant, target.tenant_id)
    if callback is None or tenant is None or callback.last_outcome != "connected" or callback.disposition is not None:
        return None
    callback.last_outcome = Outcome.VOICEMAIL.value
    route = await next_step(tx, tenant, callback, Outcome.VOICEMAIL, utcnow(), note="an answering machine answered")
    tx.audit(tenant.id, "callback.attempted", "callback", callback.id, outcome="voicemail", status=callback.status,
             detected="machine")  # fmt: skip
    tx.emit("callback.updated", tenant.id, id=callback.id, status=callback.status, outcome=callback.last_outcome)
    return route


async def show_preview(db: Database, bus: EventBus | None, target: Target, until: datetime) -> bool:
    """The contact is shown to its agent until ``until``; False when it is no longer being called."""
    async with write(db, bus, DIALER) as tx:
        found = await contact_of(tx, target)
        if found is None or found[0].status != "calling":
            return False
        contact, campaign, tenant = found
        contact.preview_until = until
        tx.emit("campaign.updated", tenant.id, id=campaign.id, fields=["contacts"])
        return True


async def end_preview(db: Database, bus: EventBus | None, target: Target, choice: str, now: datetime) -> None:
    """The agent dialed (``dial``: the call goes on) or did not (anything else, e.g. ``skip``, ``timeout``,
    ``no_phone``): the contact goes back to ``pending`` until the campaign's spacing has passed, no attempt
    counted, and its task is closed (the caller completes it in the engine)."""
    async with write(db, bus, DIALER) as tx:
        found = await contact_of(tx, target)
        if found is None or found[0].status != "calling":
            return
        contact, campaign, tenant = found
        contact.preview_until = None
        if choice != "dial":
            contact.status = "pending"
            contact.next_attempt_at = now + timedelta(minutes=campaign.spacing_minutes)
            await _release_task(tx, contact)
        tx.audit(tenant.id, "campaign.previewed", "campaign", campaign.id, contact=contact.id, choice=choice)
        tx.emit("campaign.updated", tenant.id, id=campaign.id, fields=["contacts"])


async def contact_of(tx: Tx, target: Target) -> tuple[CampaignContact, Campaign, Tenant] | None:
    contact = await tx.session.get(CampaignContact, target.id)
    campaign = None if contact is None else await tx.session.get(Campaign, contact.campaign_id)
    tenant = await tx.session.get(Tenant, target.tenant_id)
    if contact is None or campaign is None or tenant is None:
        return None
    return contact, campaign, tenant


async def _release_task(tx: Tx, contact: CampaignContact) -> None:
    """The contact's task is over: its row closed here (``close_task``); the engine completes it after the call."""
    await close_task(tx.session, contact.routing_task_id)
    contact.routing_task_id = None
