"""RFC 3261 §12-13 dialogs and the message builders: header by header on what they write (parsed back), dialogs
made from SIPp- and baresip-shaped calls, CSeq and route set rules, the 2xx retransmits of the UAS, and two ends
in memory completing INVITE/180/200/ACK/BYE through transaction layers over a lossy channel."""

from __future__ import annotations

import pytest
from tests.lossy import LossyChannel

from infolinia.voice.sip import (
    Address,
    Deliver,
    Dialog,
    DialogError,
    DialogEvent,
    DialogId,
    DialogState,
    Event,
    NoAck,
    Request,
    Resend,
    Response,
    SentBy,
    SipUri,
    Timers,
    TransactionKey,
    TransactionLayer,
    Transmit,
    cancel_for,
    new_request,
    new_tag,
    parse,
    parse_address,
    parse_uri,
    request_dialog_id,
    response_dialog_id,
    response_to,
)


def msg(text: str) -> Request | Response:
    return parse((text.strip("\n") + "\n\n").replace("\n", "\r\n").encode())


def req(text: str) -> Request:
    message = msg(text)
    assert isinstance(message, Request)
    return message


def rsp(text: str) -> Response:
    message = msg(text)
    assert isinstance(message, Response)
    return message


def reparse_req(message: Request) -> Request:
    again = parse(bytes(message))
    assert isinstance(again, Request)
    return again


def reparse_rsp(message: Response) -> Response:
    again = parse(bytes(message))
    assert isinstance(again, Response)
    return again


# SIPp's built-in uac scenario (sipp -sn uac) against its uas scenario (sipp -sn uas).
SIPP_INVITE = """
INVITE sip:service@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4711-1-0
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4711SIPpTag001
To: service <sip:service@127.0.0.1:5060>
Call-ID: 1-4711@127.0.0.1
CSeq: 1 INVITE
Contact: sip:sipp@127.0.0.1:5061
Max-Forwards: 70
Subject: Performance Test
Content-Length: 0
"""
SIPP_200 = """
SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4711-1-0
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4711SIPpTag001
To: service <sip:service@127.0.0.1:5060>;tag=4712SIPpTag011
Call-ID: 1-4711@127.0.0.1
CSeq: 1 INVITE
Contact: <sip:127.0.0.1:5060;transport=UDP>
Content-Length: 0
"""
SIPP_ACK = """
ACK sip:127.0.0.1:5060;transport=UDP SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4711-1-5
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4711SIPpTag001
To: service <sip:service@127.0.0.1:5060>;tag=4712SIPpTag011
Call-ID: 1-4711@127.0.0.1
CSeq: 1 ACK
Contact: sip:sipp@127.0.0.1:5061
Max-Forwards: 70
Content-Length: 0
"""
SIPP_BYE = """
BYE sip:127.0.0.1:5060;transport=UDP SIP/2.0
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-4711-1-7
From: sipp <sip:sipp@127.0.0.1:5061>;tag=4711SIPpTag001
To: service <sip:service@127.0.0.1:5060>;tag=4712SIPpTag011
Call-ID: 1-4711@127.0.0.1
CSeq: 2 BYE
Contact: sip:sipp@127.0.0.1:5061
Max-Forwards: 70
Content-Length: 0
"""

# baresip calling through two loose-routing proxies, each of which recorded its route.
BARESIP_INVITE = """
INVITE sip:1000@pbx.example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK.p2
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK.p1
Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK6a1c;rport=5060;received=203.0.113.9
Record-Route: <sip:10.0.0.2;lr>
Record-Route: <sip:10.0.0.1;lr;ftag=8e5c>
Contact: <sip:alice-0x55@192.168.1.20:5060;transport=udp>
Max-Forwards: 68
To: <sip:1000@pbx.example.com>
From: "Alice" <sip:alice@pbx.example.com>;tag=8e5c
Call-ID: 3c6b2f1a9e0d4b7f
CSeq: 31337 INVITE
User-Agent: baresip v3.10.1 (x86_64/linux)
Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,REFER
Content-Length: 0
"""
BARESIP_200 = """
SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK6a1c;rport=5060;received=203.0.113.9
Record-Route: <sip:10.0.0.2;lr>, <sip:10.0.0.1;lr;ftag=8e5c>
To: <sip:1000@pbx.example.com>;tag=as5f2a
From: "Alice" <sip:alice@pbx.example.com>;tag=8e5c
Call-ID: 3c6b2f1a9e0d4b7f
CSeq: 31337 INVITE
Contact: <sip:1000@198.51.100.7:5080>
Content-Length: 0
"""
US = SentBy("198.51.100.7", 5080)


# --- builders -------------------------------------------------------------------------------------------------


