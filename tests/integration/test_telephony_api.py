"""Numbers, trunks and IVR flows through the HTTP API: validation (every problem of a flow in one 422), versions,
uniqueness across tenants, credentials kept only as digests, roles, tenant isolation, audit rows and events."""

from __future__ import annotations

import hashlib
import itertools
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.events import Event
from infolinia.store.models import Trunk
from infolinia.voice.ivr import DEMO_NUMBER, demo_flow
from tests.conftest import Login
from tests.tenant_api import API, TenantApi, acme_admin, demo_admin

_names = itertools.count(1)
HANGUP = {"start": "bye", "nodes": [{"id": "bye", "type": "hangup"}]}


def unique(prefix: str) -> str:
    return f"{prefix} {next(_names)}"


demo, acme = demo_admin, acme_admin  # the fixtures, under the names these tests use


async def main_menu(admin: TenantApi) -> dict[str, Any]:
    flows = await admin.call("GET", "/ivr-flows")
    return next(f for f in flows if f["name"] == "Main menu")


async def test_the_demo_line_is_seeded(client: httpx.AsyncClient, login: Login) -> None:
    supervisor = TenantApi(client, await login("supervisor@demo.test"))
    flow = await main_menu(supervisor)
    assert flow["definition"] == demo_flow().model_dump(mode="json")
    numbers = {n["e164"]: n for n in await supervisor.call("GET", "/numbers")}
    assert numbers[DEMO_NUMBER]["national"] == "800100200" and numbers[DEMO_NUMBER]["flow_id"] == flow["id"]
    assert numbers[DEMO_NUMBER]["answer_after_s"] == 0
    [local] = [t for t in await supervisor.call("GET", "/trunks") if t["name"] == "local"]
    assert local["allowed_sources"] == ["127.0.0.1/32", "::1/128"]
    assert local["username"] is None and local["auth_required"] is False and local["active"] is True
    tenant = (await supervisor.call("GET", "/tenants"))[0]
    assert tenant["record_calls"] is False


async def test_a_flow_is_refused_with_every_problem_listed(demo: TenantApi) -> None:
    name = unique("Broken")
    definition = {
        "start": "menu",
        "nodes": [
            {"id": "menu", "type": "menu", "prompt": "menu_main", "digits": {"1": "q", "2": "a"}, "on_failure": "q"},
            {"id": "q", "type": "queue", "queue": "Nowhere"},
            {"id": "a", "type": "play", "prompt": "no_such_prompt", "next": "b"},
            {"id": "b", "type": "play", "prompt": "greeting", "next": "a"},
            {"id": "orphan", "type": "hangup"},
        ],
    }
    error = await demo.refused("POST", "/ivr-flows", {"name": name, "definition": definition}, 422, "invalid_flow")
    assert error["message"].startswith("definition: 4 problem(s): ")
    assert error["details"]["field"] == "definition"
    problems = {(p["path"], p["node"], p["field"]): p["message"] for p in error["details"]["problems"]}
    assert problems == {
        ("nodes[1].queue", "q", "queue"): "'q' names an unknown queue 'Nowhere'",  # unknown queue
        ("nodes[2].prompt", "a", "prompt"): "'a' plays a missing prompt 'no_such_prompt'",  # missing prompt
        ("nodes[4]", "orphan", None): "'orphan' cannot be reached from the start",  # unreachable node
        ("nodes[2]", "a", None): "loop a -> b -> a has no way out: none of its nodes leads to an exit",  # dead loop
    }
    assert name not in [f["name"] for f in await demo.call("GET", "/ivr-flows")]


async def test_a_flow_of_the_wrong_shape_is_refused_with_every_problem_listed(demo: TenantApi) -> None:
    definition = {
        "start": "m",
        "nodes": [
            {"id": "m", "type": "menu", "digits": {"1": "out"}, "on_failure": "out"},
            {"id": "out", "type": "transfer", "extension": "0048600100200"},  # no calls to outside numbers
            {"id": "dial", "type": "dial", "number": "+48600100200"},
        ],
    }
    error = await demo.refused("POST", "/ivr-flows", {"name": unique("Bad"), "definition": definition}, 422,
                               "invalid_flow")  # fmt: skip
    located = {(p["path"], p["node"], p["field"]) for p in error["details"]["problems"]}
    assert located == {
        ("nodes[0].prompt", "m", "prompt"),
        ("nodes[1].extension", "out", "extension"),
        ("nodes[2].type", "dial", "type"),
    }
    for body in ({"name": "x", "definition": "menu"}, {"name": "", "definition": HANGUP}, {"name": "x"}):
        await demo.refused("POST", "/ivr-flows", body, 422, "validation_error")
    error = await demo.refused("POST", "/ivr-flows", {"name": "x", "definition": {}}, 422, "invalid_flow")
    assert {p["field"] for p in error["details"]["problems"]} == {"start", "nodes"}


