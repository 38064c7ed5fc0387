"""Tenant isolation and role permissions, derived from the route table: a new route is covered automatically."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from infolinia.access import PERMISSIONS
from infolinia.agent_scripts.actions import create_script
from infolinia.agent_scripts.schemas import ScriptIn
from infolinia.api.deps import NAMED, RESOLVERS, route_permission
from infolinia.app import PUBLIC_ROUTES, Infolinia, api_routes
from infolinia.cases.actions import create_case
from infolinia.cases.schemas import CaseIn
from infolinia.kb import actions as kb
from infolinia.kb.schemas import ArticleIn, CategoryIn
from infolinia.outbound import campaigns
from infolinia.outbound.actions import request_callback
from infolinia.schemas import CallbackIn, CampaignIn, DoNotCallIn, UserIn
from infolinia.store.models import (
    AgentScript,
    AuthToken,
    Callback,
    Campaign,
    CampaignContact,
    Case,
    ChatFile,
    ChatSession,
    Customer,
    CustomerIdentity,
    DoNotCall,
    EmailAttachment,
    EmailMessage,
    Interaction,
    IvrFlow,
    KbArticle,
    KbCategory,
    PhoneNumber,
    Queue,
    Role,
    RoutingTask,
    Team,
    Tenant,
    TokenKind,
    Trunk,
    User,
    WrapupCode,
)
from infolinia.store.types import utcnow
from infolinia.store.uow import SYSTEM, write
from infolinia.voice.telephony import actions as telephony
from infolinia.voice.telephony.schemas import FlowIn, NumberIn, TrunkIn
from tests.conftest import Login

PARAM = re.compile(r"{(\w+)}")
#: endless by design (server-sent events): checked by its own test against the real server
STREAMS = frozenset({"/api/v1/events"})
#: lists that name what they are for in a query parameter (422 without it)
QUERIED = frozenset({"/api/v1/scripts/suggested"})
# Strings that occur only in the demo tenant's data, never in acme's.
DEMO_CANARIES = ("demo.test", "example.pl", "+48", "Demo Telecom", '"D100')
#: path parameter -> value: the objects (ids) and names of one tenant that the calls name
Ids = dict[str, int | str]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    permission: str

    def url(self, ids: Ids) -> str:
        return PARAM.sub(lambda m: str(ids[m.group(1)]), self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def api_calls(app: FastAPI) -> list[Call]:
    """Every non-public API operation the running app serves (from its OpenAPI document), with its permission."""
    served = {
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in ops
    }
    table = {(m, path): route for path, route in api_routes() for m in route.methods}
    assert served == set(table), "every served API route must come from the route table, and vice versa"
    calls = []
    # deletions last, so that the objects the other calls name still exist when they are called
    for (method, path), route in sorted(table.items(), key=lambda item: (item[0][0] == "DELETE", item[0])):
        if path not in PUBLIC_ROUTES:
            perm = route_permission(route)
            assert perm is not None, f"{path} bypasses the access gate"
            if path not in STREAMS:
                calls.append(Call(method, path, perm))
    return calls


async def send(client: httpx.AsyncClient, call: Call, ids: Ids, headers: dict[str, str]) -> httpx.Response:
    body = {} if call.method in {"POST", "PUT", "PATCH"} else None
    return await client.request(call.method, call.url(ids), json=body, headers=headers)


PROBE = "Matrix probe"


async def _telephony_probes(center: Infolinia, tenant_id: int) -> dict[str, int]:
    """A flow, number, trunk and agent script of the tenant's own for the matrices (made again when an allowed call
    deleted them), so that no call changes or deletes the demo line and scripts, which other tests call."""
    async with write(center.db, None, SYSTEM) as tx:
        s = tx.session
        tenant = await s.get(Tenant, tenant_id)
        assert tenant is not None
        flow = await s.scalar(select(IvrFlow.id).where(IvrFlow.tenant_id == tenant_id, IvrFlow.name == PROBE))
        if flow is None:
            hangup = {"start": "bye", "nodes": [{"id": "bye", "type": "hangup"}]}
            flow = (await telephony.create_flow(tx, tenant_id, FlowIn(name=PROBE, definition=hangup), ())).id
        number = await s.scalar(
            select(PhoneNumber.id).where(PhoneNumber.tenant_id == tenant_id, PhoneNumber.label == PROBE)
        )
        if number is None:
            number = (await telephony.create_number(tx, tenant, NumberIn(number="+48221000000", label=PROBE))).id
        trunk = await s.scalar(select(Trunk.id).where(Trunk.tenant_id == tenant_id, Trunk.name == PROBE))
        if trunk is None:
            trunk = (await telephony.create_trunk(tx, tenant, TrunkIn(name=PROBE, allowed_sources=["192.0.2.1"]))).id
        script = await s.scalar(
            select(AgentScript.id).where(AgentScript.tenant_id == tenant_id, AgentScript.name == PROBE)
        )
        if script is None:
            steps = {"start": "bye", "steps": [{"id": "bye", "type": "end", "text": "Goodbye"}]}
            body = ScriptIn(name=PROBE, language="en", definition=steps)
            script = (await create_script(tx, tenant, body)).id
    return {"flow_id": flow, "number_id": number, "trunk_id": trunk, "script_id": script}


async def _kb_probes(center: Infolinia, tenant_id: int) -> dict[str, int]:
    """A published article and a category of the tenant's own (made again when an allowed call deleted them), so
    that no call changes or deletes the demo's knowledge base, which other tests search."""
    async with write(center.db, None, SYSTEM) as tx:
        s = tx.session
        category = await s.scalar(
            select(KbCategory.id).where(KbCategory.tenant_id == tenant_id, KbCategory.slug == "matrix-probe")
        )
        if category is None:
            category = (
                await kb.create_category(tx, tenant_id, CategoryIn(slug="matrix-probe", names={"en": PROBE}))
            ).id
        article = await s.scalar(
            select(KbArticle.id).where(KbArticle.tenant_id == tenant_id, KbArticle.slug == "matrix-probe")
        )
        if article is None:
            body = ArticleIn(language="en", slug="matrix-probe", title=PROBE, body=PROBE, status="published")
            article = (await kb.create_article(tx, tenant_id, body)).id
    return {"article_id": article, "category_id": category}


