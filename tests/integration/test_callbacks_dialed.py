"""Callbacks dialed agent-first, with real softphones: the agent (baresip, extension 1002, 1000 Hz) is rung and
answers first; only then is the customer (another baresip, 440 Hz, behind the tenant's dialing trunk) called, and
from their answer on they hear the agent: no prompt, no music, no ringing tone. A customer who is busy leaves the
callback to be tried again, and the agent's phone is hung up. The same with SIPp as the customer (the issue's
acceptance peer): its INVITE comes only once the agent's leg is up, and every RTP packet it receives, from the
first, carries the agent's tone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from infolinia.voice.rtp.g711 import ulaw_decode_array
from tests.audio import dominant_frequency
from tests.baresip import needs_baresip, read_wav, running_baresip
from tests.live import LiveServer, api_login, voice_server
from tests.rtppeer import Peer, eventually
from tests.sipp import customers, free_udp_ports, logged, needs_sipp, sipp_phone

pytestmark = needs_baresip
CUSTOMER = "+48600100200"


@pytest.fixture(scope="module")
def server(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:  # type: ignore[no-untyped-def]
    with voice_server(asyncio.run(fresh_db_url()), tmp_path_factory.mktemp("voice"), 42000) as served:
        yield served


@asynccontextmanager
async def floor(
    live: LiveServer,
    sip_port: int,
    tmp_path: Path,
    customer_port: int | None = None,
    customer_says: Path | None = None,
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The agent's phone registered and the agent ready; the customer's phone behind a dialing trunk: a baresip
    (sending a 440 Hz tone, or the WAV ``customer_says``), or whatever answers on ``customer_port`` (then
    ``customer`` is None)."""
    async with AsyncExitStack() as stack:
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=f"{live.base_url}/api/v1", timeout=10))
        admin, agent_headers = (
            await api_login(client, "admin@demo.test", ""),
            await api_login(client, "agent2@demo.test", ""),
        )
        agent = await stack.enter_async_context(running_baresip(tmp_path / "agent", tone_hz=1000))
        customer = None
        if customer_port is None:
            customer = await stack.enter_async_context(
                running_baresip(tmp_path / "customer", tone_hz=440, source=customer_says)
            )
            await customer.local_account(CUSTOMER)
            customer_port = customer.sip_port
        await agent.register("1002", "demo", ("127.0.0.1", sip_port))
        await agent.wait_registered()
        trunk = {
            "name": f"Carrier {customer_port}", "allowed_sources": ["192.0.2.1/32"],
            "dial_to": f"127.0.0.1:{customer_port}", "caller_id": "+48800100200",
        }  # fmt: skip
        r = await client.post("/trunks", json=trunk, headers=admin)
        assert r.status_code == 201, r.text
        trunk_id = r.json()["id"]
        stack.push_async_callback(client.delete, f"/trunks/{trunk_id}", headers=admin)
        queues = {q["name"]: q["id"] for q in (await client.get("/queues", headers=admin)).json()}
        r = await client.put("/me/presence", json={"presence": "ready"}, headers=agent_headers)
        assert r.status_code == 200, r.text
        stack.push_async_callback(client.put, "/me/presence", json={"presence": "offline"}, headers=agent_headers)
        yield client, {"admin": admin, "queue": queues["Technical"], "agent": agent, "customer": customer}


def frequency(path: Path, start_s: float, seconds: float) -> float:
    samples, rate = read_wav(path)
    return dominant_frequency(samples[int(start_s * rate) : int((start_s + seconds) * rate)], rate)


async def callback(client: httpx.AsyncClient, headers: dict[str, str], callback_id: int) -> dict[str, Any]:
    return dict((await client.get(f"/callbacks/{callback_id}", headers=headers)).json())


async def wait_for(client: httpx.AsyncClient, headers: dict[str, str], callback_id: int, **want: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        got = await callback(client, headers, callback_id)
        if all(got[k] == v for k, v in want.items()):
            return got
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.1)


