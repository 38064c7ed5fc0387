"""SIP, SIPS and tel URIs: parsing, writing back, escapes, comparison (RFC 3261 §19.1.4)."""

from __future__ import annotations

import pytest

from infolinia.voice.sip import OtherUri, SipError, SipUri, TelUri, escape_param, escape_user, parse_uri, unescape


@pytest.mark.parametrize(
    "text",
    [
        "sip:alice@atlanta.com",
        "sip:alice:secretword@atlanta.com;transport=tcp",
        "sips:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:+1-212-555-1212:1234@gateway.com;user=phone",
        "sips:1212@gateway.com",
        "sip:alice@192.0.2.4",
        "sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com",
        "sip:alice;day=tuesday@atlanta.com",
        "sip:[2001:db8::1]:5061;transport=tls",
        "sip:user@[::ffff:192.0.2.1]",
        "sip:pbx.example.com:5060;lr",
        "tel:+48-22-555-0100",
        "tel:7042;phone-context=example.com",
        "urn:service:sos",
    ],
)
def test_round_trip(text: str) -> None:
    assert str(parse_uri(text)) == text


def test_parts() -> None:
    uri = parse_uri("SIP:alice:secret@Atlanta.COM:5070;transport=TCP;lr?subject=hi")
    assert uri == SipUri(
        "sip",
        "Atlanta.COM",
        user="alice",
        password="secret",
        port=5070,
        params=(("transport", "TCP"), ("lr", None)),
        headers=(("subject", "hi"),),
    )
    assert isinstance(uri, SipUri) and uri.param("TRANSPORT") == "TCP" and uri.has_param("lr")
    assert parse_uri("tel:+48225550100;ext=12") == TelUri("+48225550100", (("ext", "12"),))
    assert parse_uri("mailto:a@example.com") == OtherUri("mailto", "a@example.com")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "sip",
        ":alice@example.com",
        "sip:",
        "sip:@example.com",
        "sip:alice@",
        "sip:alice@exa mple.com",
        "sip:alice@example.com:",
        "sip:alice@example.com:65536",
        "sip:alice@example.com:5o60",
        "sip:alice@[2001:db8::1",
        "sip:alice@[]",
        "sip:alice@[zz::1]",
        "sip:ali%4@example.com",
        "sip:ali%zz@example.com",
        "sip:alice@example.com;",
        "sip:alice@example.com;a=b c",
        "sip:alice@example.com?",
        "sip:alice@example.com?novalue",
        "sip:al<ice@example.com",
        "sip:alice@-example.com",
        "sip:alice@example..com",
        "tel:",
        "tel:+48 22",
        "1sip:alice@example.com",
        "http:",
    ],
)
def test_malformed(text: str) -> None:
    with pytest.raises(SipError):
        parse_uri(text)


EQUAL = [
    ("sip:%61lice@atlanta.com;transport=TCP", "sip:alice@AtLanTa.CoM;Transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
    (
        "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
        "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
    ),
    (
        "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
        "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
    ),
]

NOT_EQUAL = [
    ("SIP:ALICE@AtLanTa.CoM;Transport=udp", "sip:alice@AtLanTa.CoM;Transport=UDP"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
    ("sip:bob@biloxi.com", "sip:bob@biloxi.com:6000;transport=tcp"),
    ("sip:carol@chicago.com", "sip:carol@chicago.com?Subject=next%20meeting"),
    ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
    ("sip:carol@chicago.com;security=on", "sip:carol@chicago.com;security=off"),
    ("sip:alice@atlanta.com", "sips:alice@atlanta.com"),
]


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equivalent_pairs_of_rfc3261(a: str, b: str) -> None:
    left, right = parse_uri(a), parse_uri(b)
    assert isinstance(left, SipUri)
    assert left.equivalent(right) and right.equivalent(left)  # type: ignore[union-attr]


@pytest.mark.parametrize(("a", "b"), NOT_EQUAL)
def test_different_pairs_of_rfc3261(a: str, b: str) -> None:
    left, right = parse_uri(a), parse_uri(b)
    assert isinstance(left, SipUri)
    assert not left.equivalent(right)
    assert not left.equivalent("sip:bob@biloxi.com")


@pytest.mark.parametrize("text", ["plain", "I have spaces", "a@b:c%d", "zażółć\x00", "+48;x=1?y"])
def test_escaping_builds_uris_that_parse_back(text: str) -> None:
    uri = parse_uri(f"sip:{escape_user(text)}@example.com;p={escape_param(text)}")
    assert isinstance(uri, SipUri)
    assert unescape(uri.user or "") == text.encode()
    assert uri.param("p") == text
    assert escape_user("I have spaces") == "I%20have%20spaces"
    assert escape_user("+48;x=1?y") == "+48;x=1?y"
