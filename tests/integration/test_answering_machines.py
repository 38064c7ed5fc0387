"""Answering-machine detection on agent-first calls (campaign contacts, and callbacks when the tenant's policy asks
for it), with real softphones and real speech: the customer's phone (baresip behind the tenant's dialing trunk)
answers with a spoken greeting made by espeak-ng. A long greeting is taken for a machine: both phones are hung up
and the attempt becomes ``voicemail`` (tried again later); a short "Hello?" is a person, and the call goes on."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.baresip import needs_baresip
from tests.integration.test_callbacks_dialed import (
    CUSTOMER,
    both_answer,
    consenting_customer,
    contact_of,
    floor,
    running_campaign,
    wait_for,
)
from tests.live import LiveServer, voice_server

pytestmark = needs_baresip
GREETING = (
    "Hello, you have reached the Kowalski family. We cannot take your call right now. "
    "Please leave your name and number after the tone, and we will call you back."
)


@pytest.fixture(scope="module")
def server(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:  # type: ignore[no-untyped-def]
    with voice_server(asyncio.run(fresh_db_url()), tmp_path_factory.mktemp("voice"), 45000) as served:
        yield served


def spoken(folder: Path, text: str, then_silence_s: float) -> Path:
    """``text`` said by espeak-ng after 0.3 s of silence and followed by ``then_silence_s`` of it, as the 8 kHz mono
    16-bit WAV baresip sends."""
    assert shutil.which("espeak-ng") and shutil.which("sox"), "espeak-ng and sox are test prerequisites"
    folder.mkdir(parents=True, exist_ok=True)
    raw, wav = folder / "raw.wav", folder / "said.wav"
    subprocess.run(["espeak-ng", "-v", "en", "-w", str(raw), text], check=True, capture_output=True)
    subprocess.run(
        ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(wav), "pad", "0.3", str(then_silence_s)],
        check=True, capture_output=True,
    )  # fmt: skip
    return wav


async def detecting_campaign(client: httpx.AsyncClient, f: dict[str, Any], name: str) -> int:
    await consenting_customer(client, f["admin"])
    return (await running_campaign(client, f, name, detect_machines=True))[0]


async def test_a_long_greeting_is_a_machine_the_call_ends_as_voicemail(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    greeting = spoken(tmp_path / "machine", GREETING, 20)
    async with floor(live, sip_port, tmp_path, customer_says=greeting) as (client, f):
        agent, customer = f["agent"], f["customer"]
        campaign = await detecting_campaign(client, f, "Machines")
        await agent.wait_event("CALL_INCOMING", within_s=20)
        await both_answer(agent, customer)
        answered = time.monotonic()
        await agent.wait_event("CALL_CLOSED", within_s=15)  # the server hung up on the machine
        assert time.monotonic() - answered < 8, agent.describe()  # within the greeting's first seconds
        await customer.wait_event("CALL_CLOSED", within_s=15)
        back = await contact_of(client, f, campaign, status="pending")
        assert (back["attempts"], back["last_outcome"], back["closed_reason"]) == (1, "voicemail", None)
        since = (await client.get(f"/campaigns/{campaign}", headers=f["admin"])).json()["created_at"]
        calls = (await client.get("/interactions", params={"channel": "callback", "since": since},
                                  headers=f["admin"])).json()["items"]  # fmt: skip
        assert [c["end_reason"] for c in calls] == ["machine"]
        await client.patch(f"/campaigns/{campaign}", json={"status": "finished"}, headers=f["admin"])


async def test_a_short_hello_is_a_person_and_the_call_goes_on(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    live, sip_port = server
    hello = spoken(tmp_path / "person", "Hello?", 30)
    async with floor(live, sip_port, tmp_path, customer_says=hello) as (client, f):
        agent, customer = f["agent"], f["customer"]
        campaign = await detecting_campaign(client, f, "People")
        await agent.wait_event("CALL_INCOMING", within_s=20)
        await both_answer(agent, customer)
        await asyncio.sleep(6.0)  # past any verdict: still talking
        assert not [e for e in agent.events if e.type == "CALL_CLOSED"], agent.describe()
        done = await contact_of(client, f, campaign, status="done")
        assert (done["attempts"], done["last_outcome"]) == (1, "connected")
        await customer.hangup()
        await agent.wait_event("CALL_CLOSED", within_s=15)
        await client.patch(f"/campaigns/{campaign}", json={"status": "finished"}, headers=f["admin"])


async def test_a_machine_answering_a_callback_leaves_it_to_be_tried_again(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    """A callback the customer asked for is screened only when the tenant's callback policy says so
    (``detect_machines``); a machine's answer is then a ``voicemail`` attempt, tried again per the policy."""
    live, sip_port = server
    greeting = spoken(tmp_path / "machine", GREETING, 20)
    async with floor(live, sip_port, tmp_path, customer_says=greeting) as (client, f):
        agent, customer, admin = f["agent"], f["customer"], f["admin"]
        tenant = (await client.get("/tenants", headers=admin)).json()[0]
        policy = tenant["callback_policy"]
        r = await client.patch(
            f"/tenants/{tenant['id']}", json={"callback_policy": {**policy, "detect_machines": True}}, headers=admin
        )
        assert r.status_code == 200, r.text
        try:
            r = await client.post("/callbacks", json={"queue_id": f["queue"], "number": CUSTOMER}, headers=admin)
            assert r.status_code == 201, r.text
            cb = r.json()
            await agent.wait_event("CALL_INCOMING", within_s=20)
            await both_answer(agent, customer)
            answered = time.monotonic()
            await agent.wait_event("CALL_CLOSED", within_s=15)  # the server hung up on the machine
            assert time.monotonic() - answered < 8, agent.describe()
            again = await wait_for(client, admin, cb["id"], last_outcome="voicemail")
            assert (again["status"], again["attempts"]) == ("scheduled", 1), again
            assert again["routing_task_id"] != cb["routing_task_id"]  # the next attempt's task, an hour on
            task = (await client.get(f"/tasks/{again['routing_task_id']}", headers=admin)).json()
            assert task["state"] == "scheduled"
        finally:
            await client.patch(f"/tenants/{tenant['id']}", json={"callback_policy": policy}, headers=admin)
