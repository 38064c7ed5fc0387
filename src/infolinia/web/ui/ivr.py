"""The IVR flow editor: ``/admin/ivr`` lists the tenant's flows; ``/admin/ivr/{flow_id}`` edits one, node by node.

Each node is a JSON object in a field of its own (and one empty field for a new node; emptying a field removes its
node), so every problem the validator finds (``voice.telephony.validation.check_flow``, with the node and field it
concerns) is shown next to the node it is about, and the flow's diagram is drawn from the saved version as SVG.
Saving goes through the telephony action (``update_flow``: validation, new version, audit, event) and then tells the
call control to forget its cached copy, exactly as ``PUT /api/v1/ivr-flows/{id}`` does. "Check" (htmx) runs the
same validation without saving.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from infolinia.access import can
from infolinia.api.routes.telephony import change, tenant_rows
from infolinia.errors import DomainError, Invalid
from infolinia.store.models import IvrFlow, PhoneNumber
from infolinia.voice.ivr.flow import Flow
from infolinia.voice.ivr.validate import MESSAGES
from infolinia.voice.telephony import actions, known_prompts
from infolinia.voice.telephony.schemas import FlowIn
from infolinia.voice.telephony.validation import check_flow
from infolinia.web.ui.diagram import flow_svg
from infolinia.web.ui.gate import Page, form, gate, page
from infolinia.web.ui.problems import refusal
from infolinia.web.ui.render import N_

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: characters of one node's JSON, and of the flow's name, read from a form
MAX_NODE_TEXT: Final = 20_000
MAX_NAME: Final = 200
NODE_PATH: Final = re.compile(r"^nodes\[(\d+)\]")


@dataclass
class NodeField:
    """One node's field in the editor: its text, the node id it names (if readable) and its problems."""

    index: int
    text: str
    node_id: str | None = None
    problems: list[str] = field(default_factory=list)


@dataclass
class Editor:
    """The editor's state: as saved (from a flow) or as posted (with the problems found)."""

    name: str
    start: str
    nodes: list[NodeField]
    general: list[str] = field(default_factory=list)  # problems not about one node (the start, the name)
    positions: list[int] = field(default_factory=list)  # the field of each node of the posted definition

    @property
    def problem_count(self) -> int:
        return len(self.general) + sum(len(n.problems) for n in self.nodes)

    @classmethod
    def of(cls, row: IvrFlow) -> Editor:
        nodes = [
            NodeField(i, json.dumps(node, ensure_ascii=False), node.get("id"))
            for i, node in enumerate(row.definition.get("nodes", []))
        ]
        return cls(row.name, str(row.definition.get("start", "")), [*nodes, NodeField(len(nodes), "")])


def _read(p: Page, fields: dict[str, list[str]]) -> tuple[Editor, dict[str, Any] | None]:
    """The posted editor, and the definition it makes (None when a field is not a JSON object)."""
    name = (fields.get("name") or [""])[0][:MAX_NAME]
    start = (fields.get("start") or [""])[0][:MAX_NAME]
    editor = Editor(name, start, [])
    nodes: list[Any] = []
    readable = True
    for i, text in enumerate(fields.get("node", [])):
        entry = NodeField(i, text[:MAX_NODE_TEXT])
        editor.nodes.append(entry)
        if not text.strip():
            continue
        if len(text) > MAX_NODE_TEXT:
            entry.problems.append(p._("This node is too long."))
            readable = False
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            entry.problems.append(p._("Not valid JSON (line %(line)d, column %(column)d): %(error)s")
                                  % {"line": exc.lineno, "column": exc.colno, "error": exc.msg})  # fmt: skip
            readable = False
            continue
        if not isinstance(value, dict):
            entry.problems.append(p._('A node is a JSON object: {"id": ..., "type": ...}.'))
            readable = False
            continue
        entry.node_id = value.get("id") if isinstance(value.get("id"), str) else None
        nodes.append((i, value))
    editor.nodes.append(NodeField(len(editor.nodes), ""))  # room for one more
    if not readable:
        return editor, None
    editor.positions = [i for i, _ in nodes]
    return editor, {"start": start, "nodes": [value for _, value in nodes]}


#: the validator's texts (``voice.ivr.validate.MESSAGES``), marked here to be translated where they are shown; a unit
#: test keeps the two lists the same
VALIDATOR_MESSAGES: Final = (
    N_("duplicate node id %(id)s"),
    N_("start names an unknown node %(target)s"),
    N_("%(node)s goes to an unknown node %(target)s"),
    N_("%(node)s plays a missing prompt %(prompt)s"),
    N_("%(node)s names an unknown queue %(queue)s"),
    N_("menu %(node)s offers no digit to press"),
    N_("%(node)s cannot be reached from the start"),
    N_("loop %(ring)s has no way out: none of its nodes leads to an exit"),
    N_("%(node)s has no way out"),
    N_("%(node)s leads only into loops without an exit"),
)