def test_response_to_copies_every_via_from_to_call_id_cseq_and_record_route() -> None:
    invite = req(BARESIP_INVITE)
    contact = parse_address("<sip:1000@198.51.100.7:5080>")
    ok = reparse_rsp(response_to(invite, 200, to_tag="as5f2a", contact=contact))
    assert (ok.status, ok.reason) == (200, "OK")
    assert ok.headers.get_all("Via") == invite.headers.get_all("Via")
    assert ok.headers.get("From") == invite.headers.get("From")
    assert ok.to.uri == invite.to.uri and ok.to.tag == "as5f2a"
    assert ok.call_id == invite.call_id and ok.cseq == invite.cseq
    assert ok.headers.get_all("Record-Route") == invite.headers.get_all("Record-Route")
    assert ok.contacts == [contact] and ok.headers.get("Content-Length") == "0"
    assert ok.headers.get("User-Agent") is None and ok.headers.get("Max-Forwards") is None


def test_response_to_leaves_a_100_and_a_tagged_to_alone() -> None:
    invite = req(SIPP_INVITE.replace("Subject:", "Timestamp: 54\nSubject:"))
    trying = reparse_rsp(response_to(invite, 100, to_tag="x1"))
    assert trying.to.tag is None and trying.reason == "Trying" and trying.headers.get("Timestamp") == "54"
    bye = req(SIPP_BYE)
    ok = reparse_rsp(response_to(bye, 200, to_tag="other"))
    assert ok.to.tag == "4712SIPpTag011" and ok.headers.get("Timestamp") is None
    assert ok.headers.get("Record-Route") is None  # only dialog-creating responses to INVITE copy it
    busy = reparse_rsp(response_to(invite, 486, "Busy", to_tag="t9"))
    assert (busy.status, busy.reason, busy.to.tag) == (486, "Busy", "t9")
    options = req(SIPP_INVITE.replace("INVITE", "OPTIONS"))
    first, second = response_to(options, 200).to.tag, response_to(options, 200).to.tag
    assert first and second and first != second  # §8.2.6.2: a non-100 always gets a To tag
    assert reparse_rsp(response_to(options, 299, "Odd")).reason == "Odd"
    assert response_to(options, 199).reason == ""


def test_response_to_with_a_body() -> None:
    sdp = b"v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n"
    ok = reparse_rsp(response_to(req(SIPP_INVITE), 200, to_tag="t", body=sdp, content_type="application/sdp"))
    assert ok.body == sdp and ok.headers.get("Content-Length") == str(len(sdp))
    assert ok.content_type is not None and ok.content_type.mime == "application/sdp"
    with pytest.raises(ValueError, match="Content-Type"):
        response_to(req(SIPP_INVITE), 200, body=sdp)


def test_new_request_writes_an_out_of_dialog_invite() -> None:
    to = parse_address("<sip:+48225550100@trunk.example.net>")
    invite = reparse_req(
        new_request(
            "INVITE",
            parse_uri("sip:+48225550100@trunk.example.net"),
            from_=parse_address('"Infolinia" <sip:infolinia@198.51.100.7>'),
            to=to,
            sent_by=US,
            contact=parse_address("<sip:infolinia@198.51.100.7:5080>"),
            body=b"v=0\r\n",
            content_type="application/sdp",
        )
    )
    assert invite.method == "INVITE" and str(invite.uri) == "sip:+48225550100@trunk.example.net"
    (via,) = invite.via
    assert (via.transport, via.host, via.port) == ("UDP", "198.51.100.7", 5080)
    assert via.branch is not None and via.branch.startswith("z9hG4bK") and len(via.branch) > 20 and via.rport
    assert invite.from_.tag and invite.from_.display_name == "Infolinia" and invite.to == to
    assert invite.to.tag is None and invite.max_forwards == 70
    assert (invite.cseq.number, invite.cseq.method) == (1, "INVITE")
    assert invite.call_id and invite.contacts[0].uri == parse_uri("sip:infolinia@198.51.100.7:5080")
    assert invite.headers.get("Content-Type") == "application/sdp" and invite.body == b"v=0\r\n"
    again = new_request("INVITE", invite.uri, from_=invite.from_, to=to, sent_by=US)
    assert again.from_.tag == invite.from_.tag  # a given tag is kept
    assert again.call_id != invite.call_id and again.via[0].branch != via.branch


