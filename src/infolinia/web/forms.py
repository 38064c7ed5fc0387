"""A tenant's public callback form, ``/forms/<slug>/callback``: a page to embed (an ``<iframe>``) or to link to,
and the request it posts, as a form or as JSON.

Anyone may post, so: the form is off unless the tenant names its queue (``callback_policy.web_queue``); a request
body is at most ``MAX_BODY`` bytes; each address may ask ``IP_LIMIT`` times in ``IP_WINDOW_S``, each number
``NUMBER_LIMIT`` times in ``NUMBER_WINDOW_S`` (429 with Retry-After); a filled hidden ``website`` field (which
people never see) is answered as a success and ignored; every value shown back is escaped; the page loads
nothing from anywhere (Content-Security-Policy ``default-src 'none'``). A request that passes is a callback with
source ``web``, as soon as possible or at the local time asked for (in the tenant's time zone).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any, Final
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import func, select

from infolinia.api.deps import client_ip
from infolinia.auth.ratelimit import SlidingWindowLimiter
from infolinia.customers.identities import InvalidIdentity, normalize_phone
from infolinia.errors import DomainError
from infolinia.outbound.actions import policy_of, request_callback
from infolinia.schemas import CallbackIn
from infolinia.store.models import Queue, Tenant
from infolinia.store.uow import Who, write

router = APIRouter(include_in_schema=False)

MAX_BODY: Final = 4096
IP_LIMIT: Final = 10
IP_WINDOW_S: Final = 600.0
NUMBER_LIMIT: Final = 3
NUMBER_WINDOW_S: Final = 86_400.0
HEADERS: Final = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class FormLimits:
    """The public forms' rate limits (one per process, on the app's context)."""

    def __init__(self) -> None:
        self.by_ip = SlidingWindowLimiter(IP_LIMIT, IP_WINDOW_S)
        self.by_number = SlidingWindowLimiter(NUMBER_LIMIT, NUMBER_WINDOW_S)


@dataclass(frozen=True)
class _Form:
    tenant: Tenant
    queue_id: int


class Refused(Exception):
    """A public form's request turned away: the status, what to tell the visitor, and when to try again."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


@router.get("/forms/{slug}/callback", response_class=HTMLResponse)
async def callback_form(slug: str, request: Request) -> Response:
    form = await _form(request, slug)
    if form is None:
        return page("Not found", "<p>There is no such form.</p>", 404)
    return page(f"{form.tenant.name}: call me back", _form_html(form.tenant, {}, None))


@router.post("/forms/{slug}/callback")
async def callback_request(slug: str, request: Request) -> Response:
    wants_json = request.headers.get("content-type", "").split(";")[0].strip() == "application/json"
    form = await _form(request, slug)
    if form is None:
        return _refusal(wants_json, None, {}, Refused(404, "there is no such form"))
    fields: dict[str, str] = {}
    try:
        fields = await _fields(request, wants_json)
        if fields.get("website"):  # the hidden field: a robot filled it in
            return _done(wants_json, form.tenant, None)
        callback = await _request(request, form, fields)
    except Refused as refused:
        return _refusal(wants_json, form.tenant, fields, refused)
    return _done(wants_json, form.tenant, callback)


# --- the request -----------------------------------------------------------------------------------------------


async def _form(request: Request, slug: str) -> _Form | None:
    ctx = request.app.state.ctx
    async with ctx.db.session() as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == slug[:40]))
        web_queue = None if tenant is None else policy_of(tenant).web_queue
        if tenant is None or web_queue is None:
            return None
        queue_id = await s.scalar(
            select(Queue.id).where(Queue.tenant_id == tenant.id, func.lower(Queue.name) == web_queue.lower())
        )
    return None if queue_id is None else _Form(tenant, queue_id)


async def _fields(request: Request, as_json: bool) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Refused(413, f"the request is larger than {MAX_BODY} bytes")
    try:
        return read_fields(body, as_json)
    except ValueError as error:
        raise Refused(400, f"unreadable request: {error}") from error


def read_fields(body: bytes, as_json: bool) -> dict[str, str]:
    """A public form's fields, from a JSON object or a URL-encoded body (at most 20); ValueError if unreadable."""
    if as_json:
        raw = json.loads(body)
        if not isinstance(raw, dict):
            raise ValueError("not an object")
        return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in raw.items() if v is not None}
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8"), max_num_fields=20).items()}


