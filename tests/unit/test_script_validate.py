"""Agent script validation: every kind of problem, each reported with where it is, all of them at once."""

from __future__ import annotations

from typing import Any

from infolinia.agent_scripts.attachments import Attachments, check_attachments
from infolinia.agent_scripts.script import MAX_STEPS, MAX_TEXT
from infolinia.agent_scripts.validate import ScriptProblem, check_script


def say(step_id: str, next_: str, text: str = "Hello") -> dict[str, Any]:
    return {"id": step_id, "type": "say", "text": text, "next": next_}


def end(step_id: str = "end", **extra: Any) -> dict[str, Any]:
    return {"id": step_id, "type": "end", **extra}


def question(step_id: str, *options: tuple[str, str]) -> dict[str, Any]:
    return {"id": step_id, "type": "question", "text": "Which?",
            "options": [{"label": label, "next": target} for label, target in options]}  # fmt: skip


def problems(start: str, *steps: dict[str, Any]) -> list[ScriptProblem]:
    return check_script({"start": start, "steps": list(steps)})[1]


def paths(found: list[ScriptProblem]) -> list[str]:
    return [p.path for p in found]


def test_a_sound_script_has_no_problems() -> None:
    script, found = check_script({"start": "hi", "steps": [
        say("hi", "ask", "Dzień dobry, {customer.first_name}!"),
        question("ask", ("Invoice", "number"), ("Other", "end")),
        {"id": "number", "type": "input", "field": "invoice", "label": "Invoice", "field_type": "text",
         "next": "kind"},
        {"id": "kind", "type": "input", "field": "kind", "label": "Kind", "field_type": "choice",
         "choices": ["a", "b"], "next": "ask"},  # a loop back to the question, which has a way out
        end("end", text="Bye {agent.name}", outcome="create_case"),
    ]})  # fmt: skip
    assert found == [] and script is not None
    assert script.steps[2].type == "input"


def test_duplicate_step_ids() -> None:
    found = problems("a", say("a", "end"), end(), end("a"))
    assert ("steps[2].id", "a") in [(p.path, p.step) for p in found]
    assert "duplicate step id 'a'" in found[0].message


def test_unknown_start_and_unknown_next() -> None:
    found = problems("nowhere", say("a", "ghost"), end())
    assert paths(found)[:2] == ["start", "steps[0].next"]
    assert found[1].step == "a" and found[1].field == "next" and "unknown step 'ghost'" in found[1].message


def test_unknown_option_target_names_the_option() -> None:
    found = problems("q", question("q", ("Yes", "end"), ("No", "gone")), end())
    assert paths(found) == ["steps[0].options[1].next"]


def test_unreachable_steps() -> None:
    found = problems("a", say("a", "end"), end(), say("island", "end"))
    assert paths(found) == ["steps[2]"] and "cannot be reached" in found[0].message


def test_a_loop_without_an_exit_is_reported_once_with_its_steps() -> None:
    found = problems("a", say("a", "b"), say("b", "c"), say("c", "a"))
    assert len(found) == 1
    assert found[0].message == "loop a -> b -> c -> a has no way out: none of its steps leads to an end"


def test_steps_leading_into_a_trap_and_a_self_loop() -> None:
    found = problems("q", question("q", ("Loop", "self"), ("Out", "end")), say("self", "self"), end())
    assert [p.step for p in found] == ["self"] and "loop self -> self" in found[0].message
    found = problems("a", say("a", "b"), say("b", "c"), say("c", "b"))
    assert [p.step for p in found] == ["a", "b"]
    assert "leads only into loops" in found[0].message


def test_a_script_without_an_end() -> None:
    found = problems("q", question("q", ("Again", "q")))
    assert len(found) == 1 and "has no way out" in found[0].message


def test_questions_without_options_or_with_an_option_twice() -> None:
    found = problems("q", question("q"), end())
    assert ("steps[0].options", "question 'q' offers no options") in [(p.path, p.message) for p in found]
    found = problems("q", question("q", ("Yes", "end"), ("yes ", "end")), end())
    assert paths(found) == ["steps[0].options[1].label"] and "offered twice" in found[0].message


