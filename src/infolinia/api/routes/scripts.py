"""Agent scripts (``agent_scripts/``): tenant admins and supervisors write them, everyone reads them, filled in for
a contact (``/render``) and suggested for one (``/suggested``); the runs agents record on a contact."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import select

from infolinia.agent_scripts import actions, context, suggest
from infolinia.agent_scripts.render import render
from infolinia.agent_scripts.schemas import (
    RenderedScript,
    RunIn,
    RunOut,
    ScriptIn,
    ScriptOut,
    SuggestedScript,
    SuggestionReason,
)
from infolinia.api.deps import RESOLVERS, Access, access, case_scope
from infolinia.errors import Invalid, NotFound
from infolinia.schemas import Id, Language
from infolinia.store.models import AgentScript, AgentScriptRun, Interaction, RoutingTask

router = APIRouter(tags=["scripts"])


async def _visible(a: Access, param: str, key: int | None) -> Any:
    """The row ``key`` names, as the gate resolves a path parameter of that name: in the caller's tenant and scope
    (404 otherwise, whatever the role)."""
    if key is None:
        return None
    model, scope, noun, _ = RESOLVERS[param]
    found = await a.session.scalar(select(model).where(model.id == key, scope(a.actor, a.tenant)))
    if found is None:
        raise NotFound(f"no {noun} {key}")
    return found


@router.get("/scripts", response_model=list[ScriptOut])
async def list_scripts(
    a: Access = Depends(access("scripts.read")), active: bool | None = None, language: Language | None = None
) -> list[AgentScript]:
    """The tenant's scripts by name, filtered."""
    query = select(AgentScript).where(AgentScript.tenant_id == a.tenant.id)
    if active is not None:
        query = query.where(AgentScript.active == active)
    if language is not None:
        query = query.where(AgentScript.language == language)
    return list(await a.session.scalars(query.order_by(AgentScript.name, AgentScript.id)))


@router.post("/scripts", response_model=ScriptOut, status_code=201)
async def create_script(body: ScriptIn, a: Access = Depends(access("scripts.manage"))) -> AgentScript:
    """A new script, checked as a whole: a 422 ``invalid_script`` lists every problem in ``details.problems``."""
    async with a.write() as tx:
        return await actions.create_script(tx, a.tenant, body)


@router.get("/scripts/suggested", response_model=list[SuggestedScript])
async def suggested(
    a: Access = Depends(access("scripts.read")), interaction_id: Id | None = None, task_id: Id | None = None
) -> list[SuggestedScript]:
    """The active scripts that apply to a contact (``interaction_id``) or routing task (``task_id``), best first,
    each with the reasons: an IVR choice the caller made, then the queue, then a linked case's category; among
    equals the customer's language first."""
    if interaction_id is None and task_id is None:
        raise Invalid("give interaction_id, task_id or both", details={"field": "interaction_id"})
    interactions: list[Interaction] = []
    if interaction_id is not None:
        interactions.append(await _visible(a, "interaction_id", interaction_id))
    tasks: list[RoutingTask] = [] if task_id is None else [await _visible(a, "task_id", task_id)]
    return await suggest_for(a, interactions, tasks)


async def suggest_for(
    a: Access, interactions: list[Interaction], tasks: list[RoutingTask], language: str | None = None
) -> list[SuggestedScript]:
    """The active scripts that apply to these contacts and tasks (a task's own contact included when the caller
    may see it), best first; ``language``: the customer's, when the contacts do not tell it."""
    interactions = list(interactions)
    for task in tasks:
        if task.interaction_id is not None and task.interaction_id not in {i.id for i in interactions}:
            found = await a.session.scalar(select(Interaction).where(
                Interaction.id == task.interaction_id, RESOLVERS["interaction_id"][1](a.actor, a.tenant)))  # fmt: skip
            interactions += [found] if found is not None else []
    contact = await context.contact_of(a.session, a.tenant.id, interactions, tasks, case_scope(a.actor, a.tenant.id))
    if contact.language is None and language is not None:
        contact = dataclasses.replace(contact, language=language)
    rows = {row.id: row for row in await a.session.scalars(
        select(AgentScript).where(AgentScript.tenant_id == a.tenant.id, AgentScript.active.is_(True)))}  # fmt: skip
    candidates = [
        suggest.Candidate(row.id, row.name, row.language, actions.attachments_of(row)) for row in rows.values()
    ]
    return [
        SuggestedScript(
            id=s.id,
            name=s.name,
            language=s.language,
            description=rows[s.id].description,
            version=rows[s.id].version,
            language_match=s.language_match,
            reasons=[SuggestionReason(kind=r.kind, text=r.text) for r in s.reasons],
        )
        for s in suggest.suggest(candidates, contact)
    ]


