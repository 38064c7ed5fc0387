"""Contact KPIs read from the database: one grouped query sums each 15-minute UTC slot (and queue, agent or channel)
of the offered contacts; the slots are then merged into the tenant's intervals (``intervals``). The query reads the
index on (tenant, created_at) and returns at most one row per slot and group, however many contacts there are.

An offered contact is an inbound interaction that entered a queue (``queue_id`` set), counted in the interval it
began in (``created_at``); its wait starts when it was queued (``queued_at``, else when it began).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Integer, and_, case, cast, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.reports import presence
from infolinia.reports.figures import Figures
from infolinia.reports.intervals import SLOT_S, Bucket, bucket_start, buckets, slot_start
from infolinia.store.models import Channel, Direction, Interaction, Queue, User
from infolinia.store.types import utcnow

__all__ = ["GROUPS", "NOT_ABANDONED", "Report", "Selection", "contact_report"]

#: how a report's rows may be split besides the interval
GROUPS = ("none", "queue", "agent", "channel")
#: end reasons of unanswered contacts that are not abandons: the caller took a callback or left a voicemail
NOT_ABANDONED = ("callback_kept_place", "callback_max_wait", "voicemail")


@dataclass(frozen=True)
class Selection:
    """Which contacts: of one tenant, begun in [start, end), optionally of one queue, agent or channel."""

    tenant_id: int
    start: datetime
    end: datetime
    interval: str
    tz: ZoneInfo
    group_by: str = "none"
    queue_id: int | None = None
    agent_id: int | None = None
    channel: Channel | None = None


@dataclass
class Report:
    selection: Selection
    buckets: list[Bucket]
    #: (bucket index, group key) -> figures; with no grouping the key is None and every bucket is present
    cells: dict[tuple[int, Any], Figures] = field(default_factory=dict)
    names: dict[Any, str] = field(default_factory=dict)  # group key -> its name
    totals: dict[Any, Figures] = field(default_factory=dict)  # group key -> the whole period

    def rows(self) -> list[dict[str, Any]]:
        """One row per interval (and group), in order: the interval's local start and end, the group, the KPIs."""
        out = []
        for (index, key), figures in sorted(self.cells.items(), key=lambda item: (item[0][0], _order(item[0][1]))):
            bucket = self.buckets[index]
            row: dict[str, Any] = {"interval_start": bucket.label,
                                   "interval_end": bucket.end.astimezone(self.selection.tz).isoformat()}  # fmt: skip
            if self.selection.group_by != "none":
                row |= {"group": key, "group_name": self.names.get(key, str(key))}
            out.append(row | figures.to_json())
        return out

    def total_rows(self) -> list[dict[str, Any]]:
        out = []
        for key, figures in sorted(self.totals.items(), key=lambda item: _order(item[0])):
            row: dict[str, Any] = {}
            if self.selection.group_by != "none":
                row = {"group": key, "group_name": self.names.get(key, str(key))}
            out.append(row | figures.to_json())
        return out


def _order(key: Any) -> tuple[int, str]:
    return (0, "") if key is None else (1, f"{key:>20}" if isinstance(key, int) else str(key))


def epoch_ms(dialect: str, at: Any) -> Any:
    """A timestamp as whole milliseconds since 1970 (the microseconds cut off), exact on both databases, in SQL.
    SQLite keeps it as text 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds from strftime, milliseconds from the text."""
    if dialect == "postgresql":
        return func.floor(func.extract("epoch", at) * 1000)
    return _whole_seconds(at) * 1000 + cast(func.substr(at, 21, 3), Integer)


def _whole_seconds(at: Any) -> Any:
    """SQLite: the seconds since 1970 of a stored timestamp, its fraction cut off first (strftime would round
    .9995 up into the next second)."""
    return cast(func.strftime("%s", func.substr(at, 1, 19)), Integer)


def slot(dialect: str, at: Any) -> Any:
    """The 15-minute UTC slot of a timestamp (seconds since 1970 // 900), in SQL."""
    if dialect == "postgresql":
        return cast(func.floor(func.extract("epoch", at) / SLOT_S), BigInteger)
    return _whole_seconds(at).op("/")(SLOT_S)  # integer division


def _count(condition: ColumnElement[bool]) -> Any:
    return func.sum(case((condition, 1), else_=0))


def _sum(condition: ColumnElement[bool], value: Any) -> Any:
    return func.sum(case((condition, value), else_=0))


def _group_column(group_by: str) -> Any:
    return {"queue": Interaction.queue_id, "agent": Interaction.agent_id, "channel": Interaction.channel}.get(group_by)


def _rows(s: Selection, dialect: str) -> Any:
    """One row per offered contact: its slot and group, its times in milliseconds (each timestamp read once), the
    thresholds of its queue."""
    i = Interaction
    group = _group_column(s.group_by)
    abandoned = and_(i.answered_at.is_(None), i.ended_at.is_not(None),
                     or_(i.end_reason.is_(None), i.end_reason.not_in(NOT_ABANDONED)))  # fmt: skip
    where = [i.tenant_id == s.tenant_id, i.direction == Direction.INBOUND, i.queue_id.is_not(None),
             i.created_at >= s.start, i.created_at < s.end]  # fmt: skip
    for column, value in ((i.queue_id, s.queue_id), (i.agent_id, s.agent_id), (i.channel, s.channel)):
        if value is not None:
            where.append(column == value)
    rows = (
        select(
            slot(dialect, i.created_at).label("slot"),
            *([group.label("grp")] if group is not None else []),
            epoch_ms(dialect, func.coalesce(i.queued_at, i.created_at)).label("arrived"),
            epoch_ms(dialect, i.answered_at).label("answered"),
            epoch_ms(dialect, i.ended_at).label("ended"),
            epoch_ms(dialect, i.wrapup_ended_at).label("wrapped"),
            func.round(func.coalesce(i.hold_s, 0.0) * 1000).label("hold"),
            case((abandoned, 1), else_=0).label("abandoned"),
            case((i.transferred_at.is_not(None), 1), else_=0).label("transferred"),
            (Queue.sl_seconds * 1000).label("sl_ms"),
            (Queue.short_abandon_s * 1000).label("short_ms"),
        )
        .select_from(i)
        .join(Queue, and_(Queue.id == i.queue_id, Queue.tenant_id == i.tenant_id))
        .where(*where)
    )
    if dialect == "sqlite":  # a LIMIT keeps SQLite from copying the expressions into the sums (each read once)
        rows = rows.limit(-1)
    return rows.subquery("offered_contacts")


