"""A predictive campaign dialed customer-first, with real softphones: the customer (baresip, 440 Hz, behind the
tenant's dialing trunk) is rung before any agent; on the answer the agent (baresip, extension 1002, 1000 Hz) is rung
and, answering within 2 s, is bridged: the customer hears silence, then the agent, never music. With no agent, the
customer hears the tenant's identification message (here the tenant's own recording, a 700 Hz tone) 2 s after
answering and is hung up; the attempt is abandoned, counted in the campaign's abandon rate, and the contact is not
dialed again that day."""

from __future__ import annotations

import asyncio
import io
import time
import wave
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from infolinia.outbound.predictive import next_day
from tests.audio import dominant_frequency, level_dbfs, tone
from tests.baresip import needs_baresip, read_wav
from tests.integration.test_callbacks_dialed import CUSTOMER, consenting_customer, contact_of, floor
from tests.live import LiveServer, api_login, voice_server

pytestmark = needs_baresip
MESSAGE_HZ = 700.0


@pytest.fixture(scope="module")
def server(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:  # type: ignore[no-untyped-def]
    with voice_server(asyncio.run(fresh_db_url()), tmp_path_factory.mktemp("voice"), 44000) as served:
        yield served


async def predictive_campaign(client: httpx.AsyncClient, f: dict[str, Any], name: str) -> int:
    admin = f["admin"]
    body = {"name": name, "purpose": "marketing", "queue_id": f["queue"], "mode": "predictive", "spacing_minutes": 1}
    campaign = int((await client.post("/campaigns", json=body, headers=admin)).json()["id"])
    r = await client.post(
        f"/campaigns/{campaign}/contacts", content=f"number\n{CUSTOMER}\n".encode(),
        headers=admin | {"content-type": "text/csv"},
    )  # fmt: skip
    assert r.json()["accepted"] == 1, r.text
    r = await client.patch(f"/campaigns/{campaign}", json={"status": "running"}, headers=admin)
    assert r.status_code == 200, r.text
    return campaign


def windows(path: Path, seconds: float = 0.25) -> list[tuple[float, float, float]]:
    """(start, level in dBFS, dominant frequency or 0 when quieter than -45 dBFS) of each ``seconds`` of a
    recording."""
    samples, rate = read_wav(path)
    step = int(seconds * rate)
    found = []
    for i in range(0, len(samples) - step + 1, step):
        chunk = samples[i : i + step]
        level = level_dbfs(chunk * 32768)
        found.append((i / rate, level, dominant_frequency(chunk, rate) if level >= -45 else 0.0))
    return found


def message_wav(seconds: float) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(tone(MESSAGE_HZ, seconds, -6.0).tobytes())
    return out.getvalue()


async def test_an_answered_customer_is_put_through_to_the_agent_within_two_seconds(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    async with floor(live, sip_port, tmp_path) as (client, f):
        agent, customer, admin = f["agent"], f["customer"], f["admin"]
        await consenting_customer(client, admin)
        campaign = await predictive_campaign(client, f, "Predictive connected")
        await customer.wait_event("CALL_INCOMING", within_s=20)  # the customer first
        await asyncio.sleep(0.5)
        assert not [e for e in agent.events if e.type == "CALL_INCOMING"], "the agent rang before the customer answered"
        await customer.accept()
        await customer.wait_event("CALL_ESTABLISHED")
        answered = time.monotonic()
        ringing = await agent.wait_event("CALL_INCOMING", within_s=2)
        assert "48600100200" in (ringing.param or ""), agent.describe()  # the agent sees whom they talk to
        await agent.accept()
        await agent.wait_event("CALL_ESTABLISHED", within_s=2)
        assert time.monotonic() - answered < 2.0
        done = await contact_of(client, f, campaign, status="done")
        assert (done["attempts"], done["last_outcome"]) == (1, "connected")
        await customer.heard(3.0)
        await asyncio.sleep(1.0)
        await customer.hangup()
        await agent.wait_event("CALL_CLOSED", within_s=15)
        await asyncio.sleep(0.5)  # the recordings are complete once the calls closed
        heard = windows(customer.recordings()[-1])
        # silence until the bridge, then the agent's 1000 Hz: never music, a prompt or a ringing tone
        assert all(level < -45 or abs(hz - 1000) < 20 for _, level, hz in heard), heard
        assert [hz for _, level, hz in heard if level >= -45][-4:] and all(
            abs(hz - 1000) < 20 for _, level, hz in heard[-8:-2]
        ), heard
        samples, rate = read_wav(agent.recordings()[-1])
        assert abs(dominant_frequency(samples[-rate:], rate) - 440) < 15, agent.describe()
        shown = (await client.get(f"/campaigns/{campaign}", headers=admin)).json()["abandon"]
        assert (shown["today"]["answered"], shown["today"]["abandoned"], shown["cap"]) == (1, 0, 0.03)
        # the tenant's identification message was made from its name, as its own prompt
        r = await client.get("/prompts/outbound_identification/audio", headers=admin)
        assert r.status_code == 200 and r.headers["x-prompt-source"] == "tenant", r.headers
        await client.patch(f"/campaigns/{campaign}", json={"status": "finished"}, headers=admin)


async def test_with_no_agent_the_customer_hears_who_called_and_is_not_called_again_that_day(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    live, sip_port = server
    async with floor(live, sip_port, tmp_path) as (client, f):
        agent, customer, admin = f["agent"], f["customer"], f["admin"]
        for language in ("pl", "en"):  # the tenant's own identification message
            r = await client.put(
                "/prompts/outbound_identification", params={"language": language}, content=message_wav(3.0),
                headers=admin | {"content-type": "audio/wav"},
            )  # fmt: skip
            assert r.status_code in (200, 201), r.text
        await consenting_customer(client, admin)
        agent_headers = await api_login(client, "agent2@demo.test", "")
        campaign = await predictive_campaign(client, f, "Predictive abandoned")
        await customer.wait_event("CALL_INCOMING", within_s=20)
        r = await client.put("/me/presence", json={"presence": "break"}, headers=agent_headers)  # nobody left
        assert r.status_code == 200, r.text
        await customer.accept()
        await customer.wait_event("CALL_ESTABLISHED")
        await customer.wait_event("CALL_CLOSED", within_s=15)  # hung up after the message
        r = await client.put("/me/presence", json={"presence": "ready"}, headers=agent_headers)
        await asyncio.sleep(0.5)
        heard = windows(customer.recordings()[-1])
        loud = [(at, hz) for at, level, hz in heard if level >= -45]
        assert loud and all(abs(hz - MESSAGE_HZ) < 20 for _, hz in loud), heard  # the message only: no music
        assert 1.5 <= loud[0][0] <= 3.0, heard  # from 2 s after the answer
        assert loud[-1][0] - loud[0][0] >= 2.5, heard  # the whole message
        assert not [e for e in agent.events if e.type == "CALL_INCOMING"], agent.describe()
        abandoned = await contact_of(client, f, campaign, last_outcome="abandoned")
        assert (abandoned["status"], abandoned["attempts"]) == ("pending", 1)
        tenant = (await client.get("/tenants", headers=admin)).json()[0]
        tomorrow = next_day(datetime.now(UTC), tenant["timezone"])
        assert datetime.fromisoformat(abandoned["next_attempt_at"]) == tomorrow
        assert tomorrow.astimezone(ZoneInfo(tenant["timezone"])).time().isoformat() == "00:00:00"
        shown = (await client.get(f"/campaigns/{campaign}", headers=admin)).json()["abandon"]
        assert (shown["today"]["answered"], shown["today"]["abandoned"], shown["today"]["rate"]) == (1, 1, 1.0)
        await asyncio.sleep(5.0)  # two rounds of the runner, an agent ready again: no second call
        assert len([e for e in customer.events if e.type == "CALL_INCOMING"]) == 1, customer.describe()
        await client.patch(f"/campaigns/{campaign}", json={"status": "finished"}, headers=admin)