def test_new_request_register_keeps_call_id_and_counts_cseq() -> None:
    aor = parse_address("<sip:agent7@pbx.example.com>")
    route = parse_address("<sip:10.0.0.1;lr>")
    register = reparse_req(
        new_request(
            "REGISTER",
            parse_uri("sip:pbx.example.com"),
            from_=aor,
            to=aor,
            sent_by=SentBy("192.0.2.5"),
            call_id="reg-1",
            cseq=7,
            routes=(route,),
        )
    )
    assert register.call_id == "reg-1" and str(register.cseq) == "7 REGISTER"
    assert register.headers.get_all("Route") == ["<sip:10.0.0.1;lr>"] and register.contacts == []
    assert register.via[0].port is None and register.headers.get("Content-Length") == "0"
    options = reparse_req(new_request("OPTIONS", aor.uri, from_=aor, to=aor, sent_by=US))
    assert str(options.cseq) == "1 OPTIONS" and options.from_.tag is not None


def test_cancel_matches_its_invite() -> None:
    invite = req(BARESIP_INVITE.replace("Max-Forwards: 68", "Route: <sip:10.0.0.1;lr>\nMax-Forwards: 68"))
    cancel = reparse_req(cancel_for(invite))
    assert cancel.method == "CANCEL" and cancel.uri == invite.uri
    assert cancel.headers.get_all("Via") == [invite.headers.get_all("Via")[0]]
    for name in ("From", "To", "Call-ID", "Route"):
        assert cancel.headers.get(name) == invite.headers.get(name)
    assert str(cancel.cseq) == "31337 CANCEL" and cancel.body == b"" and cancel.max_forwards == 70
    layer = TransactionLayer()  # the CANCEL's server transaction points at the INVITE's
    layer.receive(invite, 0.0, ("10.0.0.2", 5060))
    (delivered,) = [e for e in layer.receive(cancel, 0.1, ("10.0.0.2", 5060)) if isinstance(e, Deliver)]
    assert delivered.cancels == TransactionKey("z9hG4bK.p2", "10.0.0.2:5060", "INVITE")


# --- dialogs from real-looking calls --------------------------------------------------------------------------


def test_uac_dialog_from_sipp_200_acks_and_byes_like_sipp() -> None:
    invite, ok = req(SIPP_INVITE), rsp(SIPP_200)
    dialog = Dialog.uac_from(invite, ok)
    assert dialog.uac and dialog.state is DialogState.CONFIRMED
    assert dialog.id == DialogId("1-4711@127.0.0.1", "4711SIPpTag001", "4712SIPpTag011")
    assert dialog.id == response_dialog_id(ok)
    assert str(dialog.remote_target) == "sip:127.0.0.1:5060;transport=UDP" and dialog.route_set == ()
    assert (dialog.local_seq, dialog.remote_seq) == (1, None)
    ack = reparse_req(dialog.ack(ok))
    expected = req(SIPP_ACK)
    assert ack.method == "ACK" and ack.uri == expected.uri and str(ack.cseq) == "1 ACK"
    assert (ack.from_, ack.to, ack.call_id) == (expected.from_, expected.to, expected.call_id)
    assert ack.via[0].branch != invite.via[0].branch and ack.via[0].host == "127.0.0.1" and ack.via[0].port == 5061
    assert ack.max_forwards == 70 and ack.headers.get("Route") is None
    assert dialog.ack(ok) is dialog.ack(ok)  # a retransmitted 2xx gets the very same ACK
    bye = reparse_req(dialog.request("BYE"))
    sipp_bye = req(SIPP_BYE)
    assert bye.uri == sipp_bye.uri and bye.cseq == sipp_bye.cseq
    assert (bye.from_, bye.to, bye.call_id) == (sipp_bye.from_, sipp_bye.to, sipp_bye.call_id)
    assert bye.contacts == [] and bye.via[0].branch not in (ack.via[0].branch, invite.via[0].branch)
    assert dialog.state is DialogState.TERMINATED
    with pytest.raises(DialogError, match="over"):
        dialog.request("INFO")


def test_uas_dialog_from_sipp_invite_takes_ack_and_bye() -> None:
    invite = req(SIPP_INVITE)
    ok = response_to(invite, 200, to_tag="as01", contact=parse_address("<sip:198.51.100.7:5080>"))
    dialog = Dialog.uas_from(invite, ok, US, now=0.0)
    assert not dialog.uac and dialog.state is DialogState.CONFIRMED and dialog.awaiting_ack
    assert dialog.id == DialogId("1-4711@127.0.0.1", "as01", "4711SIPpTag001")
    assert str(dialog.remote_target) == "sip:sipp@127.0.0.1:5061" and dialog.route_set == ()
    assert (dialog.local_seq, dialog.remote_seq) == (None, 1)
    ack = req(SIPP_ACK.replace("4712SIPpTag011", "as01"))
    assert request_dialog_id(ack) == dialog.id
    assert dialog.receive_request(ack) is None and not dialog.awaiting_ack and dialog.next_deadline() is None
    bye = req(SIPP_BYE.replace("4712SIPpTag011", "as01"))
    assert dialog.receive_request(bye) is None
    assert dialog.state is DialogState.TERMINATED and dialog.remote_seq == 2


