"""A tenant's public contact form, ``/forms/<slug>/contact``: a page to embed (an ``<iframe>``) or link to, and the
request it posts, as a form or as JSON. A request that passes is a case (the customer's words its first entry,
the topic its category) filed for the customer found by the e-mail or phone given (or a new one), with a contact
of channel ``form``, and waiting as a task in the tenant's web queue (``callback_policy.web_queue``, the queue of
the callback form too) until an agent takes it; the answer tells the case number.

Anyone may post, so, as on the callback form (``web/forms.py``): off unless the tenant names its web queue; at most
``MAX_BODY`` bytes; ``IP_LIMIT`` requests per address in ``IP_WINDOW_S`` and ``ADDRESS_LIMIT`` per e-mail or phone a
day (429 with Retry-After); a filled hidden ``website`` field is answered as a success and ignored; every value
shown back is escaped; the page loads nothing from anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import func, select

from infolinia.api.deps import client_ip
from infolinia.auth.ratelimit import SlidingWindowLimiter
from infolinia.cases.actions import Moves, create_case, policy_of, route_to_queue
from infolinia.cases.schemas import CaseIn
from infolinia.customers.actions import find_or_create, given_identities
from infolinia.customers.identities import InvalidIdentity
from infolinia.errors import DomainError
from infolinia.interactions.actions import create_interaction
from infolinia.outbound.actions import policy_of as callback_policy_of
from infolinia.schemas import IdentityIn, InteractionIn
from infolinia.store.models import Channel, Direction, Queue, Tenant
from infolinia.store.uow import Who, write
from infolinia.web.forms import HEADERS, Refused, page, read_fields, refusal

router = APIRouter(include_in_schema=False)

IP_LIMIT: Final = 10
IP_WINDOW_S: Final = 600.0
ADDRESS_LIMIT: Final = 3
ADDRESS_WINDOW_S: Final = 86_400.0
MAX_MESSAGE: Final = 5000
MAX_BODY: Final = 65_536  # a message of MAX_MESSAGE characters, URL-encoded, fits
MAX_SUBJECT: Final = 200
#: how the default case categories read on the form (others: as named, underscores as spaces)
TOPICS: Final = {"question": "A question", "order_problem": "A problem with an order", "billing": "A bill",
                 "complaint": "A complaint", "return": "A return", "service_activation": "Activating a service",
                 "change_of_service": "Changing a service", "reservation": "A reservation"}  # fmt: skip


class ContactLimits:
    """The contact form's rate limits (one per process, on the app's context)."""

    def __init__(self) -> None:
        self.by_ip = SlidingWindowLimiter(IP_LIMIT, IP_WINDOW_S)
        self.by_address = SlidingWindowLimiter(ADDRESS_LIMIT, ADDRESS_WINDOW_S)


@dataclass(frozen=True)
class _Form:
    tenant: Tenant
    queue_id: int
    topics: tuple[str, ...]


@router.get("/forms/{slug}/contact", response_class=HTMLResponse)
async def contact_form(slug: str, request: Request) -> Response:
    form = await _form(request, slug)
    if form is None:
        return page("Not found", "<p>There is no such form.</p>", 404)
    return page(f"{form.tenant.name}: write to us", _form_html(form, {}, None))


@router.post("/forms/{slug}/contact")
async def contact_request(slug: str, request: Request) -> Response:
    wants_json = request.headers.get("content-type", "").split(";")[0].strip() == "application/json"
    form = await _form(request, slug)
    if form is None:
        return _refusal(wants_json, None, {}, Refused(404, "there is no such form"))
    fields: dict[str, str] = {}
    try:
        body = await request.body()
        if len(body) > MAX_BODY:
            raise Refused(413, f"the request is larger than {MAX_BODY} bytes")
        try:
            fields = read_fields(body, wants_json)
        except ValueError as error:
            raise Refused(400, f"unreadable request: {error}") from error
        if fields.get("website"):  # the hidden field: a robot filled it in
            return _done(wants_json, form.tenant, None)
        number = await _file(request, form, fields)
    except Refused as refused:
        return _refusal(wants_json, form.tenant, fields, refused)
    return _done(wants_json, form.tenant, number)


async def _form(request: Request, slug: str) -> _Form | None:
    async with request.app.state.ctx.db.session() as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == slug[:40]))
        web_queue = None if tenant is None else callback_policy_of(tenant).web_queue
        if tenant is None or web_queue is None:
            return None
        queue_id = await s.scalar(
            select(Queue.id).where(Queue.tenant_id == tenant.id, func.lower(Queue.name) == web_queue.lower())
        )
    return None if queue_id is None else _Form(tenant, queue_id, policy_of(tenant).categories)


def _identities(tenant: Tenant, email: str, phone: str) -> list[IdentityIn]:
    """The e-mail and phone given, checked (at least one)."""
    try:
        out = given_identities(tenant, email, phone)
    except InvalidIdentity as error:
        raise Refused(422, str(error)) from error
    if not out:
        raise Refused(422, "please give an e-mail address or a phone number, so that we can answer")
    return out


async def _file(request: Request, form: _Form, fields: dict[str, str]) -> int:
    """File the case; its number."""
    ctx = request.app.state.ctx
    limits: ContactLimits = ctx.contact_limits
    ip = client_ip(request) or "?"
    wait = limits.by_ip.check(ip)
    if wait > 0:
        raise Refused(429, "too many requests from this address; please try again later", wait)
    name = " ".join(fields.get("name", "").split())[:200]
    subject = " ".join(fields.get("subject", "").split())
    message = fields.get("message", "").strip()
    topic = fields.get("topic", "") or form.topics[0]
    if topic not in form.topics:
        raise Refused(422, "please choose a topic from the list")
    if not message:
        raise Refused(422, "please write your message")
    if len(message) > MAX_MESSAGE or len(subject) > MAX_SUBJECT:
        raise Refused(422, f"the subject may be {MAX_SUBJECT} and the message {MAX_MESSAGE} characters long")
    identities = _identities(form.tenant, fields.get("email", "").strip(), fields.get("phone", "").strip())
    keys = [f"{form.tenant.id}:{ident.value}" for ident in identities]
    wait = max(limits.by_address.check(key) for key in keys)
    if wait > 0:
        raise Refused(429, "this address has written too often today; please try again later", wait)
    subject = subject or _first_words(message)
    moves = Moves()
    try:
        async with write(ctx.db, ctx.bus, Who(None, "web form", ip)) as tx:
            customer = await find_or_create(tx, form.tenant, name, identities)
            contact = await create_interaction(tx, form.tenant.id, InteractionIn(
                channel=Channel.FORM, direction=Direction.INBOUND, customer_id=customer.id, queue_id=form.queue_id,
                from_address=identities[0].value, subject=subject))  # fmt: skip
            filed = CaseIn(subject=subject, category=topic, description=message, customer_id=customer.id,
                           interaction_id=contact.id)  # fmt: skip
            case = await create_case(tx, form.tenant, filed)
            if case.routing_task_id is None:  # the ladder's first rung has no queue: it waits in the web queue
                await route_to_queue(tx, case, form.queue_id, moves)
            number = case.number
    except (DomainError, ValidationError) as error:
        raise Refused(422, getattr(error, "message", None) or "the request could not be filed") from error
    await moves.apply(ctx.routing)
    limits.by_ip.record(ip)
    for key in keys:
        limits.by_address.record(key)
    return number


def _first_words(message: str, most: int = 80) -> str:
    line = " ".join(message.split())
    return line if len(line) <= most else line[: line.rfind(" ", 0, most) if " " in line[:most] else most] + "…"


# --- the pages -------------------------------------------------------------------------------------------------


def _done(as_json: bool, tenant: Tenant, number: int | None) -> Response:
    if as_json:
        return JSONResponse({"status": "filed", "case_number": number}, status_code=201, headers=HEADERS)
    said = "" if number is None else f" Your case number is <strong>{number}</strong>."
    return page(f"{tenant.name}: write to us", f"<p role='status'>Thank you, we will answer soon.{said}</p>")


def _refusal(as_json: bool, tenant: Tenant | None, fields: dict[str, str], refused: Refused) -> Response:
    if as_json or tenant is None:
        return refusal(refused)
    form = _Form(tenant, 0, policy_of(tenant).categories)
    return refusal(refused, f"{tenant.name}: write to us", _form_html(form, fields, refused.message))


def _form_html(form: _Form, fields: dict[str, str], error: str | None) -> str:
    def value(name: str, most: int = 200) -> str:
        return escape(fields.get(name, "")[:most], quote=True)

    options = "".join(
        f'<option value="{escape(t, quote=True)}"{" selected" if fields.get("topic") == t else ""}>'
        f"{escape(TOPICS.get(t, t.replace('_', ' ').capitalize()))}</option>"
        for t in form.topics
    )
    alert = f"<p role='alert' class='error'>{escape(error)}</p>" if error else ""
    return f"""{alert}
<form method="post">
  <label for="name">Name</label>
  <input id="name" name="name" autocomplete="name" maxlength="200" value="{value("name")}">
  <label for="email">E-mail</label>
  <input id="email" name="email" type="email" autocomplete="email" maxlength="254" value="{value("email", 254)}">
  <label for="phone">Phone (or e-mail: one of them, so that we can answer)</label>
  <input id="phone" name="phone" type="tel" autocomplete="tel" maxlength="40" value="{value("phone", 40)}">
  <label for="topic">Topic</label>
  <select id="topic" name="topic">{options}</select>
  <label for="subject">Subject (optional)</label>
  <input id="subject" name="subject" maxlength="{MAX_SUBJECT}" value="{value("subject")}">
  <label for="message">Message</label>
  <textarea id="message" name="message" required maxlength="{MAX_MESSAGE}"
   rows="8">{value("message", MAX_MESSAGE)}</textarea>
  <div class="hidden" aria-hidden="true"><label for="website">Website</label>
  <input id="website" name="website" tabindex="-1" autocomplete="off"></div>
  <button type="submit">Send</button>
</form>"""
