"""The real command line: `infolinia serve --demo` on free ports, and the admin commands."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from tests.conftest import repo_root
from tests.live import EXE, free_port, running_server


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
    with running_server(db, tmp_path) as server:
        health = httpx.get(f"{server.base_url}/healthz")
        assert health.status_code == 200 and health.json()["subsystems"]["database"]["up"] is True
        output = server.output()
        assert "admin@demo.test" in output and "agent4@demo.test" in output  # the demo logins are printed
        r = httpx.post(f"{server.base_url}/api/v1/auth/login", json={"email": "agent4@demo.test", "password": "demo"})
        assert r.status_code == 200
        customers = httpx.get(
            f"{server.base_url}/api/v1/customers",
            params={"limit": 200},
            headers={"Authorization": f"Bearer {r.json()['token']}"},
        ).json()["items"]
        assert len(customers) == 50
        assert sum(c["restricted"] for c in customers) == 1
        assert sum(c["consent"]["marketing_phone"] is False for c in customers) >= 10
        # the first start made the system prompts (and said how long it took); the demo has its own
        assert "system prompts ready in" in output and " 0 up to date" in output
        bearer = {"Authorization": f"Bearer {r.json()['token']}"}
        r = httpx.get(f"{server.base_url}/api/v1/prompts/menu_main/audio", headers=bearer)
        assert r.status_code == 200 and r.headers["x-prompt-source"] == "tenant" and len(r.content) > 8000
    assert (tmp_path / "data" / "prompts" / "system" / "pl" / "callback_keep_place.wav").is_file()
    # a second start on the same database does not seed twice, nor make the prompts again
    with running_server(db, tmp_path) as server:
        assert "demo not re-seeded" in server.output()
        assert " 0 made, " in server.output()


def test_admin_commands(fresh_db_url: Callable[[], Awaitable[str]]) -> None:
    db = asyncio.run(fresh_db_url())
    r = run_cli("db", "upgrade", db=db)
    assert r.returncode == 0 and "0025" in r.stdout, r.stderr
    r = run_cli("admin", "create-tenant", "--slug", "shop", "--name", "Shop", "--timezone", "Europe/Warsaw", db=db)
    assert r.returncode == 0, r.stderr
    r = run_cli("admin", "create-tenant", "--slug", "shop", "--name", "Shop again", db=db)
    assert r.returncode == 1 and "exists" in r.stderr
    r = run_cli("admin", "create-tenant", "--slug", "x2", "--name", "X", "--timezone", "Nowhere/City", db=db)
    assert r.returncode == 1 and "time zone" in r.stderr
    r = run_cli(
        "admin", "create-user", "--tenant", "shop", "--email", "boss@shop.test", "--role", "tenant_admin",
        db=db, env={"INFOLINIA_PASSWORD": "pa55word"},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    r = run_cli(
        "admin", "create-user", "--tenant", "nope", "--email", "x@shop.test", "--role", "agent",
        "--password", "pa55word", db=db,
    )  # fmt: skip
    assert r.returncode == 1 and "no tenant" in r.stderr
    r = run_cli("admin", "create-user", "--email", "y@shop.test", "--role", "wizard", "--password", "pa55word", db=db)
    assert r.returncode == 1 and "role" in r.stderr
    r = run_cli(
        "admin", "create-user", "--email", "z@shop.test", "--role", "agent", db=db, env={"INFOLINIA_PASSWORD": ""}
    )
    assert r.returncode == 1 and "password" in r.stderr
    r = run_cli("db", "current", db=db)
    assert r.stdout.strip() == "0025"
    r = run_cli("kb", "reindex", "--tenant", "shop", db=db)
    assert r.returncode == 0 and "indexed 0 article(s)" in r.stdout, r.stderr
    r = run_cli("kb", "reindex", "--tenant", "nope", db=db)
    assert r.returncode == 1 and "no tenant" in r.stderr


def test_serve_reports_a_port_in_use_and_takes_ports_from_the_environment(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        db = "sqlite:///" + str(tmp_path / "ok.db")
        for args, env in ((["--http-port", port], {}), ([], {"INFOLINIA_HTTP_PORT": port})):
            r = subprocess.run(
                [str(EXE), "serve", "--db", db, *args], capture_output=True, text=True, timeout=60,
                env={**os.environ, **env}, stdin=subprocess.DEVNULL, cwd=tmp_path,
            )  # fmt: skip
            assert r.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in r.stderr, r.stderr
            assert "Traceback" not in r.stderr


def test_serve_reports_the_sip_port_taken_over_tcp(tmp_path: Path) -> None:
    with socket.socket() as busy:  # UDP free, TCP taken on the same number
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        db = "sqlite:///" + str(tmp_path / "ok.db")
        r = subprocess.run(
            [str(EXE), "serve", "--db", db, "--http-port", str(free_port()), "--sip-port", port],
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=tmp_path,
        )  # fmt: skip
        assert r.returncode == 1 and f"cannot listen on SIP/TCP 127.0.0.1:{port}" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


def test_db_commands_explain_a_bad_database(tmp_path: Path) -> None:
    for args in (["db", "upgrade"], ["db", "current"], ["admin", "create-tenant", "--slug", "x1", "--name", "X"]):
        for db, expected in (("mysql://h/x", "unsupported database"), ("postgresql://u@127.0.0.1:1/x", "cannot use")):
            r = subprocess.run(
                [str(EXE), *args, "--db", db], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                cwd=tmp_path,
            )  # fmt: skip
            assert r.returncode == 1 and expected in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)


def test_serve_explains_a_bad_database_url_or_setting(tmp_path: Path) -> None:
    for db, env, expected in (
        ("mysql://localhost/x", {}, "unsupported database"),
        ("postgresql+asyncpg://nobody@127.0.0.1:1/none", {}, "cannot use the database"),
        ("sqlite:///" + str(tmp_path / "ok.db"), {"INFOLINIA_COOKIE_SECURE": "perhaps"}, "INFOLINIA_COOKIE_SECURE"),
    ):
        r = subprocess.run(
            [str(EXE), "serve", "--db", db, "--http-port", str(free_port())],
            capture_output=True, text=True, timeout=60, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
            cwd=tmp_path,
        )  # fmt: skip
        assert r.returncode == 1, r.stderr
        assert expected in r.stderr and "Traceback" not in r.stderr, r.stderr
