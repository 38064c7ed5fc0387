"""The widget's public side, ``/chat/...``: the script a site embeds, a demo page, and the endpoints the widget calls
(named by the tenant's public widget key): its configuration (topics, whether anyone can chat now), starting a
chat, the customer's WebSocket, files, the transcript by e-mail, and, when nobody can chat, leaving a message (a
case) or asking for a callback.

Anyone may call these, so: a key that names no tenant with chat on is 404 ``unknown_widget``; a browser request (or
WebSocket) whose ``Origin`` is neither the server's own nor in the tenant's ``allowed_origins`` is 403
``origin_not_allowed`` (close 4403); bodies are capped; starts, messages and callbacks are limited per address,
files and transcripts per chat (429 ``rate_limited`` with Retry-After); a chat is reached only with its secret
token; every refusal is JSON ``{"error": {"code", "message"}}``. Cross-origin requests get CORS headers for the
tenant's allowed origins only."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request, WebSocket
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from starlette.websockets import WebSocketDisconnect

from infolinia.api.deps import client_ip
from infolinia.api.wsgate import origin_allowed
from infolinia.auth.ratelimit import SlidingWindowLimiter
from infolinia.cases.actions import Moves
from infolinia.channels.chat import actions, protocol
from infolinia.channels.chat.files import FileRefused, check, safe_name
from infolinia.channels.chat.hub import Conn, Live
from infolinia.channels.chat.service import ChatService
from infolinia.channels.chat.settings import MAX_FILE_BYTES, ChatSettings
from infolinia.customers.actions import given_identities
from infolinia.customers.identities import InvalidIdentity, normalize_email
from infolinia.errors import DomainError
from infolinia.schemas import IdentityIn
from infolinia.store.models import ChatFile, ChatSession, Tenant
from infolinia.store.uow import Who, write

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
STATIC = Path(__file__).with_name("static")
MAX_BODY = 16_384
MAX_MESSAGE = 5000
HELLO_TIMEOUT_S = 10.0
RATE_LIMITED = "too many lines at once: this one was not sent, send it again shortly"
#: a start that collided with another one making a customer at the same moment is tried again
STARTS_TRIED = 5
#: the customer's file uploads have their own body limit (outside the API), see ``api/errors.BodyLimit``
BODY_LIMITS = (("POST", re.compile(r"/chat/api/[^/]+/chats/[0-9]+/files"), MAX_FILE_BYTES),)
SECURITY = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


@dataclass(frozen=True)
class Widget:
    tenant: Tenant
    settings: ChatSettings
    origin: str | None  # the page's origin, when a browser sent one (checked)


def _service(request: Request | WebSocket) -> ChatService:
    service: ChatService = request.app.state.ctx.chat
    return service


def _cors(origin: str | None) -> dict[str, str]:
    if origin is None:
        return dict(SECURITY)
    return SECURITY | {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                       "Access-Control-Expose-Headers": "Retry-After, Content-Disposition"}  # fmt: skip


def _answer(body: Any, origin: str | None, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=_cors(origin))


def _refusal(refused: Refused, origin: str | None) -> JSONResponse:
    headers = _cors(origin)
    if refused.retry_after is not None:
        headers["Retry-After"] = str(max(1, round(refused.retry_after)))
    body = {"error": {"code": refused.code, "message": refused.message}}
    return JSONResponse(body, status_code=refused.status, headers=headers)


async def _widget(conn: Request | WebSocket, key: str) -> Widget:
    """The tenant of ``key`` with its chat on, and the caller's origin if it may embed the widget."""
    async with conn.app.state.ctx.db.session() as s:
        tenant = None
        if 16 <= len(key) <= 64:
            tenant = await s.scalar(select(Tenant).where(Tenant.chat_settings["widget_key"].as_string() == key))
    settings = ChatSettings.of(tenant.chat_settings if tenant is not None else None)
    if tenant is None or not settings.enabled or settings.widget_key != key:
        raise Refused(404, "unknown_widget", "no chat has this widget key")
    origin = conn.headers.get("origin")
    if origin is not None:
        origin = origin.strip().lower().rstrip("/")
        if not origin_allowed(origin, conn.headers.get("host"), frozenset(settings.allowed_origins)):
            raise Refused(403, "origin_not_allowed", "this site may not embed the chat")
    return Widget(tenant, settings, origin)


def _limit(limiter: SlidingWindowLimiter, key: str) -> None:
    wait = limiter.check(key)
    if wait > 0:
        raise Refused(429, "rate_limited", "too many requests; please try again later", wait)
    limiter.record(key)


