"""The IVR editor in Polish: the validator's problems are shown in Polish, while the REST API answers the same
flow with its English messages (and their codes)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from tests.conftest import Login
from tests.ui_helpers import csrf_of, ui_client

API = "/api/v1"
FLOW = {"start": "orders", "nodes": [{"id": "orders", "type": "queue", "queue": "Orders"}]}


async def test_the_polish_editor_shows_polish_problems(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    headers = await login("admin@acme.test")
    r = await client.post(f"{API}/ivr-flows", json={"name": f"PL {uuid.uuid4().hex[:8]}", "definition": FLOW},
                          headers=headers)  # fmt: skip
    assert r.status_code == 201, r.text
    flow = r.json()
    hello = {"id": "hello", "type": "announce", "prompt": "welcome", "next": "nowhere"}
    broken = {"start": "hello", "nodes": [hello, *FLOW["nodes"]]}
    api = await client.put(f"{API}/ivr-flows/{flow['id']}", json={"name": flow["name"], "definition": broken},
                           headers=headers)  # fmt: skip
    assert api.status_code == 422
    [problem] = [p for p in api.json()["error"]["details"]["problems"] if p.get("code") == "unknown_target"]
    assert problem["message"] == "'hello' goes to an unknown node 'nowhere'"
    async with ui_client(http_app, "admin@acme.test", language="pl") as browser:
        page = await browser.get(f"/admin/ivr/{flow['id']}")
        form = {"csrf": csrf_of(page.text), "name": flow["name"], "start": "hello",
                "node": [json.dumps(hello), json.dumps(FLOW["nodes"][0])]}  # fmt: skip
        r = await browser.post(f"/admin/ivr/{flow['id']}", data=form)
        assert r.status_code == 422
        assert "prowadzi do nieznanego węzła &#39;nowhere&#39;" in r.text
        assert "goes to an unknown node" not in r.text
        check = await browser.post(f"/admin/ivr/{flow['id']}/check", data=form, headers={"HX-Request": "true"})
        assert check.status_code == 200 and "prowadzi do nieznanego węzła" in check.text  # htmx swaps a 200
    async with ui_client(http_app, "admin@acme.test", language="en") as browser:
        page = await browser.get(f"/admin/ivr/{flow['id']}")
        r = await browser.post(f"/admin/ivr/{flow['id']}", data=form | {"csrf": csrf_of(page.text)})
        assert r.status_code == 422 and "goes to an unknown node" in r.text
