"""The console's SIP trunks page over HTTP (in process, SQLite or PostgreSQL): trunks added, changed and deleted
through the telephony actions, the password never shown back, bad input shown in place with what was typed, the
permission and the CSRF token required, another tenant's trunk not found."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import Login
from tests.ui_helpers import csrf_of, problem_of, ui_client

API = "/api/v1"
SECRET = "a carrier's long secret"


def a_username() -> str:
    return f"ui{uuid.uuid4().hex[:10]}"


async def mine(client: httpx.AsyncClient, login: Login, name: str, email: str = "admin@acme.test") -> dict[str, Any]:
    listed = (await client.get(f"{API}/trunks", headers=await login(email))).json()
    [trunk] = [t for t in listed if t["name"] == name]
    return dict(trunk)


async def test_an_admin_adds_changes_and_deletes_a_trunk(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    name, username = f"UI trunk {uuid.uuid4().hex[:6]}", a_username()
    async with ui_client(http_app, "admin@acme.test") as browser:
        page = await browser.get("/admin/trunks")
        assert page.status_code == 200 and 'href="/admin/trunks"' in page.text
        form = {"csrf": csrf_of(page.text), "name": name, "allowed_sources": "192.0.2.10\n198.51.100.0/24",
                "username": username, "password": SECRET, "active": "on", "dial_to": "", "caller_id": ""}  # fmt: skip
        r = await browser.post("/admin/trunks", data=form)
        assert r.status_code == 303, r.text
        trunk = await mine(client, login, name)
        assert trunk["allowed_sources"] == ["192.0.2.10/32", "198.51.100.0/24"] and trunk["username"] == username
        assert trunk["auth_required"] and trunk["active"]
        page = await browser.get(f"/admin/trunks/{trunk['id']}")
        assert page.status_code == 200 and username in page.text and SECRET not in page.text
        assert 'name="password" type="password" value=""' in page.text
        # saved without a password: the username and its digests stay
        edit = {"csrf": csrf_of(page.text), "name": f"{name} <b>2</b>", "allowed_sources": "192.0.2.10",
                "username": username, "password": "", "dial_to": "sip.example.net:5070",
                "caller_id": "+442071838750"}  # fmt: skip
        r = await browser.post(f"/admin/trunks/{trunk['id']}", data=edit)
        assert r.status_code == 303, r.text
        changed = await mine(client, login, f"{name} <b>2</b>")
        assert changed["username"] == username and changed["auth_required"] and not changed["active"]
        assert changed["dial_to"] == "sip.example.net:5070" and changed["allowed_sources"] == ["192.0.2.10/32"]
        page = await browser.get(f"/admin/trunks/{trunk['id']}")
        assert "&lt;b&gt;2&lt;/b&gt;" in page.text and "<b>2</b>" not in page.text
        r = await browser.post(f"/admin/trunks/{trunk['id']}/delete", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 303 and r.headers["location"] == "/admin/trunks?saved=deleted"
        assert (await browser.get(f"/admin/trunks/{trunk['id']}")).status_code == 404
    listed = (await client.get(f"{API}/trunks", headers=await login("admin@acme.test"))).json()
    assert all(t["id"] != trunk["id"] for t in listed)


async def test_bad_input_is_shown_at_its_field_and_what_was_typed_is_kept(
    http_app: Any, client: httpx.AsyncClient, login: Login
) -> None:
    name = f"UI bad {uuid.uuid4().hex[:6]}"
    async with ui_client(http_app, "admin@acme.test") as browser:
        token = csrf_of((await browser.get("/admin/trunks")).text)
        base = {"csrf": token, "name": name, "allowed_sources": "", "username": "", "password": "", "dial_to": "",
                "caller_id": ""}  # fmt: skip
        r = await browser.post("/admin/trunks", data=base | {"allowed_sources": "10.0.0.1/24"})
        assert r.status_code == 422 and "host bits" in problem_of(r.text, "allowed_sources")
        assert ">10.0.0.1/24</textarea>" in r.text and f'value="{name}"' in r.text
        r = await browser.post("/admin/trunks", data=base)  # neither sources nor credentials
        assert r.status_code == 422 and problem_of(r.text, "allowed_sources")
        r = await browser.post("/admin/trunks", data=base | {"username": a_username(), "password": "short"})
        assert r.status_code == 422 and problem_of(r.text, "password") and "short" not in r.text
        r = await browser.post("/admin/trunks", data=base | {"allowed_sources": "192.0.2.1", "dial_to": "x y"})
        assert r.status_code == 422 and problem_of(r.text, "dial_to")
        r = await browser.post("/admin/trunks", data=base | {"allowed_sources": "192.0.2.1", "caller_id": "<i>"})
        assert r.status_code == 422 and "<i>" not in r.text
        r = await browser.post("/admin/trunks", data=base | {"allowed_sources": "192.0.2.1"})
        assert r.status_code == 303
        trunk = await mine(client, login, name)
        r = await browser.post("/admin/trunks", data=base | {"allowed_sources": "192.0.2.2"})
        assert r.status_code == 409 and problem_of(r.text, "name")
        # a new username needs its password: refused at the password field, the trunk unchanged
        page = await browser.get(f"/admin/trunks/{trunk['id']}")
        r = await browser.post(f"/admin/trunks/{trunk['id']}", data=base | {"allowed_sources": "192.0.2.1",
                               "username": a_username(), "csrf": csrf_of(page.text)})  # fmt: skip
        assert r.status_code == 422 and "password" in problem_of(r.text, "password")
    assert (await mine(client, login, name))["username"] is None


async def test_permissions_csrf_and_tenants(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    body = {"name": f"UI other {uuid.uuid4().hex[:6]}", "allowed_sources": ["203.0.113.7"]}
    r = await client.post(f"{API}/trunks", json=body, headers=await login("admin@demo.test"))
    assert r.status_code == 201, r.text
    demo_trunk = r.json()
    async with ui_client(http_app, "supervisor@demo.test") as browser:
        page = await browser.get("/admin/trunks")  # supervisors read trunks, cannot change them
        assert page.status_code == 200 and 'action="/admin/trunks"' not in page.text
        detail = await browser.get(f"/admin/trunks/{demo_trunk['id']}")
        assert detail.status_code == 200 and "disabled" in detail.text and "/delete" not in detail.text
        r = await browser.post(f"/admin/trunks/{demo_trunk['id']}/delete", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 403 and "telephony.manage" in r.text
    async with ui_client(http_app, "agent1@demo.test") as browser:
        assert (await browser.get("/admin/trunks")).status_code == 403
    async with ui_client(http_app, "admin@demo.test") as browser:
        r = await browser.post(f"/admin/trunks/{demo_trunk['id']}/delete", data={"csrf": "forged"})
        assert r.status_code == 403 and "csrf_failed" in r.text
        r = await browser.post("/admin/trunks", data={"name": "no token", "allowed_sources": "192.0.2.9"})
        assert r.status_code == 403
    async with ui_client(http_app, "admin@acme.test") as browser:
        assert (await browser.get(f"/admin/trunks/{demo_trunk['id']}")).status_code == 404
        token = csrf_of((await browser.get("/admin/trunks")).text)
        r = await browser.post(f"/admin/trunks/{demo_trunk['id']}/delete", data={"csrf": token})
        assert r.status_code == 404
    listed = (await client.get(f"{API}/trunks", headers=await login("admin@demo.test"))).json()
    assert any(t["id"] == demo_trunk["id"] for t in listed)
