"""A whole call with real softphones: a caller (baresip, 440 Hz) dials the demo number and presses 2; the agent on
extension 1002 (baresip, registered, available, 1000 Hz) is rung, answers, and each hears the other's tone through
the server's bridge. Then hang-ups from either side end the call, and the record says who, when and where."""

from __future__ import annotations

import asyncio
import time
import wave
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from tests.audio import dominant_frequency
from tests.baresip import Baresip, needs_baresip, read_wav, running_baresip
from tests.live import LiveServer, api_login, voice_server

pytestmark = needs_baresip


@pytest.fixture(scope="module")
def server(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:  # type: ignore[no-untyped-def]
    with voice_server(asyncio.run(fresh_db_url()), tmp_path_factory.mktemp("voice"), 40000) as served:
        yield served


@asynccontextmanager
async def phones(tmp_path: Path, sip_port: int, transport: str = "udp") -> AsyncIterator[tuple[Baresip, Baresip]]:
    async with AsyncExitStack() as stack:
        caller = await stack.enter_async_context(running_baresip(tmp_path / "caller", tone_hz=440))
        agent = await stack.enter_async_context(running_baresip(tmp_path / "agent", tone_hz=1000))
        await agent.register("1002", "demo", ("127.0.0.1", sip_port), transport=transport)
        await agent.wait_registered()
        await caller.local_account("48601200300")
        yield caller, agent


def tail_frequency(path: Path, seconds: float = 1.0) -> float:
    """The strongest frequency of the last ``seconds`` heard (the caller heard prompts and music before the agent)."""
    samples, rate = read_wav(path)
    return dominant_frequency(samples[-int(seconds * rate) :], rate)


async def last_call(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    page = await client.get(
        "/api/v1/interactions", params={"channel": "voice", "since": since, "limit": 200}, headers=headers
    )
    return max(page.json()["items"], key=lambda item: int(item["id"]))


async def connect(
    caller: Baresip,
    agent: Baresip,
    sip_port: int,
    greeting_after_s: float = 0.0,
    number: str = "800100200",
    transport: str = "udp",
) -> None:
    """The caller dials the demo number (over ``transport``) and presses 2 (technical); the agent's phone rings and
    is answered. ``greeting_after_s``: how long what comes before the greeting lasts (the recording notice)."""
    suffix = "" if transport == "udp" else f";transport={transport}"
    await caller.dial(f"sip:{number}@127.0.0.1:{sip_port}{suffix}")
    await caller.wait_event("CALL_ESTABLISHED")
    await asyncio.sleep(greeting_after_s + 1.0)  # the greeting has begun: a digit now cuts it (barge-in)
    await caller.send_digits("2")
    incoming = await agent.wait_event("CALL_INCOMING", within_s=30)
    assert "48601200300" in (incoming.param or ""), agent.describe()
    await agent.accept()
    await agent.wait_event("CALL_ESTABLISHED")


@pytest.mark.parametrize(
    ("hangs_up", "transport"), [("caller", "udp"), ("agent", "udp"), ("caller", "tcp"), ("agent", "tcp")]
)
async def test_the_agent_is_rung_answers_and_both_hear_each_other(
    server: tuple[LiveServer, int], tmp_path: Path, hangs_up: str, transport: str
) -> None:
    """Over UDP, and over TCP (both phones: the caller's call and the agent's registration, so the server rings
    the agent over the agent's own connection)."""
    live, sip_port = server
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as client:
        agent_headers = await api_login(client, "agent2@demo.test")
        admin_headers = await api_login(client, "admin@demo.test")
        r = await client.put("/api/v1/me/presence", json={"presence": "ready"}, headers=agent_headers)
        assert r.status_code == 200, r.text
        async with phones(tmp_path, sip_port, transport) as (caller, agent):
            before = (await client.get("/healthz")).json()["subsystems"]["sip"]["counters"]
            await connect(caller, agent, sip_port, transport=transport)
            during = (await client.get("/healthz")).json()["subsystems"]["sip"]["counters"]
            if transport == "tcp":  # both phones are on connections of their own, and nothing came over UDP
                assert during["tcp_connections"] == 2, during
                assert during["received"] - before["received"] == during["tcp_received"] - before.get(
                    "tcp_received", 0
                ), (before, during)
            heard_by_agent = await agent.heard(2.0)
            heard_by_caller = await caller.heard(2.0)
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


async def test_a_recorded_call_has_the_caller_left_and_the_agent_right(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    """The tenant records calls: the caller is told first, then the talk is recorded as stereo WAV."""
    live, sip_port = server
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as client:
        agent_headers = await api_login(client, "agent2@demo.test")
        admin_headers = await api_login(client, "admin@demo.test")
        [tenant] = (await client.get("/api/v1/tenants", headers=admin_headers)).json()
        r = await client.patch(f"/api/v1/tenants/{tenant['id']}", json={"record_calls": True}, headers=admin_headers)
        assert r.status_code == 200, r.text
        try:
            r = await client.put("/api/v1/me/presence", json={"presence": "ready"}, headers=agent_headers)
            assert r.status_code == 200, r.text
            async with phones(tmp_path, sip_port) as (caller, agent):
                await connect(caller, agent, sip_port, greeting_after_s=6.0)  # the notice lasts about 5 s
                await agent.heard(3.0)
                await caller.heard(3.0)
                await caller.hangup()
                await agent.wait_event("CALL_CLOSED", within_s=15)
            deadline = time.monotonic() + 10
            while not (call := await last_call(client, admin_headers)).get("recording"):
                assert time.monotonic() < deadline, call
                await asyncio.sleep(0.1)
        finally:
            await client.patch(f"/api/v1/tenants/{tenant['id']}", json={"record_calls": False}, headers=admin_headers)
            await client.put("/api/v1/me/presence", json={"presence": "offline"}, headers=agent_headers)
    assert call["recording"].endswith("-call.wav") and call["end_reason"] == "caller_hangup", call
    with wave.open(str(live.log.parent / "data" / call["recording"]), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (2, 2, 8000)
        frames = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64).reshape(-1, 2)
    assert frames.shape[0] >= 2 * 8000, "at least two seconds of talk"
    middle = frames[frames.shape[0] // 2 - 4000 : frames.shape[0] // 2 + 4000]  # one second from the middle
    assert abs(dominant_frequency(middle[:, 0], 8000) - 440) < 15  # the caller, left
    assert abs(dominant_frequency(middle[:, 1], 8000) - 1000) < 15  # the agent, right


async def transfer_number(client: httpx.AsyncClient, headers: dict[str, str], number: str) -> None:
    """A flow whose menu's 2 (or a failed menu) transfers straight to extension 1002, and ``number`` entering it."""
    flow = {"start": "menu", "nodes": [
        {"id": "menu", "type": "menu", "prompt": "menu_main", "digits": {"2": "desk"}, "on_failure": "desk"},
        {"id": "desk", "type": "transfer", "extension": "1002", "ring_s": 20},
    ]}  # fmt: skip
    body = {"name": f"to 1002 ({number})", "definition": flow}
    r = await client.post("/api/v1/ivr-flows", json=body, headers=headers)
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/numbers", json={"number": number, "flow_id": r.json()["id"]}, headers=headers)
    assert r.status_code == 201, r.text


async def test_a_flow_transfers_the_caller_to_an_extension(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    """A menu's 2 transfers straight to extension 1002 (no queue, no routing): it rings, answers, both hear."""
    live, sip_port = server
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as client:
        admin_headers = await api_login(client, "admin@demo.test")
        await transfer_number(client, admin_headers, "+48800100206")
        async with phones(tmp_path, sip_port) as (caller, agent):
            await connect(caller, agent, sip_port, number="800100206")  # the agent is not even ready: a direct call
            heard_by_agent = await agent.heard(2.0)
            heard_by_caller = await caller.heard(2.0)
            await asyncio.sleep(1.0)
            await agent.hangup()
            await caller.wait_event("CALL_CLOSED", within_s=15)
            assert abs(tail_frequency(heard_by_agent) - 440) < 15, agent.describe()
            assert abs(tail_frequency(heard_by_caller) - 1000) < 15, caller.describe()
        call = await last_call(client, admin_headers)
    assert call["ivr_path"] == ["menu", "desk"] and call["end_reason"] == "agent_hangup", call
    assert call["agent_id"] is not None and call["answered_at"] is not None and call["queue_id"] is None, call


def tail_frequency_so_far(path: Path, seconds: float = 1.0) -> float:
    """``tail_frequency`` of a recording still being written (its WAV header's sizes are not final yet): the
    samples after the data chunk's header, as far as they go (8 kHz mono 16-bit, as the phones record)."""
    data = path.read_bytes()
    start = data.index(b"data") + 8
    pcm = data[start : start + (len(data) - start) // 2 * 2]
    return dominant_frequency(np.frombuffer(pcm, dtype="<i2")[-int(seconds * 8000) :], 8000)


async def until_logged(live: LiveServer, mark: int, text: str, within_s: float = 15.0) -> None:
    deadline = time.monotonic() + within_s
    while text not in live.output()[mark:]:
        assert time.monotonic() < deadline, f"the server never logged {text!r}"
        await asyncio.sleep(0.05)


async def test_the_agent_s_phone_holds_and_resumes_the_call(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    """The agent presses hold on the phone (a re-INVITE with a=sendonly): it is answered (not refused), the caller
    hears music instead of the agent; resume (a=sendrecv) bridges the two again."""
    live, sip_port = server
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as client:
        admin_headers = await api_login(client, "admin@demo.test")
        await transfer_number(client, admin_headers, "+48800100205")
        async with phones(tmp_path, sip_port) as (caller, agent):
            await connect(caller, agent, sip_port, number="800100205")
            heard_by_caller = await caller.heard(2.0)
            await asyncio.sleep(1.0)
            assert abs(tail_frequency_so_far(heard_by_caller) - 1000) < 15, caller.describe()
            mark = len(live.output())
            await agent.hold()
            await until_logged(live, mark, "the agent held the call")
            await asyncio.sleep(2.0)
            on_hold = tail_frequency_so_far(heard_by_caller)
            assert on_hold > 0 and abs(on_hold - 1000) > 30, f"the caller heard {on_hold} Hz on hold"
            await agent.resume()
            await until_logged(live, mark, "the agent resumed the call")
            await asyncio.sleep(2.0)
            assert abs(tail_frequency_so_far(heard_by_caller) - 1000) < 15, caller.describe()
            await caller.hangup()
            await agent.wait_event("CALL_CLOSED", within_s=15)
        call = await last_call(client, admin_headers)
    assert call["end_reason"] == "caller_hangup" and call["answered_at"] is not None, call
    assert 2.0 <= call["hold_s"] <= 10.0, call  # from the hold's re-INVITE to the resume's
