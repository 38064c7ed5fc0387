"""Request and response shapes shared by the API and the CLI. Inputs forbid unknown fields and bound sizes."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from datetime import date as date_
from itertools import pairwise
from typing import Annotated, Any, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo, available_timezones

import phonenumbers
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from infolinia.routing.model import Strategy
from infolinia.store.models import Channel, ConsentPurpose, Direction, IdentityKind, Role

_LANG = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
_ZONES = frozenset(available_timezones())
_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)


def _timezone(value: str) -> str:
    if value not in _ZONES:
        raise ValueError(f"unknown time zone {value!r} (use an IANA name such as 'Europe/Warsaw')")
    ZoneInfo(value)
    return value


def _country(value: str) -> str:
    value = value.upper()
    if value not in _REGIONS:
        raise ValueError(f"unknown country code {value!r} (use ISO 3166 alpha-2 such as 'PL')")
    return value


def _language(value: str) -> str:
    if not _LANG.match(value):
        raise ValueError(f"not a language code: {value!r} (use e.g. 'pl', 'en', 'pt-BR')")
    return value


def _business_hours(value: dict[str, Any]) -> dict[str, Any]:
    from infolinia.tenants.calendar import BusinessHours, CalendarError

    try:
        return BusinessHours.from_json(value).to_json()
    except CalendarError as exc:
        raise ValueError(str(exc)) from exc


def _callback_policy(value: dict[str, Any]) -> dict[str, Any]:
    from infolinia.outbound.policy import CallbackPolicy, PolicyError

    try:
        return CallbackPolicy.from_json(value).to_json()
    except PolicyError as exc:
        raise ValueError(str(exc)) from exc


def _case_policy(value: dict[str, Any]) -> dict[str, Any]:
    from infolinia.cases.policy import CasePolicy, CasePolicyError

    try:
        return CasePolicy.from_json(value).to_json()
    except CasePolicyError as exc:
        raise ValueError(str(exc)) from exc


def _contact_window(value: str | dict[str, Any]) -> dict[str, Any]:
    from infolinia.customers.windows import ContactWindow, WindowError, parse_window

    try:
        window = parse_window(value) if isinstance(value, str) else ContactWindow.from_json(value)
    except WindowError as exc:
        raise ValueError(str(exc)) from exc
    return window.to_json()


#: a row id: positive and within a 32-bit integer column
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Cursor = Annotated[int, Field(ge=0, le=MAX_ID)]
#: an aware timestamp from a client, kept in UTC whatever offset it was given in
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda d: d.astimezone(UTC))]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=20_000)]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_timezone)]
Country = Annotated[str, StringConstraints(min_length=2, max_length=2), AfterValidator(_country)]
Language = Annotated[str, StringConstraints(max_length=8), AfterValidator(_language)]
Languages = Annotated[list[Language], Field(max_length=20)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=254)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=256)]  # length policy: auth.passwords
SkillName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
SkillLevel = Annotated[int, Field(ge=1, le=10)]
Extension = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,10}$")]
BusinessHoursJson = Annotated[dict[str, Any], AfterValidator(_business_hours)]
CallbackPolicyJson = Annotated[dict[str, Any], AfterValidator(_callback_policy)]
CasePolicyJson = Annotated[dict[str, Any], AfterValidator(_case_policy)]
ContactWindowJson = Annotated[str | dict[str, Any], AfterValidator(_contact_window)]
PreferredChannel = Literal["voice", "email", "chat"]
FcrWindowDays = Annotated[int, Field(ge=1, le=90)]


def has_nul(value: object) -> bool:
    """True when a string anywhere inside ``value`` holds a NUL (no database column can store one)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


def not_null(value: Any) -> Any:
    """For optional fields of a patch that have a value in every row: leaving them out keeps it, null is refused."""
    if value is None:
        raise ValueError("null is not a value here (leave the field out to keep it)")
    return value


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data


