"""Campaigns (``outbound/campaigns.py``): create and change them, import contacts from CSV with a report per row,
read a contact's dial-time check; the tenant's do-not-call list."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from infolinia.api.deps import Access, access
from infolinia.errors import Invalid
from infolinia.outbound import campaigns as actions
from infolinia.schemas import (
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    ContactOut,
    Cursor,
    DoNotCallIn,
    DoNotCallOut,
    EligibilityOut,
    ImportReport,
    Page,
    UtcDatetime,
)
from infolinia.store.models import Campaign, CampaignContact, DoNotCall, Queue
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
    return [await actions.view(a.session, row) for row in rows]


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
