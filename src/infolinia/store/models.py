"""The relational model. Every row belongs to exactly one tenant, except tenants and platform admins.

Links between tenant-owned rows use composite foreign keys ``(id, tenant_id)`` so the database itself
refuses a row that points into another tenant.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Enum,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from infolinia.store.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Role(enum.StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    TENANT_ADMIN = "tenant_admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    BACK_OFFICE = "back_office"


class Channel(enum.StrEnum):
    VOICE = "voice"
    CALLBACK = "callback"
    EMAIL = "email"
    CHAT = "chat"
    FORM = "form"


class Direction(enum.StrEnum):
    INBOUND = "in"
    OUTBOUND = "out"


class IdentityKind(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"


class ConsentPurpose(enum.StrEnum):
    SERVICE = "service"
    MARKETING_PHONE = "marketing_phone"
    MARKETING_EMAIL = "marketing_email"
    CALL_RECORDING = "call_recording"


class TokenKind(enum.StrEnum):
    SESSION = "session"
    API = "api"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


def _tenant_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    languages: Mapped[list[Any]] = mapped_column(default=list)
    business_hours: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: record calls (only those whose caller was told and whose consent allows it); off unless the tenant says so
    record_calls: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: ``outbound.policy.CallbackPolicy`` as JSON; {} is the defaults
    callback_policy: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    #: ``cases.policy.CasePolicy`` as JSON (categories, the escalation ladder); {} is the defaults
    case_policy: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    #: the number of the tenant's last case (numbers are per tenant: 1, 2, ...)
    case_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the counter behind the tenant's automatic customer numbers (C000001, C000002, ...)
    customer_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: first-contact resolution: days after a contact in which a further inbound contact of the same customer
    #: makes it a repeat (``wrapup/fcr.py``)
    fcr_window_days: Mapped[int] = mapped_column(Integer, default=7, server_default="7")
    #: ``channels.email.settings.EmailSettings`` as JSON (relay, queue, auto-acknowledgement); {}: no e-mail out
    email_settings: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    #: the web chat's settings (``channels/chat/settings.py``): widget key, allowed origins, topics and queues
    chat_settings: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("id", "tenant_id"),
        CheckConstraint("role = 'platform_admin' OR tenant_id IS NOT NULL", name="tenant_unless_platform"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(16), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None]


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), UniqueConstraint("id", "tenant_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (
        ForeignKeyConstraint(["team_id", "tenant_id"], ["teams.id", "teams.tenant_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["user_id", "tenant_id"], ["users.id", "users.tenant_id"], ondelete="CASCADE"),
    )

    team_id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True, index=True)
    tenant_id: Mapped[int] = _tenant_fk()


class AgentProfile(Base):
    """What the router and the phone need to know about an agent. The SIP secret is kept only as digests."""

    __tablename__ = "agent_profiles"
    __table_args__ = (
        ForeignKeyConstraint(["user_id", "tenant_id"], ["users.id", "users.tenant_id"], ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "extension"),
    )

    user_id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    extension: Mapped[str | None] = mapped_column(String(20))
    sip_realm: Mapped[str | None] = mapped_column(String(100))
    sip_ha1_md5: Mapped[str | None] = mapped_column(String(32))
    sip_ha1_sha256: Mapped[str | None] = mapped_column(String(64))
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    presence: Mapped[str] = mapped_column(String(20), default="offline", server_default="offline")
    presence_reason: Mapped[str | None] = mapped_column(String(100))
    # routing settings (see infolinia.routing.model.AgentSpec): contacts at once per channel
    capacity_voice: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    capacity_callback: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    capacity_chat: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    capacity_email: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    capacity_case: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    voice_exclusive: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())


class AgentPresenceChange(Base):
    """An agent's presence as it changed (append-only): the one the agent or a supervisor chose, or the routing
    engine set (``break`` after a missed offer). Wrap-up is not recorded (the agent stays ``ready`` meanwhile).
    Staffed time for occupancy is read from these (``reports/presence.py``)."""

    __tablename__ = "agent_presence_changes"
    __table_args__ = (
        ForeignKeyConstraint(["agent_id", "tenant_id"], ["users.id", "users.tenant_id"], ondelete="CASCADE"),
        Index("ix_agent_presence_changes_tenant_at", "tenant_id", "at"),
        Index("ix_agent_presence_changes_agent_at", "agent_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    agent_id: Mapped[int]
    presence: Mapped[str] = mapped_column(String(20))  # offline, ready, break
    reason: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime]


class Queue(Base):
    __tablename__ = "queues"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("id", "tenant_id"),
        ForeignKeyConstraint(["team_id", "tenant_id"], ["teams.id", "teams.tenant_id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    team_id: Mapped[int | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # routing rules (see infolinia.routing.model.QueueSpec)
    strategy: Mapped[str] = mapped_column(String(20), default="longest_idle", server_default="longest_idle")
    sl_target: Mapped[float] = mapped_column(Float, default=0.8, server_default="0.8")
    sl_seconds: Mapped[float] = mapped_column(Float, default=20.0, server_default="20")
    aging_s: Mapped[float | None] = mapped_column(Float)
    offer_timeout_s: Mapped[float] = mapped_column(Float, default=15.0, server_default="15")
    wrapup_s: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    max_wait_s: Mapped[float | None] = mapped_column(Float)
    max_wait_action: Mapped[str] = mapped_column(String(40), default="voicemail", server_default="voicemail")
    missed_offer_presence: Mapped[str] = mapped_column(String(20), default="break", server_default="break")
    short_abandon_s: Mapped[float] = mapped_column(Float, default=5.0, server_default="5")
    closed_action: Mapped[str] = mapped_column(String(40), default="closed", server_default="closed")
    #: overflow steps, in increasing ``after_s``: [{"after_s", "levels", "any_language", "to_queue"}]
    overflow: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    #: follows the tenant's business hours (live channels are refused while closed). New queues do; queues that
    #: existed before migration 0003 keep being always open.
    business_hours: Mapped[bool] = mapped_column(Boolean, default=True, server_default=false())
    #: a contact's wrap-up may be recorded as ended only with one of the queue's wrap-up codes
    wrapup_code_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class WrapupCode(Base):
    """One of a queue's wrap-up codes: what an agent picks as a contact's ``disposition_code``, with the outcome
    class first-contact resolution reads (``wrapup/codes.py``). Never renamed; a code used in history is
    deactivated rather than deleted."""

    __tablename__ = "wrapup_codes"
    __table_args__ = (
        UniqueConstraint("queue_id", "code"),
        ForeignKeyConstraint(["queue_id", "tenant_id"], ["queues.id", "queues.tenant_id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    queue_id: Mapped[int]
    code: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20))  # wrapup.codes.OUTCOMES
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # the order agents see them in
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("tenant_id", "number"), UniqueConstraint("id", "tenant_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    number: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200), index=True)
    language: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))
    preferred_channel: Mapped[str | None] = mapped_column(String(20))
    contact_windows: Mapped[list[Any]] = mapped_column(default=list)
    tier: Mapped[str] = mapped_column(String(40), default="standard")
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    restricted_reason: Mapped[str | None] = mapped_column(String(500))
    restricted_until: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CustomerIdentity(Base):
    __tablename__ = "customer_identities"
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "value"),
        ForeignKeyConstraint(["customer_id", "tenant_id"], ["customers.id", "customers.tenant_id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    customer_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[IdentityKind] = mapped_column(_enum(IdentityKind, "identity_kind"))
    value: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsentEvent(Base):
    """Append-only: the current consent per purpose is the newest event. Never updated, never deleted."""

    __tablename__ = "consent_events"
    __table_args__ = (
        ForeignKeyConstraint(["customer_id", "tenant_id"], ["customers.id", "customers.tenant_id"]),
        Index("ix_consent_events_lookup", "tenant_id", "customer_id", "purpose", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    customer_id: Mapped[int]
    purpose: Mapped[ConsentPurpose] = mapped_column(_enum(ConsentPurpose, "consent_purpose"))
    granted: Mapped[bool] = mapped_column(Boolean)
    channel: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(String(1000))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Interaction(Base):
    """One contact on any channel, with the timestamps every report needs."""

    __tablename__ = "interactions"
    __table_args__ = (
        UniqueConstraint("id", "tenant_id"),
        ForeignKeyConstraint(["customer_id", "tenant_id"], ["customers.id", "customers.tenant_id"]),
        ForeignKeyConstraint(["queue_id", "tenant_id"], ["queues.id", "queues.tenant_id"]),
        ForeignKeyConstraint(["agent_id", "tenant_id"], ["users.id", "users.tenant_id"]),
        ForeignKeyConstraint(["transferred_from_id", "tenant_id"], ["interactions.id", "interactions.tenant_id"]),
        Index("ix_interactions_tenant_created", "tenant_id", "created_at"),
        Index("ix_interactions_tenant_customer_created", "tenant_id", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    channel: Mapped[Channel] = mapped_column(_enum(Channel, "channel"))
    direction: Mapped[Direction] = mapped_column(_enum(Direction, "direction"))
    customer_id: Mapped[int | None]
    queue_id: Mapped[int | None]
    agent_id: Mapped[int | None]
    from_address: Mapped[str | None] = mapped_column(String(254))
    to_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    queued_at: Mapped[datetime | None]
    offered_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    wrapup_ended_at: Mapped[datetime | None]
    hold_s: Mapped[float | None] = mapped_column(Float)  # seconds on hold after the answer (part of handle time)
    disposition_code: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # calls: the IVR nodes the caller went through, the recording file (relative to the data folder), why it
    # ended (caller_hangup, agent_hangup, cancelled, ...), the SIP Call-ID
    ivr_path: Mapped[list[Any]] = mapped_column(default=list, server_default="[]")
    recording: Mapped[str | None] = mapped_column(String(500))
    end_reason: Mapped[str | None] = mapped_column(String(40))
    sip_call_id: Mapped[str | None] = mapped_column(String(200))
    # transfers: ``transferred_at`` is when an agent handed this contact on (to a queue or another agent; the
    # reports count it as a transfer of this interaction's queue and agent); the continuation is a new interaction
    # whose ``transferred_from_id`` names this one, so the next agent sees the whole history
    transferred_at: Mapped[datetime | None]
    transferred_from_id: Mapped[int | None]


class RoutingTask(Base):
    """A contact waiting for (or handled by) an agent, as the routing engine sees it. Rows are the durable truth:
    on start the engine is rebuilt from the rows that are not done, in their original order."""

    __tablename__ = "routing_tasks"
    __table_args__ = (
        ForeignKeyConstraint(["queue_id", "tenant_id"], ["queues.id", "queues.tenant_id"]),
        ForeignKeyConstraint(["agent_id", "tenant_id"], ["users.id", "users.tenant_id"]),
        ForeignKeyConstraint(["preferred_agent_id", "tenant_id"], ["users.id", "users.tenant_id"]),
        ForeignKeyConstraint(["interaction_id", "tenant_id"], ["interactions.id", "interactions.tenant_id"]),
        Index("ix_routing_tasks_open", "state", "enqueued_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    queue_id: Mapped[int]
    channel: Mapped[str] = mapped_column(String(20))
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)
    language: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    enqueued_at: Mapped[datetime]
    not_before: Mapped[datetime | None]
    preferred_agent_id: Mapped[int | None]
    preferred_until: Mapped[datetime | None]
    interaction_id: Mapped[int | None]
    callback_number: Mapped[str | None] = mapped_column(String(32))  # E.164, for callbacks: the number to call
    state: Mapped[str] = mapped_column(String(20), default="waiting")
    agent_id: Mapped[int | None]
    outcome: Mapped[str | None] = mapped_column(String(40))
    assigned_at: Mapped[datetime | None]  # when the agent accepted it (restored on that agent after a restart)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Callback(Base):
    """A promised call to a customer, the durable truth from the request to the last attempt (``outbound/``).

    While it waits, its routing task (``routing_task_id``, channel ``callback``, ``not_before`` its earliest
    start) holds its place; each attempt's outcome writes here, and a retry makes a new task. ``promise_kept`` is
    null until known: true when the first attempt started in the promised interval, false once ``keep_by`` passed
    without one."""

    __tablename__ = "callbacks"
    __table_args__ = (
        UniqueConstraint("id", "tenant_id"),
        ForeignKeyConstraint(["queue_id", "tenant_id"], ["queues.id", "queues.tenant_id"]),
        ForeignKeyConstraint(["customer_id", "tenant_id"], ["customers.id", "customers.tenant_id"]),
        ForeignKeyConstraint(["personal_agent_id", "tenant_id"], ["users.id", "users.tenant_id"]),
        ForeignKeyConstraint(["interaction_id", "tenant_id"], ["interactions.id", "interactions.tenant_id"]),
        Index("ix_callbacks_tenant_status_due", "tenant_id", "status", "due_at"),
        Index("ix_callbacks_open_keep_by", "status", "keep_by"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    queue_id: Mapped[int]
    customer_id: Mapped[int | None]
    number: Mapped[str] = mapped_column(String(32))  # E.164
    reason: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(20))  # keep_place, ivr, web, agent, api
    language: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    requested_at: Mapped[datetime]
    due_at: Mapped[datetime]  # what was promised: the request (as soon as possible) or the agreed time
    not_before: Mapped[datetime]  # the earliest the first attempt may start
    keep_by: Mapped[datetime]  # the latest first attempt that keeps the promise
    personal_agent_id: Mapped[int | None]
    personal_until: Mapped[datetime | None]  # then anyone in the queue
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled completed failed stopped cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    next_attempt_at: Mapped[datetime | None]  # the earliest start of the next attempt (while scheduled)
    first_attempt_at: Mapped[datetime | None]
    promise_kept: Mapped[bool | None] = mapped_column(Boolean)
    routing_task_id: Mapped[int | None] = mapped_column(index=True)  # the task of the next attempt
    interaction_id: Mapped[int | None]  # the contact it was asked for in
    #: the agent of the latest attempt they talked on, and the disposition they set for it (null: none yet)
    last_agent_id: Mapped[int | None]
    disposition: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Campaign(Base):
    """An outbound campaign: whom to call (its contacts), why (service or marketing: marketing needs consent), in
    which queue's agents, how (mode), and how often (attempts, spacing)."""

    __tablename__ = "campaigns"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        UniqueConstraint("id", "tenant_id"),
        ForeignKeyConstraint(["queue_id", "tenant_id"], ["queues.id", "queues.tenant_id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(20))  # service, marketing
    queue_id: Mapped[int]
    mode: Mapped[str] = mapped_column(String(20), default="preview")  # preview, progressive, predictive
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft, running, paused, finished
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    spacing_minutes: Mapped[int] = mapped_column(Integer, default=60)
    abandon_cap: Mapped[float] = mapped_column(Float, default=0.03)
    #: preview mode: how long an agent has to dial or skip an offered contact, and what happens then (skip, dial)
    preview_timeout_s: Mapped[int] = mapped_column(Integer, default=60, server_default="60")
    preview_timeout_action: Mapped[str] = mapped_column(String(10), default="skip", server_default="skip")
    #: listen to the first seconds after the answer: an answering machine ends the call as ``voicemail``
    detect_machines: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CampaignContact(Base):
    """One number a campaign calls, with its own progress."""

    __tablename__ = "campaign_contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "number"),
        ForeignKeyConstraint(["campaign_id", "tenant_id"], ["campaigns.id", "campaigns.tenant_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["customer_id", "tenant_id"], ["customers.id", "customers.tenant_id"]),
        Index("ix_campaign_contacts_campaign_status", "campaign_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    campaign_id: Mapped[int]
    number: Mapped[str] = mapped_column(String(32))  # E.164
    name: Mapped[str | None] = mapped_column(String(200))
    customer_id: Mapped[int | None]
    timezone: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending, calling, done, closed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None]
    last_outcome: Mapped[str | None] = mapped_column(String(20))
    closed_reason: Mapped[str | None] = mapped_column(String(40))
    next_attempt_at: Mapped[datetime | None]  # not to be tried before (spacing, calling window)
    routing_task_id: Mapped[int | None] = mapped_column(index=True)  # while calling: its task
    #: the agent of the latest attempt they talked on, and the disposition they set for it (null: none yet)
    last_agent_id: Mapped[int | None]
    disposition: Mapped[str | None] = mapped_column(String(20))
    preview_until: Mapped[datetime | None]  # preview mode: shown to its agent, who must dial or skip by then
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CampaignAttempt(Base):
    """One call a predictive campaign placed to a contact, customer-first: when it was dialed, answered and put
    through to an agent, and its outcome (null while the call is under way). The abandon rate (abandoned /
    answered, per day in the tenant's time zone and over 30 days) and the answer rate are counted from these rows,
    so they survive a restart."""

    __tablename__ = "campaign_attempts"
    __table_args__ = (
        ForeignKeyConstraint(["campaign_id", "tenant_id"], ["campaigns.id", "campaigns.tenant_id"], ondelete="CASCADE"),
        Index("ix_campaign_attempts_campaign_started", "campaign_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    campaign_id: Mapped[int]
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_contacts.id", ondelete="SET NULL"))
    number: Mapped[str] = mapped_column(String(32))  # E.164
    started_at: Mapped[datetime]  # the INVITE to the customer
    answered_at: Mapped[datetime | None]  # the customer answered
    connected_at: Mapped[datetime | None]  # an agent was bridged to them
    ended_at: Mapped[datetime | None]
    agent_id: Mapped[int | None]
    outcome: Mapped[str | None] = mapped_column(String(20))  # connected, no_answer, busy, failed, abandoned


class Disposition(Base):
    """What the agent who handled a callback's or a campaign contact's call said came of it (append-only)."""

    __tablename__ = "dispositions"
    __table_args__ = (
        CheckConstraint("(callback_id IS NULL) <> (contact_id IS NULL)", name="callback_or_contact"),
        ForeignKeyConstraint(["callback_id", "tenant_id"], ["callbacks.id", "callbacks.tenant_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["agent_id", "tenant_id"], ["users.id", "users.tenant_id"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    callback_id: Mapped[int | None] = mapped_column(index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("campaign_contacts.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[int | None]  # who handled the call
    set_by_id: Mapped[int | None]  # who set it: that agent, or a supervisor for them
    code: Mapped[str] = mapped_column(String(20))
    attempt: Mapped[int] = mapped_column(Integer)  # the attempt it is about (1 = the first)
    later_at: Mapped[datetime | None]  # "call me later": the time asked for
    follow_up_callback_id: Mapped[int | None]  # the callback it made ("call me later")
    note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """What the front line could not settle at once, handed on: the customer's words, where it is on the tenant's
    escalation ladder (``tier``), who works it, and its timeline (``CaseEntry``). ``number`` is the one the
    customer is told (per tenant)."""

    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("id", "tenant_id"),
        UniqueConstraint("tenant_id", "number"),
        ForeignKeyConstraint(["customer_id", "tenant_id"], ["customers.id", "customers.tenant_id"]),
        ForeignKeyConstraint(["team_id", "tenant_id"], ["teams.id", "teams.tenant_id"]),
        ForeignKeyConstraint(["assignee_id", "tenant_id"], ["users.id", "users.tenant_id"]),
        Index("ix_cases_tenant_status", "tenant_id", "status"),
        Index("ix_cases_tenant_customer", "tenant_id", "customer_id"),
        Index("ix_cases_sla_check_at", "sla_check_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    number: Mapped[int] = mapped_column(Integer)
    subject: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(10), default="normal")  # low normal high urgent
    status: Mapped[str] = mapped_column(String(20), default="new")  # cases.lifecycle.STATUSES
    tier: Mapped[int] = mapped_column(Integer, default=0)  # the rung of the ladder it is on (0: the front line)
    customer_id: Mapped[int | None]
    team_id: Mapped[int | None]
    assignee_id: Mapped[int | None]
    created_by_id: Mapped[int | None]
    merged_into_id: Mapped[int | None]  # a duplicate: the case it was merged into (and closed)
    reopened: Mapped[int] = mapped_column(Integer, default=0)  # how many times
    first_response_at: Mapped[datetime | None]  # the first message to the customer
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    #: its service levels (``cases.service_levels``): the rule it took, a clock per target, what was reported
    sla: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    sla_check_at: Mapped[datetime | None]  # when a warning or breach is due next (null: nothing running)
    routing_task_id: Mapped[int | None]  # the task it waits as in its rung's queue (null: the rung has no queue)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CaseEntry(Base):
    """One line of a case's timeline (append-only): a note (internal) or a message to the customer, and every
    change: created, status, assignment, escalation (with its reason), a linked contact, a merge."""

    __tablename__ = "case_entries"
    __table_args__ = (
        ForeignKeyConstraint(["case_id", "tenant_id"], ["cases.id", "cases.tenant_id"], ondelete="CASCADE"),
        Index("ix_case_entries_case", "case_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    case_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # cases.actions.ENTRY_KINDS
    internal: Mapped[bool] = mapped_column(Boolean, default=True)  # False: the customer may see it
    body: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    author_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CaseLink(Base):
    """A contact (an interaction of any channel) that belongs to a case."""

    __tablename__ = "case_links"
    __table_args__ = (
        UniqueConstraint("case_id", "interaction_id"),
        ForeignKeyConstraint(["case_id", "tenant_id"], ["cases.id", "cases.tenant_id"], ondelete="CASCADE"),
        ForeignKeyConstraint(["interaction_id", "tenant_id"], ["interactions.id", "interactions.tenant_id"]),
        Index("ix_case_links_interaction", "interaction_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    case_id: Mapped[int]
    interaction_id: Mapped[int]
    linked_by_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DoNotCall(Base):
    """A number the tenant's campaigns never call (a callback the customer asked for still happens)."""

    __tablename__ = "do_not_call"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    number: Mapped[str] = mapped_column(String(32))  # E.164
    reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IvrFlow(Base):
    """A tenant's IVR flow as data: ``definition`` is a ``voice.ivr.Flow`` as dumped, validated when saved.
    ``version`` counts the saves, so a call can say which version it ran."""

    __tablename__ = "ivr_flows"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), UniqueConstraint("id", "tenant_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    definition: Mapped[dict[str, Any]] = mapped_column()
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PhoneNumber(Base):
    """A number callers dial, owned by one tenant (``e164`` is unique across tenants). ``national`` is its national
    significant number, for matching dialled forms without a country code. Without a flow it is not in service."""

    __tablename__ = "phone_numbers"
    __table_args__ = (
        ForeignKeyConstraint(["flow_id", "tenant_id"], ["ivr_flows.id", "ivr_flows.tenant_id"]),
        CheckConstraint("answer_after_s >= 0", name="answer_after_s_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    e164: Mapped[str] = mapped_column(String(16), unique=True)
    national: Mapped[str] = mapped_column(String(15), index=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    flow_id: Mapped[int | None] = mapped_column(index=True)
    answer_after_s: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Trunk(Base):
    """Where a tenant's calls come from: source networks (CIDR) and/or digest credentials (both: source AND auth).
    The password is kept only as HA1 digests in the realm ``<slug>.infolinia``. With ``dial_to``, also where its
    calls to customers go."""

    __tablename__ = "trunks"
    __table_args__ = (
        UniqueConstraint("tenant_id", "name"),
        CheckConstraint(
            "username IS NULL OR (ha1_md5 IS NOT NULL AND ha1_sha256 IS NOT NULL)", name="credentials_complete"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    allowed_sources: Mapped[list[Any]] = mapped_column(default=list)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    ha1_md5: Mapped[str | None] = mapped_column(String(32))
    ha1_sha256: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: calls to customers (callbacks) go out through the first active trunk that has these: host[:port] of the
    #: carrier, and the number customers see (E.164)
    dial_to: Mapped[str | None] = mapped_column(String(255))
    caller_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Prompt(Base):
    """A tenant's own recording of a prompt, in one language: 8 kHz mono 16-bit little-endian PCM. It takes
    precedence over the system prompt of the same name (``voice/prompts/library.py``)."""

    __tablename__ = "prompts"
    __table_args__ = (UniqueConstraint("tenant_id", "name", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    pcm: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded only when played or downloaded
    duration_ms: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class KbCategory(Base):
    """A section of a tenant's knowledge base (e.g. "Billing"), shown on its help page in ``position`` order."""

    __tablename__ = "kb_categories"
    __table_args__ = (UniqueConstraint("id", "tenant_id"), UniqueConstraint("tenant_id", "slug"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    slug: Mapped[str] = mapped_column(String(80))
    #: the name per language code, e.g. {"en": "Billing", "pl": "Rozliczenia"}
    names: Mapped[dict[str, Any]] = mapped_column(default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class KbArticle(Base):
    """A knowledge-base article in one language, as it is now (its ``version``); every earlier state is a
    ``KbArticleVersion``. Translations share the slug. ``search_title`` and ``search_body`` are the stemmed words
    the full-text index holds (``kb.text``); ``embedding`` what semantic search compares (``kb.semantic``)."""

    __tablename__ = "kb_articles"
    __table_args__ = (
        UniqueConstraint("id", "tenant_id"),
        UniqueConstraint("tenant_id", "language", "slug"),
        ForeignKeyConstraint(["category_id", "tenant_id"], ["kb_categories.id", "kb_categories.tenant_id"]),
        Index("ix_kb_articles_tenant_status", "tenant_id", "status", "visibility"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    language: Mapped[str] = mapped_column(String(10))
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # Markdown (no raw HTML)
    category_id: Mapped[int | None]
    visibility: Mapped[str] = mapped_column(String(10), default="internal")  # internal | public
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | published | archived
    tags: Mapped[list[Any]] = mapped_column(default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)
    search_title: Mapped[str] = mapped_column(Text, default="")
    search_body: Mapped[str] = mapped_column(Text, default="")
    #: the title and text's sentence embedding (``kb.semantic``: 384 little-endian float32, unit length), or None
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    #: which model and text ``embedding`` was made from (``kb.semantic.embedding_key``): another is stale
    embedding_key: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None]
    updated_by_id: Mapped[int | None]
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class KbArticleVersion(Base):
    """An article as it was saved, each save a new number (append-only)."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["article_id", "tenant_id"], ["kb_articles.id", "kb_articles.tenant_id"], ondelete="CASCADE"
        ),
        UniqueConstraint("article_id", "version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    article_id: Mapped[int]
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    category_id: Mapped[int | None]
    visibility: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    tags: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str | None] = mapped_column(String(500))  # what changed, in the editor's words
    author_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AgentScript(Base):
    """A step-by-step guide for agents (``agent_scripts``): ``definition`` is an ``agent_scripts.script.Script`` as
    dumped, ``attachments`` an ``agent_scripts.attachments.Attachments`` (queues, IVR choices, case categories),
    both validated when saved. ``version`` counts the changes, so a run can say which version it followed."""

    __tablename__ = "agent_scripts"
    __table_args__ = (UniqueConstraint("tenant_id", "name"), UniqueConstraint("id", "tenant_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    name: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    definition: Mapped[dict[str, Any]] = mapped_column()
    attachments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AgentScriptRun(Base):
    """How an agent went through a script on a contact: the steps taken and the answers recorded (append-only).
    It keeps the script's name and version, and outlives the script."""

    __tablename__ = "agent_script_runs"
    __table_args__ = (
        ForeignKeyConstraint(["interaction_id", "tenant_id"], ["interactions.id", "interactions.tenant_id"]),
        ForeignKeyConstraint(["agent_id", "tenant_id"], ["users.id", "users.tenant_id"]),
        Index("ix_agent_script_runs_interaction", "interaction_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    interaction_id: Mapped[int]
    script_id: Mapped[int | None]  # the script (it may have been deleted since)
    script_name: Mapped[str] = mapped_column(String(100))
    script_version: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[int | None]  # who recorded it
    #: the steps in the order taken: {"step", "type", "option" (a question's), "field" and "answer" (an input's)}
    steps: Mapped[list[Any]] = mapped_column(default=list)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)  # it reached an end step
    outcome: Mapped[str | None] = mapped_column(String(40))  # that end's suggested outcome
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Append-only record of sensitive actions. ``data`` never holds personal values, only field names."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_tenant_id_id", "tenant_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(60))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthToken(Base):
    """Browser sessions and API tokens. Only a SHA-256 of the secret is stored."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[TokenKind] = mapped_column(_enum(TokenKind, "token_kind"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


APPEND_ONLY_TABLES = ("consent_events", "audit_events")


class EmailAddress(Base):
    """An address the SMTP listener takes mail for, and the tenant it belongs to (one tenant per address)."""

    __tablename__ = "email_addresses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    address: Mapped[str] = mapped_column(String(254), unique=True)  # lower-case
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailMessage(Base):
    """One e-mail in or out (``channels/email``). Inbound: the raw bytes are committed before the listener answers
    250 (status ``received``), then processed once into a customer, a contact, a case and a task (``processed``;
    a delivery report: ``bounce``). Outbound: ``pending`` until the relay takes it (``sent``), retried on failure
    (``failed`` after the last attempt or a permanent refusal, ``bounced`` when a delivery report came back).
    ``message_id`` is unique per tenant: the same message is never stored twice."""

    __tablename__ = "email_messages"
    __table_args__ = (
        UniqueConstraint("id", "tenant_id"),
        UniqueConstraint("tenant_id", "message_id"),
        ForeignKeyConstraint(["case_id", "tenant_id"], ["cases.id", "cases.tenant_id"]),
        ForeignKeyConstraint(["customer_id", "tenant_id"], ["customers.id", "customers.tenant_id"]),
        ForeignKeyConstraint(["interaction_id", "tenant_id"], ["interactions.id", "interactions.tenant_id"]),
        ForeignKeyConstraint(["author_id", "tenant_id"], ["users.id", "users.tenant_id"]),
        Index("ix_email_messages_status", "status", "next_attempt_at", "id"),
        Index("ix_email_messages_case", "case_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    status: Mapped[str] = mapped_column(String(20))
    message_id: Mapped[str] = mapped_column(String(500))  # without angle brackets
    mail_from: Mapped[str | None] = mapped_column(String(254))  # the envelope sender (inbound)
    from_address: Mapped[str | None] = mapped_column(String(254))
    to_address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(500))
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    reference_ids: Mapped[list[Any]] = mapped_column(default=list)
    body: Mapped[str | None] = mapped_column(Text)  # the text as read (HTML made plain text)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # the message as received or sent
    problems: Mapped[list[Any]] = mapped_column(default=list)  # what could not be read as it should
    case_id: Mapped[int | None]
    customer_id: Mapped[int | None]
    interaction_id: Mapped[int | None]
    author_id: Mapped[int | None]  # the agent who wrote a reply
    bounce_of_id: Mapped[int | None]  # a delivery report: the message it reports on
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None]  # processed (inbound) or sent, failed, bounced (outbound)


class EmailAttachment(Base):
    """A file that came with an inbound e-mail: kept under the data folder (``path``) when its size and type are
    allowed, else only described (``refused``: why)."""

    __tablename__ = "email_attachments"
    __table_args__ = (
        UniqueConstraint("id", "tenant_id"),
        ForeignKeyConstraint(
            ["message_id", "tenant_id"], ["email_messages.id", "email_messages.tenant_id"], ondelete="CASCADE"
        ),
        Index("ix_email_attachments_message", "message_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    message_id: Mapped[int]
    position: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str | None] = mapped_column(String(500))  # relative to the data folder
    refused: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatSession(Base):
    """One web chat (``channels/chat``): opened by a customer through the widget, waiting as a routing task until an
    agent accepts it (``active``), then ``ended`` by either side or the idle timeout. The customer proves it is theirs
    with a secret token, of which only the SHA-256 is kept."""

    __tablename__ = "chat_sessions"
    __table_args__ = (
        UniqueConstraint("id", "tenant_id"),
        ForeignKeyConstraint(["customer_id", "tenant_id"], ["customers.id", "customers.tenant_id"]),
        ForeignKeyConstraint(["interaction_id", "tenant_id"], ["interactions.id", "interactions.tenant_id"]),
        ForeignKeyConstraint(["agent_id", "tenant_id"], ["users.id", "users.tenant_id"]),
        Index("ix_chat_sessions_status", "tenant_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = _tenant_fk()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(10))  # waiting, active, ended
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    topic: Mapped[str] = mapped_column(String(40))
    origin: Mapped[str | None] = mapped_column(String(300))
    customer_id: Mapped[int | None]
    interaction_id: Mapped[int | None]
    queue_id: Mapped[int | None] = mapped_column(Integer)
    routing_task_id: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(20))  # customer, agent, idle, system


class ChatMessage(Base):
    """One line of a chat. ``seq`` counts each sender's lines from 1 (a client resumes from the last it saw);
    ``client_id`` is the sender's own id of the line, so a line sent again is stored once."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "sender", "seq"),
        UniqueConstraint("chat_id", "sender", "client_id"),
        ForeignKeyConstraint(
            ["chat_id", "tenant_id"], ["chat_sessions.id", "chat_sessions.tenant_id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer)
    chat_id: Mapped[int] = mapped_column(Integer)
    sender: Mapped[str] = mapped_column(String(10))  # customer, agent
    seq: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(Integer)  # the agent who wrote it
    file_id: Mapped[int | None] = mapped_column(Integer)  # a line that sends a file
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatFile(Base):
    """A file sent in a chat, checked by its content and kept under the data folder; served only to the chat's
    customer and its tenant's agents."""

    __tablename__ = "chat_files"
    __table_args__ = (
        UniqueConstraint("id", "tenant_id"),
        ForeignKeyConstraint(
            ["chat_id", "tenant_id"], ["chat_sessions.id", "chat_sessions.tenant_id"], ondelete="CASCADE"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    chat_id: Mapped[int] = mapped_column(Integer, index=True)
    sender: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(500))  # relative to the data folder
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
