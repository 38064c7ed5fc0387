"""Callback figures read from the store: the promises of a period (``GET /api/v1/callbacks/stats``) and the open
callbacks now, per queue (the wallboard). One definition each, used wherever they are shown."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.outbound.predictive import day_bounds
from infolinia.schemas import CallbackStats
from infolinia.store.models import Callback

__all__ = ["Backlog", "backlog", "promise_stats", "today_start"]


def today_start(now: datetime, zone: str) -> datetime:
    """The first instant of ``now``'s day on the clock of ``zone``, in UTC."""
    return day_bounds(now, zone)[0]


async def promise_stats(
    session: AsyncSession, tenant_id: int, since: datetime, until: datetime, queue_id: int | None = None
) -> CallbackStats:
    """The callbacks promised for ``since``..``until`` (their ``due_at``): how many, by status and source, and how
    many promises were kept, broken, or are not known yet."""
    query = select(Callback.status, Callback.source, Callback.promise_kept).where(
        Callback.tenant_id == tenant_id, Callback.due_at >= since, Callback.due_at < until
    )
    if queue_id is not None:
        query = query.where(Callback.queue_id == queue_id)
    rows = (await session.execute(query)).all()
    kept = sum(1 for row in rows if row.promise_kept is True)
    broken = sum(1 for row in rows if row.promise_kept is False)
    return CallbackStats(
        since=since, until=until, requested=len(rows), by_status=dict(Counter(row.status for row in rows)),
        by_source=dict(Counter(row.source for row in rows)), promise_kept=kept, promise_broken=broken,
        promise_pending=len(rows) - kept - broken,
        promise_kept_share=round(kept / (kept + broken), 4) if kept + broken else None,
    )  # fmt: skip


#: queue id -> (open, due, overdue)
Backlog = dict[int, tuple[int, int, int]]


async def backlog(session: AsyncSession, tenant_id: int, now: datetime) -> Backlog:
    """The open callbacks (``scheduled``) of each queue: all of them; **due**, whose next attempt may start now
    (its ``next_attempt_at``, else ``not_before``, has come); **overdue**, never attempted and past ``keep_by``
    (the promise is broken and the customer still waits for the first call)."""
    c = Callback
    due = func.coalesce(c.next_attempt_at, c.not_before) <= now
    overdue = and_(c.first_attempt_at.is_(None), c.keep_by < now)
    rows = await session.execute(
        select(c.queue_id, func.count(), func.sum(case((due, 1), else_=0)), func.sum(case((overdue, 1), else_=0)))
        .where(c.tenant_id == tenant_id, c.status == "scheduled")
        .group_by(c.queue_id)
    )
    return {int(q): (int(n), int(d or 0), int(o or 0)) for q, n, d, o in rows.all()}