async def _email_probes(center: Infolinia, tenant_id: int) -> dict[str, int]:
    """An outbound e-mail of the tenant's own that could not be sent, with an attachment row (made once), so that
    no call sends or changes the e-mails other tests read."""
    async with write(center.db, None, SYSTEM) as tx:
        s = tx.session
        key = f"matrix-probe-{tenant_id}@infolinia.invalid"
        row = await s.scalar(select(EmailMessage).where(EmailMessage.tenant_id == tenant_id,
                                                        EmailMessage.message_id == key))  # fmt: skip
        if row is None:
            row = EmailMessage(tenant_id=tenant_id, direction="out", status="failed", message_id=key,
                               to_address="probe@example.com", subject=PROBE)  # fmt: skip
            s.add(row)
            await s.flush()
            s.add(EmailAttachment(tenant_id=tenant_id, message_id=row.id, position=1, filename="probe.exe",
                                  content_type="application/x-msdownload", size=0, sha256="0" * 64,
                                  refused="a type that can run code"))  # fmt: skip
            await s.flush()
        attachment = await s.scalar(select(EmailAttachment.id).where(EmailAttachment.message_id == row.id))
        assert attachment is not None
    return {"email_id": row.id, "attachment_id": attachment}


async def _chat_probes(center: Infolinia, tenant_id: int) -> dict[str, int]:
    """An ended chat of the tenant's own with a file (made once, its file kept), so that no call writes in or ends
    a chat other tests use."""
    async with write(center.db, None, SYSTEM) as tx:
        s = tx.session
        key = hashlib.sha256(f"matrix-probe-{tenant_id}".encode()).hexdigest()
        chat = await s.scalar(select(ChatSession).where(ChatSession.token_hash == key))
        if chat is None:
            chat = ChatSession(tenant_id=tenant_id, token_hash=key, status="ended", name=PROBE, topic="question",
                               ended_at=utcnow(), ended_by="system")  # fmt: skip
            s.add(chat)
            await s.flush()
        data = b"matrix probe\n"
        kept = center.chat.files.keep(tenant_id, data, "text/plain")
        file = await s.scalar(select(ChatFile.id).where(ChatFile.chat_id == chat.id))
        if file is None:
            row = ChatFile(tenant_id=tenant_id, chat_id=chat.id, sender="customer", filename="probe.txt",
                           content_type="text/plain", size=len(data), sha256=kept.sha256, path=kept.path)  # fmt: skip
            s.add(row)
            await s.flush()
            file = row.id
    return {"chat_id": chat.id, "chat_file_id": file}


