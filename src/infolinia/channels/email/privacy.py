"""A customer's e-mail under data rights: what is exported (every message to and from them, with its text and
attachments described) and what erasure removes (the raw bytes, texts, subjects and addresses, the attachment
files and their rows; an unsent reply is not sent). The rows stay, with their status and times."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.store.models import Customer, EmailAttachment, EmailMessage
from infolinia.store.types import utcnow

log = logging.getLogger(__name__)


def _theirs(customer: Customer) -> Any:
    return (EmailMessage.tenant_id == customer.tenant_id) & (EmailMessage.customer_id == customer.id)


async def export_emails(session: AsyncSession, customer: Customer) -> list[dict[str, Any]]:
    rows = list(await session.scalars(select(EmailMessage).where(_theirs(customer)).order_by(EmailMessage.id)))
    files: dict[int, list[dict[str, Any]]] = {}
    if rows:
        found = await session.scalars(
            select(EmailAttachment).where(EmailAttachment.message_id.in_([r.id for r in rows]))
            .order_by(EmailAttachment.position)
        )  # fmt: skip
        for f in found:
            files.setdefault(f.message_id, []).append({"filename": f.filename, "content_type": f.content_type,
                                                       "size": f.size, "sha256": f.sha256})  # fmt: skip
    return [
        {"direction": r.direction, "status": r.status, "from": r.from_address, "to": r.to_address,
         "subject": r.subject, "body": r.body, "at": r.created_at.isoformat(), "attachments": files.get(r.id, [])}
        for r in rows
    ]  # fmt: skip


async def erase_emails(session: AsyncSession, customer: Customer, data_dir: str | Path | None) -> None:
    rows = list(await session.scalars(select(EmailMessage).where(_theirs(customer))))
    ids = [row.id for row in rows]
    if ids and data_dir is not None:
        for path in await session.scalars(select(EmailAttachment.path).where(EmailAttachment.message_id.in_(ids))):
            if path:
                try:
                    (Path(data_dir) / path).unlink(missing_ok=True)
                except OSError:
                    log.warning("could not remove an erased customer's attachment file %s", path)
    if ids:
        await session.execute(delete(EmailAttachment).where(EmailAttachment.message_id.in_(ids)))
    for row in rows:
        row.raw = row.body = row.subject = row.mail_from = None
        row.reference_ids, row.problems = [], []
        if row.direction == "in":
            row.from_address = None
        else:
            row.to_address = None
        if row.status == "pending":
            row.status, row.done_at, row.next_attempt_at = "failed", utcnow(), None
            row.last_error = "not sent: the customer's data was erased"
