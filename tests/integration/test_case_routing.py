"""Cases routed as tasks: the demo's second rung (billing back office) has a queue, so an escalated case waits
there as a routing task (channel ``case``) and the routing engine offers it to the back office's agent; accepting
it makes the case theirs; resolving the case takes the task back. With nobody ready the task waits in the queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import Login

API = "/api/v1"


async def ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json())


@pytest.fixture
async def back_office(client: httpx.AsyncClient, login: Login) -> AsyncIterator[dict[str, str]]:
    """The back office's agent, who must not be handed something else first: the contacts other tests left
    waiting in queues it could serve (those of no team, or of its team) are taken back before it goes ready."""
    headers, admin = await login("backoffice@demo.test"), await login("admin@demo.test")
    me = await ok(await client.get(f"{API}/auth/me", headers=headers))
    teams = set((await ok(await client.get(f"{API}/users/{me['id']}", headers=admin)))["team_ids"])
    servable = {q["id"] for q in (await client.get(f"{API}/queues", headers=admin)).json()
                if q["team_id"] is None or q["team_id"] in teams}  # fmt: skip
    waiting = await ok(await client.get(f"{API}/tasks", params={"state": "waiting", "limit": 500}, headers=admin))
    for task in waiting["items"]:
        if task["queue_id"] in servable and task["channel"] != "case":
            await ok(await client.delete(f"{API}/tasks/{task['id']}", headers=admin))
    yield headers
    await ok(await client.put(f"{API}/me/presence", json={"presence": "offline"}, headers=headers))


async def escalated_case(client: httpx.AsyncClient, agent: dict[str, str], subject: str) -> dict[str, Any]:
    case = await ok(await client.post(f"{API}/cases", json={"subject": subject, "category": "billing"},
                                      headers=agent), 201)  # fmt: skip
    assert case["tier"] == 0  # the front line's rung has no queue: no task
    return await ok(await client.post(f"{API}/cases/{case['id']}/escalate", json={"reason": "Refund"},
                                      headers=agent))  # fmt: skip


async def test_an_escalated_case_is_offered_to_the_back_office_and_accepting_makes_it_theirs(
    client: httpx.AsyncClient, login: Login, back_office: dict[str, str]
) -> None:
    agent = await login("agent1@demo.test")
    me = (await ok(await client.get(f"{API}/auth/me", headers=back_office)))["id"]
    await ok(await client.put(f"{API}/me/presence", json={"presence": "ready"}, headers=back_office))
    case = await escalated_case(client, agent, "Double charge")
    assert case["routing_task_id"] is not None
    task = await ok(await client.get(f"{API}/tasks/{case['routing_task_id']}", headers=back_office))
    assert task["channel"] == "case" and task["agent_id"] == me and task["priority"] == 1
    assert task["state"] == "reserved"
    await ok(await client.post(f"{API}/tasks/{task['id']}/accept", headers=back_office))
    mine = await ok(await client.get(f"{API}/cases/{case['id']}", headers=back_office))
    assert mine["assignee_id"] == me and mine["status"] == "open"
    assert mine["entries"][-1]["kind"] == "assigned" and mine["entries"][-1]["data"]["task_id"] == task["id"]
    await ok(await client.post(f"{API}/cases/{case['id']}/status", json={"status": "resolved"}, headers=back_office))
    done = await ok(await client.get(f"{API}/tasks/{task['id']}", headers=back_office))
    assert done["state"] == "done"


async def test_with_nobody_ready_the_case_waits_in_the_queue_until_it_is_resolved(
    client: httpx.AsyncClient, login: Login
) -> None:
    agent = await login("agent1@demo.test")
    case = await escalated_case(client, agent, "Wrong tariff")
    task = await ok(await client.get(f"{API}/tasks/{case['routing_task_id']}", headers=agent))
    assert task["state"] == "waiting" and task["channel"] == "case"
    await ok(await client.post(f"{API}/cases/{case['id']}/status", json={"status": "closed"}, headers=agent))
    assert (await ok(await client.get(f"{API}/tasks/{task['id']}", headers=agent)))["state"] == "done"
    again = await ok(await client.post(f"{API}/cases/{case['id']}/reopen", json={"reason": "Not fixed"},
                                       headers=agent))  # fmt: skip
    assert again["tier"] == 1 and again["routing_task_id"] > task["id"]  # back in the back office's queue
    fresh = await ok(await client.get(f"{API}/tasks/{again['routing_task_id']}", headers=agent))
    assert fresh["state"] == "waiting"
    top = await ok(await client.post(f"{API}/cases/{case['id']}/escalate", json={"reason": "Manager"}, headers=agent))
    assert top["routing_task_id"] is None  # the top rung has no queue: the task is taken back
    assert (await ok(await client.get(f"{API}/tasks/{fresh['id']}", headers=agent)))["state"] == "done"
