"""The customer 360 timeline: a call, a chat, an e-mail, a callback, a case and what happened on it, and a consent
change in one list, newest first; pages that neither skip nor repeat items sharing a timestamp; the back office's
narrower view; finding a customer by case number; export and erasure covering cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.store.models import Channel, Direction, Interaction, Queue, Tenant
from infolinia.store.types import utcnow
from infolinia.store.uow import SYSTEM, write
from tests.conftest import Login

API = "/api/v1"


async def ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json())


async def everything(client: httpx.AsyncClient, headers: dict[str, str], customer: int, limit: int) -> list[Any]:
    """The whole timeline, page after page."""
    items: list[Any] = []
    before = None
    while True:
        params: dict[str, Any] = {"limit": limit} | ({} if before is None else {"before": before})
        page = await ok(await client.get(f"{API}/customers/{customer}/timeline", params=params, headers=headers))
        items += page["items"]
        before = page["next_before"]
        if before is None:
            return items


@pytest.fixture(scope="module")
async def story(client: httpx.AsyncClient, login: Login) -> dict[str, Any]:
    """Anna calls, is promised a callback, chats (a case is filed from the chat), writes an e-mail (linked to the
    case), gets an answer, withdraws marketing consent; an internal note is written on the case."""
    agent, admin = await login("agent1@demo.test"), await login("admin@demo.test")
    body = {"name": "Anna Timeline", "identities": [{"kind": "phone", "value": "+48600111222"}]}
    anna = await ok(await client.post(f"{API}/customers", json=body, headers=admin), 201)

    async def contact(channel: str) -> int:
        body = {"channel": channel, "direction": "in", "customer_id": anna["id"]}
        return int((await ok(await client.post(f"{API}/interactions", json=body, headers=agent), 201))["id"])

    call = await contact("voice")
    queue = (await client.get(f"{API}/queues", headers=admin)).json()[0]["id"]
    callback = await ok(await client.post(f"{API}/callbacks", json={
        "queue_id": queue, "number": "+48600111222", "customer_id": anna["id"]}, headers=agent), 201)  # fmt: skip
    chat = await contact("chat")
    case = await ok(await client.post(f"{API}/cases", json={
        "subject": "Router broken", "category": "return", "interaction_id": chat}, headers=agent), 201)  # fmt: skip
    email = await contact("email")
    await ok(await client.post(f"{API}/cases/{case['id']}/links", json={"interaction_id": email}, headers=agent), 201)
    await ok(await client.post(f"{API}/cases/{case['id']}/entries", json={"body": "Courier booked.", "internal": False},
                               headers=agent), 201)  # fmt: skip
    await ok(await client.post(f"{API}/cases/{case['id']}/entries", json={"body": "Customer sounded angry."},
                               headers=agent), 201)  # fmt: skip
    await ok(await client.post(f"{API}/cases/{case['id']}/status", json={"status": "resolved"}, headers=agent))
    consent = {"purpose": "marketing_phone", "granted": False, "channel": "voice", "source": "call"}
    await ok(await client.post(f"{API}/customers/{anna['id']}/consent", json=consent, headers=agent), 201)
    return {"customer": anna["id"], "call": call, "chat": chat, "email": email, "case": case,
            "callback": callback["id"]}  # fmt: skip


async def test_one_timeline_of_every_channel_newest_first(
    client: httpx.AsyncClient, login: Login, story: dict[str, Any]
) -> None:
    agent = await login("agent1@demo.test")
    items = await everything(client, agent, story["customer"], limit=200)
    what = {"interaction": "channel", "case_entry": "entry_kind", "consent": "purpose"}
    shape = [(i["kind"], i[what[i["kind"]]] if i["kind"] in what else "") for i in items]
    assert shape == [
        ("consent", "marketing_phone"),
        ("case_entry", "status"),
        ("case_entry", "message"),  # the internal note is not the customer's history
        ("interaction", "email"),
        ("case", ""),
        ("interaction", "chat"),
        ("callback", ""),
        ("interaction", "voice"),
    ], shape
    assert [i["at"] for i in items] == sorted((i["at"] for i in items), reverse=True)
    by_kind = {(i["kind"], i["id"]): i for i in items}
    case = story["case"]
    assert by_kind[("interaction", story["email"])]["case_ids"] == [case["id"]]
    assert by_kind[("interaction", story["chat"])]["case_ids"] == [case["id"]]
    assert by_kind[("interaction", story["call"])]["case_ids"] == []
    message = next(i for i in items if i["kind"] == "case_entry" and i["entry_kind"] == "message")
    assert message["body"] == "Courier booked." and message["case_number"] == case["number"]
    assert by_kind[("case", case["id"])]["status"] == "resolved"
    assert by_kind[("callback", story["callback"])]["status"] == "scheduled"
    assert not any(i.get("body") == "Customer sounded angry." for i in items)


async def test_pages_never_skip_or_repeat_items_with_the_same_time(
    client: httpx.AsyncClient, login: Login, center: Infolinia, story: dict[str, Any]
) -> None:
    agent = await login("agent1@demo.test")
    async with write(center.db, None, SYSTEM) as tx:  # five contacts at one instant, older than the rest
        tenant = await tx.session.scalar(select(Tenant.id).where(Tenant.slug == "demo"))
        at = utcnow() - timedelta(days=3)
        for _ in range(5):
            tx.session.add(Interaction(tenant_id=tenant, channel=Channel.FORM, direction=Direction.INBOUND,
                                       customer_id=story["customer"], created_at=at))  # fmt: skip
    whole = await everything(client, agent, story["customer"], limit=200)
    for size in (1, 2, 3, 4):
        paged = await everything(client, agent, story["customer"], limit=size)
        assert [(i["kind"], i["id"]) for i in paged] == [(i["kind"], i["id"]) for i in whole], size
    assert sum(1 for i in whole if i.get("channel") == "form") == 5
    r = await client.get(f"{API}/customers/{story['customer']}/timeline", params={"before": "yesterday"},
                         headers=agent)  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "before"


async def test_the_back_office_sees_its_part_of_the_story(
    client: httpx.AsyncClient, login: Login, center: Infolinia, story: dict[str, Any]
) -> None:
    back_office = await login("backoffice@demo.test")
    items = await everything(client, back_office, story["customer"], limit=200)
    kinds = {i["kind"] for i in items}
    assert "case" not in kinds and "case_entry" not in kinds  # the case is the front line's
    assert not any(i["kind"] == "interaction" for i in items)  # no agent or team queue of its own
    assert {"consent", "callback"} <= kinds
    async with write(center.db, None, SYSTEM) as tx:  # a contact in the billing back office's own queue
        queue = await tx.session.scalar(select(Queue).where(Queue.name == "Billing back office"))
        assert queue is not None
        tx.session.add(Interaction(tenant_id=queue.tenant_id, channel=Channel.EMAIL, direction=Direction.INBOUND,
                                   customer_id=story["customer"], queue_id=queue.id))  # fmt: skip
    items = await everything(client, back_office, story["customer"], limit=200)
    assert [i["channel"] for i in items if i["kind"] == "interaction"] == ["email"]


async def test_a_case_number_finds_its_customer(client: httpx.AsyncClient, login: Login, story: dict[str, Any]) -> None:
    agent = await login("agent1@demo.test")
    number = story["case"]["number"]
    for params in ({"case_number": number}, {"q": f"#{number}"}):
        found = await ok(await client.get(f"{API}/customers", params=params, headers=agent))
        assert [c["id"] for c in found["items"]] == [story["customer"]], params
    found = await ok(await client.get(f"{API}/customers", params={"case_number": 2**31 - 2}, headers=agent))
    assert found["items"] == []


async def test_export_holds_the_cases_and_erasure_removes_what_was_said(
    client: httpx.AsyncClient, login: Login, story: dict[str, Any]
) -> None:
    admin = await login("admin@demo.test")
    data = await ok(await client.get(f"{API}/customers/{story['customer']}/export", headers=admin))
    (case,) = data["cases"]
    assert case["subject"] == "Router broken" and "Courier booked." in [e["body"] for e in case["entries"]]
    await ok(await client.post(f"{API}/customers/{story['customer']}/erase", json={"reason": "asked"}, headers=admin))
    after = await ok(await client.get(f"{API}/cases/{story['case']['id']}", headers=admin))
    assert after["subject"] == "(erased)" and all(e["body"] is None for e in after["entries"])
    assert [e["kind"] for e in after["entries"]][:2] == ["created", "linked"]  # the course of the case stays
