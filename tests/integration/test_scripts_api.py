"""Agent scripts through the API: written, changed (a new version each time, audited, with an event) and deleted by
admins and supervisors; every problem of a script in one 422; filled in for a contact with what the reader may see;
suggested for a call best first; runs recorded on a contact; the demo's invoice complaint; and who sees what."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from infolinia.app import Infolinia
from infolinia.store.models import (
    AgentScript,
    AgentScriptRun,
    AuditEvent,
    Channel,
    Customer,
    Direction,
    Interaction,
    IvrFlow,
    Queue,
    Tenant,
)
from infolinia.store.uow import SYSTEM, write
from infolinia.voice.ivr import DEMO_NUMBER
from tests.conftest import Login
from tests.tenant_api import TenantApi, acme_admin, demo_admin  # noqa: F401 (fixtures)

_names = itertools.count(1)


def steps(greeting: str = "Dzień dobry, {customer.first_name}!") -> dict[str, Any]:
    return {"start": "hi", "steps": [
        {"id": "hi", "type": "say", "text": greeting, "next": "ask"},
        {"id": "ask", "type": "question", "text": "Czy chodzi o fakturę {case.number}?",
         "options": [{"label": "Tak", "next": "number"}, {"label": "Nie", "next": "bye"}]},
        {"id": "number", "type": "input", "field": "invoice", "label": "Numer faktury", "next": "bye"},
        {"id": "bye", "type": "end", "text": "Dziękuję, {agent.first_name} z {company.name}.", "outcome": "resolved"},
    ]}  # fmt: skip


def script_body(**fields: Any) -> dict[str, Any]:
    return {"name": f"Script {next(_names)}", "language": "pl", "definition": steps()} | fields


async def demo_ids(center: Infolinia) -> dict[str, int]:
    async with center.db.session() as s:
        tenant = await s.scalar(select(Tenant.id).where(Tenant.slug == "demo"))
        flow = await s.scalar(select(IvrFlow.id).where(IvrFlow.tenant_id == tenant, IvrFlow.name == "Main menu"))
        billing = await s.scalar(select(Queue.id).where(Queue.tenant_id == tenant, Queue.name == "Billing"))
    assert tenant and flow and billing
    return {"tenant": tenant, "flow": flow, "billing": billing}


async def contact(center: Infolinia, tenant_id: int, **fields: Any) -> Interaction:
    """A contact of the tenant's (a call by default), written as the phone would."""
    async with write(center.db, None, SYSTEM) as tx:
        row = Interaction(tenant_id=tenant_id, channel=Channel.VOICE, direction=Direction.INBOUND, **fields)
        tx.session.add(row)
        await tx.session.flush()
    return row


# --- writing ---------------------------------------------------------------------------------------------------


async def test_a_script_is_created_changed_with_a_new_version_audited_and_deleted(
    demo_admin: TenantApi,  # noqa: F811
    center: Infolinia,
) -> None:
    with center.bus.subscribe(100, lambda e: e.type.startswith("script.")) as sub:
        made = await demo_admin.call("POST", "/scripts", script_body(description="Faktury"), 201)
        created = await asyncio.wait_for(sub.get(), 5)
        assert made["version"] == 1 and made["active"] is True and made["description"] == "Faktury"
        assert made["attachments"] == {"queue_ids": [], "ivr": [], "categories": []}
        assert made["definition"]["steps"][2]["field_type"] == "text"  # defaults filled in
        assert created.data == {"id": made["id"], "version": 1}
        sid = made["id"]
        assert await demo_admin.call("GET", f"/scripts/{sid}") == made
        changed = await demo_admin.call("PUT", f"/scripts/{sid}", script_body(name=made["name"], active=False))
        updated = await asyncio.wait_for(sub.get(), 5)
        assert changed["version"] == 2 and changed["active"] is False
        assert updated.data == {"id": sid, "version": 2, "fields": ["description", "active"]}
        same = await demo_admin.call("PUT", f"/scripts/{sid}", script_body(name=made["name"], active=False))
        assert same["version"] == 2  # nothing changed: no new version
        listed = await demo_admin.call("GET", "/scripts?active=false&language=pl")
        assert sid in [s["id"] for s in listed] and all(not s["active"] for s in listed)
        assert sid not in [s["id"] for s in await demo_admin.call("GET", "/scripts?active=true")]
        await demo_admin.call("DELETE", f"/scripts/{sid}", status=204)
        deleted = await asyncio.wait_for(sub.get(), 5)
        assert deleted.type == "script.deleted" and deleted.data == {"id": sid}
    await demo_admin.refused("GET", f"/scripts/{sid}", None, 404, "not_found")
    async with center.db.session() as s:
        audited = select(AuditEvent.action).where(AuditEvent.object_type == "agent_script",
                                                  AuditEvent.object_id == str(sid))  # fmt: skip
        actions = list(await s.scalars(audited.order_by(AuditEvent.id)))
    assert actions == ["script.created", "script.updated", "script.deleted"]


