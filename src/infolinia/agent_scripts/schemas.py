"""Request and response shapes of the agent scripts API (``/api/v1/scripts``, and the runs recorded on a contact).
The definition is taken as plain JSON and checked on save as a whole (``validate.check_script``): one 422 lists
every problem, of its shape and of its steps, and of the attachments."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints, WithJsonSchema

from infolinia.agent_scripts.attachments import Attachments
from infolinia.agent_scripts.script import Script
from infolinia.schemas import Id, Input, Language, Output

__all__ = [
    "RenderedScript",
    "RenderedStep",
    "RunIn",
    "RunOut",
    "ScriptIn",
    "ScriptOut",
    "SuggestedScript",
    "SuggestionReason",
]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
SCRIPT_SCHEMA = {
    "allOf": [{"$ref": "#/components/schemas/Script"}],
    "description": "start and steps, as in Script (fields with a default may be left out)",
}
Definition = Annotated[dict[str, Any], WithJsonSchema(SCRIPT_SCHEMA)]
StepId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
FieldKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]
AnswerValue = Annotated[str, StringConstraints(max_length=2000)] | int | float | bool | None


class ScriptIn(Input):
    name: Name
    #: the language the script is written in (``pl``, ``en``): suggestions put the customer's language first
    language: Language
    description: Description = ""
    #: only active scripts are suggested
    active: bool = True
    definition: Definition
    attachments: Attachments = Field(default_factory=Attachments)


class ScriptOut(Output):
    id: int
    name: str
    language: str
    description: str
    active: bool
    definition: Script
    attachments: Attachments
    #: 1 when created, one more at each change
    version: int
    created_at: datetime
    updated_at: datetime


class RenderedStep(Output):
    """A step with its texts filled in (plain text: no markup is ever added or interpreted)."""

    id: str
    type: str
    text: str | None = None
    #: a question's options (label and next), an input's label, field, field_type, choices and required, an end's
    #: outcome, a say's or input's next: as in the definition, labels filled in
    options: list[dict[str, str]] | None = None
    next: str | None = None
    field: str | None = None
    label: str | None = None
    field_type: str | None = None
    choices: list[str] | None = None
    required: bool | None = None
    outcome: str | None = None


class RenderedScript(Output):
    id: int
    name: str
    language: str
    version: int
    start: str
    steps: list[RenderedStep]
    #: the placeholders that had no value (shown in the texts as ``[name]``), in the order they first appear
    missing: list[str]


class SuggestionReason(Output):
    kind: str  # ivr, queue, category
    text: str


class SuggestedScript(Output):
    id: int
    name: str
    language: str
    description: str
    version: int
    #: the script is in the customer's language
    language_match: bool
    #: why it applies, the strongest first
    reasons: list[SuggestionReason]


class RunIn(Input):
    script_id: Id
    #: the version the agent followed (409 ``script_changed`` when the script changed since)
    version: Annotated[int, Field(ge=1, le=2**31 - 1)]
    #: the step ids in the order taken, from the start
    path: list[StepId] = Field(min_length=1, max_length=500)
    #: the input steps' answers by field: text, a number, true/false, a date as YYYY-MM-DD, one of the choices
    answers: dict[FieldKey, AnswerValue] = Field(default_factory=dict, max_length=100)


class RunOut(Output):
    id: int
    interaction_id: int
    script_id: int | None
    script_name: str
    script_version: int
    agent_id: int | None
    steps: list[dict[str, Any]]
    answers: dict[str, Any]
    completed: bool
    outcome: str | None
    created_at: datetime
