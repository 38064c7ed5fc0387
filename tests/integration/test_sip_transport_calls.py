"""The SIP/UDP shell's call paths, between two real transports on 127.0.0.1: an INVITE answered in steps, its
CANCEL, requests inside a dialog (ACK, BYE), 481 outside one, and a client transaction that times out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from infolinia.voice.sip import Request, Response, SipUri, parse_address
from infolinia.voice.sip.builders import SentBy, cancel_for, new_request, response_to
from infolinia.voice.sip.dialog import Dialog
from infolinia.voice.sip.layer import TransactionLayer
from infolinia.voice.sip.timers import Timers
from infolinia.voice.sip.transaction import TransactionKey
from infolinia.voice.sip.transport import Peer, ServerInvite, SipTransport, udp_socket
from tests.poll import until

FAST = Timers(t1=0.02, t2=0.08, t4=0.1, timer_d=0.2)


@dataclass
class Callee:
    """Answers INVITEs the way a test tells it, and records what reaches its dialogs."""

    transport: SipTransport
    invites: list[ServerInvite] = field(default_factory=list)
    cancelled: list[ServerInvite] = field(default_factory=list)
    received: list[tuple[TransactionKey | None, Request]] = field(default_factory=list)

    def invite(self, invite: ServerInvite) -> None:
        self.invites.append(invite)
        invite.on_cancel = lambda: self._cancelled(invite)

    def _cancelled(self, invite: ServerInvite) -> None:
        self.cancelled.append(invite)
        self.transport.respond(invite.key, response_to(invite.request, 487))

    def answer(self, invite: ServerInvite, address: Peer) -> Dialog:
        contact = parse_address(f"<sip:callee@{address[0]}:{address[1]}>")
        ok = response_to(invite.request, 200, contact=contact)
        dialog = Dialog.uas_from(invite.request, ok, SentBy(*address), 0.0)
        self.transport.add_dialog(dialog.id, self)
        self.transport.respond(invite.key, ok)
        return dialog

    def in_dialog(self, key: TransactionKey | None, request: Request, peer: Peer) -> None:
        self.received.append((key, request))
        if key is not None:
            self.transport.respond(key, response_to(request, 200))


@pytest.fixture
async def pair() -> AsyncIterator[tuple[SipTransport, Peer, Callee, Peer]]:
    loop = asyncio.get_running_loop()
    caller = SipTransport({}, TransactionLayer(FAST))
    callee_transport = SipTransport({}, TransactionLayer(FAST))
    callee = Callee(callee_transport)
    callee_transport.on_invite = callee.invite
    a, b = udp_socket("127.0.0.1", 0), udp_socket("127.0.0.1", 0)
    a_addr, b_addr = a.getsockname()[:2], b.getsockname()[:2]
    await loop.create_datagram_endpoint(lambda: caller, sock=a)
    await loop.create_datagram_endpoint(lambda: callee_transport, sock=b)
    yield caller, a_addr, callee, b_addr
    await caller.close()
    await callee_transport.close()


def invite_to(callee: Peer, caller: Peer) -> Request:
    return new_request(
        "INVITE",
        SipUri("sip", callee[0], user="800100200", port=callee[1]),
        from_=parse_address(f"<sip:caller@{caller[0]}>"),
        to=parse_address(f"<sip:800100200@{callee[0]}>"),
        sent_by=SentBy(*caller),
        contact=parse_address(f"<sip:caller@{caller[0]}:{caller[1]}>"),
    )


async def test_an_invite_is_answered_in_steps_and_its_dialog_takes_ack_and_bye(
    pair: tuple[SipTransport, Peer, Callee, Peer],
) -> None:
    caller, caller_addr, callee, callee_addr = pair
    invite = invite_to(callee_addr, caller_addr)
    responses: list[Response] = []
    caller.send_request(invite, callee_addr, responses.append)
    await until(lambda: len(callee.invites) == 1)
    server_invite = callee.invites[0]
    callee.transport.respond(server_invite.key, response_to(server_invite.request, 180, to_tag="t1"))
    await until(lambda: [r.status for r in responses] == [180])
    callee.answer(server_invite, callee_addr)
    await until(lambda: any(r.status == 200 for r in responses))
    ok = next(r for r in responses if r.status == 200)
    dialog = Dialog.uac_from(invite, ok)
    caller.send_stateless(dialog.ack(ok), callee_addr)
    await until(lambda: [r.method for _, r in callee.received] == ["ACK"])
    bye_answers: list[Response] = []
    caller.send_request(dialog.request("BYE"), callee_addr, bye_answers.append)
    await until(lambda: [r.status for r in bye_answers] == [200])
    assert [r.method for _, r in callee.received] == ["ACK", "BYE"]


async def test_a_cancel_reaches_the_pending_invite_which_ends_487(
    pair: tuple[SipTransport, Peer, Callee, Peer],
) -> None:
    caller, caller_addr, callee, callee_addr = pair
    invite = invite_to(callee_addr, caller_addr)
    responses: list[Response] = []
    caller.send_request(invite, callee_addr, responses.append)
    await until(lambda: len(callee.invites) == 1)
    cancel_answers: list[Response] = []
    caller.send_request(cancel_for(invite), callee_addr, cancel_answers.append)
    await until(lambda: [r.status for r in cancel_answers] == [200] and any(r.status == 487 for r in responses))
    assert callee.cancelled == callee.invites
    again: list[Response] = []  # the INVITE has its final answer: a second CANCEL matches nothing pending
    second = cancel_for(invite)
    second.headers.set("Via", invite.headers.values("Via")[0].replace("z9hG4bK", "z9hG4bKx"))
    caller.send_request(second, callee_addr, again.append)
    await until(lambda: [r.status for r in again] == [481])


async def test_a_request_for_an_unknown_dialog_gets_481(pair: tuple[SipTransport, Peer, Callee, Peer]) -> None:
    caller, caller_addr, callee, callee_addr = pair
    bye = new_request(
        "BYE",
        SipUri("sip", callee_addr[0], user="x", port=callee_addr[1]),
        from_=parse_address(f"<sip:caller@{caller_addr[0]}>"),
        to=parse_address(f"<sip:x@{callee_addr[0]}>;tag=nobody"),
        sent_by=SentBy(*caller_addr),
    )
    answers: list[Response] = []
    caller.send_request(bye, callee_addr, answers.append)
    await until(lambda: [r.status for r in answers] == [481])
    assert callee.transport.stats()["no_dialog"] == 1


async def test_a_client_transaction_without_an_answer_ends_with_a_made_up_408(
    pair: tuple[SipTransport, Peer, Callee, Peer],
) -> None:
    caller, caller_addr, _, _ = pair
    silent = udp_socket("127.0.0.1", 0)  # bound, never read: nobody answers
    try:
        target = silent.getsockname()[:2]
        options = new_request(
            "OPTIONS",
            SipUri("sip", target[0], port=target[1]),
            from_=parse_address(f"<sip:probe@{caller_addr[0]}>"),
            to=parse_address(f"<sip:{target[0]}>"),
            sent_by=SentBy(*caller_addr),
        )
        answers: list[Response] = []
        caller.send_request(options, target, answers.append)
        await until(lambda: bool(answers))
        assert [r.status for r in answers] == [408]
        assert caller.stats()["client_408"] == 1
    finally:
        silent.close()
