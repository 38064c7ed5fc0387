"""Wrap-up codes through the API: each queue's list managed by supervisors and admins with its rules, audited;
dispositions of contacts checked against their queue's active codes (free codes where a queue has none); roles
and tenant isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import Login
from tests.tenant_api import TenantApi, acme_admin, demo_admin

__all__ = ["acme_admin", "demo_admin"]

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


async def new_queue(admin: TenantApi) -> dict[str, Any]:
    queue: dict[str, Any] = await admin.call("POST", "/queues", {"name": f"Wrap-up {uuid.uuid4().hex[:8]}"}, 201)
    return queue


@pytest.fixture
async def supervisor(client: httpx.AsyncClient, login: Login) -> TenantApi:
    return TenantApi(client, await login("supervisor@demo.test"))


@pytest.fixture
async def agent(client: httpx.AsyncClient, login: Login) -> TenantApi:
    return TenantApi(client, await login("agent1@demo.test"))


async def add(api: TenantApi, queue_id: int, code: str, outcome: str = "resolved", **more: Any) -> dict[str, Any]:
    body = {"code": code, "label": code.replace("-", " ").capitalize(), "outcome": outcome} | more
    made: dict[str, Any] = await api.call("POST", f"/queues/{queue_id}/wrapup/codes", body, 201)
    return made


async def test_a_queue_keeps_its_list_of_codes(demo_admin: TenantApi, supervisor: TenantApi, agent: TenantApi) -> None:
    queue = (await new_queue(demo_admin))["id"]
    assert await agent.call("GET", f"/queues/{queue}/wrapup") == {"queue_id": queue, "required": False, "codes": []}
    fixed = await add(supervisor, queue, "fixed")
    await add(supervisor, queue, "case-opened", "follow_up")
    await add(supervisor, queue, "first", "info", position=0)  # ties keep the order they were made in
    assert (fixed["position"], fixed["active"], fixed["outcome"]) == (0, True, "resolved")
    listed = await agent.call("GET", f"/queues/{queue}/wrapup")
    assert [c["code"] for c in listed["codes"]] == ["fixed", "first", "case-opened"]
    await supervisor.call("PATCH", f"/queues/{queue}/wrapup/codes/{fixed['id']}", {"position": 5, "label": "Fixed!"})
    listed = await agent.call("GET", f"/queues/{queue}/wrapup")
    assert [c["code"] for c in listed["codes"]] == ["first", "case-opened", "fixed"]
    assert listed["codes"][-1]["label"] == "Fixed!"
    audit = await demo_admin.call("GET", f"/audit?object_type=wrapup_code&object_id={fixed['id']}")
    assert [e["action"] for e in audit["items"]] == ["wrapup_code.updated", "wrapup_code.created"]
    assert audit["items"][0]["data"]["before"] == {"label": "Fixed", "position": 0}


async def test_codes_are_validated(demo_admin: TenantApi, supervisor: TenantApi) -> None:
    queue = (await new_queue(demo_admin))["id"]
    made = await add(supervisor, queue, "fixed")
    path = f"/queues/{queue}/wrapup/codes"
    await supervisor.refused("POST", path, {"code": "fixed", "label": "Again", "outcome": "info"}, 409, "code_taken")
    for body in (
        {"code": "Bad Code", "label": "x", "outcome": "resolved"},
        {"code": "ok", "label": "", "outcome": "resolved"},
        {"code": "ok", "label": "x", "outcome": "maybe"},
        {"code": "ok", "label": "x" * 101, "outcome": "resolved"},
        {"code": "ok", "label": "x", "outcome": "resolved", "position": -1},
    ):
        await supervisor.refused("POST", path, body, 422, "validation_error")
    # the code itself is never renamed: history keeps it
    await supervisor.refused("PATCH", f"{path}/{made['id']}", {"code": "renamed"}, 422, "validation_error")
    await supervisor.refused("PATCH", f"{path}/{made['id']}", {"active": None}, 422, "validation_error")
    await supervisor.refused("PATCH", f"/queues/{queue}/wrapup", {"required": None}, 422, "validation_error")
    for i in range(49):
        await add(supervisor, queue, f"c{i}")
    await supervisor.refused("POST", path, {"code": "one-more", "label": "x", "outcome": "info"}, 422,
                             "too_many_codes")  # fmt: skip
    assert len((await supervisor.call("GET", f"/queues/{queue}/wrapup"))["codes"]) == 50


async def test_a_required_code_needs_an_active_one(demo_admin: TenantApi, supervisor: TenantApi) -> None:
    queue = (await new_queue(demo_admin))["id"]
    path = f"/queues/{queue}/wrapup"
    await supervisor.refused("PATCH", path, {"required": True}, 422, "no_active_codes")
    only = await add(supervisor, queue, "fixed")
    assert (await supervisor.call("PATCH", path, {"required": True}))["required"] is True
    assert (await demo_admin.call("GET", f"/queues/{queue}"))["wrapup_code_required"] is True
    await supervisor.refused("PATCH", f"{path}/codes/{only['id']}", {"active": False}, 409, "code_required_by_queue")
    await supervisor.refused("DELETE", f"{path}/codes/{only['id']}", None, 409, "code_required_by_queue")
    other = await add(supervisor, queue, "other")
    await supervisor.call("PATCH", f"{path}/codes/{only['id']}", {"active": False})
    await supervisor.refused("DELETE", f"{path}/codes/{other['id']}", None, 409, "code_required_by_queue")
    assert (await supervisor.call("PATCH", path, {"required": False}))["required"] is False
    await supervisor.call("DELETE", f"{path}/codes/{other['id']}", status=204)
    assert [c["code"] for c in (await supervisor.call("GET", path))["codes"]] == ["fixed"]


async def contact(api: TenantApi, status: int = 201, **body: Any) -> dict[str, Any]:
    made: dict[str, Any] = await api.call("POST", "/interactions", {"channel": "voice", "direction": "in"} | body,
                                          status)  # fmt: skip
    return made


async def test_dispositions_are_checked_against_the_queues_active_codes(
    demo_admin: TenantApi, supervisor: TenantApi, agent: TenantApi
) -> None:
    queue = (await new_queue(demo_admin))["id"]
    await add(supervisor, queue, "fixed")
    opened = await add(supervisor, queue, "case-opened", "follow_up")
    error = (await contact(agent, 422, queue_id=queue, disposition_code="Resolved"))["error"]
    assert error["code"] == "unknown_disposition"
    assert error["details"] == {"field": "disposition_code", "allowed": ["fixed", "case-opened"]}
    assert "fixed, case-opened" in error["message"]
    made = await contact(agent, queue_id=queue, disposition_code="case-opened")
    await agent.refused("PATCH", f"/interactions/{made['id']}", {"disposition_code": "nope"}, 422,
                        "unknown_disposition")  # fmt: skip
    done = await agent.call("POST", f"/interactions/{made['id']}/disposition", {"code": "fixed", "notes": "Reset."})
    assert (done["disposition_code"], done["notes"]) == ("fixed", "Reset.")
    audit = await demo_admin.call("GET", f"/audit?action=interaction.disposition_set&object_id={made['id']}")
    assert audit["items"][0]["data"] == {"before": "case-opened", "after": "fixed", "queue_id": queue}
    await agent.refused("POST", f"/interactions/{made['id']}/disposition", {"code": "gone"}, 422,
                        "unknown_disposition")  # fmt: skip
    # a deactivated code is no longer given, and the contacts carrying it keep it
    kept = await contact(agent, queue_id=queue, disposition_code="case-opened")
    await supervisor.call("PATCH", f"/queues/{queue}/wrapup/codes/{opened['id']}", {"active": False})
    await agent.refused("POST", f"/interactions/{made['id']}/disposition", {"code": "case-opened"}, 422,
                        "unknown_disposition")  # fmt: skip
    assert (await agent.call("GET", f"/interactions/{kept['id']}"))["disposition_code"] == "case-opened"
    await agent.call("PATCH", f"/interactions/{kept['id']}", {"notes": "still valid"})  # other changes go on
    # and it cannot be deleted while history carries it
    error = await supervisor.refused("DELETE", f"/queues/{queue}/wrapup/codes/{opened['id']}", None, 409,
                                     "code_in_use")  # fmt: skip
    assert error["details"] == {"contacts": 1}


async def test_a_required_code_is_needed_to_end_the_wrap_up(
    demo_admin: TenantApi, supervisor: TenantApi, agent: TenantApi
) -> None:
    queue = (await new_queue(demo_admin))["id"]
    await add(supervisor, queue, "fixed")
    await supervisor.call("PATCH", f"/queues/{queue}/wrapup", {"required": True})
    times = {"answered_at": T0.isoformat(), "ended_at": (T0 + timedelta(minutes=4)).isoformat()}
    made = await contact(agent, queue_id=queue, **times)  # no wrap-up end yet: no code needed yet
    end = {"wrapup_ended_at": (T0 + timedelta(minutes=5)).isoformat()}
    error = await agent.refused("PATCH", f"/interactions/{made['id']}", end, 422, "disposition_required")
    assert error["details"]["allowed"] == ["fixed"]
    await contact(agent, 422, queue_id=queue, **times, **end)
    assert (await agent.call("GET", f"/interactions/{made['id']}"))["wrapup_ended_at"] is None  # nothing written
    done = await agent.call("PATCH", f"/interactions/{made['id']}", end | {"disposition_code": "fixed"})
    assert done["disposition_code"] == "fixed" and done["wrapup_ended_at"] is not None
    await contact(agent, queue_id=queue, disposition_code="fixed", **times, **end)


async def test_queues_without_codes_and_contacts_without_queue_take_free_codes(
    demo_admin: TenantApi, agent: TenantApi
) -> None:
    queue = (await new_queue(demo_admin))["id"]
    made = await contact(agent, queue_id=queue, disposition_code="Anything.1")
    done = await agent.call("POST", f"/interactions/{made['id']}/disposition", {"code": "info-given"})
    assert done["disposition_code"] == "info-given"
    free = await contact(agent, disposition_code="case-created", wrapup_ended_at=T0.isoformat())
    assert free["disposition_code"] == "case-created"
    await agent.call("POST", f"/interactions/{free['id']}/disposition", {"code": "Resolved"})
    await agent.refused("POST", f"/interactions/{free['id']}/disposition", {"code": "no spaces"}, 422,
                        "validation_error")  # fmt: skip
    # moving a contact to a queue with codes checks the code it is given there
    coded = (await new_queue(demo_admin))["id"]
    await add(demo_admin, coded, "fixed")
    await agent.refused("PATCH", f"/interactions/{made['id']}", {"queue_id": coded, "disposition_code": "x"}, 422,
                        "unknown_disposition")  # fmt: skip
    await agent.call("PATCH", f"/interactions/{made['id']}", {"queue_id": coded, "disposition_code": "fixed"})


async def test_roles(demo_admin: TenantApi, client: httpx.AsyncClient, login: Login) -> None:
    queue = (await new_queue(demo_admin))["id"]
    code = await add(demo_admin, queue, "fixed")
    for email in ("agent2@demo.test", "backoffice@demo.test"):
        user = TenantApi(client, await login(email))
        await user.call("GET", f"/queues/{queue}/wrapup")
        await user.refused("POST", f"/queues/{queue}/wrapup/codes", {"code": "x", "label": "x", "outcome": "info"},
                           403, "forbidden")  # fmt: skip
        await user.refused("PATCH", f"/queues/{queue}/wrapup/codes/{code['id']}", {"active": False}, 403,
                           "forbidden")  # fmt: skip
        await user.refused("PATCH", f"/queues/{queue}/wrapup", {"required": True}, 403, "forbidden")


async def test_another_tenants_queues_and_codes_are_not_found(demo_admin: TenantApi, acme_admin: TenantApi) -> None:
    queue = (await new_queue(demo_admin))["id"]
    code = await add(demo_admin, queue, "fixed")
    await acme_admin.refused("GET", f"/queues/{queue}/wrapup", None, 404, "not_found")
    await acme_admin.refused("POST", f"/queues/{queue}/wrapup/codes", {"code": "x", "label": "x", "outcome": "info"},
                             404, "not_found")  # fmt: skip
    acme_queue = (await acme_admin.call("GET", "/queues"))[0]["id"]
    for method in ("PATCH", "DELETE"):  # a demo code through acme's own queue
        await acme_admin.refused(method, f"/queues/{acme_queue}/wrapup/codes/{code['id']}", {}, 404, "not_found")
    # and a code of one queue through another queue of the same tenant
    other = (await new_queue(demo_admin))["id"]
    await demo_admin.refused("PATCH", f"/queues/{other}/wrapup/codes/{code['id']}", {"active": False}, 404,
                             "not_found")  # fmt: skip
    assert (await demo_admin.call("GET", f"/queues/{queue}/wrapup"))["codes"][0]["active"] is True


async def test_the_demo_queues_have_codes(demo_admin: TenantApi) -> None:
    queues = {q["name"]: q for q in await demo_admin.call("GET", "/queues")}
    for name in ("Billing", "Technical", "Sales", "Billing back office"):
        wrapup = await demo_admin.call("GET", f"/queues/{queues[name]['id']}/wrapup")
        assert any(c["outcome"] == "resolved" for c in wrapup["codes"]), name
        assert wrapup["required"] is (name == "Billing back office")
    codes = {c["code"] for c in (await demo_admin.call("GET", f"/queues/{queues['Billing']['id']}/wrapup"))["codes"]}
    history = await demo_admin.call("GET", "/interactions?limit=200")
    seeded = datetime.now(UTC) - timedelta(hours=12)  # the demo's history is days old; other tests' contacts new
    billing = queues["Billing"]["id"]
    carried = {i["disposition_code"] for i in history["items"]
               if i["queue_id"] == billing and datetime.fromisoformat(i["created_at"]) < seeded}  # fmt: skip
    assert carried and carried <= codes
