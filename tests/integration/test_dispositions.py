"""Dispositions through the API: set by the agent who handled the call (or a supervisor), stored, and acted on:
a callback closed, tried again or followed by a new one at the customer's "call me later at HH:MM"; "stop calling
me" stopping every campaign at once; campaign contacts closed or retried; bad input refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.outbound.targets import record, target_of
from infolinia.store.models import CampaignContact, Disposition, RoutingTask, TeamMember, User
from infolinia.store.types import utcnow
from tests.conftest import Login

API = "/api/v1"
AGENT = "agent4@demo.test"


async def user_id(center: Infolinia, email: str) -> int:
    async with center.db.session() as s:
        found = await s.scalar(select(User.id).where(User.email == email))
        assert found is not None
        return int(found)


@pytest.fixture(scope="module")
async def desk(center: Infolinia, client: httpx.AsyncClient, login: Login) -> AsyncIterator[dict[str, Any]]:
    """A queue served by agent4 alone (a team of one), always open, with long offers."""
    admin = await login("admin@demo.test")
    team = (await client.post(f"{API}/teams", json={"name": "Disposition desk"}, headers=admin)).json()["id"]
    agent = await user_id(center, AGENT)
    async with center.db.session() as s:
        tenant_id = (await s.get(User, agent)).tenant_id  # type: ignore[union-attr]
        s.add(TeamMember(team_id=team, user_id=agent, tenant_id=tenant_id))
        await s.commit()
    body = {"name": "Disposition desk", "team_id": team, "business_hours": False, "offer_timeout_s": 600}
    r = await client.post(f"{API}/queues", json=body, headers=admin)
    assert r.status_code == 201, r.text
    await center.routing.reload_agents([agent])
    yield {"queue": r.json()["id"], "agent_id": agent, "admin": admin}
    r = await client.put(f"{API}/me/presence", json={"presence": "offline"}, headers=await login(AGENT))
    assert r.status_code == 200, r.text  # every call disposed: nothing left to hold


async def customer(client: httpx.AsyncClient, headers: dict[str, str], name: str, phone: str, **extra: Any) -> int:
    consent = [{"purpose": "marketing_phone", "granted": True, "channel": "web", "source": "signup"}]
    body = {"name": name, "identities": [{"kind": "phone", "value": phone}], "consents": consent} | extra
    r = await client.post(f"{API}/customers", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def held_callback(
    center: Infolinia, client: httpx.AsyncClient, login: Login, desk: dict[str, Any], number: str
) -> dict[str, Any]:
    """A callback in the desk's queue, offered to agent4 and accepted by them (to call by hand)."""
    agent = await login(AGENT)
    body = {"queue_id": desk["queue"], "number": number, "priority": 100, "reason": "invoice question"}
    r = await client.post(f"{API}/callbacks", json=body, headers=desk["admin"])
    assert r.status_code == 201, r.text
    cb = r.json()
    assert (await client.put(f"{API}/me/presence", json={"presence": "ready"}, headers=agent)).status_code == 200
    try:
        task = (await client.get(f"{API}/tasks/{cb['routing_task_id']}", headers=agent)).json()
        assert (task["state"], task["agent_id"]) == ("reserved", desk["agent_id"]), task
        r = await client.post(f"{API}/tasks/{task['id']}/accept", headers=agent)
        assert r.status_code == 200, r.text
    finally:
        r = await client.put(f"{API}/me/presence", json={"presence": "break"}, headers=agent)  # holds it: no offline
        assert r.status_code == 200, r.text
    return dict(cb)


async def dispose(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, status: int = 201, **body: Any
) -> dict[str, Any]:
    r = await client.post(f"{API}{path}/disposition", json=body, headers=headers)
    assert r.status_code == status, r.text
    return dict(r.json())


