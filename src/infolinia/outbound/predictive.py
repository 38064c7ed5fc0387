"""Predictive (customer-first) dialing: what to decide, and the figures it is decided from.

Pure: the calendar day in the tenant's time zone (``day_bounds``, ``next_day``), the floor the pacer sees from the
queue's agents (``floor_of``), the abandon budget from counted attempts (``budget_of``) and the decision
(``decide``, ``pacing.calls_to_place`` under ``AbandonBudget.target``). From the database: the abandon figures of a
campaign (``abandon_stats``), its answer rate, ring time and handle time (``dial_stats``), all counted from the
stored attempts (``campaign_attempts``), so a restart forgets nothing. The calls themselves are placed by
``voice/calls/predictive_call.py``.

An **abandoned** call is one the customer answered and that no agent took within 2 s: the customer hears the
tenant's identification message and is hung up. The cap (the campaign's ``abandon_cap``, default 3 %) is on
abandoned / answered calls per calendar day in the tenant's time zone and over the last 30 days. An abandoned
contact is not dialed predictively again the same day: its next attempt waits for the next day's start.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.outbound.pacing import AbandonBudget, AnswerRate, Floor, calls_to_place
from infolinia.routing.model import AgentState
from infolinia.store.models import CampaignAttempt

__all__ = [
    "ANSWERED",
    "AbandonCounts",
    "AbandonStats",
    "AgentSeen",
    "DialStats",
    "abandon_stats",
    "abandon_view",
    "budget_of",
    "day_bounds",
    "decide",
    "dial_stats",
    "floor_of",
    "next_day",
]

#: outcomes of a call the customer answered: counted in the abandon rate's denominator
ANSWERED: Final = ("connected", "abandoned")
WINDOW_DAYS: Final = 30
AGENT_WITHIN_S: Final = 2.0  # an answered call with no agent after this long is abandoned
PRIOR_RING_S: Final = 10.0  # the mean time to answer before any answer was seen
PRIOR_HANDLE_S: Final = 180.0  # the mean talk time before any call was talked
RECENT: Final = 300  # finished attempts the answer rate is estimated from


# --- the calendar day, in the tenant's time zone ----------------------------------------------------------------


def day_bounds(now: datetime, zone: str) -> tuple[datetime, datetime]:
    """The calendar day around ``now`` in ``zone``: its first instant and the next day's, in UTC (a day of a clock
    change is 23 or 25 hours long)."""
    tz = ZoneInfo(zone)
    local = now.astimezone(tz).date()
    start = datetime.combine(local, time(0), tz).astimezone(UTC)
    end = datetime.combine(local + timedelta(days=1), time(0), tz).astimezone(UTC)
    return start, end


def next_day(now: datetime, zone: str) -> datetime:
    """The first instant of the calendar day after ``now``'s, in ``zone``."""
    return day_bounds(now, zone)[1]


# --- the abandon budget -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AbandonCounts:
    answered: int = 0
    abandoned: int = 0

    @property
    def rate(self) -> float:
        return self.abandoned / self.answered if self.answered else 0.0


@dataclass(frozen=True)
class AbandonStats:
    """A campaign's abandoned calls today (in the tenant's time zone) and over the last 30 days (today included)."""

    day: str  # ISO date, the tenant's
    today: AbandonCounts
    last_30_days: AbandonCounts


def abandon_view(stats: AbandonStats, cap: float) -> dict[str, Any]:
    """The campaign's abandon figures as the API and the ``campaign.abandon_rate`` event show them."""

    def figures(answered: int, abandoned: int, rate: float) -> dict[str, Any]:
        return {"answered": answered, "abandoned": abandoned, "rate": round(rate, 4)}

    today, month = stats.today, stats.last_30_days
    return {
        "day": stats.day, "cap": cap,
        "today": figures(today.answered, today.abandoned, today.rate),
        "last_30_days": figures(month.answered, month.abandoned, month.rate),
    }  # fmt: skip


def budget_of(stats: AbandonStats, cap: float) -> AbandonBudget:
    """The pacer's budget from counted attempts: today's, and the rest of the 30 days as its history."""
    earlier = (
        stats.last_30_days.answered - stats.today.answered,
        stats.last_30_days.abandoned - stats.today.abandoned,
    )
    return AbandonBudget(
        cap=cap, answered=stats.today.answered, abandoned=stats.today.abandoned, history=deque([earlier], maxlen=29)
    )


