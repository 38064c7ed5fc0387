"""Telephony configuration of the caller's tenant: IVR flows, phone numbers and trunks. Admins manage them,
supervisors read them. After each committed change the call control's directory forgets what it cached, so the next
call sees the change."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar

from fastapi import APIRouter, Depends
from sqlalchemy import select

from infolinia.api.deps import Access, access
from infolinia.store.models import IvrFlow, PhoneNumber, Trunk
from infolinia.store.uow import Tx
from infolinia.voice.telephony import actions, known_prompts
from infolinia.voice.telephony.schemas import (
    FlowIn,
    FlowOut,
    NumberIn,
    NumberOut,
    NumberPatch,
    TrunkIn,
    TrunkOut,
    TrunkPatch,
)

router = APIRouter(tags=["telephony"])
Row = TypeVar("Row", IvrFlow, PhoneNumber, Trunk)


async def tenant_rows(a: Access, model: type[Row]) -> list[Row]:
    """The tenant's rows of ``model``, oldest first (a tenant has a few: no paging)."""
    return list(await a.session.scalars(select(model).where(model.tenant_id == a.tenant.id).order_by(model.id)))


@asynccontextmanager
async def change(a: Access) -> AsyncIterator[Tx]:
    """The route's write; once it committed, the call control's directory forgets what it cached of the tenant."""
    async with a.write() as tx:
        yield tx
    a.telephony.invalidate(a.tenant.id)


# --- IVR flows -------------------------------------------------------------------------------------------------


@router.get("/ivr-flows", response_model=list[FlowOut])
async def list_flows(a: Access = Depends(access("telephony.read"))) -> list[IvrFlow]:
    return await tenant_rows(a, IvrFlow)


@router.post("/ivr-flows", response_model=FlowOut, status_code=201)
async def create_flow(body: FlowIn, a: Access = Depends(access("telephony.manage"))) -> IvrFlow:
    """A new flow, validated as a whole: a 422 ``invalid_flow`` lists every problem in ``details.problems``."""
    prompts = await known_prompts(a.session, a.tenant.id)
    async with change(a) as tx:
        flow = await actions.create_flow(tx, a.tenant.id, body, prompts)
    return flow


@router.get("/ivr-flows/{flow_id}", response_model=FlowOut)
async def get_flow(flow_id: int, a: Access = Depends(access("telephony.read"))) -> IvrFlow:
    flow: IvrFlow = a.obj("flow_id")
    return flow


@router.put("/ivr-flows/{flow_id}", response_model=FlowOut)
async def replace_flow(flow_id: int, body: FlowIn, a: Access = Depends(access("telephony.manage"))) -> IvrFlow:
    """Replace name and definition (validated as on creation); the version goes up by one."""
    prompts = await known_prompts(a.session, a.tenant.id)
    async with change(a) as tx:
        flow = await actions.update_flow(tx, a.obj("flow_id"), body, prompts)
    return flow


@router.delete("/ivr-flows/{flow_id}", status_code=204)
async def delete_flow(flow_id: int, a: Access = Depends(access("telephony.manage"))) -> None:
    """409 ``flow_in_use`` while a number still enters it."""
    async with change(a) as tx:
        await actions.delete_flow(tx, a.obj("flow_id"))


# --- phone numbers ---------------------------------------------------------------------------------------------


@router.get("/numbers", response_model=list[NumberOut])
async def list_numbers(a: Access = Depends(access("telephony.read"))) -> list[PhoneNumber]:
    return await tenant_rows(a, PhoneNumber)


@router.post("/numbers", response_model=NumberOut, status_code=201)
async def create_number(body: NumberIn, a: Access = Depends(access("telephony.manage"))) -> PhoneNumber:
    """``number`` in any usual form (national ones in the tenant's country); stored in E.164. 409 ``number_taken``
    when any tenant has it."""
    async with change(a) as tx:
        number = await actions.create_number(tx, a.tenant, body)
    return number


@router.patch("/numbers/{number_id}", response_model=NumberOut)
async def update_number(
    number_id: int, body: NumberPatch, a: Access = Depends(access("telephony.manage"))
) -> PhoneNumber:
    async with change(a) as tx:
        number = await actions.update_number(tx, a.tenant, a.obj("number_id"), body)
    return number


@router.delete("/numbers/{number_id}", status_code=204)
async def delete_number(number_id: int, a: Access = Depends(access("telephony.manage"))) -> None:
    async with change(a) as tx:
        await actions.delete_number(tx, a.obj("number_id"))


# --- trunks ----------------------------------------------------------------------------------------------------


@router.get("/trunks", response_model=list[TrunkOut])
async def list_trunks(a: Access = Depends(access("telephony.read"))) -> list[Trunk]:
    return await tenant_rows(a, Trunk)


@router.post("/trunks", response_model=TrunkOut, status_code=201)
async def create_trunk(body: TrunkIn, a: Access = Depends(access("telephony.manage"))) -> Trunk:
    """Allowed sources (CIDR), credentials, or both (then a call must come from a source and authenticate). Only
    digests of the password are kept; no answer ever shows them."""
    async with change(a) as tx:
        trunk = await actions.create_trunk(tx, a.tenant, body)
    return trunk


@router.patch("/trunks/{trunk_id}", response_model=TrunkOut)
async def update_trunk(trunk_id: int, body: TrunkPatch, a: Access = Depends(access("telephony.manage"))) -> Trunk:
    async with change(a) as tx:
        trunk = await actions.update_trunk(tx, a.tenant, a.obj("trunk_id"), body)
    return trunk


@router.delete("/trunks/{trunk_id}", status_code=204)
async def delete_trunk(trunk_id: int, a: Access = Depends(access("telephony.manage"))) -> None:
    async with change(a) as tx:
        await actions.delete_trunk(tx, a.obj("trunk_id"))
