"""Preview campaigns with real softphones: the contact is shown to the agent (over the API, with the customer record
and the reason) and nothing rings until the agent presses dial; then the agent's phone (baresip, extension 1002)
rings, and on its answer the customer (another baresip behind the tenant's dialing trunk) is dialed. A skip, or a
preview timeout, sends the contact back for later without an attempt; a timeout may dial instead. After the call
the agent sets its disposition."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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
)
from tests.live import LiveServer, api_login, voice_server

pytestmark = needs_baresip


@pytest.fixture(scope="module")
def server(fresh_db_url, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, int]]:  # type: ignore[no-untyped-def]
    with voice_server(asyncio.run(fresh_db_url()), tmp_path_factory.mktemp("voice"), 44000) as served:
        yield served


@asynccontextmanager
async def agent_desk(
    server: tuple[LiveServer, int], tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    """The floor of ``test_callbacks_dialed`` and the agent's own login (``me``)."""
    live, sip_port = server
    async with floor(live, sip_port, tmp_path) as (client, f):
        f["me"] = await api_login(client, "agent2@demo.test", "")
        yield client, f


async def preview_campaign(client: httpx.AsyncClient, f: dict[str, Any], name: str, **extra: Any) -> int:
    await consenting_customer(client, f["admin"])
    return (await running_campaign(client, f, name, mode="preview", **extra))[0]


async def previews(client: httpx.AsyncClient, headers: dict[str, str], count: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while True:
        got = (await client.get("/campaigns/previews", headers=headers)).json()
        if len(got) == count:
            return list(got)
        assert time.monotonic() < deadline, got
        await asyncio.sleep(0.1)


def rang(phone: Any) -> bool:
    return any(e.type == "CALL_INCOMING" for e in phone.events)


async def test_nothing_rings_until_the_agent_dials_then_the_disposition(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    async with agent_desk(server, tmp_path) as (client, f):
        agent, customer, admin, me = f["agent"], f["customer"], f["admin"], f["me"]
        campaign = await preview_campaign(client, f, "Preview dial")
        shown = (await previews(client, me))[0]
        assert (shown["campaign_id"], shown["contact"]["number"], shown["purpose"]) == (campaign, CUSTOMER, "marketing")
        assert shown["customer"]["name"] == "Campaign Customer" and "Preview dial" in shown["reason"]
        until = datetime.fromisoformat(shown["preview_until"])
        assert timedelta(seconds=50) < until - datetime.now(UTC) <= timedelta(seconds=60)
        assert (await client.get("/campaigns/previews", headers=admin)).json() == []  # shown to its agent only
        await asyncio.sleep(2.0)
        assert not rang(agent) and not rang(customer), agent.describe()  # the preview rings nothing
        url = f"/campaigns/{campaign}/contacts/{shown['contact']['id']}"
        r = await client.post(f"{url}/dial", headers=admin)
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_your_task"
        assert (await client.post(f"{url}/dial", headers=me)).status_code == 202
        ringing = await agent.wait_event("CALL_INCOMING", within_s=20)
        assert "48600100200" in (ringing.param or "")
        assert not rang(customer)  # the agent first
        await both_answer(agent, customer)
        done = await contact_of(client, f, campaign, status="done")
        assert (done["attempts"], done["last_outcome"], done["preview_until"]) == (1, "connected", None)
        await customer.hangup()
        await agent.wait_event("CALL_CLOSED", within_s=15)
        warsaw = (datetime.now(UTC) + timedelta(hours=2)).astimezone(ZoneInfo("Europe/Warsaw"))
        body = {"code": "later", "time": warsaw.strftime("%H:%M"), "personal": True}
        r = await client.post(f"{url}/disposition", json=body, headers=me)
        assert r.status_code == 201, r.text
        follow = (await client.get(f"/callbacks/{r.json()['follow_up_callback_id']}", headers=admin)).json()
        due = datetime.fromisoformat(follow["due_at"]).astimezone(ZoneInfo("Europe/Warsaw"))
        assert (due.hour, due.minute, follow["status"]) == (warsaw.hour, warsaw.minute, "scheduled")
        assert follow["personal_agent_id"] == done["last_agent_id"] is not None
        assert (await contact_of(client, f, campaign))["disposition"] == "later"
        await client.post(f"/callbacks/{follow['id']}/cancel", json={"reason": "test over"}, headers=admin)
        await client.patch(f"/campaigns/{campaign}", json={"status": "finished"}, headers=admin)


async def test_a_skipped_contact_goes_back_for_later_without_an_attempt(
    server: tuple[LiveServer, int], tmp_path: Path
) -> None:
    async with agent_desk(server, tmp_path) as (client, f):
        agent, customer, admin, me = f["agent"], f["customer"], f["admin"], f["me"]
        campaign = await preview_campaign(client, f, "Preview skip", spacing_minutes=30)
        shown = (await previews(client, me))[0]
        url = f"/campaigns/{campaign}/contacts/{shown['contact']['id']}"
        assert (await client.post(f"{url}/skip", headers=me)).status_code == 202
        back = await contact_of(client, f, campaign, status="pending")
        assert (back["attempts"], back["preview_until"], back["routing_task_id"]) == (0, None, None)
        later = datetime.fromisoformat(back["next_attempt_at"]) - datetime.now(UTC)
        assert timedelta(minutes=29) < later <= timedelta(minutes=30)  # the campaign's spacing
        assert await previews(client, me, 0) == []
        r = await client.post(f"{url}/skip", headers=me)
        assert r.status_code == 409 and r.json()["error"]["code"] == "not_in_preview"
        await asyncio.sleep(1.0)
        assert not rang(agent) and not rang(customer)
        await client.patch(f"/campaigns/{campaign}", json={"status": "finished"}, headers=admin)


@pytest.mark.parametrize("action", ["skip", "dial"])
async def test_the_preview_timeout_applies_the_campaign_s_action(
    server: tuple[LiveServer, int], tmp_path: Path, action: str
) -> None:
    async with agent_desk(server, tmp_path) as (client, f):
        agent, customer, admin, me = f["agent"], f["customer"], f["admin"], f["me"]
        name = f"Preview timeout {action}"
        campaign = await preview_campaign(client, f, name, preview_timeout_s=5, preview_timeout_action=action)
        shown = await previews(client, me)
        deadline = datetime.fromisoformat(shown[0]["preview_until"])
        assert shown[0]["timeout_action"] == action
        if action == "dial":  # after 5 s the agent's phone rings by itself; the agent turns it down
            await agent.wait_event("CALL_INCOMING", within_s=15)
            await agent.hangup()
        back = await contact_of(client, f, campaign, status="pending")
        assert (back["attempts"], back["preview_until"]) == (0, None)
        assert datetime.now(UTC) > deadline - timedelta(seconds=0.5)  # not before the timeout
        await asyncio.sleep(1.0)
        assert rang(agent) is (action == "dial") and not rang(customer)
        await client.patch(f"/campaigns/{campaign}", json={"status": "finished"}, headers=admin)