class Output(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- tenants ---------------------------------------------------------------------------------------------


class TenantIn(Input):
    slug: Slug
    name: Text
    timezone: TimeZone = "UTC"
    country: Country = "PL"
    languages: Languages = Field(default_factory=lambda: ["en"])
    business_hours: BusinessHoursJson = Field(default_factory=dict)
    #: record calls (those whose caller was told, and whose consent allows it)
    record_calls: bool = False
    #: promise times, personal fallback and retries of callbacks (``outbound/policy.py``); {}: the defaults
    callback_policy: CallbackPolicyJson = Field(default_factory=dict)


class TenantPatch(Input):
    name: Text | None = None
    timezone: TimeZone | None = None
    country: Country | None = None
    languages: Languages | None = None
    business_hours: BusinessHoursJson | None = None
    record_calls: bool | None = None
    callback_policy: CallbackPolicyJson | None = None
    case_policy: CasePolicyJson | None = None
    #: first-contact resolution's repeat window: a further inbound contact within it makes a contact a repeat
    fcr_window_days: FcrWindowDays | None = None


class TenantOut(Output):
    id: int
    slug: str
    name: str
    timezone: str
    country: str
    languages: list[str]
    business_hours: dict[str, Any]
    record_calls: bool
    callback_policy: dict[str, Any]
    case_policy: dict[str, Any]
    fcr_window_days: int = 7
    created_at: datetime


# --- users, teams, agents, queues -----------------------------------------------------------------------


class UserIn(Input):
    email: Email
    display_name: Text
    role: Role
    password: Password
    language: Language = "en"
    team_ids: Annotated[list[Id], Field(max_length=50)] = Field(default_factory=list)


class UserPatch(Input):
    display_name: Text | None = None
    role: Role | None = None
    password: Password | None = None
    language: Language | None = None
    active: bool | None = None
    team_ids: Annotated[list[Id], Field(max_length=50)] | None = None


class UserOut(Output):
    id: int
    tenant_id: int | None
    email: str
    display_name: str
    role: Role
    language: str
    active: bool
    team_ids: list[int] = Field(default_factory=list)
    created_at: datetime
    last_login_at: datetime | None


class TeamIn(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TeamOut(Output):
    id: int
    name: str


QueueName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _seconds(low: float, high: float, *, above: bool = False) -> Any:
    """A finite number of seconds within ``low``..``high`` (``above``: strictly more than ``low``)."""
    if above:
        return Field(gt=low, le=high, allow_inf_nan=False)
    return Field(ge=low, le=high, allow_inf_nan=False)


DAY_S = 86_400.0
#: what happens to a contact that leaves a queue unanswered (voicemail, callback offer, a message, ...): a name the
#: telephony and chat layers interpret. At most 32 characters, so that "exited:<action>" fits a task's outcome.
Action = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
MissedOfferPresence = Literal["break", "ready"]
ServiceLevelTarget = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
ServiceLevelSeconds = Annotated[float, _seconds(0, 3600, above=True)]
AgingSeconds = Annotated[float, _seconds(0, DAY_S, above=True)]
OfferTimeout = Annotated[float, _seconds(1, 600)]
WrapupSeconds = Annotated[float, _seconds(0, 3600)]
WaitSeconds = Annotated[float, _seconds(0, 30 * DAY_S, above=True)]  # a maximum wait, an overflow step
ShortAbandonSeconds = Annotated[float, _seconds(0, 600)]
MAX_OVERFLOW_STEPS = 10


class OverflowStepIn(Input):
    """After ``after_s`` seconds in the queue: lower skill levels (0 drops the skill), accept any language, and/or
    move the contact to another queue of the same tenant."""

    after_s: WaitSeconds
    levels: Annotated[dict[SkillName, Annotated[int, Field(ge=0, le=10)]], Field(max_length=20)] = Field(
        default_factory=dict
    )
    any_language: bool = False
    to_queue: Id | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> OverflowStepIn:
        if not self.levels and not self.any_language and self.to_queue is None:
            raise ValueError("an overflow step must lower a skill level, accept any language or name to_queue")
        return self


def _increasing(steps: list[OverflowStepIn]) -> list[OverflowStepIn]:
    for before, after in pairwise(steps):
        if after.after_s <= before.after_s:
            raise ValueError(
                f"overflow steps must come in increasing after_s ({after.after_s:g} after {before.after_s:g})"
            )
    return steps


OverflowSteps = Annotated[list[OverflowStepIn], Field(max_length=MAX_OVERFLOW_STEPS), AfterValidator(_increasing)]


class QueueIn(Input):
    name: QueueName
    team_id: Id | None = None
    strategy: Strategy = Strategy.LONGEST_IDLE
    sl_target: ServiceLevelTarget = 0.8
    sl_seconds: ServiceLevelSeconds = 20.0
    aging_s: AgingSeconds | None = None
    offer_timeout_s: OfferTimeout = 15.0
    missed_offer_presence: MissedOfferPresence = "break"
    wrapup_s: WrapupSeconds = 0.0
    max_wait_s: WaitSeconds | None = None
    max_wait_action: Action = "voicemail"
    short_abandon_s: ShortAbandonSeconds = 5.0
    closed_action: Action = "closed"
    overflow: OverflowSteps = Field(default_factory=list)
    business_hours: bool = True


#: QueuePatch fields that have a value in every queue: null is refused for them (team_id, aging_s and max_wait_s
#: take null for "none"; name takes it for "unchanged", as before)
_NOT_NULL = (
    "strategy", "sl_target", "sl_seconds", "offer_timeout_s", "missed_offer_presence", "wrapup_s", "max_wait_action",
    "short_abandon_s", "closed_action", "overflow", "business_hours",
)  # fmt: skip


class QueuePatch(Input):
    name: QueueName | None = None
    team_id: Id | None = None
    strategy: Strategy | None = None
    sl_target: ServiceLevelTarget | None = None
    sl_seconds: ServiceLevelSeconds | None = None
    aging_s: AgingSeconds | None = None
    offer_timeout_s: OfferTimeout | None = None
    missed_offer_presence: MissedOfferPresence | None = None
    wrapup_s: WrapupSeconds | None = None
    max_wait_s: WaitSeconds | None = None
    max_wait_action: Action | None = None
    short_abandon_s: ShortAbandonSeconds | None = None
    closed_action: Action | None = None
    overflow: OverflowSteps | None = None
    business_hours: bool | None = None

    _no_null = field_validator(*_NOT_NULL, mode="before")(not_null)


class OverflowStepOut(Output):
    after_s: float
    levels: dict[str, int]
    any_language: bool
    to_queue: int | None


class QueueOut(Output):
    id: int
    name: str
    team_id: int | None
    strategy: str
    sl_target: float
    sl_seconds: float
    aging_s: float | None
    offer_timeout_s: float
    missed_offer_presence: str
    wrapup_s: float
    max_wait_s: float | None
    max_wait_action: str
    short_abandon_s: float
    closed_action: str
    overflow: list[OverflowStepOut]
    business_hours: bool
    wrapup_code_required: bool = False  # set with PATCH /queues/{id}/wrapup


ChannelCapacity = Annotated[int, Field(ge=0, le=20)]


class CapacityIn(Input):
    """How many contacts of each channel an agent handles at once (channels left out of a request keep theirs)."""

    voice: ChannelCapacity = 1
    callback: ChannelCapacity = 1
    chat: ChannelCapacity = 3
    email: ChannelCapacity = 5
    case: ChannelCapacity = 5


class AgentProfileIn(Input):
    extension: Extension | None = None
    sip_password: Annotated[str, StringConstraints(min_length=4, max_length=128)] | None = None
    skills: Annotated[dict[SkillName, SkillLevel], Field(max_length=50)] = Field(default_factory=dict)
    languages: Languages = Field(default_factory=list)
    capacity: CapacityIn | None = None
    #: a call (voice, callback) takes the whole agent: no written contact beside it, and no call beside one
    voice_exclusive: bool = True

    _no_null = field_validator("capacity", mode="before")(not_null)


class AgentOut(Output):
    user_id: int
    email: str
    display_name: str
    role: Role
    active: bool
    extension: str | None
    has_sip_password: bool
    skills: dict[str, int]
    languages: list[str]
    team_ids: list[int]
    capacity: dict[str, int]
    voice_exclusive: bool


# --- customers ---------------------------------------------------------------------------------------------


class IdentityIn(Input):
    kind: IdentityKind
    value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]


class IdentityOut(Output):
    id: int
    kind: IdentityKind
    value: str


class ConsentIn(Input):
    purpose: ConsentPurpose
    granted: bool
    channel: Literal["voice", "email", "chat", "form", "web", "sms", "paper", "ivr", "api", "import"]
    source: Text
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None


class ConsentEventOut(Output):
    id: int
    purpose: ConsentPurpose
    granted: bool
    channel: str
    source: str
    note: str | None
    actor_user_id: int | None
    actor_label: str
    created_at: datetime


class CustomerIn(Input):
    name: Text
    number: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9/_-]{0,39}$")] | None = None
    language: Language | None = None
    timezone: TimeZone | None = None
    preferred_channel: PreferredChannel | None = None
    contact_windows: Annotated[list[ContactWindowJson], Field(max_length=10)] = Field(default_factory=list)
    tier: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")] = "standard"
    identities: Annotated[list[IdentityIn], Field(max_length=20)] = Field(default_factory=list)
    consents: Annotated[list[ConsentIn], Field(max_length=10)] = Field(default_factory=list)


