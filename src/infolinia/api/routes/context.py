"""What an agent needs the moment a task is offered (the "screen pop"): ``GET /tasks/{task_id}/context`` — the
task, its contact, the customer's record and the newest page of their timeline on every channel, the case the task
is for and the customer's other open cases, and the scripts suggested for it. So a transferred or called-back
customer is never asked for everything again.

Only the agent the task is offered or assigned to, and those who monitor routing, may read it; everything in it
is what the reader may see anyway (back office: its teams' contacts and cases)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy import select

from infolinia.access import can
from infolinia.agent_scripts.schemas import SuggestedScript
from infolinia.api.deps import Access, access, case_scope, interaction_scope
from infolinia.api.routes.cases import case_out
from infolinia.api.routes.routing import task_view
from infolinia.api.routes.scripts import suggest_for
from infolinia.cases import actions as cases
from infolinia.cases import service_levels
from infolinia.cases.schemas import CaseOut
from infolinia.customers import actions as customers
from infolinia.customers import timeline
from infolinia.errors import Conflict
from infolinia.schemas import CustomerOut, InteractionOut, TaskOut
from infolinia.store.models import Callback, CampaignContact, Case, CaseLink, Customer, Interaction, RoutingTask

router = APIRouter(tags=["routing"])

MAX_OPEN_CASES = 20


class TaskContext(BaseModel):
    task: TaskOut
    #: the contact the task is for (a call, a chat, an e-mail), when it has one the reader may see
    interaction: InteractionOut | None = None
    customer: CustomerOut | None = None
    #: the newest items of the customer's timeline (``GET /customers/{id}/timeline?before=`` continues it)
    timeline: list[dict[str, object]] = []
    timeline_next_before: str | None = None
    #: the case the task is for (a case routed to a queue), then the customer's other open cases, newest first
    cases: list[CaseOut] = []
    scripts: list[SuggestedScript] = []


async def _customer_id(a: Access, task: RoutingTask, interaction: Interaction | None, case: Case | None) -> int | None:
    """Whose task it is: its contact's customer, its case's, its callback's or its campaign contact's."""
    if interaction is not None and interaction.customer_id is not None:
        return interaction.customer_id
    if case is not None and case.customer_id is not None:
        return case.customer_id
    for model in (Callback, CampaignContact):
        found = await a.session.scalar(
            select(model.customer_id).where(model.tenant_id == a.tenant.id, model.routing_task_id == task.id)
        )
        if found is not None:
            return int(found)
    return None


@router.get("/tasks/{task_id}/context", response_model=TaskContext)
async def task_context(
    a: Access = Depends(access("tasks.handle")), timeline_limit: int = Query(20, ge=1, le=100)
) -> TaskContext:
    """The task with its contact, customer, timeline, cases and suggested scripts (the agent it is offered or
    assigned to, and supervisors)."""
    task: RoutingTask = a.obj("task_id")
    if task.agent_id != a.actor.user_id and not can(a.actor, "routing.monitor"):
        raise Conflict(f"task {task.id} is not offered or assigned to you", code="not_your_task")
    seen_interactions = interaction_scope(a.actor, a.tenant.id)
    seen_cases = case_scope(a.actor, a.tenant.id)
    interaction = None
    if task.interaction_id is not None:
        interaction = await a.session.scalar(
            select(Interaction).where(Interaction.id == task.interaction_id, seen_interactions)
        )
    case = await a.session.scalar(select(Case).where(Case.routing_task_id == task.id, seen_cases))
    out = TaskContext(task=task_view(a, task))
    out.interaction = None if interaction is None else InteractionOut.model_validate(interaction)
    customer_id = await _customer_id(a, task, interaction, case)
    customer = None if customer_id is None else await a.session.get(Customer, customer_id)
    ladder, cal = cases.policy_of(a.tenant).ladder, service_levels.Calendar(a.tenant)
    shown = [] if case is None else [case]
    if customer is not None and customer.tenant_id == a.tenant.id:
        out.customer = await customers.view(a.session, customer)
        items, more = await timeline.timeline(a.session, customer, interactions_seen=seen_interactions,
                                              cases_seen=seen_cases, limit=timeline_limit)  # fmt: skip
        out.timeline, out.timeline_next_before = items, None if more is None else str(more)
        open_cases = await a.session.scalars(
            select(Case)
            .where(seen_cases, Case.customer_id == customer.id, Case.status.not_in(("resolved", "closed")))
            .order_by(Case.id.desc())
            .limit(MAX_OPEN_CASES)
        )
        shown += [c for c in open_cases if case is None or c.id != case.id]
    out.cases = [case_out(a, c, ladder, cal) for c in shown]
    contacts = [] if interaction is None else [interaction]
    if case is not None:  # the contacts the case came from: their IVR choices and customer count too
        linked = select(CaseLink.interaction_id).where(CaseLink.case_id == case.id)
        contacts += list(await a.session.scalars(
            select(Interaction).where(Interaction.id.in_(linked), seen_interactions).order_by(Interaction.id)
        ))  # fmt: skip
    out.scripts = await suggest_for(a, contacts, [task], None if out.customer is None else out.customer.language)
    return out
