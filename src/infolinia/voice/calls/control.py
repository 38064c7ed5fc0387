"""Call control from the server: hold, resume, transfer (to a queue or to an agent) and hang up a call an agent is
talking on, as the desk's buttons and ``POST /api/v1/calls/{interaction_id}/...`` ask.

``refusal`` is the pure rule of which operation a call in which state takes (anything else is a 409 with a clear
code); ``find_call`` finds the live call of an Interaction in this server, only within the asking tenant;
``perform`` posts the operation to the call's inbox, so it is carried out by the call's own task between its other
inputs (never while a prompt, a routing decision or a SIP request is half handled), and waits for its outcome.

- **hold**: the bridge is undone; the caller hears the music on hold, the agent's phone is sent nothing (silence).
  Hold time is added up on the Interaction's ``hold_s`` (at resume and at the end), like a hold from the phone.
- **resume**: caller and agent are bridged again.
- **transfer to a queue**: the agent's leg is ended (BYE) and their task completed (the agent wraps up); the
  Interaction gets ``transferred_at`` and ends (``end_reason`` ``transferred``); a new Interaction continues the
  call (same customer, caller and Call-ID, ``transferred_from_id`` the old one) with a new voice task in the
  chosen queue, so the next agent's task context shows the earlier contact. The caller hears the queue again.
- **transfer to an agent**: the same, with the task in the call's queue offered to that agent first
  (``preferred_agent_id``) until the queue's offer timeout: if they do not answer by then, the task goes to
  whoever is free in that queue (the caller is never dropped).
- **hang up**: BYE to both legs; the task is completed (the agent wraps up) and the Interaction ends
  (``end_reason`` ``agent_hangup``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from infolinia.errors import Conflict
from infolinia.voice.calls.inbound import CallState

if TYPE_CHECKING:
    from infolinia.voice.calls.inbound import InboundCall
    from infolinia.voice.calls.manager import CallManager

Operation = Literal["hold", "resume", "transfer", "hangup"]
OPERATIONS: tuple[Operation, ...] = ("hold", "resume", "transfer", "hangup")
#: how long a request waits for the call's task to carry out an operation
ANSWER_WITHIN_S = 10.0
CHECK_EVERY_S = 0.25


@dataclass(frozen=True, slots=True)
class Refused:
    code: str
    message: str


def refusal(operation: Operation, state: CallState, held: bool) -> Refused | None:
    """Why a call in ``state`` (``held``: on hold) cannot take ``operation`` now; None when it can."""
    if state is not CallState.TALKING:
        return Refused("not_connected", f"the call is {state.value}, not connected to an agent: cannot {operation}")
    if operation == "hold" and held:
        return Refused("already_held", "the call is already on hold")
    if operation == "resume" and not held:
        return Refused("not_held", "the call is not on hold")
    return None


@dataclass(slots=True)
class Order:
    """One operation for a call's task; ``done`` gets the outcome (or a ``Conflict``)."""

    operation: Operation
    queue_id: int | None = None
    agent_id: int | None = None
    done: asyncio.Future[Outcome] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an operation did: the call's Interaction before it and the one it goes on in (a new one after a
    transfer), the queue and agent it was transferred to, and whether it is on hold now."""

    interaction_id: int
    current_interaction_id: int | None
    held: bool
    queue_id: int | None = None
    agent_id: int | None = None


def find_call(manager: CallManager, tenant_id: int, interaction_id: int) -> InboundCall:
    """The live call of ``interaction_id`` in ``tenant_id``; 409 when this server has none (ended, or never a call;
    the API's gate has already answered 404 for another tenant's interaction, and a call of another tenant is never
    found here)."""
    for call in manager.calls.values():
        if call.interaction_id == interaction_id and call.tenant_id == tenant_id and call.state is not CallState.ENDED:
            return call
    raise Conflict(f"interaction {interaction_id} is not a live call", code="no_live_call")


def may_act(call: InboundCall, user_id: int, supervises: bool) -> bool:
    """Only the agent on the call, or a supervisor, controls it."""
    return supervises or (call.agent_id is not None and call.agent_id == user_id)


async def perform(call: InboundCall, order: Order) -> Outcome:
    """Have the call's task carry out ``order``; its outcome, or the ``Conflict`` it was refused with."""
    if call.state is CallState.ENDED:
        raise Conflict("the call has ended", code="not_connected")
    call.post("control", order)
    deadline = asyncio.get_running_loop().time() + ANSWER_WITHIN_S
    while True:  # a call that ends before its task reads the order never answers it: the end is the answer
        try:
            return await asyncio.wait_for(asyncio.shield(order.done), CHECK_EVERY_S)
        except TimeoutError:
            if _ended(call) and not order.done.done():
                raise Conflict("the call has ended", code="no_live_call") from None
            if asyncio.get_running_loop().time() > deadline:
                raise Conflict("the call did not take the request in time", code="call_busy") from None


def _ended(call: InboundCall) -> bool:
    return call.state is CallState.ENDED


async def carry_out(call: InboundCall, order: Order) -> None:
    """In the call's task: check ``order`` against the call's state, do it, and tell the asker."""
    if order.done.done():
        return
    before = call.interaction_id
    refused = refusal(order.operation, call.state, call.held)
    if refused is None and order.operation == "transfer" and order.queue_id is None and call.queue_id is None:
        refused = Refused("no_queue", "the call came through no queue: name a queue to transfer it to")
    if refused is not None or before is None:
        problem = refused or Refused("not_connected", "the call has no record")
        order.done.set_exception(Conflict(problem.message, code=problem.code))
        return
    try:
        if order.operation == "hold":
            await call.hold(True)
        elif order.operation == "resume":
            await call.hold(False)
        elif order.operation == "hangup":
            await call.hang_up()
        else:
            await call.transfer_out(order.queue_id, order.agent_id)
    except BaseException as exc:
        if not order.done.done():
            order.done.set_exception(Conflict("the call could not do it", code="call_failed"))
        raise exc
    if not order.done.done():
        current = None if call.state is CallState.ENDED else call.interaction_id
        order.done.set_result(Outcome(before, current, call.held, order.queue_id, order.agent_id))