async def test_each_save_is_a_new_version(demo: TenantApi) -> None:
    queues = {q["name"]: q["id"] for q in await demo.call("GET", "/queues")}
    name = unique("Billing line")
    by_name = {"start": "q", "nodes": [{"id": "q", "type": "queue", "queue": "Billing"}]}
    flow = await demo.call("POST", "/ivr-flows", {"name": name, "definition": by_name}, 201)
    assert flow["version"] == 1
    assert flow["definition"]["nodes"][0] == {
        "id": "q", "type": "queue", "queue": "Billing", "skills": [], "language": None, "priority": 0,
        "announce_every_s": 30.0, "messages": [],
    }  # fmt: skip
    by_id = {"start": "q", "nodes": [{"id": "q", "type": "queue", "queue": str(queues["Technical"])}]}
    path = f"/ivr-flows/{flow['id']}"
    assert (await demo.call("PUT", path, {"name": name, "definition": by_id}))["version"] == 2
    assert (await demo.call("PUT", path, {"name": name, "definition": by_id}))["version"] == 3
    await demo.refused("PUT", path, {"name": name, "definition": HANGUP | {"start": "nope"}}, 422, "invalid_flow")
    await demo.refused("PUT", path, {"name": "Main menu", "definition": by_id}, 409, "name_taken")
    await demo.refused("POST", "/ivr-flows", {"name": name, "definition": by_id}, 409, "name_taken")
    stored = await demo.call("GET", path)
    assert stored["version"] == 3 and stored["definition"]["nodes"][0]["queue"] == str(queues["Technical"])


async def test_a_flow_in_use_is_not_deleted(demo: TenantApi) -> None:
    flow = await demo.call("POST", "/ivr-flows", {"name": unique("Short"), "definition": HANGUP}, 201)
    number = await demo.call("POST", "/numbers", {"number": "+48 22 100 20 01", "flow_id": flow["id"]}, 201)
    error = await demo.refused("DELETE", f"/ivr-flows/{flow['id']}", None, 409, "flow_in_use")
    assert error["details"] == {"numbers": ["+48221002001"]}
    assert (await demo.call("PATCH", f"/numbers/{number['id']}", {"flow_id": None}))["flow_id"] is None
    await demo.call("DELETE", f"/ivr-flows/{flow['id']}", status=204)
    await demo.refused("GET", f"/ivr-flows/{flow['id']}", None, 404, "not_found")
    await demo.call("DELETE", f"/numbers/{number['id']}", status=204)


SPARE = "+48221002032"
#: bodies refused by their shape, with the field the 422 names
BAD_NUMBERS = [
    ({"number": ""}, "number"),
    ({"number": "1" * 41}, "number"),
    ({}, "number"),
    ({"number": SPARE, "answer_after_s": -1}, "answer_after_s"),
    ({"number": SPARE, "answer_after_s": 61}, "answer_after_s"),
    ({"number": SPARE, "flow_id": 0}, "flow_id"),
    ({"number": SPARE, "tenant_id": 2}, "tenant_id"),
]


