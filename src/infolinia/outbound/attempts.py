"""The attempts of predictive (customer-first) dialing through the one write path: started at the INVITE, answered,
finished with an outcome (written to the contact as for any campaign call, ``targets.note_outcome``), and the
calls a stopped process left unfinished, closed at the next start.

Each finished answered call publishes ``campaign.abandon_rate`` (the campaign's abandoned / answered calls today in
the tenant's time zone and over 30 days) for the wallboard. An abandoned contact waits for the next calendar day
before it is dialed again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlalchemy import select

from infolinia.events import EventBus
from infolinia.outbound.predictive import ANSWERED, abandon_stats, abandon_view, next_day
from infolinia.outbound.targets import Target, note_outcome
from infolinia.store.db import Database
from infolinia.store.models import Campaign, CampaignAttempt, CampaignContact, RoutingTask, Tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx, Who, write

__all__ = ["answered", "ended", "finish", "recover", "start"]

PREDICTIVE = Who(None, "predictive dialer")
ANSWERED_PRIORITY: Final = 100


async def start(db: Database, target: Target, campaign_id: int, started: datetime) -> int:
    """The INVITE to the customer is about to go: the attempt's row (no outcome yet); its id."""
    async with write(db, None, PREDICTIVE) as tx:
        row = CampaignAttempt(
            tenant_id=target.tenant_id, campaign_id=campaign_id, contact_id=target.id, number=target.number,
            started_at=started,
        )  # fmt: skip
        tx.session.add(row)
        await tx.session.flush()
        return row.id


async def answered(db: Database, attempt_id: int, at: datetime, queue_id: int) -> RoutingTask | None:
    """The customer answered: the attempt notes it, and a routing task (channel ``callback``, the highest priority:
    a person is on the line) to find them an agent of the campaign's queue is written as the contact's, for the
    caller to route; None when the contact is gone."""
    async with write(db, None, PREDICTIVE) as tx:
        row = await tx.session.get(CampaignAttempt, attempt_id)
        contact = (
            None if row is None or row.contact_id is None else await tx.session.get(CampaignContact, row.contact_id)
        )
        if row is None or contact is None:
            return None
        row.answered_at = at
        task = RoutingTask(
            tenant_id=row.tenant_id, queue_id=queue_id, channel="callback", skills={}, priority=ANSWERED_PRIORITY,
            enqueued_at=at, callback_number=row.number, state="waiting",
        )  # fmt: skip
        tx.session.add(task)
        await tx.session.flush()
        contact.routing_task_id = task.id
        return task


async def finish(
    db: Database,
    bus: EventBus | None,
    attempt_id: int,
    outcome: str,
    *,
    agent_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """The attempt's outcome (``connected`` when an agent was bridged, at that moment), written to the attempt and
    the contact in one transaction; an abandoned contact waits for the next day in the tenant's time zone."""
    at = at or utcnow()
    async with write(db, bus, PREDICTIVE) as tx:
        row = await tx.session.get(CampaignAttempt, attempt_id)
        if row is None or row.outcome is not None:
            return
        row.agent_id = agent_id
        if outcome == "connected":
            row.connected_at = at
        await _conclude(tx, row, outcome, at)


async def _conclude(tx: Tx, row: CampaignAttempt, outcome: str, at: datetime) -> None:
    row.outcome = outcome
    if outcome != "connected":
        row.ended_at = at
    contact = None if row.contact_id is None else await tx.session.get(CampaignContact, row.contact_id)
    campaign = await tx.session.get(Campaign, row.campaign_id)
    tenant = await tx.session.get(Tenant, row.tenant_id)
    if campaign is None or tenant is None:
        return
    if contact is not None and contact.status == "calling":
        await note_outcome(tx, contact, campaign, tenant, outcome, row.started_at)
        if outcome == "abandoned":  # not dialed predictively again today
            contact.next_attempt_at = next_day(at, tenant.timezone)
    if outcome in ANSWERED:
        await tx.session.flush()
        stats = await abandon_stats(tx.session, campaign.id, tenant.timezone, at)
        tx.emit("campaign.abandon_rate", tenant.id, id=campaign.id, **abandon_view(stats, campaign.abandon_cap))


async def ended(db: Database, attempt_id: int, at: datetime) -> None:
    """A connected call ended (its talk time is the pacer's handle time)."""
    async with write(db, None, PREDICTIVE) as tx:
        row = await tx.session.get(CampaignAttempt, attempt_id)
        if row is not None and row.ended_at is None:
            row.ended_at = at


async def recover(db: Database, bus: EventBus | None) -> int:
    """At start, before the routing engine is loaded: the predictive calls a stopped process left unfinished are
    over. One the customer had answered without an agent counts as abandoned, one still ringing as failed; the
    contact waits for its next attempt and an answered call's routing task is closed (so it is not routed again).
    How many attempts were closed."""
    now = utcnow()
    async with write(db, bus, PREDICTIVE) as tx:
        rows = list(await tx.session.scalars(select(CampaignAttempt).where(CampaignAttempt.outcome.is_(None))))
        for row in rows:
            await _conclude(tx, row, "failed" if row.answered_at is None else "abandoned", now)
        # taken for a call whose INVITE never went: simply pending again
        predictive = select(Campaign.id).where(Campaign.mode == "predictive")
        stranded = await tx.session.scalars(
            select(CampaignContact).where(
                CampaignContact.status == "calling",
                CampaignContact.routing_task_id.is_(None),
                CampaignContact.campaign_id.in_(predictive),
            )
        )
        for contact in stranded:
            contact.status = "pending"
        return len(rows)
