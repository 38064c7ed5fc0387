"""Interactions (one per contact, any channel) and the audit log."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from infolinia.api.deps import Access, access, interaction_scope
from infolinia.interactions import actions
from infolinia.schemas import AuditOut, Cursor, Id, InteractionIn, InteractionOut, InteractionPatch, Page
from infolinia.store.models import AuditEvent, Channel, Interaction

router = APIRouter()


@router.get("/interactions", response_model=Page[InteractionOut], tags=["interactions"])
async def list_interactions(
    a: Access = Depends(access("interactions.read")),
    customer_id: Id | None = None,
    channel: Channel | None = None,
    since: datetime | None = None,
    limit: int = Query(50, ge=1, le=200),
    after: Cursor | None = None,
) -> Page[InteractionOut]:
    query = select(Interaction).where(interaction_scope(a.actor, a.tenant.id))
    if customer_id is not None:
        query = query.where(Interaction.customer_id == customer_id)
    if channel is not None:
        query = query.where(Interaction.channel == channel)
    if since is not None:
        query = query.where(Interaction.created_at >= since)
    if after is not None:
        query = query.where(Interaction.id > after)
    rows = list(await a.session.scalars(query.order_by(Interaction.id).limit(limit)))
    items = [InteractionOut.model_validate(r) for r in rows]
    return Page(items=items, next_cursor=rows[-1].id if len(rows) == limit else None)


@router.post("/interactions", response_model=InteractionOut, status_code=201, tags=["interactions"])
async def create_interaction(body: InteractionIn, a: Access = Depends(access("interactions.write"))) -> Interaction:
    async with a.write() as tx:
        return await actions.create_interaction(tx, a.tenant.id, body)


@router.get("/interactions/{interaction_id}", response_model=InteractionOut, tags=["interactions"])
async def get_interaction(interaction_id: int, a: Access = Depends(access("interactions.read"))) -> Interaction:
    interaction: Interaction = a.obj("interaction_id")
    return interaction


@router.patch("/interactions/{interaction_id}", response_model=InteractionOut, tags=["interactions"])
async def update_interaction(
    interaction_id: int, body: InteractionPatch, a: Access = Depends(access("interactions.write"))
) -> Interaction:
    async with a.write() as tx:
        return await actions.update_interaction(tx, a.obj("interaction_id"), body)


@router.get("/audit", response_model=Page[AuditOut], tags=["audit"])
async def audit_log(
    a: Access = Depends(access("audit.read")),
    action: str | None = Query(None, max_length=60),
    object_type: str | None = Query(None, max_length=40),
    object_id: str | None = Query(None, max_length=60),
    limit: int = Query(100, ge=1, le=500),
    before: Cursor | None = None,
) -> Page[AuditOut]:
    """Newest first; page with ``before`` = the last id seen. A platform admin without ``X-Tenant`` reads the
    platform's own records (platform admins' logins and creation, failed logins of unknown e-mails)."""
    if a.actor.is_platform_admin and a.tenant_obj is None:
        query = select(AuditEvent).where(AuditEvent.tenant_id.is_(None))  # the platform's own records
    else:
        query = select(AuditEvent).where(AuditEvent.tenant_id == a.tenant.id)
    for column, value in (
        (AuditEvent.action, action),
        (AuditEvent.object_type, object_type),
        (AuditEvent.object_id, object_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    rows = list(await a.session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))
    return Page(
        items=[AuditOut.model_validate(r) for r in rows],
        next_cursor=rows[-1].id if len(rows) == limit else None,
    )
