"""The desk's call-control forms over HTTP, in process (``web/ui/desk_calls.py``): the CSRF token is required,
another tenant's interaction is the 404 page, an interaction that is no live call is refused (409, or the panel
saying so for htmx), and the panel shows no controls then. The controls on a live call, with real phones, are in
``test_call_control.py``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Login
from tests.ui_helpers import csrf_of, ui_client

API = "/api/v1"
HTMX = {"HX-Request": "true"}


async def a_voice_interaction(client: httpx.AsyncClient, login: Login, email: str = "admin@demo.test") -> int:
    r = await client.post(f"{API}/interactions", json={"channel": "voice", "direction": "in"},
                          headers=await login(email))  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


@pytest.mark.parametrize("operation", ["hold", "resume", "transfer", "hangup"])
async def test_the_forms_need_the_session_s_token(
    http_app: Any, client: httpx.AsyncClient, login: Login, operation: str
) -> None:
    interaction = await a_voice_interaction(client, login)
    async with ui_client(http_app, "agent2@demo.test") as browser:
        for token in ({}, {"csrf": "forged"}):
            r = await browser.post(f"/desk/calls/{interaction}/{operation}", data=token | {"queue_id": "1"})
            assert r.status_code == 403 and "security token" in r.text, r.text[:300]


async def test_another_tenant_s_call_is_not_found(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    interaction = await a_voice_interaction(client, login)
    async with ui_client(http_app, "admin@acme.test") as browser:
        token = csrf_of((await browser.get("/admin")).text)
        assert (await browser.get(f"/desk/calls/{interaction}/controls")).status_code == 404
        for operation in ("hold", "hangup"):
            r = await browser.post(f"/desk/calls/{interaction}/{operation}", data={"csrf": token})
            assert r.status_code == 404, r.text[:300]
            r = await browser.post(f"/desk/calls/{interaction}/{operation}", data={"csrf": token}, headers=HTMX)
            assert r.status_code == 404, r.text[:300]


@pytest.mark.parametrize("language", ["en", "pl"])
async def test_a_contact_that_is_no_live_call_is_refused(
    http_app: Any, client: httpx.AsyncClient, login: Login, language: str
) -> None:
    interaction = await a_voice_interaction(client, login)
    async with ui_client(http_app, "agent2@demo.test", language) as browser:
        token = csrf_of((await browser.get("/admin")).text)
        panel = await browser.get(f"/desk/calls/{interaction}/controls", headers=HTMX)
        assert panel.status_code == 200 and "<form" not in panel.text
        assert ("No live call" if language == "en" else "Brak trwającej rozmowy") in panel.text
        r = await browser.post(f"/desk/calls/{interaction}/hold", data={"csrf": token})
        assert r.status_code == 409, r.text[:300]
        r = await browser.post(f"/desk/calls/{interaction}/hold", data={"csrf": token}, headers=HTMX)
        assert r.status_code == 200 and 'role="alert"' in r.text
        assert ("This call has ended." if language == "en" else "Ta rozmowa już się zakończyła.") in r.text
        r = await browser.post(f"/desk/calls/{interaction}/transfer", data={"csrf": token}, headers=HTMX)
        assert ("Choose a queue or an agent" if language == "en" else "Wybierz kolejkę lub konsultanta") in r.text


async def test_back_office_has_no_call_controls(http_app: Any, client: httpx.AsyncClient, login: Login) -> None:
    interaction = await a_voice_interaction(client, login)
    async with ui_client(http_app, "backoffice@demo.test") as browser:
        r = await browser.get(f"/desk/calls/{interaction}/controls")
        assert r.status_code in (403, 404), r.text[:300]