async def _counts(
    session: AsyncSession, campaign_ids: Sequence[int], since: datetime, until: datetime
) -> dict[int, AbandonCounts]:
    """Answered and abandoned calls of each campaign started in ``since``..``until`` (one query for all)."""
    abandoned = func.sum(case((CampaignAttempt.outcome == "abandoned", 1), else_=0))
    rows = await session.execute(
        select(CampaignAttempt.campaign_id, func.count(), abandoned)
        .where(
            CampaignAttempt.campaign_id.in_(campaign_ids),
            CampaignAttempt.started_at >= since,
            CampaignAttempt.started_at < until,
            CampaignAttempt.outcome.in_(ANSWERED),
        )
        .group_by(CampaignAttempt.campaign_id)
    )
    counts = {int(c): AbandonCounts(int(n or 0), int(a or 0)) for c, n, a in rows.all()}
    return {c: counts.get(c, AbandonCounts(0, 0)) for c in campaign_ids}


async def abandon_stats_of(
    session: AsyncSession, campaign_ids: Sequence[int], zone: str, now: datetime
) -> dict[int, AbandonStats]:
    """``abandon_stats`` of several campaigns of one tenant, in two queries."""
    start, end = day_bounds(now, zone)
    today = await _counts(session, campaign_ids, start, end)
    month = await _counts(session, campaign_ids, now - timedelta(days=WINDOW_DAYS), end)
    day = now.astimezone(ZoneInfo(zone)).date().isoformat()
    return {c: AbandonStats(day, today[c], month[c]) for c in campaign_ids}


async def abandon_stats(session: AsyncSession, campaign_id: int, zone: str, now: datetime) -> AbandonStats:
    """Abandoned / answered calls of the campaign today (the tenant's calendar day) and over the last 30 days."""
    return (await abandon_stats_of(session, [campaign_id], zone, now))[campaign_id]


# --- the floor and the decision ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentSeen:
    """One of the queue's agents as the pacer counts them: its state, and whether its phone is registered (an agent
    who cannot be rung cannot take an answered call within 2 s)."""

    state: AgentState
    registered: bool


@dataclass(frozen=True)
class DialStats:
    """The campaign's recent figures: answer rate, mean time to answer, mean talk time."""

    answer_rate: float = 0.2
    ring_s: float = PRIOR_RING_S
    handle_s: float = PRIOR_HANDLE_S


def floor_of(
    agents: Sequence[AgentSeen], *, ringing: int, waiting: int, stats: DialStats, wrapup_s: float = 0.0
) -> Floor:
    """What the pacer knows: registered agents available now (less the answered calls waiting for one of them),
    each registered busy agent's chance of being free by the time a call placed now answers (talking:
    ``1 - exp(-ring / handle)``; in wrap-up: the share of the wrap-up that fits in the ring time), the calls
    still ringing."""
    free = sum(1 for a in agents if a.registered and a.state is AgentState.AVAILABLE) - waiting
    finishing: list[float] = []
    for agent in agents:
        if not agent.registered:
            continue
        if agent.state is AgentState.BUSY:
            finishing.append(1.0 - math.exp(-stats.ring_s / max(stats.handle_s, 1.0)))
        elif agent.state is AgentState.WRAPUP:
            finishing.append(1.0 if wrapup_s <= 0 else min(1.0, stats.ring_s / wrapup_s))
    if free < 0:  # answered calls still waiting take agents about to be free first
        finishing = sorted(finishing)[: max(0, len(finishing) + free)]
        free = 0
    return Floor(free=free, finishing=tuple(finishing), in_flight=ringing, answer_rate=stats.answer_rate)


def decide(floor: Floor, budget: AbandonBudget) -> int:
    """How many customers to dial now: the pacer's number under the budget's target; once the budget is used up
    (target 0), no more than one call per free agent, which abandons nobody."""
    return calls_to_place(floor, budget.target())


async def dial_stats(session: AsyncSession, campaign_id: int) -> DialStats:
    """Answer rate over the last ``RECENT`` finished attempts (from a 20 % prior), mean time to answer and mean
    talk time of the answered ones (from priors of 10 s and 180 s, weighted as a few calls)."""
    rows = (
        await session.execute(
            select(
                CampaignAttempt.started_at,
                CampaignAttempt.answered_at,
                CampaignAttempt.connected_at,
                CampaignAttempt.ended_at,
            )
            .where(CampaignAttempt.campaign_id == campaign_id, CampaignAttempt.outcome.is_not(None))
            .order_by(CampaignAttempt.id.desc())
            .limit(RECENT)
        )
    ).all()
    rate = AnswerRate(window=RECENT)
    rings: list[float] = []
    talks: list[float] = []
    for started, answered, connected, ended in reversed(rows):
        rate.record(answered is not None)
        if answered is not None:
            rings.append((answered - started).total_seconds())
        if connected is not None and ended is not None:
            talks.append((ended - connected).total_seconds())
    return DialStats(rate.value, _mean(rings, PRIOR_RING_S, 5), _mean(talks, PRIOR_HANDLE_S, 5))


def _mean(values: Sequence[float], prior: float, weight: int) -> float:
    return (sum(values) + prior * weight) / (len(values) + weight)
