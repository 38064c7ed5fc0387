"""Predictive dialing, customer-first: the customer is dialed before any agent is rung, and put through to an agent
the moment they answer; a customer no agent takes within 2 s hears who called and is hung up (an abandoned call).

``PredictiveDialer.step`` runs for each running ``predictive`` campaign of a tenant with a dialing trunk (the
campaign runner calls it every 2 s): from the queue's agents (only those whose phone is registered count, since an
agent who cannot be rung cannot take a call within 2 s), the calls still ringing or waiting for an agent, the
campaign's answer rate and handle time and its abandon budget (all from the stored attempts,
``outbound/predictive.py``), the pacer says how many customers to dial now; that many due contacts the check
allows are taken, and each becomes a ``PredictiveCall``:

1. the check once more right before the INVITE (``targets.may_dial``: consent, do-not-call, calling windows);
2. the customer is dialed through the trunk for at most ``RING_S``; busy, no answer or a failure is recorded as
   for agent-first calls;
3. the customer answers: a routing task of the highest priority goes to the campaign's queue, and the agent the
   engine offers it to is rung (showing the number); meanwhile the customer hears nothing at all, never music or
   a queue prompt;
4. the agent's phone answers within 2 s of the customer's answer: the two are bridged, the attempt is
   ``connected`` (written at once), and the call lasts until either side hangs up;
5. otherwise, at 2 s, the agent's phone (if ringing) is cancelled and the task withdrawn, the customer hears the
   tenant's identification message (``prompts/identification.py``) and is hung up; the attempt is ``abandoned``
   and the contact is not dialed again before the next day in the tenant's time zone.

The agent's INVITE asks the phone to answer by itself (``Call-Info: ...;answer-after=0``): agents of a predictive
campaign's queue should allow their phones to (auto-answer), since a phone that rings for a person to pick up
rarely answers within 2 s.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import select

from infolinia.agents.actions import sip_realm
from infolinia.outbound import attempts
from infolinia.outbound.predictive import (
    AGENT_WITHIN_S,
    AgentSeen,
    abandon_stats,
    budget_of,
    decide,
    dial_stats,
    floor_of,
)
from infolinia.outbound.runner import RUNNER, take_contacts
from infolinia.outbound.targets import Target, may_dial
from infolinia.routing.model import Event as RoutingEvent
from infolinia.store.models import AgentProfile, Campaign, Channel, Direction, Interaction, Tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import write
from infolinia.voice.calls.agent import AgentLeg, LegState, end_legs
from infolinia.voice.calls.callback_call import RING_S, Dialing, dialing, outcome_of
from infolinia.voice.calls.records import CALLS
from infolinia.voice.media import MediaError
from infolinia.voice.prompts.identification import IDENTIFICATION, call_language, ensure_identification

if TYPE_CHECKING:
    from infolinia.voice.calls.manager import CallManager

log = logging.getLogger(__name__)

MESSAGE_MAX_S: Final = 60.0  # the identification message is cut off after this long


class PredictiveDialer:
    def __init__(self, manager: CallManager) -> None:
        self.m = manager
        self.calls: dict[int, PredictiveCall] = {}  # contact -> its call under way
        self._identified: set[int] = set()  # tenants whose identification message is there

    async def step(self, campaign: Campaign, now: datetime) -> int:
        """Dial as many of the campaign's customers as the pacer says now; how many calls were placed."""
        route = await dialing(self.m, campaign.tenant_id)
        engine = self.m.routing.engine
        if route is None or campaign.queue_id not in engine.queues:
            return 0
        if campaign.tenant_id not in self._identified and await ensure_identification(
            self.m.records.db, self.m.records.bus, self.m.prompts, campaign.tenant_id
        ):
            self._identified.add(campaign.tenant_id)
        mine = [call for call in self.calls.values() if call.campaign_id == campaign.id]
        async with self.m.records.db.session() as s:
            tenant = await s.get(Tenant, campaign.tenant_id)
            assert tenant is not None
            budget = budget_of(await abandon_stats(s, campaign.id, tenant.timezone, now), campaign.abandon_cap)
            floor = floor_of(
                await self._agents(campaign.tenant_id, campaign.queue_id),
                ringing=sum(call.ringing for call in mine), waiting=sum(call.waiting for call in mine),
                stats=await dial_stats(s, campaign.id), wrapup_s=engine.queues[campaign.queue_id].spec.wrapup_s,
            )  # fmt: skip
        wanted = decide(floor, budget)
        if wanted <= 0:
            return 0
        async with write(self.m.records.db, self.m.records.bus, RUNNER) as tx:
            tenant = await tx.session.get(Tenant, campaign.tenant_id)
            assert tenant is not None
            taken = await take_contacts(tx, tenant, campaign, wanted, now)
            reason = f"campaign {campaign.name}"
            targets = [
                Target("contact", c.id, tenant.id, c.number, c.customer_id, campaign.queue_id, reason, now)
                for c in taken
            ]
            if taken:
                tx.emit("campaign.updated", tenant.id, id=campaign.id, fields=["contacts"])
            language = call_language(tenant)
        log.info("campaign %s: dialing %d (floor %s, target %.4f)", campaign.id, len(targets), floor, budget.target())
        for target in targets:
            self._start(PredictiveCall(self, campaign.id, target, route, language))
        return len(targets)

    async def _agents(self, tenant_id: int, queue_id: int) -> list[AgentSeen]:
        members = self.m.routing.engine.queues[queue_id].members
        async with self.m.records.db.session() as s:
            rows = await s.execute(
                select(AgentProfile.user_id, AgentProfile.extension).where(
                    AgentProfile.tenant_id == tenant_id, AgentProfile.user_id.in_(list(members))
                )
            )
            extensions = {user: extension for user, extension in rows.all()}
        now = time.time()
        return [
            AgentSeen(agent.state(), bool(ext and self.m.registrar.contacts(tenant_id, ext, now)))
            for agent_id, agent in members.items()
            for ext in [extensions.get(agent_id)]
        ]

    def _start(self, call: PredictiveCall) -> None:
        self.calls[call.target.id] = call
        self.m.start_dial(call.run(), f"predictive-contact-{call.target.id}")


