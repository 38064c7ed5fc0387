"""A whole call with real softphones: a caller (baresip, 440 Hz) dials the demo number and presses 2; the agent on
extension 1002 (baresip, registered, available, 1000 Hz) is rung, answers, and each hears the other's tone through
the server's bridge. Then hang-ups from either side end the call, and the record says who, when and where."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.baresip import Baresip, needs_baresip, read_wav, running_baresip
from tests.live import LiveServer, free_port, running_server

pytestmark = needs_baresip


@pytest.fixture(scope="module")
def server(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:  # type: ignore[no-untyped-def]
    url = asyncio.run(fresh_db_url())
    sip_port = free_port()
    low = 40000 + (sip_port % 1000) * 20
    with running_server(
        url, tmp_path_factory.mktemp("agent"), "--sip-port", str(sip_port), "--rtp-ports", f"{low}-{low + 199}",
        "--demo-always-open",
    ) as live:  # fmt: skip
        yield live, sip_port


async def login(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    token = (await client.post("/api/v1/auth/login", json={"email": email, "password": "demo"})).json()["token"]
    return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def phones(tmp_path: Path, sip_port: int) -> AsyncIterator[tuple[Baresip, Baresip]]:
    async with AsyncExitStack() as stack:
        caller = await stack.enter_async_context(running_baresip(tmp_path / "caller", tone_hz=440))
        agent = await stack.enter_async_context(running_baresip(tmp_path / "agent", tone_hz=1000))
        await agent.register("1002", "demo", ("127.0.0.1", sip_port))
        await agent.wait_registered()
        await caller.local_account("48601200300")
        yield caller, agent


async def heard(phone: Baresip, seconds: float, within_s: float = 30.0) -> Path:
    """The phone's recording of what it hears, once it holds ``seconds`` of audio."""
    deadline = time.monotonic() + within_s
    while True:
        done = [p for p in phone.recordings() if p.stat().st_size > 44 + seconds * 16000]
        if done:
            return done[0]
        assert time.monotonic() < deadline, f"under {seconds} s heard\n{phone.describe()}"
        await asyncio.sleep(0.05)


def tail_frequency(path: Path, seconds: float = 1.0) -> float:
    """The strongest frequency of the last ``seconds`` heard (the caller heard prompts and music before the agent)."""
    samples, rate = read_wav(path)
    tail = samples[-int(seconds * rate) :]
    if tail.size == 0 or not np.any(tail):
        return 0.0
    spectrum = np.abs(np.fft.rfft(tail * np.hanning(tail.size)))
    spectrum[0] = 0.0
    return float(np.fft.rfftfreq(tail.size, 1 / rate)[int(np.argmax(spectrum))])


async def last_call(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    page = await client.get(
        "/api/v1/interactions", params={"channel": "voice", "since": since, "limit": 200}, headers=headers
    )
    return max(page.json()["items"], key=lambda item: int(item["id"]))


async def connect(caller: Baresip, agent: Baresip, sip_port: int) -> None:
    """The caller dials the demo number and presses 2 (technical); the agent's phone rings and is answered."""
    await caller.dial(f"sip:800100200@127.0.0.1:{sip_port}")
    await caller.wait_event("CALL_ESTABLISHED")
    await asyncio.sleep(1.0)  # the greeting has begun: a digit now cuts it (barge-in)
    await caller.send_digits("2")
    incoming = await agent.wait_event("CALL_INCOMING", within_s=30)
    assert "48601200300" in (incoming.param or ""), agent.describe()
    await agent.accept()
    await agent.wait_event("CALL_ESTABLISHED")


@pytest.mark.parametrize("hangs_up", ["caller", "agent"])
async def test_the_agent_is_rung_answers_and_both_hear_each_other(
    server: tuple[LiveServer, int], tmp_path: Path, hangs_up: str
) -> None:
    live, sip_port = server
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as client:
        agent_headers = await login(client, "agent2@demo.test")
        admin_headers = await login(client, "admin@demo.test")
        r = await client.put("/api/v1/me/presence", json={"presence": "ready"}, headers=agent_headers)
        assert r.status_code == 200, r.text
        async with phones(tmp_path, sip_port) as (caller, agent):
            await connect(caller, agent, sip_port)
            heard_by_agent = await heard(agent, 2.0)
            heard_by_caller = await heard(caller, 2.0)
            await asyncio.sleep(1.0)  # let more tone through before reading the files
            ender, other = (caller, agent) if hangs_up == "caller" else (agent, caller)
            await ender.hangup()
            await other.wait_event("CALL_CLOSED", within_s=15)
            assert abs(tail_frequency(heard_by_agent) - 440) < 15, agent.describe()
            assert abs(tail_frequency(heard_by_caller) - 1000) < 15, caller.describe()
        call = await last_call(client, admin_headers)
        assert call["ivr_path"][-1] == "technical"
        assert call["agent_id"] is not None and call["answered_at"] is not None and call["ended_at"] is not None
        assert call["end_reason"] == ("caller_hangup" if hangs_up == "caller" else "agent_hangup")
        await client.put(
            "/api/v1/me/presence", json={"presence": "offline"}, headers=agent_headers
        )  # the next test starts from the same state