async def _json(request: Request) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise Refused(413, "payload_too_large", f"the request is larger than {MAX_BODY} bytes")
    try:
        fields = json.loads(body)
    except ValueError:
        raise Refused(400, "bad_request", "the request is not JSON") from None
    if not isinstance(fields, dict):
        raise Refused(400, "bad_request", "the request is not a JSON object")
    return fields


def _text(fields: dict[str, Any], name: str, most: int) -> str:
    value = fields.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str) or "\x00" in value:
        raise Refused(422, "validation_error", f"{name} must be text")
    if len(value) > most:
        raise Refused(422, "validation_error", f"{name} is longer than {most} characters")
    return value.strip()


def _topic(widget: Widget, fields: dict[str, Any]) -> tuple[str, int]:
    if not widget.settings.topics:
        raise Refused(409, "chat_not_configured", "the chat has no topics")
    topic = _text(fields, "topic", 40) or next(iter(widget.settings.topics))
    if topic not in widget.settings.topics:
        raise Refused(422, "unknown_topic", "please choose a topic from the list")
    return topic, widget.settings.topics[topic]


def _identities(tenant: Tenant, email: str, phone: str) -> list[IdentityIn]:
    try:
        out = given_identities(tenant, email, phone)
    except InvalidIdentity as error:
        raise Refused(422, "invalid_contact", str(error)) from error
    if not out:
        raise Refused(422, "contact_required", "please give an e-mail address or a phone number")
    return out


async def _guard(request: Request, key: str, handle: Callable[[Widget], Awaitable[Response]]) -> Response:
    origin = request.headers.get("origin")
    try:
        widget = await _widget(request, key)
        return await handle(widget)
    except Refused as refused:
        allowed = refused.code not in ("unknown_widget", "origin_not_allowed")
        return _refusal(refused, origin.strip().lower().rstrip("/") if origin and allowed else None)


# --- the script and the demo page ------------------------------------------------------------------------------


@router.get("/chat/widget.js")
async def widget_js() -> Response:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript; charset=utf-8",
                        headers=SECURITY | {"Cache-Control": "max-age=300"})  # fmt: skip


@router.get("/chat/demo", response_class=HTMLResponse)
async def demo_page(request: Request) -> Response:
    """A page embedding the demo tenant's widget (``make run``)."""
    async with request.app.state.ctx.db.session() as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == "demo"))
    key = ChatSettings.of(tenant.chat_settings if tenant is not None else None).widget_key
    if tenant is None or key is None:
        return HTMLResponse("<!doctype html><p>The demo tenant has no chat.</p>", 404)
    return HTMLResponse(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(tenant.name)}: chat demo</title></head>
<body style="font: 16px system-ui, sans-serif; margin: 2rem">
<h1>{escape(tenant.name)}</h1><p>A page of the company's site. The chat is in the corner.</p>
<script src="/chat/widget.js" data-key="{escape(key, quote=True)}" async></script>
</body></html>""")


# --- the widget's endpoints ------------------------------------------------------------------------------------


@router.options("/chat/api/{key}/{rest:path}")
async def preflight(key: str, rest: str, request: Request) -> Response:
    origin = request.headers.get("origin")
    try:
        widget = await _widget(request, key)
    except Refused as refused:
        return _refusal(refused, None)
    headers = _cors(widget.origin) | {
        "Access-Control-Allow-Methods": "GET, POST", "Access-Control-Max-Age": "600",
        "Access-Control-Allow-Headers": "Content-Type, X-Chat-Token, X-File-Name",
    }  # fmt: skip
    return Response(status_code=204 if origin else 200, headers=headers)


@router.get("/chat/api/{key}/config")
async def config(key: str, request: Request) -> Response:
    """The pre-chat form's topics, and whether anyone can chat now (``open``, ``closed``, ``no_agents``)."""

    async def handle(widget: Widget) -> Response:
        service = _service(request)
        topics = [{"id": t, "label": t.replace("_", " ").capitalize(), "availability": service.availability(q)}
                  for t, q in widget.settings.topics.items()]  # fmt: skip
        return _answer({"name": widget.tenant.name, "topics": topics, "max_file_bytes": widget.settings.max_file_bytes,
                        "file_types": widget.settings.file_types}, widget.origin)  # fmt: skip

    return await _guard(request, key, handle)


