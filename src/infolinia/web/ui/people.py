"""Users and agents, queues: ``/admin/users`` lists the tenant's people with their agent profiles and
``/admin/users/{user_id}`` edits an agent's extension, skills and languages; ``/admin/queues`` lists the queues,
adds one and ``/admin/queues/{queue_id}`` changes its routing rules. Every write goes through the same actions as
the REST routes (``agents.actions.set_profile``, ``tenants.actions.create_queue``/``update_queue``: audit and
events included), and the routing engine reloads what changed, as those routes do."""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from infolinia.access import assignable_roles, can
from infolinia.agents import actions as agent_actions
from infolinia.agents.actions import AGENT_ROLES
from infolinia.auth import actions as user_actions
from infolinia.errors import DomainError
from infolinia.routing.model import Strategy
from infolinia.schemas import AgentProfileIn, QueueIn, QueuePatch, UserIn, UserPatch
from infolinia.store.models import AgentProfile, Queue, Role, User
from infolinia.tenants import actions as tenant_actions
from infolinia.web.ui.gate import Page, form, gate, page
from infolinia.web.ui.problems import problems_of, refusal
from infolinia.web.ui.render import N_

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

MAX_FIELD: Final = 2000


def _field(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0][:MAX_FIELD].strip()


def skills_text(skills: dict[str, Any]) -> str:
    return ", ".join(f"{name}={level}" for name, level in sorted(skills.items()))


def parse_skills(text: str) -> dict[str, Any]:
    """``billing=9, technical=4`` -> ``{"billing": 9, "technical": 4}``; malformed parts are kept as text, so the
    schema names them."""
    skills: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        name, _, level = part.partition("=")
        value = level.strip()
        skills[name.strip()] = int(value) if value.isdigit() else value
    return skills


# --- overview ---------------------------------------------------------------------------------------------------


@router.get("/admin")
@page
async def overview(request: Request) -> Response:
    async with gate(request, "self") as p:
        actor = p.access.actor
        sections = [
            (path, p._(label), p._(text))
            for path, label, text, permission in (
                ("/admin/users", N_("Users and agents"), N_("People, roles, extensions and skills."), "users.read"),
                ("/admin/queues", N_("Queues"), N_("Where contacts wait, and how they are routed."), "queues.read"),
                ("/admin/ivr", N_("IVR flows"), N_("Menus and announcements callers hear."), "telephony.read"),
                ("/admin/trunks", N_("SIP trunks"), N_("Carriers' connections for calls."), "telephony.read"),
                (
                    "/admin/sla",
                    N_("Case policy and SLA"),
                    N_("Case categories, the escalation ladder, service-level rules."),
                    "tenants.update",
                ),
                (
                    "/admin/settings",
                    N_("Settings"),
                    N_("Business hours, holidays, languages, call recording."),
                    "tenants.update",
                ),
                ("/admin/tenants", N_("Tenants"), N_("The client companies on this installation."), "tenants.create"),
            )
            if can(actor, permission)
        ]
        return p.render("admin/index.html", sections=sections)


# --- users and agents -------------------------------------------------------------------------------------------


@router.get("/admin/users")
@page
async def users(request: Request) -> Response:
    async with gate(request, "users.read") as p:
        return await _users_page(p, None, {"role": Role.AGENT.value, "language": "en"}, {})


TENANT_ROLES: Final = tuple(role.value for role in Role if role is not Role.PLATFORM_ADMIN)


async def _users_page(p: Page, people: list[tuple[User, AgentProfile | None]] | None, values: dict[str, str],
                      problems: dict[str, str], status: int = 200) -> Response:  # fmt: skip
    a = p.access
    if people is None:
        rows = await a.session.execute(
            select(User, AgentProfile)
            .outerjoin(AgentProfile, AgentProfile.user_id == User.id)
            .where(User.tenant_id == a.tenant.id)
            .order_by(User.id)
        )
        people = [(user, profile) for user, profile in rows]
    return p.render("admin/users.html", status, people=people, skills_text=skills_text, agent_roles=AGENT_ROLES,
                    values=values, problems=problems, roles=TENANT_ROLES, may_add=can(a.actor, "users.manage"),
                    saved=a.request.query_params.get("saved") == "1")  # fmt: skip


@router.post("/admin/users")
@page
async def add_user(request: Request) -> Response:
    async with gate(request, "users.manage") as p:
        a = p.access
        fields = await form(request, p)
        values = {name: _field(fields, name) for name in ("email", "display_name", "role", "language")}
        password = (fields.get("password") or [""])[0][:MAX_FIELD]
        try:
            body = UserIn.model_validate({**values, "password": password, "language": values["language"] or "en"})
        except ValidationError as exc:
            return await _users_page(p, None, values, problems_of(exc, p._), 422)
        try:
            async with a.write() as tx:
                await user_actions.create_user(
                    tx, a.tenant.id, body, a.actor, min_password_length=a.settings.min_password_length
                )
        except DomainError as exc:
            await p.reload()
            field = next((name for name in ("password", "email", "role") if name in exc.code), "form")
            return await _users_page(p, None, values, {field: refusal(exc, p._)}, exc.status)
        return RedirectResponse("/admin/users?saved=1", status_code=303)


