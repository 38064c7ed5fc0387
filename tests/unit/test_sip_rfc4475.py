"""RFC 4475 (SIP torture test messages) as conformance tests for the message layer.

The messages in ``tests/data/sip/rfc4475/`` were typed from the RFC's text (§3.1.1, §3.1.2, §3.2, §3.3), one file
per message named after the RFC's own file names, with CRLF line ends and the RFC's ``<hex>`` and ``<allOneLine>``
notation expanded. They were not byte-compared with the RFC's archive of .dat files; the long and unusual ones
(wsinv, intmeth, longreq, scalar02, unreason) were checked line by line against published transcriptions of the
RFC, and every body against its Content-Length. A character may still differ from the RFC here or there; the
checks below pin what each message is meant to exercise.

Included, valid (§3.1.1 and the syntactically valid ones of §3.2/§3.3): wsinv, intmeth, esc01, escnull, esc02,
lwsdisp, longreq, dblreq, semiuri, transports, unreason, noreason, badbranch, unksm2, bext01, invut, regaut01,
bcast, zeromf, cparam01, cparam02, regescrt, inv2543.
Included, refused (§3.1.2 and §3.3): badinv01, clerr, ncl, scalar02, scalarlg, quotbal, ltgtruri, lwsruri,
lwsstart, trws, escruri, baddate, regbadct, badaspec, baddn, badvers, mismatch01, mismatch02, bigcode, insuf,
unkscm, novelsc, multi01, mcl01.
Left out: mpart01 (its binary S/MIME body cannot be typed faithfully), sdp01 and the transaction-layer cases that
need more than a parser (§3.2, §3.3.x beyond those above); badbranch, zeromf, bcast, bext01, invut and regaut01
parse here, and refusing them is for the layers above.

Where RFC 4475 lets an element repair instead of refusing (lwsstart, trws, lwsruri, badaspec, baddate, mcl01),
this layer refuses: it answers requests with 400 and drops responses, as ``SipError.status`` says.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infolinia.voice.sip import OtherUri, Request, Response, SipError, SipUri, parse, unescape

DATA = Path(__file__).resolve().parents[1] / "data" / "sip" / "rfc4475"
VALID = sorted(p.stem for p in (DATA / "valid").glob("*.dat"))
INVALID = sorted(p.stem for p in (DATA / "invalid").glob("*.dat"))


def load(kind: str, name: str) -> bytes:
    return (DATA / kind / f"{name}.dat").read_bytes()


def test_the_data_is_all_there() -> None:
    assert len(VALID) == 23
    assert len(INVALID) == 24


@pytest.mark.parametrize("name", VALID)
def test_valid_message_parses_and_round_trips(name: str) -> None:
    message = parse(load("valid", name))
    again = parse(bytes(message))
    assert again == message
    assert bytes(again) == bytes(message)


# name: (response owed, or None to drop; a piece of the reason)
REFUSALS = {
    "badinv01": (400, "parameter name"),
    "clerr": (400, "shorter than Content-Length"),
    "ncl": (400, "Content-Length"),
    "scalar02": (400, "CSeq number"),
    "scalarlg": (None, "CSeq number"),
    "quotbal": (400, "unterminated quoted string"),
    "ltgtruri": (400, "Request-URI"),
    "lwsruri": (400, "Request-Line"),
    "lwsstart": (400, "Request-Line"),
    "trws": (400, "Request-Line"),
    "escruri": (400, "headers are not allowed"),
    "baddate": (400, "GMT"),
    "regbadct": (400, "enclosed in <>"),
    "badaspec": (400, "URI"),
    "baddn": (400, "display name"),
    "badvers": (505, "version"),
    "mismatch01": (400, "CSeq method"),
    "mismatch02": (400, "CSeq method"),
    "bigcode": (None, "status code"),
    "insuf": (400, "no From"),
    "unkscm": (416, "Unsupported URI Scheme"),
    "novelsc": (416, "Unsupported URI Scheme"),
    "multi01": (400, "more than one"),
    "mcl01": (400, "more than one Content-Length"),
}


def test_every_invalid_file_has_an_expectation() -> None:
    assert sorted(REFUSALS) == INVALID


@pytest.mark.parametrize("name", INVALID)
def test_invalid_message_is_refused(name: str) -> None:
    status, reason = REFUSALS[name]
    with pytest.raises(SipError) as caught:
        parse(load("invalid", name))
    assert caught.value.status == status
    assert reason in caught.value.reason
    assert caught.value.response_due is (status is not None)


def test_refused_request_carries_what_a_400_needs() -> None:
    with pytest.raises(SipError) as caught:
        parse(load("invalid", "mismatch01"))
    request = caught.value.request
    assert request is not None
    assert request.call_id == "mismatch01.dj0234sxdfl3"
    assert request.via[0].branch == "z9hG4bKkdjuw"


def test_wsinv_reads_through_the_whitespace() -> None:
    message = parse(load("valid", "wsinv"))
    assert isinstance(message, Request)
    assert message.method == "INVITE"
    assert message.to.tag == "1918181833n"
    assert message.from_.display_name == 'J Rosenberg \\"'
    assert message.from_.tag == "98asjd8"
    assert message.max_forwards == 68
    assert (message.cseq.number, message.cseq.method) == (9, "INVITE")
    assert [(v.transport, v.host, v.branch) for v in message.via] == [
        ("UDP", "192.0.2.2", "390skdjuw"),
        ("TCP", "spindle.example.com", "z9hG4bK9ikj8"),
        ("UDP", "192.168.255.111", "z9hG4bK30239"),
    ]
    assert message.headers.get("Subject") == ""
    assert message.headers.get("NewFangledHeader") == "newfangled value continued newfangled value"
    assert message.headers.get("UnknownHeaderWithUnusualValue") == ";;,,;;,;"
    [contact] = message.contacts
    assert contact.display_name == 'Quoted string ""'
    assert contact.q == 0.33
    assert len(message.body) == 150


def test_intmeth_keeps_unusual_characters() -> None:
    message = parse(load("valid", "intmeth"))
    assert isinstance(message, Request)
    assert message.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert isinstance(message.uri, SipUri)
    assert message.uri.user == "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*"
    assert message.uri.password == "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)"
    assert message.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    assert message.from_.display_name == "token1~` token2'+_ token3*%!.-"
    assert message.from_.tag == "_token~1'+`*%!-."
    assert message.call_id == "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
    value = message.headers.get("extensionHeader-!.%*+_`'~")
    assert value is not None and value.endswith("大停電")


def test_escapes_are_kept_and_resolved_on_demand() -> None:
    message = parse(load("valid", "esc01"))
    assert isinstance(message, Request) and isinstance(message.uri, SipUri)
    assert message.uri.user == "sips%3Auser%40example.com"
    assert unescape(message.uri.user) == b"sips:user@example.com"
    assert message.headers.get("Content-Type") == "application/sdp"  # from the compact "C"
    [contact] = message.contacts
    assert isinstance(contact.uri, SipUri)
    assert contact.uri.param("name") == "value%41"
    null = parse(load("valid", "escnull"))
    assert [unescape(c.uri.user or "") for c in null.contacts if isinstance(c.uri, SipUri)] == [b"\0", b"\0\0"]


def test_esc02_percent_in_names_is_not_an_escape() -> None:
    message = parse(load("valid", "esc02"))
    assert isinstance(message, Request)
    assert message.method == "RE%47IST%45R"
    assert len(message.contacts) == 2
    assert message.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"


def test_dblreq_udp_ignores_bytes_past_content_length() -> None:
    message = parse(load("valid", "dblreq"))
    assert isinstance(message, Request)
    assert message.method == "REGISTER"
    assert message.body == b""


def test_longreq_compact_and_mixed_case_via_names() -> None:
    message = parse(load("valid", "longreq"))
    assert len(message.via) == 34
    assert all(name == "Via" for name, _ in message.headers if name.lower() in ("v", "via"))
    assert message.via[-1].received == "192.0.2.5"


def test_unknown_schemes_outside_the_request_uri_are_kept_as_text() -> None:
    message = parse(load("valid", "unksm2"))
    assert message.to.uri == OtherUri("isbn", "2983792873")
    assert str(message.from_.uri) == "http://www.example.com"
    assert str(message.contacts[0].uri) == "name:John_Smith"


def test_reason_phrases() -> None:
    unusual = parse(load("valid", "unreason"))
    assert isinstance(unusual, Response)
    assert unusual.reason.endswith("простое")
    empty = parse(load("valid", "noreason"))
    assert isinstance(empty, Response)
    assert (empty.status, empty.reason) == (100, "")