@router.post("/chat/api/{key}/start")
async def start(key: str, request: Request) -> Response:
    """The pre-chat form (``name``, ``email`` or ``phone``, ``topic``): a chat waiting in the topic's queue, its id
    and secret token (201); 409 ``chat_unavailable`` (with ``reason``) when the queue is closed or nobody is in."""

    async def handle(widget: Widget) -> Response:
        service = _service(request)
        ip = client_ip(request) or "?"
        fields = await _json(request)
        if fields.get("website"):
            raise Refused(422, "validation_error", "please leave the hidden field empty")
        topic, queue_id = _topic(widget, fields)
        name = " ".join(_text(fields, "name", 200).split())
        email, phone = _text(fields, "email", 254), _text(fields, "phone", 40)
        identities = _identities(widget.tenant, email, phone)
        available = service.availability(queue_id)
        if available != "open":
            return _refusal_with(Refused(409, "chat_unavailable", _UNAVAILABLE[available]), widget.origin, available)
        _limit(service.limits.starts, ip)
        for attempt in range(STARTS_TRIED):
            try:
                async with service.start_lock, write(service.db, service.bus, Who(None, "chat widget", ip)) as tx:
                    started = await actions.start(
                        tx, widget.tenant, name=name, identities=identities, topic=topic, queue_id=queue_id,
                        origin=widget.origin, email=email or None, phone=phone or None,
                    )  # fmt: skip
                break
            except DomainError as error:
                raise Refused(422, error.code, error.message) from error
            except IntegrityError:  # another start took the same new customer number meanwhile: again
                if attempt == STARTS_TRIED - 1:
                    raise
        await service.routing.route([started.task])
        live = await service.hub.live(started.chat.id)
        assert live is not None
        body = {"chat": started.chat.id, "token": started.token, "state": service.waiting_view(live)}
        return _answer(body, widget.origin, 201)

    return await _guard(request, key, handle)


_UNAVAILABLE = {"closed": "we are closed now: leave us a message or ask for a callback",
                "no_agents": "nobody can chat now: leave us a message or ask for a callback",
                "no_queue": "the chat is not available: leave us a message"}  # fmt: skip


def _refusal_with(refused: Refused, origin: str | None, reason: str) -> JSONResponse:
    body = {"error": {"code": refused.code, "message": refused.message, "details": {"reason": reason}}}
    return JSONResponse(body, status_code=refused.status, headers=_cors(origin))


@router.post("/chat/api/{key}/message")
async def leave_message(key: str, request: Request) -> Response:
    """A message left when nobody can chat (``name``, ``email`` or ``phone``, ``topic``, ``message``): a case in the
    topic's queue; its number (201)."""

    async def handle(widget: Widget) -> Response:
        service = _service(request)
        ip = client_ip(request) or "?"
        fields = await _json(request)
        topic, queue_id = _topic(widget, fields)
        message = _text(fields, "message", MAX_MESSAGE)
        if not message:
            raise Refused(422, "message_required", "please write your message")
        identities = _identities(widget.tenant, _text(fields, "email", 254), _text(fields, "phone", 40))
        _limit(service.limits.starts, ip)
        moves = Moves()
        try:
            async with write(service.db, service.bus, Who(None, "chat widget", ip)) as tx:
                number = await actions.leave_message(
                    tx, widget.tenant, name=" ".join(_text(fields, "name", 200).split()), identities=identities,
                    topic=topic, queue_id=queue_id, message=message, moves=moves,
                )  # fmt: skip
        except (DomainError, ValidationError) as error:
            raise Refused(
                422, "not_filed", getattr(error, "message", None) or "the message could not be filed"
            ) from error
        await moves.apply(service.routing)
        return _answer({"status": "filed", "case_number": number}, widget.origin, 201)

    return await _guard(request, key, handle)


@router.post("/chat/api/{key}/callback")
async def callback(key: str, request: Request) -> Response:
    """A callback asked for when nobody can chat (``phone``, ``name``, ``topic``, ``reason``), in the topic's queue."""

    async def handle(widget: Widget) -> Response:
        service = _service(request)
        ip = client_ip(request) or "?"
        fields = await _json(request)
        _, queue_id = _topic(widget, fields)
        phone = _text(fields, "phone", 40)
        if not phone:
            raise Refused(422, "phone_required", "please give a phone number")
        name, reason = " ".join(_text(fields, "name", 200).split()), _text(fields, "reason", 300)
        _limit(service.limits.starts, ip)
        try:
            async with write(service.db, service.bus, Who(None, "chat widget", ip)) as tx:
                note = f"{name}: {reason}" if name and reason else name or reason
                written = await actions.ask_callback(tx, widget.tenant, queue_id=queue_id, number=phone, reason=note)
        except (DomainError, ValidationError) as error:
            raise Refused(
                422, "not_filed", getattr(error, "message", None) or "the callback could not be asked for"
            ) from error
        if written.route is not None:
            await service.routing.route([written.route])
        return _answer({"status": "requested", "callback": written.callback.id}, widget.origin, 201)

    return await _guard(request, key, handle)


