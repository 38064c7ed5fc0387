"""The agent leg: we call the agent's registered phone for a call the routing engine offered them.

``AgentLeg.ring`` sends the INVITE (our SDP offer from a fresh media leg) to the phone's registered contact, from
the address the phone registered from. The owner hears back through three callbacks: ``on_answer`` (the phone
answered: the ACK is sent, the media leg is connected to the phone's answer), ``on_fail(status)`` (a final
non-2xx, a made-up 408 on timeout, or an answer we cannot use) and ``on_hangup`` (the agent's BYE). ``cancel``
withdraws a ringing INVITE (CANCEL; a 2xx that still crosses it is ACKed and ended with BYE at once), ``hangup``
ends an answered leg with BYE.

The phone may re-INVITE (or UPDATE) during the call, as phones do to hold and resume: its offer is answered from
the same media leg (a=sendonly from the phone gets a=recvonly: we send it nothing), our 2xx is retransmitted until
its ACK, and ``on_hold(held)`` tells the owner when the phone held or resumed the call. An offerless re-INVITE gets
our offer again, and the call goes on as it was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from enum import Enum
from typing import cast

from infolinia.voice.media import Codec, MediaLeg
from infolinia.voice.media.leg import Direction
from infolinia.voice.sdp import (
    Accepted,
    Answer,
    Local,
    NotAcceptable,
    SdpError,
    answer_offer,
    make_offer,
    parse_sdp,
    read_answer,
)
from infolinia.voice.sip import Request, Response, SipError, parse_address, parse_uri
from infolinia.voice.sip.builders import SentBy, cancel_for, new_request, response_to
from infolinia.voice.sip.dialog import Dialog, DialogError, NoAck
from infolinia.voice.sip.transaction import TransactionError, TransactionKey
from infolinia.voice.sip.transport import Peer, SipTransport

log = logging.getLogger(__name__)


class LegState(Enum):
    RINGING = "ringing"
    ANSWERED = "answered"
    ENDED = "ended"


class AgentLeg:
    def __init__(
        self,
        transport: SipTransport,
        media: MediaLeg,
        *,
        contact_uri: str,
        phone: Peer,
        caller: str,
        extension: str,
        realm: str,
        us: Peer,
    ) -> None:
        self.transport = transport
        self.media = media
        self.phone = phone
        self.state = LegState.RINGING
        self.on_answer: Callable[[], None] = _nothing
        self.on_fail: Callable[[int], None] = _ignore_status
        self.on_hangup: Callable[[], None] = _nothing
        self.on_hold: Callable[[bool], None] = _ignore_hold
        self.held = False  # the phone holds the call (its last offer was sendonly or inactive)
        self.dialog: Dialog | None = None
        self._dialog_timer: asyncio.TimerHandle | None = None
        host, port = us
        self._local = local = Local(media.local_address[0], media.local_address[1])
        self._contact = parse_address(f"<sip:infolinia@{host}:{port}>")
        display = caller.replace('"', "")[:40] or "anonymous"
        user = "".join(ch for ch in caller if ch.isdigit() or ch == "+")[:32] or "anonymous"
        self.invite = new_request(
            "INVITE",
            parse_uri(contact_uri),
            from_=parse_address(f'"{display}" <sip:{user}@{host}>'),
            to=parse_address(f"<sip:{extension}@{realm}>"),
            sent_by=SentBy(host, port),
            contact=self._contact,
            body=bytes(make_offer(local)),
            content_type="application/sdp",
        )

    def ring(self) -> None:
        try:
            self.transport.send_request(self.invite, self.phone, self._response)
        except TransactionError:
            log.warning("cannot call the agent's phone: transaction layer full")
            self._fail(503)

    def cancel(self) -> None:
        """Stop ringing (CANCEL); an answered leg is hung up instead."""
        if self.state is LegState.ANSWERED:
            self.hangup()
        elif self.state is LegState.RINGING:
            self.state = LegState.ENDED
            self.media.close()
            try:
                self.transport.send_request(cancel_for(self.invite), self.phone, _ignore_response)
            except TransactionError:
                log.debug("CANCEL not sent: transaction layer full")

    def release(self) -> None:
        """The owner is done with this leg: its callbacks no longer refer to the owner (which frees it at once)."""
        self.on_answer, self.on_fail, self.on_hangup, self.on_hold = _nothing, _ignore_status, _nothing, _ignore_hold

    def hangup(self) -> None:
        if self.state is not LegState.ANSWERED or self.dialog is None:
            return
        self.state = LegState.ENDED
        self._arm_dialog()  # no more 2xx retransmits
        self.transport.remove_dialog(self.dialog.id)
        self.media.close()
        try:
            self.transport.send_request(self.dialog.request("BYE"), self.phone, _ignore_response)
        except (TransactionError, DialogError):
            log.debug("BYE to the agent's phone not sent")

    # --- from the phone ----------------------------------------------------------------------------------------

    def _response(self, response: Response) -> None:
        if response.status < 200:
            return
        if response.status >= 300:
            if self.state is LegState.RINGING:
                self._fail(response.status)
            return
        self._answered(response)

    def _answered(self, response: Response) -> None:
        try:
            dialog = Dialog.uac_from(self.invite, response)
            self.transport.send_stateless(dialog.ack(response), self.phone)
        except (DialogError, SipError) as error:
            log.debug("unusable 2xx from the agent's phone: %s", error)
            return
        if self.dialog is not None:
            return  # a retransmitted 2xx: ACKed again above
        self.dialog = dialog
        if self.state is not LegState.RINGING:  # answered after we cancelled: end it at once
            self.state = LegState.ANSWERED
            self.hangup()
            return
        try:
            accepted = read_answer(parse_sdp(response.body), local_address=self.media.local_address[0])
        except SdpError:
            accepted = NotAcceptable("the phone's answer has no readable SDP")
        if isinstance(accepted, NotAcceptable):
            log.info("agent phone answer refused: %s", accepted.reason)
            self.state = LegState.ANSWERED
            self.hangup()
            self.on_fail(488)
            return
        self.state = LegState.ANSWERED
        connect_media(self.media, accepted, self.phone[0])
        self.transport.add_dialog(dialog.id, self)
        self.on_answer()

    def in_dialog(self, key: TransactionKey | None, request: Request, peer: Peer) -> None:
        if self.dialog is None:
            return
        if key is None:  # an ACK: of our 2xx to the phone's re-INVITE, if any
            if request.method == "ACK":
                self.dialog.receive_request(request)
                self._arm_dialog()
            return
        status = self.dialog.receive_request(request)
        if status is not None:
            self.transport.respond(key, response_to(request, status))
            return
        if request.method == "BYE":
            self.transport.respond(key, response_to(request, 200))
            if self.state is LegState.ANSWERED:
                self.state = LegState.ENDED
                self._arm_dialog()
                self.transport.remove_dialog(self.dialog.id)
                self.media.close()
                self.on_hangup()
        elif request.method in ("INVITE", "UPDATE") and self.state is LegState.ANSWERED:
            self._reinvite(key, request)
        else:
            self.transport.respond(key, response_to(request, 200 if request.method in ("INFO", "OPTIONS") else 501))

    def _reinvite(self, key: TransactionKey, request: Request) -> None:
        """The phone's new offer (hold, resume, another address), answered from the same media leg."""
        assert self.dialog is not None
        self._local = dataclasses.replace(self._local, session_version=self._local.session_version + 1)
        held = self.held
        if request.body:
            try:
                answer = answer_offer(parse_sdp(request.body), self._local)
            except SdpError as error:
                answer = NotAcceptable(str(error))
            if isinstance(answer, NotAcceptable):
                log.info("agent phone re-offer refused: %s", answer.reason)
                self.transport.respond(key, response_to(request, 488))
                return
            connect_media(self.media, answer, self.phone[0])
            body = bytes(answer.sdp)
            held = answer.direction in ("recvonly", "inactive")
        else:  # offerless: our offer again (its answer comes in the ACK; the media stays as it is)
            body = bytes(make_offer(self._local))
        ok = response_to(request, 200, contact=self._contact, body=body, content_type="application/sdp")
        if request.method == "INVITE":
            self.dialog.respond(ok, asyncio.get_running_loop().time())
            self._arm_dialog()
        self.transport.respond(key, ok)
        if held != self.held:
            self.held = held
            self.on_hold(held)

    def _arm_dialog(self) -> None:
        """Retransmit our 2xx to the phone's re-INVITE until its ACK (RFC 3261 §13.3.1.4)."""
        due = None if self.dialog is None or self.state is not LegState.ANSWERED else self.dialog.next_deadline()
        self._dialog_timer = rearm(self._dialog_timer, due, self._dialog_due)

    def _dialog_due(self) -> None:
        self._dialog_timer = None
        if self.dialog is None:
            return
        for event in self.dialog.timeout(asyncio.get_running_loop().time()):
            if isinstance(event, NoAck):
                log.info("agent phone did not acknowledge our answer to its re-INVITE")
            else:
                self.transport.send_stateless(event.response, self.phone)
        self._arm_dialog()

    def _fail(self, status: int) -> None:
        self.state = LegState.ENDED
        self.media.close()
        self.on_fail(status)


