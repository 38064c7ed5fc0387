"""Outbound campaigns (``campaigns.read`` to list, ``campaigns.manage`` to create): ``/admin/campaigns`` lists the
tenant's campaigns with their contacts by status, and a form creates one from a CSV file of contacts, posted as
``multipart/form-data``. The campaign is made by ``outbound/campaigns.create_campaign`` and the file read by
``outbound/campaigns.import_contacts`` (the API's CSV import), both in one transaction: a file refused as a whole
(not UTF-8, no header, no ``number`` column, an unknown column) leaves nothing behind, not even the campaign; a file
with some bad rows is imported like the API imports it (each row taken or refused on its own) and the refused rows
are shown in a table: line, column, problem.

``/admin/campaigns/{campaign_id}`` is a campaign's own page: its settings (mode, attempts, spacing, the abandon cap,
preview timeout, machine detection) saved with ``update_campaign``; its status (start, pause, resume, stop: the
action's transitions, draft -> running <-> paused -> finished); its contacts by status, a page at a time; and more
contacts from a CSV file, imported as the API imports them (the refused rows in a table)."""

from __future__ import annotations

import re
from typing import Any, Final, get_args

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from infolinia.access import can
from infolinia.api.routes.campaigns import MAX_CSV_BYTES
from infolinia.errors import DomainError
from infolinia.outbound import campaigns as actions
from infolinia.schemas import CampaignIn, CampaignMode, CampaignPatch, CampaignPurpose, ImportReport, PreviewAction
from infolinia.store.models import Campaign, CampaignContact, Queue
from infolinia.store.refs import require_in_tenant
from infolinia.web.ui.gate import Page, form, gate, page, upload
from infolinia.web.ui.problems import problems_of, refusal

__all__ = ["BODY_LIMITS", "router"]

router = APIRouter(include_in_schema=False)

PURPOSES: Final = get_args(CampaignPurpose)
MODES: Final = get_args(CampaignMode)
FIELDS: Final = ("name", "purpose", "queue_id", "mode")
#: the create form's body: the CSV file (the API's limit) and the form's few other fields
BODY_LIMITS: Final = (("POST", re.compile(r"/admin/campaigns(/[0-9]+/contacts)?"), MAX_CSV_BYTES + 64 * 1024),)
CONTACT_STATUSES: Final = ("pending", "calling", "done", "closed")
PREVIEW_ACTIONS: Final = get_args(PreviewAction)
SETTINGS: Final = ("name", "mode", "max_attempts", "spacing_minutes", "abandon_cap", "preview_timeout_s",
                   "preview_timeout_action")  # fmt: skip
#: contacts on one page of a campaign's page
PAGE_SIZE: Final = 50
#: the status a button asks for, by the button's name
STATUS_BUTTONS: Final = {"start": "running", "pause": "paused", "resume": "running", "stop": "finished"}


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
            problems = problems_of(exc, p._)
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
            return await _list_page(p, values, {field: refusal(exc, p._)}, exc.status)
        return await _list_page(p, {}, {}, report=report, created=body.name)


# --- one campaign -----------------------------------------------------------------------------------------------


def _settings_values(campaign: Campaign) -> dict[str, str]:
    return {
        "name": campaign.name,
        "mode": campaign.mode,
        "max_attempts": str(campaign.max_attempts),
        "spacing_minutes": str(campaign.spacing_minutes),
        "abandon_cap": f"{campaign.abandon_cap * 100:g}",  # shown in percent
        "preview_timeout_s": str(campaign.preview_timeout_s),
        "preview_timeout_action": campaign.preview_timeout_action,
        "detect_machines": "on" if campaign.detect_machines else "",
    }


def _cursor(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) < 10 else None


async def _campaign_page(p: Page, campaign: Campaign, values: dict[str, str], problems: dict[str, str],
                         status: int = 200, report: ImportReport | None = None) -> Response:  # fmt: skip
    a = p.access
    query = a.request.query_params
    shown = query.get("status") if query.get("status") in CONTACT_STATUSES else None
    after = _cursor(query.get("after"))
    rows = select(CampaignContact).where(CampaignContact.campaign_id == campaign.id)
    if shown is not None:
        rows = rows.where(CampaignContact.status == shown)
    if after is not None:
        rows = rows.where(CampaignContact.id > after)
    found = list(await a.session.scalars(rows.order_by(CampaignContact.id).limit(PAGE_SIZE + 1)))
    contacts = found[:PAGE_SIZE]
    total = await a.session.scalar(
        select(func.count()).select_from(CampaignContact).where(CampaignContact.campaign_id == campaign.id)
    )
    queue = await a.session.get(Queue, campaign.queue_id)
    return p.render("admin/campaign.html", status, campaign=await actions.view(a.session, campaign),
                    queue_name=queue.name if queue else str(campaign.queue_id), values=values, problems=problems,
                    report=report, saved=query.get("saved", ""), contacts=contacts, shown=shown,
                    next_after=contacts[-1].id if len(found) > PAGE_SIZE else None, first_page=after is None,
                    total=total or 0, statuses=CONTACT_STATUSES, modes=MODES, preview_actions=PREVIEW_ACTIONS,
                    transitions=actions.TRANSITIONS[campaign.status], max_mb=MAX_CSV_BYTES // 1024 // 1024,
                    may_manage=can(a.actor, "campaigns.manage"))  # fmt: skip


