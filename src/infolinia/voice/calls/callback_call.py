"""A call to a customer placed agent-first (a callback, or a campaign's contact): the agent's phone rings and
answers, then the customer is dialed, and on the customer's answer the two are bridged: the customer's first sound
is the agent, never a prompt or music.

When the routing engine offers a callback-channel task to an agent and the tenant has a trunk that dials
(``dial_to``), ``CallbackCall.run`` takes over the offer (``outbound.targets`` says whom it is for):

1. ring the agent's registered phone (its display shows the customer's number); no phone, no answer, or the
   engine taking the offer back (its offer timeout) -> the offer is declined or withdrawn, the task waits again;
2. the agent answers -> the task is accepted; a campaign contact is checked once more (``targets.may_dial``: a
   consent withdrawn or a number listed meanwhile ends it here, the agent's phone hung up, nothing sent to the
   customer); an outbound Interaction (channel ``callback``) is opened, the agent
   hears a ringing tone while
3. the customer is dialed through the trunk (INVITE to ``sip:<E.164>@<dial_to>``, From the trunk's caller ID),
   for at most ``RING_S``;
4. the customer answers -> bridged at once; the attempt is recorded as ``connected`` right then (so a process
   that dies during the conversation does not call the customer again), and the call lasts until either side
   hangs up; otherwise the agent's leg ends, and the attempt is recorded with the outcome the SIP status says
   (busy, no answer, failed): the callback is retried per the tenant's policy (``outbound.promise``).

The first attempt's start is the INVITE to the customer: what ``promise_kept`` is judged on.

A contact of a ``preview`` campaign is not rung at once: the offer is accepted (the agent holds the contact) and
the contact is shown (``preview_until``) until the agent dials (``post("dial")``) or skips (``post("skip")``) it,
or the campaign's preview timeout applies its action. Only a dial rings the agent's phone (for at most ``RING_S``),
and the steps above follow from 2; a skip, or an agent who does not answer their phone, sends the contact back
(``targets.end_preview``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from infolinia.agents.actions import sip_realm
from infolinia.outbound.amd import MachineDetector
from infolinia.outbound.targets import Target, end_preview, machine_answered, may_dial, record, show_preview, target_of
from infolinia.routing.model import Event as RoutingEvent
from infolinia.store.models import Channel, Direction, Interaction, Tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import write
from infolinia.voice.calls.agent import AgentLeg, end_legs
from infolinia.voice.calls.records import CALLS
from infolinia.voice.media import Audio, MediaError
from infolinia.voice.media.codecs import Codec, decode
from infolinia.voice.telephony.actions import dialing_trunk
from infolinia.voice.telephony.schemas import split_dial_to

if TYPE_CHECKING:
    from infolinia.voice.calls.manager import CallManager

log = logging.getLogger(__name__)

RING_S: Final = 30.0  # how long the customer's phone rings before the attempt counts as unanswered
BUSY: Final = frozenset({486, 600, 603})
NO_ANSWER: Final = frozenset({408, 480, 487})
#: the agent hears this while the customer's phone rings (425 Hz, 1 s on, 4 s off: the European ringing tone)
RINGBACK: Final = Audio.concat(Audio.tone(425.0, 1000, -15.0), Audio.silence(4000))


def outcome_of(status: int) -> str:
    """The callback outcome a final non-2xx status from the customer's side means."""
    if status in BUSY:
        return "busy"
    if status in NO_ANSWER:
        return "no_answer"
    return "failed"


@dataclass(frozen=True)
class Dialing:
    """Where a tenant's calls to customers go: the trunk's ``dial_to`` resolved, and the caller ID."""

    host: str  # as configured, for the Request-URI
    address: tuple[str, int]  # where the INVITE is sent
    caller_id: str


async def dialing(manager: CallManager, tenant_id: int) -> Dialing | None:
    """Where the tenant's calls to customers go (its dialing trunk, resolved); None when it has no such trunk
    (callbacks are then dialed by hand from the desk) or its host does not resolve."""
    async with manager.records.db.session() as s:
        trunk = await dialing_trunk(s, tenant_id)
    if trunk is None or trunk.dial_to is None or trunk.caller_id is None:
        return None
    try:
        host, port = split_dial_to(trunk.dial_to)
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except (OSError, ValueError) as error:
        log.warning("tenant %s: trunk %s: cannot resolve %s: %s", tenant_id, trunk.id, trunk.dial_to, error)
        return None
    ip, resolved_port = infos[0][4][0], int(infos[0][4][1])
    return Dialing(trunk.dial_to, (str(ip), resolved_port), trunk.caller_id)