def test_inputs_choice_without_choices_choices_on_text_and_a_field_twice() -> None:
    found = problems("a", {"id": "a", "type": "input", "field": "x", "label": "X", "field_type": "choice", "next": "b"},
                     {"id": "b", "type": "input", "field": "x", "label": "X", "choices": ["1"], "next": "c"},
                     {"id": "c", "type": "input", "field": "y", "label": "Y", "field_type": "choice",
                      "choices": ["p", "P"], "next": "end"}, end())  # fmt: skip
    assert paths(found) == ["steps[0].choices", "steps[1].field", "steps[1].choices", "steps[2].choices[1]"]


def test_unknown_placeholders_in_every_text() -> None:
    found = problems(
        "q",
        {"id": "q", "type": "question", "text": "Hi {customer.__class__}", "options": [{"label": "{0}", "next": "i"}]},
        {"id": "i", "type": "input", "text": "{", "field": "f", "label": "{customer.ssn}", "next": "end"},
        end(text="Bye }"),
    )
    assert paths(found) == ["steps[0].text", "steps[0].options[0].label", "steps[1].text", "steps[1].label",
                            "steps[2].text"]  # fmt: skip
    assert found[0].message.startswith("at character 4: unknown placeholder {customer.__class__}")


def test_every_problem_at_once() -> None:
    found = problems("a", say("a", "ghost", "{0}"), say("a", "end"), question("q"), end(), say("x", "x"))
    kinds = {p.message.split(" ")[0] for p in found}
    assert len(found) >= 6, found
    assert {"duplicate", "'a'", "at", "question"} <= kinds


def test_shape_problems_name_the_step_and_field() -> None:
    found = problems("a", {"id": "a", "type": "shout", "text": "x"}, {"id": "b", "type": "say", "next": "a"},
                     {"id": "c", "type": "input", "field": "Bad Key", "label": "L", "next": "a"},
                     {"id": "d", "type": "question", "text": "x", "options": [{"label": "", "next": "a"}]})  # fmt: skip
    assert [(p.path, p.step) for p in found] == [
        ("steps[0].type", "a"), ("steps[1].text", "b"), ("steps[2].field", "c"), ("steps[3].options[0].label", "d")
    ]  # fmt: skip


def test_limits() -> None:
    many = [say(f"s{i}", f"s{i + 1}") for i in range(MAX_STEPS)] + [end(f"s{MAX_STEPS}")]
    assert paths(problems("s0", *many)) == ["steps"]
    found = problems("a", say("a", "end", "x" * (MAX_TEXT + 1)), end())
    assert paths(found) == ["steps[0].text"]
    found = problems("a", say("a", "end", "nul \x00 inside"), end())
    assert paths(found) == ["steps[0].text"]
    assert paths(problems("a")) == ["steps"]
    assert paths(check_script({"start": "a", "steps": [end("a")], "extra": 1})[1]) == ["extra"]


def test_attachments_against_the_tenant() -> None:
    attachments = Attachments.model_validate({
        "queue_ids": [1, 99, 1], "ivr": [{"flow_id": 5, "node_id": "billing"}, {"flow_id": 5, "node_id": "nope"},
                                        {"flow_id": 6, "node_id": "x"}, {"flow_id": 5, "node_id": "billing"}],
        "categories": ["billing", "unheard_of", "billing"],
    })  # fmt: skip
    found = check_attachments(attachments, {1, 2}, {5: {"billing", "menu"}}, ("billing", "question"))
    assert paths(found) == [
        "attachments.queue_ids[1]", "attachments.queue_ids[2]", "attachments.ivr[1].node_id",
        "attachments.ivr[2].flow_id", "attachments.ivr[3]", "attachments.categories[1]",
        "attachments.categories[2]",
    ]  # fmt: skip
    assert check_attachments(Attachments(), set(), {}, ()) == []
