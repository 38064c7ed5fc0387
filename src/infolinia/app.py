"""Composition root: builds and wires every part. Nothing else constructs services."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, APIWebSocketRoute
from fastapi.staticfiles import StaticFiles

from infolinia import __version__, event_types
from infolinia.api import deps, errors
from infolinia.api.routes import (
    auth,
    callbacks,
    calls,
    campaigns,
    cases,
    chat,
    context,
    customers,
    email,
    interactions,
    kb,
    live,
    people,
    prompts,
    reports,
    routing,
    scripts,
    telephony,
    tenants,
    wallboard,
    wfm,
    wfm_sim,
    wrapup,
)
from infolinia.auth.ratelimit import SlidingWindowLimiter
from infolinia.cases.actions import watch_service_levels
from infolinia.channels.chat import public as chat_public
from infolinia.channels.chat.service import ChatService
from infolinia.channels.email.service import EmailService
from infolinia.config import Settings
from infolinia.events import EventBus
from infolinia.kb.actions import fill_embeddings
from infolinia.kb.semantic import Embedder
from infolinia.looplag import LoopWatch
from infolinia.outbound.actions import close_settled_tasks, watch_promises
from infolinia.outbound.attempts import recover as recover_predictive
from infolinia.outbound.runner import CampaignRunner
from infolinia.routing.service import RoutingService
from infolinia.store.db import Database
from infolinia.voice.calls.manager import CallManager
from infolinia.voice.calls.records import CallRecords
from infolinia.voice.directory import AgentDirectory
from infolinia.voice.media import MediaEngine
from infolinia.voice.prompts import PromptLibrary
from infolinia.voice.registrar import Registrar
from infolinia.voice.sip import Request, Response
from infolinia.voice.sip.transport import Peer, SipTransport, tcp_socket, udp_socket
from infolinia.voice.telephony import TelephonyDirectory
from infolinia.wallboard.hub import Wallboards
from infolinia.web import contact, forms, help, ui

log = logging.getLogger(__name__)

API = "/api/v1"
PUBLIC_ROUTES = frozenset({f"{API}/auth/login"})

HealthCheck = Callable[[], Awaitable[bool]]
ROUTERS = (
    auth.router, tenants.router, people.router, customers.router, interactions.router, routing.router, live.router,
    telephony.router,
    prompts.router,
    callbacks.router,
    campaigns.router,
    cases.router,
    kb.router,
    context.router,
    scripts.router,
    wrapup.router,
    email.router,
    wfm.router,
    wfm_sim.router,
    chat.router,
    reports.router,
    calls.router,
    wallboard.router,
)  # fmt: skip
#: routes with a request-body limit of their own (full paths), see ``api/errors.BodyLimit``
BODY_LIMITS = (
    [
        (method, re.compile(re.escape(API) + path.pattern), size)
        for method, path, size in (*prompts.BODY_LIMITS, *campaigns.BODY_LIMITS, *chat.BODY_LIMITS)
    ]
    + list(ui.BODY_LIMITS)
    + list(chat_public.BODY_LIMITS)
)  # the console's upload forms, the widget's (full paths)


def api_routes() -> list[tuple[str, APIRoute]]:
    """Every ``/api/v1`` HTTP route with its full path (the route table the access tests are derived from)."""
    return [(API + r.path, r) for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def api_websocket_routes() -> list[tuple[str, APIWebSocketRoute]]:
    """Every ``/api/v1`` WebSocket route with its full path."""
    return [(API + r.path, r) for router in ROUTERS for r in router.routes if isinstance(r, APIWebSocketRoute)]


class Infolinia:
    """One contact center process: database, event bus, login limiter, voice prompts, SIP registrar, HTTP app, the
    e-mail channel (SMTP listener, processing, outbox) and the schedulers. ``sip_socket``: a UDP socket already bound
    (``serve`` binds it first to report a port in use); without one, ``start`` binds
    ``settings.host``:``settings.sip_port``. ``sip_tcp_socket``: likewise the listening TCP socket on the same port
    (with ``settings.sip_tcp``); without one, ``start`` binds it. ``smtp_socket``: likewise the SMTP listener's."""

    def __init__(
        self,
        settings: Settings,
        sip_socket: socket.socket | None = None,
        sip_tcp_socket: socket.socket | None = None,
        smtp_socket: socket.socket | None = None,
    ) -> None:
        self.settings = settings
        self.db = Database(settings.database_url)
        self.bus = EventBus(event_types.validate if settings.validate_events else None)
        self.login_limiter = SlidingWindowLimiter(settings.login_attempts, settings.login_window_s)
        self.ip_limiter = SlidingWindowLimiter(settings.login_attempts * 6, settings.login_window_s)
        self.form_limits = forms.FormLimits()  # the public forms' requests per address and per number
        self.help_limits = help.HelpLimits()  # the public help pages' searches per address
        self.contact_limits = contact.ContactLimits()  # the public contact form's requests per address
        self.routing = RoutingService(self.db, self.bus, always_open=settings.always_open)
        self.prompts = PromptLibrary(self.db, settings.data_dir)
        self.semantic = Embedder(settings.kb_semantic)  # the knowledge base's search by meaning, when installed
        self._semantic_load: asyncio.Task[None] | None = None
        self._timers: asyncio.Task[None] | None = None
        self._promises: asyncio.Task[None] | None = None  # marks callbacks whose promise broke
        self._campaigns: asyncio.Task[None] | None = None
        self._case_levels: asyncio.Task[None] | None = None  # warns of and escalates cases past their service levels
        self.loop_watch = LoopWatch(trace_after=settings.trace_stalls_ms / 1000)  # for /healthz
        self.campaigns = CampaignRunner(self.db, self.bus, self.routing)  # feeds running campaigns to the queues
        self.registrar = Registrar(AgentDirectory(self.db))
        self.telephony = TelephonyDirectory(self.db)  # numbers, trunks and flows, as the call control reads them
        self.sip = SipTransport({"REGISTER": self._register})
        self.media = MediaEngine(settings.host, settings.rtp_port_range)
        self.calls = CallManager(
            settings=settings, transport=self.sip, media=self.media, numbers=self.telephony, registrar=self.registrar,
            prompts=self.prompts, routing=self.routing, records=CallRecords(self.db, self.bus),
        )  # fmt: skip
        self.campaigns.predictive = self.calls.predictive
        self.email = EmailService(settings, self.db, self.bus, self.routing)  # SMTP in, processing, the outbox
        self.chat = ChatService(settings, self.db, self.bus, self.routing)  # the widget's and agents' chats
        self.wallboard = Wallboards(self.db, self.bus, self.routing)  # the supervisors' boards, shared
        self._wallboard: asyncio.Task[None] | None = None
        self._smtp_socket = smtp_socket
        self._sip_socket = sip_socket
        self._sip_tcp_socket = sip_tcp_socket
        self._sip_tcp: asyncio.AbstractServer | None = None
        self.sip_address: tuple[str, int] | None = None  # where SIP listens once started
        self.health_checks: dict[str, HealthCheck] = {
            "database": self.db.ping, "routing": self._routing_up, "sip": self._sip_up, "prompts": self._prompts_up,
        }  # fmt: skip
        if settings.smtp:
            self.health_checks["smtp"] = self._smtp_up

    async def _register(self, request: Request, source: Peer) -> Response:
        return await self.registrar.handle(request, source, time.time())

    async def _sip_up(self) -> bool:
        return self.sip.is_open

    async def _smtp_up(self) -> bool:
        return self.email.listening

    async def _prompts_up(self) -> bool:
        return self.prompts.started

    async def _routing_up(self) -> bool:
        return self._timers is not None and not self._timers.done()

    async def start(self) -> None:
        """Load what must live in memory (the voice prompts, made on first start; the routing engine) and start the
        background loops."""
        self.loop_watch.start()
        self._semantic_load = asyncio.create_task(self._start_semantic(), name="kb-semantic-load")
        await self.prompts.start()
        # before the engine could route their tasks again
        closed = await recover_predictive(self.db, self.bus)
        if closed:
            log.info("predictive calls left unfinished by the last run: %d closed", closed)
        settled = await close_settled_tasks(self.db)
        if settled:
            log.info("closed %d tasks of callbacks and contacts settled before the restart", settled)
        restored = await self.routing.load()
        log.info("routing engine loaded: %d open tasks", restored)
        self._timers = asyncio.create_task(self.routing.run_timers(), name="routing-timers")
        self._wallboard = asyncio.create_task(self.wallboard.track(), name="wallboard-states")
        self._promises = asyncio.create_task(watch_promises(self.db, self.bus), name="callback-promises")
        self._campaigns = asyncio.create_task(self.campaigns.run(), name="campaign-runner")
        self._case_levels = asyncio.create_task(
            watch_service_levels(self.db, self.bus, self.routing), name="case-service-levels"
        )
        smtp, self._smtp_socket = self._smtp_socket, None
        await self.email.start(smtp)
        await self.chat.start()
        sock = self._sip_socket or udp_socket(self.settings.host, self.settings.sip_port)
        self._sip_socket = None
        await asyncio.get_running_loop().create_datagram_endpoint(lambda: self.sip, sock=sock)
        self.sip_address = sock.getsockname()[:2]
        log.info("SIP/UDP listening on %s:%d", *self.sip_address)
        if self.settings.sip_tcp:
            await self._listen_tcp(self.sip_address[1])
        await self.media.start()
        await self.calls.start(self.sip_address)
        log.info("calls: RTP on %s ports %d-%d", self.settings.host, *self.settings.rtp_port_range)

    async def _start_semantic(self) -> None:
        """Load the semantic model (in its own process), then embed the articles saved without it (or stale)."""
        if not await self.semantic.load():
            if self.semantic.state in ("off", "not_installed"):
                log.info("semantic search in the knowledge base: %s", self.semantic.state.replace("_", " "))
            return
        try:
            made = await fill_embeddings(self.db, self.semantic)
        except Exception:
            log.exception("semantic search: embedding the articles saved without the model failed; run kb reindex")
            return
        if made:
            log.info("semantic search: embedded %d article(s) saved without the model", made)

    async def _listen_tcp(self, port: int) -> None:
        tcp, self._sip_tcp_socket = self._sip_tcp_socket, None
        if tcp is None:
            try:
                tcp = tcp_socket(self.settings.host, port)
            except OSError as exc:
                if self.settings.sip_port:  # a port the operator chose: its TCP side must be there too
                    raise
                log.warning("SIP/TCP: cannot listen on port %d beside UDP (%s); SIP over UDP only", port, exc)
                return
        self._sip_tcp = await asyncio.get_running_loop().create_server(self.sip.stream, sock=tcp)
        log.info("SIP/TCP listening on %s:%d", *tcp.getsockname()[:2])

    async def stop(self) -> None:
        self.loop_watch.stop()
        if self._sip_tcp is not None:
            self._sip_tcp.close()
        await self.calls.close()
        await self.media.close()
        await self.sip.close()
        await self.email.stop()
        await self.chat.stop()
        tasks = (self._timers, self._promises, self._campaigns, self._case_levels, self._semantic_load, self._wallboard)
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.db.dispose()

    async def health(self) -> dict[str, Any]:
        parts: dict[str, dict[str, Any]] = {name: {"up": await check()} for name, check in self.health_checks.items()}
        parts["http"] = {"up": True}
        parts["kb_semantic"] = self.semantic.status()
        parts["sip"] |= {"counters": self.sip.stats(), "calls": self.calls.stats(), "media": self.media.stats()}
        if "smtp" in parts:
            parts["smtp"] |= {"counters": self.email.handler.stats(), "processed": self.email.processed}
        parts["chat"] = {"up": True, **self.chat.stats()}
        ok = all(p["up"] for p in parts.values())
        return {
            "status": "ok" if ok else "degraded", "version": __version__, "subsystems": parts,
            "loop": self.loop_watch.stats(),
        }  # fmt: skip

    def http_app(self) -> FastAPI:
        @asynccontextmanager
        async def lifespan(_: FastAPI) -> AsyncIterator[None]:
            await self.start()
            gc.freeze()  # what start loaded (engine state, modules) lives as long as the process: out of full passes
            yield
            await self.stop()

        app = FastAPI(
            title="infolinia",
            version=__version__,
            openapi_url=f"{API}/openapi.json",
            docs_url=None,  # the interactive page would load its scripts from a CDN; we serve nothing from one
            redoc_url=None,
            lifespan=lifespan,
        )
        app.state.ctx = self
        errors.install(app)
        for router in ROUTERS:
            app.include_router(router, prefix=API)
        app.include_router(forms.router)  # public pages, outside the API and its access gate
        app.include_router(help.router)
        app.include_router(contact.router)
        app.include_router(ui.router)  # the browser UI (docs/ui.md): login, admin console
        app.mount(ui.STATIC_URL, StaticFiles(directory=ui.STATIC), name="ui-static")
        app.include_router(chat_public.router)  # the chat widget, its endpoints and the customer's socket

        @app.get("/healthz", tags=["health"])
        async def healthz() -> JSONResponse:
            report = await self.health()
            return JSONResponse(report, status_code=200 if report["status"] == "ok" else 503)

        deps.check_routes([*api_routes(), *api_websocket_routes()], PUBLIC_ROUTES)
        app.add_middleware(errors.BodyLimit, limit=self.settings.max_body_bytes, routes=BODY_LIMITS)
        return app
