"""An IVR flow as data: Pydantic models of its nodes, one discriminated union keyed by ``type``.

A flow is a tenant's call script: a ``start`` node id and up to ``MAX_NODES`` nodes, each with an ``id``. Nodes
refer to each other by id and to recorded prompts by name; whether those names exist is checked by
``validate.validate``, not here. These models bound every size and shape, nothing more.

A transfer goes to a queue or to an internal extension of the same tenant (2-6 digits), never to an outside
number, so a flow cannot be used to place toll calls.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "DIGITS",
    "MAX_NODES",
    "AnnounceNode",
    "CallbackOfferNode",
    "Flow",
    "HangupNode",
    "HoursNode",
    "IdentifyNode",
    "MenuNode",
    "Node",
    "PlayNode",
    "QueueNode",
    "TransferNode",
    "VoicemailNode",
    "is_exit",
    "prompts_of",
    "queues_of",
    "targets",
]

MAX_NODES = 200
DIGITS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#")

NodeId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
PromptName = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
# A queue by name or id, as the tenant's configuration names it: printable, no control characters.
QueueRef = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$")]
Skill = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Extension = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,6}$")]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Digit = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: NodeId


class PlayNode(_Node):
    """Play a prompt, then go to ``next``. Digits typed during an interruptible prompt cut it and are kept."""

    type: Literal["play"] = "play"
    prompt: PromptName
    next: NodeId
    interruptible: bool = True


class MenuNode(_Node):
    """Play ``prompt`` and wait ``timeout_s`` for one digit; ``digits`` maps a digit to the branch it takes.

    A digit not in the map plays ``invalid_prompt``; no digit within the time plays ``timeout_prompt``; then the
    menu prompt again. Invalid digits and timeouts count together: after ``retries`` repeats the next failure goes
    to ``on_failure``. The count starts again each time the menu is entered.
    """

    type: Literal["menu"] = "menu"
    prompt: PromptName
    digits: dict[Digit, NodeId] = Field(max_length=len(DIGITS))
    timeout_s: float = Field(default=5.0, ge=1.0, le=60.0)
    retries: int = Field(default=2, ge=0, le=9)
    invalid_prompt: PromptName | None = None
    timeout_prompt: PromptName | None = None
    on_failure: NodeId


class HoursNode(_Node):
    """Branch on the tenant calendar's status now; ``holiday`` defaults to the ``closed`` branch."""

    type: Literal["hours"] = "hours"
    open: NodeId
    closed: NodeId
    holiday: NodeId | None = None


class AnnounceNode(_Node):
    """A self-service recorded answer, then ``next`` (typically back to the menu)."""

    type: Literal["announce"] = "announce"
    prompt: PromptName
    next: NodeId
    interruptible: bool = True


class IdentifyNode(_Node):
    """Look the caller up by caller ID; failing that, ask for the customer number (``prompt``) by DTMF.

    The number ends with ``#``, at ``max_digits`` digits, or ``timeout_s`` after the last digit.
    """

    type: Literal["identify"] = "identify"
    prompt: PromptName
    max_digits: int = Field(default=10, ge=1, le=20)
    timeout_s: float = Field(default=5.0, ge=1.0, le=60.0)
    found: NodeId
    not_found: NodeId


class QueueNode(_Node):
    """Hand the call to the routing engine: the queue (name or id), required skills, language, priority.

    While the caller waits they hear music, and every ``announce_every_s`` (the first time 2 s in) their position
    and the estimated wait, with the keep-place callback offer every other time. ``messages``: the tenant's own
    recorded messages (offers, news), played in turn between the music halfway between the announcements.
    """

    type: Literal["queue"] = "queue"
    queue: QueueRef
    skills: list[Skill] = Field(default_factory=list, max_length=16)
    language: Language | None = None
    priority: int = Field(default=0, ge=0, le=100)
    announce_every_s: float = Field(default=30.0, ge=10.0, le=600.0)
    messages: list[PromptName] = Field(default_factory=list, max_length=20)


