"""The chat's lifecycle through the one write path (rows, audit, events after commit): a chat started from the
widget (customer, contact, routing task), accepted by an agent, ended; a tenant's chat settings changed; a message
left or a callback asked for when nobody can chat; a file recorded; the transcript queued as an e-mail. Lines
themselves are not audited one by one (the writer stores them; the audit records the chat's lifecycle)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import func, select

from infolinia.cases.actions import Moves, create_case, policy_of, route_to_queue
from infolinia.cases.schemas import CaseIn
from infolinia.channels.chat.settings import ChatSettings, new_widget_key
from infolinia.channels.email import compose
from infolinia.channels.email.outgoing import sender as email_sender
from infolinia.channels.email.settings import EmailSettings
from infolinia.customers.actions import find_or_create
from infolinia.errors import Conflict, Invalid
from infolinia.interactions.actions import create_interaction
from infolinia.outbound.actions import Written, request_callback
from infolinia.schemas import CallbackIn, IdentityIn, InteractionIn
from infolinia.store.models import (
    Channel,
    ChatFile,
    ChatMessage,
    ChatSession,
    Direction,
    EmailMessage,
    Interaction,
    Queue,
    RoutingTask,
    Tenant,
    User,
)
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Started:
    chat: ChatSession
    token: str
    task: RoutingTask


async def start(
    tx: Tx, tenant: Tenant, *, name: str, identities: list[IdentityIn], topic: str, queue_id: int, origin: str | None,
    email: str | None, phone: str | None,
) -> Started:  # fmt: skip
    """A chat from the widget's pre-chat form: the customer (found by the e-mail or phone, else new), an inbound
    chat contact in the topic's queue, the chat and its routing task (routed by the caller after the commit)."""
    customer = await find_or_create(tx, tenant, name or (email or phone or "Chat visitor"), identities)
    now = utcnow()
    contact = await create_interaction(tx, tenant.id, InteractionIn(
        channel=Channel.CHAT, direction=Direction.INBOUND, customer_id=customer.id, queue_id=queue_id,
        from_address=identities[0].value[:254], subject=f"Chat: {topic.replace('_', ' ')}", created_at=now,
        queued_at=now,
    ))  # fmt: skip
    token = secrets.token_urlsafe(32)
    chat = ChatSession(
        tenant_id=tenant.id, token_hash=token_hash(token), status="waiting", name=name[:200] or customer.name[:200],
        email=email, phone=phone, topic=topic, origin=origin, customer_id=customer.id, interaction_id=contact.id,
        queue_id=queue_id, created_at=now,
    )  # fmt: skip
    tx.session.add(chat)
    task = RoutingTask(
        tenant_id=tenant.id, queue_id=queue_id, channel="chat", skills={}, language=customer.language,
        priority=0, enqueued_at=now, state="waiting", interaction_id=contact.id,
    )  # fmt: skip
    tx.session.add(task)
    await tx.session.flush()
    chat.routing_task_id = task.id
    tx.audit(tenant.id, "chat.started", "chat", chat.id, topic=topic, queue_id=queue_id, origin=origin)
    tx.emit("chat.started", tenant.id, id=chat.id, queue_id=queue_id, customer_id=customer.id,
            interaction_id=contact.id)  # fmt: skip
    return Started(chat, token, task)


async def accept(tx: Tx, chat: ChatSession, agent_id: int) -> ChatSession:
    """The agent accepted the chat's routing task: the chat is theirs, its contact answered by them."""
    now = utcnow()
    chat.status, chat.agent_id, chat.answered_at = "active", agent_id, now
    if chat.interaction_id is not None:
        contact = await tx.session.get(Interaction, chat.interaction_id)
        if contact is not None:
            contact.agent_id, contact.offered_at, contact.answered_at = agent_id, contact.offered_at or now, now
    await tx.session.flush()
    tx.audit(chat.tenant_id, "chat.accepted", "chat", chat.id, agent_id=agent_id)
    tx.emit("chat.accepted", chat.tenant_id, id=chat.id, agent_id=agent_id, interaction_id=chat.interaction_id)
    return chat


async def end(tx: Tx, chat: ChatSession, by: str) -> bool:
    """End the chat (``by``: customer, agent, idle, system); its contact ends now. False when it had ended."""
    if chat.status == "ended":
        return False
    now = utcnow()
    chat.status, chat.ended_at, chat.ended_by = "ended", now, by
    if chat.interaction_id is not None:
        contact = await tx.session.get(Interaction, chat.interaction_id)
        if contact is not None and contact.ended_at is None:
            contact.ended_at = max(now, contact.answered_at or now)
            contact.end_reason = "abandoned" if chat.answered_at is None else f"ended_by_{by}"
    lines = await tx.session.scalar(select(func.count()).where(ChatMessage.chat_id == chat.id))
    await tx.session.flush()
    tx.audit(chat.tenant_id, "chat.ended", "chat", chat.id, by=by, lines=int(lines or 0),
             answered=chat.answered_at is not None)  # fmt: skip
    tx.emit("chat.ended", chat.tenant_id, id=chat.id, by=by, agent_id=chat.agent_id,
            interaction_id=chat.interaction_id)  # fmt: skip
    return True


