"""The real command line: `infolinia serve --demo` on free ports, and the admin commands."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tests.conftest import repo_root

EXE = Path(sys.executable).with_name("infolinia")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_cli(*args: str, db: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), *args, "--db", db],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        cwd=repo_root(),
        stdin=subprocess.DEVNULL,
    )


def test_serve_demo_comes_up_healthy(fresh_db_url: Callable[[], Awaitable[str]], tmp_path: Path) -> None:
    db = asyncio.run(fresh_db_url())
    port = free_port()
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen(
        [str(EXE), "serve", "--demo", "--http-port", str(port), "--sip-port", str(free_port()), "--db", db],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        log.seek(0)
        output = log.read()
        assert health is not None, f"server never answered; exit={proc.poll()}\n{output}"
        assert health.status_code == 200 and health.json()["subsystems"]["database"]["up"] is True
        assert "admin@demo.test" in output and "agent4@demo.test" in output  # the demo logins are printed
        r = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login", json={"email": "agent4@demo.test", "password": "demo"}
        )
        assert r.status_code == 200
        customers = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/customers",
            params={"limit": 200},
            headers={"Authorization": f"Bearer {r.json()['token']}"},
        ).json()["items"]
        assert len(customers) == 50
        assert sum(c["restricted"] for c in customers) == 1
        assert sum(c["consent"]["marketing_phone"] is False for c in customers) >= 10
    finally:
        proc.terminate()
        code = proc.wait(timeout=30)
        log.seek(0)
        output = log.read()
        log.close()
    # uvicorn re-raises SIGTERM after a graceful shutdown, so the exit status is the signal's
    assert code in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output


def test_admin_commands(fresh_db_url: Callable[[], Awaitable[str]]) -> None:
    db = asyncio.run(fresh_db_url())
    r = run_cli("db", "upgrade", db=db)
    assert r.returncode == 0 and "0001" in r.stdout, r.stderr
    r = run_cli("admin", "create-tenant", "--slug", "shop", "--name", "Shop", "--timezone", "Europe/Warsaw", db=db)
    assert r.returncode == 0, r.stderr
    r = run_cli("admin", "create-tenant", "--slug", "shop", "--name", "Shop again", db=db)
    assert r.returncode == 1 and "exists" in r.stderr
    r = run_cli("admin", "create-tenant", "--slug", "x2", "--name", "X", "--timezone", "Nowhere/City", db=db)
    assert r.returncode == 1 and "time zone" in r.stderr
    r = run_cli(
        "admin",
        "create-user",
        "--tenant",
        "shop",
        "--email",
        "boss@shop.test",
        "--role",
        "tenant_admin",
        db=db,
        env={"INFOLINIA_PASSWORD": "pa55word"},
    )
    assert r.returncode == 0, r.stderr
    r = run_cli(
        "admin",
        "create-user",
        "--tenant",
        "nope",
        "--email",
        "x@shop.test",
        "--role",
        "agent",
        "--password",
        "pa55word",
        db=db,
    )
    assert r.returncode == 1 and "no tenant" in r.stderr
    r = run_cli("admin", "create-user", "--email", "y@shop.test", "--role", "wizard", "--password", "pa55word", db=db)
    assert r.returncode == 1 and "role" in r.stderr
    r = run_cli(
        "admin", "create-user", "--email", "z@shop.test", "--role", "agent", db=db, env={"INFOLINIA_PASSWORD": ""}
    )
    assert r.returncode == 1 and "password" in r.stderr
    r = run_cli("db", "current", db=db)
    assert r.stdout.strip() == "0001"
