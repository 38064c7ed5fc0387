"""The WebSocket side of the gate: origins, the auth message, start-up refusal of an ungated socket route; and every
event type the code publishes has a schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import APIRouter, Depends, WebSocket
from fastapi.routing import APIWebSocketRoute
from starlette.exceptions import WebSocketException

from infolinia import event_types
from infolinia.api import wsgate
from infolinia.api.deps import WsAccess, check_routes, route_permission, ws_access
from infolinia.app import API, api_routes, api_websocket_routes
from infolinia.config import Settings, SettingsError
from infolinia.errors import Forbidden, NotFound, Unauthorized

SRC = Path(__file__).resolve().parents[2] / "src" / "infolinia"


def test_origins() -> None:
    allowed = Settings(allowed_origins="https://desk.example.test, http://127.0.0.1:9000/").origins
    assert allowed == {"https://desk.example.test", "http://127.0.0.1:9000"}
    ok = wsgate.origin_allowed
    assert ok(None, "x.test", frozenset())  # not a browser
    assert ok("https://x.test", "x.test", frozenset()) and ok("http://X.test:8080", "x.test:8080", frozenset())
    assert ok("https://desk.example.test", "x.test", allowed)
    assert not ok("https://evil.test", "x.test", allowed)
    assert not ok("https://x.test:8443", "x.test", frozenset())
    assert not ok("null", "x.test", frozenset()) and not ok("ftp://x.test", "x.test", frozenset())
    for bad in ("desk.example.test", "https://desk.example.test/path", "*"):
        with pytest.raises(SettingsError, match="allowed_origins"):
            Settings(allowed_origins=bad)


def test_the_auth_message() -> None:
    assert wsgate.parse_auth('{"type": "auth", "token": "t"}').secret == "t"
    assert wsgate.parse_auth('{"type": "auth", "token": "t", "tenant": "demo"}').tenant == "demo"
    long = '{"type": "auth", "token": "' + "x" * 5000 + '"}'
    for bad in (None, "", "[]", "{", '{"type": "auth"}', '{"type": "auth", "token": 5}', '{"token": "t"}',
                '{"type": "auth", "token": "t", "extra": 1}', '{"type": "auth", "token": "t", "tenant": 1}',
                '{"type": "auth", "token": "t\\u0000"}', long):  # fmt: skip
        with pytest.raises(WebSocketException) as refused:
            wsgate.parse_auth(bad)
        assert refused.value.code == wsgate.BAD_REQUEST


def test_a_refusal_closes_with_4000_plus_the_http_status() -> None:
    assert wsgate.refusal(Unauthorized("no")).code == wsgate.UNAUTHENTICATED == 4401
    assert wsgate.refusal(Forbidden("no")).code == wsgate.FORBIDDEN == 4403
    assert wsgate.refusal(NotFound("no")).code == wsgate.NOT_FOUND == 4404
    assert len(wsgate.refusal(NotFound("é" * 200)).reason.encode()) <= 123


def test_a_websocket_route_without_the_gate_stops_the_start() -> None:
    router = APIRouter()

    @router.websocket("/open")
    async def open_socket(websocket: WebSocket) -> None:
        await websocket.accept()

    @router.websocket("/gated")
    async def gated(w: WsAccess = Depends(ws_access("events.read"))) -> None:
        await w.websocket.close()

    routes = {r.path: r for r in router.routes if isinstance(r, APIWebSocketRoute)}
    check_routes([(API + "/gated", routes["/gated"])], frozenset())
    with pytest.raises(RuntimeError, match="has no access"):
        check_routes([(API + "/open", routes["/open"])], frozenset())


def test_the_event_stream_shares_its_path_between_sse_and_websocket() -> None:
    http = {path: route_permission(r) for path, r in api_routes() if "GET" in r.methods}
    sockets = {path: route_permission(r) for path, r in api_websocket_routes()}
    assert sockets[f"{API}/events"] == "events.read" and http[f"{API}/events"] == "events.read"


def test_every_api_socket_is_gated() -> None:
    # the event stream and the agents' chat socket; each with the permission its HTTP counterparts ask for
    sockets = {path: route_permission(r) for path, r in api_websocket_routes()}
    assert sockets == {f"{API}/events": "events.read", f"{API}/chat/ws": "chat.handle"}


def _published_types() -> set[str]:
    """Every event type the code can publish: ``tx.emit("...")`` (or ``_emit(tx, "...")``) in the actions,
    ``_log(now, "...")`` and ``Event(now, "...")`` in the engine (published as ``routing.<kind>``)."""
    found = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'\.emit\(\s*"([a-z_.]+)"', text))
        found |= set(re.findall(r'_emit\(\s*\w+,\s*"([a-z_.]+)"', text))  # cases/actions.py
        found |= {f"routing.{k}" for k in re.findall(r'(?:_log|Event)\(\s*\w+,\s*"([a-z_]+)"', text)}
    return found


def test_every_published_event_type_has_a_schema() -> None:
    published = _published_types()
    assert len(published) > 20 and "routing.offer" in published and "consent.changed" in published
    assert published == set(event_types.SCHEMAS), "a schema per published event type, and none for nothing"
