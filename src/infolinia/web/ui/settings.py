"""The tenant's settings (``/admin/settings``): name, time zone, languages, business hours and holidays, call
recording, and when customers may be called (the calling hours and answering-machine detection of the callback
policy, kept with the policy's other keys), with the customers' consent on record per purpose; and, for platform
admins, the tenants (``/admin/tenants``): the list, a new tenant, and the tenant the console works on (the
``infolinia_tenant`` cookie the gate reads, as the API reads ``X-Tenant``).

Saving goes through ``tenants.actions.update_tenant`` / ``create_tenant`` and then does what
``PATCH /api/v1/tenants/{id}`` does after it: the routing engine reloads the tenant's opening hours, the call
control and the prompt library forget what they cached of it.
"""

from __future__ import annotations

import re
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from infolinia.access import can
from infolinia.errors import DomainError, NotFound
from infolinia.schemas import TenantIn, TenantPatch
from infolinia.store.models import ConsentEvent, ConsentPurpose, Tenant
from infolinia.tenants import actions
from infolinia.web.ui.gate import TENANT_COOKIE, Page, form, gate, page
from infolinia.web.ui.problems import problems_of, refusal

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_FIELD: Final = 4000
RANGE: Final = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})\s*$")  # a hyphen or an en dash


def _field(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0][:MAX_FIELD].strip()


