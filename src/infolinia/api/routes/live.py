"""Live state: the event stream (server-sent events and WebSocket on the same path) and the routing snapshot the
events apply to. A client subscribes, waits for ``ready``, fetches the snapshot, then applies the events whose
``seq`` is higher than the snapshot's (``routing/replica.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, WebSocket
from fastapi.responses import StreamingResponse
from starlette.websockets import WebSocketDisconnect

from infolinia.access import Actor, can
from infolinia.api import wsgate
from infolinia.api.deps import Access, WsAccess, access, ws_access
from infolinia.events import Event, EventBus, Subscription
from infolinia.routing import views
from infolinia.routing.service import RoutingService

router = APIRouter(tags=["live"])


def visible(actor: Actor, event: Event) -> bool:
    """Tenant first; those who monitor routing see the tenant's events, others only those about themselves."""
    if actor.tenant_id is not None and event.tenant_id != actor.tenant_id:
        return False  # every tenant user has a tenant; only a platform admin without X-Tenant sees all tenants
    if can(actor, "routing.monitor"):
        return True
    return actor.user_id in (event.data.get("agent"), event.data.get("user_id"))


def _json(message: dict[str, Any]) -> str:
    return json.dumps(message, separators=(",", ":"), default=str)


@router.get("/routing/snapshot", response_model=views.Snapshot)
async def routing_snapshot(a: Access = Depends(access("routing.monitor"))) -> views.Snapshot:
    """The tenant's open tasks, agents and queue counters, with ``seq``: the newest event they already include."""
    tenant_id = a.tenant.id
    await a.session.close()
    ctx = a.request.app.state.ctx
    routing: RoutingService = ctx.routing
    bus: EventBus = ctx.bus
    async with routing.lock:  # every routing event is published under this lock: state and seq go together
        return views.snapshot(routing.engine, tenant_id, bus.last_seq)


@router.get("/events", response_class=StreamingResponse)
async def events(a: Access = Depends(access("events.read"))) -> StreamingResponse:
    """Server-sent events, one JSON object per event (``id`` is the bus sequence number); a comment when idle."""
    actor, settings = a.actor, a.settings
    bus: EventBus = a.request.app.state.ctx.bus
    await a.session.close()  # nothing more to read: do not hold a pooled connection for the whole stream

    async def stream() -> AsyncIterator[bytes]:
        with bus.subscribe(settings.events_buffer, lambda e: visible(actor, e)) as sub:
            yield b": connected\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(sub.get(), timeout=settings.events_keepalive_s)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                yield f"id: {event.seq}\nevent: {event.type}\ndata: {_json(event.as_dict())}\n\n".encode()
                if sub.overflowed:
                    yield b"event: overflow\ndata: {}\n\n"
                    return

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


@router.websocket("/events")
async def events_socket(w: WsAccess = Depends(ws_access("events.read"))) -> None:
    """The same events over a WebSocket: ``ready`` first, then one JSON text message per event."""
    bus: EventBus = w.websocket.app.state.ctx.bus
    with bus.subscribe(w.settings.events_buffer, lambda e: visible(w.actor, e)) as sub:
        ready = {"type": "ready", "seq": bus.last_seq, "user_id": w.actor.user_id, "tenant_id": w.actor.tenant_id}
        await w.websocket.send_text(_json(ready))
        await _serve(w, sub)


async def _serve(w: WsAccess, sub: Subscription) -> None:
    """Send events until the client leaves, the server stops, or the client falls behind or breaks the rules."""
    tasks = [asyncio.create_task(_listen(w.websocket)), asyncio.create_task(_send(w, sub))]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, OSError):
                await task


async def _listen(websocket: WebSocket) -> None:
    """The stream takes no messages: return when the client closes (or the server stops), close 1008 on data."""
    message = await websocket.receive()
    if message["type"] != "websocket.disconnect":
        await websocket.close(wsgate.POLICY, "this stream takes no messages")


async def _send(w: WsAccess, sub: Subscription) -> None:
    keepalive = w.settings.events_keepalive_s
    while True:
        try:
            event = await asyncio.wait_for(sub.get(), timeout=keepalive)
        except TimeoutError:
            await w.recheck()  # closes with 4401/4403 when the session ended or the role changed
            await w.websocket.send_text(_json({"type": "keepalive"}))
            continue
        await w.websocket.send_text(_json(event.as_dict()))
        if sub.overflowed:
            await w.websocket.send_text(_json({"type": "overflow"}))
            await w.websocket.close(wsgate.OVERFLOW, "overflow: reconnect and fetch the snapshot again")
            return