async def _ids_of(center: Infolinia, slug: str, owner_email: str) -> Ids:
    """One object of every resolvable kind in tenant ``slug`` (the token belongs to ``owner_email``), and a name of
    every named kind."""
    async with center.db.session() as s:
        tenant = await s.scalar(select(Tenant).where(Tenant.slug == slug))
        assert tenant is not None
        t = tenant.id

        async def first(model: Any, *where: Any) -> int:
            value = await s.scalar(select(model.id).where(model.tenant_id == t, *where).order_by(model.id))
            assert value is not None, model
            return int(value)

        if await s.scalar(select(RoutingTask.id).where(RoutingTask.tenant_id == t)) is None:
            queue = await first(Queue)
            await center.routing.add_tasks(
                [RoutingTask(tenant_id=t, queue_id=queue, channel="email", skills={}, enqueued_at=utcnow())]
            )
        if await s.scalar(select(Callback.id).where(Callback.tenant_id == t)) is None:
            async with write(center.db, None, SYSTEM) as tx:
                body = CallbackIn(queue_id=await first(Queue), number="+48600999888")
                written = await request_callback(tx, tenant, body, source="api")
            assert written.route is not None
            await center.routing.route([written.route])
        async with write(center.db, None, SYSTEM) as tx:  # made again when an allowed call deleted them
            made = await tx.session.scalar(select(Campaign).where(Campaign.tenant_id == t, Campaign.name == PROBE))
            if made is None:
                body = CampaignIn(name=PROBE, purpose="service", queue_id=await first(Queue))
                made = await campaigns.create_campaign(tx, tenant, body)
            if (
                await tx.session.scalar(select(CampaignContact.id).where(CampaignContact.campaign_id == made.id))
                is None
            ):
                await campaigns.import_contacts(tx, tenant, made, b"number\n+48600999777\n")
            await campaigns.add_do_not_call(tx, tenant, DoNotCallIn(number="+48600999666"))
            probe_campaign = made.id
        if await s.scalar(select(Case.id).where(Case.tenant_id == t)) is None:
            async with write(center.db, None, SYSTEM) as tx:
                await create_case(tx, tenant, CaseIn(subject=PROBE, category="question"))
        customer = await first(Customer)
        queue = await first(Queue)
        # a code of that queue that contacts carry: deleting it is refused (409), so no call removes a demo code
        used = select(Interaction.disposition_code).where(Interaction.queue_id == queue)
        code = await first(WrapupCode, WrapupCode.queue_id == queue, WrapupCode.code.in_(used))
        owner = await s.scalar(select(User).where(User.email == owner_email))
        assert owner is not None
        token = await s.scalar(
            select(AuthToken.id).where(AuthToken.user_id == owner.id, AuthToken.kind == TokenKind.API)
        )
        ids: Ids = {
            "prompt_name": "payment_deadlines",  # the demo tenant's own recording (no system prompt has the name)
            "tenant_id": t,
            "user_id": await first(User, User.role == Role.AGENT),
            "team_id": await first(Team),
            "queue_id": queue,
            "customer_id": customer,
            "identity_id": await first(CustomerIdentity, CustomerIdentity.customer_id == customer),
            "interaction_id": await first(Interaction),
            "token_id": token or 0,
            "task_id": await first(RoutingTask),
            "callback_id": await first(Callback),
            "campaign_id": probe_campaign,  # with a contact of its own: a contact's routes name both
            "contact_id": await first(CampaignContact, CampaignContact.campaign_id == probe_campaign),
            "dnc_id": await first(DoNotCall),
            "case_id": await first(Case),
            "wrapup_code_id": code,
        }
    ids |= await _telephony_probes(center, t)
    ids |= await _kb_probes(center, t)
    ids |= await _email_probes(center, t)
    ids |= await _chat_probes(center, t)
    assert set(ids) == set(RESOLVERS) | set(NAMED), "every resolvable path parameter needs an object here"
    return ids