def end_legs(*legs: AgentLeg | None) -> None:
    """The owner is done with these legs: each released, then hung up if answered or cancelled if ringing."""
    for leg in legs:
        if leg is None:
            continue
        leg.release()
        if leg.state is LegState.ANSWERED:
            leg.hangup()
        elif leg.state is LegState.RINGING:
            leg.cancel()


def connect_media(media: MediaLeg, settled: Answer | Accepted, source_host: str) -> None:
    """Point ``media`` at what an SDP exchange settled: our answer to the peer's offer (its direction included),
    or the peer's answer to ours (both ways). Media is accepted from ``source_host``, where the signalling came
    from: an SDP may name a private address behind NAT."""
    direction = settled.direction if isinstance(settled, Answer) else "sendrecv"
    media.connect(
        (settled.remote_address, settled.remote_port), settled.payload_type, settled.telephone_event,
        codec=cast(Codec, settled.codec), direction=cast(Direction, direction), source_host=source_host,
    )  # fmt: skip


def rearm(
    timer: asyncio.TimerHandle | None, due: float | None, callback: Callable[[], None]
) -> asyncio.TimerHandle | None:
    """Cancel ``timer`` and set one for ``due`` on the loop's clock instead (None when nothing is due)."""
    if timer is not None:
        timer.cancel()
    return None if due is None else asyncio.get_running_loop().call_at(due, callback)


def _nothing() -> None:
    return None


def _ignore_status(status: int) -> None:
    return None


def _ignore_hold(held: bool) -> None:
    return None


def _ignore_response(response: Response) -> None:
    return None
