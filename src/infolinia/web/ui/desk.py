"""The agent desk at ``/desk``: the agent's status (available, break with a reason, not ready; the wrap-up timer),
the offers made to them (accept, decline), their contacts, the active contact (customer, timeline, suggested
scripts, cases, notes and disposition, a callback in the customer's time zone, a case filed or escalated, an e-mail
reply), their own callbacks, and the knowledge base. Chat panes and the ring are live (``static/desk.js`` over the
desk's sockets, ``desk_live.py``).

Every write calls the API route's own function with the page's ``Access`` (the same gate, actions, audit, events
and routing hand-over as ``/api/v1``): presence, ``/tasks/{id}/accept|decline``, ``/interactions/{id}/disposition``,
``/callbacks``, ``/cases``, ``/cases/{id}/escalate``, ``/cases/{id}/replies``. Forms post and redirect back
(``?task=``); a refused one shows the page again with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import func, or_, select

from infolinia.agent_scripts import actions as script_actions
from infolinia.agent_scripts import context as script_context
from infolinia.agent_scripts.render import render as render_script
from infolinia.api.deps import case_scope, interaction_scope
from infolinia.api.routes import callbacks as callbacks_api
from infolinia.api.routes import cases as cases_api
from infolinia.api.routes import context as context_api
from infolinia.api.routes import email as email_api
from infolinia.api.routes import kb as kb_api
from infolinia.api.routes import routing as routing_api
from infolinia.api.routes import wrapup as wrapup_api
from infolinia.cases import actions as case_actions
from infolinia.cases.schemas import CaseEscalateIn, CaseIn
from infolinia.channels.email.schemas import ReplyIn
from infolinia.errors import DomainError, Invalid
from infolinia.kb import markup
from infolinia.routing import views
from infolinia.schemas import CallbackIn, PresenceIn
from infolinia.store.models import (
    AgentScript,
    Callback,
    ChatSession,
    Customer,
    EmailMessage,
    Interaction,
    Queue,
    RoutingTask,
)
from infolinia.store.types import utcnow
from infolinia.web.ui.gate import Page, form, gate, page
from infolinia.web.ui.problems import problem_text, refusal
from infolinia.web.ui.render import N_
from infolinia.wrapup import actions as wrapup_actions
from infolinia.wrapup.schemas import DispositionIn

__all__ = ["BREAK_REASONS", "router", "wall_time"]

router = APIRouter(include_in_schema=False)

#: the reasons offered for a break (stored as given; the engine keeps any text up to 100 characters)
BREAK_REASONS: Final = (N_("Lunch"), N_("Short break"), N_("Training"), N_("Meeting"), N_("Other"))
#: done contacts of one's own still listed (to set their disposition) this long after they were taken
RECENT: Final = timedelta(hours=12)
MAX_TEXT: Final = 20_000


def _one(fields: dict[str, list[str]], name: str, limit: int = 500) -> str:
    return (fields.get(name) or [""])[0][:limit]


def zone_of(name: str | None, fallback: str) -> ZoneInfo:
    """The customer's time zone, else the tenant's (an unknown name counts as none)."""
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return ZoneInfo(candidate)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def wall_time(day: str, clock: str, zone: ZoneInfo) -> datetime:
    """``day`` (YYYY-MM-DD) at ``clock`` (HH:MM) on the wall clock of ``zone``, in UTC; Invalid naming the field."""
    try:
        parsed_day = date.fromisoformat(day.strip())
    except ValueError:
        raise Invalid("the date is not a date (YYYY-MM-DD)", details={"field": "day"}) from None
    try:
        parsed_clock = time.fromisoformat(clock.strip())
    except ValueError:
        raise Invalid("the time is not a time (HH:MM)", details={"field": "clock"}) from None
    return datetime.combine(parsed_day, parsed_clock.replace(tzinfo=None), zone).astimezone(UTC)


@dataclass
class Contact:
    """One of the agent's tasks, as the desk lists it."""

    task: RoutingTask
    queue: str
    label: str
    interaction: Interaction | None


