"""The call control: takes new INVITEs, keeps the calls, rings agents when the routing engine offers them a call.

A new INVITE is checked in this order, each failure answered at once: the dialled number belongs to a tenant
(else 404); the request comes from one of that tenant's trunks (else 403; nothing here ever places a call to an
outside number, so an inbound request cannot make us dial anywhere: no toll fraud); the number has a flow (else
480); the INVITE's SDP offer, if it has one, is readable (else 400) and one we can answer (else 488); a media
port is free (else 503). An INVITE without an offer (a late offer, as some PBXs and carriers send) gets our offer
in the 200, and the caller's answer comes in the ACK. Then the call
(``InboundCall``) takes over. Calls are kept by Call-ID and by routing task; the routing engine's decisions reach
the call of their task.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infolinia.config import Settings
from infolinia.customers.actions import current_consent
from infolinia.outbound.actions import request_callback
from infolinia.routing.model import Channel as RoutingChannel
from infolinia.routing.model import Event as RoutingEvent
from infolinia.routing.service import RoutingService
from infolinia.schemas import CallbackIn
from infolinia.store.models import ConsentPurpose, Tenant
from infolinia.store.uow import write
from infolinia.tenants.calendar import set_hours
from infolinia.voice.calls.agent import AgentLeg
from infolinia.voice.calls.callback_call import CallbackCall
from infolinia.voice.calls.inbound import InboundCall
from infolinia.voice.calls.phrases import PhraseCache
from infolinia.voice.calls.predictive_call import PredictiveDialer
from infolinia.voice.calls.records import CALLS, CallRecords
from infolinia.voice.ivr.interpreter import HoursStatus
from infolinia.voice.media import Audio, MediaEngine, MediaError, MediaLeg
from infolinia.voice.prompts import GAP_MS, PromptLibrary
from infolinia.voice.registrar import Registrar, digest_refusal
from infolinia.voice.sdp import Answer, Local, NotAcceptable, SdpError, answer_offer, parse_sdp
from infolinia.voice.sip import (
    Address,
    Authorized,
    DigestCredentials,
    Request,
    Response,
    SipUri,
    parse_address,
)
from infolinia.voice.sip.builders import SentBy, response_to
from infolinia.voice.sip.dialog import Dialog, DialogError
from infolinia.voice.sip.timers import Timers
from infolinia.voice.sip.transaction import TransactionError
from infolinia.voice.sip.transport import Peer, ServerInvite, SipTransport
from infolinia.voice.telephony import NumberRoute, TelephonyDirectory, TrunkMatch

log = logging.getLogger(__name__)

MUSIC = "music_on_hold"
BEEP = "beep"


class CallManager:
    def __init__(
        self,
        *,
        settings: Settings,
        transport: SipTransport,
        media: MediaEngine,
        numbers: TelephonyDirectory,
        registrar: Registrar,
        prompts: PromptLibrary,
        routing: RoutingService,
        records: CallRecords,
        announce_every_s: float = 30.0,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.media = media
        self.numbers = numbers
        self.registrar = registrar
        self.prompts = prompts
        self.routing = routing
        self.records = records
        self.announce_every_s = announce_every_s
        self.timers = Timers()
        self.calls: dict[str, InboundCall] = {}
        self.by_task: dict[int, InboundCall] = {}
        self.music = Audio.silence(1000)
        self.beep = Audio.tone(1000.0, 300)
        self._phrases = PhraseCache()
        self.callback_calls: dict[int, CallbackCall] = {}  # routing task -> the callback being dialed for it
        #: routing task -> the call that hears the engine's decisions on it (a predictive call seeking an agent)
        self.task_listeners: dict[int, Callable[[RoutingEvent], None]] = {}
        self.predictive = PredictiveDialer(self)  # places predictive campaigns' calls, customer-first
        self._dials: set[asyncio.Task[None]] = set()
        self.data_dir = Path(settings.data_dir)
        self._adding = 0  # calls between add_tasks and learning their task id
        self._early: dict[int, list[RoutingEvent]] = defaultdict(list)
        self._address: Peer = (settings.host, settings.sip_port)
        self._starting: set[asyncio.Task[None]] = set()
        transport.on_invite = self._on_invite
        routing.listeners.append(self._on_routing)

    async def start(self, address: Peer) -> None:
        """Where SIP listens (for Via, Contact and SDP), and the music on hold."""
        self._address = address
        music = self.prompts.system_prompt(MUSIC, "en")
        beep = self.prompts.system_prompt(BEEP, "en")
        if music is not None:
            self.music = Audio.from_pcm16(music)
        if beep is not None:
            self.beep = Audio.from_pcm16(beep)

    async def close(self) -> None:
        for task in (*self._starting, *self._dials):
            task.cancel()
        await asyncio.gather(*self._dials, return_exceptions=True)
        for task in list(self._starting):
            task.cancel()
        for call in list(self.calls.values()):
            if call._task is not None:
                call._task.cancel()
        await asyncio.gather(
            *self._starting, *(c._task for c in self.calls.values() if c._task is not None), return_exceptions=True
        )

    def stats(self) -> dict[str, int]:
        states: dict[str, int] = defaultdict(int)
        for call in self.calls.values():
            states[call.state.value] += 1
        return {"calls": len(self.calls), **states}

    # --- addresses ---------------------------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        """Where SIP listens (host, port), as the Via, Contact and SDP of our requests name it."""
        return self._address

    @property
    def sent_by(self) -> SentBy:
        return SentBy(*self._address)

    @property
    def contact(self) -> Address:
        return parse_address(f"<sip:infolinia@{self._address[0]}:{self._address[1]}>")

    def local_sdp(self, leg: MediaLeg, previous: Answer | None = None) -> Local:
        version = 0 if previous is None else previous.sdp.origin.version + 1
        session = "1" if previous is None else previous.sdp.origin.session_id
        host, port = leg.local_address
        return Local(host, port, session_id=session, session_version=version)

    # --- new calls ---------------------------------------------------------------------------------------------

    def _on_invite(self, invite: ServerInvite) -> None:
        task = asyncio.get_running_loop().create_task(self._inbound(invite))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _inbound(self, invite: ServerInvite) -> None:
        request = invite.request
        try:
            checked = await self._check(invite)
        except Exception:
            log.exception("INVITE %s: checks failed", request.call_id)
            checked = (500, None)
        if isinstance(checked, Response):
            self.transport.respond(invite.key, checked)
            return
        if len(checked) == 2:
            status, reason = checked
            self.transport.respond(invite.key, response_to(request, status, reason))
            return
        route, leg, answer = checked
        call = InboundCall(self, invite, route, leg, answer)
        self.calls[request.call_id] = call
        call.start()

    async def _check(
        self, invite: ServerInvite
    ) -> Response | tuple[int, str | None] | tuple[NumberRoute, MediaLeg, Answer | None]:
        request = invite.request
        uri = request.uri
        if not isinstance(uri, SipUri) or not uri.user:
            return 404, None
        if request.call_id in self.calls:
            return 482, "Loop Detected"
        route = await self.numbers.number(uri.user)
        if route is None:
            return 404, None
        trunk = await self.numbers.trunk_for(invite.peer[0], route.tenant_id)
        if trunk is None:
            log.info("INVITE to %s from %s refused: not one of the tenant's trunks", route.e164, invite.peer[0])
            return 403, None
        if trunk.auth_required:
            refusal = await self._authenticate(request, route, trunk)
            if refusal is not None:
                return refusal
        if route.flow is None:
            return 480, "Temporarily Unavailable (number not in service)"
        offer = None
        if request.body:
            try:
                offer = parse_sdp(request.body)
            except SdpError as error:
                return 400, f"Bad Request ({error})"[:80]
        try:
            leg = self.media.open_leg()
        except MediaError:
            log.warning("INVITE %s: no media port free", request.call_id)
            return 503, None
        if offer is None:  # a late offer: ours goes in the 200, the caller answers in the ACK
            return route, leg, None
        answer = answer_offer(offer, self.local_sdp(leg))
        if isinstance(answer, NotAcceptable):
            leg.close()
            return answer.status, None
        return route, leg, answer

    async def _authenticate(self, request: Request, route: NumberRoute, trunk: TrunkMatch) -> Response | None:
        """Digest auth of a trunk that needs it (RFC 3261 §22: 401, as a UAS); None when the caller proved to be
        one of the trunks allowed from its address."""
        challenger = self.registrar.challenger(route.realm)
        now = time.time()
        read = challenger.read(request, now)
        if not isinstance(read, DigestCredentials):
            return digest_refusal(request, read)
        if trunk.account(read.username) is None:
            return response_to(request, 403)
        known = challenger.nonce_time(read.nonce) is not None
        ha1 = await self.numbers.trunk_ha1(route.tenant_id, read.username, read.algorithm) if known else None
        verdict = challenger.verify(read, ha1, now)
        return None if isinstance(verdict, Authorized) else digest_refusal(request, verdict)

    def forget(self, call: InboundCall) -> None:
        self.calls.pop(call.request.call_id, None)

    # --- time, prompts -----------------------------------------------------------------------------------------

    def hours(self, route: NumberRoute, now: float) -> HoursStatus:
        """The tenant's calendar status now (``now`` is the loop clock; the calendar reads the wall clock)."""
        hours = None if self.settings.always_open else set_hours(route.business_hours)
        return "open" if hours is None else hours.status(datetime.now(UTC), route.timezone)

    async def phrase(self, tenant_id: int, names: Sequence[str], language: str) -> Audio:
        return self._phrases.audio(await self.prompts.parts(tenant_id, names, language), GAP_MS)

    # --- callbacks ----------------------------------------------------------------------------------------------

    async def request_callback(
        self,
        tenant_id: int,
        queue_id: int,
        number: str,
        *,
        source: str,
        enqueued_at: datetime | None,
        interaction_id: int | None,
        language: str | None,
    ) -> int:
        """A callback as soon as possible to ``number`` (E.164, confirmed by the caller), written with its task in
        one transaction, then routed; its id."""
        body = CallbackIn(queue_id=queue_id, number=number, language=language)
        db, bus = self.records.db, self.records.bus
        async with write(db, bus, CALLS) as tx:
            tenant = await tx.session.get(Tenant, tenant_id)
            assert tenant is not None
            written = await request_callback(
                tx, tenant, body, source=source, enqueued_at=enqueued_at, interaction_id=interaction_id
            )
        if written.route is not None:
            await self.routing.route([written.route])
        return written.callback.id

    # --- recording ---------------------------------------------------------------------------------------------

    def recording_path(self, call: InboundCall, kind: str) -> Path:
        """``<data>/recordings/<tenant>/<YYYY-MM>/<interaction>-<kind>.wav`` (the folder is made here)."""
        month = datetime.now(UTC).strftime("%Y-%m")
        folder = self.data_dir / "recordings" / str(call.tenant_id) / month
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{call.interaction_id}-{kind}.wav"

    def relative(self, path: Path) -> str:
        try:
            return str(path.resolve().relative_to(self.data_dir.resolve()))
        except ValueError:
            return str(path)

    async def may_record(self, call: InboundCall) -> bool:
        """The tenant records calls (the caller has just been told), and the caller, if we know them by their
        number, has not said no to recording (their newest ``call_recording`` consent is not a refusal)."""
        if not call.route.record_calls:
            return False
        if not call.caller:
            return True
        customer = await self.records.customer_by_caller(call.tenant_id, call.caller, call.route.country)
        if customer is None:
            return True
        async with self.routing.db.session() as s:
            consent = await current_consent(s, call.tenant_id, [customer])
        return consent[customer][ConsentPurpose.CALL_RECORDING.value] is not False

    # --- routing -----------------------------------------------------------------------------------------------

    def watch_tasks(self, call: InboundCall) -> None:
        """``call`` is about to add a task: keep decisions about tasks not yet known until it asks for them."""
        self._adding += 1

    def early_events(self, task_id: int) -> list[RoutingEvent]:
        self._adding = max(0, self._adding - 1)
        events = self._early.pop(task_id, [])
        if not self._adding:
            self._early.clear()
        return events

    def _on_routing(self, events: list[RoutingEvent]) -> None:
        for event in events:
            if event.task is None:
                continue
            call = self.by_task.get(event.task)
            if call is not None:
                call.post("routing", event)
            elif (listener := self.task_listeners.get(event.task)) is not None:
                listener(event)
            elif (dial := self.callback_calls.get(event.task)) is not None:
                dial.routing(event)
            elif event.kind == "offer" and self._is_callback(event.task) and event.agent is not None:
                self._dial_callback(event.task, event.agent)
            elif self._adding and event.kind in ("offer", "task_exited"):
                self._early[event.task].append(event)

    def _is_callback(self, task_id: int) -> bool:
        task = self.routing.engine.tasks.get(task_id)
        return task is not None and task.spec.channel is RoutingChannel.CALLBACK

    def _dial_callback(self, task_id: int, agent_id: int) -> None:
        """A callback task offered to an agent: dialed agent-first when the tenant has a trunk that dials
        (``callback_call.py``); else the offer stays for the agent to take from the desk."""
        task = self.routing.engine.tasks[task_id]
        dial = self.callback_calls[task_id] = CallbackCall(self, task_id, agent_id, task.spec.tenant_id)
        self.start_dial(dial.run(), f"callback-task-{task_id}")

    def start_dial(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run a call to a customer in the background (cancelled on close)."""
        runner = asyncio.get_running_loop().create_task(work, name=name)
        self._dials.add(runner)
        runner.add_done_callback(self._dials.discard)

    def offer_timeout_s(self, queue_id: int) -> float:
        """How long the routing engine waits for an agent to take an offer from ``queue_id``."""
        queue = self.routing.engine.queues.get(queue_id)
        return 15.0 if queue is None else queue.spec.offer_timeout_s

    async def ring_agent(self, call: InboundCall, agent_id: int) -> AgentLeg | None:
        """Call the agent's registered phone for ``call``; None when the agent has no extension or no phone."""
        extension = await self.records.extension(call.tenant_id, agent_id)
        leg = None if extension is None else self.ring_extension(call, extension)
        if leg is None:
            log.info("agent %s has no registered phone: offer declined", agent_id)
        return leg

    def ring_extension(self, call: InboundCall, extension: str) -> AgentLeg | None:
        """Call the phone registered as the tenant's ``extension`` for ``call``; None when none is registered
        (or no media port is free). Its answer, refusal, hang-up and hold are posted to the call."""
        leg = self.ring_phone(
            call.tenant_id, extension, caller=call.caller or "", realm=call.route.realm, post=call.post
        )
        if leg is not None:
            leg.on_hold = lambda held: call.post("agent_hold", held)
        return leg

    def ring_phone(
        self,
        tenant_id: int,
        extension: str,
        *,
        caller: str,
        realm: str,
        post: Callable[..., None],
        answer_at_once: bool = False,
    ) -> AgentLeg | None:
        """Ring the phone registered as the tenant's ``extension`` (showing ``caller``); None when none is
        registered or no media port is free. ``post`` hears ``agent_answer``, ``agent_fail`` (with the status) and
        ``agent_hangup``. ``answer_at_once``: the INVITE asks the phone to answer by itself (``Call-Info:
        ...;answer-after=0``, which most desk phones and softphones honour when allowed to)."""
        bindings = self.registrar.contacts(tenant_id, extension, time.time())
        if not bindings:
            return None
        try:
            media = self.media.open_leg()
        except MediaError:
            return None
        binding = bindings[0]
        leg = AgentLeg(
            self.transport, media, contact_uri=binding.uri, phone=binding.source, caller=caller,
            extension=extension, realm=realm, us=self._address,
        )  # fmt: skip
        leg.on_answer = lambda: post("agent_answer")
        leg.on_fail = lambda status: post("agent_fail", status)
        leg.on_hangup = lambda: post("agent_hangup")
        if answer_at_once:
            leg.invite.headers.add("Call-Info", f"<sip:{self._address[0]}>;answer-after=0")
        leg.ring()
        return leg

    def send_bye(self, dialog: Dialog, peer: Peer) -> None:
        try:
            bye = dialog.request("BYE")
            self.transport.send_request(bye, peer, lambda response: None)
        except (DialogError, TransactionError):
            log.debug("BYE not sent for %r", dialog)
