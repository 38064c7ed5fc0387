"""Customer actions: the record, its identities, consent (append-only), restriction, export and erasure."""

from __future__ import annotations

import contextlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.agent_scripts.personal import erase_answers, export_runs
from infolinia.channels.chat.privacy import erase_chats, export_chats
from infolinia.channels.email.privacy import erase_emails, export_emails
from infolinia.customers.identities import InvalidIdentity, normalize_email, normalize_identity, normalize_phone
from infolinia.errors import Conflict, Invalid
from infolinia.schemas import (
    ConsentEventOut,
    ConsentIn,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    IdentityIn,
    IdentityOut,
    InteractionOut,
    RestrictionIn,
)
from infolinia.store.models import (
    AuditEvent,
    Case,
    CaseEntry,
    ConsentEvent,
    ConsentPurpose,
    Customer,
    CustomerIdentity,
    IdentityKind,
    Interaction,
    Tenant,
)
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx

ERASED_NAME = "(erased)"
CASE_REFERENCE = re.compile(r"#\d{1,9}")  # a search for "#1042" looks for the customer of case 1042


def _ensure_live(customer: Customer) -> None:
    if customer.erased_at is not None:
        raise Conflict("this customer's data was erased", code="customer_erased")


async def customer_by_phone(session: AsyncSession, tenant_id: int, number: str) -> int | None:
    """The customer whose phone identity is ``number`` (E.164), if any."""
    return await session.scalar(
        select(CustomerIdentity.customer_id).where(
            CustomerIdentity.tenant_id == tenant_id,
            CustomerIdentity.kind == IdentityKind.PHONE,
            CustomerIdentity.value == number,
        )
    )


async def customer_by_identity(session: AsyncSession, tenant_id: int, kind: IdentityKind, value: str) -> int | None:
    """The customer an identity (normalised) belongs to, if any."""
    return await session.scalar(
        select(CustomerIdentity.customer_id).where(
            CustomerIdentity.tenant_id == tenant_id, CustomerIdentity.kind == kind, CustomerIdentity.value == value
        )
    )


def given_identities(tenant: Tenant, email: str, phone: str) -> list[IdentityIn]:
    """The e-mail and the phone a visitor typed on a public page (either may be empty), normalized; raises
    ``InvalidIdentity`` for one that is not an address or a number."""
    out = []
    if email:
        out.append(IdentityIn(kind=IdentityKind.EMAIL, value=normalize_email(email)))
    if phone:
        out.append(IdentityIn(kind=IdentityKind.PHONE, value=normalize_phone(phone, tenant.country)))
    return out


async def find_or_create(tx: Tx, tenant: Tenant, name: str, identities: Sequence[IdentityIn]) -> Customer:
    """The customer of the first identity that has one (its e-mail, then its phone: as given), else a new customer
    with those identities. Nothing is added to a customer found: a contact from the web or a mailbox proves
    nothing about who owns an address, so it may read as that customer's but never change their record. An
    erased customer is never found (a new one is made)."""
    normalized = [(ident, *_normalized(tenant, ident)) for ident in identities]
    for _, kind, value in normalized:
        found = await customer_by_identity(tx.session, tenant.id, kind, value)
        if found is not None:
            customer = await tx.session.get(Customer, found)
            if customer is not None and customer.erased_at is None:
                return customer
    free = [ident for ident, kind, value in normalized
            if await customer_by_identity(tx.session, tenant.id, kind, value) is None]  # fmt: skip
    return await create_customer(tx, tenant, CustomerIn(name=name or "(unknown)", identities=free))


async def current_consent(
    session: AsyncSession, tenant_id: int, customer_ids: Sequence[int]
) -> dict[int, dict[str, bool | None]]:
    """The newest consent event per customer and purpose; None where nothing was ever recorded."""
    result: dict[int, dict[str, bool | None]] = {cid: {p.value: None for p in ConsentPurpose} for cid in customer_ids}
    if not customer_ids:
        return result
    newest = (
        select(func.max(ConsentEvent.id))
        .where(ConsentEvent.tenant_id == tenant_id, ConsentEvent.customer_id.in_(customer_ids))
        .group_by(ConsentEvent.customer_id, ConsentEvent.purpose)
    )
    rows = await session.execute(
        select(ConsentEvent.customer_id, ConsentEvent.purpose, ConsentEvent.granted).where(ConsentEvent.id.in_(newest))
    )
    for cid, purpose, granted in rows:
        result[cid][purpose.value] = granted
    return result