@pytest.fixture(scope="module")
async def acme_staff(center: Infolinia, client: httpx.AsyncClient, login: Login) -> dict[str, dict[str, str]]:
    """A logged-in acme user of every tenant role, plus an acme API token and a platform admin acting as acme."""
    async with write(center.db, None, SYSTEM) as tx:
        acme = await tx.session.scalar(select(Tenant).where(Tenant.slug == "acme"))
        assert acme is not None
        for role, email in ((Role.SUPERVISOR, "supervisor@acme.test"), (Role.BACK_OFFICE, "backoffice@acme.test")):
            if await tx.session.scalar(select(User.id).where(User.email == email)) is None:
                from infolinia.auth.actions import create_user

                await create_user(
                    tx,
                    acme.id,
                    UserIn(email=email, display_name=email, role=role, password="demo"),
                    min_password_length=0,
                )
        if await tx.session.scalar(select(User.id).where(User.email == "root@platform.test")) is None:
            from infolinia.auth.actions import create_user

            await create_user(
                tx,
                None,
                UserIn(email="root@platform.test", display_name="Root", role=Role.PLATFORM_ADMIN, password="demo"),
                min_password_length=0,
            )
    staff = {
        "tenant_admin": await login("admin@acme.test"),
        "agent": await login("agent1@acme.test"),
        "supervisor": await login("supervisor@acme.test"),
        "back_office": await login("backoffice@acme.test"),
        "platform_admin_as_acme": {**await login("root@platform.test"), "X-Tenant": "acme"},
    }
    r = await client.post("/api/v1/tokens", json={"name": "integration"}, headers=staff["tenant_admin"])
    assert r.status_code == 201
    staff["api_token"] = {"Authorization": f"Bearer {r.json()['token']}"}
    return staff


async def test_every_route_passes_the_gate(http_app: FastAPI) -> None:
    calls = api_calls(http_app)
    assert len(calls) > 25
    for call in calls:
        assert call.permission in PERMISSIONS
        for param in PARAM.findall(call.path):
            assert param in RESOLVERS or param in NAMED, f"{call}: unknown path parameter {param}"


async def test_other_tenant_objects_are_404_on_every_route_for_every_role(
    center: Infolinia, client: httpx.AsyncClient, http_app: FastAPI, acme_staff: dict[str, dict[str, str]], login: Login
) -> None:
    demo_admin = await login("admin@demo.test")
    r = await client.post("/api/v1/tokens", json={"name": "victim"}, headers=demo_admin)
    assert r.status_code == 201
    demo_ids = await _ids_of(center, "demo", "admin@demo.test")
    checked = 0
    for call in api_calls(http_app):
        if not set(PARAM.findall(call.path)) - set(NAMED):
            continue  # names are looked up in the caller's own tenant: nothing of demo's to reach (test_prompts_api)
        for who, headers in acme_staff.items():
            if who == "platform_admin_as_acme" and call.path.startswith("/api/v1/tenants/"):
                continue  # platform admins do manage every tenant
            r = await send(client, call, demo_ids, headers)
            assert r.status_code == 404, f"{who} {call} -> {r.status_code} {r.text[:200]}"
            assert r.json()["error"]["code"] == "not_found"
            checked += 1
    assert checked > 100
    # and the demo objects are untouched and still there for their own tenant
    assert (await client.get(f"/api/v1/customers/{demo_ids['customer_id']}", headers=demo_admin)).status_code == 200


