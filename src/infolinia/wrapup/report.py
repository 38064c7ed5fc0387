"""First-contact resolution read from the database: the facts of each handled contact (``fcr.Facts``) are computed
in SQL, one query for a whole period, and judged by the pure ``fcr.verdict``.

The summary groups the contacts by their facts in the database (a few dozen groups, whatever the number of
contacts) and tallies the groups; the contact list pages through the contacts themselves. Repeats are found
through the index on (tenant, customer, created_at), case setbacks through the case links of the contact.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from infolinia.store.models import CaseEntry, CaseLink, Channel, Direction, Interaction, WrapupCode
from infolinia.wrapup import fcr
from infolinia.wrapup.schemas import FcrContactOut

#: contacts looked at for one page of the contact list when a verdict filter skips most of them
SCAN_LIMIT = 20_000
_BATCH = 1_000


@dataclass(frozen=True)
class Filters:
    """Which handled contacts: begun in [start, end), optionally of one queue, agent or channel."""

    tenant_id: int
    start: datetime
    end: datetime
    window_days: int
    queue_id: int | None = None
    agent_id: int | None = None
    channel: Channel | None = None


_later = aliased(Interaction, name="later")


def _within(later: Any, start: Any, days: int, dialect: str) -> ColumnElement[bool]:
    """``later`` is no more than ``days`` days after ``start`` (timestamps are text on SQLite)."""
    if dialect == "postgresql":
        return later <= start + func.make_interval(0, 0, 0, days)  # type: ignore[no-any-return]
    return func.julianday(later) <= func.julianday(start) + days


def _repeats(days: int, dialect: str) -> Select[Any]:
    """The customer's further inbound contacts within the window after the contact (``Interaction``) began."""
    i = Interaction
    return select(_later.id).where(
        _later.tenant_id == i.tenant_id,
        _later.customer_id == i.customer_id,
        _later.direction == Direction.INBOUND,
        _later.created_at > i.created_at,
        _within(_later.created_at, i.created_at, days, dialect),
    )


def _setback() -> ColumnElement[bool]:
    """A case linked to the contact was reopened or escalated after the contact began."""
    return exists().where(
        CaseLink.interaction_id == Interaction.id,
        CaseEntry.case_id == CaseLink.case_id,
        CaseEntry.kind.in_(tuple(fcr.CASE_SETBACKS)),
        CaseEntry.created_at > Interaction.created_at,
    )


def _handled(f: Filters) -> list[ColumnElement[bool]]:
    i = Interaction
    where = [i.tenant_id == f.tenant_id, i.direction == Direction.INBOUND, i.answered_at.is_not(None),
             i.created_at >= f.start, i.created_at < f.end]  # fmt: skip
    for column, value in ((i.queue_id, f.queue_id), (i.agent_id, f.agent_id), (i.channel, f.channel)):
        if value is not None:
            where.append(column == value)
    return where


def _code_join() -> ColumnElement[bool]:
    return and_(WrapupCode.queue_id == Interaction.queue_id, WrapupCode.code == Interaction.disposition_code)


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def figures(session: AsyncSession, f: Filters, now: datetime) -> fcr.Figures:
    """The counts per verdict of the contacts ``f`` selects, as of ``now``."""
    i = Interaction
    judged = and_(WrapupCode.outcome == "resolved", i.customer_id.is_not(None))  # the only ones the flags matter to
    repeated = exists(_repeats(f.window_days, _dialect(session)))
    facts = (
        select(
            WrapupCode.outcome.label("outcome"),
            i.customer_id.is_not(None).label("has_customer"),
            case((judged, repeated), else_=false()).label("repeated"),
            case((judged, _setback()), else_=false()).label("setback"),
            (i.created_at <= now - timedelta(days=f.window_days)).label("ended"),
        )
        .select_from(i)
        .outerjoin(WrapupCode, _code_join())
        .where(*_handled(f))
        .subquery()
    )
    columns = (facts.c.outcome, facts.c.has_customer, facts.c.repeated, facts.c.setback, facts.c.ended)
    rows = await session.execute(select(*columns, func.count()).group_by(*columns))
    return fcr.tally(
        (fcr.Facts(outcome, bool(customer), bool(rep), bool(back), bool(ended)), int(count))
        for outcome, customer, rep, back, ended, count in rows
    )


def _contact_query(f: Filters, dialect: str) -> Select[Any]:
    i = Interaction
    first_repeat = _repeats(f.window_days, dialect).order_by(_later.created_at, _later.id).limit(1)
    return (
        select(
            i.id,
            i.created_at,
            i.channel,
            i.queue_id,
            i.agent_id,
            i.customer_id,
            i.disposition_code,
            WrapupCode.outcome,
            first_repeat.scalar_subquery().label("repeat_id"),
            _setback().label("setback"),
        )
        .select_from(i)
        .outerjoin(WrapupCode, _code_join())
        .where(*_handled(f))
        .order_by(i.id)
    )


def _item(row: Any, window: timedelta, now: datetime) -> FcrContactOut:
    ends = row.created_at + window
    facts = fcr.Facts(row.outcome, row.customer_id is not None, row.repeat_id is not None, bool(row.setback),
                      now >= ends)  # fmt: skip
    return FcrContactOut(
        interaction_id=row.id, created_at=row.created_at, channel=row.channel.value, queue_id=row.queue_id,
        agent_id=row.agent_id, customer_id=row.customer_id, disposition_code=row.disposition_code,
        outcome=row.outcome, verdict=fcr.verdict(facts), repeat_interaction_id=row.repeat_id, window_ends_at=ends,
    )  # fmt: skip


async def contacts(
    session: AsyncSession,
    f: Filters,
    now: datetime,
    verdict: fcr.Verdict | None,
    after: int | None,
    limit: int,
) -> tuple[list[FcrContactOut], int | None]:
    """One page of the contacts ``f`` selects, by id, each with its verdict (only ``verdict``'s, if given), and the
    cursor of the next page (None: no more). At most ``SCAN_LIMIT`` contacts are looked at for one page, so a page
    can hold fewer than ``limit`` items and still have a next one."""
    query, window = _contact_query(f, _dialect(session)), timedelta(days=f.window_days)
    batch = limit if verdict is None else _BATCH
    items: list[FcrContactOut] = []
    cursor, scanned = after or 0, 0
    while scanned < SCAN_LIMIT:
        rows = list(await session.execute(query.where(Interaction.id > cursor).limit(batch)))
        for row in rows:
            cursor, scanned = row.id, scanned + 1
            item = _item(row, window, now)
            if verdict is None or item.verdict is verdict:
                items.append(item)
                if len(items) == limit:
                    return items, cursor
        if len(rows) < batch:
            return items, None
    return items, cursor
