"""The figures of a period beside the contact KPIs, each from the part that owns its definition: first-contact
resolution (``wrapup.report``), callback promises kept (``Callback.promise_kept``), case service-level compliance
(``cases.compliance``) and the abandon rate of predictive campaigns (``outbound.predictive.ANSWERED``). Counts are
grouped in SQL; case compliance is judged per case by ``cases.service_levels.view``, as the cases report does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.cases import service_levels
from infolinia.cases.compliance import compliance
from infolinia.outbound.predictive import ANSWERED
from infolinia.store.models import Callback, Campaign, CampaignAttempt, Case, Tenant
from infolinia.wrapup import report as fcr_report

__all__ = ["callbacks", "campaigns", "cases", "first_contact_resolution"]


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


async def first_contact_resolution(
    session: AsyncSession, tenant: Tenant, start: datetime, end: datetime, queue_id: int | None, now: datetime
) -> dict[str, Any]:
    f = fcr_report.Filters(tenant.id, start, end, tenant.fcr_window_days, queue_id)
    figures = await fcr_report.figures(session, f, now)
    return {"handled": figures.handled, "decided": figures.decided,
            "resolved_first_contact": figures.resolved_first_contact, "pending": figures.pending,
            "rate": figures.rate, "window_days": tenant.fcr_window_days}  # fmt: skip


async def callbacks(
    session: AsyncSession, tenant_id: int, start: datetime, end: datetime, queue_id: int | None
) -> dict[str, Any]:
    """Callbacks promised for the period (``due_at`` in it): how many, how many are decided (kept or not), kept."""
    where = [Callback.tenant_id == tenant_id, Callback.due_at >= start, Callback.due_at < end]
    if queue_id is not None:
        where.append(Callback.queue_id == queue_id)
    row = (await session.execute(select(
        func.count(),
        func.sum(case((Callback.promise_kept.is_not(None), 1), else_=0)),
        func.sum(case((Callback.promise_kept.is_(True), 1), else_=0)),
    ).where(*where))).one()  # fmt: skip
    promised, decided, kept = int(row[0]), int(row[1] or 0), int(row[2] or 0)
    return {"promised": promised, "decided": decided, "kept": kept, "kept_rate": _rate(kept, decided)}


async def campaigns(
    session: AsyncSession, tenant_id: int, start: datetime, end: datetime, queue_id: int | None
) -> dict[str, Any]:
    """Predictive campaign calls placed in the period: answered by the customer, abandoned, the rate; and per
    campaign."""
    a = CampaignAttempt
    where = [a.tenant_id == tenant_id, a.started_at >= start, a.started_at < end]
    if queue_id is not None:
        where.append(Campaign.queue_id == queue_id)
    rows = await session.execute(
        select(Campaign.id, Campaign.name, func.count(),
               func.sum(case((a.outcome.in_(ANSWERED), 1), else_=0)),
               func.sum(case((a.outcome == "abandoned", 1), else_=0)))
        .select_from(a)
        .join(Campaign, and_(Campaign.id == a.campaign_id, Campaign.tenant_id == a.tenant_id))
        .where(*where)
        .group_by(Campaign.id, Campaign.name)
        .order_by(Campaign.id)
    )  # fmt: skip
    per = []
    placed = answered = abandoned = 0
    for cid, name, calls, ans, abd in rows:
        placed, answered, abandoned = placed + int(calls), answered + int(ans or 0), abandoned + int(abd or 0)
        per.append({"campaign_id": cid, "name": name, "placed": int(calls), "answered": int(ans or 0),
                    "abandoned": int(abd or 0), "abandon_rate": _rate(int(abd or 0), int(ans or 0))})  # fmt: skip
    return {"placed": placed, "answered": answered, "abandoned": abandoned,
            "abandon_rate": _rate(abandoned, answered), "campaigns": per}  # fmt: skip


async def cases(session: AsyncSession, tenant: Tenant, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """Service-level compliance of the cases filed in the period, as they stand at ``now`` (``cases.compliance``)."""
    query = select(Case).where(Case.tenant_id == tenant.id, Case.created_at >= start, Case.created_at < end,
                               Case.merged_into_id.is_(None))  # fmt: skip
    cal = service_levels.Calendar(tenant)
    rows = await session.stream_scalars(query.order_by(Case.id).execution_options(yield_per=500))
    figures = compliance([(c.category, service_levels.view(c, cal, now)) async for c in rows])
    figures.pop("by_category", None)
    return figures
