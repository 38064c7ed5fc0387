"""Campaigns (``outbound/campaigns.py``): create and change them, import contacts from CSV with a report per row or
from a customer filter, read a contact's dial-time check; the agent's side: the contacts offered for preview, dial
or skip one, set a call's disposition (``outbound/desk.py``); the tenant's do-not-call list."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from infolinia.api.deps import Access, access
from infolinia.api.routes.callbacks import disposed
from infolinia.customers.actions import views as customer_views
from infolinia.errors import Conflict, Invalid, NotFound
from infolinia.outbound import campaigns as actions
from infolinia.outbound import desk
from infolinia.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    ContactOut,
    Cursor,
    CustomerFilter,
    DispositionIn,
    DispositionOut,
    DoNotCallIn,
    DoNotCallOut,
    EligibilityOut,
    FromCustomersReport,
    ImportReport,
    Page,
    PreviewOut,
    UtcDatetime,
)
from infolinia.store.models import Campaign, CampaignContact, Customer, DoNotCall, Queue, RoutingTask
from infolinia.store.refs import require_in_tenant
from infolinia.store.types import utcnow

router = APIRouter(tags=["campaigns"])

MAX_CSV_BYTES = 5 * 1024 * 1024
#: a contact list may be larger than other requests (``api/errors.BodyLimit``)
BODY_LIMITS = (("POST", re.compile(r"/campaigns/[^/]+/contacts"), MAX_CSV_BYTES),)

_CSV = {"requestBody": {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}}


@router.post("/campaigns", response_model=CampaignOut, status_code=201)
async def create_campaign(body: CampaignIn, a: Access = Depends(access("campaigns.manage"))) -> CampaignOut:
    await require_in_tenant(a.session, a.tenant.id, {"queue_id": (Queue, body.queue_id)})
    async with a.write() as tx:
        campaign = await actions.create_campaign(tx, a.tenant, body)
    return await actions.view(a.session, campaign)


@router.get("/campaigns", response_model=list[CampaignOut])
async def list_campaigns(a: Access = Depends(access("campaigns.read"))) -> list[CampaignOut]:
    rows = await a.session.scalars(select(Campaign).where(Campaign.tenant_id == a.tenant.id).order_by(Campaign.id))
    return await actions.views(a.session, list(rows))


@router.get("/campaigns/previews", response_model=list[PreviewOut])
async def my_previews(a: Access = Depends(access("campaigns.call"))) -> list[PreviewOut]:
    """The campaign contacts offered to me in preview mode: whom (the contact, the customer record), why (the
    campaign), and until when I may dial or skip each (then the campaign's timeout action applies)."""
    rows = (
        await a.session.execute(
            select(CampaignContact, Campaign, RoutingTask)
            .join(Campaign, Campaign.id == CampaignContact.campaign_id)
            .join(RoutingTask, RoutingTask.id == CampaignContact.routing_task_id)
            .where(
                CampaignContact.tenant_id == a.tenant.id,
                CampaignContact.status == "calling",
                CampaignContact.preview_until.is_not(None),
                RoutingTask.agent_id == a.actor.user_id,
                RoutingTask.state == "assigned",
            )
            .order_by(CampaignContact.preview_until)
        )
    ).all()
    customer_ids = [contact.customer_id for contact, _, _ in rows if contact.customer_id is not None]
    found = list(await a.session.scalars(select(Customer).where(Customer.id.in_(customer_ids)))) if customer_ids else []
    customers = {c.id: c for c in await customer_views(a.session, found)}
    return [
        PreviewOut(
            task_id=task.id,
            campaign_id=campaign.id,
            campaign=campaign.name,
            purpose=campaign.purpose,
            reason=f"campaign {campaign.name} ({campaign.purpose})",
            contact=ContactOut.model_validate(contact),
            customer=customers.get(contact.customer_id or 0),
            preview_until=contact.preview_until,
            timeout_action=campaign.preview_timeout_action,
        )
        for contact, campaign, task in rows
    ]


@router.get("/campaigns/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: int, a: Access = Depends(access("campaigns.read"))) -> CampaignOut:
    return await actions.view(a.session, a.obj("campaign_id"))


@router.patch("/campaigns/{campaign_id}", response_model=CampaignOut)
async def update_campaign(
    campaign_id: int, body: CampaignPatch, a: Access = Depends(access("campaigns.manage"))
) -> CampaignOut:
    """Change its settings, or its status: draft -> running <-> paused -> finished (finished is final)."""
    async with a.write() as tx:
        campaign = await actions.update_campaign(tx, a.obj("campaign_id"), body)
    return await actions.view(a.session, campaign)


@router.post("/campaigns/{campaign_id}/contacts", response_model=ImportReport, openapi_extra=_CSV)
async def import_contacts(
    campaign_id: int, request: Request, a: Access = Depends(access("campaigns.manage"))
) -> ImportReport:
    """A CSV file (``Content-Type: text/csv``): columns ``number`` (required), ``name``, ``customer_number``,
    ``timezone``. Rows are taken or refused one by one; the report lists each refused row's line and field."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "text/csv":
        raise Invalid("send the file as Content-Type: text/csv", code="invalid_csv")
    data = await request.body()
    async with a.write() as tx:
        return await actions.import_contacts(tx, a.tenant, a.obj("campaign_id"), data)


@router.post("/campaigns/{campaign_id}/contacts/from-customers", response_model=FromCustomersReport)
async def contacts_from_customers(
    campaign_id: int, body: CustomerFilter, a: Access = Depends(access("campaigns.manage"))
) -> FromCustomersReport:
    """Add the tenant's customers the filter selects (each by their first phone number), deduplicated against the
    campaign's contacts; those it could never call (do-not-call list, consent, restriction, no phone) are left out
    and counted by reason."""
    async with a.write() as tx:
        return await actions.add_customers(tx, a.tenant, a.obj("campaign_id"), body)


@router.get("/campaigns/{campaign_id}/contacts", response_model=Page[ContactOut])
async def list_contacts(
    campaign_id: int,
    a: Access = Depends(access("campaigns.read")),
    status: str | None = Query(None, pattern="^(pending|calling|done|closed)$"),
    limit: int = Query(100, ge=1, le=500),
    after: Cursor | None = None,
) -> Page[ContactOut]:
    query = select(CampaignContact).where(CampaignContact.campaign_id == campaign_id)
    if status is not None:
        query = query.where(CampaignContact.status == status)
    if after is not None:
        query = query.where(CampaignContact.id > after)
    rows = list(await a.session.scalars(query.order_by(CampaignContact.id).limit(limit + 1)))
    items = [ContactOut.model_validate(row) for row in rows[:limit]]
    return Page[ContactOut](items=items, next_cursor=items[-1].id if len(rows) > limit else None)


def _contact_in(a: Access) -> tuple[Campaign, CampaignContact]:
    campaign: Campaign = a.obj("campaign_id")
    contact: CampaignContact = a.obj("contact_id")
    if contact.campaign_id != campaign.id:
        raise NotFound(f"no contact {contact.id} in campaign {campaign.id}")
    return campaign, contact


@router.get("/campaigns/{campaign_id}/contacts/{contact_id}", response_model=ContactOut)
async def get_contact(campaign_id: int, contact_id: int, a: Access = Depends(access("campaigns.read"))) -> ContactOut:
    return ContactOut.model_validate(_contact_in(a)[1])


async def _my_preview(a: Access, choice: str) -> ContactOut:
    """Hand the agent's choice (dial, skip) to the call that shows the contact to them."""
    contact = _contact_in(a)[1]
    task = None if contact.routing_task_id is None else await a.session.get(RoutingTask, contact.routing_task_id)
    if contact.status != "calling" or contact.preview_until is None or task is None:
        raise Conflict(f"contact {contact.id} is not offered for preview", code="not_in_preview")
    if task.agent_id != a.actor.user_id or task.state != "assigned":
        raise Conflict(f"contact {contact.id} is offered to another agent", code="not_your_task")
    call = a.request.app.state.ctx.calls.callback_calls.get(task.id)
    if call is None:
        raise Conflict("this preview is not running in this server any more", code="preview_gone")
    call.post(choice)
    return ContactOut.model_validate(contact)


@router.post("/campaigns/{campaign_id}/contacts/{contact_id}/dial", response_model=ContactOut, status_code=202)
async def dial_contact(campaign_id: int, contact_id: int, a: Access = Depends(access("campaigns.call"))) -> ContactOut:
    """Preview mode: call the contact offered to me: my phone rings, and once I answer (and the check before every
    call allows it) the customer is dialed."""
    return await _my_preview(a, "dial")


@router.post("/campaigns/{campaign_id}/contacts/{contact_id}/skip", response_model=ContactOut, status_code=202)
async def skip_contact(campaign_id: int, contact_id: int, a: Access = Depends(access("campaigns.call"))) -> ContactOut:
    """Preview mode: do not call the contact offered to me now: it goes back to the campaign's list, to be offered
    again (to whoever is free) once the campaign's spacing has passed; no attempt is counted."""
    return await _my_preview(a, "skip")


@router.post(
    "/campaigns/{campaign_id}/contacts/{contact_id}/disposition", response_model=DispositionOut, status_code=201
)
async def dispose_contact(
    campaign_id: int, contact_id: int, body: DispositionIn, a: Access = Depends(access("campaigns.call"))
) -> DispositionOut:
    """What came of the call, set by the agent who talked on it (or a supervisor): the contact is done, closed,
    tried again, or followed by a callback ("later")."""
    campaign, contact = _contact_in(a)
    async with a.write() as tx:
        done = await desk.dispose_contact(tx, a.tenant, a.actor, campaign, contact, body)
    return await disposed(a, done)


@router.get("/campaigns/{campaign_id}/contacts/{contact_id}/eligibility", response_model=EligibilityOut)
async def contact_eligibility(
    campaign_id: int, contact_id: int, at: UtcDatetime | None = None, a: Access = Depends(access("campaigns.read"))
) -> EligibilityOut:
    """Whether the campaign may call the contact now (or ``at``): the check a dialer makes before every call."""
    contact: CampaignContact = a.obj("contact_id")
    campaign: Campaign = a.obj("campaign_id")
    if contact.campaign_id != campaign.id:
        raise Invalid(f"contact {contact.id} is not in campaign {campaign.id}", code="unknown_reference")
    verdict = await actions.eligibility(a.session, a.tenant, campaign, contact, at or utcnow())
    return EligibilityOut(allowed=verdict.allowed, reason=verdict.reason, at=verdict.at)


@router.get("/do-not-call", response_model=list[DoNotCallOut])
async def list_do_not_call(
    a: Access = Depends(access("dnc.read")), number: str | None = Query(None, max_length=40)
) -> list[DoNotCall]:
    query = select(DoNotCall).where(DoNotCall.tenant_id == a.tenant.id)
    if number:
        query = query.where(DoNotCall.number == number.strip())
    return list(await a.session.scalars(query.order_by(DoNotCall.id).limit(10_000)))


@router.post("/do-not-call", response_model=DoNotCallOut, status_code=201)
async def add_do_not_call(body: DoNotCallIn, a: Access = Depends(access("dnc.write"))) -> DoNotCall:
    """Put a number on the tenant's list (again: nothing changes). From the next dial on, no campaign calls it."""
    async with a.write() as tx:
        return await actions.add_do_not_call(tx, a.tenant, body)


@router.delete("/do-not-call/{dnc_id}", status_code=204)
async def remove_do_not_call(dnc_id: int, a: Access = Depends(access("campaigns.manage"))) -> None:
    async with a.write() as tx:
        await actions.remove_do_not_call(tx, a.obj("dnc_id"))
