"""What a script is filled with and suggested for, read from the tenant's rows: the contact, its customer, its case,
its queue, the agent. The caller passes what its reader may see of cases (``case_where``), so a back-office user's
script never shows a case it could not open."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.agent_scripts.suggest import Contact
from infolinia.store.models import (
    Case,
    CaseLink,
    Customer,
    CustomerIdentity,
    IdentityKind,
    Interaction,
    IvrFlow,
    PhoneNumber,
    Queue,
    RoutingTask,
    Tenant,
    User,
)

__all__ = ["Records", "contact_of", "records_of", "values"]


@dataclass(frozen=True)
class Records:
    """The rows a script's placeholders are filled from (None: not known)."""

    tenant: Tenant
    agent: User | None = None
    interaction: Interaction | None = None
    customer: Customer | None = None
    case: Case | None = None
    queue: Queue | None = None
    phone: str | None = None
    email: str | None = None


async def _linked_case(session: AsyncSession, interaction_id: int, case_where: ColumnElement[bool]) -> Case | None:
    """The newest case the contact is linked to that the reader may see (a merged duplicate: not that one)."""
    query = (
        select(Case)
        .join(CaseLink, CaseLink.case_id == Case.id)
        .where(CaseLink.interaction_id == interaction_id, Case.merged_into_id.is_(None), case_where)
        .order_by(Case.id.desc())
    )
    return (await session.scalars(query.limit(1))).first()


async def _identity(session: AsyncSession, customer_id: int, kind: IdentityKind) -> str | None:
    where = (CustomerIdentity.customer_id == customer_id, CustomerIdentity.kind == kind)
    query = select(CustomerIdentity.value).where(*where).order_by(CustomerIdentity.id)
    return (await session.scalars(query.limit(1))).first()


async def records_of(
    session: AsyncSession,
    tenant: Tenant,
    agent_id: int,
    case_where: ColumnElement[bool],
    interaction: Interaction | None = None,
    customer: Customer | None = None,
    case: Case | None = None,
) -> Records:
    """The records for a script shown to ``agent_id``: those given, and what the contact leads to (its customer,
    the newest case linked to it, its queue); a case's customer when no other is known."""
    if case is None and interaction is not None:
        case = await _linked_case(session, interaction.id, case_where)
    customer_id = interaction.customer_id if interaction is not None else None
    if customer_id is None and case is not None:
        customer_id = case.customer_id
    if customer is None and customer_id is not None:
        customer = await session.get(Customer, customer_id)
    queue_id = interaction.queue_id if interaction is not None else None
    queue = await session.get(Queue, queue_id) if queue_id is not None else None
    phone = email = None
    if customer is not None:
        phone = await _identity(session, customer.id, IdentityKind.PHONE)
        email = await _identity(session, customer.id, IdentityKind.EMAIL)
    agent = await session.get(User, agent_id)
    return Records(tenant, agent, interaction, customer, case, queue, phone, email)


def _first(name: str | None) -> str | None:
    return name.split()[0] if name and name.split() else None


def _rest(name: str | None) -> str | None:
    parts = name.split() if name else []
    return " ".join(parts[1:]) or None


def values(records: Records) -> dict[str, str | None]:
    """Every placeholder's value (``placeholders.FIELDS``), None where the records have none."""
    customer, case, contact = records.customer, records.case, records.interaction
    erased = customer is not None and customer.erased_at is not None
    name = None if customer is None or erased else customer.name
    agent = records.agent.display_name if records.agent is not None else None
    return {
        "customer.name": name,
        "customer.first_name": _first(name),
        "customer.last_name": _rest(name),
        "customer.number": customer.number if customer is not None else None,
        "customer.language": customer.language if customer is not None else None,
        "customer.tier": customer.tier if customer is not None else None,
        "customer.phone": records.phone,
        "customer.email": records.email,
        "contact.channel": contact.channel.value if contact is not None else None,
        "contact.from": contact.from_address if contact is not None else None,
        "case.number": str(case.number) if case is not None else None,
        "case.subject": case.subject if case is not None else None,
        "case.category": case.category if case is not None else None,
        "case.status": case.status if case is not None else None,
        "queue.name": records.queue.name if records.queue is not None else None,
        "agent.name": agent,
        "agent.first_name": _first(agent),
        "company.name": records.tenant.name,
    }


async def contact_of(
    session: AsyncSession,
    tenant_id: int,
    interactions: Sequence[Interaction],
    tasks: Sequence[RoutingTask],
    case_where: ColumnElement[bool],
) -> Contact:
    """What suggestions go by for these contacts and routing tasks: the IVR path of each call and the flow its
    number enters, their queues, the categories of the cases linked to them (or waiting as the task), and the
    customer's language (else the task's)."""
    flow_rows = await session.execute(select(IvrFlow.id, IvrFlow.name).where(IvrFlow.tenant_id == tenant_id))
    path: list[str] = []
    flow_ids: set[int] | None = set()
    for interaction in interactions:
        if not interaction.ivr_path:
            continue
        path += [str(node) for node in interaction.ivr_path]
        dialed = (PhoneNumber.tenant_id == tenant_id, PhoneNumber.e164 == interaction.to_address)
        flow = await session.scalar(select(PhoneNumber.flow_id).where(*dialed))
        if flow is None or flow_ids is None:
            flow_ids = None  # the number was changed or taken out since: any flow's nodes count
        else:
            flow_ids.add(flow)
    queue_ids = {i.queue_id for i in interactions if i.queue_id is not None} | {t.queue_id for t in tasks}
    queue_rows = await session.execute(select(Queue.id, Queue.name).where(Queue.tenant_id == tenant_id,
                                                                          Queue.id.in_(queue_ids)))  # fmt: skip
    linked = select(CaseLink.case_id).where(CaseLink.interaction_id.in_([i.id for i in interactions]))
    cases = select(Case.category, Case.number).where(
        Case.tenant_id == tenant_id, Case.merged_into_id.is_(None), case_where,
        Case.id.in_(linked) | Case.routing_task_id.in_([t.id for t in tasks]),
    ).order_by(Case.id.desc())  # fmt: skip
    language = None
    for interaction in interactions:
        if interaction.customer_id is not None and language is None:
            language = await session.scalar(select(Customer.language).where(Customer.id == interaction.customer_id))
    language = language or next((t.language for t in tasks if t.language), None)
    return Contact(
        flow_ids=None if flow_ids is None else frozenset(flow_ids),
        ivr_path=tuple(path),
        queues={queue_id: name for queue_id, name in queue_rows},
        cases=tuple((category, number) for category, number in await session.execute(cases)),
        language=language,
        flow_names={flow_id: name for flow_id, name in flow_rows},
    )
