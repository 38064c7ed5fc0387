"""IVR flow validation: each class of error with its message, the demo flow clean, random flows never crash."""

from __future__ import annotations

from collections import deque
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from infolinia.voice.ivr import DEMO_PROMPTS, DEMO_QUEUES, Flow, FlowError, demo_flow, validate
from infolinia.voice.ivr.flow import DIGITS, is_exit, targets

PROMPTS = {"hello", "menu", "info", "bye"}
QUEUES = {"Billing", "Sales"}


def flow(start: str, *nodes: dict[str, Any]) -> Flow:
    return Flow.model_validate({"start": start, "nodes": list(nodes)})


def errors(f: Flow) -> list[tuple[str, str | None, str]]:
    return [(e.path, e.node, e.message) for e in validate(f, PROMPTS, QUEUES)]


def menu(node_id: str, digits: dict[str, str], on_failure: str = "bye", **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "menu", "prompt": "menu", "digits": digits, "on_failure": on_failure, **extra}


BYE = {"id": "bye", "type": "hangup", "prompt": "bye"}
BILLING = {"id": "billing", "type": "queue", "queue": "Billing"}


def test_the_demo_flow_is_clean() -> None:
    assert validate(demo_flow(), set(DEMO_PROMPTS), set(DEMO_QUEUES)) == []


def test_the_demo_flow_needs_its_prompts_and_queues() -> None:
    found = validate(demo_flow(), set(DEMO_PROMPTS) - {"payment_deadlines"}, set(DEMO_QUEUES) - {"Sales"})
    assert [str(e) for e in found] == [
        "nodes[5].queue: 'sales' names an unknown queue 'Sales'",
        "nodes[7].prompt: 'payment_deadlines' plays a missing prompt 'payment_deadlines'",
    ]


def test_a_minimal_flow_is_clean() -> None:
    assert errors(flow("hello", {"id": "hello", "type": "play", "prompt": "hello", "next": "bye"}, BYE)) == []


def test_unknown_node_references() -> None:
    f = flow("m", menu("m", {"1": "billing", "2": "nowhere"}, on_failure="gone"), BILLING)
    assert errors(f) == [
        ("nodes[0].digits.2", "m", "'m' goes to an unknown node 'nowhere'"),
        ("nodes[0].on_failure", "m", "'m' goes to an unknown node 'gone'"),
    ]


def test_unknown_start() -> None:
    assert errors(flow("missing", BYE)) == [("start", None, "start names an unknown node 'missing'")]


def test_duplicate_ids() -> None:
    assert errors(flow("bye", BYE, {"id": "bye", "type": "hangup"})) == [
        ("nodes[1].id", "bye", "duplicate node id 'bye'")
    ]


def test_unreachable_nodes() -> None:
    f = flow("billing", BILLING, BYE, {"id": "info", "type": "announce", "prompt": "info", "next": "bye"})
    assert errors(f) == [
        ("nodes[1]", "bye", "'bye' cannot be reached from the start"),
        ("nodes[2]", "info", "'info' cannot be reached from the start"),
    ]


def test_missing_prompts_in_every_prompt_field() -> None:
    f = flow(
        "m",
        menu("m", {"1": "billing"}, invalid_prompt="oops", timeout_prompt="silence"),
        BILLING,
        BYE | {"prompt": "farewell"},
    )
    assert errors(f) == [
        ("nodes[0].invalid_prompt", "m", "'m' plays a missing prompt 'oops'"),
        ("nodes[0].timeout_prompt", "m", "'m' plays a missing prompt 'silence'"),
        ("nodes[2].prompt", "bye", "'bye' plays a missing prompt 'farewell'"),
    ]


def test_unknown_queues_in_queue_voicemail_and_transfer() -> None:
    f = flow(
        "h",
        {"id": "h", "type": "hours", "open": "q", "closed": "vm", "holiday": "t"},
        {"id": "q", "type": "queue", "queue": "Support"},
        {"id": "vm", "type": "voicemail", "queue": "Night"},
        {"id": "t", "type": "transfer", "queue": "Sales"},
    )
    assert errors(f) == [
        ("nodes[1].queue", "q", "'q' names an unknown queue 'Support'"),
        ("nodes[2].queue", "vm", "'vm' names an unknown queue 'Night'"),
    ]


def test_a_menu_without_digits_has_no_way_out() -> None:
    assert errors(flow("m", menu("m", {}), BYE)) == [("nodes[0].digits", "m", "menu 'm' offers no digit to press")]


