"""Thousands of malformed SIP datagrams against the real server process, from a plain UDP socket.

Truncated (one REGISTER and one INVITE cut at every position), byte-flipped, inflated to the largest datagram the
OS sends, binary garbage, NULs, bad UTF-8, duplicated and missing headers, absurd Content-Length values, hundreds
of header fields, RFC 4475's torture messages as they are and mutated. Afterwards the server must have counted every
datagram, and as malformed exactly those its own parser refuses; it must still answer OPTIONS and a SIPp REGISTER,
answer 400 to requests that parsed far enough to be answered, be healthy, and have logged no error.

Random but reproducible: the seed is printed (shown with a failure) and ``INFOLINIA_SIP_FUZZ_SEED=<seed>`` replays
it. The sender waits for the answer to an OPTIONS after every small batch, so the server's socket buffer never
overflows and nothing is lost on the way.
"""

from __future__ import annotations

import os
import random
import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from infolinia.voice.sip import MAX_MESSAGE_SIZE, Request, Response, SipError, parse
from infolinia.voice.sip.limits import MAX_HEADERS, MAX_LIST_ITEMS
from infolinia.voice.sip.transport import stamp_via
from tests.integration.test_sip_register import messages, needs_sipp, sipp
from tests.live import LiveServer

SEED = int(os.environ.get("INFOLINIA_SIP_FUZZ_SEED") or random.SystemRandom().randrange(2**32))
CASES = 5000
TORTURE = Path(__file__).resolve().parents[1] / "data" / "sip" / "rfc4475"
BATCH_DATAGRAMS = 32
BATCH_BYTES = 48 * 1024
LARGEST_UDP = 65507  # IPv4: 65535 minus the IP and UDP headers
SDP = (
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
)


def seeded(message: str) -> str:
    return f"{message} (INFOLINIA_SIP_FUZZ_SEED={SEED})"


# --- messages ----------------------------------------------------------------------------------------------------


