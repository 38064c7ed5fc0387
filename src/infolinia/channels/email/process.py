"""What an accepted message becomes, in one transaction per message (so a restart in the middle leaves it to be
done again, whole, and never twice): the customer found by the sender's address (or a new one), an inbound e-mail
contact, the case it threads into (In-Reply-To / References naming a message we stored or sent, else the case tag
in its subject) or a new one, its attachments, a routing task in the tenant's e-mail queue unless the case waits or
is worked already, and the automatic acknowledgement. A delivery report marks the message it reports on instead."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from infolinia.cases import actions as cases
from infolinia.cases.schemas import CaseIn
from infolinia.channels.email import mime, threads
from infolinia.channels.email.attachments import AttachmentStore
from infolinia.channels.email.outgoing import queue_message
from infolinia.channels.email.settings import EmailSettings
from infolinia.customers.actions import create_customer
from infolinia.customers.identities import InvalidIdentity, normalize_email
from infolinia.interactions.actions import create_interaction
from infolinia.schemas import CustomerIn, IdentityIn, InteractionIn
from infolinia.store.models import (
    Case,
    Channel,
    Customer,
    CustomerIdentity,
    Direction,
    EmailAttachment,
    EmailMessage,
    IdentityKind,
    Queue,
    RoutingTask,
    Tenant,
)
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx

log = logging.getLogger(__name__)

#: the states of a routing task that still stands for the case (waiting for an agent, or worked by one)
OPEN_TASK_STATES = ("scheduled", "waiting", "reserved", "assigned")
#: how long a reply waits for the agent who has the case before any agent of the queue may take it
PREFERRED_FOR = timedelta(minutes=10)
MAX_TEXT = 20_000


def _clip(text: str, row_id: int) -> str:
    if len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT - 80].rstrip() + f"\n\n[... shortened: the whole message is e-mail {row_id}]"


async def process(tx: Tx, row: EmailMessage, files: AttachmentStore, moves: cases.Moves) -> bool:
    """Process ``row`` (status ``received``) unless another process did meanwhile; whether this one did."""
    claimed = await tx.session.execute(
        update(EmailMessage).where(EmailMessage.id == row.id, EmailMessage.status == "received")
        .values(status="processed", done_at=utcnow()).execution_options(synchronize_session=False)
    )  # fmt: skip
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    row.status, row.done_at = "processed", utcnow()
    raw = row.raw or b""
    parsed = await asyncio.to_thread(mime.parse, raw) if len(raw) > 256 * 1024 else mime.parse(raw)
    tenant = await tx.session.get(Tenant, row.tenant_id)
    assert tenant is not None
    row.body, row.problems = _clip(parsed.body, row.id), parsed.problems[:20]
    if parsed.report is not None:
        await _report(tx, tenant, row, parsed.report)
        return True
    settings = EmailSettings.of(tenant.email_settings)
    customer = await _customer(tx, tenant, parsed)
    row.customer_id = customer.id if customer is not None else None
    queue_id = await _queue(tx, tenant, settings)
    contact = await create_interaction(tx, tenant.id, InteractionIn(
        channel=Channel.EMAIL, direction=Direction.INBOUND, customer_id=row.customer_id, queue_id=queue_id,
        from_address=(parsed.from_address or "")[:254] or None, to_address=row.to_address,
        subject=parsed.subject[:500] or None,
    ))  # fmt: skip
    row.interaction_id = contact.id
    case, new = await _thread(tx, tenant, settings, parsed, row, contact.id, moves)
    row.case_id = case.id
    _attachments(tx, row, files, parsed)
    if queue_id is not None:
        await _route(tx, case, queue_id, contact.id, customer, moves)
        contact.queued_at = utcnow()
    if new and settings.auto_acknowledge and _may_acknowledge(row, parsed, settings) and customer is not None:
        subject, body = _ack(customer, tenant, case, parsed)
        await queue_message(tx, tenant, settings, case, to=parsed.from_address or "", subject=subject, body=body,
                            reply_to=row, language=_language(customer, tenant), author_id=None)  # fmt: skip
    await tx.session.flush()
    tx.emit("email.received", tenant.id, id=row.id, case_id=case.id, customer_id=row.customer_id,
            interaction_id=contact.id)  # fmt: skip
    return True


def _language(customer: Customer | None, tenant: Tenant) -> str:
    languages = list(tenant.languages or [])
    return (customer.language if customer is not None else None) or (languages[0] if languages else "en")


def _ack(customer: Customer, tenant: Tenant, case: Case, parsed: mime.Parsed) -> tuple[str, str]:
    from infolinia.channels.email import compose

    subject, body = compose.acknowledgement(_language(customer, tenant), case.number, parsed.subject)
    return threads.tagged(subject, case.number), body


def _may_acknowledge(row: EmailMessage, parsed: mime.Parsed, settings: EmailSettings) -> bool:
    """Never answer an automatic message (loops), a null sender, or ourselves."""
    ours = {str(settings.from_address or "").lower(), (row.to_address or "").lower()}
    return bool(
        settings.relay is not None and row.mail_from and parsed.from_address and not parsed.auto_submitted
        and parsed.from_address not in ours
    )  # fmt: skip


async def _customer(tx: Tx, tenant: Tenant, parsed: mime.Parsed) -> Customer | None:
    """The customer the sender's address belongs to, or a new one; None for an address that is not one."""
    try:
        address = normalize_email(parsed.from_address or "")
    except InvalidIdentity:
        return None
    found = await tx.session.scalar(
        select(Customer).join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id).where(
            CustomerIdentity.tenant_id == tenant.id, CustomerIdentity.kind == IdentityKind.EMAIL,
            CustomerIdentity.value == address,
        )
    )  # fmt: skip
    if found is not None:
        return None if found.erased_at is not None else found
    name = parsed.from_name.strip() or address
    return await create_customer(tx, tenant, CustomerIn(
        name=name[:200], identities=[IdentityIn(kind=IdentityKind.EMAIL, value=address)],
    ))  # fmt: skip


