"""The wallboard's inputs, read from the store and the routing engine, each with the definition of the part that
owns it: the contact figures from ``reports.contacts`` (the contact report itself, over today and over the last 30
minutes, grouped by queue), callbacks from ``outbound.stats`` (the same count as ``GET /callbacks/stats``), the
campaigns' contacts and abandon figures from ``outbound.campaigns.views`` and ``outbound.predictive``; waiting
contacts and agents from the engine's memory. Then ``board.compose``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.outbound import campaigns as campaign_views
from infolinia.outbound import predictive, stats
from infolinia.reports.contacts import Selection, contact_report
from infolinia.reports.figures import Figures
from infolinia.reports.intervals import slot_of, slot_start
from infolinia.routing.engine import Engine
from infolinia.routing.model import AgentState, TaskState
from infolinia.store.models import (
    AgentPresenceChange,
    Campaign,
    CampaignAttempt,
    CampaignContact,
    Interaction,
    Queue,
    Tenant,
    User,
)
from infolinia.wallboard.board import (
    AgentIn,
    Board,
    CallbackCounts,
    Callbacks,
    CampaignIn,
    Moment,
    QueueIn,
    StateClock,
    compose,
)

__all__ = ["WINDOW", "Earlier", "board", "moment"]

#: "the last 30 minutes"
WINDOW = timedelta(minutes=30)
#: the window campaign dials are counted over
PACING_WINDOW_MIN = 15
#: campaigns the board shows
ACTIVE = ("running", "paused")
#: more changed interactions than this since the last board: the earlier figures are read again without looking
MAX_CHANGED = 500
_READY_STATES = frozenset({AgentState.AVAILABLE, AgentState.RESERVED, AgentState.BUSY, AgentState.WRAPUP})


def moment(now: datetime, zone: str) -> Moment:
    return Moment(now, stats.today_start(now, zone), now - WINDOW)


async def _figures(session: AsyncSession, tenant: Tenant, start: datetime, end: datetime) -> dict[int, Figures]:
    """The reports' contact figures of ``start``..``end`` per queue (the contact report's totals)."""
    if end <= start:
        return {}
    selection = Selection(tenant.id, start, end, "day", ZoneInfo(tenant.timezone), group_by="queue")
    report = await contact_report(session, selection, end)
    return {int(key): f for key, f in report.totals.items() if key is not None}


@dataclass
class Earlier:
    """Today's figures before the last half hour's first 15-minute slot, kept between boards: contacts that began
    then rarely change. ``changed``: the interactions changed since (from their events); one of them that began
    before ``until`` has them read again, as does a new day or a new slot."""

    day_start: datetime | None = None
    until: datetime | None = None
    figures: dict[int, Figures] = field(default_factory=dict)
    changed: set[int] = field(default_factory=set)
    reads: int = 0  # how many times they were read (for tests)


async def _began_before(session: AsyncSession, tenant_id: int, ids: set[int], cut: datetime) -> bool:
    i = Interaction
    query = select(i.id).where(i.tenant_id == tenant_id, i.id.in_(ids), i.created_at < cut).limit(1)
    return await session.scalar(query) is not None


async def _today(session: AsyncSession, tenant: Tenant, m: Moment, earlier: Earlier) -> dict[int, Figures]:
    """The figures of [midnight, now): the cached part before the window's slot, and the rest read now (the
    figures are sums over contacts, each counted in the period it began in: the parts add up to the whole)."""
    cut = max(m.day_start, slot_start(slot_of(m.window_start)))
    changed, earlier.changed = earlier.changed, set()
    if cut <= m.day_start:
        before: dict[int, Figures] = {}
    else:
        if (earlier.day_start, earlier.until) != (m.day_start, cut) or (
            changed and await _began_before(session, tenant.id, changed, cut)
        ):
            earlier.figures = await _figures(session, tenant, m.day_start, cut)
            earlier.day_start, earlier.until = m.day_start, cut
            earlier.reads += 1
        before = earlier.figures
    today: dict[int, Figures] = {}
    for part in (before, await _figures(session, tenant, cut, m.now)):
        for queue_id, figures in part.items():
            today.setdefault(queue_id, Figures()).add(figures)
    return today


def _waiting(engine: Engine, queue_ids: set[int]) -> dict[int, tuple[int, float | None]]:
    """Per queue: the contacts waiting or being offered now, and when the first of them entered (engine time:
    seconds since 1970). Scheduled tasks (a callback for later) are not waiting yet."""
    found: dict[int, tuple[int, float | None]] = {}
    for t in engine.tasks.values():
        if t.queue_id in queue_ids and t.state in (TaskState.WAITING, TaskState.RESERVED):
            count, oldest = found.get(t.queue_id, (0, None))
            found[t.queue_id] = (count + 1, t.enq if oldest is None else min(oldest, t.enq))
    return found


def _at(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


async def _queues(
    session: AsyncSession, tenant: Tenant, engine: Engine, m: Moment, backlog: stats.Backlog, earlier: Earlier
) -> list[QueueIn]:
    rows = (
        await session.execute(select(Queue.id, Queue.name, Queue.sl_target).where(Queue.tenant_id == tenant.id))
    ).all()
    today = await _today(session, tenant, m, earlier)
    recent = await _figures(session, tenant, m.window_start, m.now)
    waiting = _waiting(engine, {r.id for r in rows})
    out = []
    for queue_id, name, target in rows:
        count, oldest = waiting.get(queue_id, (0, None))
        cb = backlog.get(queue_id, (0, 0, 0))
        out.append(QueueIn(queue_id, name, target, count, _at(oldest), today.get(queue_id, Figures()),
                           recent.get(queue_id, Figures()), CallbackCounts(*cb)))  # fmt: skip
    return out


async def _presence_since(session: AsyncSession, tenant_id: int, agent_ids: list[int]) -> dict[int, datetime]:
    """When each agent's presence last changed (the recorded history, ``reports/presence.py``)."""
    if not agent_ids:
        return {}
    rows = await session.execute(
        select(AgentPresenceChange.agent_id, func.max(AgentPresenceChange.at))
        .where(AgentPresenceChange.tenant_id == tenant_id, AgentPresenceChange.agent_id.in_(agent_ids))
        .group_by(AgentPresenceChange.agent_id)
    )
    return {int(a): at for a, at in rows.all()}