async def test_changes_made_at_once_each_make_a_version(demo_admin: TenantApi) -> None:  # noqa: F811
    made = await demo_admin.call("POST", "/scripts", script_body(), 201)
    bodies = [script_body(name=made["name"], description=f"change {i}") for i in range(5)]
    changed = await asyncio.gather(*(demo_admin.call("PUT", f"/scripts/{made['id']}", body) for body in bodies))
    assert sorted(c["version"] for c in changed) == [2, 3, 4, 5, 6]
    assert (await demo_admin.call("GET", f"/scripts/{made['id']}"))["version"] == 6


async def test_names_are_unique_per_tenant(demo_admin: TenantApi, acme_admin: TenantApi) -> None:  # noqa: F811
    body = script_body()
    first = await demo_admin.call("POST", "/scripts", body, 201)
    await demo_admin.refused("POST", "/scripts", body, 409, "name_taken")
    other = await demo_admin.call("POST", "/scripts", script_body(), 201)
    await demo_admin.refused("PUT", f"/scripts/{other['id']}", body, 409, "name_taken")
    await acme_admin.call("POST", "/scripts", body | {"language": "en"}, 201)  # another tenant's own
    assert (await demo_admin.call("GET", f"/scripts/{first['id']}"))["version"] == 1


async def test_every_problem_in_one_422_and_nothing_is_stored(
    demo_admin: TenantApi,  # noqa: F811
    center: Infolinia,
) -> None:
    ids = await demo_ids(center)
    bad = {"start": "hi", "steps": [
        {"id": "hi", "type": "say", "text": "Hi {customer.__class__} {0}", "next": "ghost"},
        {"id": "q", "type": "question", "text": "?", "options": []},
        {"id": "loop", "type": "say", "text": "x", "next": "loop"},
        {"id": "hi", "type": "end"},
    ]}  # fmt: skip
    attachments = {"queue_ids": [ids["billing"], 2**31 - 1], "ivr": [{"flow_id": ids["flow"], "node_id": "nope"}],
                   "categories": ["no_such"]}  # fmt: skip
    async with center.db.session() as s:
        before = await s.scalar(select(func.count()).select_from(AgentScript))
    error = await demo_admin.refused("POST", "/scripts", script_body(definition=bad, attachments=attachments),
                                     422, "invalid_script")  # fmt: skip
    where = [(p["path"], p["step"]) for p in error["details"]["problems"]]
    assert ("definition.steps[3].id", "hi") in where  # duplicate
    assert ("definition.steps[0].next", "hi") in where  # unknown next
    assert ("definition.steps[0].text", "hi") in where  # placeholders (twice)
    assert ("definition.steps[1].options", "q") in where  # no options
    assert ("definition.steps[1]", "q") in where and ("definition.steps[2]", "loop") in where  # unreachable
    assert ("attachments.queue_ids[1]", None) in where
    assert ("attachments.ivr[0].node_id", None) in where and ("attachments.categories[0]", None) in where
    assert len(where) >= 10 and error["message"].startswith(f"{len(where)} problem(s): ")
    shape = {"start": "a", "steps": [{"id": "a", "type": "shout"}]}
    error = await demo_admin.refused("POST", "/scripts", script_body(definition=shape), 422, "invalid_script")
    assert error["details"]["problems"][0]["path"] == "definition.steps[0].type"
    async with center.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(AgentScript)) == before
    made = await demo_admin.call("POST", "/scripts", script_body(), 201)  # a failed change keeps the script
    await demo_admin.refused("PUT", f"/scripts/{made['id']}", script_body(name=made["name"], definition=bad),
                             422, "invalid_script")  # fmt: skip
    assert await demo_admin.call("GET", f"/scripts/{made['id']}") == made
    for wrong in ({"language": "Polish"}, {"name": ""}, {"definition": "text"}, {"extra": 1},
                  {"attachments": {"queue_ids": [0]}}, {"name": "nul\x00"}):  # fmt: skip
        await demo_admin.call("POST", "/scripts", script_body(**wrong), 422)


