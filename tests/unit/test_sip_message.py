"""The SIP message codec: typical messages, framing by Content-Length, header handling, limits, the stream framer."""

from __future__ import annotations

import pytest

from infolinia.voice.sip import (
    MAX_HEADER_LENGTH,
    MAX_HEADERS,
    MAX_MESSAGE_SIZE,
    Framer,
    Headers,
    Request,
    Response,
    SipError,
    SipUri,
    parse,
    parse_uri,
)


def wire(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


SDP = """v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 49170 RTP/AVP 0 8 101
a=rtpmap:101 telephone-event/8000
"""
BODY = wire(SDP)

COMMON = """Max-Forwards: 70
To: <sip:800100200@pbx.example.com>
From: "Alice Kowalska" <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
"""

INVITE = (
    wire(
        f"""INVITE sip:800100200@pbx.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport
{COMMON}CSeq: 314159 INVITE
Contact: <sip:alice@192.0.2.10:5060>
Content-Type: application/sdp
Content-Length: {len(BODY)}

"""
    )
    + BODY
)

OK_200 = (
    wire(
        f"""SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.10
To: <sip:800100200@pbx.example.com>;tag=a6c85cf
From: "Alice Kowalska" <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 INVITE
Contact: <sip:800100200@192.0.2.1:5060>
Content-Type: application/sdp
Content-Length: {len(BODY)}

"""
    )
    + BODY
)

ACK = wire(
    """ACK sip:800100200@192.0.2.1:5060 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds8
Max-Forwards: 70
To: <sip:800100200@pbx.example.com>;tag=a6c85cf
From: "Alice Kowalska" <sip:alice@example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.example.com
CSeq: 314159 ACK
Content-Length: 0

"""
)

BYE = ACK.replace(b"ACK sip", b"BYE sip").replace(b"314159 ACK", b"314160 BYE").replace(b"nashds8", b"nashds9")

CANCEL = wire(
    f"""CANCEL sip:800100200@pbx.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport
{COMMON}CSeq: 314159 CANCEL
Content-Length: 0

"""
)

REGISTER = wire(
    """REGISTER sip:pbx.example.com SIP/2.0
Via: SIP/2.0/TCP [2001:db8::10]:5080;branch=z9hG4bKnashds7
Max-Forwards: 70
To: <sip:1002@pbx.example.com>
From: <sip:1002@pbx.example.com>;tag=456248
Call-ID: 843817637684230@998sdasdh09
CSeq: 1827 REGISTER
Contact: <sip:1002@[2001:db8::10]:5080;transport=tcp>;expires=3600;q=0.7, <sip:1002@192.0.2.20>;expires=0
Authorization: Digest username="1002", realm="demo", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", \
uri="sip:pbx.example.com", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, qop=auth, \
nc=00000001, cnonce="0a4f113b"
Expires: 7200
Content-Length: 0

""".replace("\\\n", "")
)

UNAUTHORIZED = wire(
    """SIP/2.0 401 Unauthorized
Via: SIP/2.0/TCP [2001:db8::10]:5080;branch=z9hG4bKnashds7;received=2001:db8::10
To: <sip:1002@pbx.example.com>;tag=2493k59kd
From: <sip:1002@pbx.example.com>;tag=456248
Call-ID: 843817637684230@998sdasdh09
CSeq: 1826 REGISTER
WWW-Authenticate: Digest realm="demo", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", \
opaque="5ccc069c403ebaf9f0171e9517f40e41", algorithm=MD5, stale=FALSE
Content-Length: 0

""".replace("\\\n", "")
)

OPTIONS = wire(
    """OPTIONS sip:pbx.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.30;branch=z9hG4bKhjhs8ass877
Max-Forwards: 70
To: <sip:pbx.example.com>
From: <sip:monitor@example.com>;tag=1928301774
Call-ID: a84b4c76e66710
CSeq: 63104 OPTIONS
Accept: application/sdp
Content-Length: 0

"""
)

CANONICAL = {
    "invite": INVITE,
    "200": OK_200,
    "ack": ACK,
    "bye": BYE,
    "cancel": CANCEL,
    "register": REGISTER,
    "401": UNAUTHORIZED,
    "options": OPTIONS,
}


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_canonical_messages_round_trip_byte_exact(name: str) -> None:
    data = CANONICAL[name]
    assert bytes(parse(data)) == data


def test_invite_reads() -> None:
    invite = parse(INVITE)
    assert isinstance(invite, Request)
    assert invite.method == "INVITE"
    assert invite.uri == SipUri("sip", "pbx.example.com", user="800100200")
    [via] = invite.via
    assert (via.transport, via.host, via.port, via.branch, via.rport) == (
        "UDP",
        "192.0.2.10",
        5060,
        "z9hG4bK776asdhds",
        True,
    )
    assert invite.from_.display_name == "Alice Kowalska"
    assert invite.to.tag is None
    assert invite.content_type is not None and invite.content_type.mime == "application/sdp"
    assert invite.body == BODY


def test_response_reads_rport_and_received() -> None:
    ok = parse(OK_200)
    assert isinstance(ok, Response)
    assert (ok.status, ok.reason) == (200, "OK")
    [via] = ok.via
    assert (via.rport, via.received) == (5060, "192.0.2.10")
    assert ok.to.tag == "a6c85cf"


def test_register_contacts_and_credentials() -> None:
    register = parse(REGISTER)
    first, second = register.contacts
    assert isinstance(first.uri, SipUri)
    assert (first.uri.host, first.uri.port, first.uri.param("transport")) == ("[2001:db8::10]", 5080, "tcp")
    assert (first.expires, first.q, second.expires, second.q) == (3600, 0.7, 0, None)
    assert register.via[0].host == "[2001:db8::10]"
    assert register.expires == 7200
    [credentials] = register.auth("Authorization")
    assert credentials.scheme == "Digest"
    assert credentials.get("username") == "1002"
    assert credentials.get("uri") == "sip:pbx.example.com"
    assert credentials.get("nc") == "00000001"
    assert credentials.get("missing") is None


def test_401_challenge_with_a_comma_inside_quotes() -> None:
    challenge = parse(UNAUTHORIZED).auth("WWW-Authenticate")[0]
    assert challenge.get("qop") == "auth,auth-int"
    assert challenge.get("stale") == "FALSE"
    assert parse(UNAUTHORIZED).via[0].received == "2001:db8::10"


def test_contact_star() -> None:
    data = REGISTER.replace(
        b"Contact: <sip:1002@[2001:db8::10]:5080;transport=tcp>;expires=3600;q=0.7, <sip:1002@192.0.2.20>;expires=0",
        b"Contact: *",
    ).replace(b"Expires: 7200", b"Expires: 0")
    register = parse(data)
    assert register.contact_star
    assert register.contacts == []


def test_compact_names_are_normalised_and_looked_up_either_way() -> None:
    data = wire(
        """OPTIONS sip:a@example.com SIP/2.0
v: SIP/2.0/UDP h.example.com;branch=z9hG4bK1
f: <sip:b@example.com>;tag=1
t: <sip:a@example.com>
i: x@y
CSeq: 1 OPTIONS
k: timer, 100rel
l: 0

"""
    )
    message = parse(data)
    names = [name for name, _ in message.headers]
    assert names == ["Via", "From", "To", "Call-ID", "CSeq", "Supported", "Content-Length"]
    assert message.headers.get("i") == message.headers.get("CALL-id") == "x@y"
    assert message.headers.values("Supported") == ["timer", "100rel"]
    assert b"\r\nCall-ID: x@y\r\n" in bytes(message)


def test_multi_value_headers_split_only_outside_quotes_and_brackets() -> None:
    headers = Headers(
        [
            ("Contact", '"Kowalski, Jan" <sip:jan@example.com;x=a,b>;q=0.5, <sip:b@example.com>'),
            ("Contact", "<sip:c@example.com>"),
            ("Subject", "hello, world"),
        ]
    )
    assert headers.values("m") == [
        '"Kowalski, Jan" <sip:jan@example.com;x=a,b>;q=0.5',
        "<sip:b@example.com>",
        "<sip:c@example.com>",
    ]
    assert headers.values("Subject") == ["hello, world"]
    assert Headers([("Supported", ""), ("k", "timer,")]).values("Supported") == ["timer"]


def test_headers_edit_in_place() -> None:
    headers = Headers([("Via", "a"), ("To", "t"), ("Via", "b")])
    headers.set("v", "c")
    assert list(headers) == [("Via", "c"), ("To", "t")]
    headers.add("l", "0")
    headers.remove("TO")
    assert list(headers) == [("Via", "c"), ("Content-Length", "0")]
    assert "content-length" in headers and "To" not in headers


def test_udp_body_rules() -> None:
    truncated = parse(INVITE + b"trailing junk")
    assert truncated.body == BODY
    with pytest.raises(SipError, match="shorter than Content-Length") as caught:
        parse(INVITE[:-1])
    assert caught.value.status == 400
    without_length = INVITE.replace(f"Content-Length: {len(BODY)}\r\n".encode(), b"")
    assert parse(without_length).body == BODY


def test_serialising_writes_the_body_length() -> None:
    invite = parse(INVITE)
    invite.body = b"v=0\r\n"
    assert b"\r\nContent-Length: 5\r\n" in bytes(invite)
    assert parse(bytes(invite)).body == b"v=0\r\n"


def test_built_messages_serialise() -> None:
    response = Response(180, "Ringing", Headers([("Via", "SIP/2.0/UDP h;branch=z9hG4bK1"), ("l", "0")]))
    assert bytes(response) == b"SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n"
    request = Request("OPTIONS", parse_uri("sip:pbx.example.com"))
    assert bytes(request) == b"OPTIONS sip:pbx.example.com SIP/2.0\r\n\r\n"


def test_keepalive_crlfs_before_the_start_line_are_ignored() -> None:
    assert parse(b"\r\n\r\n" + OPTIONS) == parse(OPTIONS)


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"", None),
        (b"\r\n\r\n", None),
        (b"HELLO\r\n\r\n", None),
        (b"SIP/2.0 99 Too Small\r\n\r\n", None),
        (b"SIP/2.0 700 Too Big\r\n\r\n", None),
        (b"SIP/3.0 200 OK\r\n\r\n", None),
        (b"SIP/2.0 200 O\x01K\r\n\r\n", None),
        (OPTIONS.replace(b"\r\n\r\n", b"\r\n"), 400),
        (OPTIONS.replace(b"Accept: application/sdp", b" folded first"), 400),
        (OPTIONS.replace(b"Accept: application/sdp", b"Accept application/sdp"), 400),
        (OPTIONS.replace(b"Accept: application/sdp", b"Acc ept: application/sdp"), 400),
        (OPTIONS.replace(b"Accept: application/sdp", b"Accept: a\rb"), 400),
        (OPTIONS.replace(b"Max-Forwards: 70", b"Max-Forwards: 256"), 400),
        (OPTIONS.replace(b"CSeq: 63104", b"CSeq: 2147483648"), 400),
        (OPTIONS.replace(b"Call-ID: a84b4c76e66710", b"Call-ID: a b"), 400),
        (OPTIONS.replace(b"Via: SIP/2.0/UDP 192.0.2.30;", b"Via: SIP/2.0/UDP 192.0.2.30:70000;"), 400),
        (OPTIONS.replace(b"Via: SIP/2.0/UDP 192.0.2.30;branch=z9hG4bKhjhs8ass877\r\n", b""), 400),
        (OPTIONS.replace(b"Content-Length: 0", b"Content-Length: " + b"9" * 5000), 400),
        (OPTIONS.replace(b"sip:pbx.example.com SIP", b"sip:pbx.example.com SIP"[:-1] + b"x"), 400),
    ],
)
def test_malformed_messages(data: bytes, status: int | None) -> None:
    with pytest.raises(SipError) as caught:
        parse(data)
    assert caught.value.status == status


