"""The IVR validator's problems in the console's languages: every text of ``voice.ivr.validate.MESSAGES`` is marked
for translation in the console, and a problem is shown in Polish with its parameters, while its English message
(what the REST API answers) stays as it was."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from infolinia.voice.ivr import Flow, validate
from infolinia.voice.ivr.validate import MESSAGES
from infolinia.voice.telephony.validation import check_flow
from infolinia.web.ui import i18n
from infolinia.web.ui.ivr import VALIDATOR_MESSAGES, problem_text


class Viewer(SimpleNamespace):
    def _(self, message: str) -> str:
        return i18n.catalogue(self.language).gettext(message)


def page(language: str) -> Any:
    return cast(Any, Viewer(language=language))


BROKEN = {"start": "menu", "nodes": [
    {"id": "menu", "type": "menu", "prompt": "welcome", "digits": {"1": "nowhere", "2": "loop_a"},
     "on_failure": "loop_a"},
    {"id": "loop_a", "type": "announce", "prompt": "welcome", "next": "loop_b"},
    {"id": "loop_b", "type": "announce", "prompt": "gone", "next": "loop_a"},
    {"id": "orphan", "type": "hangup"},
]}  # fmt: skip


def test_the_console_marks_every_validator_text() -> None:
    assert set(VALIDATOR_MESSAGES) == set(MESSAGES.values())


def test_every_validator_text_has_its_polish() -> None:
    for text in MESSAGES.values():
        polish = i18n.catalogue("pl").gettext(text)
        assert polish != text, text


def test_problems_are_shown_in_the_page_s_language_and_stay_english_for_the_api() -> None:
    _, problems = check_flow(BROKEN, {"welcome"}, set())
    by_code = {p.code: p for p in problems}
    assert set(by_code) >= {"unknown_target", "missing_prompt", "unreachable", "loop_without_exit"}
    target = by_code["unknown_target"]
    assert target.message == "'menu' goes to an unknown node 'nowhere'"  # the API's text, as before
    assert target.as_json()["params"] == {"node": "'menu'", "target": "'nowhere'"}
    assert problem_text(page("en"), target.as_json()) == target.message
    assert problem_text(page("pl"), target.as_json()) == "'menu' prowadzi do nieznanego węzła 'nowhere'"
    loop = problem_text(page("pl"), by_code["loop_without_exit"].as_json())
    assert loop.startswith("pętla loop_a -> loop_b -> loop_a nie ma wyjścia")
    # a problem of the flow's shape (from the schema) has no code: its message is shown as it is
    _, shape = check_flow({"start": "x", "nodes": [{"id": "x", "type": "teleport"}]}, set(), set())
    assert shape[0].code is None and "code" not in shape[0].as_json()
    assert problem_text(page("pl"), shape[0].as_json()) == shape[0].message


def test_codes_and_messages_agree() -> None:
    flow = Flow.model_validate(BROKEN)
    for error in validate(flow, {"welcome"}, set()):
        assert error.message == MESSAGES[error.code] % dict(error.params)
