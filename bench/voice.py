"""Voice end to end: how many calls one server core holds in IVR playback and bridged caller <-> agent, and how
fast calls are set up, against the real ``infolinia serve`` process with SIPp as the phones.

Processes. The server is ``infolinia serve --demo --demo-always-open`` (uvloop, SQLite in a temp folder) pinned to
one core (taskset). Everything else runs on the other core: SIPp as the callers (a UAC scenario, ``-r``/``-l``/``-m``,
each call held for the step, then BYE), SIPp as the agents' phones (a REGISTER scenario with digest auth from the
port a SIPp UAS then answers INVITEs on), and a measuring peer (``--role peer``: plain UDP sockets with kernel
receive timestamps, SO_TIMESTAMPNS). Each call's SDP points at its own peer socket, injected into the SIPp scenario
from a CSV file (``-inf``); the agents' answers point at one echoing peer socket. The peer latches on to the
server's first packet on a socket and sends its own 20 ms stream back at a random phase (as a phone does), so
symmetric RTP latches and the media timeout stays quiet.

- IVR: the callers dial a number whose flow plays a 22 s prompt in a loop (a menu that never gets its digit).
  Measured at the callers: p99 of |inter-arrival - 20 ms|, loss (packets the RTP timestamps say were due but never
  came), RFC 3550 jitter.
- Bridged: the callers dial a number whose flow is one queue node; the queue's agents are created through the API
  (user, agent profile with extension and SIP password, team of the queue, presence ready), the routing engine
  offers each call to one of them and the server rings its registered phone (the SIPp UAS), then bridges. The
  caller's packets carry their send time, the agent's socket echoes each at once, so a packet crosses the server
  twice. Measured: p99 of the end-to-end packet-delay variation (delay - the call's least delay), loss, RFC 3550
  jitter at the caller.
- Setup rate: calls at a rising rate (5 s of arrivals, 1 s held each); a rate passes when every call is answered,
  its first RTP packet reaches the peer, and the p99 setup latency stays <= 500 ms (the server keeps up). Setup
  latency: INVITE sent (SIPp's log) -> first RTP packet received (the peer's kernel timestamp), p50/p99.

A ladder step: the calls are placed at ``--ramp-cps``, all held; the measurement window opens once every call is up
and closes before the first BYE. A step passes with 0 failed calls, < 0.1 % loss and p99 <= 3 ms (the project's
voice measurement definitions); the ladder climbs in coarse steps until one fails, tries halfway back, then repeats
the best passing step for the spread. The server's CPU share in the window (``/proc/<pid>/stat``), what else ran on
its core and the hypervisor's steal, and the peer's CPU and how busy its core was (SIPp included) are printed
beside: near 100 % on the peer's core the generator, not the server, was the limit.

    python bench/voice.py [--quick] [--modes ivr,bridged,setup] [--hold S] [--repeats N] [--ramp-cps R]

Results and how to read them: docs/voice-bench.md.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import heapq
import json
import math
import os
import platform
import random
import resource
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np

from media import (
    HEADER,
    LOSS_LIMIT,
    P99_LIMIT_MS,
    PERIOD,
    RTP_PAYLOAD,
    TIMESPEC,
    Arrivals,
    Pipe,
    bridged_figures,
    climb,
    cpu_times,
    echo,
    ivr_figures,
    peer_socket,
    rfc3550_jitter_ms,
)

HOST = "127.0.0.1"
RTP_PORTS = "20000-29999"
ASTERISK = {"ivr": (150, 200), "bridged": (100, 150), "setup": (350, 350)}  # design brief, one core, same definitions
PROBE = struct.Struct("!4sIId")  # magic, call, packet number, send time (CLOCK_REALTIME)
MAGIC = b"VBP1"
IVR_NUMBER = "800100901"
BRIDGED_NUMBER = "800100902"
AGENT_PASSWORD = "bench-sip"
FIRST_EXTENSION = 6000
STALL_S = 0.02  # a loop (the server's or the peer's) this late to its work is a stall: packets wait meanwhile
STREAM_GONE_S = 2.0  # a socket the server stopped sending to for this long: that call ended, stop sending to it
SETUP_P99_LIMIT_MS = 500.0  # a setup rate passes only while the server keeps up: p99 INVITE -> first RTP <= this
SETTLE_S = 2.0  # after the last call is placed, at least, before the warm-up: answers, agent legs, latching
SETTLE_MAX_S = 15.0  # at most: the window starts once all calls are up (the server says so), or after this


def raise_nofile() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the measuring peer: per-call caller sockets and one echoing agent socket --------------------------------------


class CallerStreams:
    """One socket per call. The first packet from the server on a socket latches its address; from then on the
    socket sends a 20 ms stream there at its own random phase, each packet carrying the call, its number and its
    send time."""

    def __init__(self, n: int, seed: int) -> None:
        self.socks = [peer_socket() for _ in range(n)]
        self.rng = random.Random(seed)
        self.by_fd = {sock.fileno(): i for i, sock in enumerate(self.socks)}
        self.remote: list[tuple[str, int] | None] = [None] * n
        self.first_rx = [math.nan] * n  # kernel receive time of the first packet (CLOCK_REALTIME)
        self.last_rx = [0.0] * n  # monotonic
        self.sent = [0] * n
        self.ssrc = [self.rng.getrandbits(32) for _ in range(n)]
        self.due: list[tuple[float, int]] = []  # (monotonic send time, call)
        self.filler = bytes(RTP_PAYLOAD - PROBE.size)
        self.sent_at = array("d")
        self.send_errors = 0
        self.stalls: list[tuple[float, float]] = []  # (CLOCK_REALTIME start, seconds): sends this late or later

    def ports(self) -> list[int]:
        return [sock.getsockname()[1] for sock in self.socks]

    def close(self) -> None:
        for sock in self.socks:
            sock.close()

    def next_time(self) -> float:
        return self.due[0][0] if self.due else math.inf

    def received(self, call: int, source: tuple[str, int], kernel_time: float) -> None:
        now = time.monotonic()
        self.last_rx[call] = now
        if self.remote[call] is None or self.remote[call] != source:
            if self.remote[call] is None:
                self.first_rx[call] = kernel_time
                heapq.heappush(self.due, (now + self.rng.random() * PERIOD, call))
            self.remote[call] = source

    def send_due(self, now: float) -> None:
        if self.due and now - self.due[0][0] >= STALL_S:  # the peer was held (or busy) past a send
            late = now - self.due[0][0]
            self.stalls.append((time.time() - late, late))
        while self.due and self.due[0][0] <= now:
            at, call = heapq.heappop(self.due)
            if now - self.last_rx[call] > STREAM_GONE_S:
                self.remote[call] = None  # the call ended; a new packet latches again
                continue
            k = self.sent[call]
            sent_at = time.time()
            header = HEADER.pack(0x80, 0, k & 0xFFFF, 160 * k & 0xFFFFFFFF, self.ssrc[call])
            destination = self.remote[call]
            assert destination is not None
            try:
                self.socks[call].sendto(header + PROBE.pack(MAGIC, call, k, sent_at) + self.filler, destination)
            except OSError:
                self.send_errors += 1
            self.sent[call] = k + 1
            self.sent_at.append(sent_at)
            heapq.heappush(self.due, (at + PERIOD, call))


def drain(sock: socket.socket, call: int, streams: CallerStreams, played: Arrivals, probes: Arrivals) -> None:
    """Everything waiting on a caller socket: the server's own audio (IVR, music) into ``played``, our echoed
    probes (bridged) into ``probes``."""
    while True:
        try:
            data, ancillary, _flags, source = sock.recvmsg(2048, 64)
        except BlockingIOError:
            return
        if len(data) < 12 or not ancillary:
            continue
        seconds, nanos = TIMESPEC.unpack_from(ancillary[0][2])
        arrival = seconds + nanos * 1e-9
        streams.received(call, source, arrival)
        _, _, sequence, timestamp, _ = HEADER.unpack_from(data)
        into = played
        if len(data) >= 12 + PROBE.size and data[12:16] == MAGIC:
            _magic, _call, _k, sent_at = PROBE.unpack_from(data, 12)
            into = probes
            into.sent.append(sent_at)
        into.stream.append(call)
        into.sequence.append(sequence)
        into.timestamp.append(timestamp)
        into.arrival.append(arrival)


def run_calls(command: dict[str, Any], streams: CallerStreams, agent: socket.socket) -> dict[str, Any]:
    """Send, receive and echo until ``until`` (CLOCK_REALTIME), then the step's figures for ``window``."""
    with contextlib.suppress(BlockingIOError):
        while True:
            agent.recv(2048)
    n = len(streams.socks)
    played, probes = Arrivals(), Arrivals()
    poller = select.epoll()
    for sock in streams.socks:
        poller.register(sock.fileno(), select.EPOLLIN)
    poller.register(agent.fileno(), select.EPOLLIN)
    offset = time.time() - time.monotonic()
    stop = command["until"] - offset  # monotonic
    window = tuple(command["window"]) if command["window"] is not None else None
    cpu_start, wall_start = time.process_time(), time.monotonic()
    echoed = 0
    while (now := time.monotonic()) < stop:
        streams.send_due(now)
        for fd, _ in poller.poll(max(0.0, min(streams.next_time(), stop) - time.monotonic())):
            if fd == agent.fileno():
                echoed += echo(agent)
            else:
                call = streams.by_fd[fd]
                drain(streams.socks[call], call, streams, played, probes)
    peer_cpu = (time.process_time() - cpu_start) / (time.monotonic() - wall_start)
    poller.close()
    if window is None:  # the orchestrator sent it once the server had every call up
        window = tuple(json.loads(sys.stdin.readline())["window"])
    hold = window[1] - window[0]
    if command["mode"] == "bridged":
        values, received, expected = bridged_figures(probes, cast(Any, streams), window, n)  # reads .sent_at
        jitter_from = probes
    else:
        with np.errstate(over="ignore"):  # RTP timestamps wrap around: the difference is taken modulo 2**32
            values, received, expected = ivr_figures(played, window, hold, n)
        jitter_from = played
    stream, _, timestamp, arrival, sent_at = jitter_from.columns()
    inside = (arrival >= window[0]) & (arrival < window[1])
    late_seconds: list[list[int]] = []
    if command["mode"] == "bridged" and len(values):  # when the late packets were sent: one stall, or all along?
        sent_inside = sent_at[(sent_at >= window[0]) & (sent_at < window[1])]
        late = np.bincount((sent_inside[values > P99_LIMIT_MS / 1000] - window[0]).astype(np.int64))
        late_seconds = [[int(k), int(late[k])] for k in np.argsort(late)[::-1][:5] if late[k]]
    return {
        "p99_ms": float(np.percentile(values, 99) * 1000) if len(values) else math.inf,
        "p50_ms": float(np.percentile(values, 50) * 1000) if len(values) else math.inf,
        "max_ms": float(np.max(values) * 1000) if len(values) else math.inf,
        "loss": max(0.0, 1 - received / expected) if expected else 1.0,
        "rfc3550_jitter_ms": rfc3550_jitter_ms(stream[inside], timestamp[inside], arrival[inside]),
        "received": received,
        "expected": expected,
        "calls_with_rtp": sum(1 for t in streams.first_rx if not math.isnan(t)),
        "first_rx": {str(port): t for port, t in zip(streams.ports(), streams.first_rx, strict=True)},
        "peer_cpu": peer_cpu,
        "peer_send_errors": streams.send_errors,
        "echoed": echoed,
        "late_seconds": late_seconds,
        "peer_stalls": [[round(at - window[0], 3), round(ms * 1000, 1)] for at, ms in streams.stalls
                        if window[0] <= at < window[1]][:10],
    }  # fmt: skip