async def _own_chat(request: Request, widget: Widget, chat_id: int) -> ChatSession:
    token = request.headers.get("x-chat-token", "")
    async with _service(request).db.session() as s:
        chat = await s.get(ChatSession, chat_id)
    if chat is None or chat.tenant_id != widget.tenant.id or not token or chat.token_hash != actions.token_hash(token):
        raise Refused(404, "unknown_chat", "no such chat (or a wrong token)")
    return chat


@router.post("/chat/api/{key}/chats/{chat_id}/files")
async def upload(key: str, chat_id: int, request: Request) -> Response:
    """The customer sends a file (the body, raw; its name in ``X-File-Name``): checked by content and size, kept,
    and sent as a line of the chat (201)."""

    async def handle(widget: Widget) -> Response:
        service = _service(request)
        chat = await _own_chat(request, widget, chat_id)
        if chat.status == "ended":
            raise Refused(409, "chat_ended", "the chat has ended")
        limit = widget.settings.max_file_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Refused(413, "file_too_large", f"the file is larger than {limit} bytes")
        data = await _read_capped(request, limit)
        _limit(service.limits.files, str(chat.id))
        row = await store_file(service, chat, "customer", data, unquote(request.headers.get("x-file-name", "file")),
                               widget.settings)  # fmt: skip
        live = await service.hub.live(chat.id)
        assert live is not None
        seq, _ = await service.hub.post(live, "customer", row.filename, None, file=row)
        return _answer({"id": row.id, "name": row.filename, "type": row.content_type, "size": row.size, "seq": seq},
                       widget.origin, 201)  # fmt: skip

    return await _guard(request, key, handle)


async def _read_capped(request: Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, "file_too_large", f"the file is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def store_file(
    service: ChatService, chat: ChatSession, sender: str, data: bytes, name: str, settings: ChatSettings,
    who: Who | None = None,
) -> ChatFile:  # fmt: skip
    """Check a file by its content, keep it, and record it (Refused with the reason when it is not taken)."""
    try:
        kind = check(data, settings.file_types, settings.max_file_bytes)
    except FileRefused as refused:
        raise Refused(413 if refused.code == "file_too_large" else 415, refused.code, refused.message) from None
    kept = await asyncio.to_thread(service.files.keep, chat.tenant_id, data, kind)
    async with write(service.db, service.bus, who or Who(None, "chat widget")) as tx:
        row = await actions.record_file(tx, chat, sender, safe_name(name, kind), kind, len(data), kept.sha256,
                                        kept.path)  # fmt: skip
    return row


def file_response(service: ChatService, row: ChatFile, headers: dict[str, str]) -> Response:
    """The file as its checked type, always as a download, in a sandbox."""
    path = service.files.path(row.path)
    if not path.is_file():
        raise Refused(404, "file_missing", "the file is missing from the data folder")
    headers = headers | {"Content-Disposition": f"attachment; filename*=UTF-8''{quote(row.filename, safe='')}",
                         "Content-Security-Policy": "sandbox", "X-Content-Type-Options": "nosniff"}  # fmt: skip
    return FileResponse(path, media_type=row.content_type, headers=headers)


@router.get("/chat/api/{key}/chats/{chat_id}/files/{file_id}")
async def download(key: str, chat_id: int, file_id: int, request: Request) -> Response:
    async def handle(widget: Widget) -> Response:
        service = _service(request)
        chat = await _own_chat(request, widget, chat_id)
        async with service.db.session() as s:
            row = await s.get(ChatFile, file_id)
        if row is None or row.chat_id != chat.id:
            raise Refused(404, "unknown_file", "no such file in this chat")
        return file_response(service, row, _cors(widget.origin))

    return await _guard(request, key, handle)


@router.post("/chat/api/{key}/chats/{chat_id}/transcript")
async def transcript(key: str, chat_id: int, request: Request) -> Response:
    """E-mail the chat's transcript to ``email`` (default: the address given in the pre-chat form), 202."""

    async def handle(widget: Widget) -> Response:
        service = _service(request)
        chat = await _own_chat(request, widget, chat_id)
        fields = await _json(request)
        try:
            to = normalize_email(_text(fields, "email", 254) or chat.email or "")
        except InvalidIdentity as error:
            raise Refused(422, "invalid_email", str(error)) from None
        _limit(service.limits.transcripts, str(chat.id))
        try:
            async with write(service.db, service.bus, Who(None, "chat widget", client_ip(request))) as tx:
                tenant = await tx.session.get(Tenant, chat.tenant_id)
                row = await tx.session.get(ChatSession, chat.id)
                assert tenant is not None and row is not None
                await actions.email_transcript(tx, tenant, row, to)
        except DomainError as error:
            raise Refused(error.status, error.code, error.message) from error
        request.app.state.ctx.email.outbox.wake.set()
        return _answer({"status": "queued", "to": to}, widget.origin, 202)

    return await _guard(request, key, handle)