async def views(session: AsyncSession, customers: Sequence[Customer]) -> list[CustomerOut]:
    """API shapes for customers of one tenant, with identities and current consent, in two queries."""
    if not customers:
        return []
    tenant_id = customers[0].tenant_id
    ids = [c.id for c in customers]
    identities: dict[int, list[IdentityOut]] = defaultdict(list)
    for ident in await session.scalars(
        select(CustomerIdentity)
        .where(CustomerIdentity.tenant_id == tenant_id, CustomerIdentity.customer_id.in_(ids))
        .order_by(CustomerIdentity.id)
    ):
        identities[ident.customer_id].append(IdentityOut.model_validate(ident))
    consent = await current_consent(session, tenant_id, ids)
    return [
        CustomerOut(
            id=c.id,
            number=c.number,
            name=c.name,
            language=c.language,
            timezone=c.timezone,
            preferred_channel=c.preferred_channel,
            contact_windows=c.contact_windows,
            tier=c.tier,
            identities=identities[c.id],
            consent=consent[c.id],
            restricted=is_restricted(c),
            restricted_reason=c.restricted_reason,
            restricted_until=c.restricted_until,
            erased=c.erased_at is not None,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        for c in customers
    ]


async def view(session: AsyncSession, customer: Customer) -> CustomerOut:
    return (await views(session, [customer]))[0]


def is_restricted(customer: Customer, now: datetime | None = None) -> bool:
    """Restricted contact in force: flagged and not yet expired."""
    if not customer.restricted:
        return False
    return customer.restricted_until is None or customer.restricted_until > (now or utcnow())


async def _next_number(session: AsyncSession, tenant_id: int) -> str:
    """The tenant's next automatic customer number: its counter moved on in this transaction (the tenant's row stays
    locked until the commit on PostgreSQL, and SQLite writes one transaction at a time), so two customers created
    at the same moment never get the same number. A number somebody gave by hand is skipped."""
    bump = update(Tenant).where(Tenant.id == tenant_id).values(customer_seq=Tenant.customer_seq + 1)
    query = bump.returning(Tenant.customer_seq).execution_options(synchronize_session=False)
    while True:
        n = await session.scalar(query)
        assert n is not None
        number = f"C{n:06d}"
        same = select(Customer.id).where(Customer.tenant_id == tenant_id, Customer.number == number)
        if await session.scalar(same) is None:
            return number


def _normalized(tenant: Tenant, ident: IdentityIn) -> tuple[IdentityKind, str]:
    try:
        return ident.kind, normalize_identity(ident.kind.value, ident.value, tenant.country)
    except InvalidIdentity as exc:
        raise Invalid(str(exc), code="invalid_identity", details={"kind": ident.kind.value}) from exc


async def _add_identities(tx: Tx, tenant: Tenant, customer: Customer, idents: Iterable[IdentityIn]) -> None:
    seen: set[tuple[IdentityKind, str]] = set()
    for ident in idents:
        kind, value = _normalized(tenant, ident)
        if (kind, value) in seen:
            continue
        seen.add((kind, value))
        owner = await tx.session.scalar(
            select(CustomerIdentity.customer_id).where(
                CustomerIdentity.tenant_id == tenant.id,
                CustomerIdentity.kind == kind,
                CustomerIdentity.value == value,
            )
        )
        if owner is not None:
            raise Conflict(
                f"{kind.value} {value} already belongs to customer {owner}",
                code="identity_taken",
                details={"kind": kind.value, "value": value, "customer_id": owner},
            )
        tx.session.add(CustomerIdentity(tenant_id=tenant.id, customer_id=customer.id, kind=kind, value=value))


async def create_customer(tx: Tx, tenant: Tenant, data: CustomerIn) -> Customer:
    number = data.number or await _next_number(tx.session, tenant.id)
    if data.number and await tx.session.scalar(
        select(Customer.id).where(Customer.tenant_id == tenant.id, Customer.number == number)
    ):
        raise Conflict(f"customer number {number!r} is taken", code="number_taken")
    fields = data.model_dump(exclude={"identities", "consents", "number"})
    customer = Customer(tenant_id=tenant.id, number=number, **fields)
    tx.session.add(customer)
    await tx.session.flush()
    await _add_identities(tx, tenant, customer, data.identities)
    for consent in data.consents:
        _append_consent(tx, customer, consent)
    try:
        await tx.session.flush()
    except IntegrityError as exc:  # a concurrent insert took the number or an identity
        raise Conflict("customer number or identity was taken concurrently; retry", code="conflict") from exc
    tx.audit(tenant.id, "customer.created", "customer", customer.id)
    tx.emit("customer.created", tenant.id, id=customer.id)
    return customer


async def update_customer(tx: Tx, customer: Customer, data: CustomerPatch) -> Customer:
    _ensure_live(customer)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") is None:
        changes.pop("name", None)
    if changes.get("tier") is None:
        changes.pop("tier", None)
    for key, value in changes.items():
        setattr(customer, key, [] if key == "contact_windows" and value is None else value)
    customer.updated_at = utcnow()
    await tx.session.flush()
    tx.audit(customer.tenant_id, "customer.updated", "customer", customer.id, fields=sorted(changes))
    tx.emit("customer.updated", customer.tenant_id, id=customer.id, fields=sorted(changes))
    return customer


async def add_identity(tx: Tx, tenant: Tenant, customer: Customer, data: IdentityIn) -> None:
    _ensure_live(customer)
    await _add_identities(tx, tenant, customer, [data])
    customer.updated_at = utcnow()
    await tx.session.flush()
    tx.audit(tenant.id, "customer.identity_added", "customer", customer.id, kind=data.kind.value)
    tx.emit("customer.updated", tenant.id, id=customer.id, fields=["identities"])


async def remove_identity(tx: Tx, customer: Customer, identity: CustomerIdentity) -> None:
    await tx.session.delete(identity)
    customer.updated_at = utcnow()
    await tx.session.flush()
    tx.audit(customer.tenant_id, "customer.identity_removed", "customer", customer.id, kind=identity.kind.value)
    tx.emit("customer.updated", customer.tenant_id, id=customer.id, fields=["identities"])


def _append_consent(tx: Tx, customer: Customer, data: ConsentIn) -> ConsentEvent:
    event = ConsentEvent(
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        purpose=data.purpose,
        granted=data.granted,
        channel=data.channel,
        source=data.source,
        note=data.note,
        actor_user_id=tx.who.user_id,
        actor_label=tx.who.label,
        created_at=utcnow(),
    )
    tx.session.add(event)
    tx.audit(
        customer.tenant_id,
        "consent.changed",
        "customer",
        customer.id,
        purpose=data.purpose.value,
        granted=data.granted,
        channel=data.channel,
    )
    tx.emit(
        "consent.changed",
        customer.tenant_id,
        customer_id=customer.id,
        purpose=data.purpose.value,
        granted=data.granted,
    )
    return event


async def record_consent(tx: Tx, customer: Customer, data: ConsentIn) -> ConsentEvent:
    """Append a consent grant or withdrawal; it is in force from the moment this commits."""
    _ensure_live(customer)
    event = _append_consent(tx, customer, data)
    await tx.session.flush()
    return event


async def consent_history(session: AsyncSession, customer: Customer) -> list[ConsentEventOut]:
    rows = await session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.tenant_id == customer.tenant_id, ConsentEvent.customer_id == customer.id)
        .order_by(ConsentEvent.id)
    )
    return [ConsentEventOut.model_validate(r) for r in rows]