async def test_lists_never_include_another_tenants_rows(
    client: httpx.AsyncClient, http_app: FastAPI, acme_staff: dict[str, dict[str, str]]
) -> None:
    searches = [{}, {"q": "a"}, {"limit": 200}, {"name": "Kowal"}, {"channel": "voice"}]
    listed = 0
    for call in api_calls(http_app):
        if call.method != "GET" or PARAM.search(call.path):
            continue
        for who, headers in acme_staff.items():
            if who == "platform_admin_as_acme" and call.path == "/api/v1/tenants":
                continue  # the platform admin's tenant list is all tenants, by design
            for params in searches:
                r = await client.get(call.path, params=params, headers=headers)
                if r.status_code == 403 or (call.path in QUERIED and r.status_code == 422):
                    continue
                assert r.status_code == 200, f"{who} {call} {params}: {r.status_code} {r.text[:200]}"
                for canary in DEMO_CANARIES:
                    assert canary not in r.text, f"{who} {call} {params} leaks {canary!r}"
                listed += 1
    assert listed > 50


async def test_acme_sees_its_own_objects(client: httpx.AsyncClient, acme_staff: dict[str, dict[str, str]]) -> None:
    r = await client.get("/api/v1/customers", headers=acme_staff["agent"])
    assert r.status_code == 200 and len(r.json()["items"]) == 10
    r = await client.get("/api/v1/customers", headers=acme_staff["platform_admin_as_acme"])
    assert len(r.json()["items"]) == 10


# --- roles -----------------------------------------------------------------------------------------------------

DEMO_ROLES = {
    Role.TENANT_ADMIN: "admin@demo.test",
    Role.SUPERVISOR: "supervisor@demo.test",
    Role.AGENT: "agent2@demo.test",
    Role.BACK_OFFICE: "backoffice@demo.test",
}


async def test_role_matrix_follows_the_permission_table(
    center: Infolinia, client: httpx.AsyncClient, http_app: FastAPI, login: Login
) -> None:
    """For every route and role: 403 exactly when the role lacks the route's permission."""
    # A customer of its own, so allowed calls without a body (e.g. lifting a restriction) touch nothing shared.
    admin = await login("admin@demo.test")
    r = await client.post("/api/v1/customers", json={"name": "Matrix Probe"}, headers=admin)
    assert r.status_code == 201
    probe = r.json()["id"]
    r = await client.post(
        "/api/v1/interactions",
        json={"channel": "voice", "direction": "in", "customer_id": probe, "agent_id": None},
        headers=admin,
    )
    for role, email in DEMO_ROLES.items():
        headers = await login(email)
        r = await client.post("/api/v1/tokens", json={"name": "matrix"}, headers=headers)
        ids = await _ids_of(center, "demo", email)
        ids["customer_id"] = probe
        async with center.db.session() as s:
            ident = await s.scalar(select(CustomerIdentity.id).where(CustomerIdentity.customer_id != probe))
        ids["identity_id"] = ident or 0
        for call in api_calls(http_app):
            if call.path == "/api/v1/auth/logout" or call.path.endswith("/identities/{identity_id}"):
                continue  # logging out would end this matrix's session; identities are checked below
            if role is Role.BACK_OFFICE and call.path.startswith(
                ("/api/v1/interactions/{", "/api/v1/cases/{", "/api/v1/calls/{")
            ):
                continue  # back-office sees only its team's interactions and cases: covered by their own tests
            allowed = role in PERMISSIONS[call.permission]
            r = await send(client, call, ids, headers)
            if allowed:
                assert r.status_code not in (401, 403, 404), f"{role} {call} -> {r.status_code} {r.text[:200]}"
            else:
                assert r.status_code == 403, f"{role} {call} -> {r.status_code} {r.text[:200]}"
                assert r.json()["error"]["code"] == "forbidden"


