"""Tenants: platform admins manage all; a tenant's own users see (and its admin edits) only their own."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import select

from infolinia.api.deps import Access, access
from infolinia.schemas import TenantIn, TenantOut, TenantPatch
from infolinia.store.models import Tenant
from infolinia.tenants import actions

router = APIRouter(tags=["tenants"])


@router.get("/tenants", response_model=list[TenantOut])
async def list_tenants(a: Access = Depends(access("tenants.read"))) -> list[Tenant]:
    query = select(Tenant).order_by(Tenant.id)
    if not a.actor.is_platform_admin:
        query = query.where(Tenant.id == a.actor.tenant_id)
    return list(await a.session.scalars(query))


@router.post("/tenants", response_model=TenantOut, status_code=201)
async def create_tenant(body: TenantIn, a: Access = Depends(access("tenants.create"))) -> Tenant:
    async with a.write() as tx:
        return await actions.create_tenant(tx, body)


@router.get("/tenants/{tenant_id}", response_model=TenantOut)
async def get_tenant(tenant_id: int, a: Access = Depends(access("tenants.read"))) -> Tenant:
    tenant: Tenant = a.obj("tenant_id")
    return tenant


@router.patch("/tenants/{tenant_id}", response_model=TenantOut)
async def update_tenant(tenant_id: int, body: TenantPatch, a: Access = Depends(access("tenants.update"))) -> Tenant:
    async with a.write() as tx:
        tenant = await actions.update_tenant(tx, a.obj("tenant_id"), body)
    if {"business_hours", "timezone"} & body.model_fields_set:
        await a.routing.reload_tenant(tenant.id)  # its queues' opening hours
    a.telephony.invalidate(tenant.id)  # calls read its time zone, languages and record_calls
    if "languages" in body.model_fields_set:
        a.prompts.invalidate(tenant.id)  # the first language decides which of its own recordings callers hear
    return tenant
