"""A script run as an agent records it: the path must follow the script from its start, answers must fit their
input steps, required ones must be there; every problem is reported at once."""

from __future__ import annotations

from typing import Any

from infolinia.agent_scripts.runs import check_run
from infolinia.agent_scripts.script import Script

SCRIPT = Script.model_validate({"start": "hi", "steps": [
    {"id": "hi", "type": "say", "text": "Hello", "next": "about"},
    {"id": "about", "type": "question", "text": "About?", "options": [
        {"label": "Invoice", "next": "amount"}, {"label": "Other", "next": "details"}]},
    {"id": "amount", "type": "input", "field": "amount", "label": "Amount", "field_type": "number", "next": "when"},
    {"id": "when", "type": "input", "field": "when", "label": "When", "field_type": "date", "required": False,
     "next": "agree"},
    {"id": "agree", "type": "input", "field": "agree", "label": "Agrees", "field_type": "yes_no", "next": "how"},
    {"id": "how", "type": "input", "field": "how", "label": "How", "field_type": "choice", "choices": ["mail", "sms"],
     "next": "done"},
    {"id": "details", "type": "input", "field": "details", "label": "Details", "next": "done"},
    {"id": "done", "type": "end", "text": "Bye", "outcome": "create_case"},
]})  # fmt: skip
INVOICE = ["hi", "about", "amount", "when", "agree", "how", "done"]


def paths(path: list[str], answers: dict[str, Any]) -> list[str]:
    run, found = check_run(SCRIPT, path, answers)
    assert run is None
    return [p.path for p in found]


def test_a_complete_run_keeps_its_steps_answers_and_outcome() -> None:
    run, found = check_run(SCRIPT, INVOICE, {"amount": 120.5, "when": "2026-11-30", "agree": True, "how": "sms"})
    assert found == [] and run is not None
    assert run.completed and run.outcome == "create_case"
    assert run.answers == {"amount": 120.5, "when": "2026-11-30", "agree": True, "how": "sms"}
    assert run.steps[1] == {"step": "about", "type": "question", "option": "Invoice"}
    assert run.steps[2] == {"step": "amount", "type": "input", "field": "amount", "answer": 120.5}


def test_a_run_may_stop_before_the_end() -> None:
    run, found = check_run(SCRIPT, ["hi", "about", "details"], {"details": " Parcel lost "})
    assert found == [] and run is not None
    assert not run.completed and run.outcome is None and run.answers == {"details": "Parcel lost"}


def test_the_path_must_follow_the_script() -> None:
    assert paths(["about"], {}) == ["path[0]"]
    assert paths(["hi", "details", "done"], {"details": "x"}) == ["path[1]"]
    assert paths(["hi", "about", "ghost"], {}) == ["path[2]"]
    assert paths(["hi", "about", "details", "done", "hi"], {"details": "x"}) == ["path[4]"]
    assert paths([], {}) == ["path"]


def test_answers_must_fit_their_steps_and_required_ones_be_given() -> None:
    found = paths(INVOICE, {"amount": "12", "when": "2026-02-30", "agree": "yes", "how": "fax", "stray": 1})
    assert found == ["answers.amount", "answers.when", "answers.agree", "answers.how", "answers.stray"]
    assert paths(INVOICE, {"when": "30.11.2026"}) == ["answers.when", "answers.amount", "answers.agree", "answers.how"]
    assert paths(["hi", "about", "details"], {"details": "   "}) == ["answers.details"]
    assert paths(INVOICE, {"amount": float("nan"), "agree": True, "how": "sms"}) == ["answers.amount"]
    assert paths(INVOICE, {"amount": True, "agree": True, "how": "sms"}) == ["answers.amount"]


def test_an_answer_for_a_step_not_taken_is_refused() -> None:
    assert paths(["hi", "about", "details"], {"details": "x", "amount": 5}) == ["answers.amount"]