async def test_the_agent_first_then_the_customer_who_hears_only_the_agent(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    async with floor(live, sip_port, tmp_path) as (client, f):
        agent, customer, admin = f["agent"], f["customer"], f["admin"]
        r = await client.post("/callbacks", json={"queue_id": f["queue"], "number": CUSTOMER}, headers=admin)
        assert r.status_code == 201, r.text
        cb = r.json()
        ringing = await agent.wait_event("CALL_INCOMING", within_s=20)
        assert "48600100200" in (ringing.param or ""), agent.describe()  # the agent sees whom they will call
        await asyncio.sleep(0.5)
        assert not [e for e in customer.events if e.type == "CALL_INCOMING"], "the customer rang before the agent"
        await agent.accept()
        await agent.wait_event("CALL_ESTABLISHED")
        agent_up = time.monotonic()
        await customer.wait_event("CALL_INCOMING", within_s=20)
        assert time.monotonic() >= agent_up
        await customer.accept()
        await customer.wait_event("CALL_ESTABLISHED")
        by_customer = await customer.heard(2.5)
        by_agent = await agent.heard(2.5)
        await asyncio.sleep(1.0)
        done = await wait_for(client, admin, cb["id"], status="completed")  # recorded at the answer
        assert (done["attempts"], done["last_outcome"], done["promise_kept"]) == (1, "connected", True)
        started = datetime.fromisoformat(done["first_attempt_at"])
        assert datetime.fromisoformat(cb["requested_at"]) <= started <= datetime.fromisoformat(cb["keep_by"])
        await customer.hangup()
        await agent.wait_event("CALL_CLOSED", within_s=15)
        await asyncio.sleep(0.5)  # the recordings are complete files once the calls closed
        # from the first moment the customer hears the agent's 1000 Hz: no prompt, music or ringing tone
        assert abs(frequency(by_customer, 0.0, 0.5) - 1000) < 15, customer.describe()
        assert abs(frequency(by_customer, 1.5, 1.0) - 1000) < 15, customer.describe()
        samples, rate = read_wav(by_agent)
        assert abs(dominant_frequency(samples[-rate:], rate) - 440) < 15, agent.describe()
        since = (started - timedelta(minutes=1)).isoformat()
        page = await client.get("/interactions", params={"channel": "callback", "since": since}, headers=admin)
        call = max(page.json()["items"], key=lambda item: int(item["id"]))
        assert (call["direction"], call["to_address"], call["queue_id"]) == ("out", CUSTOMER, f["queue"])
        assert call["agent_id"] is not None and call["answered_at"] is not None
        deadline = time.monotonic() + 10
        while call["ended_at"] is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            call = (await client.get(f"/interactions/{call['id']}", headers=admin)).json()
        assert call["end_reason"] == "customer_hangup" and call["ended_at"] is not None
        task = (await client.get(f"/tasks/{cb['routing_task_id']}", headers=admin)).json()
        assert task["state"] == "done"


@needs_sipp
async def test_a_sipp_customer_is_invited_after_the_agent_answers_and_hears_only_the_agent(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    media = Peer()  # the customer's RTP: SIPp's answer points here
    customer_port = free_udp_ports(1)
    try:
        scenario = customers(hang_up_after_ms=None)
        with sipp_phone(tmp_path / "customer", scenario, customer_port, media.address[1]) as log:
            async with floor(live, sip_port, tmp_path, customer_port) as (client, f):
                agent, admin = f["agent"], f["admin"]
                r = await client.post("/callbacks", json={"queue_id": f["queue"], "number": CUSTOMER}, headers=admin)
                assert r.status_code == 201, r.text
                cb = r.json()
                await agent.wait_event("CALL_INCOMING", within_s=20)
                await asyncio.sleep(1.0)
                assert not logged(log, "INVITE"), "the customer was invited before the agent answered"
                await agent.accept()
                await agent.wait_event("CALL_ESTABLISHED")
                await eventually(lambda: logged(log, "ACK"), 20, "the customer's answer")
                assert logged(log, "INVITE") == logged(log, "ACK") == {CUSTOMER: 1}, log.read_text()
                packets = await media.wait_for(100, payload_type=0)  # two seconds of the customer's line
                done = await wait_for(client, admin, cb["id"], status="completed")
                assert (done["attempts"], done["last_outcome"]) == (1, "connected")
                await agent.hangup()  # the server hangs the customer up (SIPp answers the BYE)
                await agent.wait_event("CALL_CLOSED", within_s=15)
    finally:
        media.close()
    # from the first packet on, every 100 ms of what the customer got is the agent's 1000 Hz: no prompt, no music
    audio = ulaw_decode_array(b"".join(p.payload for p in packets))
    heard = [dominant_frequency(audio[i : i + 800]) for i in range(0, len(audio) - 799, 800)]
    assert len(heard) >= 19 and all(abs(hz - 1000) < 15 for hz in heard), heard


async def test_a_busy_customer_is_tried_again_later(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    live, sip_port = server
    async with floor(live, sip_port, tmp_path) as (client, f):
        agent, customer, admin = f["agent"], f["customer"], f["admin"]
        r = await client.post("/callbacks", json={"queue_id": f["queue"], "number": CUSTOMER}, headers=admin)
        cb = r.json()
        await agent.wait_event("CALL_INCOMING", within_s=20)
        await agent.accept()
        await agent.wait_event("CALL_ESTABLISHED")
        await customer.wait_event("CALL_INCOMING", within_s=20)
        await customer.hangup()  # rejects the incoming call: 486 Busy Here
        await agent.wait_event("CALL_CLOSED", within_s=15)  # the server hung up the agent's phone
        again = await wait_for(client, admin, cb["id"], last_outcome="busy")
        assert (again["status"], again["attempts"], again["promise_kept"]) == ("scheduled", 1, True)
        first = datetime.fromisoformat(again["first_attempt_at"])
        retry = datetime.fromisoformat(again["next_attempt_at"])
        assert timedelta(minutes=9) < retry - first < timedelta(minutes=11)  # the policy's 10 minutes after busy
        assert again["routing_task_id"] != cb["routing_task_id"]
        task = (await client.get(f"/tasks/{again['routing_task_id']}", headers=admin)).json()
        assert task["state"] == "scheduled"


async def consenting_customer(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    """The customer behind CUSTOMER, with phone-marketing consent granted now."""
    found = (await client.get("/customers", params={"phone": CUSTOMER}, headers=headers)).json()["items"]
    if found:
        customer = found[0]["id"]
    else:
        body = {"name": "Campaign Customer", "identities": [{"kind": "phone", "value": CUSTOMER}]}
        customer = (await client.post("/customers", json=body, headers=headers)).json()["id"]
    consent = {"purpose": "marketing_phone", "granted": True, "channel": "web", "source": "signup"}
    assert (await client.post(f"/customers/{customer}/consent", json=consent, headers=headers)).status_code == 201
    return int(customer)


async def running_campaign(client: httpx.AsyncClient, f: dict[str, Any], name: str, **settings: Any) -> tuple[int, int]:
    """A running marketing campaign (progressive unless ``settings`` say otherwise) whose one contact is CUSTOMER."""
    admin = f["admin"]
    body = {"name": name, "purpose": "marketing", "queue_id": f["queue"], "mode": "progressive"} | settings
    r = await client.post("/campaigns", json=body, headers=admin)
    assert r.status_code == 201, r.text
    campaign = r.json()["id"]
    r = await client.post(
        f"/campaigns/{campaign}/contacts", content=f"number\n{CUSTOMER}\n".encode(),
        headers=admin | {"content-type": "text/csv"},
    )  # fmt: skip
    assert r.json()["accepted"] == 1, r.text
    contact = (await client.get(f"/campaigns/{campaign}/contacts", headers=admin)).json()["items"][0]["id"]
    r = await client.patch(f"/campaigns/{campaign}", json={"status": "running"}, headers=admin)
    assert r.status_code == 200, r.text
    return campaign, contact


async def contact_of(client: httpx.AsyncClient, f: dict[str, Any], campaign: int, **want: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while True:
        got = (await client.get(f"/campaigns/{campaign}/contacts", headers=f["admin"])).json()["items"][0]
        if all(got[k] == v for k, v in want.items()):
            return dict(got)
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.1)


async def both_answer(agent: Any, customer: Any) -> None:
    """The agent answers their ringing phone, then the customer, rung next, answers theirs."""
    await agent.accept()
    await agent.wait_event("CALL_ESTABLISHED")
    await customer.wait_event("CALL_INCOMING", within_s=20)
    await customer.accept()
    await customer.wait_event("CALL_ESTABLISHED")


async def test_a_campaign_contact_is_dialed_agent_first(server: tuple[LiveServer, int], tmp_path: Path) -> None:
    live, sip_port = server
    async with floor(live, sip_port, tmp_path) as (client, f):
        agent, customer = f["agent"], f["customer"]
        await consenting_customer(client, f["admin"])
        campaign, _ = await running_campaign(client, f, "Agent first")
        ringing = await agent.wait_event("CALL_INCOMING", within_s=20)
        assert "48600100200" in (ringing.param or ""), agent.describe()
        assert (await contact_of(client, f, campaign, status="calling"))["routing_task_id"] is not None
        await both_answer(agent, customer)
        done = await contact_of(client, f, campaign, status="done")
        assert (done["attempts"], done["last_outcome"]) == (1, "connected")
        await customer.hangup()
        await agent.wait_event("CALL_CLOSED", within_s=15)
        await client.patch(f"/campaigns/{campaign}", json={"status": "finished"}, headers=f["admin"])


async def test_a_withdrawal_while_the_agent_rings_stops_the_call_before_any_invite(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    async with floor(live, sip_port, tmp_path) as (client, f):
        agent, customer = f["agent"], f["customer"]
        customer_id = await consenting_customer(client, f["admin"])
        campaign, _ = await running_campaign(client, f, "Withdrawn")
        await agent.wait_event("CALL_INCOMING", within_s=20)
        withdrawal = {"purpose": "marketing_phone", "granted": False, "channel": "voice", "source": "asked"}
        r = await client.post(f"/customers/{customer_id}/consent", json=withdrawal, headers=f["admin"])
        assert r.status_code == 201
        await agent.accept()
        await agent.wait_event("CALL_CLOSED", within_s=15)  # the server hung the agent's phone up
        closed = await contact_of(client, f, campaign, status="closed")
        assert (closed["closed_reason"], closed["attempts"]) == ("no_consent", 0)
        await asyncio.sleep(2.0)
        assert not [e for e in customer.events if e.type == "CALL_INCOMING"], customer.describe()  # no INVITE
        await client.patch(f"/campaigns/{campaign}", json={"status": "finished"}, headers=f["admin"])