def test_a_loop_of_plays_without_exit() -> None:
    f = flow(
        "a",
        {"id": "a", "type": "play", "prompt": "hello", "next": "b"},
        {"id": "b", "type": "play", "prompt": "info", "next": "a"},
    )
    assert errors(f) == [("nodes[0]", "a", "loop a -> b -> a has no way out: none of its nodes leads to an exit")]


def test_a_play_to_itself() -> None:
    f = flow("a", {"id": "a", "type": "play", "prompt": "hello", "next": "a"})
    assert errors(f) == [("nodes[0]", "a", "loop a -> a has no way out: none of its nodes leads to an exit")]


def test_a_node_leading_only_into_a_closed_loop() -> None:
    f = flow(
        "start",
        {"id": "start", "type": "hours", "open": "a", "closed": "b"},
        {"id": "a", "type": "play", "prompt": "hello", "next": "b"},
        {"id": "b", "type": "announce", "prompt": "info", "next": "c"},
        {"id": "c", "type": "announce", "prompt": "info", "next": "b"},
    )
    assert errors(f) == [
        ("nodes[0]", "start", "'start' leads only into loops without an exit"),
        ("nodes[1]", "a", "'a' leads only into loops without an exit"),
        ("nodes[2]", "b", "loop b -> c -> b has no way out: none of its nodes leads to an exit"),
    ]


def test_a_loop_with_a_way_out_is_fine() -> None:
    # menu -> announce -> menu, and the menu's other branch reaches a queue
    f = flow(
        "m",
        menu("m", {"1": "billing", "4": "info"}, on_failure="m"),
        {"id": "info", "type": "announce", "prompt": "info", "next": "m"},
        BILLING,
    )
    assert errors(f) == []


def test_a_menu_whose_branches_all_loop_back() -> None:
    f = flow(
        "m",
        menu("m", {"4": "info"}, on_failure="m"),
        {"id": "info", "type": "announce", "prompt": "info", "next": "m"},
    )
    assert errors(f) == [("nodes[0]", "m", "loop m -> m has no way out: none of its nodes leads to an exit")]


def test_a_callback_offer_ends_the_flow_only_when_an_outcome_ends() -> None:
    loop = flow(
        "cb",
        {"id": "cb", "type": "callback_offer", "accepted": "again", "declined": "again"},
        {"id": "again", "type": "play", "prompt": "hello", "next": "cb"},
    )
    assert errors(loop) == [
        ("nodes[0]", "cb", "loop cb -> again -> cb has no way out: none of its nodes leads to an exit")
    ]
    ends = flow(
        "cb",
        {"id": "cb", "type": "callback_offer", "declined": "again"},
        {"id": "again", "type": "play", "prompt": "hello", "next": "cb"},
    )
    assert errors(ends) == []


def test_identify_needs_both_outcomes() -> None:
    f = flow("id", {"id": "id", "type": "identify", "prompt": "hello", "found": "billing", "not_found": "x"}, BILLING)
    assert errors(f) == [("nodes[0].not_found", "id", "'id' goes to an unknown node 'x'")]


