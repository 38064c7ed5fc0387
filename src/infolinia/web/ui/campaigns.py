"""Outbound campaigns (``campaigns.read`` to list, ``campaigns.manage`` to create): ``/admin/campaigns`` lists the
tenant's campaigns with their contacts by status, and a form creates one from a CSV file of contacts, posted as
``multipart/form-data``. The campaign is made by ``outbound/campaigns.create_campaign`` and the file read by
``outbound/campaigns.import_contacts`` (the API's CSV import), both in one transaction: a file refused as a whole
(not UTF-8, no header, no ``number`` column, an unknown column) leaves nothing behind, not even the campaign; a file
with some bad rows is imported like the API imports it (each row taken or refused on its own) and the refused rows
are shown in a table: line, column, problem."""

from __future__ import annotations

import re
from typing import Any, Final, get_args

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy import select

from infolinia.access import can
from infolinia.api.routes.campaigns import MAX_CSV_BYTES
from infolinia.errors import DomainError
from infolinia.outbound import campaigns as actions
from infolinia.schemas import CampaignIn, CampaignMode, CampaignPurpose, ImportReport
from infolinia.store.models import Campaign, Queue
from infolinia.store.refs import require_in_tenant
from infolinia.web.ui.gate import Page, gate, page, upload
from infolinia.web.ui.people import problems_of

__all__ = ["BODY_LIMITS", "router"]

router = APIRouter(include_in_schema=False)

PURPOSES: Final = get_args(CampaignPurpose)
MODES: Final = get_args(CampaignMode)
FIELDS: Final = ("name", "purpose", "queue_id", "mode")
#: the create form's body: the CSV file (the API's limit) and the form's few other fields
BODY_LIMITS: Final = (("POST", re.compile(r"/admin/campaigns"), MAX_CSV_BYTES + 64 * 1024),)


async def _list_page(p: Page, values: dict[str, str], problems: dict[str, str], status: int = 200,
                     report: ImportReport | None = None, created: str = "") -> Response:  # fmt: skip
    a = p.access
    rows = list(await a.session.scalars(
        select(Campaign).where(Campaign.tenant_id == a.tenant.id).order_by(Campaign.id)
    ))  # fmt: skip
    queues = list(await a.session.scalars(select(Queue).where(Queue.tenant_id == a.tenant.id).order_by(Queue.name)))
    return p.render("admin/campaigns.html", status, campaigns=await actions.views(a.session, rows),
                    queue_names={q.id: q.name for q in queues}, values=values, problems=problems, report=report,
                    created=created, purposes=PURPOSES, modes=MODES, max_mb=MAX_CSV_BYTES // 1024 // 1024,
                    may_create=can(a.actor, "campaigns.manage"))  # fmt: skip


@router.get("/admin/campaigns")
@page
async def campaigns(request: Request) -> Response:
    async with gate(request, "campaigns.read") as p:
        return await _list_page(p, {}, {})


@router.post("/admin/campaigns")
@page
async def create_campaign(request: Request) -> Response:
    async with gate(request, "campaigns.manage") as p:
        posted = await upload(request, p)
        values = {key: (posted.fields.get(key) or [""])[0].strip()[:200] for key in FIELDS}
        data: dict[str, Any] = {key: value for key, value in values.items() if value}
        problems: dict[str, str] = {}
        try:
            body = CampaignIn.model_validate(data)
        except ValidationError as exc:
            problems = problems_of(exc)
            body = None
        file = posted.files.get("file")
        if file is None or not file[1]:
            problems["file"] = p._("Choose a CSV file.")
        if problems or body is None or file is None:
            return await _list_page(p, values, problems, 422)
        try:
            await require_in_tenant(p.access.session, p.access.tenant.id, {"queue_id": (Queue, body.queue_id)})
            async with p.access.write() as tx:
                campaign = await actions.create_campaign(tx, p.access.tenant, body)
                report = await actions.import_contacts(tx, p.access.tenant, campaign, file[1])
        except DomainError as exc:
            await p.reload()
            if exc.code == "invalid_csv":
                field = "file"
            elif exc.code == "unknown_reference":
                field = "queue_id"
            elif exc.code == "name_taken":
                field = "name"
            else:
                field = "form"
            return await _list_page(p, values, {field: exc.message}, exc.status)
        return await _list_page(p, {}, {}, report=report, created=body.name)