class CallbackOfferNode(_Node):
    """Offer a callback. An outcome without a next node ends the call there."""

    type: Literal["callback_offer"] = "callback_offer"
    prompt: PromptName | None = None
    accepted: NodeId | None = None
    declined: NodeId | None = None


class VoicemailNode(_Node):
    """Play ``prompt`` (if any) and record a message for ``queue`` (the tenant's general box when None)."""

    type: Literal["voicemail"] = "voicemail"
    prompt: PromptName | None = None
    queue: QueueRef | None = None
    max_s: int = Field(default=120, ge=5, le=600)


class TransferNode(_Node):
    """Transfer to a queue or an extension of the same tenant; exactly one of the two.

    An extension's registered phone rings for up to ``ring_s``; with no phone, a refusal or no answer the call goes
    to ``on_failure`` (for example a voicemail node or a queue), or, without one, hears that the extension cannot
    take the call and ends.
    """

    type: Literal["transfer"] = "transfer"
    queue: QueueRef | None = None
    extension: Extension | None = None
    ring_s: float = Field(default=30.0, ge=5.0, le=120.0)
    on_failure: NodeId | None = None

    @model_validator(mode="after")
    def _one_target(self) -> TransferNode:
        if (self.queue is None) == (self.extension is None):
            raise ValueError("a transfer names exactly one of queue or extension")
        if self.queue is not None and self.on_failure is not None:
            raise ValueError("on_failure is for transfers to an extension (a queue keeps the call)")
        return self


class HangupNode(_Node):
    """Play ``prompt`` (if any), then hang up."""

    type: Literal["hangup"] = "hangup"
    prompt: PromptName | None = None
    reason: Reason = "normal"


Node = Annotated[
    PlayNode
    | MenuNode
    | HoursNode
    | AnnounceNode
    | IdentifyNode
    | QueueNode
    | CallbackOfferNode
    | VoicemailNode
    | TransferNode
    | HangupNode,
    Field(discriminator="type"),
]


class Flow(BaseModel):
    """A tenant's IVR flow: the ``start`` node's id and the nodes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: NodeId
    nodes: list[Node] = Field(min_length=1, max_length=MAX_NODES)


def targets(node: Node) -> Iterator[tuple[str, str]]:
    """The node ids ``node`` can go to, each with the field that names it."""
    match node:
        case PlayNode() | AnnounceNode():
            yield "next", node.next
        case MenuNode():
            for digit, target in node.digits.items():
                yield f"digits.{digit}", target
            yield "on_failure", node.on_failure
        case HoursNode():
            yield "open", node.open
            yield "closed", node.closed
            if node.holiday is not None:
                yield "holiday", node.holiday
        case IdentifyNode():
            yield "found", node.found
            yield "not_found", node.not_found
        case CallbackOfferNode():
            if node.accepted is not None:
                yield "accepted", node.accepted
            if node.declined is not None:
                yield "declined", node.declined
        case TransferNode():
            if node.on_failure is not None:
                yield "on_failure", node.on_failure
        case QueueNode() | VoicemailNode() | HangupNode():
            pass


def prompts_of(node: Node) -> Iterator[tuple[str, str]]:
    """The prompt names ``node`` plays, each with its field."""
    for field in ("prompt", "invalid_prompt", "timeout_prompt"):
        name = getattr(node, field, None)
        if name is not None:
            yield field, name
    if isinstance(node, QueueNode):
        for i, name in enumerate(node.messages):
            yield f"messages.{i}", name


def queues_of(node: Node) -> Iterator[tuple[str, str]]:
    """The queues ``node`` names, each with its field."""
    if isinstance(node, QueueNode | VoicemailNode | TransferNode) and node.queue is not None:
        yield "queue", node.queue


def is_exit(node: Node) -> bool:
    """True for a node where the flow ends: the call leaves the IVR (or hangs up) there."""
    if isinstance(node, CallbackOfferNode):
        return node.accepted is None or node.declined is None
    return isinstance(node, QueueNode | VoicemailNode | TransferNode | HangupNode)
