"""The IVR interpreter: scripted paths through the demo flow, barge-in, menus, identify, and random callers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.test_ivr_validate import flows

from infolinia.voice.ivr import (
    Call,
    CallError,
    Collect,
    Command,
    EnterQueue,
    Flow,
    Hangup,
    Lookup,
    OfferCallback,
    Play,
    RecordVoicemail,
    Transfer,
    demo_flow,
)
from infolinia.voice.ivr.flow import DIGITS
from infolinia.voice.ivr.interpreter import HoursStatus
from infolinia.voice.ivr.validate import validate

TERMINAL = (EnterQueue, RecordVoicemail, Transfer, Hangup)


def hours(status: HoursStatus) -> Any:
    return lambda now: status


def open_call() -> tuple[Call, list[Command]]:
    call = Call(demo_flow())
    return call, call.start(0.0, "+48600100200", hours("open"))


def at_menu() -> Call:
    call, out = open_call()
    assert out == [Play("greeting", True)]
    assert call.prompt_done(3.0) == [Play("menu_main", True)]
    assert call.prompt_done(8.0) == [Collect(1, 5.0)]
    assert call.next_deadline == 13.0
    return call


def test_open_greeting_then_menu_then_2_goes_to_technical() -> None:
    call = at_menu()
    assert call.digit("2", 9.0) == [EnterQueue("Technical", (), "pl", 0)]
    assert call.done
    assert call.path == ["hours", "greeting", "main_menu", "technical"]
    assert call.next_deadline is None


def test_4_plays_the_payment_deadlines_then_back_to_the_menu_then_1_billing() -> None:
    call = at_menu()
    assert call.digit("4", 9.0) == [Play("payment_deadlines", True)]
    assert call.prompt_done(30.0) == [Play("menu_main", True)]
    assert call.digit("1", 31.0) == [EnterQueue("Billing", (), "pl", 0)]
    assert call.path == ["hours", "greeting", "main_menu", "payment_deadlines", "main_menu", "billing"]


def test_three_invalid_digits_go_to_the_fallback() -> None:
    call = at_menu()
    assert call.digit("7", 9.0) == [Play("invalid", True)]
    assert call.prompt_done(10.0) == [Play("menu_main", True)]
    assert call.prompt_done(15.0) == [Collect(1, 5.0)]
    assert call.digit("9", 16.0) == [Play("invalid", True)]
    assert call.digit("*", 16.5) == [EnterQueue("Billing", (), None, 10)]  # a digit cuts the notice and counts
    assert call.path[-1] == "operator"


def test_timeouts_and_invalid_digits_count_together() -> None:
    call = at_menu()
    assert call.timeout(12.9) == []  # before the deadline: nothing
    assert call.timeout(13.0) == [Play("no_input", True)]
    assert call.prompt_done(14.0) == [Play("menu_main", True)]
    assert call.prompt_done(19.0) == [Collect(1, 5.0)]
    assert call.digit("8", 20.0) == [Play("invalid", True)]
    assert call.prompt_done(21.0) == [Play("menu_main", True)]
    assert call.prompt_done(26.0) == [Collect(1, 5.0)]
    assert call.timeout(31.0) == [EnterQueue("Billing", (), None, 10)]


def test_the_count_starts_again_when_the_menu_is_entered_again() -> None:
    call = at_menu()
    call.digit("7", 9.0)
    call.digit("7", 9.5)  # two failures
    assert call.digit("4", 10.0) == [Play("payment_deadlines", True)]
    call.prompt_done(20.0)
    assert call.digit("7", 21.0) == [Play("invalid", True)]
    assert call.digit("7", 22.0) == [Play("invalid", True)]
    assert call.digit("3", 23.0) == [EnterQueue("Sales", (), "pl", 0)]


def test_closed_plays_the_message_then_offers_a_callback() -> None:
    call = Call(demo_flow())
    assert call.start(0.0, "+48600100200", hours("closed")) == [Play("closed", True)]
    assert call.prompt_done(5.0) == [OfferCallback("callback_offer")]
    assert call.callback_result(True, 9.0) == [Hangup("callback_accepted")]
    assert call.path == ["hours", "closed", "closed_callback"]


def test_holiday_goes_the_closed_way_and_a_declined_callback_says_goodbye() -> None:
    call = Call(demo_flow())
    assert call.start(0.0, None, hours("holiday")) == [Play("closed", True)]
    assert call.prompt_done(5.0) == [OfferCallback("callback_offer")]
    assert call.callback_result(False, 9.0) == [Play("goodbye", False)]
    assert call.digit("1", 9.5) == []  # not interruptible: dropped
    assert call.prompt_done(11.0) == [Hangup("closed")]
    assert call.done


def test_0_requests_a_callback_and_declining_returns_to_the_menu() -> None:
    call = at_menu()
    assert call.digit("0", 9.0) == [OfferCallback("callback_offer")]
    assert call.callback_result(False, 12.0) == [Play("menu_main", True)]
    assert call.digit("0", 13.0) == [OfferCallback("callback_offer")]
    assert call.callback_result(True, 14.0) == [Hangup("callback_accepted")]


def test_barge_in_during_the_greeting() -> None:
    call, _ = open_call()
    assert call.digit("3", 1.0) == [EnterQueue("Sales", (), "pl", 0)]  # the menu prompt is never played
    assert call.path == ["hours", "greeting", "main_menu", "sales"]
    assert call.prompt_done(2.0) == []  # the greeting's late end changes nothing


def test_barge_in_with_an_invalid_digit_counts_as_a_menu_failure() -> None:
    call, _ = open_call()
    assert call.digit("5", 1.0) == [Play("invalid", True)]
    assert call.path == ["hours", "greeting", "main_menu"]


def test_barge_in_during_the_menu_prompt_and_the_announcement() -> None:
    call = at_menu()
    call2, _ = open_call()
    call2.prompt_done(3.0)
    assert call2.digit("4", 4.0) == [Play("payment_deadlines", True)]
    assert call2.digit("2", 5.0) == [EnterQueue("Technical", (), "pl", 0)]
    assert call2.path == ["hours", "greeting", "main_menu", "payment_deadlines", "main_menu", "technical"]
    assert call.digit("#", 9.0) == [Play("invalid", True)]


def test_stray_inputs_are_ignored() -> None:
    call, _ = open_call()
    assert call.timeout(100.0) == []
    assert call.lookup_result(5, 1.0) == []
    assert call.callback_result(True, 1.0) == []
    assert call.path == ["hours", "greeting"]
    call.digit("2", 2.0)
    assert call.done
    assert call.digit("1", 3.0) == call.prompt_done(3.0) == call.timeout(99.0) == []


def test_inputs_are_checked() -> None:
    call, _ = open_call()
    with pytest.raises(CallError):
        call.digit("A", 1.0)
    with pytest.raises(CallError):
        call.start(1.0, None, hours("open"))


def test_a_flow_with_unknown_references_cannot_run() -> None:
    bad = Flow.model_validate({"start": "a", "nodes": [{"id": "a", "type": "play", "prompt": "p", "next": "b"}]})
    with pytest.raises(CallError, match="unknown node 'b'"):
        Call(bad)


def test_looping_through_the_menu_ends_at_the_visit_limit() -> None:
    call = Call(demo_flow(), max_visits=10)
    out = call.start(0.0, None, hours("open"))
    for step in range(20):
        out = call.digit("4", float(step))
        if call.done:
            break
    assert out == [Hangup("loop_limit")]
    assert len(call.path) == 10


# -- identify, transfer, voicemail -------------------------------------------------------------------------------

IDENTIFY = Flow.model_validate(
    {
        "start": "who",
        "nodes": [
            {"id": "who", "type": "identify", "prompt": "number", "max_digits": 4, "found": "vip", "not_found": "vm"},
            {"id": "vip", "type": "transfer", "extension": "101"},
            {"id": "vm", "type": "voicemail", "prompt": "leave", "queue": "Billing", "max_s": 60},
        ],
    }
)


def test_identify_by_caller_id() -> None:
    call = Call(IDENTIFY)
    assert call.start(0.0, "+48600100200", hours("open")) == [Lookup(caller_id="+48600100200")]
    assert call.lookup_result(42, 0.1) == [Transfer("extension", "101")]
    assert call.customer_id == 42


def test_identify_by_typed_number_after_the_caller_id_fails() -> None:
    call = Call(IDENTIFY)
    call.start(0.0, "+48600100200", hours("open"))
    assert call.lookup_result(None, 0.1) == [Play("number", True)]
    assert call.prompt_done(2.0) == [Collect(4, 5.0)]
    assert call.digit("1", 3.0) == []
    assert call.next_deadline == 8.0
    assert call.digit("2", 4.0) == []
    assert call.digit("#", 5.0) == [Lookup(digits="12")]
    assert call.lookup_result(None, 5.1) == [RecordVoicemail("leave", "Billing", 60)]


def test_identify_without_caller_id_stops_at_max_digits_and_star_starts_again() -> None:
    call = Call(IDENTIFY)
    assert call.start(0.0, None, hours("open")) == [Play("number", True)]
    for d in "98*":
        assert call.digit(d, 1.0) == []
    assert [call.digit(d, 2.0) for d in "1234"] == [[], [], [], [Lookup(digits="1234")]]
    assert call.lookup_result(7, 3.0) == [Transfer("extension", "101")]


def test_identify_timeout_with_digits_looks_them_up_and_without_goes_to_not_found() -> None:
    call = Call(IDENTIFY)
    call.start(0.0, None, hours("open"))
    call.prompt_done(1.0)
    call.digit("5", 2.0)
    assert call.timeout(7.0) == [Lookup(digits="5")]
    silent = Call(IDENTIFY)
    silent.start(0.0, None, hours("open"))
    silent.prompt_done(1.0)
    assert silent.timeout(6.0) == [RecordVoicemail("leave", "Billing", 60)]


def test_transfer_to_a_queue() -> None:
    f = Flow.model_validate({"start": "t", "nodes": [{"id": "t", "type": "transfer", "queue": "Sales"}]})
    assert Call(f).start(0.0, None, hours("open")) == [Transfer("queue", "Sales")]


def test_a_failed_transfer_to_an_extension_goes_on_to_on_failure() -> None:
    f = Flow.model_validate({"start": "t", "nodes": [
        {"id": "t", "type": "transfer", "extension": "1002", "ring_s": 15, "on_failure": "vm"},
        {"id": "vm", "type": "voicemail", "queue": "Billing", "max_s": 60},
    ]})  # fmt: skip
    call = Call(f)
    assert call.start(0.0, None, hours("open")) == [Transfer("extension", "1002", 15.0)]
    assert call.done
    assert call.transfer_failed(15.0) == [RecordVoicemail(None, "Billing", 60)]
    assert call.path == ["t", "vm"] and call.done
    assert call.transfer_failed(16.0) == []  # the voicemail is no transfer


def test_a_failed_transfer_without_on_failure_leaves_the_ending_to_the_call() -> None:
    f = Flow.model_validate({"start": "t", "nodes": [{"id": "t", "type": "transfer", "extension": "1002"}]})
    call = Call(f)
    assert call.start(0.0, None, hours("open")) == [Transfer("extension", "1002", 30.0)]
    assert call.transfer_failed(30.0) == [] and call.path == ["t"]


# -- random callers --------------------------------------------------------------------------------------------

Input = tuple[str, Any]
INPUTS = st.one_of(
    st.tuples(st.just("digit"), st.sampled_from(DIGITS)),
    st.tuples(st.just("prompt_done"), st.none()),
    st.tuples(st.just("timeout"), st.none()),
    st.tuples(st.just("lookup"), st.one_of(st.none(), st.integers(1, 1000))),
    st.tuples(st.just("callback"), st.booleans()),
)


def feed(call: Call, kind: str, value: Any, now: float) -> list[Command]:
    if kind == "digit":
        return call.digit(value, now)
    if kind == "prompt_done":
        return call.prompt_done(now)
    if kind == "timeout":
        return call.timeout(call.next_deadline if call.next_deadline is not None else now)
    if kind == "lookup":
        return call.lookup_result(value, now)
    return call.callback_result(value, now)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["open", "closed", "holiday"]),
    st.one_of(st.none(), st.just("+48600100200")),
    st.lists(INPUTS, max_size=400),
)
def test_random_callers_on_the_demo_flow(status: HoursStatus, caller_id: str | None, inputs: list[Input]) -> None:
    """Random inputs: at most one terminal command, only at the end; every node visited is in the flow."""
    flow = demo_flow()
    ids = {node.id for node in flow.nodes}
    call = Call(flow)
    out = call.start(0.0, caller_id, hours(status))
    now = 0.0
    for kind, value in inputs:
        if call.done:
            break
        now += 1.0
        # as the shell's timer would: a deadline that fell due before this input fires first
        while not call.done and (due := call.next_deadline) is not None and due < now:
            out = call.timeout(due)
            assert all(not isinstance(c, TERMINAL) for c in out[:-1])
            assert call.next_deadline is None or call.next_deadline > due, "a deadline that fired stays"
        if call.done:
            break
        out = feed(call, kind, value, now)
        assert all(not isinstance(c, TERMINAL) for c in out[:-1])
        assert call.next_deadline is None or call.next_deadline >= now
    assert set(call.path) <= ids
    assert call.done == (bool(out) and isinstance(out[-1], TERMINAL))


def answer(call: Call, out: list[Command], choice: Input | None, now: float) -> list[Command]:
    """What the shell does next: the caller's choice when there is one, then, if that changed nothing, what the
    shell itself reports (a lookup or callback answer, the end of the prompt, the deadline)."""
    last = out[-1] if out else None
    value = None if choice is None else choice[1]
    if isinstance(last, Lookup):
        return call.lookup_result(value if isinstance(value, int) else None, now)
    if isinstance(last, OfferCallback):
        return call.callback_result(value is True, now)
    if choice is not None and choice[0] == "digit":
        result = call.digit(choice[1], now)
        if result or call.done or call.next_deadline is not None:
            return result
    if call.next_deadline is not None:
        return call.timeout(call.next_deadline)
    return call.prompt_done(now)


VISITS = 30
# A menu visit: its prompt, then per failure (retries + 1 <= 4) the digit or timeout, the notice and the prompt;
# an identify visit: the caller ID lookup, the prompt, up to 10 digits and the number's lookup.
STEPS_PER_VISIT = 1 + 4 * 3


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["open", "closed", "holiday"]),
    st.one_of(st.none(), st.just("+48600100200")),
    st.lists(INPUTS, max_size=300),
)
def test_every_call_on_the_demo_flow_ends_within_bounded_steps(
    status: HoursStatus, caller_id: str | None, choices: list[Input]
) -> None:
    """Driven as the shell drives it, every caller reaches a terminal command within a bounded number of inputs."""
    flow = demo_flow()
    ids = {node.id for node in flow.nodes}
    call = Call(flow, max_visits=VISITS)
    out = call.start(0.0, caller_id, hours(status))
    now = 0.0
    steps = 0
    bound = VISITS * STEPS_PER_VISIT
    while not call.done:
        steps += 1
        assert steps <= bound, call.path
        now += 0.5
        choice = choices[steps - 1] if steps <= len(choices) else None
        out = answer(call, out, choice, now) or out
    assert isinstance(out[-1], TERMINAL)
    assert all(not isinstance(c, TERMINAL) for c in out[:-1])
    assert set(call.path) <= ids
    assert len(call.path) <= VISITS


@settings(max_examples=200, deadline=None)
@given(
    flows(),
    st.sampled_from(["open", "closed", "holiday"]),
    st.one_of(st.none(), st.just("+48600100200")),
    st.lists(INPUTS, max_size=100),
)
def test_any_runnable_flow_ends(flow: Flow, status: HoursStatus, caller_id: str | None, choices: list[Input]) -> None:
    """Random flows whose references resolve, even ones with dead-end loops, end within the visit limit."""
    try:
        call = Call(flow, max_visits=VISITS)
    except CallError:
        assert any("unknown node" in e.message for e in validate(flow, set(), set()))
        return
    ids = {node.id for node in flow.nodes}
    out = call.start(0.0, caller_id, hours(status))
    now = 0.0
    steps = 0
    while not call.done:
        steps += 1
        assert steps <= VISITS * STEPS_PER_VISIT, call.path
        now += 0.5
        choice = choices[steps - 1] if steps <= len(choices) else None
        out = answer(call, out, choice, now) or out
    assert isinstance(out[-1], TERMINAL)
    assert set(call.path) <= ids
    assert len(call.path) <= VISITS