def run_peer() -> None:
    raise_nofile()
    agent = peer_socket()
    print(json.dumps({"agent": agent.getsockname()}), flush=True)
    streams: CallerStreams | None = None
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        if command["cmd"] == "open":
            if streams is not None:
                streams.close()
            streams = CallerStreams(command["n"], seed=command["n"])
            print(json.dumps({"ports": streams.ports()}), flush=True)
        elif command["cmd"] == "run":
            assert streams is not None
            print(json.dumps(run_calls(command, streams, agent)), flush=True)


# --- the server process: ``infolinia serve`` with its garbage collections recorded ----------------------------------


def run_server(gc_log: str, argv: list[str]) -> None:
    """``infolinia`` with ``argv``, in this process; every collection of generation 2, and any other that took
    1 ms or more, is appended to ``gc_log`` (CLOCK_REALTIME at the start, generation, milliseconds, objects
    collected). The callback
    costs a few microseconds per collection."""
    import gc

    out = open(gc_log, "a", buffering=1)  # noqa: SIM115 - open for the life of the process
    started: list[float] = [0.0]

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        took = (time.perf_counter() - started[0]) * 1000
        if info["generation"] == 2 or took >= 1.0:
            out.write(f"{time.time() - took / 1000:.6f} {info['generation']} {took:.3f} {info['collected']}\n")

    gc.callbacks.append(record)
    from infolinia.cli import main as infolinia

    sys.argv = ["infolinia", *argv]
    infolinia()


