"""Web chat delivery latency: N concurrent widget WebSocket sessions against one real ``infolinia serve`` process
on SQLite, with agent sessions answering every line.

    python bench/chat.py [--quick] [--sessions 2000] [--seconds 30] [--interval 2.0] [--profile FILE]

Setup (through the API, as the demo's admin): a queue without a team, ``ceil(N / 20)`` agents with a chat capacity
of 20 each, a chat topic for the queue; N chats started through the widget's endpoint, each accepted by the agent
it is offered to; every customer's socket sends ``hello``. Setup goes a few requests at a time (an accept holds
its request's database connection while it waits for the routing engine's lock, so many at once starve the pool).
Then, for ``--seconds``, each customer writes a line every ``--interval`` seconds (random phase), and the agent
who holds the chat answers each line at once. A line's delivery latency is the time from its sender's ``send`` to
the other side receiving it, after the server's commit (the server acknowledges and delivers only committed lines);
both directions are counted. The clients run in this one process (uvloop); the server in its own.

The machine may be shared, so besides the latency the bench reports what the server spent: its CPU seconds (user +
system, from /proc) during the measured time and per line stored, the bench's own CPU seconds, and the load average
(lowest, highest) while it measured. ``--profile FILE`` records the server with py-spy (``pip install py-spy``) for
the measured time, as collapsed stacks.

Compared side by side: lines stored per database commit (the writer's group commit), from ``/healthz``.

Last line: {"bench": "chat", "sessions": N, "p50_ms": ..., "p99_ms": ..., "lines": ..., "lines_per_commit": ...}.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

EXE = Path(sys.executable).with_name("infolinia")
PER_AGENT = 20  # the largest chat capacity an agent may have


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class Server:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = (workdir / "serve.log").open("wb")
        env = {**os.environ, "INFOLINIA_KB_SEMANTIC": "false", "INFOLINIA_CHAT_STARTS_PER_IP": "1000000",
               "INFOLINIA_LOGIN_ATTEMPTS": "100000"}  # fmt: skip
        self.proc = subprocess.Popen(
            [str(EXE), "serve", "--demo", "--demo-always-open", "--http-port", str(self.port), "--sip-port",
             str(free_port()), "--smtp-port", str(free_port()), "--db", f"sqlite:///{workdir / 'bench.db'}"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir, env=env,
        )  # fmt: skip

    async def ready(self) -> None:
        deadline = time.monotonic() + 180
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise SystemExit(f"the server exited with {self.proc.returncode}")
                try:
                    if (await http.get(f"{self.base}/healthz", timeout=2)).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise SystemExit("the server did not become healthy")

    def cpu_s(self) -> float:
        """The server process's CPU seconds so far (user + system)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def login(http: httpx.AsyncClient, email: str, password: str = "demo") -> dict[str, str]:
    r = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


async def gather_limited(jobs: list[Any], limit: int = 32) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def run(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(run(job) for job in jobs))


