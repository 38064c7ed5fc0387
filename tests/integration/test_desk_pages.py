"""The agent desk over HTTP (in process, SQLite or PostgreSQL): an offer accepted on the desk, the call's pane, a
callback on the customer's clock (and a wrong time refused with nothing stored), the disposition, a case filed and
escalated, a break with its reason, the knowledge base; another tenant's task is not found."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from infolinia.errors import Invalid
from infolinia.web.ui.desk import wall_time, zone_of
from tests.conftest import Login
from tests.ui_helpers import csrf_of, ui_client

API = "/api/v1"
#: a customer's own zone, far from the demo tenant's (Europe/Warsaw)
ZONE = "Asia/Tokyo"


async def _json(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str], body: Any = None, status: int = 200
) -> Any:
    r = await client.request(method, f"{API}{path}", json=body, headers=headers)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
    return r.json()


async def _offered(client: httpx.AsyncClient, headers: dict[str, str], task_id: int, agent_id: int) -> None:
    async with asyncio.timeout(10):
        while True:
            task = await _json(client, "GET", f"/tasks/{task_id}", headers)
            if task["state"] == "reserved" and task["agent_id"] == agent_id:
                return
            await asyncio.sleep(0.02)


async def _free(client: httpx.AsyncClient, admin: dict[str, str], agent: dict[str, str], agent_id: int) -> None:
    """Whatever other tests left with the agent (an offer, a contact) is declined or completed, so the agent can be
    offered this test's task: tests do not depend on their order."""
    for state, action in (("reserved", "decline"), ("assigned", "complete")):
        r = await client.get(f"{API}/tasks", params={"state": state, "limit": 500}, headers=admin)
        for task in r.json()["items"]:
            if task["agent_id"] == agent_id:
                await _json(client, "POST", f"/tasks/{task['id']}/{action}", agent)


