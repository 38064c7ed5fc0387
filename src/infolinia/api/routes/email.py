"""E-mail (``channels/email``): a case's messages in and out, the tenant's messages with their delivery status and
attachments, an agent's reply to the customer on a case, the tenant's e-mail settings, sending a failed message
again. Messages arrive through the SMTP listener, not through this API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from sqlalchemy import select

from infolinia.api.deps import Access, access
from infolinia.channels.email import actions, outgoing
from infolinia.channels.email.schemas import (
    AttachmentOut,
    EmailOut,
    EmailSettingsOut,
    EmailSettingsPatch,
    ReplyIn,
)
from infolinia.channels.email.settings import EmailSettings
from infolinia.errors import Conflict, NotFound
from infolinia.schemas import Cursor, Id, Page
from infolinia.store.models import EmailAttachment, EmailMessage

router = APIRouter(tags=["email"])


async def _views(a: Access, rows: Sequence[EmailMessage]) -> list[EmailOut]:
    ids = [row.id for row in rows]
    files: dict[int, list[AttachmentOut]] = {}
    if ids:
        query = select(EmailAttachment).where(EmailAttachment.message_id.in_(ids)).order_by(EmailAttachment.position)
        for f in await a.session.scalars(query):
            files.setdefault(f.message_id, []).append(
                AttachmentOut.model_validate(f).model_copy(update={"kept": f.path is not None})
            )
    return [EmailOut.model_validate(row).model_copy(update={"attachments": files.get(row.id, [])}) for row in rows]


def _wake(a: Access) -> None:
    a.request.app.state.ctx.email.outbox.wake.set()


@router.get("/cases/{case_id}/emails", response_model=list[EmailOut])
async def case_emails(a: Access = Depends(access("cases.read"))) -> list[EmailOut]:
    """The case's e-mails in and out, oldest first, with their status (a reply: pending, sent, failed, bounced)."""
    case = a.obj("case_id")
    query = select(EmailMessage).where(EmailMessage.tenant_id == a.tenant.id, EmailMessage.case_id == case.id)
    return await _views(a, list(await a.session.scalars(query.order_by(EmailMessage.id))))


@router.post("/cases/{case_id}/replies", response_model=EmailOut, status_code=201)
async def reply(body: ReplyIn, a: Access = Depends(access("email.reply"))) -> EmailOut:
    """Answer the case's customer by e-mail: sent through the tenant's relay after the commit (``status``
    ``pending`` until the relay takes it), a message to the customer on the case, an outbound e-mail contact.
    409 ``email_not_configured`` without a relay and a sender address, ``no_recipient`` without an address."""
    async with a.write() as tx:
        row = await outgoing.reply(tx, a.tenant, a.obj("case_id"), body.body)
    _wake(a)
    return (await _views(a, [row]))[0]


@router.get("/emails", response_model=Page[EmailOut])
async def list_emails(
    a: Access = Depends(access("email.read")),
    direction: Literal["in", "out"] | None = None,
    status: str | None = Query(None, max_length=20),
    case_id: Id | None = None,
    customer_id: Id | None = None,
    limit: int = Query(50, ge=1, le=200),
    after: Cursor | None = None,
) -> Page[EmailOut]:
    """The tenant's e-mails by id, filtered (e.g. ``direction=out&status=failed``: what could not be sent)."""
    query = select(EmailMessage).where(EmailMessage.tenant_id == a.tenant.id)
    for column, value in ((EmailMessage.direction, direction), (EmailMessage.status, status),
                          (EmailMessage.case_id, case_id), (EmailMessage.customer_id, customer_id)):  # fmt: skip
        if value is not None:
            query = query.where(column == value)
    if after is not None:
        query = query.where(EmailMessage.id > after)
    rows = list(await a.session.scalars(query.order_by(EmailMessage.id).limit(limit + 1)))
    items = await _views(a, rows[:limit])
    return Page[EmailOut](items=items, next_cursor=items[-1].id if len(rows) > limit else None)


@router.get("/emails/{email_id}", response_model=EmailOut)
async def get_email(a: Access = Depends(access("email.read"))) -> EmailOut:
    return (await _views(a, [a.obj("email_id")]))[0]


@router.post("/emails/{email_id}/retry", response_model=EmailOut)
async def retry(a: Access = Depends(access("email.manage"))) -> EmailOut:
    """Send a failed outbound e-mail again (409 ``email_state`` for any other)."""
    async with a.write() as tx:
        row = await actions.retry(tx, a.obj("email_id"))
    _wake(a)
    return (await _views(a, [row]))[0]


@router.get("/email-attachments/{attachment_id}", response_class=FileResponse)
async def attachment(a: Access = Depends(access("email.read"))) -> FileResponse:
    """The file as it came, always as a download (``application/octet-stream``), never shown by the browser."""
    row: EmailAttachment = a.obj("attachment_id")
    if row.path is None:
        raise Conflict(f"this attachment was not kept: {row.refused}", code="attachment_not_kept")
    path = a.request.app.state.ctx.email.files.path(row.path)
    if not path.is_file():
        raise NotFound("the attachment's file is missing from the data folder")
    headers = {
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }
    return FileResponse(path, media_type="application/octet-stream", headers=headers)


@router.get("/email/settings", response_model=EmailSettingsOut)
async def get_settings(a: Access = Depends(access("email.manage"))) -> EmailSettingsOut:
    """The tenant's e-mail settings (the relay's password only as ``password_set``)."""
    addresses = await actions.addresses_of(a.session, a.tenant.id)
    return EmailSettingsOut.of(EmailSettings.of(a.tenant.email_settings), addresses)


@router.patch("/email/settings", response_model=EmailSettingsOut)
async def update_settings(body: EmailSettingsPatch, a: Access = Depends(access("email.manage"))) -> EmailSettingsOut:
    """Change the fields given: inbound ``addresses`` (409 ``address_taken`` when another tenant has one),
    ``from_address``, ``from_name``, ``queue_id``, ``category``, ``auto_acknowledge``, ``relay``."""
    async with a.write() as tx:
        settings = await actions.update_settings(tx, a.tenant, body)
    a.request.app.state.ctx.email.addresses.forget()
    return EmailSettingsOut.of(settings, await actions.addresses_of(a.session, a.tenant.id))