class Bench:
    def __init__(self, server: Server, sessions: int, seconds: float, interval: float) -> None:
        self.server, self.sessions, self.seconds, self.interval = server, sessions, seconds, interval
        self.samples: list[float] = []
        self.measuring = False
        self.agents: dict[int, dict[str, str]] = {}  # user id -> headers
        self.active: dict[int, asyncio.Event] = {}  # chat -> its customer saw an agent
        self.lost = 0
        self.dropped = 0  # customer sockets closed during the measured time
        self.profile_to: Path | None = None

    async def setup(self, http: httpx.AsyncClient) -> tuple[str, int]:
        admin = await login(http, "admin@demo.test")
        r = await http.post("/api/v1/queues", headers=admin, json={
            "name": "Bench chat", "offer_timeout_s": 120, "missed_offer_presence": "ready", "business_hours": False,
        })  # fmt: skip
        r.raise_for_status()
        queue = r.json()["id"]
        r = await http.patch("/api/v1/chat/settings", headers=admin, json={"topics": {"bench": queue}})
        r.raise_for_status()
        key = r.json()["widget_key"]
        count = math.ceil(self.sessions / PER_AGENT)

        async def agent(i: int) -> None:
            email = f"bench-agent-{i}@demo.test"
            body = {"email": email, "display_name": f"Bench {i}", "role": "agent", "password": "bench-password"}
            r = await http.post("/api/v1/users", headers=admin, json=body)
            r.raise_for_status()
            user = r.json()["id"]
            r = await http.put(f"/api/v1/agents/{user}", headers=admin, json={
                "capacity": {"chat": PER_AGENT}, "voice_exclusive": False,
            })  # fmt: skip
            r.raise_for_status()
            headers = await login(http, email, "bench-password")
            (await http.put("/api/v1/me/presence", headers=headers, json={"presence": "ready"})).raise_for_status()
            self.agents[user] = headers

        await gather_limited([agent(i) for i in range(count)], 2)
        return key, queue

    async def accept_offers(self, http: httpx.AsyncClient, stop: asyncio.Event) -> None:
        """Accept every chat task offered to a bench agent, as the agent."""
        admin = await login(http, "admin@demo.test")
        seen: set[int] = set()
        while not stop.is_set():
            r = await http.get("/api/v1/tasks", headers=admin, params={"state": "reserved", "limit": 500})
            offered = [t for t in r.json()["items"] if t["agent_id"] in self.agents and t["id"] not in seen]
            seen.update(t["id"] for t in offered)

            async def take(task: dict[str, Any]) -> None:
                await http.post(f"/api/v1/tasks/{task['id']}/accept", headers=self.agents[task["agent_id"]])

            await gather_limited([take(t) for t in offered], 4)
            if not offered:
                await asyncio.sleep(0.2)

    async def agent_socket(self, user: int, ready: asyncio.Event) -> None:
        url = self.server.base.replace("http", "ws") + "/api/v1/chat/ws"
        async with connect(url, additional_headers=self.agents[user], max_queue=None, ping_interval=None) as ws:
            ready.set()
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "message" and frame["sender"] == "customer":
                    sent = float(frame["text"])
                    if self.measuring:
                        self.samples.append(time.perf_counter() - sent)
                    answer = {"type": "message", "chat": frame["chat"], "client_id": f"a{frame['seq']}",
                              "text": repr(time.perf_counter())}  # fmt: skip
                    await ws.send(json.dumps(answer))

    async def customer(
        self, key: str, chat: int, token: str, go: asyncio.Event, done: asyncio.Event, ramp: asyncio.Semaphore
    ) -> None:
        url = self.server.base.replace("http", "ws") + f"/chat/ws/{key}"
        async with ramp:  # sockets open a few dozen at a time, as visitors arrive
            ws = await connect(url, max_queue=None, ping_interval=None)  # no keepalive: the bench measures
            await ws.send(json.dumps({"type": "hello", "chat": chat, "token": token}))
            await ws.recv()  # ready
        async with ws:
            reader = asyncio.create_task(self._read(ws, chat))
            await go.wait()
            await asyncio.sleep(random.uniform(0, self.interval))
            n = 0
            while not done.is_set():
                n += 1
                try:
                    await ws.send(json.dumps({"type": "message", "client_id": f"b{n}",
                                              "text": repr(time.perf_counter())}))  # fmt: skip
                except ConnectionClosed:  # the server closed it (e.g. its keepalive timed out): counted
                    self.dropped += 1
                    break
                await asyncio.sleep(self.interval)
            await asyncio.sleep(1.0)  # the last answers
            reader.cancel()

    async def _read(self, ws: ClientConnection, chat: int) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._read_frames(ws, chat)

    async def _read_frames(self, ws: ClientConnection, chat: int) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "state" and frame.get("state") == "active":
                self.active[chat].set()
            elif frame["type"] == "message" and frame["sender"] == "agent" and self.measuring:
                self.samples.append(time.perf_counter() - float(frame["text"]))

    def profile(self) -> subprocess.Popen[bytes] | None:
        """py-spy sampling the server for the measured seconds (``--profile FILE``: collapsed stacks)."""
        if self.profile_to is None:
            return None
        spy = Path(sys.executable).with_name("py-spy")
        if not spy.exists():
            raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
        return subprocess.Popen(
            [str(spy), "record", "--pid", str(self.server.proc.pid), "--duration", str(int(self.seconds)),
             "--rate", "200", "--format", "raw", "--nonblocking", "-o", str(self.profile_to)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    async def run(self) -> dict[str, Any]:
        limits = httpx.Limits(max_connections=64)
        async with httpx.AsyncClient(base_url=self.server.base, timeout=60, limits=limits) as http:
            key, _ = await self.setup(http)
            ready = [asyncio.Event() for _ in self.agents]
            agents = [asyncio.create_task(self.agent_socket(u, r)) for u, r in zip(self.agents, ready, strict=True)]
            await asyncio.gather(*(r.wait() for r in ready))
            stop_accepting = asyncio.Event()
            acceptor = asyncio.create_task(self.accept_offers(http, stop_accepting))
            t0 = time.perf_counter()

            async def start(i: int) -> tuple[int, str]:
                r = await http.post(f"/chat/api/{key}/start", json={"topic": "bench", "email": f"c{i}@example.com"})
                r.raise_for_status()
                return int(r.json()["chat"]), str(r.json()["token"])

            chats = await gather_limited([start(i) for i in range(self.sessions)], 8)
            for chat, _ in chats:
                self.active[chat] = asyncio.Event()
            go, done = asyncio.Event(), asyncio.Event()
            ramp = asyncio.Semaphore(8)
            customers = [asyncio.create_task(self.customer(key, c, t, go, done, ramp)) for c, t in chats]
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in self.active.values())), 600)
            setup_s = time.perf_counter() - t0
            stop_accepting.set()
            await acceptor
            before = (await http.get("/healthz")).json()["subsystems"]["chat"]
            profiler = self.profile()
            server_cpu, own_cpu, load = self.server.cpu_s(), time.process_time(), [os.getloadavg()[0]]
            self.measuring = True
            go.set()
            for _ in range(int(self.seconds)):
                await asyncio.sleep(1.0)
                load.append(os.getloadavg()[0])
            await asyncio.sleep(self.seconds - int(self.seconds))
            done.set()
            await asyncio.gather(*customers)
            self.measuring = False
            server_cpu, own_cpu = self.server.cpu_s() - server_cpu, time.process_time() - own_cpu
            after = (await http.get("/healthz")).json()["subsystems"]["chat"]
            if profiler is not None:
                profiler.wait()
            for task in agents:
                task.cancel()
        lines = after["lines"] - before["lines"]
        commits = max(1, after["commits"] - before["commits"])
        ms = [s * 1000 for s in self.samples]
        return {
            "bench": "chat", "sessions": self.sessions, "agents": len(self.agents), "seconds": self.seconds,
            "deliveries": len(ms), "p50_ms": round(percentile(ms, 0.50), 1), "p99_ms": round(percentile(ms, 0.99), 1),
            "max_ms": round(max(ms), 1) if ms else None, "lines": lines, "commits": commits,
            "lines_per_commit": round(lines / commits, 1), "setup_s": round(setup_s, 1),
            "server_cpu_s": round(server_cpu, 1), "server_cpu_ms_per_line": round(1000 * server_cpu / max(1, lines), 3),
            "clients_cpu_s": round(own_cpu, 1), "load_avg": [round(min(load), 1), round(max(load), 1)],
            "dropped_sockets": self.dropped, "goal": {"sessions": 2000, "p99_ms": 100},
        }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="200 sessions for 10 s")
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between a customer's lines")
    parser.add_argument("--profile", type=Path, help="py-spy's collapsed stacks of the server to this file")
    args = parser.parse_args()
    sessions, seconds = (200, 10.0) if args.quick else (args.sessions, args.seconds)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="infolinia-chat-bench-") as tmp:
        server = Server(Path(tmp))
        try:
            asyncio.run(server.ready())
            print(f"chat bench: {sessions} sessions, {seconds:.0f} s, a line every {args.interval} s each way",
                  file=sys.stderr)  # fmt: skip
            bench = Bench(server, sessions, seconds, args.interval)
            bench.profile_to = args.profile
            result = asyncio.run(bench.run())
        except BaseException:
            tail = (Path(tmp) / "serve.log").read_text(errors="replace").splitlines()[-400:]
            print("the server's log ends:", *tail, sep="\n", file=sys.stderr)
            raise
        finally:
            server.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
