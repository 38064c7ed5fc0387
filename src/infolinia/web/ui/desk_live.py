"""The desk's two sockets, for ``static/desk.js``: ``/desk/ws/events`` (the agent's own events, as
``/api/v1/events`` sends them) and ``/desk/ws/chat`` (the agent's chats, as ``/api/v1/chat/ws``: the same code
runs behind both).

A page cannot hand its httponly session cookie to a script, and the API's sockets never take the cookie (any site
could open them in the user's name). The desk's sockets take it, but only with two more proofs a page on another
site cannot give: the handshake's ``Origin`` must be the server's own (or an allowed one, as for the API), and the
first message must be ``{"type": "auth", "csrf": "<the page's CSRF token>"}``, the token derived from that very
session. Then the same gate as everywhere (``api.deps.admit``): refusals close with 4000 + the HTTP status.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import APIRouter, WebSocket
from starlette.exceptions import WebSocketException

from infolinia.api import wsgate
from infolinia.api.credentials import SESSION_COOKIE, Credentials
from infolinia.api.deps import WsAccess, admit
from infolinia.api.routes import chat as chat_api
from infolinia.api.routes import live as live_api
from infolinia.config import Settings
from infolinia.errors import DomainError
from infolinia.web.ui import security
from infolinia.web.ui.gate import TENANT_COOKIE

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _csrf_of(text: str | None) -> str:
    body: Any = None
    if text is not None and len(text) <= wsgate.MAX_AUTH_MESSAGE:
        try:
            body = json.loads(text)
        except ValueError:
            body = None
    if not isinstance(body, dict) or body.get("type") != "auth" or set(body) != {"type", "csrf"}:
        raise WebSocketException(wsgate.BAD_REQUEST, 'expected {"type": "auth", "csrf": ...}')
    csrf = body["csrf"]
    if not isinstance(csrf, str) or not csrf:
        raise WebSocketException(wsgate.BAD_REQUEST, "csrf must be a non-empty string")
    return csrf


async def admitted(websocket: WebSocket, permission: str) -> WsAccess:
    """Origin, the auth message with the page's CSRF token, then the gate for ``permission``."""
    settings: Settings = websocket.app.state.ctx.settings
    if not wsgate.origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"), settings.origins):
        raise WebSocketException(wsgate.POLICY, "origin not allowed")
    await websocket.accept()
    try:
        message = await asyncio.wait_for(websocket.receive(), wsgate.AUTH_TIMEOUT_S)
    except TimeoutError:
        raise WebSocketException(wsgate.UNAUTHENTICATED, "no credentials: send an auth message first") from None
    if message["type"] == "websocket.disconnect":
        raise WebSocketException(wsgate.UNAUTHENTICATED, "closed before authenticating")
    csrf = _csrf_of(message.get("text"))
    secret = websocket.cookies.get(SESSION_COOKIE)
    if not secret or not security.same(security.session_token(secret), csrf):
        raise WebSocketException(wsgate.UNAUTHENTICATED, "log in first: the session or the page's token is stale")
    presented = Credentials(secret, websocket.cookies.get(TENANT_COOKIE) or None)
    try:
        async with websocket.app.state.ctx.db.session() as s:
            actor, tenant, _ = await admit(s, presented, permission, {})
    except DomainError as exc:
        raise wsgate.refusal(exc) from None
    return WsAccess(websocket, actor, tenant, presented, permission)


@router.websocket("/desk/ws/events")
async def events(websocket: WebSocket) -> None:
    """The agent's events (offers, their state): what ``/api/v1/events`` sends them."""
    await live_api.events_socket(await admitted(websocket, "events.read"))


@router.websocket("/desk/ws/chat")
async def chats(websocket: WebSocket) -> None:
    """The agent's chats: the frames of ``/api/v1/chat/ws``."""
    await chat_api.agent_socket(await admitted(websocket, "chat.handle"))