def contact_query(s: Selection, dialect: str) -> Any:
    r = _rows(s, dialect)
    answered = r.c.answered.is_not(None)
    handled = and_(answered, r.c.ended.is_not(None))
    wait = r.c.answered - r.c.arrived
    keys = [r.c.slot] + ([r.c.grp] if s.group_by != "none" else [])
    return select(
        *keys,
        func.count().label("offered"),
        _count(answered).label("answered"),
        func.sum(r.c.abandoned).label("abandoned"),
        _count(and_(r.c.abandoned == 1, r.c.ended - r.c.arrived < r.c.short_ms)).label("short"),
        _count(and_(answered, wait <= r.c.sl_ms)).label("in_sl"),
        _sum(answered, wait).label("wait_ms"),
        _count(handled).label("handled"),
        _sum(handled, r.c.ended - r.c.answered - r.c.hold).label("talk_ms"),
        _sum(handled, r.c.hold).label("hold_ms"),
        _sum(and_(handled, r.c.wrapped.is_not(None)), r.c.wrapped - r.c.ended).label("wrap_ms"),
        func.sum(r.c.transferred).label("transferred"),
    ).group_by(*keys)


def _figures(row: Any) -> Figures:
    return Figures(int(row.offered), int(row.answered or 0), int(row.abandoned or 0), int(row.short or 0),
                   int(row.in_sl or 0), int(row.wait_ms or 0), int(row.handled or 0), int(row.talk_ms or 0),
                   int(row.hold_ms or 0), int(row.wrap_ms or 0),
                   transferred=int(row.transferred or 0))  # fmt: skip


async def _names(session: AsyncSession, s: Selection, keys: set[Any]) -> dict[Any, str]:
    ids = [k for k in keys if k is not None]
    if s.group_by == "queue" and ids:
        rows = await session.execute(select(Queue.id, Queue.name).where(Queue.tenant_id == s.tenant_id,
                                                                        Queue.id.in_(ids)))  # fmt: skip
        return {key: name for key, name in rows}
    if s.group_by == "agent":
        found: dict[Any, str] = {None: "(no agent)"}
        if ids:
            rows = await session.execute(select(User.id, User.display_name).where(User.tenant_id == s.tenant_id,
                                                                                  User.id.in_(ids)))  # fmt: skip
            found |= {key: name for key, name in rows}
        return found
    return {key: str(key.value if isinstance(key, Channel) else key) for key in keys}


async def _staffed(session: AsyncSession, s: Selection, report: Report, now: datetime) -> None:
    """Add the agents' staffed time per interval (and agent): for the whole tenant or per agent only, since an
    agent's time is not split between queues or channels."""
    if s.group_by not in ("none", "agent") or s.queue_id is not None or s.channel is not None:
        return
    starts = [b.start for b in report.buckets]
    for span in await presence.spans(session, s.tenant_id, s.start, s.end, now, s.agent_id):
        key = None if s.group_by == "none" else span.agent_id
        for index, ms in presence.split(span, report.buckets, starts):
            report.cells.setdefault((index, key), Figures()).staffed_ms += ms
            report.totals.setdefault(key, Figures()).staffed_ms += ms


async def contact_report(session: AsyncSession, s: Selection, now: datetime | None = None) -> Report:
    """The KPIs of the contacts ``s`` selects, per interval (and group), and over the whole period."""
    dialect = session.get_bind().dialect.name
    report = Report(s, buckets(s.start, s.end, s.interval, s.tz))
    index = {b.start: n for n, b in enumerate(report.buckets)}
    if s.group_by == "none":
        report.cells = {(n, None): Figures() for n in range(len(report.buckets))}
        report.totals[None] = Figures()
    starts: dict[int, int] = {}  # slot -> bucket index (many slots share one)
    for row in await session.execute(contact_query(s, dialect)):
        number = int(row.slot)
        if number not in starts:
            starts[number] = index[bucket_start(slot_start(number), s.interval, s.tz)]
        key = getattr(row, "grp", None)
        if isinstance(key, str) and s.group_by == "channel":
            key = Channel(key)
        figures = _figures(row)
        report.cells.setdefault((starts[number], key), Figures()).add(figures)
        report.totals.setdefault(key, Figures()).add(figures)
    if s.group_by == "channel":
        report.cells = {(n, k.value if isinstance(k, Channel) else k): f for (n, k), f in report.cells.items()}
        report.totals = {k.value if isinstance(k, Channel) else k: f for k, f in report.totals.items()}
    await _staffed(session, s, report, now or utcnow())
    report.names = await _names(session, s, set(report.totals))
    return report
