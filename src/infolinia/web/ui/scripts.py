"""Agent scripts for supervisors and admins (``scripts.manage``): ``/admin/scripts`` lists them, and
``/admin/scripts/{script_id}`` edits one: name, language, description, whether it is offered, its definition and
attachments as JSON. Saving goes through ``agent_scripts.actions.update_script`` (the script validator, a new
version, audit, event); each problem it reports is listed with the step and field it concerns, next to the
definition or the attachments."""

from __future__ import annotations

import json
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from infolinia.agent_scripts import actions
from infolinia.agent_scripts.schemas import ScriptIn
from infolinia.errors import DomainError, Invalid
from infolinia.store.models import AgentScript
from infolinia.web.ui.gate import Page, form, gate, page
from infolinia.web.ui.problems import problems_of, refusal

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_TEXT: Final = 200_000


@router.get("/admin/scripts")
@page
async def scripts(request: Request) -> Response:
    async with gate(request, "scripts.manage") as p:
        a = p.access
        rows = list(await a.session.scalars(
            select(AgentScript).where(AgentScript.tenant_id == a.tenant.id).order_by(AgentScript.name)
        ))  # fmt: skip
        return p.render("admin/scripts.html", scripts=rows)


def _values(row: AgentScript) -> dict[str, str]:
    def text(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2)

    return {"name": row.name, "language": row.language, "description": row.description,
            "active": "on" if row.active else "", "definition": text(row.definition),
            "attachments": text(row.attachments)}  # fmt: skip


async def _script_page(p: Page, row: AgentScript, values: dict[str, str], problems: dict[str, list[str]],
                       status: int = 200, saved: bool = False) -> Response:  # fmt: skip
    return p.render("admin/script_edit.html", status, script=row, values=values, problems=problems, saved=saved)


@router.get("/admin/scripts/{script_id}")
@page
async def script(script_id: int, request: Request) -> Response:
    async with gate(request, "scripts.manage") as p:
        row: AgentScript = p.access.obj("script_id")
        return await _script_page(p, row, _values(row), {}, saved=request.query_params.get("saved") == "1")


def _json(p: Page, text: str, problems: dict[str, list[str]], name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        problems.setdefault(name, []).append(
            p._("Not valid JSON (line %(line)d, column %(column)d): %(error)s")
            % {"line": exc.lineno, "column": exc.colno, "error": exc.msg}
        )
        return None


@router.post("/admin/scripts/{script_id}")
@page
async def save_script(script_id: int, request: Request) -> Response:
    async with gate(request, "scripts.manage") as p:
        row: AgentScript = p.access.obj("script_id")
        fields = await form(request, p)
        names = ("name", "language", "description", "active", "definition", "attachments")
        values = {name: (fields.get(name) or [""])[0][:MAX_TEXT] for name in names}
        problems: dict[str, list[str]] = {}
        definition = _json(p, values["definition"], problems, "definition")
        attachments = _json(p, values["attachments"] or "{}", problems, "attachments")
        if problems:
            return await _script_page(p, row, values, problems, 422)
        data = {"name": values["name"].strip(), "language": values["language"].strip(),
                "description": values["description"], "active": bool(values["active"]), "definition": definition,
                "attachments": attachments}  # fmt: skip
        try:
            body = ScriptIn.model_validate(data)
        except ValidationError as exc:
            return await _script_page(p, row, values, {k: [v] for k, v in problems_of(exc, p._).items()}, 422)
        try:
            async with p.access.write() as tx:
                await actions.update_script(tx, p.access.tenant, row, body)
        except Invalid as exc:
            await p.reload(row)
            found = (exc.details or {}).get("problems") if isinstance(exc.details, dict) else None
            for problem in found or [{"path": "form", "message": refusal(exc, p._)}]:
                where = str(problem.get("path") or "form")
                target = "attachments" if where.startswith("attachments") else "definition"
                text = f"{where}: {problem.get('message', '')}" if where != "form" else str(problem.get("message"))
                problems.setdefault(target, []).append(text)
            return await _script_page(p, row, values, problems, 422)
        except DomainError as exc:
            await p.reload(row)
            return await _script_page(p, row, values, {"name": [refusal(exc, p._)]}, exc.status)
        return RedirectResponse(f"/admin/scripts/{row.id}?saved=1", status_code=303)