class CustomerPatch(Input):
    name: Text | None = None
    language: Language | None = None
    timezone: TimeZone | None = None
    preferred_channel: PreferredChannel | None = None
    contact_windows: Annotated[list[ContactWindowJson], Field(max_length=10)] | None = None
    tier: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")] | None = None


class RestrictionIn(Input):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    until: UtcDatetime | None = None


class EraseIn(Input):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class CustomerOut(Output):
    id: int
    number: str
    name: str
    language: str | None
    timezone: str | None
    preferred_channel: str | None
    contact_windows: list[dict[str, Any]]
    tier: str
    identities: list[IdentityOut]
    consent: dict[str, bool | None]
    restricted: bool
    restricted_reason: str | None
    restricted_until: datetime | None
    erased: bool
    created_at: datetime
    updated_at: datetime


# --- interactions ------------------------------------------------------------------------------------------

Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]


class _InteractionFields(Input):
    customer_id: Id | None = None
    queue_id: Id | None = None
    agent_id: Id | None = None
    queued_at: UtcDatetime | None = None
    offered_at: UtcDatetime | None = None
    answered_at: UtcDatetime | None = None
    ended_at: UtcDatetime | None = None
    wrapup_ended_at: UtcDatetime | None = None
    hold_s: Annotated[float, Field(ge=0, le=86_400)] | None = None
    disposition_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,60}$")] | None = None
    notes: LongText | None = None


