"""The screen pop: an agent offered a task reads, in one call, the customer's record and timeline, the case the
task is for and the customer's other open cases, and the scripts suggested for it; nobody else but supervisors may
read it. The back office of the demo (whose queue gets escalated billing cases) is the agent here."""

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
    """The back office's agent, ready, with no other contact waiting for it first."""
    headers, admin = await login("backoffice@demo.test"), await login("admin@demo.test")
    me = await ok(await client.get(f"{API}/auth/me", headers=headers))
    teams = set((await ok(await client.get(f"{API}/users/{me['id']}", headers=admin)))["team_ids"])
    servable = {q["id"] for q in (await client.get(f"{API}/queues", headers=admin)).json()
                if q["team_id"] is None or q["team_id"] in teams}  # fmt: skip
    waiting = await ok(await client.get(f"{API}/tasks", params={"state": "waiting", "limit": 500}, headers=admin))
    for task in waiting["items"]:
        if task["queue_id"] in servable:
            await ok(await client.delete(f"{API}/tasks/{task['id']}", headers=admin))
    for task in (await ok(await client.get(f"{API}/tasks", params={"state": "reserved", "limit": 500},
                                           headers=admin)))["items"]:  # fmt: skip
        if task["agent_id"] == me["id"]:
            await ok(await client.delete(f"{API}/tasks/{task['id']}", headers=admin))
    await ok(await client.put(f"{API}/me/presence", json={"presence": "ready"}, headers=headers))
    yield headers
    await ok(await client.put(f"{API}/me/presence", json={"presence": "offline"}, headers=headers))


async def test_the_agent_offered_a_case_sees_the_customer_the_cases_and_the_scripts(
    client: httpx.AsyncClient, login: Login, back_office: dict[str, str]
) -> None:
    agent, supervisor = await login("agent1@demo.test"), await login("supervisor@demo.test")
    customer = await ok(await client.post(f"{API}/customers", json={"name": "Ewa Kontekstowa", "language": "pl"},
                                          headers=agent), 201)  # fmt: skip
    call = await ok(await client.post(f"{API}/interactions", json={
        "channel": "voice", "direction": "in", "customer_id": customer["id"]}, headers=agent), 201)  # fmt: skip
    other = await ok(
        await client.post(
            f"{API}/cases",
            json={"subject": "Router replaced", "category": "question", "customer_id": customer["id"]},
            headers=agent,
        ),
        201,
    )
    case = await ok(await client.post(f"{API}/cases", json={
        "subject": "Invoice charged twice", "category": "billing", "interaction_id": call["id"],
        "description": "Two invoices for November."}, headers=agent), 201)  # fmt: skip
    case = await ok(await client.post(f"{API}/cases/{case['id']}/escalate", json={"reason": "Refund"}, headers=agent))
    task_id = case["routing_task_id"]
    task = await ok(await client.get(f"{API}/tasks/{task_id}", headers=back_office))
    assert task["state"] == "reserved"  # offered to the back office

    ctx = await ok(await client.get(f"{API}/tasks/{task_id}/context", headers=back_office))
    assert ctx["task"]["id"] == task_id and ctx["customer"]["name"] == "Ewa Kontekstowa"
    assert [c["id"] for c in ctx["cases"]] == [case["id"]]  # the other case is not its team's: not shown
    kinds = [item["kind"] for item in ctx["timeline"]]
    assert "case" in kinds and "case_entry" in kinds
    assert all(item.get("case_id", case["id"]) == case["id"] for item in ctx["timeline"] if item["kind"] != "consent")
    names = [s["name"] for s in ctx["scripts"]]
    assert names[:2] == ["Reklamacja faktury", "Invoice complaint"]  # the case's category; Polish customer first
    assert ctx["scripts"][0]["reasons"][0]["kind"] == "category"

    full = await ok(await client.get(f"{API}/tasks/{task_id}/context", headers=supervisor))  # sees every case
    assert [c["id"] for c in full["cases"]] == [case["id"], other["id"]]
    assert {"interaction", "case"} <= {item["kind"] for item in full["timeline"]}
    page = await ok(await client.get(f"{API}/tasks/{task_id}/context", params={"timeline_limit": 1},
                                     headers=supervisor))  # fmt: skip
    assert len(page["timeline"]) == 1 and page["timeline_next_before"] is not None
    rest = await ok(await client.get(f"{API}/customers/{customer['id']}/timeline",
                                     params={"before": page["timeline_next_before"]}, headers=supervisor))  # fmt: skip
    assert rest["items"] and rest["items"][0] == full["timeline"][1]

    r = await client.get(f"{API}/tasks/{task_id}/context", headers=agent)  # not offered to agent1
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_your_task"  # as for accepting it
    await ok(await client.post(f"{API}/cases/{case['id']}/status", json={"status": "resolved"}, headers=agent))
