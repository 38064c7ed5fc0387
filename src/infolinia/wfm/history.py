"""The forecast's shell: count a tenant's inbound contacts per interval of its local day from the store, then run
the pure model of ``forecast``. Every query filters by the tenant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.errors import Invalid, NotFound
from infolinia.store.models import Channel, Direction, Interaction, Queue, Tenant
from infolinia.store.types import utcnow
from infolinia.tenants.calendar import BusinessHours, CalendarError
from infolinia.wfm import forecast as model

__all__ = ["Request", "forecast_for", "forecast_tenant"]

MAX_DAYS = 92
MAX_HISTORY_DAYS = 730


@dataclass(frozen=True)
class Request:
    days: int = 7
    history_days: int = 56
    holdout_days: int = 7
    interval_minutes: int = 15

    def check(self) -> None:
        if not 1 <= self.days <= MAX_DAYS:
            raise Invalid(f"days: expected 1-{MAX_DAYS}", details={"field": "days"})
        if not 7 <= self.history_days <= MAX_HISTORY_DAYS:
            raise Invalid(f"history_days: expected 7-{MAX_HISTORY_DAYS}", details={"field": "history_days"})
        if not 0 <= self.holdout_days <= self.history_days // 2:
            raise Invalid("holdout_days: expected 0 to half the history", details={"field": "holdout_days"})
        if not (5 <= self.interval_minutes <= 1440 and 1440 % self.interval_minutes == 0):
            raise Invalid("interval_minutes: expected a divisor of 1440, at least 5",
                          details={"field": "interval_minutes"})  # fmt: skip


async def forecast_for(
    session: AsyncSession, tenant_slug: str, queue_name: str | None, channel: str | None, request: Request
) -> dict[str, Any]:
    """The CLI's entry: names instead of ids."""
    tenant = await session.scalar(select(Tenant).where(Tenant.slug == tenant_slug))
    if tenant is None:
        raise NotFound(f"no tenant {tenant_slug!r}")
    queue_id = None
    if queue_name is not None:
        queue_id = await session.scalar(select(Queue.id).where(Queue.tenant_id == tenant.id, Queue.name == queue_name))
        if queue_id is None:
            raise NotFound(f"no queue {queue_name!r} in tenant {tenant_slug!r}")
    try:
        chan = Channel(channel) if channel is not None else None
    except ValueError as exc:
        raise Invalid(f"channel: expected one of {', '.join(c.value for c in Channel)}") from exc
    return await forecast_tenant(session, tenant, queue_id, chan, request)


async def forecast_tenant(
    session: AsyncSession,
    tenant: Tenant,
    queue_id: int | None,
    channel: Channel | None,
    request: Request,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Forecast ``request.days`` days from tomorrow (tenant time) from the last ``history_days`` whole days."""
    request.check()
    zone = ZoneInfo(tenant.timezone)
    now = now or utcnow()
    today = now.astimezone(zone).date()
    first = today - timedelta(days=request.history_days)
    start_utc = datetime.combine(first, time(), zone).astimezone(UTC) - timedelta(days=1)
    end_utc = datetime.combine(today, time(), zone).astimezone(UTC) + timedelta(days=1)
    where = [
        Interaction.tenant_id == tenant.id,
        Interaction.direction == Direction.INBOUND,
        Interaction.created_at >= start_utc,
        Interaction.created_at < end_utc,
    ]
    if queue_id is not None:
        where.append(Interaction.queue_id == queue_id)
    if channel is not None:
        where.append(Interaction.channel == channel)
    stamps = (await session.scalars(select(Interaction.created_at).where(*where))).all()
    per_day = 1440 // request.interval_minutes
    counts = np.zeros((request.history_days, per_day))
    for stamp in stamps:
        local = (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(zone)
        row = (local.date() - first).days
        if 0 <= row < request.history_days:
            counts[row, (local.hour * 60 + local.minute) // request.interval_minutes] += 1
    holidays = _holidays(tenant)
    history = model.History(first, counts, holidays)
    accuracy = model.evaluate(history, request.holdout_days)
    days = [today + timedelta(days=i) for i in range(1, request.days + 1)]
    guess = model.predict(model.fit(history), days, holidays) if counts.sum() > 0 else np.zeros((len(days), per_day))
    rows = []
    for day, values in zip(days, guess, strict=True):
        for i, value in enumerate(values):
            at = datetime.combine(day, time(), zone) + timedelta(minutes=i * request.interval_minutes)
            rows.append({"start": at.isoformat(), "calls": round(float(value), 4)})
    return {
        "tenant_id": tenant.id,
        "queue_id": queue_id,
        "channel": channel.value if channel is not None else None,
        "interval_minutes": request.interval_minutes,
        "history": {"first_day": first.isoformat(), "days": request.history_days, "contacts": int(counts.sum())},
        "holidays": sorted(d.isoformat() for d in holidays if days[0] <= d <= days[-1]),
        "accuracy": accuracy.as_dict() if accuracy is not None else None,
        "intervals": rows,
    }


def _holidays(tenant: Tenant) -> frozenset[date]:
    if not tenant.business_hours:
        return frozenset()
    try:
        return BusinessHours.from_json(tenant.business_hours).holidays
    except CalendarError:
        return frozenset()
