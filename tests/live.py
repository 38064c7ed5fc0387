"""Start the real ``infolinia serve`` process on free ports and wait until it is healthy."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

EXE = Path(sys.executable).with_name("infolinia")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    proc: subprocess.Popen[bytes]
    log: Path
    killed: bool = False

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """``kill -9``: the process gets no chance to finish anything (a power cut, the OOM killer)."""
        self.proc.kill()
        self.proc.wait(timeout=30)
        self.killed = True


#: held by every event the server publishes (a mismatch raises, and is caught below)
SCHEMA_MISMATCH = ("does not match its schema", "has no schema")


@contextmanager
def running_server(
    db_url: str, workdir: Path, *extra: str, timeout: float = 180, env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """``infolinia serve --demo`` on free ports, checking every event it publishes against its schema; stopped with
    SIGTERM afterwards, which must end it cleanly (unless the test killed it). ``env``: more ``INFOLINIA_*``
    settings."""
    port = free_port()
    log = workdir / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(EXE),
                "serve",
                "--demo",
                "--http-port",
                str(port),
                "--sip-port",
                str(free_port()),
                "--smtp-port",
                str(free_port()),
                "--db",
                db_url,
                *extra,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            # no semantic model (its load takes a core for seconds; test_kb_semantic.py tests it in process)
            env={**os.environ, "INFOLINIA_VALIDATE_EVENTS": "1", "INFOLINIA_KB_SEMANTIC": "false", **(env or {})},
        )
    server = LiveServer(f"http://127.0.0.1:{port}", proc, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"server exited with {proc.returncode}:\n{server.output()}")
            try:
                if httpx.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"server not healthy after {timeout} s:\n{server.output()}")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        code = proc.wait(timeout=30)
    assert not any(m in server.output() for m in SCHEMA_MISMATCH), server.output()
    if server.killed:
        return
    # uvicorn re-raises SIGTERM after a graceful shutdown, so the exit status is the signal's
    assert code in (0, -signal.SIGTERM), server.output()
    assert "Application shutdown complete" in server.output()


@contextmanager
def voice_server(db_url: str, workdir: Path, rtp_base: int) -> Iterator[tuple[LiveServer, int]]:
    """``running_server`` with SIP on a free port, 200 RTP ports of its own from ``rtp_base`` on (spread by the SIP
    port, so that modules running at once do not share ports) and ``--demo-always-open``; the server and its SIP
    port."""
    sip_port = free_port()
    low = rtp_base + (sip_port % 1000) * 20
    with running_server(
        db_url, workdir, "--sip-port", str(sip_port), "--rtp-ports", f"{low}-{low + 199}", "--demo-always-open"
    ) as live:
        yield live, sip_port


async def api_login(client: httpx.AsyncClient, email: str, prefix: str = "/api/v1") -> dict[str, str]:
    """Log in a demo user (password ``demo``) through ``client``; the Authorization header."""
    r = await client.post(f"{prefix}/auth/login", json={"email": email, "password": "demo"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}
