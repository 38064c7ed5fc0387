"""Writing agent scripts: every change goes through here, in the caller's transaction (``Tx``), with its audit
record and its event. A script is checked as a whole on every save (``validate``, ``attachments``): one 422
``invalid_script`` lists every problem, so nothing half-checked is ever stored. Each change is a new version."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.agent_scripts.attachments import Attachments, check_attachments
from infolinia.agent_scripts.runs import check_run
from infolinia.agent_scripts.schemas import RunIn, ScriptIn
from infolinia.agent_scripts.script import Script
from infolinia.agent_scripts.validate import ScriptProblem, check_script
from infolinia.cases.actions import policy_of
from infolinia.errors import Conflict, Invalid
from infolinia.store.models import AgentScript, AgentScriptRun, Customer, Interaction, IvrFlow, Queue, Tenant
from infolinia.store.uow import Tx

__all__ = ["attachments_of", "create_script", "definition_of", "delete_script", "record_run", "update_script"]

log = logging.getLogger(__name__)

#: problems quoted in the message of an ``invalid_script`` error (``details.problems`` has them all)
QUOTED_PROBLEMS = 5
#: scripts a tenant may have
MAX_SCRIPTS = 500
#: what a change of these fields is recorded as
FIELDS = ("name", "language", "description", "active", "definition", "attachments")


def _invalid(problems: Sequence[ScriptProblem]) -> Invalid:
    quoted = "; ".join(str(problem) for problem in problems[:QUOTED_PROBLEMS])
    more = f"; and {len(problems) - QUOTED_PROBLEMS} more" if len(problems) > QUOTED_PROBLEMS else ""
    return Invalid(
        f"{len(problems)} problem(s): {quoted}{more}",
        code="invalid_script",
        details={"problems": [problem.as_json() for problem in problems]},
    )


async def _flows(session: AsyncSession, tenant_id: int) -> dict[int, set[str]]:
    """The tenant's IVR flows, each with its node ids."""
    rows = (await session.execute(select(IvrFlow.id, IvrFlow.definition).where(IvrFlow.tenant_id == tenant_id))).all()
    return {row.id: {str(node.get("id")) for node in row.definition.get("nodes", [])} for row in rows}


async def _checked(session: AsyncSession, tenant: Tenant, data: ScriptIn) -> tuple[dict[str, Any], dict[str, Any]]:
    """The definition and attachments as stored, or a 422 with every problem of both."""
    script, problems = check_script(data.definition)
    problems = [ScriptProblem(f"definition.{p.path}", p.step, p.field, p.message) for p in problems]
    queues = set(await session.scalars(select(Queue.id).where(Queue.tenant_id == tenant.id)))
    categories = policy_of(tenant).categories
    problems += check_attachments(data.attachments, queues, await _flows(session, tenant.id), categories)
    if script is None or problems:
        raise _invalid(problems)
    return script.model_dump(mode="json"), data.attachments.model_dump(mode="json")


async def _name_free(session: AsyncSession, tenant_id: int, name: str, own: int | None) -> None:
    found = await session.scalar(
        select(AgentScript.id).where(AgentScript.tenant_id == tenant_id, AgentScript.name == name)
    )
    if found is not None and found != own:
        raise Conflict(f"name: a script named {name!r} exists", code="name_taken", details={"field": "name"})