def test_baresip_route_set_as_uas_and_as_uac() -> None:
    invite = req(BARESIP_INVITE)
    ok = response_to(invite, 200, to_tag="as5f2a", contact=parse_address("<sip:1000@198.51.100.7:5080>"))
    uas = Dialog.uas_from(invite, ok, US, 0.0)
    assert [str(r) for r in uas.route_set] == ["<sip:10.0.0.2;lr>", "<sip:10.0.0.1;lr;ftag=8e5c>"]
    assert str(uas.remote_target) == "sip:alice-0x55@192.168.1.20:5060;transport=udp"
    bye = reparse_req(uas.request("BYE"))  # our first request: local CSeq starts at 1
    assert str(bye.uri) == "sip:alice-0x55@192.168.1.20:5060;transport=udp" and str(bye.cseq) == "1 BYE"
    assert bye.headers.values("Route") == ["<sip:10.0.0.2;lr>", "<sip:10.0.0.1;lr;ftag=8e5c>"]
    assert bye.from_.tag == "as5f2a" and bye.to.tag == "8e5c" and bye.to.display_name == "Alice"
    assert (bye.via[0].host, bye.via[0].port) == ("198.51.100.7", 5080)

    # the same call seen from baresip's side: the route set is the Record-Route reversed
    own_invite = req(
        "\n".join(line for line in BARESIP_INVITE.splitlines() if not line.startswith(("Via: SIP/2.0/UDP 10.", "Rec")))
    )
    uac = Dialog.uac_from(own_invite, rsp(BARESIP_200))
    assert [str(r) for r in uac.route_set] == ["<sip:10.0.0.1;lr;ftag=8e5c>", "<sip:10.0.0.2;lr>"]
    assert str(uac.remote_target) == "sip:1000@198.51.100.7:5080"
    info = reparse_req(uac.request("INFO", b"Signal=5\r\nDuration=160\r\n", "application/dtmf-relay"))
    assert str(info.uri) == "sip:1000@198.51.100.7:5080" and str(info.cseq) == "31338 INFO"
    assert info.headers.values("Route") == ["<sip:10.0.0.1;lr;ftag=8e5c>", "<sip:10.0.0.2;lr>"]
    assert info.content_type is not None and info.content_type.mime == "application/dtmf-relay"
    assert (info.via[0].host, info.via[0].port) == ("192.168.1.20", 5060)
    ack = reparse_req(uac.ack(rsp(BARESIP_200)))
    assert str(ack.cseq) == "31337 ACK" and ack.headers.values("Route") == info.headers.values("Route")


def test_strict_router_first_in_route_set_becomes_the_request_uri() -> None:
    invite = req(BARESIP_INVITE.replace("<sip:10.0.0.2;lr>", "<sip:10.0.0.2;maddr=10.0.0.2>"))
    ok = response_to(invite, 200, to_tag="s1")
    bye = reparse_req(Dialog.uas_from(invite, ok, US, 0.0).request("BYE"))
    assert str(bye.uri) == "sip:10.0.0.2;maddr=10.0.0.2"
    assert bye.headers.values("Route") == [
        "<sip:10.0.0.1;lr;ftag=8e5c>",
        "<sip:alice-0x55@192.168.1.20:5060;transport=udp>",
    ]


def test_early_dialog_from_180_is_confirmed_by_200_which_recomputes_route_and_target() -> None:
    invite = req(SIPP_INVITE)
    ringing = rsp(
        SIPP_200.replace("200 OK", "180 Ringing").replace("<sip:127.0.0.1:5060;transport=UDP>", "<sip:early@x.test>")
    )
    dialog = Dialog.uac_from(invite, ringing)
    assert dialog.state is DialogState.EARLY and str(dialog.remote_target) == "sip:early@x.test"
    ok = rsp(SIPP_200.replace("Content-Length", "Record-Route: <sip:p1.test;lr>, <sip:p2.test;lr>\nContent-Length"))
    ack = dialog.ack(ok)
    assert dialog.state is DialogState.CONFIRMED and str(dialog.remote_target) == "sip:127.0.0.1:5060;transport=UDP"
    assert [str(r) for r in dialog.route_set] == ["<sip:p2.test;lr>", "<sip:p1.test;lr>"]
    assert str(ack.uri) == "sip:127.0.0.1:5060;transport=UDP" and ack.headers.values("Route")[0] == "<sip:p2.test;lr>"


