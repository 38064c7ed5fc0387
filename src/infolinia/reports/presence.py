"""Staffed time from agents' presence history (``AgentPresenceChange``): an agent is staffed while ``ready`` (logged
in and not on a break; handling a contact and wrap-up keep the agent ready). Two queries read the changes a period
needs: the last one of each agent before it, and those inside it; the spans between them (a few dozen per agent and
day, however many contacts there are) are cut at the interval boundaries here."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.reports.intervals import Bucket
from infolinia.store.models import AgentPresenceChange

__all__ = ["STAFFED", "Span", "spans", "split"]

#: the presences that count as staffed
STAFFED = frozenset({"ready"})


@dataclass(frozen=True)
class Span:
    agent_id: int
    start: datetime
    end: datetime


async def spans(
    session: AsyncSession, tenant_id: int, start: datetime, end: datetime, now: datetime, agent_id: int | None = None
) -> list[Span]:
    """The staffed spans of the tenant's agents (or one agent) within [start, min(end, now))."""
    c = AgentPresenceChange
    last = min(end, now)
    if last <= start:
        return []
    scope = [c.tenant_id == tenant_id] + ([c.agent_id == agent_id] if agent_id is not None else [])
    latest = select(func.max(c.id)).where(*scope, c.at < start).group_by(c.agent_id).scalar_subquery()
    before = await session.execute(select(c.agent_id, c.presence).where(c.id.in_(latest)))
    inside = await session.execute(
        select(c.agent_id, c.presence, c.at).where(*scope, c.at >= start, c.at < last).order_by(c.agent_id, c.at, c.id)
    )
    state: dict[int, tuple[str, datetime]] = {agent: (presence, start) for agent, presence in before}
    out: list[Span] = []
    for agent, presence, at in inside:
        was, since = state.get(agent, ("offline", start))
        if was in STAFFED and at > since:
            out.append(Span(agent, since, at))
        state[agent] = (presence, at)
    for agent, (presence, since) in state.items():
        if presence in STAFFED and last > since:
            out.append(Span(agent, since, last))
    return out


def split(span: Span, buckets: list[Bucket], starts: list[datetime]) -> Iterator[tuple[int, int]]:
    """(bucket index, staffed milliseconds) of a span cut at the buckets' boundaries (``starts``: their starts)."""
    index = max(bisect_right(starts, span.start) - 1, 0)
    while index < len(buckets) and buckets[index].start < span.end:
        bucket = buckets[index]
        overlap = min(bucket.end, span.end) - max(bucket.start, span.start)
        if overlap.total_seconds() > 0:
            yield index, round(overlap.total_seconds() * 1000)
        index += 1
