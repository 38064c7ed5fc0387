"""The WebSocket side of the access gate: which pages may open a socket, where the credentials come from, and how
a refusal closes it. ``deps.ws_access()`` runs this, then the same ``admit()`` as every HTTP route.

- **Origin.** A browser sends ``Origin`` with every handshake, and a page on another site must not open a socket
  in the user's name (cross-site WebSocket hijacking). A handshake whose ``Origin`` is neither the server's own
  (same host and port as ``Host``) nor in ``INFOLINIA_ALLOWED_ORIGINS`` is refused with HTTP 403 before any socket
  opens. Clients that send no ``Origin`` (not browsers) pass.
- **Credentials.** ``Authorization: Bearer <token>`` (and ``X-Tenant``) on the handshake; without it, the first
  message must be ``{"type": "auth", "token": "...", "tenant": "<slug>"}`` (``tenant`` only for a platform admin),
  within ``AUTH_TIMEOUT_S``. The session cookie is not taken (a browser would send it for any page that opens a
  socket), and never a token in the URL: URLs end up in logs.
- **Close codes** after the socket opened: 4000 + the HTTP status the same request would have got.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from fastapi import WebSocket
from starlette.exceptions import WebSocketException

from infolinia.api.credentials import Credentials, credentials
from infolinia.config import Settings
from infolinia.errors import DomainError
from infolinia.schemas import has_nul

AUTH_TIMEOUT_S = 10.0
MAX_AUTH_MESSAGE = 4096

BAD_REQUEST = 4400  # the first message is not an auth message
UNAUTHENTICATED = 4401  # no credentials in time, or a token that is unknown, expired or revoked
FORBIDDEN = 4403  # the role lacks the route's permission
NOT_FOUND = 4404  # the tenant named by a platform admin does not exist
POLICY = 1008  # the client sent a message on a stream that takes none (and, before the socket opens: bad Origin)
OVERFLOW = 1013  # the client fell behind: it was sent {"type": "overflow"}; reconnect and fetch the snapshot again
SERVER_STOPPING = 1012  # the server is restarting or stopping (sent by the HTTP server itself)


def origin_allowed(origin: str | None, host: str | None, allowed: frozenset[str]) -> bool:
    """Same origin (scheme http/https, host and port equal to ``Host``) or one of ``allowed``; no Origin passes."""
    if origin is None:
        return True
    origin = origin.strip().lower().rstrip("/")
    if origin in allowed:
        return True
    scheme, sep, netloc = origin.partition("://")
    return bool(sep) and scheme in ("http", "https") and host is not None and netloc == host.strip().lower()


def refusal(exc: DomainError) -> WebSocketException:
    """The close that answers a refused gate: 4000 + the HTTP status, the message as the reason (at most 123 bytes)."""
    return WebSocketException(4000 + exc.status, _reason(exc.message))


def _reason(text: str) -> str:
    return text.encode()[:123].decode(errors="ignore")


async def handshake(websocket: WebSocket) -> Credentials:
    """Check the origin, accept the socket, and return the credentials the client presents."""
    settings: Settings = websocket.app.state.ctx.settings
    if not origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host"), settings.origins):
        raise WebSocketException(POLICY, "origin not allowed")  # before accept: the handshake is answered with 403
    await websocket.accept()
    presented = credentials(websocket, cookie=False)
    if presented.secret is None:
        presented = await _auth_message(websocket)
    return presented


async def _auth_message(websocket: WebSocket) -> Credentials:
    try:
        message = await asyncio.wait_for(websocket.receive(), AUTH_TIMEOUT_S)
    except TimeoutError:
        raise WebSocketException(UNAUTHENTICATED, "no credentials: send an auth message first") from None
    if message["type"] == "websocket.disconnect":
        raise WebSocketException(UNAUTHENTICATED, "closed before authenticating")
    return parse_auth(message.get("text"))


def parse_auth(text: str | None) -> Credentials:
    """``{"type": "auth", "token": str, "tenant": str (optional)}`` as text, or a 4400 close."""
    body: Any = None
    if text is not None and len(text) <= MAX_AUTH_MESSAGE:
        try:
            body = json.loads(text)
        except ValueError:
            body = None
    if not isinstance(body, dict) or body.get("type") != "auth" or set(body) - {"type", "token", "tenant"}:
        raise WebSocketException(BAD_REQUEST, 'expected {"type": "auth", "token": ..., "tenant": ...}')
    token, tenant = body.get("token"), body.get("tenant")
    if not isinstance(token, str) or not token or (tenant is not None and not isinstance(tenant, str)):
        raise WebSocketException(BAD_REQUEST, "token must be a non-empty string, tenant a string")
    if has_nul(token) or has_nul(tenant):
        raise WebSocketException(BAD_REQUEST, "token and tenant must not contain NUL characters")
    return Credentials(token, tenant)