async def set_restriction(tx: Tx, customer: Customer, data: RestrictionIn) -> Customer:
    _ensure_live(customer)
    if data.until is not None and data.until <= utcnow():
        raise Invalid("'until' must be in the future", code="validation_error")
    customer.restricted = True
    customer.restricted_reason = data.reason
    customer.restricted_until = data.until
    customer.updated_at = utcnow()
    await tx.session.flush()
    tx.audit(
        customer.tenant_id,
        "customer.restricted",
        "customer",
        customer.id,
        until=None if data.until is None else data.until.isoformat(),
    )
    tx.emit("customer.restricted", customer.tenant_id, id=customer.id, restricted=True)
    return customer


async def clear_restriction(tx: Tx, customer: Customer) -> Customer:
    customer.restricted = False
    customer.restricted_reason = None
    customer.restricted_until = None
    customer.updated_at = utcnow()
    await tx.session.flush()
    tx.audit(customer.tenant_id, "customer.unrestricted", "customer", customer.id)
    tx.emit("customer.restricted", customer.tenant_id, id=customer.id, restricted=False)
    return customer


async def search(
    session: AsyncSession,
    tenant: Tenant,
    *,
    q: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    name: str | None = None,
    number: str | None = None,
    case_number: int | None = None,
    limit: int = 50,
    after: int | None = None,
) -> list[Customer]:
    """Customers of one tenant matching every given filter; ``q`` matches phone, e-mail, name or number, and
    ``#<n>`` the customer of case number n."""
    query = select(Customer).where(Customer.tenant_id == tenant.id, Customer.erased_at.is_(None))

    def by_identity(kind: IdentityKind, value: str) -> Any:
        return Customer.id.in_(
            select(CustomerIdentity.customer_id).where(
                CustomerIdentity.tenant_id == tenant.id,
                CustomerIdentity.kind == kind,
                CustomerIdentity.value == value,
            )
        )

    def name_like(text: str) -> Any:
        escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return func.lower(Customer.name).like(f"%{escaped}%", escape="\\")

    if phone is not None:
        try:
            query = query.where(by_identity(IdentityKind.PHONE, normalize_phone(phone, tenant.country)))
        except InvalidIdentity as exc:
            raise Invalid(str(exc), code="invalid_identity") from exc
    if email is not None:
        query = query.where(by_identity(IdentityKind.EMAIL, email.strip().lower()))
    if name is not None:
        query = query.where(name_like(name))
    if number is not None:
        query = query.where(Customer.number == number.strip())
    if case_number is None and q and CASE_REFERENCE.fullmatch(q.strip()):
        case_number, q = int(q.strip().lstrip("#")), None
    if case_number is not None:
        of_case = select(Case.customer_id).where(Case.tenant_id == tenant.id, Case.number == case_number)
        query = query.where(Customer.id.in_(of_case))
    if q:
        alternatives = [
            name_like(q),
            Customer.number == q.strip(),
            by_identity(IdentityKind.EMAIL, q.strip().lower()),
        ]
        with contextlib.suppress(InvalidIdentity):
            alternatives.append(by_identity(IdentityKind.PHONE, normalize_phone(q, tenant.country)))
        query = query.where(or_(*alternatives))
    if after is not None:
        query = query.where(Customer.id > after)
    return list(await session.scalars(query.order_by(Customer.id).limit(limit)))