def _engine_since(engine: Engine, agent_id: int, state: AgentState) -> datetime | None:
    """What the engine knows: idle since (available), the earliest contact it still holds was accepted (busy)."""
    agent = engine.agents[agent_id]
    if state is AgentState.AVAILABLE:
        return _at(agent.idle_since)
    if state is AgentState.BUSY:
        accepted = [
            t.accepted_at for t in engine.tasks.values() if t.agent == agent_id and t.state is TaskState.ASSIGNED
        ]
        return _at(min(accepted)) if accepted else None
    return None


async def _agents(session: AsyncSession, tenant: Tenant, engine: Engine, clock: StateClock) -> list[AgentIn]:
    ids = [aid for aid, a in engine.agents.items() if a.tenant_id == tenant.id]
    names = (
        dict((await session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))).all()) if ids else {}
    )
    presence = await _presence_since(session, tenant.id, ids)
    out = []
    for agent_id in ids:
        a = engine.agents[agent_id]
        state = a.state()
        since = clock.since(agent_id, state)
        if since is None and state in (AgentState.BREAK, AgentState.OFFLINE):
            since = presence.get(agent_id)  # the presence history records every break and log-off
        if since is None:
            since = _engine_since(engine, agent_id, state)
        out.append(AgentIn(agent_id, names.get(agent_id, f"#{agent_id}"), state, a.reason, since))
    return out


async def _callbacks(session: AsyncSession, tenant: Tenant, m: Moment, backlog: stats.Backlog) -> Callbacks:
    """The open callbacks, and the promises of today up to now (``GET /callbacks/stats`` without parameters)."""
    counts = [sum(column) for column in zip(*backlog.values(), strict=True)] if backlog else [0, 0, 0]
    due = Callbacks(open=counts[0], due=counts[1], overdue=counts[2], requested_today=0, promise_kept=0,
                    promise_broken=0, promise_kept_share=None)  # fmt: skip
    if m.now <= m.day_start:
        return due
    promises = await stats.promise_stats(session, tenant.id, m.day_start, m.now)
    return due.model_copy(update={
        "requested_today": promises.requested, "promise_kept": promises.promise_kept,
        "promise_broken": promises.promise_broken, "promise_kept_share": promises.promise_kept_share,
    })  # fmt: skip


