"""Campaigns through the one write path: created, changed, started and stopped; contacts imported from CSV with a
report per row; the do-not-call list; and the dial-time check of a contact (``eligibility.check`` fed from the
database).

CSV import: UTF-8 (a BOM is fine), comma- or semicolon-separated, a header row naming the columns: ``number``
(required; national numbers in the tenant's country), ``name``, ``customer_number`` (links the contact to that
customer; else the customer whose phone identity is the number, if any), ``timezone`` (IANA, e.g.
``Europe/Warsaw``; else the customer's, else the tenant's). Each row is taken or refused on its own: a refused row
is reported with its line and field and changes nothing; the rows taken are all written in one transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.customers.actions import current_consent, customer_by_phone
from infolinia.customers.identities import InvalidIdentity, normalize_phone
from infolinia.customers.windows import stored
from infolinia.errors import Conflict, Invalid
from infolinia.outbound.actions import policy_of
from infolinia.outbound.eligibility import Contact, Rules, Verdict, check
from infolinia.outbound.predictive import abandon_stats_of, abandon_view
from infolinia.schemas import (
    AbandonOut,
    CampaignIn,
    CampaignOut,
    CampaignPatch,
    CustomerFilter,
    DoNotCallIn,
    FromCustomersReport,
    ImportReport,
    RowError,
)
from infolinia.store.models import (
    Campaign,
    CampaignContact,
    ConsentPurpose,
    Customer,
    CustomerIdentity,
    DoNotCall,
    IdentityKind,
    Interaction,
    Tenant,
)
from infolinia.store.types import utcnow
from infolinia.store.uow import Tx

MAX_ROWS: Final = 50_000
MAX_ERRORS: Final = 1_000
COLUMNS: Final = ("number", "name", "customer_number", "timezone")
#: status changes a campaign may make (finished is final)
TRANSITIONS: Final = {
    "draft": {"running", "finished"},
    "running": {"paused", "finished"},
    "paused": {"running", "finished"},
    "finished": set[str](),
}


# --- campaigns -----------------------------------------------------------------------------------------------


async def create_campaign(tx: Tx, tenant: Tenant, data: CampaignIn) -> Campaign:
    await _name_free(tx.session, tenant.id, data.name, None)
    campaign = Campaign(tenant_id=tenant.id, status="draft", **data.model_dump())
    tx.session.add(campaign)
    await tx.session.flush()
    tx.audit(tenant.id, "campaign.created", "campaign", campaign.id, purpose=campaign.purpose, mode=campaign.mode)
    tx.emit("campaign.created", tenant.id, id=campaign.id)
    return campaign


async def update_campaign(tx: Tx, campaign: Campaign, data: CampaignPatch) -> Campaign:
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes:
        await _name_free(tx.session, campaign.tenant_id, changes["name"], campaign.id)
    status = changes.get("status")
    if status is not None and status != campaign.status and status not in TRANSITIONS[campaign.status]:
        raise Conflict(f"a {campaign.status} campaign cannot become {status}", code="campaign_status")
    for key, value in changes.items():
        setattr(campaign, key, value)
    await tx.session.flush()
    fields = sorted(changes)
    tx.audit(campaign.tenant_id, "campaign.updated", "campaign", campaign.id, fields=fields, status=campaign.status)
    tx.emit("campaign.updated", campaign.tenant_id, id=campaign.id, fields=fields)
    return campaign


async def view(session: AsyncSession, campaign: Campaign) -> CampaignOut:
    return (await views(session, [campaign]))[0]


async def views(session: AsyncSession, campaigns: Sequence[Campaign]) -> list[CampaignOut]:
    """The campaigns (of one tenant) as the API shows them: with their contacts by status and their abandon
    figures, in three queries whatever their number."""
    if not campaigns:
        return []
    ids = [c.id for c in campaigns]
    rows = await session.execute(
        select(CampaignContact.campaign_id, CampaignContact.status, func.count())
        .where(CampaignContact.campaign_id.in_(ids))
        .group_by(CampaignContact.campaign_id, CampaignContact.status)
    )
    contacts: dict[int, dict[str, int]] = {}
    for campaign_id, status, count in rows.all():
        contacts.setdefault(campaign_id, {})[status] = count
    tenant = await session.get(Tenant, campaigns[0].tenant_id)
    stats = await abandon_stats_of(session, ids, tenant.timezone, utcnow()) if tenant is not None else {}
    out = []
    for campaign in campaigns:
        view = CampaignOut.model_validate(campaign)
        view.contacts = contacts.get(campaign.id, {})
        if campaign.id in stats:
            view.abandon = AbandonOut.model_validate(abandon_view(stats[campaign.id], campaign.abandon_cap))
        out.append(view)
    return out


async def _name_free(session: AsyncSession, tenant_id: int, name: str, own: int | None) -> None:
    found = await session.scalar(select(Campaign.id).where(Campaign.tenant_id == tenant_id, Campaign.name == name))
    if found is not None and found != own:
        raise Conflict(f"a campaign named {name!r} exists", code="name_taken")


# --- contacts ------------------------------------------------------------------------------------------------


async def import_contacts(tx: Tx, tenant: Tenant, campaign: Campaign, data: bytes) -> ImportReport:
    """Add the CSV file's rows to ``campaign``; every refused row reported (see the module's docstring)."""
    if campaign.status == "finished":
        raise Conflict("the campaign is finished", code="campaign_status")
    rows = _read_csv(data)
    s = tx.session
    taken = set(await s.scalars(select(CampaignContact.number).where(CampaignContact.campaign_id == campaign.id)))
    customer_rows = await s.execute(select(Customer.number, Customer.id).where(Customer.tenant_id == tenant.id))
    customers_by_number: dict[str, int] = {number: cid for number, cid in customer_rows}
    errors: list[RowError] = []
    accepted: list[CampaignContact] = []
    for line, row in rows:
        refused = len(errors)
        raw = (row.get("number") or "").strip()
        try:
            number = normalize_phone(raw, tenant.country)
        except InvalidIdentity as exc:
            errors.append(RowError(row=line, field="number", message=str(exc)))
            continue
        if number in taken:
            errors.append(RowError(row=line, field="number", message=f"{number} is already in the campaign"))
            continue
        zone = (row.get("timezone") or "").strip() or None
        if zone is not None and not _is_zone(zone):
            errors.append(RowError(row=line, field="timezone", message=f"{zone[:64]!r} is not a time zone"))
        customer_number = (row.get("customer_number") or "").strip()
        customer_id = customers_by_number.get(customer_number) if customer_number else None
        if customer_number and customer_id is None:
            errors.append(RowError(row=line, field="customer_number", message=f"no customer {customer_number[:40]!r}"))
        name = " ".join((row.get("name") or "").split())
        if len(name) > 200:
            errors.append(RowError(row=line, field="name", message="longer than 200 characters"))
        if len(errors) > refused:
            continue
        if customer_id is None:
            customer_id = await customer_by_phone(s, tenant.id, number)
        taken.add(number)
        accepted.append(_contact(campaign, number, name or None, customer_id, zone))
    await _add_contacts(tx, campaign, accepted)
    rejected = len({e.row for e in errors})
    tx.audit(
        tenant.id, "campaign.contacts_imported", "campaign", campaign.id, accepted=len(accepted), rejected=rejected
    )
    return ImportReport(
        accepted=len(accepted), rejected=rejected, errors=errors[:MAX_ERRORS], errors_truncated=len(errors) > MAX_ERRORS
    )


async def add_customers(tx: Tx, tenant: Tenant, campaign: Campaign, wanted: CustomerFilter) -> FromCustomersReport:
    """Add the tenant's customers that ``wanted`` selects, each by their first phone identity. A customer this
    campaign could never call as things stand is left out and counted by reason (``restricted``, ``no_phone``,
    ``do_not_call``, ``no_consent`` for marketing without phone-marketing consent, ``consent_withdrawn`` for a
    service campaign's withdrawn service consent), as is a number already in the campaign
    (``already_in_campaign``). The dial-time check still runs before every call, as for imported contacts."""
    if campaign.status == "finished":
        raise Conflict("the campaign is finished", code="campaign_status")
    s = tx.session
    customers = list(await s.scalars(_customer_query(tenant.id, wanted).limit(wanted.limit + 1)))
    truncated = len(customers) > wanted.limit
    customers = customers[: wanted.limit]
    consent: dict[int, dict[str, bool | None]] = {}
    for start in range(0, len(customers), 1000):
        consent |= await current_consent(s, tenant.id, [c.id for c in customers[start : start + 1000]])
    if wanted.marketing_consent is not None:
        value = {"granted": True, "withdrawn": False, "unknown": None}[wanted.marketing_consent]
        customers = [c for c in customers if consent[c.id][ConsentPurpose.MARKETING_PHONE.value] is value]
    phones: dict[int, str] = {}
    rows = await s.execute(
        select(CustomerIdentity.customer_id, CustomerIdentity.value)
        .where(CustomerIdentity.tenant_id == tenant.id, CustomerIdentity.kind == IdentityKind.PHONE)
        .order_by(CustomerIdentity.id)
    )
    for customer_id, phone in rows:
        phones.setdefault(customer_id, phone)
    listed = set(await s.scalars(select(DoNotCall.number).where(DoNotCall.tenant_id == tenant.id)))
    taken = set(await s.scalars(select(CampaignContact.number).where(CampaignContact.campaign_id == campaign.id)))
    skipped: dict[str, int] = {}
    added: list[CampaignContact] = []
    for customer in customers:
        number = phones.get(customer.id)
        reason = _left_out(campaign, customer, number, consent[customer.id], listed, taken)
        if reason is not None:
            skipped[reason] = skipped.get(reason, 0) + 1
            continue
        assert number is not None
        taken.add(number)
        added.append(_contact(campaign, number, customer.name[:200], customer.id))
    await _add_contacts(tx, campaign, added)
    tx.audit(
        tenant.id, "campaign.contacts_imported", "campaign", campaign.id, source="customers", accepted=len(added),
        skipped=skipped,
    )  # fmt: skip
    return FromCustomersReport(
        matched=len(customers), added=len(added), skipped=dict(sorted(skipped.items())), truncated=truncated
    )


def _contact(
    campaign: Campaign, number: str, name: str | None, customer_id: int | None, zone: str | None = None
) -> CampaignContact:
    return CampaignContact(
        tenant_id=campaign.tenant_id, campaign_id=campaign.id, number=number, name=name, customer_id=customer_id,
        timezone=zone, status="pending", attempts=0,
    )  # fmt: skip


async def _add_contacts(tx: Tx, campaign: Campaign, contacts: list[CampaignContact]) -> None:
    tx.session.add_all(contacts)
    try:
        await tx.session.flush()
    except IntegrityError as exc:  # another import of the same numbers committed meanwhile
        raise Conflict("the campaign's contacts changed during the import; import again", code="conflict") from exc
    tx.emit("campaign.updated", campaign.tenant_id, id=campaign.id, fields=["contacts"])


def _customer_query(tenant_id: int, wanted: CustomerFilter) -> Select[Customer]:
    query = select(Customer).where(Customer.tenant_id == tenant_id, Customer.erased_at.is_(None))
    for column, values in (
        (Customer.language, wanted.languages), (Customer.timezone, wanted.timezones), (Customer.tier, wanted.tiers)
    ):  # fmt: skip
        if values is not None:
            query = query.where(column.in_(values))
    if wanted.created_after is not None:
        query = query.where(Customer.created_at >= wanted.created_after)
    if wanted.created_before is not None:
        query = query.where(Customer.created_at < wanted.created_before)
    if wanted.last_contact_before is not None or wanted.last_contact_after is not None:
        last = (
            select(Interaction.customer_id, func.max(Interaction.created_at).label("at"))
            .where(Interaction.tenant_id == tenant_id, Interaction.customer_id.is_not(None))
            .group_by(Interaction.customer_id)
            .subquery()
        )
        query = query.outerjoin(last, last.c.customer_id == Customer.id)
        if wanted.last_contact_before is not None:
            query = query.where(last.c.at.is_(None) | (last.c.at < wanted.last_contact_before))
        if wanted.last_contact_after is not None:
            query = query.where(last.c.at >= wanted.last_contact_after)
    return query.order_by(Customer.id)


def _left_out(
    campaign: Campaign,
    customer: Customer,
    number: str | None,
    consent: dict[str, bool | None],
    listed: set[str],
    taken: set[str],
) -> str | None:
    """Why the campaign leaves this customer out, or None to add them."""
    if customer.restricted:
        return "restricted"
    if number is None:
        return "no_phone"
    if number in taken:
        return "already_in_campaign"
    if number in listed:
        return "do_not_call"
    if campaign.purpose == "marketing" and consent[ConsentPurpose.MARKETING_PHONE.value] is not True:
        return "no_consent"
    if consent[ConsentPurpose.SERVICE.value] is False:
        return "consent_withdrawn"
    return None


def _read_csv(data: bytes) -> list[tuple[int, dict[str, str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid(f"the file is not UTF-8 text (byte {exc.start})", code="invalid_csv") from exc
    if "\x00" in text:
        raise Invalid("the file holds NUL characters: not a CSV text file", code="invalid_csv")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise Invalid("the file is empty: expected a header row with a 'number' column", code="invalid_csv") from None
    except csv.Error as exc:
        raise Invalid(f"line 1: {exc}", code="invalid_csv") from exc
    if "number" not in header:
        raise Invalid(f"the header row has no 'number' column (columns: {', '.join(COLUMNS)})", code="invalid_csv")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise Invalid(f"unknown column {unknown[0][:40]!r} (columns: {', '.join(COLUMNS)})", code="invalid_csv")
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(rows) >= MAX_ROWS:
                raise Invalid(f"more than {MAX_ROWS} rows: split the file", code="invalid_csv")
            rows.append((reader.line_num, dict(zip(header, values, strict=False))))
    except csv.Error as exc:
        raise Invalid(f"line {reader.line_num}: {exc}", code="invalid_csv") from exc
    return rows


def _is_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


# --- the dial-time check -------------------------------------------------------------------------------------


async def eligibility(
    session: AsyncSession, tenant: Tenant, campaign: Campaign, contact: CampaignContact, now: datetime
) -> Verdict:
    """May the campaign call the contact at ``now``: everything the rules need, read fresh from the database."""
    rules = Rules(
        purpose="marketing" if campaign.purpose == "marketing" else "service",
        max_attempts=campaign.max_attempts,
        spacing=timedelta(minutes=campaign.spacing_minutes),
        calling_hours=policy_of(tenant).calling_hours,
        tenant_timezone=tenant.timezone,
    )
    on_list = await session.scalar(
        select(DoNotCall.id).where(DoNotCall.tenant_id == tenant.id, DoNotCall.number == contact.number)
    )
    customer = None if contact.customer_id is None else await session.get(Customer, contact.customer_id)
    facts = Contact(
        attempts=contact.attempts, last_attempt_at=contact.last_attempt_at, on_do_not_call=on_list is not None,
        timezone=contact.timezone,
    )  # fmt: skip
    if customer is not None:
        consent = (await current_consent(session, tenant.id, [customer.id]))[customer.id]
        windows = stored(customer.contact_windows)
        facts = Contact(
            attempts=contact.attempts, last_attempt_at=contact.last_attempt_at, on_do_not_call=on_list is not None,
            is_customer=True, restricted=customer.restricted or customer.erased_at is not None,
            marketing_consent=consent[ConsentPurpose.MARKETING_PHONE.value],
            service_consent=consent[ConsentPurpose.SERVICE.value], windows=windows,
            timezone=contact.timezone or customer.timezone,
        )  # fmt: skip
    return check(rules, facts, now)


# --- do not call ---------------------------------------------------------------------------------------------


async def add_do_not_call(tx: Tx, tenant: Tenant, data: DoNotCallIn) -> DoNotCall:
    try:
        number = normalize_phone(data.number, tenant.country)
    except InvalidIdentity as exc:
        raise Invalid(str(exc), code="invalid_number", details={"field": "number"}) from exc
    found = await tx.session.scalar(
        select(DoNotCall).where(DoNotCall.tenant_id == tenant.id, DoNotCall.number == number)
    )
    if found is not None:
        return found  # already on the list: adding again changes nothing
    entry = DoNotCall(tenant_id=tenant.id, number=number, reason=data.reason)
    tx.session.add(entry)
    await tx.session.flush()
    tx.audit(tenant.id, "do_not_call.added", "do_not_call", entry.id)
    tx.emit("do_not_call.changed", tenant.id, id=entry.id)
    return entry


async def remove_do_not_call(tx: Tx, entry: DoNotCall) -> None:
    await tx.session.delete(entry)
    await tx.session.flush()
    tx.audit(entry.tenant_id, "do_not_call.removed", "do_not_call", entry.id)
    tx.emit("do_not_call.changed", entry.tenant_id, id=entry.id)
