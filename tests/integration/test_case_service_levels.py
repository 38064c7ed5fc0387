"""A case past its service level climbs the ladder by itself: the watcher (``check_service_levels``, run here with
explicit times, as the server's background loop runs it every 30 s with the real time) warns at 80 %, and on the
breach writes the timeline, the audit log and a live event the duty manager (a supervisor) receives, then
escalates. The tenant is acme, whose policy the test sets and puts back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from infolinia.access import Actor
from infolinia.api.routes.live import visible
from infolinia.app import Infolinia
from infolinia.cases.actions import check_service_levels
from infolinia.store.models import AuditEvent, Case, Role
from infolinia.store.uow import SYSTEM, write
from tests.conftest import Login

API = "/api/v1"
POLICY = {"sla": [{"priority": "urgent", "first_response_minutes": 10, "resolution_minutes": 60,
                   "around_the_clock": True}]}  # fmt: skip


@pytest.fixture
async def acme(client: httpx.AsyncClient, login: Login) -> AsyncIterator[int]:
    admin = await login("admin@acme.test")
    tenant = (await client.get(f"{API}/auth/me", headers=admin)).json()["tenant_id"]
    r = await client.patch(f"{API}/tenants/{tenant}", json={"case_policy": POLICY}, headers=admin)
    assert r.status_code == 200, r.text
    yield int(tenant)
    r = await client.patch(f"{API}/tenants/{tenant}", json={"case_policy": {}}, headers=admin)
    assert r.status_code == 200


async def urgent_case(client: httpx.AsyncClient, agent: dict[str, str], subject: str) -> dict[str, Any]:
    body = {"subject": subject, "category": "question", "priority": "urgent"}
    r = await client.post(f"{API}/cases", json=body, headers=agent)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def check(center: Infolinia, at: datetime) -> None:
    async with write(center.db, center.bus, SYSTEM) as tx:
        await check_service_levels(tx, at)


async def test_a_breach_warns_first_then_escalates_with_audit_and_a_live_event(
    client: httpx.AsyncClient, login: Login, center: Infolinia, acme: int
) -> None:
    agent = await login("agent1@acme.test")
    case = await urgent_case(client, agent, "Line down")
    sla = case["sla"]
    assert sla["first_response"]["state"] == "running" and sla["first_response"]["target_s"] == 600
    filed = datetime.fromisoformat(case["created_at"])
    assert abs(datetime.fromisoformat(sla["first_response"]["due_at"]) - (filed + timedelta(minutes=10))) < timedelta(
        seconds=1
    )
    duty_manager = Actor(user_id=0, email="duty@acme.test", role=Role.SUPERVISOR, tenant_id=acme)
    with center.bus.subscribe(100, lambda e: e.type.startswith("case.") and e.data["id"] == case["id"]) as sub:
        await check(center, filed + timedelta(minutes=5))  # half-way: nothing to say
        await check(center, filed + timedelta(minutes=8, seconds=30))  # past 80 %: a warning
        await check(center, filed + timedelta(minutes=9))  # said once
        await check(center, filed + timedelta(minutes=10, seconds=5))  # breached: climbs a rung
        await check(center, filed + timedelta(minutes=10, seconds=35))  # and only once
        events = []
        while True:
            try:
                events.append(await asyncio.wait_for(sub.get(), 0.2))
            except TimeoutError:
                break
    assert [e.type for e in events] == ["case.sla_warning", "case.sla_breached", "case.escalated"]
    assert events[0].data["metrics"] == ["first_response"] and events[1].data["metrics"] == ["first_response"]
    assert events[2].data["tier"] == 1 and events[2].data["reason"] == "service level breached: first response"
    assert all(visible(duty_manager, e) for e in events)
    r = await client.get(f"{API}/cases/{case['id']}", headers=agent)
    now = r.json()
    assert now["status"] == "escalated" and now["tier"] == 1 and now["tier_name"] == "Back office"
    assert [e["kind"] for e in now["entries"]][-3:] == ["sla_warning", "sla_breached", "escalated"]
    assert now["entries"][-1]["author_id"] is None  # the system did it
    async with center.db.session() as s:
        actions = set(await s.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(case["id"]))))
        row = await s.get(Case, case["id"])
    assert {"case.sla_warning", "case.sla_breached", "case.escalated"} <= actions
    assert row is not None and row.sla_check_at is not None  # the resolution clock still runs
    await check(center, filed + timedelta(minutes=61))  # and breaches too: to the top rung
    r = await client.get(f"{API}/cases/{case['id']}", headers=agent)
    breach = [e for e in r.json()["entries"] if e["kind"] == "sla_breached"][-1]
    assert r.json()["tier"] == 2 and breach["data"]["metrics"] == ["resolution"]
    await check(center, filed + timedelta(minutes=90))  # on the top rung: nothing more happens
    assert (await client.get(f"{API}/cases/{case['id']}", headers=agent)).json()["tier"] == 2


async def test_answering_in_time_and_waiting_for_the_customer_keep_the_case_where_it_is(
    client: httpx.AsyncClient, login: Login, center: Infolinia, acme: int
) -> None:
    agent = await login("agent1@acme.test")
    case = await urgent_case(client, agent, "Slow line")
    filed = datetime.fromisoformat(case["created_at"])
    r = await client.post(f"{API}/cases/{case['id']}/entries", json={"body": "We are on it.", "internal": False},
                          headers=agent)  # fmt: skip
    assert r.json()["sla"]["first_response"]["state"] == "met"
    r = await client.post(f"{API}/cases/{case['id']}/status", json={"status": "pending_customer"}, headers=agent)
    assert r.json()["sla"]["resolution"]["state"] == "paused" and r.json()["sla"]["resolution"]["due_at"] is None
    await check(center, filed + timedelta(hours=5))  # paused: no breach however long the customer takes
    r = await client.get(f"{API}/cases/{case['id']}", headers=agent)
    assert r.json()["tier"] == 0 and r.json()["status"] == "pending_customer"
    assert not any(e["kind"].startswith("sla_") for e in r.json()["entries"])
    r = await client.post(f"{API}/cases/{case['id']}/status", json={"status": "resolved"}, headers=agent)
    assert r.json()["sla"]["resolution"]["state"] == "met"


async def test_the_customers_messages_start_next_response_rounds(
    client: httpx.AsyncClient, login: Login, center: Infolinia, acme: int
) -> None:
    admin = await login("admin@acme.test")
    policy = {"sla": [{"first_response_minutes": 10, "next_response_minutes": 30, "around_the_clock": True}]}
    r = await client.patch(f"{API}/tenants/{acme}", json={"case_policy": policy}, headers=admin)
    assert r.status_code == 200, r.text
    agent = await login("agent1@acme.test")
    case = await urgent_case(client, agent, "Refund")
    entries = f"{API}/cases/{case['id']}/entries"

    async def add(**body: Any) -> dict[str, Any]:
        r = await client.post(entries, json=body, headers=agent)
        assert r.status_code == 201, r.text
        return dict(r.json())

    after = await add(body="The refund is late again.", from_customer=True)  # before the first response
    assert "next_response" not in after["sla"] and after["entries"][-1]["kind"] == "customer_message"
    assert after["entries"][-1]["internal"] is False
    after = await add(body="We are on it.", internal=False)
    assert after["sla"]["first_response"]["state"] == "met"
    r = await client.post(f"{API}/cases/{case['id']}/status", json={"status": "pending_customer"}, headers=agent)
    assert r.status_code == 200
    after = await add(body="Here is my account number.", from_customer=True)
    assert after["status"] == "open"  # the customer answered: no longer pending them
    assert after["sla"]["next_response"]["state"] == "running" and after["sla"]["next_response"]["target_s"] == 1800
    with center.bus.subscribe(100, lambda e: e.type == "case.sla_breached" and e.data["id"] == case["id"]) as sub:
        await check(center, datetime.fromisoformat(after["updated_at"]) + timedelta(minutes=31))
        assert (await asyncio.wait_for(sub.get(), 1)).data["metrics"] == ["next_response"]
    after = await add(body="Refund sent.", internal=False)  # the round reported breached counts as missed
    assert after["sla"]["next_response_rounds"] == {"met": 0, "missed": 1}
    assert after["sla"]["next_response"]["due_at"] is None  # stopped
    r = await client.post(entries, json={"body": "x", "from_customer": True, "internal": True}, headers=agent)
    assert r.status_code == 422


async def test_compliance_of_the_cases_filed_in_a_period(
    client: httpx.AsyncClient, login: Login, center: Infolinia, acme: int
) -> None:
    agent, admin = await login("agent1@acme.test"), await login("admin@acme.test")
    answered = await urgent_case(client, agent, "Compliance one")
    waiting = await urgent_case(client, agent, "Compliance two")
    r = await client.post(f"{API}/cases/{answered['id']}/entries", json={"body": "On it", "internal": False},
                          headers=agent)  # fmt: skip
    assert r.status_code == 201
    since = datetime.fromisoformat(answered["created_at"])  # only these two: other tests file cases too
    until = datetime.fromisoformat(waiting["created_at"]) + timedelta(microseconds=1)
    period = {"from": since.isoformat(), "to": until.isoformat()}
    r = await client.get(f"{API}/cases/compliance", params=period, headers=admin)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["cases"] == 2 and out["with_targets"] == 2
    assert out["targets"]["first_response"] == {"met": 1, "missed": 0, "breached": 0, "running": 1, "rate": 1.0}
    assert out["targets"]["resolution"]["running"] == 2 and out["targets"]["resolution"]["rate"] is None
    assert set(out["by_category"]) == {"question"}
    r = await client.get(f"{API}/cases/compliance", params=period | {"category": "billing"}, headers=admin)
    assert r.json()["cases"] == 0
    r = await client.get(f"{API}/cases/compliance", params={"from": until.isoformat(), "to": since.isoformat()},
                         headers=admin)  # fmt: skip
    assert r.status_code == 422
    assert (await client.get(f"{API}/cases/compliance", headers=agent)).status_code == 403
    assert waiting["sla"]["first_response"]["state"] == "running"
