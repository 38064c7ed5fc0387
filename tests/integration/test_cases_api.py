"""Cases through the API: filed with numbers per tenant, moved through their statuses, escalated up the demo's
ladder (front line -> billing back office -> duty manager) with audit and a live event, notes and messages,
contacts of several channels linked, duplicates merged; and who sees what."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.store.models import AuditEvent, Channel, Customer, Direction, Interaction, Team, Tenant
from infolinia.store.uow import SYSTEM, write
from tests.conftest import Login

API = "/api/v1"


async def file_case(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    r = await client.post(f"{API}/cases", json={"subject": "Parcel late", "category": "order_problem"} | body,
                          headers=headers)  # fmt: skip
    assert r.status_code == 201, r.text
    return dict(r.json())


async def post(client: httpx.AsyncClient, headers: dict[str, str], path: str, **body: Any) -> httpx.Response:
    return await client.post(f"{API}{path}", json=body, headers=headers)


@pytest.fixture(scope="module")
async def contacts(center: Infolinia) -> dict[str, int]:
    """A demo customer who called, then chatted, then wrote an e-mail: three interactions, in that order."""
    async with write(center.db, None, SYSTEM) as tx:
        tenant = await tx.session.scalar(select(Tenant).where(Tenant.slug == "demo"))
        assert tenant is not None
        customer = await tx.session.scalar(
            select(Customer.id).where(Customer.tenant_id == tenant.id).order_by(Customer.id)
        )
        made = {"customer": int(customer or 0), "tenant": tenant.id}
        for channel in (Channel.VOICE, Channel.CHAT, Channel.EMAIL):
            row = Interaction(tenant_id=tenant.id, channel=channel, direction=Direction.INBOUND, customer_id=customer)
            tx.session.add(row)
            await tx.session.flush()
            made[channel.value] = row.id
    return made


async def test_a_case_is_numbered_per_tenant_and_starts_on_the_front_line(
    client: httpx.AsyncClient, login: Login, contacts: dict[str, int]
) -> None:
    agent = await login("agent1@demo.test")
    first = await file_case(client, agent, description="The parcel was promised for Monday.",
                            interaction_id=contacts["voice"])  # fmt: skip
    second = await file_case(client, agent, subject="Invoice twice", category="billing", priority="high")
    assert second["number"] == first["number"] + 1
    assert first["status"] == "new" and first["tier"] == 0 and first["tier_name"] == "Front line"
    assert first["customer_id"] == contacts["customer"]  # the contact's customer
    assert first["interaction_ids"] == [contacts["voice"]]
    assert [e["kind"] for e in first["entries"]] == ["created", "linked"]
    assert first["entries"][0]["body"] == "The parcel was promised for Monday."
    acme_agent = await login("agent1@acme.test")
    acme = [await file_case(client, acme_agent, category="question") for _ in range(2)]
    assert acme[1]["number"] == acme[0]["number"] + 1
    third = await file_case(client, agent)
    assert third["number"] == second["number"] + 1  # acme counts its own cases: demo's numbers go on
    r = await post(client, agent, "/cases", subject="x", category="no_such_category")
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_category"
    r = await post(client, agent, "/cases", subject="x", category="billing", customer_id=2**31 - 1)
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_reference"


async def test_numbers_never_repeat_when_cases_are_filed_at_once(client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent1@demo.test")
    made = await asyncio.gather(*(file_case(client, agent, subject=f"At once {i}") for i in range(12)))
    numbers = [case["number"] for case in made]
    assert len(set(numbers)) == 12


async def test_statuses_move_as_the_lifecycle_allows_and_reopen_is_counted(
    client: httpx.AsyncClient, login: Login
) -> None:
    agent = await login("agent1@demo.test")
    case = await file_case(client, agent)
    path = f"/cases/{case['id']}"
    for status in ("open", "pending_customer", "open", "resolved"):
        r = await post(client, agent, f"{path}/status", status=status)
        assert r.status_code == 200 and r.json()["status"] == status, r.text
    assert r.json()["resolved_at"] is not None
    r = await post(client, agent, f"{path}/status", status="open")  # resolved: close it or reopen it
    assert r.status_code == 409 and r.json()["error"]["code"] == "case_state" and "reopen" in r.text
    r = await post(client, agent, f"{path}/status", status="escalated")  # only by escalating
    assert r.status_code == 422
    r = await post(client, agent, f"{path}/reopen", reason="The customer says the parcel never came.")
    assert r.status_code == 200 and r.json()["status"] == "open" and r.json()["reopened"] == 1
    assert r.json()["resolved_at"] is None and r.json()["entries"][-1]["kind"] == "reopened"
    r = await post(client, agent, f"{path}/status", status="closed", note="Delivered.")
    assert r.json()["closed_at"] is not None and r.json()["entries"][-1]["body"] == "Delivered."
    r = await post(client, agent, f"{path}/reopen", reason="")
    assert r.status_code == 422  # a reason is required


async def test_escalation_climbs_the_ladder_with_a_reason_an_audit_record_and_a_live_event(
    client: httpx.AsyncClient, login: Login, center: Infolinia
) -> None:
    agent = await login("agent1@demo.test")
    case = await file_case(client, agent, assignee_id=None, category="billing")
    async with center.db.session() as s:
        billing_bo = await s.scalar(select(Team.id).where(Team.name == "Billing back office"))
    with center.bus.subscribe(100, lambda e: e.type == "case.escalated") as sub:
        r = await post(client, agent, f"/cases/{case['id']}/escalate", reason="Refund above the agent's limit")
        assert r.status_code == 200, r.text
        event = await asyncio.wait_for(sub.get(), 5)
    up = r.json()
    assert up["tier"] == 1 and up["status"] == "escalated" and up["team_id"] == billing_bo
    assert up["tier_name"] == "Billing back office" and up["assignee_id"] is None
    assert up["entries"][-1] | {"created_at": None, "id": None} == up["entries"][-1] | {
        "kind": "escalated", "body": "Refund above the agent's limit", "created_at": None, "id": None,
    }  # fmt: skip
    assert event.data["id"] == case["id"] and event.data["tier"] == 1
    assert event.data["reason"] == "Refund above the agent's limit"
    async with center.db.session() as s:
        audit = await s.scalar(
            select(AuditEvent).where(AuditEvent.action == "case.escalated", AuditEvent.object_id == str(case["id"]))
        )
    assert audit is not None and audit.data["reason"] == "Refund above the agent's limit" and audit.data["after"] == 1
    back_office = await login("backoffice@demo.test")  # the billing back office sees it now, and takes it
    r = await client.get(f"{API}/cases/{case['id']}", headers=back_office)
    assert r.status_code == 200
    r = await post(client, back_office, f"/cases/{case['id']}/escalate", reason="Goodwill payment: manager")
    assert r.json()["tier"] == 2 and r.json()["tier_name"] == "Duty manager" and r.json()["team_id"] is None
    r = await post(client, back_office, f"/cases/{case['id']}/escalate", reason="Higher still")
    assert r.status_code in (404, 409)  # off its team now (404), and on the top rung anyway
    r = await post(client, await login("supervisor@demo.test"), f"/cases/{case['id']}/escalate", reason="Higher")
    assert r.status_code == 409 and "top rung" in r.text


async def test_back_office_sees_only_its_teams_and_its_own_cases(client: httpx.AsyncClient, login: Login) -> None:
    agent, back_office = await login("agent1@demo.test"), await login("backoffice@demo.test")
    front_line_case = await file_case(client, agent, subject="Only the front line")
    r = await client.get(f"{API}/cases/{front_line_case['id']}", headers=back_office)
    assert r.status_code == 404
    listed = await client.get(f"{API}/cases", params={"limit": 500}, headers=back_office)
    assert front_line_case["id"] not in {c["id"] for c in listed.json()["items"]}
    own = await file_case(client, back_office, subject="Filed by the back office")
    assert (await client.get(f"{API}/cases/{own['id']}", headers=back_office)).status_code == 200
    everything = await client.get(f"{API}/cases", params={"limit": 500}, headers=agent)
    assert {front_line_case["id"], own["id"]} <= {c["id"] for c in everything.json()["items"]}


async def test_notes_stay_internal_and_the_first_message_is_the_first_response(
    client: httpx.AsyncClient, login: Login
) -> None:
    agent = await login("agent1@demo.test")
    case = await file_case(client, agent)
    r = await post(client, agent, f"/cases/{case['id']}/entries", body="Called the courier: lost.")
    assert r.status_code == 201 and r.json()["first_response_at"] is None
    r = await post(client, agent, f"/cases/{case['id']}/entries", body="We are sending a new parcel.", internal=False)
    first = r.json()["first_response_at"]
    assert first is not None
    r = await post(client, agent, f"/cases/{case['id']}/entries", body="Tracking number follows.", internal=False)
    assert r.json()["first_response_at"] == first
    assert [(e["kind"], e["internal"]) for e in r.json()["entries"][-3:]] == [
        ("note", True), ("message", False), ("message", False)
    ]  # fmt: skip


async def test_a_call_a_chat_and_an_e_mail_link_to_one_case_in_order(
    client: httpx.AsyncClient, login: Login, contacts: dict[str, int]
) -> None:
    agent = await login("agent1@demo.test")
    case = await file_case(client, agent, interaction_id=contacts["voice"])
    for channel in ("chat", "email"):
        r = await post(client, agent, f"/cases/{case['id']}/links", interaction_id=contacts[channel])
        assert r.status_code == 201, r.text
    assert r.json()["interaction_ids"] == [contacts["voice"], contacts["chat"], contacts["email"]]
    r = await post(client, agent, f"/cases/{case['id']}/links", interaction_id=contacts["chat"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_linked"
    acme_call = await client.get(f"{API}/interactions", params={"limit": 1}, headers=await login("admin@acme.test"))
    foreign = acme_call.json()["items"]
    if foreign:  # another tenant's contact is not there for this tenant
        r = await post(client, agent, f"/cases/{case['id']}/links", interaction_id=foreign[0]["id"])
        assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_reference"


async def test_a_duplicate_merges_into_its_case_and_stays_closed(
    client: httpx.AsyncClient, login: Login, contacts: dict[str, int]
) -> None:
    agent = await login("agent1@demo.test")
    target = await file_case(client, agent, interaction_id=contacts["voice"], description="First report")
    duplicate = await file_case(client, agent, interaction_id=contacts["chat"], description="Same parcel, by chat")
    await post(client, agent, f"/cases/{duplicate['id']}/entries", body="Asked again.", internal=False)
    r = await post(client, agent, f"/cases/{duplicate['id']}/merge", into_case_id=target["id"])
    assert r.status_code == 200, r.text
    merged = r.json()
    assert merged["id"] == target["id"] and merged["interaction_ids"] == [contacts["voice"], contacts["chat"]]
    bodies = [e["body"] for e in merged["entries"]]
    assert "First report" in bodies and "Same parcel, by chat" in bodies and "Asked again." in bodies
    assert merged["first_response_at"] is not None  # the duplicate's answer counts
    gone = (await client.get(f"{API}/cases/{duplicate['id']}", headers=agent)).json()
    assert gone["status"] == "closed" and gone["merged_into_id"] == target["id"]
    for path, body in (("/reopen", {"reason": "again"}), ("/status", {"status": "open"}),
                       ("/entries", {"body": "x"}), ("/merge", {"into_case_id": target["id"]})):  # fmt: skip
        r = await client.post(f"{API}/cases/{duplicate['id']}{path}", json=body, headers=agent)
        assert r.status_code == 409 and r.json()["error"]["code"] in ("case_merged", "case_state"), (path, r.text)
    r = await post(client, agent, f"/cases/{target['id']}/merge", into_case_id=target["id"])
    assert r.status_code == 422


async def test_patch_changes_what_it_names_and_records_who_was_assigned(
    client: httpx.AsyncClient, login: Login
) -> None:
    agent, admin = await login("agent1@demo.test"), await login("admin@demo.test")
    case = await file_case(client, agent)
    me = (await client.get(f"{API}/auth/me", headers=agent)).json()["id"]
    r = await client.patch(f"{API}/cases/{case['id']}", json={"assignee_id": me, "priority": "urgent"}, headers=admin)
    assert r.status_code == 200 and r.json()["assignee_id"] == me and r.json()["priority"] == "urgent"
    assert [e["kind"] for e in r.json()["entries"][-2:]] == ["assigned", "updated"]
    r = await client.patch(f"{API}/cases/{case['id']}", json={"category": "nope"}, headers=admin)
    assert r.status_code == 422
    r = await client.patch(f"{API}/cases/{case['id']}", json={"subject": None}, headers=admin)
    assert r.status_code == 422
    mine = await client.get(f"{API}/cases", params={"assignee_id": me, "active": True}, headers=agent)
    assert case["id"] in {c["id"] for c in mine.json()["items"]}


async def test_the_ladder_names_only_the_tenants_own_teams(
    client: httpx.AsyncClient, login: Login, center: Infolinia
) -> None:
    acme_admin = await login("admin@acme.test")
    async with center.db.session() as s:
        demo_team = await s.scalar(select(Team.id).where(Team.name == "Billing back office"))
    policy = {"ladder": [{"name": "Front"}, {"name": "Theirs", "team_id": demo_team}]}
    tenant = (await client.get(f"{API}/auth/me", headers=acme_admin)).json()["tenant_id"]
    r = await client.patch(f"{API}/tenants/{tenant}", json={"case_policy": policy}, headers=acme_admin)
    assert r.status_code == 422 and "case_policy.ladder[1].team_id" in r.text
    r = await client.patch(f"{API}/tenants/{tenant}", json={"case_policy": {"categories": ["Bad Name"]}},
                           headers=acme_admin)  # fmt: skip
    assert r.status_code == 422 and "categories[0]" in r.text
    good = {"categories": ["question", "complaint"], "ladder": [{"name": "Front"}, {"name": "Manager"}]}
    r = await client.patch(f"{API}/tenants/{tenant}", json={"case_policy": good}, headers=acme_admin)
    manager = {"name": "Manager", "team_id": None, "queue_id": None}
    assert r.status_code == 200 and r.json()["case_policy"]["ladder"][1] == manager
    r = await post(client, await login("agent1@acme.test"), "/cases", subject="x", category="billing")
    assert r.status_code == 422  # not one of acme's categories any more
    r = await client.patch(f"{API}/tenants/{tenant}", json={"case_policy": {}}, headers=acme_admin)
    assert r.status_code == 200
