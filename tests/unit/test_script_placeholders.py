"""Placeholders in agent scripts: only the whitelist is filled, by our own parser; anything else in braces is a
problem on save and stays as written when filled; values are plain one-line text, never read again as a template."""

from __future__ import annotations

import pytest

from infolinia.agent_scripts.placeholders import FIELDS, Literal, Placeholder, fill, names, parse, problems


def test_known_placeholders_are_filled_and_missing_ones_marked() -> None:
    text, missing = fill(
        "Dzień dobry, {customer.first_name}! Sprawa {case.number} w kolejce {queue.name}.",
        {"customer.first_name": "Jan", "case.number": None, "queue.name": ""},
    )
    assert text == "Dzień dobry, Jan! Sprawa [case.number] w kolejce [queue.name]."
    assert missing == ["case.number", "queue.name"]


def test_a_placeholder_used_twice_is_missing_once() -> None:
    assert fill("{agent.name} {agent.name}", {}) == ("[agent.name] [agent.name]", ["agent.name"])


def test_doubled_braces_are_the_braces_themselves() -> None:
    assert fill("{{customer.name}} }} {{", {"customer.name": "X"}) == ("{customer.name} } {", [])
    assert problems("{{customer.name}} }} {{") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{customer.__class__}", "unknown placeholder"),
        ("{customer.__class__.__init__.__globals__}", "is not a placeholder"),
        ("{0}", "is not a placeholder"),
        ("{}", "is not a placeholder"),
        ("{customer}", "is not a placeholder"),
        ("{customer.name!r}", "is not a placeholder"),
        ("{customer.name:>10}", "is not a placeholder"),
        ("{customer.password}", "unknown placeholder"),
        ("Hello {customer.name", "without its '}'"),
        ("Hello {", "without its '}'"),
        ("{customer.{name}}", "without its '}'"),
        ("a } b", "lone '}'"),
    ],
)
def test_hostile_or_broken_placeholders_are_problems(text: str, message: str) -> None:
    found = problems(text)
    assert found, text
    assert message in found[0].message


@pytest.mark.parametrize(
    "text", ["{customer.__class__}", "{0}", "{}", "Hello {customer.name", "{", "}", "{customer.{name}}", "{0.__doc__}"]
)
def test_filling_broken_text_keeps_it_as_written(text: str) -> None:
    assert fill(text, {name: "VALUE" for name in FIELDS}) == (text, [])


def test_unterminated_brace_does_not_swallow_a_later_placeholder() -> None:
    out, _ = fill("{ oops {customer.name}", {"customer.name": "Ewa"})
    assert out == "{ oops Ewa"
    assert len(problems("{ oops {customer.name}")) == 1


def test_values_are_plain_text_and_never_a_template() -> None:
    values = {"customer.name": "{agent.name}\n<b>Evil</b>\x1b[31m", "agent.name": "Agata"}
    out, missing = fill("Hi {customer.name}", values)
    assert out == "Hi {agent.name} <b>Evil</b> [31m"  # no second pass, one line, no control characters
    assert missing == []


def test_long_values_are_cut() -> None:
    out, _ = fill("{customer.name}", {"customer.name": "x" * 10_000})
    assert len(out) == 500


def test_parse_splits_literals_and_placeholders() -> None:
    parts, found = parse("A {customer.number} B")
    assert parts == [Literal("A "), Placeholder("customer.number"), Literal(" B")] and found == []
    assert list(names("{case.number} and {queue.name}")) == ["case.number", "queue.name"]


def test_problem_offsets_point_at_the_brace() -> None:
    [problem] = problems("abc {0}")
    assert problem.offset == 4