class InteractionIn(_InteractionFields):
    channel: Channel
    direction: Direction
    from_address: Address | None = None
    to_address: Address | None = None
    subject: Annotated[str, StringConstraints(max_length=500)] | None = None
    created_at: UtcDatetime | None = None


class InteractionPatch(_InteractionFields):
    pass


class InteractionOut(Output):
    id: int
    channel: Channel
    direction: Direction
    customer_id: int | None
    queue_id: int | None
    agent_id: int | None
    from_address: str | None
    to_address: str | None
    subject: str | None
    created_at: datetime
    queued_at: datetime | None
    offered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    wrapup_ended_at: datetime | None
    hold_s: float | None = None
    disposition_code: str | None
    notes: str | None
    ivr_path: list[str] = []
    recording: str | None = None
    end_reason: str | None = None
    transferred_at: datetime | None = None  # when an agent handed this contact on
    transferred_from_id: int | None = None  # the interaction this transferred contact continues


# --- auth and audit --------------------------------------------------------------------------------------


class LoginIn(Input):
    email: Email
    password: Annotated[str, StringConstraints(max_length=256)]


class LoginOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: UserOut


class TokenIn(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class TokenOut(Output):
    id: int
    name: str
    kind: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str


class AuditOut(Output):
    id: int
    actor_user_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str | None
    data: dict[str, Any]
    ip: str | None
    created_at: datetime


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: int | None = None


class TimelinePage(BaseModel):
    """A page of a customer's timeline, newest first: each item has ``at``, ``kind`` (interaction, callback,
    case, case_entry, consent, script_run, chat_transcript), ``id`` and the fields of its kind; ``next_before``
    continues it."""

    items: list[dict[str, Any]]
    next_before: str | None = None


# --- routing -------------------------------------------------------------------------------------------------

RoutingChannel = Literal["voice", "callback", "chat", "email", "case"]


class TaskIn(Input):
    queue_id: Id
    channel: RoutingChannel
    skills: Annotated[dict[SkillName, SkillLevel], Field(max_length=20)] = Field(default_factory=dict)
    language: Language | None = None
    priority: Annotated[int, Field(ge=0, le=100)] = 0
    preferred_agent_id: Id | None = None
    preferred_until: UtcDatetime | None = None
    not_before: UtcDatetime | None = None
    interaction_id: Id | None = None


# --- callbacks -----------------------------------------------------------------------------------------------

CallbackOutcome = Literal["connected", "no_answer", "busy", "voicemail", "failed", "wrong_number", "later", "stop"]
CallbackStatus = Literal["scheduled", "completed", "failed", "stopped", "cancelled"]
PhoneText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]