async def test_roles_read_and_manage(client: httpx.AsyncClient, login: Login) -> None:
    for email, status in (("agent1@demo.test", 403), ("backoffice@demo.test", 403), ("supervisor@demo.test", 201)):
        who = TenantApi(client, await login(email))
        await who.call("POST", "/scripts", script_body(), status)
        assert await who.call("GET", "/scripts")


# --- filled in for a contact -------------------------------------------------------------------------------------


async def test_render_fills_the_placeholders_from_the_contact_its_customer_and_case(
    client: httpx.AsyncClient,
    login: Login,
    center: Infolinia,
    demo_admin: TenantApi,  # noqa: F811
) -> None:
    ids = await demo_ids(center)
    made = await demo_admin.call("POST", "/scripts", script_body(), 201)
    async with center.db.session() as s:
        customer = await s.scalar(
            select(Customer).where(Customer.tenant_id == ids["tenant"], Customer.number == "D10002")
        )
    assert customer is not None
    call = await contact(center, ids["tenant"], customer_id=customer.id, queue_id=ids["billing"])
    agent = TenantApi(client, await login("agent1@demo.test"))
    case = await agent.call("POST", "/cases", {"subject": "Faktura", "category": "billing",
                                               "interaction_id": call.id}, 201)  # fmt: skip
    shown = await agent.call("GET", f"/scripts/{made['id']}/render?interaction_id={call.id}")
    first = customer.name.split()[0]
    assert shown["steps"][0]["text"] == f"Dzień dobry, {first}!"
    assert shown["steps"][1]["text"] == f"Czy chodzi o fakturę {case['number']}?"
    assert shown["steps"][3]["text"] == "Dziękuję, Agata z Demo Telecom."
    assert shown["steps"][1]["options"] == [{"label": "Tak", "next": "number"}, {"label": "Nie", "next": "bye"}]
    assert shown["steps"][2] | {"field": "invoice", "field_type": "text", "required": True} == shown["steps"][2]
    assert shown["missing"] == [] and shown["start"] == "hi" and shown["version"] == 1
    bare = await agent.call("GET", f"/scripts/{made['id']}/render")
    assert bare["steps"][0]["text"] == "Dzień dobry, [customer.first_name]!"
    assert bare["missing"] == ["customer.first_name", "case.number"]
    by_customer = await agent.call("GET", f"/scripts/{made['id']}/render?customer_id={customer.id}")
    assert by_customer["steps"][0]["text"] == f"Dzień dobry, {first}!" and by_customer["missing"] == ["case.number"]
    by_case = await agent.call("GET", f"/scripts/{made['id']}/render?case_id={case['id']}")
    assert by_case["missing"] == [] and by_case["steps"][0]["text"] == f"Dzień dobry, {first}!"