def request(method: str, port: int, tag: str, *, extra: tuple[str, ...] = ()) -> bytes:
    body = SDP if method == "INVITE" else ""
    user = "1002" if method == "REGISTER" else "800100200"
    lines = [
        f"{method} sip:{user}@demo.infolinia SIP/2.0",
        f"Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{tag};rport",
        "Max-Forwards: 70",
        f"From: <sip:1002@demo.infolinia>;tag=f{tag}",
        f"To: <sip:{user}@demo.infolinia>",
        f"Call-ID: {tag}@fuzz.test",
        f"CSeq: 1 {method}",
        f"Contact: <sip:1002@127.0.0.1:{port}>",
        *(["Expires: 60"] if method == "REGISTER" else []),
        *(["Content-Type: application/sdp"] if body else []),
        *extra,
        f"Content-Length: {len(body)}",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def response(port: int, tag: str) -> bytes:
    return (
        f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{tag}\r\n"
        f"From: <sip:800100200@demo.infolinia>;tag=a{tag}\r\nTo: <sip:1002@demo.infolinia>;tag=b{tag}\r\n"
        f"Call-ID: {tag}@fuzz.test\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def options(port: int, tag: str) -> bytes:
    return request("OPTIONS", port, tag)


def counted_as_malformed(data: bytes, peer: tuple[str, int]) -> bool:
    """What the server's transport counts as malformed: what its parser refuses, or a request whose Via it cannot
    stamp (keep-alives and datagrams over the size limit are not parsed at all)."""
    if len(data) > MAX_MESSAGE_SIZE or not data.strip(b"\r\n"):
        return False
    try:
        message = parse(data)
        if isinstance(message, Request):
            stamp_via(message, peer)
    except SipError:
        return True
    return False


# --- mutations ---------------------------------------------------------------------------------------------------

Mutation = Callable[[random.Random, bytes], bytes]
COMPACT = {b"Via": b"v", b"Call-ID": b"i", b"From": b"f", b"To": b"t", b"Contact": b"m", b"Content-Length": b"l"}
ABSURD_NUMBERS = [b"-1", b"99999999999999999999999", b"abc", b"65536", b"1e3", b"0x10", b"", b"4294967296", b"00"]


def lines_of(data: bytes) -> tuple[list[bytes], bytes]:
    head, sep, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n"), sep + body


def flip(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= rng.randrange(1, 256)
    return bytes(out)


def truncate(rng: random.Random, data: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def insert_bytes(rng: random.Random, data: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    junk = rng.choice([b"\x00", b"\xff\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\r", b"\n", b"\t", b" ", b":", b";"])
    return data[:at] + junk * rng.randint(1, 4) + data[at:]


def duplicate_header(rng: random.Random, data: bytes) -> bytes:
    lines, rest = lines_of(data)
    if len(lines) < 2:
        return data
    i = rng.randrange(1, len(lines))
    copy = lines[i] if rng.random() < 0.5 else lines[i] + b"x"
    return b"\r\n".join([*lines[: i + 1], copy, *lines[i + 1 :]]) + rest


def drop_header(rng: random.Random, data: bytes) -> bytes:
    lines, rest = lines_of(data)
    wanted = [b"Via", b"Call-ID", b"CSeq", b"From", b"To", b"Content-Length", b"Max-Forwards"]
    name = rng.choice(wanted)
    kept = [line for line in lines if not line.lower().startswith(name.lower() + b":")]
    return b"\r\n".join(kept) + rest


def content_length(rng: random.Random, data: bytes) -> bytes:
    lines, rest = lines_of(data)
    value = rng.choice(ABSURD_NUMBERS)
    return (
        b"\r\n".join(b"Content-Length: " + value if line.startswith(b"Content-Length") else line for line in lines)
        + rest
    )


def absurd_number(rng: random.Random, data: bytes) -> bytes:
    lines, rest = lines_of(data)
    targets = [i for i, line in enumerate(lines) if line.startswith((b"CSeq", b"Max-Forwards", b"Expires"))]
    if not targets:
        return data
    i = rng.choice(targets)
    name, _, value = lines[i].partition(b": ")
    parts = value.split(b" ")
    parts[0] = rng.choice(ABSURD_NUMBERS)
    lines[i] = name + b": " + b" ".join(parts)
    return b"\r\n".join(lines) + rest


def many_headers(rng: random.Random, data: bytes) -> bytes:
    lines, rest = lines_of(data)
    count = rng.choice([MAX_HEADERS - len(lines), MAX_HEADERS + 1, rng.randint(100, 2000)])
    return b"\r\n".join([*lines, *(b"X-Fuzz-%d: v" % i for i in range(max(count, 0)))]) + rest


def long_value(rng: random.Random, data: bytes) -> bytes:
    lines, rest = lines_of(data)
    size = rng.choice([8 * 1024 - 10, 8 * 1024 + 1, rng.randint(9000, 60000)])
    return b"\r\n".join([*lines, b"Subject: " + b"a" * size]) + rest


def many_items(rng: random.Random, data: bytes) -> bytes:
    lines, rest = lines_of(data)
    count = rng.choice([MAX_LIST_ITEMS, MAX_LIST_ITEMS + 1, 1000])
    if rng.random() < 0.5:
        extra = b"Via: " + b", ".join(b"SIP/2.0/UDP 10.0.0.%d" % (i % 250) for i in range(count))
    else:
        extra = b"Contact: <sip:a@b>" + b"".join(b";p%d=%d" % (i, i) for i in range(count))
    return b"\r\n".join([*lines, extra]) + rest


def line_endings(rng: random.Random, data: bytes) -> bytes:
    new = rng.choice([b"\n", b"\r", b"\r\r\n", b"\n\r"])
    if rng.random() < 0.5:
        return data.replace(b"\r\n", new)
    at = data.find(b"\r\n", rng.randrange(len(data) + 1))
    return data if at < 0 else data[:at] + new + data[at + 2 :]


def fold(rng: random.Random, data: bytes) -> bytes:
    at = data.find(b" ", rng.randrange(len(data) + 1))
    return data if at < 0 else data[:at] + rng.choice([b"\r\n\t", b"\r\n ", b"\r\n"]) + data[at + 1 :]


def shuffle_lines(rng: random.Random, data: bytes) -> bytes:
    lines, rest = lines_of(data)
    rng.shuffle(lines)
    return b"\r\n".join(lines) + rest


def rename(rng: random.Random, data: bytes) -> bytes:
    lines, rest = lines_of(data)
    out = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if colon and rng.random() < 0.5:
            name = COMPACT.get(name, name.swapcase() if rng.random() < 0.5 else name + b" ")
        out.append(name + colon + value)
    return b"\r\n".join(out) + rest


def brackets(rng: random.Random, data: bytes) -> bytes:
    return data.replace(rng.choice([b">", b"<", b'"']), rng.choice([b"", b"<<", b'"']), rng.randint(1, 3))


def inflate(rng: random.Random, data: bytes) -> bytes:
    """To the largest datagram the OS sends: a long header value (refused) or a long body (parses)."""
    lines, rest = lines_of(data)
    room = LARGEST_UDP - len(data) - 20
    if rng.random() < 0.5 or room < 0:
        return (b"\r\n".join([*lines, b"Subject: " + b"x" * max(room, 0)]) + rest)[:LARGEST_UDP]
    body = b"y" * room
    kept = [line for line in lines if not line.startswith(b"Content-Length")]
    return b"\r\n".join([*kept, b"Content-Length: %d" % len(body)]) + b"\r\n\r\n" + body


def torn_end(rng: random.Random, data: bytes) -> bytes:
    return data.replace(b"\r\n\r\n", rng.choice([b"\r\n", b"\r\n \r\n", b"\r\n\r\n\r\n\r\n"]), 1)


MUTATIONS: list[Mutation] = [
    flip, truncate, insert_bytes, duplicate_header, drop_header, content_length, absurd_number, many_headers,
    long_value, many_items, line_endings, fold, shuffle_lines, rename, brackets, inflate, torn_end,
]  # fmt: skip


def garbage(rng: random.Random) -> bytes:
    size = rng.randint(1, 1500)
    if rng.random() < 0.5:
        return b"\x00" + rng.randbytes(size)
    return bytes(rng.choice(b"INVITE SIP/2.0 sip: @;=<>\r\n\t:,0123456789") for _ in range(size))


def cases(rng: random.Random, port: int) -> Iterator[bytes]:
    """``CASES`` datagrams: every cut of two messages, the torture messages, garbage, then mutated messages."""
    tags = (f"{i:x}{rng.getrandbits(32):08x}" for i in range(10**9))
    register, invite = request("REGISTER", port, next(tags)), request("INVITE", port, next(tags))
    yielded = 0
    for whole in (register, invite):
        for cut in range(len(whole)):
            yield whole[:cut]
        yielded += len(whole)
    torture = [path.read_bytes() for path in sorted(TORTURE.glob("*/*.dat"))]
    yield from torture
    yielded += len(torture)
    for _ in range(300):
        yield garbage(rng)
    yielded += 300
    for _ in range(CASES - yielded):
        kind = rng.choice(["INVITE", "REGISTER", "OPTIONS", "BYE", "ACK", "CANCEL", "MESSAGE", "response", "torture"])
        if kind == "torture":
            base = rng.choice(torture)
        elif kind == "response":
            base = response(port, next(tags))
        else:
            base = request(kind, port, next(tags))
        for mutation in rng.sample(MUTATIONS, rng.randint(1, 3)):
            base = mutation(rng, base)
        yield base[:LARGEST_UDP]


# --- the sender --------------------------------------------------------------------------------------------------


@dataclass
class Probe:
    """A UDP socket at the server: sends, and reads replies until the answer to an OPTIONS ping."""

    sip_port: int
    sock: socket.socket = field(init=False)
    sent: int = 0
    replies: list[bytes] = field(default_factory=list)
    _pings: int = 0

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind(("127.0.0.1", 0))

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.sip_port))
        self.sent += 1

    def ping(self, within_s: float = 20.0) -> list[bytes]:
        """Send an OPTIONS and read until its 200; what came before it (in order). The server handles datagrams
        in order, so every earlier one has been read by then."""
        self._pings += 1
        branch = f"z9hG4bKping{self._pings}x{SEED}"
        self.send(options(self.port, branch.removeprefix("z9hG4bK")))
        before: list[bytes] = []
        deadline = time.monotonic() + within_s
        while True:
            self.sock.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                raise AssertionError(seeded(f"no answer to OPTIONS {branch} within {within_s} s")) from None
            if _answers(data, branch):
                self.replies.extend(before)
                return before
            before.append(data)

    def close(self) -> None:
        self.sock.close()


def _answers(data: bytes, branch: str) -> bool:
    try:
        message = parse(data)
    except SipError:
        return False
    return isinstance(message, Response) and message.status == 200 and message.via[0].branch == branch


# --- the run -----------------------------------------------------------------------------------------------------


@dataclass
class Report:
    sent: int
    expected_malformed: int
    refused_by_os: int
    replies: list[bytes]
    before: dict[str, int]
    after: dict[str, int]

    def delta(self, counter: str) -> int:
        return self.after.get(counter, 0) - self.before.get(counter, 0)


def sip_counters(live: LiveServer) -> dict[str, int]:
    health = httpx.get(f"{live.base_url}/healthz", timeout=10)
    assert health.status_code == 200, seeded(health.text)
    counters: dict[str, int] = health.json()["subsystems"]["sip"]["counters"]
    return counters


def bombard(sip_port: int) -> tuple[Probe, int, int]:
    """Send every case, pacing with pings; the probe, how many are malformed and how many the OS refused."""
    print(f"SIP fuzz seed: {SEED} (replay with INFOLINIA_SIP_FUZZ_SEED={SEED})")
    rng = random.Random(SEED)
    probe = Probe(sip_port)
    malformed = refused = batch = batch_bytes = 0
    for data in cases(rng, probe.port):
        probe.send(data)
        malformed += counted_as_malformed(data, ("127.0.0.1", probe.port))
        batch, batch_bytes = batch + 1, batch_bytes + len(data)
        if batch >= BATCH_DATAGRAMS or batch_bytes >= BATCH_BYTES:
            probe.ping()
            batch = batch_bytes = 0
    try:
        probe.send(b"OPTIONS " + b"x" * MAX_MESSAGE_SIZE)  # over the limit: IPv4 cannot carry it
    except OSError:
        refused += 1
    probe.ping()
    return probe, malformed, refused


@pytest.fixture(scope="module")
def fuzzed(sip_server: tuple[LiveServer, int]) -> Report:
    live, sip_port = sip_server
    before = sip_counters(live)
    probe, malformed, refused = bombard(sip_port)
    try:
        return Report(probe.sent, malformed, refused, probe.replies, before, sip_counters(live))
    finally:
        probe.close()


# --- the checks --------------------------------------------------------------------------------------------------


def test_every_datagram_is_counted_and_the_unparsable_ones_as_malformed(fuzzed: Report) -> None:
    assert fuzzed.sent >= CASES
    assert fuzzed.delta("received") == fuzzed.sent, seeded(f"{fuzzed.before} -> {fuzzed.after}")
    assert fuzzed.delta("malformed") == fuzzed.expected_malformed, seeded(f"{fuzzed.before} -> {fuzzed.after}")
    assert fuzzed.expected_malformed > CASES // 2  # most of what was sent is broken
    assert fuzzed.delta("oversized") == 1 - fuzzed.refused_by_os


def test_every_reply_is_well_formed_and_none_a_500(fuzzed: Report) -> None:
    """A 400 or 416 copies the broken header fields it answers, so only its status line is sure to read; any other
    response answers a request that parsed, and must parse itself, as must a request of the server's own (the BYE
    of a call it answered). 500 is what a handler that raised gets."""
    assert fuzzed.replies, seeded("the server answered none of the requests")
    for data in fuzzed.replies:
        if not data.startswith(b"SIP/2.0 "):
            assert isinstance(parse(data), Request), seeded(repr(data[:600]))
            continue
        assert re.match(rb"SIP/2\.0 [1-6]\d\d ", data), seeded(repr(data[:300]))
        status = int(data[8:11])
        assert status != 500, seeded(repr(data[:600]))
        if status not in (400, 416):
            assert isinstance(parse(data), Response), seeded(repr(data[:600]))


def test_the_server_is_still_healthy_and_logged_no_error(sip_server: tuple[LiveServer, int], fuzzed: Report) -> None:
    live, sip_port = sip_server
    probe = Probe(sip_port)
    try:
        assert probe.ping() == []
    finally:
        probe.close()
    sip_counters(live)  # /healthz answers 200
    output = live.output()
    assert not re.search(r"Traceback|Exception|\b(ERROR|CRITICAL)\b", output), seeded(output[-5000:])


# One OPTIONS with one change: "old -> new" replaces text, "+ field" adds a header field. Requests whose start line
# and header fields read, with one field broken, are answered (the status); what has no Call-ID, CSeq or From to
# copy into a response, or is not SIP at all, is dropped (-).
SAMPLE = b"""\
400 | CSeq number a word | CSeq: 1 OPTIONS -> CSeq: one OPTIONS
400 | CSeq method another | CSeq: 1 OPTIONS -> CSeq: 1 REGISTER
400 | CSeq number too long | CSeq: 1 OPTIONS -> CSeq: 999999999999999999999999 OPTIONS
400 | CSeq twice | + CSeq: 2 OPTIONS
400 | Call-ID twice | + Call-ID: another
400 | Max-Forwards negative | Max-Forwards: 70 -> Max-Forwards: -3
400 | Expires a word | + Expires: soon
400 | Contact unclosed | Contact: <sip:1002@127.0.0.1: -> Contact: <sip:1002@[
400 | NUL in a value | tag=f -> tag=\x00f
400 | bad UTF-8 in From | From: <sip:1002 -> From: \xff\xfe<sip:1002
400 | Date not GMT | + Date: Sat, 13 Nov 2010 23:29:00 PST
400 | headers in the Request-URI | demo.infolinia SIP/2.0 -> demo.infolinia?a=b SIP/2.0
400 | Via without a branch | ;branch= -> ;brunch=
416 | unknown URI scheme | OPTIONS sip: -> OPTIONS mailto:
-   | no Call-ID | Call-ID: -> Call-Id-Not:
-   | no CSeq | CSeq: -> CSeq-Not:
-   | no From | From: -> From-Not:
-   | not SIP | OPTIONS -> \x00OPTIONS
"""
CHANGES = {
    name.decode(): (None if status.strip() == b"-" else int(status), change)
    for status, name, change in (row.split(b" | ") for row in SAMPLE.splitlines())
}


def changed(message: bytes, change: bytes) -> bytes:
    if change.startswith(b"+ "):
        return message.replace(b"Content-Length:", change[2:] + b"\r\nContent-Length:", 1)
    old, new = change.split(b" -> ")
    assert old in message, change
    return message.replace(old, new, 1)


@pytest.mark.parametrize("case", list(CHANGES))
def test_a_request_that_parsed_far_enough_is_answered_the_rest_dropped(
    sip_server: tuple[LiveServer, int], fuzzed: Report, case: str
) -> None:
    status, change = CHANGES[case]
    probe = Probe(sip_server[1])
    tag = case.replace(" ", "-")
    try:
        probe.send(changed(options(probe.port, tag), change))
        replies = probe.ping()
    finally:
        probe.close()
    if status is None:
        assert replies == [], seeded(repr(replies))
        return
    [reply] = replies
    assert reply.startswith(b"SIP/2.0 %d " % status), seeded(repr(reply[:300]))
    assert f"Call-ID: {tag}@fuzz.test".encode() in reply, seeded(repr(reply[:600]))


@needs_sipp
def test_sipp_still_registers(sip_server: tuple[LiveServer, int], fuzzed: Report, tmp_path: Path) -> None:
    result = sipp(sip_server[1], tmp_path, "demo")
    assert result.returncode == 0, seeded(result.stdout[-3000:] + messages(tmp_path))
