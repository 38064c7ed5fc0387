"""Changing a tenant's e-mail settings (its inbound addresses, relay, queue, category, acknowledgement) and
sending a failed message again: through the one write path, audited (never the relay's password), published."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from infolinia.cases.actions import policy_of
from infolinia.channels.email.addresses import normalize
from infolinia.channels.email.schemas import EmailSettingsPatch
from infolinia.channels.email.settings import EmailSettings
from infolinia.errors import Conflict, Invalid
from infolinia.store.models import EmailAddress, EmailMessage, Queue, Tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx


async def addresses_of(tx_session: Any, tenant_id: int) -> list[str]:
    rows = await tx_session.scalars(
        select(EmailAddress.address).where(EmailAddress.tenant_id == tenant_id).order_by(EmailAddress.address)
    )
    return list(rows)


async def update_settings(tx: Tx, tenant: Tenant, patch: EmailSettingsPatch) -> EmailSettings:
    changes = patch.model_dump(exclude_unset=True)
    current = EmailSettings.of(tenant.email_settings).model_dump()
    if "addresses" in changes:
        await _set_addresses(tx, tenant, [normalize(str(a)) for a in changes.pop("addresses") or []])
    if (
        changes.get("queue_id") is not None
        and await tx.session.scalar(
            select(Queue.id).where(Queue.id == changes["queue_id"], Queue.tenant_id == tenant.id)
        )
        is None
    ):
        raise Invalid(f"no queue {changes['queue_id']} in this tenant", details={"field": "queue_id"})
    category = changes.get("category")
    if category is not None and category not in policy_of(tenant).categories:
        raise Invalid(f"category {category!r} is not one of the tenant's", code="unknown_category",
                      details={"field": "category"})  # fmt: skip
    if "relay" in changes and changes["relay"] is not None:
        relay = changes["relay"]
        if "password" not in (patch.relay.model_fields_set if patch.relay else set()):
            relay["password"] = (current.get("relay") or {}).get("password")
        relay["password"] = relay["password"] or None
    merged = {**current, **changes}
    settings = EmailSettings.model_validate(merged)
    tenant.email_settings = settings.model_dump(mode="json", exclude_none=True)
    tenant.updated_at = utcnow()
    await tx.session.flush()
    fields = sorted({*changes, *(["addresses"] if patch.addresses is not None else [])})
    tx.audit(tenant.id, "email.settings_changed", "tenant", tenant.id, fields=fields)
    tx.emit("tenant.updated", tenant.id, id=tenant.id, fields=["email_settings"])
    return settings


async def _set_addresses(tx: Tx, tenant: Tenant, addresses: list[str]) -> None:
    wanted = set(addresses)
    taken = await tx.session.scalar(
        select(EmailAddress.address).where(EmailAddress.address.in_(wanted), EmailAddress.tenant_id != tenant.id)
    )
    if taken is not None:
        raise Conflict(f"{taken} receives mail for another tenant", code="address_taken",
                       details={"field": "addresses"})  # fmt: skip
    have = set(await addresses_of(tx.session, tenant.id))
    if have - wanted:
        await tx.session.execute(
            delete(EmailAddress).where(EmailAddress.tenant_id == tenant.id, EmailAddress.address.in_(have - wanted))
        )
    for address in sorted(wanted - have):
        tx.session.add(EmailAddress(tenant_id=tenant.id, address=address))


async def retry(tx: Tx, row: EmailMessage) -> EmailMessage:
    """A failed outbound message back in the outbox, its attempts counted from zero."""
    if row.direction != "out" or row.status != "failed":
        raise Conflict(f"only a failed outbound e-mail is sent again (this one is {row.direction}, {row.status})",
                       code="email_state")  # fmt: skip
    row.status, row.attempts, row.next_attempt_at, row.done_at = "pending", 0, utcnow(), None
    await tx.session.flush()
    tx.audit(row.tenant_id, "email.retried", "email", row.id)
    tx.emit("email.queued", row.tenant_id, id=row.id, case_id=row.case_id, status=row.status)
    return row