def test_non_2xx_final_ends_an_early_dialog_but_not_a_confirmed_one() -> None:
    invite = req(SIPP_INVITE)
    dialog = Dialog.uac_from(invite, rsp(SIPP_200.replace("200 OK", "183 Session Progress")))
    dialog.receive_response(rsp(SIPP_200.replace("200 OK", "486 Busy Here")))
    assert dialog.state is DialogState.TERMINATED
    confirmed = Dialog.uac_from(invite, rsp(SIPP_200))
    reinvite = confirmed.request("INVITE")
    assert str(reinvite.cseq) == "2 INVITE" and reinvite.contacts[0].uri == parse_uri("sip:sipp@127.0.0.1:5061")
    confirmed.receive_response(rsp(SIPP_200.replace("200 OK", "491 Request Pending").replace("1 INVITE", "2 INVITE")))
    assert confirmed.state is DialogState.CONFIRMED
    confirmed.receive_response(rsp(SIPP_200.replace("200 OK", "481 Gone").replace("1 INVITE", "2 INVITE")))
    assert confirmed.state is DialogState.TERMINATED


def test_uas_early_dialog_ends_on_our_failure_answer() -> None:
    invite = req(SIPP_INVITE)
    dialog = Dialog.uas_from(invite, response_to(invite, 180, to_tag="e1"), US, 0.0)
    assert dialog.state is DialogState.EARLY and not dialog.awaiting_ack
    with pytest.raises(DialogError, match="To tag"):
        dialog.respond(response_to(invite, 200, to_tag="other"), 1.0)
    assert dialog.state is DialogState.EARLY
    dialog.respond(response_to(invite, 603, to_tag="e1"), 1.0)
    assert dialog.state is DialogState.TERMINATED and dialog.next_deadline() is None


def test_messages_of_another_dialog_are_refused() -> None:
    dialog = Dialog.uac_from(req(SIPP_INVITE), rsp(SIPP_200))
    with pytest.raises(DialogError):
        dialog.receive_response(rsp(SIPP_200.replace("4712SIPpTag011", "fork2")))
    with pytest.raises(DialogError):
        dialog.ack(rsp(SIPP_200.replace("4712SIPpTag011", "fork2")))
    with pytest.raises(DialogError):
        dialog.receive_request(req(SIPP_BYE))  # our own BYE: the tags are the other way round
    with pytest.raises(DialogError, match="To tag"):
        Dialog.uac_from(req(SIPP_INVITE), rsp(SIPP_200.replace(";tag=4712SIPpTag011", "")))
    with pytest.raises(DialogError, match="Contact"):
        invite = req(SIPP_INVITE.replace("Contact: sip:sipp@127.0.0.1:5061\n", ""))
        Dialog.uas_from(invite, response_to(invite, 200, to_tag="x"), US, 0.0)
    with pytest.raises(DialogError, match="ack"):
        dialog.request("ACK")


# --- CSeq ----------------------------------------------------------------------------------------------------


def uas_dialog(now: float = 0.0, timers: Timers | None = None) -> tuple[Request, Dialog]:
    invite = req(SIPP_INVITE.replace("CSeq: 1 INVITE", "CSeq: 10 INVITE"))
    ok = response_to(invite, 200, to_tag="as01", contact=parse_address("<sip:198.51.100.7:5080>"))
    return invite, Dialog.uas_from(invite, ok, US, now, timers)


def in_dialog(method: str, cseq: int, extra: str = "") -> Request:
    text = SIPP_BYE.replace("4712SIPpTag011", "as01").replace("BYE", method).replace("CSeq: 2", f"CSeq: {cseq}")
    if extra:
        text = text.replace("Contact: sip:sipp@127.0.0.1:5061\n", extra)
    return req(text)


def test_remote_cseq_must_not_go_back() -> None:
    _, dialog = uas_dialog()
    assert dialog.receive_request(in_dialog("INFO", 9)) == 500 and dialog.remote_seq == 10
    assert dialog.receive_request(in_dialog("INFO", 10)) is None  # lower is refused, not equal (§12.2.2)
    assert dialog.receive_request(in_dialog("INFO", 12)) is None and dialog.remote_seq == 12
    assert dialog.receive_request(in_dialog("OPTIONS", 11)) == 500
    assert dialog.receive_request(in_dialog("ACK", 10)) is None  # an ACK carries its INVITE's number
    assert dialog.receive_request(in_dialog("BYE", 5)) == 500 and dialog.state is DialogState.CONFIRMED
    assert dialog.receive_request(in_dialog("BYE", 13)) is None and dialog.state is DialogState.TERMINATED


def test_local_cseq_counts_up_and_ack_keeps_the_invite_number() -> None:
    dialog = Dialog.uac_from(req(SIPP_INVITE), rsp(SIPP_200))
    numbers = [dialog.request(m).cseq.number for m in ("INFO", "INVITE", "INFO")]
    assert numbers == [2, 3, 4] and dialog.local_seq == 4
    ok3 = rsp(SIPP_200.replace("1 INVITE", "3 INVITE").replace("<sip:127.0.0.1:5060;transport=UDP>", "<sip:b.test>"))
    ack = dialog.ack(ok3)
    assert str(ack.cseq) == "3 ACK" and str(ack.uri) == "sip:b.test" and dialog.local_seq == 4