async def _request(request: Request, form: _Form, fields: dict[str, str]) -> Any:
    ctx = request.app.state.ctx
    limits: FormLimits = ctx.form_limits
    ip = client_ip(request) or "?"
    wait = limits.by_ip.check(ip)
    if wait > 0:
        raise Refused(429, "too many requests from this address; please try again later", wait)
    number = fields.get("number", "").strip()
    name = " ".join(fields.get("name", "").split())[:200]
    reason = fields.get("reason", "").strip()
    if len(reason) > 500:
        raise Refused(422, "the reason is longer than 500 characters")
    at = _local_time(fields.get("at", "").strip(), form.tenant.timezone)
    note = f"{name}: {reason}" if name and reason else name or reason
    try:
        body = CallbackIn(queue_id=form.queue_id, number=number, reason=note[:500] or None, at=at)
    except ValueError as error:
        raise Refused(422, "please give a phone number") from error
    wait = limits.by_number.check(_number_key(form.tenant, number))
    if wait > 0:
        raise Refused(429, "this number has asked for calls too often today; please try again later", wait)
    try:
        async with write(ctx.db, ctx.bus, Who(None, "web form", ip)) as tx:
            written = await request_callback(tx, form.tenant, body, source="web")
    except DomainError as error:
        raise Refused(422, error.message) from error
    if written.route is not None:
        await ctx.routing.route([written.route])
    limits.by_ip.record(ip)
    limits.by_number.record(written.callback.number)
    return written.callback


def _number_key(tenant: Tenant, number: str) -> str:
    try:
        return normalize_phone(number, tenant.country)
    except InvalidIdentity:
        return number  # refused below, with the action's message


def _local_time(text: str, timezone: str) -> datetime | None:
    """``YYYY-MM-DDTHH:MM`` (a browser's datetime-local) in the tenant's zone, or an ISO time with an offset."""
    if not text:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as error:
        raise Refused(422, "the time is not a date and time (YYYY-MM-DDTHH:MM)") from error
    return at if at.tzinfo is not None else at.replace(tzinfo=ZoneInfo(timezone))


# --- the pages -------------------------------------------------------------------------------------------------


def _done(as_json: bool, tenant: Tenant, callback: Any) -> Response:
    due = None if callback is None else callback.due_at
    keep_by = None if callback is None else callback.keep_by
    if as_json:
        body = {"status": "scheduled", "due_at": due and due.isoformat(), "keep_by": keep_by and keep_by.isoformat()}
        return JSONResponse(body, status_code=201, headers=HEADERS)
    zone = ZoneInfo(tenant.timezone)
    when = (
        "soon"
        if keep_by is None or due is None or keep_by.astimezone(zone).date() != due.astimezone(zone).date()
        else f"by {keep_by.astimezone(zone):%H:%M} ({tenant.timezone})"
    )
    return page(f"{tenant.name}: call me back", f"<p role='status'>Thank you. We will call you {escape(when)}.</p>")


def _refusal(as_json: bool, tenant: Tenant | None, fields: dict[str, str], refused: Refused) -> Response:
    if as_json or tenant is None:
        return refusal(refused)
    return refusal(refused, f"{tenant.name}: call me back", _form_html(tenant, fields, refused.message))


def refusal(refused: Refused, title: str | None = None, form_html: str = "") -> Response:
    """The answer to a refused request: JSON ``{"error": {"message"}}``, or (``title``) the form shown again with
    the reason; ``Retry-After`` when it says when."""
    headers = dict(HEADERS)
    if refused.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(refused.retry_after)))
    if title is None:
        return JSONResponse({"error": {"message": refused.message}}, status_code=refused.status, headers=headers)
    return page(title, form_html, refused.status, headers)


def _form_html(tenant: Tenant, fields: dict[str, str], error: str | None) -> str:
    def value(name: str) -> str:
        return escape(fields.get(name, "")[:500], quote=True)

    alert = f"<p role='alert' class='error'>{escape(error)}</p>" if error else ""
    return f"""{alert}
<form method="post">
  <label for="number">Phone number</label>
  <input id="number" name="number" type="tel" required autocomplete="tel" maxlength="40" value="{value("number")}">
  <label for="name">Name (optional)</label>
  <input id="name" name="name" autocomplete="name" maxlength="200" value="{value("name")}">
  <label for="reason">What is it about? (optional)</label>
  <textarea id="reason" name="reason" maxlength="500">{value("reason")}</textarea>
  <label for="at">When ({escape(tenant.timezone)}; empty: as soon as we can)</label>
  <input id="at" name="at" type="datetime-local" value="{value("at")}">
  <div class="hidden" aria-hidden="true"><label for="website">Website</label>
  <input id="website" name="website" tabindex="-1" autocomplete="off"></div>
  <button type="submit">Call me back</button>
</form>"""


def page(title: str, body: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A public form's page: self-contained, escaped title, the body as given (escape it first)."""
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>
body {{ font: 16px/1.4 system-ui, sans-serif; margin: 1rem; max-width: 28rem; color: #111; }}
label {{ display: block; margin-top: .8rem; font-weight: 600; }}
input, textarea {{ width: 100%; box-sizing: border-box; padding: .4rem; font: inherit; }}
button {{ margin-top: 1rem; padding: .5rem 1rem; font: inherit; }}
.error {{ color: #a00; font-weight: 600; }}
.hidden {{ position: absolute; left: -10000px; }}
</style></head>
<body><h1>{escape(title)}</h1>
{body}
</body></html>"""
    return HTMLResponse(html, status_code=status, headers=headers or HEADERS)