class CallbackCall:
    def __init__(self, manager: CallManager, task_id: int, agent_id: int, tenant_id: int) -> None:
        self.m = manager
        self.task_id = task_id
        self.agent_id = agent_id
        self.tenant_id = tenant_id
        self.inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.agent: AgentLeg | None = None
        self.customer: AgentLeg | None = None
        self.interaction_id: int | None = None

    def post(self, kind: str, value: Any = None) -> None:
        self.inbox.put_nowait((kind, value))

    def routing(self, event: RoutingEvent) -> None:
        if event.kind in ("offer_returned", "task_exited", "task_completed", "task_abandoned"):
            self.post("offer_gone", event.kind)

    async def run(self) -> None:
        try:
            await self._run()
        except Exception:
            log.exception("callback task %s: dialing failed", self.task_id)
            self._release_legs()
            if self.interaction_id is not None:  # the agent took it: free them (wrap-up follows)
                await self._finish_task()
        finally:
            self.m.callback_calls.pop(self.task_id, None)

    async def _run(self) -> None:
        async with self.m.records.db.session() as s:
            target = await target_of(s, self.tenant_id, self.task_id)
        if target is None:
            return
        route = await dialing(self.m, self.tenant_id)
        if route is None:
            return  # no trunk that dials: the offer stays for the agent to take and dial by hand
        if target.preview is not None:
            if not await self._previewed(target):
                return
        else:
            agent = await self._ring_agent(target)
            if agent is None:
                await self.m.routing.decline(self.task_id)
                return
            kind, _ = await self._next()
            if kind != "agent_answer":
                agent.cancel()
                if kind == "agent_fail":
                    await self._decline()
                return
            await self.m.routing.accept(self.task_id)
        refused = await may_dial(self.m.records.db, self.m.records.bus, target, utcnow())
        if refused is not None:  # checked right before dialing: nothing reaches the customer
            log.info("%s %s: not dialed: %s", target.kind, target.id, refused)
            self._release_legs()
            await self._finish_task()
            return
        self.interaction_id = await self._open_interaction(target)
        await self._dial(target, route)

    async def _dial(self, target: Target, dialing: Dialing) -> None:
        agent = self.agent
        assert agent is not None
        agent.media.play(RINGBACK, loop=True)
        try:
            media = self.m.media.open_leg()
        except MediaError:
            await self._ended(target, "failed", utcnow(), "no media port free")
            return
        customer = self.customer = AgentLeg(
            self.m.transport, media, contact_uri=f"sip:{target.number}@{dialing.host}", phone=dialing.address,
            caller=dialing.caller_id, extension=target.number, realm=dialing.host, us=self.m.address,
        )  # fmt: skip
        customer.on_answer = lambda: self.post("customer_answer")
        customer.on_fail = lambda status: self.post("customer_fail", status)
        customer.on_hangup = lambda: self.post("customer_hangup")
        started = utcnow()
        log.info("%s %s: dialing %s for agent %s", target.kind, target.id, target.number, self.agent_id)
        customer.ring()
        timer = asyncio.get_running_loop().call_later(RING_S, self.post, "ring_timeout")
        try:
            kind, value = await self._next()
        finally:
            timer.cancel()
        if kind == "customer_answer":
            agent.media.bridge(customer.media)
            if target.detect_machines:
                self._listen_for_machine(customer)
            await self._attempt(target, "connected", started)
            await self.m.records.update(self.tenant_id, self.interaction_id or 0, answered_at=utcnow())
            await self._talk(target)
            return
        customer.cancel()
        if kind == "customer_fail":
            outcome = outcome_of(int(value))
        elif kind == "ring_timeout":
            outcome = "no_answer"
        else:  # the agent hung up (or the offer went) while the customer's phone rang
            outcome = "failed"
        await self._ended(target, outcome, started, kind)

    async def _talk(self, target: Target) -> None:
        """Until either side hangs up (or a machine is heard); then the other is hung up, the interaction and the
        task end."""
        while True:
            kind, value = await self._next()
            if kind in ("agent_hangup", "customer_hangup") or (kind == "amd" and value == "machine"):
                break
        end_reason = {"agent_hangup": "agent_hangup", "customer_hangup": "customer_hangup"}.get(kind, "machine")
        self._release_legs()
        if end_reason == "machine":
            log.info("%s %s: an answering machine answered", target.kind, target.id)
            retry = await machine_answered(self.m.records.db, self.m.records.bus, target)
            if retry is not None:  # a callback: its next attempt
                await self.m.routing.route([retry])
        await self.m.records.update(self.tenant_id, self.interaction_id or 0, ended_at=utcnow(), end_reason=end_reason)
        await self._finish_task()

    async def _ended(self, target: Target, outcome: str, started: datetime, why: str) -> None:
        log.info("%s %s: %s (%s)", target.kind, target.id, outcome, why)
        self._release_legs()
        if self.interaction_id is not None:
            await self.m.records.update(self.tenant_id, self.interaction_id, ended_at=utcnow(), end_reason=outcome)
        await self._attempt(target, outcome, started)
        await self._finish_task()

    async def _previewed(self, target: Target) -> bool:
        """Preview: the contact shown to the agent until they dial or skip it (or the timeout decides); True when
        the agent chose to dial and has answered their phone. Otherwise the contact went back, the task ended."""
        assert target.preview is not None
        db, bus = self.m.records.db, self.m.records.bus
        await self.m.routing.accept(self.task_id)  # the agent holds the contact while reading it
        if not await show_preview(db, bus, target, utcnow() + timedelta(seconds=target.preview.timeout_s)):
            await self._finish_task()
            return False
        kind = await self._wait_for(target.preview.timeout_s, "dial", "skip", "offer_gone")
        if kind == "timeout":
            kind = target.preview.on_timeout
            log.info("contact %s: preview timed out: %s", target.id, kind)
        if kind == "dial" and await self._ring_agent(target) is not None:
            await end_preview(db, bus, target, "dial", utcnow())
            kind = await self._wait_for(RING_S, "agent_answer", "agent_fail", "agent_hangup", "offer_gone")
            if kind == "agent_answer":
                return True
            kind = f"agent {kind}"
        elif kind == "dial":
            kind = "no_phone"
        self._release_legs()
        await end_preview(db, bus, target, kind, utcnow())
        await self._finish_task()
        return False

    def _listen_for_machine(self, customer: AgentLeg) -> None:
        """Best effort: the customer's first seconds go to a ``MachineDetector``; its verdict is posted (``amd``)."""
        detector = MachineDetector()

        def heard(codec: Codec, payload: bytes) -> None:
            verdict = detector.feed(decode(codec, payload))
            if verdict is not None:
                customer.media.listen(None)
                self.post("amd", verdict)

        customer.media.listen(heard)

    async def _wait_for(self, timeout_s: float, *kinds: str) -> str:
        """The first of ``kinds`` to arrive, or ``timeout``."""
        timer = asyncio.get_running_loop().call_later(timeout_s, self.post, "timeout")
        try:
            while True:
                kind, _ = await self._next()
                if kind in kinds or kind == "timeout":
                    return kind
        finally:
            timer.cancel()

    # --- steps -----------------------------------------------------------------------------------------------

    async def _ring_agent(self, target: Target) -> AgentLeg | None:
        extension = await self.m.records.extension(self.tenant_id, self.agent_id)
        if extension is None:
            return None
        async with self.m.records.db.session() as s:
            tenant = await s.get(Tenant, self.tenant_id)
        if tenant is None:
            return None
        self.agent = self.m.ring_phone(
            self.tenant_id, extension, caller=target.number, realm=sip_realm(tenant), post=self.post
        )
        if self.agent is None:
            log.info("%s %s: agent %s cannot be rung (no registered phone, or no media port free): offer declined",
                     target.kind, target.id, self.agent_id)  # fmt: skip
        return self.agent

    async def _next(self) -> tuple[str, Any]:
        return await self.inbox.get()

    async def _decline(self) -> None:
        try:
            await self.m.routing.decline(self.task_id)
        except Exception:  # the offer may be gone already (timed out in the engine)
            log.debug("callback task %s: offer already gone", self.task_id)

    async def _open_interaction(self, target: Target) -> int:
        async with write(self.m.records.db, self.m.records.bus, CALLS) as tx:
            now = utcnow()
            queued = min(target.queued_at, now)  # when it began to wait for an agent
            row = Interaction(
                tenant_id=self.tenant_id, channel=Channel.CALLBACK, direction=Direction.OUTBOUND,
                customer_id=target.customer_id, queue_id=target.queue_id, agent_id=self.agent_id,
                to_address=target.number, subject=(target.reason or None) and target.reason[:500],
                created_at=queued, queued_at=queued, offered_at=now,
            )  # fmt: skip
            tx.session.add(row)
            await tx.session.flush()
            tx.emit(
                "interaction.created", self.tenant_id, id=row.id, channel=row.channel.value,
                customer_id=row.customer_id,
            )  # fmt: skip
            return row.id

    async def _attempt(self, target: Target, outcome: str, started: datetime) -> None:
        """Record the attempt (its task closed in the same transaction); a retry's new task is routed."""
        retry = await record(self.m.records.db, self.m.records.bus, target, outcome, started, self.agent_id)
        if retry is not None:
            await self.m.routing.route([retry])

    async def _finish_task(self) -> None:
        """The agent is done with the task: completed in the engine (wrap-up follows, as after any call)."""
        try:
            await self.m.routing.complete(self.task_id)
        except Exception:  # completed already (the attempt's withdrawal), or gone
            log.debug("callback task %s: already completed", self.task_id)

    def _release_legs(self) -> None:
        end_legs(self.customer, self.agent)
