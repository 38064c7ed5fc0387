"""Writing cases: every change goes through here, in the caller's transaction (``Tx``), with its timeline entry,
its audit record and its event. The rules are pure (``lifecycle.py``, ``policy.py``); this module applies them
to rows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from infolinia.cases import lifecycle, service_levels
from infolinia.cases.policy import CasePolicy, CasePolicyError
from infolinia.cases.schemas import CaseIn, CasePatch
from infolinia.errors import Conflict, Invalid
from infolinia.events import EventBus
from infolinia.routing.engine import RoutingError
from infolinia.store.db import Database
from infolinia.store.models import Case, CaseEntry, CaseLink, Customer, Interaction, RoutingTask, Tenant, User
from infolinia.store.refs import require_in_tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import SYSTEM, Tx, write

if TYPE_CHECKING:
    from infolinia.routing.service import RoutingService

log = logging.getLogger(__name__)

#: a case's priority as its routing task's (higher first)
TASK_PRIORITY = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


@dataclass
class Moves:
    """What a case change leaves the routing engine to do once it is committed: tasks to take back (the case
    left its rung's queue, or is finished) and tasks to route (it waits in a rung's queue now)."""

    withdraw: list[int] = field(default_factory=list)
    route: list[RoutingTask] = field(default_factory=list)

    async def apply(self, routing: RoutingService) -> None:
        for task_id in self.withdraw:
            with contextlib.suppress(RoutingError):  # done already: nothing to take back
                await routing.cancel(task_id, reason="withdrawn")
        if self.route:
            await routing.route(self.route)


async def _queue_task(tx: Tx, case: Case, queue_id: int, moves: Moves) -> None:
    task = RoutingTask(tenant_id=case.tenant_id, queue_id=queue_id, channel="case", skills={}, language=None,
                       priority=TASK_PRIORITY.get(case.priority, 1), enqueued_at=utcnow(), state="waiting")  # fmt: skip
    tx.session.add(task)
    await tx.session.flush()
    case.routing_task_id = task.id
    moves.route.append(task)


async def route_to_queue(tx: Tx, case: Case, queue_id: int, moves: Moves) -> None:
    """Put a new case in a queue as a routing task (a request from the web waits there for an agent; accepting it
    makes the case the agent's), routed once committed (``moves``)."""
    _release_task(case, moves)
    await _queue_task(tx, case, queue_id, moves)


def _release_task(case: Case, moves: Moves) -> None:
    if case.routing_task_id is not None:
        moves.withdraw.append(case.routing_task_id)
        case.routing_task_id = None


#: what a timeline entry records
ENTRY_KINDS = ("created", "note", "message", "customer_message", "updated", "assigned", "status", "escalated",
               "reopened", "linked", "merged", "sla_warning", "sla_breached")  # fmt: skip


def policy_of(tenant: Tenant) -> CasePolicy:
    try:
        return CasePolicy.from_json(tenant.case_policy or None)
    except CasePolicyError:  # validated on save; a row edited by hand falls back to the defaults
        log.warning("tenant %s: invalid case_policy, using the defaults", tenant.id)
        return CasePolicy()


def _entry(tx: Tx, case: Case, kind: str, body: str | None = None, internal: bool = True, **data: Any) -> None:
    tx.session.add(CaseEntry(tenant_id=case.tenant_id, case_id=case.id, kind=kind, internal=internal, body=body,
                             data=data, author_id=tx.who.user_id))  # fmt: skip


def _emit(tx: Tx, type_: str, case: Case, **data: Any) -> None:
    tx.emit(type_, case.tenant_id, id=case.id, number=case.number, status=case.status, tier=case.tier,
            user_id=case.assignee_id, **data)  # fmt: skip


async def _next_number(tx: Tx, tenant_id: int) -> int:
    """The tenant's next case number: its counter moved on in this transaction (the row stays locked until the
    commit on PostgreSQL, and SQLite writes one transaction at a time), so two cases never share a number."""
    query = update(Tenant).where(Tenant.id == tenant_id).values(case_seq=Tenant.case_seq + 1).returning(Tenant.case_seq)
    number = await tx.session.scalar(query.execution_options(synchronize_session=False))
    assert number is not None
    return int(number)


async def _customer_of(tx: Tx, interaction_id: int) -> int | None:
    return await tx.session.scalar(select(Interaction.customer_id).where(Interaction.id == interaction_id))


def _check_category(policy: CasePolicy, category: str) -> None:
    if category not in policy.categories:
        raise Invalid(
            f"category {category!r} is not one of the tenant's ({', '.join(policy.categories)})",
            code="unknown_category", details={"field": "category"},
        )  # fmt: skip


async def create_case(tx: Tx, tenant: Tenant, data: CaseIn, moves: Moves | None = None) -> Case:
    policy = policy_of(tenant)
    _check_category(policy, data.category)
    await require_in_tenant(tx.session, tenant.id, {
        "customer_id": (Customer, data.customer_id), "assignee_id": (User, data.assignee_id),
        "interaction_id": (Interaction, data.interaction_id),
    })  # fmt: skip
    customer_id = data.customer_id
    if customer_id is None and data.interaction_id is not None:  # the contact's customer, when it has one
        customer_id = await _customer_of(tx, data.interaction_id)
    case = Case(
        tenant_id=tenant.id, number=await _next_number(tx, tenant.id), subject=data.subject, category=data.category,
        priority=data.priority, status="new", tier=0, customer_id=customer_id, team_id=policy.ladder[0].team_id,
        assignee_id=data.assignee_id, created_by_id=tx.who.user_id, reopened=0,
    )  # fmt: skip
    tier = (
        None
        if customer_id is None
        else await tx.session.scalar(select(Customer.tier).where(Customer.id == customer_id))
    )
    service_levels.start(case, tenant, policy, tier, utcnow())
    tx.session.add(case)
    await tx.session.flush()
    if policy.ladder[0].queue_id is not None and data.assignee_id is None:
        await _queue_task(tx, case, policy.ladder[0].queue_id, moves or Moves())
    _entry(tx, case, "created", data.description, subject=data.subject, category=data.category)
    if data.interaction_id is not None:
        tx.session.add(CaseLink(tenant_id=tenant.id, case_id=case.id, interaction_id=data.interaction_id,
                                linked_by_id=tx.who.user_id))  # fmt: skip
        _entry(tx, case, "linked", interaction_id=data.interaction_id)
    tx.audit(tenant.id, "case.created", "case", case.id, number=case.number, category=case.category)
    _emit(tx, "case.created", case)
    return case


async def update_case(tx: Tx, tenant: Tenant, case: Case, data: CasePatch) -> Case:
    _not_merged(case)
    changes = data.model_dump(exclude_unset=True)
    for name in ("subject", "category", "priority"):
        if name in changes and changes[name] is None:
            raise Invalid(f"{name}: null is not a value here (leave the field out to keep it)",
                          details={"field": name})  # fmt: skip
    if "category" in changes:
        _check_category(policy_of(tenant), changes["category"])
    await require_in_tenant(tx.session, tenant.id, {
        "customer_id": (Customer, changes.get("customer_id")), "assignee_id": (User, changes.get("assignee_id")),
    })  # fmt: skip
    changed = sorted(key for key, value in changes.items() if getattr(case, key) != value)
    if not changed:
        return case
    before = {key: getattr(case, key) for key in changed}
    for key in changed:
        setattr(case, key, changes[key])
    if "assignee_id" in changed:
        _entry(tx, case, "assigned", before=before["assignee_id"], after=case.assignee_id)
    rest = [key for key in changed if key != "assignee_id"]
    if rest:
        _entry(tx, case, "updated", fields=rest, before={k: before[k] for k in rest},
               after={k: getattr(case, k) for k in rest})  # fmt: skip
    await tx.session.flush()
    tx.audit(tenant.id, "case.updated", "case", case.id, fields=changed)
    _emit(tx, "case.updated", case, fields=changed)
    return case


def _not_merged(case: Case) -> None:
    if case.merged_into_id is not None:
        raise Conflict(f"case {case.number} was merged into another case: work on that one", code="case_merged",
                       details={"merged_into_id": case.merged_into_id})  # fmt: skip


async def set_status(
    tx: Tx, tenant: Tenant, case: Case, status: str, note: str | None, moves: Moves | None = None
) -> Case:
    _not_merged(case)
    lifecycle.check_move(case.status, status)
    before, now = case.status, utcnow()
    case.status = status
    if status == "resolved":
        case.resolved_at = now
    elif status == "closed":
        case.closed_at = now
        case.resolved_at = case.resolved_at or now
    if status in lifecycle.FINISHED:
        service_levels.finish(case, tenant, now)
        _release_task(case, moves or Moves())
    elif status == "pending_customer":
        service_levels.pause(case, tenant, now)
    elif before == "pending_customer":
        service_levels.resume(case, tenant, now)
    _entry(tx, case, "status", note, before=before, after=status)
    await tx.session.flush()
    tx.audit(case.tenant_id, "case.status_changed", "case", case.id, before=before, after=status)
    _emit(tx, "case.status_changed", case)
    return case


async def escalate(tx: Tx, tenant: Tenant, case: Case, reason: str, moves: Moves | None = None) -> Case:
    """One rung up the tenant's ladder: to that rung's team, nobody assigned, status ``escalated``."""
    _not_merged(case)
    policy = policy_of(tenant)
    tier = lifecycle.check_escalate(case.status, case.tier, policy.top)
    before = case.tier
    rung = policy.ladder[tier]
    if case.status == "pending_customer":
        service_levels.resume(case, tenant, utcnow())
    case.tier, case.status, case.team_id, case.assignee_id = tier, "escalated", rung.team_id, None
    moves = moves if moves is not None else Moves()
    _release_task(case, moves)
    if rung.queue_id is not None:
        await _queue_task(tx, case, rung.queue_id, moves)
    _entry(tx, case, "escalated", reason, before=before, after=tier, rung=rung.name, team_id=rung.team_id)
    await tx.session.flush()
    tx.audit(tenant.id, "case.escalated", "case", case.id, before=before, after=tier, rung=rung.name, reason=reason)
    _emit(tx, "case.escalated", case, reason=reason)
    return case


async def reopen(tx: Tx, tenant: Tenant, case: Case, reason: str, moves: Moves | None = None) -> Case:
    lifecycle.check_reopen(case.status, case.merged_into_id is not None)
    before = case.status
    case.status, case.resolved_at, case.closed_at = "open", None, None
    case.reopened += 1
    service_levels.reopened(case, tenant, utcnow())
    ladder = policy_of(tenant).ladder
    queue = ladder[case.tier].queue_id if case.tier < len(ladder) else None
    if queue is not None and case.assignee_id is None:
        await _queue_task(tx, case, queue, moves if moves is not None else Moves())
    _entry(tx, case, "reopened", reason, before=before)
    await tx.session.flush()
    tx.audit(case.tenant_id, "case.reopened", "case", case.id, before=before, reason=reason)
    _emit(tx, "case.reopened", case, reason=reason)
    return case


async def add_entry(tx: Tx, tenant: Tenant, case: Case, body: str, internal: bool, from_customer: bool = False) -> Case:
    """An internal note, a message to the customer (the first one is the case's first response; each one answers
    the customer's messages before it), or the customer's own message (after the first response it starts a
    next-response round; a case pending the customer is open again)."""
    _not_merged(case)
    now = utcnow()
    if from_customer:
        kind = "customer_message"
        if case.status == "pending_customer":
            await set_status(tx, tenant, case, "open", "the customer wrote")
        service_levels.customer_wrote(case, tenant, now)
    elif internal:
        kind = "note"
    else:
        kind = "message"
        case.first_response_at = case.first_response_at or now
        service_levels.answered(case, tenant, now)
    _entry(tx, case, kind, body, internal=internal and not from_customer)
    case.updated_at = utcnow()
    await tx.session.flush()
    tx.audit(case.tenant_id, "case.entry_added", "case", case.id, kind=kind)
    _emit(tx, "case.entry_added", case, kind=kind)
    return case


async def link(tx: Tx, case: Case, interaction_id: int) -> Case:
    """Attach a contact of any channel to the case (once)."""
    _not_merged(case)
    await require_in_tenant(tx.session, case.tenant_id, {"interaction_id": (Interaction, interaction_id)})
    taken = await tx.session.scalar(
        select(CaseLink.id).where(CaseLink.case_id == case.id, CaseLink.interaction_id == interaction_id)
    )
    if taken is not None:
        raise Conflict(f"interaction {interaction_id} is linked to this case already", code="already_linked")
    tx.session.add(CaseLink(tenant_id=case.tenant_id, case_id=case.id, interaction_id=interaction_id,
                            linked_by_id=tx.who.user_id))  # fmt: skip
    if case.customer_id is None:
        case.customer_id = await _customer_of(tx, interaction_id)
    _entry(tx, case, "linked", interaction_id=interaction_id)
    case.updated_at = utcnow()
    await tx.session.flush()
    tx.audit(case.tenant_id, "case.linked", "case", case.id, interaction_id=interaction_id)
    _emit(tx, "case.linked", case)
    return case


async def merge(tx: Tx, tenant: Tenant, duplicate: Case, into_id: int, moves: Moves | None = None) -> Case:
    """Merge ``duplicate`` into case ``into_id``: its timeline and contacts move there, it is closed and points
    to it; the case merged into, as it now is."""
    await require_in_tenant(tx.session, duplicate.tenant_id, {"into_case_id": (Case, into_id)})
    target = await tx.session.get(Case, into_id)
    assert target is not None
    if target.id == duplicate.id:
        raise Invalid("a case cannot be merged into itself", details={"field": "into_case_id"})
    _not_merged(duplicate)
    if target.merged_into_id is not None:
        raise Conflict(f"case {target.number} was merged into another case itself: merge into that one",
                       code="case_merged", details={"merged_into_id": target.merged_into_id})  # fmt: skip
    on_target = set(await tx.session.scalars(select(CaseLink.interaction_id).where(CaseLink.case_id == target.id)))
    for row in list(await tx.session.scalars(select(CaseLink).where(CaseLink.case_id == duplicate.id))):
        if row.interaction_id in on_target:
            await tx.session.delete(row)
        else:
            row.case_id = target.id
    await tx.session.execute(
        update(CaseEntry).where(CaseEntry.case_id == duplicate.id).values(case_id=target.id)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    now = utcnow()
    if target.customer_id is None:
        target.customer_id = duplicate.customer_id
    responses = [at for at in (target.first_response_at, duplicate.first_response_at) if at is not None]
    target.first_response_at = min(responses, default=None)
    duplicate.merged_into_id, duplicate.status = target.id, "closed"
    duplicate.closed_at = duplicate.closed_at or now
    service_levels.finish(duplicate, tenant, now)
    _release_task(duplicate, moves if moves is not None else Moves())
    _entry(tx, target, "merged", f"case {duplicate.number} merged into this one", duplicate=duplicate.id,
           duplicate_number=duplicate.number)  # fmt: skip
    _entry(tx, duplicate, "merged", f"merged into case {target.number}", into=target.id, into_number=target.number)
    target.updated_at = now
    await tx.session.flush()
    tx.audit(duplicate.tenant_id, "case.merged", "case", duplicate.id, into=target.id)
    _emit(tx, "case.merged", duplicate, into=target.id)
    return target


async def check_service_levels(tx: Tx, now: datetime, limit: int = 500, moves: Moves | None = None) -> int:
    """Report the warnings and breaches that fell due by ``now`` (a timeline entry, an audit record and an event
    each) and escalate a breached case one rung when its rule says so; how many cases were looked at."""
    due = select(Case).where(Case.sla_check_at <= now, Case.status.in_(tuple(lifecycle.ACTIVE)))
    cases = list(await tx.session.scalars(due.order_by(Case.sla_check_at).limit(limit)))
    tenants: dict[int, tuple[Tenant, service_levels.Calendar]] = {}
    for case in cases:
        if case.tenant_id not in tenants:
            row = await tx.session.get(Tenant, case.tenant_id)
            assert row is not None
            tenants[row.id] = (row, service_levels.Calendar(row))
        tenant, calendar = tenants[case.tenant_id]
        warnings, breaches = service_levels.check(case, calendar, now)
        if warnings:
            _entry(tx, case, "sla_warning", metrics=warnings)
            tx.audit(case.tenant_id, "case.sla_warning", "case", case.id, metrics=warnings)
            _emit(tx, "case.sla_warning", case, metrics=warnings)
        if breaches:
            _entry(tx, case, "sla_breached", metrics=breaches)
            tx.audit(case.tenant_id, "case.sla_breached", "case", case.id, metrics=breaches)
            _emit(tx, "case.sla_breached", case, metrics=breaches)
        if breaches and case.sla.get("escalate") and case.tier < policy_of(tenant).top:
            names = " and ".join(metric.replace("_", " ") for metric in breaches)
            await escalate(tx, tenant, case, f"service level breached: {names}", moves)
    await tx.session.flush()
    return len(cases)


async def watch_service_levels(
    db: Database, bus: EventBus | None, routing: RoutingService | None = None, interval_s: float = 30.0
) -> None:
    """Forever: every ``interval_s``, ``check_service_levels`` (a database hiccup waits for the next round), then
    the routing moves of the cases it escalated."""
    while True:
        try:
            moves = Moves()
            async with write(db, bus, SYSTEM) as tx:
                await check_service_levels(tx, utcnow(), moves=moves)
            if routing is not None:
                await moves.apply(routing)
        except Exception:
            log.exception("checking case service levels failed")
        await asyncio.sleep(interval_s)


async def assign_from_task(tx: Tx, task: RoutingTask, agent_id: int) -> Case | None:
    """An agent accepted the routing task a case waited as: the case is theirs (None: no case waits as it)."""
    case = await tx.session.scalar(
        select(Case).where(Case.routing_task_id == task.id, Case.tenant_id == task.tenant_id)
    )
    if case is None or case.assignee_id == agent_id:
        return case
    before, case.assignee_id = case.assignee_id, agent_id
    if case.status in ("new", "escalated"):
        case.status = "open"
    _entry(tx, case, "assigned", before=before, after=agent_id, task_id=task.id)
    await tx.session.flush()
    tx.audit(case.tenant_id, "case.updated", "case", case.id, fields=["assignee_id"], task_id=task.id)
    _emit(tx, "case.updated", case, fields=["assignee_id"])
    return case
