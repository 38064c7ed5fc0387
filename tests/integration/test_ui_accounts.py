"""A user's account in the console (``/admin/users/{id}``): role, active flag and a new password through
``auth.actions.update_user`` (its password rules, audit, sessions ended), nobody locking themselves out, the
permission and the CSRF token required, another tenant's user not found. On a tenant of its own, so the demo
tenants' people stay as other tests expect them."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import Login
from tests.ui_helpers import csrf_of, own_tenant, problem_of, ui_client

API = "/api/v1"
PASSWORD = "the first long password"
NEW_PASSWORD = "a second long password"


async def a_user(client: httpx.AsyncClient, headers: dict[str, str], role: str) -> dict[str, Any]:
    body = {"email": f"{role}-{uuid.uuid4().hex[:8]}@accounts.test", "display_name": f"A {role}", "role": role,
            "password": PASSWORD}  # fmt: skip
    r = await client.post(f"{API}/users", json=body, headers=headers)
    assert r.status_code == 201, r.text
    user: dict[str, Any] = r.json()
    return user


async def api_login(client: httpx.AsyncClient, email: str, password: str) -> int:
    r = await client.post(f"{API}/auth/login", json={"email": email, "password": password})
    client.cookies.clear()
    return r.status_code


async def test_an_admin_changes_role_access_and_password_and_cannot_lock_themselves_out(
    http_app: Any, center: Any, client: httpx.AsyncClient, login: Login
) -> None:
    _, headers = await own_tenant(center, client, login)
    boss, worker = await a_user(client, headers, "tenant_admin"), await a_user(client, headers, "agent")
    async with ui_client(http_app, boss["email"], password=PASSWORD) as browser:
        page = await browser.get(f"/admin/users/{boss['id']}")
        assert page.status_code == 200 and f'action="/admin/users/{boss["id"]}/account"' in page.text
        token = csrf_of(page.text)
        own = f"/admin/users/{boss['id']}/account"
        r = await browser.post(own, data={"csrf": token, "role": "agent", "active": "on"})
        assert r.status_code == 409 and "last active admin" in problem_of(r.text, "role")
        assert '<option value="agent" selected>' in r.text  # what was chosen, kept
        r = await browser.post(own, data={"csrf": token, "role": "tenant_admin"})  # not active: yourself
        assert r.status_code == 422 and problem_of(r.text, "active")
        theirs = f"/admin/users/{worker['id']}/account"
        r = await browser.post(theirs, data={"csrf": token, "role": "supervisor", "active": "on", "password": "short"})
        assert r.status_code == 422 and "at least" in problem_of(r.text, "password") and "short" not in r.text
        assert '<option value="supervisor" selected>' in r.text
        r = await browser.post(theirs, data={"csrf": token, "role": "supervisor", "active": "on",
                                             "password": NEW_PASSWORD})  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == f"/admin/users/{worker['id']}?saved=account"
        assert 'role="status"' in (await browser.get(r.headers["location"])).text
        assert await api_login(client, worker["email"], PASSWORD) == 401
        assert await api_login(client, worker["email"], NEW_PASSWORD) == 200
        r = await browser.post(theirs, data={"csrf": token, "role": "supervisor"})  # deactivated
        assert r.status_code == 303
        assert await api_login(client, worker["email"], NEW_PASSWORD) != 200
        listing = await browser.get("/admin/users")
        assert f'href="/admin/users/{worker["id"]}"' in listing.text
        # with another active admin, an admin may hand over their own role
        assert (
            await browser.post(theirs, data={"csrf": token, "role": "tenant_admin", "active": "on"})
        ).status_code == 303
        r = await browser.post(own, data={"csrf": token, "role": "supervisor", "active": "on"})
        assert r.status_code == 303, r.text
    users = {u["id"]: u for u in (await client.get(f"{API}/users", headers=headers)).json()["items"]}
    assert users[boss["id"]]["role"] == "supervisor" and users[worker["id"]]["role"] == "tenant_admin"
    assert users[worker["id"]]["active"] is True
    audit = (await client.get(f"{API}/audit?object_type=user&limit=100", headers=headers)).json()["items"]
    done = [(e["action"], e["object_id"]) for e in audit]
    assert ("user.role_changed", str(worker["id"])) in done and ("user.password_changed", str(worker["id"])) in done
    assert ("user.role_changed", str(boss["id"])) in done


async def test_accounts_need_the_permission_the_token_and_the_tenant(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    worker = await a_user(client, await login("admin@acme.test"), "agent")
    url = f"/admin/users/{worker['id']}/account"
    async with ui_client(http_app, "agent1@acme.test") as browser:
        page = await browser.get(f"/admin/users/{worker['id']}")
        assert page.status_code == 200 and f'action="{url}"' not in page.text
        r = await browser.post(url, data={"csrf": csrf_of(page.text), "role": "agent"})
        assert r.status_code == 403 and "users.manage" in r.text
    async with ui_client(http_app, "admin@acme.test") as browser:
        r = await browser.post(url, data={"csrf": "forged", "role": "agent"})
        assert r.status_code == 403 and "csrf_failed" in r.text
    async with ui_client(http_app, "admin@demo.test") as browser:
        assert (await browser.get(f"/admin/users/{worker['id']}")).status_code == 404
        token = csrf_of((await browser.get("/admin/users")).text)
        assert (await browser.post(url, data={"csrf": token, "role": "agent"})).status_code == 404
    [after] = [u for u in (await client.get(f"{API}/users", headers=await login("admin@acme.test"))).json()["items"]
               if u["id"] == worker["id"]]  # fmt: skip
    assert after["active"] is True and after["role"] == "agent"


async def test_the_api_refuses_the_last_admin_their_own_demotion_too(
    center: Any, client: httpx.AsyncClient, login: Login
) -> None:
    _, headers = await own_tenant(center, client, login)
    boss = await a_user(client, headers, "tenant_admin")
    r = await client.post(f"{API}/auth/login", json={"email": boss["email"], "password": PASSWORD})
    client.cookies.clear()
    mine = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await client.patch(f"{API}/users/{boss['id']}", json={"role": "supervisor"}, headers=mine)
    assert r.status_code == 409 and r.json()["error"]["code"] == "last_admin", r.text
    assert (await client.get(f"{API}/users/{boss['id']}", headers=headers)).json()["role"] == "tenant_admin"
    await a_user(client, mine, "tenant_admin")  # with another active admin, the role may be handed over
    r = await client.patch(f"{API}/users/{boss['id']}", json={"role": "supervisor"}, headers=mine)
    assert r.status_code == 200 and r.json()["role"] == "supervisor", r.text