def hours_values(hours: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """The form's texts of a business-hours calendar: ``08:00-20:00, 21:00-22:00`` per day, holidays one a line
    (``prefix`` before each field's name, for a second calendar on the page)."""
    weekly = hours.get("weekly") or {}
    values = {f"{prefix}day_{day}": ", ".join(f"{a}-{b}" for a, b in weekly.get(day, [])) for day in DAYS}
    values[f"{prefix}holidays"] = "\n".join(hours.get("holidays") or [])
    return values


def hours_of(values: dict[str, str], prefix: str = "") -> tuple[dict[str, Any], dict[str, str]]:
    """The calendar the form describes, and the problems of the fields that cannot be read (by field)."""
    weekly: dict[str, list[list[str]]] = {}
    problems: dict[str, str] = {}
    for day in DAYS:
        ranges = []
        for part in filter(None, (p.strip() for p in values[f"{prefix}day_{day}"].split(","))):
            found = RANGE.match(part)
            if found is None:
                problems[f"{prefix}day_{day}"] = f"{part!r}: HH:MM-HH:MM"
                break
            ranges.append([found.group(1).zfill(5), found.group(2).zfill(5)])
        if ranges:
            weekly[day] = ranges
    holidays = [line.strip() for line in values[f"{prefix}holidays"].splitlines() if line.strip()]
    return {"weekly": weekly, "holidays": holidays}, problems


# --- the tenant's settings --------------------------------------------------------------------------------------


#: the second calendar's fields: when customers may be called (``callback_policy.calling_hours``)
CALLING: Final = "calling_"


def _values(tenant: Tenant) -> dict[str, str]:
    policy = tenant.callback_policy or {}
    return {
        "name": tenant.name,
        "timezone": tenant.timezone,
        "languages": ", ".join(tenant.languages or []),
        "record_calls": "on" if tenant.record_calls else "",
        "detect_machines": "on" if policy.get("detect_machines") else "",
        **hours_values(tenant.business_hours or {}),
        **hours_values(policy.get("calling_hours") or {}, CALLING),
    }


async def consent_counts(session: AsyncSession, tenant_id: int) -> dict[str, tuple[int, int]]:
    """Per consent purpose: how many of the tenant's customers last granted it, and how many last refused it."""
    newest = (
        select(func.max(ConsentEvent.id))
        .where(ConsentEvent.tenant_id == tenant_id)
        .group_by(ConsentEvent.customer_id, ConsentEvent.purpose)
    )
    rows = await session.execute(
        select(ConsentEvent.purpose, ConsentEvent.granted, func.count())
        .where(ConsentEvent.id.in_(newest))
        .group_by(ConsentEvent.purpose, ConsentEvent.granted)
    )
    counts = {purpose.value: [0, 0] for purpose in ConsentPurpose}
    for purpose, granted, count in rows:
        counts[ConsentPurpose(purpose).value][0 if granted else 1] += count
    return {purpose: (granted, refused) for purpose, (granted, refused) in counts.items()}


async def _settings_page(p: Page, values: dict[str, str], problems: dict[str, str], status: int = 200,
                         saved: bool = False) -> Response:  # fmt: skip
    a = p.access
    return p.render("admin/settings.html", status, values=values, problems=problems, saved=saved, days=DAYS,
                    consent=await consent_counts(a.session, a.tenant.id), calling=CALLING,
                    may_manage=can(a.actor, "tenants.update"), may_prompts=can(a.actor, "prompts.read"))  # fmt: skip


@router.get("/admin/settings")
@page
async def settings(request: Request) -> Response:
    async with gate(request, "tenants.read") as p:
        saved = request.query_params.get("saved") == "1"
        return await _settings_page(p, _values(p.access.tenant), {}, saved=saved)


@router.post("/admin/settings")
@page
async def save_settings(request: Request) -> Response:
    async with gate(request, "tenants.update") as p:
        a = p.access
        fields = await form(request, p)
        days = [f"{prefix}{name}" for prefix in ("", CALLING) for name in ("holidays", *(f"day_{d}" for d in DAYS))]
        values = {name: _field(fields, name) for name in ("name", "timezone", "languages", *days)}
        for flag in ("record_calls", "detect_machines"):
            values[flag] = "on" if _field(fields, flag) else ""
        hours, problems = hours_of(values)
        calling, calling_problems = hours_of(values, CALLING)
        if problems or calling_problems:
            return await _settings_page(p, values, problems | calling_problems, 422)
        policy = {  # the callback policy's other keys are kept as they are
            **(a.tenant.callback_policy or {}),
            "calling_hours": calling if calling["weekly"] or calling["holidays"] else None,
            "detect_machines": bool(values["detect_machines"]),
        }
        data = {
            "name": values["name"],
            "timezone": values["timezone"],
            "languages": [lang.strip() for lang in values["languages"].split(",") if lang.strip()],
            "business_hours": hours,
            "record_calls": bool(values["record_calls"]),
            "callback_policy": policy,
        }
        try:
            body = TenantPatch.model_validate(data)
        except ValidationError as exc:
            found = problems_of(exc, p._)
            if "callback_policy" in found:  # the calling hours are the part of the policy this form changes
                found["calling_hours"] = found.pop("callback_policy").removeprefix("calling_hours: ")
            return await _settings_page(p, values, found, 422)
        tenant = a.tenant
        try:
            async with a.write() as tx:
                await actions.update_tenant(tx, tenant, body)
        except DomainError as exc:
            await p.reload()
            return await _settings_page(p, values, {"form": refusal(exc, p._)}, exc.status)
        await a.routing.reload_tenant(tenant.id)
        a.telephony.invalidate(tenant.id)
        a.prompts.invalidate(tenant.id)
        return RedirectResponse("/admin/settings?saved=1", status_code=303)


# --- tenants (platform admins) ----------------------------------------------------------------------------------


async def _tenants_page(p: Page, values: dict[str, str], problems: dict[str, str], status: int = 200) -> Response:
    rows = list(await p.access.session.scalars(select(Tenant).order_by(Tenant.id)))
    return p.render("admin/tenants.html", status, tenants=rows, values=values, problems=problems,
                    current=p.access.request.cookies.get(TENANT_COOKIE, ""))  # fmt: skip


@router.get("/admin/tenants")
@page
async def tenants(request: Request) -> Response:
    async with gate(request, "tenants.create") as p:
        return await _tenants_page(p, {"timezone": "UTC", "country": "PL", "languages": "en"}, {})


@router.post("/admin/tenants")
@page
async def add_tenant(request: Request) -> Response:
    async with gate(request, "tenants.create") as p:
        fields = await form(request, p)
        values = {name: _field(fields, name) for name in ("slug", "name", "timezone", "country", "languages")}
        data = {**values, "languages": [lang.strip() for lang in values["languages"].split(",") if lang.strip()]}
        try:
            body = TenantIn.model_validate(data)
        except ValidationError as exc:
            return await _tenants_page(p, values, problems_of(exc, p._), 422)
        try:
            async with p.access.write() as tx:
                await actions.create_tenant(tx, body)
        except DomainError as exc:
            await p.reload()
            return await _tenants_page(p, values, {"slug": refusal(exc, p._)}, exc.status)
        return RedirectResponse("/admin/tenants", status_code=303)


@router.post("/admin/tenants/choose")
@page
async def choose_tenant(request: Request) -> Response:
    """Work on the tenant named by ``slug`` (its pages then open as for its own admin, with every permission)."""
    async with gate(request, "tenants.create") as p:
        slug = _field(await form(request, p), "slug")
        found = await p.access.session.scalar(select(Tenant.slug).where(Tenant.slug == slug[:40]))
        if found is None:
            raise NotFound(f"no tenant {slug!r}")
        response = RedirectResponse("/admin", status_code=303)
        response.set_cookie(TENANT_COOKIE, found, httponly=True, samesite="lax", path="/",
                            secure=request.app.state.ctx.settings.cookie_secure)  # fmt: skip
        return response