def _account_values(user: User) -> dict[str, str]:
    return {"role": user.role.value, "active": "on" if user.active else ""}


async def _agent_page(p: Page, user: User, values: dict[str, str], problems: dict[str, str], status: int = 200,
                      saved: bool = False, account: dict[str, str] | None = None,
                      account_problems: dict[str, str] | None = None) -> Response:  # fmt: skip
    actor = p.access.actor
    roles = sorted(role.value for role in assignable_roles(actor) if role is not Role.PLATFORM_ADMIN)
    return p.render("admin/agent_edit.html", status, person=user, values=values, problems=problems, saved=saved,
                    may_manage=can(actor, "agents.manage"), may_manage_user=can(actor, "users.manage"),
                    account=account if account is not None else _account_values(user),
                    account_problems=account_problems or {}, account_roles=roles or [user.role.value],
                    account_saved=p.access.request.query_params.get("saved") == "account",
                    is_self=user.id == actor.user_id)  # fmt: skip


@router.get("/admin/users/{user_id}")
@page
async def agent(user_id: int, request: Request) -> Response:
    async with gate(request, "agents.read") as p:
        user: User = p.access.obj("user_id")
        profile = await p.access.session.get(AgentProfile, user.id)
        values = {
            "extension": (profile.extension or "") if profile else "",
            "skills": skills_text(profile.skills) if profile else "",
            "languages": ", ".join(profile.languages) if profile else "",
        }
        return await _agent_page(p, user, values, {}, saved=request.query_params.get("saved") == "1")


@router.post("/admin/users/{user_id}/account")
@page
async def save_account(user_id: int, request: Request) -> Response:
    """A user's role and active flag, and a new password: ``auth.actions.update_user`` (its password rules, role
    grants, audit; a new password or a deactivation ends the user's sessions). Nobody locks themselves out: the
    tenant's last active admin may not take their own admin role away (nor deactivate themselves, which the
    action refuses to anyone)."""
    async with gate(request, "users.manage") as p:
        a = p.access
        user: User = a.obj("user_id")
        fields = await form(request, p)
        account = {"role": _field(fields, "role"), "active": "on" if _field(fields, "active") else ""}
        password = (fields.get("password") or [""])[0][:MAX_FIELD]
        data: dict[str, Any] = {"active": bool(account["active"])}
        if account["role"] and account["role"] != user.role.value:
            data["role"] = account["role"]
        if password:
            data["password"] = password
        profile = await a.session.get(AgentProfile, user.id)
        values = {
            "extension": (profile.extension or "") if profile else "",
            "skills": skills_text(profile.skills) if profile else "",
            "languages": ", ".join(profile.languages) if profile else "",
        }

        async def again(problems: dict[str, str], status: int) -> Response:
            return await _agent_page(p, user, values, {}, status=status, account=account, account_problems=problems)

        try:
            body = UserPatch.model_validate(data)
        except ValidationError as exc:
            return await again(problems_of(exc, p._), 422)
        demoted = body.role is not None and body.role is not Role.TENANT_ADMIN
        myself = user.id == a.actor.user_id and user.role is Role.TENANT_ADMIN
        if myself and demoted and not await user_actions.other_active_admins(a.session, user):
            message = p._("You are the last active admin: give another user the admin role first.")
            return await again({"role": message}, 409)
        try:
            async with a.write() as tx:
                await user_actions.update_user(
                    tx, user, body, a.actor, min_password_length=a.settings.min_password_length
                )
        except DomainError as exc:
            await p.reload(user)
            field = next((name for name in ("password", "role") if name in exc.code), "active")
            return await again({field: refusal(exc, p._)}, exc.status)
        await a.routing.reload_agents([user.id])
        return RedirectResponse(f"/admin/users/{user.id}?saved=account", status_code=303)


