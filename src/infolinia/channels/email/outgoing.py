"""Queueing an e-mail to a customer in the caller's transaction (the outbox): the message is rendered, given its
Message-ID and stored ``pending``; ``outbox`` sends it after the commit. An agent's reply on a case is also a
message to the customer on the case's timeline and an outbound e-mail contact linked to it."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from infolinia.cases import actions as cases
from infolinia.channels.email import compose, threads
from infolinia.channels.email.settings import EmailSettings
from infolinia.errors import Conflict
from infolinia.interactions.actions import create_interaction
from infolinia.schemas import InteractionIn
from infolinia.store.models import (
    Case,
    Channel,
    Customer,
    CustomerIdentity,
    Direction,
    EmailMessage,
    IdentityKind,
    Tenant,
    User,
)
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx

#: at most this many Message-IDs in the References of a reply (the thread's first and newest ones)
MAX_REFERENCES = 20


def sender(tenant: Tenant, settings: EmailSettings, fallback: str | None) -> tuple[str, str]:
    """The From of the tenant's mail: its address and display name."""
    address = str(settings.from_address or fallback or "")
    if not address:
        raise Conflict("the tenant has no address to send e-mail from: set from_address in its e-mail settings",
                       code="email_not_configured")  # fmt: skip
    return address, settings.from_name or tenant.name


def new_message_id(case_number: int, from_address: str) -> str:
    return f"{uuid.uuid4().hex}.case{case_number}@{from_address.rpartition('@')[2] or 'infolinia.invalid'}"


def _references(reply_to: EmailMessage | None) -> list[str]:
    if reply_to is None:
        return []
    refs = [*reply_to.reference_ids, reply_to.message_id]
    return refs if len(refs) <= MAX_REFERENCES else [refs[0], *refs[-(MAX_REFERENCES - 1) :]]


async def queue_message(
    tx: Tx, tenant: Tenant, settings: EmailSettings, case: Case, *, to: str, subject: str, body: str,
    reply_to: EmailMessage | None, language: str | None, author_id: int | None,
) -> EmailMessage:  # fmt: skip
    """Store a message to ``to`` about ``case`` as ``pending`` (threaded to ``reply_to``, when given)."""
    if settings.relay is None:
        raise Conflict("the tenant has no SMTP relay: set one in its e-mail settings", code="email_not_configured")
    from_address, from_name = sender(tenant, settings, reply_to.to_address if reply_to is not None else None)
    now = utcnow()
    outgoing = compose.Outgoing(
        from_address=from_address, from_name=from_name, to=to, subject=subject, body=body,
        message_id=new_message_id(case.number, from_address), date=now,
        in_reply_to=reply_to.message_id if reply_to is not None else None, references=_references(reply_to),
        language=language,
    )  # fmt: skip
    row = EmailMessage(
        tenant_id=tenant.id, direction="out", status="pending", message_id=outgoing.message_id,
        from_address=from_address, to_address=to, subject=subject[:500], in_reply_to=outgoing.in_reply_to,
        reference_ids=outgoing.references, body=body, raw=compose.render(outgoing), problems=[], case_id=case.id,
        customer_id=case.customer_id, author_id=author_id, attempts=0, next_attempt_at=now,
    )  # fmt: skip
    tx.session.add(row)
    await tx.session.flush()
    tx.emit("email.queued", tenant.id, id=row.id, case_id=case.id, status=row.status)
    return row


async def _recipient(tx: Tx, case: Case, last: EmailMessage | None) -> str:
    if last is not None and last.from_address:
        return last.from_address
    if case.customer_id is not None:
        address = await tx.session.scalar(
            select(CustomerIdentity.value).where(
                CustomerIdentity.customer_id == case.customer_id, CustomerIdentity.kind == IdentityKind.EMAIL
            ).order_by(CustomerIdentity.id)
        )  # fmt: skip
        if address:
            return str(address)
    raise Conflict("nobody to write to: the case has no e-mail from the customer and the customer no e-mail address",
                   code="no_recipient")  # fmt: skip


async def reply(tx: Tx, tenant: Tenant, case: Case, body: str) -> EmailMessage:
    """The agent's answer to the customer on ``case``, by e-mail: threaded to the customer's newest message, with
    the case tag in the subject and the case-number footer in the customer's language."""
    if case.merged_into_id is not None:
        raise Conflict(f"case {case.number} was merged into another case: write on that one", code="case_merged",
                       details={"merged_into_id": case.merged_into_id})  # fmt: skip
    settings = EmailSettings.of(tenant.email_settings)
    last = await tx.session.scalar(
        select(EmailMessage).where(
            EmailMessage.tenant_id == tenant.id, EmailMessage.case_id == case.id, EmailMessage.direction == "in",
            EmailMessage.status == "processed",
        ).order_by(EmailMessage.id.desc()).limit(1)
    )  # fmt: skip
    to = await _recipient(tx, case, last)
    author = await tx.session.scalar(select(User.id).where(User.id == tx.who.user_id, User.tenant_id == tenant.id))
    customer = await tx.session.get(Customer, case.customer_id) if case.customer_id is not None else None
    languages = list(tenant.languages or [])
    language = (customer.language if customer is not None else None) or (languages[0] if languages else "en")
    subject = threads.reply_subject((last.subject if last is not None else None) or case.subject, case.number)
    text = f"{body}\n\n--\n{compose.footer(language, case.number)}"
    row = await queue_message(tx, tenant, settings, case, to=to, subject=subject, body=text, reply_to=last,
                              language=language, author_id=author)  # fmt: skip
    await cases.add_entry(tx, tenant, case, body, internal=False)
    now = utcnow()
    contact = await create_interaction(tx, tenant.id, InteractionIn(
        channel=Channel.EMAIL, direction=Direction.OUTBOUND, customer_id=case.customer_id, agent_id=author,
        from_address=row.from_address, to_address=to, subject=subject[:500], created_at=now, answered_at=now,
        ended_at=now,
    ))  # fmt: skip
    row.interaction_id = contact.id
    await cases.link(tx, case, contact.id)
    tx.audit(tenant.id, "email.reply_queued", "email", row.id, case_id=case.id)
    return row