def gc_pauses(gc_log: Path, window: tuple[float, float]) -> dict[str, Any]:
    rows = []
    with contextlib.suppress(OSError):
        for row in gc_log.read_text().splitlines():
            at, generation, took = row.split()[:3]
            if window[0] <= float(at) < window[1]:
                rows.append((int(generation), float(took)))
    full = [took for generation, took in rows if generation == 2]
    return {
        "gc_full": len(full),
        "gc_full_max_ms": max(full, default=0.0),
        "gc_pauses_1ms": len(rows) - len(full),
        "gc_max_ms": max((took for _, took in rows), default=0.0),
    }


# --- SIPp: scenarios and runs ---------------------------------------------------------------------------------------

CALLER = """<?xml version="1.0" encoding="UTF-8"?>
<scenario name="voice bench caller">
  <nop><action><log message="[field0];[timestamp]"/></action></nop>
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Bench" <sip:48601200300@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:48601200300@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=bench [call_number] 1 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio [field0] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Bench" <sip:48601200300@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Bench" <sip:48601200300@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
"""

REGISTER = """<?xml version="1.0" encoding="UTF-8"?>
<scenario name="voice bench agent registration">
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[field0]@demo.infolinia>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@demo.infolinia>
      Call-ID: [call_id]
      CSeq: 1 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      Expires: 7200
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="401" auth="true"/>
  <send retrans="500">
    <![CDATA[
      REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:[field0]@demo.infolinia>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[field0]@demo.infolinia>
      Call-ID: [call_id]
      CSeq: 2 REGISTER
      Contact: <sip:[field0]@[local_ip]:[local_port]>
      [field1]
      Expires: 7200
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
"""

AGENT = """<?xml version="1.0" encoding="UTF-8"?>
<scenario name="voice bench agent phone">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:agent@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=agent [call_number] 1 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio {agent_port} RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"""


def sipp() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise SystemExit("sipp (Debian sip-tester) is required")
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


REALTIME: list[str] = []  # ["chrt", "--fifo", "10"] with --realtime


def pinned(command: list[str], cpu: int | None) -> list[str]:
    """``command`` on ``cpu`` (taskset), under SCHED_FIFO with --realtime."""
    if cpu is not None and shutil.which("taskset"):
        command = ["taskset", "-c", str(cpu), *command]
    return [*REALTIME, *command]


@dataclass
class SippResult:
    returncode: int
    successful: int
    failed: int
    invite_at: dict[int, float]  # caller port -> INVITE sent (CLOCK_REALTIME)
    tail: str