async def test_agent_cannot_change_roles_erase_or_read_audit(client: httpx.AsyncClient, login: Login) -> None:
    agent = await login("agent3@demo.test")
    me = (await client.get("/api/v1/auth/me", headers=agent)).json()
    r = await client.patch(f"/api/v1/users/{me['id']}", json={"role": "tenant_admin"}, headers=agent)
    assert r.status_code == 403
    customer = (await client.get("/api/v1/customers", headers=agent)).json()["items"][0]
    r = await client.post(f"/api/v1/customers/{customer['id']}/erase", json={"reason": "asked"}, headers=agent)
    assert r.status_code == 403
    assert (await client.get("/api/v1/audit", headers=agent)).status_code == 403
    assert (await client.get(f"/api/v1/customers/{customer['id']}", headers=agent)).json()["erased"] is False


async def test_supervisor_reads_but_does_not_administer(client: httpx.AsyncClient, login: Login) -> None:
    sup = await login("supervisor@demo.test")
    assert (await client.get("/api/v1/users", headers=sup)).status_code == 200
    assert (await client.get("/api/v1/audit", headers=sup)).status_code == 200
    new_user = {"email": "x@demo.test", "display_name": "X", "role": "agent", "password": "secret1"}
    assert (await client.post("/api/v1/users", json=new_user, headers=sup)).status_code == 403
    tenant = (await client.get("/api/v1/tenants", headers=sup)).json()[0]
    r = await client.patch(f"/api/v1/tenants/{tenant['id']}", json={"name": "Hijacked"}, headers=sup)
    assert r.status_code == 403
    assert (await client.post("/api/v1/queues", json={"name": "Q"}, headers=sup)).status_code == 403


async def test_only_platform_admins_give_platform_role(client: httpx.AsyncClient, login: Login) -> None:
    admin = await login("admin@demo.test")
    user = {"email": "wannabe@demo.test", "display_name": "W", "role": "platform_admin", "password": "secret1"}
    r = await client.post("/api/v1/users", json=user, headers=admin)
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "role_not_assignable"


async def test_back_office_sees_only_its_teams_interactions(client: httpx.AsyncClient, login: Login) -> None:
    admin = await login("admin@demo.test")
    bo = await login("backoffice@demo.test")
    queues = {q["name"]: q["id"] for q in (await client.get("/api/v1/queues", headers=admin)).json()}
    customer = (await client.get("/api/v1/customers", headers=admin)).json()["items"][0]["id"]
    ours = await client.post(
        "/api/v1/interactions",
        json={
            "channel": "email",
            "direction": "in",
            "customer_id": customer,
            "queue_id": queues["Billing back office"],
        },
        headers=admin,
    )
    theirs = await client.post(
        "/api/v1/interactions",
        json={"channel": "email", "direction": "in", "customer_id": customer, "queue_id": queues["Technical"]},
        headers=admin,
    )
    assert ours.status_code == theirs.status_code == 201
    assert (await client.get(f"/api/v1/interactions/{ours.json()['id']}", headers=bo)).status_code == 200
    assert (await client.get(f"/api/v1/interactions/{theirs.json()['id']}", headers=bo)).status_code == 404
    seen = set()
    params: dict[str, int] = {"limit": 200}
    while True:
        page = (await client.get("/api/v1/interactions", params=params, headers=bo)).json()
        seen |= {i["queue_id"] for i in page["items"]}
        if page["next_cursor"] is None:
            break
        params["after"] = page["next_cursor"]
    assert seen == {queues["Billing back office"]}
    assert (await client.get("/api/v1/users", headers=bo)).status_code == 403
    assert (await client.get("/api/v1/agents", headers=bo)).status_code == 403
