"""Media plane: how many IVR playback legs and how many bridged calls one server core sustains.

Three processes. The server (`--role server`) runs a MediaEngine on its own core (taskset), driven over a pipe.
The peer (`--role peer`) is plain UDP sockets on the other core: callers with random packet phase, an echoing
agent. The orchestrator (this process) climbs a ladder of call counts and holds each step.

- IVR: N legs each play a looping prompt to a caller that sends its own 20 ms stream back (as a phone does).
  Measured at the caller from kernel receive timestamps (SO_TIMESTAMPNS): p99 of |inter-arrival - 20 ms|, loss
  (packets the timestamps say were due but never came, stalls included), RFC 3550 jitter.
- Bridged: N calls, each two legs bridged; the caller sends 20 ms packets carrying their send time, the agent
  echoes each packet at once, so a packet crosses the server twice. Measured: p99 of the end-to-end
  packet-delay variation (delay - the call's minimum delay), loss, RFC 3550 jitter at the caller.

A step passes with < 0.1 % loss and p99 <= 3 ms (the project's voice measurement definitions). The ladder goes
up in coarse steps until one fails, tries the step halfway back, then repeats the best passing step to show the
spread. The same ladder runs side by side with the engine on asyncio's own loop (the server runs on uvloop).
The peer's CPU is reported: near 100 % the peer, not the server, is the limit.

    python bench/media.py [--quick] [--realtime] [--hold S] [--repeats N] [--modes ivr,bridged] [--loops uvloop]

Results and how to read them: docs/media.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

HOST = "127.0.0.1"
PORTS = (20000, 29999)
PERIOD = 0.020
LOSS_LIMIT = 0.001
P99_LIMIT_MS = 3.0
ASTERISK = {"ivr": (150, 200), "bridged": (100, 150)}  # same definitions, one core of these machines (design brief)
SO_TIMESTAMPNS = 35  # Linux
HEADER = struct.Struct("!BBHII")
PROBE = struct.Struct("!IId")  # call, packet number, send time (CLOCK_REALTIME)
TIMESPEC = struct.Struct("@qq")
RTP_PAYLOAD = 160


# --- the server: a MediaEngine driven over stdin/stdout ------------------------------------------------------------


async def serve() -> None:
    from infolinia.voice.media import Audio, MediaEngine

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    engine = MediaEngine(HOST, PORTS, media_timeout_s=3600)
    await engine.start()
    rng = np.random.default_rng(1)
    noise = Audio.from_pcm16((rng.normal(0, 3000, 8000 * 2)).clip(-32768, 32767).astype(np.int16))
    prompt = Audio.concat(Audio.tone(440, 1500), Audio.silence(500), noise)  # 4 s, encoded once for all legs
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    legs: list[Any] = []
    while line := await reader.readline():
        command = json.loads(line)
        reply: dict[str, Any] = {}
        if command["cmd"] == "ivr":
            legs = [engine.open_leg() for _ in range(command["n"])]
            for leg in legs:
                leg.connect(tuple(command["caller"]), 0, 101)
                leg.play(prompt, loop=True)
            reply["ports"] = [leg.local_address[1] for leg in legs]
        elif command["cmd"] == "bridged":
            pairs = [(engine.open_leg(), engine.open_leg()) for _ in range(command["n"])]
            for caller, agent in pairs:
                caller.connect(tuple(command["caller"]), 0, 101)
                agent.connect(tuple(command["agent"]), 0, 101)
                caller.bridge(agent)
            legs = [leg for pair in pairs for leg in pair]
            reply["ports"] = [caller.local_address[1] for caller, _ in pairs]
        elif command["cmd"] == "usage":
            reply = {"cpu": time.process_time(), "wall": time.monotonic(), "stats": engine.stats()}
        elif command["cmd"] == "reset":
            for leg in legs:
                leg.close()
            legs = []
        elif command["cmd"] == "quit":
            break
        print(json.dumps(reply), flush=True)
    await engine.close()


def run_server(loop_kind: str) -> None:
    if loop_kind == "uvloop":
        import uvloop

        uvloop.run(serve())
    else:
        asyncio.run(serve())


# --- the peer: callers and agents on plain sockets ----------------------------------------------------------------


def peer_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.bind((HOST, 0))
    sock.setblocking(False)
    return sock


class Callers:
    """N callers, each sending a 20 ms stream at its own random phase from one socket; the payload carries the
    call and the send time (CLOCK_REALTIME, like the kernel's receive timestamps)."""

    def __init__(self, sock: socket.socket, ports: list[int], seed: int) -> None:
        rng = random.Random(seed)
        self.sock = sock
        self.destinations = [(HOST, port) for port in ports]
        phases = [rng.random() * PERIOD for _ in ports]
        self.order = sorted(range(len(ports)), key=phases.__getitem__)
        self.phases = [phases[i] for i in self.order]
        self.sent = [0] * len(ports)
        self.ssrc = [rng.getrandbits(32) for _ in ports]
        self.filler = bytes(RTP_PAYLOAD - PROBE.size)
        self.cycle_start = time.monotonic()
        self.next = 0
        self.send_errors = 0
        self.sent_at = array("d")  # per packet sent: when, and which call (for loss in the window)
        self.sent_call = array("I")

    def next_time(self) -> float:
        return self.cycle_start + self.phases[self.next] if self.phases else math.inf

    def send_due(self, now: float) -> None:
        while self.next_time() <= now:
            call = self.order[self.next]
            k = self.sent[call]
            sent_at = time.time()
            header = HEADER.pack(0x80, 0, k & 0xFFFF, 160 * k & 0xFFFFFFFF, self.ssrc[call])
            try:
                self.sock.sendto(header + PROBE.pack(call, k, sent_at) + self.filler, self.destinations[call])
            except OSError:
                self.send_errors += 1
            self.sent[call] = k + 1
            self.sent_at.append(sent_at)
            self.sent_call.append(call)
            self.next += 1
            if self.next == len(self.phases):
                self.next = 0
                self.cycle_start += PERIOD


@dataclass
class Arrivals:
    """What the caller socket received, one entry per packet; the statistics come afterwards, with numpy."""

    stream: array[int] = field(default_factory=lambda: array("I"))  # leg (IVR) or call (bridged)
    sequence: array[int] = field(default_factory=lambda: array("I"))
    timestamp: array[int] = field(default_factory=lambda: array("I"))
    arrival: array[float] = field(default_factory=lambda: array("d"))  # kernel receive time
    sent: array[float] = field(default_factory=lambda: array("d"))  # bridged: the probe's send time

    def drain(self, sock: socket.socket, index: dict[int, int], bridged: bool) -> None:
        while True:
            try:
                data, ancillary, _flags, source = sock.recvmsg(2048, 64)
            except BlockingIOError:
                return
            if len(data) < 12 + PROBE.size or not ancillary:
                continue
            seconds, nanos = TIMESPEC.unpack_from(ancillary[0][2])
            _, _, sequence, timestamp, _ = HEADER.unpack_from(data)
            if bridged:
                call, _k, sent_at = PROBE.unpack_from(data, 12)
                self.stream.append(call)
                self.sent.append(sent_at)
            elif (leg := index.get(source[1])) is not None:
                self.stream.append(leg)
            else:
                continue
            self.sequence.append(sequence)
            self.timestamp.append(timestamp)
            self.arrival.append(seconds + nanos * 1e-9)

    def columns(self) -> tuple[np.ndarray, ...]:
        return tuple(np.frombuffer(a, dtype=a.typecode) for a in (self.stream, self.sequence, self.timestamp,
                                                                   self.arrival, self.sent))  # fmt: skip


def rfc3550_jitter_ms(stream: np.ndarray, timestamp: np.ndarray, arrival: np.ndarray) -> float:
    """The mean over streams of the A.8 estimate at the end (packets in arrival order per stream)."""
    order = np.lexsort((arrival, stream))
    transit = arrival[order] * 8000 - timestamp[order].astype(np.float64)
    same = stream[order][1:] == stream[order][:-1]
    steps = np.abs(np.diff(transit))
    estimates: dict[int, float] = {}
    for s, d, keep in zip(stream[order][1:].tolist(), steps.tolist(), same.tolist(), strict=True):
        if keep:
            j = estimates.get(s, 0.0)
            estimates[s] = j + (d - j) / 16
    return float(np.mean(list(estimates.values()))) / 8 if estimates else 0.0


def ivr_figures(got: Arrivals, window: tuple[float, float], hold: float, n: int) -> tuple[np.ndarray, int, int]:
    """|inter-arrival - 20 ms| of consecutive packets of a leg, packets received, packets the timestamps say
    were due (a stall skips ticks: their packets are never sent, and count as lost)."""
    stream, sequence, timestamp, arrival, _ = got.columns()
    inside = (arrival >= window[0]) & (arrival < window[1])
    stream, sequence, timestamp, arrival = stream[inside], sequence[inside], timestamp[inside], arrival[inside]
    order = np.lexsort((arrival, stream))
    stream, sequence, timestamp, arrival = stream[order], sequence[order], timestamp[order], arrival[order]
    next_one = (stream[1:] == stream[:-1]) & (((sequence[1:] - sequence[:-1]) & 0xFFFF) == 1)
    deviations = np.abs(np.diff(arrival) - PERIOD)[next_one]
    expected = 0
    for leg in range(n):
        stamps = timestamp[stream == leg]
        span = int(((stamps[-1] - stamps[0]) & 0xFFFFFFFF) // 160 + 1) if len(stamps) else 0
        expected += span if len(stamps) else int(hold / PERIOD)
    return deviations, len(arrival), expected


def bridged_figures(got: Arrivals, sent: Callers, window: tuple[float, float], n: int) -> tuple[np.ndarray, int, int]:
    """Packet-delay variation (delay - the call's least delay), packets received, packets sent in the window."""
    stream, _, _, arrival, sent_at = got.columns()
    inside = (sent_at >= window[0]) & (sent_at < window[1])
    delays = (arrival - sent_at)[inside]
    calls = stream[inside].astype(np.int64)
    least = np.full(n, np.inf)
    np.minimum.at(least, calls, delays)
    sent_times = np.frombuffer(sent.sent_at, dtype=np.float64)
    expected = int(((sent_times >= window[0]) & (sent_times < window[1])).sum())
    return delays - least[calls], len(delays), expected


def run_step(command: dict[str, Any], caller: socket.socket, agent: socket.socket) -> dict[str, Any]:
    for sock in (caller, agent):  # what is left of the last step
        with contextlib.suppress(BlockingIOError):
            while True:
                sock.recv(2048)
    ports: list[int] = command["ports"]
    n = len(ports)
    bridged = command["mode"] == "bridged"
    start = time.monotonic()
    realtime = time.time() - start  # monotonic -> CLOCK_REALTIME
    stop_sending = start + command["warmup"] + command["hold"]
    window = (start + command["warmup"] + realtime, stop_sending - 0.3 + realtime)  # the last sent still arrive
    callers = Callers(caller, ports, seed=n)
    index = {port: i for i, port in enumerate(ports)}
    got = Arrivals()
    poller = select.epoll()
    poller.register(caller.fileno(), select.EPOLLIN)
    poller.register(agent.fileno(), select.EPOLLIN)
    cpu_start = time.process_time()
    echoed = 0
    while (now := time.monotonic()) < stop_sending:
        callers.send_due(now)
        for fd, _ in poller.poll(max(0.0, min(callers.next_time(), stop_sending) - time.monotonic())):
            if fd == agent.fileno():
                echoed += echo(agent)
            else:
                got.drain(caller, index, bridged)
    peer_cpu = (time.process_time() - cpu_start) / (stop_sending - start)
    end = time.monotonic() + 0.3
    while (left := end - time.monotonic()) > 0:  # the tail: echo and receive, no more sending
        for fd, _ in poller.poll(left):
            if fd == agent.fileno():
                echoed += echo(agent)
            else:
                got.drain(caller, index, bridged)
    poller.close()
    if bridged:
        values, received, expected = bridged_figures(got, callers, window, n)
    else:
        values, received, expected = ivr_figures(got, window, command["hold"], n)
    stream, _, timestamp, arrival, _ = got.columns()
    return {
        "p99_ms": float(np.percentile(values, 99) * 1000) if len(values) else math.inf,
        "p50_ms": float(np.percentile(values, 50) * 1000) if len(values) else math.inf,
        "loss": max(0.0, 1 - received / expected) if expected else 1.0,
        "rfc3550_jitter_ms": rfc3550_jitter_ms(stream, timestamp, arrival),
        "received": received,
        "expected": expected,
        "peer_cpu": peer_cpu,
        "peer_send_errors": callers.send_errors,
        "echoed": echoed,
    }


def echo(agent: socket.socket) -> int:
    """The agent's phone: every packet straight back to where it came from."""
    count = 0
    while True:
        try:
            data, source = agent.recvfrom(2048)
        except BlockingIOError:
            return count
        with contextlib.suppress(OSError):
            agent.sendto(data, source)
            count += 1


def run_peer() -> None:
    caller, agent = peer_socket(), peer_socket()
    print(json.dumps({"caller": caller.getsockname(), "agent": agent.getsockname()}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            break
        print(json.dumps(run_step(command, caller, agent)), flush=True)


# --- the orchestrator ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    quick: bool
    hold: float | None
    repeats: int | None
    nice: int
    realtime: bool
    modes: tuple[str, ...]
    loops: tuple[str, ...]


class Pipe:
    """A subprocess spoken to in JSON lines (a command on its stdin, a reply on its stdout)."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, **command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.process.args!r} process ended")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def call(self, **command: Any) -> dict[str, Any]:
        self.send(**command)
        return self.receive()

    def close(self) -> None:
        with_timeout = 10
        try:
            self.send(cmd="quit")
            self.process.wait(with_timeout)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()


class Child(Pipe):
    """A role of this script in a subprocess, pinned to `cpu` when possible."""

    def __init__(self, role: str, cpu: int | None, options: Options, *extra: str) -> None:
        command = [sys.executable, __file__, "--role", role, *extra]
        if cpu is not None and shutil.which("taskset"):
            command = ["taskset", "-c", str(cpu), *command]
        if options.nice:
            command = ["nice", "-n", str(options.nice), *command]
        if options.realtime:
            command = ["chrt", "--fifo", "10", *command]
        super().__init__(command)


def cpu_times(cpu: int | None) -> tuple[float, float]:
    """Seconds the CPU (all of them when None) was busy, and taken by the hypervisor (steal), since boot."""
    name = "cpu" if cpu is None else f"cpu{cpu}"
    with open("/proc/stat") as stat:
        for row in stat:
            fields = row.split()
            if fields[0] == name:
                user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[1:9])
                hz = os.sysconf("SC_CLK_TCK")
                return (user + nice + system + irq + softirq) / hz, steal / hz
    return math.nan, math.nan


def measure(server: Child, peer: Child, addresses: dict[str, Any], mode: str, n: int, warmup: float,
            hold: float, cpu: int | None) -> dict[str, Any]:  # fmt: skip
    ports = server.call(cmd=mode, n=n, caller=addresses["caller"], agent=addresses["agent"])["ports"]
    peer.send(cmd="run", mode=mode, ports=ports, warmup=warmup, hold=hold)
    time.sleep(warmup)
    before = server.call(cmd="usage")
    busy, steal = cpu_times(cpu)
    time.sleep(hold - 0.1)
    busy_after, steal_after = cpu_times(cpu)
    busy, steal = busy_after - busy, steal_after - steal
    after = server.call(cmd="usage")
    result = peer.receive()
    server.call(cmd="reset")
    stats = {k: after["stats"].get(k, 0) - before["stats"].get(k, 0) for k in after["stats"] if k.startswith(
        ("packets", "bad", "send", "tick"))}  # fmt: skip
    wall = after["wall"] - before["wall"]
    server_cpu = (after["cpu"] - before["cpu"]) / wall
    result.update(
        n=n,
        server_cpu=server_cpu,
        others_on_server_cpu=max(0.0, busy / wall - server_cpu) if cpu is not None else math.nan,
        steal_on_server_cpu=steal / wall,
        server_pps=(stats["packets_in"] + stats["packets_out"]) / (after["wall"] - before["wall"]),
        server=stats,
    )
    result["passed"] = result["loss"] < LOSS_LIMIT and result["p99_ms"] <= P99_LIMIT_MS
    return result


def line(mode: str, r: dict[str, Any]) -> str:
    return (
        f"  {mode:8} {r['n']:5d}: {'pass' if r['passed'] else 'FAIL'}  p99 {r['p99_ms']:6.2f} ms  p50 "
        f"{r['p50_ms']:5.2f} ms  loss {100 * r['loss']:6.3f} %  rfc3550 {r['rfc3550_jitter_ms']:5.2f} ms  server "
        f"cpu {100 * r['server_cpu']:3.0f} % ({r['server_pps']:,.0f} pkt/s), others there "
        f"{100 * r['others_on_server_cpu']:3.0f} %, steal {100 * r['steal_on_server_cpu']:3.0f} %  peer cpu "
        f"{100 * r['peer_cpu']:3.0f} %"
    )


@dataclass
class Plan:
    first: int
    step: int
    limit: int
    warmup: float
    hold: float
    repeats: int
    cpu: int | None


def climb(
    first: int, step: int, limit: int, repeats: int, run: Callable[[int], bool], runs: list[dict[str, Any]]
) -> tuple[int, int | None]:
    """The ladder: ``run(n)`` (which appends its result, with ``n``, to ``runs``) up in coarse steps from ``first``
    until a failure or ``limit``, then the step halfway back, then the best passing step again until it has run
    ``repeats`` times (the spread). Returns (the best passing step or 0, the first failed step or None)."""
    best, failed = 0, None
    n = first
    while n <= limit:
        if not run(n):
            failed = n
            break
        best, n = n, n + step
    if failed is not None and best and failed - best > step // 2 >= 1 and run(best + step // 2):
        best += step // 2
    for _ in range(repeats - sum(r["n"] == best for r in runs) if best else 0):
        run(best)
    return best, failed


def ladder(server: Child, peer: Child, addresses: dict[str, Any], mode: str, plan: Plan) -> dict[str, Any]:
    """Up in coarse steps until a failure, then halfway back; the best passing step repeated for the spread."""
    runs: list[dict[str, Any]] = []

    def run(n: int) -> bool:
        result = measure(server, peer, addresses, mode, n, plan.warmup, plan.hold, plan.cpu)
        runs.append(result)
        print(line(mode, result), flush=True)
        return bool(result["passed"])

    best, failed = climb(plan.first, plan.step, plan.limit, plan.repeats, run, runs)
    at_best = [r for r in runs if r["n"] == best]
    per_call = [r["server_cpu"] / r["n"] for r in runs if r["passed"] and r["server_cpu"] > 0]
    return {
        "calls_at_full_core_cpu": round(1 / float(np.median(per_call))) if per_call else None,
        "sustained": best,
        "first_failed": failed,
        "repeats_passed": f"{sum(r['passed'] for r in at_best)}/{len(at_best)}",
        "p99_ms_at_sustained": [round(r["p99_ms"], 2) for r in at_best],
        "loss_at_sustained": [round(r["loss"], 5) for r in at_best],
        "server_cpu_at_sustained": [round(r["server_cpu"], 2) for r in at_best],
        "peer_cpu_max": round(max((r["peer_cpu"] for r in runs), default=0.0), 2),
        "runs": [{k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()} for r in runs],
    }


def orchestrate(options: Options) -> dict[str, Any]:
    cpus = sorted(os.sched_getaffinity(0))
    server_cpu, peer_cpu = (cpus[0], cpus[1]) if len(cpus) > 1 else (None, None)
    quick = options.quick
    warmup = 1.5 if quick else 3.0
    hold = options.hold or (5.0 if quick else 30.0)
    repeats = options.repeats or (1 if quick else 3)
    plans = {
        "ivr": Plan(400 if quick else 200, 400 if quick else 200, 2000, warmup, hold, repeats, server_cpu),
        "bridged": Plan(300 if quick else 150, 300 if quick else 150, 1500, warmup, hold, repeats, server_cpu),
    }
    print(
        f"media bench ({'quick' if quick else 'full'}): server on cpu {server_cpu}, peer on cpu {peer_cpu}, nice "
        f"{options.nice}{', SCHED_FIFO' if options.realtime else ''}; hold {hold:g} s after {warmup:g} s warm-up; "
        f"pass: loss < {100 * LOSS_LIMIT:g} % and p99 "
        f"<= {P99_LIMIT_MS:g} ms; {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.2f} before"
    )
    results: dict[str, dict[str, Any]] = {}
    for loop_kind in options.loops:
        server = Child("server", server_cpu, options, "--loop", loop_kind)
        peer = Child("peer", peer_cpu, options)
        try:
            addresses = peer.receive()
            print(f"engine on {loop_kind}:")
            results[loop_kind] = {mode: ladder(server, peer, addresses, mode, plans[mode]) for mode in options.modes}
        finally:
            server.close()
            peer.close()
    summary: dict[str, Any] = {
        "bench": "media",
        "quick": quick,
        "hold_s": hold,
        "nice": options.nice,
        "realtime": options.realtime,
    }
    for mode in options.modes:
        for loop_kind, prefix in (("uvloop", mode), ("asyncio", f"{mode}_asyncio_loop")):
            if loop_kind not in results:
                continue
            ours = results[loop_kind][mode]
            summary[f"{prefix}_calls_per_core"] = ours["sustained"]
            summary[f"{prefix}_repeats_passed"] = ours["repeats_passed"]
            summary[f"{prefix}_p99_ms"] = ours["p99_ms_at_sustained"]
            summary[f"{prefix}_server_cpu"] = ours["server_cpu_at_sustained"]
            summary[f"{prefix}_calls_at_full_core_cpu"] = ours["calls_at_full_core_cpu"]
        if "uvloop" in results:
            sustained = results["uvloop"][mode]["sustained"]
            low, high = ASTERISK[mode]
            summary[f"{mode}_ratio_vs_asterisk"] = [round(sustained / high, 2), round(sustained / low, 2)]
            if "asyncio" in results and results["asyncio"][mode]["sustained"]:
                summary[f"{mode}_ratio_vs_asyncio_loop"] = round(sustained / results["asyncio"][mode]["sustained"], 2)
            summary[f"{mode}_peer_cpu_max"] = results["uvloop"][mode]["peer_cpu_max"]
    summary["load_average_after"] = round(os.getloadavg()[0], 2)
    print("summary (ratio vs Asterisk: against the top and the bottom of its range on these machines):")
    for key, value in summary.items():
        print(f"  {key}: {value}")
    summary["detail"] = results
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s steps, coarse ladder, no repeats (about 2 minutes)")
    parser.add_argument("--hold", type=float, help="seconds each step is held (default 30, quick 5)")
    parser.add_argument("--repeats", type=int, help="runs of the best passing step (default 3, quick 1)")
    parser.add_argument("--nice", type=int, default=0, help="run server and peer at this niceness (e.g. -10)")
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="run server and peer under SCHED_FIFO (chrt): on a shared machine, other work then cannot stand in for "
        "the server's limits; at the overloaded steps the kernel's RT throttling leaves others only 5 %% of a core",
    )
    parser.add_argument("--modes", default="ivr,bridged", help="comma-separated: ivr, bridged")
    parser.add_argument("--loops", default="uvloop,asyncio", help="comma-separated: uvloop, asyncio")
    parser.add_argument("--role", choices=("server", "peer"), help=argparse.SUPPRESS)
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role == "server":
        run_server(args.loop)
    elif args.role == "peer":
        run_peer()
    else:
        options = Options(
            args.quick,
            args.hold,
            args.repeats,
            args.nice,
            args.realtime,
            tuple(args.modes.split(",")),
            tuple(args.loops.split(",")),
        )
        print(json.dumps(orchestrate(options)))


if __name__ == "__main__":
    main()