async def test_numbers_are_normalised_and_belong_to_one_tenant(demo: TenantApi, acme: TenantApi) -> None:
    flow = (await main_menu(demo))["id"]
    body = {"number": "22 100 20 30", "label": "Sales line", "flow_id": flow, "answer_after_s": 2.5}
    number = await demo.call("POST", "/numbers", body, 201)
    assert (number["e164"], number["national"], number["label"]) == ("+48221002030", "221002030", "Sales line")
    assert number["answer_after_s"] == 2.5 and "tenant_id" not in number
    await demo.refused("POST", "/numbers", {"number": "+48 22 100-20-30"}, 409, "number_taken")
    error = await acme.refused("POST", "/numbers", {"number": "0048221002030"}, 409, "number_taken")
    assert "demo" not in error["message"].lower()
    error = await acme.refused("POST", "/numbers", {"number": "+48221002031", "flow_id": flow}, 422,
                               "unknown_reference")  # fmt: skip
    assert error["details"] == {"field": "flow_id"}
    for raw in ("12", "abc", "+48 800 100 2000000", "+999123456"):
        error = await demo.refused("POST", "/numbers", {"number": raw}, 422, "invalid_number")
        assert error["details"] == {"field": "number"} and error["message"].startswith("number: ")
    for bad, field in BAD_NUMBERS:
        error = await demo.refused("POST", "/numbers", bad, 422, "validation_error")
        assert error["message"].startswith(f"{field}: ") and error["details"][0]["loc"] == ["body", field]
    path = f"/numbers/{number['id']}"
    changed = await demo.call("PATCH", path, {"number": "+48 22 100 20 33", "label": "Sales"})
    assert (changed["e164"], changed["national"], changed["flow_id"]) == ("+48221002033", "221002033", flow)
    await demo.refused("PATCH", path, {"number": DEMO_NUMBER}, 409, "number_taken")
    await demo.refused("PATCH", path, {"answer_after_s": None}, 422, "validation_error")
    await acme.refused("PATCH", path, {"label": "mine"}, 404, "not_found")
    await acme.refused("DELETE", path, None, 404, "not_found")
    await demo.call("DELETE", path, status=204)
    # once given up, another tenant may take a number (a British one: acme's data holds no Polish numbers, which the
    # access tests take as a sign of demo's data)
    given_up = await demo.call("POST", "/numbers", {"number": "+44 20 7946 0123"}, 201)
    await acme.refused("POST", "/numbers", {"number": "020 7946 0123"}, 409, "number_taken")
    await demo.call("DELETE", f"/numbers/{given_up['id']}", status=204)
    taken = await acme.call("POST", "/numbers", {"number": "020 7946 0123"}, 201)
    assert taken["e164"] == "+442079460123"
    await acme.call("DELETE", f"/numbers/{taken['id']}", status=204)


def digest(algorithm: str, username: str, realm: str, password: str) -> str:
    return hashlib.new(algorithm, f"{username}:{realm}:{password}".encode()).hexdigest()


async def test_trunk_credentials_are_kept_as_digests_only(center: Infolinia, demo: TenantApi, acme: TenantApi) -> None:
    password = "correct horse battery"
    body = {"name": unique("Carrier"), "allowed_sources": ["198.51.100.0/24", "2001:db8::1"],
            "username": "carrier-demo", "password": password}  # fmt: skip
    trunk = await demo.call("POST", "/trunks", body, 201)
    assert trunk["allowed_sources"] == ["198.51.100.0/24", "2001:db8::1/128"]
    assert trunk["username"] == "carrier-demo" and trunk["auth_required"] is True
    async with center.db.session() as s:
        row = await s.scalar(select(Trunk).where(Trunk.id == trunk["id"]))
    assert row is not None
    assert row.ha1_md5 == digest("md5", "carrier-demo", "demo.infolinia", password)
    assert row.ha1_sha256 == digest("sha256", "carrier-demo", "demo.infolinia", password)
    listed = await demo.client.get(f"{API}/trunks", headers=demo.headers)
    for secret in (password, row.ha1_md5, row.ha1_sha256, "ha1"):
        assert secret not in listed.text
    assert set(trunk) == {"id", "name", "allowed_sources", "username", "auth_required", "active", "dial_to",
                          "caller_id", "created_at", "updated_at"}  # fmt: skip
    # usernames are unique across tenants: credentials name their trunk wherever a call comes from
    await acme.refused("POST", "/trunks", body | {"name": "theirs"}, 409, "username_taken")
    await demo.refused("POST", "/trunks", body | {"username": "other-user"}, 409, "name_taken")
    path = f"/trunks/{trunk['id']}"
    await demo.refused("PATCH", path, {"username": "renamed-carrier"}, 422, "trunk_credentials")
    changed = await demo.call("PATCH", path, {"username": "renamed-carrier", "password": "another long secret"})
    assert changed["username"] == "renamed-carrier"
    plain = await demo.call("PATCH", path, {"username": None})
    assert plain["username"] is None and plain["auth_required"] is False
    async with center.db.session() as s:
        row = await s.scalar(select(Trunk).where(Trunk.id == trunk["id"]))
    assert row is not None and row.ha1_md5 is None and row.ha1_sha256 is None
    await demo.refused("PATCH", path, {"allowed_sources": []}, 422, "trunk_unreachable")
    await demo.refused("PATCH", path, {"password": "long enough secret"}, 422, "trunk_credentials")
    assert (await demo.call("PATCH", path, {"active": False}))["active"] is False
    await demo.call("DELETE", path, status=204)
    await demo.refused("DELETE", path, None, 404, "not_found")