async def _queue(tx: Tx, tenant: Tenant, settings: EmailSettings) -> int | None:
    """The tenant's e-mail queue, if it still exists."""
    if settings.queue_id is None:
        return None
    return await tx.session.scalar(select(Queue.id).where(Queue.id == settings.queue_id, Queue.tenant_id == tenant.id))


async def _existing_case(tx: Tx, tenant: Tenant, parsed: mime.Parsed, customer_id: int | None) -> Case | None:
    """The case the message answers: by the messages it names, else by the tag in its subject (when the sender
    is the case's customer, or the case has none)."""
    ids = parsed.threading_ids
    if ids:
        rows = (await tx.session.execute(
            select(EmailMessage.message_id, EmailMessage.case_id).where(
                EmailMessage.tenant_id == tenant.id, EmailMessage.message_id.in_(ids),
                EmailMessage.case_id.is_not(None),
            )
        )).all()  # fmt: skip
        by_id = dict(rows)
        for message_id in ids:
            if message_id in by_id:
                return await tx.session.get(Case, by_id[message_id])
    number = threads.case_number(parsed.subject)
    if number is not None:
        case = await tx.session.scalar(select(Case).where(Case.tenant_id == tenant.id, Case.number == number))
        if case is not None and case.customer_id in (None, customer_id):
            return case
    return None