async def update_settings(tx: Tx, tenant: Tenant, changes: dict[str, object], new_key: bool) -> ChatSettings:
    current = ChatSettings.of(tenant.chat_settings).model_dump(mode="json")
    merged = {**current, **changes}
    if new_key or (merged.get("enabled") and not merged.get("widget_key")):
        merged["widget_key"] = new_widget_key()
    try:
        settings = ChatSettings.model_validate(merged)
    except ValidationError as error:
        raise Invalid(f"invalid chat settings: {error.errors()[0]['msg']}") from None
    for topic, queue_id in settings.topics.items():
        found = await tx.session.scalar(select(Queue.id).where(Queue.id == queue_id, Queue.tenant_id == tenant.id))
        if found is None:
            raise Invalid(f"no queue {queue_id} in this tenant (topic {topic})", details={"field": "topics"})
    if settings.widget_key is not None:
        taken = await tx.session.scalar(
            select(Tenant.id).where(
                Tenant.id != tenant.id, Tenant.chat_settings["widget_key"].as_string() == settings.widget_key
            )
        )
        if taken is not None:
            raise Conflict("another tenant uses this widget key", code="widget_key_taken")
    tenant.chat_settings = settings.model_dump(mode="json", exclude_none=True)
    tenant.updated_at = utcnow()
    await tx.session.flush()
    fields = sorted({*changes, *(["widget_key"] if new_key else [])})
    tx.audit(tenant.id, "chat.settings_changed", "tenant", tenant.id, fields=fields)
    tx.emit("tenant.updated", tenant.id, id=tenant.id, fields=["chat_settings"])
    return settings


async def leave_message(
    tx: Tx, tenant: Tenant, *, name: str, identities: list[IdentityIn], topic: str, queue_id: int, message: str,
    moves: Moves,
) -> int:  # fmt: skip
    """A message left in the widget while nobody can chat: a case (waiting in the topic's queue) and a contact;
    the case's number."""
    customer = await find_or_create(tx, tenant, name or identities[0].value, identities)
    subject = " ".join(message.split())[:80] or "Message from the chat"
    contact = await create_interaction(tx, tenant.id, InteractionIn(
        channel=Channel.CHAT, direction=Direction.INBOUND, customer_id=customer.id, queue_id=queue_id,
        from_address=identities[0].value[:254], subject=f"Message left: {subject}"[:500]))  # fmt: skip
    categories = policy_of(tenant).categories
    category = topic if topic in categories else ("question" if "question" in categories else categories[0])
    filed = CaseIn(subject=subject, category=category, description=message, customer_id=customer.id,
                   interaction_id=contact.id)  # fmt: skip
    case = await create_case(tx, tenant, filed, moves)
    if case.routing_task_id is None:
        await route_to_queue(tx, case, queue_id, moves)
    tx.audit(tenant.id, "chat.message_left", "case", case.id, topic=topic)
    return case.number


async def ask_callback(tx: Tx, tenant: Tenant, *, queue_id: int, number: str, reason: str) -> Written:
    body = CallbackIn(queue_id=queue_id, number=number, reason=reason[:500] or None)
    return await request_callback(tx, tenant, body, source="web")


async def record_file(
    tx: Tx, chat: ChatSession, sender: str, filename: str, content_type: str, size: int, sha256: str, path: str
) -> ChatFile:  # fmt: skip
    row = ChatFile(tenant_id=chat.tenant_id, chat_id=chat.id, sender=sender, filename=filename,
                   content_type=content_type, size=size, sha256=sha256, path=path)  # fmt: skip
    tx.session.add(row)
    await tx.session.flush()
    return row


async def transcript_text(tx: Tx, chat: ChatSession, tenant: Tenant) -> str:
    agent = await tx.session.get(User, chat.agent_id) if chat.agent_id is not None else None
    names = {"customer": chat.name, "agent": agent.display_name if agent is not None else tenant.name}
    rows = await tx.session.scalars(select(ChatMessage).where(ChatMessage.chat_id == chat.id).order_by(ChatMessage.id))
    lines = [f"Chat with {tenant.name}, {chat.created_at:%Y-%m-%d %H:%M} UTC", ""]
    lines += [f"[{row.created_at:%H:%M:%S}] {names[row.sender]}: {row.body}" for row in rows]
    return "\n".join(lines) + "\n"


async def email_transcript(tx: Tx, tenant: Tenant, chat: ChatSession, to: str) -> EmailMessage:
    """The transcript to ``to`` through the e-mail channel's outbox (sent after the commit by its sender)."""
    settings = EmailSettings.of(tenant.email_settings)
    if settings.relay is None:
        raise Conflict("e-mail is not set up for this company", code="email_not_configured")
    from_address, from_name = email_sender(tenant, settings, None)
    now = utcnow()
    body = await transcript_text(tx, chat, tenant)
    message_id = f"{uuid.uuid4().hex}.chat{chat.id}@{from_address.rpartition('@')[2] or 'infolinia.invalid'}"
    subject = f"Your chat with {tenant.name}"
    out = compose.Outgoing(from_address=from_address, from_name=from_name, to=to, subject=subject, body=body,
                           message_id=message_id, date=now)  # fmt: skip
    row = EmailMessage(
        tenant_id=tenant.id, direction="out", status="pending", message_id=message_id, from_address=from_address,
        to_address=to, subject=out.subject[:500], reference_ids=[], body=body, raw=compose.render(out), problems=[],
        customer_id=chat.customer_id, attempts=0, next_attempt_at=now,
    )  # fmt: skip
    tx.session.add(row)
    await tx.session.flush()
    tx.audit(tenant.id, "chat.transcript_sent", "chat", chat.id, email=row.id)
    tx.emit("email.queued", tenant.id, id=row.id, case_id=None, status=row.status)
    return row