async def test_a_callback_called_by_hand_call_me_later_at_the_customer_s_time(
    center: Infolinia, client: httpx.AsyncClient, login: Login, desk: dict[str, Any]
) -> None:
    agent, other = await login(AGENT), await login("agent1@demo.test")
    await customer(client, desk["admin"], "Later In New York", "+48600400001", timezone="America/New_York")
    cb = await held_callback(center, client, login, desk, "+48600400001")
    path = f"/callbacks/{cb['id']}"
    refused = await dispose(client, other, path, 403, code="resolved")  # not the agent who holds it
    assert refused["error"]["code"] == "forbidden"
    for bad in ({"code": "later"}, {"code": "resolved", "time": "10:00"}, {"code": "fine"}, {"code": "busy", "x": 1}):
        await dispose(client, agent, path, 422, **bad)
    error = await dispose(client, agent, path, 422, code="later", time="25:61")
    assert error["error"]["code"] == "invalid_time" and "HH:MM" in error["error"]["message"]
    before = datetime.now(UTC)
    done = await dispose(client, agent, path, code="later", time="09:30", personal=True, note="after the meeting")
    assert (done["code"], done["attempt"], done["agent_id"], done["status"]) == (
        "later",
        1,
        desk["agent_id"],
        "completed",
    )
    got = (await client.get(f"{API}{path}", headers=agent)).json()
    assert (got["status"], got["attempts"], got["last_outcome"], got["disposition"]) == (
        "completed", 1, "connected", "later",
    )  # fmt: skip
    follow = (await client.get(f"{API}/callbacks/{done['follow_up_callback_id']}", headers=agent)).json()
    due = datetime.fromisoformat(follow["due_at"])
    local = due.astimezone(ZoneInfo("America/New_York"))
    assert (local.hour, local.minute) == (9, 30) and before < due <= before + timedelta(days=1)
    assert (follow["status"], follow["personal_agent_id"], follow["source"]) == ("scheduled", desk["agent_id"], "agent")
    assert follow["reason"] == "invoice question" and datetime.fromisoformat(done["later_at"]) == due
    again = await dispose(client, agent, path, 409, code="resolved")  # set once per attempt
    assert again["error"]["code"] == "no_call_to_dispose"
    task = (await client.get(f"{API}/tasks/{cb['routing_task_id']}", headers=agent)).json()
    assert task["state"] == "done" and cb["routing_task_id"] not in center.routing.engine.tasks
    async with center.db.session() as s:
        row = await s.scalar(select(Disposition).where(Disposition.callback_id == cb["id"]))
        assert row is not None and (row.code, row.set_by_id, row.note) == (
            "later",
            desk["agent_id"],
            "after the meeting",
        )


async def test_voicemail_after_a_connected_call_is_tried_again_per_the_policy(
    center: Infolinia, client: httpx.AsyncClient, login: Login, desk: dict[str, Any]
) -> None:
    agent = await login(AGENT)
    cb = await held_callback(center, client, login, desk, "+48600400002")
    r = await client.post(f"{API}/callbacks/{cb['id']}/attempts", json={"outcome": "connected"}, headers=agent)
    assert r.json()["status"] == "completed" and r.json()["last_agent_id"] == desk["agent_id"]
    done = await dispose(client, agent, f"/callbacks/{cb['id']}", code="voicemail")
    assert done["status"] == "scheduled"
    got = (await client.get(f"{API}/callbacks/{cb['id']}", headers=agent)).json()
    assert (got["last_outcome"], got["attempts"], got["disposition"]) == ("voicemail", 1, "voicemail")
    retry = datetime.fromisoformat(got["next_attempt_at"]) - datetime.fromisoformat(got["updated_at"])
    assert timedelta(minutes=59) < retry < timedelta(minutes=61)  # the policy's 60 minutes after voicemail
    task = (await client.get(f"{API}/tasks/{got['routing_task_id']}", headers=agent)).json()
    assert got["routing_task_id"] != cb["routing_task_id"] and task["state"] == "scheduled"
    await client.post(f"{API}/callbacks/{cb['id']}/cancel", json={"reason": "test over"}, headers=desk["admin"])


async def test_stop_calling_me_stops_every_campaign_at_once(
    center: Infolinia, client: httpx.AsyncClient, login: Login, desk: dict[str, Any]
) -> None:
    admin, sup = desk["admin"], await login("supervisor@demo.test")
    number = "+48600400003"
    cid = await customer(client, admin, "Stop Everything", number)
    campaigns = []
    for purpose in ("marketing", "service"):
        body = {"name": f"Stop test {purpose}", "purpose": purpose, "queue_id": desk["queue"]}
        made = (await client.post(f"{API}/campaigns", json=body, headers=admin)).json()["id"]
        r = await client.post(
            f"{API}/campaigns/{made}/contacts", content=f"number\n{number}\n".encode(),
            headers=admin | {"content-type": "text/csv"},
        )  # fmt: skip
        assert r.json()["accepted"] == 1
        campaigns.append(made)
    cb = await held_callback(center, client, login, desk, number)
    done = await dispose(client, sup, f"/callbacks/{cb['id']}", code="stop")  # a supervisor, for the agent
    assert (
        done["status"] == "stopped" and done["agent_id"] == desk["agent_id"] and done["set_by_id"] != done["agent_id"]
    )
    assert (await client.get(f"{API}/customers/{cid}", headers=admin)).json()["consent"]["marketing_phone"] is False
    listed = (await client.get(f"{API}/do-not-call", params={"number": number}, headers=admin)).json()
    assert len(listed) == 1 and f"callback {cb['id']}" in listed[0]["reason"]
    for campaign in campaigns:
        contact = (await client.get(f"{API}/campaigns/{campaign}/contacts", headers=admin)).json()["items"][0]
        assert (contact["status"], contact["closed_reason"]) == ("closed", "stop")
        check = f"{API}/campaigns/{campaign}/contacts/{contact['id']}/eligibility"
        assert (await client.get(check, headers=admin)).json()["reason"] == "do_not_call"
    audit = (await client.get(f"{API}/audit", params={"action": "callback.disposed"}, headers=admin)).json()
    items = audit["items"] if isinstance(audit, dict) else audit
    assert any(item["object_id"] == str(cb["id"]) for item in items)


