"""Request and response shapes of the wrap-up API: a queue's codes, a contact's disposition, first-contact
resolution."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from infolinia.schemas import Input, LongText, Output, not_null
from infolinia.wrapup.codes import CODE_PATTERN, Outcome
from infolinia.wrapup.fcr import Verdict

Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Position = Annotated[int, Field(ge=0, le=1000)]
#: a disposition as interactions always took it (a queue with codes takes only its active ones)
FreeCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,60}$")]


class WrapupCodeIn(Input):
    code: Code
    label: Label
    outcome: Outcome
    active: bool = True
    #: where agents see it (ascending; ties by creation); left out: after the last one
    position: Position | None = None


class WrapupCodePatch(Input):
    """Label, outcome class, active flag and order; the code itself is never renamed (history keeps it)."""

    label: Label | None = None
    outcome: Outcome | None = None
    active: bool | None = None
    position: Position | None = None

    _no_null = field_validator("label", "outcome", "active", "position", mode="before")(not_null)


class WrapupSettingsIn(Input):
    #: true: a contact's wrap-up is recorded as ended only with one of the queue's active codes
    required: bool | None = None

    _no_null = field_validator("required", mode="before")(not_null)


class WrapupCodeOut(Output):
    id: int
    code: str
    label: str
    outcome: str
    active: bool
    position: int


class WrapupOut(Output):
    queue_id: int
    required: bool
    codes: list[WrapupCodeOut]


class DispositionIn(Input):
    code: FreeCode
    notes: LongText | None = None


class FcrFigures(Output):
    """Counts per verdict (docs/wrap-up.md has the definition), over answered inbound contacts begun in the
    period."""

    handled: int
    resolved_first_contact: int
    repeat_contact: int
    reopened_or_escalated: int
    not_resolved: int
    unclassified: int
    pending: int
    unknown_customer: int
    unknown_customer_resolved: int
    excluded: int
    rate: float | None


class FcrReport(FcrFigures):
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    window_days: int
    queue_id: int | None
    agent_id: int | None
    channel: str | None
    computed_at: datetime


class FcrContactOut(Output):
    interaction_id: int
    created_at: datetime
    channel: str
    queue_id: int | None
    agent_id: int | None
    customer_id: int | None
    disposition_code: str | None
    outcome: str | None
    verdict: Verdict
    #: the first further inbound contact of the customer within the window, if any
    repeat_interaction_id: int | None
    window_ends_at: datetime
