from __future__ import annotations

import asyncio
import time

import httpx

from tests.conftest import Login


async def test_health_reports_each_subsystem(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["subsystems"]["database"] == {"up": True}


async def test_health_reports_a_stalled_event_loop(client: httpx.AsyncClient) -> None:
    before = (await client.get("/healthz")).json()["loop"]
    await asyncio.sleep(0.12)  # the watch's timer runs on time at least once
    _hold_the_loop(0.15)  # as a slow callback would
    await asyncio.sleep(0.12)
    after = (await client.get("/healthz")).json()["loop"]
    assert after["stalls"] > before["stalls"]
    assert after["max_late_ms"] >= 90
    start, late_ms = after["recent_stalls"][-1]
    assert late_ms >= 90 and abs(start - (time.time() - 0.12 - late_ms / 1000)) < 0.2


def _hold_the_loop(seconds: float) -> None:
    time.sleep(seconds)


async def test_openapi_is_served(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    assert "/api/v1/customers" in r.json()["paths"]


async def test_cookie_login_works_for_browsers(client: httpx.AsyncClient, http_app) -> None:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=http_app, client=("127.0.0.2", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://infolinia.test") as browser:
        r = await browser.post("/api/v1/auth/login", json={"email": "agent1@demo.test", "password": "demo"})
        assert r.status_code == 200
        assert "infolinia_session" in r.cookies
        me = await browser.get("/api/v1/auth/me")
        assert me.status_code == 200 and me.json()["email"] == "agent1@demo.test"
        assert (await browser.post("/api/v1/auth/logout")).status_code == 204
        assert (await browser.get("/api/v1/auth/me")).status_code == 401


async def test_unauthenticated_is_401_with_code(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/customers")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


async def test_search_customers_by_phone_email_name_number(client: httpx.AsyncClient, login: Login) -> None:
    h = await login("agent1@demo.test")
    first = (await client.get("/api/v1/customers", params={"limit": 1}, headers=h)).json()["items"][0]
    phone = next(i["value"] for i in first["identities"] if i["kind"] == "phone")
    email = next(i["value"] for i in first["identities"] if i["kind"] == "email")
    spaced = f"{phone[3:6]} {phone[6:9]}-{phone[9:]}"  # typed the way a Polish agent would
    for params in (
        {"phone": phone},
        {"phone": phone[3:]},
        {"phone": spaced},
        {"phone": "0048" + phone[3:]},
        {"email": email.upper()},
        {"number": first["number"]},
        {"q": first["number"]},
        {"q": phone[3:]},
        {"name": first["name"].split()[1].lower()},
    ):
        r = await client.get("/api/v1/customers", params=params, headers=h)
        assert r.status_code == 200, (params, r.text)
        assert first["id"] in [c["id"] for c in r.json()["items"]], params
    r = await client.get("/api/v1/customers", params={"phone": "600"}, headers=h)
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "invalid_identity"


async def test_api_token_lifecycle(client: httpx.AsyncClient, login: Login) -> None:
    h = await login("supervisor@demo.test")
    r = await client.post("/api/v1/tokens", json={"name": "wallboard", "expires_in_days": 30}, headers=h)
    assert r.status_code == 201
    token = r.json()
    bearer = {"Authorization": f"Bearer {token['token']}"}
    assert (await client.get("/api/v1/auth/me", headers=bearer)).json()["email"] == "supervisor@demo.test"
    listed = (await client.get("/api/v1/tokens", headers=h)).json()
    assert token["id"] in [t["id"] for t in listed] and "token" not in listed[0]
    assert (await client.delete(f"/api/v1/tokens/{token['id']}", headers=h)).status_code == 204
    assert (await client.get("/api/v1/auth/me", headers=bearer)).status_code == 401


async def test_health_is_503_when_a_subsystem_is_down(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from infolinia.app import Infolinia
    from infolinia.config import Settings

    broken = Infolinia(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/missing-dir/x.db", sip_port=0))
    transport = httpx.ASGITransport(app=broken.http_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://infolinia.test") as c:
        r = await c.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "degraded" and r.json()["subsystems"]["database"] == {"up": False}
    assert r.json()["subsystems"]["routing"] == {"up": False}  # never started
    await broken.db.dispose()