async def test_render_reads_only_what_the_reader_may_see(
    client: httpx.AsyncClient,
    login: Login,
    center: Infolinia,
    demo_admin: TenantApi,  # noqa: F811
    acme_admin: TenantApi,  # noqa: F811
) -> None:
    ids = await demo_ids(center)
    made = await demo_admin.call("POST", "/scripts", script_body(), 201)
    async with center.db.session() as s:
        demo_customer = await s.scalar(select(Customer.id).where(Customer.tenant_id == ids["tenant"]))
    call = await contact(center, ids["tenant"], customer_id=demo_customer, queue_id=ids["billing"])
    case = await demo_admin.call("POST", "/cases", {"subject": "Front line only", "category": "billing"}, 201)
    acme_script = await acme_admin.call("POST", "/scripts", script_body(language="en"), 201)
    for query in (f"interaction_id={call.id}", f"customer_id={demo_customer}", f"case_id={case['id']}"):
        await acme_admin.refused("GET", f"/scripts/{acme_script['id']}/render?{query}", None, 404, "not_found")
    await acme_admin.refused("GET", f"/scripts/{made['id']}/render", None, 404, "not_found")
    back_office = TenantApi(client, await login("backoffice@demo.test"))  # neither the contact nor the case is its
    for query in (f"interaction_id={call.id}", f"case_id={case['id']}"):
        await back_office.refused("GET", f"/scripts/{made['id']}/render?{query}", None, 404, "not_found")
    assert (await back_office.call("GET", f"/scripts/{made['id']}/render?customer_id={demo_customer}"))["steps"]
    await demo_admin.call("GET", f"/scripts/{made['id']}/render?interaction_id=0", None, 422)


# --- suggested -------------------------------------------------------------------------------------------------


async def test_suggestions_rank_ivr_choice_above_queue_above_category_then_language(
    client: httpx.AsyncClient,
    login: Login,
    center: Infolinia,
    demo_admin: TenantApi,  # noqa: F811
) -> None:
    ids = await demo_ids(center)
    queue = await demo_admin.call("POST", "/queues", {"name": f"Scripts queue {next(_names)}"}, 201)
    ivr = [{"flow_id": ids["flow"], "node_id": "technical"}]
    queued = {"queue_ids": [queue["id"]]}
    bodies = {
        "category": script_body(attachments={"categories": ["return"]}),
        "queue_pl": script_body(attachments=queued),
        "queue_en": script_body(language="en", attachments=queued),
        "ivr": script_body(attachments={"ivr": ivr}),
        "inactive": script_body(active=False, attachments=queued),
    }
    made = {key: await demo_admin.call("POST", "/scripts", body, 201) for key, body in bodies.items()}
    async with center.db.session() as s:
        english = await s.scalar(
            select(Customer.id).where(Customer.tenant_id == ids["tenant"], Customer.language == "en")
        )
    call = await contact(center, ids["tenant"], customer_id=english, queue_id=queue["id"], to_address=DEMO_NUMBER,
                         ivr_path=["hours", "greeting", "main_menu", "technical"])  # fmt: skip
    agent = TenantApi(client, await login("agent1@demo.test"))
    case = await agent.call("POST", "/cases", {"subject": "Return", "category": "return",
                                               "interaction_id": call.id}, 201)  # fmt: skip
    found = await agent.call("GET", f"/scripts/suggested?interaction_id={call.id}")
    mine = {s["id"]: key for key, s in made.items()}
    order = [mine[s["id"]] for s in found if s["id"] in mine]
    assert order == ["ivr", "queue_en", "queue_pl", "category"]
    reasons = {mine[s["id"]]: s["reasons"] for s in found if s["id"] in mine}
    assert reasons["ivr"] == [{"kind": "ivr", "text": "IVR choice 'technical' (Main menu)"}]
    assert reasons["queue_en"] == [{"kind": "queue", "text": f"queue {queue['name']}"}]
    assert reasons["category"] == [{"kind": "category", "text": f"case category return (case {case['number']})"}]
    assert [s["language_match"] for s in found if s["id"] in mine] == [False, True, False, False]
    task = await agent.call("POST", "/tasks", {"queue_id": queue["id"], "channel": "email", "language": "en"}, 201)
    by_task = await agent.call("GET", f"/scripts/suggested?task_id={task['id']}")
    assert [mine[s["id"]] for s in by_task if s["id"] in mine] == ["queue_en", "queue_pl"]
    await agent.call("DELETE", f"/tasks/{task['id']}")
    await agent.refused("GET", "/scripts/suggested", None, 422, "validation_error")
    acme = TenantApi(client, await login("agent1@acme.test"))
    await acme.refused("GET", f"/scripts/suggested?interaction_id={call.id}", None, 404, "not_found")
    await acme.refused("GET", f"/scripts/suggested?task_id={task['id']}", None, 404, "not_found")


