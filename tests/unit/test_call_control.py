"""The pure rule of which call control a call takes in which state (``voice/calls/control.refusal``), and the
order of a request through a call's inbox (``perform`` / ``carry_out``) with a stand-in call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from infolinia.errors import Conflict
from infolinia.voice.calls.control import OPERATIONS, Order, carry_out, perform, refusal
from infolinia.voice.calls.inbound import CallState


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("state", [s for s in CallState if s is not CallState.TALKING])
def test_nothing_but_a_connected_call_is_controlled(operation: Any, state: CallState) -> None:
    refused = refusal(operation, state, held=False)
    assert refused is not None and refused.code == "not_connected"
    assert state.value in refused.message


@pytest.mark.parametrize(
    ("operation", "held", "code"),
    [
        ("hold", False, None),
        ("hold", True, "already_held"),
        ("resume", True, None),
        ("resume", False, "not_held"),
        ("transfer", False, None),
        ("transfer", True, None),  # a held caller may be handed on
        ("hangup", False, None),
        ("hangup", True, None),
    ],
)
def test_a_connected_call(operation: Any, held: bool, code: str | None) -> None:
    refused = refusal(operation, CallState.TALKING, held)
    assert (refused.code if refused else None) == code


class StandIn:
    """Just what ``carry_out`` reads and calls of an ``InboundCall``; its inbox runs like the call's."""

    def __init__(self, state: CallState, held: bool = False, queue_id: int | None = 3) -> None:
        self.state, self.held, self.queue_id, self.interaction_id = state, held, queue_id, 7
        self.done: list[tuple[str, Any]] = []

    def post(self, kind: str, value: Any = None) -> None:
        assert kind == "control"
        asyncio.get_running_loop().create_task(carry_out(self, value))  # type: ignore[arg-type]

    async def hold(self, held: bool) -> None:
        self.done.append(("hold", held))
        self.held = held

    async def hang_up(self) -> None:
        self.done.append(("hangup", None))
        self.state = CallState.ENDED

    async def transfer_out(self, queue_id: int | None, agent_id: int | None) -> None:
        self.done.append(("transfer", (queue_id, agent_id)))
        self.interaction_id = 8
        self.state = CallState.QUEUED


async def test_hold_then_resume_then_hang_up() -> None:
    call = StandIn(CallState.TALKING)
    held = await perform(call, Order("hold"))  # type: ignore[arg-type]
    assert held.held and held.interaction_id == 7 and held.current_interaction_id == 7
    with pytest.raises(Conflict) as refused:
        await perform(call, Order("hold"))  # type: ignore[arg-type]
    assert refused.value.code == "already_held" and refused.value.status == 409
    assert not (await perform(call, Order("resume"))).held  # type: ignore[arg-type]
    ended = await perform(call, Order("hangup"))  # type: ignore[arg-type]
    assert ended.current_interaction_id is None
    assert call.done == [("hold", True), ("hold", False), ("hangup", None)]
    with pytest.raises(Conflict):
        await perform(call, Order("resume"))  # type: ignore[arg-type]


async def test_a_transfer_goes_on_in_a_new_interaction() -> None:
    call = StandIn(CallState.TALKING)
    moved = await perform(call, Order("transfer", agent_id=5))  # type: ignore[arg-type]
    assert (moved.interaction_id, moved.current_interaction_id, moved.agent_id) == (7, 8, 5)
    assert call.done == [("transfer", (None, 5))]


async def test_a_transfer_to_an_agent_needs_a_queue_to_fall_back_to() -> None:
    call = StandIn(CallState.TALKING, queue_id=None)  # came through a flow's transfer to an extension
    with pytest.raises(Conflict) as refused:
        await perform(call, Order("transfer", agent_id=5))  # type: ignore[arg-type]
    assert refused.value.code == "no_queue" and call.done == []


async def test_a_call_that_ends_before_it_reads_the_order_answers_no_live_call() -> None:
    call = StandIn(CallState.TALKING)

    def lost(kind: str, value: Any = None) -> None:  # the caller hung up: the call's task reads no more inputs
        call.state = CallState.ENDED

    call.post = lost  # type: ignore[method-assign]
    with pytest.raises(Conflict) as refused:
        await perform(call, Order("hold"))  # type: ignore[arg-type]
    assert refused.value.code == "no_live_call" and call.done == []