async def export(session: AsyncSession, customer: Customer) -> dict[str, Any]:
    """Everything stored about one customer, as JSON-ready data (the right of access)."""
    interactions = await session.scalars(
        select(Interaction)
        .where(Interaction.tenant_id == customer.tenant_id, Interaction.customer_id == customer.id)
        .order_by(Interaction.id)
    )
    audit = await session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.tenant_id == customer.tenant_id,
            AuditEvent.object_type == "customer",
            AuditEvent.object_id == str(customer.id),
        )
        .order_by(AuditEvent.id)
    )
    cases = list(await session.scalars(
        select(Case).where(Case.tenant_id == customer.tenant_id, Case.customer_id == customer.id).order_by(Case.id)
    ))  # fmt: skip
    entries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if cases:
        rows = await session.scalars(
            select(CaseEntry).where(CaseEntry.case_id.in_([c.id for c in cases])).order_by(CaseEntry.id)
        )
        for e in rows:
            entries[e.case_id].append({"kind": e.kind, "internal": e.internal, "body": e.body, "data": e.data,
                                       "at": e.created_at.isoformat()})  # fmt: skip
    return {
        "exported_at": utcnow().isoformat(),
        "customer": (await view(session, customer)).model_dump(mode="json"),
        "consent_history": [c.model_dump(mode="json") for c in await consent_history(session, customer)],
        "interactions": [InteractionOut.model_validate(i).model_dump(mode="json") for i in interactions],
        "cases": [
            {
                "number": c.number,
                "subject": c.subject,
                "category": c.category,
                "status": c.status,
                "created_at": c.created_at.isoformat(),
                "entries": entries[c.id],
            }
            for c in cases
        ],
        "script_runs": await export_runs(session, customer),
        "emails": await export_emails(session, customer),
        "chats": await export_chats(session, customer),
        "audit": [
            {"action": a.action, "actor": a.actor_label, "at": a.created_at.isoformat(), "data": a.data} for a in audit
        ],
    }


async def erase(tx: Tx, customer: Customer, reason: str, data_dir: str | None = None) -> Customer:
    """Anonymise: personal data and contact notes are removed; the row, consent proofs and counts remain.
    ``data_dir``: where files about the customer are kept (e-mail attachments), removed too."""
    _ensure_live(customer)
    for ident in await tx.session.scalars(
        select(CustomerIdentity).where(
            CustomerIdentity.tenant_id == customer.tenant_id, CustomerIdentity.customer_id == customer.id
        )
    ):
        await tx.session.delete(ident)
    for inter in await tx.session.scalars(
        select(Interaction).where(Interaction.tenant_id == customer.tenant_id, Interaction.customer_id == customer.id)
    ):
        inter.from_address = inter.to_address = inter.subject = inter.notes = None
    await erase_answers(tx.session, customer)
    await erase_emails(tx.session, customer, data_dir)
    await erase_chats(tx.session, customer, data_dir)
    own_cases = select(Case.id).where(Case.tenant_id == customer.tenant_id, Case.customer_id == customer.id)
    for case in await tx.session.scalars(select(Case).where(Case.id.in_(own_cases))):
        case.subject = ERASED_NAME  # what the customer said and was told goes; the case's course stays
    for entry in await tx.session.scalars(select(CaseEntry).where(CaseEntry.case_id.in_(own_cases))):
        entry.body = None
        entry.data = {k: v for k, v in entry.data.items() if k not in ("subject", "before", "after")}
    customer.name = ERASED_NAME
    customer.language = customer.timezone = customer.preferred_channel = None
    customer.contact_windows = []
    customer.restricted_reason = None
    customer.erased_at = utcnow()
    customer.updated_at = customer.erased_at
    await tx.session.flush()
    tx.audit(customer.tenant_id, "customer.erased", "customer", customer.id, reason=reason)
    tx.emit("customer.erased", customer.tenant_id, id=customer.id)
    return customer