async def _thread(
    tx: Tx,
    tenant: Tenant,
    settings: EmailSettings,
    parsed: mime.Parsed,
    row: EmailMessage,
    contact_id: int,
    moves: cases.Moves,
) -> tuple[Case, bool]:
    """Into its case (True: a new one)."""
    case = await _existing_case(tx, tenant, parsed, row.customer_id)
    hops = 0
    while case is not None and case.merged_into_id is not None and hops < 10:
        case, hops = await tx.session.get(Case, case.merged_into_id), hops + 1
    text = row.body or "(no text)"
    if case is not None and case.status != "closed":
        if case.status == "resolved":
            await cases.reopen(tx, tenant, case, "the customer wrote again by e-mail", moves)
        await cases.add_entry(tx, tenant, case, text, internal=False, from_customer=True)
        await cases.link(tx, case, contact_id)
        return case, False
    description = text if case is None else f"Follow-up to the closed case {case.number}.\n\n{text}"
    created = await cases.create_case(tx, tenant, CaseIn(
        subject=(parsed.subject or "(no subject)")[:300], category=_category(tenant, settings),
        description=_clip(description, row.id), customer_id=row.customer_id, interaction_id=contact_id,
    ), moves)  # fmt: skip
    return created, True


def _category(tenant: Tenant, settings: EmailSettings) -> str:
    categories = cases.policy_of(tenant).categories
    if settings.category in categories:
        return str(settings.category)
    return "question" if "question" in categories else categories[0]


async def _route(
    tx: Tx, case: Case, queue_id: int, contact_id: int, customer: Customer | None, moves: cases.Moves
) -> None:
    """A routing task for the case in the e-mail queue, unless its task already waits or is being worked."""
    if case.routing_task_id is not None:
        state = await tx.session.scalar(select(RoutingTask.state).where(RoutingTask.id == case.routing_task_id))
        if state in OPEN_TASK_STATES:
            return
    now = utcnow()
    task = RoutingTask(
        tenant_id=case.tenant_id, queue_id=queue_id, channel="email", skills={},
        language=customer.language if customer is not None else None,
        priority=cases.TASK_PRIORITY.get(case.priority, 1), enqueued_at=now, state="waiting",
        interaction_id=contact_id, preferred_agent_id=case.assignee_id,
        preferred_until=now + PREFERRED_FOR if case.assignee_id is not None else None,
    )  # fmt: skip
    tx.session.add(task)
    await tx.session.flush()
    case.routing_task_id = task.id
    moves.route.append(task)


def _attachments(tx: Tx, row: EmailMessage, files: AttachmentStore, parsed: mime.Parsed) -> None:
    for kept in files.keep(row.tenant_id, row.id, parsed.attachments):
        tx.session.add(EmailAttachment(
            tenant_id=row.tenant_id, message_id=row.id, position=kept.position, filename=kept.filename,
            content_type=kept.content_type, size=kept.size, sha256=kept.sha256, path=kept.path, refused=kept.refused,
        ))  # fmt: skip


async def _report(tx: Tx, tenant: Tenant, row: EmailMessage, report: mime.Report) -> None:
    """A delivery report: recorded against the message it bounces (failed), never a case of its own."""
    row.status = "report"
    if report.original_message_id is None:
        return
    original = await tx.session.scalar(
        select(EmailMessage).where(
            EmailMessage.tenant_id == tenant.id, EmailMessage.message_id == report.original_message_id,
            EmailMessage.direction == "out",
        )
    )  # fmt: skip
    if original is None:
        return
    row.bounce_of_id, row.case_id = original.id, original.case_id
    if not report.failed:
        return
    row.status = "bounce"
    reason = " ".join(x for x in (report.status, report.diagnostic) if x) or "delivery failed"
    original.status, original.last_error, original.done_at = "bounced", reason[:1000], utcnow()
    original.next_attempt_at = None
    data: dict[str, Any] = {"id": original.id, "case_id": original.case_id, "status": original.status}
    if original.case_id is not None:
        case = await tx.session.get(Case, original.case_id)
        if case is not None and case.merged_into_id is None:
            note = f"The e-mail to {original.to_address} could not be delivered: {reason}"
            await cases.add_entry(tx, tenant, case, note[:MAX_TEXT], internal=True)
    tx.audit(tenant.id, "email.bounced", "email", original.id, report=row.id)
    tx.emit("email.bounced", tenant.id, **data)