def _problem(html: str) -> str:
    found = re.search(r'<p class="problems" role="alert">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


async def test_an_agent_takes_a_call_on_the_desk_and_schedules_a_callback_on_the_customer_s_clock(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    admin = await login("admin@demo.test")
    agent = await login("agent3@demo.test")
    me = (await _json(client, "GET", "/auth/me", agent))["id"]
    billing = next(q["id"] for q in await _json(client, "GET", "/queues", admin) if q["name"] == "Billing")
    customer = (await _json(client, "GET", "/customers", admin))["items"][0]
    await _json(client, "PATCH", f"/customers/{customer['id']}", admin, {"timezone": ZONE})
    call = await _json(
        client,
        "POST",
        "/interactions",
        admin,
        {
            "channel": "voice",
            "direction": "in",
            "customer_id": customer["id"],
            "queue_id": billing,
            "from_address": "+48225550199",
        },
        status=201,
    )
    await _free(client, admin, agent, me)
    async with ui_client(http_app, "agent3@demo.test") as browser:
        desk = await browser.get("/desk")
        assert desk.status_code == 200 and "Agent desk" in desk.text
        token = csrf_of(desk.text)
        # the task first, first in line (whatever else waits in Billing), then the agent goes available
        body = {"queue_id": billing, "channel": "voice", "preferred_agent_id": me, "interaction_id": call["id"],
                "priority": 100}  # fmt: skip
        task = await _json(client, "POST", "/tasks", admin, body, status=201)
        r = await browser.post("/desk/presence", data={"csrf": token, "presence": "ready"})
        assert r.status_code == 303
        try:
            await _offered(client, admin, task["id"], me)
            part = await browser.get("/desk/offers")
            assert f'data-offer="{task["id"]}"' in part.text
            r = await browser.post(f"/desk/tasks/{task['id']}/accept", data={"csrf": token})
            assert r.status_code == 303 and r.headers["location"] == f"/desk?task={task['id']}&done=accepted"
            pane = (await browser.get(r.headers["location"])).text
            assert "Current call" in pane and "+48225550199" in pane and "Billing" in pane
            assert ZONE in pane  # the callback form says whose clock it is
            assert "Script: " in pane and 'class="script-steps"' in pane  # Billing's script, filled in for the call

            # a time that is not one: refused, shown, nothing stored
            r = await browser.post(
                f"/desk/tasks/{task['id']}/callback",
                data={"csrf": token, "day": "2030-01-02", "clock": "25:00", "number": "+48225550199", "for": "me"},
            )
            assert r.status_code == 422 and "not a time" in _problem(r.text)
            stored = await _json(client, "GET", f"/callbacks?customer_id={customer['id']}", admin)
            assert stored["items"] == []

            tomorrow = (datetime.now(ZoneInfo(ZONE)) + timedelta(days=1)).date()
            r = await browser.post(
                f"/desk/tasks/{task['id']}/callback",
                data={
                    "csrf": token,
                    "day": tomorrow.isoformat(),
                    "clock": "18:00",
                    "number": "+48225550199",
                    "for": "me",
                    "reason": "<b>invoice</b>",
                },
            )
            assert r.status_code == 303, _problem(r.text)
            stored = (await _json(client, "GET", f"/callbacks?customer_id={customer['id']}", admin))["items"]
            expected = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 18, tzinfo=ZoneInfo(ZONE)).astimezone(UTC)
            assert [datetime.fromisoformat(c["due_at"]) for c in stored] == [expected]
            assert stored[0]["personal_agent_id"] == me and stored[0]["source"] == "agent"
            page = (await browser.get(f"/desk?task={task['id']}")).text
            assert "&lt;b&gt;invoice&lt;/b&gt;" in page and "<b>invoice</b>" not in page
            assert page.count(f'data-callback="{stored[0]["id"]}"') == 2  # my callbacks, and the customer's

            # a team callback: no personal agent
            r = await browser.post(
                f"/desk/tasks/{task['id']}/callback",
                data={
                    "csrf": token,
                    "day": tomorrow.isoformat(),
                    "clock": "19:30",
                    "number": "+48225550199",
                    "for": "team",
                },
            )
            assert r.status_code == 303
            stored = (await _json(client, "GET", f"/callbacks?customer_id={customer['id']}", admin))["items"]
            assert [c["personal_agent_id"] for c in stored] == [me, None]

            # the disposition: one of the queue's codes; another is refused with the reason
            r = await browser.post(
                f"/desk/tasks/{task['id']}/disposition", data={"csrf": token, "code": "no-such-code", "notes": "x"}
            )
            assert r.status_code == 422 and _problem(r.text)
            r = await browser.post(
                f"/desk/tasks/{task['id']}/disposition",
                data={"csrf": token, "code": "bill-explained", "notes": "Explained <i>it</i>"},
            )
            assert r.status_code == 303
            contact = await _json(client, "GET", f"/interactions/{call['id']}", admin)
            assert (contact["disposition_code"], contact["notes"]) == ("bill-explained", "Explained <i>it</i>")

            # a case filed from the contact, then escalated
            r = await browser.post(
                f"/desk/tasks/{task['id']}/case",
                data={
                    "csrf": token,
                    "subject": "Wrong invoice",
                    "category": "billing",
                    "priority": "high",
                    "description": "The customer says the invoice is wrong.",
                },
            )
            assert r.status_code == 303, _problem(r.text)
            cases = (await _json(client, "GET", f"/cases?customer_id={customer['id']}", admin))["items"]
            case = next(c for c in cases if c["subject"] == "Wrong invoice")
            page = (await browser.get(f"/desk?task={task['id']}")).text
            assert "Wrong invoice" in page
            r = await browser.post(
                f"/desk/cases/{case['id']}/escalate",
                data={"csrf": token, "task": str(task["id"]), "reason": "Needs billing"},
            )
            assert r.status_code == 303, _problem(r.text)
            detail = await _json(client, "GET", f"/cases/{case['id']}", admin)
            assert detail["tier"] > case["tier"]
            # without the form's token nothing is written
            r = await browser.post(f"/desk/tasks/{task['id']}/disposition", data={"code": "resolved"})
            assert r.status_code == 403
        finally:
            await client.post(f"{API}/tasks/{task['id']}/complete", headers=agent)
            await client.put(f"{API}/me/presence", json={"presence": "offline"}, headers=agent)


async def test_a_break_with_its_reason_and_back(http_app: Any) -> None:
    async with ui_client(http_app, "agent4@demo.test") as browser:
        token = csrf_of((await browser.get("/desk")).text)
        r = await browser.post("/desk/presence", data={"csrf": token, "presence": "break", "reason": "Lunch"})
        assert r.status_code == 303
        page = (await browser.get("/desk")).text
        assert 'data-state="break"' in page and "Lunch" in page
        r = await browser.post("/desk/presence", data={"csrf": token, "presence": "lunch"})
        assert r.status_code == 422 and _problem(r.text)
        r = await browser.post("/desk/presence", data={"csrf": token, "presence": "offline"})
        assert r.status_code == 303
        assert 'data-state="offline"' in (await browser.get("/desk/offers")).text


async def test_the_desk_speaks_polish(http_app: Any) -> None:
    async with ui_client(http_app, "agent4@demo.test", language="pl") as browser:
        page = (await browser.get("/desk")).text
        assert "Pulpit konsultanta" in page and "Skróty klawiszowe" in page


async def test_the_knowledge_base_is_searched_from_the_desk(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    found = (await _json(client, "GET", "/kb/search?mode=text", await login("agent4@demo.test")))["items"]
    assert found, "the demo has published articles"
    async with ui_client(http_app, "agent4@demo.test") as browser:
        part = await browser.get("/desk/kb", params={"q": found[0]["title"]})
        assert part.status_code == 200 and f'hx-get="/desk/kb/{found[0]["id"]}"' in part.text
        article = await browser.get(f"/desk/kb/{found[0]['id']}")
        assert article.status_code == 200 and "kb-article" in article.text
        nothing = await browser.get("/desk/kb", params={"q": "zzzqqqxx"})
        assert "0 articles found" in nothing.text


async def test_another_tenant_s_task_is_not_found(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    admin = await login("admin@demo.test")
    billing = next(q["id"] for q in await _json(client, "GET", "/queues", admin) if q["name"] == "Billing")
    task = await _json(client, "POST", "/tasks", admin, {"queue_id": billing, "channel": "email"}, status=201)
    try:
        async with ui_client(http_app, "agent1@acme.test") as browser:
            token = csrf_of((await browser.get("/desk")).text)
            assert (await browser.get(f"/desk?task={task['id']}")).status_code == 404
            for action in ("accept", "decline", "callback", "disposition", "case"):
                r = await browser.post(f"/desk/tasks/{task['id']}/{action}", data={"csrf": token})
                assert r.status_code == 404, action
    finally:
        await client.delete(f"{API}/tasks/{task['id']}", headers=admin)


async def test_the_desk_needs_a_login(http_app: Any) -> None:
    async with ui_client(http_app) as browser:
        r = await browser.get("/desk")
        assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Fdesk"


def test_a_wall_clock_time_in_a_zone() -> None:
    warsaw = ZoneInfo("Europe/Warsaw")
    assert wall_time("2030-07-01", "18:00", warsaw) == datetime(2030, 7, 1, 16, tzinfo=UTC)  # summer: UTC+2
    assert wall_time("2030-01-02", "18:00", warsaw) == datetime(2030, 1, 2, 17, tzinfo=UTC)  # winter: UTC+1
    assert wall_time("2030-01-02", "18:00", ZoneInfo("America/New_York")) == datetime(2030, 1, 2, 23, tzinfo=UTC)
    for day, clock, field in (
        ("2030-02-30", "18:00", "day"),
        ("tomorrow", "18:00", "day"),
        ("2030-01-02", "25:00", "clock"),
        ("2030-01-02", "", "clock"),
    ):
        with pytest.raises(Invalid) as refused:
            wall_time(day, clock, warsaw)
        assert refused.value.details["field"] == field
    assert zone_of("Nowhere/Land", "Europe/Warsaw").key == "Europe/Warsaw"
    assert zone_of(None, "Asia/Tokyo").key == "Asia/Tokyo"