async def test_the_demo_suggests_its_invoice_complaint_for_the_billing_choice_in_the_callers_language(
    client: httpx.AsyncClient, login: Login, center: Infolinia
) -> None:
    ids = await demo_ids(center)
    async with center.db.session() as s:
        polish = await s.scalar(
            select(Customer.id).where(Customer.tenant_id == ids["tenant"], Customer.language == "pl")
        )
    call = await contact(center, ids["tenant"], customer_id=polish, queue_id=ids["billing"], to_address=DEMO_NUMBER,
                         ivr_path=["hours", "greeting", "main_menu", "billing"])  # fmt: skip
    agent = TenantApi(client, await login("agent1@demo.test"))
    found = await agent.call("GET", f"/scripts/suggested?interaction_id={call.id}")
    demo = [s for s in found if s["name"] in ("Reklamacja faktury", "Invoice complaint")]
    assert [s["name"] for s in demo] == ["Reklamacja faktury", "Invoice complaint"]
    assert [r["kind"] for r in demo[0]["reasons"]] == ["ivr", "queue"]
    shown = await agent.call("GET", f"/scripts/{demo[0]['id']}/render?interaction_id={call.id}")
    assert "[customer.first_name]" not in shown["steps"][0]["text"] and "Agata" in shown["steps"][0]["text"]
    assert [step["type"] for step in shown["steps"]].count("input") == 3


# --- runs ------------------------------------------------------------------------------------------------------


async def test_runs_are_recorded_on_a_contact_against_the_version_followed(
    client: httpx.AsyncClient,
    login: Login,
    center: Infolinia,
    demo_admin: TenantApi,  # noqa: F811
) -> None:
    ids = await demo_ids(center)
    made = await demo_admin.call("POST", "/scripts", script_body(), 201)
    call = await contact(center, ids["tenant"], queue_id=ids["billing"])
    agent = TenantApi(client, await login("agent1@demo.test"))
    path = f"/interactions/{call.id}/script-runs"
    run = {"script_id": made["id"], "version": 1, "path": ["hi", "ask", "number", "bye"],
           "answers": {"invoice": "FV/2026/11/042"}}  # fmt: skip
    with center.bus.subscribe(10, lambda e: e.type == "script.run_recorded") as sub:
        kept = await agent.call("POST", path, run, 201)
        event = await asyncio.wait_for(sub.get(), 5)
    assert kept["completed"] is True and kept["outcome"] == "resolved" and kept["script_version"] == 1
    assert kept["answers"] == {"invoice": "FV/2026/11/042"} and kept["steps"][1]["option"] == "Tak"
    assert event.data["interaction_id"] == call.id and event.data["script_id"] == made["id"]
    error = await agent.refused("POST", path, run | {"path": ["hi", "bye"], "answers": {"x": 1}}, 422,
                                "invalid_script")  # fmt: skip
    assert [p["path"] for p in error["details"]["problems"]] == ["path[1]", "answers.x"]
    await agent.refused("POST", path, run | {"path": ["hi", "ask", "number"], "answers": {}}, 422, "invalid_script")
    await demo_admin.call("PUT", f"/scripts/{made['id']}", script_body(name=made["name"], description="v2"))
    await agent.refused("POST", path, run, 409, "script_changed")
    await agent.refused("POST", path, run | {"script_id": 2**31 - 1}, 422, "unknown_reference")
    await demo_admin.call("DELETE", f"/scripts/{made['id']}", status=204)
    listed = await agent.call("GET", path)
    assert [r["id"] for r in listed] == [kept["id"]] and listed[0]["script_name"] == made["name"]
    acme_script = await TenantApi(client, await login("admin@acme.test")).call(
        "POST", "/scripts", script_body(language="en"), 201)  # fmt: skip
    await agent.refused("POST", path, run | {"script_id": acme_script["id"]}, 422, "unknown_reference")