@pytest.mark.parametrize(
    "transfer",
    [
        {"extension": "+48123456789"},
        {"extension": "0048123456789"},
        {"extension": "sip:evil@example.com"},
        {"queue": "Billing", "extension": "101"},
        {},
    ],
)
def test_transfers_never_leave_the_tenant(transfer: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        flow("t", {"id": "t", "type": "transfer", **transfer})


def test_a_transfer_to_an_extension() -> None:
    assert errors(flow("t", {"id": "t", "type": "transfer", "extension": "101"})) == []


def test_a_transfer_s_on_failure_is_checked_like_any_branch() -> None:
    good = flow("t", {"id": "t", "type": "transfer", "extension": "101", "on_failure": "q"},
                {"id": "q", "type": "queue", "queue": "Sales"})  # fmt: skip
    assert errors(good) == []
    dangling = flow("t", {"id": "t", "type": "transfer", "extension": "101", "on_failure": "nowhere"})
    assert [(path, node) for path, node, _ in errors(dangling)] == [("nodes[0].on_failure", "t")]
    with pytest.raises(ValidationError, match="on_failure is for transfers to an extension"):
        flow("t", {"id": "t", "type": "transfer", "queue": "Sales", "on_failure": "t"})
    with pytest.raises(ValidationError):
        flow("t", {"id": "t", "type": "transfer", "extension": "101", "ring_s": 1})


@pytest.mark.parametrize(
    "bad",
    [
        {"start": "a", "nodes": []},
        {"start": "a", "nodes": [{"id": f"n{i}", "type": "hangup"} for i in range(201)]},
        {"start": "a", "nodes": [menu("a", {"A": "a"})]},
        {"start": "a", "nodes": [menu("a", {"1": "a"}, timeout_s=0)]},
        {"start": "a", "nodes": [menu("a", {"1": "a"}, retries=10)]},
        {"start": "a", "nodes": [{"id": "a" * 65, "type": "hangup"}]},
        {"start": "a", "nodes": [{"id": "a b", "type": "hangup"}]},
        {"start": "a", "nodes": [{"id": "a", "type": "dial", "number": "+48123"}]},
        {"start": "a", "nodes": [{"id": "a", "type": "hangup", "extra": 1}]},
        {"start": "a", "nodes": [{"id": "a", "type": "queue", "queue": "Q", "skills": ["s"] * 17}]},
        {
            "start": "a",
            "nodes": [{"id": "a", "type": "identify", "prompt": "p", "found": "a", "not_found": "a", "max_digits": 21}],
        },
    ],
)
def test_sizes_and_shapes_are_bounded(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Flow.model_validate(bad)


# -- random flows ----------------------------------------------------------------------------------------------

IDS = [f"n{i}" for i in range(8)]
REF = st.sampled_from([*IDS, "ghost"])
PROMPT = st.sampled_from(["hello", "menu", "missing"])


def node_strategy(node_id: str) -> st.SearchStrategy[dict[str, Any]]:
    base = {"id": st.just(node_id)}
    kinds = [
        st.fixed_dictionaries({**base, "type": st.just("play"), "prompt": PROMPT, "next": REF}),
        st.fixed_dictionaries(
            {
                **base,
                "type": st.just("menu"),
                "prompt": PROMPT,
                "on_failure": REF,
                "digits": st.dictionaries(st.sampled_from(DIGITS), REF, max_size=4),
            },
            optional={"invalid_prompt": PROMPT, "retries": st.integers(0, 3)},
        ),
        st.fixed_dictionaries(
            {**base, "type": st.just("hours"), "open": REF, "closed": REF}, optional={"holiday": REF}
        ),
        st.fixed_dictionaries({**base, "type": st.just("announce"), "prompt": PROMPT, "next": REF}),
        st.fixed_dictionaries({**base, "type": st.just("identify"), "prompt": PROMPT, "found": REF, "not_found": REF}),
        st.fixed_dictionaries({**base, "type": st.just("queue"), "queue": st.sampled_from(["Billing", "Nope"])}),
        st.fixed_dictionaries({**base, "type": st.just("callback_offer")}, optional={"accepted": REF, "declined": REF}),
        st.fixed_dictionaries({**base, "type": st.just("voicemail")}),
        st.fixed_dictionaries({**base, "type": st.just("transfer"), "extension": st.just("101")}),
        st.fixed_dictionaries({**base, "type": st.just("hangup")}),
    ]
    return st.one_of(kinds)


@st.composite
def flows(draw: st.DrawFn) -> Flow:
    count = draw(st.integers(1, len(IDS)))
    ids = [draw(st.sampled_from(IDS)) for _ in range(count)]  # duplicates allowed
    nodes = [draw(node_strategy(node_id)) for node_id in ids]
    return Flow.model_validate({"start": draw(REF), "nodes": nodes})


def trapped_nodes(f: Flow) -> set[str]:
    """Plain oracle: nodes reachable from the start from which no exit can be reached (one search per node)."""
    nodes = {}
    for node in f.nodes:
        nodes.setdefault(node.id, node)
    if f.start not in nodes:
        return set()

    def reach(source: str) -> set[str]:
        seen, todo = {source}, deque([source])
        while todo:
            for _, target in targets(nodes[todo.popleft()]):
                if target in nodes and target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    return {n for n in reach(f.start) if not any(is_exit(nodes[m]) for m in reach(n))}


@settings(max_examples=200, deadline=None)
@given(flows())
def test_random_flows_never_crash_and_dead_ends_are_found(f: Flow) -> None:
    found = validate(f, PROMPTS, QUEUES)
    assert all(isinstance(e, FlowError) and e.message for e in found)
    reported = {e.node for e in found if "no way out" in e.message or "loops without an exit" in e.message}
    trapped = trapped_nodes(f)
    assert reported <= trapped
    assert bool(reported) == bool(trapped)