def test_limits() -> None:
    with pytest.raises(SipError, match="too large"):
        parse(OPTIONS + b"x" * MAX_MESSAGE_SIZE)
    many = OPTIONS.replace(b"Accept: application/sdp\r\n", b"X-A: 1\r\n" * MAX_HEADERS)
    with pytest.raises(SipError, match="too many header fields"):
        parse(many)
    long_line = OPTIONS.replace(b"Accept: application/sdp", b"X-Long: " + b"a" * MAX_HEADER_LENGTH)
    with pytest.raises(SipError, match="too long"):
        parse(long_line)
    folded = OPTIONS.replace(b"Accept: application/sdp", b"X-Long: a" + b"\r\n b" * (MAX_HEADER_LENGTH // 2))
    with pytest.raises(SipError, match="too long"):
        parse(folded)
    within = parse(OPTIONS.replace(b"Accept: application/sdp\r\n", b"X-A: 1\r\n" * 200))
    assert len(within.headers) == len(parse(OPTIONS).headers) - 1 + 200


def test_framer_cuts_a_stream_into_messages() -> None:
    framer = Framer()
    stream = b"\r\n\r\n" + INVITE + OK_200 + b"\r\n" + OPTIONS
    received = [message for i in range(0, len(stream), 7) for message in framer.feed(stream[i : i + 7])]
    assert received == [parse(INVITE), parse(OK_200), parse(OPTIONS)]


def test_framer_reads_a_folded_content_length() -> None:
    folded = OPTIONS.replace(b"Content-Length: 0", b"Content-Length:\r\n 0")
    assert Framer().feed(folded + OPTIONS) == [parse(OPTIONS), parse(OPTIONS)]


def test_framer_needs_content_length_and_stays_broken() -> None:
    framer = Framer()
    without = OPTIONS.replace(b"Content-Length: 0\r\n", b"")
    with pytest.raises(SipError, match="no Content-Length"):
        framer.feed(without)
    assert framer.broken
    with pytest.raises(SipError):
        framer.feed(OPTIONS)


def test_framer_limits_what_it_holds() -> None:
    framer = Framer(max_message_size=1024)
    with pytest.raises(SipError, match="header section too large"):
        framer.feed(b"OPTIONS sip:a@b SIP/2.0\r\nX: " + b"a" * 2000)
    framer = Framer(max_message_size=1024)
    with pytest.raises(SipError, match="message too large"):
        framer.feed(OPTIONS.replace(b"Content-Length: 0", b"l: 5000"))
    assert Framer().feed(INVITE[:-10]) == []