@pytest.mark.parametrize("who", ["agent1@acme.test", "admin@acme.test"])
async def test_another_tenants_contact_takes_no_runs(
    client: httpx.AsyncClient, login: Login, center: Infolinia, who: str
) -> None:
    ids = await demo_ids(center)
    call = await contact(center, ids["tenant"])
    acme = TenantApi(client, await login(who))
    await acme.refused("GET", f"/interactions/{call.id}/script-runs", None, 404, "not_found")
    body = {"script_id": 1, "version": 1, "path": ["hi"]}
    await acme.refused("POST", f"/interactions/{call.id}/script-runs", body, 404, "not_found")
    async with center.db.session() as s:
        runs = select(func.count()).select_from(AgentScriptRun).where(AgentScriptRun.interaction_id == call.id)
        assert await s.scalar(runs) == 0


async def test_runs_show_on_the_customers_timeline_are_exported_and_erased_with_the_customer(
    client: httpx.AsyncClient,
    login: Login,
    center: Infolinia,
    demo_admin: TenantApi,  # noqa: F811
) -> None:
    ids = await demo_ids(center)
    made = await demo_admin.call("POST", "/scripts", script_body(), 201)
    customer = await demo_admin.call("POST", "/customers", {"name": "Runa Skryptowa"}, 201)
    call = await contact(center, ids["tenant"], customer_id=customer["id"], queue_id=ids["billing"])
    agent = TenantApi(client, await login("agent1@demo.test"))
    run = {"script_id": made["id"], "version": 1, "path": ["hi", "ask", "number", "bye"],
           "answers": {"invoice": "FV/2026/12/001"}}  # fmt: skip
    kept = await agent.call("POST", f"/interactions/{call.id}/script-runs", run, 201)
    timeline = await agent.call("GET", f"/customers/{customer['id']}/timeline")
    [item] = [i for i in timeline["items"] if i["kind"] == "script_run"]
    assert item["id"] == kept["id"] and item["script_name"] == made["name"] and item["outcome"] == "resolved"
    assert item["answers"] == {"invoice": "FV/2026/12/001"} and item["interaction_id"] == call.id
    exported = await demo_admin.call("GET", f"/customers/{customer['id']}/export")
    assert [r["answers"] for r in exported["script_runs"]] == [{"invoice": "FV/2026/12/001"}]
    await demo_admin.call("POST", f"/customers/{customer['id']}/erase", {"reason": "asked to"})
    [after] = await agent.call("GET", f"/interactions/{call.id}/script-runs")
    assert after["answers"] == {} and all("answer" not in step for step in after["steps"])
    assert after["completed"] is True and after["steps"][1]["option"] == "Tak"
    await agent.refused("POST", f"/interactions/{call.id}/script-runs", run, 409, "customer_erased")
