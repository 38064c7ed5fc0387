"""A script as data: Pydantic models of its steps, one discriminated union keyed by ``type``.

A script is a ``start`` step id and up to ``MAX_STEPS`` steps, each with an ``id``: ``say`` (text the agent reads,
then ``next``), ``question`` (text and options, each a label and the step it leads to), ``input`` (the agent
records an answer in ``field``, typed, then ``next``) and ``end`` (closing text and an optional suggested outcome).
Steps refer to each other by id; whether those ids exist, every step can be reached and an end can be reached from
every step is checked by ``validate.validate``, not here. These models bound every size and shape, nothing more.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "FIELD_TYPES",
    "MAX_CHOICES",
    "MAX_OPTIONS",
    "MAX_STEPS",
    "MAX_TEXT",
    "EndStep",
    "InputStep",
    "Option",
    "QuestionStep",
    "SayStep",
    "Script",
    "Step",
    "targets",
    "texts",
]

MAX_STEPS = 100
MAX_TEXT = 2000
MAX_OPTIONS = 12
MAX_CHOICES = 30
FIELD_TYPES = ("text", "number", "date", "yes_no", "choice")

StepId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
# Texts are printable: line breaks and tabs are allowed, other control characters are not.
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                         pattern=r"^[^\x00-\x1f\x7f]*$")]  # fmt: skip
FieldKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Outcome = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: StepId


class SayStep(_Step):
    """Text the agent reads to the customer, then ``next``."""

    type: Literal["say"] = "say"
    text: Text
    next: StepId


class Option(BaseModel):
    """One answer to a question: what the agent picks, and the step it leads to (the branch)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    label: Label
    next: StepId


class QuestionStep(_Step):
    """A question the agent asks; the customer's answer picks one of ``options``."""

    type: Literal["question"] = "question"
    text: Text
    options: list[Option] = Field(default_factory=list, max_length=MAX_OPTIONS)


class InputStep(_Step):
    """The agent records an answer in ``field``: text, a number, a date (YYYY-MM-DD), yes or no, or one of
    ``choices``; ``text`` is what the agent says or asks, ``label`` names the field on the form."""

    type: Literal["input"] = "input"
    text: Text | None = None
    field: FieldKey
    label: Label
    field_type: Literal["text", "number", "date", "yes_no", "choice"] = "text"
    choices: list[Label] = Field(default_factory=list, max_length=MAX_CHOICES)
    required: bool = True
    next: StepId


class EndStep(_Step):
    """The end of the script: closing text, and what it suggests should come of the contact (a disposition code,
    ``create_case``, ...)."""

    type: Literal["end"] = "end"
    text: Text | None = None
    outcome: Outcome | None = None


Step = Annotated[SayStep | QuestionStep | InputStep | EndStep, Field(discriminator="type")]


class Script(BaseModel):
    """A script's steps: the ``start`` step's id and the steps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: StepId
    steps: list[Step] = Field(min_length=1, max_length=MAX_STEPS)


def targets(step: Step) -> Iterator[tuple[str, str]]:
    """The step ids ``step`` can go to, each with the field that names it."""
    match step:
        case SayStep() | InputStep():
            yield "next", step.next
        case QuestionStep():
            for i, option in enumerate(step.options):
                yield f"options[{i}].next", option.next
        case EndStep():
            pass


def texts(step: Step) -> Iterator[tuple[str, str]]:
    """The texts of ``step`` that may hold placeholders, each with its field."""
    if step.text is not None:
        yield "text", step.text
    if isinstance(step, QuestionStep):
        for i, option in enumerate(step.options):
            yield f"options[{i}].label", option.label
    if isinstance(step, InputStep):
        yield "label", step.label
