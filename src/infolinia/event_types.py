"""The schema of every event published on the bus, by type. ``validate()`` raises ``InvalidEvent`` for an event
whose type has no schema or whose data does not match it (unknown fields included), so a new event cannot be
published without a schema: the test suite validates every event it causes.

The envelope, as sent over the WebSocket and server-sent events: ``{"seq", "type", "tenant_id", "at", "data"}``.
``routing.*`` events carry engine times (``expires_at``, ``not_before``) in seconds since the epoch, and ``after``:
the views of the tasks, agents and queues they touched (``routing/views.py``).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from infolinia.events import Event
from infolinia.routing.model import AgentState
from infolinia.routing.views import After


class InvalidEvent(ValueError):
    """An event that does not match its schema (a bug in the code that published it)."""


class Data(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- events from the actions (``tx.emit``) --------------------------------------------------------------------


class ObjectId(Data):
    id: int


class ObjectChanged(Data):
    id: int
    fields: list[str]


class KbArticleChanged(Data):
    """An article as it is after the change (``fields``: what an update changed)."""

    id: int
    language: str
    slug: str
    version: int
    status: str
    visibility: str
    fields: list[str] | None = None


class AbandonFigures(Data):
    answered: int
    abandoned: int
    rate: float


class CaseChanged(Data):
    """A case as it is after the change: ``user_id`` is its assignee (who is told of it besides supervisors);
    ``fields`` what a patch changed, ``reason`` why it was escalated or reopened, ``kind`` an added entry's,
    ``into`` the case a duplicate was merged into."""

    id: int
    number: int
    status: str
    tier: int
    user_id: int | None
    fields: list[str] | None = None
    reason: str | None = None
    kind: str | None = None
    into: int | None = None
    metrics: list[str] | None = None  # the service levels a warning or breach is about


class CampaignAbandonRate(Data):
    """A predictive campaign's abandoned / answered calls, after each answered call's outcome."""

    id: int
    day: str  # the tenant's calendar day (ISO date) that ``today`` counts
    cap: float
    today: AbandonFigures
    last_30_days: AbandonFigures


class ScriptSaved(Data):
    id: int
    version: int


class ScriptChanged(ScriptSaved):
    fields: list[str]


class ScriptRunRecorded(Data):
    """An agent recorded a script run on a contact: ``user_id`` is that agent."""

    id: int
    script_id: int
    interaction_id: int
    user_id: int | None
    completed: bool


class WrapupCodeChanged(Data):
    """A queue's wrap-up code was added, changed (``fields``) or deleted."""

    id: int
    queue_id: int
    code: str
    fields: list[str] | None = None


class UserCreated(Data):
    id: int
    role: str


class TenantCreated(Data):
    id: int
    slug: str


class AgentUpdated(Data):
    user_id: int


class ConsentChanged(Data):
    customer_id: int
    purpose: str
    granted: bool


class CallbackRequested(Data):
    id: int
    queue_id: int
    source: str


class CallbackUpdated(Data):
    id: int
    status: str
    outcome: str | None


class CustomerRestricted(Data):
    id: int
    restricted: bool


class InteractionCreated(Data):
    id: int
    channel: str
    customer_id: int | None


class InteractionUpdated(ObjectChanged):
    customer_id: int | None


class FlowSaved(Data):
    id: int
    version: int


class FlowChanged(FlowSaved):
    fields: list[str]


class PromptChanged(Data):
    """A tenant's own prompt recorded, replaced or deleted (``id`` of its row, which a delete removes)."""

    id: int
    name: str
    language: str


# --- routing events (``routing.<kind>``, published by the routing service) ------------------------------------


class Routing(Data):
    task: int | None
    agent: int | None
    queue: int | None
    reason: str
    after: After


class TaskEvent(Routing):
    task: int
    queue: int


class TaskQueued(TaskEvent):
    priority: int
    personal_for: int | None


class TaskScheduled(TaskEvent):
    not_before: float


class Offer(TaskEvent):
    agent: int
    expires_at: float


class OfferReturned(TaskEvent):
    agent: int


class OfferAccepted(TaskEvent):
    agent: int
    wait: float


class TaskCompleted(TaskEvent):
    agent: int


class TaskAbandoned(TaskEvent):
    wait: float  # ``agent``: who it was offered to or handled by, if anyone


class TaskExited(TaskEvent):
    action: str
    wait: float | None = None  # absent when the queue was closed on arrival


class Overflow(TaskEvent):
    step: int
    from_queue: int
    skills: dict[str, int]
    language: str | None


class PreferredFallback(TaskEvent):
    agent: int  # the preferred agent, who did not take it in time


class AgentStateChanged(Routing):
    agent: int
    was: AgentState | None = Field(None, alias="from")  # absent when the engine starts a wrap-up
    to: AgentState


class AgentChanged(Routing):
    agent: int


class QueueChanged(Routing):
    queue: int


class TaskRestored(TaskEvent):
    agent: int  # assigned to it before the restart, and again now


class TaskRequeued(TaskEvent):
    agent: int  # who held it (taken out of routing): the task waits again in its place


class EmailChanged(Data):
    id: int
    case_id: int | None
    status: str


class EmailReceived(Data):
    id: int
    case_id: int
    customer_id: int | None
    interaction_id: int