async def connected_contact(
    center: Infolinia, client: httpx.AsyncClient, desk: dict[str, Any], name: str, numbers: list[str]
) -> tuple[int, list[dict[str, Any]]]:
    """A service campaign whose contacts were each called and answered by agent4 (written as the dialer does)."""
    admin = desk["admin"]
    body = {"name": name, "purpose": "service", "queue_id": desk["queue"], "max_attempts": 2}
    campaign = (await client.post(f"{API}/campaigns", json=body, headers=admin)).json()["id"]
    csv = "number,timezone\n" + "".join(f"{n},Asia/Tokyo\n" for n in numbers)
    r = await client.post(
        f"{API}/campaigns/{campaign}/contacts", content=csv.encode(), headers=admin | {"content-type": "text/csv"}
    )
    assert r.json()["accepted"] == len(numbers)
    async with center.db.session() as s:
        contacts = list(await s.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign)))
        for contact in contacts:  # as the runner puts a contact in its queue
            task = RoutingTask(
                tenant_id=contact.tenant_id, queue_id=desk["queue"], channel="callback", skills={},
                enqueued_at=utcnow(), callback_number=contact.number, state="done",
            )  # fmt: skip
            s.add(task)
            await s.flush()
            contact.status, contact.routing_task_id = "calling", task.id
        await s.commit()
        targets = [await target_of(s, c.tenant_id, c.routing_task_id or 0) for c in contacts]
    for target in targets:
        assert target is not None
        await record(center.db, center.bus, target, "connected", utcnow(), desk["agent_id"])
    page = (await client.get(f"{API}/campaigns/{campaign}/contacts", headers=admin)).json()["items"]
    return campaign, page


async def test_campaign_contacts_are_closed_retried_or_called_back(
    center: Infolinia, client: httpx.AsyncClient, login: Login, desk: dict[str, Any]
) -> None:
    agent, other, sup = await login(AGENT), await login("agent1@demo.test"), await login("supervisor@demo.test")
    numbers = ["+48600400011", "+48600400012", "+48600400013", "+48600400014"]
    campaign, contacts = await connected_contact(center, client, desk, "Dispositions", numbers)
    assert [c["status"] for c in contacts] == ["done"] * 4 and contacts[0]["last_agent_id"] == desk["agent_id"]
    path = {c["number"]: f"/campaigns/{campaign}/contacts/{c['id']}" for c in contacts}
    await dispose(client, other, path[numbers[0]], 403, code="resolved")
    assert (await dispose(client, agent, path[numbers[0]], code="wrong_number"))["status"] == "closed"
    assert (await dispose(client, agent, path[numbers[1]], code="no_answer"))["status"] == "pending"
    assert (await dispose(client, sup, path[numbers[2]], code="not_interested"))["status"] == "done"
    await dispose(client, agent, path[numbers[3]], 422, code="later", time="18:00", date="2020-01-01")  # past
    day = (datetime.now(UTC) + timedelta(days=10)).date()
    later = await dispose(client, agent, path[numbers[3]], code="later", time="18:00", date=day.isoformat())
    assert datetime.fromisoformat(later["later_at"]) == datetime.combine(day, time(9, 0), UTC)  # 18:00 in Tokyo
    follow = (await client.get(f"{API}/callbacks/{later['follow_up_callback_id']}", headers=agent)).json()
    assert (follow["number"], follow["queue_id"], follow["personal_agent_id"]) == (numbers[3], desk["queue"], None)
    assert follow["reason"] == "campaign Dispositions: asked to be called back"
    got = {
        c["number"]: c
        for c in (await client.get(f"{API}/campaigns/{campaign}/contacts", headers=agent)).json()["items"]
    }
    assert (got[numbers[0]]["closed_reason"], got[numbers[0]]["disposition"]) == ("wrong_number", "wrong_number")
    assert (got[numbers[1]]["last_outcome"], got[numbers[1]]["attempts"]) == ("no_answer", 1)
    assert got[numbers[2]]["last_outcome"] == "not_interested" and got[numbers[3]]["status"] == "done"
    await dispose(client, agent, path[numbers[1]], 409, code="resolved")  # once per attempt
    body = {"name": "Elsewhere", "purpose": "service", "queue_id": desk["queue"]}
    elsewhere = (await client.post(f"{API}/campaigns", json=body, headers=sup)).json()["id"]
    url = f"{API}/campaigns/{elsewhere}/contacts/{contacts[0]['id']}/disposition"
    r = await client.post(url, json={"code": "resolved"}, headers=agent)
    assert r.status_code == 404
    await client.post(f"{API}/callbacks/{later['follow_up_callback_id']}/cancel", json={"reason": "x"}, headers=sup)


async def test_another_tenant_cannot_dispose(client: httpx.AsyncClient, login: Login, desk: dict[str, Any]) -> None:
    acme = await login("admin@acme.test")
    cb = (await client.get(f"{API}/callbacks", headers=desk["admin"])).json()["items"][0]
    r = await client.post(f"{API}/callbacks/{cb['id']}/disposition", json={"code": "resolved"}, headers=acme)
    assert r.status_code == 404
