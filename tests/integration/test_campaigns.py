"""Campaigns through the API: created and changed by supervisors, contacts imported from CSV with a report per row,
the do-not-call list, and the dial-time check that a consent withdrawal or a listed number stops at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from infolinia.app import Infolinia
from infolinia.store.models import CampaignContact, RoutingTask
from infolinia.store.types import utcnow
from tests.conftest import Login

API = "/api/v1"


async def queue_id(client: httpx.AsyncClient, headers: dict[str, str], name: str = "Sales") -> int:
    return next(q["id"] for q in (await client.get(f"{API}/queues", headers=headers)).json() if q["name"] == name)


async def campaign(client: httpx.AsyncClient, headers: dict[str, str], name: str, **extra: Any) -> dict[str, Any]:
    body = {"name": name, "purpose": "service", "queue_id": await queue_id(client, headers)} | extra
    r = await client.post(f"{API}/campaigns", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def upload(client: httpx.AsyncClient, headers: dict[str, str], cid: int, text: str | bytes) -> httpx.Response:
    data = text.encode() if isinstance(text, str) else text
    return await client.post(
        f"{API}/campaigns/{cid}/contacts", content=data, headers=headers | {"content-type": "text/csv"}
    )


async def test_supervisors_manage_agents_read(client: httpx.AsyncClient, login: Login) -> None:
    sup, agent = await login("supervisor@demo.test"), await login("agent1@demo.test")
    made = await campaign(client, sup, "Renewals")
    assert (made["status"], made["mode"], made["max_attempts"], made["contacts"]) == ("draft", "preview", 3, {})
    r = await client.post(f"{API}/campaigns", json={"name": "x", "purpose": "service", "queue_id": made["queue_id"]},
                          headers=agent)  # fmt: skip
    assert r.status_code == 403
    assert (await client.get(f"{API}/campaigns/{made['id']}", headers=agent)).status_code == 200
    r = await client.post(f"{API}/campaigns", json={"name": "Renewals", "purpose": "service",
                                                    "queue_id": made["queue_id"]}, headers=sup)  # fmt: skip
    assert r.status_code == 409 and r.json()["error"]["code"] == "name_taken"
    r = await client.post(f"{API}/campaigns", json={"name": "y", "purpose": "service", "queue_id": 2**31 - 1},
                          headers=sup)  # fmt: skip
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_reference"
    r = await client.post(f"{API}/campaigns", json={"name": "y", "purpose": "spam", "queue_id": made["queue_id"]},
                          headers=sup)  # fmt: skip
    assert r.status_code == 422


async def test_status_changes(client: httpx.AsyncClient, login: Login) -> None:
    sup = await login("supervisor@demo.test")
    cid = (await campaign(client, sup, "Lifecycle"))["id"]
    for status in ("running", "paused", "running", "finished"):
        r = await client.patch(f"{API}/campaigns/{cid}", json={"status": status}, headers=sup)
        assert r.status_code == 200 and r.json()["status"] == status, r.text
    r = await client.patch(f"{API}/campaigns/{cid}", json={"status": "running"}, headers=sup)
    assert r.status_code == 409 and r.json()["error"]["code"] == "campaign_status"
    assert (await upload(client, sup, cid, "number\n600100100\n")).status_code == 409


async def test_csv_rows_are_taken_or_refused_one_by_one(client: httpx.AsyncClient, login: Login) -> None:
    sup = await login("supervisor@demo.test")
    r = await client.post(
        f"{API}/customers", json={"name": "Linked", "identities": [{"kind": "phone", "value": "+48600300001"}]},
        headers=sup,
    )  # fmt: skip
    linked = r.json()["id"]
    cid = (await campaign(client, sup, "Import"))["id"]
    text = (
        "\ufeffNumber;Name;Timezone\n"  # a BOM, semicolons, a capitalised header
        "600 300 001;Jan <b>Kowalski</b>;Europe/Warsaw\n"  # line 2: taken, linked to the customer by phone
        "not a number;Anna;\n"  # line 3: refused
        "+48600300002;;Mars/Olympus\n"  # line 4: refused (time zone)
        "\n"  # blank lines are skipped
        "+48 600 300 001;Again;\n"  # line 6: the same number as line 2
        "600300003;Ewa;America/New_York\n"  # line 7: taken
    )
    r = await upload(client, sup, cid, text)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["accepted"], report["rejected"]) == (2, 3)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(3, "number"), (4, "timezone"), (6, "number")]
    assert "already in the campaign" in report["errors"][2]["message"]
    again = (await upload(client, sup, cid, "number\n600300003\n600300004\n")).json()
    assert (again["accepted"], again["rejected"]) == (1, 1)
    page = (await client.get(f"{API}/campaigns/{cid}/contacts", headers=sup)).json()
    by_number = {c["number"]: c for c in page["items"]}
    assert set(by_number) == {"+48600300001", "+48600300003", "+48600300004"}
    assert by_number["+48600300001"]["customer_id"] == linked
    assert by_number["+48600300001"]["name"] == "Jan <b>Kowalski</b>"  # stored as given; the desk escapes
    assert by_number["+48600300003"]["timezone"] == "America/New_York"
    assert (await client.get(f"{API}/campaigns/{cid}", headers=sup)).json()["contacts"] == {"pending": 3}
    other = (await campaign(client, sup, "Import too"))["id"]
    await upload(client, sup, other, "number\n600300009\n")
    listed = {c["id"]: c for c in (await client.get(f"{API}/campaigns", headers=sup)).json()}
    assert (listed[cid]["contacts"], listed[other]["contacts"]) == ({"pending": 3}, {"pending": 1})
    assert listed[cid]["abandon"]["today"] == {"answered": 0, "abandoned": 0, "rate": 0.0}


@pytest.mark.parametrize(
    ("data", "content_type", "message"),
    [
        (b"\xff\xfenumber\n", "text/csv", "not UTF-8"),
        (b"", "text/csv", "empty"),
        (b"name\nJan\n", "text/csv", "no 'number' column"),
        (b"number,email\n600100100,a@b.c\n", "text/csv", "unknown column 'email'"),
        (b"number\n600\x00100\n", "text/csv", "NUL"),
        (b"number\n600100100\n", "application/json", "text/csv"),
    ],
)
async def test_unreadable_files_are_refused_whole(
    client: httpx.AsyncClient, login: Login, data: bytes, content_type: str, message: str
) -> None:
    sup = await login("supervisor@demo.test")
    cid = (await campaign(client, sup, f"Bad file {len(data)} {content_type} {message[:5]}"))["id"]
    r = await client.post(f"{API}/campaigns/{cid}/contacts", content=data, headers=sup | {"content-type": content_type})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_csv" and message in r.text, r.text
    assert (await client.get(f"{API}/campaigns/{cid}", headers=sup)).json()["contacts"] == {}


async def test_consent_and_the_list_stop_a_contact_at_once(client: httpx.AsyncClient, login: Login) -> None:
    sup, agent = await login("supervisor@demo.test"), await login("agent1@demo.test")
    r = await client.post(
        f"{API}/customers",
        json={"name": "Marketing Target", "identities": [{"kind": "phone", "value": "+48600300010"}],
              "consents": [{"purpose": "marketing_phone", "granted": True, "channel": "web", "source": "signup"}]},
        headers=sup,
    )  # fmt: skip
    customer = r.json()["id"]
    cid = (await campaign(client, sup, "Offers", purpose="marketing"))["id"]
    report = (await upload(client, sup, cid, "number\n600300010\n600300011\n")).json()
    assert report["accepted"] == 2
    contacts = {
        c["number"]: c["id"] for c in (await client.get(f"{API}/campaigns/{cid}/contacts", headers=sup)).json()["items"]
    }

    async def verdict(number: str) -> dict[str, Any]:
        url = f"{API}/campaigns/{cid}/contacts/{contacts[number]}/eligibility"
        return dict((await client.get(url, headers=agent)).json())

    assert (await verdict("+48600300010"))["allowed"] is True
    assert (await verdict("+48600300011")) == {"allowed": False, "reason": "no_consent", "at": None}  # no customer
    r = await client.post(
        f"{API}/customers/{customer}/consent",
        json={"purpose": "marketing_phone", "granted": False, "channel": "voice", "source": "asked on a call"},
        headers=agent,
    )
    assert r.status_code == 201
    assert (await verdict("+48600300010"))["reason"] == "no_consent"  # the withdrawal counts at once
    service = (await campaign(client, sup, "Service notice"))["id"]
    await upload(client, sup, service, "number\n600300010\n")
    sc = (await client.get(f"{API}/campaigns/{service}/contacts", headers=sup)).json()["items"][0]["id"]
    url = f"{API}/campaigns/{service}/contacts/{sc}/eligibility"
    assert (await client.get(url, headers=agent)).json()["allowed"] is True  # a service call needs no marketing consent
    r = await client.post(f"{API}/do-not-call", json={"number": "600 300 010", "reason": "asked"}, headers=agent)
    assert r.status_code == 201 and r.json()["number"] == "+48600300010"
    assert (await client.get(url, headers=agent)).json()["reason"] == "do_not_call"
    again = await client.post(f"{API}/do-not-call", json={"number": "+48600300010"}, headers=agent)
    assert again.json()["id"] == r.json()["id"]  # listed once
    assert (await client.delete(f"{API}/do-not-call/{r.json()['id']}", headers=agent)).status_code == 403
    assert (await client.delete(f"{API}/do-not-call/{r.json()['id']}", headers=sup)).status_code == 204
    assert (await client.get(url, headers=agent)).json()["allowed"] is True


async def test_calling_hours_and_the_tenant_s_time(client: httpx.AsyncClient, login: Login) -> None:
    admin = await login("admin@demo.test")
    tenants = (await client.get(f"{API}/tenants", headers=admin)).json()
    tid = (tenants["items"] if isinstance(tenants, dict) else tenants)[0]["id"]
    hours = {"weekly": {d: [["09:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}
    r = await client.patch(f"{API}/tenants/{tid}", json={"callback_policy": {"calling_hours": hours}}, headers=admin)
    assert r.status_code == 200, r.text
    try:
        cid = (await campaign(client, admin, "Hours"))["id"]
        await upload(client, admin, cid, "number\n600300020\n")
        contact = (await client.get(f"{API}/campaigns/{cid}/contacts", headers=admin)).json()["items"][0]["id"]
        url = f"{API}/campaigns/{cid}/contacts/{contact}/eligibility"
        night = await client.get(url, params={"at": "2026-12-07T22:30:00+01:00"}, headers=admin)  # Monday 22:30
        assert night.json() == {"allowed": False, "reason": "calling_window", "at": "2026-12-08T08:00:00Z"}
        noon = await client.get(url, params={"at": "2026-12-08T12:00:00+01:00"}, headers=admin)
        assert noon.json()["allowed"] is True
    finally:
        await client.patch(f"{API}/tenants/{tid}", json={"callback_policy": {}}, headers=admin)


async def test_without_a_dialing_trunk_a_running_campaign_takes_no_contact(
    client: httpx.AsyncClient, login: Login, center: Infolinia
) -> None:
    sup, agent = await login("supervisor@demo.test"), await login("agent3@demo.test")
    cid = (await campaign(client, sup, "No trunk", queue_id=await queue_id(client, sup, "Sales")))["id"]
    await upload(client, sup, cid, "number\n600300030\n")
    assert (await client.put(f"{API}/me/presence", json={"presence": "ready"}, headers=agent)).status_code == 200
    try:
        assert (
            await client.patch(f"{API}/campaigns/{cid}", json={"status": "running"}, headers=sup)
        ).status_code == 200
        assert await center.campaigns.step() == 0  # the demo tenant has no trunk that dials
        contacts = (await client.get(f"{API}/campaigns/{cid}/contacts", headers=sup)).json()["items"]
        assert [c["status"] for c in contacts] == ["pending"]
    finally:
        await client.patch(f"{API}/campaigns/{cid}", json={"status": "finished"}, headers=sup)
        await client.put(f"{API}/me/presence", json={"presence": "offline"}, headers=agent)


async def segment_customer(
    client: httpx.AsyncClient, headers: dict[str, str], name: str, phone: str | None, consent: bool | None, **extra: Any
) -> int:
    body: dict[str, Any] = {"name": name, "language": "pl", "tier": "segment-a"} | extra
    if phone is not None:
        body["identities"] = [{"kind": "phone", "value": phone}]
    if consent is not None:
        body["consents"] = [{"purpose": "marketing_phone", "granted": consent, "channel": "web", "source": "form"}]
    r = await client.post(f"{API}/customers", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


async def from_customers(
    client: httpx.AsyncClient, headers: dict[str, str], cid: int, status: int = 200, **wanted: Any
) -> dict[str, Any]:
    r = await client.post(f"{API}/campaigns/{cid}/contacts/from-customers", json=wanted, headers=headers)
    assert r.status_code == status, r.text
    return dict(r.json())


async def test_contacts_from_a_customer_filter(client: httpx.AsyncClient, login: Login) -> None:
    sup, agent = await login("supervisor@demo.test"), await login("agent1@demo.test")
    a = await segment_customer(client, sup, "Seg A", "+48600500001", True, timezone="Europe/Warsaw")
    await segment_customer(client, sup, "Seg B", "+48600500002", False, language="en")
    await segment_customer(client, sup, "Seg C", None, True)
    d = await segment_customer(client, sup, "Seg D", "+48600500004", True)
    await segment_customer(client, sup, "Seg E", "+48600500005", True)
    await segment_customer(client, sup, "Seg F", "+48600500006", True, tier="segment-b")
    await segment_customer(client, sup, "Seg G", "+48600500007", None)
    r = await client.put(f"{API}/customers/{d}/restriction", json={"reason": "asked"}, headers=sup)
    assert r.status_code == 200, r.text
    assert (await client.post(f"{API}/do-not-call", json={"number": "+48600500005"}, headers=sup)).status_code == 201
    offers = (await campaign(client, sup, "Segment offers", purpose="marketing"))["id"]
    report = await from_customers(client, sup, offers, tiers=["segment-a"])
    assert report == {
        "matched": 6, "added": 1, "truncated": False,
        "skipped": {"do_not_call": 1, "no_consent": 2, "no_phone": 1, "restricted": 1},
    }  # fmt: skip
    contacts = (await client.get(f"{API}/campaigns/{offers}/contacts", headers=sup)).json()["items"]
    assert [(c["number"], c["customer_id"], c["name"], c["status"]) for c in contacts] == [
        ("+48600500001", a, "Seg A", "pending")
    ]
    again = await from_customers(client, sup, offers, tiers=["segment-a"])
    assert (again["added"], again["skipped"]["already_in_campaign"]) == (0, 1)
    assert (await from_customers(client, sup, offers, tiers=["segment-a"], languages=["en"]))["skipped"] == {
        "no_consent": 1
    }
    notices = (await campaign(client, sup, "Segment notices"))["id"]  # service: no marketing consent needed
    report = await from_customers(client, sup, notices, tiers=["segment-a"], marketing_consent="unknown")
    assert (report["matched"], report["added"]) == (1, 1)  # Seg G, who never said
    report = await from_customers(client, sup, notices, tiers=["segment-a", "segment-b"], limit=2)
    assert (report["matched"], report["truncated"]) == (2, True)
    r = await client.post(
        f"{API}/interactions", json={"channel": "voice", "direction": "in", "customer_id": a}, headers=sup
    )
    assert r.status_code == 201, r.text
    recent = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    report = await from_customers(client, sup, notices, tiers=["segment-a"], last_contact_after=recent)
    assert report["matched"] == 1 and report["skipped"] == {"already_in_campaign": 1}  # Seg A, added just above
    report = await from_customers(client, sup, notices, tiers=["segment-a"], last_contact_before=recent)
    assert report["matched"] == 5  # all but Seg A: never in contact counts as before
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert (await from_customers(client, sup, notices, created_after=future))["matched"] == 0
    for bad in (
        {"languages": ["not a language"]}, {"tiers": []}, {"colour": "red"}, {"timezones": ["Mars/Olympus"]},
        {"created_after": future, "created_before": recent}, {"marketing_consent": "maybe"}, {"limit": 0},
        {"created_after": "2026-12-07T10:00:00"},
    ):  # fmt: skip
        await from_customers(client, sup, notices, 422, **bad)
    await from_customers(client, agent, notices, 403, tiers=["segment-a"])
    await client.patch(f"{API}/campaigns/{notices}", json={"status": "finished"}, headers=sup)
    assert (await from_customers(client, sup, notices, 409))["error"]["code"] == "campaign_status"


async def test_a_preview_left_behind_by_a_stopped_process_is_released(
    client: httpx.AsyncClient, login: Login, center: Infolinia
) -> None:
    sup = await login("supervisor@demo.test")
    cid = (await campaign(client, sup, "Stale preview", mode="preview"))["id"]
    await upload(client, sup, cid, "number\n600300040\n600300041\n")
    contacts = (await client.get(f"{API}/campaigns/{cid}/contacts", headers=sup)).json()["items"]
    now = utcnow()
    queue = (await client.get(f"{API}/campaigns/{cid}", headers=sup)).json()["queue_id"]
    tenant = (await client.get(f"{API}/auth/me", headers=sup)).json()["tenant_id"]
    tasks = [
        RoutingTask(tenant_id=tenant, queue_id=queue, channel="callback", skills={}, enqueued_at=now,
                    callback_number=c["number"])
        for c in contacts
    ]  # fmt: skip
    await center.routing.add_tasks(tasks)
    async with center.db.session() as s:
        for contact, task, shown in zip(contacts, tasks, (now - timedelta(seconds=90), now), strict=True):
            row = await s.get(CampaignContact, contact["id"])
            assert row is not None
            row.status, row.routing_task_id, row.preview_until = "calling", task.id, shown
        await s.commit()
    assert await center.campaigns.release_stale_previews(utcnow()) == [contacts[0]["id"]]  # the other is current
    got = {c["id"]: c for c in (await client.get(f"{API}/campaigns/{cid}/contacts", headers=sup)).json()["items"]}
    assert (got[contacts[0]["id"]]["status"], got[contacts[0]["id"]]["preview_until"]) == ("pending", None)
    assert got[contacts[1]["id"]]["status"] == "calling"
    assert (await client.get(f"{API}/tasks/{tasks[0].id}", headers=sup)).json()["state"] == "done"
    assert tasks[0].id not in center.routing.engine.tasks
    await client.delete(f"{API}/tasks/{tasks[1].id}", headers=sup)
    await client.patch(f"{API}/campaigns/{cid}", json={"status": "finished"}, headers=sup)
