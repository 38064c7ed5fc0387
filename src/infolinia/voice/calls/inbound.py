"""One inbound call, from the INVITE to the last BYE: ringing, the IVR, the queue, the agent, the end.

States (``CallState``), each change logged:

    ringing --answer--> ivr --EnterQueue--> queued --offer--> connecting --agent answers--> talking
       |                 |                    ^                  |                             |
       +--CANCEL--+      +--Hangup------+     +--no answer-------+                             |
                  v                     v                                                      v
                 ended <----------- any BYE, media timeout, errors ------------------------- ended

Inputs reach the call as events in one inbox (digits, prompt ends, timers, routing decisions, SIP requests) and
one task per call takes them in order, so the IVR interpreter, which is pure, sees one input at a time and the
call's awaits (prompt loading, database writes) never interleave. SIP and media callbacks only post to the inbox.

In the queue the caller hears music, and every ``announce_every_s`` (the queue node's) their position and the
estimated wait, with "press 1 to be called back; you keep your place" every other time, and halfway between them
the tenant's own messages (the node's ``messages``) in turn. Pressing 1 there reads the number back for the
caller to confirm or change (``callback_number.NumberConfirmation``; the call stays queued meanwhile, and an agent
who becomes free takes it); once confirmed, the call becomes a callback task that keeps the voice task's enqueue
time (its place in the order). The IVR's callback offer and a queue's maximum wait that ends in a callback confirm
the number the same way; nothing is promised on a number the caller did not confirm.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from infolinia.routing.model import Event as RoutingEvent
from infolinia.store.models import RoutingTask
from infolinia.store.types import utcnow
from infolinia.voice.calls.agent import AgentLeg, connect_media, end_legs, rearm
from infolinia.voice.calls.callback_number import Done, NumberConfirmation, Step, usable_number
from infolinia.voice.ivr import (
    Call,
    Collect,
    Command,
    EnterQueue,
    Hangup,
    Lookup,
    OfferCallback,
    Play,
    RecordVoicemail,
    Transfer,
)
from infolinia.voice.media import Audio, MediaLeg, Recording
from infolinia.voice.prompts import speech
from infolinia.voice.sdp import (
    Answer,
    NotAcceptable,
    SdpError,
    SessionDescription,
    answer_offer,
    make_offer,
    parse_sdp,
    read_answer,
)
from infolinia.voice.sip import Request, SipUri
from infolinia.voice.sip.builders import new_tag, response_to
from infolinia.voice.sip.dialog import Dialog, DialogError, NoAck
from infolinia.voice.sip.transaction import TransactionKey
from infolinia.voice.sip.transport import Peer, ServerInvite

if TYPE_CHECKING:
    from infolinia.voice.calls.manager import CallManager
    from infolinia.voice.telephony import NumberRoute

log = logging.getLogger(__name__)

MAX_CALL_S = 4 * 3600.0  # a call still up after this is ended: a lost BYE must not hold a line forever
CALLBACK_DIGIT_S = 6.0
#: a transfer to an agent waits for that agent this long past the queue's offer timeout, then for anyone in the
#: queue: the engine returns a missed offer first, so the task is not left waiting for that agent alone
PREFERRED_SLACK_S = 1.0


class CallState(Enum):
    RINGING = "ringing"
    IVR = "ivr"
    QUEUED = "queued"
    VOICEMAIL = "voicemail"
    CONNECTING = "connecting"
    TALKING = "talking"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Input:
    kind: str  # digit, prompt_done, tick, answer, routing, bye, cancel, media_timeout, agent_answer, ...
    value: Any = None
    token: int = 0


class InboundCall:
    def __init__(
        self, manager: CallManager, invite: ServerInvite, route: NumberRoute, leg: MediaLeg, answer: Answer | None
    ) -> None:
        self.m = manager
        self.invite = invite
        self.request = invite.request
        self.route = route
        self.tenant_id = route.tenant_id
        self.leg = leg
        self.answer = answer  # None until the ACK answers our offer, when the INVITE had none
        self.language = (route.languages or ["en"])[0]
        caller_uri = self.request.from_.uri
        self.caller = caller_uri.user if isinstance(caller_uri, SipUri) else None
        self.state = CallState.RINGING
        self.interaction_id: int | None = None
        self.task_id: int | None = None
        self.queue_id: int | None = None
        self.agent_id: int | None = None
        self.agent_leg: Any = None
        self.dialog: Dialog | None = None
        self.end_reason: str | None = None
        self.ivr = Call(route.flow) if route.flow is not None else None
        self.to_tag = new_tag()
        self._inbox: asyncio.Queue[Input] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._dialog_timer: asyncio.TimerHandle | None = None
        self._token = 0  # playback generation: a prompt_done of an older prompt is stale
        self._playing_interruptible = False
        self._announcements = 0
        self._announce_every_s = manager.announce_every_s
        self._messages: tuple[str, ...] = ()  # the tenant's messages between the music, in turn
        self._message_due = False  # the next queue tick plays a message (halfway between announcements)
        self._messages_played = 0
        self._in_callback_offer = False
        self._confirm: NumberConfirmation | None = None  # a callback number being confirmed
        self._confirm_for = ""  # what for: keep_place, offer, max_wait
        self._confirm_queue: int | None = None  # the queue the callback goes to
        self._accepted_pending = False
        self._transferring: str | None = None  # the extension a transfer rings
        self._hangup_after: str | None = None
        self._limit: asyncio.TimerHandle | None = None
        self._notice_first = route.record_calls  # the caller is told before anything is recorded
        self._may_record = False
        self.recording: Recording | None = None
        self._voicemail_queue: int | None = None
        self._voicemail_max_s: float = 120.0
        self._queued_at: datetime | None = None
        self._offered: SessionDescription | None = None  # our offer in the 200, for an INVITE without one
        self._held_since: float | None = None  # the agent's phone holds the call since (loop time)
        self._hold_s = 0.0  # time on hold so far
        self._priority = 0  # the priority and language of the call's voice task (a transfer keeps them)
        self._task_language: str | None = None

    # --- life ------------------------------------------------------------------------------------------------

    def start(self) -> None:
        self.invite.on_cancel = lambda: self.post("cancel")
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"call {self.request.call_id}")

    def post(self, kind: str, value: Any = None, token: int = 0) -> None:
        if self.state is not CallState.ENDED:
            self._inbox.put_nowait(Input(kind, value, token))

    async def _run(self) -> None:
        try:
            await self._begin()
            while self.state is not CallState.ENDED:
                item = await self._inbox.get()
                await self._handle(item)
        except asyncio.CancelledError:
            await self._end("shutdown", bye=True)
            raise
        except Exception:
            log.exception("call %s failed", self.request.call_id)
            await self._end("error", bye=True)

    async def _begin(self) -> None:
        self.interaction_id = await self.m.records.open(
            self.tenant_id, self.caller, self.route.e164, self.request.call_id
        )
        if self.state is CallState.ENDED:
            return
        if self.route.answer_after_s > 0:
            self.m.transport.respond(self.invite.key, response_to(self.request, 180, to_tag=self.to_tag))
            self._schedule(self.route.answer_after_s, "answer")
        else:
            await self._answer()

    def _set(self, state: CallState) -> None:
        if state is not self.state:
            log.debug("call %s: %s -> %s", self.request.call_id, self.state.value, state.value)
            self.state = state

    # --- inputs ----------------------------------------------------------------------------------------------

    async def _handle(self, item: Input) -> None:
        kind = item.kind
        if kind == "answer" and self.state is CallState.RINGING:
            await self._answer()
        elif kind == "cancel" and self.state is CallState.RINGING:
            self.m.transport.respond(self.invite.key, response_to(self.request, 487, to_tag=self.to_tag))
            await self._end("cancelled", bye=False)
        elif kind in ("bye", "media_timeout", "no_ack", "too_long"):
            await self._end("caller_hangup" if kind == "bye" else kind, bye=kind != "bye")
        elif kind == "digit":
            await self._digit(item.value)
        elif kind == "prompt_done" and item.token == self._token:
            self._playing_interruptible = False
            await self._prompt_done()
        elif kind == "tick":
            await self._tick()
        elif kind == "routing":
            await self._routing(item.value)
        elif kind == "agent_answer":
            await self._agent_answered()
        elif kind == "agent_fail":
            await self._agent_failed(item.value)
        elif kind == "agent_hangup":
            await self._end("agent_hangup", bye=True)
        elif kind == "late_answer":
            await self._late_answer(item.value)
        elif kind == "agent_hold":
            await self._agent_hold(bool(item.value))
        elif kind == "control":
            from infolinia.voice.calls.control import carry_out  # control.py reads this module's states

            await carry_out(self, item.value)

    async def _answer(self) -> None:
        sdp = make_offer(self.m.local_sdp(self.leg)) if self.answer is None else self.answer.sdp
        ok = response_to(
            self.request, 200, to_tag=self.to_tag, contact=self.m.contact,
            body=bytes(sdp), content_type="application/sdp",
        )  # fmt: skip
        try:
            self.dialog = Dialog.uas_from(self.request, ok, self.m.sent_by, self._now(), self.m.timers)
        except DialogError:
            self.m.transport.respond(self.invite.key, response_to(self.request, 400, "Bad Request (no Contact)"))
            await self._end("bad_request", bye=False)
            return
        self.m.transport.add_dialog(self.dialog.id, self)
        self.m.transport.respond(self.invite.key, ok)
        self._arm_dialog()
        self.leg.on_digit = lambda d: self.post("digit", d)
        self.leg.on_timeout = lambda: self.post("media_timeout")
        self._set(CallState.IVR)
        self._limit = asyncio.get_running_loop().call_later(MAX_CALL_S, self.post, "too_long")
        if self.answer is None:
            self._offered = sdp  # the caller's answer comes in the ACK (_late_answer); without an ACK, no_ack
            return
        await self._media_ready(self.answer)

    async def _late_answer(self, body: bytes) -> None:
        """The ACK's answer to the offer our 200 made (the INVITE had none): media, then the flow. No usable
        answer ends the call."""
        if self.answer is not None or self._offered is None or self.state is not CallState.IVR:
            return
        try:
            local = self.leg.local_address[0]
            accepted = (
                read_answer(parse_sdp(body), local_address=local) if body
                else NotAcceptable("the ACK carries no SDP answer")
            )  # fmt: skip
        except SdpError as error:
            accepted = NotAcceptable(f"unreadable SDP answer: {error}")
        if isinstance(accepted, NotAcceptable):
            log.info("call %s: %s", self.request.call_id, accepted.reason)
            await self._end("no_sdp_answer", bye=True)
            return
        self.answer = Answer(
            self._offered, accepted.codec, accepted.payload_type, accepted.telephone_event, "sendrecv",
            accepted.remote_address, accepted.remote_port, None,
        )  # fmt: skip
        await self._media_ready(self.answer)

    async def _media_ready(self, answer: Answer) -> None:
        connect_media(self.leg, answer, self.invite.peer[0])
        if self.ivr is None:
            await self._end("no_flow", bye=True)
            return
        if self._notice_first:
            await self._play(["recording_notice"], False)
            return
        await self._start_ivr()

    async def _start_ivr(self) -> None:
        assert self.ivr is not None
        await self._commands(self.ivr.start(self._now(), self.caller, functools.partial(self.m.hours, self.route)))

    # --- SIP inside the dialog (called by the transport) --------------------------------------------------------

    def in_dialog(self, key: TransactionKey | None, request: Request, peer: Peer) -> None:
        dialog = self.dialog
        if dialog is None:
            return
        status = dialog.receive_request(request)
        if request.method == "ACK":
            self._arm_dialog()
            if self.answer is None:
                self.post("late_answer", request.body)
            return
        assert key is not None
        if status is not None:
            self.m.transport.respond(key, response_to(request, status))
        elif request.method == "BYE":
            self.m.transport.respond(key, response_to(request, 200))
            self.post("bye")
        elif request.method == "INVITE":
            self._reinvite(key, request)
        elif request.method == "INFO":
            self.m.transport.respond(key, response_to(request, 200))
            digit = _info_digit(request)
            if digit is not None:
                self.post("digit", digit)
        else:
            self.m.transport.respond(key, response_to(request, 200 if request.method == "OPTIONS" else 501))

    def _reinvite(self, key: TransactionKey, request: Request) -> None:
        """A re-INVITE (hold, a new address): answer it from the same media leg; an offerless one gets our SDP."""
        if self.answer is None:  # before the ACK answered our offer: ours is still pending
            self.m.transport.respond(key, response_to(request, 491))
            return
        answer: Answer | NotAcceptable = self.answer
        if request.body:
            try:
                answer = answer_offer(parse_sdp(request.body), self.m.local_sdp(self.leg, self.answer))
            except SdpError:
                answer = NotAcceptable("unreadable SDP")
        if isinstance(answer, NotAcceptable):
            self.m.transport.respond(key, response_to(request, 488))
            return
        self.answer = answer
        if request.body:
            connect_media(self.leg, answer, self.invite.peer[0])
        ok = response_to(request, 200, contact=self.m.contact, body=bytes(answer.sdp), content_type="application/sdp")
        assert self.dialog is not None
        self.dialog.respond(ok, self._now())
        self.m.transport.respond(key, ok)
        self._arm_dialog()

    def _arm_dialog(self) -> None:
        """Retransmit our 2xx until its ACK (RFC 3261 §13.3.1.4), on the loop's clock."""
        due = None if self.dialog is None else self.dialog.next_deadline()
        self._dialog_timer = rearm(self._dialog_timer, due, self._dialog_due)

    def _dialog_due(self) -> None:
        self._dialog_timer = None
        if self.dialog is None:
            return
        for event in self.dialog.timeout(self._now()):
            if isinstance(event, NoAck):
                self.post("no_ack")
            else:
                self.m.transport.respond(self.invite.key, event.response)
                if self.m.transport.layer.get(self.invite.key) is None:
                    self.m.transport.send_stateless(event.response, self.invite.peer)
        self._arm_dialog()

    # --- the IVR ---------------------------------------------------------------------------------------------

    async def _commands(self, commands: list[Command]) -> None:
        for command in commands:
            if self.state is CallState.ENDED:
                return
            await self._command(command)
        self._arm_ivr_timer()

    async def _command(self, command: Command) -> None:
        match command:
            case Play(prompt=name, interruptible=interruptible):
                await self._play([name], interruptible)
            case Collect():
                pass  # digits come as they are typed; the interpreter keeps the deadline
            case Lookup(caller_id=caller_id, digits=digits):
                customer = await self._lookup(caller_id, digits)
                assert self.ivr is not None
                await self._commands(self.ivr.lookup_result(customer, self._now()))
            case OfferCallback(prompt=prompt):
                self._in_callback_offer = True
                if prompt is not None:
                    await self._play([prompt], True)
                else:
                    self._schedule(CALLBACK_DIGIT_S, "tick")
            case EnterQueue() | Transfer(kind="queue"):
                await self._enter_queue(command)
            case RecordVoicemail(prompt=prompt, queue=queue, max_s=max_s):
                await self._voicemail(prompt, queue, max_s)
            case Transfer(target=extension, ring_s=ring_s):  # to an extension of the tenant
                await self._transfer(extension, ring_s)
            case Hangup(reason=reason):
                await self._end(reason, bye=True)

    async def _play(self, names: list[str], interruptible: bool, then_hangup: str | None = None) -> None:
        audio = await self.m.phrase(self.tenant_id, names, self.language)
        self._token += 1
        token = self._token
        self._playing_interruptible = interruptible
        done: Callable[[], None]
        if then_hangup is not None:
            self._hangup_after = then_hangup
            done = lambda: self.post("prompt_done", "hangup", token)  # noqa: E731
        else:
            done = lambda: self.post("prompt_done", None, token)  # noqa: E731
        self.leg.play(audio, on_done=done)

    async def _prompt_done(self) -> None:
        if self._notice_first:
            self._notice_first = False
            self._may_record = await self.m.may_record(self)
            await self._start_ivr()
            return
        if self.state is CallState.VOICEMAIL:
            self._start_voicemail()
            return
        if self._hangup_after is not None:
            await self._end(self._hangup_after, bye=True)
            return
        if self._confirm is not None:
            self._confirm.prompt_done(self._now())
            self._arm_confirm_timer()
            return
        if self._accepted_pending and self.ivr is not None:
            self._accepted_pending = False
            await self._commands(self.ivr.callback_result(True, self._now()))
            return
        if self.state in (CallState.QUEUED, CallState.CONNECTING):  # music while waiting and while a phone rings
            self._queue_music()
            return
        if self._in_callback_offer:
            self._schedule(CALLBACK_DIGIT_S, "tick")
            return
        if self.ivr is not None and self.state is CallState.IVR:
            await self._commands(self.ivr.prompt_done(self._now()))

    async def _digit(self, digit: str) -> None:
        if self.state is CallState.VOICEMAIL:
            if digit == "#" and self.recording is not None:
                await self._end("voicemail", bye=True)
            return
        if self._confirm is not None:
            self.leg.stop_playback()
            self._token += 1
            await self._confirm_steps(self._confirm.digit(digit, self._now()))
            return
        if self.state is CallState.QUEUED:
            if digit == "1" and self.task_id is not None:
                await self._confirm_number("keep_place", self.queue_id)
            return
        if self.state is not CallState.IVR or self.ivr is None or self._notice_first:
            return  # keys during the recording notice mean nothing yet: the flow starts after it
        if self._in_callback_offer:
            self._in_callback_offer = False
            self.leg.stop_playback()
            self._token += 1
            await self._callback_answer(digit == "1")
            return
        if self._playing_interruptible:
            self.leg.stop_playback()
            self._token += 1
            self._playing_interruptible = False
        await self._commands(self.ivr.digit(digit, self._now()))

    async def _tick(self) -> None:
        if self.state is CallState.VOICEMAIL:
            if self.recording is not None:
                await self._end("voicemail", bye=True)
            return
        if self._confirm is not None:
            await self._confirm_steps(self._confirm.timeout(self._now()))
        elif self.state is CallState.QUEUED:
            await self._announce()
        elif self.state is CallState.CONNECTING and self._transferring is not None:
            log.info("call %s: extension %s did not answer in time", self.request.call_id, self._transferring)
            await self._transfer_failed()
        elif self._in_callback_offer and self.state is CallState.IVR:
            self._in_callback_offer = False
            await self._callback_answer(False)
        elif self.ivr is not None and self.state is CallState.IVR:
            await self._commands(self.ivr.timeout(self._now()))

    def _arm_ivr_timer(self) -> None:
        if self.ivr is not None and self.state is CallState.IVR and self.ivr.next_deadline is not None:
            self._schedule_at(self.ivr.next_deadline, "tick")

    async def _lookup(self, caller_id: str | None, digits: str | None) -> int | None:
        if digits is not None:
            found = await self.m.records.customer_by_number(self.tenant_id, digits)
        elif caller_id is not None:
            found = await self.m.records.customer_by_caller(self.tenant_id, caller_id, self.route.country)
        else:
            found = None
        if found is not None and self.interaction_id is not None:
            await self.m.records.update(self.tenant_id, self.interaction_id, customer_id=found)
        return found

    # --- callbacks offered in the IVR ------------------------------------------------------------------------

    async def _callback_answer(self, accepted: bool) -> None:
        queue = await self._callback_queue() if accepted else None
        if queue is not None:
            await self._confirm_number("offer", queue)
            return
        assert self.ivr is not None
        await self._commands(self.ivr.callback_result(False, self._now()))

    async def _confirm_number(self, purpose: str, queue: int | None) -> None:
        """Read the callback number back (or ask for one) before anything is promised; see ``_confirmed``."""
        self._confirm = NumberConfirmation(self.caller, self.route.country, self.language)
        self._confirm_for, self._confirm_queue = purpose, queue
        await self._confirm_steps(self._confirm.start(self._now()))

    async def _confirm_steps(self, steps: list[Step]) -> None:
        log.debug("call %s: callback number: %s", self.request.call_id, steps)
        for step in steps:
            if isinstance(step, Done):
                self._confirm = None
                await self._confirmed(step.number)
            else:
                await self._play(list(step.names), True)
        self._arm_confirm_timer()

    def _arm_confirm_timer(self) -> None:
        if self._confirm is not None and self._confirm.deadline is not None:
            self._schedule_at(self._confirm.deadline, "tick")

    async def _confirmed(self, number: str | None) -> None:
        """The caller confirmed ``number`` (E.164), or gave up (None): in the queue they stay queued, at the IVR's
        offer the flow takes its "declined" branch, after the queue's maximum wait the call ends politely."""
        purpose = self._confirm_for
        log.info("call %s: callback number for %s: %s", self.request.call_id, purpose, number or "not confirmed")
        if purpose == "keep_place":
            if number is not None and self.task_id is not None and self.state is CallState.QUEUED:
                await self._keep_place_callback(number)
            elif self.state is CallState.QUEUED:
                self._queue_music()
                self._schedule(self._announce_every_s / (2 if self._messages else 1), "tick")
        elif purpose == "offer":
            queue = self._confirm_queue
            if number is None or queue is None:
                assert self.ivr is not None
                await self._commands(self.ivr.callback_result(False, self._now()))
                return
            await self._create_callback(queue, None, number, "ivr")
            self._accepted_pending = True  # once told, the flow goes on to the offer's "accepted" branch
            await self._play(["callback_confirmed"], False)
        elif number is not None and self._confirm_queue is not None:  # max_wait: in the caller's place
            await self._create_callback(self._confirm_queue, self._queued_at, number, "max_wait")
            await self._play(["callback_confirmed"], False, then_hangup="callback_max_wait")
        else:
            await self._play(["goodbye"], False, then_hangup="callback_not_confirmed")

    async def _callback_queue(self) -> int | None:
        """The queue a callback asked for in the IVR goes to: the call's queue, else the first the flow names."""
        if self.queue_id is not None:
            return self.queue_id
        flow = self.route.flow
        for node in flow.nodes if flow is not None else ():
            if node.type == "queue":
                return await self.m.records.queue_id(self.tenant_id, node.queue)
        return None

    async def _create_callback(self, queue_id: int, enqueued_at: datetime | None, number: str, source: str) -> None:
        """A callback as soon as possible (``outbound``), in the caller's place in line when ``enqueued_at``."""
        callback_id = await self.m.request_callback(
            self.tenant_id, queue_id, number, source=source, enqueued_at=enqueued_at,
            interaction_id=self.interaction_id, language=self.language,
        )  # fmt: skip
        log.info("call %s: callback %s to %s", self.request.call_id, callback_id, number)

    async def _keep_place_callback(self, number: str) -> None:
        """A confirmed keep-place callback: a callback task with the voice task's place, the voice task withdrawn."""
        if self.task_id is None or self.queue_id is None:
            return
        task_id, self.task_id = self.task_id, None
        self.m.by_task.pop(task_id, None)
        await self.m.routing.cancel(task_id, reason="callback")
        await self._create_callback(self.queue_id, self._queued_at, number, "keep_place")
        self._set(CallState.IVR)
        await self._play(["callback_confirmed"], False, then_hangup="callback_kept_place")

    # --- the queue -------------------------------------------------------------------------------------------

    async def _enter_queue(self, command: EnterQueue | Transfer) -> None:
        ref = command.queue if isinstance(command, EnterQueue) else command.target
        queue_id = await self.m.records.queue_id(self.tenant_id, ref)
        if queue_id is None:
            log.warning("call %s: the flow names queue %r, which tenant %s lacks", self.request.call_id, ref,
                        self.tenant_id)  # fmt: skip
            await self._play(["technical_problem"], False, then_hangup="no_queue")
            return
        skills = {s: 1 for s in command.skills} if isinstance(command, EnterQueue) else {}
        row = RoutingTask(
            tenant_id=self.tenant_id, queue_id=queue_id, channel="voice", skills=skills,
            language=command.language if isinstance(command, EnterQueue) else None,
            priority=command.priority if isinstance(command, EnterQueue) else 0,
            enqueued_at=utcnow(), interaction_id=self.interaction_id,
        )  # fmt: skip
        if isinstance(command, EnterQueue):
            self._messages = command.messages
            self._announce_every_s = min(self.m.announce_every_s, command.announce_every_s)
        await self._queue_task(row)

    async def _queue_task(self, row: RoutingTask) -> None:
        """The caller waits in ``row``'s queue (music, announcements) for the routing engine's offer."""
        queue_id = row.queue_id
        self.queue_id = queue_id
        self._queued_at = row.enqueued_at
        self._priority, self._task_language = row.priority, row.language
        self._set(CallState.QUEUED)
        assert self.interaction_id is not None
        await self.m.records.update(
            self.tenant_id, self.interaction_id, queue_id=queue_id, queued_at=row.enqueued_at, ivr_path=self._path()
        )
        self._queue_music()
        self.m.watch_tasks(self)  # before routing, which may offer at once
        await self.m.routing.add_tasks([row])
        self.task_id = row.id
        self.m.by_task[row.id] = self
        for event in self.m.early_events(row.id):
            await self._routing(event)
        if self.state is CallState.QUEUED:
            self._schedule(min(2.0, self._announce_every_s), "tick")

    def _queue_music(self) -> None:
        self._token += 1
        self.leg.play(self.m.music, loop=True)

    async def _announce(self) -> None:
        if self.task_id is None:
            return
        every = self._announce_every_s
        if self._message_due:
            self._message_due = False
            name = self._messages[self._messages_played % len(self._messages)]
            self._messages_played += 1
            log.info("call %s: queue message %s", self.request.call_id, name)
            await self._play([name], True)
            self._schedule(every / 2, "tick")
            return
        position = self.m.routing.position(self.task_id)
        wait = self.m.routing.estimated_wait(self.task_id)
        names: list[str] = []
        if position is not None:
            names += speech.position(position + 1, self.language)
        if wait is not None:
            names += speech.wait(wait, self.language)
        if self._announcements % 2 == 0:
            names.append("callback_keep_place")
        self._announcements += 1
        if names:
            await self._play(names, True)
        if self._messages:
            self._message_due = True
            self._schedule(every / 2, "tick")
        else:
            self._schedule(every, "tick")

    async def _routing(self, event: RoutingEvent) -> None:
        if self.state not in (CallState.QUEUED, CallState.CONNECTING):
            return
        if event.kind == "offer" and event.agent is not None and self.state is CallState.QUEUED:
            if self._confirm is not None:  # confirming a keep-place callback: an agent is better still
                self._confirm = None
                self._queue_music()
            await self._offer(event.agent)
        elif event.kind == "offer_returned" and self.state is CallState.CONNECTING:
            if self.agent_leg is not None:
                self.agent_leg.cancel()
                self.agent_leg = None
            self._set(CallState.QUEUED)
            self._queue_music()
        elif event.kind == "task_exited":
            await self._exit_queue(str(event.data.get("action", "")), event.reason)

    async def _exit_queue(self, action: str, why: str) -> None:
        """The engine took the task out of the queue (maximum wait, or closed on arrival): ``voicemail`` records a
        message for the queue, ``callback`` leaves a callback task in the caller's place; anything else is told
        that all agents are busy and the call ends."""
        self.task_id = None  # the engine is done with it
        self._confirm = None  # a keep-place confirmation under way: the exit action decides now
        if self.agent_leg is not None:
            self.agent_leg.cancel()
            self.agent_leg = None
        log.info("call %s leaves the queue (%s): %s", self.request.call_id, why, action or "-")
        if action == "voicemail":
            await self._voicemail("voicemail_prompt", None, 120)
        elif action == "callback" and self.queue_id is not None:
            self._set(CallState.IVR)
            await self._confirm_number("max_wait", self.queue_id)
        else:
            await self._play(["all_agents_busy"], False, then_hangup=f"exited:{action}"[:40])

    async def _offer(self, agent_id: int) -> None:
        assert self.task_id is not None
        leg = await self.m.ring_agent(self, agent_id)
        if leg is None:
            await self.m.routing.decline(self.task_id)
            return
        await self._ringing(leg, agent_id)

    async def _ringing(self, leg: AgentLeg, agent_id: int | None, **record: Any) -> None:
        """A phone rings for this call (an agent's for its queue task, or an extension's): the call waits for it,
        and its record says when it was offered (and ``record``)."""
        self.agent_id = agent_id
        self.agent_leg = leg
        self._set(CallState.CONNECTING)
        assert self.interaction_id is not None
        await self.m.records.update(self.tenant_id, self.interaction_id, offered_at=utcnow(), **record)

    def _bridge_agent(self) -> None:
        """Caller and agent hear each other (``bridge`` stops what played on either leg; its end is stale now)."""
        self._token += 1
        self.leg.bridge(self.agent_leg.media)

    async def _agent_answered(self) -> None:
        if self.state is not CallState.CONNECTING or (self.task_id is None and self._transferring is None):
            return
        self._transferring = None
        self._bridge_agent()
        self._set(CallState.TALKING)
        self._record_conversation()
        if self.task_id is not None:
            await self.m.routing.accept(self.task_id)
        assert self.interaction_id is not None
        await self.m.records.update(self.tenant_id, self.interaction_id, agent_id=self.agent_id, answered_at=utcnow())

    async def _agent_hold(self, held: bool, source: str = "the agent") -> None:
        """The agent's phone (or the desk, ``control.py``) held the call (the caller hears music, the agent nothing)
        or resumed it (bridged again). The time on hold is added up on the Interaction (``hold_s``)."""
        if self.state is not CallState.TALKING or self.agent_leg is None or held == (self._held_since is not None):
            return
        log.info("call %s: %s %s the call", self.request.call_id, source, "held" if held else "resumed")
        if held:
            self._held_since = self._now()
            self.leg.unbridge()
            self._queue_music()
            return
        self._bridge_agent()
        self._end_hold()
        assert self.interaction_id is not None
        await self.m.records.update(self.tenant_id, self.interaction_id, hold_s=round(self._hold_s, 3))

    def _end_hold(self) -> None:
        if self._held_since is not None:
            self._hold_s += self._now() - self._held_since
            self._held_since = None

    async def _agent_failed(self, status: int) -> None:
        if self.state is CallState.CONNECTING and self._transferring is not None:
            log.info("call %s: extension %s did not answer (%s)", self.request.call_id, self._transferring, status)
            await self._transfer_failed()
            return
        if self.state is not CallState.CONNECTING or self.task_id is None:
            return
        log.info("call %s: agent %s did not answer (%s)", self.request.call_id, self.agent_id, status)
        self.agent_leg = None
        self._set(CallState.QUEUED)
        self._queue_music()
        await self.m.routing.decline(self.task_id)

    # --- control from the server (``control.py`` checks the state first) ---------------------------------------

    @property
    def held(self) -> bool:
        """On hold (from the agent's phone or from the desk)."""
        return self._held_since is not None

    async def hold(self, held: bool) -> None:
        """Hold the call (the caller hears music on hold, the agent's phone is sent nothing) or resume it."""
        await self._agent_hold(held, "the desk")

    async def hang_up(self) -> None:
        """End both legs with BYE; the task is completed (the agent wraps up)."""
        log.info("call %s: hung up from the desk", self.request.call_id)
        await self._end("agent_hangup", bye=True)

    async def transfer_out(self, queue_id: int | None, agent_id: int | None) -> None:
        """The agent hands the caller on: to ``queue_id``, or to ``agent_id`` first in the call's queue (or in
        ``queue_id``) until the queue's offer timeout. The agent's leg ends with BYE and their task is completed;
        this Interaction ends as transferred and a new one (``transferred_from_id``) carries the call on."""
        target = queue_id if queue_id is not None else self.queue_id
        old = self.interaction_id
        assert target is not None and old is not None
        log.info("call %s: transferred to queue %s, agent %s", self.request.call_id, target, agent_id)
        leg, self.agent_leg = self.agent_leg, None
        end_legs(leg)
        self.leg.unbridge()
        self._end_hold()
        recording, self.recording = self.recording, None
        if recording is not None:
            recording.stop()
        task_id, self.task_id = self.task_id, None
        if task_id is not None:
            self.m.by_task.pop(task_id, None)
            await self.m.routing.complete(task_id)
        now = utcnow()
        held = {"hold_s": round(self._hold_s, 3)} if self._hold_s else {}
        await self.m.records.update(
            self.tenant_id, old, ended_at=now, transferred_at=now, end_reason="transferred",
            recording=None if recording is None else self.m.relative(recording.path), **held,
        )  # fmt: skip
        self._hold_s = 0.0
        self.agent_id = None
        self.interaction_id = await self.m.records.continuation(self.tenant_id, old)
        row = RoutingTask(
            tenant_id=self.tenant_id, queue_id=target, channel="voice", skills={}, language=self._task_language,
            priority=self._priority, enqueued_at=utcnow(), interaction_id=self.interaction_id,
        )  # fmt: skip
        if agent_id is not None:
            row.preferred_agent_id = agent_id
            row.preferred_until = row.enqueued_at + timedelta(
                seconds=self.m.offer_timeout_s(target) + PREFERRED_SLACK_S
            )
        await self._queue_task(row)

    # --- transfer to an extension ----------------------------------------------------------------------------

    async def _transfer(self, extension: str, ring_s: float) -> None:
        """Ring the phone registered as the tenant's ``extension`` for ``ring_s`` (the caller hears "please hold",
        then music); on answer the two are bridged as with an agent from a queue, without a routing task."""
        leg = self.m.ring_extension(self, extension)
        if leg is None:
            log.info("call %s: extension %s has no registered phone", self.request.call_id, extension)
            await self._transfer_failed()
            return
        self._transferring = extension
        agent_id = await self.m.records.agent_of_extension(self.tenant_id, extension)
        await self._ringing(leg, agent_id, ivr_path=self._path())
        await self._play(["transfer"], False)
        self._schedule(ring_s, "tick")

    async def _transfer_failed(self) -> None:
        """No phone, a refusal or no answer: the transfer node's ``on_failure``, else a word and the end."""
        self._transferring = None
        if self.agent_leg is not None:
            self.agent_leg.cancel()
            self.agent_leg = None
        self.agent_id = None
        self._set(CallState.IVR)
        assert self.ivr is not None
        commands = self.ivr.transfer_failed(self._now())
        if commands:
            await self._commands(commands)
        else:
            await self._play(["extension_unavailable"], False, then_hangup="transfer_failed")

    # --- voicemail and recording -----------------------------------------------------------------------------

    async def _voicemail(self, prompt: str | None, queue: str | None, max_s: int) -> None:
        """The prompt, a beep, then the message until ``#``, ``max_s`` or the caller hangs up; it becomes a
        callback task (with the recording) in ``queue``, else in the queue a callback would go to."""
        self._voicemail_queue = (
            await self.m.records.queue_id(self.tenant_id, queue) if queue is not None else await self._callback_queue()
        )
        self._voicemail_max_s = max_s
        self._set(CallState.VOICEMAIL)
        self._token += 1
        token = self._token
        beep = self.m.beep
        audio = (
            beep if prompt is None else Audio.concat(await self.m.phrase(self.tenant_id, [prompt], self.language), beep)
        )
        self.leg.play(audio, on_done=lambda: self.post("prompt_done", None, token))

    def _start_voicemail(self) -> None:
        if self.recording is None:
            self.recording = self.leg.record(self.m.recording_path(self, "voicemail"))
            self._schedule(self._voicemail_max_s, "tick")

    def _record_conversation(self) -> None:
        if self._may_record and self.recording is None:
            self.recording = self.leg.record(self.m.recording_path(self, "call"))

    async def _leave_voicemail(self, recording: Recording) -> None:
        if self._voicemail_queue is None:
            log.warning("call %s: a voicemail with no queue to go to: %s", self.request.call_id, recording.path)
            return
        row = RoutingTask(
            tenant_id=self.tenant_id, queue_id=self._voicemail_queue, channel="callback", skills={},
            language=self.language, priority=0, enqueued_at=utcnow(), interaction_id=self.interaction_id,
            callback_number=usable_number(self.caller, self.route.country),
        )  # fmt: skip
        await self.m.routing.add_tasks([row])

    # --- the end ---------------------------------------------------------------------------------------------

    async def _end(self, reason: str, *, bye: bool) -> None:
        if self.state is CallState.ENDED:
            return
        was = self.state
        self._set(CallState.ENDED)
        self.end_reason = reason
        for timer in (self._timer, self._dialog_timer, self._limit):
            if timer is not None:
                timer.cancel()
        if bye and self.dialog is not None and was is not CallState.RINGING:
            self.m.send_bye(self.dialog, self.invite.peer)
        if self.dialog is not None:
            self.m.transport.remove_dialog(self.dialog.id)
        if self.agent_leg is not None:
            self.agent_leg.cancel()
        recording, self.recording = self.recording, None
        if recording is not None:
            recording.stop()
        self.leg.close()
        self.m.forget(self)
        self._unlink()
        task_id, self.task_id = self.task_id, None
        if task_id is not None:
            if was is CallState.TALKING:
                await self.m.routing.complete(task_id)
            else:
                await self.m.routing.cancel(task_id)
        if was is CallState.VOICEMAIL and recording is not None:
            await self._leave_voicemail(recording)
            reason = "voicemail"
        if self.interaction_id is not None:
            self._end_hold()
            held = {"hold_s": round(self._hold_s, 3)} if self._hold_s else {}
            await self.m.records.update(
                self.tenant_id, self.interaction_id, ended_at=utcnow(), end_reason=reason[:40], ivr_path=self._path(),
                recording=None if recording is None else self.m.relative(recording.path), **held,
            )  # fmt: skip

    def _unlink(self) -> None:
        """Let go of the callbacks that refer back to this call (its media leg's, its INVITE's, its agent leg's), so
        that the ended call is freed at once by reference counting. Left in those cycles, ended calls pile up for
        the cyclic garbage collector, whose full collections pause the loop (the media clock included) for tens of
        milliseconds under load. Inputs posted after the end are dropped anyway."""
        self.leg.on_digit = self.leg.on_timeout = None
        self.invite.on_cancel = None
        if self.agent_leg is not None:
            self.agent_leg.release()

    # --- helpers ---------------------------------------------------------------------------------------------

    def _path(self) -> list[str]:
        return [] if self.ivr is None else list(self.ivr.path)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _schedule(self, delay: float, kind: str) -> None:
        self._schedule_at(self._now() + delay, kind)

    def _schedule_at(self, when: float, kind: str) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_at(when, self.post, kind)


def _info_digit(request: Request) -> str | None:
    """The digit of a SIP INFO ``application/dtmf-relay`` body (``Signal=5``), as some phones send DTMF."""
    kind = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if kind != "application/dtmf-relay":
        return None
    for line in request.body.decode("ascii", "replace").splitlines():
        name, _, value = line.partition("=")
        if name.strip().lower() == "signal" and value.strip() in tuple("0123456789*#"):
            return value.strip()
    return None
