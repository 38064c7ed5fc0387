"""SIP over TCP (RFC 3261 §18) on the SIP port: framing, answers on the same connection, bad streams closed, the
limits, and a request to a phone whose connection is gone. The real server process for the wire, a transport in
this process for what it does towards a closed connection. (Calls over TCP with real phones:
test_calls_agent.py.)"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import socket
import time

import httpx

from infolinia.voice.sip import Request, Response, new_branch, parse
from infolinia.voice.sip.transport import MAX_STREAMS_PER_HOST, SipTransport, tcp_socket
from tests.integration import test_sip_fuzz_live as fuzz
from tests.live import LiveServer


def options(branch: str, call_id: str = "tcp-1", body_line: str = "") -> bytes:
    return (
        f"OPTIONS sip:800100200@127.0.0.1 SIP/2.0\r\n"
        f"Via: SIP/2.0/TCP 192.0.2.7:5099;branch={branch};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:probe@example.com>;tag=t1\r\n"
        "To: <sip:800100200@127.0.0.1>\r\n"
        f"Call-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        f"{body_line}"
        "Content-Length: 0\r\n\r\n"
    ).encode()


def connect(sip_port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", sip_port), timeout=5)
    return sock


def read_message(sock: socket.socket, buffer: bytearray) -> Response:
    """One whole message off the stream (the rest stays in ``buffer``)."""
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buffer[:end]).decode()
            length = next(
                int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.lower().startswith("content-length")
            )
            if len(buffer) >= end + 4 + length:
                chunk = bytes(buffer[: end + 4 + length])
                del buffer[: end + 4 + length]
                message = parse(chunk)
                assert isinstance(message, Response)
                return message
        data = sock.recv(65536)
        assert data, "the server closed the connection"
        buffer += data


def closed_by_server(sock: socket.socket, within_s: float = 5.0) -> bytes:
    """What the server still sent before it closed the connection (fails if it does not close it in time)."""
    sock.settimeout(within_s)
    got = b""
    while True:
        data = sock.recv(65536)
        if not data:
            return got
        got += data


def split_stream(data: bytes) -> list[bytes]:
    """The messages the server wrote on a stream, by their Content-Length (every message of ours has one)."""
    out = []
    while data:
        end = data.index(b"\r\n\r\n")
        length = re.search(rb"\r\nContent-Length: *(\d+)", data[: end + 2], re.IGNORECASE)
        assert length is not None, data[:300]
        total = end + 4 + int(length[1])
        assert len(data) >= total, data[:300]
        out.append(data[:total])
        data = data[total:]
    return out


def counters(live: LiveServer) -> dict[str, int]:
    return dict(httpx.get(f"{live.base_url}/healthz", timeout=10).json()["subsystems"]["sip"]["counters"])


def no_connections_left(live: LiveServer) -> dict[str, int]:
    """Wait until the server has seen every connection closed; its counters then."""
    deadline = time.monotonic() + 10
    while (now := counters(live))["tcp_connections"]:
        assert time.monotonic() < deadline, now
        time.sleep(0.05)
    return now


def test_options_over_tcp_in_pieces_and_two_at_once_are_answered_on_the_connection(
    sip_server: tuple[LiveServer, int],
) -> None:
    live, sip_port = sip_server
    with connect(sip_port) as sock:
        first = options(new_branch())
        for i in range(0, len(first), 7):  # a message cut anywhere
            sock.sendall(first[i : i + 7])
            time.sleep(0.002)
        buffer = bytearray()
        response = read_message(sock, buffer)
        assert response.status == 200 and "OPTIONS" in (response.headers.get("Allow") or "")
        via = response.via[0]
        assert via.transport == "TCP" and via.received == "127.0.0.1"  # as it came, and where from
        assert via.rport == sock.getsockname()[1]
        sock.sendall(b"\r\n\r\n" + options(new_branch(), "tcp-2") + options(new_branch(), "tcp-3"))  # keep-alive too
        ids = {read_message(sock, buffer).call_id, read_message(sock, buffer).call_id}
        assert ids == {"tcp-2", "tcp-3"}
    assert counters(live)["tcp_received"] >= 3


def test_a_bad_request_on_a_stream_is_answered_400_and_the_connection_closed(
    sip_server: tuple[LiveServer, int],
) -> None:
    live, sip_port = sip_server
    before = counters(live).get("tcp_broken", 0)
    with connect(sip_port) as sock:  # a header the message cannot do without, unreadable: 400, then closed
        sock.sendall(options(new_branch()).replace(b"CSeq: 1 OPTIONS", b"CSeq: one OPTIONS"))
        rest = closed_by_server(sock)
        assert rest.startswith(b"SIP/2.0 400 "), rest[:200]
    with connect(sip_port) as sock:  # no Content-Length: a stream cannot be framed without it
        sock.sendall(options(new_branch()).replace(b"Content-Length: 0\r\n", b""))
        assert closed_by_server(sock) == b""
    with connect(sip_port) as sock:  # a header section that never ends
        with contextlib.suppress(OSError):  # the server may close while we still write
            for _ in range(100):
                sock.sendall(b"X-Filler: " + b"a" * 1000 + b"\r\n")
        with contextlib.suppress(ConnectionResetError):  # closed with our bytes unread: a reset
            assert closed_by_server(sock) == b""
    assert counters(live)["tcp_broken"] >= before + 3
    with connect(sip_port) as sock:  # and the server goes on
        sock.sendall(options(new_branch()))
        assert read_message(sock, bytearray()).status == 200


def test_one_address_gets_a_bounded_number_of_connections(sip_server: tuple[LiveServer, int]) -> None:
    live, sip_port = sip_server
    socks = [connect(sip_port) for _ in range(MAX_STREAMS_PER_HOST + 1)]
    try:
        deadline = time.monotonic() + 10
        while counters(live).get("tcp_refused", 0) < 1:
            assert time.monotonic() < deadline, counters(live)
            time.sleep(0.05)
        assert counters(live)["tcp_connections"] <= MAX_STREAMS_PER_HOST
    finally:
        for sock in socks:
            sock.close()
    no_connections_left(live)
    with connect(sip_port) as sock:  # room again
        sock.sendall(options(new_branch()))
        assert read_message(sock, bytearray()).status == 200


async def test_a_request_to_a_peer_whose_connection_closed_fails_at_once_and_never_goes_over_udp() -> None:
    transport = SipTransport({})
    loop = asyncio.get_running_loop()
    udp_seen: list[bytes] = []

    class Catch(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
            udp_seen.append(data)

    await loop.create_datagram_endpoint(lambda: transport, local_addr=("127.0.0.1", 0))
    port = tcp_socket("127.0.0.1", 0)
    server = await loop.create_server(transport.stream, sock=port)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port.getsockname()[1])
        peer = writer.get_extra_info("sockname")[:2]
        # the phone's UDP port of the same number: nothing may arrive there
        catcher, _ = await loop.create_datagram_endpoint(Catch, local_addr=("127.0.0.1", peer[1]))
        writer.write(options(new_branch()))
        await reader.readuntil(b"\r\n\r\n")  # its 200: the server knows the connection
        request = parse(options(new_branch(), "out-1").replace(b"SIP/2.0/TCP 192.0.2.7:5099", b"SIP/2.0/UDP h:5060"))
        assert isinstance(request, Request)
        got: list[int] = []
        transport.send_request(request, peer, lambda r: got.append(r.status))
        line = await reader.readuntil(b"\r\n")
        assert line.startswith(b"OPTIONS ")
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"Via: SIP/2.0/TCP h:5060" in head  # the Via says how it went
        writer.close()
        deadline = loop.time() + 5
        while transport.stats()["tcp_connections"]:
            assert loop.time() < deadline
            await asyncio.sleep(0.01)
        again = parse(options(new_branch(), "out-2"))
        assert isinstance(again, Request)
        transport.send_request(again, peer, lambda r: got.append(r.status))
        await asyncio.sleep(0.2)
        assert got == [503]  # the first never answered (still running), the second failed at once
        assert udp_seen == [] and transport.stats()["tcp_gone"] == 1
        catcher.close()
    finally:
        server.close()
        await transport.close()


def test_malformed_streams_do_not_hurt_the_server(sip_server: tuple[LiveServer, int]) -> None:
    """1,500 of the datagram fuzzer's cases (cuts, torture messages, garbage, mutations), each as a stream of its
    own that the client then ends: every reply is a well-formed response and none a 500; each connection is closed
    by the server once the client's side is done; the server still answers and logged no error."""
    live, sip_port = sip_server
    rng = random.Random(fuzz.SEED)
    chosen = rng.sample(list(fuzz.cases(rng, sip_port)), 1500)
    before = counters(live)
    replies = 0
    for data in chosen:
        with connect(sip_port) as sock:
            with contextlib.suppress(OSError):  # a server that closed early resets a long write
                sock.sendall(data)
                sock.shutdown(socket.SHUT_WR)
            got = b""
            with contextlib.suppress(ConnectionResetError):
                got = closed_by_server(sock)
        replies += len(split_stream(got))
        for reply in split_stream(got):  # the rule of the datagram fuzzer's replies (test_sip_fuzz_live.py)
            if not reply.startswith(b"SIP/2.0 "):
                assert isinstance(parse(reply), Request), fuzz.seeded(repr(reply[:600]))
                continue
            assert re.match(rb"SIP/2\.0 [1-6]\d\d ", reply), fuzz.seeded(repr(reply[:300]))
            status = int(reply[8:11])
            assert status != 500, fuzz.seeded(repr(reply[:600]))
            if status not in (400, 416):
                assert isinstance(parse(reply), Response), fuzz.seeded(repr(reply[:600]))
    with connect(sip_port) as sock:
        sock.sendall(options(new_branch()))
        assert read_message(sock, bytearray()).status == 200
    after = no_connections_left(live)
    assert after["tcp_accepted"] - before["tcp_accepted"] == 1501
    assert replies > 100 and after["tcp_broken"] - before.get("tcp_broken", 0) > 100, (replies, after)
    assert not re.search(r"Traceback|Exception|\b(ERROR|CRITICAL)\b", live.output()), fuzz.seeded(live.output()[-5000:])