def test_reinvite_from_peer_refreshes_the_remote_target() -> None:
    _, dialog = uas_dialog()
    assert dialog.receive_request(in_dialog("INVITE", 11, "Contact: <sip:sipp@10.1.1.1:5062>\n")) is None
    assert str(dialog.remote_target) == "sip:sipp@10.1.1.1:5062"
    assert dialog.receive_request(in_dialog("INFO", 12, "Contact: <sip:other@10.9.9.9>\n")) is None
    assert str(dialog.remote_target) == "sip:sipp@10.1.1.1:5062"  # INFO is not a target refresh


# --- the UAS's 2xx retransmits --------------------------------------------------------------------------------


def run_timers(dialog: Dialog, until: float) -> list[tuple[float, DialogEvent]]:
    fired: list[tuple[float, DialogEvent]] = []
    while (due := dialog.next_deadline()) is not None and due <= until:
        fired += [(due, event) for event in dialog.timeout(due)]
    return fired


def test_2xx_is_retransmitted_at_t1_doubling_to_t2_then_given_up_at_64_t1() -> None:
    _, dialog = uas_dialog(now=100.0)
    fired = run_timers(dialog, 1000.0)
    resends = [round(at - 100.0, 6) for at, event in fired if isinstance(event, Resend)]
    assert resends == [0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    last_at, last = fired[-1]
    assert isinstance(last, NoAck) and last_at == 132.0 and last.dialog == dialog.id
    assert last.response.status == 200 and all(e.response is last.response for _, e in fired)
    assert dialog.next_deadline() is None and not dialog.awaiting_ack
    assert dialog.state is DialogState.CONFIRMED  # the TU now sends BYE
    assert reparse_req(dialog.request("BYE")).method == "BYE" and dialog.state is DialogState.TERMINATED


def test_other_timer_values_and_a_late_wake() -> None:
    _, dialog = uas_dialog(timers=Timers(t1=0.1, t2=0.3))
    assert [round(at, 6) for at, _ in run_timers(dialog, 1.0)] == [0.1, 0.3, 0.6, 0.9]
    assert isinstance(run_timers(dialog, 100.0)[-1][1], NoAck) and round(dialog.timers.t1 * 64, 6) == 6.4
    _, late = uas_dialog()
    assert late.timeout(0.2) == [] and late.next_deadline() == 0.5
    assert [type(e) for e in late.timeout(5.0)] == [Resend]  # one retransmit, however late
    assert late.next_deadline() == 7.5
    assert [type(e) for e in late.timeout(40.0)] == [NoAck]


def test_ack_stops_the_retransmits_and_only_the_right_ack() -> None:
    invite, dialog = uas_dialog()
    assert len(run_timers(dialog, 2.0)) == 2
    dialog.receive_request(in_dialog("ACK", 9))  # an ACK for another INVITE
    assert dialog.awaiting_ack
    dialog.receive_request(in_dialog("ACK", 10))
    assert dialog.next_deadline() is None and run_timers(dialog, 100.0) == []
    # a re-INVITE from the peer, answered 200: retransmitted again until its own ACK
    reinvite = in_dialog("INVITE", 11, "Contact: <sip:sipp@127.0.0.1:5061>\n")
    assert dialog.receive_request(reinvite) is None
    dialog.respond(response_to(reinvite, 200, contact=dialog.contact), 200.0)
    assert dialog.next_deadline() == 200.5
    dialog.receive_request(in_dialog("ACK", 11))
    assert dialog.next_deadline() is None and invite.cseq.number == 10


# --- two ends in memory through transaction layers over a lossy channel ---------------------------------------


UAC_SENT_BY = SentBy("192.0.2.10", 5060)
UAS_SENT_BY = SentBy("192.0.2.20", 5060)


class Call:
    """A caller and a callee, each a transaction layer plus dialogs: the callee rings at once and answers a
    second later; the caller ACKs every 2xx through its dialog and hangs up a second after the first one."""

    def __init__(self, loss: tuple[int, int] | None) -> None:
        self.channel = LossyChannel(loss)
        self.uac, self.uas = TransactionLayer(), TransactionLayer()
        self.uac_dialogs: dict[DialogId, Dialog] = {}
        self.uas_dialogs: dict[DialogId, Dialog] = {}
        self.invite: Request | None = None
        self.uac_finals: list[Response] = []
        self.uas_requests: list[str] = []
        self.acks: list[Request] = []
        self.dialog_events: list[DialogEvent] = []
        self.answer_at: float | None = None
        self.answer: tuple[TransactionKey, Request, str, Dialog] | None = None
        self.hangup_at: float | None = None

    def dial(self) -> None:
        party = parse_address("<sip:caller@192.0.2.10>")
        self.invite = new_request(
            "INVITE",
            parse_uri("sip:callee@192.0.2.20"),
            from_=party,
            to=parse_address("<sip:callee@192.0.2.20>"),
            sent_by=UAC_SENT_BY,
            contact=parse_address("<sip:caller@192.0.2.10:5060>"),
        )
        self.on_uac(self.uac.send_request(self.invite, 0.0)[1], 0.0)

    def on_uac(self, events: list[Event], now: float) -> None:
        for event in events:
            if isinstance(event, Transmit):
                self.channel.send(now, "uas", event.message)
            elif isinstance(event, Deliver) and isinstance(event.message, Response):
                self.uac_response(event.message, now)

    def uac_response(self, response: Response, now: float) -> None:
        if response.status >= 200:
            self.uac_finals.append(response)
        dialog = self.uac_dialogs.get(response_dialog_id(response))
        if response.cseq.method == "INVITE" and dialog is None and response.to.tag and response.status < 300:
            assert self.invite is not None
            dialog = Dialog.uac_from(self.invite, response)
            self.uac_dialogs[dialog.id] = dialog
        if dialog is None:
            return
        if response.cseq.method == "INVITE" and 200 <= response.status < 300:
            ack = dialog.ack(response)
            self.acks.append(ack)
            self.channel.send(now, "uas", ack)
            if self.hangup_at is None:
                self.hangup_at = now + 1.0
        else:
            dialog.receive_response(response)

    def on_uas(self, events: list[Event], now: float) -> None:
        for event in events:
            if isinstance(event, Transmit):
                self.channel.send(now, "uac", event.message)
            elif isinstance(event, Deliver) and isinstance(event.message, Request):
                self.uas_request(event.key, event.message, now)

    def uas_request(self, key: TransactionKey | None, request: Request, now: float) -> None:
        self.uas_requests.append(request.method)
        if request.method == "INVITE" and key is not None:
            tag = new_tag()
            ringing = response_to(request, 180, to_tag=tag)
            dialog = Dialog.uas_from(request, ringing, UAS_SENT_BY, now)
            self.uas_dialogs[dialog.id] = dialog
            self.on_uas(self.uas.send_response(key, ringing, now), now)
            self.answer, self.answer_at = (key, request, tag, dialog), now + 1.0
            return
        found = self.uas_dialogs.get(request_dialog_id(request))
        status = 481 if found is None else found.receive_request(request)
        if request.method != "ACK" and key is not None:
            self.on_uas(self.uas.send_response(key, response_to(request, status or 200), now), now)

    def uas_timers(self, now: float) -> None:
        if self.answer is not None and self.answer_at is not None and self.answer_at <= now:
            key, invite, tag, dialog = self.answer
            ok = response_to(invite, 200, to_tag=tag, contact=parse_address("<sip:callee@192.0.2.20:5060>"))
            dialog.respond(ok, now)
            self.on_uas(self.uas.send_response(key, ok, now), now)
            self.answer_at = None
        for dialog in self.uas_dialogs.values():
            for event in dialog.timeout(now):
                self.dialog_events.append(event)
                if isinstance(event, Resend) and self.answer is not None and self.uas.get(self.answer[0]):
                    self.on_uas(self.uas.send_response(self.answer[0], event.response, now), now)

    def uac_timers(self, now: float) -> None:
        if self.hangup_at is not None and self.hangup_at <= now:
            (dialog,) = self.uac_dialogs.values()
            self.on_uac(self.uac.send_request(dialog.request("BYE"), now)[1], now)
            self.hangup_at = float("inf")  # once

    def deadlines(self) -> list[float]:
        times = [self.uac.next_deadline(), self.uas.next_deadline(), self.answer_at]
        times += [d.next_deadline() for d in self.uas_dialogs.values()]
        times += [self.hangup_at if self.hangup_at != float("inf") else None]
        times += [self.channel.next_arrival()]
        return [t for t in times if t is not None]

    def run(self, until: float = 200.0) -> float:
        now = 0.0
        while (times := self.deadlines()) and min(times) <= until:
            assert min(times) >= now
            now = min(times)
            for to, wire in self.channel.arrivals(now):
                message = parse(wire)
                if to == "uac":
                    self.on_uac(self.uac.receive(message, now, ("192.0.2.20", 5060)), now)
                else:
                    self.on_uas(self.uas.receive(message, now, ("192.0.2.10", 5060)), now)
            self.on_uac(self.uac.timeout(now), now)
            self.on_uas(self.uas.timeout(now), now)
            self.uas_timers(now)
            self.uac_timers(now)
        return now


LOSSES = [None, (1, 3), (2, 3), (2, 4), (3, 4), (3, 5), (4, 6), (4, 4), (5, 5), (6, 6)]


@pytest.mark.parametrize("loss", LOSSES)
def test_two_ends_complete_invite_180_200_ack_bye_through_a_lossy_channel(loss: tuple[int, int] | None) -> None:
    call = Call(loss)
    call.dial()
    end = call.run()
    (caller,), (callee,) = call.uac_dialogs.values(), call.uas_dialogs.values()
    assert caller.state is DialogState.TERMINATED and callee.state is DialogState.TERMINATED, call.channel.log
    assert caller.id == DialogId(callee.id.call_id, callee.id.remote_tag, callee.id.local_tag)
    assert [(r.status, r.cseq.method) for r in call.uac_finals if r.cseq.method == "BYE"] == [(200, "BYE")]
    assert {r.status for r in call.uac_finals if r.cseq.method == "INVITE"} == {200}
    assert len({ack.via[0].branch for ack in call.acks}) == 1  # every 2xx got the same ACK
    assert [m for m in call.uas_requests if m != "ACK"] == ["INVITE", "BYE"]  # retransmits absorbed
    assert not any(isinstance(e, NoAck) for e in call.dialog_events) and not callee.awaiting_ack
    assert len(call.uac) == len(call.uas) == 0 and end < 64
    assert (call.channel.dropped > 0) == (loss is not None)
    if ("uas", "ACK (lost)") in call.channel.log:  # the callee's dialog retransmits its 200, the caller ACKs again
        assert len(call.acks) >= 2 and any(isinstance(e, Resend) for e in call.dialog_events)
    if loss in ((2, 4), (4, 6), (4, 4)):
        assert ("uas", "ACK (lost)") in call.channel.log


def test_a_caller_that_never_acks_gets_a_bye_after_64_t1() -> None:
    layer = TransactionLayer()
    invite = req(SIPP_INVITE)
    (deliver,) = [e for e in layer.receive(invite, 0.0, ("127.0.0.1", 5061)) if isinstance(e, Deliver)]
    assert deliver.key is not None
    ok = response_to(invite, 200, to_tag="n1", contact=parse_address("<sip:198.51.100.7:5080>"))
    dialog = Dialog.uas_from(invite, ok, US, 0.0)
    sent = [e for e in layer.send_response(deliver.key, ok, 0.0) if isinstance(e, Transmit)]
    no_ack: list[NoAck] = []
    while (due := min(t for t in (dialog.next_deadline(), layer.next_deadline(), 1e9) if t is not None)) < 1e9:
        layer.timeout(due)
        for event in dialog.timeout(due):
            if isinstance(event, Resend) and layer.get(deliver.key) is not None:
                sent += [e for e in layer.send_response(deliver.key, event.response, due) if isinstance(e, Transmit)]
            elif isinstance(event, NoAck):
                no_ack.append(event)
                bye = reparse_req(dialog.request("BYE"))
    assert len(sent) == 11 and all(isinstance(e.message, Response) and e.message.status == 200 for e in sent)
    assert len(no_ack) == 1 and dialog.state is DialogState.TERMINATED
    assert str(bye.uri) == "sip:sipp@127.0.0.1:5061" and bye.to.tag == "4711SIPpTag001" and bye.from_.tag == "n1"
    assert isinstance(bye.uri, SipUri) and Address(bye.uri) == Address(parse_uri("sip:sipp@127.0.0.1:5061"))


def test_forked_responses_make_one_dialog_each() -> None:
    invite = req(SIPP_INVITE)
    first = Dialog.uac_from(invite, rsp(SIPP_200.replace("200 OK", "180 Ringing").replace("4712SIPpTag011", "f1")))
    second = Dialog.uac_from(invite, rsp(SIPP_200.replace("4712SIPpTag011", "f2")))
    assert first.id != second.id and (first.state, second.state) == (DialogState.EARLY, DialogState.CONFIRMED)
    assert first.ack(rsp(SIPP_200.replace("4712SIPpTag011", "f1"))).to.tag == "f1"
    assert second.ack(rsp(SIPP_200.replace("4712SIPpTag011", "f2"))).to.tag == "f2"
    with pytest.raises(DialogError, match="not to this INVITE"):
        Dialog.uac_from(invite, rsp(SIPP_200.replace("1 INVITE", "2 INVITE")))
    with pytest.raises(DialogError, match="2xx"):
        second.ack(rsp(SIPP_200.replace("200 OK", "180 Ringing")))
