"""What the routing engine is configured with, read from the rows: queues (with their tenant's business hours),
agents (with the queues they serve) and tasks. Only reads; the service decides what to do with the specs."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.agents.actions import capacity
from infolinia.routing.model import AgentSpec, Channel, OverflowStep, Presence, QueueSpec, Strategy, TaskSpec
from infolinia.store.models import AgentProfile, Queue, RoutingTask, TeamMember, Tenant, User
from infolinia.tenants.calendar import set_hours

log = logging.getLogger(__name__)


def seconds(at: datetime | None) -> float | None:
    return None if at is None else at.timestamp()


def opening_hours(tenant: Tenant) -> Callable[[float], bool] | None:
    """``is_open(now)`` from the tenant's calendar, in its time zone. A calendar without weekly hours means none
    was set: always open (a new tenant is not closed for good before anyone wrote its hours)."""
    hours = set_hours(tenant.business_hours)
    if hours is None:
        return None
    zone = tenant.timezone

    def is_open(now: float) -> bool:
        return hours.status(datetime.fromtimestamp(now, UTC), zone) == "open"

    return is_open


def overflow_steps(raw: Iterable[dict[str, Any]]) -> tuple[OverflowStep, ...]:
    return tuple(
        OverflowStep(
            float(step["after_s"]), dict(step.get("levels", {})), bool(step.get("any_language", False)),
            step.get("to_queue"),
        )
        for step in raw
    )  # fmt: skip


def queue_spec(q: Queue, tenant: Tenant, always_open: bool = False) -> QueueSpec:
    """``always_open``: the queue ignores the tenant's hours (``--demo-always-open``)."""
    hours = opening_hours(tenant) if q.business_hours and not always_open else None
    return QueueSpec(
        q.id, q.tenant_id, q.name, sl_target=q.sl_target, sl_seconds=q.sl_seconds, strategy=Strategy(q.strategy),
        aging_s=q.aging_s, overflow=overflow_steps(q.overflow), max_wait_s=q.max_wait_s,
        max_wait_action=q.max_wait_action, closed_action=q.closed_action, offer_timeout_s=q.offer_timeout_s,
        missed_offer_presence=Presence(q.missed_offer_presence), wrapup_s=q.wrapup_s,
        short_abandon_s=q.short_abandon_s, is_open=hours,
    )  # fmt: skip


def agent_spec(profile: AgentProfile, teams: Collection[int], queues: Iterable[Queue]) -> AgentSpec:
    """The agent serves the queues of its tenant that have no team or a team it belongs to."""
    serves = frozenset(
        q.id for q in queues if q.tenant_id == profile.tenant_id and (q.team_id is None or q.team_id in teams)
    )
    return AgentSpec(
        profile.user_id, profile.tenant_id, dict(profile.skills), frozenset(profile.languages), serves,
        {Channel(ch): n for ch, n in capacity(profile).items()}, profile.voice_exclusive,
    )  # fmt: skip


def task_spec(row: RoutingTask) -> TaskSpec:
    return TaskSpec(
        row.id, row.tenant_id, row.queue_id, Channel(row.channel), row.enqueued_at.timestamp(), dict(row.skills),
        row.language, row.priority, preferred_agent=row.preferred_agent_id,
        preferred_until=seconds(row.preferred_until), not_before=seconds(row.not_before),
    )  # fmt: skip


def _in(column: Any, ids: Collection[int] | None) -> ColumnElement[bool]:
    return true() if ids is None else column.in_(ids)


async def read_queues(
    s: AsyncSession,
    *,
    tenant_ids: Collection[int] | None = None,
    queue_ids: Collection[int] | None = None,
    always_open: bool = False,
) -> list[QueueSpec]:
    """The specs of the queues asked for (all when both filters are None), by id."""
    rows = await s.execute(
        select(Queue, Tenant)
        .join(Tenant, Tenant.id == Queue.tenant_id)
        .where(_in(Queue.tenant_id, tenant_ids), _in(Queue.id, queue_ids))
        .order_by(Queue.id)
    )
    return [queue_spec(q, tenant, always_open) for q, tenant in rows]


async def read_agents(
    s: AsyncSession, *, tenant_ids: Collection[int] | None = None, user_ids: Collection[int] | None = None
) -> dict[int, AgentSpec]:
    """The specs of the agents asked for that can take work now: active users with an agent profile."""
    profiles = list(
        await s.scalars(
            select(AgentProfile)
            .join(User, User.id == AgentProfile.user_id)
            .where(User.active, _in(AgentProfile.tenant_id, tenant_ids), _in(AgentProfile.user_id, user_ids))
            .order_by(AgentProfile.user_id)
        )
    )
    scope = None if tenant_ids is None and user_ids is None else {p.tenant_id for p in profiles}
    teams: dict[int, set[int]] = {}
    members = await s.scalars(
        select(TeamMember).where(_in(TeamMember.tenant_id, scope), _in(TeamMember.user_id, user_ids))
    )
    for member in members:
        teams.setdefault(member.user_id, set()).add(member.team_id)
    queues = list(await s.scalars(select(Queue).where(_in(Queue.tenant_id, scope))))
    return {p.user_id: agent_spec(p, teams.get(p.user_id, set()), queues) for p in profiles}
