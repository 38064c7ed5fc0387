"""Logins and their limits, users and roles, agents and their SIP digests, tenants, events after commit."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from sqlalchemy import select

from infolinia.app import Infolinia
from infolinia.errors import Conflict
from infolinia.events import Event
from infolinia.schemas import TeamIn
from infolinia.store.models import AgentProfile, AuditEvent, Team
from infolinia.store.uow import SYSTEM, write
from infolinia.tenants.actions import create_team
from tests.conftest import Login

API = "/api/v1"


async def test_brute_force_logins_are_rate_limited(center: Infolinia, http_app) -> None:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=http_app, client=("203.0.113.7", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://infolinia.test") as attacker:
        codes = []
        for _ in range(center.settings.login_attempts + 2):
            r = await attacker.post(f"{API}/auth/login", json={"email": "agent2@demo.test", "password": "guess"})
            codes.append(r.status_code)
        assert codes[: center.settings.login_attempts] == [401] * center.settings.login_attempts
        assert codes[-1] == 429
        assert int(r.headers["retry-after"]) > 0 and r.json()["error"]["code"] == "rate_limited"
        # even the right password waits now, from this address
        r = await attacker.post(f"{API}/auth/login", json={"email": "agent2@demo.test", "password": "demo"})
        assert r.status_code == 429
    # the real user elsewhere is not locked out
    transport = httpx.ASGITransport(app=http_app, client=("198.51.100.2", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://infolinia.test") as user:
        r = await user.post(f"{API}/auth/login", json={"email": "agent2@demo.test", "password": "demo"})
        assert r.status_code == 200
    async with center.db.session() as s:
        failed = await s.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed"))
        assert len([a for a in failed if a.ip == "203.0.113.7"]) == center.settings.login_attempts


async def test_user_lifecycle_and_role_change_audit(client: httpx.AsyncClient, login: Login) -> None:
    admin = await login("admin@demo.test")
    body = {"email": "New.Agent@Demo.test", "display_name": "New Agent", "role": "agent", "password": "s3cret!!"}
    r = await client.post(f"{API}/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["email"] == "new.agent@demo.test" and user["tenant_id"] is not None
    assert (await client.post(f"{API}/users", json=body, headers=admin)).status_code == 409
    r = await client.post(f"{API}/auth/login", json={"email": "new.agent@demo.test", "password": "s3cret!!"})
    client.cookies.clear()
    session = {"Authorization": f"Bearer {r.json()['token']}"}
    assert (await client.get(f"{API}/auth/me", headers=session)).status_code == 200

    r = await client.patch(f"{API}/users/{user['id']}", json={"role": "supervisor"}, headers=admin)
    assert r.status_code == 200 and r.json()["role"] == "supervisor"
    audit = (await client.get(f"{API}/audit", params={"action": "user.role_changed"}, headers=admin)).json()["items"]
    assert audit[0]["data"] == {"old": "agent", "new": "supervisor"} and audit[0]["actor_label"] == "admin@demo.test"

    r = await client.patch(f"{API}/users/{user['id']}", json={"password": "short"}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "weak_password"
    assert (await client.get(f"{API}/auth/me", headers=session)).status_code == 200  # nothing changed
    r = await client.patch(f"{API}/users/{user['id']}", json={"password": "n3w-pass"}, headers=admin)
    assert r.status_code == 200
    assert (await client.get(f"{API}/auth/me", headers=session)).status_code == 401  # sessions end with the password

    r = await client.patch(f"{API}/users/{user['id']}", json={"active": False}, headers=admin)
    assert r.json()["active"] is False
    r = await client.post(f"{API}/auth/login", json={"email": "new.agent@demo.test", "password": "n3w-pass"})
    assert r.status_code == 401
    me = (await client.get(f"{API}/auth/me", headers=admin)).json()
    r = await client.patch(f"{API}/users/{me['id']}", json={"active": False}, headers=admin)
    assert r.status_code == 422


async def test_agent_profile_keeps_only_sip_digests(center: Infolinia, client: httpx.AsyncClient, login: Login) -> None:
    admin = await login("admin@demo.test")
    agents = (await client.get(f"{API}/agents", headers=admin)).json()
    by_ext = {a["extension"]: a for a in agents}
    assert set(by_ext) >= {"1001", "1002", "1003", "1004"}
    assert by_ext["1004"]["languages"] == ["ru", "en"] and by_ext["1001"]["has_sip_password"] is True
    async with center.db.session() as s:
        profile = await s.get(AgentProfile, by_ext["1001"]["user_id"])
        assert profile is not None and profile.sip_realm == "demo.infolinia"
        assert profile.sip_ha1_md5 == hashlib.md5(b"1001:demo.infolinia:demo").hexdigest()
        assert profile.sip_ha1_sha256 == hashlib.sha256(b"1001:demo.infolinia:demo").hexdigest()
    uid = by_ext["1002"]["user_id"]
    r = await client.put(f"{API}/agents/{uid}", json={"extension": "1001"}, headers=admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "extension_taken"
    r = await client.put(f"{API}/agents/{uid}", json={"skills": {"technical": 11}}, headers=admin)
    assert r.status_code == 422
    r = await client.put(f"{API}/agents/{uid}", json={"skills": {"technical": 10, "billing": 1}}, headers=admin)
    assert r.status_code == 200 and r.json()["skills"] == {"technical": 10, "billing": 1}
    assert r.json()["extension"] == "1002" and '"sip_password"' not in r.text and "ha1" not in r.text


async def platform_admin(center: Infolinia, email: str) -> str:
    """A platform admin with the demo password (created once per test session)."""
    from infolinia.auth.actions import create_user
    from infolinia.schemas import UserIn
    from infolinia.store.models import Role, User

    async with write(center.db, None, SYSTEM) as tx:
        if await tx.session.scalar(select(User.id).where(User.email == email)) is None:
            user = UserIn(email=email, display_name=email, role=Role.PLATFORM_ADMIN, password="demo")
            await create_user(tx, None, user, min_password_length=0)
    return email


async def test_platform_admin_manages_tenants(client: httpx.AsyncClient, login: Login, center: Infolinia) -> None:
    ops = await login(await platform_admin(center, "ops@platform.test"))
    hours = {"weekly": {"mon": [["09:00", "17:00"]]}, "holidays": ["2026-12-25"]}
    body = {
        "slug": "bikes",
        "name": "Bikes Ltd",
        "timezone": "Europe/Berlin",
        "country": "DE",
        "languages": ["de"],
        "business_hours": hours,
    }
    r = await client.post(f"{API}/tenants", json=body, headers=ops)
    assert r.status_code == 201, r.text
    assert (await client.post(f"{API}/tenants", json=body, headers=ops)).status_code == 409
    bad = body | {"slug": "bikes2", "business_hours": {"weekly": {"mon": [["17:00", "09:00"]]}}}
    r = await client.post(f"{API}/tenants", json=bad, headers=ops)
    assert r.status_code == 422 and "business_hours" in r.text
    assert {t["slug"] for t in (await client.get(f"{API}/tenants", headers=ops)).json()} >= {"demo", "acme", "bikes"}
    r = await client.get(f"{API}/customers", headers=ops)
    assert r.status_code == 422 and r.json()["error"]["code"] == "tenant_required"
    r = await client.get(f"{API}/customers", headers=ops | {"X-Tenant": "nope"})
    assert r.status_code == 404
    admin = await login("admin@demo.test")
    assert (await client.post(f"{API}/tenants", json=body | {"slug": "x1"}, headers=admin)).status_code == 403


async def test_events_are_published_only_after_commit(center: Infolinia) -> None:
    async with center.db.session() as s:
        tenant_id = await s.scalar(select(Team.tenant_id).limit(1))
    assert tenant_id is not None
    with center.bus.subscribe() as sub:
        async with write(center.db, center.bus, SYSTEM) as tx:
            team = await create_team(tx, tenant_id, TeamIn(name="Night shift"))
            assert sub.queue.empty()  # not yet committed: nobody may see it
        event: Event = sub.queue.get_nowait()
        assert event.type == "team.created" and event.data == {"id": team.id} and event.tenant_id == tenant_id
        with pytest.raises(Conflict):
            async with write(center.db, center.bus, SYSTEM) as tx:
                await create_team(tx, tenant_id, TeamIn(name="Night shift"))
        assert sub.queue.empty()


async def test_platform_audit_is_readable_by_platform_admins_only(
    center: Infolinia,
    client: httpx.AsyncClient,
    login: Login,
    http_app,  # type: ignore[no-untyped-def]
) -> None:
    transport = httpx.ASGITransport(app=http_app, client=("192.0.2.50", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://infolinia.test") as stranger:
        r = await stranger.post(f"{API}/auth/login", json={"email": "nobody@nowhere.test", "password": "x"})
        assert r.status_code == 401
    ops = await login(await platform_admin(center, "ops@platform.test"))
    rows = (await client.get(f"{API}/audit", headers=ops)).json()["items"]
    assert any(a["action"] == "login.failed" and a["actor_label"] == "nobody@nowhere.test" for a in rows)
    demo_rows = (await client.get(f"{API}/audit", headers=ops | {"X-Tenant": "demo"})).json()["items"]
    assert not any(a["actor_label"] == "nobody@nowhere.test" for a in demo_rows)
    admin = await login("admin@demo.test")
    tenant_rows = (await client.get(f"{API}/audit", params={"limit": 500}, headers=admin)).text
    assert "nobody@nowhere.test" not in tenant_rows
