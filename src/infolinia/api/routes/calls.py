"""Control of live voice calls (``voice/calls/control.py``): hold, resume, transfer to a queue or an agent, hang up.

``calls.control`` lets the agent on the call act on it; ``calls.supervise`` lets a supervisor act on any call of the
tenant. Another tenant's interaction is 404 (the gate); an interaction that is no live call of this server, or a
call whose state does not allow the operation (hold on a call not connected, resume on one not held), is 409 with a
``code`` saying why. Each operation done is audited and published (``call.held``, ``call.resumed``,
``call.transferred``, ``call.hung_up``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select

from infolinia.access import can
from infolinia.api.deps import Access, access
from infolinia.errors import Forbidden, Invalid
from infolinia.schemas import MAX_ID
from infolinia.store.models import AgentProfile, Interaction, Queue
from infolinia.store.refs import require_in_tenant
from infolinia.store.uow import Tx
from infolinia.voice.calls import control
from infolinia.voice.calls.control import Operation, Order, Outcome

router = APIRouter(tags=["calls"])

EVENTS: dict[Operation, str] = {
    "hold": "call.held",
    "resume": "call.resumed",
    "transfer": "call.transferred",
    "hangup": "call.hung_up",
}


def _emit(tx: Tx, operation: Operation, tenant_id: int, data: dict[str, object]) -> None:
    """The event of ``operation`` (each type spelled out, as the check that every event has a schema reads)."""
    match operation:
        case "hold":
            tx.emit("call.held", tenant_id, **data)
        case "resume":
            tx.emit("call.resumed", tenant_id, **data)
        case "transfer":
            tx.emit("call.transferred", tenant_id, **data)
        case "hangup":
            tx.emit("call.hung_up", tenant_id, **data)


class TransferIn(BaseModel):
    """Where to: a queue of the tenant, or an agent (rung first, in the call's queue or in ``queue_id``)."""

    model_config = ConfigDict(extra="forbid")
    queue_id: int | None = Field(None, ge=1, le=MAX_ID)
    agent_id: int | None = Field(None, ge=1, le=MAX_ID)

    @model_validator(mode="after")
    def _somewhere(self) -> TransferIn:
        if self.queue_id is None and self.agent_id is None:
            raise ValueError("name a queue_id or an agent_id to transfer the call to")
        return self


class CallControlOut(BaseModel):
    """What the operation did: ``interaction_id`` the call's Interaction it acted on; ``current_interaction_id``
    the one the call goes on in (a new one after a transfer; null once the call has ended)."""

    operation: str
    interaction_id: int
    current_interaction_id: int | None
    held: bool
    queue_id: int | None = None
    agent_id: int | None = None


async def act(a: Access, operation: Operation, where: TransferIn | None = None) -> CallControlOut:
    """Carry out ``operation`` on the live call of the path's interaction, as ``a.actor``; audited and published.
    The UI's desk forms (``web/ui/desk_calls.py``) come through here too."""
    interaction: Interaction = a.obj("interaction_id")
    tenant = a.tenant
    call = control.find_call(a.request.app.state.ctx.calls, tenant.id, interaction.id)
    if not control.may_act(call, a.actor.user_id, can(a.actor, "calls.supervise")):
        raise Forbidden("only the agent on the call or a supervisor controls it", code="not_your_call")
    if where is not None:
        await require_in_tenant(a.session, tenant.id, {"queue_id": (Queue, where.queue_id)})
        if where.agent_id is not None:
            agent = await a.session.scalar(
                select(AgentProfile.user_id).where(
                    AgentProfile.tenant_id == tenant.id, AgentProfile.user_id == where.agent_id
                )
            )
            if agent is None:
                raise Invalid(f"agent_id {where.agent_id} is no agent", code="unknown_reference",
                              details={"field": "agent_id"})  # fmt: skip
    agent_on_call = call.agent_id
    order = Order(operation) if where is None else Order(operation, where.queue_id, where.agent_id)
    done: Outcome = await control.perform(call, order)
    async with a.write() as tx:
        data: dict[str, object] = {"interaction_id": done.interaction_id, "agent": agent_on_call,
                                   "by": a.actor.user_id}  # fmt: skip
        if operation == "transfer":
            data |= {"to_interaction_id": done.current_interaction_id, "queue_id": call.queue_id,
                     "to_agent": done.agent_id}  # fmt: skip
        tx.audit(tenant.id, EVENTS[operation], "interaction", done.interaction_id,
                 **{k: v for k, v in data.items() if k != "interaction_id"})  # fmt: skip
        _emit(tx, operation, tenant.id, data)
    return CallControlOut(
        operation=operation, interaction_id=done.interaction_id, current_interaction_id=done.current_interaction_id,
        held=done.held, queue_id=call.queue_id if operation == "transfer" else None, agent_id=done.agent_id,
    )  # fmt: skip


@router.post("/calls/{interaction_id}/hold", response_model=CallControlOut)
async def hold(interaction_id: int, a: Access = Depends(access("calls.control"))) -> CallControlOut:
    """Put the call on hold: the caller hears the music on hold, the agent's phone silence; the time counts in the
    Interaction's ``hold_s``. 409 ``not_connected`` when the call is not talking to an agent, ``already_held``."""
    return await act(a, "hold")


@router.post("/calls/{interaction_id}/resume", response_model=CallControlOut)
async def resume(interaction_id: int, a: Access = Depends(access("calls.control"))) -> CallControlOut:
    """Take the call off hold: caller and agent hear each other again. 409 ``not_held`` when it is not on hold."""
    return await act(a, "resume")


@router.post("/calls/{interaction_id}/transfer", response_model=CallControlOut)
async def transfer(
    interaction_id: int, body: TransferIn, a: Access = Depends(access("calls.control"))
) -> CallControlOut:
    """Hand the caller on: to a queue (``queue_id``), or to an agent (``agent_id``: offered to them first, in the
    call's queue or in ``queue_id``, until the queue's offer timeout, then to anyone in that queue). The agent's
    phone gets BYE and wraps up; the Interaction ends as transferred and a new one carries the call on, with
    ``transferred_from_id`` naming it, so the next agent sees the earlier contact."""
    return await act(a, "transfer", body)


@router.post("/calls/{interaction_id}/hangup", response_model=CallControlOut)
async def hangup(interaction_id: int, a: Access = Depends(access("calls.control"))) -> CallControlOut:
    """End the call: BYE to the caller and to the agent's phone; the Interaction ends (``agent_hangup``) and the
    agent wraps up."""
    return await act(a, "hangup")
