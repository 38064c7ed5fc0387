"""Interaction actions: record a contact and move it through its timestamps; its disposition is checked against
its queue's wrap-up codes (``wrapup/``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from infolinia.errors import Conflict, Invalid
from infolinia.schemas import InteractionIn, InteractionPatch
from infolinia.store.models import Customer, Interaction, Queue, User
from infolinia.store.refs import require_in_tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx
from infolinia.wrapup.actions import check_disposition

#: a contact's life in order; each present timestamp must not precede the ones before it
TIMELINE = ("created_at", "queued_at", "offered_at", "answered_at", "ended_at", "wrapup_ended_at")


def check_timeline(values: dict[str, datetime | None]) -> None:
    last_name, last = None, None
    for name in TIMELINE:
        value = values.get(name)
        if value is None:
            continue
        if last is not None and value < last:
            raise Invalid(
                f"{name} ({value.isoformat()}) is before {last_name} ({last.isoformat()})",
                code="timeline_order",
                details={"field": name},
            )
        last_name, last = name, value


async def _check_links(tx: Tx, tenant_id: int, fields: dict[str, Any]) -> None:
    """Linked customer, queue and agent must exist in the same tenant (else 422, naming the field)."""
    await require_in_tenant(
        tx.session,
        tenant_id,
        {
            "customer_id": (Customer, fields.get("customer_id")),
            "queue_id": (Queue, fields.get("queue_id")),
            "agent_id": (User, fields.get("agent_id")),
        },
    )


async def refuse_erased(tx: Tx, tenant_id: int, customer_id: int | None) -> None:
    """Nothing new is written about a customer whose data was erased."""
    if customer_id is None:
        return
    erased = await tx.session.scalar(
        select(Customer.erased_at).where(Customer.tenant_id == tenant_id, Customer.id == customer_id)
    )
    if erased is not None:
        raise Conflict("this customer's data was erased", code="customer_erased")


async def create_interaction(tx: Tx, tenant_id: int, data: InteractionIn) -> Interaction:
    fields = data.model_dump()
    # a contact recorded afterwards began at its earliest known moment, not at the time of recording
    known = [fields[name] for name in TIMELINE if fields.get(name) is not None]
    fields["created_at"] = fields["created_at"] or min(known, default=None) or utcnow()
    check_timeline(fields)
    await _check_links(tx, tenant_id, fields)
    await refuse_erased(tx, tenant_id, fields["customer_id"])
    if fields["disposition_code"] is not None or fields["wrapup_ended_at"] is not None:
        await check_disposition(tx.session, tenant_id, fields["queue_id"], fields["disposition_code"],
                                fields["wrapup_ended_at"] is not None)  # fmt: skip
    interaction = Interaction(tenant_id=tenant_id, **fields)
    tx.session.add(interaction)
    await tx.session.flush()
    tx.emit(
        "interaction.created",
        tenant_id,
        id=interaction.id,
        channel=interaction.channel.value,
        customer_id=interaction.customer_id,
    )
    return interaction


async def _check_disposition(tx: Tx, interaction: Interaction, changes: dict[str, Any]) -> None:
    """A code being set is checked against the (new) queue's codes; a wrap-up recorded as ended without any code,
    against the queue's requirement. A code the contact carries already is left as it is."""
    ends = changes.get("wrapup_ended_at") is not None
    code = changes.get("disposition_code", interaction.disposition_code)
    if changes.get("disposition_code") is not None or (ends and code is None):
        queue_id = changes.get("queue_id", interaction.queue_id)
        await check_disposition(tx.session, interaction.tenant_id, queue_id, code, ends)


async def update_interaction(tx: Tx, interaction: Interaction, data: InteractionPatch) -> Interaction:
    changes = data.model_dump(exclude_unset=True)
    merged = {name: getattr(interaction, name) for name in TIMELINE} | {
        k: v for k, v in changes.items() if k in TIMELINE
    }
    check_timeline(merged)
    await _check_links(tx, interaction.tenant_id, changes)
    await refuse_erased(tx, interaction.tenant_id, changes.get("customer_id", interaction.customer_id))
    await _check_disposition(tx, interaction, changes)
    for key, value in changes.items():
        setattr(interaction, key, value)
    interaction.updated_at = utcnow()
    await tx.session.flush()
    tx.emit(
        "interaction.updated",
        interaction.tenant_id,
        id=interaction.id,
        fields=sorted(changes),
        customer_id=interaction.customer_id,
    )
    return interaction


async def set_disposition(tx: Tx, interaction: Interaction, code: str, notes: str | None) -> Interaction:
    """The agent's wrap-up code for a contact (and notes), checked against its queue's active codes."""
    await refuse_erased(tx, interaction.tenant_id, interaction.customer_id)
    await check_disposition(tx.session, interaction.tenant_id, interaction.queue_id, code, False)
    before = interaction.disposition_code
    interaction.disposition_code = code
    fields = ["disposition_code"]
    if notes is not None:
        interaction.notes = notes
        fields.append("notes")
    interaction.updated_at = utcnow()
    await tx.session.flush()
    tx.audit(interaction.tenant_id, "interaction.disposition_set", "interaction", interaction.id, before=before,
             after=code, queue_id=interaction.queue_id)  # fmt: skip
    tx.emit("interaction.updated", interaction.tenant_id, id=interaction.id, fields=fields,
            customer_id=interaction.customer_id)  # fmt: skip
    return interaction
