"""Typed header values: Via, addresses (From, To, Contact), CSeq, Content-Type, authentication."""

from __future__ import annotations

import pytest

from infolinia.voice.sip import (
    Address,
    Auth,
    SipError,
    SipUri,
    Via,
    parse_address,
    parse_auth,
    parse_contacts,
    parse_content_type,
    parse_cseq,
    parse_uri,
    parse_via,
)


def test_via_forms() -> None:
    [via] = parse_via("SIP/2.0/UDP [2001:db8::9]:5062;branch=z9hG4bK1;received=192.0.2.1;rport=40000;maddr=x")
    assert (via.transport, via.host, via.port) == ("UDP", "[2001:db8::9]", 5062)
    assert (via.branch, via.received, via.rport) == ("z9hG4bK1", "192.0.2.1", 40000)
    assert str(via) == "SIP/2.0/UDP [2001:db8::9]:5062;branch=z9hG4bK1;received=192.0.2.1;rport=40000;maddr=x"
    plain = parse_via("sip/2.0/tcp host.example.com")[0]
    assert (plain.protocol, plain.transport, plain.rport, plain.branch) == ("SIP/2.0", "TCP", False, None)
    assert str(Via("WS", "df7jal23ls0d.invalid", params=(("branch", "z9hG4bK2"), ("rport", None)))) == (
        "SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK2;rport"
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "SIP/2.0",
        "SIP/2.0/UDP",
        "SIP/2.0/UDP ",
        "SIP//UDP host",
        "SIP/2.0/UDP host;",
        "SIP/2.0/UDP host;branch=",
        "SIP/2.0/UDP host;rport=99999",
        "SIP/2.0/UDP host;rport=x",
        "SIP/2.0/UDP host:port",
        "SIP/2.0/UDP host, ",
        "SIP/2.0/UDP host junk",
    ],
)
def test_malformed_via(value: str) -> None:
    with pytest.raises(SipError):
        parse_via(value)


def test_address_forms() -> None:
    quoted = parse_address('"Kowalski, Jan \\"JK\\"" <sip:jan@example.com;transport=udp>;tag=88sja8x')
    assert quoted.display_name == 'Kowalski, Jan "JK"'
    assert quoted.tag == "88sja8x"
    assert isinstance(quoted.uri, SipUri) and quoted.uri.param("transport") == "udp"
    assert str(quoted) == '"Kowalski, Jan \\"JK\\"" <sip:jan@example.com;transport=udp>;tag=88sja8x'
    tokens = parse_address("Jan  Kowalski <sip:jan@example.com>")
    assert tokens.display_name == "Jan Kowalski"
    bare = parse_address("sip:jan@example.com;tag=1")  # addr-spec: the parameter belongs to the header
    assert bare.uri == parse_uri("sip:jan@example.com") and bare.tag == "1"
    assert parse_address("<sip:jan@example.com>").display_name is None
    assert Address(parse_uri("sip:a@b"), "A", (("tag", "x"),)) == parse_address('"A" <sip:a@b>;tag=x')


@pytest.mark.parametrize(
    "value",
    [
        "",
        '"unterminated <sip:a@b>',
        '"name" sip:a@b',
        "<sip:a@b",
        "< sip:a@b>",
        "<sip:a@b >",
        "Bell, Alexander <sip:a@b>",
        "Bell\x0bAlexander <sip:a@b>",
        "sip:a@b?Route=x",
        "<sip:a@b>;tag",
        "<sip:a@b>;tag=a b",
        "<sip:a@b>;;",
        "<sip:a@b> junk",
        '"a" <sip:a@b>;x="open',
    ],
)
def test_malformed_address(value: str) -> None:
    with pytest.raises(SipError):
        parse_address(value)


def test_contacts_expires_and_q() -> None:
    contacts = parse_contacts('<sip:a@b>;expires=60;q=1, "B" <sip:b@c>;q=0.125, sip:c@d;expires=0')
    assert [(c.expires, c.q) for c in contacts] == [(60, 1.0), (None, 0.125), (0, None)]


@pytest.mark.parametrize(
    "value", ["<sip:a@b>;q=2", "<sip:a@b>;q=0.1234", "<sip:a@b>;q=x", "<sip:a@b>;expires=4294967296", "<sip:a@b>,"]
)
def test_malformed_contacts(value: str) -> None:
    with pytest.raises(SipError):
        parse_contacts(value)


def test_cseq() -> None:
    cseq = parse_cseq("  0042   REGISTER ")
    assert (cseq.number, cseq.method, str(cseq)) == (42, "REGISTER", "42 REGISTER")
    for bad in ("", "1", "x INVITE", "-1 INVITE", "2147483648 INVITE", "1 INVITE extra", "1 INV@TE", "1\x0bINVITE"):
        with pytest.raises(SipError):
            parse_cseq(bad)


def test_content_type() -> None:
    value = parse_content_type('multipart/mixed ; boundary="unique-boundary-1"')
    assert (value.mime, value.params) == ("multipart/mixed", (("boundary", '"unique-boundary-1"'),))
    for bad in ("application", "application/", "/sdp", "app lication/sdp", "application/sdp;"):
        with pytest.raises(SipError):
            parse_content_type(bad)


def test_auth_round_trip_and_digest_builder() -> None:
    value = 'Digest realm="demo", nonce="a,b", qop="auth", algorithm=MD5'
    auth = parse_auth(value)
    assert (auth.scheme, auth.get("nonce"), auth.get("ALGORITHM")) == ("Digest", "a,b", "MD5")
    assert str(auth) == value
    built = Auth.digest({"username": 'we"ird', "realm": "demo"}, {"nc": "00000001"})
    assert str(built) == 'Digest username="we\\"ird", realm="demo", nc=00000001'
    assert parse_auth(str(built)).get("username") == 'we"ird'
    for bad in ("", "Digest realm", 'Digest realm="x" y', "Digest =x", "Digest realm=a b"):
        with pytest.raises(SipError):
            parse_auth(bad)
