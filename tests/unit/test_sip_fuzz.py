"""Hostile input: random bytes and mutated valid messages either parse or raise SipError, nothing else.

Whatever parses must also serialise and parse back equal, and every typed reader on it either answers or raises
SipError. Sizes beyond the limits are refused before any work that grows with them (no timing is asserted).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infolinia.voice.sip import MAX_MESSAGE_SIZE, Framer, Request, Response, SipError, parse, parse_uri

DATA = Path(__file__).resolve().parents[1] / "data" / "sip" / "rfc4475"
SEEDS = [path.read_bytes() for path in sorted((DATA / "valid").glob("*.dat"))] + [
    b"SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1;rport=5060\r\nTo: <sip:a@b>;tag=x\r\n"
    b"From: <sip:a@b>;tag=y\r\nCall-ID: c@d\r\nCSeq: 1 REGISTER\r\n"
    b'WWW-Authenticate: Digest realm="r", nonce="n", qop="auth,auth-int"\r\nContent-Length: 0\r\n\r\n'
]

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def exercise(data: bytes) -> None:
    try:
        message = parse(data)
    except SipError:
        return
    assert parse(bytes(message)) == message
    read_everything(message)


def read_everything(message: Request | Response) -> None:
    readers = [
        lambda: message.via,
        lambda: message.from_,
        lambda: message.to,
        lambda: message.call_id,
        lambda: message.cseq,
        lambda: message.contacts,
        lambda: message.contact_star,
        lambda: message.max_forwards,
        lambda: message.expires,
        lambda: message.content_type,
        lambda: message.auth("Authorization"),
        lambda: message.auth("WWW-Authenticate"),
        lambda: [message.headers.values(name) for name in {name for name, _ in message.headers}],
    ]
    for read in readers:
        with contextlib.suppress(SipError):
            read()


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    exercise(data)


@FUZZ
@given(st.sampled_from(SEEDS), st.data())
def test_truncation(seed: bytes, data: st.DataObject) -> None:
    exercise(seed[: data.draw(st.integers(0, len(seed)))])


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8))
def test_byte_flips(seed: bytes, flips: list[tuple[int, int]]) -> None:
    mutated = bytearray(seed)
    for at, value in flips:
        mutated[at % len(mutated)] = value
    exercise(bytes(mutated))


INTERESTING = st.sampled_from(
    [b"\r\n", b" ", b"\t", b":", b";", b",", b'"', b"\\", b"<", b">", b"@", b"%", b"=", b"?", b"[", b"]", b"\x00"]
)


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.tuples(st.integers(0, 10**6), INTERESTING), min_size=1, max_size=8))
def test_inserted_separators(seed: bytes, inserts: list[tuple[int, bytes]]) -> None:
    mutated = seed
    for at, piece in inserts:
        cut = at % (len(mutated) + 1)
        mutated = mutated[:cut] + piece + mutated[cut:]
    exercise(mutated)


@FUZZ
@given(st.sampled_from(SEEDS), st.integers(0, 10**6), st.integers(1, 300))
def test_duplicated_header_lines(seed: bytes, which: int, times: int) -> None:
    head, _, body = seed.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    at = 1 + which % max(1, len(lines) - 1)
    lines[at:at] = [lines[min(at, len(lines) - 1)]] * times
    exercise(b"\r\n".join(lines) + b"\r\n\r\n" + body)


@FUZZ
@given(
    st.sampled_from(SEEDS),
    st.integers(0, 10**6),
    st.sampled_from([b"a", b"9", b" ", b"\r\n ", b'"', b";x", b",", b"%41"]),
    st.integers(1, 70_000),
)
def test_huge_values(seed: bytes, at: int, piece: bytes, times: int) -> None:
    cut = at % (len(seed) + 1)
    exercise(seed[:cut] + piece * times + seed[cut:])


def test_size_limit_is_checked_first() -> None:
    huge = SEEDS[0] + b"x" * MAX_MESSAGE_SIZE
    try:
        parse(huge)
    except SipError as exc:
        assert exc.reason == "message too large"
    else:
        raise AssertionError("an over-size message parsed")


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(st.integers(1, 200), min_size=1, max_size=30), st.binary(max_size=64))
def test_framer_takes_any_split(seed: bytes, sizes: list[int], junk: bytes) -> None:
    stream = seed + junk
    framer = Framer()
    at = 0
    try:
        for size in sizes * 100:
            if at >= len(stream):
                break
            for message in framer.feed(stream[at : at + size]):
                assert parse(bytes(message)) == message
            at += size
    except SipError:
        assert framer.broken


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120))
def test_uri_text(text: str) -> None:
    for candidate in (text, "sip:" + text, "sip:a@" + text, "tel:" + text):
        try:
            uri = parse_uri(candidate)
        except SipError:
            continue
        assert parse_uri(str(uri)) == uri
