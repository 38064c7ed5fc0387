"""Request and response shapes of the telephony API (numbers, trunks, IVR flows). Inputs forbid unknown fields and
bound every size, like those of ``infolinia.schemas``."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
    computed_field,
    field_validator,
    model_validator,
)

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


def _dial_to(value: str) -> str:
    """``host`` or ``host:port`` (a DNS name, an IPv4 address, or ``[IPv6]``), without a scheme: where calls to
    customers are sent."""
    match = _DIAL_TO.fullmatch(value)
    if match is None:
        raise ValueError("expected host or host:port (a name, an IPv4 address or [IPv6]), e.g. sip.example.net:5060")
    port = match["port"]
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValueError(f"port {port} is not between 1 and 65535")
    return value.lower()


def split_dial_to(value: str) -> tuple[str, int]:
    """A stored ``dial_to`` as (host, port): the host without IPv6 brackets, 5060 when no port is given."""
    match = _DIAL_TO.fullmatch(value)
    if match is None:
        raise ValueError(f"not a dial_to: {value!r}")
    return match["host"].strip("[]"), int(match["port"] or 5060)


def _caller_id(value: str) -> str:
    from infolinia.customers.identities import InvalidIdentity, normalize_phone

    if not value.startswith("+"):
        raise ValueError("the caller ID must be in international form (+48...)")
    try:
        return normalize_phone(value)
    except InvalidIdentity as exc:
        raise ValueError(str(exc)) from exc


_DIAL_TO = re.compile(
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)"
    r"(?::(?P<port>[0-9]{1,5}))?"
)
DialTo = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), AfterValidator(_dial_to)]
CallerId = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40), AfterValidator(_caller_id)]


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
    #: where calls to customers (callbacks) go through this trunk: the carrier's host[:port] (UDP, 5060 by default)
    dial_to: DialTo | None = None
    #: the number customers see (E.164); needed with ``dial_to``
    caller_id: CallerId | None = None

    @model_validator(mode="after")
    def _dialing_needs_a_caller_id(self) -> TrunkIn:
        if self.dial_to is not None and self.caller_id is None:
            raise ValueError("caller_id: needed with dial_to (the number customers see)")
        return self


class TrunkPatch(Input):
    """Fields left out keep their value; ``username`` null drops the credentials; a new username needs a password."""

    name: Name | None = None
    allowed_sources: Sources | None = None
    username: TrunkUsername | None = None
    password: TrunkPassword | None = None
    active: bool | None = None
    dial_to: DialTo | None = None  # null: this trunk places no calls
    caller_id: CallerId | None = None

    _no_null = field_validator("name", "allowed_sources", "active", mode="before")(not_null)


class TrunkOut(Output):
    """A trunk as the API shows it: never its password or digests."""

    id: int
    name: str
    allowed_sources: list[str]
    username: str | None
    active: bool
    dial_to: str | None = None
    caller_id: str | None = None
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def auth_required(self) -> bool:
        """Callers must authenticate (alone, or besides coming from one of ``allowed_sources``)."""
        return self.username is not None