async def _dials(session: AsyncSession, rows: list[Campaign], since: datetime) -> tuple[dict[int, int], dict[int, int]]:
    """Calls placed since ``since`` and calls under way, per campaign: a predictive campaign's from its attempts
    (customer-first calls), the others' from their contacts' latest attempts (agent-first calls)."""
    ids = [c.id for c in rows]
    dials: dict[int, int] = dict.fromkeys(ids, 0)
    busy: dict[int, int] = dict.fromkeys(ids, 0)
    predictive_ids = [c.id for c in rows if c.mode == "predictive"]
    if predictive_ids:
        a = CampaignAttempt
        placed = await session.execute(
            select(a.campaign_id, func.count()).where(a.campaign_id.in_(predictive_ids), a.started_at >= since)
            .group_by(a.campaign_id)
        )  # fmt: skip
        dials |= {int(cid): int(n) for cid, n in placed.all()}
        under_way = await session.execute(
            select(a.campaign_id, func.count()).where(a.campaign_id.in_(predictive_ids), a.outcome.is_(None))
            .group_by(a.campaign_id)
        )  # fmt: skip
        busy |= {int(cid): int(n) for cid, n in under_way.all()}
    others = [i for i in ids if i not in predictive_ids]
    if others:
        contacts = await session.execute(
            select(CampaignContact.campaign_id, func.count())
            .where(CampaignContact.campaign_id.in_(others), CampaignContact.last_attempt_at >= since)
            .group_by(CampaignContact.campaign_id)
        )
        dials |= {int(cid): int(n) for cid, n in contacts.all()}
        calling = await session.execute(
            select(CampaignContact.campaign_id, func.count())
            .where(CampaignContact.campaign_id.in_(others), CampaignContact.status == "calling")
            .group_by(CampaignContact.campaign_id)
        )
        busy |= {int(cid): int(n) for cid, n in calling.all()}
    return dials, busy


async def _campaigns(session: AsyncSession, tenant: Tenant, engine: Engine, m: Moment) -> list[CampaignIn]:
    rows = list(
        await session.scalars(select(Campaign).where(Campaign.tenant_id == tenant.id, Campaign.status.in_(ACTIVE)))
    )
    if not rows:
        return []
    views = {v.id: v for v in await campaign_views.views(session, rows)}
    queue_names = dict((await session.execute(select(Queue.id, Queue.name).where(Queue.tenant_id == tenant.id))).all())
    dials, busy = await _dials(session, rows, m.now - timedelta(minutes=PACING_WINDOW_MIN))
    out = []
    for c in rows:
        view = views[c.id]
        q = engine.queues.get(c.queue_id)
        staffed = sum(1 for a in q.members.values() if a.state() in _READY_STATES) if q is not None else 0
        rate = (await predictive.dial_stats(session, c.id)).answer_rate if c.mode == "predictive" else None
        today = view.abandon.today if view.abandon is not None else None
        out.append(CampaignIn(
            c.id, c.name, c.mode, c.status, queue_names.get(c.queue_id, ""), dict(view.contacts), dials[c.id],
            PACING_WINDOW_MIN, busy[c.id], staffed, rate, today.abandoned if today else 0,
            today.answered if today else 0, c.abandon_cap,
        ))  # fmt: skip
    return out


async def board(
    session: AsyncSession,
    tenant: Tenant,
    engine: Engine,
    clock: StateClock,
    seq: int,
    now: datetime,
    earlier: Earlier | None = None,
) -> Board:
    """The tenant's board at ``now``; ``seq``: the newest event already committed when the reading began;
    ``earlier``: the tenant's figures kept from the previous board (with what changed since)."""
    m = moment(now, tenant.timezone)
    backlog = await stats.backlog(session, tenant.id, m.now)
    queues = await _queues(session, tenant, engine, m, backlog, earlier or Earlier())
    agents = await _agents(session, tenant, engine, clock)
    callbacks = await _callbacks(session, tenant, m, backlog)
    campaigns = await _campaigns(session, tenant, engine, m)
    return compose(tenant.id, seq, m, queues, agents, callbacks, campaigns)