# --- the customer's socket -------------------------------------------------------------------------------------


@router.websocket("/chat/ws/{key}")
async def customer_socket(websocket: WebSocket, key: str) -> None:
    """The customer's side of a chat (``protocol.py``): ``hello`` first, then lines, typing, end."""
    try:
        widget = await _widget(websocket, key)
    except Refused as refused:
        await websocket.accept()
        await websocket.close(protocol.FORBIDDEN if refused.status == 403 else 4404, refused.message)
        return
    await websocket.accept()
    service = _service(websocket)
    try:
        raw = await asyncio.wait_for(websocket.receive(), HELLO_TIMEOUT_S)
    except TimeoutError:
        await websocket.close(protocol.UNAUTHORIZED, "send hello first")
        return
    if raw["type"] == "websocket.disconnect":
        return
    try:
        hello = protocol.parse("customer", raw.get("text"))
    except protocol.Malformed as error:
        await websocket.close(protocol.MALFORMED, str(error)[:120])
        return
    live = await _hello(service, widget, hello)
    if live is None:
        await websocket.close(protocol.UNAUTHORIZED, "hello first, with the chat and its token")
        return
    conn = Conn(websocket, "customer")
    service.hub.join_customer(live, conn)
    try:
        conn.send({"type": "ready", "chat": live.id})
        await service.hub.backlog(conn, live.id, hello.after)
        conn.send(await service.state_frame(live))
        budget = protocol.LineBudget(widget.settings.lines_per_s, widget.settings.lines_burst)
        await _customer_loop(service, websocket, live, conn, budget)
    finally:
        service.hub.leave_customer(live, conn)
        await conn.close()


async def _hello(service: ChatService, widget: Widget, hello: protocol.Frame) -> Live | None:
    if hello.type != "hello" or hello.chat is None or hello.token is None:
        return None
    async with service.db.session() as s:
        chat = await s.get(ChatSession, hello.chat)
    if chat is None or chat.tenant_id != widget.tenant.id or chat.token_hash != actions.token_hash(hello.token):
        return None
    return await service.hub.live(chat.id)


async def next_frame(websocket: WebSocket, side: str) -> protocol.Frame | None:
    """The next frame ``side`` (customer or agent) sent; None once the socket closed, or after a malformed frame,
    which closes it with ``protocol.MALFORMED``."""
    try:
        raw = await websocket.receive()
    except (WebSocketDisconnect, RuntimeError):
        return None
    if raw["type"] == "websocket.disconnect":
        return None
    try:
        return protocol.parse(side, raw.get("text"))
    except protocol.Malformed as error:
        await websocket.close(protocol.MALFORMED, str(error)[:120])
        return None


async def _customer_loop(
    service: ChatService, websocket: WebSocket, live: Live, conn: Conn, budget: protocol.LineBudget
) -> None:
    loop = asyncio.get_running_loop()
    while (frame := await next_frame(websocket, "customer")) is not None:
        if frame.type == "message":
            if live.status == "ended":
                conn.send({"type": "error", "code": "chat_ended", "message": "the chat has ended",
                           "client_id": frame.client_id})  # fmt: skip
                continue
            wait = budget.take(loop.time())
            if wait is not None:  # flooding: this line is not stored; the socket stays, the client sends it later
                conn.send({"type": "error", "code": "rate_limited", "client_id": frame.client_id,
                           "retry_after_s": round(wait, 2), "message": RATE_LIMITED})  # fmt: skip
                continue
            assert frame.text is not None
            try:
                seq, _ = await service.hub.post(live, "customer", frame.text, frame.client_id, origin=conn)
            except RuntimeError:
                conn.send({"type": "error", "code": "not_stored", "message": "the line was not stored: send it again",
                           "client_id": frame.client_id})  # fmt: skip
                continue
            conn.send({"type": "ack", "client_id": frame.client_id, "seq": seq})
        elif frame.type == "typing":
            service.hub.broadcast(live, {"type": "typing", "chat": live.id, "sender": "customer"}, customers=False)
        elif frame.type == "end":
            await service.end(live.id, "customer", Who(None, "chat widget"))
        elif frame.type == "ping":
            conn.send({"type": "pong"})
        else:
            await websocket.close(protocol.MALFORMED, f"{frame.type} is not sent twice")
            return
