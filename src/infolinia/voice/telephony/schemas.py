"""Request and response shapes of the telephony API (numbers, trunks, IVR flows). Inputs forbid unknown fields and
bound every size, like those of ``infolinia.schemas``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema, computed_field, field_validator

from infolinia.schemas import Id, Input, Output, not_null
from infolinia.voice.ivr import Flow
from infolinia.voice.telephony.validation import MAX_SOURCES, source_network

__all__ = [
    "FlowIn",
    "FlowOut",
    "NumberIn",
    "NumberOut",
    "NumberPatch",
    "TrunkIn",
    "TrunkOut",
    "TrunkPatch",
]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Label = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
#: a number as an admin writes it: E.164, national (the tenant's country), with separators
DialString = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
#: seconds a call rings before it is answered (a carrier gives up on an unanswered call after a minute or more)
AnswerAfter = Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)]
Source = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), AfterValidator(source_network)
]
#: a trunk's digest username starts with a letter, so that it is never mistaken for an agent's extension
TrunkUsername = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$")]
#: a carrier's password is used as given (no trimming); only its digests are kept
TrunkPassword = Annotated[str, StringConstraints(strip_whitespace=False, min_length=12, max_length=128)]


def _distinct(networks: list[str]) -> list[str]:
    return list(dict.fromkeys(networks))


Sources = Annotated[list[Source], Field(max_length=MAX_SOURCES), AfterValidator(_distinct)]
#: the flow as data, in the shape of the ``Flow`` schema (which the answers use, so the document holds it). Taken as
#: plain JSON and checked on save as a whole (``validation.check_flow``): one 422 lists every problem, shape and graph.
FLOW_SCHEMA = {
    "allOf": [{"$ref": "#/components/schemas/Flow"}],
    "description": "start and nodes, as in Flow (fields with a default may be left out)",
}
FlowDefinition = Annotated[dict[str, Any], WithJsonSchema(FLOW_SCHEMA)]


class FlowIn(Input):
    name: Name
    definition: FlowDefinition


class FlowOut(Output):
    id: int
    name: str
    definition: Flow
    #: 1 when created, one more at each save
    version: int
    created_at: datetime
    updated_at: datetime


class NumberIn(Input):
    number: DialString
    label: Label = ""
    #: the IVR flow callers enter; none: the number is not in service (calls are refused)
    flow_id: Id | None = None
    answer_after_s: AnswerAfter = 0.0


class NumberPatch(Input):
    number: DialString | None = None
    label: Label | None = None
    flow_id: Id | None = None
    answer_after_s: AnswerAfter | None = None

    _no_null = field_validator("number", "label", "answer_after_s", mode="before")(not_null)


class NumberOut(Output):
    id: int
    e164: str
    #: the national significant number: what callers within the country dial (without a trunk prefix)
    national: str
    label: str
    flow_id: int | None
    answer_after_s: float
    created_at: datetime
    updated_at: datetime


class TrunkIn(Input):
    """A trunk takes calls from ``allowed_sources``, from anywhere with ``username`` and ``password``, or from
    ``allowed_sources`` with them (both must hold)."""

    name: Name
    allowed_sources: Sources = Field(default_factory=list)
    username: TrunkUsername | None = None
    password: TrunkPassword | None = None
    active: bool = True


class TrunkPatch(Input):
    """Fields left out keep their value; ``username`` null drops the credentials; a new username needs a password."""

    name: Name | None = None
    allowed_sources: Sources | None = None
    username: TrunkUsername | None = None
    password: TrunkPassword | None = None
    active: bool | None = None

    _no_null = field_validator("name", "allowed_sources", "active", mode="before")(not_null)


class TrunkOut(Output):
    """A trunk as the API shows it: never its password or digests."""

    id: int
    name: str
    allowed_sources: list[str]
    username: str | None
    active: bool
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def auth_required(self) -> bool:
        """Callers must authenticate (alone, or besides coming from one of ``allowed_sources``)."""
        return self.username is not None
