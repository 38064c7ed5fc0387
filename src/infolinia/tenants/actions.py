"""Tenant, team and queue actions."""

from __future__ import annotations

from sqlalchemy import select

from infolinia.errors import Conflict, Invalid
from infolinia.schemas import QueueIn, QueuePatch, TeamIn, TenantIn, TenantPatch
from infolinia.store.models import Queue, Team, Tenant
from infolinia.store.uow import Tx


async def create_tenant(tx: Tx, data: TenantIn) -> Tenant:
    if await tx.session.scalar(select(Tenant.id).where(Tenant.slug == data.slug)) is not None:
        raise Conflict(f"a tenant with slug {data.slug!r} exists", code="slug_taken")
    tenant = Tenant(**data.model_dump())
    tx.session.add(tenant)
    await tx.session.flush()
    tx.audit(tenant.id, "tenant.created", "tenant", tenant.id, slug=tenant.slug)
    tx.emit("tenant.created", tenant.id, id=tenant.id, slug=tenant.slug)
    return tenant


async def update_tenant(tx: Tx, tenant: Tenant, data: TenantPatch) -> Tenant:
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for key, value in changes.items():
        setattr(tenant, key, value)
    tx.session.add(tenant)
    await tx.session.flush()
    tx.audit(tenant.id, "tenant.updated", "tenant", tenant.id, fields=sorted(changes))
    tx.emit("tenant.updated", tenant.id, id=tenant.id, fields=sorted(changes))
    return tenant


async def _team_in_tenant(tx: Tx, tenant_id: int, team_id: int | None) -> None:
    if team_id is None:
        return
    found = await tx.session.scalar(select(Team.id).where(Team.id == team_id, Team.tenant_id == tenant_id))
    if found is None:
        raise Invalid(f"team {team_id} does not exist", code="unknown_team")


async def create_team(tx: Tx, tenant_id: int, data: TeamIn) -> Team:
    if await tx.session.scalar(select(Team.id).where(Team.tenant_id == tenant_id, Team.name == data.name)):
        raise Conflict(f"a team named {data.name!r} exists", code="name_taken")
    team = Team(tenant_id=tenant_id, name=data.name)
    tx.session.add(team)
    await tx.session.flush()
    tx.audit(tenant_id, "team.created", "team", team.id)
    tx.emit("team.created", tenant_id, id=team.id)
    return team


async def create_queue(tx: Tx, tenant_id: int, data: QueueIn) -> Queue:
    await _team_in_tenant(tx, tenant_id, data.team_id)
    if await tx.session.scalar(select(Queue.id).where(Queue.tenant_id == tenant_id, Queue.name == data.name)):
        raise Conflict(f"a queue named {data.name!r} exists", code="name_taken")
    queue = Queue(tenant_id=tenant_id, name=data.name, team_id=data.team_id)
    tx.session.add(queue)
    await tx.session.flush()
    tx.audit(tenant_id, "queue.created", "queue", queue.id)
    tx.emit("queue.created", tenant_id, id=queue.id)
    return queue


async def update_queue(tx: Tx, queue: Queue, data: QueuePatch) -> Queue:
    changes = data.model_dump(exclude_unset=True)
    if "team_id" in changes:
        await _team_in_tenant(tx, queue.tenant_id, changes["team_id"])
    if changes.get("name") is None:
        changes.pop("name", None)
    for key, value in changes.items():
        setattr(queue, key, value)
    await tx.session.flush()
    tx.audit(queue.tenant_id, "queue.updated", "queue", queue.id, fields=sorted(changes))
    tx.emit("queue.updated", queue.tenant_id, id=queue.id)
    return queue
