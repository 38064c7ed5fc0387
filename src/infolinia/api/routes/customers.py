"""Customers: search, the record, identities, consent (append-only), restriction, export and erasure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from infolinia.api.deps import Access, access
from infolinia.customers import actions
from infolinia.schemas import (
    ConsentEventOut,
    ConsentIn,
    Cursor,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    EraseIn,
    IdentityIn,
    Page,
    RestrictionIn,
)

router = APIRouter(tags=["customers"])


@router.get("/customers", response_model=Page[CustomerOut])
async def search_customers(
    a: Access = Depends(access("customers.read")),
    q: str | None = Query(None, max_length=200),
    phone: str | None = Query(None, max_length=200),
    email: str | None = Query(None, max_length=200),
    name: str | None = Query(None, max_length=200),
    number: str | None = Query(None, max_length=200),
    limit: int = Query(50, ge=1, le=200),
    after: Cursor | None = None,
) -> Page[CustomerOut]:
    found = await actions.search(
        a.session, a.tenant, q=q, phone=phone, email=email, name=name, number=number, limit=limit, after=after
    )
    next_cursor = found[-1].id if len(found) == limit else None
    return Page(items=await actions.views(a.session, found), next_cursor=next_cursor)


@router.post("/customers", response_model=CustomerOut, status_code=201)
async def create_customer(body: CustomerIn, a: Access = Depends(access("customers.write"))) -> CustomerOut:
    async with a.write() as tx:
        customer = await actions.create_customer(tx, a.tenant, body)
    return await actions.view(a.session, customer)


@router.get("/customers/{customer_id}", response_model=CustomerOut)
async def get_customer(customer_id: int, a: Access = Depends(access("customers.read"))) -> CustomerOut:
    return await actions.view(a.session, a.obj("customer_id"))


@router.patch("/customers/{customer_id}", response_model=CustomerOut)
async def update_customer(
    customer_id: int, body: CustomerPatch, a: Access = Depends(access("customers.write"))
) -> CustomerOut:
    async with a.write() as tx:
        customer = await actions.update_customer(tx, a.obj("customer_id"), body)
    return await actions.view(a.session, customer)


@router.post("/customers/{customer_id}/identities", response_model=CustomerOut, status_code=201)
async def add_identity(
    customer_id: int, body: IdentityIn, a: Access = Depends(access("customers.write"))
) -> CustomerOut:
    async with a.write() as tx:
        await actions.add_identity(tx, a.tenant, a.obj("customer_id"), body)
    return await actions.view(a.session, a.obj("customer_id"))


@router.delete("/customers/{customer_id}/identities/{identity_id}", response_model=CustomerOut)
async def remove_identity(
    customer_id: int, identity_id: int, a: Access = Depends(access("customers.write"))
) -> CustomerOut:
    async with a.write() as tx:
        await actions.remove_identity(tx, a.obj("customer_id"), a.obj("identity_id"))
    return await actions.view(a.session, a.obj("customer_id"))


@router.get("/customers/{customer_id}/consent", response_model=list[ConsentEventOut])
async def consent_history(customer_id: int, a: Access = Depends(access("customers.read"))) -> list[ConsentEventOut]:
    return await actions.consent_history(a.session, a.obj("customer_id"))


@router.post("/customers/{customer_id}/consent", response_model=ConsentEventOut, status_code=201)
async def record_consent(
    customer_id: int, body: ConsentIn, a: Access = Depends(access("consent.write"))
) -> ConsentEventOut:
    async with a.write() as tx:
        event = await actions.record_consent(tx, a.obj("customer_id"), body)
    return ConsentEventOut.model_validate(event)


@router.put("/customers/{customer_id}/restriction", response_model=CustomerOut)
async def restrict(
    customer_id: int, body: RestrictionIn, a: Access = Depends(access("customers.restrict"))
) -> CustomerOut:
    async with a.write() as tx:
        customer = await actions.set_restriction(tx, a.obj("customer_id"), body)
    return await actions.view(a.session, customer)


@router.delete("/customers/{customer_id}/restriction", response_model=CustomerOut)
async def unrestrict(customer_id: int, a: Access = Depends(access("customers.restrict"))) -> CustomerOut:
    async with a.write() as tx:
        customer = await actions.clear_restriction(tx, a.obj("customer_id"))
    return await actions.view(a.session, customer)


@router.get("/customers/{customer_id}/export")
async def export_customer(customer_id: int, a: Access = Depends(access("customers.export"))) -> dict[str, Any]:
    customer = a.obj("customer_id")
    data = await actions.export(a.session, customer)
    async with a.write() as tx:
        tx.audit(customer.tenant_id, "customer.exported", "customer", customer.id)
    return data


@router.post("/customers/{customer_id}/erase", response_model=CustomerOut)
async def erase_customer(
    customer_id: int, body: EraseIn, a: Access = Depends(access("customers.erase"))
) -> CustomerOut:
    async with a.write() as tx:
        customer = await actions.erase(tx, a.obj("customer_id"), body.reason)
    return await actions.view(a.session, customer)
