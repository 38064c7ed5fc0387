"""Tenant, team and queue actions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from infolinia.errors import Conflict, Invalid
from infolinia.schemas import QueueIn, QueuePatch, TeamIn, TenantIn, TenantPatch
from infolinia.store.models import Queue, Team, Tenant
from infolinia.store.refs import require_in_tenant
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
    if "case_policy" in changes:  # the ladder's teams must be the tenant's own
        rungs = changes["case_policy"]["ladder"]
        refs: dict[str, tuple[Any, int | None]] = {
            f"case_policy.ladder[{i}].team_id": (Team, rung["team_id"]) for i, rung in enumerate(rungs)
        }
        refs |= {f"case_policy.ladder[{i}].queue_id": (Queue, rung["queue_id"]) for i, rung in enumerate(rungs)}
        await require_in_tenant(tx.session, tenant.id, refs)
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


async def _check_overflow(tx: Tx, queue: Queue) -> None:
    """Overflow steps move contacts only to other queues of the same tenant, and come before the maximum wait."""
    for i, step in enumerate(queue.overflow):
        target = step.get("to_queue")
        if target == queue.id:
            raise Invalid(f"overflow[{i}].to_queue: a queue cannot overflow to itself", code="invalid_overflow")
        if target is not None:
            await require_in_tenant(tx.session, queue.tenant_id, {f"overflow[{i}].to_queue": (Queue, target)})
        if queue.max_wait_s is not None and step["after_s"] >= queue.max_wait_s:
            raise Invalid(
                f"overflow[{i}].after_s: {step['after_s']:g} s is not before max_wait_s ({queue.max_wait_s:g} s)",
                code="invalid_overflow",
            )


async def create_queue(tx: Tx, tenant_id: int, data: QueueIn) -> Queue:
    await _team_in_tenant(tx, tenant_id, data.team_id)
    if await tx.session.scalar(select(Queue.id).where(Queue.tenant_id == tenant_id, Queue.name == data.name)):
        raise Conflict(f"a queue named {data.name!r} exists", code="name_taken")
    queue = Queue(tenant_id=tenant_id, **data.model_dump(mode="json"))
    tx.session.add(queue)
    await tx.session.flush()
    await _check_overflow(tx, queue)
    tx.audit(tenant_id, "queue.created", "queue", queue.id)
    tx.emit("queue.created", tenant_id, id=queue.id)
    return queue


async def update_queue(tx: Tx, queue: Queue, data: QueuePatch) -> Queue:
    given = data.model_dump(mode="json")  # whole values: overflow steps keep their defaulted fields
    changes = {key: given[key] for key in data.model_fields_set}
    if "team_id" in changes:
        await _team_in_tenant(tx, queue.tenant_id, changes["team_id"])
    if changes.get("name") is None:
        changes.pop("name", None)
    elif changes["name"] != queue.name and await tx.session.scalar(
        select(Queue.id).where(Queue.tenant_id == queue.tenant_id, Queue.name == changes["name"])
    ):
        raise Conflict(f"a queue named {changes['name']!r} exists", code="name_taken")
    for key, value in changes.items():
        setattr(queue, key, value)
    await _check_overflow(tx, queue)
    await tx.session.flush()
    tx.audit(queue.tenant_id, "queue.updated", "queue", queue.id, fields=sorted(changes))
    tx.emit("queue.updated", queue.tenant_id, id=queue.id, fields=sorted(changes))
    return queue