class PredictiveCall:
    def __init__(self, dialer: PredictiveDialer, campaign_id: int, target: Target, route: Dialing, language: str):
        self.dialer = dialer
        self.m = dialer.m
        self.campaign_id = campaign_id
        self.target = target
        self.route = route
        self.language = language
        self.inbox: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.ringing = True  # the customer's phone rings (the pacer counts it as a call that may answer)
        self.waiting = False  # answered, no agent yet (it takes the next free agent)
        self.customer: AgentLeg | None = None
        self.agent: AgentLeg | None = None
        self.agent_id: int | None = None
        self.attempt_id: int | None = None
        self.task_id: int | None = None
        self.interaction_id: int | None = None
        self.finished = False  # the attempt has its outcome
        self.connected = False  # bridged to the agent, who holds the task

    def post(self, kind: str, value: Any = None) -> None:
        self.inbox.put_nowait((kind, value))

    def routing(self, event: RoutingEvent) -> None:
        if event.kind == "offer" and event.agent is not None:
            self.post("offer", event.agent)
        elif event.kind in ("offer_returned", "task_exited", "task_completed", "task_abandoned"):
            self.post("offer_gone", event.kind)

    async def run(self) -> None:
        try:
            await self._run()
        except Exception:
            log.exception("contact %s: predictive call failed", self.target.id)
            self._release_legs()
            await self._finish("abandoned" if self.task_id is not None else "failed")
            await self._routing_call("complete" if self.connected else "cancel")
        finally:
            self.ringing = self.waiting = False
            self.dialer.calls.pop(self.target.id, None)
            if self.task_id is not None:
                self.m.task_listeners.pop(self.task_id, None)

    async def _run(self) -> None:
        target, db = self.target, self.m.records.db
        refused = await may_dial(db, self.m.records.bus, target, utcnow())
        if refused is not None:  # checked right before the INVITE: nothing reaches the customer
            log.info("contact %s: not dialed: %s", target.id, refused)
            return
        started = utcnow()
        self.attempt_id = await attempts.start(db, target, self.campaign_id, started)
        try:
            media = self.m.media.open_leg()
        except MediaError:
            await self._finish("failed")
            return
        customer = self.customer = AgentLeg(
            self.m.transport, media, contact_uri=f"sip:{target.number}@{self.route.host}", phone=self.route.address,
            caller=self.route.caller_id, extension=target.number, realm=self.route.host, us=self.m.address,
        )  # fmt: skip
        customer.on_answer = lambda: self.post("customer_answer")
        customer.on_fail = lambda status: self.post("customer_fail", status)
        customer.on_hangup = lambda: self.post("customer_hangup")
        log.info("contact %s: dialing %s (predictive)", target.id, target.number)
        customer.ring()
        kind, value = await self._next(RING_S, "ring_timeout")
        self.ringing = False
        if kind != "customer_answer":
            customer.release()
            customer.cancel()
            await self._finish(outcome_of(int(value)) if kind == "customer_fail" else "no_answer")
            return
        await self._find_agent()

    async def _find_agent(self) -> None:
        """The customer answered: an agent within ``AGENT_WITHIN_S``, else the identification message."""
        answered_at = utcnow()
        self.waiting = True
        deadline = asyncio.get_running_loop().call_later(AGENT_WITHIN_S, self.post, "too_late")
        try:
            assert self.attempt_id is not None
            task = await attempts.answered(self.m.records.db, self.attempt_id, answered_at, self.target.queue_id)
            if task is None:
                self.post("too_late")
            else:
                self.task_id = task.id
                self.m.task_listeners[task.id] = self.routing
                await self.m.routing.route([task])
            self.interaction_id = await self._open_interaction(answered_at)
            while True:
                kind, value = await self._next()
                if kind == "offer":
                    await self._ring_agent(int(value))
                elif kind == "agent_fail":
                    self.agent = None
                    await self._routing_call("decline")
                elif kind == "offer_gone" and self.agent is not None:
                    self.agent.release()
                    self.agent.cancel()
                    self.agent = None
                elif kind == "agent_answer":
                    break
                elif kind in ("too_late", "customer_hangup"):
                    await self._abandon(hung_up=kind == "customer_hangup")
                    return
        finally:
            deadline.cancel()
        await self._connect()

    async def _ring_agent(self, agent_id: int) -> None:
        extension = await self.m.records.extension(self.target.tenant_id, agent_id)
        async with self.m.records.db.session() as s:
            tenant = await s.get(Tenant, self.target.tenant_id)
        leg = None
        if extension is not None and tenant is not None:
            leg = self.m.ring_phone(
                self.target.tenant_id,
                extension,
                caller=self.target.number,
                realm=sip_realm(tenant),
                post=self.post,
                answer_at_once=True,
            )
        if leg is None:  # no registered phone (or no media port): the engine offers the next agent
            await self._routing_call("decline")
            return
        self.agent, self.agent_id = leg, agent_id

    async def _connect(self) -> None:
        agent, customer = self.agent, self.customer
        assert agent is not None and customer is not None
        self.waiting = False
        agent.media.bridge(customer.media)
        await self._routing_call("accept")
        self.connected = True
        now = utcnow()
        await self._finish("connected", at=now)
        await self.m.records.update(
            self.target.tenant_id, self.interaction_id or 0, agent_id=self.agent_id, answered_at=now
        )
        while True:
            kind, _ = await self._next()
            if kind in ("agent_hangup", "customer_hangup"):
                break
        self._release_legs()
        ended = utcnow()
        assert self.attempt_id is not None
        await attempts.ended(self.m.records.db, self.attempt_id, ended)
        await self.m.records.update(self.target.tenant_id, self.interaction_id or 0, ended_at=ended, end_reason=kind)
        await self._routing_call("complete")

    async def _abandon(self, hung_up: bool) -> None:
        """No agent within 2 s (or the customer hung up first): the identification message, then the hang-up."""
        self.waiting = False
        if self.agent is not None:
            self.agent.release()
            self.agent.cancel()
            self.agent = None
        customer = self.customer
        assert customer is not None
        await self._finish("abandoned")  # the task's row closed with it
        await self._routing_call("cancel")  # offers until then still come here, and are ignored
        if not hung_up and customer.state is LegState.ANSWERED:
            audio = await self.m.phrase(self.target.tenant_id, [IDENTIFICATION], self.language)
            customer.media.play(audio, on_done=lambda: self.post("played"))
            log.info("contact %s: no agent within %.0f s: identification message", self.target.id, AGENT_WITHIN_S)
            while (await self._next(MESSAGE_MAX_S, "played"))[0] not in ("played", "customer_hangup"):
                pass
        self._release_legs()
        await self.m.records.update(
            self.target.tenant_id, self.interaction_id or 0, ended_at=utcnow(), end_reason="abandoned"
        )

    # --- steps -----------------------------------------------------------------------------------------------

    async def _next(self, within_s: float | None = None, on_timeout: str = "timeout") -> tuple[str, Any]:
        if within_s is None:
            return await self.inbox.get()
        timer = asyncio.get_running_loop().call_later(within_s, self.post, on_timeout)
        try:
            return await self.inbox.get()
        finally:
            timer.cancel()

    async def _finish(self, outcome: str, at: datetime | None = None) -> None:
        if self.finished or self.attempt_id is None:
            return
        self.finished = True
        await attempts.finish(
            self.m.records.db, self.m.records.bus, self.attempt_id, outcome, agent_id=self.agent_id, at=at
        )

    async def _routing_call(self, what: str) -> None:
        """Tell the engine about the task: ``accept``, ``decline``, ``complete`` or ``cancel`` (withdrawn)."""
        if self.task_id is None:
            return
        try:
            if what == "cancel":
                await self.m.routing.cancel(self.task_id, reason="withdrawn")
            else:
                await getattr(self.m.routing, what)(self.task_id)
        except Exception:  # the offer or the task may be gone already
            log.debug("predictive task %s: %s: already gone", self.task_id, what)

    async def _open_interaction(self, answered_at: datetime) -> int:
        async with write(self.m.records.db, self.m.records.bus, CALLS) as tx:
            row = Interaction(
                tenant_id=self.target.tenant_id, channel=Channel.CALLBACK, direction=Direction.OUTBOUND,
                customer_id=self.target.customer_id, queue_id=self.target.queue_id, to_address=self.target.number,
                subject=(self.target.reason or "")[:500] or None, created_at=answered_at, queued_at=answered_at,
            )  # fmt: skip
            tx.session.add(row)
            await tx.session.flush()
            tx.emit(
                "interaction.created", row.tenant_id, id=row.id, channel=row.channel.value, customer_id=row.customer_id
            )
            return row.id

    def _release_legs(self) -> None:
        end_legs(self.customer, self.agent)
