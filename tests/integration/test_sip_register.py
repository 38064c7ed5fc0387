"""The real server on UDP: SIPp registers an agent's phone with digest auth; bad input gets 400 or nothing."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from infolinia.voice.sip import Request, Response, parse
from tests.live import LiveServer
from tests.sipp import SIPP, free_udp_ports, needs_sipp

SCENARIO = Path(__file__).resolve().parent.parent / "data" / "sipp" / "register.xml"


def sipp(sip_port: int, workdir: Path, password: str) -> subprocess.CompletedProcess[str]:
    assert SIPP is not None
    command = [
        SIPP, f"127.0.0.1:{sip_port}", "-sf", str(SCENARIO), "-s", "1002", "-au", "1002", "-ap", password,
        "-i", "127.0.0.1", "-p", str(free_udp_ports(1)), "-m", "1", "-nostdin", "-timeout", "15", "-trace_msg",
    ]  # fmt: skip
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=30)


def messages(workdir: Path) -> str:
    return "".join(p.read_text(errors="replace") for p in workdir.glob("*_messages.log"))


@needs_sipp
def test_sipp_registers_with_digest_auth(sip_server: tuple[LiveServer, int], tmp_path: Path) -> None:
    result = sipp(sip_server[1], tmp_path, "demo")
    assert result.returncode == 0, result.stdout[-3000:] + messages(tmp_path)
    log = messages(tmp_path)
    assert "SIP/2.0 401 Unauthorized" in log and "SIP/2.0 200 OK" in log
    assert "Contact: <sip:1002@127.0.0.1:" in log.split("SIP/2.0 200 OK", 1)[1]


@needs_sipp
def test_sipp_with_a_wrong_password_is_challenged_again(sip_server: tuple[LiveServer, int], tmp_path: Path) -> None:
    result = sipp(sip_server[1], tmp_path, "not-the-password")
    assert result.returncode != 0
    log = messages(tmp_path)
    assert log.count("SIP/2.0 401 Unauthorized") >= 2 and "SIP/2.0 200 OK" not in log, log


def exchange(sock: socket.socket, data: bytes, sip_port: int, timeout: float = 2.0) -> bytes | None:
    sock.sendto(data, ("127.0.0.1", sip_port))
    sock.settimeout(timeout)
    try:
        return sock.recv(65535)
    except TimeoutError:
        return None


def options(port: int, branch: str) -> bytes:
    return (
        f"OPTIONS sip:demo.infolinia SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{branch};rport\r\n"
        f"From: <sip:probe@example.org>;tag=1\r\nTo: <sip:demo.infolinia>\r\nCall-ID: {branch}\r\n"
        "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


def test_garbage_is_dropped_a_malformed_request_answered_400_and_the_server_goes_on(
    sip_server: tuple[LiveServer, int],
) -> None:
    live, sip_port = sip_server
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        assert exchange(sock, b"\x00\xffnot sip at all\r\n\r\n", sip_port, timeout=0.5) is None
        bad = options(port, "bad").replace(b"Max-Forwards: 70", b"Max-Forwards: seventy")
        answer = parse(exchange(sock, bad, sip_port) or b"")
        assert isinstance(answer, Response) and answer.status == 400
        reply = parse(exchange(sock, options(port, "good"), sip_port) or b"")
        assert isinstance(reply, Response) and reply.status == 200
        assert "REGISTER" in (reply.headers.get("Allow") or "")
        assert reply.via[0].rport == port and reply.via[0].received == "127.0.0.1"
        invite = options(port, "inv").replace(b"OPTIONS", b"INVITE")  # to the tenant's realm: no such number
        refused = parse(exchange(sock, invite, sip_port) or b"")
        assert isinstance(refused, Response) and refused.status == 404
    health = __import__("httpx").get(f"{live.base_url}/healthz").json()["subsystems"]["sip"]
    assert health["up"] and health["counters"]["malformed"] >= 2
    assert not isinstance(answer, Request)
