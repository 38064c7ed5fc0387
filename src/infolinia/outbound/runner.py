"""The campaign runner: feeds running campaigns' contacts to the routing engine, one per available agent.

Every ``interval_s`` each running campaign in ``preview`` or ``progressive`` mode, of a tenant with a trunk that
dials (``dial_to``; without one nothing could place the calls), gets as many of its contacts put in its queue (a
routing task, channel ``callback``, with the contact's number) as its queue has agents available now, less the
contacts already there. A contact is taken only if the dial-time check allows it now
(``campaigns.eligibility``): a contact never allowed as things stand is closed with the reason (``do_not_call``,
``no_consent``, ...), one allowed later waits until then. When an agent is offered the task, the call is placed
agent-first (``voice/calls/callback_call.py``), which checks again right before the customer is dialed. In
``progressive`` mode the agent's phone rings at once; in ``preview`` mode the contact is first shown to the agent,
and nothing rings until the agent dials it (or the campaign's preview timeout says so). ``predictive`` campaigns are
dialed customer-first by ``predictive`` (``voice/calls/predictive_call.py``, paced by ``outbound/predictive.py``)
when the call control runs.

A preview still shown ``STALE_PREVIEW`` after its deadline has no call behind it any more (the call acts at the
deadline; the process that showed it stopped): each round sends such a contact back to ``pending`` and frees its
agent.

A contact and its task are written in one transaction, like a callback's.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Final, Protocol

from sqlalchemy import func, select

from infolinia.events import EventBus
from infolinia.outbound.actions import close_task
from infolinia.outbound.campaigns import eligibility
from infolinia.routing.model import AgentState
from infolinia.routing.service import RoutingService
from infolinia.store.db import Database
from infolinia.store.models import Campaign, CampaignContact, RoutingTask, Tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx, Who, write
from infolinia.voice.telephony.actions import dialing_trunk

log = logging.getLogger(__name__)

RUNNER = Who(None, "campaign runner")
AGENT_FIRST: Final = ("preview", "progressive")
STALE_PREVIEW: Final = timedelta(seconds=30)


class PredictiveDialing(Protocol):
    async def step(self, campaign: Campaign, now: datetime) -> int:
        """Dial the campaign's customers now, as many as the pacer says; how many calls were placed."""
        ...


class CampaignRunner:
    def __init__(self, db: Database, bus: EventBus | None, routing: RoutingService, interval_s: float = 2.0) -> None:
        self.db = db
        self.bus = bus
        self.routing = routing
        self.interval_s = interval_s
        #: places the calls of ``predictive`` campaigns (customer-first; set when the call control runs)
        self.predictive: PredictiveDialing | None = None

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except Exception:  # a database hiccup must not stop the campaigns for good
                log.exception("campaign runner step failed")
            await asyncio.sleep(self.interval_s)

    async def step(self, now: datetime | None = None) -> int:
        """One round over the running campaigns; how many contacts were put in their queues."""
        now = now or utcnow()
        await self.release_stale_previews(now)
        modes = (*AGENT_FIRST, "predictive") if self.predictive is not None else AGENT_FIRST
        async with self.db.session() as s:
            running = list(
                await s.scalars(select(Campaign).where(Campaign.status == "running", Campaign.mode.in_(modes)))
            )
        placed = 0
        for campaign in running:
            if campaign.mode == "predictive" and self.predictive is not None:
                placed += await self.predictive.step(campaign, now)
            else:
                placed += await self._feed(campaign, now)
        return placed

    async def release_stale_previews(self, now: datetime) -> list[int]:
        """Contacts whose preview outlived its call: back to ``pending``, their tasks ended; their ids."""
        tasks: list[int] = []
        async with write(self.db, self.bus, RUNNER) as tx:
            stale = list(
                await tx.session.scalars(
                    select(CampaignContact).where(
                        CampaignContact.status == "calling", CampaignContact.preview_until < now - STALE_PREVIEW
                    )
                )
            )
            for contact in stale:
                task = await close_task(tx.session, contact.routing_task_id)
                tasks += [task] if task is not None else []
                contact.status, contact.preview_until, contact.routing_task_id = "pending", None, None
                tx.audit(contact.tenant_id, "campaign.previewed", "campaign", contact.campaign_id, contact=contact.id,
                         choice="stale")  # fmt: skip
                tx.emit("campaign.updated", contact.tenant_id, id=contact.campaign_id, fields=["contacts"])
        for task_id in tasks:
            try:
                await self.routing.cancel(task_id, reason="withdrawn")  # an accepted task: completed, agent freed
            except Exception:  # gone from the engine already
                log.debug("task %s: already gone", task_id)
        return [contact.id for contact in stale]

    def available(self, queue_id: int) -> int:
        engine = self.routing.engine
        return engine.agents_by_state(queue_id)[AgentState.AVAILABLE.value] if queue_id in engine.queues else 0

    async def _feed(self, campaign: Campaign, now: datetime) -> int:
        tasks: list[RoutingTask] = []
        async with write(self.db, self.bus, RUNNER) as tx:
            s = tx.session
            calling = await s.scalar(
                select(func.count())
                .select_from(CampaignContact)
                .where(CampaignContact.campaign_id == campaign.id, CampaignContact.status == "calling")
            )
            room = self.available(campaign.queue_id) - (calling or 0)
            if room <= 0 or await dialing_trunk(s, campaign.tenant_id) is None:  # nothing could place the calls
                return 0
            tenant = await s.get(Tenant, campaign.tenant_id)
            assert tenant is not None
            for contact in await take_contacts(tx, tenant, campaign, room, now):
                task = RoutingTask(
                    tenant_id=tenant.id, queue_id=campaign.queue_id, channel="callback", skills={},
                    priority=0, enqueued_at=now, callback_number=contact.number, state="waiting",
                )  # fmt: skip
                s.add(task)
                await s.flush()
                contact.routing_task_id = task.id
                tasks.append(task)
            if tasks:
                tx.emit("campaign.updated", tenant.id, id=campaign.id, fields=["contacts"])
        if tasks:
            await self.routing.route(tasks)
        return len(tasks)


async def take_contacts(tx: Tx, tenant: Tenant, campaign: Campaign, room: int, now: datetime) -> list[CampaignContact]:
    """Up to ``room`` of the campaign's pending contacts that are due and that the check allows now, in import
    order, made ``calling``; on the way, a contact never allowed as things stand is closed with the reason, one
    allowed later waits until then."""
    s = tx.session
    due = (CampaignContact.next_attempt_at.is_(None)) | (CampaignContact.next_attempt_at <= now)
    candidates = await s.scalars(
        select(CampaignContact)
        .where(CampaignContact.campaign_id == campaign.id, CampaignContact.status == "pending", due)
        .order_by(CampaignContact.id)
        .limit(room * 4)
    )
    taken: list[CampaignContact] = []
    for contact in candidates:
        if len(taken) >= room:
            break
        verdict = await eligibility(s, tenant, campaign, contact, now)
        if verdict.allowed:
            contact.status = "calling"
            taken.append(contact)
        elif verdict.never:
            contact.status, contact.closed_reason = "closed", verdict.reason
            tx.audit(tenant.id, "campaign.contact_closed", "campaign", campaign.id, reason=verdict.reason)
        else:
            contact.next_attempt_at = verdict.at
    return taken
