"""Customers: search, the record, its timeline, identities, consent (append-only), restriction, export and
erasure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from infolinia.api.deps import Access, access, case_scope, interaction_scope
from infolinia.customers import actions, timeline
from infolinia.schemas import (
    ConsentEventOut,
    ConsentIn,
    Cursor,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    EraseIn,
    Id,
    IdentityIn,
    Page,
    RestrictionIn,
    TimelinePage,
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
    case_number: Id | None = Query(None, description="the customer of the tenant's case of this number"),
    limit: int = Query(50, ge=1, le=200),
    after: Cursor | None = None,
) -> Page[CustomerOut]:
    """Customers matching every filter given; ``q`` matches a phone number, an e-mail address, a name, a customer
    number, or (``#1042``) a case number."""
    found = await actions.search(
        a.session, a.tenant, q=q, phone=phone, email=email, name=name, number=number, case_number=case_number,
        limit=limit, after=after,
    )  # fmt: skip
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
        customer = await actions.erase(tx, a.obj("customer_id"), body.reason, a.settings.data_dir)
    return await actions.view(a.session, customer)


@router.get("/customers/{customer_id}/timeline", response_model=TimelinePage)
async def customer_timeline(
    customer_id: int,
    a: Access = Depends(access("customers.read")),
    limit: int = Query(50, ge=1, le=200),
    before: str | None = Query(None, max_length=100, description="the next_before of the previous page"),
) -> TimelinePage:
    """Everything with this customer, newest first, on every channel: contacts, callbacks, cases and what happened
    on them, consent changes (see docs/customers.md)."""
    items, more = await timeline.timeline(
        a.session, a.obj("customer_id"), interactions_seen=interaction_scope(a.actor, a.tenant.id),
        cases_seen=case_scope(a.actor, a.tenant.id), limit=limit,
        before=None if before is None else timeline.Cursor.parse(before),
    )  # fmt: skip
    return TimelinePage(items=items, next_before=None if more is None else str(more))