@router.get("/admin/campaigns/{campaign_id}")
@page
async def campaign(campaign_id: int, request: Request) -> Response:
    async with gate(request, "campaigns.read") as p:
        row: Campaign = p.access.obj("campaign_id")
        return await _campaign_page(p, row, _settings_values(row), {})


@router.post("/admin/campaigns/{campaign_id}")
@page
async def save_campaign(campaign_id: int, request: Request) -> Response:
    """The campaign's settings (``update_campaign``: audit, ``campaign.updated``)."""
    async with gate(request, "campaigns.manage") as p:
        row: Campaign = p.access.obj("campaign_id")
        fields = await form(request, p)
        values = {key: (fields.get(key) or [""])[0].strip()[:200] for key in SETTINGS}
        values["detect_machines"] = "on" if (fields.get("detect_machines") or [""])[0] else ""
        data: dict[str, Any] = {key: value for key, value in values.items() if value and key != "abandon_cap"}
        data["name"] = values["name"]  # always: an emptied name is refused, not kept
        data["detect_machines"] = bool(values["detect_machines"])
        problems: dict[str, str] = {}
        if values["abandon_cap"]:
            try:
                data["abandon_cap"] = round(float(values["abandon_cap"].replace(",", ".")) / 100, 6)
            except ValueError:
                problems["abandon_cap"] = p._("Enter a percentage, for example 3.")
        try:
            body = CampaignPatch.model_validate(data)
        except ValidationError as exc:
            problems = problems_of(exc, p._) | problems
        if problems:
            return await _campaign_page(p, row, values, problems, 422)
        try:
            async with p.access.write() as tx:
                await actions.update_campaign(tx, row, body)
        except DomainError as exc:
            await p.reload(row)
            field = "name" if exc.code == "name_taken" else "form"
            return await _campaign_page(p, row, values, {field: refusal(exc, p._)}, exc.status)
        return RedirectResponse(f"/admin/campaigns/{row.id}?saved=settings", status_code=303)


@router.post("/admin/campaigns/{campaign_id}/status")
@page
async def set_status(campaign_id: int, request: Request) -> Response:
    """Start, pause, resume or stop (the action refuses a change its transitions do not allow: 409)."""
    async with gate(request, "campaigns.manage") as p:
        row: Campaign = p.access.obj("campaign_id")
        fields = await form(request, p)
        wanted = STATUS_BUTTONS.get((fields.get("to") or [""])[0])
        if wanted is None:
            return await _campaign_page(p, row, _settings_values(row), {"status": p._("Unknown change.")}, 422)
        try:
            async with p.access.write() as tx:
                await actions.update_campaign(tx, row, CampaignPatch(status=wanted))
        except DomainError as exc:
            await p.reload(row)
            return await _campaign_page(p, row, _settings_values(row), {"status": refusal(exc, p._)}, exc.status)
        return RedirectResponse(f"/admin/campaigns/{row.id}?saved=status", status_code=303)


@router.post("/admin/campaigns/{campaign_id}/contacts")
@page
async def add_contacts(campaign_id: int, request: Request) -> Response:
    """More contacts from a CSV file: each row taken or refused on its own, as ``POST /api/v1/campaigns/{id}/contacts``
    does; a file refused as a whole changes nothing."""
    async with gate(request, "campaigns.manage") as p:
        row: Campaign = p.access.obj("campaign_id")
        posted = await upload(request, p)
        file = posted.files.get("file")
        if file is None or not file[1]:
            return await _campaign_page(p, row, _settings_values(row), {"file": p._("Choose a CSV file.")}, 422)
        try:
            async with p.access.write() as tx:
                report = await actions.import_contacts(tx, p.access.tenant, row, file[1])
        except DomainError as exc:
            await p.reload(row)
            return await _campaign_page(p, row, _settings_values(row), {"file": refusal(exc, p._)}, exc.status)
        return await _campaign_page(p, row, _settings_values(row), {}, report=report)