async def _flush(session: AsyncSession) -> None:
    """Flush; a request that took the name in between our check and our write gets a 409, not a server error."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "a change made at the same time conflicts with this one: try again", code="concurrent_change"
        ) from exc


async def create_script(tx: Tx, tenant: Tenant, data: ScriptIn) -> AgentScript:
    """A new script, version 1."""
    await _name_free(tx.session, tenant.id, data.name, None)
    count = len(list(await tx.session.scalars(select(AgentScript.id).where(AgentScript.tenant_id == tenant.id))))
    if count >= MAX_SCRIPTS:
        raise Conflict(f"a tenant has at most {MAX_SCRIPTS} scripts: delete one first", code="too_many_scripts")
    definition, attachments = await _checked(tx.session, tenant, data)
    row = AgentScript(tenant_id=tenant.id, name=data.name, language=data.language, description=data.description,
                      active=data.active, definition=definition, attachments=attachments, version=1)  # fmt: skip
    tx.session.add(row)
    await _flush(tx.session)
    tx.audit(tenant.id, "script.created", "agent_script", row.id, version=row.version)
    tx.emit("script.created", tenant.id, id=row.id, version=row.version)
    return row


async def update_script(tx: Tx, tenant: Tenant, row: AgentScript, data: ScriptIn) -> AgentScript:
    """Replace the script as a whole; when anything changed, the version goes up by one."""
    await _name_free(tx.session, tenant.id, data.name, row.id)
    definition, attachments = await _checked(tx.session, tenant, data)
    new = {"name": data.name, "language": data.language, "description": data.description, "active": data.active,
           "definition": definition, "attachments": attachments}  # fmt: skip
    fields = [name for name in FIELDS if getattr(row, name) != new[name]]
    if not fields:
        return row
    for name in fields:
        setattr(row, name, new[name])
    row.version = AgentScript.version + 1  # in the database: two changes at once make two versions
    await _flush(tx.session)
    await tx.session.refresh(row, ["version"])
    tx.audit(tenant.id, "script.updated", "agent_script", row.id, version=row.version, fields=fields)
    tx.emit("script.updated", tenant.id, id=row.id, version=row.version, fields=fields)
    return row


async def delete_script(tx: Tx, row: AgentScript) -> None:
    """Delete a script; the runs recorded with it keep its name and version."""
    await tx.session.delete(row)
    await tx.session.flush()
    tx.audit(row.tenant_id, "script.deleted", "agent_script", row.id, version=row.version)
    tx.emit("script.deleted", row.tenant_id, id=row.id)


def definition_of(row: AgentScript) -> Script:
    """The stored definition as a ``Script`` (validated when it was saved)."""
    return Script.model_validate(row.definition)


def attachments_of(row: AgentScript) -> Attachments:
    """The stored attachments (validated on save; a row edited by hand into another shape: none, so the script is
    suggested for nothing rather than failing every suggestion)."""
    try:
        return Attachments.model_validate(row.attachments or {})
    except ValidationError:
        log.warning("agent script %s: invalid attachments, suggesting it for nothing", row.id)
        return Attachments()


async def record_run(tx: Tx, interaction: Interaction, data: RunIn) -> AgentScriptRun:
    """The way the agent went through a script on ``interaction``: checked against the script's current version
    (409 ``script_changed`` when the agent followed another), then stored with the steps and answers. Nothing new
    is written about a customer whose data was erased (409 ``customer_erased``)."""
    if interaction.customer_id is not None:
        erased = await tx.session.scalar(select(Customer.erased_at).where(Customer.id == interaction.customer_id))
        if erased is not None:
            raise Conflict("this customer's data was erased", code="customer_erased")
    script = await tx.session.scalar(
        select(AgentScript).where(AgentScript.id == data.script_id, AgentScript.tenant_id == interaction.tenant_id)
    )
    if script is None:
        raise Invalid(f"script_id {data.script_id} does not exist", code="unknown_reference",
                      details={"field": "script_id"})  # fmt: skip
    if script.version != data.version:
        raise Conflict(f"the script changed since version {data.version}: it is at version {script.version} now",
                       code="script_changed", details={"version": script.version})  # fmt: skip
    checked, problems = check_run(definition_of(script), data.path, data.answers)
    if checked is None:
        raise _invalid(problems)
    row = AgentScriptRun(
        tenant_id=interaction.tenant_id, interaction_id=interaction.id, script_id=script.id, script_name=script.name,
        script_version=script.version, agent_id=tx.who.user_id, steps=checked.steps, answers=checked.answers,
        completed=checked.completed, outcome=checked.outcome,
    )  # fmt: skip
    tx.session.add(row)
    await tx.session.flush()
    tx.audit(interaction.tenant_id, "script.run_recorded", "interaction", interaction.id, run_id=row.id,
             script_id=script.id, version=script.version, completed=checked.completed)  # fmt: skip
    tx.emit("script.run_recorded", interaction.tenant_id, id=row.id, script_id=script.id,
            interaction_id=interaction.id, user_id=tx.who.user_id, completed=checked.completed)  # fmt: skip
    return row
