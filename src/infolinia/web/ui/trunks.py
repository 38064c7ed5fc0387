"""SIP trunks (``/admin/trunks``): the tenant's trunks, a new one, ``/admin/trunks/{trunk_id}`` to change or delete
one. A trunk takes calls from its allowed sources (CIDR), from callers who authenticate with its username and
password (digest), or both. The password is never shown back: only its digests are kept, and an empty password field
keeps them. Writes go through the telephony actions (``create_trunk``, ``update_trunk``, ``delete_trunk``: audit
and events) and the call control's cache is invalidated after, as ``/api/v1/trunks`` does."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from infolinia.access import can
from infolinia.api.routes.telephony import change, tenant_rows
from infolinia.errors import DomainError
from infolinia.store.models import Trunk
from infolinia.voice.telephony import actions
from infolinia.voice.telephony.schemas import TrunkIn, TrunkPatch
from infolinia.web.ui.gate import Page, form, gate, page
from infolinia.web.ui.problems import problems_of, refusal

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_FIELD: Final = 2000
TEXTS: Final = ("name", "allowed_sources", "username", "dial_to", "caller_id")


def _field(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0][:MAX_FIELD].strip()


def _read(fields: dict[str, list[str]]) -> tuple[dict[str, str], dict[str, Any], str]:
    """The form's texts (shown back as typed, never the password), the data for the schema, and the password."""
    values = {name: _field(fields, name) for name in TEXTS}
    values["active"] = "on" if _field(fields, "active") else ""
    password = (fields.get("password") or [""])[0][:MAX_FIELD]  # used as given: no trimming
    sources = [s.strip() for s in values["allowed_sources"].replace("\n", ",").split(",") if s.strip()]
    data: dict[str, Any] = {
        "name": values["name"],
        "allowed_sources": sources,
        "username": values["username"] or None,
        "active": bool(values["active"]),
        "dial_to": values["dial_to"] or None,
        "caller_id": values["caller_id"] or None,
    }
    return values, data, password


def _values(trunk: Trunk) -> dict[str, str]:
    return {
        "name": trunk.name,
        "allowed_sources": ", ".join(trunk.allowed_sources or []),
        "username": trunk.username or "",
        "active": "on" if trunk.active else "",
        "dial_to": trunk.dial_to or "",
        "caller_id": trunk.caller_id or "",
    }


def _problem(p: Page, exc: DomainError) -> dict[str, str]:
    field = (exc.details or {}).get("field") if isinstance(exc.details, dict) else None
    return {str(field or ("name" if exc.code == "name_taken" else "form")): refusal(exc, p._)}


async def _list_page(p: Page, values: dict[str, str], problems: dict[str, str], status: int = 200) -> Response:
    return p.render("admin/trunks.html", status, trunks=await tenant_rows(p.access, Trunk), values=values,
                    problems=problems, saved=p.access.request.query_params.get("saved", ""),
                    may_manage=can(p.access.actor, "telephony.manage"))  # fmt: skip


async def _edit_page(p: Page, trunk: Trunk, values: dict[str, str], problems: dict[str, str], status: int = 200,
                     saved: bool = False) -> Response:  # fmt: skip
    return p.render("admin/trunk_edit.html", status, trunk=trunk, values=values, problems=problems, saved=saved,
                    may_manage=can(p.access.actor, "telephony.manage"))  # fmt: skip


@router.get("/admin/trunks")
@page
async def trunks(request: Request) -> Response:
    async with gate(request, "telephony.read") as p:
        return await _list_page(p, {"active": "on"}, {})


@router.post("/admin/trunks")
@page
async def add_trunk(request: Request) -> Response:
    async with gate(request, "telephony.manage") as p:
        values, data, password = _read(await form(request, p))
        try:
            body = TrunkIn.model_validate(data | ({"password": password} if password else {}))
        except ValidationError as exc:
            return await _list_page(p, values, problems_of(exc, p._), 422)
        try:
            async with change(p.access) as tx:
                trunk = await actions.create_trunk(tx, p.access.tenant, body)
        except DomainError as exc:
            await p.reload()
            return await _list_page(p, values, _problem(p, exc), exc.status)
        return RedirectResponse(f"/admin/trunks?saved={trunk.id}", status_code=303)


@router.get("/admin/trunks/{trunk_id}")
@page
async def trunk(trunk_id: int, request: Request) -> Response:
    async with gate(request, "telephony.read") as p:
        row: Trunk = p.access.obj("trunk_id")
        return await _edit_page(p, row, _values(row), {}, saved=request.query_params.get("saved") == "1")


@router.post("/admin/trunks/{trunk_id}")
@page
async def save_trunk(trunk_id: int, request: Request) -> Response:
    async with gate(request, "telephony.manage") as p:
        row: Trunk = p.access.obj("trunk_id")
        values, data, password = _read(await form(request, p))
        if data["username"] == row.username:
            del data["username"]  # unchanged: its digests stay unless a new password is given
        try:
            body = TrunkPatch.model_validate(data | ({"password": password} if password else {}))
        except ValidationError as exc:
            return await _edit_page(p, row, values, problems_of(exc, p._), 422)
        try:
            async with change(p.access) as tx:
                await actions.update_trunk(tx, p.access.tenant, row, body)
        except DomainError as exc:
            await p.reload(row)
            return await _edit_page(p, row, values, _problem(p, exc), exc.status)
        return RedirectResponse(f"/admin/trunks/{row.id}?saved=1", status_code=303)


@router.post("/admin/trunks/{trunk_id}/delete")
@page
async def delete_trunk(trunk_id: int, request: Request) -> Response:
    async with gate(request, "telephony.manage") as p:
        row: Trunk = p.access.obj("trunk_id")
        await form(request, p)
        async with change(p.access) as tx:
            await actions.delete_trunk(tx, row)
        return RedirectResponse("/admin/trunks?saved=deleted", status_code=303)