async def test_trunk_input_is_checked(demo: TenantApi) -> None:
    for sources, reason in ((["10.0.0.1/24"], "host bits set"), (["0.0.0.0/0"], "every address"),
                            (["fe80::1%eth0"], "zone"), (["::ffff:10.0.0.1"], "as IPv4"),
                            (["192.0.2.1", "banana"], "not an IP network")):  # fmt: skip
        error = await demo.refused(
            "POST", "/trunks", {"name": "t", "allowed_sources": sources}, 422, "validation_error"
        )
        assert error["details"][0]["loc"] == ["body", "allowed_sources", len(sources) - 1], error
        assert reason in error["message"] and error["message"].startswith(f"allowed_sources.{len(sources) - 1}: ")
    too_many = [f"192.0.2.{i}" for i in range(33)]
    await demo.refused("POST", "/trunks", {"name": "t", "allowed_sources": too_many}, 422, "validation_error")
    for body, code, field in (
        ({"name": "t"}, "trunk_unreachable", "allowed_sources"),
        ({"name": "t", "username": "lonely-user"}, "trunk_credentials", "password"),
        ({"name": "t", "allowed_sources": ["192.0.2.1"], "password": "no username here"}, "trunk_credentials",
         "password"),
    ):  # fmt: skip
        error = await demo.refused("POST", "/trunks", body, 422, code)
        assert error["details"] == {"field": field} and error["message"].startswith(f"{field}: ")
    for body in ({"name": "t", "username": "u1", "password": "long enough secret"},
                 {"name": "t", "username": "user", "password": "short"},
                 {"name": "t", "allowed_sources": ["192.0.2.1"], "ha1_md5": "0" * 32}):  # fmt: skip
        await demo.refused("POST", "/trunks", body, 422, "validation_error")


async def test_a_trunk_that_dials_is_checked(demo: TenantApi) -> None:
    base = {"name": "dialing", "allowed_sources": ["192.0.2.9"]}
    for extra in ({"dial_to": "sip:carrier.example"}, {"dial_to": "carrier.example:70000"},
                  {"dial_to": "carrier example"}, {"dial_to": "carrier.example"},  # no caller ID
                  {"dial_to": "carrier.example", "caller_id": "800100200"},  # not international
                  {"dial_to": "carrier.example", "caller_id": "+48 abc"}):  # fmt: skip
        await demo.refused("POST", "/trunks", base | extra, 422, "validation_error")
    trunk = await demo.call(
        "POST", "/trunks", base | {"dial_to": "SIP.Carrier.example:5080", "caller_id": "+48 800 100 200"}, 201
    )
    assert (trunk["dial_to"], trunk["caller_id"]) == ("sip.carrier.example:5080", "+48800100200")
    v6 = await demo.call("PATCH", f"/trunks/{trunk['id']}", {"dial_to": "[2001:db8::1]:5060"}, 200)
    assert v6["dial_to"] == "[2001:db8::1]:5060"
    error = await demo.refused("PATCH", f"/trunks/{trunk['id']}", {"caller_id": None}, 422, "validation_error")
    assert "caller_id" in error["message"]
    stopped = await demo.call("PATCH", f"/trunks/{trunk['id']}", {"dial_to": None, "caller_id": None}, 200)
    assert stopped["dial_to"] is None
    await demo.call("DELETE", f"/trunks/{trunk['id']}", None, 204)


async def test_supervisors_read_admins_manage_agents_see_nothing(client: httpx.AsyncClient, login: Login) -> None:
    supervisor = TenantApi(client, await login("supervisor@demo.test"))
    agent = TenantApi(client, await login("agent1@demo.test"))
    for path in ("/ivr-flows", "/numbers", "/trunks"):
        await supervisor.call("GET", path)
        await supervisor.refused("POST", path, {}, 403, "forbidden")
        await agent.refused("GET", path, None, 403, "forbidden")
    flow = (await main_menu(supervisor))["id"]
    await supervisor.refused("PUT", f"/ivr-flows/{flow}", {"name": "Main menu", "definition": HANGUP}, 403,
                             "forbidden")  # fmt: skip


async def test_another_tenant_sees_none_of_it(demo: TenantApi, acme: TenantApi) -> None:
    flow = (await main_menu(demo))["id"]
    await acme.refused("GET", f"/ivr-flows/{flow}", None, 404, "not_found")
    await acme.refused("PUT", f"/ivr-flows/{flow}", {"name": "x", "definition": HANGUP}, 404, "not_found")
    await acme.refused("DELETE", f"/ivr-flows/{flow}", None, 404, "not_found")
    for path in ("/ivr-flows", "/numbers", "/trunks"):
        listed = await acme.client.get(f"{API}{path}", headers=acme.headers)
        assert listed.status_code == 200 and "+48800100200" not in listed.text and "Main menu" not in listed.text
    # a flow of acme's own cannot name demo's queues
    body = {"name": unique("Acme"), "definition": {"start": "q", "nodes": [{"id": "q", "type": "queue",
                                                                             "queue": "Billing"}]}}  # fmt: skip
    await acme.refused("POST", "/ivr-flows", body, 422, "invalid_flow")