def sipp_stats(folder: Path) -> tuple[int, int]:
    """Successful and failed calls from the last row of SIPp's statistics file."""
    files = sorted(folder.glob("*_.csv"))
    if not files:
        return 0, 0
    rows = list(csv.reader(files[-1].open(), delimiter=";"))
    header, last = rows[0], rows[-1]
    return int(last[header.index("SuccessfulCall(C)")]), int(last[header.index("FailedCall(C)")])


def invite_times(folder: Path) -> dict[int, float]:
    times: dict[int, float] = {}
    for path in folder.glob("*_logs.log"):
        for row in path.read_text(errors="replace").splitlines():
            port, _, stamp = row.partition(";")
            with contextlib.suppress(ValueError, IndexError):
                times[int(port)] = float(stamp.split("\t")[-1])
    return times


def run_sipp(folder: Path, scenario: str, args: list[str], cpu: int | None, timeout: float) -> SippResult:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "scenario.xml").write_text(scenario)
    command = pinned([sipp(), *args, "-sf", "scenario.xml", "-nostdin", "-trace_stat", "-trace_err"], cpu)
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=timeout)
        code, tail = done.returncode, done.stdout[-1500:] + done.stderr[-1500:]
    except subprocess.TimeoutExpired:
        code, tail = -1, "sipp timed out"
    successful, failed = sipp_stats(folder)
    return SippResult(code, successful, failed, invite_times(folder), tail)


# --- the server -----------------------------------------------------------------------------------------------------