@router.get("/scripts/{script_id}", response_model=ScriptOut)
async def get_script(a: Access = Depends(access("scripts.read"))) -> AgentScript:
    script: AgentScript = a.obj("script_id")
    return script


@router.put("/scripts/{script_id}", response_model=ScriptOut)
async def replace_script(body: ScriptIn, a: Access = Depends(access("scripts.manage"))) -> AgentScript:
    """Replace the script as a whole (checked as on creation); when anything changed, the version goes up by one."""
    async with a.write() as tx:
        return await actions.update_script(tx, a.tenant, a.obj("script_id"), body)


@router.delete("/scripts/{script_id}", status_code=204)
async def delete_script(a: Access = Depends(access("scripts.manage"))) -> None:
    """Delete the script (runs recorded with it keep its name and version). To stop suggesting it, deactivate it."""
    async with a.write() as tx:
        await actions.delete_script(tx, a.obj("script_id"))


@router.get("/scripts/{script_id}/render", response_model=RenderedScript)
async def render_script(
    a: Access = Depends(access("scripts.read")),
    interaction_id: Id | None = None,
    customer_id: Id | None = None,
    case_id: Id | None = None,
) -> RenderedScript:
    """The script with its placeholders filled from the contact, the customer (given, else the contact's or the
    case's) and the case (given, else the newest linked to the contact) that the caller may see; ``missing`` lists
    the placeholders without a value, shown as ``[name]``."""
    row: AgentScript = a.obj("script_id")
    records = await context.records_of(
        a.session, a.tenant, a.actor.user_id, case_scope(a.actor, a.tenant.id),
        interaction=await _visible(a, "interaction_id", interaction_id),
        customer=await _visible(a, "customer_id", customer_id),
        case=await _visible(a, "case_id", case_id),
    )  # fmt: skip
    script = actions.definition_of(row)
    steps, missing = render(script, context.values(records))
    return RenderedScript.model_validate({"id": row.id, "name": row.name, "language": row.language,
        "version": row.version, "start": script.start, "steps": steps, "missing": missing})  # fmt: skip


@router.post("/interactions/{interaction_id}/script-runs", response_model=RunOut, status_code=201)
async def record_run(body: RunIn, a: Access = Depends(access("interactions.write"))) -> AgentScriptRun:
    """Record how the agent went through a script on this contact: the step ids taken from the start and the
    answers of its input steps, checked against the script version followed (422 ``invalid_script`` with every
    problem; 409 ``script_changed`` when the script changed since)."""
    async with a.write() as tx:
        return await actions.record_run(tx, a.obj("interaction_id"), body)


@router.get("/interactions/{interaction_id}/script-runs", response_model=list[RunOut])
async def list_runs(a: Access = Depends(access("interactions.read"))) -> list[AgentScriptRun]:
    """The script runs recorded on this contact, oldest first."""
    interaction: Interaction = a.obj("interaction_id")
    query = select(AgentScriptRun).where(AgentScriptRun.interaction_id == interaction.id,
                                         AgentScriptRun.tenant_id == interaction.tenant_id)  # fmt: skip
    return list(await a.session.scalars(query.order_by(AgentScriptRun.id)))