async def test_the_record_calls_setting(demo: TenantApi) -> None:
    tenant = (await demo.call("GET", "/tenants"))[0]
    path = f"/tenants/{tenant['id']}"
    try:
        assert (await demo.call("PATCH", path, {"record_calls": True}))["record_calls"] is True
        assert (await demo.call("PATCH", path, {"name": tenant["name"]}))["record_calls"] is True  # left out: kept
        await demo.refused("PATCH", path, {"record_calls": "perhaps"}, 422, "validation_error")
    finally:
        assert (await demo.call("PATCH", path, {"record_calls": False}))["record_calls"] is False


async def test_every_change_is_audited_and_published_after_commit(
    center: Infolinia, demo: TenantApi, client: httpx.AsyncClient, login: Login
) -> None:
    tenant = (await demo.call("GET", "/tenants"))[0]["id"]
    with center.bus.subscribe() as sub:
        flow = await demo.call("POST", "/ivr-flows", {"name": unique("Audited"), "definition": HANGUP}, 201)
        await demo.call("PUT", f"/ivr-flows/{flow['id']}", {"name": flow["name"], "definition": HANGUP})
        number = await demo.call("POST", "/numbers", {"number": "+48221002040", "flow_id": flow["id"]}, 201)
        await demo.call("PATCH", f"/numbers/{number['id']}", {"label": "Audited", "flow_id": None})
        await demo.call("DELETE", f"/numbers/{number['id']}", status=204)
        trunk_body = {"name": unique("Audited"), "username": "audited-trunk", "password": "long enough secret"}
        trunk = await demo.call("POST", "/trunks", trunk_body, 201)
        await demo.call("PATCH", f"/trunks/{trunk['id']}", {"password": "another long secret"})
        await demo.call("DELETE", f"/trunks/{trunk['id']}", status=204)
        await demo.call("DELETE", f"/ivr-flows/{flow['id']}", status=204)
        await demo.refused("DELETE", f"/trunks/{trunk['id']}", None, 404, "not_found")  # nothing published for this
        events: list[Event] = []
        while not sub.queue.empty():
            events.append(sub.queue.get_nowait())
    mine = [(e.type, e.data) for e in events if e.tenant_id == tenant and not e.type.startswith("routing.")]
    assert mine == [
        ("ivr_flow.created", {"id": flow["id"], "version": 1}),
        ("ivr_flow.updated", {"id": flow["id"], "version": 2, "fields": []}),
        ("number.created", {"id": number["id"]}),
        ("number.updated", {"id": number["id"], "fields": ["flow_id", "label"]}),
        ("number.deleted", {"id": number["id"]}),
        ("trunk.created", {"id": trunk["id"]}),
        ("trunk.updated", {"id": trunk["id"], "fields": ["password"]}),
        ("trunk.deleted", {"id": trunk["id"]}),
        ("ivr_flow.deleted", {"id": flow["id"]}),
    ]
    # the trail as supervisors read it, newest first (SQLite may give a deleted row's id to the next one: the newest
    # three rows of this id are this trunk's)
    supervisor = TenantApi(client, await login("supervisor@demo.test"))
    trail = (await supervisor.call("GET", f"/audit?object_type=trunk&object_id={trunk['id']}"))["items"][:3]
    assert [(r["action"], r["data"]) for r in trail] == [
        ("trunk.deleted", {}),
        ("trunk.updated", {"fields": ["password"]}),
        ("trunk.created", {"fields": ["active", "allowed_sources", "name", "password", "username"]}),
    ]
    assert all(r["actor_label"] == "admin@demo.test" for r in trail)
    assert "long enough secret" not in str(trail) and "another long secret" not in str(trail)
    numbered = (await supervisor.call("GET", f"/audit?action=number.created&object_id={number['id']}"))["items"]
    assert numbered[0]["data"] == {"e164": "+48221002040", "flow_id": flow["id"]}


async def test_the_openapi_document_describes_the_flow(http_app: FastAPI) -> None:
    document = http_app.openapi()
    schemas = document["components"]["schemas"]
    reference = schemas["FlowIn"]["properties"]["definition"]["allOf"][0]["$ref"]
    assert reference == "#/components/schemas/Flow" and "nodes" in schemas["Flow"]["properties"]
    assert "password" not in schemas["TrunkOut"]["properties"] and "ha1_md5" not in str(schemas["TrunkOut"])