class CallbackIn(Input):
    queue_id: Id
    number: PhoneText  # read in the tenant's country unless it starts with + (stored as E.164)
    customer_id: Id | None = None  # else the customer whose phone identity is this number, if any
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    #: the agreed time (any offset; kept in UTC); none: as soon as possible
    at: UtcDatetime | None = None
    #: the agent who promised to call (a personal callback); the tenant's policy says how long it waits for them
    personal_agent_id: Id | None = None
    language: Language | None = None
    priority: Annotated[int, Field(ge=0, le=100)] = 0


class CallbackAttemptIn(Input):
    outcome: CallbackOutcome
    started_at: UtcDatetime | None = None  # default: now
    ended_at: UtcDatetime | None = None  # default: now
    later: UtcDatetime | None = None  # for "later": the time the customer asked to be called
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None


class CallbackCancelIn(Input):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class CallbackStats(BaseModel):
    since: datetime
    until: datetime
    requested: int  # callbacks promised for the interval (their due_at in it)
    by_status: dict[str, int]
    by_source: dict[str, int]
    promise_kept: int
    promise_broken: int
    promise_pending: int  # not yet known: no attempt, and the time not yet passed
    promise_kept_share: float | None  # kept / (kept + broken); null when none is known yet


class CallbackOut(Output):
    id: int
    queue_id: int
    customer_id: int | None
    number: str
    reason: str | None
    source: str
    language: str | None
    priority: int
    requested_at: datetime
    due_at: datetime
    not_before: datetime
    keep_by: datetime
    personal_agent_id: int | None
    personal_until: datetime | None
    status: str
    attempts: int
    last_outcome: str | None
    next_attempt_at: datetime | None
    first_attempt_at: datetime | None
    promise_kept: bool | None
    routing_task_id: int | None
    interaction_id: int | None
    last_agent_id: int | None = None  # the agent of the latest attempt they talked on
    disposition: str | None = None  # what that agent set for it (null: nothing yet)
    created_at: datetime
    updated_at: datetime


# --- campaigns -----------------------------------------------------------------------------------------------

CampaignPurpose = Literal["service", "marketing"]
CampaignMode = Literal["preview", "progressive", "predictive"]
CampaignStatus = Literal["draft", "running", "paused", "finished"]
PreviewTimeout = Annotated[int, Field(ge=5, le=3600)]
PreviewAction = Literal["skip", "dial"]


class CampaignIn(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    purpose: CampaignPurpose
    queue_id: Id
    mode: CampaignMode = "preview"
    max_attempts: Annotated[int, Field(ge=1, le=20)] = 3
    spacing_minutes: Annotated[int, Field(ge=1, le=10_080)] = 60
    #: the share of answered calls that may be abandoned, per day and over 30 days (predictive mode)
    abandon_cap: Annotated[float, Field(ge=0.0, le=0.05)] = 0.03
    #: preview mode: seconds an agent has to dial or skip an offered contact, and what happens when they do neither
    preview_timeout_s: PreviewTimeout = 60
    preview_timeout_action: PreviewAction = "skip"
    #: best-effort answering-machine detection on the customer's first seconds (outbound/amd.py)
    detect_machines: bool = False


class CampaignPatch(Input):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)] | None = None
    mode: CampaignMode | None = None
    status: CampaignStatus | None = None
    max_attempts: Annotated[int, Field(ge=1, le=20)] | None = None
    spacing_minutes: Annotated[int, Field(ge=1, le=10_080)] | None = None
    abandon_cap: Annotated[float, Field(ge=0.0, le=0.05)] | None = None
    preview_timeout_s: PreviewTimeout | None = None
    preview_timeout_action: PreviewAction | None = None
    detect_machines: bool | None = None


class AbandonFiguresOut(Output):
    answered: int
    abandoned: int
    rate: float


class AbandonOut(Output):
    """Abandoned / answered calls of predictive dialing: ``today`` is the tenant's calendar ``day``."""

    day: str
    cap: float
    today: AbandonFiguresOut
    last_30_days: AbandonFiguresOut


class CampaignOut(Output):
    id: int
    name: str
    purpose: str
    queue_id: int
    mode: str
    status: str
    max_attempts: int
    spacing_minutes: int
    abandon_cap: float
    preview_timeout_s: int = 60
    preview_timeout_action: str = "skip"
    detect_machines: bool = False
    created_at: datetime
    updated_at: datetime
    contacts: dict[str, int] = {}  # by status
    abandon: AbandonOut | None = None  # predictive dialing's abandon rate