def problem_text(p: Page, problem: dict[str, Any]) -> str:
    """A problem in the page's language: the validator's text for its code, translated, with its parameters; else
    the message as the API gives it."""
    template = MESSAGES.get(str(problem.get("code") or ""))
    params = problem.get("params")
    if template is None or not isinstance(params, dict):
        return str(problem.get("message", ""))
    try:
        return p._(template) % {key: str(value) for key, value in params.items()}
    except (KeyError, TypeError, ValueError):  # a translation that does not fit its parameters
        return str(problem.get("message", ""))


def _place(p: Page, editor: Editor, problems: list[dict[str, Any]]) -> None:
    """Put each problem next to the node it concerns (by its place in the submitted list), else at the top."""
    positions = editor.positions
    for problem in problems:
        where = NODE_PATH.match(str(problem.get("path", "")))
        text = problem_text(p, problem)
        if problem.get("field"):
            text = f"{problem['field']}: {text}"
        if where and int(where.group(1)) < len(positions):
            editor.nodes[positions[int(where.group(1))]].problems.append(text)
        elif str(problem.get("path", "")).startswith("start"):
            editor.general.append(p._("Start node") + f": {problem_text(p, problem)}")
        else:
            editor.general.append(text)


async def _numbers(p: Page, flow_id: int) -> list[str]:
    a = p.access
    query = select(PhoneNumber.e164).where(PhoneNumber.tenant_id == a.tenant.id, PhoneNumber.flow_id == flow_id)
    return sorted(await a.session.scalars(query))


def _diagram(p: Page, row: IvrFlow) -> object:
    return flow_svg(Flow.model_validate(row.definition), p._("Diagram of the flow %(name)s") % {"name": row.name})


@router.get("/admin/ivr")
@page
async def flows(request: Request) -> Response:
    async with gate(request, "telephony.read") as p:
        rows = await tenant_rows(p.access, IvrFlow)
        used = {row.id: await _numbers(p, row.id) for row in rows}
        return p.render("admin/ivr_list.html", flows=rows, numbers=used)


async def _editor_page(p: Page, row: IvrFlow, editor: Editor, status: int = 200, saved: int | None = None,
                       checked: bool = False, fragment: bool = False) -> Response:  # fmt: skip
    return p.render(
        "admin/ivr_editor_part.html" if fragment else "admin/ivr_edit.html",
        status,
        flow=row,
        editor=editor,
        diagram=_diagram(p, row),
        numbers=await _numbers(p, row.id),
        saved=saved,
        checked=checked,
        may_save=can(p.access.actor, "telephony.manage"),
    )


@router.get("/admin/ivr/{flow_id}")
@page
async def edit(flow_id: int, request: Request) -> Response:
    async with gate(request, "telephony.read") as p:
        row: IvrFlow = p.access.obj("flow_id")
        saved = request.query_params.get("saved", "")
        return await _editor_page(p, row, Editor.of(row), saved=int(saved) if saved.isdigit() else None)


@router.post("/admin/ivr/{flow_id}")
@page
async def save(flow_id: int, request: Request) -> Response:
    async with gate(request, "telephony.manage") as p:
        row: IvrFlow = p.access.obj("flow_id")
        editor, definition = _read(p, await form(request, p))
        if definition is None:
            return await _editor_page(p, row, editor, 422)
        prompts = await known_prompts(p.access.session, p.access.tenant.id)
        try:
            body = FlowIn(name=editor.name, definition=definition)
        except ValueError as exc:
            editor.general.append(p._("Name") + f": {exc}")
            return await _editor_page(p, row, editor, 422)
        try:
            async with change(p.access) as tx:
                saved = await actions.update_flow(tx, row, body, prompts)
        except Invalid as exc:
            problems = (exc.details or {}).get("problems") if isinstance(exc.details, dict) else None
            _place(p, editor, problems or [{"path": "", "message": refusal(exc, p._)}])
            await p.reload(row)
            return await _editor_page(p, row, editor, 422)
        except DomainError as exc:  # the name taken, a change made at the same time
            editor.general.append(refusal(exc, p._))
            await p.reload(row)
            return await _editor_page(p, row, editor, exc.status)
        return RedirectResponse(f"/admin/ivr/{saved.id}?saved={saved.version}", status_code=303)


@router.post("/admin/ivr/{flow_id}/check")
@page
async def check(flow_id: int, request: Request) -> Response:
    """Validate the posted flow without saving it (the editor with its problems, or a note that it is sound)."""
    async with gate(request, "telephony.read") as p:
        row: IvrFlow = p.access.obj("flow_id")
        editor, definition = _read(p, await form(request, p))
        fragment = request.headers.get("hx-request") == "true"
        if definition is not None:
            prompts = await known_prompts(p.access.session, p.access.tenant.id)
            queues = await actions.tenant_queues(p.access.session, p.access.tenant.id)
            _, problems = check_flow(definition, prompts, queues)
            _place(p, editor, [problem.as_json() for problem in problems])
        status = 200 if editor.problem_count == 0 else 422
        return await _editor_page(p, row, editor, status if not fragment else 200, checked=True, fragment=fragment)