async def _labels(p: Page, tasks: list[RoutingTask]) -> list[Contact]:
    s, tenant_id = p.access.session, p.access.tenant.id
    queues = {q.id: q.name for q in await s.scalars(select(Queue).where(Queue.tenant_id == tenant_id))}
    ids = [t.interaction_id for t in tasks if t.interaction_id is not None]
    interactions = (
        {
            i.id: i
            for i in await s.scalars(
                select(Interaction).where(Interaction.tenant_id == tenant_id, Interaction.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    chats = (
        {
            c.routing_task_id: c.name
            for c in await s.scalars(
                select(ChatSession).where(
                    ChatSession.tenant_id == tenant_id, ChatSession.routing_task_id.in_([t.id for t in tasks])
                )
            )
        }
        if tasks
        else {}
    )
    out = []
    for t in tasks:
        i = interactions.get(t.interaction_id) if t.interaction_id is not None else None
        label = chats.get(t.id) or (i.from_address if i is not None else None) or t.callback_number or f"#{t.id}"
        out.append(Contact(t, queues.get(t.queue_id, ""), label or "", i))
    return out


async def _status(p: Page) -> dict[str, Any]:
    a = p.access
    seen = views.agent_view(a.routing.engine, a.actor.user_id)
    if seen is None:
        return {"agent": False}
    since = None
    if seen.presence.value == "wrapup":  # it began when the agent's last contact was completed
        since = await a.session.scalar(
            select(func.max(RoutingTask.updated_at)).where(
                RoutingTask.tenant_id == a.tenant.id,
                RoutingTask.agent_id == a.actor.user_id,
                RoutingTask.state == "done",
            )
        )
    return {
        "agent": True,
        "state": seen.state.value,
        "presence": seen.presence.value,
        "reason": seen.reason,
        "wrapup_since": since,
    }


async def _offers(p: Page) -> list[Contact]:
    a = p.access
    rows = list(
        await a.session.scalars(
            select(RoutingTask)
            .where(
                RoutingTask.tenant_id == a.tenant.id,
                RoutingTask.agent_id == a.actor.user_id,
                RoutingTask.state == "reserved",
            )
            .order_by(RoutingTask.id)
        )
    )
    return await _labels(p, rows)


async def _contacts(p: Page) -> list[Contact]:
    """Assigned tasks, then done ones of the last hours whose contact has no disposition yet."""
    a = p.access
    rows = list(
        await a.session.scalars(
            select(RoutingTask)
            .where(
                RoutingTask.tenant_id == a.tenant.id,
                RoutingTask.agent_id == a.actor.user_id,
                or_(
                    RoutingTask.state == "assigned",
                    (RoutingTask.state == "done") & (RoutingTask.assigned_at > utcnow() - RECENT),
                ),
            )
            .order_by(RoutingTask.id.desc())
            .limit(30)
        )
    )
    listed = await _labels(p, rows)
    return [c for c in listed if c.task.state == "assigned" or (c.interaction and not c.interaction.disposition_code)]


async def _callbacks(p: Page) -> list[tuple[Callback, str, str]]:
    """One's own scheduled callbacks, soonest first, each with its customer's time zone and name."""
    a = p.access
    rows = list(
        await a.session.scalars(
            select(Callback)
            .where(
                Callback.tenant_id == a.tenant.id,
                Callback.personal_agent_id == a.actor.user_id,
                Callback.status == "scheduled",
            )
            .order_by(Callback.due_at)
            .limit(50)
        )
    )
    ids = {r.customer_id for r in rows if r.customer_id is not None}
    customers = (
        {
            c.id: c
            for c in await a.session.scalars(
                select(Customer).where(Customer.tenant_id == a.tenant.id, Customer.id.in_(ids))
            )
        }
        if ids
        else {}
    )
    out = []
    for r in rows:
        c = customers.get(r.customer_id) if r.customer_id is not None else None
        out.append((r, zone_of(c.timezone if c else None, a.tenant.timezone).key, c.name if c else ""))
    return out


async def _pane(p: Page, task_id: int) -> dict[str, Any]:
    """The active contact: the task's context (``GET /tasks/{id}/context``) and what its forms need."""
    a = p.access
    row: RoutingTask = a.obj("task_id")
    ctx = await context_api.task_context(a, timeline_limit=20)
    customer = ctx.customer
    zone = zone_of(customer.timezone if customer else None, a.tenant.timezone)
    codes = [c for c in await wrapup_actions.queue_codes(a.session, row.queue_id) if c.active]
    interaction = None
    if ctx.interaction is not None:
        interaction = await a.session.get(Interaction, ctx.interaction.id)
    chat = await a.session.scalar(
        select(ChatSession).where(ChatSession.tenant_id == a.tenant.id, ChatSession.routing_task_id == row.id)
    )
    emails: list[Any] = []
    email_case = next((c for c in ctx.cases if row.channel in ("email", "case")), None)
    if email_case is not None:
        emails = list(
            await a.session.scalars(
                select(EmailMessage)
                .where(EmailMessage.tenant_id == a.tenant.id, EmailMessage.case_id == email_case.id)
                .order_by(EmailMessage.id)
            )
        )
    phones = [i.value for i in customer.identities if i.kind == "phone"] if customer else []
    queue = await a.session.get(Queue, row.queue_id)
    tomorrow = (datetime.now(zone) + timedelta(days=1)).date().isoformat()
    wait = None
    if interaction is not None and interaction.answered_at and interaction.queued_at:
        wait = int((interaction.answered_at - interaction.queued_at).total_seconds())
    script = await _script(p, ctx.scripts[0].id, interaction) if ctx.scripts else None
    customer_callbacks = []
    if customer is not None:
        customer_callbacks = list(
            await a.session.scalars(
                select(Callback)
                .where(
                    Callback.tenant_id == a.tenant.id,
                    Callback.customer_id == customer.id,
                    Callback.status == "scheduled",
                )
                .order_by(Callback.due_at)
                .limit(10)
            )
        )
    return {
        "ctx": ctx,
        "task": row,
        "customer_callbacks": customer_callbacks,
        "script": script,
        "interaction": interaction,
        "customer": customer,
        "zone": zone.key,
        "codes": codes,
        "chat": chat,
        "email_case": email_case,
        "emails": emails,
        "phone": phones[0] if phones else (row.callback_number or ""),
        "queue": queue,
        "tomorrow": tomorrow,
        "wait": wait,
        "categories": case_actions.policy_of(a.tenant).categories,
    }


async def _script(p: Page, script_id: int, interaction: Interaction | None) -> dict[str, Any] | None:
    """The best suggested script filled in for the contact, as ``GET /scripts/{id}/render`` fills it."""
    a = p.access
    row = await a.session.get(AgentScript, script_id)
    if row is None or row.tenant_id != a.tenant.id:
        return None
    records = await script_context.records_of(
        a.session, a.tenant, a.actor.user_id, case_scope(a.actor, a.tenant.id), interaction=interaction
    )
    definition = script_actions.definition_of(row)
    steps, missing = render_script(definition, script_context.values(records))
    return {"row": row, "steps": steps, "missing": missing}


async def _desk(p: Page, task_id: int | None, status: int = 200, problem: str = "", done: str = "") -> Response:
    pane = await _pane(p, task_id) if task_id is not None else None
    return p.render(
        "desk/desk.html",
        status,
        status_=await _status(p),
        offers=await _offers(p),
        contacts=await _contacts(p),
        callbacks=await _callbacks(p),
        pane=pane,
        problem=problem,
        done=done,
        now=utcnow(),
        break_reasons=BREAK_REASONS,
        active_task=task_id,
        interaction=pane["interaction"] if pane else None,
        csrf_token=p.viewer.csrf,
    )


def _back(task_id: int | None, done: str) -> Response:
    target = f"/desk?task={task_id}&done={done}" if task_id else f"/desk?done={done}"
    return RedirectResponse(target, status_code=303)


def _problem(p: Page, exc: DomainError | ValidationError) -> tuple[int, str]:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        return 422, f"{where}: {problem_text(p._, first)}" if where else problem_text(p._, first)
    return exc.status, refusal(exc, p._)


@router.get("/desk")
@page
async def desk(request: Request) -> Response:
    """The desk; ``?task=`` shows that contact of one's own (resolved in the tenant as a path parameter: else 404)."""
    raw = request.query_params.get("task", "")
    task_id = int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31 else None
    if task_id is not None:
        request.scope["path_params"] = {"task_id": str(task_id)}
    async with gate(request, "tasks.handle") as p:
        return await _desk(p, task_id, done=request.query_params.get("done", "")[:40])


@router.get("/desk/offers")
@page
async def offers(request: Request) -> Response:
    """The status and offers part of the desk (``desk.js`` reloads it when the agent's routing events arrive)."""
    raw = request.query_params.get("task", "")
    active = int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**31 else None
    async with gate(request, "tasks.handle") as p:
        return p.render(
            "desk/live.html",
            status_=await _status(p),
            offers=await _offers(p),
            contacts=await _contacts(p),
            break_reasons=BREAK_REASONS,
            now=utcnow(),
            active_task=active,
        )


@router.post("/desk/presence")
@page
async def presence(request: Request) -> Response:
    async with gate(request, "presence.self") as p:
        fields = await form(request, p)
        chosen = _one(fields, "presence", 20)
        reason = _one(fields, "reason", 100) if chosen == "break" else ""
        try:
            body = PresenceIn.model_validate({"presence": chosen, "reason": reason})
            await routing_api.set_my_presence(body, p.access)
        except (DomainError, ValidationError) as exc:
            status, message = _problem(p, exc)
            await p.reload()
            return await _desk(p, None, status, message)
        return _back(_task_of(fields), "presence")


def _task_of(fields: dict[str, list[str]]) -> int | None:
    raw = _one(fields, "task", 12)
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


@router.post("/desk/tasks/{task_id}/accept")
@page
async def accept(task_id: int, request: Request) -> Response:
    async with gate(request, "tasks.handle") as p:
        await form(request, p)
        try:
            await routing_api.accept_task(task_id, p.access)
        except DomainError as exc:
            await p.reload()
            return await _desk(p, None, exc.status, refusal(exc, p._))
        return _back(task_id, "accepted")


@router.post("/desk/tasks/{task_id}/decline")
@page
async def decline(task_id: int, request: Request) -> Response:
    async with gate(request, "tasks.handle") as p:
        await form(request, p)
        try:
            await routing_api.decline_task(task_id, p.access)
        except DomainError as exc:
            await p.reload()
            return await _desk(p, None, exc.status, refusal(exc, p._))
        return _back(None, "declined")


async def _refused(p: Page, task_id: int, exc: DomainError | ValidationError) -> Response:
    status, message = _problem(p, exc)
    await p.reload(*p.access.objects.values())  # a failed write's rollback expired them
    return await _desk(p, task_id, status, message)


@router.post("/desk/tasks/{task_id}/disposition")
@page
async def disposition(task_id: int, request: Request) -> Response:
    """The contact's wrap-up code and notes (``POST /interactions/{id}/disposition``)."""
    async with gate(request, "interactions.write") as p:
        fields = await form(request, p)
        row: RoutingTask = p.access.obj("task_id")
        try:
            interaction = await _own_interaction(p, row)
            notes = _one(fields, "notes", MAX_TEXT).strip() or None
            body = DispositionIn.model_validate({"code": _one(fields, "code", 60), "notes": notes})
            p.access.objects["interaction_id"] = interaction
            await wrapup_api.disposition(body, p.access)
        except (DomainError, ValidationError) as exc:
            return await _refused(p, task_id, exc)
        return _back(task_id, "disposition")


async def _own_interaction(p: Page, row: RoutingTask) -> Interaction:
    """The task's contact, seen as ``/interactions/{id}`` would resolve it for this reader."""
    if row.agent_id != p.access.actor.user_id or row.interaction_id is None:
        raise Invalid("this task has no contact of yours", code="no_contact")
    found = await p.access.session.scalar(
        select(Interaction).where(
            Interaction.id == row.interaction_id, interaction_scope(p.access.actor, p.access.tenant.id)
        )
    )
    if found is None:
        raise Invalid("this task has no contact of yours", code="no_contact")
    return found


@router.post("/desk/tasks/{task_id}/callback")
@page
async def callback(task_id: int, request: Request) -> Response:
    """A callback for the task's customer at a date and time on the customer's clock (else the tenant's): personal
    (to oneself) or for the team (the task's queue), through ``POST /callbacks``."""
    async with gate(request, "callbacks.write") as p:
        fields = await form(request, p)
        a = p.access
        row: RoutingTask = a.obj("task_id")
        try:
            ctx = await context_api.task_context(a, timeline_limit=1)
            customer = ctx.customer
            zone = zone_of(customer.timezone if customer else None, a.tenant.timezone)
            at = wall_time(_one(fields, "day", 10), _one(fields, "clock", 8), zone)
            if at <= utcnow():
                raise Invalid("the callback's time has passed", details={"field": "day"})
            personal = _one(fields, "for", 10) != "team"
            body = CallbackIn.model_validate(
                {
                    "queue_id": row.queue_id,
                    "number": _one(fields, "number", 40),
                    "customer_id": customer.id if customer else None,
                    "reason": _one(fields, "reason").strip() or None,
                    "at": at,
                    "personal_agent_id": a.actor.user_id if personal else None,
                    "language": customer.language if customer else None,
                }
            )
            await callbacks_api.request_callback(body, a)
        except (DomainError, ValidationError) as exc:
            return await _refused(p, task_id, exc)
        return _back(task_id, "callback")


@router.post("/desk/tasks/{task_id}/case")
@page
async def file_case(task_id: int, request: Request) -> Response:
    """File a case for the task's customer, linked to its contact (``POST /cases``)."""
    async with gate(request, "cases.write") as p:
        fields = await form(request, p)
        a = p.access
        row: RoutingTask = a.obj("task_id")
        try:
            ctx = await context_api.task_context(a, timeline_limit=1)
            body = CaseIn.model_validate(
                {
                    "subject": _one(fields, "subject", 300),
                    "category": _one(fields, "category", 40),
                    "priority": _one(fields, "priority", 20) or "normal",
                    "description": _one(fields, "description", MAX_TEXT).strip() or None,
                    "customer_id": ctx.customer.id if ctx.customer else None,
                    "interaction_id": ctx.interaction.id if ctx.interaction else None,
                }
            )
            await cases_api.create_case(body, a)
        except (DomainError, ValidationError) as exc:
            return await _refused(p, row.id, exc)
        return _back(task_id, "case")


async def _case_for_task(p: Page, task_id: int) -> None:
    """The case must be one the task's context shows (its own, or its customer's open one)."""
    a = p.access
    case = a.obj("case_id")
    task = await a.session.get(RoutingTask, task_id)
    if task is None or task.tenant_id != a.tenant.id:
        raise Invalid("no such task", details={"field": "task"})
    a.objects["task_id"] = task
    ctx = await context_api.task_context(a, timeline_limit=1)
    if case.id not in {c.id for c in ctx.cases}:
        raise Invalid("this case is not one of the contact's", details={"field": "case"})


@router.post("/desk/cases/{case_id}/escalate")
@page
async def escalate(case_id: int, request: Request) -> Response:
    async with gate(request, "cases.write") as p:
        fields = await form(request, p)
        task_id = _task_of(fields)
        if task_id is None:
            raise Invalid("which contact's case: the task is missing", details={"field": "task"})
        try:
            await _case_for_task(p, task_id)
            body = CaseEscalateIn.model_validate({"reason": _one(fields, "reason")})
            await cases_api.escalate(body, p.access)
        except (DomainError, ValidationError) as exc:
            return await _refused(p, task_id, exc)
        return _back(task_id, "escalated")


@router.post("/desk/cases/{case_id}/reply")
@page
async def reply(case_id: int, request: Request) -> Response:
    """An e-mail to the case's customer (``POST /cases/{id}/replies``)."""
    async with gate(request, "email.reply") as p:
        fields = await form(request, p)
        task_id = _task_of(fields)
        if task_id is None:
            raise Invalid("which contact's case: the task is missing", details={"field": "task"})
        try:
            await _case_for_task(p, task_id)
            body = ReplyIn.model_validate({"body": _one(fields, "body", MAX_TEXT)})
            await email_api.reply(body, p.access)
        except (DomainError, ValidationError) as exc:
            return await _refused(p, task_id, exc)
        return _back(task_id, "reply")


@router.get("/desk/kb")
@page
async def kb_search(request: Request) -> Response:
    """Published articles for the words typed (``GET /kb/search``), as a part of the desk (htmx) or a page."""
    async with gate(request, "kb.read") as p:
        q = request.query_params.get("q", "")[:200]
        found = None
        problem = ""
        if q.strip():
            try:
                found = await kb_api.search_articles(
                    p.access,
                    q=q,
                    language=[],
                    category_id=None,
                    visibility=None,
                    status="published",
                    limit=10,
                    mode="text",
                )
            except DomainError as exc:
                problem = refusal(exc, p._)
        return p.render("desk/kb_results.html", q=q, found=found, problem=problem)


@router.get("/desk/kb/{article_id}")
@page
async def kb_article(article_id: int, request: Request) -> Response:
    """One published article (``GET /kb/articles/{id}``: drafts and archived ones for editors only)."""
    async with gate(request, "kb.read") as p:
        article = await kb_api.get_article(p.access)
        body = Markup(markup.to_html(article.body))  # safe: kb.markup renders Markdown without raw HTML
        return p.render("desk/kb_article.html", article=article, body=body)