class ContactOut(Output):
    id: int
    campaign_id: int
    number: str
    name: str | None
    customer_id: int | None
    timezone: str | None
    status: str
    attempts: int
    last_attempt_at: datetime | None
    last_outcome: str | None
    closed_reason: str | None
    next_attempt_at: datetime | None = None
    routing_task_id: int | None = None
    last_agent_id: int | None = None
    disposition: str | None = None
    preview_until: datetime | None = None  # preview mode: offered to an agent, who dials or skips by then


class RowError(BaseModel):
    row: int  # the line of the file (the header is line 1)
    field: str
    message: str


class ImportReport(BaseModel):
    accepted: int
    rejected: int
    errors: list[RowError]  # the first 1,000
    errors_truncated: bool = False


class CustomerFilter(Input):
    """Which of the tenant's customers to add to a campaign: every given condition must hold (lists: any of)."""

    languages: Annotated[list[Language], Field(min_length=1, max_length=20)] | None = None
    timezones: Annotated[list[TimeZone], Field(min_length=1, max_length=20)] | None = None
    tiers: (
        Annotated[
            list[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]],
            Field(min_length=1, max_length=20),
        ]
        | None
    ) = None
    #: the customer's current phone-marketing consent: granted, withdrawn, or never recorded
    marketing_consent: Literal["granted", "withdrawn", "unknown"] | None = None
    created_after: UtcDatetime | None = None
    created_before: UtcDatetime | None = None
    #: their latest interaction (any channel) before this; customers never in contact count as before it
    last_contact_before: UtcDatetime | None = None
    last_contact_after: UtcDatetime | None = None
    limit: Annotated[int, Field(ge=1, le=50_000)] = 50_000

    @model_validator(mode="after")
    def _ranges(self) -> CustomerFilter:
        for low, high in (("created_after", "created_before"), ("last_contact_after", "last_contact_before")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a >= b:
                raise ValueError(f"{low} must be before {high}")
        return self


class FromCustomersReport(BaseModel):
    matched: int  # customers the filter selected
    added: int
    skipped: dict[
        str, int
    ]  # reason -> how many: already_in_campaign, no_phone, do_not_call, restricted, no_consent, ...
    truncated: bool = False  # more customers matched than ``limit``


DispositionCode = Literal[
    "resolved", "connected", "not_interested", "no_answer", "busy", "voicemail", "wrong_number", "later", "stop"
]


class DispositionIn(Input):
    code: DispositionCode
    #: for ``later``: the time of day the customer asked for (HH:MM, in the customer's time zone), and the day
    #: (default: the next time the customer's clock shows it)
    time: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=5)] | None = None
    date: date_ | None = None
    personal: bool = False  # for ``later``: the same agent calls back ("I will call you myself")
    note: Annotated[str, StringConstraints(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _later(self) -> DispositionIn:
        if self.code == "later" and self.time is None:
            raise ValueError("'later' needs the time the customer asked for (time: HH:MM)")
        if self.code != "later" and (self.time is not None or self.date is not None or self.personal):
            raise ValueError("time, date and personal are only for 'later'")
        return self


class DispositionOut(Output):
    id: int
    code: str
    attempt: int
    agent_id: int | None
    set_by_id: int | None
    callback_id: int | None
    contact_id: int | None
    later_at: datetime | None
    follow_up_callback_id: int | None
    note: str | None
    created_at: datetime
    status: str = ""  # the callback's or the contact's status afterwards


class PreviewOut(BaseModel):
    """A campaign contact offered to an agent in preview mode: whom, why, and until when to dial or skip."""

    task_id: int
    campaign_id: int
    campaign: str
    purpose: str
    reason: str
    contact: ContactOut
    customer: CustomerOut | None
    preview_until: datetime | None
    timeout_action: str


class EligibilityOut(BaseModel):
    allowed: bool
    reason: str
    at: datetime | None  # when not now: the earliest time it may be called; null: not as things stand


class DoNotCallIn(Input):
    number: PhoneText
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class DoNotCallOut(Output):
    id: int
    number: str
    reason: str | None
    created_at: datetime


class TaskOut(Output):
    id: int
    queue_id: int
    channel: str
    skills: dict[str, int]
    language: str | None
    priority: int
    enqueued_at: datetime
    not_before: datetime | None
    preferred_agent_id: int | None
    preferred_until: datetime | None
    interaction_id: int | None
    callback_number: str | None = None
    state: str
    agent_id: int | None
    outcome: str | None
    assigned_at: datetime | None
    position: int | None = None
    estimated_wait_s: float | None = None


class PresenceIn(Input):
    presence: Literal["ready", "break", "offline"]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