@router.post("/admin/users/{user_id}")
@page
async def save_agent(user_id: int, request: Request) -> Response:
    async with gate(request, "agents.manage") as p:
        user: User = p.access.obj("user_id")
        fields = await form(request, p)
        values = {name: _field(fields, name) for name in ("extension", "skills", "languages", "sip_password")}
        data: dict[str, Any] = {
            "skills": parse_skills(values["skills"]),
            "languages": [lang.strip() for lang in values["languages"].split(",") if lang.strip()],
        }
        profile = await p.access.session.get(AgentProfile, user.id)
        if (values["extension"] or None) != (profile.extension if profile else None):
            data["extension"] = values["extension"] or None  # only a changed extension (it needs a new password)
        if values.pop("sip_password"):
            data["sip_password"] = _field(fields, "sip_password")
        try:
            body = AgentProfileIn.model_validate(data)
        except ValidationError as exc:
            return await _agent_page(p, user, values, problems_of(exc, p._), 422)
        try:
            async with p.access.write() as tx:
                await agent_actions.set_profile(tx, user, p.access.tenant, body)
        except DomainError as exc:
            await p.reload(user)
            field = "sip_password" if exc.code == "sip_password" else "extension" if "extension" in exc.code else "form"
            return await _agent_page(p, user, values, {field: refusal(exc, p._)}, exc.status)
        await p.access.routing.reload_agents([user.id])
        return RedirectResponse(f"/admin/users/{user.id}?saved=1", status_code=303)


# --- queues -----------------------------------------------------------------------------------------------------


async def _queues_page(p: Page, values: dict[str, str], problems: dict[str, str], status: int = 200) -> Response:
    a = p.access
    rows = list(await a.session.scalars(select(Queue).where(Queue.tenant_id == a.tenant.id).order_by(Queue.id)))
    return p.render("admin/queues.html", status, queues=rows, values=values, problems=problems,
                    strategies=[s.value for s in Strategy], may_manage=can(a.actor, "queues.manage"),
                    saved=a.request.query_params.get("saved", ""))  # fmt: skip


def _queue_data(fields: dict[str, list[str]]) -> tuple[dict[str, str], dict[str, Any]]:
    values = {name: _field(fields, name) for name in ("name", "strategy", "sl_target", "sl_seconds")}
    data: dict[str, Any] = {"name": values["name"], "strategy": values["strategy"] or Strategy.LONGEST_IDLE.value}
    if values["sl_target"]:
        data["sl_target"] = values["sl_target"].replace(",", ".")
    if values["sl_seconds"]:
        data["sl_seconds"] = values["sl_seconds"].replace(",", ".")
    return values, data


@router.get("/admin/queues")
@page
async def queues(request: Request) -> Response:
    async with gate(request, "queues.read") as p:
        return await _queues_page(p, {"strategy": Strategy.LONGEST_IDLE.value}, {})


@router.post("/admin/queues")
@page
async def add_queue(request: Request) -> Response:
    async with gate(request, "queues.manage") as p:
        values, data = _queue_data(await form(request, p))
        try:
            body = QueueIn.model_validate(data)
        except ValidationError as exc:
            return await _queues_page(p, values, problems_of(exc, p._), 422)
        try:
            async with p.access.write() as tx:
                queue = await tenant_actions.create_queue(tx, p.access.tenant.id, body)
        except DomainError as exc:
            await p.reload()  # a failed write rolled the session back
            return await _queues_page(p, values, {"name": refusal(exc, p._)}, exc.status)
        await p.access.routing.reload_queues([queue.id])
        return RedirectResponse(f"/admin/queues?saved={queue.id}", status_code=303)


async def _queue_page(p: Page, queue: Queue, values: dict[str, str], problems: dict[str, str], status: int = 200,
                      saved: bool = False) -> Response:  # fmt: skip
    may_manage = can(p.access.actor, "queues.manage")
    return p.render("admin/queue_edit.html", status, queue=queue, values=values, problems=problems, saved=saved,
                    strategies=[s.value for s in Strategy], may_manage=may_manage)  # fmt: skip


@router.get("/admin/queues/{queue_id}")
@page
async def queue(queue_id: int, request: Request) -> Response:
    async with gate(request, "queues.read") as p:
        row: Queue = p.access.obj("queue_id")
        values = {"name": row.name, "strategy": row.strategy, "sl_target": str(row.sl_target),
                  "sl_seconds": str(row.sl_seconds)}  # fmt: skip
        return await _queue_page(p, row, values, {}, saved=request.query_params.get("saved") == "1")


@router.post("/admin/queues/{queue_id}")
@page
async def save_queue(queue_id: int, request: Request) -> Response:
    async with gate(request, "queues.manage") as p:
        row: Queue = p.access.obj("queue_id")
        values, data = _queue_data(await form(request, p))
        try:
            body = QueuePatch.model_validate(data)
        except ValidationError as exc:
            return await _queue_page(p, row, values, problems_of(exc, p._), 422)
        try:
            async with p.access.write() as tx:
                await tenant_actions.update_queue(tx, row, body)
        except DomainError as exc:
            await p.reload(row)
            return await _queue_page(p, row, values, {"name": refusal(exc, p._)}, exc.status)
        await p.access.routing.reload_queues([row.id])
        return RedirectResponse(f"/admin/queues/{row.id}?saved=1", status_code=303)