class ChatStarted(Data):
    id: int
    queue_id: int
    customer_id: int
    interaction_id: int


class ChatAccepted(Data):
    id: int
    agent_id: int
    interaction_id: int | None


class ChatEnded(Data):
    """``by``: customer, agent, idle (nobody wrote for the tenant's idle timeout) or system (nobody would take it)."""

    id: int
    by: str
    agent_id: int | None
    interaction_id: int | None


class CallControlled(Data):
    """A call held, resumed or hung up from the desk or the API (``voice/calls/control.py``): ``agent`` is the
    agent on the call (who is told of it besides supervisors), ``by`` the user who asked."""

    interaction_id: int
    agent: int | None
    by: int


class CallTransferred(CallControlled):
    """The call goes on in ``to_interaction_id``, waiting in ``queue_id`` (for ``to_agent`` first, if named)."""

    to_interaction_id: int | None
    queue_id: int | None
    to_agent: int | None


SCHEMAS: dict[str, type[Data]] = {
    "agent.updated": AgentUpdated,
    "user.created": UserCreated,
    "user.updated": ObjectId,
    "tenant.created": TenantCreated,
    "tenant.updated": ObjectChanged,
    "team.created": ObjectId,
    "queue.created": ObjectId,
    "queue.updated": ObjectChanged,
    "customer.created": ObjectId,
    "customer.updated": ObjectChanged,
    "customer.restricted": CustomerRestricted,
    "customer.erased": ObjectId,
    "consent.changed": ConsentChanged,
    "callback.requested": CallbackRequested,
    "callback.updated": CallbackUpdated,
    "callback.promise_broken": ObjectId,
    "case.created": CaseChanged,
    "case.updated": CaseChanged,
    "case.status_changed": CaseChanged,
    "case.escalated": CaseChanged,
    "case.reopened": CaseChanged,
    "case.entry_added": CaseChanged,
    "case.linked": CaseChanged,
    "case.merged": CaseChanged,
    "case.sla_warning": CaseChanged,
    "case.sla_breached": CaseChanged,
    "kb_article.created": KbArticleChanged,
    "kb_article.updated": KbArticleChanged,
    "kb_article.deleted": KbArticleChanged,
    "kb_category.created": ObjectId,
    "kb_category.updated": ObjectChanged,
    "kb_category.deleted": ObjectId,
    "script.created": ScriptSaved,
    "script.updated": ScriptChanged,
    "script.deleted": ObjectId,
    "script.run_recorded": ScriptRunRecorded,
    "campaign.created": ObjectId,
    "campaign.updated": ObjectChanged,
    "campaign.abandon_rate": CampaignAbandonRate,
    "do_not_call.changed": ObjectId,
    "wrapup_code.created": WrapupCodeChanged,
    "wrapup_code.updated": WrapupCodeChanged,
    "wrapup_code.deleted": WrapupCodeChanged,
    "email.received": EmailReceived,
    "email.queued": EmailChanged,
    "email.sent": EmailChanged,
    "email.failed": EmailChanged,
    "email.bounced": EmailChanged,
    "chat.started": ChatStarted,
    "chat.accepted": ChatAccepted,
    "chat.ended": ChatEnded,
    "interaction.created": InteractionCreated,
    "call.held": CallControlled,
    "call.resumed": CallControlled,
    "call.transferred": CallTransferred,
    "call.hung_up": CallControlled,
    "interaction.updated": InteractionUpdated,
    "ivr_flow.created": FlowSaved,
    "ivr_flow.updated": FlowChanged,
    "ivr_flow.deleted": ObjectId,
    "number.created": ObjectId,
    "number.updated": ObjectChanged,
    "number.deleted": ObjectId,
    "trunk.created": ObjectId,
    "trunk.updated": ObjectChanged,
    "trunk.deleted": ObjectId,
    "prompt.created": PromptChanged,
    "prompt.updated": PromptChanged,
    "prompt.deleted": PromptChanged,
    "routing.task_queued": TaskQueued,
    "routing.task_scheduled": TaskScheduled,
    "routing.offer": Offer,
    "routing.offer_returned": OfferReturned,
    "routing.offer_accepted": OfferAccepted,
    "routing.task_completed": TaskCompleted,
    "routing.task_abandoned": TaskAbandoned,
    "routing.task_exited": TaskExited,
    "routing.overflow": Overflow,
    "routing.preferred_fallback": PreferredFallback,
    "routing.agent_state": AgentStateChanged,
    "routing.agent_updated": AgentChanged,
    "routing.queue_updated": QueueChanged,
    "routing.task_restored": TaskRestored,
    "routing.task_requeued": TaskRequeued,
    "routing.agent_removed": AgentChanged,
}


def parse(type_: str, data: dict[str, Any]) -> Data:
    """The typed data of an event (as published, or as received from the stream)."""
    schema = SCHEMAS.get(type_)
    if schema is None:
        raise InvalidEvent(f"event type {type_!r} has no schema")
    try:
        return schema.model_validate(data, strict=False)
    except ValidationError as exc:
        raise InvalidEvent(f"{type_} does not match its schema: {exc}") from exc


def validate(event: Event) -> None:
    """Raise ``InvalidEvent`` unless the event matches its schema; the bus calls it before publishing."""
    parse(event.type, event.data)
