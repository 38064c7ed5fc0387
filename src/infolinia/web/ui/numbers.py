"""Phone numbers (``/admin/numbers``): the tenant's numbers, the IVR flow each enters, a new number. Writes go
through the telephony actions (``create_number``, ``update_number``: E.164 normalisation in the tenant's country,
one tenant per number, audit, events) and the call control's cache is invalidated after, as the REST routes do."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from infolinia.access import can
from infolinia.api.routes.telephony import change, tenant_rows
from infolinia.errors import DomainError
from infolinia.store.models import IvrFlow, PhoneNumber
from infolinia.voice.telephony import actions
from infolinia.voice.telephony.schemas import NumberIn, NumberPatch
from infolinia.web.ui.gate import Page, form, gate, page
from infolinia.web.ui.problems import problems_of, refusal

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_FIELD: Final = 200


def _field(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0][:MAX_FIELD].strip()


async def _page(p: Page, values: dict[str, str], problems: dict[str, str], status: int = 200,
                row_problem: tuple[int, str] | None = None) -> Response:  # fmt: skip
    numbers = await tenant_rows(p.access, PhoneNumber)
    flows = await tenant_rows(p.access, IvrFlow)
    return p.render("admin/numbers.html", status, numbers=numbers, flows=flows, values=values, problems=problems,
                    row_problem=row_problem, saved=p.access.request.query_params.get("saved", ""),
                    may_manage=can(p.access.actor, "telephony.manage"))  # fmt: skip


def _flow(value: str) -> int | str | None:
    return None if not value else int(value) if value.isdigit() else value


@router.get("/admin/numbers")
@page
async def numbers(request: Request) -> Response:
    async with gate(request, "telephony.read") as p:
        return await _page(p, {}, {})


@router.post("/admin/numbers")
@page
async def add_number(request: Request) -> Response:
    async with gate(request, "telephony.manage") as p:
        fields = await form(request, p)
        values = {name: _field(fields, name) for name in ("number", "label", "flow_id")}
        data: dict[str, Any] = {
            "number": values["number"],
            "label": values["label"],
            "flow_id": _flow(values["flow_id"]),
        }
        try:
            body = NumberIn.model_validate(data)
        except ValidationError as exc:
            return await _page(p, values, problems_of(exc, p._), 422)
        try:
            async with change(p.access) as tx:
                await actions.create_number(tx, p.access.tenant, body)
        except DomainError as exc:
            await p.reload()
            field = (exc.details or {}).get("field") if isinstance(exc.details, dict) else None
            return await _page(p, values, {str(field or "number"): refusal(exc, p._)}, exc.status)
        return RedirectResponse("/admin/numbers?saved=1", status_code=303)


@router.post("/admin/numbers/{number_id}")
@page
async def set_flow(number_id: int, request: Request) -> Response:
    """Change the flow a number enters (none: out of service)."""
    async with gate(request, "telephony.manage") as p:
        row: PhoneNumber = p.access.obj("number_id")
        fields = await form(request, p)
        try:
            body = NumberPatch.model_validate({"flow_id": _flow(_field(fields, "flow_id"))})
        except ValidationError as exc:
            return await _page(p, {}, {}, 422, (row.id, "; ".join(problems_of(exc, p._).values())))
        try:
            async with change(p.access) as tx:
                await actions.update_number(tx, p.access.tenant, row, body)
        except DomainError as exc:
            await p.reload(row)
            return await _page(p, {}, {}, exc.status, (row.id, refusal(exc, p._)))
        return RedirectResponse("/admin/numbers?saved=1", status_code=303)
