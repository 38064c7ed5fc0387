"""What an admin saves: numbers in E.164 with their national form, trunk source networks, and IVR flows whose every
problem (shape or graph) comes back with its path, node and field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from infolinia.voice.ivr import DEMO_PROMPTS, DEMO_QUEUES, demo_flow
from infolinia.voice.telephony.schemas import TrunkIn
from infolinia.voice.telephony.validation import (
    MAX_SOURCES,
    FlowProblem,
    InvalidNumber,
    check_flow,
    number_forms,
    source_network,
)

# --- numbers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["+48800100200", "+48 800 100 200", "800 100 200", "0048800100200", "tel:+48800100200"])
def test_numbers_are_stored_in_e164_with_their_national_form(raw: str) -> None:
    assert number_forms(raw, "PL") == ("+48800100200", "800100200")


def test_national_numbers_are_read_in_the_tenants_country() -> None:
    assert number_forms("0800 100 300", "GB") == ("+44800100300", "800100300")
    assert number_forms("800 100 300", "PL") == ("+48800100300", "800100300")
    assert number_forms("+44 800 100 300", "PL") == ("+44800100300", "800100300")


@pytest.mark.parametrize("raw", ["12", "abc", "+48 800 100 2000000", "+999 123 456", "800100200x", "+", "1" * 41])
def test_invalid_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidNumber):
        number_forms(raw, "PL")


# --- trunk sources ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "network"),
    [
        ("127.0.0.1/32", "127.0.0.1/32"),
        ("127.0.0.1", "127.0.0.1/32"),
        ("192.0.2.0/24", "192.0.2.0/24"),
        ("192.0.2.0/255.255.255.0", "192.0.2.0/24"),
        ("::1", "::1/128"),
        ("2001:0DB8:0000::/32", "2001:db8::/32"),
        ("10.0.0.0/8", "10.0.0.0/8"),
    ],
)
def test_source_networks_in_cidr_form(value: str, network: str) -> None:
    assert source_network(value) == network


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("10.0.0.1/24", "host bits set"),
        ("2001:db8::1/32", "host bits set"),
        ("banana", "not an IP network"),
        ("10.0.0.0/33", "not an IP network"),
        ("300.1.1.1", "not an IP network"),
        ("010.0.0.1", "not an IP network"),
        ("", "not an IP network"),
        ("fe80::1%eth0", "zone"),
        ("::ffff:192.0.2.1", "write IPv4 networks as IPv4"),
        ("0.0.0.0/0", "every address"),
        ("::/0", "every address"),
    ],
)
def test_bad_source_networks_say_why(value: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        source_network(value)


def test_trunk_sources_are_normalised_deduplicated_and_bounded() -> None:
    trunk = TrunkIn(name="carrier", allowed_sources=["192.0.2.7", " 192.0.2.7/32 ", "::1"])
    assert trunk.allowed_sources == ["192.0.2.7/32", "::1/128"]
    with pytest.raises(ValidationError) as caught:
        TrunkIn(name="carrier", allowed_sources=["192.0.2.0/24", "192.0.2.1/24"])
    [error] = caught.value.errors()
    assert error["loc"] == ("allowed_sources", 1) and "host bits set" in error["msg"]
    with pytest.raises(ValidationError, match="at most 32"):
        TrunkIn(name="carrier", allowed_sources=[f"192.0.2.{i}" for i in range(MAX_SOURCES + 1)])


def test_trunk_passwords_are_taken_as_given() -> None:
    assert TrunkIn(name="t", username="carrier", password="  twelve chars  ").password == "  twelve chars  "
    with pytest.raises(ValidationError, match="at least 12"):
        TrunkIn(name="t", username="carrier", password="short")
    with pytest.raises(ValidationError, match="username"):
        TrunkIn(name="t", username="1001", password="long enough secret")  # an extension, not a trunk's name


# --- flows -----------------------------------------------------------------------------------------------------


def test_the_demo_flow_is_sound() -> None:
    flow, found = check_flow(demo_flow().model_dump(mode="json"), DEMO_PROMPTS, DEMO_QUEUES)
    assert found == [] and flow == demo_flow()


def test_graph_problems_name_node_and_field() -> None:
    definition = {
        "start": "menu",
        "nodes": [
            {"id": "menu", "type": "menu", "prompt": "menu_main", "digits": {"1": "q", "2": "a", "3": "gone"},
             "on_failure": "q"},
            {"id": "q", "type": "queue", "queue": "Nowhere"},
            {"id": "a", "type": "play", "prompt": "no_such_prompt", "next": "b"},
            {"id": "b", "type": "play", "prompt": "greeting", "next": "a"},
            {"id": "orphan", "type": "hangup"},
        ],
    }  # fmt: skip
    flow, found = check_flow(definition, DEMO_PROMPTS, DEMO_QUEUES)
    assert flow is not None
    by_path = {p.path: p for p in found}
    assert by_path["nodes[0].digits.3"] == FlowProblem(
        "nodes[0].digits.3", "menu", "digits.3", "'menu' goes to an unknown node 'gone'"
    )
    queue, prompt = by_path["nodes[1].queue"], by_path["nodes[2].prompt"]
    assert queue.node == "q" and queue.field == "queue" and "unknown queue 'Nowhere'" in queue.message
    assert prompt.node == "a" and prompt.field == "prompt" and "missing prompt 'no_such_prompt'" in str(prompt)
    assert by_path["nodes[4]"] == FlowProblem("nodes[4]", "orphan", None, "'orphan' cannot be reached from the start")
    assert by_path["nodes[2]"].message == "loop a -> b -> a has no way out: none of its nodes leads to an exit"
    assert len(found) == 5


def test_a_start_that_names_no_node() -> None:
    _, found = check_flow({"start": "nope", "nodes": [{"id": "bye", "type": "hangup"}]}, DEMO_PROMPTS, DEMO_QUEUES)
    assert found[0] == FlowProblem("start", None, "start", "start names an unknown node 'nope'")


def test_shape_problems_name_node_and_field() -> None:
    definition = {
        "start": "m",
        "nodes": [
            {"id": "m", "type": "menu", "digits": {"x": "m"}},
            {"id": "d", "type": "dial", "number": "+48600100200"},
            {"id": "t", "type": "transfer", "extension": "+48600100200"},
            {"id": "both", "type": "transfer", "queue": "Billing", "extension": "1001"},
            {"id": "p", "type": "play", "prompt": "greeting", "next": "m", "volume": 11},
            "not a node",
            {"id": "untyped"},
            {"type": "hangup"},
        ],
        "extra": True,
    }
    flow, found = check_flow(definition, DEMO_PROMPTS, DEMO_QUEUES)
    assert flow is None
    located = {(p.path, p.node, p.field) for p in found}
    assert located == {
        ("nodes[0].prompt", "m", "prompt"),
        ("nodes[0].digits.x", "m", "digits.x"),
        ("nodes[0].on_failure", "m", "on_failure"),
        ("nodes[1].type", "d", "type"),  # no node type dials a number
        ("nodes[2].extension", "t", "extension"),  # a transfer goes to an extension of the tenant, not outside
        ("nodes[3]", "both", None),
        ("nodes[4].volume", "p", "volume"),
        ("nodes[5]", None, None),
        ("nodes[6].type", "untyped", "type"),
        ("nodes[7].id", None, "id"),
        ("extra", None, "extra"),
    }
    both = next(p for p in found if p.node == "both")
    assert both.message == "a transfer names exactly one of queue or extension"  # without pydantic's "Value error, "


@pytest.mark.parametrize(
    ("definition", "paths"),
    [
        ({}, {"start", "nodes"}),
        ({"start": "a", "nodes": "a"}, {"nodes"}),
        ({"start": "a", "nodes": []}, {"nodes"}),
        ({"start": 7, "nodes": [{"id": "a", "type": "hangup"}]}, {"start"}),
    ],
)
def test_flow_level_shape_problems(definition: dict[str, Any], paths: set[str]) -> None:
    flow, found = check_flow(definition, DEMO_PROMPTS, DEMO_QUEUES)
    assert flow is None and {p.path for p in found} == paths
    assert all(p.node is None and p.field == p.path for p in found)