class Server:
    """``infolinia serve --demo --demo-always-open`` on uvloop, pinned to ``cpu``, SQLite in ``folder``."""

    def __init__(self, folder: Path, cpu: int | None) -> None:
        self.http_port, self.sip_port = free_port(), free_port()
        self.log = folder / "serve.log"
        self.gc_log = folder / "gc.log"
        command = [
            sys.executable, __file__, "--role", "server", "--gc-log", str(self.gc_log),
            "serve", "--demo", "--demo-always-open", "--http-port", str(self.http_port), "--sip-port",
            str(self.sip_port), "--rtp-ports", RTP_PORTS, "--data-dir", str(folder / "data"), "--db",
            f"sqlite+aiosqlite:///{folder / 'infolinia.db'}",
        ]  # fmt: skip
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                pinned(command, cpu), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=folder,
                preexec_fn=raise_nofile,
            )  # fmt: skip
        self.http = httpx.Client(base_url=f"http://{HOST}:{self.http_port}", timeout=60)
        deadline = time.monotonic() + 180
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server ended: {self.log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(httpx.TransportError):
                if self.http.get("/healthz").status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server is not healthy after 180 s")
            time.sleep(0.2)
        token = self.http.post("/api/v1/auth/login", json={"email": "admin@demo.test", "password": "demo"}).json()
        self.http.headers["Authorization"] = f"Bearer {token['token']}"

    def api(self, method: str, path: str, body: Any = None) -> Any:
        r = self.http.request(method, f"/api/v1{path}", json=body)
        if r.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {r.status_code} {r.text[:500]}")
        return r.json() if r.content else None

    def cpu_seconds(self) -> float:
        """utime + stime of the server process (taskset and chrt exec it: same pid)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def media(self) -> dict[str, Any]:
        health: dict[str, Any] = self.http.get("/healthz").json()
        return dict(health["subsystems"]["sip"]["media"])

    def close(self) -> None:
        self.http.close()
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def dial(server: Server, number: str, name: str, flow: dict[str, Any]) -> None:
    created = server.api("POST", "/ivr-flows", {"name": name, "definition": flow})
    server.api("POST", "/numbers", {"number": number, "flow_id": created["id"]})


class Agents:
    """Agents of one queue, created through the API as the demo admin, registered from the port their phone (one
    SIPp UAS for all) answers on."""

    def __init__(self, server: Server, folder: Path, agent_peer_port: int, cpu: int | None) -> None:
        self.server, self.folder, self.cpu = server, folder, cpu
        self.agent_peer_port = agent_peer_port
        self.port = free_port()
        team = server.api("POST", "/teams", {"name": "Voice bench"})
        server.api("POST", "/queues", {
            "name": "Voice bench", "team_id": team["id"], "business_hours": False, "offer_timeout_s": 10,
            "missed_offer_presence": "ready", "wrapup_s": 0,
        })  # fmt: skip
        self.team_id = team["id"]
        dial(server, BRIDGED_NUMBER, "voice bench: queue", {
            "start": "q", "nodes": [{"id": "q", "type": "queue", "queue": "Voice bench", "announce_every_s": 600}],
        })  # fmt: skip
        self.ids: list[int] = []
        self.phone: subprocess.Popen[bytes] | None = None
        self.registrations = 0

    def ensure(self, n: int) -> None:
        """At least ``n`` agents, all registered and ready."""
        new = []
        for i in range(len(self.ids), n):
            user = self.server.api("POST", "/users", {
                "email": f"voicebench{i}@demo.test", "display_name": f"Voice bench {i}", "role": "agent",
                "password": "voice-bench-agent", "team_ids": [self.team_id],
            })  # fmt: skip
            extension = str(FIRST_EXTENSION + i)
            self.server.api("PUT", f"/agents/{user['id']}", {"extension": extension, "sip_password": AGENT_PASSWORD})
            self.ids.append(user["id"])
            new.append(extension)
        if new:
            self.stop_phone()
            self.registrations += 1
            listing = "SEQUENTIAL\n" + "".join(
                f"{e};[authentication username={e} password={AGENT_PASSWORD}];\n" for e in new
            )  # SIPp expands no field inside [authentication]: the whole keyword is the field
            folder = self.folder / f"register-{self.registrations}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "agents.csv").write_text(listing)
            result = run_sipp(folder, REGISTER, [
                f"{HOST}:{self.server.sip_port}", "-i", HOST, "-p", str(self.port), "-inf", "agents.csv",
                "-m", str(len(new)), "-r", "100", "-timeout", "120", "-timeout_error",
            ], self.cpu, 150)  # fmt: skip
            if result.successful != len(new):
                raise RuntimeError(f"{len(new) - result.successful} agent registrations failed: {result.tail}")
        self.ready()
        if self.phone is None:
            self.start_phone()

    def ready(self) -> None:
        snapshot = self.server.api("GET", "/routing/snapshot")
        states = {a.get("user_id", a.get("id")): a for a in snapshot["agents"]}
        for user_id in self.ids:
            agent = states.get(user_id)
            if agent is None or agent.get("presence") != "ready" or agent.get("state") != "available":
                self.server.api("PUT", f"/agents/{user_id}/presence", {"presence": "ready"})

    def start_phone(self) -> None:
        folder = self.folder / "phone"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "scenario.xml").write_text(AGENT.replace("{agent_port}", str(self.agent_peer_port)))
        command = pinned([sipp(), "-sf", "scenario.xml", "-i", HOST, "-p", str(self.port), "-nostdin", "-trace_err",
                          "-trace_stat"], self.cpu)  # fmt: skip
        self.phone = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)

    def stop_phone(self) -> None:
        if self.phone is not None:
            self.phone.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.phone.wait(10)
            if self.phone.poll() is None:
                self.phone.kill()
            self.phone = None


# --- the orchestrator ---------------------------------------------------------------------------------------------


class Peer(Pipe):
    """The measuring peer (``--role peer``) in its subprocess, pinned to ``cpu``."""

    def __init__(self, cpu: int | None) -> None:
        super().__init__(pinned([sys.executable, __file__, "--role", "peer"], cpu))
        self.agent_port = int(self.receive()["agent"][1])


@dataclass
class Bench:
    server: Server
    peer: Peer
    folder: Path
    server_cpu: int | None
    peer_cpu: int | None
    warmup: float
    hold: float
    ramp_cps: float
    steps: int = 0


def all_up(b: Bench, mode: str, n: int, deadline: float) -> tuple[float, int]:
    """Wait (until ``deadline``, CLOCK_REALTIME) for the server to have every call of the step up: ``n`` legs
    playing (IVR) or ``2n`` legs bridged (caller and agent); when that was (or the deadline), and how many were."""
    key, want = ("legs_bridged", 2 * n) if mode == "bridged" else ("legs_playing", n)
    while True:
        up = int(b.server.media().get(key, 0))
        if up >= want or time.time() >= deadline:
            return time.time(), up // 2 if mode == "bridged" else up
        time.sleep(0.2)


def place_calls(b: Bench, mode: str, n: int, rate: float, hold_each: float, window_after: float,
                window: float, wait_all_up: bool = False) -> dict[str, Any]:  # fmt: skip
    """``n`` calls at ``rate`` to the mode's number, each held ``hold_each`` s; measured over ``window`` s starting
    ``window_after`` s after the first INVITE, or (``wait_all_up``) a warm-up after the server has every call up
    (waiting ``SETTLE_S`` to ``SETTLE_MAX_S`` after the last INVITE)."""
    b.steps += 1
    folder = b.folder / f"{b.steps:02d}-{mode}-{n}"
    folder.mkdir(parents=True)
    b.peer.send(cmd="open", n=n)
    ports = b.peer.receive()["ports"]
    (folder / "calls.csv").write_text("SEQUENTIAL\n" + "".join(f"{p};\n" for p in ports))
    start = time.time() + 0.5
    window_times = (start + window_after, start + window_after + window)
    ramp = n / rate
    until = start + ramp + hold_each + 4.0
    b.peer.send(cmd="run", mode=mode, until=until, window=None if wait_all_up else window_times)
    number = BRIDGED_NUMBER if mode == "bridged" else IVR_NUMBER
    args = [
        f"{HOST}:{b.server.sip_port}", "-s", number, "-i", HOST, "-p", str(free_port()), "-inf", "calls.csv",
        "-r", f"{rate:g}", "-l", str(n), "-m", str(n), "-d", str(int(hold_each * 1000)), "-trace_logs",
        "-timeout", str(int(ramp + hold_each + 60)), "-timeout_error", "-max_socket", "60000",
    ]  # fmt: skip
    time.sleep(max(0.0, start - time.time()))
    box: dict[str, SippResult] = {}
    sipp_process = threading.Thread(
        target=lambda: box.update(result=run_sipp(folder, CALLER, args, b.peer_cpu, ramp + hold_each + 90))
    )
    sipp_process.start()
    calls_up, settled_s = n, math.nan
    if wait_all_up:
        time.sleep(max(0.0, start + ramp + SETTLE_S - time.time()))
        up_at, calls_up = all_up(b, mode, n, start + ramp + SETTLE_MAX_S)
        settled_s = up_at - (start + ramp)
        window_times = (up_at + b.warmup, up_at + b.warmup + window)
        b.peer.send(window=window_times)
    time.sleep(max(0.0, window_times[0] - time.time()))
    cpu_before, wall_before, media_before = b.server.cpu_seconds(), time.monotonic(), b.server.media()
    busy_before, steal_before = cpu_times(b.server_cpu)
    generator_before, _ = cpu_times(b.peer_cpu)
    time.sleep(max(0.0, window_times[1] - time.time()))
    cpu_after, wall_after, media_after = b.server.cpu_seconds(), time.monotonic(), b.server.media()
    busy_after, steal_after = cpu_times(b.server_cpu)
    generator_after, _ = cpu_times(b.peer_cpu)
    loop = b.server.http.get("/healthz").json()["loop"]
    sipp_process.join()
    result = box["result"]
    figures = b.peer.receive()
    wall = wall_after - wall_before
    server_share = (cpu_after - cpu_before) / wall
    first_rx = {int(port): t for port, t in figures.pop("first_rx").items()}
    setup = [first_rx[port] - sent for port, sent in result.invite_at.items()
             if port in first_rx and not math.isnan(first_rx[port])]  # fmt: skip
    delta = {k: media_after[k] - media_before[k] for k in ("packets_in", "packets_out", "packets_skipped")}
    figures.update(gc_pauses(b.server.gc_log, window_times))
    figures.update(
        mode=mode, n=n, rate=rate,
        successful=result.successful, failed=result.failed + max(0, n - result.successful - result.failed),
        sipp_returncode=result.returncode,
        server_cpu=server_share,
        others_on_server_cpu=max(0.0, (busy_after - busy_before) / wall - server_share)
        if b.server_cpu is not None else math.nan,
        steal_on_server_cpu=(steal_after - steal_before) / wall,
        generator_cpu_busy=(generator_after - generator_before) / wall if b.peer_cpu is not None else math.nan,
        server_pps=(delta["packets_in"] + delta["packets_out"]) / wall,
        server_ticks_skipped=delta["packets_skipped"],
        setup_p50_ms=float(np.percentile(setup, 50) * 1000) if setup else math.nan,
        setup_p99_ms=float(np.percentile(setup, 99) * 1000) if setup else math.nan,
        calls_up=calls_up, settled_s=settled_s,
        window=list(window_times), server_recent_stalls=loop["recent_stalls"],  # (the detail file's)
        server_stalls=[[round(at - window_times[0], 3), ms] for at, ms in loop["recent_stalls"]
                       if window_times[0] <= at + ms / 1000 and at < window_times[1]][:10],
    )  # fmt: skip
    if result.returncode != 0 and figures["failed"] == 0:
        figures["failed"] = max(1, n - result.successful)
    if figures["failed"]:
        figures["sipp_tail"] = result.tail[-600:]
    figures["passed"] = bool(figures["failed"] == 0 and figures["loss"] < LOSS_LIMIT
                             and figures["p99_ms"] <= P99_LIMIT_MS and calls_up >= n)  # fmt: skip
    return figures


def hold_step(b: Bench, mode: str, n: int) -> dict[str, Any]:
    """A ladder step: ``n`` calls placed at the ramp rate, all up (the server says so), then the window, then the
    BYEs."""
    ramp = n / b.ramp_cps
    latest_window = ramp + SETTLE_MAX_S + b.warmup
    return place_calls(b, mode, n, b.ramp_cps, latest_window + b.hold + 1.0, latest_window, b.hold, wait_all_up=True)


def setup_step(b: Bench, rate: float, seconds: float) -> dict[str, Any]:
    """Calls arriving at ``rate`` for ``seconds``, each held 1 s: does every one get answered and its audio?"""
    n = max(1, round(rate * seconds))
    result = place_calls(b, "setup", n, rate, 1.0, 0.0, n / rate + 1.0)
    result["passed"] = bool(
        result["failed"] == 0 and result["calls_with_rtp"] == n and result["setup_p99_ms"] <= SETUP_P99_LIMIT_MS
    )
    return result


def line(r: dict[str, Any]) -> str:
    setup = f"  setup p50 {r['setup_p50_ms']:6.1f} ms p99 {r['setup_p99_ms']:6.1f} ms"
    if r["mode"] == "setup":
        head = f"  setup   {r['rate']:5g} cps ({r['n']} calls): {'pass' if r['passed'] else 'FAIL'}"
        media = f"  answered {r['successful']}/{r['n']}, with RTP {r['calls_with_rtp']}/{r['n']}"
        cpu = f"  server cpu {100 * r['server_cpu']:3.0f} %  peer cpu {100 * r['peer_cpu']:3.0f} %"
        return head + media + setup + cpu
    return (
        f"  {r['mode']:8} {r['n']:5d}: {'pass' if r['passed'] else 'FAIL'}  failed {r['failed']}  p99 "
        f"{r['p99_ms']:6.2f} ms  p50 {r['p50_ms']:5.2f} ms  max {r['max_ms']:6.1f} ms  loss {100 * r['loss']:6.3f} %  "
        f"up {r['calls_up']}/{r['n']} {r['settled_s']:4.1f} s after the last INVITE  "
        f"rfc3550 {r['rfc3550_jitter_ms']:5.2f} ms  server cpu {100 * r['server_cpu']:3.0f} % "
        f"({r['server_pps']:,.0f} pkt/s, {r['server_ticks_skipped']} ticks skipped), others there "
        f"{100 * r['others_on_server_cpu']:3.0f} %, steal {100 * r['steal_on_server_cpu']:3.0f} %  peer cpu "
        f"{100 * r['peer_cpu']:3.0f} % (its core {100 * r['generator_cpu_busy']:3.0f} %){setup}"
        f"  gc: {r['gc_full']} full (max {r['gc_full_max_ms']:.0f} ms), "
        f"{r['gc_pauses_1ms']} others >= 1 ms (max {r['gc_max_ms']:.0f} ms)"
        f"  stalls >= {STALL_S * 1000:g} ms [s into the window, ms]: server {r['server_stalls']}, "
        f"peer {r['peer_stalls']}" + (f"  late packets by second: {r['late_seconds']}" if r["late_seconds"] else "")
    )


@dataclass
class Plan:
    first: int
    step: int
    limit: int
    repeats: int


def ladder(b: Bench, mode: str, plan: Plan, agents: Agents | None) -> dict[str, Any]:
    """Up in coarse steps until a failure, then halfway back; the best passing step repeated for the spread."""
    runs: list[dict[str, Any]] = []

    def run(n: int) -> bool:
        if agents is not None:
            agents.ensure(n)
        result = hold_step(b, mode, n)
        runs.append(result)
        print(line(result), flush=True)
        return bool(result["passed"])

    best, failed = climb(plan.first, plan.step, plan.limit, plan.repeats, run, runs)
    at_best = [r for r in runs if r["n"] == best]
    per_call = [r["server_cpu"] / r["n"] for r in runs if r["passed"] and r["server_cpu"] > 0]
    return {
        "sustained": best,
        "first_failed": failed,
        "repeats_passed": f"{sum(r['passed'] for r in at_best)}/{len(at_best)}",
        "p99_ms": [round(r["p99_ms"], 2) for r in at_best],
        "loss": [round(r["loss"], 5) for r in at_best],
        "rfc3550_jitter_ms": [round(r["rfc3550_jitter_ms"], 2) for r in at_best],
        "server_cpu": [round(r["server_cpu"], 2) for r in at_best],
        "calls_at_full_core_cpu": round(1 / float(np.median(per_call))) if per_call else None,
        "peer_cpu_max": round(max((r["peer_cpu"] for r in runs), default=0.0), 2),
        "runs": runs,
    }


def setup_ladder(b: Bench, rates: list[float], seconds: float) -> dict[str, Any]:
    runs: list[dict[str, Any]] = []
    best: dict[str, Any] | None = None
    for rate in rates:
        result = setup_step(b, rate, seconds)
        runs.append(result)
        print(line(result), flush=True)
        if not result["passed"]:
            break
        best = result
    return {
        "setup_cps": best["rate"] if best else 0,
        "setup_p50_ms": round(best["setup_p50_ms"], 1) if best else None,
        "setup_p99_ms": round(best["setup_p99_ms"], 1) if best else None,
        "server_cpu": round(best["server_cpu"], 2) if best else None,
        "runs": runs,
    }


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 5)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def orchestrate(args: argparse.Namespace) -> dict[str, Any]:
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, peer_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)
    quick = args.quick
    modes = tuple(args.modes.split(","))
    warmup = 1.0 if quick else 2.0
    hold = args.hold or (5.0 if quick else 30.0)  # the measurement definitions: each step >= 30 s
    repeats = args.repeats or (1 if quick else 2)
    ladders = {
        "ivr": args.ivr_ladder or ((10, 15, 25) if quick else (200, 200, 2000)),
        "bridged": args.bridged_ladder or ((10, 15, 25) if quick else (150, 150, 1500)),
    }
    plans = {mode: Plan(first, step, limit, repeats) for mode, (first, step, limit) in ladders.items()}
    rates = args.setup_rates or ([10.0, 25.0] if quick else [25.0, 50.0, 100.0, 150.0, 200.0, 250.0, 300.0, 400.0])
    raise_nofile()
    if args.realtime:
        REALTIME[:] = ["chrt", "--fifo", "10"]
    print(
        f"voice bench ({'quick' if quick else 'full'}): infolinia serve on cpu {server_cpu}; SIPp and the measuring "
        f"peer on cpu {peer_cpu}{', all SCHED_FIFO' if args.realtime else ''}; calls placed at {args.ramp_cps:g}/s, "
        f"each step held {hold:g} s after {warmup:g} s "
        f"warm-up; pass: 0 failed calls, loss < {100 * LOSS_LIMIT:g} %, p99 <= {P99_LIMIT_MS:g} ms; "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cpus, load average "
        f"{os.getloadavg()[0]:.2f} before",
        flush=True,
    )
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="voice-bench-") as tmp:
        folder = Path(tmp)
        server = Server(folder, server_cpu)
        peer = Peer(peer_cpu)
        agents: Agents | None = None
        try:
            b = Bench(server, peer, folder, server_cpu, peer_cpu, warmup, hold, args.ramp_cps)
            dial(server, IVR_NUMBER, "voice bench: prompt in a loop", {
                "start": "m", "nodes": [
                    {"id": "m", "type": "menu", "prompt": "menu_main", "digits": {"9": "end"}, "timeout_s": 1,
                     "retries": 9, "on_failure": "m"},
                    {"id": "end", "type": "hangup"},
                ],
            })  # fmt: skip
            if "ivr" in modes:
                print("IVR playback (a 22 s prompt in a loop):", flush=True)
                results["ivr"] = ladder(b, "ivr", plans["ivr"], None)
            if "bridged" in modes:
                print("bridged caller <-> agent (queue, routing engine, SIPp phones answering):", flush=True)
                agents = Agents(server, folder, peer.agent_port, peer_cpu)
                results["bridged"] = ladder(b, "bridged", plans["bridged"], agents)
            if "setup" in modes:
                print("call setup rate (INVITE -> first RTP packet):", flush=True)
                results["setup"] = setup_ladder(b, rates, 3.0 if quick else 5.0)
            results["server_gc_whole_run"] = gc_pauses(server.gc_log, (0.0, math.inf))
        finally:
            if agents is not None:
                agents.stop_phone()
            peer.close()
            server.close()
            if args.keep_log:
                shutil.copy(server.log, args.keep_log)
                shutil.copy(server.gc_log, args.keep_log + ".gc")
    summary: dict[str, Any] = {"bench": "voice"}
    ivr, bridged, setup = results.get("ivr"), results.get("bridged"), results.get("setup")
    summary["ivr_calls_per_core"] = ivr["sustained"] if ivr else None
    summary["bridged_calls_per_core"] = bridged["sustained"] if bridged else None
    summary["setup_cps"] = setup["setup_cps"] if setup else None
    held = [r for r in (ivr, bridged) if r]
    summary["rtp_loss"] = max((x for r in held for x in r["loss"]), default=None)
    summary["jitter_p99_ms"] = max((x for r in held for x in r["p99_ms"]), default=None)
    summary["quick"] = quick
    summary["hold_s"] = hold
    for mode, r in (("ivr", ivr), ("bridged", bridged)):
        if r:
            summary[f"{mode}_repeats_passed"] = r["repeats_passed"]
            summary[f"{mode}_first_failed"] = r["first_failed"]
            summary[f"{mode}_p99_ms"] = r["p99_ms"]
            summary[f"{mode}_loss"] = r["loss"]
            summary[f"{mode}_rfc3550_jitter_ms"] = r["rfc3550_jitter_ms"]
            summary[f"{mode}_server_cpu"] = r["server_cpu"]
            summary[f"{mode}_calls_at_full_core_cpu"] = r["calls_at_full_core_cpu"]
            summary[f"{mode}_peer_cpu_max"] = r["peer_cpu_max"]
            low, high = ASTERISK[mode]
            summary[f"{mode}_ratio_vs_asterisk"] = [round(r["sustained"] / high, 2), round(r["sustained"] / low, 2)]
    if setup:
        summary["setup_p50_ms"] = setup["setup_p50_ms"]
        summary["setup_p99_ms"] = setup["setup_p99_ms"]
        summary["setup_server_cpu"] = setup["server_cpu"]
        summary["setup_ratio_vs_asterisk"] = round(setup["setup_cps"] / ASTERISK["setup"][0], 2)
    summary["server_gc_whole_run"] = results.get("server_gc_whole_run")
    summary["load_average_after"] = round(os.getloadavg()[0], 2)
    print("summary (ratio vs Asterisk: against the top and the bottom of its range on these machines):")
    for key, value in summary.items():
        print(f"  {key}: {value}")
    if args.detail:
        Path(args.detail).write_text(json.dumps(rounded(results), indent=1))
    return summary


def ints(text: str) -> tuple[int, ...]:
    values = tuple(int(x) for x in text.split(","))
    if len(values) != 3:
        raise argparse.ArgumentTypeError("FIRST,STEP,LIMIT")
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 and 25 calls, 5 s holds (about 2 minutes)")
    parser.add_argument("--modes", default="ivr,bridged,setup", help="comma-separated: ivr, bridged, setup")
    parser.add_argument("--hold", type=float, help="seconds each step is measured (default 30, quick 5)")
    parser.add_argument("--repeats", type=int, help="runs of the best passing step (default 2, quick 1)")
    parser.add_argument("--ramp-cps", type=float, default=50.0, help="calls per second while a step's calls are placed")
    parser.add_argument("--ivr-ladder", type=ints, help="FIRST,STEP,LIMIT calls (default 200,200,2000)")
    parser.add_argument("--bridged-ladder", type=ints, help="FIRST,STEP,LIMIT calls (default 150,150,1500)")
    parser.add_argument(
        "--setup-rates", type=lambda text: [float(x) for x in text.split(",")], help="calls/s, tried in order"
    )
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="run the server, SIPp and the peer under SCHED_FIFO (chrt): on a shared machine, other work then "
        "cannot stand in for the server's limits",
    )
    parser.add_argument("--detail", help="write every step's figures to this JSON file")
    parser.add_argument("--keep-log", help="copy the server's log to this file (its collections to FILE.gc)")
    parser.add_argument("--role", choices=("peer", "server"), help=argparse.SUPPRESS)
    parser.add_argument("--gc-log", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.role == "server":
        run_server(args.gc_log, rest)
    elif args.role == "peer":
        run_peer()
    else:
        print(json.dumps(rounded(orchestrate(args))))


if __name__ == "__main__":
    main()
